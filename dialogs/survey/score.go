package survey

import (
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// scoreSuffixes are dropped from the end of a typed score, repeatedly.
var scoreSuffixes = []string{
	"です", "でした", "ですね", "かな", "くらい", "ぐらい", "位", "ほど", "程度",
	"点", "てん", "/10", "outof10", "points", "point", "pts", "pt",
}

// kanjiDigits are the kanji numerals customers type.
var kanjiDigits = map[string]int{
	"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
	"六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
}

// ParseScore reads a typed 0–10 answer: 「8」「８」「8点」「８点です」
// 「10点満点」 "8 points", "8/10", 「八点」. Anything else, a number out of
// range or a number inside a sentence, is not a score.
func ParseScore(text string) (int, bool) {
	s := strings.ToLower(norm.NFKC.String(text))
	s = strings.Join(strings.Fields(s), "")
	s = strings.TrimRight(s, "。.!！?？、,~〜ー")
	s = strings.TrimSuffix(s, "満点")
	for changed := true; changed && s != ""; {
		changed = false
		for _, suf := range scoreSuffixes {
			if t, ok := strings.CutSuffix(s, suf); ok && t != "" {
				s, changed = strings.TrimRight(t, "。.!！、,~〜ー"), true
			}
		}
	}
	if n, ok := kanjiDigits[s]; ok {
		return n, true
	}
	if s == "" || len(s) > 2 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 10 || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	return n, true
}
