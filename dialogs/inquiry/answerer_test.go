package inquiry_test

import (
	"context"
	"strings"
	"testing"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs/catalog"
	"github.com/koehq/koe/dialogs/inquiry"
	"github.com/koehq/koe/internal/fakes"
)

// kb is a two-entry inquiry.Searcher: "payment" questions match with
// confidence 0.9, "vague" ones with 0.3.
type kb struct{}

func (kb) Search(lang koe.Lang, q string, k int) []inquiry.Match {
	switch {
	case strings.Contains(q, "payment"):
		return []inquiry.Match{{ID: "pay", Question: "When is it paid?", Answer: "Within 30 days.", Confidence: 0.9}}
	case strings.Contains(q, "vague"):
		return []inquiry.Match{{ID: "pay", Confidence: 0.3}}
	}
	return nil
}

func (kb) Entry(lang koe.Lang, id string) (inquiry.Match, bool) {
	if id != "pay" {
		return inquiry.Match{}, false
	}
	return inquiry.Match{ID: "pay", Question: "When is it paid?", Answer: "Within 30 days.", Link: "https://example.com/pay"}, true
}

func TestAnswerer(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		text   string
		wantOK bool
	}{
		{"confident", "about the payment", true},
		{"below threshold", "something vague", false},
		{"no match", "hello there", false},
		{"empty", "  ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := fakes.NewFAQLog()
			a := &inquiry.Answerer{KB: kb{}, Threshold: 0.5, FAQLog: log, Catalog: cat}
			m := meta("m1/0")
			m.Lang = koe.English
			var first []koe.Reply
			for i := range 2 {
				r, ok, err := a.Answer(context.Background(), m, tt.text)
				if err != nil || ok != tt.wantOK {
					t.Fatalf("run %d: Answer = ok %v, err %v; want ok %v", i, ok, err, tt.wantOK)
				}
				if i == 0 {
					first = r
				} else if len(r) != len(first) || (len(r) > 0 && r[0].Text != first[0].Text) {
					t.Errorf("second answer %v differs from the first %v", r, first)
				}
			}
			all := log.All()
			if !tt.wantOK {
				if len(all) != 0 || first != nil {
					t.Errorf("recorded %v, replied %v; want nothing", all, first)
				}
				return
			}
			if len(all) != 1 || all[0].ID != "m1/0/faq" || all[0].Entry != "pay" || all[0].Rank != 1 {
				t.Fatalf("recorded %+v; want one answer m1/0/faq of entry pay", all)
			}
			if len(first) != 2 || !strings.Contains(first[0].Text, "Within 30 days.") || !strings.Contains(first[0].Text, "https://example.com/pay") {
				t.Fatalf("replies %+v", first)
			}
			qr := first[1].QuickReplies
			if len(qr) != 2 || qr[0].Data != "inquiry:verdict:m1/0/faq:yes" || qr[1].Data != "inquiry:verdict:m1/0/faq:no" {
				t.Errorf("quick replies %+v", qr)
			}
		})
	}
}
