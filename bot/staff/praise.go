package staff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/followup"
	"github.com/koehq/koe/bot/slack"
)

// JobVoicePraise shares a praise voice with staff; Attrs["voice"] is the
// voice id.
const JobVoicePraise = "voice.praise"

// PraiseSlack is what sharing praise needs of Slack (bot/slack.Client).
type PraiseSlack interface {
	PostOnce(ctx context.Context, channel string, msg slack.Message, since time.Time, recheck bool) (string, error)
}

// PraiseConfig wires Praise.
type PraiseConfig struct {
	Voices koe.VoiceStore
	Slack  PraiseSlack
	// Channel is SLACK_CHANNEL_PRAISE. Required.
	Channel string
	Now     func() time.Time
	Logger  *slog.Logger
}

// Praise shares customers' praise (お褒め・感謝) with staff in Slack.
type Praise struct {
	cfg PraiseConfig
	log *slog.Logger
}

// NewPraise checks cfg (wrapping koe.ErrInvalid without voices, Slack or
// channel) and fills the defaults.
func NewPraise(cfg PraiseConfig) (*Praise, error) {
	if cfg.Voices == nil || cfg.Slack == nil || cfg.Channel == "" {
		return nil, fmt.Errorf("staff: praise: voices, slack and channel are required: %w", koe.ErrInvalid)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Praise{cfg: cfg, log: log}, nil
}

// Handlers returns the follow-up handler of praise jobs.
func (p *Praise) Handlers() map[string]followup.Handler {
	return map[string]followup.Handler{JobVoicePraise: followup.HandlerFunc(p.share)}
}

// share posts the praise voice of job.Attrs["voice"] to the praise channel,
// masked. A job without a voice id, or whose voice cannot be found, wraps
// koe.ErrInvalid (dead-lettered); a voice that is not praise is skipped.
// The job's id makes it once: the queue does not run a completed job
// again, and a redelivery happens only if the process dies between the post
// and the job's completion (Slack has no idempotency key; the voice store
// has no field to record the post).
func (p *Praise) share(ctx context.Context, job koe.Job) error {
	id := job.Attrs["voice"]
	if id == "" {
		return fmt.Errorf("staff: praise job %s without a voice id: %w", job.ID, koe.ErrInvalid)
	}
	v, err := p.voice(ctx, id)
	if err != nil {
		return err
	}
	if v.Kind != koe.VoicePraise {
		p.log.InfoContext(ctx, "voice is not praise; not shared", "voice", v)
		return nil
	}
	// Once per voice: a redelivered job looks for the earlier post first.
	msg := PraiseMessage(v)
	msg.Key = "praise:" + v.ID
	if _, err := p.cfg.Slack.PostOnce(ctx, p.cfg.Channel, msg, v.At.Add(-time.Minute), followup.Attempt(ctx) > 1); err != nil {
		return fmt.Errorf("staff: post praise %s: %w", v.ID, err)
	}
	p.log.InfoContext(ctx, "praise shared", "voice", v)
	return nil
}

func (p *Praise) voice(ctx context.Context, id string) (koe.Voice, error) {
	v, err := p.cfg.Voices.GetVoice(ctx, id)
	if errors.Is(err, koe.ErrNotFound) {
		return v, fmt.Errorf("staff: praise voice %s: %w (%w)", id, koe.ErrInvalid, err)
	}
	if err != nil {
		return v, fmt.Errorf("staff: praise voice %s: %w", id, err)
	}
	return v, nil
}

// PraiseMessage renders a praise voice for the praise channel: the words
// with personal data masked (classifier.Redact: names, phone numbers,
// policy and other numbers, e-mail and postal addresses), the topic and
// the day, never the customer's id.
func PraiseMessage(v koe.Voice) slack.Message {
	return slack.Message{
		Text:   "お客さまから「ありがとう」の声が届きました",
		Header: "💐 お客さまの声（お褒め・感謝）",
		Fields: []slack.Field{
			{Label: "項目", Value: slaTopicLabel(v.Topic)},
			{Label: "受付日", Value: v.At.In(tokyo).Format("2006-01-02")},
		},
		Body:    maskForSlack(v.Text, 1500),
		Context: []string{"個人情報はマスクしています。"},
	}
}
