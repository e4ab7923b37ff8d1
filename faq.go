package koe

import (
	"context"
	"time"
)

// FAQAnswer records that Koe answered a customer's question from the FAQ
// (the knowledge base) and what followed, so deflection can be measured:
// an answer deflected the inquiry when it was not marked unhelpful and was
// followed neither by a case nor by a repeat question on the same entry
// within DeflectionWindow.
type FAQAnswer struct {
	// ID is the idempotency key (the dialog effect's key).
	ID    string `json:"id"`
	User  UserID `json:"user"`
	Entry string `json:"entry"` // FAQ entry id
	Lang  Lang   `json:"lang"`
	// Rank is 1 for the best match shown first, 2 for the next best offered
	// after an unhelpful answer, and so on.
	Rank int `json:"rank"`
	// Confidence is the ranker's confidence in the entry (0..1).
	Confidence float64   `json:"confidence"`
	At         time.Time `json:"at"`
	// Helpful is the customer's 解決しましたか answer: nil when not given.
	Helpful *bool `json:"helpful,omitempty"`
	// CaseRef is set when the customer asked for a person afterwards.
	CaseRef string `json:"caseRef,omitempty"`
}

// DeflectionWindow is how long after an FAQ answer a case or a repeat
// question on the same entry still counts against it.
const DeflectionWindow = 72 * time.Hour

// FAQLog keeps FAQ answers. Implementations are safe for concurrent use.
type FAQLog interface {
	// RecordAnswer stores a; an answer with the same ID is returned with
	// ErrDuplicate.
	RecordAnswer(ctx context.Context, a FAQAnswer) (FAQAnswer, error)
	// MarkAnswer records the customer's verdict and, when they asked for a
	// person, the case; ErrNotFound if there is no answer with id. Marking
	// again overwrites (the last verdict counts).
	MarkAnswer(ctx context.Context, id string, helpful *bool, caseRef string) error
	// Answers returns the answers given in [from, to), oldest first.
	Answers(ctx context.Context, from, to time.Time) ([]FAQAnswer, error)
}
