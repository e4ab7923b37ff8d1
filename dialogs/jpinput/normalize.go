package jpinput

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Normalize prepares free text for parsing:
//
//   - NFKC: full-width digits, letters and punctuation become ASCII
//     (１２３ → 123, ＡＢ → AB, （ → (, ： → :), half-width katakana becomes
//     full-width, ① → 1, ㍻ → 平成, ㋿ → 令和, U+3000 → space;
//   - every hyphen, dash and minus sign (‐ ‑ ‒ – — ― − ⁃ ﹣ －) becomes '-';
//     the long-vowel mark ー (also ｰ) and box-drawing lines ─ ━ become '-'
//     only in a numeric context: next to a digit (ignoring spaces) and not
//     next to a katakana letter, so 090ー1234 becomes 090-1234 while
//     コーヒー stays as it is;
//   - the wave dash 〜 (and ～) becomes '~';
//   - zero-width characters are removed; other control characters and all
//     white space become a space; runs of spaces collapse to one; the
//     result is trimmed.
//
// Letter case is kept. Normalize is idempotent.
func Normalize(s string) string {
	rs := []rune(norm.NFKC.String(s))
	out := make([]rune, 0, len(rs))
	for i, r := range rs {
		switch {
		case isZeroWidth(r):
			continue
		case isDash(r):
			r = '-'
		case isLongBar(r) && numericContext(rs, i):
			r = '-'
		case r == '〜' || r == '～':
			r = '~'
		case unicode.IsSpace(r) || unicode.IsControl(r):
			r = ' '
		}
		out = append(out, r)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

func isZeroWidth(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad':
		return true
	}
	return false
}

// isDash reports characters that are always a hyphen or minus.
func isDash(r rune) bool {
	switch r {
	case '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015',
		'\u2212', '\u2043', '\ufe58', '\ufe63', '\uff0d', '\u02d7', '\u2796':
		return true
	}
	return false
}

// isLongBar reports characters that look like a hyphen but are also used in
// words (the katakana long-vowel mark) or as drawing.
func isLongBar(r rune) bool {
	switch r {
	case 'ー', 'ｰ', '─', '━':
		return true
	}
	return false
}

func isASCIIDigit(r rune) bool { return r >= '0' && r <= '9' }

func isKatakanaLetter(r rune) bool { return r >= '\u30a1' && r <= '\u30fa' }

// numericContext reports whether rs[i] sits next to a digit (looking past
// spaces and other bars) and not next to a katakana letter.
func numericContext(rs []rune, i int) bool {
	prev, next := rune(0), rune(0)
	for j := i - 1; j >= 0; j-- {
		if !unicode.IsSpace(rs[j]) && !isLongBar(rs[j]) {
			prev = rs[j]
			break
		}
	}
	for j := i + 1; j < len(rs); j++ {
		if !unicode.IsSpace(rs[j]) && !isLongBar(rs[j]) {
			next = rs[j]
			break
		}
	}
	if isKatakanaLetter(prev) || isKatakanaLetter(next) {
		return false
	}
	return isASCIIDigit(prev) || isASCIIDigit(next)
}

// kanjiNumerals rewrites runs of kanji numerals as ASCII digits:
// 十一 → 11, 二十三 → 23, 二〇二六 → 2026, 三 → 3. Runs with 十/百/千 are
// read positionally; runs without them digit by digit.
func kanjiNumerals(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); {
		if _, ok := kanjiValue(rs[i]); !ok {
			b.WriteRune(rs[i])
			i++
			continue
		}
		j := i
		for j < len(rs) {
			if _, ok := kanjiValue(rs[j]); !ok {
				break
			}
			j++
		}
		b.WriteString(kanjiRun(rs[i:j]))
		i = j
	}
	return b.String()
}

func kanjiValue(r rune) (int, bool) {
	switch r {
	case '〇', '零':
		return 0, true
	case '一':
		return 1, true
	case '二':
		return 2, true
	case '三':
		return 3, true
	case '四':
		return 4, true
	case '五':
		return 5, true
	case '六':
		return 6, true
	case '七':
		return 7, true
	case '八':
		return 8, true
	case '九':
		return 9, true
	case '十':
		return 10, true
	case '百':
		return 100, true
	case '千':
		return 1000, true
	}
	return 0, false
}

func kanjiRun(rs []rune) string {
	positional := false
	for _, r := range rs {
		if v, _ := kanjiValue(r); v >= 10 {
			positional = true
		}
	}
	if !positional {
		var b strings.Builder
		for _, r := range rs {
			v, _ := kanjiValue(r)
			b.WriteByte(byte('0' + v))
		}
		return b.String()
	}
	total, cur := 0, -1
	for _, r := range rs {
		v, _ := kanjiValue(r)
		if v < 10 {
			if cur >= 0 { // 二三 inside a positional run: read as digits
				cur = cur*10 + v
			} else {
				cur = v
			}
			continue
		}
		if cur < 0 {
			cur = 1
		}
		total += cur * v
		cur = -1
	}
	if cur >= 0 {
		total += cur
	}
	return itoa(total)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var buf [20]byte
	i := len(buf)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}
