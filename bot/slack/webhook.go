package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	slackapi "github.com/slack-go/slack"
)

// Defaults shared by the inbound handlers.
const (
	// DefaultMaxBodyBytes caps a request body when MaxBodyBytes is zero.
	DefaultMaxBodyBytes int64 = 1 << 20
	// DefaultAckTimeout bounds a callback so Slack gets its answer within
	// its 3-second limit.
	DefaultAckTimeout = 2500 * time.Millisecond
)

// intake is the part every inbound handler shares: method, signature
// headers and timestamp, body cap, signature on the raw bytes.
type intake struct {
	name   string // for logs: "interactions", "events", "commands"
	secret string
	max    int64
	ack    time.Duration
	log    *slog.Logger
}

func newIntake(name, secret string, maxBody int64, ack time.Duration, logger *slog.Logger) intake {
	if maxBody <= 0 {
		maxBody = DefaultMaxBodyBytes
	}
	if ack <= 0 {
		ack = DefaultAckTimeout
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if secret == "" {
		logger.Error("slack webhook: no signing secret configured; every request will be refused", slog.String("handler", name))
	}
	return intake{name: name, secret: secret, max: maxBody, ack: ack, log: logger}
}

// read answers 405, 401 or 413 and returns ok false, or returns the
// verified raw body. Order: method → signature headers and timestamp (no
// body read for requests that cannot be genuine) → capped body → HMAC of
// the raw bytes, compared in constant time.
func (in intake) read(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return nil, false
	}
	v, err := slackapi.NewSecretsVerifier(r.Header, in.secret)
	if err != nil {
		in.log.WarnContext(r.Context(), "slack webhook: refused", slog.String("handler", in.name), slog.String("reason", verifyReason(err)))
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, in.max))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			in.log.WarnContext(r.Context(), "slack webhook: body too large", slog.String("handler", in.name), slog.Int64("limit", in.max))
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return nil, false
		}
		in.log.WarnContext(r.Context(), "slack webhook: cannot read body", slog.String("handler", in.name))
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return nil, false
	}
	_, _ = v.Write(body)
	if err := v.Ensure(); err != nil {
		in.log.WarnContext(r.Context(), "slack webhook: refused", slog.String("handler", in.name), slog.String("reason", "signature mismatch"), slog.Int("body_len", len(body)))
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

func verifyReason(err error) string {
	switch {
	case errors.Is(err, slackapi.ErrMissingHeaders):
		return "missing headers"
	case errors.Is(err, slackapi.ErrExpiredTimestamp):
		return "timestamp outside the 5-minute window"
	case errors.Is(err, slackapi.ErrInvalidConfiguration):
		return "no signing secret configured"
	case errors.Is(err, slackapi.ErrInvalidSignature):
		return "malformed signature"
	}
	return "malformed signature or timestamp"
}

// callbackContext bounds a callback by the ack timeout.
func (in intake) callbackContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), in.ack)
}

func (in intake) badRequest(w http.ResponseWriter, r *http.Request, what string) {
	// what names the failure only; parser errors can quote the body.
	in.log.WarnContext(r.Context(), "slack webhook: malformed request", slog.String("handler", in.name), slog.String("what", what))
	http.Error(w, "malformed request", http.StatusBadRequest)
}

func (in intake) callbackFailed(w http.ResponseWriter, r *http.Request, kind string, err error) {
	// The callback's error is the caller's; it must not carry personal
	// data (the project's rule), so it is logged.
	in.log.ErrorContext(r.Context(), "slack webhook: callback failed", slog.String("handler", in.name), slog.String("kind", kind), slog.Any("err", err))
	http.Error(w, "cannot handle request", http.StatusInternalServerError)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "cannot encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// parseTS turns a Slack timestamp ("1700000000.123456") into a time; zero
// when malformed.
func parseTS(ts string) time.Time {
	var sec, usec int64
	i := 0
	for ; i < len(ts) && ts[i] != '.'; i++ {
		if ts[i] < '0' || ts[i] > '9' || i > 12 {
			return time.Time{}
		}
		sec = sec*10 + int64(ts[i]-'0')
	}
	if i == 0 {
		return time.Time{}
	}
	if i < len(ts) {
		frac := ts[i+1:]
		if len(frac) > 9 {
			return time.Time{}
		}
		scale := int64(1)
		for j := 0; j < len(frac); j++ {
			if frac[j] < '0' || frac[j] > '9' {
				return time.Time{}
			}
			usec = usec*10 + int64(frac[j]-'0')
		}
		for range 9 - len(frac) {
			scale *= 10
		}
		return time.Unix(sec, usec*scale).UTC()
	}
	return time.Unix(sec, 0).UTC()
}
