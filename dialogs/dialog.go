package dialogs

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs/catalog"
)

// Dialog is a conversation as data: named states, the first one, and what
// to do when a customer keeps giving answers the dialog cannot accept.
// Register it through Config.Dialogs; the engine starts it when the main
// menu entry of the same Name is chosen (or when Turn.Begin names it).
type Dialog struct {
	// Name identifies the dialog in sessions and the registry. Names are
	// stored in sessions: renaming one abandons conversations in flight.
	Name string
	// Start is the first state.
	Start string
	// States by name. Names are stored in sessions; they must not start
	// with '_' (reserved for the engine).
	States map[string]State
	// MaxInvalid is how many consecutive invalid answers to one question
	// (Turn.Reask) are accepted before GiveUp; 0 means DefaultMaxInvalid.
	MaxInvalid int
	// GiveUp runs instead of the last re-ask. Nil: apologise, give the
	// inquiry desk's phone number, end the dialog and show the menu.
	GiveUp func(t *Turn)
	// IdleTimeout overrides Config.IdleTimeout while the dialog runs;
	// negative: a pause never asks whether to continue (a survey pushed to
	// the customer, answered whenever they like). 0: Config.IdleTimeout.
	IdleTimeout time.Duration
	// Retention keeps the session at least this long after its last
	// message while the dialog runs, when longer than
	// Config.SessionRetention (a survey waits for its answer until it
	// expires).
	Retention time.Duration
	// Commands are inputs the dialog makes available everywhere while it
	// is registered: outside any dialog and inside every dialog (an order
	// status query, say). They are checked after the engine's own
	// commands and before the running dialog's Answer.
	Commands []Command
}

// Command is an input customers may send at any point of a conversation.
// After Run the engine continues where the customer was: it asks the
// pending question again, or shows the menu outside a dialog.
type Command struct {
	// Name identifies the command in errors.
	Name string
	// Match reports whether the message invokes the command. It must be
	// pure and should match whole messages only, so that answers to a
	// dialog's questions are not taken for commands.
	Match func(t *Turn) bool
	// Run answers the command: replies and effects (an effect whose
	// runner answers is the way to read stored data). It must not change
	// the dialog's state.
	Run func(t *Turn)
}

// DefaultMaxInvalid is the retry cap of a Dialog without MaxInvalid.
const DefaultMaxInvalid = 3

// State is one question of a dialog.
type State struct {
	// Prompt asks the question: on entering the state, after "back", after
	// an invalid answer, after help or a language switch. It must only add
	// replies (no state changes).
	Prompt func(t *Turn)
	// Answer handles the customer's message in this state: store the
	// answer (Turn.SetVar) and move on (Turn.Next, Turn.Goto, Turn.End) or
	// re-ask (Turn.Reask). Commands (menu, cancel, back, help, language)
	// never reach it.
	Answer func(t *Turn)
	// Field is the Vars entry this state fills, if any; "back" shows its
	// earlier value to the customer.
	Field string
	// Show renders the Field's stored value for the customer (for example
	// a choice's label for a stored code). Nil shows the value as is.
	Show func(t *Turn, value string) string
}

func (d *Dialog) validate() error {
	if d == nil || d.Name == "" {
		return fmt.Errorf("dialogs: dialog without a name: %w", koe.ErrInvalid)
	}
	if _, ok := d.States[d.Start]; !ok {
		return fmt.Errorf("dialogs: dialog %q: start state %q missing: %w", d.Name, d.Start, koe.ErrInvalid)
	}
	for name, st := range d.States {
		if name == "" || strings.HasPrefix(name, "_") {
			return fmt.Errorf("dialogs: dialog %q: bad state name %q: %w", d.Name, name, koe.ErrInvalid)
		}
		if st.Prompt == nil || st.Answer == nil {
			return fmt.Errorf("dialogs: dialog %q: state %q needs Prompt and Answer: %w", d.Name, name, koe.ErrInvalid)
		}
	}
	return nil
}

// Choice is an answer offered as a quick reply.
type Choice struct {
	// Label is the catalogue key of the button's text.
	Label string
	// Data is the postback data sent back when it is tapped (≤ 300 bytes).
	Data string
	// Words are further typed answers that pick this choice, compared after
	// Normalize ("はい", "yes"). Typing the label in any language also
	// picks it.
	Words []string
}

// Quick replies every dialog may offer; the engine handles their data.
var (
	ChoiceCancel = Choice{Label: "cmd.cancel", Data: DataCancel}
	ChoiceBack   = Choice{Label: "cmd.back", Data: DataBack}
	ChoiceMenu   = Choice{Label: "cmd.menu", Data: DataMenu}
	ChoiceHelp   = Choice{Label: "cmd.help", Data: DataHelp}
)

// Postback data of the engine's own commands.
const (
	DataMenu   = "cmd:menu"
	DataCancel = "cmd:cancel"
	DataBack   = "cmd:back"
	DataHelp   = "cmd:help"
)

// Reserved Vars names (the engine's, never a dialog's).
const (
	varConfirm = "_confirm" // "cancel" while asking to confirm a cancel
	varReturn  = "_return"  // state to return to after Edit
	varResume  = "_resume"  // "ask" while asking whether to continue after a pause

	varHandoff        = "_handoff"         // the case ref while staff talk with the customer
	varHandoffRelayed = "_handoff_relayed" // "1" once a message was passed on in this handoff
	varHandoffConfirm = "_handoff_confirm" // "end" while asking to confirm ending the handoff
)

// handoffVars outlive End.
var handoffVars = []string{varHandoff, varHandoffRelayed, varHandoffConfirm}

const maxHistory = 32

// Turn is one step of the conversation: the session being changed, the
// message, the clock, and the replies and effects produced so far. Prompt
// and Answer functions get one; it is not safe for concurrent use and must
// not be kept after the function returns.
type Turn struct {
	e       *Engine
	s       *koe.Session
	msg     koe.Message
	now     time.Time
	fresh   bool
	replies []koe.Reply
	effects []placedEffect
}

// placedEffect is an effect and the number of replies the step had made
// when it asked for it: the runner's replies go there. fallback replaces an
// empty answer; offer (the fallback's quick replies) is put under an answer
// that has none.
type placedEffect struct {
	effect   Effect
	at       int
	fallback []koe.Reply
	offer    []koe.Action
}

// Message returns the inbound message.
func (t *Turn) Message() koe.Message { return t.msg }

// Text returns the message's text with surrounding spaces removed ("" when
// it is not a text message). Use it to store free-text answers.
func (t *Turn) Text() string {
	if t.msg.Kind != koe.KindText {
		return ""
	}
	return strings.TrimSpace(t.msg.Text)
}

// Postback returns the postback data ("" when it is not a postback).
func (t *Turn) Postback() string {
	if t.msg.Kind != koe.KindPostback || t.msg.Postback == nil {
		return ""
	}
	return t.msg.Postback.Data
}

// Now returns the engine's clock for this step.
func (t *Turn) Now() time.Time { return t.now }

// Lang returns the session's language.
func (t *Turn) Lang() koe.Lang { return t.s.Lang }

// Dialog returns the running dialog's name and state ("" when none).
func (t *Turn) Dialog() (name, state string) { return t.s.Dialog, t.s.State }

// Var returns a collected answer ("" when absent).
func (t *Turn) Var(name string) string { return t.s.Var(name) }

// SetVar stores a collected answer; "" deletes it.
func (t *Turn) SetVar(name, value string) { t.s.SetVar(name, value) }

// Catalog returns the engine's text catalogue.
func (t *Turn) Catalog() *catalog.Catalog { return t.e.cat }

// T returns the catalogue text for key in the session's language, with
// placeholders filled from name, value pairs.
func (t *Turn) T(key string, args ...string) string { return t.e.cat.Text(t.s.Lang, key, args...) }

// Say adds a text reply from the catalogue.
func (t *Turn) Say(key string, args ...string) {
	t.replies = append(t.replies, koe.Reply{Text: t.T(key, args...)})
}

// Reply adds a reply built by the caller (a card, for example). Its texts
// must come from T.
func (t *Turn) Reply(r koe.Reply) { t.replies = append(t.replies, r) }

// Ask adds a text reply from the catalogue with choices as quick replies.
func (t *Turn) Ask(key string, choices []Choice, args ...string) {
	t.replies = append(t.replies, koe.Reply{Text: t.T(key, args...), QuickReplies: t.QuickReplies(choices...)})
}

// QuickReplies turns choices into postback actions labelled in the
// session's language.
func (t *Turn) QuickReplies(choices ...Choice) []koe.Action {
	if len(choices) == 0 {
		return nil
	}
	as := make([]koe.Action, len(choices))
	for i, c := range choices {
		label := t.T(c.Label)
		as[i] = koe.Action{Kind: koe.ActionPostback, Label: label, Data: c.Data, Text: label}
	}
	return as
}

// Chosen returns the Data of the choice the message picks: by postback data,
// by typing a choice's label (in any language) or one of its Words. ok is
// false when it picks none.
func (t *Turn) Chosen(choices ...Choice) (data string, ok bool) {
	if pb := t.Postback(); pb != "" {
		for _, c := range choices {
			if c.Data == pb {
				return c.Data, true
			}
		}
		return "", false
	}
	typed := compact(Normalize(t.Text()))
	if typed == "" {
		return "", false
	}
	for _, c := range choices {
		for _, l := range t.e.cat.Langs() {
			if compact(Normalize(t.e.cat.Text(l, c.Label))) == typed {
				return c.Data, true
			}
		}
		for _, w := range c.Words {
			if compact(Normalize(w)) == typed {
				return c.Data, true
			}
		}
	}
	return "", false
}

// Effect asks the engine to execute e after this step. Replies its runner
// returns (see EffectRunner) are placed here: after the replies the step
// has made so far and before those it makes later.
func (t *Turn) Effect(e Effect) {
	t.effects = append(t.effects, placedEffect{effect: e, at: len(t.replies)})
}

// NextEffectKey returns the EffectMeta.Key the next effect asked for in
// this step will be run with, so that a later step can refer to what that
// effect recorded (a FAQ answer to be marked helpful, say).
func (t *Turn) NextEffectKey() string {
	return fmt.Sprintf("%s/%d", t.msg.ID, len(t.effects))
}

// EffectOr is Effect with a fallback: the replies otherwise adds are sent
// instead of the runner's answer when the runner has nothing to say, and
// when it does answer, the fallback's quick replies are offered under the
// answer (unless it brings its own). otherwise must only add replies.
func (t *Turn) EffectOr(e Effect, otherwise func(t *Turn)) {
	at := len(t.replies)
	otherwise(t)
	fallback := slices.Clone(t.replies[at:])
	t.replies = t.replies[:at]
	var offer []koe.Action
	for _, r := range fallback {
		if r.QuickReplies != nil {
			offer = r.QuickReplies
		}
	}
	t.effects = append(t.effects, placedEffect{effect: e, at: at, fallback: fallback, offer: offer})
}

// Invalid returns how many invalid answers in a row the current question
// has had (Reask counts them; moving to another question resets it).
// Prompts use it to offer more help after repeated trouble.
func (t *Turn) Invalid() int { return t.s.Invalid }

// dialog returns the running dialog and state, or nil.
func (t *Turn) dialog() (*Dialog, *State) {
	d := t.e.dialogs[t.s.Dialog]
	if d == nil {
		return nil, nil
	}
	st, ok := d.States[t.s.State]
	if !ok {
		return d, nil
	}
	return d, &st
}

// Begin starts the named registered dialog at its first state, discarding
// any dialog in progress, and prompts. It reports false (and changes
// nothing) when no such dialog is registered.
func (t *Turn) Begin(name string) bool {
	d := t.e.dialogs[name]
	if d == nil {
		return false
	}
	t.End()
	t.s.Dialog = d.Name
	t.s.State = d.Start
	t.Prompt()
	return true
}

// Prompt asks the current state's question again (nothing outside a
// dialog).
func (t *Turn) Prompt() {
	if _, st := t.dialog(); st != nil {
		st.Prompt(t)
	}
}

// Goto moves to state, remembering the current one for "back", resets the
// invalid-answer counter and prompts.
func (t *Turn) Goto(state string) {
	if t.s.State != "" && t.s.State != state {
		t.s.History = append(t.s.History, t.s.State)
		if n := len(t.s.History); n > maxHistory {
			t.s.History = slices.Clone(t.s.History[n-maxHistory:])
		}
	}
	t.s.State = state
	t.s.Invalid = 0
	t.Prompt()
}

// Edit goes to state to change an earlier answer (from a summary, say);
// the next Next returns to the current state instead of its own target.
func (t *Turn) Edit(state string) {
	t.s.SetVar(varReturn, t.s.State)
	t.Goto(state)
}

// EditFrom is Edit with an explicit state to return to: a field picker
// state uses it to come back to the summary rather than to the picker.
func (t *Turn) EditFrom(returnTo, state string) {
	t.s.SetVar(varReturn, returnTo)
	t.Goto(state)
}

// Editing reports whether an Edit is in progress: the next Next returns to
// the state the edit came from.
func (t *Turn) Editing() bool { return t.s.Var(varReturn) != "" }

// Next moves on after an accepted answer: back to the state Edit came from,
// if any, else to state.
func (t *Turn) Next(state string) {
	if r := t.s.Var(varReturn); r != "" {
		t.s.SetVar(varReturn, "")
		state = r
	}
	t.Goto(state)
}

// Back returns to the previous question, showing the earlier answer. At the
// first question it says so and asks again.
func (t *Turn) Back() {
	d, _ := t.dialog()
	if d == nil {
		return
	}
	n := len(t.s.History)
	if n == 0 {
		t.Say("back.none")
		t.Prompt()
		return
	}
	prev := t.s.History[n-1]
	t.s.History = t.s.History[:n-1]
	t.s.State = prev
	t.s.Invalid = 0
	st, ok := d.States[prev]
	if !ok {
		t.End()
		t.Menu("menu.fallback")
		return
	}
	if v := t.s.Var(st.Field); st.Field != "" && v != "" {
		if st.Show != nil {
			v = st.Show(t, v)
		}
		t.Say("back.previous", "answer", v)
	} else {
		t.Say("back.previous_empty")
	}
	st.Prompt(t)
}

// Reask rejects the answer: it counts it, explains why with the catalogue
// text explainKey, and asks again. A text the engine's Config.Interrupt
// answers instead is not counted: the question is only asked again. At the dialog's cap of consecutive
// invalid answers it gives up instead (Dialog.GiveUp).
func (t *Turn) Reask(explainKey string, args ...string) {
	d, _ := t.dialog()
	if d == nil {
		t.Menu("menu.fallback")
		return
	}
	if h := t.e.cfg.Interrupt; h != nil && t.msg.Kind == koe.KindText && t.Text() != "" && h(t) {
		t.Prompt()
		return
	}
	t.s.Invalid++
	limit := d.MaxInvalid
	if limit <= 0 {
		limit = DefaultMaxInvalid
	}
	if t.s.Invalid >= limit {
		if d.GiveUp != nil {
			d.GiveUp(t)
			return
		}
		t.Say("invalid.give_up", "phone", t.Phone(DeskInquiry))
		t.End()
		t.Menu("menu.other")
		return
	}
	t.Say(explainKey, args...)
	t.Prompt()
}

// End finishes the current dialog and forgets its answers. It adds no
// reply. A handoff to staff (see Engine.Handle) is not a dialog and
// survives it.
func (t *Turn) End() {
	kept := make(map[string]string)
	for _, name := range handoffVars {
		if v := t.s.Var(name); v != "" {
			kept[name] = v
		}
	}
	t.s.Dialog, t.s.State = "", ""
	t.s.Vars, t.s.History, t.s.Invalid = nil, nil, 0
	for name, v := range kept {
		t.s.SetVar(name, v)
	}
}

// Menu adds the catalogue text key with the main menu as quick replies.
func (t *Turn) Menu(key string, args ...string) {
	t.replies = append(t.replies, koe.Reply{Text: t.T(key, args...), QuickReplies: t.QuickReplies(t.e.menuChoices()...)})
}

// Desk names a phone desk customers can call.
type Desk string

// The desks.
const (
	DeskAccident Desk = "accident"
	DeskInquiry  Desk = "inquiry"
)

// Phone returns the desk's number: from Config, else from the catalogue.
func (t *Turn) Phone(d Desk) string {
	switch d {
	case DeskAccident:
		if t.e.cfg.AccidentPhone != "" {
			return t.e.cfg.AccidentPhone
		}
		return t.T("desk.accident_phone")
	default:
		if t.e.cfg.InquiryPhone != "" {
			return t.e.cfg.InquiryPhone
		}
		return t.T("desk.inquiry_phone")
	}
}
