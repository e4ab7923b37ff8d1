package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	slackapi "github.com/slack-go/slack"

	"github.com/koehq/koe"
)

// Defaults of ClientConfig.
const (
	DefaultAPIURL             = "https://slack.com/api/"
	DefaultPerChannelInterval = time.Second
	DefaultPerChannelBurst    = 3
	DefaultCallTimeout        = 10 * time.Second
	DefaultMaxAttempts        = 5
	DefaultBaseBackoff        = 500 * time.Millisecond
	DefaultMaxBackoff         = 30 * time.Second
)

// Operation names, used in errors and in the op label of
// koe_slack_requests_total.
const (
	OpPostMessage    = "chat.postMessage"
	OpUpdate         = "chat.update"
	OpGetUploadURL   = "files.getUploadURLExternal"
	OpUpload         = "files.upload" // the POST to the URL files.getUploadURLExternal returned
	OpCompleteUpload = "files.completeUploadExternal"
	OpViewsOpen      = "views.open"
)

// ClientConfig configures NewClient.
type ClientConfig struct {
	// BotToken is the bot user OAuth token (xoxb-…). Required.
	BotToken string
	// APIURL is the Web API base, ending with "/" (default DefaultAPIURL).
	APIURL string
	// HTTPClient (default a new http.Client; CallTimeout bounds each call).
	HTTPClient *http.Client
	// Logger (nil: discard).
	Logger *slog.Logger
	// Registerer, if set, registers koe_slack_requests_total{op,result}
	// (result: ok, retry, error). Registering twice reuses the collector.
	Registerer prometheus.Registerer
	// PerChannelInterval paces chat.postMessage per channel: after a burst
	// of PerChannelBurst posts, one post per interval (default
	// DefaultPerChannelInterval; negative disables pacing).
	PerChannelInterval time.Duration
	// PerChannelBurst is the number of posts to one channel sent without
	// waiting (default DefaultPerChannelBurst).
	PerChannelBurst int
	// CallTimeout bounds one HTTP call (default DefaultCallTimeout).
	CallTimeout time.Duration
	// MaxAttempts bounds the calls made for one operation, retries
	// included (default DefaultMaxAttempts).
	MaxAttempts int
	// BaseBackoff and MaxBackoff shape the exponential backoff with jitter
	// between retries of 5xx and network errors (defaults
	// DefaultBaseBackoff, DefaultMaxBackoff). A 429 waits its Retry-After.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// Now is the clock used for pacing (default time.Now). Waits are real
	// timers, so a replacement must advance with real time.
	Now func() time.Time
}

// Client sends to Slack's Web API through slack-go. It is safe for
// concurrent use.
//
// Every operation retries within ctx: a 429 after waiting its Retry-After
// (or failing at once when the wait would pass ctx's deadline), a 5xx,
// network error, per-call timeout or Slack's transient error codes
// (internal_error, fatal_error, service_unavailable, request_timeout,
// ratelimited) after an exponential backoff, up to MaxAttempts calls. A
// retried chat.postMessage whose first call reached Slack but whose answer
// was lost can post twice; Slack offers no idempotency key for it.
//
// Errors never contain message texts, file contents, titles or tokens: they
// name the operation and Slack's error code or HTTP status (see APIError).
// A cancelled ctx returns an error wrapping ctx.Err().
type Client struct {
	api         *slackapi.Client
	log         *slog.Logger
	callTimeout time.Duration
	maxAttempts int
	baseBackoff time.Duration
	maxBackoff  time.Duration
	pacer       *pacer
	requests    *prometheus.CounterVec
}

// NewClient checks cfg, applies the defaults and returns a client. It
// fails (wrapping koe.ErrInvalid) without a token or with an APIURL that is
// not an absolute http(s) URL ending in "/".
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.BotToken == "" {
		return nil, fmt.Errorf("slack: client: bot token is required: %w", koe.ErrInvalid)
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	u, err := url.Parse(cfg.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.HasSuffix(cfg.APIURL, "/") {
		return nil, fmt.Errorf("slack: client: API URL must be an absolute http(s) URL ending in \"/\": %w", koe.ErrInvalid)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PerChannelInterval == 0 {
		cfg.PerChannelInterval = DefaultPerChannelInterval
	}
	if cfg.PerChannelBurst <= 0 {
		cfg.PerChannelBurst = DefaultPerChannelBurst
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = DefaultBaseBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Client{
		// slack-go's own retry (OptionRetry) is not used: it waits at least
		// 1 s plus up to 1 s of jitter on every 429, does not retry 5xx by
		// default and cannot retry streamed uploads. The loop in do covers
		// every operation the same way.
		api: slackapi.New(cfg.BotToken,
			slackapi.OptionAPIURL(cfg.APIURL),
			slackapi.OptionHTTPClient(cfg.HTTPClient),
			slackapi.OptionLog(log.New(io.Discard, "", 0)),
		),
		log:         cfg.Logger,
		callTimeout: cfg.CallTimeout,
		maxAttempts: cfg.MaxAttempts,
		baseBackoff: cfg.BaseBackoff,
		maxBackoff:  cfg.MaxBackoff,
		requests:    registerRequests(cfg.Registerer),
	}
	if cfg.PerChannelInterval > 0 {
		c.pacer = &pacer{interval: cfg.PerChannelInterval, burst: cfg.PerChannelBurst, now: cfg.Now, tat: map[string]time.Time{}}
	}
	return c, nil
}

func registerRequests(reg prometheus.Registerer) *prometheus.CounterVec {
	cv := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "koe_slack_requests_total",
		Help: "Calls to Slack's Web API by operation and result (ok, retry, error).",
	}, []string{"op", "result"})
	if reg == nil {
		return cv
	}
	if err := reg.Register(cv); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
	}
	return cv
}

// APIError is a failed Web API operation. It carries no message content.
type APIError struct {
	// Op is the operation, e.g. OpPostMessage.
	Op string
	// Code is Slack's error code ("channel_not_found", "ratelimited"), or
	// "" when the failure was an HTTP status.
	Code string
	// Status is the HTTP status when it was not 200, else 0.
	Status int
	// RetryAfter is the wait Slack asked for with a 429.
	RetryAfter time.Duration
	// Attempts is how many calls were made.
	Attempts int
}

func (e *APIError) Error() string {
	var what string
	switch {
	case e.Code != "":
		what = e.Code
	case e.Status == http.StatusTooManyRequests:
		what = fmt.Sprintf("rate limited (retry after %s)", e.RetryAfter)
	default:
		what = fmt.Sprintf("http %d", e.Status)
	}
	return fmt.Sprintf("slack: %s: %s (%d attempts)", e.Op, what, e.Attempts)
}

// Temporary reports whether a later retry may succeed (rate limits, 5xx,
// Slack's transient error codes).
func (e *APIError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500 || transientCodes[e.Code]
}

// Unwrap returns koe.ErrInvalid for errors caused by the request itself
// (unknown channel or message, invalid blocks, expired trigger id …), so
// callers can stop retrying with errors.Is(err, koe.ErrInvalid).
func (e *APIError) Unwrap() error {
	if invalidCodes[e.Code] || (e.Status >= 400 && e.Status < 500 && e.Status != http.StatusTooManyRequests) {
		return koe.ErrInvalid
	}
	return nil
}

var transientCodes = map[string]bool{
	"ratelimited": true, "internal_error": true, "fatal_error": true,
	"service_unavailable": true, "request_timeout": true,
}

var invalidCodes = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true,
	"invalid_blocks": true, "invalid_blocks_format": true, "msg_too_long": true,
	"no_text": true, "invalid_arguments": true, "message_not_found": true,
	"cant_update_message": true, "edit_window_closed": true, "thread_not_found": true,
	"invalid_trigger_id": true, "expired_trigger_id": true, "exchanged_trigger_id": true,
	"view_too_large": true, "file_not_found": true, "invalid_thread_ts": true,
}

// Post posts msg to channel and returns the message's ts (its id within
// the channel, needed by Update and PostThread). Posts to one channel are
// paced (PerChannelInterval); link and media unfurling is off.
func (c *Client) Post(ctx context.Context, channel string, msg Message) (ts string, err error) {
	return c.post(ctx, channel, "", msg)
}

// PostThread posts msg as a reply in the thread of threadTS in channel and
// returns the reply's ts. It is paced like Post. A retry after a lost
// answer can post twice; PostThreadOnce cannot.
func (c *Client) PostThread(ctx context.Context, channel, threadTS string, msg Message) (ts string, err error) {
	if threadTS == "" {
		return "", fmt.Errorf("slack: %s: thread ts is required: %w", OpPostMessage, koe.ErrInvalid)
	}
	return c.post(ctx, channel, threadTS, msg)
}

func (c *Client) post(ctx context.Context, channel, threadTS string, msg Message) (string, error) {
	if channel == "" {
		return "", fmt.Errorf("slack: %s: channel is required: %w", OpPostMessage, koe.ErrInvalid)
	}
	opts, err := postOptions(msg, threadTS)
	if err != nil {
		return "", err
	}
	var ts string
	err = c.do(ctx, OpPostMessage, channel, func(ctx context.Context) error {
		_, t, err := c.api.PostMessageContext(ctx, channel, opts...)
		ts = t
		return err
	})
	return ts, err
}

// Update replaces the message ts in channel with msg (chat.update), e.g. to
// show who took over an alert and remove its buttons. It is not paced.
func (c *Client) Update(ctx context.Context, channel, ts string, msg Message) error {
	if channel == "" || ts == "" {
		return fmt.Errorf("slack: %s: channel and ts are required: %w", OpUpdate, koe.ErrInvalid)
	}
	opts, err := msgOptions(msg)
	if err != nil {
		return err
	}
	return c.do(ctx, OpUpdate, "", func(ctx context.Context) error {
		_, _, _, err := c.api.UpdateMessageContext(ctx, channel, ts, opts...)
		return err
	})
}

// postOptions are the options of a chat.postMessage of msg: unfurling off,
// in the thread of threadTS unless it is empty.
func postOptions(msg Message, threadTS string) ([]slackapi.MsgOption, error) {
	opts, err := msgOptions(msg)
	if err != nil {
		return nil, err
	}
	opts = append(opts, slackapi.MsgOptionDisableLinkUnfurl(), slackapi.MsgOptionDisableMediaUnfurl())
	if threadTS != "" {
		opts = append(opts, slackapi.MsgOptionTS(threadTS))
	}
	return opts, nil
}

func msgOptions(msg Message) ([]slackapi.MsgOption, error) {
	text, blocks := RenderMessage(msg)
	if text == "" && len(blocks) == 0 {
		return nil, fmt.Errorf("slack: message is empty: %w", koe.ErrInvalid)
	}
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(text, false)}
	if msg.Key != "" {
		opts = append(opts, slackapi.MsgOptionMetadata(slackapi.SlackMetadata{
			EventType: MetadataEventType, EventPayload: map[string]any{"key": msg.Key},
		}))
	}
	// An empty block list is sent as "[]", which also clears the blocks of
	// an updated message.
	opts = append(opts, slackapi.MsgOptionBlocks(blocks...))
	return opts, nil
}

// UploadToThread shares data as a file named filename in the thread of
// threadTS in channel (files.getUploadURLExternal, the upload, then
// files.completeUploadExternal). Each step is retried on its own. Empty
// data is an error wrapping koe.ErrInvalid.
func (c *Client) UploadToThread(ctx context.Context, channel, threadTS, filename string, data []byte, title string) error {
	if channel == "" || filename == "" || len(data) == 0 {
		return fmt.Errorf("slack: upload: channel, filename and data are required: %w", koe.ErrInvalid)
	}
	var up *slackapi.GetUploadURLExternalResponse
	err := c.do(ctx, OpGetUploadURL, "", func(ctx context.Context) error {
		r, err := c.api.GetUploadURLExternalContext(ctx, slackapi.GetUploadURLExternalParameters{FileName: filename, FileSize: len(data)})
		up = r
		return err
	})
	if err != nil {
		return err
	}
	if up == nil || up.UploadURL == "" || up.FileID == "" {
		return &APIError{Op: OpGetUploadURL, Code: "no_upload_url", Attempts: 1}
	}
	err = c.do(ctx, OpUpload, "", func(ctx context.Context) error {
		return c.api.UploadToURL(ctx, slackapi.UploadToURLParameters{
			UploadURL: up.UploadURL,
			Reader:    bytes.NewReader(data),
			Filename:  filename,
		})
	})
	if err != nil {
		return err
	}
	return c.do(ctx, OpCompleteUpload, "", func(ctx context.Context) error {
		_, err := c.api.CompleteUploadExternalContext(ctx, slackapi.CompleteUploadExternalParameters{
			Files:           []slackapi.FileSummary{{ID: up.FileID, Title: title}},
			Channel:         channel,
			ThreadTimestamp: threadTS,
		})
		return err
	})
}

// OpenModal opens view for the user whose interaction carried triggerID.
// Trigger ids expire about 3 seconds after the interaction, so call it
// while acknowledging, with a short ctx. A view that cannot be rendered
// (see RenderModal) is an error wrapping koe.ErrInvalid.
func (c *Client) OpenModal(ctx context.Context, triggerID string, view Modal) error {
	if triggerID == "" {
		return fmt.Errorf("slack: %s: trigger id is required: %w", OpViewsOpen, koe.ErrInvalid)
	}
	req, err := RenderModal(view)
	if err != nil {
		return err
	}
	return c.do(ctx, OpViewsOpen, "", func(ctx context.Context) error {
		_, err := c.api.OpenViewContext(ctx, triggerID, req)
		return err
	})
}

// do runs call with retries. paceChannel, if not empty, makes every attempt
// wait for its turn in that channel.
func (c *Client) do(ctx context.Context, op, paceChannel string, call func(ctx context.Context) error) error {
	for attempt := 1; ; attempt++ {
		if paceChannel != "" && c.pacer != nil {
			if err := sleep(ctx, c.pacer.reserve(paceChannel)); err != nil {
				c.requests.WithLabelValues(op, "error").Inc()
				return fmt.Errorf("slack: %s: waiting for channel pacing: %w", op, err)
			}
		}
		cctx, cancel := context.WithTimeout(ctx, c.callTimeout)
		err := call(cctx)
		cancel()
		if err == nil {
			c.requests.WithLabelValues(op, "ok").Inc()
			return nil
		}
		if ctx.Err() != nil {
			c.requests.WithLabelValues(op, "error").Inc()
			return fmt.Errorf("slack: %s: %w", op, ctx.Err())
		}
		apiErr, wait, retry := c.classify(op, attempt, err)
		if retry && attempt < c.maxAttempts {
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
				retry = false
			}
		} else {
			retry = false
		}
		if !retry {
			c.requests.WithLabelValues(op, "error").Inc()
			c.log.WarnContext(ctx, "slack: call failed", slog.String("op", op), slog.Int("attempts", attempt), slog.Any("err", apiErr))
			return apiErr
		}
		c.requests.WithLabelValues(op, "retry").Inc()
		c.log.DebugContext(ctx, "slack: retrying", slog.String("op", op), slog.Int("attempt", attempt), slog.Duration("wait", wait))
		if err := sleep(ctx, wait); err != nil {
			c.requests.WithLabelValues(op, "error").Inc()
			return fmt.Errorf("slack: %s: %w", op, err)
		}
	}
}

// classify turns err into an error fit to return (no URLs, no bodies) and
// says whether and after how long to retry.
func (c *Client) classify(op string, attempt int, err error) (error, time.Duration, bool) {
	if rl, ok := errors.AsType[*slackapi.RateLimitedError](err); ok {
		wait := rl.RetryAfter
		if wait <= 0 {
			wait = c.backoff(attempt)
		}
		return &APIError{Op: op, Status: http.StatusTooManyRequests, RetryAfter: rl.RetryAfter, Attempts: attempt}, wait, true
	}
	if sc, ok := errors.AsType[slackapi.StatusCodeError](err); ok {
		e := &APIError{Op: op, Status: sc.Code, Attempts: attempt}
		return e, c.backoff(attempt), e.Temporary()
	}
	if se, ok := errors.AsType[slackapi.SlackErrorResponse](err); ok {
		e := &APIError{Op: op, Code: se.Err, Attempts: attempt}
		wait := c.backoff(attempt)
		if se.Err == "ratelimited" {
			wait = max(wait, time.Second)
		}
		return e, wait, transientCodes[se.Err]
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("slack: %s: call timed out (%d attempts): %w", op, attempt, context.DeadlineExceeded), c.backoff(attempt), true
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		// Drop the URL: an upload URL is a credential of sorts.
		return fmt.Errorf("slack: %s: %s (%d attempts): %w", op, ue.Op, attempt, ue.Err), c.backoff(attempt), true
	}
	if op == OpUpload {
		// slack-go's refusal quotes the upload URL.
		return fmt.Errorf("slack: %s: upload failed (%T)", op, err), 0, false
	}
	// Malformed answers and slack-go's own checks: not worth retrying. The
	// JSON decoder's errors name types and offsets, not content.
	return fmt.Errorf("slack: %s: %w", op, err), 0, false
}

// backoff is the wait before attempt+1: exponential from BaseBackoff,
// capped at MaxBackoff, with full jitter in its upper half.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.baseBackoff << min(attempt-1, 20)
	if d <= 0 || d > c.maxBackoff {
		d = c.maxBackoff
	}
	half := d / 2
	return half + rand.N(half+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pacer spaces chat.postMessage per channel with a generic cell rate
// algorithm: burst calls pass at once, then one per interval.
type pacer struct {
	mu       sync.Mutex
	interval time.Duration
	burst    int
	now      func() time.Time
	tat      map[string]time.Time // theoretical arrival time per channel
}

// reserve books the next slot of channel and returns how long to wait for
// it. A booked slot is not given back when the caller gives up.
func (p *pacer) reserve(channel string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if len(p.tat) > 1024 {
		for ch, t := range p.tat {
			if t.Before(now) {
				delete(p.tat, ch)
			}
		}
	}
	tat := p.tat[channel]
	if tat.Before(now) {
		tat = now
	}
	allowAt := tat.Add(-time.Duration(p.burst-1) * p.interval)
	p.tat[channel] = tat.Add(p.interval)
	return max(allowAt.Sub(now), 0)
}
