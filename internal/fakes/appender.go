package fakes

import (
	"context"
	"slices"
	"sync"

	"github.com/koehq/koe"
)

// Appender is the Append side of koe.Inbox: it keeps appended messages in
// order and skips an id it has seen, as the stores do within their dedupe
// window. Err, when set, is returned by Append (nothing is kept). It is
// safe for concurrent use; set Err only while no Append runs.
type Appender struct {
	Err  error
	mu   sync.Mutex
	msgs []koe.Message
	seen map[string]bool
}

// Append keeps the messages whose ids are new and returns how many.
func (a *Appender) Append(_ context.Context, msgs ...koe.Message) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Err != nil {
		return 0, a.Err
	}
	if a.seen == nil {
		a.seen = map[string]bool{}
	}
	n := 0
	for _, m := range msgs {
		if a.seen[m.ID] {
			continue
		}
		a.seen[m.ID] = true
		a.msgs = append(a.msgs, m)
		n++
	}
	return n, nil
}

// Messages returns the kept messages in the order appended.
func (a *Appender) Messages() []koe.Message {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.msgs)
}
