package slack

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/slack-go/slack/slackevents"
)

// ThreadReply is a message a person wrote in a thread (the Events API's
// message event with thread_ts different from ts), e.g. staff answering a
// customer under an alert.
type ThreadReply struct {
	// EventID is Slack's event id: the same event redelivered keeps it.
	// Deduplicate on it.
	EventID   string
	ChannelID string
	ThreadTS  string
	TS        string
	UserID    string
	// Text is the message as Slack sends it (mrkdwn, with <@U…> mentions
	// and &amp;-escapes). Personal data: never log it.
	Text string
	// Retry is true when Slack marked the delivery as a retry
	// (X-Slack-Retry-Num); RetryNum is that number.
	Retry    bool
	RetryNum int
	// At is the message's time (from TS).
	At time.Time
}

// EventsConfig configures NewEventsHandler.
type EventsConfig struct {
	// SigningSecret verifies X-Slack-Signature. Without it every request
	// is answered 401.
	SigningSecret string
	// OnThreadReply receives thread replies written by people. Its error
	// answers 500 and Slack retries the event (up to 3 times, with
	// X-Slack-Retry-Num). nil: replies are acknowledged and dropped.
	OnThreadReply func(ctx context.Context, r ThreadReply) error
	// MaxBodyBytes caps the body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// AckTimeout bounds the callback's ctx (default DefaultAckTimeout).
	AckTimeout time.Duration
	// Logger (nil: discard).
	Logger *slog.Logger
}

type eventsHandler struct {
	in      intake
	onReply func(ctx context.Context, r ThreadReply) error
}

// NewEventsHandler returns the handler for POST /webhooks/slack/events. It
// is safe for concurrent use.
//
// Order of work: method (405) → signature headers and timestamp (401) →
// body cap (413) → signature of the raw body (401) → JSON (400) →
// url_verification is answered with its challenge; an event_callback
// carrying a message event that is a thread reply by a person (no bot_id,
// no subtype other than thread_broadcast, thread_ts ≠ ts) goes to
// OnThreadReply; every other event (edits, deletions, bot messages,
// top-level messages, other event types, app_rate_limited) is
// acknowledged with 200 and dropped.
//
// The handler does not deduplicate: Slack redelivers an event whose
// answer was not 200 within 3 seconds, with the same EventID. The callback
// must deduplicate on ThreadReply.EventID (the inbox does) and must only
// hand the work off within AckTimeout.
func NewEventsHandler(cfg EventsConfig) http.Handler {
	return &eventsHandler{
		in:      newIntake("events", cfg.SigningSecret, cfg.MaxBodyBytes, cfg.AckTimeout, cfg.Logger),
		onReply: cfg.OnThreadReply,
	}
}

type outerEvent struct {
	Type      string `json:"type"`
	Challenge string `json:"challenge"`
	EventID   string `json:"event_id"`
	Event     *struct {
		Type string `json:"type"`
	} `json:"event"`
}

func (h *eventsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := h.in.read(w, r)
	if !ok {
		return
	}
	var outer outerEvent
	if err := json.Unmarshal(body, &outer); err != nil {
		h.in.badRequest(w, r, "json")
		return
	}
	switch outer.Type {
	case slackevents.URLVerification:
		writeJSON(w, map[string]string{"challenge": outer.Challenge})
		return
	case slackevents.CallbackEvent:
	case slackevents.AppRateLimited:
		h.in.log.WarnContext(r.Context(), "slack events: Slack is dropping events for this app (app_rate_limited)")
		w.WriteHeader(http.StatusOK)
		return
	default:
		h.in.log.DebugContext(r.Context(), "slack events: type ignored", slog.String("type", truncate(outer.Type, 40)))
		w.WriteHeader(http.StatusOK)
		return
	}
	if outer.Event == nil {
		h.in.badRequest(w, r, "event_callback without event")
		return
	}
	if outer.Event.Type != string(slackevents.Message) {
		h.in.log.DebugContext(r.Context(), "slack events: event ignored", slog.String("event_type", truncate(outer.Event.Type, 40)))
		w.WriteHeader(http.StatusOK)
		return
	}
	ev, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
	if err != nil {
		h.in.badRequest(w, r, "message event")
		return
	}
	msg, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok {
		h.in.badRequest(w, r, "message event type")
		return
	}
	reply, why := threadReply(outer.EventID, msg)
	if why != "" {
		h.in.log.DebugContext(r.Context(), "slack events: message ignored", slog.String("reason", why))
		w.WriteHeader(http.StatusOK)
		return
	}
	if n := retryNum(r); n > 0 {
		reply.Retry, reply.RetryNum = true, n
	}
	if h.onReply == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	ctx, cancel := h.in.callbackContext(r)
	defer cancel()
	if err := h.onReply(ctx, reply); err != nil {
		h.in.callbackFailed(w, r, "thread reply", err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// threadReply maps a message event; why is non-empty for messages that
// are not thread replies by people.
func threadReply(eventID string, m *slackevents.MessageEvent) (ThreadReply, string) {
	switch {
	case m.SubType != "" && m.SubType != "thread_broadcast":
		return ThreadReply{}, "subtype"
	case m.BotID != "":
		return ThreadReply{}, "bot"
	case m.User == "":
		return ThreadReply{}, "no user"
	case m.ThreadTimeStamp == "" || m.ThreadTimeStamp == m.TimeStamp:
		return ThreadReply{}, "not a thread reply"
	case m.Channel == "" || m.TimeStamp == "":
		return ThreadReply{}, "no channel or ts"
	case eventID == "":
		return ThreadReply{}, "no event id"
	}
	return ThreadReply{
		EventID:   eventID,
		ChannelID: m.Channel,
		ThreadTS:  m.ThreadTimeStamp,
		TS:        m.TimeStamp,
		UserID:    m.User,
		Text:      m.Text,
		At:        parseTS(m.TimeStamp),
	}, ""
}

func retryNum(r *http.Request) int {
	s := r.Header.Get("X-Slack-Retry-Num")
	n := 0
	for i := 0; i < len(s) && i < 4; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}
