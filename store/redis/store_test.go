package redis_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/koehq/koe"
	"github.com/koehq/koe/store/redis"
	"github.com/koehq/koe/store/storetest"
)

var start = time.Date(2026, 11, 22, 9, 30, 0, 123456789, time.UTC)

func text(id string, u koe.UserID) koe.Message {
	return koe.Message{ID: id, User: u, Kind: koe.KindText, Text: "body of " + id, SentAt: start}
}

func lineUser(name string) koe.UserID { return koe.NewUserID(koe.ChannelLINE, "U"+name) }

// rawClient is a plain client onto srv for looking at keys.
func rawClient(t *testing.T, srv server) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(srv.url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestOpen(t *testing.T) {
	ctx := t.Context()
	for _, tc := range []struct {
		name, url string
		invalid   bool
	}{
		{"not a url", "localhost:6379", true},
		{"wrong scheme", "http://127.0.0.1:6379/0", true},
		{"bad db", "redis://127.0.0.1:6379/zero", true},
		{"nobody listening", "redis://127.0.0.1:1/0", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := redis.Open(ctx, tc.url, redis.Options{})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) = nil error", tc.url)
			}
			if got := errors.Is(err, koe.ErrInvalid); got != tc.invalid {
				t.Errorf("Open(%q) = %v; errors.Is(ErrInvalid) = %v, want %v", tc.url, err, got, tc.invalid)
			}
		})
	}
	t.Run("password is not echoed", func(t *testing.T) {
		_, err := redis.Open(ctx, "redis://user:s3cret@127.0.0.1:1/x", redis.Options{})
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open error = %v, want an error without the password", err)
		}
	})
}

func TestOpenChecksLayout(t *testing.T) {
	srv := newServer(t)
	ctx := t.Context()
	for _, tc := range []struct {
		name    string
		opts    redis.Options
		invalid bool
	}{
		{"first open records 4 shards", redis.Options{Prefix: srv.prefix, Shards: 4}, false},
		{"same count", redis.Options{Prefix: srv.prefix, Shards: 4}, false},
		{"other count", redis.Options{Prefix: srv.prefix, Shards: 16}, true},
		{"default count", redis.Options{Prefix: srv.prefix}, true},
		{"brace in prefix", redis.Options{Prefix: "koe{x}"}, true},
	} {
		s, err := redis.Open(ctx, srv.url, tc.opts)
		if err == nil {
			s.Close()
		}
		if got := errors.Is(err, koe.ErrInvalid); got != tc.invalid || (err != nil && !got) {
			t.Errorf("%s: Open = %v, want ErrInvalid %v", tc.name, err, tc.invalid)
		}
	}
}

func TestCloseOwnership(t *testing.T) {
	srv := newServer(t)
	ctx := t.Context()

	// Open owns its client: after Close the store no longer works, and a
	// second Close is harmless.
	s, err := redis.Open(ctx, srv.url, redis.Options{Prefix: srv.prefix})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want the first result (nil)", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Errorf("Ping after Close = nil, want an error")
	}

	// New borrows its client: Close leaves it open.
	c := rawClient(t, srv)
	s2 := redis.New(c, redis.Options{Prefix: srv.prefix})
	if err := s2.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Errorf("client after closing a New store: Ping = %v, want nil", err)
	}
}

func TestInvalidInput(t *testing.T) {
	srv := newServer(t)
	s := open(t, srv, storetest.NewClock(start).Now)
	ctx := t.Context()
	u := lineUser("invalid")
	for _, tc := range []struct {
		name string
		msgs []koe.Message
	}{
		{"no id", []koe.Message{text("ok-1", u), {User: u, Kind: koe.KindText}}},
		{"no user", []koe.Message{text("ok-2", u), {ID: "x", Kind: koe.KindText}}},
		{"user without channel", []koe.Message{{ID: "y", User: "U1", Kind: koe.KindText}}},
	} {
		if n, err := s.Append(ctx, tc.msgs...); !errors.Is(err, koe.ErrInvalid) || n != 0 {
			t.Errorf("%s: Append = %d, %v; want 0, ErrInvalid", tc.name, n, err)
		}
	}
	if n, err := s.Depth(ctx); err != nil || n != 0 {
		t.Errorf("Depth after rejected appends = %d, %v; want 0 (nothing written)", n, err)
	}
	if _, err := s.Claim(ctx, "w", 1, 0); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("Claim(ttl 0) = %v, want ErrInvalid", err)
	}
	if _, err := s.SaveSession(ctx, koe.Session{User: "nobody"}); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("SaveSession(invalid user) = %v, want ErrInvalid", err)
	}
}

// TestDedupeBoundary: an id is deduplicated while now < accepted+window
// (kept to the millisecond).
func TestDedupeBoundary(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after time.Duration
		added int
	}{
		{"a millisecond before the window ends", koe.DedupeWindow - time.Millisecond, 0},
		{"when the window ends", koe.DedupeWindow, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := storetest.NewClock(start)
			s := open(t, newServer(t), clk.Now)
			u := lineUser("boundary")
			if n, err := s.Append(t.Context(), text("b1", u)); err != nil || n != 1 {
				t.Fatalf("Append = %d, %v", n, err)
			}
			clk.Advance(tc.after)
			if n, err := s.Append(t.Context(), text("b1", u)); err != nil || n != tc.added {
				t.Errorf("Append again = %d, %v; want %d", n, err, tc.added)
			}
		})
	}
}

// TestAckAfterUnclaimedExpiry: a lease that ran out but whose message no
// one claimed again is still the holder's, so a slow owner's Ack counts.
func TestAckAfterUnclaimedExpiry(t *testing.T) {
	clk := storetest.NewClock(start)
	s := open(t, newServer(t), clk.Now)
	ctx := t.Context()
	u := lineUser("slow")
	if _, err := s.Append(ctx, text("s1", u), text("s2", u)); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Claim(ctx, "w", 1, time.Second)
	if err != nil || len(ds) != 1 {
		t.Fatalf("Claim = %d, %v", len(ds), err)
	}
	clk.Advance(time.Minute)
	if err := s.Ack(ctx, ds[0]); err != nil {
		t.Fatalf("late Ack = %v, want nil", err)
	}
	ds, err = s.Claim(ctx, "w", 10, time.Second)
	if err != nil || len(ds) != 1 || ds[0].Message.ID != "s2" || ds[0].Attempt != 1 {
		t.Fatalf("Claim after late Ack = %+v, %v; want s2 at attempt 1", ds, err)
	}
}

func TestDeadLetters(t *testing.T) {
	clk := storetest.NewClock(start)
	s := open(t, newServer(t), clk.Now)
	ctx := t.Context()
	a, b := lineUser("dead-a"), lineUser("dead-b")
	if _, err := s.Append(ctx, text("x1", a), text("y1", b)); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Claim(ctx, "w", 10, time.Second)
	if err != nil || len(ds) != 2 {
		t.Fatalf("Claim = %d, %v", len(ds), err)
	}
	clk.Advance(time.Minute) // both leases run out: the next claims are attempt 2
	// y1's lease ran out but nobody claimed it again: it is still held.
	if err := s.Release(ctx, ds[1], 0); err != nil {
		t.Fatalf("Release after unclaimed expiry = %v, want nil", err)
	}
	again, err := s.Claim(ctx, "w", 10, time.Minute)
	if err != nil || len(again) != 2 || again[0].Message.ID != "x1" || again[0].Attempt != 2 {
		t.Fatalf("second Claim = %+v, %v; want x1 at attempt 2 first", again, err)
	}
	if err := s.Bury(ctx, again[0], "handler failed"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if err := s.Bury(ctx, again[1], "poison"); err != nil {
		t.Fatal(err)
	}
	got, err := s.DeadLetters(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("DeadLetters = %d, want 2", len(got))
	}
	want := []struct {
		id, reason string
		attempts   int
		at         time.Time
	}{
		{"y1", "poison", 2, start.Add(time.Minute + time.Second)},
		{"x1", "handler failed", 2, start.Add(time.Minute)},
	}
	for i, w := range want {
		dl := got[i]
		if dl.Message.ID != w.id || dl.Message.Text != "body of "+w.id || dl.Reason != w.reason ||
			dl.Attempts != w.attempts || !dl.BuriedAt.Equal(w.at) {
			t.Errorf("dead letter %d = %+v, want %s (%q, %d attempts, at %v)", i, dl, w.id, w.reason, w.attempts, w.at)
		}
	}
	if got, _ := s.DeadLetters(ctx, 1); len(got) != 1 || got[0].Message.ID != "y1" {
		t.Errorf("DeadLetters(1) = %+v, want the newest only", got)
	}
}

// TestGarbageCollection: keys that would otherwise live for ever carry a
// TTL past their logical end, and emptied structures disappear.
func TestGarbageCollection(t *testing.T) {
	srv := newServer(t)
	clk := storetest.NewClock(start)
	s := open(t, srv, clk.Now)
	c := rawClient(t, srv)
	ctx := t.Context()
	u := lineUser("gc")
	if _, err := s.Append(ctx, text("g1", u), text("g2", u)); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Claim(ctx, "w", 1, time.Minute)
	if err != nil || len(ds) != 1 {
		t.Fatalf("Claim = %d, %v", len(ds), err)
	}
	if err := s.Bury(ctx, ds[0], "gc"); err != nil {
		t.Fatal(err)
	}
	ds, err = s.Claim(ctx, "w", 1, time.Minute)
	if err != nil || len(ds) != 1 {
		t.Fatalf("Claim = %d, %v", len(ds), err)
	}
	if err := s.Ack(ctx, ds[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveSession(ctx, koe.Session{User: u, ExpiresAt: clk.Now().Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}

	keys, err := c.Keys(ctx, srv.prefix+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	ttls := map[string]time.Duration{}
	for _, k := range keys {
		d, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(k, ":")
		ttls[parts[len(parts)-1]] = d
	}
	for _, tc := range []struct {
		key      string
		min, max time.Duration
	}{
		{"seen", koe.DedupeWindow, koe.DedupeWindow + 48*time.Hour},
		{"session", 2 * time.Hour, 2*time.Hour + 48*time.Hour},
		{"dead", 30 * 24 * time.Hour, 365 * 24 * time.Hour},
	} {
		d, ok := ttls[tc.key]
		if !ok || d < tc.min || d > tc.max {
			t.Errorf("TTL of the %s key = %v (present %v), want in [%v, %v]", tc.key, d, ok, tc.min, tc.max)
		}
	}
	// Everything else is the global counter and the shard count, which
	// have no TTL on purpose.
	for name, d := range ttls {
		switch name {
		case "seen", "session", "dead":
		case "seq", "shards":
			if d >= 0 {
				t.Errorf("%s TTL = %v, want none", name, d)
			}
		default:
			t.Errorf("key %q (TTL %v) left after every message was acked or buried", name, d)
		}
	}
	if n, err := s.Depth(ctx); err != nil || n != 0 {
		t.Errorf("Depth = %d, %v; want 0", n, err)
	}
}

func TestPrefixesAreIsolated(t *testing.T) {
	srv := newServer(t)
	other := srv
	other.prefix = uniquePrefix(t)
	if srv.mr == nil {
		t.Cleanup(func() { deleteKeys(t, other.url, other.prefix) })
	}
	clk := storetest.NewClock(start)
	a, b := open(t, srv, clk.Now), open(t, other, clk.Now)
	ctx := t.Context()
	u := lineUser("iso")
	if _, err := a.Append(ctx, text("i1", u)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SaveSession(ctx, koe.Session{User: u, ExpiresAt: clk.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Depth(ctx); err != nil || n != 0 {
		t.Errorf("other prefix: Depth = %d, %v; want 0", n, err)
	}
	if n, err := b.Append(ctx, text("i1", u)); err != nil || n != 1 {
		t.Errorf("other prefix: Append of the same id = %d, %v; want 1 (own dedupe)", n, err)
	}
	if _, err := b.LoadSession(ctx, u); !errors.Is(err, koe.ErrNotFound) {
		t.Errorf("other prefix: LoadSession = %v, want ErrNotFound", err)
	}
}

// TestScriptCacheFlushed: after SCRIPT FLUSH (a restart, a failover) the
// scripts are loaded again, in single calls and in pipelines alike. Only on
// miniredis: flushing a shared server's cache would disturb others.
func TestScriptCacheFlushed(t *testing.T) {
	srv := newServer(t)
	if srv.mr == nil {
		t.Skip("does not flush a shared server's script cache")
	}
	clk := storetest.NewClock(start)
	s := open(t, srv, clk.Now)
	c := rawClient(t, srv)
	ctx := t.Context()
	var msgs []koe.Message
	for i := range 6 {
		msgs = append(msgs, text(fmt.Sprintf("f%d", i), lineUser(fmt.Sprintf("flush-%d", i))))
	}
	if n, err := s.Append(ctx, msgs[:3]...); err != nil || n != 3 {
		t.Fatalf("Append = %d, %v", n, err)
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Append(ctx, msgs...); err != nil || n != 3 {
		t.Fatalf("Append after flush = %d, %v; want 3 new", n, err)
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Claim(ctx, "w", 10, time.Minute)
	if err != nil || len(ds) != 6 {
		t.Fatalf("Claim after flush = %d, %v; want 6", len(ds), err)
	}
	for i, d := range ds {
		if d.Message.ID != msgs[i].ID {
			t.Errorf("delivery %d = %s, want %s (append order)", i, d.Message.ID, msgs[i].ID)
		}
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctx, ds[0]); err != nil {
		t.Errorf("Ack after flush = %v", err)
	}
}

// TestClaimSpreadsOverShards: with one ready user on each of many shards
// and max 1, successive claims come in append order and every user is
// served, whatever shard the claim starts its walk at.
func TestClaimSpreadsOverShards(t *testing.T) {
	clk := storetest.NewClock(start)
	s := open(t, newServer(t), clk.Now)
	ctx := t.Context()
	var msgs []koe.Message
	for i := range 40 {
		msgs = append(msgs, text(fmt.Sprintf("w%02d", i), lineUser(fmt.Sprintf("spread-%d", i))))
	}
	if _, err := s.Append(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		ds, err := s.Claim(ctx, "w", 1, time.Minute)
		if err != nil || len(ds) != 1 {
			t.Fatalf("Claim %d = %d, %v", i, len(ds), err)
		}
		if ds[0].Message.ID != m.ID {
			t.Fatalf("Claim %d = %s, want %s", i, ds[0].Message.ID, m.ID)
		}
		if i > 0 && ds[0].Seq <= 0 {
			t.Errorf("Seq = %d, want positive", ds[0].Seq)
		}
	}
	if ds, err := s.Claim(ctx, "w", 10, time.Minute); err != nil || len(ds) != 0 {
		t.Errorf("Claim with every user leased = %d, %v; want none", len(ds), err)
	}
}

// TestUndecodableMessageIsBuried: a stored message that cannot be decoded
// (written by a newer or broken version) is moved to the dead letters by
// Claim instead of blocking its user for ever.
func TestUndecodableMessageIsBuried(t *testing.T) {
	srv := newServer(t)
	clk := storetest.NewClock(start)
	s, err := redis.Open(t.Context(), srv.url, redis.Options{Prefix: srv.prefix, Now: clk.Now, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := rawClient(t, srv)
	ctx := t.Context()
	u := lineUser("corrupt")
	if _, err := s.Append(ctx, text("c1", u), text("c2", u)); err != nil {
		t.Fatal(err)
	}
	seq, err := c.Get(ctx, fmt.Sprintf("%s:{%s:inbox:0}:seq", srv.prefix, srv.prefix)).Int64()
	if err != nil {
		t.Fatal(err)
	}
	msgKey := fmt.Sprintf("%s:{%s:inbox:0}:msg", srv.prefix, srv.prefix)
	if n, err := c.HSet(ctx, msgKey, fmt.Sprint(seq-1), "{not json").Result(); err != nil || n != 0 {
		t.Fatalf("overwriting c1's payload: %d, %v (want an existing field)", n, err)
	}
	if ds, err := s.Claim(ctx, "w", 10, time.Minute); err != nil || len(ds) != 0 {
		t.Fatalf("Claim = %d, %v; want nothing (c1 is undecodable)", len(ds), err)
	}
	dls, err := s.DeadLetters(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dls) != 1 || !strings.HasPrefix(dls[0].Reason, "undecodable") || dls[0].Message.ID != "" || dls[0].Attempts != 1 {
		t.Fatalf("DeadLetters = %+v, want c1 as undecodable", dls)
	}
	ds, err := s.Claim(ctx, "w", 10, time.Minute)
	if err != nil || len(ds) != 1 || ds[0].Message.ID != "c2" {
		t.Fatalf("next Claim = %+v, %v; want c2", ds, err)
	}
	if n, err := s.Depth(ctx); err != nil || n != 1 {
		t.Errorf("Depth = %d, %v; want 1", n, err)
	}
}
