package slack_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/koehq/koe/bot/slack"
	"github.com/koehq/koe/internal/fakeslack"
)

// TestPostOnce covers the ways a plain post duplicates an alert: Slack
// posted but the answer was lost (the client's retry must find the post),
// and the process died before recording the ts (a recheck on the next run
// must find it). Rate limiting means nothing was posted: no search needed.
func TestPostOnce(t *testing.T) {
	ctx := context.Background()
	since := time.Now().Add(-time.Minute)
	msg := func(key string) slack.Message {
		return slack.Message{Text: "苦情 " + key, Header: "苦情 " + key, Key: key}
	}
	t.Run("answer lost", func(t *testing.T) {
		fake := fakeslack.New(t)
		c := newClient(t, fake, nil)
		fake.LoseNextAnswers("chat.postMessage", 1)
		ts, err := c.PostOnce(ctx, "C1", msg("C-1"), since, false)
		if err != nil {
			t.Fatal(err)
		}
		if posts := fake.Posts(); len(posts) != 1 || posts[0].TS != ts {
			t.Fatalf("posts = %d (ts %q), want exactly the one posted before the lost answer", len(posts), ts)
		}
		if n := fake.Requests("conversations.history"); n != 1 {
			t.Errorf("history searched %d times, want 1 (after the uncertain failure)", n)
		}
	})
	t.Run("recheck after crash", func(t *testing.T) {
		fake := fakeslack.New(t)
		c := newClient(t, fake, nil)
		first, err := c.Post(ctx, "C1", msg("C-2"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Post(ctx, "C1", msg("C-other")); err != nil {
			t.Fatal(err)
		}
		ts, err := c.PostOnce(ctx, "C1", msg("C-2"), since, true)
		if err != nil {
			t.Fatal(err)
		}
		if ts != first || len(fake.Posts()) != 2 {
			t.Errorf("PostOnce = %q with %d posts; want the first post %q and no new one", ts, len(fake.Posts()), first)
		}
		if _, found, err := c.FindByKey(ctx, "C2", "C-2", since); err != nil || found {
			t.Errorf("FindByKey in another channel = %v, %v; want not found", found, err)
		}
	})
	t.Run("rate limited then posted", func(t *testing.T) {
		fake := fakeslack.New(t)
		c := newClient(t, fake, nil)
		fake.FailNext(2, 429, "0")
		if _, err := c.PostOnce(ctx, "C1", msg("C-3"), since, false); err != nil {
			t.Fatal(err)
		}
		if len(fake.Posts()) != 1 || fake.Requests("conversations.history") != 0 {
			t.Errorf("posts %d, history searches %d; want 1 and 0", len(fake.Posts()), fake.Requests("conversations.history"))
		}
		if md := string(fake.Posts()[0].Metadata); !strings.Contains(md, `"C-3"`) || !strings.Contains(md, slack.MetadataEventType) {
			t.Errorf("metadata = %s", md)
		}
	})
	t.Run("needs a key", func(t *testing.T) {
		c := newClient(t, fakeslack.New(t), nil)
		if _, err := c.PostOnce(ctx, "C1", slack.Message{Text: "x"}, since, false); err == nil {
			t.Error("PostOnce without a key succeeded")
		}
	})
}
