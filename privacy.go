package koe

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
)

// Hash returns a short, stable pseudonym of the user id for logs and
// metrics: the same user gives the same value, and the id cannot be read
// back from it.
func (u UserID) Hash() string {
	sum := sha256.Sum256([]byte("koe-user:" + string(u)))
	return hex.EncodeToString(sum[:6])
}

// LogValue logs a user id as its channel and pseudonym only.
func (u UserID) LogValue() slog.Value {
	return slog.StringValue(string(u.Channel()) + ":" + u.Hash())
}
