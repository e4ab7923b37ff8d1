// Package line is Koe's LINE channel: the webhook that turns LINE events
// into koe.Messages in the durable inbox, and the client that delivers
// koe.Replies back (reply token while fresh, push with X-Line-Retry-Key
// otherwise), shows the loading indicator and fetches message content.
package line

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/koehq/koe"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

// DefaultMaxBodyBytes caps a webhook request body when WebhookConfig leaves
// MaxBodyBytes zero.
const DefaultMaxBodyBytes int64 = 1 << 20

// Appender is the part of koe.Inbox the webhook needs.
type Appender interface {
	Append(ctx context.Context, msgs ...koe.Message) (int, error)
}

// WebhookConfig configures NewWebhook.
type WebhookConfig struct {
	// ChannelSecret verifies X-Line-Signature. Required.
	ChannelSecret string
	// Inbox receives the mapped messages. Required.
	Inbox Appender
	// MaxBodyBytes caps the request body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Logger (nil: discard).
	Logger *slog.Logger
	// Notify, if set, is called after an Append that added at least one
	// new message, to wake the dispatcher. It must not block.
	Notify func()
}

// Webhook is the http.Handler for POST /webhooks/line. It is safe for
// concurrent use.
//
// Order of work: method (405) → body cap (413) → signature on the raw bytes
// (401, nothing stored) → JSON (400) → map events → one Inbox.Append of all
// mapped messages of the request, in order → 200. An Append error answers
// 500 so LINE may redeliver; the inbox deduplicates on the event id.
// Events in standby mode, from groups or rooms, and of types Koe does not
// handle are ignored and still answered 200.
type Webhook struct {
	secret string
	inbox  Appender
	max    int64
	log    *slog.Logger
	notify func()
}

// NewWebhook returns the webhook handler. It fails when ChannelSecret or
// Inbox is missing.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	if cfg.ChannelSecret == "" {
		return nil, fmt.Errorf("line: webhook: channel secret is required: %w", koe.ErrInvalid)
	}
	if cfg.Inbox == nil {
		return nil, fmt.Errorf("line: webhook: inbox is required: %w", koe.ErrInvalid)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Webhook{
		secret: cfg.ChannelSecret,
		inbox:  cfg.Inbox,
		max:    cfg.MaxBodyBytes,
		log:    cfg.Logger,
		notify: cfg.Notify,
	}, nil
}

// ServeHTTP handles one webhook delivery.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.max))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			h.log.WarnContext(r.Context(), "line webhook: body too large", slog.Int64("limit", h.max))
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		h.log.WarnContext(r.Context(), "line webhook: cannot read body")
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	sig := r.Header.Get("X-Line-Signature")
	if sig == "" || !webhook.ValidateSignature(h.secret, sig, body) {
		h.log.WarnContext(r.Context(), "line webhook: bad signature", slog.Bool("present", sig != ""), slog.Int("body_len", len(body)))
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	var cb webhook.CallbackRequest
	if err := json.Unmarshal(body, &cb); err != nil {
		// The SDK's errors can quote the body: log none of it.
		h.log.WarnContext(r.Context(), "line webhook: malformed body", slog.Int("body_len", len(body)))
		http.Error(w, "malformed body", http.StatusBadRequest)
		return
	}
	msgs := h.mapEvents(r.Context(), cb.Events)
	if len(msgs) == 0 {
		w.WriteHeader(http.StatusOK)
		return
	}
	added, err := h.inbox.Append(r.Context(), msgs...)
	if err != nil {
		h.log.ErrorContext(r.Context(), "line webhook: append to inbox", slog.Int("messages", len(msgs)), slog.Any("err", err))
		http.Error(w, "cannot store events", http.StatusInternalServerError)
		return
	}
	h.log.DebugContext(r.Context(), "line webhook: stored", slog.Int("messages", len(msgs)), slog.Int("new", added))
	if added > 0 && h.notify != nil {
		h.notify()
	}
	w.WriteHeader(http.StatusOK)
}

func (h *Webhook) mapEvents(ctx context.Context, events []webhook.EventInterface) []koe.Message {
	var msgs []koe.Message
	for _, ev := range events {
		m, ok, why := mapEvent(ev)
		if !ok {
			h.log.DebugContext(ctx, "line webhook: event ignored", slog.String("type", ev.GetType()), slog.String("reason", why))
			continue
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// common holds the fields every mapped event shares.
type common struct {
	source     webhook.SourceInterface
	timestamp  int64
	mode       webhook.EventMode
	id         string
	delivery   *webhook.DeliveryContext
	replyToken string
}

// mapEvent maps one event; ok is false (with a reason for the debug log)
// for events Koe ignores.
func mapEvent(ev webhook.EventInterface) (m koe.Message, ok bool, why string) {
	var c common
	switch e := ev.(type) {
	case webhook.MessageEvent:
		c = common{e.Source, e.Timestamp, e.Mode, e.WebhookEventId, e.DeliveryContext, e.ReplyToken}
		switch mc := e.Message.(type) {
		case webhook.TextMessageContent:
			m.Kind, m.Text = koe.KindText, mc.Text
		case webhook.LocationMessageContent:
			m.Kind = koe.KindLocation
			m.Location = &koe.Location{Title: mc.Title, Address: mc.Address, Latitude: mc.Latitude, Longitude: mc.Longitude}
		case webhook.ImageMessageContent:
			if mc.Id == "" {
				return m, false, "image without id"
			}
			m.Kind = koe.KindImage
			m.Image = &koe.Image{ContentID: mc.Id}
		case webhook.StickerMessageContent:
			m.Kind = koe.KindSticker
			m.Sticker = &koe.Sticker{PackageID: mc.PackageId, StickerID: mc.StickerId, Keywords: mc.Keywords}
		default:
			return m, false, "message type not handled"
		}
	case webhook.PostbackEvent:
		c = common{e.Source, e.Timestamp, e.Mode, e.WebhookEventId, e.DeliveryContext, e.ReplyToken}
		if e.Postback == nil {
			return m, false, "postback without content"
		}
		m.Kind = koe.KindPostback
		m.Postback = &koe.Postback{Data: e.Postback.Data}
		for _, k := range []string{"date", "time", "datetime"} {
			if v, ok := e.Postback.Params[k]; ok {
				if m.Postback.Params == nil {
					m.Postback.Params = map[string]string{}
				}
				m.Postback.Params[k] = v
			}
		}
	case webhook.FollowEvent:
		c = common{e.Source, e.Timestamp, e.Mode, e.WebhookEventId, e.DeliveryContext, e.ReplyToken}
		m.Kind = koe.KindFollow
	case webhook.UnfollowEvent:
		c = common{e.Source, e.Timestamp, e.Mode, e.WebhookEventId, e.DeliveryContext, ""}
		m.Kind = koe.KindUnfollow
	default:
		return m, false, "event type not handled"
	}
	if c.mode == webhook.EventMode_STANDBY {
		return koe.Message{}, false, "standby mode"
	}
	src, isUser := c.source.(webhook.UserSource)
	if !isUser {
		return koe.Message{}, false, "not a one-to-one chat"
	}
	if src.UserId == "" || c.id == "" {
		return koe.Message{}, false, "missing user or event id"
	}
	m.ID = c.id
	m.User = koe.NewUserID(koe.ChannelLINE, src.UserId)
	m.ReplyToken = c.replyToken
	m.SentAt = time.UnixMilli(c.timestamp).UTC()
	m.Redelivery = c.delivery != nil && c.delivery.IsRedelivery
	return m, true, ""
}
