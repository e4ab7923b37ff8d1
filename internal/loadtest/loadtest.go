// Package loadtest drives webhook load at a LINE endpoint on loopback and
// measures what an operator cares about: end-to-end events per second
// (webhook sent → reply received by the LINE API) and webhook ack latency.
//
// It holds the three parts of the intake benchmark (cmd/koe's
// BenchmarkIntake): the load generator, a counting stand-in for the LINE
// Messaging API, and a bare receiver that only verifies, parses and replies
// through the SDK, the baseline Koe is compared against.
package loadtest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes one load run. Every event is a text message from one of
// Users users, sent in its own webhook request (as LINE does for one-to-one
// chats), by Concurrency senders at once.
type Config struct {
	WebhookURL  string
	Secret      string
	Events      int
	Users       int
	Concurrency int
	// RunID makes event ids unique across runs against the same store.
	RunID string
	// Timeout bounds the whole run (default 2 minutes).
	Timeout time.Duration
}

// Result is what one run measured.
type Result struct {
	Events       int
	Elapsed      time.Duration // first request sent → last reply seen by the sink
	EventsPerSec float64
	AckP50       time.Duration // webhook request → 200
	AckP99       time.Duration
	Failed       int // webhook requests that did not answer 200
}

func (r Result) String() string {
	return fmt.Sprintf("%d events in %v: %.0f events/s, ack p50 %v p99 %v, %d failed",
		r.Events, r.Elapsed.Round(time.Millisecond), r.EventsPerSec, r.AckP50.Round(10*time.Microsecond),
		r.AckP99.Round(10*time.Microsecond), r.Failed)
}

// Run sends the load and waits until sink has seen one reply per event.
func Run(ctx context.Context, cfg Config, sink *Sink) (Result, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Concurrency, MaxConnsPerHost: cfg.Concurrency},
	}
	defer client.CloseIdleConnections()

	bodies := make([][]byte, cfg.Events)
	sigs := make([]string, cfg.Events)
	for i := range bodies {
		bodies[i] = textWebhook(cfg.RunID, i, fmt.Sprintf("U%08d", i%cfg.Users))
		sigs[i] = sign(cfg.Secret, bodies[i])
	}
	base := sink.Count()
	acks := make([]time.Duration, cfg.Events)
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.Concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.Events || ctx.Err() != nil {
					return
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, cfg.WebhookURL, bytes.NewReader(bodies[i]))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Line-Signature", sigs[i])
				t0 := time.Now()
				resp, err := client.Do(req)
				acks[i] = time.Since(t0)
				if err != nil {
					failed.Add(1)
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	want := base + int64(cfg.Events) - failed.Load()
	if err := sink.WaitFor(ctx, want); err != nil {
		return Result{}, fmt.Errorf("loadtest: %d of %d replies seen: %w", sink.Count()-base, want-base, err)
	}
	elapsed := sink.LastAt().Sub(start)
	slices.Sort(acks)
	return Result{
		Events:       cfg.Events,
		Elapsed:      elapsed,
		EventsPerSec: float64(cfg.Events) / elapsed.Seconds(),
		AckP50:       percentile(acks, 0.50),
		AckP99:       percentile(acks, 0.99),
		Failed:       int(failed.Load()),
	}, nil
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// textWebhook is a LINE webhook body with one text message event.
func textWebhook(run string, i int, user string) []byte {
	id := fmt.Sprintf("%s-%08d", run, i)
	body, _ := json.Marshal(map[string]any{
		"destination": "Ubot",
		"events": []any{map[string]any{
			"type":            "message",
			"mode":            "active",
			"timestamp":       time.Now().UnixMilli(),
			"webhookEventId":  id,
			"deliveryContext": map[string]any{"isRedelivery": false},
			"replyToken":      "rt-" + id,
			"source":          map[string]any{"type": "user", "userId": user},
			"message":         map[string]any{"type": "text", "id": id, "quoteToken": "q", "text": "こんにちは"},
		}},
	})
	return body
}

func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Median returns the median of xs (the mean of the middle two for even n).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}
