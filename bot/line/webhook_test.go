package line_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/line"
	"github.com/koehq/koe/internal/fakeline"
)

const secret = "test-channel-secret"

// recordingInbox is a fake inbox that records each Append call.
type recordingInbox struct {
	mu    sync.Mutex
	calls [][]koe.Message
	seen  map[string]bool
	err   error
}

func (r *recordingInbox) Append(_ context.Context, msgs ...koe.Message) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	r.calls = append(r.calls, msgs)
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	added := 0
	for _, m := range msgs {
		if !r.seen[m.ID] {
			r.seen[m.ID] = true
			added++
		}
	}
	return added, nil
}

func (r *recordingInbox) Calls() [][]koe.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]koe.Message(nil), r.calls...)
}

func newWebhook(t testing.TB, inbox line.Appender, notify func()) *line.Webhook {
	t.Helper()
	h, err := line.NewWebhook(line.WebhookConfig{ChannelSecret: secret, Inbox: inbox, MaxBodyBytes: 4096, Notify: notify})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestNewWebhookValidates(t *testing.T) {
	for name, cfg := range map[string]line.WebhookConfig{
		"no secret": {Inbox: &recordingInbox{}},
		"no inbox":  {ChannelSecret: secret},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := line.NewWebhook(cfg); !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("NewWebhook = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestWebhookFailureCases(t *testing.T) {
	t.Parallel()
	text := fakeline.Body(fakeline.TextEvent("E1", "U1", "hello"))
	big := fakeline.Body(fakeline.TextEvent("E1", "U1", strings.Repeat("x", 5000)))
	tests := []struct {
		name       string
		req        func() *http.Request
		appendErr  error
		wantStatus int
		wantIDs    []string // nil: Append must not be called
	}{
		{"wrong method", func() *http.Request {
			r := fakeline.NewWebhookRequest("/webhooks/line", secret, text)
			r.Method = http.MethodGet
			return r
		}, nil, http.StatusMethodNotAllowed, nil},
		{"oversize body", func() *http.Request {
			return fakeline.NewWebhookRequest("/webhooks/line", secret, big)
		}, nil, http.StatusRequestEntityTooLarge, nil},
		{"missing signature", func() *http.Request {
			r := fakeline.NewWebhookRequest("/webhooks/line", secret, text)
			r.Header.Del("X-Line-Signature")
			return r
		}, nil, http.StatusUnauthorized, nil},
		{"forged signature", func() *http.Request {
			return fakeline.NewWebhookRequest("/webhooks/line", "other-secret", text)
		}, nil, http.StatusUnauthorized, nil},
		{"signature of another body", func() *http.Request {
			r := fakeline.NewWebhookRequest("/webhooks/line", secret, text)
			r.Header.Set("X-Line-Signature", fakeline.Sign(secret, fakeline.Body()))
			return r
		}, nil, http.StatusUnauthorized, nil},
		{"signature not base64", func() *http.Request {
			r := fakeline.NewWebhookRequest("/webhooks/line", secret, text)
			r.Header.Set("X-Line-Signature", "!!!")
			return r
		}, nil, http.StatusUnauthorized, nil},
		{"malformed JSON", func() *http.Request {
			return fakeline.NewWebhookRequest("/webhooks/line", secret, []byte(`{"events":[{"type":`))
		}, nil, http.StatusBadRequest, nil},
		{"events not an array", func() *http.Request {
			return fakeline.NewWebhookRequest("/webhooks/line", secret, []byte(`{"events":{}}`))
		}, nil, http.StatusBadRequest, nil},
		{"empty events", func() *http.Request {
			return fakeline.NewWebhookRequest("/webhooks/line", secret, []byte(`{"destination":"U0","events":[]}`))
		}, nil, http.StatusOK, nil},
		{"standby ignored", func() *http.Request {
			return fakeline.NewWebhookRequest("/webhooks/line", secret, fakeline.Body(fakeline.TextEvent("E1", "U1", "hi").Standby()))
		}, nil, http.StatusOK, nil},
		{"unknown event type ignored", func() *http.Request {
			return fakeline.NewWebhookRequest("/webhooks/line", secret, fakeline.Body(fakeline.RawEvent("somethingNew", "E1", "U1")))
		}, nil, http.StatusOK, nil},
		{"unhandled event type ignored", func() *http.Request {
			return fakeline.NewWebhookRequest("/webhooks/line", secret, fakeline.Body(fakeline.RawEvent("beacon", "E1", "U1")))
		}, nil, http.StatusOK, nil},
		{"video message ignored", func() *http.Request {
			return fakeline.NewWebhookRequest("/webhooks/line", secret, fakeline.Body(fakeline.VideoEvent("E1", "U1")))
		}, nil, http.StatusOK, nil},
		{"group and room ignored", func() *http.Request {
			return fakeline.NewWebhookRequest("/webhooks/line", secret, fakeline.Body(
				fakeline.TextEvent("E1", "U1", "hi").FromGroup("G1"),
				fakeline.TextEvent("E2", "U1", "hi").FromRoom("R1")))
		}, nil, http.StatusOK, nil},
		{"ignored events skipped, others kept in order", func() *http.Request {
			return fakeline.NewWebhookRequest("/webhooks/line", secret, fakeline.Body(
				fakeline.TextEvent("E1", "U1", "a"),
				fakeline.TextEvent("E2", "U1", "b").Standby(),
				fakeline.RawEvent("join", "E3", "U1"),
				fakeline.FollowEvent("E4", "U2")))
		}, nil, http.StatusOK, []string{"E1", "E4"}},
		{"append failure", func() *http.Request {
			return fakeline.NewWebhookRequest("/webhooks/line", secret, text)
		}, errors.New("disk full"), http.StatusInternalServerError, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inbox := &recordingInbox{err: tt.appendErr}
			w := serve(newWebhook(t, inbox, nil), tt.req())
			if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			calls := inbox.Calls()
			if tt.wantIDs == nil {
				if len(calls) != 0 {
					t.Errorf("Append called %d times, want none", len(calls))
				}
				return
			}
			if len(calls) != 1 {
				t.Fatalf("Append called %d times, want 1", len(calls))
			}
			var ids []string
			for _, m := range calls[0] {
				ids = append(ids, m.ID)
			}
			if !reflect.DeepEqual(ids, tt.wantIDs) {
				t.Errorf("appended ids = %v, want %v", ids, tt.wantIDs)
			}
		})
	}
}

func TestWebhookMapsEvents(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 22, 5, 0, 0, 123e6, time.UTC)
	tests := []struct {
		name  string
		event fakeline.Event
		want  koe.Message
	}{
		{"text", fakeline.TextEvent("E1", "U1", "事故にあいました"), koe.Message{
			Kind: koe.KindText, Text: "事故にあいました", ReplyToken: fakeline.ReplyToken("E1", "U1")}},
		{"location", fakeline.LocationEvent("E1", "U1", "東京駅", "東京都千代田区", 35.681, 139.767), koe.Message{
			Kind: koe.KindLocation, ReplyToken: fakeline.ReplyToken("E1", "U1"),
			Location: &koe.Location{Title: "東京駅", Address: "東京都千代田区", Latitude: 35.681, Longitude: 139.767}}},
		{"image", fakeline.ImageEvent("E1", "U1"), koe.Message{
			Kind: koe.KindImage, ReplyToken: fakeline.ReplyToken("E1", "U1"), Image: &koe.Image{ContentID: "m-E1"}}},
		{"sticker", fakeline.StickerEvent("E1", "U1", "446", "1988", "Happy", "OK"), koe.Message{
			Kind: koe.KindSticker, ReplyToken: fakeline.ReplyToken("E1", "U1"),
			Sticker: &koe.Sticker{PackageID: "446", StickerID: "1988", Keywords: []string{"Happy", "OK"}}}},
		{"postback", fakeline.PostbackEvent("E1", "U1", "action=yes", nil), koe.Message{
			Kind: koe.KindPostback, ReplyToken: fakeline.ReplyToken("E1", "U1"), Postback: &koe.Postback{Data: "action=yes"}}},
		{"postback datetime", fakeline.PostbackEvent("E1", "U1", "step=when", map[string]string{
			"datetime": "2026-11-22T14:00", "newRichMenuAliasId": "x"}), koe.Message{
			Kind: koe.KindPostback, ReplyToken: fakeline.ReplyToken("E1", "U1"),
			Postback: &koe.Postback{Data: "step=when", Params: map[string]string{"datetime": "2026-11-22T14:00"}}}},
		{"postback date and time", fakeline.PostbackEvent("E1", "U1", "d", map[string]string{"date": "2026-11-22", "time": "14:00"}), koe.Message{
			Kind: koe.KindPostback, ReplyToken: fakeline.ReplyToken("E1", "U1"),
			Postback: &koe.Postback{Data: "d", Params: map[string]string{"date": "2026-11-22", "time": "14:00"}}}},
		{"follow", fakeline.FollowEvent("E1", "U1"), koe.Message{Kind: koe.KindFollow, ReplyToken: fakeline.ReplyToken("E1", "U1")}},
		{"unfollow", fakeline.UnfollowEvent("E1", "U1"), koe.Message{Kind: koe.KindUnfollow}},
		{"redelivery", fakeline.TextEvent("E1", "U1", "hi").Redelivered(), koe.Message{
			Kind: koe.KindText, Text: "hi", ReplyToken: fakeline.ReplyToken("E1", "U1"), Redelivery: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inbox := &recordingInbox{}
			notified := 0
			body := fakeline.Body(tt.event.At(at))
			w := serve(newWebhook(t, inbox, func() { notified++ }), fakeline.NewWebhookRequest("/webhooks/line", secret, body))
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", w.Code)
			}
			calls := inbox.Calls()
			if len(calls) != 1 || len(calls[0]) != 1 {
				t.Fatalf("appended %v, want one call with one message", calls)
			}
			want := tt.want
			want.ID, want.User, want.SentAt = "E1", koe.UserID("line:U1"), at
			if got := calls[0][0]; !reflect.DeepEqual(got, want) {
				t.Errorf("message =\n%#v\nwant\n%#v", got, want)
			}
			if notified != 1 {
				t.Errorf("Notify called %d times, want 1", notified)
			}
		})
	}
}

func TestWebhookNotifyOnlyForNewMessages(t *testing.T) {
	t.Parallel()
	inbox := &recordingInbox{}
	notified := 0
	h := newWebhook(t, inbox, func() { notified++ })
	body := fakeline.Body(fakeline.TextEvent("E1", "U1", "hi"))
	for range 2 {
		if w := serve(h, fakeline.NewWebhookRequest("/webhooks/line", secret, body)); w.Code != http.StatusOK {
			t.Fatalf("status = %d", w.Code)
		}
	}
	if got := len(inbox.Calls()); got != 2 {
		t.Errorf("Append calls = %d, want 2", got)
	}
	if notified != 1 {
		t.Errorf("Notify called %d times, want 1 (second delivery added nothing)", notified)
	}
}

func FuzzWebhook(f *testing.F) {
	f.Add(fakeline.Body(fakeline.TextEvent("E1", "U1", "hello")), "", true)
	f.Add(fakeline.Body(fakeline.PostbackEvent("E2", "U1", "a=b", map[string]string{"date": "2026-01-01"}),
		fakeline.FollowEvent("E3", "U2"), fakeline.ImageEvent("E4", "U3")), "", true)
	f.Add(fakeline.Body(fakeline.StickerEvent("E5", "U1", "1", "2", "k"), fakeline.LocationEvent("E6", "U1", "t", "a", 1, 2)), "", true)
	f.Add(fakeline.Body(fakeline.TextEvent("E1", "U1", "x").Standby().FromGroup("G")), "", true)
	f.Add([]byte(`{"events":[]}`), "", true)
	f.Add([]byte(`{"events":[{"type":"message","message":null}]}`), "", true)
	f.Add([]byte(`{"events":[{"type":"message","source":{"type":"user","userId":"U"},"webhookEventId":"E","message":{"type":"text"}}]}`), "x", false)
	f.Add([]byte(`null`), "", true)
	f.Fuzz(func(t *testing.T, body []byte, sig string, signIt bool) {
		inbox := &recordingInbox{}
		h, err := line.NewWebhook(line.WebhookConfig{ChannelSecret: secret, Inbox: inbox})
		if err != nil {
			t.Fatal(err)
		}
		valid := fakeline.Sign(secret, body)
		if signIt {
			sig = valid
		}
		r := httptest.NewRequest(http.MethodPost, "/webhooks/line", bytes.NewReader(body))
		r.Header.Set("X-Line-Signature", sig)
		w := serve(h, r)
		// Judge the signature independently of the handler: base64 has
		// several spellings of the same bytes, so compare decoded MACs.
		want, _ := base64.StdEncoding.DecodeString(valid)
		got, err := base64.StdEncoding.DecodeString(sig)
		signed := err == nil && bytes.Equal(got, want)
		if !signed {
			if w.Code != http.StatusUnauthorized {
				t.Errorf("unsigned body: status %d, want 401", w.Code)
			}
			if n := len(inbox.Calls()); n != 0 {
				t.Errorf("unsigned body appended %d times", n)
			}
			return
		}
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest:
		default:
			t.Errorf("signed body: status %d, want 200 or 400", w.Code)
		}
		for _, call := range inbox.Calls() {
			for _, m := range call {
				if m.ID == "" || !m.User.Valid() || m.User.Channel() != koe.ChannelLINE {
					t.Errorf("appended message without id or LINE user: %v", m)
				}
			}
		}
	})
}
