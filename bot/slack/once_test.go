package slack_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/koehq/koe"
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

// TestPostThreadOnce is TestPostOnce for replies in a thread: the search
// reads the thread (conversations.replies, paged, with metadata), not the
// channel's history.
func TestPostThreadOnce(t *testing.T) {
	ctx := context.Background()
	reply := func(key string) slack.Message {
		return slack.Message{Text: "スレッド返信 " + key, Body: "お客さまからのメッセージ", Key: key}
	}
	// parent posts the alert the thread hangs under; its own key must
	// never match a reply's search.
	parent := func(t *testing.T, c *slack.Client) string {
		t.Helper()
		ts, err := c.Post(ctx, "C1", slack.Message{Text: "苦情 C-1", Key: "relay:C-1:m1"})
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	inThread := func(fake *fakeslack.Server, thread string) []fakeslack.Message {
		var out []fakeslack.Message
		for _, p := range fake.Posts() {
			if p.ThreadTS == thread {
				out = append(out, p)
			}
		}
		return out
	}
	t.Run("posted once", func(t *testing.T) {
		fake := fakeslack.New(t)
		c := newClient(t, fake, nil)
		thread := parent(t, c)
		ts, err := c.PostThreadOnce(ctx, "C1", thread, reply("relay:C-1:m1"), false)
		if err != nil {
			t.Fatal(err)
		}
		got := inThread(fake, thread)
		if len(got) != 1 || got[0].TS != ts || got[0].Channel != "C1" {
			t.Fatalf("thread posts = %+v, want one with ts %s", got, ts)
		}
		if md := string(got[0].Metadata); !strings.Contains(md, `"relay:C-1:m1"`) || !strings.Contains(md, slack.MetadataEventType) {
			t.Errorf("metadata = %s", md)
		}
		if n := fake.Requests("conversations.replies"); n != 0 {
			t.Errorf("thread searched %d times on a first attempt, want 0", n)
		}
		// The job runs again (attempt 2): it finds the reply, not the
		// parent that carries the same key.
		again, err := c.PostThreadOnce(ctx, "C1", thread, reply("relay:C-1:m1"), true)
		if err != nil {
			t.Fatal(err)
		}
		if again != ts || len(inThread(fake, thread)) != 1 {
			t.Errorf("second attempt = %q with %d thread posts; want %q and no new post", again, len(inThread(fake, thread)), ts)
		}
	})
	t.Run("answer lost", func(t *testing.T) {
		fake := fakeslack.New(t)
		c := newClient(t, fake, nil)
		thread := parent(t, c)
		fake.LoseNextAnswers("chat.postMessage", 1)
		ts, err := c.PostThreadOnce(ctx, "C1", thread, reply("note:C-1:j1"), false)
		if err != nil {
			t.Fatal(err)
		}
		if got := inThread(fake, thread); len(got) != 1 || got[0].TS != ts {
			t.Fatalf("thread posts = %d (ts %q), want exactly the one posted before the lost answer", len(got), ts)
		}
		if n := fake.Requests("conversations.replies"); n != 1 {
			t.Errorf("thread searched %d times, want 1 (after the uncertain failure)", n)
		}
		if n := fake.Requests("conversations.history"); n != 0 {
			t.Errorf("channel history searched %d times, want 0", n)
		}
	})
	t.Run("found on a later page", func(t *testing.T) {
		fake := fakeslack.New(t)
		c := newClient(t, fake, nil)
		thread := parent(t, c)
		other := parent(t, c)
		// The same key under another thread is another post.
		if _, err := c.PostThread(ctx, "C1", other, reply("reply:C-1:x")); err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			if _, err := c.PostThread(ctx, "C1", thread, slack.Message{Text: "staff " + strconv.Itoa(i)}); err != nil {
				t.Fatal(err)
			}
		}
		want, err := c.PostThread(ctx, "C1", thread, reply("reply:C-1:x"))
		if err != nil {
			t.Fatal(err)
		}
		fake.RepliesPageSize(2) // parent + 5 replies: 3 pages
		ts, found, err := c.FindReplyByKey(ctx, "C1", thread, "reply:C-1:x")
		if err != nil || !found || ts != want {
			t.Fatalf("FindReplyByKey = %q, %v, %v; want %q", ts, found, err, want)
		}
		if n := fake.Requests("conversations.replies"); n != 3 {
			t.Errorf("%d pages read, want 3", n)
		}
		if _, found, err := c.FindReplyByKey(ctx, "C1", thread, "reply:C-1:none"); err != nil || found {
			t.Errorf("FindReplyByKey of an absent key = %v, %v; want not found", found, err)
		}
	})
	t.Run("unknown thread", func(t *testing.T) {
		fake := fakeslack.New(t)
		c := newClient(t, fake, nil)
		ts, err := c.PostThreadOnce(ctx, "C1", "1763622000.000100", reply("remind:C-1"), true)
		if err != nil {
			t.Fatal(err)
		}
		if posts := fake.Posts(); len(posts) != 1 || posts[0].TS != ts || fake.Requests("conversations.replies") != 1 {
			t.Errorf("posts %d, searches %d; want the reply posted after one search", len(posts), fake.Requests("conversations.replies"))
		}
	})
	t.Run("rate limited then posted", func(t *testing.T) {
		fake := fakeslack.New(t)
		c := newClient(t, fake, nil)
		thread := parent(t, c)
		fake.FailNext(2, 429, "0")
		if _, err := c.PostThreadOnce(ctx, "C1", thread, reply("reply:C-1:y"), false); err != nil {
			t.Fatal(err)
		}
		if n := len(inThread(fake, thread)); n != 1 || fake.Requests("conversations.replies") != 0 {
			t.Errorf("thread posts %d, searches %d; want 1 and 0", n, fake.Requests("conversations.replies"))
		}
		if n := fake.Requests("chat.postMessage"); n != 4 {
			t.Errorf("%d chat.postMessage requests, want 4 (parent, 2 × 429, the reply)", n)
		}
	})
	t.Run("search fails", func(t *testing.T) {
		fake := fakeslack.New(t)
		c := newClient(t, fake, func(cfg *slack.ClientConfig) { cfg.MaxAttempts = 2 })
		thread := parent(t, c)
		fake.FailNextOn("conversations.replies", 2, 500, "")
		if _, err := c.PostThreadOnce(ctx, "C1", thread, reply("reply:C-1:z"), true); err == nil {
			t.Fatal("PostThreadOnce succeeded although it could not look for an earlier post")
		}
		if n := len(inThread(fake, thread)); n != 0 {
			t.Errorf("%d thread posts after a failed search, want 0", n)
		}
	})
	t.Run("needs key and thread", func(t *testing.T) {
		c := newClient(t, fakeslack.New(t), nil)
		if _, err := c.PostThreadOnce(ctx, "C1", "1.000001", slack.Message{Text: "x"}, false); !errors.Is(err, koe.ErrInvalid) {
			t.Errorf("without a key: err = %v, want koe.ErrInvalid", err)
		}
		if _, err := c.PostThreadOnce(ctx, "C1", "", reply("k"), false); !errors.Is(err, koe.ErrInvalid) {
			t.Errorf("without a thread: err = %v, want koe.ErrInvalid", err)
		}
		if _, _, err := c.FindReplyByKey(ctx, "C1", "1.000001", ""); !errors.Is(err, koe.ErrInvalid) {
			t.Errorf("FindReplyByKey without a key: err = %v, want koe.ErrInvalid", err)
		}
	})
}
