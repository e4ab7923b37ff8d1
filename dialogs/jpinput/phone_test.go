package jpinput

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestParsePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		e164    string
		display string
		kind    PhoneKind
	}{
		{"mobile hyphens", "090-1234-5678", "+819012345678", "090-1234-5678", Mobile},
		{"mobile plain", "09012345678", "+819012345678", "090-1234-5678", Mobile},
		{"mobile 080", "080 1234 5678", "+818012345678", "080-1234-5678", Mobile},
		{"mobile 070", "07012345678", "+817012345678", "070-1234-5678", Mobile},
		{"020", "020-1234-5678", "+812012345678", "020-1234-5678", Mobile},
		{"ip phone", "050-1234-5678", "+815012345678", "050-1234-5678", IPPhone},
		{"tokyo parentheses", "(03)1234-5678", "+81312345678", "03-1234-5678", Landline},
		{"tokyo hyphens", "03-1234-5678", "+81312345678", "03-1234-5678", Landline},
		{"osaka", "0612345678", "+81612345678", "06-1234-5678", Landline},
		{"yokohama 3-digit area", "0451234567", "+81451234567", "045-123-4567", Landline},
		{"sapporo", "011-123-4567", "+81111234567", "011-123-4567", Landline},
		{"fukuoka", "092-123-4567", "+81921234567", "092-123-4567", Landline},
		{"iki 0920 is 4-digit", "0920-12-3456", "+81920123456", "0920-12-3456", Landline},
		{"fujisawa 4-digit area", "0466-12-3456", "+81466123456", "0466-12-3456", Landline},
		{"landline grouped oddly", "04-6612-3456", "+81466123456", "0466-12-3456", Landline},
		{"toll-free 0120", "0120-123-456", "+81120123456", "0120-123-456", TollFree},
		{"toll-free 0800", "0800-123-4567", "+818001234567", "0800-123-4567", TollFree},
		{"navi dial", "0570-123-456", "+81570123456", "0570-123-456", NaviDial},
		{"e164 mobile spaces", "+81 90 1234 5678", "+819012345678", "090-1234-5678", Mobile},
		{"e164 landline hyphens", "+81-3-1234-5678", "+81312345678", "03-1234-5678", Landline},
		{"e164 compact", "+819012345678", "+819012345678", "090-1234-5678", Mobile},
		{"e164 with trunk in parentheses", "+81 (0)3 1234 5678", "+81312345678", "03-1234-5678", Landline},
		{"e164 with stray trunk zero", "+81 090 1234 5678", "+819012345678", "090-1234-5678", Mobile},
		{"full-width with long vowel", "０９０ー１２３４ー５６７８", "+819012345678", "090-1234-5678", Mobile},
		{"full-width parentheses", "（０３）１２３４−５６７８", "+81312345678", "03-1234-5678", Landline},
		{"dots", "090.1234.5678", "+819012345678", "090-1234-5678", Mobile},
		{"label and です", "電話番号は090-1234-5678です", "+819012345678", "090-1234-5678", Mobile},
		{"tel label", "TEL: 03-1234-5678", "+81312345678", "03-1234-5678", Landline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePhone(tt.in)
			if err != nil {
				t.Fatalf("ParsePhone(%q) error = %v", tt.in, err)
			}
			if p.E164 != tt.e164 || p.Display != tt.display || p.Kind != tt.kind {
				t.Errorf("ParsePhone(%q) = %+v, want E164 %s display %s kind %v", tt.in, p, tt.e164, tt.display, tt.kind)
			}
			if p.National != strings.ReplaceAll(tt.display, "-", "") {
				t.Errorf("National = %q, want digits of %q", p.National, tt.display)
			}
			again, err := ParsePhone(p.E164)
			if err != nil || again != p {
				t.Errorf("ParsePhone(E164 %q) = %+v, %v; want %+v", p.E164, again, err, p)
			}
		})
	}
}

func TestParsePhoneErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		err    error
		reason Reason
	}{
		{"empty", "", ErrEmpty, 0},
		{"blank", "\u3000", ErrEmpty, 0},
		{"mobile one short", "090-1234-567", ErrFormat, TooShort},
		{"mobile one long", "090-1234-56789", ErrFormat, TooLong},
		{"landline 11 digits", "03-1234-56789", ErrFormat, TooLong},
		{"landline 9 digits", "03-1234-567", ErrFormat, TooShort},
		{"0120 with 11 digits", "0120-1234-5678", ErrFormat, TooLong},
		{"0800 with 10 digits", "0800-123-456", ErrFormat, TooShort},
		{"ip 10 digits", "050-123-4567", ErrFormat, TooShort},
		{"no trunk zero", "9012345678", ErrFormat, BadPrefix},
		{"foreign country", "+1 555 123 4567", ErrFormat, BadPrefix},
		{"international prefix", "0011234567890", ErrFormat, BadPrefix},
		{"premium 0990", "0990-123-456", ErrFormat, BadPrefix},
		{"0180", "0180-123-456", ErrFormat, BadPrefix},
		{"emergency", "110", ErrFormat, BadPrefix},
		{"letters", "090-1234-abcd", ErrFormat, BadChars},
		{"extension kanji", "03-1234-5678 内線12", ErrFormat, BadChars},
		{"plus in the middle", "090+12345678", ErrFormat, BadLayout},
		{"punctuation only", "()--", ErrFormat, TooShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePhone(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ParsePhone(%q) = %+v, %v; want error %v", tt.in, p, err, tt.err)
			}
			if r := ReasonOf(err); r != tt.reason {
				t.Errorf("ReasonOf = %v, want %v", r, tt.reason)
			}
			if p != (Phone{}) {
				t.Errorf("Phone = %+v on error, want zero", p)
			}
			if tt.in != "" && strings.Contains(err.Error(), tt.in) {
				t.Errorf("error %q contains the input", err)
			}
		})
	}
}

func TestMaskPhone(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"090-1234-5678", "090-****-5678"},
		{"+81 90 1234 5678", "090-****-5678"},
		{"03-1234-5678", "03-****-5678"},
		{"0120-123-456", "0120-***-456"},
		{"0466-12-3456", "0466-**-3456"},
		{"090-1234-567", "***-****-***"},
		{"call me", "**** **"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := MaskPhone(tt.in); got != tt.want {
				t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPhoneDoesNotLeak(t *testing.T) {
	t.Parallel()
	p, err := ParsePhone("090-1234-5678")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "phone", p, "str", p.String())
	if strings.Contains(b.String(), "1234") {
		t.Errorf("log output %q contains the middle digits", b.String())
	}
	if !strings.Contains(b.String(), "kind=mobile") {
		t.Errorf("log output %q lacks the kind", b.String())
	}
}
