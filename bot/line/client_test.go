package line

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/koehq/koe"
	"github.com/koehq/koe/internal/fakeline"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

var now = time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC)

// waits records the backoff the client asked for instead of sleeping.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

func newTestClient(t *testing.T, fl *fakeline.Server, mod func(*ClientConfig)) (*Client, *waits) {
	t.Helper()
	cfg := ClientConfig{
		AccessToken:    fakeline.AccessToken,
		APIBaseURL:     fl.URL(),
		DataAPIBaseURL: fl.URL(),
		HTTPClient:     fl.Client(),
		BaseBackoff:    10 * time.Millisecond,
		MaxBackoff:     5 * time.Second,
		Now:            func() time.Time { return now },
		Registerer:     prometheus.NewRegistry(),
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &waits{}
	c.sleep = w.sleep
	return c, w
}

func outbound(token string, issued time.Time, texts ...string) koe.Outbound {
	out := koe.Outbound{ID: "E1", To: "line:U1", RetryKey: "6f1c1f4e-8c53-4b5e-9a59-3f0a4b1e2d7c",
		ReplyToken: token, TokenIssuedAt: issued}
	for _, s := range texts {
		out.Replies = append(out.Replies, koe.Reply{Text: s})
	}
	return out
}

func metric(c *Client, op, result string) float64 {
	var m dto.Metric
	if err := c.requests.WithLabelValues("line", op, result).Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func TestSendReplyWhenFresh(t *testing.T) {
	t.Parallel()
	fl := fakeline.New(t)
	c, _ := newTestClient(t, fl, nil)
	tok := fakeline.ReplyToken("E1", "U1")
	if err := c.Send(t.Context(), outbound(tok, now.Add(-10*time.Second), "こんにちは")); err != nil {
		t.Fatal(err)
	}
	got := fl.Messages()
	if len(got) != 1 || got[0].Via != "reply" || got[0].User != "U1" || got[0].ReplyToken != tok || !reflect.DeepEqual(got[0].Texts, []string{"こんにちは"}) {
		t.Errorf("sent = %+v, want one reply to U1", got)
	}
	if n := fl.Requests("push"); n != 0 {
		t.Errorf("%d pushes, want 0", n)
	}
	if v := metric(c, "reply", "ok"); v != 1 {
		t.Errorf("reply ok metric = %v, want 1", v)
	}
}

func TestSendPushFallback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		issued     time.Time
		invalidate bool
		wantReply  int // reply requests expected
	}{
		{"stale token", now.Add(-DefaultReplyTokenTTL - time.Second), false, 0},
		{"invalid token", now.Add(-time.Second), true, 1},
		{"no token", time.Time{}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fl := fakeline.New(t)
			c, _ := newTestClient(t, fl, nil)
			out := outbound("", tt.issued, "hello")
			if !tt.issued.IsZero() {
				out.ReplyToken = fakeline.ReplyToken("E1", "U1")
			}
			if tt.invalidate {
				fl.InvalidateReplyToken(out.ReplyToken)
			}
			if err := c.Send(t.Context(), out); err != nil {
				t.Fatal(err)
			}
			got := fl.Messages()
			if len(got) != 1 || got[0].Via != "push" || got[0].User != "U1" || got[0].RetryKey != out.RetryKey {
				t.Errorf("sent = %+v, want one push to U1 with retry key %s", got, out.RetryKey)
			}
			if n := fl.Requests("reply"); n != tt.wantReply {
				t.Errorf("%d reply requests, want %d", n, tt.wantReply)
			}
		})
	}
}

func TestSendRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		failures   int
		status     int
		retryAfter string
		wantWaits  func([]time.Duration) error
	}{
		{"429 honours Retry-After", 1, http.StatusTooManyRequests, "2", func(w []time.Duration) error {
			if len(w) != 1 || w[0] != 2*time.Second {
				return fmt.Errorf("waits %v, want [2s]", w)
			}
			return nil
		}},
		{"429 with HTTP date", 1, http.StatusTooManyRequests, now.Add(3 * time.Second).Format(http.TimeFormat), func(w []time.Duration) error {
			if len(w) != 1 || w[0] != 3*time.Second {
				return fmt.Errorf("waits %v, want [3s]", w)
			}
			return nil
		}},
		{"500 backs off exponentially", 3, http.StatusInternalServerError, "", func(w []time.Duration) error {
			if len(w) != 3 {
				return fmt.Errorf("waits %v, want 3", w)
			}
			for i, d := range w {
				hi := 10 * time.Millisecond << i
				if d < hi/2 || d > hi {
					return fmt.Errorf("wait %d = %v, want in [%v, %v]", i, d, hi/2, hi)
				}
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fl := fakeline.New(t)
			c, w := newTestClient(t, fl, nil)
			fl.FailNext(tt.failures, tt.status, tt.retryAfter)
			if err := c.Send(t.Context(), outbound("", time.Time{}, "hi")); err != nil {
				t.Fatal(err)
			}
			if err := tt.wantWaits(w.all()); err != nil {
				t.Error(err)
			}
			if n := fl.Requests("push"); n != tt.failures+1 {
				t.Errorf("%d push requests, want %d", n, tt.failures+1)
			}
			if got := len(fl.Messages()); got != 1 {
				t.Errorf("%d messages recorded, want 1", got)
			}
			if v := metric(c, "push", "retry"); v != float64(tt.failures) {
				t.Errorf("retry metric = %v, want %d", v, tt.failures)
			}
		})
	}
}

func TestSendGivesUp(t *testing.T) {
	t.Parallel()
	fl := fakeline.New(t)
	c, _ := newTestClient(t, fl, func(cfg *ClientConfig) { cfg.MaxAttempts = 3 })
	fl.FailNext(10, http.StatusServiceUnavailable, "")
	err := c.Send(t.Context(), outbound("", time.Time{}, "hi"))
	if ae, ok := errors.AsType[*APIError](err); !ok || ae.Status != 503 || !ae.Temporary() {
		t.Fatalf("Send = %v, want a temporary 503 APIError", err)
	}
	if n := fl.Requests("push"); n != 3 {
		t.Errorf("%d push requests, want 3", n)
	}
	if v := metric(c, "push", "error"); v != 1 {
		t.Errorf("error metric = %v, want 1", v)
	}
}

func TestSendRetryAfterBeyondLimitGivesUp(t *testing.T) {
	t.Parallel()
	fl := fakeline.New(t)
	c, w := newTestClient(t, fl, nil)
	fl.FailNext(1, http.StatusTooManyRequests, "3600")
	if err := c.Send(t.Context(), outbound("", time.Time{}, "hi")); err == nil {
		t.Fatal("Send = nil, want error")
	}
	if len(w.all()) != 0 {
		t.Errorf("waited %v, want no wait", w.all())
	}
}

func TestSendDuplicatePushIsSuccess(t *testing.T) {
	t.Parallel()
	fl := fakeline.New(t)
	c, _ := newTestClient(t, fl, nil)
	out := outbound("", time.Time{}, "hi")
	for i := range 2 {
		if err := c.Send(t.Context(), out); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if n := fl.Requests("push"); n != 2 {
		t.Errorf("%d push requests, want 2", n)
	}
	if got := len(fl.Messages()); got != 1 {
		t.Errorf("%d messages recorded, want 1", got)
	}
}

func TestSendPermanentErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fresh   bool
		status  int
		wantOp  string
		wantReq map[string]int
	}{
		{"push 400", false, http.StatusBadRequest, "push", map[string]int{"push": 1}},
		{"push 403", false, http.StatusForbidden, "push", map[string]int{"push": 1}},
		{"reply 401 does not push", true, http.StatusUnauthorized, "reply", map[string]int{"reply": 1, "push": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fl := fakeline.New(t)
			c, w := newTestClient(t, fl, nil)
			out := outbound("", time.Time{}, "秘密の本文")
			if tt.fresh {
				out.ReplyToken, out.TokenIssuedAt = fakeline.ReplyToken("E1", "U1"), now
			}
			fl.FailNext(1, tt.status, "")
			err := c.Send(t.Context(), out)
			ae, ok := errors.AsType[*APIError](err)
			if !ok || ae.Status != tt.status || ae.Op != tt.wantOp || ae.Temporary() {
				t.Fatalf("Send = %v, want permanent %s %d", err, tt.wantOp, tt.status)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantOp) || !strings.Contains(msg, fmt.Sprint(tt.status)) {
				t.Errorf("error %q does not name op and status", msg)
			}
			if strings.Contains(msg, "fault injected") || strings.Contains(msg, "秘密") || strings.Contains(msg, "U1") {
				t.Errorf("error %q leaks body or user", msg)
			}
			for op, n := range tt.wantReq {
				if got := fl.Requests(op); got != n {
					t.Errorf("%d %s requests, want %d", got, op, n)
				}
			}
			if len(w.all()) != 0 {
				t.Errorf("retried a permanent error: waits %v", w.all())
			}
		})
	}
}

func TestSendWrongAccessToken(t *testing.T) {
	t.Parallel()
	fl := fakeline.New(t)
	c, _ := newTestClient(t, fl, func(cfg *ClientConfig) { cfg.AccessToken = "wrong" })
	err := c.Send(t.Context(), outbound("", time.Time{}, "hi"))
	if ae, ok := errors.AsType[*APIError](err); !ok || ae.Status != http.StatusUnauthorized {
		t.Errorf("Send = %v, want 401", err)
	}
}

func TestSendCallTimeout(t *testing.T) {
	t.Parallel()
	fl := fakeline.New(t)
	c, w := newTestClient(t, fl, func(cfg *ClientConfig) {
		cfg.CallTimeout = 50 * time.Millisecond
		cfg.MaxAttempts = 2
	})
	fl.HangNext(2)
	err := c.Send(t.Context(), outbound("", time.Time{}, "hi"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v, want a deadline error", err)
	}
	if n := fl.Requests("push"); n != 2 {
		t.Errorf("%d push requests, want 2", n)
	}
	if len(w.all()) != 1 {
		t.Errorf("waits %v, want one between the attempts", w.all())
	}
}

func TestSendContextDeadlineHonoured(t *testing.T) {
	t.Parallel()
	fl := fakeline.New(t)
	c, w := newTestClient(t, fl, func(cfg *ClientConfig) { cfg.Now = time.Now })
	fl.FailNext(10, http.StatusServiceUnavailable, "2")
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	err := c.Send(ctx, outbound("", time.Time{}, "hi"))
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("Send = %v, want an error about the deadline", err)
	}
	if n := fl.Requests("push"); n != 1 {
		t.Errorf("%d push requests, want 1 (the 2s Retry-After does not fit in 1s)", n)
	}
	if len(w.all()) != 0 {
		t.Errorf("waited %v past the deadline", w.all())
	}
}

func TestSendCancelledContext(t *testing.T) {
	t.Parallel()
	fl := fakeline.New(t)
	c, _ := newTestClient(t, fl, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.Send(ctx, outbound("", time.Time{}, "hi")); !errors.Is(err, context.Canceled) {
		t.Errorf("Send = %v, want context.Canceled", err)
	}
	if len(fl.Messages()) != 0 {
		t.Error("sent with a cancelled context")
	}
}

func TestSendMoreThanFiveMessages(t *testing.T) {
	t.Parallel()
	texts := []string{"1", "2", "3", "4", "5", "6", "7"}
	t.Run("reply then push", func(t *testing.T) {
		t.Parallel()
		fl := fakeline.New(t)
		c, _ := newTestClient(t, fl, nil)
		out := outbound(fakeline.ReplyToken("E1", "U1"), now, texts...)
		if err := c.Send(t.Context(), out); err != nil {
			t.Fatal(err)
		}
		got := fl.Messages()
		if len(got) != 2 || got[0].Via != "reply" || len(got[0].Texts) != 5 || got[1].Via != "push" || !reflect.DeepEqual(got[1].Texts, []string{"6", "7"}) {
			t.Fatalf("sent = %+v, want a reply of 5 and a push of 2", got)
		}
		if got[1].RetryKey == out.RetryKey || got[1].RetryKey != partKey(uuid.MustParse(out.RetryKey), 1) {
			t.Errorf("second part retry key %q, want the derived key", got[1].RetryKey)
		}
	})
	t.Run("pushes deduplicated on resend", func(t *testing.T) {
		t.Parallel()
		fl := fakeline.New(t)
		c, _ := newTestClient(t, fl, nil)
		out := outbound("", time.Time{}, texts...)
		for range 2 {
			if err := c.Send(t.Context(), out); err != nil {
				t.Fatal(err)
			}
		}
		got := fl.Messages()
		if len(got) != 2 || got[0].RetryKey != out.RetryKey || got[1].RetryKey == out.RetryKey {
			t.Fatalf("sent = %+v, want two pushes with distinct keys, the first out.RetryKey", got)
		}
		if n := fl.Requests("push"); n != 4 {
			t.Errorf("%d push requests, want 4 (2 accepted, 2 answered 409)", n)
		}
	})
}

func TestSendInvalidOutbound(t *testing.T) {
	t.Parallel()
	tests := map[string]func(*koe.Outbound){
		"no retry key":     func(o *koe.Outbound) { o.RetryKey = "" },
		"retry key not v4": func(o *koe.Outbound) { o.RetryKey = "abc" },
		"not a LINE user":  func(o *koe.Outbound) { o.To = "console:alice" },
		"empty user":       func(o *koe.Outbound) { o.To = "line:" },
		"long postback data": func(o *koe.Outbound) {
			o.Replies[0].QuickReplies = []koe.Action{{Kind: koe.ActionPostback, Label: "x", Data: strings.Repeat("d", 400)}}
		},
	}
	for name, mod := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fl := fakeline.New(t)
			c, _ := newTestClient(t, fl, nil)
			out := outbound("", time.Time{}, "hi")
			mod(&out)
			if err := c.Send(t.Context(), out); !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("Send = %v, want ErrInvalid", err)
			}
			if n := fl.Requests("push") + fl.Requests("reply"); n != 0 {
				t.Errorf("%d requests made", n)
			}
		})
	}
}

func TestSendNothingToSend(t *testing.T) {
	t.Parallel()
	fl := fakeline.New(t)
	c, _ := newTestClient(t, fl, nil)
	if err := c.Send(t.Context(), outbound("", time.Time{}, " ")); err != nil {
		t.Fatal(err)
	}
	if n := fl.Requests("push"); n != 0 {
		t.Errorf("%d pushes for an empty batch", n)
	}
}

func TestSendRendersCardsAndQuickReplies(t *testing.T) {
	t.Parallel()
	fl := fakeline.New(t)
	c, _ := newTestClient(t, fl, nil)
	out := outbound("", time.Time{})
	out.Replies = []koe.Reply{
		{Card: &koe.Card{Title: "事故受付", Fields: []koe.CardField{{Label: "番号", Value: "AR-1"}}}},
		{Text: "よろしいですか？", QuickReplies: []koe.Action{{Kind: koe.ActionPostback, Label: "はい、この内容で送信します", Data: "ok"}}},
	}
	if err := c.Send(t.Context(), out); err != nil {
		t.Fatal(err)
	}
	got := fl.Messages()
	if len(got) != 1 || !reflect.DeepEqual(got[0].Texts, []string{"事故受付", "よろしいですか？"}) ||
		!reflect.DeepEqual(got[0].QuickReplies, []string{"はい、この内容で送信します"}) {
		t.Errorf("sent = %+v", got)
	}
}

func TestShowLoadingRounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want int
	}{
		{0, 5}, {time.Second, 5}, {5 * time.Second, 5}, {5*time.Second + time.Millisecond, 10},
		{21 * time.Second, 25}, {59 * time.Second, 60}, {2 * time.Minute, 60}, {-time.Second, 5},
	}
	fl := fakeline.New(t)
	c, _ := newTestClient(t, fl, nil)
	for _, tt := range tests {
		if err := c.ShowLoading(t.Context(), "line:U1", tt.d); err != nil {
			t.Fatalf("ShowLoading(%v): %v", tt.d, err)
		}
	}
	got := fl.Loadings()
	if len(got) != len(tests) {
		t.Fatalf("%d loadings, want %d", len(got), len(tests))
	}
	for i, tt := range tests {
		if got[i] != (fakeline.Loading{ChatID: "U1", Seconds: tt.want}) {
			t.Errorf("ShowLoading(%v) sent %+v, want %d seconds for U1", tt.d, got[i], tt.want)
		}
	}
	if err := c.ShowLoading(t.Context(), "console:x", time.Second); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("ShowLoading(console user) = %v, want ErrInvalid", err)
	}
}

func TestGetContent(t *testing.T) {
	t.Parallel()
	img := bytes.Repeat([]byte{0xFF, 0xD8, 0x01}, 100)
	tests := []struct {
		name      string
		preparing int
		maxBytes  int64
		id        string
		wantErr   error
		wantReqs  int
	}{
		{"ready", 0, 1 << 20, "m1", nil, 1},
		{"202 then 200", 2, 1 << 20, "m1", nil, 3},
		{"exactly the cap", 0, int64(len(img)), "m1", nil, 1},
		{"over the cap", 0, 10, "m1", ErrContentTooLarge, 1},
		{"not found", 0, 1 << 20, "nope", koe.ErrNotFound, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fl := fakeline.New(t)
			c, _ := newTestClient(t, fl, nil)
			fl.SetContent("m1", "image/jpeg", img, tt.preparing)
			data, ct, err := c.GetContent(t.Context(), tt.id, tt.maxBytes)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("GetContent = %v, want %v", err, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(data, img) || ct != "image/jpeg" {
					t.Errorf("got %d bytes of %q, want %d of image/jpeg", len(data), ct, len(img))
				}
			}
			if n := fl.Requests("content"); n != tt.wantReqs {
				t.Errorf("%d content requests, want %d", n, tt.wantReqs)
			}
		})
	}
}

func TestGetContentStillPreparingGivesUp(t *testing.T) {
	t.Parallel()
	fl := fakeline.New(t)
	c, _ := newTestClient(t, fl, func(cfg *ClientConfig) { cfg.MaxAttempts = 2 })
	fl.SetContent("m1", "image/png", []byte("x"), 5)
	if _, _, err := c.GetContent(t.Context(), "m1", 0); err == nil {
		t.Fatal("GetContent = nil error, want still preparing")
	}
	if n := fl.Requests("content"); n != 2 {
		t.Errorf("%d content requests, want 2", n)
	}
}

func TestNewClientMetricsRegisterTwice(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	for i := range 2 {
		if _, err := NewClient(ClientConfig{AccessToken: "x", Registerer: reg}); err != nil {
			t.Fatalf("NewClient %d: %v", i, err)
		}
	}
	if _, err := NewClient(ClientConfig{}); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("NewClient without token = %v, want ErrInvalid", err)
	}
	if _, err := NewClient(ClientConfig{AccessToken: "x", APIBaseURL: "not a url"}); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("NewClient with bad URL = %v, want ErrInvalid", err)
	}
}
