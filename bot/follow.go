package bot

import (
	"context"
	"fmt"

	"github.com/koehq/koe"
)

// FollowTracker records follow and unfollow events in a koe.FollowStore
// before handing every message to Next, so nothing is pushed (surveys,
// notices) to a customer who blocked the account. A redelivered event
// writes the same record again, which changes nothing.
type FollowTracker struct {
	Next   koe.Handler
	Follow koe.FollowStore
}

var _ koe.Handler = (*FollowTracker)(nil)

// Handle implements koe.Handler.
func (f *FollowTracker) Handle(ctx context.Context, msg koe.Message) error {
	if msg.Kind == koe.KindFollow || msg.Kind == koe.KindUnfollow {
		if err := f.Follow.SetFollowing(ctx, msg.User, msg.Kind == koe.KindFollow, msg.SentAt); err != nil {
			return fmt.Errorf("bot: record follow state: %w", err)
		}
	}
	return f.Next.Handle(ctx, msg)
}
