package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/koehq/koe/internal/loadtest"
)

// BenchmarkIntake is the intake load tool. In one process and under the
// same load it measures (a) a bare SDK receiver that only verifies, parses
// and replies after the 200, (b) Koe's full path — signed webhook → durable
// inbox → dispatcher → dialog → session save → reply — on SQLite, and (c)
// the same on Redis (KOE_TEST_REDIS_URL, else 127.0.0.1:6379). Targets run
// in interleaved rounds; the medians and the ratios b/a and c/a are printed.
//
//	go test ./cmd/koe -run '^$' -bench Intake -benchtime 1x
//
// KOE_LOAD_EVENTS (default 4000), KOE_LOAD_ROUNDS (3), KOE_LOAD_CONCURRENCY
// (32) and KOE_LOAD_USERS (500) size the load; KOE_LOAD_TARGETS=sqlite
// (or redis) measures only that target beside the baseline, for profiling.
func BenchmarkIntake(b *testing.B) {
	events := envInt("KOE_LOAD_EVENTS", 4000)
	rounds := envInt("KOE_LOAD_ROUNDS", 3)
	conc := envInt("KOE_LOAD_CONCURRENCY", 32)
	users := envInt("KOE_LOAD_USERS", 500)
	const secret = "load-secret"
	ctx := context.Background()

	sink := loadtest.NewSink()
	defer sink.Close()

	bare, err := loadtest.NewBareReceiver(secret, "token", sink.URL())
	if err != nil {
		b.Fatal(err)
	}
	bareSrv := httptest.NewServer(bare)
	defer bareSrv.Close()

	redisURL := os.Getenv("KOE_TEST_REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/0"
	}
	targets := []struct{ name, url string }{{"bare", bareSrv.URL}}
	for _, st := range []struct{ name, store string }{
		{"sqlite", "sqlite:" + b.TempDir() + "/koe.db"},
		{"redis", redisURL},
	} {
		cfg := testConfig(b, st.store, sink.URL(), secret)
		a, err := startApp(ctx, cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatalf("%s: %v", st.name, err)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			a.Shutdown(sctx)
		}()
		targets = append(targets, struct{ name, url string }{st.name, "http://" + a.Addr().String() + "/webhooks/line"})
	}

	if only := os.Getenv("KOE_LOAD_TARGETS"); only != "" { // e.g. "sqlite" for profiling one target
		var kept []struct{ name, url string }
		for _, tg := range targets {
			if tg.name == "bare" || strings.Contains(only, tg.name) {
				kept = append(kept, tg)
			}
		}
		targets = kept
	}
	eps := map[string][]float64{}
	p50 := map[string][]float64{}
	p99 := map[string][]float64{}
	b.ResetTimer()
	for r := range rounds {
		for _, tg := range targets {
			res, err := loadtest.Run(ctx, loadtest.Config{
				WebhookURL: tg.url, Secret: secret, Events: events, Users: users,
				Concurrency: conc, RunID: fmt.Sprintf("%s-r%d-%d", tg.name, r, time.Now().UnixNano()),
			}, sink)
			if err != nil {
				b.Fatalf("%s round %d: %v", tg.name, r, err)
			}
			if res.Failed > 0 {
				b.Errorf("%s round %d: %d webhook requests failed", tg.name, r, res.Failed)
			}
			fmt.Printf("round %d %-6s %v\n", r, tg.name, res)
			eps[tg.name] = append(eps[tg.name], res.EventsPerSec)
			p50[tg.name] = append(p50[tg.name], float64(res.AckP50.Microseconds())/1000)
			p99[tg.name] = append(p99[tg.name], float64(res.AckP99.Microseconds())/1000)
		}
	}
	b.StopTimer()

	var sb strings.Builder
	fmt.Fprintf(&sb, "\nintake: %d events × %d rounds, %d concurrent senders, %d users (medians)\n", events, rounds, conc, users)
	fmt.Fprintf(&sb, "%-8s %10s %12s %12s %8s\n", "target", "events/s", "ack p50 ms", "ack p99 ms", "vs bare")
	base := loadtest.Median(eps["bare"])
	for _, tg := range targets {
		m := loadtest.Median(eps[tg.name])
		fmt.Fprintf(&sb, "%-8s %10.0f %12.2f %12.2f %8.2f\n", tg.name, m,
			loadtest.Median(p50[tg.name]), loadtest.Median(p99[tg.name]), m/base)
		b.ReportMetric(m, tg.name+"-events/s")
		b.ReportMetric(loadtest.Median(p99[tg.name]), tg.name+"-ack-p99-ms")
	}
	fmt.Print(sb.String())
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
