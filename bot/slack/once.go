package slack

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/koehq/koe"
)

// MetadataEventType is the event type of the message metadata that carries
// a Message.Key.
const MetadataEventType = "koe_alert"

// OpHistory names conversations.history in errors and metrics.
const OpHistory = "conversations.history"

// historyPages bounds how far FindByKey looks back (pages of 200 messages).
const historyPages = 5

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
			if m.Metadata.EventType == MetadataEventType && m.Metadata.EventPayload["key"] == key {
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

// PostOnce posts msg (which must have a Key) to channel unless a message
// with the same key is already there, and returns the message's ts. It
// closes the gap a plain retry leaves: a post that reached Slack but whose
// answer was lost (a timeout, a 5xx, a crash before the ts was recorded).
// With recheck (the caller's earlier attempt may have posted) it looks
// first; it looks again before re-sending after a failure that may have
// posted. A 429 or an explicit refusal means nothing was posted. since
// bounds the search: no earlier than the record the message is about.
func (c *Client) PostOnce(ctx context.Context, channel string, msg Message, since time.Time, recheck bool) (string, error) {
	if msg.Key == "" || channel == "" {
		return "", fmt.Errorf("slack: post once: channel and key are required: %w", koe.ErrInvalid)
	}
	opts, err := msgOptions(msg)
	if err != nil {
		return "", err
	}
	opts = append(opts, slackapi.MsgOptionDisableLinkUnfurl(), slackapi.MsgOptionDisableMediaUnfurl())
	var ts string
	uncertain := recheck
	err = c.do(ctx, OpPostMessage, channel, func(cctx context.Context) error {
		if uncertain {
			t, found, err := c.FindByKey(ctx, channel, msg.Key, since)
			if err != nil {
				return err
			}
			if found {
				c.log.InfoContext(ctx, "slack message already posted; not posting again", "channel", channel)
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
