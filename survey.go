package koe

import (
	"context"
	"log/slog"
	"time"
)

// Touchpoint names the moment a survey asks about.
type Touchpoint string

// Touchpoints.
const (
	TouchpointClaim   Touchpoint = "claim"   // 事故対応NPS, after a claim is closed
	TouchpointRenewal Touchpoint = "renewal" // 継続NPS, after a renewal
)

// SurveyStatus is where a survey is.
type SurveyStatus string

// Survey statuses.
const (
	SurveySent     SurveyStatus = "sent"
	SurveyAnswered SurveyStatus = "answered" // the score is in (follow-ups are optional)
	SurveyExpired  SurveyStatus = "expired"
)

// Survey is one NPS micro-survey sent to one customer. ID is the reference
// (S-20261122-7F3K). Comment is personal data.
type Survey struct {
	ID string `json:"id"`
	// Key is the idempotency key of the request that sent it.
	Key        string       `json:"key"`
	User       UserID       `json:"user"`
	Touchpoint Touchpoint   `json:"touchpoint"`
	Ref        string       `json:"ref,omitempty"` // what it is about (AR-…, a policy)
	Lang       Lang         `json:"lang"`
	Status     SurveyStatus `json:"status"`
	SentAt     time.Time    `json:"sentAt"`
	ExpiresAt  time.Time    `json:"expiresAt"`

	Score        *int      `json:"score,omitempty"`        // 0–10
	Satisfaction *int      `json:"satisfaction,omitempty"` // 1 (不満) – 5 (とても満足)
	Comment      string    `json:"comment,omitempty"`
	VoiceID      string    `json:"voiceId,omitempty"`
	CaseRef      string    `json:"caseRef,omitempty"` // a detractor's or complaint's case
	AnsweredAt   time.Time `json:"answeredAt,omitzero"`
	Version      int64     `json:"version"`
}

// LogValue shows a survey's identity and state, never the comment.
func (s Survey) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", s.ID),
		slog.String("touchpoint", string(s.Touchpoint)),
		slog.String("status", string(s.Status)),
	)
}

// SurveyFilter selects surveys sent in [From, To) (zero bounds open),
// optionally of one touchpoint or user, oldest first.
type SurveyFilter struct {
	From, To   time.Time
	Touchpoint Touchpoint
	User       UserID
}

// SurveyStore keeps surveys and the fatigue rule. Implementations are safe
// for concurrent use by several processes.
type SurveyStore interface {
	// CreateSurvey stores s (Version 1) unless the user was sent any survey
	// at or after notBefore — the fatigue budget, checked and written
	// atomically so two replicas cannot both send. A survey with the same
	// Key is returned with ErrDuplicate; a fatigue refusal is ErrConflict.
	CreateSurvey(ctx context.Context, s Survey, notBefore time.Time) (Survey, error)
	// GetSurvey returns the survey with id, or ErrNotFound.
	GetSurvey(ctx context.Context, id string) (Survey, error)
	// UpdateSurvey stores s if the stored version equals s.Version;
	// ErrConflict if stale, ErrNotFound if absent.
	UpdateSurvey(ctx context.Context, s Survey) (Survey, error)
	// Surveys returns the surveys f selects, oldest first.
	Surveys(ctx context.Context, f SurveyFilter) ([]Survey, error)
}

// FollowStore remembers who can be messaged: a user who unfollowed
// (blocked) the account is never sent a survey or other push.
type FollowStore interface {
	// SetFollowing records whether the user follows the account, as of at;
	// an older record never overwrites a newer one.
	SetFollowing(ctx context.Context, user UserID, following bool, at time.Time) error
	// Following reports whether the user follows (true when unknown: a user
	// who wrote to the account follows it unless they later unfollowed).
	Following(ctx context.Context, user UserID) (bool, error)
}
