package dialogs

import (
	"strings"

	"github.com/koehq/koe"
	"golang.org/x/text/unicode/norm"
)

// Normalize folds text for matching typed answers: NFKC (full-width
// letters and digits to ASCII, half-width kana to full-width), lower case,
// and runs of white space to one space, trimmed.
func Normalize(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(norm.NFKC.String(s))), " ")
}

// compact drops spaces and trailing sentence punctuation from normalised
// text, so "メ ニュー。" matches "メニュー".
func compact(s string) string {
	s = strings.ReplaceAll(s, " ", "")
	return strings.TrimRight(s, "。.!、,")
}

type command int

const (
	cmdNone command = iota
	cmdMenu
	cmdCancel
	cmdBack
	cmdHelp
	cmdJapanese
	cmdEnglish
)

// Typed command words, compared after Normalize and compact. These are
// input vocabulary, not customer texts, so they live here rather than in
// the catalogue; every label of a cmd.* catalogue key is accepted as well.
var commandWords = map[string]command{
	"メニュー": cmdMenu, "menu": cmdMenu, "めにゅー": cmdMenu,
	"やめる": cmdCancel, "止める": cmdCancel, "キャンセル": cmdCancel, "中止": cmdCancel, "中止する": cmdCancel, "cancel": cmdCancel, "stop": cmdCancel, "discard": cmdCancel,
	"戻る": cmdBack, "もどる": cmdBack, "back": cmdBack,
	"ヘルプ": cmdHelp, "help": cmdHelp, "使い方": cmdHelp, "?": cmdHelp,
	"日本語": cmdJapanese, "japanese": cmdJapanese, "にほんご": cmdJapanese,
	"english": cmdEnglish, "英語": cmdEnglish,
}

var commandData = map[string]command{
	DataMenu: cmdMenu, DataCancel: cmdCancel, DataBack: cmdBack, DataHelp: cmdHelp,
	"lang:ja": cmdJapanese, "lang:en": cmdEnglish,
}

func (t *Turn) command() command {
	if pb := t.Postback(); pb != "" {
		return commandData[pb]
	}
	typed := compact(Normalize(t.Text()))
	if typed == "" {
		return cmdNone
	}
	if c, ok := commandWords[typed]; ok {
		return c
	}
	for key, c := range map[string]command{"cmd.menu": cmdMenu, "cmd.cancel": cmdCancel, "cmd.back": cmdBack, "cmd.help": cmdHelp} {
		for _, l := range t.e.cat.Langs() {
			if compact(Normalize(t.e.cat.Text(l, key))) == typed {
				return c
			}
		}
	}
	return cmdNone
}

// Names of the dialogs behind the main menu entries.
const (
	DialogAccident = "accident"
	DialogInquiry  = "inquiry"
	DialogFeedback = "feedback"
)

// menuEntry is one main-menu entry: the dialog it starts and what to say
// while that dialog does not exist.
type menuEntry struct {
	dialog      string
	label       string
	unavailable string
	desk        Desk
}

var mainMenu = []menuEntry{
	{dialog: DialogAccident, label: "menu.accident", unavailable: "unavailable.accident", desk: DeskAccident},
	{dialog: DialogInquiry, label: "menu.inquiry", unavailable: "unavailable.inquiry", desk: DeskInquiry},
	{dialog: DialogFeedback, label: "menu.feedback", unavailable: "unavailable.inquiry", desk: DeskInquiry},
}

const menuDataPrefix = "menu:"

func (e *Engine) menuChoices() []Choice {
	cs := make([]Choice, len(mainMenu))
	for i, m := range mainMenu {
		cs[i] = Choice{Label: m.label, Data: menuDataPrefix + m.dialog}
	}
	return cs
}

var (
	choiceYes = Choice{Label: "cancel.yes", Data: "confirm:yes", Words: []string{"はい", "yes", "y", "ok"}}
	choiceNo  = Choice{Label: "cancel.no", Data: "confirm:no", Words: []string{"いいえ", "no", "n"}}
)

// step runs one message against the session; see Engine.Step.
func (t *Turn) step() {
	if t.s.Dialog != "" {
		if _, st := t.dialog(); st == nil {
			// The dialog or state is gone (renamed in a new release):
			// start over rather than guess.
			t.End()
		}
	}
	if t.msg.Kind == koe.KindStaff {
		t.staff()
		return
	}
	if t.msg.Kind == koe.KindFollow {
		t.End()
		t.Say("greeting.follow")
		if t.inHandoff() {
			t.handoffReminder()
			return
		}
		t.Menu("menu.prompt")
		return
	}
	if t.inHandoff() {
		t.handoff()
		return
	}
	paused := t.s.Dialog != "" && t.idle()
	if paused {
		t.s.SetVar(varResume, "ask")
	}
	cmd := t.command()
	switch cmd {
	case cmdJapanese, cmdEnglish:
		t.s.Lang = koe.Japanese
		if cmd == cmdEnglish {
			t.s.Lang = koe.English
		}
		t.Say("lang.switched")
		t.resume()
		return
	case cmdHelp:
		t.Say("help.text")
		t.resume()
		return
	}
	if cmd == cmdNone {
		for _, c := range t.e.commands {
			if c.Match(t) {
				c.Run(t)
				t.resume()
				return
			}
		}
	}
	if t.s.Var(varResume) != "" {
		switch {
		case paused && cmd == cmdNone:
			t.askResume()
			return
		case cmd == cmdNone:
			t.answerResume()
			return
		}
		// Any other command (menu, cancel, back) answers the pause too.
		t.s.SetVar(varResume, "")
	}
	if t.s.Var(varConfirm) != "" {
		t.answerConfirm(cmd)
		return
	}
	inDialog := t.s.Dialog != ""
	switch {
	case cmd == cmdMenu && !inDialog:
		t.Menu("menu.prompt")
	case (cmd == cmdCancel || cmd == cmdBack) && !inDialog:
		t.Say("dialog.none")
		t.Menu("menu.prompt")
	case cmd == cmdCancel || cmd == cmdMenu:
		t.s.SetVar(varConfirm, "cancel")
		t.askConfirm("cancel.confirm")
	case cmd == cmdBack:
		t.Back()
	case inDialog:
		_, st := t.dialog()
		st.Answer(t)
	default:
		t.mainMenu()
	}
}

// resume continues after help, a language switch or a dialog's command:
// the pending question, or the menu.
func (t *Turn) resume() {
	switch {
	case t.inHandoff():
		t.handoffReminder()
	case t.s.Var(varResume) != "":
		t.askResume()
	case t.s.Var(varConfirm) != "":
		t.askConfirm("cancel.confirm")
	case t.s.Dialog != "":
		t.Prompt()
	default:
		t.Menu("menu.prompt")
	}
}

// idle reports whether the customer paused longer than the idle timeout
// since the session was last saved. The pause is measured to when the
// customer acted (SentAt) if that is earlier than now, so a backlog in the
// inbox does not count as the customer's pause.
func (t *Turn) idle() bool {
	if t.s.UpdatedAt.IsZero() {
		return false
	}
	at := t.now
	if !t.msg.SentAt.IsZero() && t.msg.SentAt.Before(at) {
		at = t.msg.SentAt
	}
	limit := t.e.cfg.IdleTimeout
	if d, _ := t.dialog(); d != nil && d.IdleTimeout != 0 {
		if d.IdleTimeout < 0 {
			return false
		}
		limit = d.IdleTimeout
	}
	return at.Sub(t.s.UpdatedAt) >= limit
}

var (
	choiceContinue = Choice{Label: "resume.continue", Data: "resume:continue", Words: []string{"続き", "続ける", "continue"}}
	choiceRestart  = Choice{Label: "resume.restart", Data: "resume:restart", Words: []string{"最初", "やり直す", "start over", "restart"}}
)

// askResume asks whether to continue the paused dialog or start it over.
func (t *Turn) askResume() {
	if label := t.dialogLabel(); label != "" {
		t.Ask("resume.ask", []Choice{choiceContinue, choiceRestart, ChoiceCancel}, "name", label)
		return
	}
	t.Ask("resume.ask_unnamed", []Choice{choiceContinue, choiceRestart, ChoiceCancel})
}

func (t *Turn) answerResume() {
	switch data, _ := t.Chosen(choiceContinue, choiceRestart); data {
	case choiceContinue.Data:
		t.s.SetVar(varResume, "")
		t.Say("resume.continued")
		t.resume()
	case choiceRestart.Data:
		name := t.s.Dialog
		t.Say("resume.restarted")
		t.Begin(name)
	default:
		t.Say("resume.reask")
		t.askResume()
	}
}

// dialogLabel returns the menu label of the running dialog ("" when it has
// no menu entry).
func (t *Turn) dialogLabel() string {
	for _, m := range mainMenu {
		if m.dialog == t.s.Dialog {
			return t.T(m.label)
		}
	}
	return ""
}

func (t *Turn) askConfirm(key string) {
	t.Ask(key, []Choice{choiceYes, choiceNo})
}

func (t *Turn) answerConfirm(cmd command) {
	data, _ := t.Chosen(choiceYes, choiceNo)
	switch {
	case data == choiceYes.Data || cmd == cmdCancel || cmd == cmdMenu:
		t.End()
		t.Say("cancel.done")
		t.Menu("menu.other")
	case data == choiceNo.Data || cmd == cmdBack:
		t.s.SetVar(varConfirm, "")
		t.Say("cancel.resume")
		t.Prompt()
	default:
		t.askConfirm("cancel.reask")
	}
}

// MainMenu handles the message as if no dialog were running: a menu
// choice starts its dialog, a text with substance becomes a voice, anything
// else gets the menu. A dialog that lets customers leave it by writing
// something else (an optional survey, say) calls it after End.
func (t *Turn) MainMenu() { t.mainMenu() }

// MenuChosen reports whether the message picks a main menu entry (by
// postback or by typing its label).
func (t *Turn) MenuChosen() bool {
	_, ok := t.Chosen(t.e.menuChoices()...)
	return ok
}

// mainMenu answers input outside any dialog: a menu choice starts its
// dialog (or explains it is not available on LINE yet); a text with
// substance becomes a voice (VoiceSourceFreeText) answered by the voice
// sink, with the menu offered under the answer; anything else, or a voice
// the sink does not answer, gets the menu.
func (t *Turn) mainMenu() {
	cs := t.e.menuChoices()
	data, ok := t.Chosen(cs...)
	if !ok {
		key := "menu.fallback"
		if t.fresh {
			key = "menu.fresh"
		}
		if text := t.Text(); t.e.cfg.Voices != nil && HasSubstance(text) {
			t.EffectOr(VoiceEffect{Text: text, Source: VoiceSourceFreeText}, func(t *Turn) { t.Menu(key) })
			return
		}
		t.Menu(key)
		return
	}
	for _, m := range mainMenu {
		if menuDataPrefix+m.dialog != data {
			continue
		}
		if t.Begin(m.dialog) {
			return
		}
		t.Say(m.unavailable, "phone", t.Phone(m.desk))
		t.Menu("menu.other")
		return
	}
}
