package koe

import (
	"context"
	"log/slog"
	"time"
)

// CaseType is why a case needs people.
type CaseType string

// Case types.
const (
	CaseComplaint CaseType = "complaint"
	CaseInquiry   CaseType = "inquiry"
)

// CaseStatus is where a case is in its ISO 10002-style lifecycle:
// received → acknowledged → assigned → responded → closed, or escalated
// (which can still move on to assigned, responded and closed).
type CaseStatus string

// Case statuses.
const (
	CaseReceived     CaseStatus = "received"
	CaseAcknowledged CaseStatus = "acknowledged"
	CaseAssigned     CaseStatus = "assigned"
	CaseResponded    CaseStatus = "responded"
	CaseClosed       CaseStatus = "closed"
	CaseEscalated    CaseStatus = "escalated"
)

// Priority orders cases; it follows the urgency of the customer's words.
type Priority string

// Priorities.
const (
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Case is a unit of human follow-up. Ref is what the customer quotes
// (C-20261122-7F3K). Summary is the customer's words (personal data).
type Case struct {
	Ref string `json:"ref"`
	// Key is the idempotency key of the case's creation (the voice id).
	Key      string    `json:"key"`
	Type     CaseType  `json:"type"`
	Kind     VoiceKind `json:"kind"`
	Topic    Topic     `json:"topic"`
	Priority Priority  `json:"priority"`
	Urgency  []string  `json:"urgency,omitempty"`
	User     UserID    `json:"user"`
	Lang     Lang      `json:"lang"`
	VoiceID  string    `json:"voiceId,omitempty"`
	Summary  string    `json:"summary"`
	// Score is the NPS answer that opened the case, if any.
	Score *int `json:"score,omitempty"`

	Status   CaseStatus   `json:"status"`
	Assignee string       `json:"assignee,omitempty"`
	History  []CaseChange `json:"history,omitempty"`
	// RootCause and Action are required to close a case.
	RootCause string `json:"rootCause,omitempty"`
	Action    string `json:"action,omitempty"`

	// AckDueAt is when the case must be acknowledged by; DueAt when it must
	// be responded to (business-hours calendar).
	AckDueAt time.Time `json:"ackDueAt"`
	DueAt    time.Time `json:"dueAt"`
	Alert    *AlertRef `json:"alert,omitempty"`
	// Handoff is set while staff talk with the customer directly: the
	// customer's messages go to the alert's thread instead of the bot.
	Handoff bool `json:"handoff,omitempty"`

	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Version   int64     `json:"version"`
}

// CaseChange records a transition: who, when and why. Key deduplicates it
// (a Slack action id).
type CaseChange struct {
	From CaseStatus `json:"from"`
	To   CaseStatus `json:"to"`
	By   string     `json:"by"`
	At   time.Time  `json:"at"`
	Note string     `json:"note,omitempty"`
	Key  string     `json:"key,omitempty"`
}

// Open reports whether the case still needs work.
func (c Case) Open() bool { return c.Status != CaseClosed }

// LogValue shows a case's reference and state, never the customer's words.
func (c Case) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("ref", c.Ref),
		slog.String("type", string(c.Type)),
		slog.String("status", string(c.Status)),
		slog.String("priority", string(c.Priority)),
	)
}

// CaseFilter selects cases; empty fields match all. Newest first, at most
// Limit (0: no limit).
type CaseFilter struct {
	Status CaseStatus
	Type   CaseType
	User   UserID
	Limit  int
}

// CaseStore keeps cases. Implementations are safe for concurrent use.
type CaseStore interface {
	// CreateCase stores a new case (Version 1). A case with the same Key
	// is returned with ErrDuplicate; a Ref used by another Key is
	// ErrDuplicate with a zero case.
	CreateCase(ctx context.Context, c Case) (Case, error)
	// GetCase returns the case with ref, or ErrNotFound.
	GetCase(ctx context.Context, ref string) (Case, error)
	// UpdateCase stores c if the stored version equals c.Version and
	// returns it with Version increased; ErrConflict if stale, ErrNotFound
	// if absent.
	UpdateCase(ctx context.Context, c Case) (Case, error)
	// Cases returns the cases f selects, newest first.
	Cases(ctx context.Context, f CaseFilter) ([]Case, error)
	// CaseByAlert returns the case whose Slack alert is (channel, ts), or
	// ErrNotFound; it finds the case a thread reply belongs to.
	CaseByAlert(ctx context.Context, channel, ts string) (Case, error)
}
