package fakes

import (
	"context"
	"sync"

	"github.com/koehq/koe"
)

var _ koe.Sender = (*Sender)(nil)

// Sender is a koe.Sender that records every batch it accepts. It is safe
// for concurrent use.
type Sender struct {
	mu    sync.Mutex
	sent  []koe.Outbound
	err   error
	tries int
}

// Send records a copy of out and returns nil, or returns the error set by
// SetErr without recording. A cancelled context returns its error.
func (s *Sender) Send(ctx context.Context, out koe.Outbound) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tries++
	if s.err != nil {
		return s.err
	}
	s.sent = append(s.sent, CloneOutbound(out))
	return nil
}

// SetErr makes later sends fail with err (nil: succeed again).
func (s *Sender) SetErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// Sent returns copies of the recorded batches, oldest first.
func (s *Sender) Sent() []koe.Outbound {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]koe.Outbound, len(s.sent))
	for i, o := range s.sent {
		out[i] = CloneOutbound(o)
	}
	return out
}

// Last returns the most recent recorded batch; ok is false when none.
func (s *Sender) Last() (out koe.Outbound, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sent) == 0 {
		return koe.Outbound{}, false
	}
	return CloneOutbound(s.sent[len(s.sent)-1]), true
}

// Attempts returns how many times Send was called, failed calls included.
func (s *Sender) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tries
}

// Reset forgets the recorded batches and attempts.
func (s *Sender) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent, s.tries = nil, 0
}
