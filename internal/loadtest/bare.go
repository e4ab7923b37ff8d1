package loadtest

import (
	"errors"
	"net/http"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

// BareReceiver is the baseline: what a minimal LINE bot written with the
// SDK does. It verifies and parses the webhook, answers 200, and replies to
// each text message through the SDK after the 200. It stores nothing, keeps
// no order and survives no crash.
type BareReceiver struct {
	secret string
	api    *messaging_api.MessagingApiAPI
}

// NewBareReceiver replies through the LINE API at apiURL.
func NewBareReceiver(secret, token, apiURL string) (*BareReceiver, error) {
	api, err := messaging_api.NewMessagingApiAPI(token, messaging_api.WithEndpoint(apiURL))
	if err != nil {
		return nil, err
	}
	return &BareReceiver{secret: secret, api: api}, nil
}

func (b *BareReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	cb, err := webhook.ParseRequest(b.secret, r)
	switch {
	case errors.Is(err, webhook.ErrInvalidSignature):
		w.WriteHeader(http.StatusUnauthorized)
		return
	case err != nil:
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
	for _, ev := range cb.Events {
		if m, ok := ev.(webhook.MessageEvent); ok {
			if _, ok := m.Message.(webhook.TextMessageContent); ok {
				go b.api.ReplyMessage(&messaging_api.ReplyMessageRequest{
					ReplyToken: m.ReplyToken,
					Messages:   []messaging_api.MessageInterface{messaging_api.TextMessage{Text: "こんにちは"}},
				})
			}
		}
	}
}
