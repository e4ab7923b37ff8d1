package koe

import (
	"context"
	"time"
)

// DedupeWindow is how long an inbox remembers message ids it has accepted,
// so that a redelivery within it is not processed twice. LINE redelivers for
// up to a day; three days leaves room.
const DedupeWindow = 72 * time.Hour

// Delivery is a message handed out by Inbox.Claim under a lease.
type Delivery struct {
	Message Message `json:"message"`
	// Attempt is 1 on the first delivery and grows with each redelivery.
	Attempt int `json:"attempt"`
	// Lease identifies this claim; Ack, Release and Bury need it.
	Lease string `json:"lease"`
	// Seq is the inbox's own position of the message (store-specific).
	Seq int64 `json:"seq"`
}

// Inbox is the durable, per-user ordered queue between the webhooks and the
// dispatcher. Implementations are safe for concurrent use by many processes
// sharing the same store.
type Inbox interface {
	// Append durably stores the messages, in order, before returning; when
	// it returns nil the caller may acknowledge them to the platform. A
	// message whose ID was accepted within DedupeWindow is skipped (not an
	// error). It returns how many messages were new.
	Append(ctx context.Context, msgs ...Message) (added int, err error)

	// Claim leases up to max messages for owner: for each user who has
	// pending messages and no live lease, that user's oldest pending message.
	// So a user's messages are handed out one at a time, in order, across
	// all processes. A lease lasts ttl unless acked, released or buried
	// first; when it runs out (the owner died) the message is claimed again
	// with a higher Attempt. It returns an empty slice when nothing is ready.
	Claim(ctx context.Context, owner string, max int, ttl time.Duration) ([]Delivery, error)

	// Ack removes a processed message and frees its user's lease. It returns
	// ErrConflict if the lease is no longer held (it expired and the message
	// was claimed again).
	Ack(ctx context.Context, d Delivery) error

	// Release frees the lease and leaves the message at the head of its
	// user's queue, not claimable again until retryAfter has passed. It
	// returns ErrConflict if the lease is no longer held.
	Release(ctx context.Context, d Delivery, retryAfter time.Duration) error

	// Bury moves a message that cannot be processed to the dead letters,
	// keeping it for inspection, and frees the lease so the user's later
	// messages proceed. ErrConflict as for Ack.
	Bury(ctx context.Context, d Delivery, reason string) error

	// Depth returns the number of pending (not yet acked or buried) messages.
	Depth(ctx context.Context) (int, error)
}

// SessionStore keeps conversation state. Implementations are safe for
// concurrent use.
type SessionStore interface {
	// LoadSession returns the user's session, or ErrNotFound when there is
	// none or it has expired (ExpiresAt is not after now).
	LoadSession(ctx context.Context, user UserID) (Session, error)

	// SaveSession stores s if the stored session's version equals s.Version
	// (0: no live session may exist), and returns s with Version increased
	// by one. A stale write returns ErrConflict and changes nothing. The
	// store forgets the session at s.ExpiresAt.
	SaveSession(ctx context.Context, s Session) (Session, error)

	// DeleteSession forgets the user's session; deleting a missing session
	// is not an error.
	DeleteSession(ctx context.Context, user UserID) error
}

// Store is everything a backend (SQLite, Redis) provides.
type Store interface {
	Inbox
	SessionStore
	ReportStore
	Queue
	VoiceStore
	CaseStore
	FAQLog
	SurveyStore
	FollowStore
	// Ping returns nil when the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store's resources; in-flight writes are finished.
	Close() error
}
