package koe_test

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"github.com/koehq/koe"
)

func TestNewRef(t *testing.T) {
	// 23:30 UTC on 21 November is already 22 November in Japan.
	at := time.Date(2026, 11, 21, 23, 30, 0, 0, time.UTC)
	got, err := koe.NewRef(koe.RefAccident, at, bytes.NewReader([]byte{7, 15, 3, 19}))
	if err != nil {
		t.Fatal(err)
	}
	if want := "AR-20261122-7F3K"; got != want {
		t.Errorf("NewRef = %q, want %q", got, want)
	}
	valid := regexp.MustCompile(`^C-\d{8}-[0-9A-HJKMNP-TV-Z]{4}$`)
	for range 200 {
		ref, err := koe.NewRef(koe.RefCase, at, nil)
		if err != nil || !valid.MatchString(ref) {
			t.Fatalf("NewRef = %q, %v", ref, err)
		}
	}
	if _, err := koe.NewRef(koe.RefCase, at, bytes.NewReader(nil)); err == nil {
		t.Error("NewRef with an exhausted random source succeeded")
	}
}
