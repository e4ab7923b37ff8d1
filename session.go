package koe

import (
	"log/slog"
	"slices"
	"time"
)

// Session is one user's conversation state. Dialogs are state machines whose
// whole state lives here, so any replica can continue a conversation.
//
// Version is the optimistic-concurrency token: a session loaded at version v
// can only be saved over version v. A fresh session has Version 0.
type Session struct {
	User    UserID `json:"user"`
	Version int64  `json:"version"`
	Lang    Lang   `json:"lang"`

	// Dialog and State name where the conversation is; empty means none.
	Dialog string `json:"dialog,omitempty"`
	State  string `json:"state,omitempty"`
	// Vars holds the answers collected so far, by field name. Structured
	// values are JSON-encoded by the dialog that owns them.
	Vars map[string]string `json:"vars,omitempty"`
	// History lists earlier states of the current dialog, for "back".
	History []string `json:"history,omitempty"`
	// Invalid counts consecutive invalid answers to the current question.
	Invalid int `json:"invalid,omitempty"`

	// Applied lists the ids of the most recent messages whose step is
	// already in this session, newest last. It makes reprocessing a
	// redelivered message a no-op for the dialog.
	Applied []string `json:"applied,omitempty"`
	// Outbox holds the replies of the last applied message until they are
	// confirmed sent, so a crash between saving and sending resends them
	// (with the same retry key) instead of losing or recomputing them.
	Outbox *Outbound `json:"outbox,omitempty"`

	UpdatedAt time.Time `json:"updatedAt"`
	// ExpiresAt is when the store forgets the session (idle expiry).
	ExpiresAt time.Time `json:"expiresAt"`
}

// MaxApplied is how many applied message ids a session remembers.
const MaxApplied = 16

// HasApplied reports whether the message id's step is already in s.
func (s *Session) HasApplied(id string) bool { return slices.Contains(s.Applied, id) }

// MarkApplied records id as applied, keeping the newest MaxApplied ids.
func (s *Session) MarkApplied(id string) {
	s.Applied = append(s.Applied, id)
	if n := len(s.Applied); n > MaxApplied {
		s.Applied = slices.Clone(s.Applied[n-MaxApplied:])
	}
}

// Var returns a collected answer ("" when absent).
func (s *Session) Var(name string) string { return s.Vars[name] }

// SetVar stores a collected answer; an empty value deletes it.
func (s *Session) SetVar(name, value string) {
	if value == "" {
		delete(s.Vars, name)
		return
	}
	if s.Vars == nil {
		s.Vars = make(map[string]string)
	}
	s.Vars[name] = value
}

// LogValue shows where the conversation is, never what was said.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("user", s.User),
		slog.Int64("version", s.Version),
		slog.String("dialog", s.Dialog),
		slog.String("state", s.State),
	)
}
