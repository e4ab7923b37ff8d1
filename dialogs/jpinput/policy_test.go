package jpinput

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePolicyNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		want   string
		err    error
		reason Reason
	}{
		{"ten digits", "1234567890", "1234567890", nil, 0},
		{"full-width digits", "１２３４５６７８９０", "1234567890", nil, 0},
		{"hyphens and spaces", "1234-5678 90", "1234567890", nil, 0},
		{"long vowel mark as hyphen", "１２３４ー５６７８９０", "1234567890", nil, 0},
		{"one letter eight digits", "K12345678", "K12345678", nil, 0},
		{"two letters ten digits", "ab1234567890", "AB1234567890", nil, 0},
		{"full-width letters lower", "ａｂ１２３４５６７８", "AB12345678", nil, 0},
		{"letter hyphen digits", "AB-1234-5678", "AB12345678", nil, 0},
		{"japanese label and です", "証券番号は１２３４５６７８９０です", "1234567890", nil, 0},
		{"label with colon", "保険証券番号：AB12345678", "AB12345678", nil, 0},
		{"english label", "Policy No. 1234567890", "1234567890", nil, 0},
		{"trailing full stop", "1234567890。", "1234567890", nil, 0},
		{"empty", "", "", ErrEmpty, 0},
		{"blank", " \u3000 ", "", ErrEmpty, 0},
		{"nine digits", "123456789", "", ErrFormat, TooShort},
		{"eleven digits", "12345678901", "", ErrFormat, TooLong},
		{"letters seven digits", "AB1234567", "", ErrFormat, TooShort},
		{"letters eleven digits", "A12345678901", "", ErrFormat, TooLong},
		{"letters only", "AB", "", ErrFormat, TooShort},
		{"hyphens only", "---", "", ErrFormat, TooShort},
		{"three letters", "ABC12345678", "", ErrFormat, BadLayout},
		{"letter in the middle", "12AB345678", "", ErrFormat, BadLayout},
		{"letter at the end", "123456789A", "", ErrFormat, BadLayout},
		{"kana", "あいう", "", ErrFormat, BadChars},
		{"slash", "1234/567890", "", ErrFormat, BadChars},
		{"non-ascii letter", "É1234567890", "", ErrFormat, BadChars},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePolicyNumber(tt.in)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("ParsePolicyNumber(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			if got != tt.want {
				t.Errorf("ParsePolicyNumber(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if r := ReasonOf(err); r != tt.reason {
				t.Errorf("ReasonOf = %v, want %v", r, tt.reason)
			}
			if in := strings.TrimSpace(tt.in); err != nil && in != "" && strings.Contains(err.Error(), in) {
				t.Errorf("error %q contains the input", err)
			}
		})
	}
}

func TestMaskPolicyNumber(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"1234567890", "12****7890"},
		{"ab-1234-5678", "AB****5678"},
		{"AB1234567890", "AB******7890"},
		{"K12345678", "K1***5678"},
		{"123", "***"},
		{"12345", "*****"},
		{"12-34 5", "*****"},
		{"", ""},
		{"ABC12345678", "***********"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := MaskPolicyNumber(tt.in); got != tt.want {
				t.Errorf("MaskPolicyNumber(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
