package inquiry_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/dialogs/catalog"
	"github.com/koehq/koe/dialogs/inquiry"
	"github.com/koehq/koe/internal/fakes"
)

var at = time.Date(2026, 11, 25, 15, 30, 0, 0, time.FixedZone("JST", 9*3600))

type fixture struct {
	runner *inquiry.Runner
	log    *fakes.FAQLog
	cases  *fakes.CaseStore
	voices *fakes.VoiceStore
	queue  *fakes.Queue
}

func newFixture(t *testing.T, rnd []byte) *fixture {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{log: fakes.NewFAQLog(), cases: fakes.NewCaseStore(), voices: fakes.NewVoiceStore(),
		queue: fakes.NewQueue(func() time.Time { return at })}
	f.runner = &inquiry.Runner{FAQLog: f.log, Cases: f.cases, Voices: f.voices, Queue: f.queue, Catalog: cat,
		Now: func() time.Time { return at }, Rand: bytes.NewReader(rnd)}
	return f
}

func meta(key string) dialogs.EffectMeta {
	return dialogs.EffectMeta{Key: key, MessageID: strings.Split(key, "/")[0], User: "console:tester", Lang: koe.Japanese, At: at}
}

func TestRunnerAnswerIdempotent(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	e := inquiry.AnswerEffect{Entry: "claim-payment-timing", Rank: 1, Confidence: 0.8}
	for range 2 {
		if r, err := f.runner.RunEffect(ctx, meta("m1/0"), e); err != nil || r != nil {
			t.Fatalf("RunEffect = %v, %v; want no reply, no error", r, err)
		}
	}
	all := f.log.All()
	if len(all) != 1 {
		t.Fatalf("%d answers recorded; want 1", len(all))
	}
	a := all[0]
	if a.ID != "m1/0" || a.Entry != e.Entry || a.Rank != 1 || a.Confidence != 0.8 || a.Lang != koe.Japanese || !a.At.Equal(at) || a.User != "console:tester" || a.Helpful != nil {
		t.Errorf("recorded %+v", a)
	}
}

func TestRunnerVerdict(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if _, err := f.runner.RunEffect(ctx, meta("m1/0"), inquiry.AnswerEffect{Entry: "x", Rank: 1, Confidence: 0.9}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		answer  string
		helpful bool
	}{
		{"helpful", "m1/0", true},
		{"again, now unhelpful (the last verdict counts)", "m1/0", false},
		{"unknown answer is skipped", "nope/0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.runner.RunEffect(ctx, meta("m2/0"), inquiry.VerdictEffect{Answer: tt.answer, Helpful: tt.helpful}); err != nil {
				t.Fatalf("RunEffect: %v", err)
			}
		})
	}
	a, _ := f.log.Get("m1/0")
	if a.Helpful == nil || *a.Helpful {
		t.Errorf("helpful = %v; want false", a.Helpful)
	}
}

func TestRunnerEscalateIdempotent(t *testing.T) {
	// The first reference drawn is taken by another case: the runner draws again.
	f := newFixture(t, []byte{7, 15, 3, 19, 1, 2, 3, 4, 5, 6, 8, 9})
	ctx := context.Background()
	if _, err := f.cases.CreateCase(ctx, koe.Case{Ref: "C-20261125-7F3K", Key: "other", Type: koe.CaseComplaint, User: "console:x", Status: koe.CaseReceived, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.voices.AddVoice(ctx, koe.Voice{ID: "m1/0", User: "console:tester", Source: inquiry.VoiceSource, Text: "q",
		Kind: koe.VoiceInquiry, Topic: koe.TopicClaims, Sentiment: "neutral", Urgency: []string{"injury"}, At: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.runner.RunEffect(ctx, meta("m1/1"), inquiry.AnswerEffect{Entry: "x", Rank: 1, Confidence: 0.9}); err != nil {
		t.Fatal(err)
	}
	e := inquiry.EscalateEffect{Question: "保険金はいつですか", Channel: inquiry.ChannelPhone, Phone: "090-1234-5678", Voice: "m1/0", Answers: []string{"m1/1"}}
	var first []koe.Reply
	for i := range 2 {
		r, err := f.runner.RunEffect(ctx, meta("m5/0"), e)
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if i == 0 {
			first = r
		} else if len(r) != 1 || r[0].Text != first[0].Text {
			t.Errorf("second run replied %v; want the same as the first %v", r, first)
		}
	}
	var mine []koe.Case
	for _, c := range f.cases.All() {
		if c.Key == "m5/0" {
			mine = append(mine, c)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("%d cases for the key; want 1", len(mine))
	}
	c := mine[0]
	if c.Ref != "C-20261125-1234" || c.Type != koe.CaseInquiry || c.Topic != koe.TopicClaims || c.Priority != koe.PriorityUrgent ||
		c.VoiceID != "m1/0" || !strings.Contains(c.Summary, "090-1234-5678") || c.DueAt.IsZero() {
		t.Errorf("case %+v", c)
	}
	if !strings.Contains(first[0].Text, c.Ref) || !strings.Contains(first[0].Text, "090-1234-5678") {
		t.Errorf("reply %q lacks the reference or the number", first[0].Text)
	}
	jobs := f.queue.Pending()
	if len(jobs) != 1 || jobs[0].ID != "case.alert:"+c.Ref || jobs[0].Ref != c.Ref {
		t.Errorf("jobs %+v; want one case.alert for %s", jobs, c.Ref)
	}
	a, _ := f.log.Get("m1/1")
	if a.CaseRef != c.Ref || a.Helpful == nil || *a.Helpful {
		t.Errorf("answer after escalation %+v; want unhelpful with the case", a)
	}
}

func TestRunnerErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		e    dialogs.Effect
	}{
		{"unknown effect", dialogs.HandoffEndEffect{CaseRef: "C-1"}},
		{"answer without entry", inquiry.AnswerEffect{}},
		{"escalation without question", inquiry.EscalateEffect{Channel: inquiry.ChannelLINE}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			if _, err := f.runner.RunEffect(ctx, meta("m1/0"), tt.e); !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("err = %v; want ErrInvalid", err)
			}
		})
	}
	t.Run("missing stores", func(t *testing.T) {
		r := &inquiry.Runner{}
		if _, err := r.RunEffect(ctx, meta("m1/0"), inquiry.AnswerEffect{Entry: "x"}); !errors.Is(err, koe.ErrInvalid) {
			t.Errorf("err = %v; want ErrInvalid", err)
		}
	})
}
