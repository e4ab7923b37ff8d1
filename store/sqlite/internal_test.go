package sqlite

import (
	"context"
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
	rows, err := s.wdb.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+claimSQL, "p-", "w", 1, 0, 10)
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
