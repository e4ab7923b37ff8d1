package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/koehq/koe"
)

// MetadataEventType is the event type of the message metadata that carries
// a Message.Key.
const MetadataEventType = "koe_alert"

// Operation names of the searches, used in errors and metrics.
const (
	OpHistory = "conversations.history"
	OpReplies = "conversations.replies"
)

// historyPages bounds how far FindByKey looks back (pages of 200 messages).
const historyPages = 5

// repliesPages bounds how much of a thread FindReplyByKey reads (pages of
// 200 messages, oldest first). Threads of Koe's alerts stay far below it.
const repliesPages = 25

// FindByKey looks for a top-level message in channel, posted at or after
// since, whose metadata carries key, and returns its ts.
func (c *Client) FindByKey(ctx context.Context, channel, key string, since time.Time) (ts string, found bool, err error) {
	if channel == "" || key == "" {
		return "", false, fmt.Errorf("slack: %s: channel and key are required: %w", OpHistory, koe.ErrInvalid)
	}
	params := &slackapi.GetConversationHistoryParameters{
		ChannelID:          channel,
		Oldest:             strconv.FormatFloat(float64(since.UnixMicro())/1e6, 'f', 6, 64),
		Limit:              200,
		IncludeAllMetadata: true,
	}
	for range historyPages {
		var resp *slackapi.GetConversationHistoryResponse
		err := c.do(ctx, OpHistory, "", func(ctx context.Context) error {
			r, err := c.api.GetConversationHistoryContext(ctx, params)
			resp = r
			return err
		})
		if err != nil {
			return "", false, err
		}
		for _, m := range resp.Messages {
			if hasKey(m, key) {
				return m.Timestamp, true, nil
			}
		}
		if !resp.HasMore || resp.ResponseMetaData.NextCursor == "" {
			break
		}
		params.Cursor = resp.ResponseMetaData.NextCursor
	}
	return "", false, nil
}

// FindReplyByKey looks for a reply in the thread of threadTS in channel
// whose metadata carries key, and returns its ts. The thread's parent is
// not a reply and never matches. A thread Slack does not know
// (thread_not_found) has no such reply: found is false, err nil. It reads
// at most repliesPages pages; a longer thread is searched only that far
// (logged).
func (c *Client) FindReplyByKey(ctx context.Context, channel, threadTS, key string) (ts string, found bool, err error) {
	if channel == "" || threadTS == "" || key == "" {
		return "", false, fmt.Errorf("slack: %s: channel, thread ts and key are required: %w", OpReplies, koe.ErrInvalid)
	}
	params := &slackapi.GetConversationRepliesParameters{
		ChannelID:          channel,
		Timestamp:          threadTS,
		Limit:              200,
		IncludeAllMetadata: true,
	}
	for range repliesPages {
		var (
			msgs    []slackapi.Message
			hasMore bool
			next    string
		)
		err := c.do(ctx, OpReplies, "", func(ctx context.Context) error {
			var err error
			msgs, hasMore, next, err = c.api.GetConversationRepliesContext(ctx, params)
			return err
		})
		if apiErr, ok := errors.AsType[*APIError](err); ok && apiErr.Code == "thread_not_found" {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		for _, m := range msgs {
			if m.Timestamp != threadTS && hasKey(m, key) {
				return m.Timestamp, true, nil
			}
		}
		if !hasMore || next == "" {
			return "", false, nil
		}
		params.Cursor = next
	}
	c.log.WarnContext(ctx, "slack: thread too long to search it all for an earlier post",
		slog.String("channel", channel), slog.Int("pages", repliesPages))
	return "", false, nil
}

func hasKey(m slackapi.Message, key string) bool {
	return m.Metadata.EventType == MetadataEventType && m.Metadata.EventPayload["key"] == key
}

// PostOnce posts msg (which must have a Key) to channel unless a message
// with the same key is already there, and returns the message's ts. It
// closes the gap a plain retry leaves: a post that reached Slack but whose
// answer was lost (a timeout, a 5xx, a crash before the ts was recorded).
// With recheck (the caller's earlier attempt may have posted) it looks
// first; it looks again before re-sending after a failure that may have
// posted. A 429 or an explicit refusal means nothing was posted. since
// bounds the search: no earlier than the record the message is about.
func (c *Client) PostOnce(ctx context.Context, channel string, msg Message, since time.Time, recheck bool) (string, error) {
	return c.postOnce(ctx, channel, "", msg, recheck, func(ctx context.Context) (string, bool, error) {
		return c.FindByKey(ctx, channel, msg.Key, since)
	})
}

// PostThreadOnce is PostOnce for a reply in the thread of threadTS in
// channel: it posts msg (which must have a Key) unless a reply with the
// same key is in that thread (FindReplyByKey), and returns the reply's ts.
// Pass recheck when an earlier attempt may have posted (a redelivered job
// or event). Keys are compared within the thread only, so one key per
// purpose and source (e.g. "relay:" + case ref + ":" + message id) is
// enough.
func (c *Client) PostThreadOnce(ctx context.Context, channel, threadTS string, msg Message, recheck bool) (string, error) {
	if threadTS == "" {
		return "", fmt.Errorf("slack: post once: thread ts is required: %w", koe.ErrInvalid)
	}
	return c.postOnce(ctx, channel, threadTS, msg, recheck, func(ctx context.Context) (string, bool, error) {
		return c.FindReplyByKey(ctx, channel, threadTS, msg.Key)
	})
}

// postOnce is the one implementation of "look, then post, look again after
// an uncertain failure": find searches for an earlier post of msg.
func (c *Client) postOnce(ctx context.Context, channel, threadTS string, msg Message, recheck bool,
	find func(ctx context.Context) (string, bool, error)) (string, error) {
	if msg.Key == "" || channel == "" {
		return "", fmt.Errorf("slack: post once: channel and key are required: %w", koe.ErrInvalid)
	}
	opts, err := postOptions(msg, threadTS)
	if err != nil {
		return "", err
	}
	var ts string
	uncertain := recheck
	err = c.do(ctx, OpPostMessage, channel, func(cctx context.Context) error {
		if uncertain {
			t, found, err := find(ctx)
			if err != nil {
				return err
			}
			if found {
				c.log.InfoContext(ctx, "slack message already posted; not posting again",
					slog.String("channel", channel), slog.Bool("thread", threadTS != ""))
				ts = t
				return nil
			}
		}
		_, t, err := c.api.PostMessageContext(cctx, channel, opts...)
		ts = t
		uncertain = err != nil && mayHaveLanded(err)
		return err
	})
	return ts, err
}

// mayHaveLanded reports whether a failed post could still have been posted:
// the answer was lost (timeout, broken connection) or Slack failed (5xx).
func mayHaveLanded(err error) bool {
	if _, ok := errors.AsType[*slackapi.RateLimitedError](err); ok {
		return false
	}
	if _, ok := errors.AsType[slackapi.SlackErrorResponse](err); ok {
		return false
	}
	if sc, ok := errors.AsType[slackapi.StatusCodeError](err); ok {
		return sc.Code >= 500
	}
	return true
}
