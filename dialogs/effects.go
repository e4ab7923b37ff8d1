package dialogs

import (
	"context"
	"time"

	"github.com/koehq/koe"
)

// Effect is a side effect a step asks for (record a voice, save a report,
// open a case). Steps only describe effects; the engine executes them after
// the step and before the session is saved, so a crash leads to executing
// them again with the same EffectMeta.Key, never to losing them.
type Effect interface {
	// EffectKind names the effect for logs and errors ("voice").
	EffectKind() string
}

// EffectMeta says where an effect comes from.
type EffectMeta struct {
	// Key is stable across redeliveries and retries of the same message
	// ("<message id>/<index of the effect in the step>"); executors must
	// treat a key they have seen as done and return nil.
	Key       string
	MessageID string
	User      koe.UserID
	Lang      koe.Lang
	// At is the engine's clock when the step ran.
	At time.Time
}

// VoiceEffect hands a customer's free text (お客さまの声) to the voice
// pipeline, which classifies and records it. Text is personal data.
type VoiceEffect struct {
	Text string
	// Source names where the text was collected ("feedback").
	Source string
}

// EffectKind returns "voice".
func (VoiceEffect) EffectKind() string { return "voice" }

// VoiceSink receives VoiceEffects. AddVoice must be idempotent by meta.Key
// and safe for concurrent use; an error makes Handle fail before the session
// is saved, so the message is processed again later.
type VoiceSink interface {
	AddVoice(ctx context.Context, meta EffectMeta, v VoiceEffect) error
}

// EffectRunner executes effects the engine has no built-in executor for
// (those of dialogs added later). RunEffect must be idempotent by meta.Key
// and return an error wrapping koe.ErrInvalid for an effect it does not
// know.
type EffectRunner interface {
	RunEffect(ctx context.Context, meta EffectMeta, e Effect) error
}
