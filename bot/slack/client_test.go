package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/slack"
	"github.com/koehq/koe/internal/fakeslack"
)

// newClient returns a client for fake with fast backoff; mod adjusts the
// config.
func newClient(t *testing.T, fake *fakeslack.Server, mod func(*slack.ClientConfig)) *slack.Client {
	t.Helper()
	cfg := slack.ClientConfig{
		BotToken:           fakeslack.BotToken,
		APIURL:             fake.URL(),
		HTTPClient:         fake.Client(),
		PerChannelInterval: -1,
		BaseBackoff:        5 * time.Millisecond,
		MaxBackoff:         20 * time.Millisecond,
		CallTimeout:        5 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := slack.NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func alert() slack.Message {
	return slack.Message{
		Text:   "新しい事故連絡 AR-20261122-7F3K",
		Header: "事故連絡 AR-20261122-7F3K",
		Fields: []slack.Field{{Label: "種別", Value: "自動車"}, {Label: "受付", Value: "2026-11-22 10:00"}},
		Body:   "追突されました <!channel>",
		Buttons: []slack.Button{
			{ActionID: "case.take", Text: "担当する", Value: "C-1", Style: "primary"},
			{ActionID: "case.done", Text: "完了", Value: "C-1"},
		},
	}
}

func TestNewClientValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  slack.ClientConfig
	}{
		{"no token", slack.ClientConfig{APIURL: "https://slack.com/api/"}},
		{"no trailing slash", slack.ClientConfig{BotToken: "x", APIURL: "https://slack.com/api"}},
		{"relative", slack.ClientConfig{BotToken: "x", APIURL: "/api/"}},
		{"bad scheme", slack.ClientConfig{BotToken: "x", APIURL: "ftp://slack.com/api/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := slack.NewClient(tt.cfg); !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("NewClient = %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := slack.NewClient(slack.ClientConfig{BotToken: "x"}); err != nil {
		t.Errorf("NewClient with defaults: %v", err)
	}
}

func TestClientPostUpdateThread(t *testing.T) {
	t.Parallel()
	fake := fakeslack.New(t)
	c := newClient(t, fake, nil)
	ctx := t.Context()

	ts, err := c.Post(ctx, "C1", alert())
	if err != nil {
		t.Fatalf("Post: %v", err)
	}
	posts := fake.Posts()
	if len(posts) != 1 || posts[0].TS != ts || posts[0].Channel != "C1" || posts[0].ThreadTS != "" {
		t.Fatalf("posts = %+v, want one in C1 with ts %s", posts, ts)
	}
	if posts[0].Text != "新しい事故連絡 AR-20261122-7F3K" {
		t.Errorf("text = %q", posts[0].Text)
	}
	var blocks []map[string]any
	if err := json.Unmarshal(posts[0].Blocks, &blocks); err != nil {
		t.Fatalf("blocks: %v", err)
	}
	var types []string
	for _, b := range blocks {
		types = append(types, b["type"].(string))
	}
	if got, want := strings.Join(types, ","), "header,section,section,actions"; got != want {
		t.Errorf("block types = %s, want %s", got, want)
	}
	if strings.Contains(string(posts[0].Blocks), "<!channel>") {
		t.Errorf("blocks contain an unescaped mention: %s", posts[0].Blocks)
	}

	done := alert()
	done.Buttons = nil
	done.Context = []string{"完了: 佐藤"}
	if err := c.Update(ctx, "C1", ts, done); err != nil {
		t.Fatalf("Update: %v", err)
	}
	cur, ok := fake.Current("C1", ts)
	if !ok || strings.Contains(string(cur.Blocks), `"actions"`) || !strings.Contains(string(cur.Blocks), "完了: 佐藤") {
		t.Errorf("current = %s, want updated blocks without buttons", cur.Blocks)
	}
	if err := c.Update(ctx, "C1", "1.000001", done); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("Update of unknown message = %v, want ErrInvalid (message_not_found)", err)
	}

	r1, err := c.PostThread(ctx, "C1", ts, slack.Message{Text: "お客さまへ返信しました"})
	if err != nil {
		t.Fatalf("PostThread: %v", err)
	}
	r2, err := c.PostThread(ctx, "C1", ts, slack.Message{Body: "二通目"})
	if err != nil {
		t.Fatalf("PostThread: %v", err)
	}
	posts = fake.Posts()
	if len(posts) != 3 || posts[1].ThreadTS != ts || posts[2].ThreadTS != ts || posts[1].TS != r1 || posts[2].TS != r2 {
		t.Fatalf("thread posts = %+v", posts)
	}
	if !(ts < r1 && r1 < r2) {
		t.Errorf("ts not increasing: %s %s %s", ts, r1, r2)
	}
	if _, err := c.PostThread(ctx, "C1", "", slack.Message{Text: "x"}); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("PostThread without thread = %v, want ErrInvalid", err)
	}
	if _, err := c.Post(ctx, "C1", slack.Message{}); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("Post of empty message = %v, want ErrInvalid", err)
	}
}

func TestClientLongTextsAccepted(t *testing.T) {
	t.Parallel()
	fake := fakeslack.New(t)
	c := newClient(t, fake, nil)
	long := strings.Repeat("長<&>", 2000)
	msg := slack.Message{
		Text:    long,
		Header:  long,
		Urgent:  true,
		Fields:  []slack.Field{{Label: long, Value: long}},
		Body:    long,
		Context: []string{long},
		Buttons: []slack.Button{{ActionID: strings.Repeat("a", 300), Text: long, Value: strings.Repeat("v", 3000)}},
	}
	// The fake refuses blocks over Block Kit's limits (invalid_blocks).
	if _, err := c.Post(t.Context(), "C1", msg); err != nil {
		t.Fatalf("Post of over-long message: %v", err)
	}
}

func TestClientUpload(t *testing.T) {
	t.Parallel()
	fake := fakeslack.New(t)
	c := newClient(t, fake, nil)
	data := []byte("\x89PNG fake image bytes")
	if err := c.UploadToThread(t.Context(), "C1", "1700000000.000100", "photo.png", data, "事故現場の写真"); err != nil {
		t.Fatalf("UploadToThread: %v", err)
	}
	ups := fake.Uploads()
	if len(ups) != 1 {
		t.Fatalf("uploads = %d, want 1", len(ups))
	}
	u := ups[0]
	if !u.Completed || u.Channel != "C1" || u.ThreadTS != "1700000000.000100" || u.Filename != "photo.png" ||
		u.Title != "事故現場の写真" || string(u.Data) != string(data) || u.Length != len(data) {
		t.Errorf("upload = %+v", u)
	}
	if err := c.UploadToThread(t.Context(), "C1", "1.1", "empty.txt", nil, ""); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("empty upload = %v, want ErrInvalid", err)
	}

}

func TestClientUploadRetriesEachStep(t *testing.T) {
	t.Parallel()
	fake := fakeslack.New(t)
	c := newClient(t, fake, nil)
	fake.FailNextOn("files.getUploadURLExternal", 1, 500, "")
	fake.FailNextOn("upload", 2, 503, "")
	fake.FailNextOn("files.completeUploadExternal", 1, 429, "")
	if err := c.UploadToThread(t.Context(), "C1", "", "a.txt", []byte("abc"), "t"); err != nil {
		t.Fatalf("UploadToThread: %v", err)
	}
	if got := fake.Requests("files.getUploadURLExternal"); got != 2 {
		t.Errorf("getUploadURLExternal requests = %d, want 2", got)
	}
	if got := fake.Requests("upload"); got != 3 {
		t.Errorf("upload requests = %d, want 3", got)
	}
	if got := fake.Requests("files.completeUploadExternal"); got != 2 {
		t.Errorf("completeUploadExternal requests = %d, want 2", got)
	}
	ups := fake.Uploads()
	if len(ups) != 1 || !ups[0].Completed || string(ups[0].Data) != "abc" {
		t.Errorf("uploads = %+v, want one completed file", ups)
	}
}

func TestClientOpenModal(t *testing.T) {
	t.Parallel()
	fake := fakeslack.New(t)
	c := newClient(t, fake, nil)
	m := slack.Modal{
		CallbackID:      "complaint.close",
		Title:           "苦情を完了する",
		PrivateMetadata: "C-42",
		Inputs: []slack.Input{
			{BlockID: "cause", Label: "原因", Multiline: true},
			{BlockID: "action", Label: "対応", Multiline: true},
			{BlockID: "topic", Label: "分類", Options: []slack.Option{{Text: "保険金", Value: "claims"}, {Text: "その他", Value: "other"}}},
		},
	}
	if err := c.OpenModal(t.Context(), "trigger-1", m); err != nil {
		t.Fatalf("OpenModal: %v", err)
	}
	mods := fake.Modals()
	if len(mods) != 1 || mods[0].TriggerID != "trigger-1" || mods[0].CallbackID != "complaint.close" ||
		mods[0].PrivateMetadata != "C-42" || mods[0].Title != "苦情を完了する" {
		t.Fatalf("modals = %+v", mods)
	}
	// A trigger id works once.
	if err := c.OpenModal(t.Context(), "trigger-1", m); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("second OpenModal = %v, want ErrInvalid (exchanged_trigger_id)", err)
	}
	bad := m
	bad.Inputs = append(bad.Inputs, slack.Input{BlockID: "cause"})
	if err := c.OpenModal(t.Context(), "trigger-2", bad); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("OpenModal with duplicate block id = %v, want ErrInvalid", err)
	}
	if n := fake.Requests("views.open"); n != 2 {
		t.Errorf("views.open requests = %d, want 2 (invalid modal not sent)", n)
	}
}

func TestClientRateLimitHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	fake := fakeslack.New(t)
	c := newClient(t, fake, nil)
	fake.FailNext(1, 429, "1")
	start := time.Now()
	ts, err := c.Post(t.Context(), "C1", alert())
	elapsed := time.Since(start)
	if err != nil || ts == "" {
		t.Fatalf("Post = %q, %v", ts, err)
	}
	if got := fake.Requests("chat.postMessage"); got != 2 {
		t.Errorf("requests = %d, want 2", got)
	}
	if elapsed < time.Second {
		t.Errorf("Post returned after %v, want ≥ 1s (Retry-After)", elapsed)
	}
	times := fake.PostTimes("C1")
	if len(times) != 2 || times[1].Sub(times[0]) < time.Second {
		t.Errorf("post times = %v, want the retry ≥ 1s after the 429", times)
	}
}

func TestClientRateLimitBeyondDeadline(t *testing.T) {
	t.Parallel()
	fake := fakeslack.New(t)
	c := newClient(t, fake, nil)
	fake.FailNext(1, 429, "30")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	_, err := c.Post(ctx, "C1", alert())
	apiErr, ok := errors.AsType[*slack.APIError](err)
	if !ok || apiErr.Status != 429 || apiErr.RetryAfter != 30*time.Second || !apiErr.Temporary() {
		t.Fatalf("Post = %v, want APIError 429 retry after 30s", err)
	}
	if ctx.Err() != nil {
		t.Errorf("Post waited for the deadline instead of failing at once")
	}
	if got := fake.Requests("chat.postMessage"); got != 1 {
		t.Errorf("requests = %d, want 1", got)
	}
}

func TestClientRetries5xx(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inject func(*fakeslack.Server)
	}{
		{"http 500", func(f *fakeslack.Server) { f.FailNext(2, 500, "") }},
		{"http 503", func(f *fakeslack.Server) { f.FailNext(1, 503, "") }},
		{"internal_error", func(f *fakeslack.Server) { f.ErrorNext(2, "internal_error") }},
		{"429 without Retry-After", func(f *fakeslack.Server) { f.FailNext(1, 429, "") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := fakeslack.New(t)
			c := newClient(t, fake, nil)
			tt.inject(fake)
			if _, err := c.Post(t.Context(), "C1", alert()); err != nil {
				t.Fatalf("Post: %v", err)
			}
			if n := len(fake.Posts()); n != 1 {
				t.Errorf("posts = %d, want 1", n)
			}
		})
	}
}

func TestClientGivesUp(t *testing.T) {
	t.Parallel()
	fake := fakeslack.New(t)
	c := newClient(t, fake, func(cfg *slack.ClientConfig) { cfg.MaxAttempts = 3 })
	fake.FailNext(10, 503, "")
	err := c.Update(t.Context(), "C1", "1.1", alert())
	apiErr, ok := errors.AsType[*slack.APIError](err)
	if !ok || apiErr.Status != 503 || apiErr.Attempts != 3 || apiErr.Op != slack.OpUpdate || !apiErr.Temporary() {
		t.Fatalf("Update = %#v, want APIError 503 after 3 attempts", err)
	}
	if errors.Is(err, koe.ErrInvalid) {
		t.Errorf("a 503 must not be ErrInvalid")
	}
	if got := fake.Requests("chat.update"); got != 3 {
		t.Errorf("requests = %d, want 3", got)
	}
}

func TestClientPermanentErrorNotRetried(t *testing.T) {
	t.Parallel()
	fake := fakeslack.New(t)
	c := newClient(t, fake, nil)
	fake.ErrorNext(1, "channel_not_found")
	_, err := c.Post(t.Context(), "C404", alert())
	if !errors.Is(err, koe.ErrInvalid) {
		t.Fatalf("Post = %v, want ErrInvalid", err)
	}
	if apiErr, ok := errors.AsType[*slack.APIError](err); !ok || apiErr.Code != "channel_not_found" || apiErr.Temporary() {
		t.Errorf("Post = %#v, want APIError channel_not_found", err)
	}
	if got := fake.Requests("chat.postMessage"); got != 1 {
		t.Errorf("requests = %d, want 1", got)
	}
}

func TestClientCancelledContext(t *testing.T) {
	t.Parallel()
	fake := fakeslack.New(t)
	c := newClient(t, fake, nil)
	fake.FailNext(1, 429, "5")
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for fake.Requests("chat.postMessage") == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := c.Post(ctx, "C1", alert())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Post = %v, want context.Canceled", err)
	}
}

func TestClientErrorsDoNotLeak(t *testing.T) {
	t.Parallel()
	secret := "山田太郎 090-1234-5678"
	msg := slack.Message{Text: secret, Header: secret, Body: secret, Fields: []slack.Field{{Label: "名前", Value: secret}}}
	tests := []struct {
		name   string
		inject func(*fakeslack.Server)
		call   func(context.Context, *slack.Client) error
	}{
		{"post 500", func(f *fakeslack.Server) { f.FailNext(10, 500, "") },
			func(ctx context.Context, c *slack.Client) error { _, err := c.Post(ctx, "C1", msg); return err }},
		{"post channel_not_found", func(f *fakeslack.Server) { f.ErrorNext(1, "channel_not_found") },
			func(ctx context.Context, c *slack.Client) error { _, err := c.Post(ctx, "C1", msg); return err }},
		{"thread 429", func(f *fakeslack.Server) { f.FailNext(10, 429, "60") },
			func(ctx context.Context, c *slack.Client) error {
				ctx, cancel := context.WithTimeout(ctx, time.Second)
				defer cancel()
				_, err := c.PostThread(ctx, "C1", "1.1", msg)
				return err
			}},
		{"update hang", func(f *fakeslack.Server) { f.HangNext(10) },
			func(ctx context.Context, c *slack.Client) error { return c.Update(ctx, "C1", "1.1", msg) }},
		{"upload 500", func(f *fakeslack.Server) { f.FailNext(10, 500, "") },
			func(ctx context.Context, c *slack.Client) error {
				return c.UploadToThread(ctx, "C1", "1.1", secret+".txt", []byte(secret), secret)
			}},
		{"upload step 500", func(f *fakeslack.Server) { f.FailNextOn("upload", 10, 500, "") },
			func(ctx context.Context, c *slack.Client) error {
				return c.UploadToThread(ctx, "C1", "1.1", secret+".txt", []byte(secret), secret)
			}},
		{"modal invalid", func(f *fakeslack.Server) { f.ErrorNext(1, "invalid_arguments") },
			func(ctx context.Context, c *slack.Client) error {
				return c.OpenModal(ctx, "t1", slack.Modal{Title: secret, PrivateMetadata: secret, Body: secret})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := fakeslack.New(t)
			c := newClient(t, fake, func(cfg *slack.ClientConfig) {
				cfg.MaxAttempts = 2
				cfg.CallTimeout = 100 * time.Millisecond
			})
			tt.inject(fake)
			err := tt.call(t.Context(), c)
			if err == nil {
				t.Fatal("call succeeded, want an error")
			}
			for _, bad := range []string{"山田", "090-1234", fakeslack.BotToken, "/upload/"} {
				if strings.Contains(err.Error(), bad) {
					t.Errorf("error %q contains %q", err, bad)
				}
			}
		})
	}
}

func TestClientPacing(t *testing.T) {
	t.Parallel()
	fake := fakeslack.New(t)
	const interval = 200 * time.Millisecond
	c := newClient(t, fake, func(cfg *slack.ClientConfig) {
		cfg.PerChannelInterval = interval
		cfg.PerChannelBurst = 3
	})
	ctx := t.Context()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	wg.Go(func() {
		for range 5 {
			if _, err := c.Post(ctx, "C1", slack.Message{Text: "burst"}); err != nil {
				errs <- err
			}
		}
	})
	// After C1's burst is used up, a post to C2 must not wait behind C1.
	fake.WaitPosts(t, 3, 5*time.Second)
	c2Start := time.Now()
	if _, err := c.Post(ctx, "C2", slack.Message{Text: "other channel"}); err != nil {
		t.Fatalf("Post C2: %v", err)
	}
	c2 := time.Since(c2Start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Post C1: %v", err)
	}
	total := time.Since(start)
	if total < 2*interval {
		t.Errorf("5 posts to one channel took %v, want ≥ %v ((5-3)×interval)", total, 2*interval)
	}
	if c2 >= interval {
		t.Errorf("post to another channel took %v, want < %v (not paced behind C1)", c2, interval)
	}
	times := fake.PostTimes("C1")
	if len(times) != 5 {
		t.Fatalf("C1 post times = %d, want 5", len(times))
	}
	if gap := times[4].Sub(times[0]); gap < 2*interval-20*time.Millisecond {
		t.Errorf("first to fifth post %v apart, want ≈ ≥ %v", gap, 2*interval)
	}
}

func TestClientMetrics(t *testing.T) {
	t.Parallel()
	fake := fakeslack.New(t)
	reg := prometheus.NewRegistry()
	c := newClient(t, fake, func(cfg *slack.ClientConfig) { cfg.Registerer = reg })
	// A second client on the same registry reuses the collector.
	newClient(t, fake, func(cfg *slack.ClientConfig) { cfg.Registerer = reg })
	fake.FailNext(1, 500, "")
	if _, err := c.Post(t.Context(), "C1", alert()); err != nil {
		t.Fatalf("Post: %v", err)
	}
	got := counters(t, reg)
	want := map[string]float64{"chat.postMessage/retry": 1, "chat.postMessage/ok": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("koe_slack_requests_total{%s} = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

func counters(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "koe_slack_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var op, result string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "op":
					op = l.GetValue()
				case "result":
					result = l.GetValue()
				}
			}
			out[op+"/"+result] = m.GetCounter().GetValue()
		}
	}
	return out
}
