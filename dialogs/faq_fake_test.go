package dialogs_test

import (
	"strings"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/dialogs/inquiry"
)

// fakeThreshold is the confidence from which fakeKB's matches are answered.
const fakeThreshold = 0.5

// fakeEntry is one scripted FAQ entry: each keyword found in a question
// adds 0.4 confidence (at most 1), so two keywords make a confident match.
type fakeEntry struct {
	id        string
	q, a      map[koe.Lang]string
	link      string
	followUps []string
	keywords  []string
}

var fakeEntries = []fakeEntry{
	{id: "claim-payment-timing",
		q:         map[koe.Lang]string{koe.Japanese: "保険金はいつ支払われますか？", koe.English: "When is a claim paid?"},
		a:         map[koe.Lang]string{koe.Japanese: "保険金は、必要書類がそろってから原則30日以内にお支払いします。", koe.English: "We pay a claim within 30 days of receiving all documents."},
		link:      "https://example.com/faq/claim-payment",
		followUps: []string{"保険金の請求に必要な書類は何ですか？"},
		keywords:  []string{"保険金", "いつ", "振り込", "支払", "claim", "paid", "when"}},
	{id: "claim-documents",
		q:        map[koe.Lang]string{koe.Japanese: "保険金の請求に必要な書類は何ですか？", koe.English: "Which documents does a claim need?"},
		a:        map[koe.Lang]string{koe.Japanese: "保険金請求書、事故証明書、修理見積書などが必要です。", koe.English: "A claim form, the accident certificate and a repair estimate."},
		keywords: []string{"保険金", "書類", "請求", "documents", "claim"}},
	{id: "address-change",
		q:        map[koe.Lang]string{koe.Japanese: "住所を変更したいです", koe.English: "How do I change my address?"},
		a:        map[koe.Lang]string{koe.Japanese: "住所の変更はマイページからお手続きいただけます。", koe.English: "You can change your address on My Page."},
		keywords: []string{"住所", "変更", "引っ越", "address", "move"}},
	{id: "premium-payment-method",
		q:        map[koe.Lang]string{koe.Japanese: "保険料の支払方法を変えたいです", koe.English: "How can I change how I pay the premium?"},
		a:        map[koe.Lang]string{koe.Japanese: "保険料の支払方法は、口座振替とクレジットカードからお選びいただけます。", koe.English: "You can pay the premium by direct debit or credit card."},
		keywords: []string{"保険料", "支払", "方法", "premium", "pay "}},
}

// fakeKB is an inquiry.Searcher over fakeEntries.
type fakeKB struct{}

func (fakeKB) Search(lang koe.Lang, question string, k int) []inquiry.Match {
	q := dialogs.Normalize(question) + " "
	var ms []inquiry.Match
	for _, e := range fakeEntries {
		hits := 0
		for _, w := range e.keywords {
			if strings.Contains(q, w) {
				hits++
			}
		}
		if hits == 0 {
			continue
		}
		m := e.match(lang)
		m.Score = float64(hits)
		m.Confidence = min(1, 0.4*float64(hits))
		ms = append(ms, m)
	}
	// Stable insertion sort: by confidence, then entry order.
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].Confidence > ms[j-1].Confidence; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
	if len(ms) > k {
		ms = ms[:k]
	}
	return ms
}

func (fakeKB) Entry(lang koe.Lang, id string) (inquiry.Match, bool) {
	for _, e := range fakeEntries {
		if e.id == id {
			return e.match(lang), true
		}
	}
	return inquiry.Match{}, false
}

func (e fakeEntry) match(lang koe.Lang) inquiry.Match {
	return inquiry.Match{ID: e.id, Question: e.q[lang], Answer: e.a[lang], Link: e.link, FollowUps: e.followUps}
}

func sameVerdict(a, b koe.FAQAnswer) bool {
	return formatHelpful(a.Helpful) == formatHelpful(b.Helpful) && a.CaseRef == b.CaseRef
}

func formatHelpful(h *bool) string {
	switch {
	case h == nil:
		return "-"
	case *h:
		return "yes"
	}
	return "no"
}
