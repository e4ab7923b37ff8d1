// Package sqlite is Koe's embedded store: koe.Store on one SQLite file, in
// pure Go (modernc.org/sqlite), durable on every acknowledged write.
//
// The database runs in WAL mode with synchronous=FULL, so a write that
// returned nil survives a crash or power loss. All writes go through one
// writer goroutine that owns the only write connection and commits them in
// groups: it takes every write waiting in its queue, runs them in one
// transaction (each inside its own SAVEPOINT, so one failing write does not
// undo the others), commits once and then answers them all. Under load many
// writers share one fsync; alone, a write costs one commit as usual. Reads
// (LoadSession, Depth, Ping) use a separate pool of read-only connections
// and see every write that has returned.
//
// The writer is the store's serial path, so it is kept lean: it talks to
// the driver connection directly with statements prepared once (including
// BEGIN, COMMIT and the savepoints), an inbox write is one statement (the
// queue bookkeeping runs in SQL triggers, see migrations/0001_init.sql), and
// before taking a batch it briefly yields so that goroutines about to write
// join it.
//
// Several processes may open the same file (SQLite locks it), but the
// group commit only batches within one process.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/koehq/koe"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Options configure a Store. The zero value is usable.
type Options struct {
	// Now is the clock for session expiry, leases, retry delays and the
	// dedupe window; nil means time.Now.
	Now func() time.Time
	// Logger receives operational events (failed commits, pruning); nil
	// discards them. Nothing personal is logged.
	Logger *slog.Logger
}

// Store is koe.Store on a SQLite file. It is safe for concurrent use.
type Store struct {
	path   string
	now    func() time.Time
	log    *slog.Logger
	wdb    *sql.DB   // one connection, held by wconn for the store's life
	wconn  *sql.Conn // the writer goroutine works inside its Raw
	rdb    *sql.DB   // read-only pool
	leases leaseSource

	ws writeStmts
	rs readStmts

	mu     sync.RWMutex // guards closed against sends on ops
	closed bool
	ops    chan *writeOp
	done   chan struct{} // closed when the writer has finished

	lastPrune time.Time // writer goroutine only
}

var _ koe.Store = (*Store)(nil)

// errClosed is returned by every method after Close.
var errClosed = errors.New("sqlite: store is closed")

const (
	// maxBatch bounds how many writes share one transaction.
	maxBatch = 512
	// maxYields bounds how often the writer yields to gather a batch.
	maxYields = 4
	// busyTimeout is how long a connection waits for another process's
	// lock before failing with SQLITE_BUSY.
	busyTimeout = 10 * time.Second
	// pruneEvery is how often (by the store's clock) the writer deletes
	// expired sessions and dedupe ids; pruneLimit bounds each delete.
	pruneEvery = time.Minute
	pruneLimit = 2000
)

// Open opens (creating if needed) the database at path, creating its parent
// directory, and applies any pending migrations. The caller must Close the
// store. ctx bounds opening and migrating only.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlite: open: path %q: %w", path, koe.ErrInvalid)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: open: %w", err)
		}
	}
	s := &Store{
		path: path,
		now:  opts.Now,
		log:  opts.Logger,
		ops:  make(chan *writeOp, maxBatch),
		done: make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if s.leases, err = newLeaseSource(); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}

	common := url.Values{}
	common.Add("_pragma", "busy_timeout("+strconv.Itoa(int(busyTimeout/time.Millisecond))+")")
	common.Add("_pragma", "foreign_keys(ON)")

	wq := url.Values{"_pragma": append([]string{"journal_mode(WAL)", "synchronous(FULL)"}, common["_pragma"]...)}
	wq.Set("_txlock", "immediate")
	s.wdb, err = sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	fail := func(err error) (*Store, error) {
		s.wdb.Close()
		if s.rdb != nil {
			s.rdb.Close()
		}
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	if err := migrate(ctx, s.wdb); err != nil {
		return fail(err)
	}

	rq := url.Values{"_pragma": append([]string{"query_only(ON)"}, common["_pragma"]...)}
	s.rdb, err = sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		return fail(err)
	}
	s.rdb.SetMaxOpenConns(8)
	s.rdb.SetMaxIdleConns(8)
	if err := s.rs.prepare(ctx, s.rdb); err != nil {
		return fail(err)
	}

	s.wconn, err = s.wdb.Conn(ctx)
	if err != nil {
		return fail(err)
	}
	s.lastPrune = s.now()
	ready := make(chan error, 1)
	go s.writer(ready)
	if err := <-ready; err != nil {
		<-s.done
		s.rs.close()
		s.wconn.Close()
		return fail(err)
	}
	return s, nil
}

// Ping returns nil when the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	var one int
	if err := s.rdb.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close finishes the writes already queued, then closes the database.
// Calls after the first return nil; other methods return an error once Close
// has begun.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.ops)
	s.mu.Unlock()
	<-s.done
	s.rs.close()
	err := errors.Join(s.rdb.Close(), s.wconn.Close(), s.wdb.Close())
	if err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// check returns ctx's error or errClosed.
func (s *Store) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed
	}
	return nil
}

// writeOp is one write waiting for the writer. run executes inside its own
// savepoint of the batch transaction; it may keep results in its closure,
// which the caller reads only after done delivered nil (the batch committed).
type writeOp struct {
	ctx  context.Context
	run  func(tx *writeTx) error
	done chan error
}

// write queues run for the writer and waits until its batch has committed
// (nil) or failed. A cancelled ctx before the write is taken stops it; once
// queued, a cancelled ctx makes write return ctx's error without waiting,
// and the write may or may not be committed.
func (s *Store) write(ctx context.Context, run func(tx *writeTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op := &writeOp{ctx: ctx, run: run, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return errClosed
	}
	select {
	case s.ops <- op:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-op.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writer prepares the write statements on the writer's own driver
// connection, reports the outcome on ready, then runs batches until ops is
// closed and drained. It works inside the connection's Raw callback for the
// store's whole life: the connection is the writer's alone.
func (s *Store) writer(ready chan<- error) {
	defer close(s.done)
	started := false
	err := s.wconn.Raw(func(dc any) error {
		conn, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("driver connection %T cannot prepare", dc)
		}
		if err := s.ws.prepare(context.Background(), conn); err != nil {
			return err
		}
		defer s.ws.close()
		started = true
		ready <- nil
		s.loop()
		return nil
	})
	if !started {
		if err == nil {
			err = errors.New("writer did not start")
		}
		ready <- err
	}
}

// loop runs batches until ops is closed and drained.
func (s *Store) loop() {
	batch := make([]*writeOp, 0, maxBatch)
	for {
		op, ok := <-s.ops
		if !ok {
			return
		}
		batch = append(batch[:0], op)
		s.gather()
	fill:
		for len(batch) < maxBatch {
			select {
			case op, ok := <-s.ops:
				if !ok {
					break fill
				}
				batch = append(batch, op)
			default:
				break fill
			}
		}
		s.maybePrune() // before the batch, so its callers see the pruning done
		s.runBatch(batch)
		clear(batch)
	}
}

// gather yields the processor while that brings more writes into the
// queue, at most maxYields times, so that goroutines about to write join
// the batch: under load, a few yields turn many small commits (an fsync
// each) into one, and the writer's CPU per write falls with the commits.
// It stops as soon as a yield brought no new write, so a write to an idle
// store is not delayed.
func (s *Store) gather() {
	for range maxYields {
		n := len(s.ops)
		runtime.Gosched()
		if len(s.ops) == n {
			return
		}
	}
}

// runBatch runs ops in one transaction and answers each.
func (s *Store) runBatch(ops []*writeOp) {
	ctx := context.Background() // the batch is not the caller's to cancel
	results := make([]error, len(ops))
	answer := func(batchErr error) {
		for i, op := range ops {
			err := results[i]
			if err == nil {
				err = batchErr
			}
			op.done <- err
		}
	}
	ws := &s.ws
	abort := func(what string, err error) {
		ws.rollback.exec(ctx) // may fail if SQLite already rolled back
		s.log.Error("sqlite: "+what, slog.Int("ops", len(ops)), slog.String("err", err.Error()))
		answer(fmt.Errorf("%s: %w", what, err))
	}
	if _, err := ws.begin.exec(ctx); err != nil {
		s.log.Error("sqlite: begin batch", slog.Int("ops", len(ops)), slog.String("err", err.Error()))
		answer(fmt.Errorf("begin: %w", err))
		return
	}
	w := &writeTx{ctx: ctx, ws: ws, now: s.now, tx: adhocTx{ws}}
	for i, op := range ops {
		if err := op.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if _, err := ws.savepoint.exec(ctx); err != nil {
			abort("savepoint", err)
			return
		}
		if err := op.run(w); err != nil {
			results[i] = err
			if _, rerr := ws.rollbackTo.exec(ctx); rerr != nil {
				abort("rollback to savepoint", rerr)
				return
			}
		}
		if _, err := ws.release.exec(ctx); err != nil {
			abort("release savepoint", err)
			return
		}
	}
	if _, err := ws.commit.exec(ctx); err != nil {
		abort("commit batch", err)
		return
	}
	answer(nil)
}

// maybePrune deletes expired sessions and old dedupe ids, a bounded number
// at a time, at most once per pruneEvery of the store's clock.
func (s *Store) maybePrune() {
	now := s.now()
	if now.Sub(s.lastPrune) < pruneEvery {
		return
	}
	s.lastPrune = now
	ctx := context.Background()
	sessions, err1 := execCount(ctx, s.ws.pruneSessions, nanos(now), pruneLimit)
	ids, err2 := execCount(ctx, s.ws.pruneDedupe, nanos(now.Add(-koe.DedupeWindow)), pruneLimit)
	if err := errors.Join(err1, err2); err != nil {
		s.log.Warn("sqlite: prune", slog.String("err", err.Error()))
		return
	}
	if sessions > 0 || ids > 0 {
		s.log.Debug("sqlite: pruned", slog.Int64("sessions", sessions), slog.Int64("dedupe_ids", ids))
	}
}

func execCount(ctx context.Context, st *dstmt, args ...any) (int64, error) {
	res, err := st.exec(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// writeTx is the batch transaction as seen by one op.
type writeTx struct {
	ctx context.Context
	ws  *writeStmts
	now func() time.Time
	// tx runs SQL text in the transaction, like a *sql.Tx, preparing
	// each distinct text once.
	tx adhocTx
}

func (w *writeTx) exec(st *dstmt, args ...any) (driver.Result, error) {
	return st.exec(w.ctx, args...)
}

func (w *writeTx) queryRow(st *dstmt, args ...any) row {
	r, err := st.query(w.ctx, args...)
	return row{rows: r, err: err}
}

func (w *writeTx) query(st *dstmt, args ...any) (*rows, error) {
	return st.query(w.ctx, args...)
}

// nanos converts t to unix nanoseconds, clamping times outside int64's
// range (including the zero time) to its ends.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// leaseSource makes lease tokens unique across processes: a random prefix
// per store and a counter.
type leaseSource struct {
	prefix string
	n      *atomic.Uint64
}

func newLeaseSource() (leaseSource, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return leaseSource{}, err
	}
	return leaseSource{prefix: hex.EncodeToString(b[:]) + "-", n: new(atomic.Uint64)}, nil
}

func (l leaseSource) next() string {
	return l.prefix + strconv.FormatUint(l.n.Add(1), 36)
}
