package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/store/storetest"
)

func openTest(t *testing.T, path string, now func() time.Time) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, Options{Now: now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func count(t *testing.T, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.rdb.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// blockWriter occupies the writer with an op that waits for the returned
// release function, so that ops queued meanwhile form the next batch.
func blockWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	entered, gate := make(chan struct{}), make(chan struct{})
	go s.write(context.Background(), func(*writeTx) error {
		close(entered)
		<-gate
		return nil
	})
	<-entered
	return sync.OnceFunc(func() { close(gate) })
}

// waitQueued polls until n ops wait in the writer's queue.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(s.ops) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d ops queued after 10s, want %d", len(s.ops), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestOpenMigratesOnceAndCreatesDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "koe.db")
	s1 := openTest(t, path, nil)
	s2 := openTest(t, path, nil) // a second opener finds the schema applied
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, s2, "SELECT count(*) FROM schema_version"); n != len(ms) {
		t.Errorf("schema_version rows = %d, want %d (one per migration)", n, len(ms))
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	s3 := openTest(t, path, nil)
	if n := count(t, s3, "SELECT count(*) FROM schema_version"); n != len(ms) {
		t.Errorf("after reopen schema_version rows = %d, want %d", n, len(ms))
	}
}

func TestPragmas(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "koe.db"), nil)
	for _, tc := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	} {
		var got string
		// The writer's own connection: the pragmas that matter for writes.
		err := s.write(t.Context(), func(w *writeTx) error {
			return w.tx.QueryRowContext(w.ctx, "PRAGMA "+tc.pragma).Scan(&got)
		})
		if err != nil {
			t.Fatalf("PRAGMA %s: %v", tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %q, want %q", tc.pragma, got, tc.want)
		}
	}
	var qo string
	if err := s.rdb.QueryRowContext(t.Context(), "PRAGMA query_only").Scan(&qo); err != nil || qo != "1" {
		t.Errorf("read pool query_only = %q, %v; want 1", qo, err)
	}
}

// TestBatchIsolatesFailures puts three writes into one batch; the failing
// middle one is rolled back to its savepoint, the others commit.
func TestBatchIsolatesFailures(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "koe.db"), nil)
	release := blockWriter(t, s)
	defer release()

	boom := errors.New("boom")
	users := []koe.UserID{"line:Ua", "line:Ub", "line:Uc"}
	errs := make([]error, len(users))
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() {
			errs[i] = s.write(t.Context(), func(w *writeTx) error {
				if _, err := w.exec(w.ws.insertSession, string(u), 1, int64(1<<62), []byte(`{}`), 0); err != nil {
					return err
				}
				if i == 1 {
					return boom // after a write that must be undone
				}
				return nil
			})
		})
		waitQueued(t, s, i+1) // keep the order a, b, c
	}
	release()
	wg.Wait()
	for i, u := range users {
		n := count(t, s, "SELECT count(*) FROM sessions WHERE user = ?", string(u))
		wantErr, wantRows := error(nil), 1
		if i == 1 {
			wantErr, wantRows = boom, 0
		}
		if errs[i] != wantErr && !errors.Is(errs[i], wantErr) {
			t.Errorf("op %d: err = %v, want %v", i, errs[i], wantErr)
		}
		if n != wantRows {
			t.Errorf("op %d: %d session rows, want %d", i, n, wantRows)
		}
	}
}

// TestCloseFinishesQueuedWrites queues appends behind a busy writer, closes
// the store and finds them committed.
func TestCloseFinishesQueuedWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "koe.db")
	s := openTest(t, path, nil)
	release := blockWriter(t, s)
	const n = 5
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := s.Append(context.Background(), koe.Message{ID: fmt.Sprint("q", i), User: "line:Uq", Kind: koe.KindText})
			errs <- err
		}()
	}
	waitQueued(t, s, n)
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	release()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("queued Append: %v", err)
		}
	}
	if _, err := s.Append(t.Context(), koe.Message{ID: "late", User: "line:Uq"}); !errors.Is(err, errClosed) {
		t.Errorf("Append after Close = %v, want errClosed", err)
	}
	s2 := openTest(t, path, nil)
	if d, err := s2.Depth(t.Context()); err != nil || d != n {
		t.Errorf("Depth after reopen = %d, %v; want %d", d, err, n)
	}
}

func TestPruneAndDeadLetters(t *testing.T) {
	clk := storetest.NewClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	s := openTest(t, filepath.Join(t.TempDir(), "koe.db"), clk.Now)
	ctx := t.Context()
	u := koe.UserID("line:Uprune")
	if _, err := s.SaveSession(ctx, koe.Session{User: u, ExpiresAt: clk.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, koe.Message{ID: "p1", User: u, Kind: koe.KindText}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Claim(ctx, "w", 1, time.Minute)
	if err != nil || len(ds) != 1 {
		t.Fatalf("Claim = %v, %v", ds, err)
	}
	if err := s.Bury(ctx, ds[0], "poison"); err != nil {
		t.Fatal(err)
	}
	var reason string
	var attempts int
	if err := s.rdb.QueryRowContext(ctx, "SELECT reason, attempts FROM inbox_dead WHERE id = 'p1'").Scan(&reason, &attempts); err != nil {
		t.Fatalf("dead letter: %v", err)
	}
	if reason != "poison" || attempts != 1 {
		t.Errorf("dead letter = (%q, %d), want (poison, 1)", reason, attempts)
	}

	// Before the window: nothing pruned even though a write runs.
	clk.Advance(2 * time.Minute)
	if err := s.DeleteSession(ctx, "line:Uother"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "SELECT count(*) FROM inbox_dedupe"); n != 1 {
		t.Errorf("dedupe ids before the window = %d, want 1", n)
	}
	if n := count(t, s, "SELECT count(*) FROM sessions"); n != 1 {
		t.Errorf("sessions before expiry = %d, want 1", n)
	}
	clk.Advance(koe.DedupeWindow)
	if err := s.DeleteSession(ctx, "line:Uother"); err != nil { // any write lets the writer prune
		t.Fatal(err)
	}
	if n := count(t, s, "SELECT count(*) FROM inbox_dedupe"); n != 0 {
		t.Errorf("dedupe ids after the window = %d, want 0", n)
	}
	if n := count(t, s, "SELECT count(*) FROM sessions"); n != 0 {
		t.Errorf("sessions after expiry = %d, want 0", n)
	}
	if n := count(t, s, "SELECT count(*) FROM inbox_dead"); n != 1 {
		t.Errorf("dead letters = %d, want 1 (kept)", n)
	}
}

// TestClaimUsesHeadIndex guards the query plan that keeps Claim cheap with
// many pending messages.
func TestClaimUsesHeadIndex(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "koe.db"), nil)
	rows, err := s.rdb.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+claimSQL, "p-", "w", 1, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan += detail + "\n"
	}
	t.Logf("plan:\n%s", plan)
	if want := "USING COVERING INDEX inbox_queues_head"; !strings.Contains(plan, want) || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("plan:\n%swant %q and no temp b-tree", plan, want)
	}
}

// TestClaimLimits claims with limits served by the per-limit statements
// and by the one that binds the limit, and checks each takes the oldest
// heads up to the limit.
func TestClaimLimits(t *testing.T) {
	const users = maxClaimStmts + 10
	for _, limit := range []int{1, 3, maxClaimStmts, maxClaimStmts + 1, users + 5} {
		t.Run(fmt.Sprint("max=", limit), func(t *testing.T) {
			s := openTest(t, filepath.Join(t.TempDir(), "koe.db"), nil)
			ctx := t.Context()
			var msgs []koe.Message
			for u := range users {
				msgs = append(msgs, koe.Message{ID: fmt.Sprint("m", u), User: koe.NewUserID(koe.ChannelLINE, fmt.Sprintf("U%03d", u)), Kind: koe.KindText})
			}
			if _, err := s.Append(ctx, msgs...); err != nil {
				t.Fatal(err)
			}
			for round := range 2 { // the second claim reuses the statement
				ds, err := s.Claim(ctx, "w", limit, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				first := round * limit
				want := max(0, min(limit, users-first))
				if len(ds) != want {
					t.Fatalf("round %d: claimed %d, want %d", round, len(ds), want)
				}
				for i, d := range ds {
					if d.Message.ID != msgs[first+i].ID || d.Attempt != 1 || d.Lease == "" {
						t.Errorf("round %d: delivery %d = %s attempt %d lease %q, want %s attempt 1 with a lease",
							round, i, d.Message.ID, d.Attempt, d.Lease, msgs[first+i].ID)
					}
				}
			}
		})
	}
}

// TestQueueBookkeeping checks what the inbox triggers keep in
// inbox_queues: the head moves to the user's next message on ack and bury,
// ready and unleased, and the queue goes when the last message does.
func TestQueueBookkeeping(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "koe.db"), nil)
	ctx := t.Context()
	u := koe.UserID("line:Uqueue")
	for _, id := range []string{"q1", "q2", "q3"} {
		if _, err := s.Append(ctx, koe.Message{ID: id, User: u, Kind: koe.KindText}); err != nil {
			t.Fatal(err)
		}
	}
	queue := func() (head int64, attempts int, leased bool, n int) {
		t.Helper()
		n = count(t, s, "SELECT count(*) FROM inbox_queues")
		if n == 1 {
			if err := s.rdb.QueryRowContext(ctx, "SELECT head_seq, attempts, lease IS NOT NULL FROM inbox_queues").Scan(&head, &attempts, &leased); err != nil {
				t.Fatal(err)
			}
		}
		return head, attempts, leased, n
	}
	for i, settle := range []func(koe.Delivery) error{
		func(d koe.Delivery) error { return s.Ack(ctx, d) },
		func(d koe.Delivery) error { return s.Bury(ctx, d, "poison") },
		func(d koe.Delivery) error { return s.Ack(ctx, d) },
	} {
		ds, err := s.Claim(ctx, "w", 10, time.Minute)
		if err != nil || len(ds) != 1 {
			t.Fatalf("step %d: Claim = %d deliveries, %v; want 1", i, len(ds), err)
		}
		if head, attempts, leased, n := queue(); n != 1 || head != ds[0].Seq || attempts != 1 || !leased {
			t.Errorf("step %d: claimed queue = head %d attempts %d leased %v (%d rows), want head %d attempts 1 leased",
				i, head, attempts, leased, n, ds[0].Seq)
		}
		if err := settle(ds[0]); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		head, attempts, leased, n := queue()
		if i == 2 {
			if n != 0 {
				t.Errorf("after the last message: %d queue rows, want 0", n)
			}
			continue
		}
		if n != 1 || head <= ds[0].Seq || attempts != 0 || leased {
			t.Errorf("step %d: settled queue = head %d attempts %d leased %v (%d rows), want the next head, 0 attempts, unleased",
				i, head, attempts, leased, n)
		}
	}
	if n := count(t, s, "SELECT count(*) FROM inbox"); n != 0 {
		t.Errorf("inbox rows = %d, want 0", n)
	}
	if n := count(t, s, "SELECT count(*) FROM inbox_dedupe"); n != 3 {
		t.Errorf("dedupe ids = %d, want 3", n)
	}
}

// TestAdhocStatements runs SQL text through writeTx.tx: each text is
// prepared once, and past maxAdhoc texts a statement is used and closed.
func TestAdhocStatements(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "koe.db"), nil)
	for i := range maxAdhoc + 5 {
		var got int64
		var cached int
		err := s.write(t.Context(), func(w *writeTx) error {
			if err := w.tx.QueryRowContext(w.ctx, fmt.Sprintf("SELECT %d + ?1", i), 1).Scan(&got); err != nil {
				return err
			}
			cached = len(w.ws.adhoc)
			return nil
		})
		if err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		if got != int64(i+1) {
			t.Errorf("query %d = %d, want %d", i, got, i+1)
		}
		if want := min(i+1, maxAdhoc); cached != want {
			t.Errorf("after query %d: %d cached statements, want %d", i, cached, want)
		}
	}
	var n int64
	err := s.write(t.Context(), func(w *writeTx) error {
		return w.tx.QueryRowContext(w.ctx, "SELECT 1 WHERE 0").Scan(&n)
	})
	if !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("empty query = %v, want sql.ErrNoRows", err)
	}
}
