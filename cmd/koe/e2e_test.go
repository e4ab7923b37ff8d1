package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/koehq/koe/internal/redistest"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/koehq/koe/internal/fakeline"
)

const testSecret = "test-channel-secret"

// storeBackends lists KOE_STORE values for one fresh store per backend:
// SQLite in a temp dir, and Redis (the real server at KOE_TEST_REDIS_URL,
// else miniredis).
func storeBackends(t *testing.T) []struct{ name, store string } {
	redisURL := os.Getenv("KOE_TEST_REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://" + miniredis.RunT(t).Addr() + "/0"
	}
	return []struct{ name, store string }{
		{"sqlite", "sqlite:" + filepath.Join(t.TempDir(), "koe.db")},
		{"redis", redisURL},
	}
}

// testEnv is the environment of a service under test: loopback address,
// the given store (with a key prefix of its own, removed afterwards, on
// Redis) and LINE pointed at lineURL.
func testEnv(t testing.TB, store, lineURL, secret string) map[string]string {
	t.Helper()
	env := map[string]string{
		"KOE_ADDR":                  "127.0.0.1:0",
		"KOE_WORKERS":               os.Getenv("KOE_WORKERS"),
		"KOE_STORE":                 store,
		"KOE_DATA_DIR":              t.TempDir(),
		"LINE_CHANNEL_SECRET":       secret,
		"LINE_CHANNEL_ACCESS_TOKEN": fakeline.AccessToken,
		"LINE_API_BASE_URL":         lineURL,
		"LINE_DATA_API_BASE_URL":    lineURL,
	}
	if strings.HasPrefix(store, "redis") {
		prefix := fmt.Sprintf("koetest-%d", rand.Int64())
		env["KOE_REDIS_PREFIX"] = prefix
		t.Cleanup(func() { deleteRedisKeys(t, store, prefix) })
	}
	return env
}

func testConfig(t testing.TB, store, lineURL, secret string) Config {
	t.Helper()
	env := testEnv(t, store, lineURL, secret)
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func deleteRedisKeys(t testing.TB, url, prefix string) { redistest.DeleteKeysAt(t, url, prefix) }

func startTestApp(t *testing.T, cfg Config) *app {
	t.Helper()
	a, err := startApp(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return a
}

// postWebhook sends body to the LINE webhook with the given signature and
// returns the status.
func postWebhook(t *testing.T, base string, body []byte, signature string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/line", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Line-Signature", signature)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeEndToEnd runs the service on 127.0.0.1:0 against a fake LINE
// API: a signed text event is answered; the same event redelivered is not;
// a forged signature, an oversized body and malformed JSON are refused and
// store nothing; health, readiness and metrics answer.
func TestServeEndToEnd(t *testing.T) {
	for _, b := range storeBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			fake := fakeline.New(t)
			a := startTestApp(t, testConfig(t, b.store, fake.URL(), testSecret))
			base := "http://" + a.Addr().String()
			send := func(ev fakeline.Event) int {
				body := fakeline.Body(ev)
				return postWebhook(t, base, body, fakeline.Sign(testSecret, body))
			}

			if got := send(fakeline.TextEvent("ev-1", "U1", "こんにちは")); got != 200 {
				t.Fatalf("signed event: status %d, want 200", got)
			}
			msgs := fake.WaitMessages(t, 1, 10*time.Second)
			if m := msgs[0]; m.Via != "reply" || m.ReplyToken != fakeline.ReplyToken("ev-1", "U1") || len(m.Texts) == 0 || m.Texts[0] == "" {
				t.Fatalf("first answer = %+v; want a reply with text on ev-1's token", m)
			}

			// Redelivery of ev-1 is accepted (200) but not processed: ev-2 of
			// the same user is answered next, and nothing else is.
			if got := send(fakeline.TextEvent("ev-1", "U1", "こんにちは").Redelivered()); got != 200 {
				t.Fatalf("redelivery: status %d, want 200", got)
			}
			if got := send(fakeline.TextEvent("ev-2", "U1", "メニュー")); got != 200 {
				t.Fatalf("second event: status %d, want 200", got)
			}
			msgs = fake.WaitMessages(t, 2, 10*time.Second)
			if msgs[1].ReplyToken != fakeline.ReplyToken("ev-2", "U1") {
				t.Fatalf("second answer on token %q, want ev-2's (the redelivery was processed?)", msgs[1].ReplyToken)
			}

			// Refused requests store nothing. (Wait for ev-2's ack first: the
			// dispatcher acks after the reply is sent.)
			waitUntil(t, "the inbox to drain", func() bool { n, err := a.store.Depth(context.Background()); return err == nil && n == 0 })
			forged := fakeline.Body(fakeline.TextEvent("ev-3", "U1", "forged"))
			if got := postWebhook(t, base, forged, fakeline.Sign("wrong-secret", forged)); got != 401 {
				t.Errorf("forged signature: status %d, want 401", got)
			}
			if got := postWebhook(t, base, forged, ""); got != 401 {
				t.Errorf("missing signature: status %d, want 401", got)
			}
			huge := fakeline.Body(fakeline.TextEvent("ev-4", "U1", strings.Repeat("あ", 1<<19)))
			if got := postWebhook(t, base, huge, fakeline.Sign(testSecret, huge)); got != 413 {
				t.Errorf("oversized body: status %d, want 413", got)
			}
			bad := []byte(`{"events":[{"type":"message",`)
			if got := postWebhook(t, base, bad, fakeline.Sign(testSecret, bad)); got != 400 {
				t.Errorf("malformed JSON: status %d, want 400", got)
			}
			if n, err := a.store.Depth(context.Background()); err != nil || n != 0 {
				t.Errorf("inbox depth after refused requests = %d, %v; want 0", n, err)
			}
			if got := send(fakeline.TextEvent("ev-5", "U1", "ヘルプ")); got != 200 {
				t.Fatalf("event after refusals: status %d", got)
			}
			msgs = fake.WaitMessages(t, 3, 10*time.Second)
			if len(msgs) != 3 || msgs[2].ReplyToken != fakeline.ReplyToken("ev-5", "U1") {
				t.Errorf("answers after refusals: %d, last on %q; want 3, the last on ev-5", len(msgs), msgs[len(msgs)-1].ReplyToken)
			}

			if code, _ := getBody(t, base+"/healthz"); code != 200 {
				t.Errorf("/healthz = %d", code)
			}
			if code, body := getBody(t, base+"/readyz"); code != 200 {
				t.Errorf("/readyz = %d %s", code, body)
			}
			wants := []string{
				`koe_webhook_requests_total{route="/webhooks/line",status="200"} 4`,
				`koe_webhook_requests_total{route="/webhooks/line",status="401"} 2`,
				`koe_webhook_requests_total{route="/webhooks/line",status="413"} 1`,
				`koe_webhook_requests_total{route="/webhooks/line",status="400"} 1`,
				`koe_events_processed_total{channel="line",kind="text",result="ok"} 3`,
				`koe_inbox_depth 0`,
				`koe_event_processing_seconds_count{channel="line"} 3`,
				`koe_outbound_requests_total`,
			}
			// Events are counted after their ack, which follows the reply the
			// fake has seen: let the last one settle.
			var metrics string
			deadline := time.Now().Add(10 * time.Second)
			for {
				_, metrics = getBody(t, base+"/metrics")
				missing := 0
				for _, want := range wants {
					if !strings.Contains(metrics, want) {
						missing++
					}
				}
				if missing == 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			for _, want := range wants {
				if !strings.Contains(metrics, want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}
			for _, secret := range []string{"こんにちは", "U1"} {
				if strings.Contains(metrics, secret) {
					t.Errorf("/metrics contains personal data %q", secret)
				}
			}
		})
	}
}

// TestServeKeepsEachUsersOrder sends many users' events concurrently, each
// user's in sequence, and checks every user is answered in their own order.
func TestServeKeepsEachUsersOrder(t *testing.T) {
	for _, b := range storeBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			fake := fakeline.New(t)
			a := startTestApp(t, testConfig(t, b.store, fake.URL(), testSecret))
			base := "http://" + a.Addr().String()
			const users, perUser = 40, 6
			var wg sync.WaitGroup
			for u := range users {
				wg.Go(func() {
					user := fmt.Sprintf("U%03d", u)
					for i := range perUser {
						body := fakeline.Body(fakeline.TextEvent(fmt.Sprintf("%s-%d", user, i), user, "こんにちは"))
						if got := postWebhook(t, base, body, fakeline.Sign(testSecret, body)); got != 200 {
							t.Errorf("%s event %d: status %d", user, i, got)
						}
					}
				})
			}
			wg.Wait()
			msgs := fake.WaitMessages(t, users*perUser, 30*time.Second)
			next := map[string]int{}
			for _, m := range msgs {
				want := fakeline.ReplyToken(fmt.Sprintf("%s-%d", m.User, next[m.User]), m.User)
				if m.ReplyToken != want {
					t.Fatalf("%s answered on %q, want %q: order broken", m.User, m.ReplyToken, want)
				}
				next[m.User]++
			}
			if len(next) != users {
				t.Errorf("%d users answered, want %d", len(next), users)
			}
		})
	}
}

// TestCrashRecovery kills a real `koe serve` process (SIGKILL) while it is
// processing an event it has acknowledged to LINE, starts it again on the
// same store, and sees the event answered exactly once.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the koe binary")
	}
	bin := buildKoe(t)
	for _, b := range storeBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			fake := fakeline.New(t)
			env := testEnv(t, b.store, fake.URL(), testSecret)
			env["KOE_LEASE_TTL"] = "3s"
			env["KOE_HANDLE_TIMEOUT"] = "2s"

			fake.HangNext(1) // the first reply hangs: the event is mid-processing
			p1 := startKoeProcess(t, bin, env)
			body := fakeline.Body(fakeline.TextEvent("crash-1", "U1", "こんにちは"))
			if got := postWebhook(t, p1.base, body, fakeline.Sign(testSecret, body)); got != 200 {
				t.Fatalf("status %d, want 200", got)
			}
			waitUntil(t, "the reply to be attempted", func() bool { return fake.Requests("reply") >= 1 })
			p1.kill(t)

			p2 := startKoeProcess(t, bin, env)
			msgs := fake.WaitMessages(t, 1, 20*time.Second)
			if msgs[0].ReplyToken != fakeline.ReplyToken("crash-1", "U1") {
				t.Fatalf("answer on %q, want crash-1's token", msgs[0].ReplyToken)
			}
			// A later event proves the queue moved on, and nothing was sent twice.
			body = fakeline.Body(fakeline.TextEvent("crash-2", "U1", "メニュー"))
			if got := postWebhook(t, p2.base, body, fakeline.Sign(testSecret, body)); got != 200 {
				t.Fatalf("status %d, want 200", got)
			}
			msgs = fake.WaitMessages(t, 2, 20*time.Second)
			if len(msgs) != 2 || msgs[1].ReplyToken != fakeline.ReplyToken("crash-2", "U1") {
				t.Errorf("answers %d, last on %q; want exactly 2, the last on crash-2", len(msgs), msgs[len(msgs)-1].ReplyToken)
			}
			p2.stop(t)
		})
	}
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// TestMain removes the koe binary the process tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

func buildKoe(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "koe-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "koe")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

type koeProcess struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
}

// startKoeProcess runs `koe serve` with env and waits for its "koe serving"
// log line to learn the address.
func startKoeProcess(t *testing.T, bin string, env map[string]string) *koeProcess {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &koeProcess{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "koe serving" {
				addr <- line.Addr
			}
		}
		cmd.Wait()
		close(p.done)
	}()
	select {
	case a := <-addr:
		p.base = "http://" + a
	case <-p.done:
		t.Fatal("koe serve exited before serving")
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("koe serve did not start")
	}
	t.Cleanup(func() { p.kill(t) })
	return p
}

func (p *koeProcess) kill(t *testing.T) {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop asks for a graceful shutdown and checks it exits cleanly.
func (p *koeProcess) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("koe serve exited with %d after SIGTERM, want 0", code)
		}
	case <-time.After(30 * time.Second):
		t.Error("koe serve did not stop after SIGTERM")
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBinaryLinksNoAnalyser: kagome (the morphological analyser that
// generates the FAQ's kana readings) and the test-only browser driver must
// stay out of the koe binary.
func TestBinaryLinksNoAnalyser(t *testing.T) {
	out, err := exec.Command("go", "version", "-m", buildKoe(t)).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, out)
	}
	for _, mod := range []string{"github.com/ikawaha/kagome", "github.com/chromedp/"} {
		if strings.Contains(string(out), mod) {
			t.Errorf("the koe binary links %s", mod)
		}
	}
	if !strings.Contains(string(out), "modernc.org/sqlite") {
		t.Errorf("go version -m lists no modernc.org/sqlite; is it reading the binary?\n%s", out)
	}
}
