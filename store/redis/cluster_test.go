package redis_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/koehq/koe"
	"github.com/koehq/koe/internal/redistest"
	"github.com/koehq/koe/store/redis"
	"github.com/koehq/koe/store/storetest"
)

// keySlot is Redis Cluster's slot of a key: CRC16 (XMODEM) of the key, or
// of its hash tag (the text between the first '{' and the next '}', when
// not empty), modulo 16384.
func keySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}

func TestKeySlot(t *testing.T) {
	// Expected values from CLUSTER KEYSLOT of Redis 7.0.15.
	for _, tc := range []struct {
		key  string
		want int
	}{
		{"foo", 12182},
		{"bar", 5061},
		{"hello", 866},
		{"123456789", 12739},
		{"{user1000}.following", 3443},
		{"koe:{koe:inbox:3}:ready", 15357},
		{"{}x", 10595},
		{"{{a}}", 10276},
	} {
		if got := keySlot(tc.key); got != tc.want {
			t.Errorf("keySlot(%q) = %d, want %d", tc.key, got, tc.want)
		}
	}
}

// scriptRecorder is a go-redis hook that records the arguments of every
// EVAL and EVALSHA, piped or not.
type scriptRecorder struct {
	mu    sync.Mutex
	calls [][]string
}

func (r *scriptRecorder) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (r *scriptRecorder) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		r.record(cmd)
		return next(ctx, cmd)
	}
}

func (r *scriptRecorder) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for _, c := range cmds {
			r.record(c)
		}
		return next(ctx, cmds)
	}
}

func (r *scriptRecorder) record(cmd goredis.Cmder) {
	switch strings.ToLower(cmd.Name()) {
	case "eval", "evalsha", "eval_ro", "evalsha_ro":
	default:
		return
	}
	var args []string
	for _, a := range cmd.Args() {
		args = append(args, fmt.Sprint(a))
	}
	r.mu.Lock()
	r.calls = append(r.calls, args)
	r.mu.Unlock()
}

// TestScriptsStayInOneSlot runs every operation and checks that each script
// call names keys of one Cluster slot only: its declared KEYS and every
// argument that is a key or key prefix of the store (the per-user lists the
// scripts name themselves). Then it checks every key the workload left.
func TestScriptsStayInOneSlot(t *testing.T) {
	for _, shards := range []int{8, 1} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) { testScriptsStayInOneSlot(t, shards) })
	}
}

func testScriptsStayInOneSlot(t *testing.T, shards int) {
	srv := newServer(t)
	opts, err := goredis.ParseURL(srv.url)
	if err != nil {
		t.Fatal(err)
	}
	client := goredis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	rec := &scriptRecorder{}
	client.AddHook(rec)
	clk := storetest.NewClock(time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC))
	s := redis.New(client, redis.Options{Prefix: srv.prefix, Now: clk.Now, Shards: shards})
	ctx := t.Context()

	var msgs []koe.Message
	for i := range 12 {
		u := koe.NewUserID(koe.ChannelLINE, fmt.Sprintf("U-slot-%d", i))
		msgs = append(msgs, koe.Message{ID: fmt.Sprintf("m%d-1", i), User: u, Kind: koe.KindText, Text: "x"},
			koe.Message{ID: fmt.Sprintf("m%d-2", i), User: u, Kind: koe.KindText, Text: "y"})
	}
	if _, err := s.Append(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Claim(ctx, "w", 12, time.Minute)
	if err != nil || len(ds) != 12 {
		t.Fatalf("Claim = %d, %v; want 12 deliveries", len(ds), err)
	}
	for i, d := range ds {
		switch i % 3 {
		case 0:
			err = s.Ack(ctx, d)
		case 1:
			err = s.Release(ctx, d, time.Second)
		case 2:
			err = s.Bury(ctx, d, "slot test")
		}
		if err != nil {
			t.Fatalf("finishing delivery %d: %v", i, err)
		}
	}
	clk.Advance(2 * time.Minute)
	if _, err := s.Claim(ctx, "w", 100, time.Minute); err != nil {
		t.Fatal(err)
	}
	sess, err := s.SaveSession(ctx, koe.Session{User: msgs[0].User, ExpiresAt: clk.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveSession(ctx, sess); err != nil {
		t.Fatal(err)
	}

	rec.mu.Lock()
	calls := slices.Clone(rec.calls)
	rec.mu.Unlock()
	if len(calls) < 5 {
		t.Fatalf("recorded %d script calls, want the workload's", len(calls))
	}
	for _, args := range calls {
		// EVALSHA sha numkeys key… arg…
		nkeys, err := strconv.Atoi(args[2])
		if err != nil || nkeys < 1 {
			t.Errorf("script call %v: numkeys %q, want at least one key", args[:3], args[2])
			continue
		}
		named := slices.Clone(args[3 : 3+nkeys])
		for _, a := range args[3+nkeys:] {
			if strings.HasPrefix(a, srv.prefix+":") {
				named = append(named, a)
			}
		}
		slot := keySlot(named[0])
		for _, k := range named[1:] {
			if keySlot(k) != slot {
				t.Errorf("one script call names keys in slots %d and %d: %q, %q", slot, keySlot(k), named[0], k)
			}
		}
	}

	// Every key left behind is the store's and sits in its shard's slot.
	keys, err := client.Keys(ctx, srv.prefix+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	all, err := client.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if srv.mr != nil && len(all) != len(keys) {
		t.Errorf("keys outside the prefix: %v", all)
	}
	shardSlots := map[int]bool{}
	for n := range shards {
		shardSlots[keySlot(fmt.Sprintf("{%s:inbox:%d}", srv.prefix, n))] = true
	}
	for _, k := range keys {
		switch {
		case k == srv.prefix+":seq":
		case strings.HasPrefix(k, srv.prefix+":{u:") && strings.HasSuffix(k, "}:session"):
		case strings.HasPrefix(k, srv.prefix+":{"+srv.prefix+":inbox:"):
			if !shardSlots[keySlot(k)] {
				t.Errorf("inbox key %q is in slot %d, not a shard's", k, keySlot(k))
			}
		default:
			t.Errorf("unexpected key %q", k)
		}
	}
}

// TestConformanceRealCluster runs the suite on a real Redis Cluster when
// KOE_TEST_REDIS_CLUSTER names one of its nodes (host:port), opening the
// store from a redis+cluster:// URL as `koe serve` does; Redis then rejects
// any script or command that crosses slots. A one-node cluster is enough:
//
//	redis-server --port 7001 --cluster-enabled yes …
//	redis-cli -p 7001 cluster addslotsrange 0 16383
func TestConformanceRealCluster(t *testing.T) {
	addr := os.Getenv("KOE_TEST_REDIS_CLUSTER")
	if addr == "" {
		t.Skip("KOE_TEST_REDIS_CLUSTER not set")
	}
	storetest.Run(t, func(t *testing.T) storetest.Factory {
		prefix := uniquePrefix(t)
		t.Cleanup(func() { deleteClusterKeys(t, addr, prefix) })
		return func(t *testing.T, now func() time.Time) koe.Store {
			s, err := redis.Open(t.Context(), "redis+cluster://"+addr, redis.Options{Prefix: prefix, Now: now})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	}, storetest.Features{})
}

// TestOpenCluster opens a store from a redis+cluster:// URL: on a one-node
// cluster in miniredis, and on the real cluster at KOE_TEST_REDIS_CLUSTER
// when set. Ping answers while every master does and fails once one is
// gone or the store is closed; the store works in between.
func TestOpenCluster(t *testing.T) {
	t.Run("miniredis", func(t *testing.T) {
		t.Parallel()
		mr := miniredis.RunT(t)
		// No retries: the Ping below fails at once.
		s := testOpenCluster(t, "redis+cluster://"+mr.Addr()+"/0?max_retries=-1&dialer_retries=1", uniquePrefix(t))
		mr.Close()
		if err := s.Ping(t.Context()); err == nil {
			t.Errorf("Ping with the cluster's only node down = nil, want an error")
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
	t.Run("real", func(t *testing.T) {
		addr := os.Getenv("KOE_TEST_REDIS_CLUSTER")
		if addr == "" {
			t.Skip("KOE_TEST_REDIS_CLUSTER not set")
		}
		t.Parallel()
		prefix := uniquePrefix(t)
		t.Cleanup(func() { deleteClusterKeys(t, addr, prefix) })
		s := testOpenCluster(t, "redis+cluster://"+addr, prefix)
		if err := s.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
		if err := s.Ping(t.Context()); err == nil {
			t.Errorf("Ping after Close = nil, want an error")
		}
	})
	t.Run("nobody listening", func(t *testing.T) {
		t.Parallel()
		s, err := redis.Open(t.Context(), "redis+cluster://koe:s3cret@127.0.0.1:1?addr=127.0.0.1:2&max_retries=-1&dialer_retries=1", redis.Options{})
		if err == nil {
			s.Close()
			t.Fatal("Open = nil error, want one")
		}
		if errors.Is(err, koe.ErrInvalid) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open = %v, want a connection error without the password", err)
		}
	})
	t.Run("database 1", func(t *testing.T) {
		t.Parallel()
		mr := miniredis.RunT(t)
		s, err := redis.Open(t.Context(), "redis+cluster://"+mr.Addr()+"/1", redis.Options{})
		var ue *redis.URLError
		if err == nil {
			s.Close()
		}
		if !errors.As(err, &ue) || !errors.Is(err, koe.ErrInvalid) {
			t.Errorf("Open = %v, want a URLError wrapping ErrInvalid", err)
		}
	})
}

// testOpenCluster opens url with Open, checks Ping, passes one message
// through the inbox and a session through the store, and returns the
// still-open store (closed at the end of the test too).
func testOpenCluster(t *testing.T, url, prefix string) *redis.Store {
	t.Helper()
	ctx := t.Context()
	s, err := redis.Open(ctx, url, redis.Options{Prefix: prefix, Shards: 4})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping = %v", err)
	}
	u := koe.NewUserID(koe.ChannelLINE, "U-open-cluster")
	if n, err := s.Append(ctx, koe.Message{ID: "oc1", User: u, Kind: koe.KindText, Text: "x"}); err != nil || n != 1 {
		t.Fatalf("Append = %d, %v; want 1", n, err)
	}
	ds, err := s.Claim(ctx, "w", 10, time.Minute)
	if err != nil || len(ds) != 1 || ds[0].Message.ID != "oc1" {
		t.Fatalf("Claim = %+v, %v; want oc1", ds, err)
	}
	if err := s.Ack(ctx, ds[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveSession(ctx, koe.Session{User: u, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("SaveSession = %v", err)
	}
	if _, err := s.LoadSession(ctx, u); err != nil {
		t.Fatalf("LoadSession = %v", err)
	}
	// A second Open of the prefix with another shard count is refused, as
	// on one endpoint.
	if s2, err := redis.Open(ctx, url, redis.Options{Prefix: prefix, Shards: 8}); !errors.Is(err, koe.ErrInvalid) {
		if err == nil {
			s2.Close()
		}
		t.Errorf("Open with another shard count = %v, want ErrInvalid", err)
	}
	return s
}

func deleteClusterKeys(t testing.TB, addr, prefix string) {
	redistest.DeleteClusterKeysAt(t, addr, prefix)
}
