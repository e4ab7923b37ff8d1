package jpinput

import (
	"log/slog"
	"regexp"
	"strings"
)

const fieldPhone = "phone number"

// PhoneKind is the type of a Japanese number, from its prefix.
type PhoneKind int

// Kinds of phone number.
const (
	// Landline: 0 + area code + subscriber number, 10 digits.
	Landline PhoneKind = iota + 1
	// Mobile: 070, 080, 090 and 020, 11 digits.
	Mobile
	// IPPhone: 050, 11 digits.
	IPPhone
	// TollFree: 0120 (10 digits) and 0800 (11 digits).
	TollFree
	// NaviDial: 0570 shared-cost numbers, 10 digits.
	NaviDial
)

// String returns "landline", "mobile", "ip", "toll_free" or "navi_dial".
func (k PhoneKind) String() string {
	switch k {
	case Landline:
		return "landline"
	case Mobile:
		return "mobile"
	case IPPhone:
		return "ip"
	case TollFree:
		return "toll_free"
	case NaviDial:
		return "navi_dial"
	}
	return "unknown"
}

// Phone is a parsed Japanese phone number. String and LogValue never show
// the full number; use the fields explicitly where the number is needed.
type Phone struct {
	E164     string    // "+819012345678"
	National string    // digits with the trunk 0: "09012345678"
	Display  string    // grouped national form: "090-1234-5678"
	Kind     PhoneKind // from the prefix
}

// String returns the masked display form ("090-****-5678"), so a Phone
// printed by accident does not leak the number.
func (p Phone) String() string { return p.Masked() }

// LogValue logs the kind of number only.
func (p Phone) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", p.Kind.String()))
}

// Masked returns Display with every group except the first and the last
// replaced by '*' of the same length: "090-****-5678", "03-****-5678",
// "0120-***-456". The zero Phone gives "".
func (p Phone) Masked() string {
	groups := strings.Split(p.Display, "-")
	for i := 1; i < len(groups)-1; i++ {
		groups[i] = strings.Repeat("*", len(groups[i]))
	}
	return strings.Join(groups, "-")
}

var (
	phonePrefix = regexp.MustCompile(`(?i)^(?:(?:携帯|自宅|固定)?(?:電話)?(?:番号)?\s*(?:は|:)\s*|(?:tel|phone|mobile)\.?\s*(?:number|no\.?)?\s*(?:is)?\s*:?\s*)`)
	phoneSuffix = regexp.MustCompile(`\s*(?:です|になります)?\s*[。]?$`)
	// "+81 (0)3 …": the trunk 0 in parentheses after the country code.
	phoneTrunkParen = regexp.MustCompile(`^\+\s*81[\s\-.]*\(\s*0\s*\)`)
)

// ParsePhone parses a Japanese phone number as customers type it.
//
// Accepted: digits with any mix of spaces, hyphens (any hyphen-like
// character, see Normalize), dots and parentheses ("090-1234-5678",
// "09012345678", "(03)1234-5678", "03 1234 5678", "0120-123-456"),
// full-width digits, the country code +81 with or without the trunk 0
// ("+81 90 1234 5678", "+81-3-1234-5678", "+81 (0)3 1234 5678"), and a
// label such as 電話番号は… or "tel:" and a trailing です.
//
// Length by type (the number with its leading 0):
//
//	070 080 090 020 (mobile)        11 digits
//	050 (IP phone)                  11 digits
//	0120 (toll-free)                10 digits
//	0800 (toll-free)                11 digits
//	0570 (navi dial)                10 digits
//	other 0X… (landline)            10 digits
//
// Rejected with BadPrefix: no leading 0 or +81, another country code,
// 00… (carrier / international prefixes), 060, 0180 and 0990 (numbers a
// customer cannot be called back on). Wrong lengths give TooShort or
// TooLong; letters and other symbols BadChars; a '+' not at the start
// BadLayout. Blank input gives ErrEmpty.
//
// Display grouping: mobile, IP and 0800 as 3-4-4 / 4-3-4, 0120 and 0570 as
// 4-3-3. Landline area codes in Japan are 2 to 5 digits long and only the
// full numbering table settles them, so grouping uses a rule, not the
// table: 03 and 06 are 2-digit areas (03-1234-5678); 011, 044, 045, 052,
// 075 and 078, and 092/093 unless the next digit is 0, are 3-digit areas
// (045-123-4567); every other landline is shown with a 4-digit area code
// (0466-12-3456). Grouping is cosmetic: National and E164 are always exact.
func ParsePhone(s string) (Phone, error) {
	n := Normalize(s)
	if n == "" {
		return Phone{}, ErrEmpty
	}
	n = phonePrefix.ReplaceAllString(n, "")
	n = phoneSuffix.ReplaceAllString(n, "")
	n = strings.ReplaceAll(n, "ー", "-")
	intl := false
	if loc := phoneTrunkParen.FindStringIndex(n); loc != nil {
		n = "+81" + n[loc[1]:]
	}
	var digits strings.Builder
	for i, r := range n {
		switch {
		case isASCIIDigit(r):
			digits.WriteRune(r)
		case r == '+':
			if i != 0 {
				return Phone{}, &FormatError{Field: fieldPhone, Reason: BadLayout}
			}
			intl = true
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return Phone{}, &FormatError{Field: fieldPhone, Reason: BadChars}
		}
	}
	d := digits.String()
	if d == "" {
		return Phone{}, &FormatError{Field: fieldPhone, Reason: TooShort}
	}
	if intl {
		rest, ok := strings.CutPrefix(d, "81")
		if !ok {
			return Phone{}, &FormatError{Field: fieldPhone, Reason: BadPrefix}
		}
		rest = strings.TrimPrefix(rest, "0")
		d = "0" + rest
	}
	if d[0] != '0' || strings.HasPrefix(d, "00") {
		return Phone{}, &FormatError{Field: fieldPhone, Reason: BadPrefix}
	}
	kind, want, groups := classify(d)
	if kind == 0 {
		return Phone{}, &FormatError{Field: fieldPhone, Reason: BadPrefix}
	}
	switch {
	case len(d) < want:
		return Phone{}, &FormatError{Field: fieldPhone, Reason: TooShort}
	case len(d) > want:
		return Phone{}, &FormatError{Field: fieldPhone, Reason: TooLong}
	}
	parts := make([]string, 0, 3)
	at := 0
	for _, g := range groups {
		parts = append(parts, d[at:at+g])
		at += g
	}
	return Phone{
		E164:     "+81" + d[1:],
		National: d,
		Display:  strings.Join(parts, "-"),
		Kind:     kind,
	}, nil
}

// classify returns the kind, the expected number of digits and the display
// groups for a national number starting with a single 0. Kind 0 means the
// prefix is refused.
func classify(d string) (PhoneKind, int, []int) {
	has := func(p string) bool { return strings.HasPrefix(d, p) }
	switch {
	case has("0120"):
		return TollFree, 10, []int{4, 3, 3}
	case has("0800"):
		return TollFree, 11, []int{4, 3, 4}
	case has("0570"):
		return NaviDial, 10, []int{4, 3, 3}
	case has("0180"), has("0990"), has("060"):
		return 0, 0, nil
	case has("070"), has("080"), has("090"), has("020"):
		return Mobile, 11, []int{3, 4, 4}
	case has("050"):
		return IPPhone, 11, []int{3, 4, 4}
	}
	if len(d) < 2 {
		return Landline, 10, nil // too short anyway
	}
	return Landline, 10, landlineGroups(d)
}

// landlineGroups implements the area-code rule documented on ParsePhone.
func landlineGroups(d string) []int {
	has := func(p string) bool { return strings.HasPrefix(d, p) }
	switch {
	case has("03"), has("06"):
		return []int{2, 4, 4}
	case has("011"), has("044"), has("045"), has("052"), has("075"), has("078"):
		return []int{3, 3, 4}
	case (has("092") || has("093")) && !has("0920") && !has("0930"):
		return []int{3, 3, 4}
	}
	return []int{4, 2, 4}
}

// MaskPhone returns the masked display form of a phone number
// ("090-1234-5678" and "+81 90 1234 5678" both give "090-****-5678"). Input
// that is not a valid number is masked completely: one '*' per character
// of the normalised input, spaces and hyphens kept, so nothing leaks.
func MaskPhone(s string) string {
	p, err := ParsePhone(s)
	if err == nil {
		return p.Masked()
	}
	var b strings.Builder
	for _, r := range Normalize(s) {
		if r == ' ' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
	}
	return b.String()
}
