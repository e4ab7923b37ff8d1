package dialogs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs/catalog"
)

// Config wires an Engine. Sessions is required; the rest has defaults.
type Config struct {
	// Sessions keeps conversation state.
	Sessions koe.SessionStore
	// Senders deliver replies, by the channel of the message's user. A
	// message from a channel without a sender fails with koe.ErrInvalid.
	Senders map[koe.Channel]koe.Sender
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger (nil: discard). Only ids, kinds, states and hashes are logged.
	Logger *slog.Logger
	// DefaultLang is the language of new sessions (default koe.Japanese).
	DefaultLang koe.Lang
	// IdleTimeout is how long a customer may pause inside a dialog
	// (default 30 minutes). The next message after a longer pause does not
	// answer the pending question: the engine asks whether to continue
	// where the customer left off (the question is asked again) or to
	// start the dialog over.
	IdleTimeout time.Duration
	// SessionRetention is how long the store keeps a session after its
	// last message (default 24 hours, never less than IdleTimeout); after
	// that the conversation starts afresh and its answers are gone.
	SessionRetention time.Duration
	// SessionCacheSize bounds the per-process cache of recently saved
	// sessions (default 10000; negative disables it). See sessionCache.
	SessionCacheSize int
	// NewRetryKey makes the retry key of each new Outbound (default
	// uuid.NewString).
	NewRetryKey func() string
	// Catalog holds the customer texts (default catalog.Default()).
	Catalog *catalog.Catalog
	// Dialogs are registered by Name next to the built-in ones (feedback);
	// one with a built-in's name replaces it. A main menu entry starts the
	// dialog named DialogAccident, DialogInquiry or DialogFeedback; until
	// one is registered the entry explains it is not available on LINE and
	// gives the phone desk.
	Dialogs []*Dialog
	// Voices receives VoiceEffects (nil: they are dropped, logged at
	// debug). With a sink, a text outside any dialog that is neither a
	// command nor a menu choice becomes a VoiceEffect (Source
	// VoiceSourceFreeText) and the sink's replies answer it; without one,
	// such a text gets the main menu.
	Voices VoiceSink
	// Effects runs every other effect (nil: such an effect is an error),
	// including the handoff's RelayEffect and HandoffEndEffect once staff
	// reply to a customer (see Handle).
	Effects EffectRunner
	// Commands are inputs available everywhere, like Dialog.Commands; they
	// are checked after the registered dialogs' commands.
	Commands []Command
	// Interrupt, when set, is offered a text message the running dialog
	// rejected as an answer (the dialog called Turn.Reask) before it counts
	// as invalid: a question typed in the middle of a dialog, say. If
	// Interrupt answers it (adds replies and effects, returns true), the
	// rejection is dropped: the invalid-answer counter is unchanged and the
	// pending question is asked again, so the dialog resumes. It must be
	// pure like a Prompt, must not change the dialog's state, and should be
	// conservative (answer only what it is confident about). Nil: invalid
	// answers are only re-asked.
	Interrupt func(t *Turn) bool
	// AccidentPhone and InquiryPhone are the phone desks' numbers shown to
	// customers; empty uses the catalogue's placeholder.
	AccidentPhone string
	InquiryPhone  string
	// StaffActions handle koe.KindStaff messages whose StaffNote.Action the
	// engine does not know itself (reply, end, close), by action: starting
	// an NPS survey ("survey"), say. A handler is a step like a Prompt or an
	// Answer: it may begin a dialog (Turn.Begin), reply and ask for
	// effects. A note of an action without a handler changes nothing.
	StaffActions map[string]func(t *Turn)
}

// DefaultIdleTimeout is Config.IdleTimeout's default.
const DefaultIdleTimeout = 30 * time.Minute

// DefaultSessionRetention is Config.SessionRetention's default.
const DefaultSessionRetention = 24 * time.Hour

// maxAttempts bounds how often Handle reloads and redoes a step after a
// stale session write.
const maxAttempts = 5

// Engine runs dialogs. It implements koe.Handler and is safe for concurrent
// use, given that messages of one user are handled one at a time (the
// dispatcher's guarantee); concurrent messages of one user are still
// correct, only retried through optimistic concurrency.
type Engine struct {
	cfg     Config
	log     *slog.Logger
	cat     *catalog.Catalog
	dialogs map[string]*Dialog
	// commands are the registered dialogs' Commands, by dialog name.
	commands []Command
	cache    *sessionCache // nil when disabled
}

var _ koe.Handler = (*Engine)(nil)

// NewEngine checks cfg, fills defaults and returns an engine. It returns an
// error wrapping koe.ErrInvalid when Sessions is missing, a dialog is
// malformed or two dialogs share a name.
func NewEngine(cfg Config) (*Engine, error) {
	if cfg.Sessions == nil {
		return nil, fmt.Errorf("dialogs: config: no session store: %w", koe.ErrInvalid)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DefaultLang == "" {
		cfg.DefaultLang = koe.Japanese
	}
	if _, ok := koe.ParseLang(string(cfg.DefaultLang)); !ok {
		return nil, fmt.Errorf("dialogs: config: language %q: %w", cfg.DefaultLang, koe.ErrInvalid)
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.SessionRetention <= 0 {
		cfg.SessionRetention = DefaultSessionRetention
	}
	cfg.SessionRetention = max(cfg.SessionRetention, cfg.IdleTimeout)
	if cfg.NewRetryKey == nil {
		cfg.NewRetryKey = uuid.NewString
	}
	cfg.Senders = maps.Clone(cfg.Senders)
	cfg.StaffActions = maps.Clone(cfg.StaffActions)
	e := &Engine{cfg: cfg, log: cfg.Logger, cat: cfg.Catalog, dialogs: make(map[string]*Dialog)}
	switch {
	case cfg.SessionCacheSize == 0:
		e.cache = newSessionCache(10000)
	case cfg.SessionCacheSize > 0:
		e.cache = newSessionCache(cfg.SessionCacheSize)
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.cat == nil {
		c, err := catalog.Default()
		if err != nil {
			return nil, fmt.Errorf("dialogs: %w", err)
		}
		e.cat = c
	}
	builtin := []*Dialog{FeedbackDialog()}
	for _, d := range builtin {
		e.dialogs[d.Name] = d
	}
	seen := make(map[string]bool)
	for _, d := range cfg.Dialogs {
		if err := d.validate(); err != nil {
			return nil, err
		}
		if seen[d.Name] {
			return nil, fmt.Errorf("dialogs: dialog %q registered twice: %w", d.Name, koe.ErrInvalid)
		}
		seen[d.Name] = true
		e.dialogs[d.Name] = d
	}
	for _, name := range e.Dialogs() {
		for _, c := range e.dialogs[name].Commands {
			if c.Match == nil || c.Run == nil {
				return nil, fmt.Errorf("dialogs: dialog %q: command %q needs Match and Run: %w", name, c.Name, koe.ErrInvalid)
			}
			e.commands = append(e.commands, c)
		}
	}
	for _, c := range cfg.Commands {
		if c.Match == nil || c.Run == nil {
			return nil, fmt.Errorf("dialogs: command %q needs Match and Run: %w", c.Name, koe.ErrInvalid)
		}
		e.commands = append(e.commands, c)
	}
	return e, nil
}

// Dialogs returns the names of the registered dialogs, sorted.
func (e *Engine) Dialogs() []string {
	return slices.Sorted(maps.Keys(e.dialogs))
}

// Handle processes msg completely and idempotently by msg.ID:
//
//   - unfollow: the session is deleted; nothing is sent.
//   - staff (koe.KindStaff, a StaffNote): "reply" shows the staff member's
//     text to the customer and hands the conversation off for the note's
//     case; "end" ends that handoff with a closing text. While handed off,
//     the customer's texts, images, stickers and locations are not answered
//     by the bot but passed on as RelayEffects (the first with a short
//     confirmation); 「終了」/"end" ends the handoff (a HandoffEndEffect),
//     やめる/メニュー ask to confirm ending it, and help, the language
//     switch and the registered commands (状況) still work. A dialog in
//     progress when the handoff began is offered again when it ends.
//     Other actions go to their Config.StaffActions handler (a survey).
//   - a message whose step is already in the session (a redelivery): the
//     stored Outbox is sent again, unchanged (same RetryKey), if it belongs
//     to msg; otherwise nothing happens.
//   - otherwise: one step runs on the stored session (a fresh one when
//     there is none or it expired), its effects are executed, the session
//     is saved with msg marked applied and the replies as its Outbox, and
//     the Outbox is sent through Config.Senders. A stale write
//     (koe.ErrConflict) reloads and redoes the step, a few times at most.
//
// Errors are wrapped with context and never contain personal data. An
// error before the save leaves the session unchanged; an error from the
// sender leaves the Outbox saved, so calling Handle again resends it. A
// cancelled context returns an error wrapping ctx.Err().
func (e *Engine) Handle(ctx context.Context, msg koe.Message) error {
	if msg.ID == "" || !msg.User.Valid() {
		return fmt.Errorf("dialogs: handle: message without id or user: %w", koe.ErrInvalid)
	}
	// The message is an attribute of each record, not of a derived logger:
	// With would format it (and hash the user id) for every message even
	// when nothing is logged.
	log, m := e.log, slog.Any("msg", msg)
	if msg.Kind == koe.KindUnfollow {
		e.cache.forget(msg.User)
		if err := e.cfg.Sessions.DeleteSession(ctx, msg.User); err != nil {
			return fmt.Errorf("dialogs: forget session: %w", err)
		}
		log.DebugContext(ctx, "session forgotten", m)
		return nil
	}
	ch := msg.User.Channel()
	sender, ok := e.cfg.Senders[ch]
	if !ok || sender == nil {
		return fmt.Errorf("dialogs: no sender for channel %q: %w", ch, koe.ErrInvalid)
	}
	var (
		out *koe.Outbound
		err error
	)
	useCache := true
	for attempt := 1; ; attempt++ {
		out, err = e.apply(ctx, msg, useCache)
		if errors.Is(err, errCachedHint) {
			useCache, attempt = false, attempt-1 // not a conflict: load and redo
			continue
		}
		if err == nil || !errors.Is(err, koe.ErrConflict) || attempt == maxAttempts {
			break
		}
		if useCache {
			useCache = false
			log.DebugContext(ctx, "cached session was stale, loading", m, slog.Int("attempt", attempt))
			continue
		}
		log.InfoContext(ctx, "stale session, redoing step", m, slog.Int("attempt", attempt))
	}
	if err != nil {
		return err
	}
	if out == nil || len(out.Replies) == 0 {
		return nil
	}
	if err := sender.Send(ctx, *out); err != nil {
		return fmt.Errorf("dialogs: send replies: %w", err)
	}
	return nil
}

// errCachedHint asks Handle to redo apply on the stored session: the step
// computed on a cached one has effects, which must never run on a hint.
var errCachedHint = errors.New("dialogs: step on cached session has effects")

// apply loads the session (or, with useCache, takes this engine's cached
// copy) and, unless msg is already applied, runs the step, its effects and
// the save. It returns the Outbound to send (nil: none).
func (e *Engine) apply(ctx context.Context, msg koe.Message, useCache bool) (*koe.Outbound, error) {
	log, m := e.log, slog.Any("msg", msg)
	s, cached := koe.Session{}, false
	if useCache {
		s, cached = e.cache.get(msg.User, e.cfg.Now())
	}
	if !cached {
		var err error
		s, err = e.cfg.Sessions.LoadSession(ctx, msg.User)
		switch {
		case errors.Is(err, koe.ErrNotFound):
			s = koe.Session{User: msg.User}
		case err != nil:
			return nil, fmt.Errorf("dialogs: load session: %w", err)
		}
	}
	if s.HasApplied(msg.ID) {
		if s.Outbox != nil && s.Outbox.ID == msg.ID {
			log.InfoContext(ctx, "message already applied, resending replies", m)
			out := *s.Outbox
			return &out, nil
		}
		log.InfoContext(ctx, "message already applied and superseded", m)
		return nil, nil
	}
	now := e.cfg.Now()
	next, stepReplies, effects := e.step(s, msg, now)
	if cached && len(effects) > 0 {
		return nil, errCachedHint
	}
	answers := make([][]koe.Reply, len(effects))
	for i, eff := range effects {
		meta := EffectMeta{Key: fmt.Sprintf("%s/%d", msg.ID, i), MessageID: msg.ID, User: msg.User, Lang: next.Lang, At: now}
		answer, err := e.runEffect(ctx, meta, eff.effect)
		if err != nil {
			return nil, err
		}
		answers[i] = answer
	}
	replies := merge(stepReplies, effects, answers)
	next.MarkApplied(msg.ID)
	next.Outbox = nil
	if len(replies) > 0 {
		next.Outbox = &koe.Outbound{
			ID:            msg.ID,
			To:            msg.User,
			Lang:          next.Lang,
			Replies:       replies,
			RetryKey:      e.cfg.NewRetryKey(),
			ReplyToken:    msg.ReplyToken,
			TokenIssuedAt: msg.SentAt,
		}
	}
	next.UpdatedAt = now
	next.ExpiresAt = now.Add(e.retention(next))
	saved, err := e.cfg.Sessions.SaveSession(ctx, next)
	if err != nil {
		e.cache.forget(msg.User)
		return nil, fmt.Errorf("dialogs: save session: %w", err)
	}
	e.cache.put(saved)
	log.DebugContext(ctx, "step applied", m, slog.Any("session", saved), slog.Int("replies", len(replies)), slog.Int("effects", len(effects)))
	return saved.Outbox, nil
}

func (e *Engine) runEffect(ctx context.Context, meta EffectMeta, eff Effect) ([]koe.Reply, error) {
	var (
		replies []koe.Reply
		err     error
	)
	switch v := eff.(type) {
	case VoiceEffect:
		if e.cfg.Voices == nil {
			e.log.DebugContext(ctx, "no voice sink; voice dropped", slog.String("source", v.Source))
			return nil, nil
		}
		replies, err = e.cfg.Voices.AddVoice(ctx, meta, v)
	default:
		if e.cfg.Effects == nil {
			return nil, fmt.Errorf("dialogs: no runner for effect %q: %w", eff.EffectKind(), koe.ErrInvalid)
		}
		replies, err = e.cfg.Effects.RunEffect(ctx, meta, eff)
	}
	if err != nil {
		return nil, fmt.Errorf("dialogs: effect %s: %w", eff.EffectKind(), err)
	}
	return replies, nil
}

// Step is the pure core of Handle: it applies msg to a copy of s at time
// now and returns the new session (Applied, Outbox, UpdatedAt, ExpiresAt
// and Version untouched), the replies and the effects. It does no I/O; the
// same inputs give the same outputs. Only the last reply carries quick
// replies.
//
// An effect whose runner answers (EffectRunner, VoiceSink) adds its replies
// where the step asked for it; Step cannot know them and returns the step's
// own, with the fallback of each Turn.EffectOr as if its runner had nothing
// to say.
func (e *Engine) Step(s koe.Session, msg koe.Message, now time.Time) (koe.Session, []koe.Reply, []Effect) {
	next, replies, placed := e.step(s, msg, now)
	var effects []Effect
	for _, p := range placed {
		effects = append(effects, p.effect)
	}
	return next, merge(replies, placed, make([][]koe.Reply, len(placed))), effects
}

// merge places each effect's answer among the step's replies where the step
// asked for the effect: the answer, or the effect's fallback when the
// answer is empty (then the fallback's quick replies are offered under the
// answer). Only the last reply keeps quick replies.
func merge(stepReplies []koe.Reply, effects []placedEffect, answers [][]koe.Reply) []koe.Reply {
	var replies []koe.Reply
	done := 0 // step replies already in replies
	for i, eff := range effects {
		replies = append(replies, stepReplies[done:eff.at]...)
		done = eff.at
		answer := answers[i]
		switch {
		case len(answer) == 0:
			answer = eff.fallback
		case eff.offer != nil && answer[len(answer)-1].QuickReplies == nil:
			answer = slices.Clone(answer)
			answer[len(answer)-1].QuickReplies = eff.offer
		}
		replies = append(replies, answer...)
	}
	return lastQuickReplies(append(replies, stepReplies[done:]...))
}

// step is Step with the effects' places among the replies kept and quick
// replies not yet moved.
func (e *Engine) step(s koe.Session, msg koe.Message, now time.Time) (koe.Session, []koe.Reply, []placedEffect) {
	s.Vars = maps.Clone(s.Vars)
	s.History = slices.Clone(s.History)
	s.Applied = slices.Clone(s.Applied)
	if s.User == "" {
		s.User = msg.User
	}
	if _, ok := koe.ParseLang(string(s.Lang)); !ok {
		s.Lang = e.cfg.DefaultLang
	}
	t := &Turn{e: e, s: &s, msg: msg, now: now, fresh: s.Version == 0}
	t.step()
	return s, t.replies, t.effects
}

// retention is how long s is kept after now: Config.SessionRetention, or
// the running dialog's longer Retention.
func (e *Engine) retention(s koe.Session) time.Duration {
	r := e.cfg.SessionRetention
	if d := e.dialogs[s.Dialog]; d != nil && d.Retention > r {
		r = d.Retention
	}
	return r
}

// lastQuickReplies keeps quick replies on the last reply only (LINE shows
// only those): the latest set offered moves there. It changes rs in place.
func lastQuickReplies(rs []koe.Reply) []koe.Reply {
	if len(rs) == 0 {
		return nil
	}
	var qr []koe.Action
	for i := range rs {
		if rs[i].QuickReplies != nil {
			qr = rs[i].QuickReplies
			rs[i].QuickReplies = nil
		}
	}
	rs[len(rs)-1].QuickReplies = qr
	return rs
}
