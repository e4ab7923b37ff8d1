// Package followup runs the durable follow-up queue: a Worker claims jobs
// from koe.Queue and hands each to the handler registered for its kind,
// with a timeout, panic recovery, retries with backoff and dead-lettering.
// Delivery is at least once, so handlers must be idempotent by Job.ID; a job
// is completed only after its handler succeeded.
package followup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/koehq/koe"
)

// Handler does the work of one kind of job. It must be idempotent by
// job.ID. An error wrapping koe.ErrInvalid is permanent: the job goes to the
// dead letters at once instead of being retried.
type Handler interface {
	HandleJob(ctx context.Context, job koe.Job) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, job koe.Job) error

// HandleJob calls f.
func (f HandlerFunc) HandleJob(ctx context.Context, job koe.Job) error { return f(ctx, job) }

// Config configures a Worker; zero values take the defaults on each field.
type Config struct {
	Queue koe.Queue
	// Handlers by Job.Kind. A job of an unknown kind is dead-lettered.
	Handlers map[string]Handler
	// Consumer names this process (must differ between replicas).
	Consumer string
	// Concurrency bounds jobs in flight (default 4).
	Concurrency int
	// Timeout bounds one handler call (default 30s); LeaseTTL must exceed it
	// (default 2m).
	Timeout  time.Duration
	LeaseTTL time.Duration
	// MaxAttempts before dead-lettering (default 10).
	MaxAttempts int
	// Backoff before attempt n+1 (default exponential from 2s, capped at
	// 10m, with jitter).
	Backoff func(attempt int) time.Duration
	// PollInterval when idle (default 500ms); Notify wakes the worker early.
	PollInterval time.Duration
	Registerer   prometheus.Registerer // optional
	Logger       *slog.Logger
}

// Worker consumes the follow-up queue.
type Worker struct {
	cfg       Config
	log       *slog.Logger
	wake      chan struct{}
	running   atomic.Bool
	processed *prometheus.CounterVec
}

// New checks cfg and fills defaults.
func New(cfg Config) (*Worker, error) {
	if cfg.Queue == nil || cfg.Consumer == "" {
		return nil, fmt.Errorf("followup: queue and consumer are required: %w", koe.ErrInvalid)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 2 * time.Minute
	}
	if cfg.LeaseTTL <= cfg.Timeout {
		return nil, fmt.Errorf("followup: lease %v must exceed timeout %v: %w", cfg.LeaseTTL, cfg.Timeout, koe.ErrInvalid)
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.Backoff == nil {
		cfg.Backoff = func(n int) time.Duration {
			d := min(2*time.Second<<min(n-1, 12), 10*time.Minute)
			return d/2 + rand.N(d/2+1)
		}
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 500 * time.Millisecond
	}
	w := &Worker{cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1)}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	w.processed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "koe_jobs_processed_total",
		Help: "Follow-up jobs handled, by kind and result (ok, retry, dead).",
	}, []string{"kind", "result"})
	if reg := cfg.Registerer; reg != nil {
		reg.MustRegister(w.processed)
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "koe_queue_depth", Help: "Follow-up jobs waiting or in progress.",
		}, func() float64 { d, _ := w.stats(); return float64(d) }))
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "koe_queue_oldest_seconds", Help: "Age of the oldest follow-up job not yet completed.",
		}, func() float64 { _, a := w.stats(); return a.Seconds() }))
	}
	return w, nil
}

func (w *Worker) stats() (int, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	d, a, err := w.cfg.Queue.QueueStats(ctx)
	if err != nil {
		return -1, 0
	}
	return d, a
}

// Notify wakes the worker to claim now (after an enqueue). Never blocks.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Running reports whether Run is claiming jobs.
func (w *Worker) Running() bool { return w.running.Load() }

// Run claims and handles jobs until ctx is cancelled, then waits for the
// jobs in flight to finish.
func (w *Worker) Run(ctx context.Context) error {
	w.running.Store(true)
	defer w.running.Store(false)
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, w.cfg.Concurrency)
	done := make(chan struct{}, w.cfg.Concurrency)
	poll := time.NewTimer(w.cfg.PollInterval)
	defer poll.Stop()
	for {
		delay := w.cfg.PollInterval
		free := cap(slots) - len(slots)
		var claimed []koe.JobDelivery
		if free > 0 {
			var err error
			claimed, err = w.cfg.Queue.ClaimJobs(ctx, w.cfg.Consumer, free, w.cfg.LeaseTTL)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				w.log.Error("queue claim failed", "err", err)
				delay = 5 * w.cfg.PollInterval
			}
		}
		for _, d := range claimed {
			slots <- struct{}{}
			wg.Go(func() {
				w.process(context.WithoutCancel(ctx), d)
				<-slots
				select {
				case done <- struct{}{}:
				default:
				}
			})
		}
		if free > 0 && len(claimed) == free {
			continue
		}
		poll.Reset(delay)
		select {
		case <-ctx.Done():
			return nil
		case <-w.wake:
		case <-done:
		case <-poll.C:
		}
	}
}

func (w *Worker) process(ctx context.Context, d koe.JobDelivery) {
	job := d.Job
	// Built only when a failure is logged: most jobs log nothing.
	log := func() *slog.Logger { return w.log.With("job", job.ID, "kind", job.Kind, "attempt", d.Attempt) }
	h, ok := w.cfg.Handlers[job.Kind]
	var err error
	if !ok {
		err = fmt.Errorf("followup: no handler for kind %q: %w", job.Kind, koe.ErrInvalid)
	} else {
		hctx, cancel := context.WithTimeout(WithAttempt(ctx, d.Attempt), w.cfg.Timeout)
		err = safeHandle(hctx, h, job)
		cancel()
	}
	result := "ok"
	switch {
	case err == nil:
		if cerr := w.cfg.Queue.Complete(ctx, d); cerr != nil {
			log().Warn("job done but not completed; it will run again", "err", cerr)
		}
	case errors.Is(err, koe.ErrInvalid) || d.Attempt >= w.cfg.MaxAttempts:
		result = "dead"
		log().Error("job failed for good; dead-lettered", "err", err)
		if derr := w.cfg.Queue.DeadLetter(ctx, d, err.Error()); derr != nil {
			log().Error("dead-lettering failed", "err", derr)
		}
	default:
		result = "retry"
		wait := w.cfg.Backoff(d.Attempt)
		log().Warn("job failed; will retry", "retry_in", wait, "err", err)
		if rerr := w.cfg.Queue.Retry(ctx, d, wait); rerr != nil {
			log().Error("job retry failed", "err", rerr)
		}
	}
	w.processed.WithLabelValues(job.Kind, result).Inc()
}

type attemptKey struct{}

// Attempt returns which delivery of its job a handler is running (1 for the
// first). A handler whose side effect cannot be made idempotent by the
// platform looks for its earlier effect when Attempt > 1.
func Attempt(ctx context.Context) int {
	if n, ok := ctx.Value(attemptKey{}).(int); ok {
		return n
	}
	return 1
}

// WithAttempt returns ctx as a handler sees it on delivery n of its job, for
// running handlers outside a Worker (tests, tools).
func WithAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey{}, n)
}

func safeHandle(ctx context.Context, h Handler, job koe.Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("followup: handler panic: %v", r)
		}
	}()
	return h.HandleJob(ctx, job)
}
