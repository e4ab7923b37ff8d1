package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe/bot/slack"
	"github.com/koehq/koe/internal/fakeslack"
)

const secret = "test-signing-secret"

// recorder is a fake set of callbacks that records what it was given.
type recorder struct {
	mu        sync.Mutex
	actions   []slack.Action
	submits   []slack.Submission
	replies   []slack.ThreadReply
	commands  []slack.Command
	err       error
	submitErr error
	answer    slack.Message
}

func (r *recorder) onAction(ctx context.Context, a slack.Action) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.actions = append(r.actions, a)
	return r.err
}

func (r *recorder) onSubmit(ctx context.Context, s slack.Submission) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.submits = append(r.submits, s)
	if r.submitErr != nil {
		return r.submitErr
	}
	return r.err
}

func (r *recorder) onReply(ctx context.Context, t slack.ThreadReply) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.replies = append(r.replies, t)
	return r.err
}

func (r *recorder) onCommand(ctx context.Context, c slack.Command) (slack.Message, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.commands = append(r.commands, c)
	return r.answer, r.err
}

func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.actions) + len(r.submits) + len(r.replies) + len(r.commands)
}

func handlers(rec *recorder, max int64) map[string]http.Handler {
	return map[string]http.Handler{
		"interactions": slack.NewInteractionsHandler(slack.InteractionsConfig{SigningSecret: secret, OnAction: rec.onAction, OnSubmit: rec.onSubmit, MaxBodyBytes: max}),
		"events":       slack.NewEventsHandler(slack.EventsConfig{SigningSecret: secret, OnThreadReply: rec.onReply, MaxBodyBytes: max}),
		"commands":     slack.NewCommandsHandler(slack.CommandsConfig{SigningSecret: secret, OnCommand: rec.onCommand, MaxBodyBytes: max}),
	}
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// validBodies are bodies each handler would pass to its callback when
// signed correctly.
func validBodies() map[string][]byte {
	return map[string][]byte{
		"interactions": fakeslack.BlockActionPayload(fakeslack.BlockAction{UserID: "U1", ChannelID: "C1", MessageTS: "1700000000.000100", ActionID: "case.take", Value: "C-1"}),
		"events":       fakeslack.EventCallback("Ev1", fakeslack.ThreadMessage("C1", "1700000000.000100", "1700000001.000200", "U1", "返信")),
		"commands":     fakeslack.SlashCommand("/koe", "status C-1", "U1", "C1"),
	}
}

func TestHandlersRefuseBadRequests(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name   string
		req    func(body []byte) *http.Request
		status int
	}{
		{"forged signature", func(b []byte) *http.Request { return fakeslack.SignedRequest("wrong-secret", "/x", b, now) }, 401},
		{"stale timestamp", func(b []byte) *http.Request { return fakeslack.SignedRequest(secret, "/x", b, now.Add(-6*time.Minute)) }, 401},
		{"future timestamp", func(b []byte) *http.Request { return fakeslack.SignedRequest(secret, "/x", b, now.Add(6*time.Minute)) }, 401},
		{"missing headers", func(b []byte) *http.Request {
			r := fakeslack.SignedRequest(secret, "/x", b, now)
			r.Header.Del("X-Slack-Signature")
			r.Header.Del("X-Slack-Request-Timestamp")
			return r
		}, 401},
		{"missing signature", func(b []byte) *http.Request {
			r := fakeslack.SignedRequest(secret, "/x", b, now)
			r.Header.Del("X-Slack-Signature")
			return r
		}, 401},
		{"malformed signature", func(b []byte) *http.Request {
			r := fakeslack.SignedRequest(secret, "/x", b, now)
			r.Header.Set("X-Slack-Signature", "v0=zz")
			return r
		}, 401},
		{"v1 signature", func(b []byte) *http.Request {
			r := fakeslack.SignedRequest(secret, "/x", b, now)
			r.Header.Set("X-Slack-Signature", strings.Replace(r.Header.Get("X-Slack-Signature"), "v0=", "v1=", 1))
			return r
		}, 401},
		{"malformed timestamp", func(b []byte) *http.Request {
			r := fakeslack.SignedRequest(secret, "/x", b, now)
			r.Header.Set("X-Slack-Request-Timestamp", "soon")
			return r
		}, 401},
		{"body changed after signing", func(b []byte) *http.Request {
			r := fakeslack.SignedRequest(secret, "/x", b, now)
			r.Body = httpBody(append(bytes.Clone(b), 'x'))
			return r
		}, 401},
		{"signature of another timestamp", func(b []byte) *http.Request {
			r := fakeslack.SignedRequest(secret, "/x", b, now)
			r.Header.Set("X-Slack-Request-Timestamp", fakeslackTS(now.Add(-time.Second)))
			return r
		}, 401},
		{"oversize", func(b []byte) *http.Request {
			big := append(bytes.Clone(b), []byte("&pad="+strings.Repeat("x", 4096))...)
			return fakeslack.SignedRequest(secret, "/x", big, now)
		}, 413},
		{"GET", func(b []byte) *http.Request {
			r := fakeslack.SignedRequest(secret, "/x", b, now)
			r.Method = http.MethodGet
			return r
		}, 405},
	}
	for name, body := range validBodies() {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				rec := &recorder{}
				h := handlers(rec, 2048)[name]
				w := serve(h, tt.req(body))
				if w.Code != tt.status {
					t.Errorf("status = %d, want %d", w.Code, tt.status)
				}
				if n := rec.calls(); n != 0 {
					t.Errorf("callbacks called %d times, want 0", n)
				}
			})
		}
		// The same body, signed, reaches the callback: the table above is
		// not refusing everything.
		t.Run(name+"/valid", func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			w := serve(handlers(rec, 2048)[name], fakeslack.SignedRequest(secret, "/x", body, now))
			if w.Code != 200 || rec.calls() != 1 {
				t.Errorf("status = %d, calls = %d, want 200 and 1", w.Code, rec.calls())
			}
		})
	}
}

func TestHandlersNoSecretRefusesAll(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	h := slack.NewInteractionsHandler(slack.InteractionsConfig{OnAction: rec.onAction})
	body := validBodies()["interactions"]
	if w := serve(h, fakeslack.SignedRequest("", "/x", body, time.Now())); w.Code != 401 || rec.calls() != 0 {
		t.Errorf("status = %d, calls = %d, want 401 and 0", w.Code, rec.calls())
	}
}

func TestInteractionsBadPayloads(t *testing.T) {
	t.Parallel()
	form := func(payload string) []byte { return []byte(url.Values{"payload": {payload}}.Encode()) }
	tests := []struct {
		name   string
		body   []byte
		status int
	}{
		{"bad form", []byte("payload=%zz"), 400},
		{"no payload", []byte("foo=bar"), 400},
		{"payload not JSON", form("{not json"), 400},
		{"payload wrong shape", form(`{"type":"block_actions","actions":"x"}`), 400},
		{"unknown type", form(`{"type":"shortcut","callback_id":"x","trigger_id":"t"}`), 200},
		{"view closed", form(`{"type":"view_closed","view":{"id":"V1"}}`), 200},
		{"block actions without actions", form(`{"type":"block_actions","actions":[]}`), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			w := serve(handlers(rec, 0)["interactions"], fakeslack.SignedRequest(secret, "/x", tt.body, time.Now()))
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			if rec.calls() != 0 {
				t.Errorf("callbacks called %d times, want 0", rec.calls())
			}
		})
	}
}

func TestInteractionsBlockAction(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	h := handlers(rec, 0)["interactions"]
	body := fakeslack.BlockActionPayload(fakeslack.BlockAction{
		UserID: "U1", UserName: "sato", ChannelID: "C1", MessageTS: "1700000000.000100", ThreadTS: "1699999999.000001",
		BlockID: "b1", ActionID: "case.take", Value: "C-1", ActionTS: "1700000005.123456", TriggerID: "trig-1",
	})
	w := serve(h, fakeslack.SignedRequest(secret, "/x", body, time.Now()))
	if w.Code != 200 || w.Body.Len() != 0 {
		t.Fatalf("status = %d body %q, want 200 empty", w.Code, w.Body)
	}
	if len(rec.actions) != 1 {
		t.Fatalf("actions = %d, want 1", len(rec.actions))
	}
	a := rec.actions[0]
	want := slack.Action{
		ID: "ba:1700000000.000100:case.take:1700000005.123456", ActionID: "case.take", BlockID: "b1", Value: "C-1",
		UserID: "U1", UserName: "sato", ChannelID: "C1", MessageTS: "1700000000.000100", ThreadTS: "1699999999.000001",
		TriggerID: "trig-1", ResponseURL: a.ResponseURL, At: time.Unix(1700000005, 123456000).UTC(),
	}
	if a != want {
		t.Errorf("action =\n%+v\nwant\n%+v", a, want)
	}
	if a.ResponseURL == "" {
		t.Error("no response url")
	}

	// The callback's error answers 500.
	rec.err = errors.New("inbox down")
	if w := serve(h, fakeslack.SignedRequest(secret, "/x", body, time.Now())); w.Code != 500 {
		t.Errorf("status with failing callback = %d, want 500", w.Code)
	}
}

func TestInteractionsViewSubmission(t *testing.T) {
	t.Parallel()
	body := fakeslack.ViewSubmissionPayload(fakeslack.ViewSubmission{
		UserID: "U2", UserName: "suzuki", ViewID: "V9", CallbackID: "complaint.close", PrivateMetadata: "C-42", TriggerID: "trig-9",
		Texts:    map[string]string{"cause": "説明不足", "action": "再説明"},
		Selected: map[string]string{"topic": "claims"},
	})
	tests := []struct {
		name      string
		submitErr error
		status    int
		response  string
	}{
		{"accepted", nil, 200, ""},
		{"validation errors", &slack.ValidationError{Errors: map[string]string{"cause": "原因を入力してください"}}, 200,
			`{"response_action":"errors","errors":{"cause":"原因を入力してください"}}`},
		{"wrapped validation errors", errors.Join(errors.New("x"), &slack.ValidationError{Errors: map[string]string{"a": "b"}}), 200,
			`{"response_action":"errors","errors":{"a":"b"}}`},
		{"failure", errors.New("store down"), 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{submitErr: tt.submitErr}
			w := serve(handlers(rec, 0)["interactions"], fakeslack.SignedRequest(secret, "/x", body, time.Now()))
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d", w.Code, tt.status)
			}
			if tt.response != "" {
				if got := strings.TrimSpace(w.Body.String()); got != tt.response {
					t.Errorf("body = %s, want %s", got, tt.response)
				}
				if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("content type = %q", ct)
				}
			} else if tt.status == 200 && w.Body.Len() != 0 {
				t.Errorf("body = %q, want empty", w.Body)
			}
			if len(rec.submits) != 1 {
				t.Fatalf("submits = %d, want 1", len(rec.submits))
			}
			s := rec.submits[0]
			if s.ID != "vs:V9:trig-9" || s.CallbackID != "complaint.close" || s.PrivateMetadata != "C-42" || s.ViewID != "V9" ||
				s.UserID != "U2" || s.UserName != "suzuki" {
				t.Errorf("submission = %+v", s)
			}
			wantValues := map[string]string{"cause": "説明不足", "action": "再説明", "topic": "claims"}
			if len(s.Values) != len(wantValues) {
				t.Errorf("values = %v, want %v", s.Values, wantValues)
			}
			for k, v := range wantValues {
				if s.Values[k] != v {
					t.Errorf("values[%s] = %q, want %q", k, s.Values[k], v)
				}
			}
		})
	}
}

func TestCallbackContextBounded(t *testing.T) {
	t.Parallel()
	var deadline, entered time.Time
	var ok bool
	h := slack.NewInteractionsHandler(slack.InteractionsConfig{
		SigningSecret: secret,
		AckTimeout:    50 * time.Millisecond,
		OnAction: func(ctx context.Context, a slack.Action) error {
			entered = time.Now()
			deadline, ok = ctx.Deadline()
			<-ctx.Done()
			return ctx.Err()
		},
	})
	w := serve(h, fakeslack.SignedRequest(secret, "/x", validBodies()["interactions"], time.Now()))
	if w.Code != 500 {
		t.Errorf("status = %d, want 500 for a callback past its deadline", w.Code)
	}
	if !ok || deadline.Sub(entered) > 50*time.Millisecond {
		t.Errorf("callback deadline = %v after entry (set %v), want ≤ 50ms", deadline.Sub(entered), ok)
	}
}

func TestEvents(t *testing.T) {
	t.Parallel()
	reply := fakeslack.ThreadMessage("C1", "1700000000.000100", "1700000001.000200", "U1", "お待たせしました <@U9>")
	bot := fakeslack.ThreadMessage("C1", "1700000000.000100", "1700000001.000300", "", "bot says")
	bot["bot_id"] = "B1"
	botWithUser := fakeslack.ThreadMessage("C1", "1700000000.000100", "1700000001.000301", "U0BOT", "bot says")
	botWithUser["bot_id"] = fakeslack.BotID
	changed := fakeslack.ThreadMessage("C1", "1700000000.000100", "1700000001.000400", "U1", "edited")
	changed["subtype"] = "message_changed"
	broadcast := fakeslack.ThreadMessage("C1", "1700000000.000100", "1700000001.000500", "U1", "also to channel")
	broadcast["subtype"] = "thread_broadcast"
	tests := []struct {
		name    string
		body    []byte
		retry   string
		status  int
		replies int
		resp    string
	}{
		{"url verification", fakeslack.URLVerification("chal-123"), "", 200, 0, `{"challenge":"chal-123"}`},
		{"thread reply", fakeslack.EventCallback("Ev1", reply), "", 200, 1, ""},
		{"thread reply retried", fakeslack.EventCallback("Ev1", reply), "2", 200, 1, ""},
		{"thread broadcast", fakeslack.EventCallback("Ev2", broadcast), "", 200, 1, ""},
		{"top-level message", fakeslack.EventCallback("Ev3", fakeslack.ThreadMessage("C1", "", "1700000001.1", "U1", "hi")), "", 200, 0, ""},
		{"thread parent", fakeslack.EventCallback("Ev4", fakeslack.ThreadMessage("C1", "1700000001.1", "1700000001.1", "U1", "hi")), "", 200, 0, ""},
		{"bot message", fakeslack.EventCallback("Ev5", bot), "", 200, 0, ""},
		{"own bot with user", fakeslack.EventCallback("Ev6", botWithUser), "", 200, 0, ""},
		{"edit", fakeslack.EventCallback("Ev7", changed), "", 200, 0, ""},
		{"other event", fakeslack.EventCallback("Ev8", map[string]any{"type": "reaction_added", "user": "U1", "reaction": "eyes"}), "", 200, 0, ""},
		{"unknown event", fakeslack.EventCallback("Ev9", map[string]any{"type": "no_such_event"}), "", 200, 0, ""},
		{"app rate limited", []byte(`{"type":"app_rate_limited","token":"x","team_id":"T1","minute_rate_limited":1518467820,"api_app_id":"A1"}`), "", 200, 0, ""},
		{"malformed json", []byte(`{"type":`), "", 400, 0, ""},
		{"callback without event", []byte(`{"type":"event_callback","event_id":"Ev10"}`), "", 400, 0, ""},
		{"malformed message", []byte(`{"type":"event_callback","event_id":"Ev11","event":{"type":"message","ts":5}}`), "", 400, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			r := fakeslack.SignedRequest(secret, "/x", tt.body, time.Now())
			if tt.retry != "" {
				r.Header.Set("X-Slack-Retry-Num", tt.retry)
				r.Header.Set("X-Slack-Retry-Reason", "http_timeout")
			}
			w := serve(handlers(rec, 0)["events"], r)
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			if tt.resp != "" && strings.TrimSpace(w.Body.String()) != tt.resp {
				t.Errorf("body = %s, want %s", w.Body, tt.resp)
			}
			if len(rec.replies) != tt.replies {
				t.Fatalf("replies = %d, want %d", len(rec.replies), tt.replies)
			}
			if tt.replies == 0 {
				return
			}
			got := rec.replies[0]
			if got.EventID == "" || got.ChannelID != "C1" || got.ThreadTS != "1700000000.000100" || got.UserID != "U1" || got.At.IsZero() {
				t.Errorf("reply = %+v", got)
			}
			if tt.name == "thread reply" && (got.Text != "お待たせしました <@U9>" || got.Retry || got.TS != "1700000001.000200") {
				t.Errorf("reply = %+v", got)
			}
			if tt.retry != "" && (!got.Retry || got.RetryNum != 2) {
				t.Errorf("reply retry = %v/%d, want true/2", got.Retry, got.RetryNum)
			}
		})
	}

	t.Run("callback error", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{err: errors.New("inbox down")}
		w := serve(handlers(rec, 0)["events"], fakeslack.SignedRequest(secret, "/x", fakeslack.EventCallback("Ev1", reply), time.Now()))
		if w.Code != 500 {
			t.Errorf("status = %d, want 500 so Slack retries", w.Code)
		}
	})
}

func TestCommands(t *testing.T) {
	t.Parallel()
	rec := &recorder{answer: slack.Message{Text: "C-1 は対応中です <!channel>", Fields: []slack.Field{{Label: "状態", Value: "対応中"}}}}
	h := handlers(rec, 0)["commands"]
	w := serve(h, fakeslack.SignedRequest(secret, "/x", fakeslack.SlashCommand("/koe", "status C-1", "U1", "C1"), time.Now()))
	if w.Code != 200 {
		t.Fatalf("status = %d", w.Code)
	}
	var resp struct {
		ResponseType string            `json:"response_type"`
		Text         string            `json:"text"`
		Blocks       []json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("body %s: %v", w.Body, err)
	}
	if resp.ResponseType != "ephemeral" || resp.Text != "C-1 は対応中です &lt;!channel&gt;" || len(resp.Blocks) != 1 {
		t.Errorf("response = %+v", resp)
	}
	c := rec.commands[0]
	if c.Command != "/koe" || c.Text != "status C-1" || c.UserID != "U1" || c.ChannelID != "C1" || c.TriggerID == "" || c.ResponseURL == "" {
		t.Errorf("command = %+v", c)
	}

	tests := []struct {
		name   string
		rec    *recorder
		body   []byte
		status int
		empty  bool
	}{
		{"callback error", &recorder{err: errors.New("x")}, fakeslack.SlashCommand("/koe", "", "U1", "C1"), 500, false},
		{"zero answer", &recorder{}, fakeslack.SlashCommand("/koe", "", "U1", "C1"), 200, true},
		{"no command", &recorder{}, []byte("text=hello&user_id=U1"), 400, true},
		{"bad form", &recorder{}, []byte("command=%zz"), 400, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := serve(handlers(tt.rec, 0)["commands"], fakeslack.SignedRequest(secret, "/x", tt.body, time.Now()))
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			if tt.status == 200 && tt.empty && w.Body.Len() != 0 {
				t.Errorf("body = %q, want empty", w.Body)
			}
		})
	}
}
