package voices_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/dialogs/accident"
	"github.com/koehq/koe/dialogs/catalog"
	"github.com/koehq/koe/dialogs/voices"
	"github.com/koehq/koe/internal/fakes"
)

func TestParseCaseQuery(t *testing.T) {
	tests := []struct {
		in      string
		wantRef string
		wantOK  bool
	}{
		{"C-20261122-7F3K", "C-20261122-7F3K", true},
		{"c20261122 7f3k", "", false},
		{"c202611227f3k", "C-20261122-7F3K", true},
		{"ｃ－２０２６１１２２－７ｆ３ｋの状況", "C-20261122-7F3K", true},
		{"C-20261122-7F3K を教えてください", "C-20261122-7F3K", true},
		{"状況", "", true},
		{"status", "", true},
		{"AR-20261122-7F3K", "", false},
		{"ABC-20261122-7F3K", "", false},
		{"C-20261122-7F3K の件でまだ連絡がありません", "", false},
		{"", "", false},
		{"保険金がまだです", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ref, ok := voices.ParseCaseQuery(tt.in)
			if ref != tt.wantRef || ok != tt.wantOK {
				t.Errorf("ParseCaseQuery(%q) = %q, %v; want %q, %v", tt.in, ref, ok, tt.wantRef, tt.wantOK)
			}
		})
	}
}

// reportsAnswer is a fake accident runner answering a fixed reply and
// recording the queries.
type reportsAnswer struct {
	reply   koe.Reply
	queries []accident.StatusQuery
}

func (r *reportsAnswer) RunEffect(ctx context.Context, meta dialogs.EffectMeta, e dialogs.Effect) ([]koe.Reply, error) {
	q, ok := e.(accident.StatusQuery)
	if !ok {
		return nil, koe.ErrInvalid
	}
	r.queries = append(r.queries, q)
	return []koe.Reply{r.reply}, nil
}

func TestStatus(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cases := fakes.NewCaseStore()
	for i, c := range []koe.Case{
		{Ref: "C-20261120-AAAA", Status: koe.CaseClosed, User: alice},
		{Ref: "C-20261120-BBBB", Status: koe.CaseAssigned, User: alice, Type: koe.CaseComplaint},
		{Ref: "C-20261120-CCCC", Status: koe.CaseReceived, User: "line:Ubob"},
	} {
		c.Key = c.Ref
		c.CreatedAt = monday10.Add(time.Duration(i) * time.Hour)
		if _, err := cases.CreateCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	none := koe.Reply{Text: cat.Text(koe.Japanese, "accident.status_none")}
	card := koe.Reply{Card: &koe.Card{Title: "reports"}}
	tests := []struct {
		name    string
		reports koe.Reply
		user    koe.UserID
		q       dialogs.Effect
		want    []string // per reply: card field labels joined, or text prefix
	}{
		{"open cases after reports", card, alice, accident.StatusQuery{}, []string{"card:", "card:C-20261120-BBBB"}},
		{"no reports text left out", none, alice, accident.StatusQuery{}, []string{"card:C-20261120-BBBB"}},
		{"one report only", card, alice, accident.StatusQuery{Ref: "AR-20261120-AAAA"}, []string{"card:"}},
		{"no cases keeps reports", none, "line:Ucarol", accident.StatusQuery{}, []string{"text:こちらのアカウント"}},
		{"case by ref", card, alice, voices.CaseStatusQuery{Ref: "C-20261120-AAAA"}, []string{"card:C-20261120-AAAA"}},
		{"someone else's case", card, alice, voices.CaseStatusQuery{Ref: "C-20261120-CCCC"}, []string{"text:受付番号 C-20261120-CCCC"}},
		{"unknown case", card, alice, voices.CaseStatusQuery{Ref: "C-20261120-ZZZZ"}, []string{"text:受付番号 C-20261120-ZZZZ"}},
		{"open cases", card, alice, voices.CaseStatusQuery{}, []string{"card:C-20261120-BBBB"}},
		{"no open cases", card, "line:Ubob2", voices.CaseStatusQuery{}, []string{"text:現在、対応中"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &voices.Status{Cases: cases, Reports: &reportsAnswer{reply: tt.reports}, Catalog: cat}
			replies, err := st.RunEffect(ctx, dialogs.EffectMeta{Key: "m1/0", User: tt.user, Lang: koe.Japanese}, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range replies {
				if r.Card != nil {
					var labels []string
					for _, f := range r.Card.Fields {
						labels = append(labels, f.Label)
					}
					got = append(got, "card:"+strings.Join(labels, ","))
					continue
				}
				got = append(got, "text:"+r.Text)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("replies %q, want %q", got, tt.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) || (strings.HasPrefix(tt.want[i], "card:") && got[i] != tt.want[i]) {
					t.Errorf("reply %d = %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
	st := &voices.Status{Cases: cases, Catalog: cat}
	if _, err := st.RunEffect(ctx, dialogs.EffectMeta{User: alice}, dialogs.VoiceEffect{}); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("unknown effect: %v, want ErrInvalid", err)
	}
}
