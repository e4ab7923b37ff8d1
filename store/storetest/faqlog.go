package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
)

// FAQFactory is Factory for a koe.FAQLog alone (a fake, or a backend seen
// through that port). Every call within one test returns a log over the
// same data.
type FAQFactory func(t *testing.T, now func() time.Time) koe.FAQLog

// TestFAQLog runs the koe.FAQLog conformance tests (TestFAQLogPort) on a backend.
func TestFAQLog(t *testing.T, newBackend func(t *testing.T) Factory, f Features) {
	TestFAQLogPort(t, func(t *testing.T) FAQFactory {
		open := newBackend(t)
		return func(t *testing.T, now func() time.Time) koe.FAQLog { return open(t, now) }
	}, f)
}

// TestFAQLogPort checks koe.FAQLog: idempotent records, marks that overwrite,
// and the oldest-first listing of a time range.
//
// Choices the port's comments leave open, which the suite fixes: an answer
// must have an ID, a valid User, an Entry and a non-zero At (ErrInvalid
// otherwise, nothing stored); every field is stored as given, times to the
// nanosecond; a duplicate record returns the stored answer including its
// latest mark; MarkAnswer replaces both Helpful and CaseRef (nil and ""
// clear them); Answers orders by At, oldest first, ties by ID ascending,
// treats zero bounds as open and returns an empty non-nil slice when
// nothing matches. Every method given a cancelled context returns an error
// that wraps context.Canceled and changes nothing.
func TestFAQLogPort(t *testing.T, newLog func(t *testing.T) FAQFactory, f Features) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		open := newLog(t)
		l := open(t, clk.Now)
		full := fullAnswer("a-full", user("faq-full"), clk.Now().In(time.FixedZone("JST", 9*60*60)))
		minimal := minimalAnswer("a-min", user("faq-min"), "motor.roadside", clk.Now().Add(-time.Minute))
		for _, a := range []koe.FAQAnswer{full, minimal} {
			got, err := l.RecordAnswer(t.Context(), a)
			if err != nil {
				t.Fatalf("RecordAnswer(%s) = %v", a.ID, err)
			}
			if !reflect.DeepEqual(normAnswer(got), normAnswer(a)) {
				t.Errorf("RecordAnswer returned\n%+v\nwant\n%+v", got, a)
			}
		}
		for name, st := range map[string]koe.FAQLog{"same handle": l, "second handle": open(t, clk.Now)} {
			got := mustAnswers(t, st, time.Time{}, time.Time{})
			want := []koe.FAQAnswer{normAnswer(minimal), normAnswer(full)}
			if !reflect.DeepEqual(normAnswers(got), want) {
				t.Errorf("%s: Answers =\n%s\nwant\n%s", name, fmtAnswers(got), fmtAnswers(want))
			}
		}
	})

	t.Run("Duplicate", func(t *testing.T) {
		// A retried record (same ID, maybe other content) yields the stored
		// answer, with its latest mark, and ErrDuplicate; nothing changes.
		t.Parallel()
		clk := NewClock(t0)
		open := newLog(t)
		l := open(t, clk.Now)
		u := user("faq-dup")
		first := mustRecord(t, l, minimalAnswer("a-dup", u, "home.fire", clk.Now()))
		mustMark(t, l, "a-dup", ptr(false), "C-1")
		first.Helpful, first.CaseRef = ptr(false), "C-1"
		clk.Advance(time.Minute)
		for _, tc := range []struct {
			name string
			a    koe.FAQAnswer
		}{
			{"same answer again", minimalAnswer("a-dup", u, "home.fire", t0)},
			{"other content", fullAnswer("a-dup", user("faq-dup-other"), clk.Now())},
		} {
			got, err := open(t, clk.Now).RecordAnswer(t.Context(), tc.a)
			if !errors.Is(err, koe.ErrDuplicate) {
				t.Fatalf("%s: RecordAnswer = %v, want ErrDuplicate", tc.name, err)
			}
			if !reflect.DeepEqual(normAnswer(got), normAnswer(first)) {
				t.Errorf("%s: RecordAnswer returned\n%+v\nwant the stored\n%+v", tc.name, got, first)
			}
		}
		got := mustAnswers(t, l, time.Time{}, time.Time{})
		if len(got) != 1 || !reflect.DeepEqual(normAnswer(got[0]), normAnswer(first)) {
			t.Errorf("Answers after duplicates =\n%s\nwant only the first", fmtAnswers(got))
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		l := newLog(t)(t, clk.Now)
		for _, tc := range []struct {
			name string
			edit func(a *koe.FAQAnswer)
		}{
			{"no id", func(a *koe.FAQAnswer) { a.ID = "" }},
			{"no user", func(a *koe.FAQAnswer) { a.User = "" }},
			{"user without channel", func(a *koe.FAQAnswer) { a.User = "U1" }},
			{"no entry", func(a *koe.FAQAnswer) { a.Entry = "" }},
			{"no time", func(a *koe.FAQAnswer) { a.At = time.Time{} }},
		} {
			a := minimalAnswer("a-inv", user("faq-inv"), "motor.claim", clk.Now())
			tc.edit(&a)
			if _, err := l.RecordAnswer(t.Context(), a); !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("%s: RecordAnswer = %v, want ErrInvalid", tc.name, err)
			}
		}
		if got := mustAnswers(t, l, time.Time{}, time.Time{}); len(got) != 0 {
			t.Errorf("Answers after refused records = %v, want none", answerIDs(got))
		}
		mustRecord(t, l, minimalAnswer("a-inv", user("faq-inv"), "motor.claim", clk.Now()))
	})

	t.Run("Mark", func(t *testing.T) {
		// Each step marks one answer; the last mark wins, on every handle.
		t.Parallel()
		clk := NewClock(t0)
		open := newLog(t)
		l := open(t, clk.Now)
		u := user("faq-mark")
		base := mustRecord(t, l, minimalAnswer("a-mark", u, "contract.address", clk.Now()))
		other := mustRecord(t, l, minimalAnswer("a-other", u, "contract.address", clk.Now().Add(time.Second)))
		for _, tc := range []struct {
			name    string
			helpful *bool
			caseRef string
		}{
			{"helpful", ptr(true), ""},
			{"unhelpful", ptr(false), ""},
			{"unhelpful then a case", ptr(false), "C-20261122-AAAA"},
			{"verdict withdrawn", nil, "C-20261122-BBBB"},
			{"helpful clears the case", ptr(true), ""},
			{"cleared", nil, ""},
		} {
			if err := open(t, clk.Now).MarkAnswer(t.Context(), "a-mark", tc.helpful, tc.caseRef); err != nil {
				t.Fatalf("%s: MarkAnswer = %v", tc.name, err)
			}
			want := base
			want.Helpful, want.CaseRef = tc.helpful, tc.caseRef
			got := mustAnswers(t, l, time.Time{}, time.Time{})
			wantAll := []koe.FAQAnswer{normAnswer(want), normAnswer(other)}
			if !reflect.DeepEqual(normAnswers(got), wantAll) {
				t.Errorf("%s: Answers =\n%s\nwant\n%s", tc.name, fmtAnswers(got), fmtAnswers(wantAll))
			}
		}
		if err := l.MarkAnswer(t.Context(), "a-missing", ptr(true), ""); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("MarkAnswer(missing) = %v, want ErrNotFound", err)
		}
		if got := mustAnswers(t, l, time.Time{}, time.Time{}); len(got) != 2 {
			t.Errorf("a mark of a missing answer created one: %v", answerIDs(got))
		}
	})

	t.Run("Range", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		open := newLog(t)
		l := open(t, clk.Now)
		u := user("faq-range")
		at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
		tokyo := time.FixedZone("JST", 9*60*60)
		// Recorded out of order of At; "r-3a" and "r-3b" share an instant,
		// and "r-4" is given in another zone.
		for _, a := range []koe.FAQAnswer{
			minimalAnswer("r-2", u, "e1", at(2)),
			minimalAnswer("r-0", u, "e2", at(0)),
			minimalAnswer("r-3b", u, "e1", at(3)),
			minimalAnswer("r-4", u, "e3", at(4).In(tokyo)),
			minimalAnswer("r-1", u, "e1", at(1)),
			minimalAnswer("r-3a", u, "e2", at(3)),
			minimalAnswer("r-old", u, "e1", at(-24*60)),
		} {
			mustRecord(t, l, a)
		}
		l2 := open(t, clk.Now)
		for _, tc := range []struct {
			name     string
			from, to time.Time
			want     []string
		}{
			{"all", time.Time{}, time.Time{}, []string{"r-old", "r-0", "r-1", "r-2", "r-3a", "r-3b", "r-4"}},
			{"from is inclusive", at(2), time.Time{}, []string{"r-2", "r-3a", "r-3b", "r-4"}},
			{"from a nanosecond later", at(2).Add(time.Nanosecond), time.Time{}, []string{"r-3a", "r-3b", "r-4"}},
			{"to is exclusive", time.Time{}, at(1), []string{"r-old", "r-0"}},
			{"to a nanosecond later", time.Time{}, at(1).Add(time.Nanosecond), []string{"r-old", "r-0", "r-1"}},
			{"range", at(1), at(4), []string{"r-1", "r-2", "r-3a", "r-3b"}},
			{"range in another zone", at(1).In(tokyo), at(4).In(tokyo), []string{"r-1", "r-2", "r-3a", "r-3b"}},
			{"empty range", at(3), at(3), nil},
			{"reversed range", at(4), at(1), nil},
			{"before everything", time.Time{}, at(-48 * 60), nil},
		} {
			got := mustAnswers(t, l2, tc.from, tc.to)
			if ids := answerIDs(got); !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("%s: Answers = %v, want %v", tc.name, ids, tc.want)
			}
			for _, a := range got {
				if a.User != u || a.Entry == "" {
					t.Errorf("%s: answer %s came back without its user or entry", tc.name, a.ID)
				}
			}
		}
	})

	t.Run("ConcurrentRecords", func(t *testing.T) {
		// Handles record distinct answers and race on one shared ID at the
		// same time: every distinct answer is kept, the shared one once, and
		// every caller of the shared one gets the same stored answer.
		t.Parallel()
		const n = 8
		clk := NewClock(t0)
		open := newLog(t)
		handles := make([]koe.FAQLog, n)
		for i := range handles {
			handles[i] = open(t, clk.Now)
		}
		errs := make([]error, n)
		entries := make([]string, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, h := range handles {
			wg.Go(func() {
				mine := minimalAnswer(fmt.Sprintf("a-cc-%d", i), user("faq-cc"), "own", clk.Now().Add(time.Duration(i)))
				shared := minimalAnswer("a-cc", user("faq-cc"), fmt.Sprintf("entry-%d", i), clk.Now())
				<-start
				if _, err := h.RecordAnswer(t.Context(), mine); err != nil {
					t.Errorf("RecordAnswer(%s) = %v", mine.ID, err)
				}
				got, err := h.RecordAnswer(t.Context(), shared)
				errs[i], entries[i] = err, got.Entry
			})
		}
		close(start)
		wg.Wait()
		recorded := 0
		for i, err := range errs {
			switch {
			case err == nil:
				recorded++
			case errors.Is(err, koe.ErrDuplicate):
			default:
				t.Errorf("RecordAnswer %d = %v", i, err)
			}
			if entries[i] != entries[0] || entries[i] == "" {
				t.Errorf("RecordAnswer %d returned entry %q, others %q", i, entries[i], entries[0])
			}
		}
		if recorded != 1 {
			t.Errorf("%d records of the shared id succeeded, want 1", recorded)
		}
		got := mustAnswers(t, handles[0], time.Time{}, time.Time{})
		want := []string{"a-cc", "a-cc-0", "a-cc-1", "a-cc-2", "a-cc-3", "a-cc-4", "a-cc-5", "a-cc-6", "a-cc-7"}
		if ids := answerIDs(got); !reflect.DeepEqual(ids, want) {
			t.Errorf("Answers = %v, want %v", ids, want)
		}
		if len(got) > 0 && got[0].Entry != entries[0] {
			t.Errorf("stored shared answer has entry %q, callers got %q", got[0].Entry, entries[0])
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		l := newLog(t)(t, clk.Now)
		mustRecord(t, l, minimalAnswer("a-kept", user("faq-ctx"), "e", clk.Now()))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := l.RecordAnswer(ctx, minimalAnswer("a-ctx", user("faq-ctx"), "e", clk.Now())); !errors.Is(err, context.Canceled) {
			t.Errorf("RecordAnswer(cancelled) = %v, want context.Canceled", err)
		}
		if err := l.MarkAnswer(ctx, "a-kept", ptr(false), "C-x"); !errors.Is(err, context.Canceled) {
			t.Errorf("MarkAnswer(cancelled) = %v, want context.Canceled", err)
		}
		if _, err := l.Answers(ctx, time.Time{}, time.Time{}); !errors.Is(err, context.Canceled) {
			t.Errorf("Answers(cancelled) = %v, want context.Canceled", err)
		}
		got := mustAnswers(t, l, time.Time{}, time.Time{})
		if len(got) != 1 || got[0].ID != "a-kept" || got[0].Helpful != nil || got[0].CaseRef != "" {
			t.Errorf("after cancelled calls: Answers =\n%s\nwant a-kept unmarked", fmtAnswers(got))
		}
	})
}

// minimalAnswer has only what every answer has.
func minimalAnswer(id string, u koe.UserID, entry string, at time.Time) koe.FAQAnswer {
	return koe.FAQAnswer{ID: id, User: u, Entry: entry, At: at}
}

// fullAnswer sets every field.
func fullAnswer(id string, u koe.UserID, at time.Time) koe.FAQAnswer {
	return koe.FAQAnswer{
		ID:         id,
		User:       u,
		Entry:      "motor.vehicle-change",
		Lang:       koe.English,
		Rank:       2,
		Confidence: 0.8732104958271,
		At:         at,
		Helpful:    ptr(false),
		CaseRef:    "C-20261122-7F3K",
	}
}

func ptr[T any](v T) *T { return &v }

// normAnswer makes At comparable with reflect.DeepEqual.
func normAnswer(a koe.FAQAnswer) koe.FAQAnswer {
	a.At = a.At.UTC().Round(0)
	return a
}

func normAnswers(as []koe.FAQAnswer) []koe.FAQAnswer {
	var out []koe.FAQAnswer
	for _, a := range as {
		out = append(out, normAnswer(a))
	}
	return out
}

// fmtAnswers shows answers with Helpful dereferenced.
func fmtAnswers(as []koe.FAQAnswer) string {
	s := ""
	for _, a := range as {
		h := "nil"
		if a.Helpful != nil {
			h = fmt.Sprint(*a.Helpful)
		}
		s += fmt.Sprintf("  %s user=%s entry=%s lang=%s rank=%d conf=%v at=%s helpful=%s case=%q\n",
			a.ID, a.User, a.Entry, a.Lang, a.Rank, a.Confidence, a.At.UTC().Format(time.RFC3339Nano), h, a.CaseRef)
	}
	return s
}

func answerIDs(as []koe.FAQAnswer) []string {
	var ids []string
	for _, a := range as {
		ids = append(ids, a.ID)
	}
	return ids
}

func mustRecord(t *testing.T, l koe.FAQLog, a koe.FAQAnswer) koe.FAQAnswer {
	t.Helper()
	got, err := l.RecordAnswer(t.Context(), a)
	if err != nil {
		t.Fatalf("RecordAnswer(%s) = %v", a.ID, err)
	}
	return got
}

func mustMark(t *testing.T, l koe.FAQLog, id string, helpful *bool, caseRef string) {
	t.Helper()
	if err := l.MarkAnswer(t.Context(), id, helpful, caseRef); err != nil {
		t.Fatalf("MarkAnswer(%s) = %v", id, err)
	}
}

func mustAnswers(t *testing.T, l koe.FAQLog, from, to time.Time) []koe.FAQAnswer {
	t.Helper()
	got, err := l.Answers(t.Context(), from, to)
	if err != nil {
		t.Fatalf("Answers(%v, %v) = %v", from, to, err)
	}
	if got == nil {
		t.Fatalf("Answers(%v, %v) = nil slice, want non-nil", from, to)
	}
	return got
}
