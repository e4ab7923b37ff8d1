package dialogs_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
)

// clock is a settable clock shared by the engine and the fake store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// counter makes deterministic ids: prefix1, prefix2, …
func counter(prefix string) func() string {
	var mu sync.Mutex
	n := 0
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("%s%d", prefix, n)
	}
}

// voiceRecorder is a dialogs.VoiceSink that records voices, once per key,
// and can be told to fail.
type voiceRecorder struct {
	mu     sync.Mutex
	voices []recordedVoice
	keys   map[string]bool
	calls  int
	err    error
	// answer is what AddVoice replies (nil: nothing to say).
	answer []koe.Reply
}

type recordedVoice struct {
	Meta  dialogs.EffectMeta
	Voice dialogs.VoiceEffect
}

func (r *voiceRecorder) AddVoice(ctx context.Context, meta dialogs.EffectMeta, v dialogs.VoiceEffect) ([]koe.Reply, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.err != nil {
		return nil, r.err
	}
	if r.keys == nil {
		r.keys = make(map[string]bool)
	}
	if r.keys[meta.Key] {
		return r.answer, nil
	}
	r.keys[meta.Key] = true
	r.voices = append(r.voices, recordedVoice{meta, v})
	return r.answer, nil
}

func (r *voiceRecorder) Voices() []recordedVoice {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recordedVoice(nil), r.voices...)
}

func (r *voiceRecorder) Calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

func (r *voiceRecorder) SetErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

// lineLimits is a koe.Sender wrapper that fails the test when a batch breaks
// LINE's limits, then passes it on.
type lineLimits struct {
	t    testing.TB
	next koe.Sender
}

func (l lineLimits) Send(ctx context.Context, out koe.Outbound) error {
	l.t.Helper()
	checkLineLimits(l.t, out)
	return l.next.Send(ctx, out)
}

func checkLineLimits(t testing.TB, out koe.Outbound) {
	t.Helper()
	if n := len(out.Replies); n == 0 || n > 5 {
		t.Errorf("outbound %s has %d replies; LINE takes 1 to 5", out.ID, n)
	}
	for i, r := range out.Replies {
		if r.Text == "" && r.Card == nil {
			t.Errorf("outbound %s reply %d is empty", out.ID, i)
		}
		if utf8.RuneCountInString(r.Text) > 5000 {
			t.Errorf("outbound %s reply %d text is too long", out.ID, i)
		}
		if len(r.QuickReplies) > 0 && i != len(out.Replies)-1 {
			t.Errorf("outbound %s reply %d carries quick replies but is not the last", out.ID, i)
		}
		if len(r.QuickReplies) > 13 {
			t.Errorf("outbound %s reply %d has %d quick replies; LINE takes 13", out.ID, i, len(r.QuickReplies))
		}
		for _, a := range r.QuickReplies {
			if n := utf8.RuneCountInString(a.Label); n == 0 || n > 20 {
				t.Errorf("quick reply label %q has %d characters; LINE takes 1 to 20", a.Label, n)
			}
			if len(a.Data) > 300 {
				t.Errorf("postback data %q longer than 300 bytes", a.Data)
			}
		}
	}
}
