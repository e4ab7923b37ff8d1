package main

import (
	"context"
	"fmt"
	"github.com/koehq/koe/internal/redistest"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// TestServeOnCluster starts the service on a redis+cluster:// store (a
// one-node cluster in miniredis, and the real cluster at
// KOE_TEST_REDIS_CLUSTER when set): /readyz answers 200, and the service
// shuts down cleanly. On miniredis, /readyz turns 503 once the node is gone.
func TestServeOnCluster(t *testing.T) {
	t.Run("miniredis", func(t *testing.T) {
		t.Parallel()
		mr := miniredis.RunT(t)
		// No retries, so /readyz fails at once when the node is gone.
		a, base := startClusterApp(t, "redis+cluster://"+mr.Addr()+"?dialer_retries=1&max_retries=-1", "koetest-cluster")
		if code, body := getBody(t, base+"/readyz"); code != http.StatusOK {
			t.Fatalf("/readyz = %d %s, want 200", code, body)
		}
		mr.Close()
		if code, body := getBody(t, base+"/readyz"); code != http.StatusServiceUnavailable {
			t.Errorf("/readyz with the cluster down = %d %s, want 503", code, body)
		}
		shutdownApp(t, a)
	})
	t.Run("real", func(t *testing.T) {
		addr := os.Getenv("KOE_TEST_REDIS_CLUSTER")
		if addr == "" {
			t.Skip("KOE_TEST_REDIS_CLUSTER not set")
		}
		t.Parallel()
		prefix := uniqueClusterPrefix()
		t.Cleanup(func() { deleteClusterKeys(t, addr, prefix) })
		a, base := startClusterApp(t, "redis+cluster://"+addr, prefix)
		if code, body := getBody(t, base+"/readyz"); code != http.StatusOK {
			t.Fatalf("/readyz = %d %s, want 200", code, body)
		}
		shutdownApp(t, a)
	})
}

// startClusterApp starts the service on store with key prefix prefix and
// returns it with its base URL.
func startClusterApp(t *testing.T, store, prefix string) (*app, string) {
	t.Helper()
	env := map[string]string{
		"KOE_ADDR":         "127.0.0.1:0",
		"KOE_STORE":        store,
		"KOE_DATA_DIR":     t.TempDir(),
		"KOE_REDIS_PREFIX": prefix,
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := startApp(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("startApp: %v", err)
	}
	return a, "http://" + a.Addr().String()
}

func shutdownApp(t *testing.T, a *app) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	if err := a.store.Ping(ctx); err == nil {
		t.Errorf("store Ping after Shutdown = nil, want an error (closed)")
	}
}

func uniqueClusterPrefix() string { return fmt.Sprintf("koetest-cluster-%d", rand.Int64()) }

func deleteClusterKeys(t testing.TB, addr, prefix string) {
	redistest.DeleteClusterKeysAt(t, addr, prefix)
}
