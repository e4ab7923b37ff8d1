package koe

import (
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"time"
)

// Prefixes of the references customers see (CONTRACT.md).
const (
	RefAccident = "AR" // accident reports
	RefCase     = "C"  // cases: complaints, inquiries
	RefSurvey   = "S"  // surveys
)

// crockford is Crockford's base32 alphabet: digits and letters without I,
// L, O and U, so a reference read over the phone is unambiguous.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// japan is Japan's time zone; it has no daylight saving time, so the fixed
// offset is exact (and needs no tz database).
var japan = time.FixedZone("JST", 9*60*60)

// NewRef draws a reference such as AR-20261122-7F3K: the prefix, the date
// of at in Japan, and four random Crockford base32 characters (from random;
// crypto/rand when nil). It is short enough to read over the phone and says
// nothing about how many records exist; callers store it under a unique
// constraint and draw again on the rare collision.
func NewRef(prefix string, at time.Time, random io.Reader) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	var b [4]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("koe: draw reference: %w", err)
	}
	var sb strings.Builder
	sb.WriteString(prefix)
	sb.WriteByte('-')
	sb.WriteString(at.In(japan).Format("20060102"))
	sb.WriteByte('-')
	for _, c := range b {
		sb.WriteByte(crockford[c&31])
	}
	return sb.String(), nil
}
