package fakeline_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/koehq/koe/internal/fakeline"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

func post(t *testing.T, s *fakeline.Server, path, token, retryKey, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if retryKey != "" {
		req.Header.Set("X-Line-Retry-Key", retryKey)
	}
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestServerRules(t *testing.T) {
	t.Parallel()
	s := fakeline.New(t)
	tok := fakeline.ReplyToken("E1", "U1")
	reply := `{"replyToken":"` + tok + `","messages":[{"type":"text","text":"hi"}]}`
	push := `{"to":"U2","messages":[{"type":"text","text":"yo"}]}`
	key := "6f1c1f4e-8c53-4b5e-9a59-3f0a4b1e2d7c"
	steps := []struct {
		name             string
		path, token, key string
		body             string
		want             int
	}{
		{"bad bearer", "/v2/bot/message/reply", "nope", "", reply, 401},
		{"reply", "/v2/bot/message/reply", fakeline.AccessToken, "", reply, 200},
		{"reused token", "/v2/bot/message/reply", fakeline.AccessToken, "", reply, 400},
		{"push", "/v2/bot/message/push", fakeline.AccessToken, key, push, 200},
		{"repeated retry key", "/v2/bot/message/push", fakeline.AccessToken, key, push, 409},
		{"retry key not a UUID", "/v2/bot/message/push", fakeline.AccessToken, "x", push, 400},
		{"six messages", "/v2/bot/message/push", fakeline.AccessToken, "", `{"to":"U2","messages":[` +
			strings.TrimSuffix(strings.Repeat(`{"type":"text","text":"a"},`, 6), ",") + `]}`, 400},
		{"quick reply item without type", "/v2/bot/message/push", fakeline.AccessToken, "",
			`{"to":"U2","messages":[{"type":"text","text":"a","quickReply":{"items":[{"action":{"type":"message","label":"x","text":"x"}}]}}]}`, 400},
		{"loading not a multiple of 5", "/v2/bot/chat/loading/start", fakeline.AccessToken, "", `{"chatId":"U1","loadingSeconds":7}`, 400},
		{"loading", "/v2/bot/chat/loading/start", fakeline.AccessToken, "", `{"chatId":"U1","loadingSeconds":10}`, 202},
	}
	for _, st := range steps {
		if got := post(t, s, st.path, st.token, st.key, st.body); got != st.want {
			t.Errorf("%s: status %d, want %d", st.name, got, st.want)
		}
	}
	got := s.WaitMessages(t, 2, time.Second)
	if len(got) != 2 || got[0].Via != "reply" || got[0].User != "U1" || got[1].Via != "push" || got[1].User != "U2" || got[1].RetryKey != key {
		t.Errorf("Messages() = %+v", got)
	}
	if l := s.Loadings(); len(l) != 1 || l[0] != (fakeline.Loading{ChatID: "U1", Seconds: 10}) {
		t.Errorf("Loadings() = %+v", l)
	}
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	s := fakeline.New(t)
	s.FailNext(1, 429, "3")
	push := `{"to":"U2","messages":[{"type":"text","text":"yo"}]}`
	if got := post(t, s, "/v2/bot/message/push", fakeline.AccessToken, "", push); got != 429 {
		t.Errorf("first push %d, want 429", got)
	}
	if got := post(t, s, "/v2/bot/message/push", fakeline.AccessToken, "", push); got != 200 {
		t.Errorf("second push %d, want 200", got)
	}
	if n := s.Requests("push"); n != 2 {
		t.Errorf("Requests(push) = %d, want 2", n)
	}
}

func TestWebhookBodiesParseAndVerify(t *testing.T) {
	t.Parallel()
	body := fakeline.Body(
		fakeline.TextEvent("E1", "U1", "hi"),
		fakeline.PostbackEvent("E2", "U1", "a", map[string]string{"date": "2026-11-22"}),
		fakeline.FollowEvent("E3", "U1"), fakeline.UnfollowEvent("E4", "U1"),
		fakeline.ImageEvent("E5", "U1"), fakeline.StickerEvent("E6", "U1", "1", "2"),
		fakeline.LocationEvent("E7", "U1", "t", "a", 1, 2))
	if !webhook.ValidateSignature("s", fakeline.Sign("s", body), body) {
		t.Error("Sign does not verify with the SDK")
	}
	var cb webhook.CallbackRequest
	if err := json.Unmarshal(body, &cb); err != nil {
		t.Fatal(err)
	}
	want := []string{"message", "postback", "follow", "unfollow", "message", "message", "message"}
	for i, e := range cb.Events {
		if e.GetType() != want[i] {
			t.Errorf("event %d type %q, want %q", i, e.GetType(), want[i])
		}
	}
}
