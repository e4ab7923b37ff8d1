package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/store/sqlite"
	"github.com/koehq/koe/store/storetest"
)

// newBackend gives each subtest its own database file.
func newBackend(t *testing.T) storetest.Factory {
	path := filepath.Join(t.TempDir(), "data", "koe.db")
	return func(t *testing.T, now func() time.Time) koe.Store {
		t.Helper()
		s, err := sqlite.Open(context.Background(), path, sqlite.Options{Now: now})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, newBackend, storetest.Features{})
}
