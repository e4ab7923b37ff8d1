package classifier

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// urgencyRule finds one urgency signal. A text matches when it contains one
// of terms, or a near term followed within window runes by one of near's
// verbs, unless the match is excused: followed closely by a Japanese
// negation (怪我はありません), preceded by an English one (nobody was hurt),
// or part of a product name (弁護士費用特約).
type urgencyRule struct {
	label    string
	terms    []string
	near     []string
	verbs    []string
	excuse   []string // product terms that contain a term but are no signal
	negation bool     // check negations after/before the term
}

// Rules are written naturally and normalised once (katakana to hiragana,
// lower case) before use.
var urgencyRulesSrc = []urgencyRule{
	{
		label: UrgencyInjury,
		terms: []string{
			"怪我", "ケガ", "けが", "負傷", "骨折", "救急車", "救急搬送", "搬送され", "出血", "意識不明", "意識がない",
			"重傷", "重体", "軽傷", "むちうち", "ムチウチ", "鞭打ち", "打撲", "捻挫", "ねんざ", "人身事故", "死亡事故",
			"首が痛", "腰が痛", "首を痛", "腰を痛", "頭を打", "轢かれ", "ひかれた",
			"injur", "hurt", "ambulance", "bleeding", "whiplash", "fracture", "broke her", "broke his", "broke my",
			"unconscious", "concussion",
		},
		excuse:   []string{"傷害保険の", "怪我の補償", "けがの補償", "ケガの補償", "injury cover"},
		negation: true,
	},
	{
		label: UrgencyLegal,
		terms: []string{
			"弁護士", "訴え", "訴訟", "裁判", "法的措置", "法的手段", "告訴", "提訴", "内容証明",
			"lawyer", "attorney", "lawsuit", "legal action", "sue you", "sue your", "take you to court", "small claims court",
		},
		excuse: []string{"弁護士特約", "弁護士費用", "lawyer coverage", "legal expenses cover", "legal cover"},
	},
	{
		label: UrgencyRegulator,
		terms: []string{
			"金融庁", "財務局", "消費者センター", "消費生活センター", "国民生活センター", "消費者庁", "adrセンター", "そんぽadr",
			"生命保険協会", "損害保険協会", "損保協会", "生保協会", "個人情報保護委員会", "監督官庁", "紛争解決",
			"regulator", "financial services agency", "ombudsman", "consumer center", "consumer centre", "consumer affairs",
			"fsa",
		},
	},
	{
		label: UrgencyPublic,
		terms: []string{
			"晒す", "晒し", "晒され", "さらします", "拡散", "マスコミ", "報道機関", "新聞社", "テレビ局", "週刊誌", "世間に公表", "公表します",
			"go public", "going public", "social media", "the media", "the press", "tell the news", "tweet", "viral",
		},
		near: []string{
			"sns", "twitter", "ツイッター", "インスタ", "youtube", "tiktok", "facebook", "ネット", "口コミ", "クチコミ", "レビュー",
			"掲示板", "ブログ", "みんなに", "post", "review", "online",
		},
		verbs: []string{
			"書き込", "書く", "書きます", "書いて", "書いた", "書いてやる", "投稿", "公開", "載せ", "あげ", "上げ", "暴露", "発信", "流し", "流す", "知らせ", "知ってもら",
			"about this", "about it", "this", "everywhere", "everyone",
		},
	},
}

// urgencyIndex is the rules normalised and indexed by the first rune of
// each term, so that a text is scanned once however many terms there are.
type urgencyIndex struct {
	rules []urgencyRule
	first map[rune][]urgencyTerm
}

type urgencyTerm struct {
	rule int
	text string
	near bool // a near term: needs a verb shortly after
}

var urgencyRules = sync.OnceValue(func() *urgencyIndex {
	ix := &urgencyIndex{first: map[rune][]urgencyTerm{}}
	nl := func(in []string) []string {
		out := make([]string, len(in))
		for i, s := range in {
			out[i] = Normalize(s)
		}
		return out
	}
	for i, r := range urgencyRulesSrc {
		nr := urgencyRule{
			label: r.label, terms: nl(r.terms), near: nl(r.near), verbs: nl(r.verbs),
			excuse: nl(r.excuse), negation: r.negation,
		}
		ix.rules = append(ix.rules, nr)
		for _, t := range nr.terms {
			f, _ := utf8.DecodeRuneInString(t)
			ix.first[f] = append(ix.first[f], urgencyTerm{rule: i, text: t})
		}
		for _, t := range nr.near {
			f, _ := utf8.DecodeRuneInString(t)
			ix.first[f] = append(ix.first[f], urgencyTerm{rule: i, text: t, near: true})
		}
	}
	return ix
})

var (
	jaNegations = []string{"ない", "なし", "無し", "無い", "ありません", "いません", "なかった", "無かった", "なく", "無く", "しておりません"}
	enNegations = []string{"no ", "not ", "nobody", "no one", "wasn't", "weren't", "without", "none", "didn't get", "never"}
)

// FindUrgency returns the urgency signals in a text, in the order of
// Urgencies, or nil. It is rule-based and runs on the normalised text.
func FindUrgency(text string) []string {
	return findUrgencyNormalized(Normalize(text))
}

func findUrgencyNormalized(s string) []string {
	ix := urgencyRules()
	var hit [8]bool
	for at, c := range s {
		for _, t := range ix.first[c] {
			if hit[t.rule] || !strings.HasPrefix(s[at:], t.text) {
				continue
			}
			if ix.rules[t.rule].matchAt(s, at, t) {
				hit[t.rule] = true
			}
		}
	}
	var out []string
	for i, r := range ix.rules {
		if hit[i] {
			out = append(out, r.label)
		}
	}
	return out
}

// matchAt decides whether the term t found at s[at:] is a signal.
func (r urgencyRule) matchAt(s string, at int, t urgencyTerm) bool {
	end := at + len(t.text)
	if isASCIILetter(t.text[0]) && at > 0 && isASCIILetter(s[at-1]) {
		return false // inside an English word: "issue you" is not "sue you"
	}
	if t.text == "fsa" && !wordAt(s, at, len(t.text)) {
		return false
	}
	if t.near {
		tail := runeWindow(s[end:], 14)
		for _, v := range r.verbs {
			if strings.Contains(tail, v) {
				return true
			}
		}
		return false
	}
	if r.excused(s, at) {
		return false
	}
	return !(r.negation && negated(s, at, end))
}

func (r urgencyRule) excused(s string, at int) bool {
	lo := max(0, at-12)
	for _, e := range r.excuse {
		j := strings.Index(s[lo:], e)
		if j >= 0 && lo+j <= at && lo+j+len(e) > at {
			return true
		}
	}
	return false
}

// negated reports whether the term at s[at:end] is denied: a Japanese
// negation in the next few characters (怪我はありません, 怪我人なし) or an
// English one shortly before (no one was hurt, not injured).
func negated(s string, at, end int) bool {
	after := runeWindow(s[end:], 7)
	for _, n := range jaNegations {
		if strings.Contains(after, n) {
			return true
		}
	}
	before := s[max(0, at-24):at]
	for _, n := range enNegations {
		if strings.Contains(before, n) {
			return true
		}
	}
	return false
}

// runeWindow returns the first n runes of s.
func runeWindow(s string, n int) string {
	i := 0
	for k := range s {
		if i == n {
			return s[:k]
		}
		i++
	}
	return s
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' }

func wordAt(s string, at, n int) bool {
	return (at == 0 || !isASCIILetter(s[at-1])) && (at+n >= len(s) || !isASCIILetter(s[at+n]))
}
