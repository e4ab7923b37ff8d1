package koe

import (
	"context"
	"log/slog"
	"time"
)

// VoiceKind is what a customer's words are (DESIGN.md). A complaint is any
// expression of dissatisfaction, even a polite one or one that also asks
// something.
type VoiceKind string

// The kinds of voice.
const (
	VoicePraise       VoiceKind = "praise"       // お褒め・感謝
	VoiceInquiry      VoiceKind = "inquiry"      // 問い合わせ・照会
	VoiceConsultation VoiceKind = "consultation" // 相談
	VoiceRequest      VoiceKind = "request"      // 要望・意見
	VoiceComplaint    VoiceKind = "complaint"    // 苦情
)

// Topic is the disclosure category a voice is counted under.
type Topic string

// The five topics insurers disclose complaint counts under.
const (
	TopicContractSales Topic = "contract_sales" // 契約・募集行為
	TopicPolicyAdmin   Topic = "policy_admin"   // 契約の管理・保全・集金
	TopicClaims        Topic = "claims"         // 保険金
	TopicPrivacy       Topic = "privacy"        // 個人情報
	TopicOther         Topic = "other"          // その他
)

// Voice (お客さまの声) is one classified piece of what a customer wrote.
// Text is personal data: log a voice only through LogValue.
type Voice struct {
	// ID is the idempotency key (the dialog effect's key): adding the same
	// ID twice yields one voice.
	ID     string `json:"id"`
	User   UserID `json:"user"`
	Source string `json:"source"` // free_text, feedback, accident, survey, inquiry, handoff
	Text   string `json:"text"`

	Kind       VoiceKind `json:"kind"`
	Topic      Topic     `json:"topic"`
	Sentiment  string    `json:"sentiment"`         // positive, neutral, negative
	Urgency    []string  `json:"urgency,omitempty"` // e.g. injury, legal, regulator, public
	Confidence float64   `json:"confidence"`
	Model      string    `json:"model"`
	// CaseRef is the case the voice opened, if any.
	CaseRef string    `json:"caseRef,omitempty"`
	At      time.Time `json:"at"`
}

// LogValue shows a voice's labels, never its words.
func (v Voice) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", v.ID),
		slog.String("kind", string(v.Kind)),
		slog.String("topic", string(v.Topic)),
		slog.String("source", v.Source),
		slog.Int("text_len", len([]rune(v.Text))),
	)
}

// VoiceFilter selects voices: At in [From, To) (zero bounds are open),
// optionally of one kind, newest first, at most Limit (0: no limit).
type VoiceFilter struct {
	From, To time.Time
	Kind     VoiceKind
	Limit    int
}

// VoiceStore keeps voices. Implementations are safe for concurrent use.
type VoiceStore interface {
	// AddVoice stores v. If a voice with v.ID exists it returns that voice
	// and ErrDuplicate.
	AddVoice(ctx context.Context, v Voice) (Voice, error)
	// GetVoice returns the voice with id, or ErrNotFound.
	GetVoice(ctx context.Context, id string) (Voice, error)
	// Voices returns the voices f selects, newest first.
	Voices(ctx context.Context, f VoiceFilter) ([]Voice, error)
}
