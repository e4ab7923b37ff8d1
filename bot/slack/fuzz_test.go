package slack_test

import (
	"context"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/koehq/koe/bot/slack"
	"github.com/koehq/koe/internal/fakeslack"
)

// FuzzInteractionsHandler: no input panics the handler; a body signed with
// another secret is always refused with 401 and never reaches a callback.
func FuzzInteractionsHandler(f *testing.F) {
	f.Add([]byte(`{"type":"block_actions","actions":[{"action_id":"a","value":"v","action_ts":"1.2"}]}`), true, true)
	f.Add([]byte(`{"type":"view_submission","view":{"id":"V","state":{"values":{"b":{"value":{"type":"plain_text_input","value":"x"}}}}}}`), true, true)
	f.Add([]byte(`{"type":"block_actions","state":{"values":{"b":{"a":{"type":"static_select"}}}},"actions":[{}]}`), true, true)
	f.Add(fakeslack.BlockActionPayload(fakeslack.BlockAction{UserID: "U1", ActionID: "a"}), false, true)
	f.Add(fakeslack.ViewSubmissionPayload(fakeslack.ViewSubmission{UserID: "U1", Texts: map[string]string{"a": "b"}}), false, false)
	f.Add([]byte("payload=%7B"), false, true)
	f.Add([]byte{0xff, 0x00, '&', '='}, false, true)
	f.Fuzz(func(t *testing.T, data []byte, wrap, signed bool) {
		body := data
		if wrap {
			body = []byte(url.Values{"payload": {string(data)}}.Encode())
		}
		var calls atomic.Int32
		h := slack.NewInteractionsHandler(slack.InteractionsConfig{
			SigningSecret: secret,
			MaxBodyBytes:  64 << 10,
			OnAction:      func(context.Context, slack.Action) error { calls.Add(1); return nil },
			OnSubmit:      func(context.Context, slack.Submission) error { calls.Add(1); return nil },
		})
		key := secret
		if !signed {
			key = "forged-" + secret
		}
		w := serve(h, fakeslack.SignedRequest(key, "/webhooks/slack/interactions", body, time.Now()))
		if !signed {
			if w.Code != 401 || calls.Load() != 0 {
				t.Fatalf("forged request: status %d, %d callbacks", w.Code, calls.Load())
			}
			return
		}
		switch w.Code {
		case 200, 400, 413:
		default:
			t.Fatalf("status %d", w.Code)
		}
		if w.Code != 200 && calls.Load() != 0 {
			t.Fatalf("status %d after %d callbacks", w.Code, calls.Load())
		}
	})
}
