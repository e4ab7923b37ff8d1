package koe

import (
	"errors"
	"strings"
)

// Domain errors. Adapters translate their own errors into these at the edge
// (for example redis.Nil → ErrNotFound) and wrap them with context once per
// layer, so callers test with errors.Is.
var (
	// ErrNotFound: the record does not exist (or has expired).
	ErrNotFound = errors.New("koe: not found")
	// ErrDuplicate: a record with the same identity already exists.
	ErrDuplicate = errors.New("koe: duplicate")
	// ErrConflict: a write was based on stale data (version mismatch, lost lease).
	ErrConflict = errors.New("koe: conflict")
	// ErrInvalid: the input is malformed or breaks a rule; nothing was changed.
	ErrInvalid = errors.New("koe: invalid")
)

// Channel names a messaging channel a user talks to Koe through.
type Channel string

// The channels Koe knows.
const (
	ChannelLINE    Channel = "line"
	ChannelConsole Channel = "console"
)

// UserID is a channel-scoped user identifier such as "line:U4af4980629…" or
// "console:alice". It is personal data: log it only through LogValue.
type UserID string

// NewUserID joins a channel and the channel's own user id.
func NewUserID(c Channel, id string) UserID { return UserID(string(c) + ":" + id) }

// Channel returns the channel part of the id ("line" for "line:U1").
func (u UserID) Channel() Channel {
	c, _, _ := strings.Cut(string(u), ":")
	return Channel(c)
}

// Local returns the channel's own user id ("U1" for "line:U1").
func (u UserID) Local() string {
	_, id, _ := strings.Cut(string(u), ":")
	return id
}

// Valid reports whether u has a channel and a non-empty local part.
func (u UserID) Valid() bool {
	c, id, ok := strings.Cut(string(u), ":")
	return ok && c != "" && id != ""
}

// Lang is a language of customer texts.
type Lang string

// Supported languages. Japanese is the default everywhere.
const (
	Japanese Lang = "ja"
	English  Lang = "en"
)

// ParseLang returns the language for a tag such as "ja", "en-US"; ok is false
// for languages Koe has no catalogue for.
func ParseLang(tag string) (Lang, bool) {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	switch Lang(base) {
	case Japanese:
		return Japanese, true
	case English:
		return English, true
	}
	return "", false
}
