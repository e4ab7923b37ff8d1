package classifier

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"github.com/sashabaranov/go-openai/jsonschema"

	"github.com/koehq/koe"
)

// OpenAIConfig configures the LLM backend.
type OpenAIConfig struct {
	// BaseURL of an OpenAI-compatible API, such as "http://127.0.0.1:8000/v1"
	// (OPENAI_BASE_URL). Empty means OpenAI's public endpoint.
	BaseURL string
	APIKey  string // OPENAI_API_KEY
	Model   string // OPENAI_MODEL; required
	// Timeout bounds one request; 0 means 10 s.
	Timeout time.Duration
	// CacheSize is the number of results kept by text hash; 0 means 4096,
	// a negative value disables the cache.
	CacheSize int
	// HTTPClient is used when set (its own timeout still applies).
	HTTPClient *http.Client
	// Logger receives warnings when the backend falls back; nil discards.
	// Texts and error bodies are never logged.
	Logger *slog.Logger
}

// ErrUnavailable is returned by OpenAI.Classify when the LLM gave no usable
// answer and there is no fallback.
var ErrUnavailable = errors.New("classifier: llm unavailable")

// OpenAI classifies with an OpenAI-compatible chat model. Before a text is
// sent it is cut to MaxTextBytes and its personal data is redacted
// (Redact). The answer must match a JSON schema with the labels of
// DESIGN.md; a timeout, an HTTP error or an answer that does not validate
// makes it use the fallback classifier instead. Successful answers are
// cached by the SHA-256 of the text in a bounded LRU. Urgency is the union
// of the LLM's answer and the local rules (FindUrgency). Safe for
// concurrent use.
type OpenAI struct {
	client   *openai.Client
	cfg      OpenAIConfig
	fallback Classifier
	cache    *lru
	schema   *jsonschema.Definition
	log      *slog.Logger
}

var _ Classifier = (*OpenAI)(nil)

// llmAnswer is the JSON the model must return.
type llmAnswer struct {
	Kind                string   `json:"kind" enum:"praise,inquiry,consultation,request,complaint"`
	Topic               string   `json:"topic" enum:"contract_sales,policy_admin,claims,privacy,other"`
	Sentiment           string   `json:"sentiment" enum:"positive,neutral,negative"`
	Urgency             []string `json:"urgency" description:"zero or more of: injury, legal, regulator, public"`
	KindConfidence      float64  `json:"kind_confidence" description:"probability 0..1 that kind is right"`
	TopicConfidence     float64  `json:"topic_confidence" description:"probability 0..1 that topic is right"`
	SentimentConfidence float64  `json:"sentiment_confidence" description:"probability 0..1 that sentiment is right"`
}

const systemPrompt = `You classify one message a customer wrote to an insurance company (motor, home and fire, life and medical, pet; direct or through an agent). The message is usually Japanese, sometimes English. Personal data has been replaced by placeholders such as [NAME] or [PHONE].
Answer with JSON only, with these fields:
- kind: "complaint" for ANY expression of dissatisfaction (不満足の表明), even polite, mild, mixed with thanks, or phrased as a question; otherwise "praise" (thanks, compliments), "inquiry" (a question asking for facts or status), "consultation" (asking for advice on the customer's own situation), "request" (asking the company to do something, or a suggestion).
- topic: "contract_sales" (selling, explanations at sign-up, agents' sales conduct, quotes), "policy_admin" (changes, renewals, payments of premiums, cancellations, certificates, address changes), "claims" (accidents, claims, benefits 給付金, assessments, repairs, road service, settlements), "privacy" (personal data handling, leaks, marketing consent, deletion), "other" (call centre, website, app, general service).
- sentiment: "positive", "neutral" or "negative".
- urgency: a list with "injury" if someone was hurt, "legal" if lawyers or lawsuits are threatened or involved, "regulator" if a regulator, consumer centre or ADR body is mentioned, "public" if the customer threatens to go public (social media, press, reviews); empty otherwise.
- kind_confidence, topic_confidence, sentiment_confidence: your probability (0 to 1) that each label is right.`

// NewOpenAI returns the LLM backend. fallback (usually the embedded Model)
// answers when the LLM cannot; it may be nil, and then such calls fail
// with ErrUnavailable.
func NewOpenAI(cfg OpenAIConfig, fallback Classifier) *OpenAI {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	size := cfg.CacheSize
	if size == 0 {
		size = 4096
	}
	oc := openai.DefaultConfig(cfg.APIKey)
	if cfg.BaseURL != "" {
		oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	}
	if cfg.HTTPClient != nil {
		oc.HTTPClient = cfg.HTTPClient
	} else {
		oc.HTTPClient = &http.Client{Timeout: cfg.Timeout}
	}
	schema, err := jsonschema.GenerateSchemaForType(llmAnswer{})
	if err != nil {
		// llmAnswer is a fixed type; failing here is a programming error.
		panic(fmt.Sprintf("classifier: schema: %v", err))
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &OpenAI{
		client:   openai.NewClientWithConfig(oc),
		cfg:      cfg,
		fallback: fallback,
		cache:    newLRU(size),
		schema:   schema,
		log:      log,
	}
}

// Classify asks the LLM, or answers from the cache, or falls back. It
// returns ErrEmptyText for an empty text and the context's error when ctx
// is done; other failures are logged (without the text) and answered by
// the fallback.
func (o *OpenAI) Classify(ctx context.Context, text string) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("classifier: %w", err)
	}
	if Normalize(text) == "" {
		return Result{}, ErrEmptyText
	}
	key := sha256.Sum256([]byte(text))
	if r, ok := o.cache.get(key); ok {
		return r, nil
	}
	r, err := o.ask(ctx, text)
	if err == nil {
		o.cache.put(key, r)
		return r, nil
	}
	if ctx.Err() != nil {
		return Result{}, fmt.Errorf("classifier: openai: %w", ctx.Err())
	}
	o.log.Warn("classifier: llm failed, using fallback", slog.String("reason", failureReason(err)))
	if o.fallback == nil {
		return Result{}, fmt.Errorf("%w: %s", ErrUnavailable, failureReason(err))
	}
	return o.fallback.Classify(ctx, text)
}

type badAnswerError struct{ why string }

func (e *badAnswerError) Error() string { return "bad answer: " + e.why }

func (o *OpenAI) ask(ctx context.Context, text string) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	req := openai.ChatCompletionRequest{
		Model: o.cfg.Model,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: systemPrompt},
			{Role: openai.ChatMessageRoleUser, Content: Redact(cutText(text))},
		},
		ResponseFormat: &openai.ChatCompletionResponseFormat{
			Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{
				Name: "voice", Schema: o.schema, Strict: true,
			},
		},
		MaxCompletionTokens: 200,
	}
	resp, err := o.client.CreateChatCompletion(ctx, req)
	if err != nil {
		return Result{}, err
	}
	if len(resp.Choices) == 0 {
		return Result{}, &badAnswerError{"no choices"}
	}
	content := strings.TrimSpace(resp.Choices[0].Message.Content)
	// Some servers wrap JSON in a code fence despite the schema.
	content = strings.TrimPrefix(strings.TrimPrefix(content, "```json"), "```")
	content = strings.TrimSpace(strings.TrimSuffix(content, "```"))
	var a llmAnswer
	if err := o.schema.Unmarshal(content, &a); err != nil {
		return Result{}, &badAnswerError{"does not match schema"}
	}
	r := Result{Kind: a.Kind, Topic: a.Topic, Sentiment: a.Sentiment, Model: "openai/" + o.cfg.Model}
	if !r.Valid() {
		return Result{}, &badAnswerError{"unknown label"}
	}
	r.KindConfidence = clampConf(a.KindConfidence)
	r.TopicConfidence = clampConf(a.TopicConfidence)
	r.SentimentConfidence = clampConf(a.SentimentConfidence)
	r.Confidence = min(r.KindConfidence, r.TopicConfidence, r.SentimentConfidence)
	found := FindUrgency(text)
	for _, u := range Urgencies {
		if indexOf(a.Urgency, u) >= 0 || indexOf(found, u) >= 0 {
			r.Urgency = append(r.Urgency, u)
		}
	}
	r.Urgent = len(r.Urgency) > 0
	return r, nil
}

// clampConf keeps a reported confidence in [0, 1]; a missing or nonsense
// value becomes 0.5, "unsure".
func clampConf(v float64) float64 {
	if v != v || v <= 0 || v > 1 {
		return 0.5
	}
	return round4(v)
}

func cutText(s string) string {
	if len(s) <= MaxTextBytes {
		return s
	}
	cut := MaxTextBytes
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut]
}

// failureReason describes an error without its message, which may carry
// the server's response body.
func failureReason(err error) string {
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	var bad *badAnswerError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "timeout"
	case errors.As(err, &bad):
		return bad.Error()
	case errors.As(err, &apiErr):
		return fmt.Sprintf("api error, status %d", apiErr.HTTPStatusCode)
	case errors.As(err, &reqErr):
		return fmt.Sprintf("request error, status %d", reqErr.HTTPStatusCode)
	}
	return "transport error"
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// FromEnv returns the classifier CONTRACT.md configures: KOE_CLASSIFIER
// "embedded" (or unset) gives the embedded model; "openai" gives the LLM
// backend on OPENAI_BASE_URL with OPENAI_API_KEY and OPENAI_MODEL (required),
// falling back to the embedded model. Anything else is an error wrapping
// koe.ErrInvalid.
func FromEnv(getenv func(string) string, logger *slog.Logger) (Classifier, error) {
	m, err := LoadEmbedded()
	if err != nil {
		return nil, err
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("KOE_CLASSIFIER"))); v {
	case "", "embedded":
		return m, nil
	case "openai":
		cfg := OpenAIConfig{
			BaseURL: getenv("OPENAI_BASE_URL"),
			APIKey:  getenv("OPENAI_API_KEY"),
			Model:   getenv("OPENAI_MODEL"),
			Logger:  logger,
		}
		if cfg.Model == "" {
			return nil, fmt.Errorf("classifier: KOE_CLASSIFIER=openai needs OPENAI_MODEL: %w", koe.ErrInvalid)
		}
		return NewOpenAI(cfg, m), nil
	default:
		return nil, fmt.Errorf("classifier: KOE_CLASSIFIER=%q: want embedded or openai: %w", v, koe.ErrInvalid)
	}
}
