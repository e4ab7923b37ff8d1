package classifier

import (
	"regexp"
	"strings"
	"sync"

	"golang.org/x/text/unicode/norm"
)

// Placeholders that replace personal data in redacted text.
const (
	RedactedEmail    = "[EMAIL]"
	RedactedPhone    = "[PHONE]"
	RedactedNumber   = "[NUMBER]"
	RedactedDate     = "[DATE]"
	RedactedPostcode = "[POSTCODE]"
	RedactedAddress  = "[ADDRESS]"
	RedactedName     = "[NAME]"
)

type redactRule struct {
	re   *regexp.Regexp
	repl string
}

// The order matters: e-mail before numbers, dates before phone numbers,
// phone numbers before postcodes and other long numbers.
var redactRules = sync.OnceValue(func() []redactRule {
	r := func(expr, repl string) redactRule { return redactRule{regexp.MustCompile(expr), repl} }
	return []redactRule{
		r(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`, RedactedEmail),
		// Dates with a year: 1985年4月3日, 昭和60年4月3日, 1985/04/03, 1985-4-3, S60.4.3, 3/4/1985.
		r(`(?:(?:明治|大正|昭和|平成|令和)\s*(?:\d{1,2}|元)|\d{4})\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日?`, RedactedDate),
		r(`\b(?:\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}|\d{1,2}/\d{1,2}/\d{4}|[MTSHRmtshr]\d{1,2}\.\d{1,2}\.\d{1,2})\b`, RedactedDate),
		// Phone numbers: 03-1234-5678, 090 1234 5678, 09012345678, +81 90-1234-5678.
		r(`(?:\+\d{1,3}[\s\-]?)?\(?0?\d{1,4}\)?[\s\-]\d{1,4}[\s\-]\d{3,4}\b|\b0\d{9,10}\b`, RedactedPhone),
		r(`〒\s*\d{3}-?\d{4}|\b\d{3}-\d{4}\b`, RedactedPostcode),
		// Japanese addresses: 東京都千代田区丸の内1-2-3, 大阪市北区梅田二丁目4番5号.
		r(`(?:\p{Han}{2,3}[都道府県])?\p{Han}{1,6}[市区町村郡][\p{Han}\p{Hiragana}\p{Katakana}ー]{0,12}?(?:\d+|[一二三四五六七八九十]+)(?:\s*(?:丁目|番地|番|号|-|−|の)\s*\d*)*`, RedactedAddress),
		// English street addresses: 12 Baker Street.
		r(`(?i)\b\d{1,5}\s+(?:[A-Za-z]+\s+){1,3}(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd)\b\.?`, RedactedAddress),
		// Policy, claim and other reference numbers: AR-20261122-7F3K,
		// ABC1234567, 1234567 (amounts in yen are kept).
		r(`\b[A-Za-z]{1,4}[\-]?\d[\dA-Za-z\-]{4,}\b|\d[\d\-]{5,}\d(?:[A-Za-z]\w*)?`, RedactedNumber),
		// Names announced as such.
		r(`(?:名前は|氏名は?[:：]?|契約者は|被保険者は)\s*[\p{Han}\p{Katakana}ー]{1,5}(?:\s?[\p{Han}\p{Katakana}ー]{1,5})?`, RedactedName),
		r(`(?:私は|わたしは)?[\p{Han}\p{Katakana}ー]{1,5}(?:\s?[\p{Han}\p{Katakana}ー]{1,5})?(?:と申します|といいます)`, RedactedName),
		r(`\b(?:[Mm]y name is|I am|I'm|[Tt]his is)\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?`, RedactedName),
		// Names with an honorific: 山田様, 田中さん, スズキさん, 佐藤太郎氏.
		r(`[\p{Han}\p{Katakana}ー]{1,6}(?:さん|様|さま|氏|くん|ちゃん)`, RedactedName),
	}
})

// Roles and common nouns that take an honorific but name nobody.
var honorificNouns = []string{
	"担当者", "担当", "代理店", "お客", "客", "皆", "みな", "奥", "旦那", "患者", "運転手", "保険屋", "大家", "先生", "相手",
	"相手方", "業者", "営業", "店員", "窓口", "係", "社員", "職員", "上司", "親御", "お医者", "医者", "隣", "近所", "神",
	"王", "社長", "部長", "課長", "店長", "工場", "修理屋", "会社", "弁護士", "警察", "オペレーター", "スタッフ", "ドライバー",
	"お兄", "お姉", "同", "仕", "模", "多", "苦労", "疲", "外", "殿", "王", "人", "方", "兄", "姉", "奥様", "娘", "息子", "母", "父", "お父", "お母", "ご主人", "主人",
}

// Redact returns text with personal data replaced by placeholders: e-mail
// addresses, phone numbers, policy and other reference numbers, dates with
// a year (dates of birth), postcodes, street addresses and names where they
// can be told apart (after 名前は / my name is, or with an honorific such
// as 様 or さん). The text is NFKC-normalised first, so full-width digits are
// caught. It is a best effort on free text, not a guarantee; it is applied
// before any text leaves the process.
func Redact(text string) string {
	s := norm.NFKC.String(strings.ToValidUTF8(text, "\uFFFD"))
	for _, r := range redactRules() {
		if r.repl == RedactedNumber {
			s = r.re.ReplaceAllStringFunc(s, func(m string) string {
				if strings.Count(m, "-") > 0 && isDigitsAndDashes(m) && len(strings.ReplaceAll(m, "-", "")) < 7 {
					return m
				}
				return RedactedNumber
			})
			continue
		}
		if r.repl == RedactedName && strings.Contains(r.re.String(), "さん") {
			s = r.re.ReplaceAllStringFunc(s, func(m string) string {
				for _, suffix := range []string{"さん", "様", "さま", "氏", "くん", "ちゃん"} {
					if stem, ok := strings.CutSuffix(m, suffix); ok {
						for _, n := range honorificNouns {
							if strings.HasSuffix(stem, n) {
								return m
							}
						}
						return RedactedName
					}
				}
				return m
			})
			continue
		}
		s = r.re.ReplaceAllString(s, r.repl)
	}
	return s
}

func isDigitsAndDashes(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}
