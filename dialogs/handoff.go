package dialogs

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/koehq/koe"
)

// HandoffByCustomer is HandoffEndEffect.By when the customer ended it.
const HandoffByCustomer = "customer"

var (
	choiceEndHandoff = Choice{Label: "handoff.end", Data: "handoff:end",
		Words: []string{"終了", "終了する", "終了します", "終わり", "おわり", "終わる", "end", "end chat", "finish"}}
	choiceEndYes = Choice{Label: "handoff.end_yes", Data: "handoff:end_yes", Words: []string{"はい", "yes", "y", "ok"}}
	choiceEndNo  = Choice{Label: "handoff.end_no", Data: "handoff:end_no", Words: []string{"いいえ", "no", "n"}}
)

// staffChunk is the longest text of one staff reply bubble (LINE takes
// 5000 characters; the prefix needs a few).
const staffChunk = 4000

// inHandoff reports whether staff are talking with the customer.
func (t *Turn) inHandoff() bool { return t.s.Var(varHandoff) != "" }

// staff handles a koe.KindStaff message: a reply is shown and starts (or
// continues) the handoff of its case; an end closes the handoff of that
// case; a close tells the customer the case is closed (ending its
// handoff); another action goes to its Config.StaffActions handler. A note
// without a case or of an action without a handler, an empty reply, and an
// end for a case the customer is not handed off for change nothing and say
// nothing.
func (t *Turn) staff() {
	n := t.msg.Staff
	if n == nil || n.CaseRef == "" {
		return
	}
	switch n.Action {
	case koe.StaffReply:
		text := strings.TrimSpace(n.Text)
		if text == "" {
			return
		}
		for _, part := range chunks(text, staffChunk) {
			t.Ask("handoff.staff_reply", []Choice{choiceEndHandoff}, "text", part)
		}
		if t.s.Var(varHandoff) == n.CaseRef {
			return
		}
		t.s.SetVar(varHandoff, n.CaseRef)
		t.s.SetVar(varHandoffRelayed, "")
		t.s.SetVar(varHandoffConfirm, "")
		t.s.SetVar(varConfirm, "")
		t.s.SetVar(varResume, "")
		t.Ask("handoff.started", []Choice{choiceEndHandoff})
	case koe.StaffEnd:
		if t.s.Var(varHandoff) != n.CaseRef {
			return
		}
		t.leaveHandoff()
		t.Say("handoff.ended_staff")
		t.afterHandoff()
	case koe.StaffClose:
		// The case is closed: tell the customer, and end its handoff.
		inHandoff := t.s.Var(varHandoff) == n.CaseRef
		if inHandoff {
			t.leaveHandoff()
		}
		t.Say("case.closed", "ref", n.CaseRef)
		if inHandoff {
			t.afterHandoff()
		}
	default:
		if h := t.e.cfg.StaffActions[n.Action]; h != nil {
			h(t)
		}
	}
}

// HandedOff reports whether staff are talking with the customer (see
// Engine.Handle): the customer's messages go to staff, not to dialogs.
func (t *Turn) HandedOff() bool { return t.inHandoff() }

// handoff handles the customer's message while staff talk with them.
func (t *Turn) handoff() {
	cmd := t.command()
	switch cmd {
	case cmdJapanese, cmdEnglish:
		t.s.Lang = koe.Japanese
		if cmd == cmdEnglish {
			t.s.Lang = koe.English
		}
		t.Say("lang.switched")
		t.handoffReminder()
		return
	case cmdHelp:
		t.Ask("handoff.help", []Choice{choiceEndHandoff})
		return
	}
	if t.s.Var(varHandoffConfirm) != "" {
		t.s.SetVar(varHandoffConfirm, "")
		data, _ := t.Chosen(choiceEndYes, choiceEndNo, choiceEndHandoff)
		switch {
		case data == choiceEndYes.Data || data == choiceEndHandoff.Data || cmd == cmdCancel || cmd == cmdMenu:
			t.endHandoff()
			return
		case data == choiceEndNo.Data || cmd == cmdBack:
			t.Ask("handoff.continue", []Choice{choiceEndHandoff})
			return
		}
		// Anything else is a message for staff after all.
	}
	if _, ok := t.Chosen(choiceEndHandoff); ok {
		t.endHandoff()
		return
	}
	if cmd == cmdNone {
		for _, c := range t.e.commands {
			if c.Match(t) {
				c.Run(t)
				t.handoffReminder()
				return
			}
		}
	}
	if cmd == cmdCancel || cmd == cmdMenu || t.msg.Kind == koe.KindPostback {
		t.s.SetVar(varHandoffConfirm, "end")
		t.Ask("handoff.end_confirm", []Choice{choiceEndYes, choiceEndNo})
		return
	}
	t.relay()
}

// relay passes the message on to staff; the first one of a handoff is
// confirmed to the customer, the later ones are not answered.
func (t *Turn) relay() {
	eff := RelayEffect{CaseRef: t.s.Var(varHandoff), Kind: t.msg.Kind}
	switch {
	case t.msg.Kind == koe.KindText && t.Text() != "":
		eff.Text = t.Text()
	case t.msg.Kind == koe.KindImage && t.msg.Image != nil:
		eff.Image = t.msg.Image
	case t.msg.Kind == koe.KindSticker && t.msg.Sticker != nil:
		eff.Sticker = t.msg.Sticker
	case t.msg.Kind == koe.KindLocation && t.msg.Location != nil:
		eff.Location = t.msg.Location
	default:
		t.handoffReminder()
		return
	}
	t.Effect(eff)
	if t.s.Var(varHandoffRelayed) == "" {
		t.s.SetVar(varHandoffRelayed, "1")
		t.Ask("handoff.relayed", []Choice{choiceEndHandoff})
	}
}

// endHandoff ends the handoff at the customer's request and tells staff.
func (t *Turn) endHandoff() {
	ref := t.s.Var(varHandoff)
	t.leaveHandoff()
	t.Effect(HandoffEndEffect{CaseRef: ref, By: HandoffByCustomer})
	t.Say("handoff.ended_customer")
	t.afterHandoff()
}

func (t *Turn) leaveHandoff() {
	for _, name := range handoffVars {
		t.s.SetVar(name, "")
	}
}

// afterHandoff offers the dialog that was in progress when the handoff
// began, or the menu.
func (t *Turn) afterHandoff() {
	if t.s.Dialog != "" {
		t.s.SetVar(varResume, "ask")
		t.askResume()
		return
	}
	t.Menu("menu.other")
}

func (t *Turn) handoffReminder() {
	t.Ask("handoff.reminder", []Choice{choiceEndHandoff})
}

// chunks splits s into pieces of at most n runes.
func chunks(s string, n int) []string {
	var out []string
	for utf8.RuneCountInString(s) > n {
		i, k := 0, 0
		for k < n {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			k++
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return append(out, s)
}

// smallTalk are texts that carry no voice: greetings, acknowledgements and
// tests, compared after Normalize with spaces and trailing punctuation
// dropped. Thanks are not among them: they are praise.
var smallTalk = map[string]bool{
	"こんにちは": true, "こんにちわ": true, "こんばんは": true, "こんばんわ": true, "おはよう": true, "おはようございます": true,
	"はじめまして": true, "よろしく": true, "よろしくお願いします": true, "よろしくお願いいたします": true,
	"もしもし": true, "はい": true, "いいえ": true, "うん": true, "了解": true, "了解です": true, "了解しました": true,
	"承知しました": true, "わかりました": true, "分かりました": true, "ok": true, "okay": true, "おk": true,
	"テスト": true, "てすと": true, "test": true, "hi": true, "hello": true, "hey": true, "yes": true, "no": true,
	"good morning": true, "goodmorning": true, "good evening": true, "goodevening": true,
}

// HasSubstance reports whether a text outside any dialog is worth treating
// as a customer's voice: at least two letters or digits, and not small talk
// (こんにちは, はい, ok, テスト). Other texts get the main menu.
func HasSubstance(text string) bool {
	n := Normalize(text)
	letters := 0
	for _, r := range n {
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			letters++
		}
	}
	if letters < 2 {
		return false
	}
	c := strings.TrimRight(compact(n), "。.!！?？~〜ー")
	return !smallTalk[c] && !smallTalk[strings.TrimRight(n, "。.!！?？~〜ー ")]
}
