package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/koehq/koe"
)

// DispatcherConfig configures a Dispatcher. Zero values take the defaults
// named on each field.
type DispatcherConfig struct {
	Inbox   koe.Inbox
	Handler koe.Handler
	// Owner names this process in leases; it must differ between replicas.
	Owner string
	// Workers bounds how many events are processed at once (default 32).
	Workers int
	// LeaseTTL is how long a claimed event is reserved before another
	// process may take it over (default 2m). It must exceed HandleTimeout.
	LeaseTTL time.Duration
	// HandleTimeout bounds one Handle call (default 60s).
	HandleTimeout time.Duration
	// PollInterval is how often an idle dispatcher looks for events appended
	// by other replicas or whose leases ran out (default 250ms). Events
	// appended in this process wake it at once through Notify.
	PollInterval time.Duration
	// MaxAttempts is how often an event is tried before it is buried in the
	// dead letters (default 8).
	MaxAttempts int
	// RetryBackoff gives the wait before attempt n+1 (default exponential
	// from 1s, capped at 5m, with jitter).
	RetryBackoff func(attempt int) time.Duration
	// Loading, if set, is called when handling an event takes longer than
	// LoadingAfter (default 800ms), so the channel can show that a reply is
	// coming.
	Loading      func(ctx context.Context, user koe.UserID)
	LoadingAfter time.Duration
	Metrics      *Metrics // optional
	Logger       *slog.Logger
	Now          func() time.Time
}

// Dispatcher moves events from the inbox to the handler: at least once, one
// event of a user at a time in the user's order (the inbox's per-user leases
// hold that across replicas), with bounded concurrency.
type Dispatcher struct {
	cfg     DispatcherConfig
	log     *slog.Logger
	wake    chan struct{}
	running atomic.Bool
}

// NewDispatcher checks cfg and fills in defaults.
func NewDispatcher(cfg DispatcherConfig) (*Dispatcher, error) {
	if cfg.Inbox == nil || cfg.Handler == nil {
		return nil, errors.New("dispatcher: inbox and handler are required")
	}
	if cfg.Owner == "" {
		return nil, errors.New("dispatcher: owner is required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 32
	}
	if cfg.HandleTimeout <= 0 {
		cfg.HandleTimeout = 60 * time.Second
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 2 * time.Minute
	}
	if cfg.LeaseTTL <= cfg.HandleTimeout {
		return nil, fmt.Errorf("dispatcher: lease TTL %v must exceed handle timeout %v", cfg.LeaseTTL, cfg.HandleTimeout)
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 250 * time.Millisecond
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.RetryBackoff == nil {
		cfg.RetryBackoff = defaultBackoff
	}
	if cfg.LoadingAfter <= 0 {
		cfg.LoadingAfter = 800 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{cfg: cfg, log: log, wake: make(chan struct{}, 1)}, nil
}

func defaultBackoff(attempt int) time.Duration {
	d := time.Second << min(attempt-1, 9)
	d = min(d, 5*time.Minute)
	return d/2 + rand.N(d/2+1)
}

// Notify wakes the dispatcher to look for new events now. It never blocks.
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Running reports whether Run is claiming events.
func (d *Dispatcher) Running() bool { return d.running.Load() }

// Run claims and processes events until ctx is cancelled, then stops
// claiming and waits for the events in flight to finish (each within
// HandleTimeout) before it returns. Events not yet claimed stay in the
// inbox for the next start.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.running.Store(true)
	defer d.running.Store(false)

	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, d.cfg.Workers) // a token per event in flight
	done := make(chan struct{}, d.cfg.Workers)  // a worker finished: its user's next event may be ready

	poll := time.NewTimer(d.cfg.PollInterval)
	defer poll.Stop()
	errDelay := d.cfg.PollInterval
	for {
		delay := d.cfg.PollInterval
		free := cap(slots) - len(slots)
		var claimed []koe.Delivery
		if free > 0 {
			var err error
			claimed, err = d.cfg.Inbox.Claim(ctx, d.cfg.Owner, free, d.cfg.LeaseTTL)
			switch {
			case err != nil && ctx.Err() != nil:
				return nil
			case err != nil:
				d.log.Error("inbox claim failed", "err", err)
				errDelay = min(errDelay*2, 10*time.Second)
				delay = errDelay
			default:
				errDelay = d.cfg.PollInterval
			}
		}
		for _, del := range claimed {
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.process(context.WithoutCancel(ctx), del)
				<-slots
				select {
				case done <- struct{}{}:
				default:
				}
			}()
		}
		if free > 0 && len(claimed) == free {
			continue // there may be more ready right now
		}
		// Wait for news: a local append, a finished worker (its ack may have
		// freed that user's next event), or the poll for other replicas.
		poll.Reset(delay)
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-done:
		case <-poll.C:
		}
	}
}

// process handles one delivery and settles it with the inbox. It runs on a
// context that is not cancelled by shutdown, so work in flight finishes.
func (d *Dispatcher) process(ctx context.Context, del koe.Delivery) {
	msg := del.Message
	channel := string(msg.User.Channel())
	start := d.cfg.Now()

	hctx, cancel := context.WithTimeout(ctx, d.cfg.HandleTimeout)
	var loading *time.Timer
	if d.cfg.Loading != nil && msg.Kind != koe.KindUnfollow {
		loading = time.AfterFunc(d.cfg.LoadingAfter, func() { d.cfg.Loading(hctx, msg.User) })
	}
	err := d.handle(hctx, msg)
	if loading != nil {
		loading.Stop()
	}
	cancel()

	result := "ok"
	switch {
	case err == nil:
		err = d.cfg.Inbox.Ack(ctx, del)
		if err != nil {
			d.log.Warn("inbox ack failed; the event will be redelivered", "msg", msg, "err", err)
		}
	case del.Attempt >= d.cfg.MaxAttempts:
		result = "dead"
		d.log.Error("event failed too often; moved to dead letters", "msg", msg, "attempt", del.Attempt, "err", err)
		if berr := d.cfg.Inbox.Bury(ctx, del, errorReason(err)); berr != nil {
			d.log.Error("inbox bury failed", "msg", msg, "err", berr)
		}
	default:
		result = "retry"
		wait := d.cfg.RetryBackoff(del.Attempt)
		d.log.Warn("event failed; will retry", "msg", msg, "attempt", del.Attempt, "retry_in", wait, "err", err)
		if rerr := d.cfg.Inbox.Release(ctx, del, wait); rerr != nil {
			d.log.Error("inbox release failed", "msg", msg, "err", rerr)
		}
	}
	if m := d.cfg.Metrics; m != nil {
		now := d.cfg.Now()
		m.EventsProcessed.WithLabelValues(channel, string(msg.Kind), result).Inc()
		m.Processing.WithLabelValues(channel).Observe(now.Sub(start).Seconds())
		if result == "ok" && !msg.SentAt.IsZero() {
			m.EndToEnd.WithLabelValues(channel).Observe(now.Sub(msg.SentAt).Seconds())
		}
	}
}

// handle calls the handler, turning a panic into an error so one bad event
// cannot take the process down.
func (d *Dispatcher) handle(ctx context.Context, msg koe.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	return d.cfg.Handler.Handle(ctx, msg)
}

// errorReason keeps a dead letter's reason short. Errors in Koe never embed
// personal data (see DESIGN.md), so the message itself is safe to keep.
func errorReason(err error) string {
	s := err.Error()
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}
