package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/koehq/koe"
	"github.com/koehq/koe/internal/redistest"
	"github.com/koehq/koe/store/redis"
	"github.com/koehq/koe/store/storetest"
)

// realRedisURL is the Redis the tests use instead of miniredis when set,
// e.g. redis://127.0.0.1:6379/0. Every test then works under its own key
// prefix and deletes its keys afterwards.
func realRedisURL() string { return os.Getenv("KOE_TEST_REDIS_URL") }

// uniquePrefix returns a key prefix no other test uses.
func uniquePrefix(t testing.TB) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "koetest-" + hex.EncodeToString(b[:])
}

// server is where one test's data lives: a URL and a key prefix.
type server struct {
	url    string
	prefix string
	mr     *miniredis.Miniredis // nil on a real server
}

// newServer starts a miniredis for the test, or points at the real Redis
// (registering a cleanup that deletes the prefix's keys).
func newServer(t testing.TB) server {
	t.Helper()
	prefix := uniquePrefix(t)
	if url := realRedisURL(); url != "" {
		t.Cleanup(func() { deleteKeys(t, url, prefix) })
		return server{url: url, prefix: prefix}
	}
	mr := miniredis.RunT(t)
	return server{url: "redis://" + mr.Addr() + "/0", prefix: prefix, mr: mr}
}

func deleteKeys(t testing.TB, url, prefix string) { redistest.DeleteKeysAt(t, url, prefix) }

// open opens a Store on srv with Open, closed when the test ends.
func open(t testing.TB, srv server, now func() time.Time) *redis.Store {
	t.Helper()
	return openShards(t, srv, now, 0)
}

// openShards is open with Options.Shards (0: the default).
func openShards(t testing.TB, srv server, now func() time.Time, shards int) *redis.Store {
	t.Helper()
	s, err := redis.Open(context.Background(), srv.url, redis.Options{Prefix: srv.prefix, Now: now, Shards: shards})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	// The default (16 shards: Append numbers globally, Claim looks, then
	// leases), one shard (every operation one script) and a few shards
	// (several users per shard).
	for _, shards := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) storetest.Factory {
				srv := newServer(t)
				return func(t *testing.T, now func() time.Time) koe.Store { return openShards(t, srv, now, shards) }
			}, storetest.Features{})
		})
	}
}

// TestConformanceClusterClient runs the suite through go-redis's cluster
// client, opened from a redis+cluster:// URL (miniredis answers CLUSTER
// SLOTS as a one-node cluster), so the pipelines and scripts are routed by
// slot as on a real cluster.
func TestConformanceClusterClient(t *testing.T) {
	if realRedisURL() != "" {
		t.Skip("the real server is standalone; covered on miniredis")
	}
	storetest.Run(t, func(t *testing.T) storetest.Factory {
		mr := miniredis.RunT(t)
		prefix := uniquePrefix(t)
		return func(t *testing.T, now func() time.Time) koe.Store {
			s, err := redis.Open(t.Context(), "redis+cluster://"+mr.Addr(), redis.Options{Prefix: prefix, Now: now})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	}, storetest.Features{})
}
