package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
)

// VoiceFactory is Factory for a koe.VoiceStore alone (a fake, or a backend
// seen through that port). Every call within one test returns a store over
// the same data.
type VoiceFactory func(t *testing.T, now func() time.Time) koe.VoiceStore

// TestVoices runs the koe.VoiceStore conformance tests on a backend.
func TestVoices(t *testing.T, newBackend func(t *testing.T) Factory, f Features) {
	TestVoiceStore(t, func(t *testing.T) VoiceFactory {
		open := newBackend(t)
		return func(t *testing.T, now func() time.Time) koe.VoiceStore { return open(t, now) }
	}, f)
}

// TestVoiceStore checks koe.VoiceStore: idempotent adds and the filtered,
// newest-first listing.
//
// Choices the port's comments leave open, which the suite fixes: a voice
// must have an ID and a valid User (ErrInvalid otherwise, nothing stored);
// every field is stored as given, times to the nanosecond (an empty Urgency
// may come back nil); Voices orders by At, newest first, ties by ID
// descending, returns an empty non-nil slice when nothing matches, and
// refuses a negative Limit with ErrInvalid. Every method given a cancelled
// context returns an error that wraps context.Canceled.
func TestVoiceStore(t *testing.T, newStore func(t *testing.T) VoiceFactory, f Features) {
	t.Run("RoundTrip", func(t *testing.T) {
		// Every field survives, also through a second handle; empty
		// optional fields come back empty.
		t.Parallel()
		clk := NewClock(t0)
		open := newStore(t)
		s := open(t, clk.Now)
		full := fullVoice("v-full", user("voice-full"), clk.Now())
		minimal := minimalVoice("v-min", user("voice-min"), clk.Now().Add(-time.Minute))
		for _, v := range []koe.Voice{full, minimal} {
			got, err := s.AddVoice(t.Context(), v)
			if err != nil {
				t.Fatalf("AddVoice(%s) = %v", v.ID, err)
			}
			if !reflect.DeepEqual(normVoice(got), normVoice(v)) {
				t.Errorf("AddVoice returned\n%+v\nwant\n%+v", got, v)
			}
		}
		for name, st := range map[string]koe.VoiceStore{"same handle": s, "second handle": open(t, clk.Now)} {
			got := mustVoices(t, st, koe.VoiceFilter{})
			want := []koe.Voice{normVoice(full), normVoice(minimal)}
			if len(got) != 2 || !reflect.DeepEqual([]koe.Voice{normVoice(got[0]), normVoice(got[1])}, want) {
				t.Errorf("%s: Voices =\n%+v\nwant\n%+v", name, got, want)
			}
			for _, v := range []koe.Voice{full, minimal} {
				got, err := st.GetVoice(t.Context(), v.ID)
				if err != nil || !reflect.DeepEqual(normVoice(got), normVoice(v)) {
					t.Errorf("%s: GetVoice(%s) = %+v, %v; want %+v", name, v.ID, got, err, v)
				}
			}
			if _, err := st.GetVoice(t.Context(), "v-missing"); !errors.Is(err, koe.ErrNotFound) {
				t.Errorf("%s: GetVoice(missing) = %v, want ErrNotFound", name, err)
			}
		}
	})

	t.Run("Duplicate", func(t *testing.T) {
		// A retried add (same ID, maybe other content) yields the stored
		// voice and ErrDuplicate; nothing changes.
		t.Parallel()
		clk := NewClock(t0)
		open := newStore(t)
		s := open(t, clk.Now)
		u := user("voice-dup")
		first := mustAddVoice(t, s, fullVoice("v-dup", u, clk.Now()))
		clk.Advance(time.Minute)
		for _, tc := range []struct {
			name string
			v    koe.Voice
		}{
			{"same voice again", fullVoice("v-dup", u, t0)},
			{"other content", func() koe.Voice {
				v := minimalVoice("v-dup", user("voice-dup-other"), clk.Now())
				v.Kind, v.Text = koe.VoicePraise, "ありがとう"
				return v
			}()},
		} {
			got, err := open(t, clk.Now).AddVoice(t.Context(), tc.v)
			if !errors.Is(err, koe.ErrDuplicate) {
				t.Fatalf("%s: AddVoice = %v, want ErrDuplicate", tc.name, err)
			}
			if !reflect.DeepEqual(normVoice(got), normVoice(first)) {
				t.Errorf("%s: AddVoice returned\n%+v\nwant the stored\n%+v", tc.name, got, first)
			}
		}
		got := mustVoices(t, s, koe.VoiceFilter{})
		if len(got) != 1 || !reflect.DeepEqual(normVoice(got[0]), normVoice(first)) {
			t.Errorf("Voices after duplicates = %+v, want only the first", got)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newStore(t)(t, clk.Now)
		for _, tc := range []struct {
			name string
			edit func(v *koe.Voice)
		}{
			{"no id", func(v *koe.Voice) { v.ID = "" }},
			{"no user", func(v *koe.Voice) { v.User = "" }},
			{"user without channel", func(v *koe.Voice) { v.User = "U1" }},
		} {
			v := minimalVoice("v-inv", user("voice-inv"), clk.Now())
			tc.edit(&v)
			if _, err := s.AddVoice(t.Context(), v); !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("%s: AddVoice = %v, want ErrInvalid", tc.name, err)
			}
		}
		if got := mustVoices(t, s, koe.VoiceFilter{}); len(got) != 0 {
			t.Errorf("Voices after refused adds = %v, want none", voiceIDs(got))
		}
		if _, err := s.Voices(t.Context(), koe.VoiceFilter{Limit: -1}); !errors.Is(err, koe.ErrInvalid) {
			t.Errorf("Voices(Limit -1) = %v, want ErrInvalid", err)
		}
		mustAddVoice(t, s, minimalVoice("v-inv", user("voice-inv"), clk.Now()))
	})

	t.Run("Filter", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		open := newStore(t)
		s := open(t, clk.Now)
		u := user("voice-filter")
		at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
		tokyo := time.FixedZone("JST", 9*60*60)
		// Added out of order of At; "f-3a" and "f-3b" share an instant, and
		// "f-4" is given in another zone.
		for _, v := range []koe.Voice{
			kindVoice("f-2", u, koe.VoiceComplaint, at(2)),
			kindVoice("f-0", u, koe.VoicePraise, at(0)),
			kindVoice("f-3b", u, koe.VoiceComplaint, at(3)),
			kindVoice("f-4", u, koe.VoiceInquiry, at(4).In(tokyo)),
			kindVoice("f-1", u, koe.VoiceComplaint, at(1)),
			kindVoice("f-3a", u, koe.VoicePraise, at(3)),
			kindVoice("f-old", u, koe.VoiceRequest, at(-24*60)),
		} {
			mustAddVoice(t, s, v)
		}
		s2 := open(t, clk.Now)
		for _, tc := range []struct {
			name string
			f    koe.VoiceFilter
			want []string
		}{
			{"all", koe.VoiceFilter{}, []string{"f-4", "f-3b", "f-3a", "f-2", "f-1", "f-0", "f-old"}},
			{"from is inclusive", koe.VoiceFilter{From: at(2)}, []string{"f-4", "f-3b", "f-3a", "f-2"}},
			{"from a nanosecond later", koe.VoiceFilter{From: at(2).Add(time.Nanosecond)}, []string{"f-4", "f-3b", "f-3a"}},
			{"to is exclusive", koe.VoiceFilter{To: at(1)}, []string{"f-0", "f-old"}},
			{"to a nanosecond later", koe.VoiceFilter{To: at(1).Add(time.Nanosecond)}, []string{"f-1", "f-0", "f-old"}},
			{"range", koe.VoiceFilter{From: at(1), To: at(4)}, []string{"f-3b", "f-3a", "f-2", "f-1"}},
			{"range in another zone", koe.VoiceFilter{From: at(1).In(tokyo), To: at(4).In(tokyo)}, []string{"f-3b", "f-3a", "f-2", "f-1"}},
			{"empty range", koe.VoiceFilter{From: at(3), To: at(3)}, nil},
			{"kind", koe.VoiceFilter{Kind: koe.VoiceComplaint}, []string{"f-3b", "f-2", "f-1"}},
			{"kind and range", koe.VoiceFilter{Kind: koe.VoicePraise, From: at(0), To: at(10)}, []string{"f-3a", "f-0"}},
			{"kind nobody has", koe.VoiceFilter{Kind: koe.VoiceConsultation}, nil},
			{"limit", koe.VoiceFilter{Limit: 3}, []string{"f-4", "f-3b", "f-3a"}},
			{"limit above count", koe.VoiceFilter{Limit: 100}, []string{"f-4", "f-3b", "f-3a", "f-2", "f-1", "f-0", "f-old"}},
			{"limit with kind and range", koe.VoiceFilter{Kind: koe.VoiceComplaint, From: at(0), To: at(3), Limit: 1}, []string{"f-2"}},
		} {
			got := mustVoices(t, s2, tc.f)
			if ids := voiceIDs(got); !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("%s: Voices = %v, want %v", tc.name, ids, tc.want)
			}
			for _, v := range got {
				if v.User != u || v.Text == "" {
					t.Errorf("%s: voice %s came back without its user or text", tc.name, v.ID)
				}
			}
		}
	})

	t.Run("ConcurrentAddSameID", func(t *testing.T) {
		// Simultaneous retries of one voice: exactly one is stored and
		// every caller gets it.
		t.Parallel()
		const n = 8
		clk := NewClock(t0)
		open := newStore(t)
		handles := make([]koe.VoiceStore, n)
		for i := range handles {
			handles[i] = open(t, clk.Now)
		}
		errs := make([]error, n)
		texts := make([]string, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, h := range handles {
			wg.Go(func() {
				v := minimalVoice("v-cc", user("voice-cc"), clk.Now())
				v.Text = string(rune('a' + i))
				<-start
				got, err := h.AddVoice(t.Context(), v)
				errs[i], texts[i] = err, got.Text
			})
		}
		close(start)
		wg.Wait()
		added := 0
		for i, err := range errs {
			switch {
			case err == nil:
				added++
			case errors.Is(err, koe.ErrDuplicate):
			default:
				t.Errorf("AddVoice %d = %v", i, err)
			}
			if texts[i] != texts[0] || texts[i] == "" {
				t.Errorf("AddVoice %d returned text %q, others %q", i, texts[i], texts[0])
			}
		}
		if added != 1 {
			t.Errorf("%d adds succeeded, want 1", added)
		}
		if got := mustVoices(t, handles[0], koe.VoiceFilter{}); len(got) != 1 || got[0].Text != texts[0] {
			t.Errorf("Voices = %+v, want the one winner", got)
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newStore(t)(t, clk.Now)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.AddVoice(ctx, minimalVoice("v-ctx", user("voice-ctx"), clk.Now())); !errors.Is(err, context.Canceled) {
			t.Errorf("AddVoice(cancelled) = %v, want context.Canceled", err)
		}
		if _, err := s.Voices(ctx, koe.VoiceFilter{}); !errors.Is(err, context.Canceled) {
			t.Errorf("Voices(cancelled) = %v, want context.Canceled", err)
		}
		if got := mustVoices(t, s, koe.VoiceFilter{}); len(got) != 0 {
			t.Errorf("after cancelled add: Voices = %v, want none", voiceIDs(got))
		}
	})
}

// minimalVoice has only what every voice has.
func minimalVoice(id string, u koe.UserID, at time.Time) koe.Voice {
	return koe.Voice{
		ID:        id,
		User:      u,
		Source:    "free_text",
		Text:      "text of " + id,
		Kind:      koe.VoiceRequest,
		Topic:     koe.TopicOther,
		Sentiment: "neutral",
		At:        at,
	}
}

func kindVoice(id string, u koe.UserID, k koe.VoiceKind, at time.Time) koe.Voice {
	v := minimalVoice(id, u, at)
	v.Kind = k
	return v
}

// fullVoice sets every field.
func fullVoice(id string, u koe.UserID, at time.Time) koe.Voice {
	return koe.Voice{
		ID:         id,
		User:       u,
		Source:     "accident",
		Text:       "担当者の対応がひどい。\n電話がつながらない 😠",
		Kind:       koe.VoiceComplaint,
		Topic:      koe.TopicClaims,
		Sentiment:  "negative",
		Urgency:    []string{"legal", "regulator"},
		Confidence: 0.8732,
		Model:      "clf-2026.11.1",
		CaseRef:    "C-20261122-7F3K",
		At:         at,
	}
}

// normVoice makes At comparable with reflect.DeepEqual and an empty Urgency
// nil.
func normVoice(v koe.Voice) koe.Voice {
	v.At = v.At.UTC().Round(0)
	if len(v.Urgency) == 0 {
		v.Urgency = nil
	}
	return v
}

func voiceIDs(vs []koe.Voice) []string {
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.ID)
	}
	return ids
}

func mustAddVoice(t *testing.T, s koe.VoiceStore, v koe.Voice) koe.Voice {
	t.Helper()
	got, err := s.AddVoice(t.Context(), v)
	if err != nil {
		t.Fatalf("AddVoice(%s) = %v", v.ID, err)
	}
	return got
}

func mustVoices(t *testing.T, s koe.VoiceStore, f koe.VoiceFilter) []koe.Voice {
	t.Helper()
	got, err := s.Voices(t.Context(), f)
	if err != nil {
		t.Fatalf("Voices(%+v) = %v", f, err)
	}
	if got == nil {
		t.Fatalf("Voices(%+v) = nil slice, want non-nil", f)
	}
	return got
}
