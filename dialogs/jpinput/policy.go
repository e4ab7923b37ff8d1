package jpinput

import (
	"regexp"
	"strings"
)

const fieldPolicy = "policy number"

// Labels customers put around the number: 証券番号は…です, Policy No: ….
var (
	policyPrefix = regexp.MustCompile(`(?i)^(?:保険)?(?:証券|契約|証書)(?:番号|ナンバー|no\.?)?\s*(?:は|:)?\s*|^policy\s*(?:number|no\.?|#)?\s*(?:is)?\s*:?\s*`)
	policySuffix = regexp.MustCompile(`\s*(?:です|になります)?\s*[。.]?$`)
)

// ParsePolicyNumber returns the canonical form of a policy number.
//
// The input is normalised first: full-width characters become ASCII (see
// Normalize), every space, hyphen-like character (including ー) and
// underscore is dropped, a leading label (証券番号, 保険証券番号, 契約番号,
// 証書番号, "policy number", "policy no.", with an optional は or colon) and
// a trailing です / 。 are removed.
//
// What remains is valid when it is either
//
//   - exactly 10 ASCII digits ("1234567890"), or
//   - one or two ASCII letters followed by 8 to 10 digits ("AB12345678",
//     "k123456789"); the letters are returned in upper case.
//
// Errors: ErrEmpty for blank input; otherwise a *FormatError (errors.Is
// ErrFormat) with Reason BadChars (anything but letters and digits is
// left), BadLayout (letters after a digit, or more than two letters),
// TooShort or TooLong (digit count outside the rule). The result re-parses
// to itself.
func ParsePolicyNumber(s string) (string, error) {
	n := Normalize(s)
	n = policyPrefix.ReplaceAllString(n, "")
	n = policySuffix.ReplaceAllString(n, "")
	var b strings.Builder
	for _, r := range n {
		switch {
		case r == ' ' || r == '-' || r == '_' || isLongBar(r):
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		b.WriteRune(r)
	}
	c := b.String()
	if c == "" {
		if strings.TrimSpace(Normalize(s)) == "" {
			return "", ErrEmpty
		}
		return "", &FormatError{Field: fieldPolicy, Reason: TooShort}
	}
	letters, digits := 0, 0
	for _, r := range c {
		switch {
		case r >= 'A' && r <= 'Z':
			if digits > 0 {
				return "", &FormatError{Field: fieldPolicy, Reason: BadLayout}
			}
			letters++
		case isASCIIDigit(r):
			digits++
		default:
			return "", &FormatError{Field: fieldPolicy, Reason: BadChars}
		}
	}
	if letters > 2 {
		return "", &FormatError{Field: fieldPolicy, Reason: BadLayout}
	}
	lo, hi := 10, 10
	if letters > 0 {
		lo, hi = 8, 10
	}
	switch {
	case digits < lo:
		return "", &FormatError{Field: fieldPolicy, Reason: TooShort}
	case digits > hi:
		return "", &FormatError{Field: fieldPolicy, Reason: TooLong}
	}
	return c, nil
}

// MaskPolicyNumber returns a policy number fit for alerts and logs: a valid
// number (see ParsePolicyNumber) keeps its first 2 and last 4 characters of
// the canonical form and the rest becomes '*' ("1234567890" →
// "12****7890", "ab 1234 5678" → "AB****5678"). Anything that is not a
// valid policy number is masked completely, keeping only its length (in
// characters, after normalisation and removing spaces and hyphens).
func MaskPolicyNumber(s string) string {
	c, err := ParsePolicyNumber(s)
	if err != nil {
		n := 0
		for _, r := range Normalize(s) {
			if r != ' ' && r != '-' && !isLongBar(r) {
				n++
			}
		}
		return strings.Repeat("*", n)
	}
	return c[:2] + strings.Repeat("*", len(c)-6) + c[len(c)-4:]
}
