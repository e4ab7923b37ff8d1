// Package classifier recognises a customer's free text as a voice (お客さまの声):
// its kind, topic, sentiment and urgency, each with a confidence.
//
// Two backends implement Classifier:
//
//   - Model, an embedded character n-gram linear model that runs offline,
//     loads in a few milliseconds and classifies tens of thousands of texts a
//     second (LoadEmbedded). It is the default.
//   - OpenAI, an OpenAI-compatible chat model asked for the same labels
//     through a JSON schema, with personal data redacted before the request,
//     a timeout, a bounded cache and a fallback to the embedded model
//     (NewOpenAI).
//
// The training data lives in data/, a held-out evaluation set in testdata/,
// the trainer in cmd/train (go generate), and the generated model.bin is
// embedded. TestModelUpToDate fails when model.bin is stale.
package classifier

//go:generate go run ./cmd/train -data data -out model.bin

import (
	"context"
	"errors"
	"fmt"

	"github.com/koehq/koe"
)

// Kinds of voice, as DESIGN.md defines them. A complaint is any expression
// of dissatisfaction, even a polite one or one that also asks something.
const (
	KindPraise       = "praise"
	KindInquiry      = "inquiry"
	KindConsultation = "consultation"
	KindRequest      = "request"
	KindComplaint    = "complaint"
)

// Topics of voice: the five categories insurers disclose complaint counts under.
const (
	TopicContractSales = "contract_sales"
	TopicPolicyAdmin   = "policy_admin"
	TopicClaims        = "claims"
	TopicPrivacy       = "privacy"
	TopicOther         = "other"
)

// Sentiments.
const (
	SentimentPositive = "positive"
	SentimentNeutral  = "neutral"
	SentimentNegative = "negative"
)

// Urgency signals found in a text.
const (
	UrgencyInjury    = "injury"    // someone was hurt (怪我, 救急車, injured)
	UrgencyLegal     = "legal"     // lawyers, lawsuits (弁護士に相談, 訴える, sue)
	UrgencyRegulator = "regulator" // regulators, consumer centres, ADR (金融庁, 消費生活センター)
	UrgencyPublic    = "public"    // going public (SNSで拡散, マスコミ, post online)
)

// Label sets in a fixed order; the model's outputs follow this order.
var (
	Kinds      = []string{KindPraise, KindInquiry, KindConsultation, KindRequest, KindComplaint}
	Topics     = []string{TopicContractSales, TopicPolicyAdmin, TopicClaims, TopicPrivacy, TopicOther}
	Sentiments = []string{SentimentPositive, SentimentNeutral, SentimentNegative}
	Urgencies  = []string{UrgencyInjury, UrgencyLegal, UrgencyRegulator, UrgencyPublic}
)

// ErrEmptyText is returned for a text with nothing to classify (empty or
// only white space). It wraps koe.ErrInvalid.
var ErrEmptyText = fmt.Errorf("classifier: empty text: %w", koe.ErrInvalid)

// Result is the classification of one text. Confidences are probabilities in
// [0, 1] of the chosen label; Confidence is the lowest of the three, so a
// caller can send anything below its own threshold to a person.
type Result struct {
	Kind      string `json:"kind"`
	Topic     string `json:"topic"`
	Sentiment string `json:"sentiment"`
	// Urgent is true when Urgency is not empty.
	Urgent bool `json:"urgent"`
	// Urgency lists the urgency signals found, in the order of Urgencies.
	Urgency             []string `json:"urgency"`
	Confidence          float64  `json:"confidence"`
	KindConfidence      float64  `json:"kind_confidence"`
	TopicConfidence     float64  `json:"topic_confidence"`
	SentimentConfidence float64  `json:"sentiment_confidence"`
	// Model names the backend that produced the result, such as
	// "embedded/3f2a9c01" or "openai/gpt-4o-mini".
	Model string `json:"model"`
}

// Classifier classifies a text. Implementations are safe for concurrent use.
// Classify returns ErrEmptyText for an empty text, ctx.Err() (wrapped) when
// the context is done before a result is available, and never panics on any
// input, including invalid UTF-8 and very long texts.
type Classifier interface {
	Classify(ctx context.Context, text string) (Result, error)
}

// Valid reports whether r carries known labels for kind, topic and sentiment.
func (r Result) Valid() bool {
	return indexOf(Kinds, r.Kind) >= 0 && indexOf(Topics, r.Topic) >= 0 && indexOf(Sentiments, r.Sentiment) >= 0
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// errorsIsContext reports whether err is a context error.
func errorsIsContext(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
