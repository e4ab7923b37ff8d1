package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/koehq/koe"
)

// BenchmarkClaimBacklog times the claim statement itself (inside the
// writer, without the commit) with 20,000 messages pending behind 2,000
// users, 500 of whom are leased by a stalled owner and must be skipped.
// Each op leases 16 heads and releases them again (rolled back), so the
// backlog stays the same.
func BenchmarkClaimBacklog(b *testing.B) {
	b.Run("backlog=20000", func(b *testing.B) { benchClaim(b, 2000, 10, 500) })
	b.Run("backlog=16", func(b *testing.B) { benchClaim(b, 16, 1, 0) })
}

func benchClaim(b *testing.B, users, perUser, stalled int) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "koe.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var seq int
	for range perUser {
		batch := make([]koe.Message, 0, users)
		for u := range users {
			seq++
			batch = append(batch, koe.Message{ID: fmt.Sprint("b", seq), User: koe.NewUserID(koe.ChannelLINE, fmt.Sprintf("B%05d", u)), Kind: koe.KindText, Text: "x"})
		}
		if _, err := s.Append(ctx, batch...); err != nil {
			b.Fatal(err)
		}
	}
	if stalled > 0 {
		if ds, err := s.Claim(ctx, "stalled", stalled, time.Hour); err != nil || len(ds) != stalled {
			b.Fatalf("stall: %d, %v", len(ds), err)
		}
	}
	errUndo := fmt.Errorf("undo")
	b.ResetTimer()
	for b.Loop() {
		err := s.write(ctx, func(w *writeTx) error {
			now := w.now()
			rows, err := w.query(w.ws.claim, "p-", "w", nanos(now.Add(time.Minute)), nanos(now), 16)
			if err != nil {
				return err
			}
			n := 0
			for rows.Next() {
				n++
			}
			rows.Close()
			if n != 16 {
				return fmt.Errorf("claimed %d, want 16", n)
			}
			return errUndo // roll back to the savepoint: the backlog stays
		})
		if err != errUndo {
			b.Fatal(err)
		}
	}
}
