package loadtest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"
)

// Sink stands in for the LINE Messaging API under load: it accepts reply,
// push and loading requests, counts replies and pushes, and does nothing
// else, so every target is measured against the same cheap peer.
type Sink struct {
	srv    *httptest.Server
	count  atomic.Int64
	mu     sync.Mutex
	lastAt time.Time
	notify chan struct{}
}

// NewSink starts a sink on 127.0.0.1.
func NewSink() *Sink {
	s := &Sink{notify: make(chan struct{}, 1)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the sink's base URL (use it as LINE_API_BASE_URL).
func (s *Sink) URL() string { return s.srv.URL }

// Close stops the sink.
func (s *Sink) Close() { s.srv.Close() }

func (s *Sink) serve(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	switch r.URL.Path {
	case "/v2/bot/message/reply", "/v2/bot/message/push":
		s.mu.Lock()
		s.lastAt = time.Now()
		s.mu.Unlock()
		s.count.Add(1)
		select {
		case s.notify <- struct{}{}:
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"sentMessages":[{"id":"1","quoteToken":"q"}]}`)
	case "/v2/bot/chat/loading/start":
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{}`)
	default:
		http.NotFound(w, r)
	}
}

// Count is how many replies and pushes the sink has accepted.
func (s *Sink) Count() int64 { return s.count.Load() }

// LastAt is when the latest reply or push arrived.
func (s *Sink) LastAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastAt
}

// WaitFor blocks until Count reaches n or ctx ends.
func (s *Sink) WaitFor(ctx context.Context, n int64) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for s.Count() < n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.notify:
		case <-t.C:
		}
	}
	return nil
}
