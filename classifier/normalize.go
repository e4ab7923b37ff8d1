package classifier

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxTextBytes bounds the part of a text that is looked at: longer texts are
// classified by their first MaxTextBytes bytes (cut at a character
// boundary). Customer voices are far shorter; the bound keeps time and
// memory per call fixed for hostile input.
const MaxTextBytes = 8 << 10

// Normalize folds the variants a customer may type into one form, so that
// the model sees them alike:
//
//   - invalid UTF-8 becomes U+FFFD; the text is cut to MaxTextBytes;
//   - NFKC: full-width Latin and digits to ASCII, half-width katakana to
//     full width, compatibility characters (①, ㈱) to their plain forms;
//   - lower case; katakana to hiragana (アリガトウ = ありがとう); wave dashes
//     to "~";
//   - every digit to 0 (policy numbers, dates and amounts look alike);
//   - runs of the same character longer than two cut to two ("!!!!!" = "!!",
//     "ーーー" = "ーー", "wwww" = "ww");
//   - white space collapsed to one space and trimmed.
func Normalize(s string) string {
	if len(s) > MaxTextBytes {
		cut := MaxTextBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if !nfkcStable(s) {
		s = norm.NFKC.String(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	var prev rune = -1
	run := 0
	space := false
	for _, r := range s {
		r = foldRune(r)
		if r < 0 {
			continue
		}
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			prev, run = -1, 0
			continue
		}
		if r == prev {
			run++
			if run > 2 {
				continue
			}
		} else {
			prev, run = r, 1
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func foldRune(r rune) rune {
	switch {
	case r >= 0x3041 && r <= 0x3096, r >= 0x4E00 && r <= 0x9FFF: // hiragana, common kanji
		return r
	case r >= 'A' && r <= 'Z':
		return r + ('a' - 'A')
	case r >= '0' && r <= '9':
		return '0'
	case r >= 0x30A1 && r <= 0x30F6: // katakana ァ..ヶ → hiragana ぁ..ゖ
		return r - 0x60
	case r == 0x30FD || r == 0x30FE: // ヽヾ → ゝゞ
		return r - 0x60
	case r == '〜' || r == '～' || r == '〰':
		return '~'
	case r == '\u200b' || r == '\ufeff' || r == '\u200d' || r == '\ufe0f':
		return -1 // zero-width characters and emoji variation selectors: dropped
	case r < 0x80:
		return r
	case unicode.IsDigit(r):
		return '0'
	}
	return unicode.ToLower(r)
}

// nfkcStable reports whether every rune of s is one NFKC leaves alone on
// its own and never composes with a neighbour (ASCII, hiragana, katakana,
// common kanji and Japanese punctuation), so that the costly NFKC pass can
// be skipped for most texts.
func nfkcStable(s string) bool {
	for _, r := range s {
		switch {
		case r >= 0x20 && r <= 0x7E,
			r >= 0x3041 && r <= 0x3096,
			r >= 0x30A1 && r <= 0x30FA, r == 0x30FC,
			r >= 0x4E00 && r <= 0x9FFF,
			r == 0x3001, r == 0x3002, r >= 0x300C && r <= 0x300F:
		default:
			return false
		}
	}
	return true
}
