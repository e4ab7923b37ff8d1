package dialogs

import (
	"context"
	"fmt"
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
	// CaseRef, when set, is the case the text belongs to, already open (a
	// detractor's survey case): the voice is linked to it and the sink
	// opens no other case for it.
	CaseRef string
}

// EffectKind returns "voice".
func (VoiceEffect) EffectKind() string { return "voice" }

// Sources of VoiceEffects the engine itself emits.
const (
	// VoiceSourceFreeText is a text sent outside any dialog that is not a
	// command or a menu choice.
	VoiceSourceFreeText = "free_text"
)

// VoiceSink receives VoiceEffects: it classifies and records the voice and
// may answer the customer (an apology with a case reference for a
// complaint, thanks for praise).
//
// AddVoice must be idempotent by meta.Key: calling it again with the same
// key (after a crash before the session was saved) must not record a second
// voice, open a second case or enqueue a second job, and must return the
// same replies. Its replies are placed like an EffectRunner's (see
// Turn.Effect and Turn.EffectOr), stored in the session's Outbox and so
// resent unchanged on a redelivery; nil means it has nothing to say. An
// error makes Handle fail before the session is saved, so the message is
// processed again later. It must be safe for concurrent use.
type VoiceSink interface {
	AddVoice(ctx context.Context, meta EffectMeta, v VoiceEffect) ([]koe.Reply, error)
}

// Effect kinds of the handoff, for Runners.
const (
	KindRelay      = "handoff:relay"
	KindHandoffEnd = "handoff:end"
)

// RelayEffect passes a customer's message to the staff member handling
// CaseRef while the conversation is handed off (see Engine.Handle). Kind is
// the message's kind (text, image, sticker or location) and the field of
// that kind is set. Text and Location are personal data.
type RelayEffect struct {
	CaseRef  string
	Kind     koe.MessageKind
	Text     string
	Image    *koe.Image
	Location *koe.Location
	Sticker  *koe.Sticker
}

// EffectKind returns KindRelay.
func (RelayEffect) EffectKind() string { return KindRelay }

// HandoffEndEffect tells staff that the handoff of CaseRef ended; By is who
// ended it ("customer").
type HandoffEndEffect struct {
	CaseRef string
	By      string
}

// EffectKind returns KindHandoffEnd.
func (HandoffEndEffect) EffectKind() string { return KindHandoffEnd }

// EffectRunner executes effects the engine has no built-in executor for
// (those of dialogs such as the accident report).
//
// RunEffect must be idempotent by meta.Key: running a key again (after a
// crash before the session was saved) must not repeat the side effect and
// must return the same replies. It returns an error wrapping koe.ErrInvalid
// for an effect it does not know. It is called one effect at a time, in
// the order the step asked for them, and must be safe for concurrent use
// across users.
//
// The replies it returns answer the customer: the engine places them among
// the step's replies where the step asked for the effect (see
// Turn.Effect), stores them in the session's Outbox like any reply, and so
// resends exactly the same text on a redelivery. Only the last reply of the
// whole batch keeps quick replies. A runner that has nothing to say returns
// nil. Replies must not contain error text.
type EffectRunner interface {
	RunEffect(ctx context.Context, meta EffectMeta, e Effect) ([]koe.Reply, error)
}

// EffectRunnerFunc adapts a function to EffectRunner.
type EffectRunnerFunc func(ctx context.Context, meta EffectMeta, e Effect) ([]koe.Reply, error)

// RunEffect calls f.
func (f EffectRunnerFunc) RunEffect(ctx context.Context, meta EffectMeta, e Effect) ([]koe.Reply, error) {
	return f(ctx, meta, e)
}

// Runners routes effects to runners by EffectKind, so that several
// dialogs' runners can share Config.Effects. An effect whose kind has no
// runner is an error wrapping koe.ErrInvalid.
type Runners map[string]EffectRunner

// RunEffect runs e with the runner registered for e.EffectKind().
func (m Runners) RunEffect(ctx context.Context, meta EffectMeta, e Effect) ([]koe.Reply, error) {
	r, ok := m[e.EffectKind()]
	if !ok || r == nil {
		return nil, fmt.Errorf("dialogs: no runner for effect %q: %w", e.EffectKind(), koe.ErrInvalid)
	}
	return r.RunEffect(ctx, meta, e)
}
