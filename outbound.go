package koe

import (
	"context"
	"time"
)

// Outbound is a batch of replies to one user, produced by processing one
// inbound message (or by staff, a survey, a status change).
//
// ID makes sending idempotent: it is the inbound message id, or the id of
// the job that produced the batch. RetryKey is a UUID chosen once when the
// batch is created and stored with it, so a resend after a crash is
// recognised by the platform (LINE's X-Line-Retry-Key) rather than shown
// twice.
type Outbound struct {
	ID       string  `json:"id"`
	To       UserID  `json:"to"`
	Lang     Lang    `json:"lang,omitempty"`
	Replies  []Reply `json:"replies"`
	RetryKey string  `json:"retryKey"`
	// ReplyToken and TokenIssuedAt let the channel answer with a reply
	// (free, single use) while the token is fresh, and push otherwise.
	ReplyToken    string    `json:"replyToken,omitempty"`
	TokenIssuedAt time.Time `json:"tokenIssuedAt,omitzero"`
}

// Sender delivers replies on one channel. Send returns nil once the
// platform has accepted the batch (or reports it was accepted before);
// it retries transient failures itself within ctx's deadline. It is safe
// for concurrent use.
type Sender interface {
	Send(ctx context.Context, out Outbound) error
}

// LoadingIndicator is implemented by senders whose channel can show that a
// reply is being prepared (LINE's loading animation).
type LoadingIndicator interface {
	ShowLoading(ctx context.Context, to UserID, d time.Duration) error
}

// Handler processes one inbound message completely: state, effects and
// replies. The dispatcher calls it at least once per message, one message of
// a user at a time; it must be idempotent by msg.ID.
type Handler interface {
	Handle(ctx context.Context, msg Message) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, msg Message) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, msg Message) error { return f(ctx, msg) }
