package line

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/koehq/koe"
	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of ClientConfig.
const (
	DefaultAPIBaseURL     = "https://api.line.me"
	DefaultDataAPIBaseURL = "https://api-data.line.me"
	DefaultCallTimeout    = 10 * time.Second
	DefaultMaxAttempts    = 5
	DefaultReplyTokenTTL  = 50 * time.Second
	DefaultBaseBackoff    = 500 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	// DefaultMaxContentBytes caps GetContent when maxBytes is not positive.
	DefaultMaxContentBytes int64 = 10 << 20
)

// ErrContentTooLarge is returned by GetContent when the content exceeds
// the size cap. It wraps koe.ErrInvalid: fetching again cannot succeed.
var ErrContentTooLarge = fmt.Errorf("line: content exceeds size limit: %w", koe.ErrInvalid)

// ClientConfig configures NewClient.
type ClientConfig struct {
	// AccessToken is the channel access token. Required.
	AccessToken string
	// APIBaseURL (default DefaultAPIBaseURL) and DataAPIBaseURL (default
	// DefaultDataAPIBaseURL) let tests point the client at a fake.
	APIBaseURL     string
	DataAPIBaseURL string
	// HTTPClient (default a new http.Client without timeout; CallTimeout
	// bounds each call).
	HTTPClient *http.Client
	// CallTimeout bounds one HTTP call (default DefaultCallTimeout).
	CallTimeout time.Duration
	// MaxAttempts bounds the calls made for one request, retries included
	// (default DefaultMaxAttempts).
	MaxAttempts int
	// BaseBackoff and MaxBackoff shape the exponential backoff with jitter
	// between retries (defaults DefaultBaseBackoff, DefaultMaxBackoff). A
	// Retry-After longer than MaxBackoff ends the retries with an error.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// ReplyTokenTTL: a reply token issued longer ago than this is not used
	// (default DefaultReplyTokenTTL).
	ReplyTokenTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger (nil: discard).
	Logger *slog.Logger
	// Registerer, if set, registers koe_outbound_requests_total
	// {channel="line", op, result}.
	Registerer prometheus.Registerer
}

// Client sends to LINE's Messaging API. It is safe for concurrent use: it
// builds each HTTP request itself (using the SDK's message types for the
// bodies) and shares no per-call state.
type Client struct {
	token       string
	api, data   string
	hc          *http.Client
	callTimeout time.Duration
	maxAttempts int
	baseBackoff time.Duration
	maxBackoff  time.Duration
	ttl         time.Duration
	now         func() time.Time
	log         *slog.Logger
	requests    *prometheus.CounterVec
	// sleep waits d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

var (
	_ koe.Sender           = (*Client)(nil)
	_ koe.LoadingIndicator = (*Client)(nil)
)

// NewClient returns a client. It fails when AccessToken is missing, a base
// URL does not parse, or the metric cannot be registered.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.AccessToken == "" {
		return nil, fmt.Errorf("line: client: access token is required: %w", koe.ErrInvalid)
	}
	c := &Client{
		token:       cfg.AccessToken,
		api:         strings.TrimRight(orString(cfg.APIBaseURL, DefaultAPIBaseURL), "/"),
		data:        strings.TrimRight(orString(cfg.DataAPIBaseURL, DefaultDataAPIBaseURL), "/"),
		hc:          cfg.HTTPClient,
		callTimeout: orDuration(cfg.CallTimeout, DefaultCallTimeout),
		maxAttempts: cfg.MaxAttempts,
		baseBackoff: orDuration(cfg.BaseBackoff, DefaultBaseBackoff),
		maxBackoff:  orDuration(cfg.MaxBackoff, DefaultMaxBackoff),
		ttl:         orDuration(cfg.ReplyTokenTTL, DefaultReplyTokenTTL),
		now:         cfg.Now,
		log:         cfg.Logger,
		sleep:       sleepCtx,
	}
	for _, u := range []string{c.api, c.data} {
		if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Host == "" {
			return nil, fmt.Errorf("line: client: base URL %q is not absolute: %w", u, koe.ErrInvalid)
		}
	}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = DefaultMaxAttempts
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "koe_outbound_requests_total",
		Help: "Requests to messaging platforms by channel, operation and result (ok, retry, error).",
	}, []string{"channel", "op", "result"})
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(c.requests); err != nil {
			are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err)
			existing, isVec := are.ExistingCollector.(*prometheus.CounterVec)
			if !ok || !isVec {
				return nil, fmt.Errorf("line: client: register metrics: %w", err)
			}
			c.requests = existing
		}
	}
	return c, nil
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// APIError is a refusal by LINE: the operation and HTTP status, never the
// response body (it may echo personal data).
type APIError struct {
	Op     string // "reply", "push", "loading", "content"
	Status int
}

func (e *APIError) Error() string {
	return fmt.Sprintf("line: %s: status %d %s", e.Op, e.Status, http.StatusText(e.Status))
}

// Temporary reports whether a later attempt may succeed (429, 5xx, and 202
// for content still being prepared).
func (e *APIError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500 || e.Status == http.StatusAccepted
}

// Send delivers out. With a reply token issued within ReplyTokenTTL (or of
// unknown age) the first five messages go as a reply; if LINE refuses the
// reply (400: token used or expired) or the reply keeps failing
// transiently, they are pushed instead. All other messages are pushed in
// groups of five with X-Line-Retry-Key out.RetryKey for the first group and
// keys derived from it (UUIDv5 of the group index) for the others, so a
// resend of the same Outbound is deduplicated by LINE; a push answered 409
// (key already accepted) counts as delivered. 429, 5xx and network errors
// are retried with backoff within ctx and MaxAttempts; other 4xx are
// permanent (*APIError). out.To must be a LINE user and out.RetryKey a UUID
// (else koe.ErrInvalid). A batch that renders to no message sends nothing.
//
// A reply that fails with 5xx may still have been delivered by LINE; its
// retry then fails (token used) and the push shows the messages twice. LINE
// offers no way to tell.
func (c *Client) Send(ctx context.Context, out koe.Outbound) error {
	if out.To.Channel() != koe.ChannelLINE || !out.To.Valid() {
		return fmt.Errorf("line: send %s: recipient is not a LINE user: %w", out.ID, koe.ErrInvalid)
	}
	key, err := uuid.Parse(out.RetryKey)
	if err != nil {
		return fmt.Errorf("line: send %s: retry key is not a UUID: %w", out.ID, koe.ErrInvalid)
	}
	msgs, err := render(out.Replies)
	if err != nil {
		return fmt.Errorf("line: send %s: %w", out.ID, err)
	}
	if len(msgs) == 0 {
		c.log.DebugContext(ctx, "line: nothing to send", slog.String("id", out.ID))
		return nil
	}
	var chunks [][]lineMessage
	for len(msgs) > 0 {
		n := min(len(msgs), maxMessagesPerCall)
		chunks = append(chunks, msgs[:n])
		msgs = msgs[n:]
	}
	start := 0
	if out.ReplyToken != "" {
		if c.fresh(out.TokenIssuedAt) {
			err := c.reply(ctx, out.ReplyToken, chunks[0])
			switch {
			case err == nil:
				start = 1
			case ctx.Err() != nil:
				return fmt.Errorf("line: send %s: %w", out.ID, err)
			case !replyFallback(err):
				return fmt.Errorf("line: send %s: %w", out.ID, err)
			default:
				c.log.InfoContext(ctx, "line: reply refused, pushing instead", slog.String("id", out.ID), slog.Any("to", out.To), slog.String("reason", err.Error()))
			}
		} else {
			c.log.DebugContext(ctx, "line: reply token stale, pushing", slog.String("id", out.ID), slog.Any("to", out.To))
		}
	}
	for i := start; i < len(chunks); i++ {
		if err := c.push(ctx, out.To.Local(), partKey(key, i), chunks[i]); err != nil {
			return fmt.Errorf("line: send %s part %d/%d: %w", out.ID, i+1, len(chunks), err)
		}
	}
	return nil
}

// fresh reports whether a reply token issued at t may still be used; a
// zero t (age unknown) is tried, since a refusal falls back to push.
func (c *Client) fresh(t time.Time) bool {
	return t.IsZero() || c.now().Sub(t) < c.ttl
}

// replyFallback reports whether a failed reply should be pushed instead:
// on 400 (invalid or expired token) and on transient failures that
// outlasted the retries, but not on other permanent refusals (401, 403…),
// which a push would meet too.
func replyFallback(err error) bool {
	ae, ok := errors.AsType[*APIError](err)
	if !ok {
		return true // network errors after the last attempt
	}
	return ae.Status == http.StatusBadRequest || ae.Temporary()
}

// partKey is the retry key of message group i of a batch.
func partKey(base uuid.UUID, i int) string {
	if i == 0 {
		return base.String()
	}
	return uuid.NewSHA1(base, []byte("koe-line-part-"+strconv.Itoa(i))).String()
}

func (c *Client) reply(ctx context.Context, token string, msgs []lineMessage) error {
	body, err := json.Marshal(replyRequest{ReplyToken: token, Messages: msgs})
	if err != nil {
		return fmt.Errorf("line: reply: encode: %w", err)
	}
	_, err = c.call(ctx, request{op: "reply", method: http.MethodPost, url: c.api + "/v2/bot/message/reply", body: body},
		func(status int) bool { return status == http.StatusOK })
	return err
}

func (c *Client) push(ctx context.Context, to, key string, msgs []lineMessage) error {
	body, err := json.Marshal(pushRequest{To: to, Messages: msgs})
	if err != nil {
		return fmt.Errorf("line: push: encode: %w", err)
	}
	_, err = c.call(ctx, request{op: "push", method: http.MethodPost, url: c.api + "/v2/bot/message/push", body: body, retryKey: key},
		func(status int) bool { return status == http.StatusOK || status == http.StatusConflict })
	return err
}

// ShowLoading starts LINE's loading animation in the user's chat for d,
// rounded up to a multiple of 5 seconds within 5..60. It is best effort:
// at most two attempts. The animation ends by itself or when a message is
// sent.
func (c *Client) ShowLoading(ctx context.Context, to koe.UserID, d time.Duration) error {
	if to.Channel() != koe.ChannelLINE || !to.Valid() {
		return fmt.Errorf("line: loading: recipient is not a LINE user: %w", koe.ErrInvalid)
	}
	body, err := json.Marshal(&messaging_api.ShowLoadingAnimationRequest{ChatId: to.Local(), LoadingSeconds: loadingSeconds(d)})
	if err != nil {
		return fmt.Errorf("line: loading: encode: %w", err)
	}
	_, err = c.call(ctx, request{op: "loading", method: http.MethodPost, url: c.api + "/v2/bot/chat/loading/start", body: body, maxAttempts: 2},
		func(status int) bool { return status/100 == 2 })
	return err
}

func loadingSeconds(d time.Duration) int32 {
	s := (d + 5*time.Second - 1) / (5 * time.Second) * 5
	return int32(min(max(s, 5), 60))
}

// GetContent fetches the content (image bytes) of a message from the data
// API. While LINE is still preparing it (202) it retries with backoff
// within ctx and MaxAttempts. Content larger than maxBytes (not positive:
// DefaultMaxContentBytes) returns ErrContentTooLarge; an unknown or expired
// message returns koe.ErrNotFound.
func (c *Client) GetContent(ctx context.Context, messageID string, maxBytes int64) ([]byte, string, error) {
	if messageID == "" {
		return nil, "", fmt.Errorf("line: content: empty message id: %w", koe.ErrInvalid)
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxContentBytes
	}
	resp, err := c.call(ctx, request{op: "content", method: http.MethodGet,
		url: c.data + "/v2/bot/message/" + url.PathEscape(messageID) + "/content", limit: maxBytes},
		func(status int) bool { return status == http.StatusOK })
	if err != nil {
		if ae, ok := errors.AsType[*APIError](err); ok && ae.Status == http.StatusNotFound {
			return nil, "", fmt.Errorf("%w: %w", err, koe.ErrNotFound)
		}
		return nil, "", err
	}
	if resp.tooLarge {
		return nil, "", fmt.Errorf("line: content: more than %d bytes: %w", maxBytes, ErrContentTooLarge)
	}
	return resp.body, resp.header.Get("Content-Type"), nil
}

type request struct {
	op, method, url string
	body            []byte
	retryKey        string
	limit           int64 // response body cap (default 64 KiB)
	maxAttempts     int   // 0: the client's
}

type response struct {
	status   int
	header   http.Header
	body     []byte
	tooLarge bool
}

// call performs rq until accept(status) or a permanent failure, retrying
// transient ones with backoff.
func (c *Client) call(ctx context.Context, rq request, accept func(int) bool) (*response, error) {
	attempts := c.maxAttempts
	if rq.maxAttempts > 0 {
		attempts = min(attempts, rq.maxAttempts)
	}
	for attempt := 1; ; attempt++ {
		resp, err := c.attempt(ctx, rq)
		if err == nil && accept(resp.status) {
			c.count(rq.op, "ok")
			return resp, nil
		}
		if ctx.Err() != nil {
			c.count(rq.op, "error")
			return nil, fmt.Errorf("line: %s: %w", rq.op, context.Cause(ctx))
		}
		var retryAfter time.Duration
		if err == nil {
			ae := &APIError{Op: rq.op, Status: resp.status}
			if !ae.Temporary() {
				c.count(rq.op, "error")
				c.log.WarnContext(ctx, "line: request refused", slog.String("op", rq.op), slog.Int("status", resp.status))
				return nil, ae
			}
			err = ae
			retryAfter = parseRetryAfter(resp.header.Get("Retry-After"), c.now())
		} else {
			err = fmt.Errorf("line: %s: %w", rq.op, err)
		}
		if attempt >= attempts {
			c.count(rq.op, "error")
			c.log.WarnContext(ctx, "line: giving up", slog.String("op", rq.op), slog.Int("attempts", attempt), slog.String("err", err.Error()))
			return nil, fmt.Errorf("after %d attempts: %w", attempt, err)
		}
		wait := c.backoff(attempt)
		if retryAfter > 0 {
			if retryAfter > c.maxBackoff {
				c.count(rq.op, "error")
				return nil, fmt.Errorf("retry-after %v exceeds %v: %w", retryAfter, c.maxBackoff, err)
			}
			wait = retryAfter
		}
		if dl, ok := ctx.Deadline(); ok && c.now().Add(wait).After(dl) {
			c.count(rq.op, "error")
			return nil, fmt.Errorf("next attempt in %v is past the deadline: %w", wait, err)
		}
		c.count(rq.op, "retry")
		c.log.DebugContext(ctx, "line: retrying", slog.String("op", rq.op), slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("err", err.Error()))
		if serr := c.sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("line: %s: %w (last: %w)", rq.op, serr, err)
		}
	}
}

// backoff is the wait after failed attempt n (1-based): BaseBackoff·2ⁿ⁻¹
// capped at MaxBackoff, with jitter in its upper half.
func (c *Client) backoff(n int) time.Duration {
	d := c.baseBackoff << min(n-1, 30)
	if d <= 0 || d > c.maxBackoff {
		d = c.maxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or
// unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(s)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

func (c *Client) attempt(ctx context.Context, rq request) (*response, error) {
	cctx, cancel := context.WithTimeout(ctx, c.callTimeout)
	defer cancel()
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
	}
	req, err := http.NewRequestWithContext(cctx, rq.method, rq.url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if rq.body != nil {
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	}
	if rq.retryKey != "" {
		req.Header.Set("X-Line-Retry-Key", rq.retryKey)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	limit := rq.limit
	if limit <= 0 {
		limit = 64 << 10
	}
	out := &response{status: res.StatusCode, header: res.Header}
	if res.StatusCode == http.StatusOK && rq.limit > 0 && res.ContentLength > limit {
		out.tooLarge = true
		return out, nil
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		out.tooLarge = rq.limit > 0
		data = data[:limit]
	}
	out.body = data
	return out, nil
}

func (c *Client) count(op, result string) {
	c.requests.WithLabelValues("line", op, result).Inc()
}
