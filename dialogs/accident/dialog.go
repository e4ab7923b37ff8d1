package accident

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/dialogs/jpinput"
)

// Limits of the dialog's answers.
const (
	// MaxPhotos is how many pictures one report takes.
	MaxPhotos = 10
	// MaxDescription is the longest description, in characters.
	MaxDescription = 1000
	// MinDescription is the shortest description accepted.
	MinDescription = 5
	// MaxInvalid is how many invalid answers in a row end the dialog with
	// the accident desk's number. From HelpAfter on, prompts explain why
	// the question matters and offer わからない / skip and the phone desk.
	MaxInvalid = 4
	HelpAfter  = 2

	maxName    = 50
	maxPlace   = 200
	maxDetails = 300
)

// States of the dialog (stored in sessions: do not rename).
const (
	stSafety   = "safety"
	stUrgent   = "urgent"
	stKind     = "kind"
	stPolicy   = "policy"
	stName     = "name"
	stIDPhone  = "idphone"
	stWhen     = "when"
	stWhere    = "where"
	stDesc     = "desc"
	stInvolved = "involved"
	stDetails  = "details"
	stPolice   = "police"
	stInjuries = "injuries"
	stPhotos   = "photos"
	stPhone    = "phone"
	stCallTime = "calltime"
	stConfirm  = "confirm"
	stEdit     = "edit"
)

// Vars (session answers).
const (
	vSafety   = "safety"   // yes, no
	vUrgent   = "urgent"   // "1" when someone is injured or in danger
	vKind     = "kind"     // koe.AccidentKind
	vPolicy   = "policy"   // canonical policy number, or "unknown"
	vName     = "name"     // when the policy number is unknown
	vPhone    = "phone"    // national digits
	vWhen     = "when"     // JSON jpinput.When, or "unknown"
	vWhere    = "where"    // what the customer told (address or place)
	vLocation = "location" // JSON koe.Location when shared
	vDesc     = "desc"
	vInvolved = "involved" // none, vehicle, person, property, unknown
	vDetails  = "details"  // free text about the other party
	vPolice   = "police"   // yes, no, unknown
	vInjuries = "injuries" // free text, or "unknown"
	vPhotos   = "photos"   // JSON []string of content ids
	vCallTime = "calltime" // JSON jpinput.CallTime
)

const unknown = "unknown"

// Choices. Data is stored or compared; labels come from the catalogue.
var (
	chInjured    = dialogs.Choice{Label: "accident.btn_injured", Data: "acc:injured", Words: []string{"はい", "いる", "います", "いた", "けが人がいる", "yes", "injured", "danger"}}
	chSafeMotor  = dialogs.Choice{Label: "accident.btn_safe_motor", Data: "acc:safe:motor"}
	chSafeHome   = dialogs.Choice{Label: "accident.btn_safe_home", Data: "acc:safe:home"}
	chSafeOther  = dialogs.Choice{Label: "accident.btn_safe_other", Data: "acc:safe:other"}
	chSafe       = dialogs.Choice{Label: "accident.btn_safe", Data: "acc:safe", Words: []string{"いいえ", "いない", "いません", "なし", "大丈夫", "安全", "no", "none", "safe"}}
	chReady      = dialogs.Choice{Label: "accident.btn_ready", Data: "acc:ready", Words: []string{"準備できました", "大丈夫です", "ready", "ok", "done"}}
	chMotor      = dialogs.Choice{Label: "accident.kind_motor", Data: string(koe.AccidentMotor), Words: []string{"自動車", "車", "バイク", "car", "motor"}}
	chHome       = dialogs.Choice{Label: "accident.kind_home", Data: string(koe.AccidentHome), Words: []string{"住まい", "火災", "火事", "家", "home", "fire"}}
	chOther      = dialogs.Choice{Label: "accident.kind_other", Data: string(koe.AccidentOther), Words: []string{"その他", "other"}}
	chUnknown    = dialogs.Choice{Label: "accident.btn_unknown", Data: "acc:unknown", Words: []string{"わからない", "分からない", "不明", "わかりません", "分かりません", "unknown", "don't know", "dont know", "not sure"}}
	chSkip       = dialogs.Choice{Label: "accident.btn_skip", Data: "acc:skip", Words: []string{"スキップ", "なし", "ない", "skip", "none", "no"}}
	chDesk       = dialogs.Choice{Label: "accident.btn_desk", Data: "acc:desk", Words: []string{"電話", "電話で伝える", "phone", "call"}}
	chNow        = dialogs.Choice{Label: "accident.btn_now", Data: "acc:now"}
	chNone       = dialogs.Choice{Label: "accident.inv_none", Data: "none", Words: []string{"なし", "いない", "ない", "いません", "none", "no"}}
	chVehicle    = dialogs.Choice{Label: "accident.inv_vehicle", Data: "vehicle", Words: []string{"車", "相手の車", "vehicle", "car"}}
	chPerson     = dialogs.Choice{Label: "accident.inv_person", Data: "person", Words: []string{"人", "歩行者", "自転車", "person", "pedestrian"}}
	chProperty   = dialogs.Choice{Label: "accident.inv_property", Data: "property", Words: []string{"物", "建物", "property"}}
	chPoliceYes  = dialogs.Choice{Label: "accident.police_yes", Data: "yes", Words: []string{"はい", "届けた", "届け出ました", "済み", "yes"}}
	chPoliceNo   = dialogs.Choice{Label: "accident.police_no", Data: "no", Words: []string{"いいえ", "まだ", "届けていない", "no", "not yet"}}
	chPoliceUnk  = dialogs.Choice{Label: "accident.btn_unknown", Data: unknown, Words: chUnknown.Words}
	chPhotosDone = dialogs.Choice{Label: "accident.btn_photos_done", Data: "acc:photos_done", Words: []string{"以上", "終わり", "おわり", "done", "that's all", "finished"}}
	chPhotosSkip = dialogs.Choice{Label: "accident.btn_photos_skip", Data: "acc:photos_skip", Words: []string{"なし", "ない", "スキップ", "あとで", "後で", "skip", "none", "no photos", "later"}}
	chAnytime    = dialogs.Choice{Label: "accident.call_anytime", Data: "いつでも", Words: []string{"いつでも", "anytime", "any time"}}
	chMorning    = dialogs.Choice{Label: "accident.call_morning", Data: "午前中"}
	chAfternoon  = dialogs.Choice{Label: "accident.call_afternoon", Data: "午後"}
	chEvening    = dialogs.Choice{Label: "accident.call_evening", Data: "18時以降"}
	chSend       = dialogs.Choice{Label: "accident.btn_send", Data: "acc:send", Words: []string{"送信", "送る", "send", "submit"}}
	chFix        = dialogs.Choice{Label: "accident.btn_fix", Data: "acc:fix", Words: []string{"修正", "直す", "edit", "change"}}
	chAbort      = dialogs.Choice{Label: "accident.btn_abort", Data: dialogs.DataCancel}
	chToSummary  = dialogs.Choice{Label: "accident.btn_to_summary", Data: "acc:summary", Words: []string{"確認画面", "summary"}}
)

// editable lists the fields the summary's 修正 offers, in card order: the
// label key, the state that asks it.
var editable = []struct{ label, state string }{
	{"accident.f_kind", stKind},
	{"accident.f_policy", stPolicy},
	{"accident.f_when", stWhen},
	{"accident.f_where", stWhere},
	{"accident.f_desc", stDesc},
	{"accident.f_involved", stInvolved},
	{"accident.f_police", stPolice},
	{"accident.f_injuries", stInjuries},
	{"accident.f_photos", stPhotos},
	{"accident.f_phone", stPhone},
	{"accident.f_calltime", stCallTime},
}

// help says what a question offers after HelpAfter invalid answers besides
// the phone desk.
type help int

const (
	helpDesk    help = iota // the phone desk only (the answer is needed)
	helpUnknown             // わからない
	helpSkip                // skip (optional question)
)

// why are the explanations of why a question matters, shown from the
// HelpAfter-th invalid answer on.
var why = map[string]string{
	stSafety:   "accident.why_safety",
	stKind:     "accident.why_kind",
	stPolicy:   "accident.why_policy",
	stName:     "accident.why_name",
	stIDPhone:  "accident.why_phone",
	stWhen:     "accident.why_when",
	stWhere:    "accident.why_where",
	stDesc:     "accident.why_desc",
	stInvolved: "accident.why_involved",
	stDetails:  "accident.why_details",
	stPolice:   "accident.why_police",
	stInjuries: "accident.why_injuries",
	stPhotos:   "accident.why_photos",
	stPhone:    "accident.why_phone",
	stCallTime: "accident.why_calltime",
}

// Dialog returns the accident-report dialog, named dialogs.DialogAccident,
// with the status query as its command. Its effects are Submit and
// dialogs.VoiceEffect (Source VoiceSource); wire a Runner as the engine's
// effect runner for KindSubmit and KindStatus.
func Dialog() *dialogs.Dialog {
	d := &dialogs.Dialog{
		Name:       dialogs.DialogAccident,
		Start:      stSafety,
		MaxInvalid: MaxInvalid,
		GiveUp: func(t *dialogs.Turn) {
			t.Say("accident.give_up", "phone", t.Phone(dialogs.DeskAccident))
			t.End()
			t.Menu("menu.other")
		},
		Commands: []dialogs.Command{StatusCommand()},
	}
	d.States = map[string]dialogs.State{
		stSafety:   q(helpDesk, vSafety, showSafety, promptSafety, answerSafety),
		stUrgent:   q(helpDesk, "", nil, promptUrgent, answerUrgent),
		stKind:     q(helpDesk, vKind, showKind, promptKind, answerKind),
		stPolicy:   q(helpUnknown, vPolicy, showPolicy, promptPolicy, answerPolicy),
		stName:     q(helpDesk, vName, nil, promptName, answerName),
		stIDPhone:  q(helpDesk, vPhone, showPhone, promptIDPhone, answerPhone),
		stWhen:     q(helpUnknown, vWhen, showWhen, promptWhen, answerWhen),
		stWhere:    q(helpUnknown, vWhere, nil, promptWhere, answerWhere),
		stDesc:     q(helpDesk, vDesc, nil, promptDesc, answerDesc),
		stInvolved: q(helpUnknown, vInvolved, showInvolved, promptInvolved, answerInvolved),
		stDetails:  q(helpSkip, vDetails, nil, promptDetails, answerDetails),
		stPolice:   q(helpDesk, vPolice, showPolice, promptPolice, answerPolice),
		stInjuries: q(helpUnknown, vInjuries, showInjuries, promptInjuries, answerInjuries),
		stPhotos:   q(helpDesk, vPhotos, showPhotos, promptPhotos, answerPhotos),
		stPhone:    q(helpDesk, vPhone, showPhone, promptPhone, answerPhone),
		stCallTime: q(helpSkip, vCallTime, showCallTime, promptCallTime, answerCallTime),
		stConfirm:  q(helpDesk, "", nil, promptConfirm, answerConfirm),
		stEdit:     q(helpDesk, "", nil, promptEdit, answerEdit),
	}
	return d
}

// StatusCommand is the status query: 「状況」, "status" or a reference
// number, at any time. It asks for a StatusQuery effect.
func StatusCommand() dialogs.Command {
	return dialogs.Command{
		Name: "accident status",
		Match: func(t *dialogs.Turn) bool {
			if t.Postback() == "acc:status" {
				return true
			}
			_, ok := ParseStatusQuery(t.Text())
			return t.Text() != "" && ok
		},
		Run: func(t *dialogs.Turn) {
			ref, _ := ParseStatusQuery(t.Text())
			t.Effect(StatusQuery{Ref: ref})
		},
	}
}

// q builds a state whose answer first handles the phone desk, わからない
// and skip offered after repeated trouble.
func q(h help, field string, show func(*dialogs.Turn, string) string, prompt func(*dialogs.Turn), answer func(*dialogs.Turn)) dialogs.State {
	return dialogs.State{
		Field:  field,
		Show:   show,
		Prompt: prompt,
		Answer: func(t *dialogs.Turn) {
			if _, ok := t.Chosen(chDesk); ok {
				t.Say("accident.desk", "phone", t.Phone(dialogs.DeskAccident))
				t.Prompt()
				return
			}
			answer(t)
		},
	}
}

// ask adds a question with quick replies: the actions given, then, after
// HelpAfter invalid answers, わからない or skip (per h) and the phone desk.
func ask(t *dialogs.Turn, h help, key string, actions []koe.Action, args ...string) {
	if t.Invalid() >= HelpAfter {
		switch h {
		case helpUnknown:
			actions = appendChoice(t, actions, chUnknown)
		case helpSkip:
			actions = appendChoice(t, actions, chSkip)
		}
		actions = appendChoice(t, actions, chDesk)
	}
	t.Reply(koe.Reply{Text: t.T(key, args...), QuickReplies: actions})
}

func appendChoice(t *dialogs.Turn, actions []koe.Action, c dialogs.Choice) []koe.Action {
	for _, a := range actions {
		if a.Data == c.Data {
			return actions
		}
	}
	return append(actions, t.QuickReplies(c)...)
}

// reject re-asks after an invalid answer, explaining what was wrong (key)
// and, from the HelpAfter-th time, why the question matters.
func reject(t *dialogs.Turn, key string, args ...string) {
	_, state := t.Dialog()
	if w, ok := why[state]; ok && t.Invalid()+1 == HelpAfter {
		t.Say(key, args...)
		t.Reask(w)
		return
	}
	t.Reask(key, args...)
}

// --- safety ---

func promptSafety(t *dialogs.Turn) {
	ask(t, helpDesk, "accident.ask_safety", t.QuickReplies(chInjured, chSafeMotor, chSafeHome, chSafeOther, dialogs.ChoiceCancel))
}

func answerSafety(t *dialogs.Turn) {
	data, ok := t.Chosen(chInjured, chSafeMotor, chSafeHome, chSafeOther, chSafe)
	if !ok {
		reject(t, "accident.err_choose")
		return
	}
	switch data {
	case chInjured.Data:
		t.SetVar(vSafety, "yes")
		t.SetVar(vUrgent, "1")
		t.Next(stUrgent)
	case chSafe.Data:
		t.SetVar(vSafety, "no")
		t.SetVar(vUrgent, "")
		t.Next(stKind)
	default:
		t.SetVar(vSafety, "no")
		t.SetVar(vUrgent, "")
		t.SetVar(vKind, strings.TrimPrefix(data, "acc:safe:"))
		t.Next(stPolicy)
	}
}

func showSafety(t *dialogs.Turn, v string) string {
	if v == "yes" {
		return t.T(chInjured.Label)
	}
	switch koe.AccidentKind(t.Var(vKind)) {
	case koe.AccidentMotor:
		return t.T(chSafeMotor.Label)
	case koe.AccidentHome:
		return t.T(chSafeHome.Label)
	case koe.AccidentOther:
		return t.T(chSafeOther.Label)
	}
	return t.T(chSafe.Label)
}

func promptUrgent(t *dialogs.Turn) {
	t.Say("accident.urgent", "phone", t.Phone(dialogs.DeskAccident))
	ask(t, helpDesk, "accident.ask_ready", t.QuickReplies(chReady, chDesk, dialogs.ChoiceCancel))
}

func answerUrgent(t *dialogs.Turn) {
	if _, ok := t.Chosen(chReady); !ok {
		reject(t, "accident.err_ready")
		return
	}
	if t.Var(vKind) != "" {
		t.Next(stPolicy)
		return
	}
	t.Next(stKind)
}

// --- kind ---

func promptKind(t *dialogs.Turn) {
	ask(t, helpDesk, "accident.ask_kind", t.QuickReplies(chMotor, chHome, chOther))
}

func answerKind(t *dialogs.Turn) {
	data, ok := t.Chosen(chMotor, chHome, chOther)
	if !ok {
		reject(t, "accident.err_choose")
		return
	}
	t.SetVar(vKind, data)
	t.Next(stPolicy)
}

func showKind(t *dialogs.Turn, v string) string {
	return t.T("accident.kind_" + kindKey(koe.AccidentKind(v)))
}

// --- who ---

func promptPolicy(t *dialogs.Turn) {
	ask(t, helpUnknown, "accident.ask_policy", t.QuickReplies(chUnknown))
}

func answerPolicy(t *dialogs.Turn) {
	if _, ok := t.Chosen(chUnknown); ok {
		t.SetVar(vPolicy, unknown)
		t.Goto(stName)
		return
	}
	if t.Message().Kind != koe.KindText {
		reject(t, "accident.err_need_text")
		return
	}
	p, err := jpinput.ParsePolicyNumber(t.Text())
	if err != nil {
		reject(t, policyError(err))
		return
	}
	t.SetVar(vPolicy, p)
	t.SetVar(vName, "")
	t.Next(stWhen)
}

func policyError(err error) string {
	switch jpinput.ReasonOf(err) {
	case jpinput.TooShort:
		return "accident.err_policy_short"
	case jpinput.TooLong:
		return "accident.err_policy_long"
	}
	if errors.Is(err, jpinput.ErrEmpty) {
		return "accident.err_need_text"
	}
	return "accident.err_policy_format"
}

func showPolicy(t *dialogs.Turn, v string) string {
	if v == unknown {
		return t.T("accident.v_policy_unknown")
	}
	return v
}

func promptName(t *dialogs.Turn) { ask(t, helpDesk, "accident.ask_name", nil) }

func answerName(t *dialogs.Turn) {
	name := t.Text()
	switch n := utf8.RuneCountInString(name); {
	case t.Message().Kind != koe.KindText || n == 0:
		reject(t, "accident.err_need_text")
		return
	case n > maxName:
		reject(t, "accident.err_too_long", "max", strconv.Itoa(maxName))
		return
	}
	t.SetVar(vName, name)
	if t.Editing() && t.Var(vPhone) != "" {
		t.Next(stWhen)
		return
	}
	t.Goto(stIDPhone)
}

func promptIDPhone(t *dialogs.Turn) { ask(t, helpDesk, "accident.ask_idphone", nil) }

func promptPhone(t *dialogs.Turn) { ask(t, helpDesk, "accident.ask_phone", nil) }

// answerPhone serves both phone questions (identity and contact).
func answerPhone(t *dialogs.Turn) {
	if t.Message().Kind != koe.KindText {
		reject(t, "accident.err_need_text")
		return
	}
	p, err := jpinput.ParsePhone(t.Text())
	if err != nil {
		reject(t, phoneError(err))
		return
	}
	t.SetVar(vPhone, p.National)
	if _, state := t.Dialog(); state == stIDPhone {
		t.Next(stWhen)
		return
	}
	t.Next(stCallTime)
}

func phoneError(err error) string {
	switch jpinput.ReasonOf(err) {
	case jpinput.TooShort:
		return "accident.err_phone_short"
	case jpinput.TooLong:
		return "accident.err_phone_long"
	case jpinput.BadPrefix:
		return "accident.err_phone_prefix"
	}
	if errors.Is(err, jpinput.ErrEmpty) {
		return "accident.err_need_text"
	}
	return "accident.err_phone_format"
}

func showPhone(_ *dialogs.Turn, v string) string {
	if p, err := jpinput.ParsePhone(v); err == nil {
		return p.Display
	}
	return v
}

// --- when ---

const pickerLayout = "2006-01-02T15:04"

func promptWhen(t *dialogs.Turn) {
	now := t.Now().In(jpinput.Tokyo())
	picker := koe.Action{
		Kind:  koe.ActionDatetime,
		Label: t.T("accident.btn_pick_when"),
		Data:  "acc:when",
		Picker: &koe.DatetimePicker{
			Mode:    "datetime",
			Initial: now.Format(pickerLayout),
			Max:     now.Format(pickerLayout),
			Min:     now.AddDate(-jpinput.MaxAgeYears, 0, 0).Format(pickerLayout),
		},
	}
	actions := append(t.QuickReplies(chNow), picker)
	ask(t, helpUnknown, "accident.ask_when", actions)
}

func answerWhen(t *dialogs.Turn) {
	var (
		w   jpinput.When
		err error
	)
	switch pb := t.Message().Postback; {
	case t.Postback() == chNow.Data:
		w, err = jpinput.ParseWhen("たった今", t.Now())
	case t.Postback() == "acc:when" && pb != nil:
		param := pb.Params["datetime"]
		if param == "" {
			param = pb.Params["date"]
		}
		if param == "" {
			param = pb.Params["time"]
		}
		w, err = jpinput.ParseLINEWhen(param, t.Now())
	default:
		if _, ok := t.Chosen(chUnknown); ok {
			t.SetVar(vWhen, unknown)
			t.Next(stWhere)
			return
		}
		if t.Message().Kind != koe.KindText {
			reject(t, "accident.err_when_unrecognised")
			return
		}
		w, err = jpinput.ParseWhen(t.Text(), t.Now())
	}
	if err != nil {
		reject(t, whenError(err))
		return
	}
	b, _ := json.Marshal(w)
	t.SetVar(vWhen, string(b))
	t.Next(stWhere)
}

func whenError(err error) string {
	switch {
	case errors.Is(err, jpinput.ErrFuture):
		return "accident.err_when_future"
	case errors.Is(err, jpinput.ErrTooOld):
		return "accident.err_when_too_old"
	case errors.Is(err, jpinput.ErrInvalidDate):
		return "accident.err_when_invalid"
	}
	return "accident.err_when_unrecognised"
}

func decodeWhen(v string) (jpinput.When, bool) {
	var w jpinput.When
	if v == "" || v == unknown || json.Unmarshal([]byte(v), &w) != nil {
		return jpinput.When{}, false
	}
	w.Time = w.Time.In(jpinput.Tokyo())
	return w, true
}

func showWhen(t *dialogs.Turn, v string) string {
	w, ok := decodeWhen(v)
	if !ok {
		return t.T("accident.v_unknown")
	}
	return w.Format(string(t.Lang()))
}

// --- where ---

func promptWhere(t *dialogs.Turn) {
	loc := koe.Action{Kind: koe.ActionLocation, Label: t.T("accident.btn_location")}
	ask(t, helpUnknown, "accident.ask_where", []koe.Action{loc})
}

func answerWhere(t *dialogs.Turn) {
	m := t.Message()
	switch {
	case m.Kind == koe.KindLocation && m.Location != nil:
		b, _ := json.Marshal(m.Location)
		t.SetVar(vLocation, string(b))
		t.SetVar(vWhere, describeLocation(t, *m.Location))
		t.Next(stDesc)
		return
	case m.Kind != koe.KindText:
		reject(t, "accident.err_where")
		return
	}
	if _, ok := t.Chosen(chUnknown); ok {
		t.SetVar(vLocation, "")
		t.SetVar(vWhere, t.T("accident.v_unknown"))
		t.Next(stDesc)
		return
	}
	switch n := utf8.RuneCountInString(t.Text()); {
	case n < 2:
		reject(t, "accident.err_where")
		return
	case n > maxPlace:
		reject(t, "accident.err_too_long", "max", strconv.Itoa(maxPlace))
		return
	}
	t.SetVar(vLocation, "")
	t.SetVar(vWhere, t.Text())
	t.Next(stDesc)
}

func describeLocation(t *dialogs.Turn, l koe.Location) string {
	parts := []string{}
	if l.Title != "" {
		parts = append(parts, l.Title)
	}
	if l.Address != "" {
		parts = append(parts, l.Address)
	}
	if len(parts) > 0 {
		return strings.Join(parts, " ")
	}
	return t.T("accident.v_location",
		"lat", strconv.FormatFloat(l.Latitude, 'f', 5, 64),
		"lng", strconv.FormatFloat(l.Longitude, 'f', 5, 64))
}

// --- what happened ---

func promptDesc(t *dialogs.Turn) {
	ask(t, helpDesk, "accident.ask_desc", nil, "max", strconv.Itoa(MaxDescription))
}

func answerDesc(t *dialogs.Turn) {
	text := t.Text()
	n := utf8.RuneCountInString(text)
	switch {
	case t.Message().Kind != koe.KindText || n == 0:
		reject(t, "accident.err_need_text")
		return
	case n < MinDescription:
		reject(t, "accident.err_desc_short")
		return
	case n > MaxDescription:
		reject(t, "accident.err_desc_long", "max", strconv.Itoa(MaxDescription), "count", strconv.Itoa(n))
		return
	}
	t.SetVar(vDesc, text)
	t.Next(stInvolved)
}

// --- others involved ---

func promptInvolved(t *dialogs.Turn) {
	ask(t, helpUnknown, "accident.ask_involved", t.QuickReplies(chNone, chVehicle, chPerson, chProperty))
}

func answerInvolved(t *dialogs.Turn) {
	data, ok := t.Chosen(chNone, chVehicle, chPerson, chProperty, chUnknown)
	if !ok {
		reject(t, "accident.err_choose")
		return
	}
	if data == chUnknown.Data {
		data = unknown
	}
	t.SetVar(vInvolved, data)
	switch data {
	case chVehicle.Data, chPerson.Data, chProperty.Data:
		t.Goto(stDetails)
	default:
		t.SetVar(vDetails, "")
		t.Next(afterInvolved(t))
	}
}

func showInvolved(t *dialogs.Turn, v string) string {
	switch v {
	case chNone.Data, chVehicle.Data, chPerson.Data, chProperty.Data:
		return t.T("accident.inv_" + v)
	}
	return t.T("accident.v_unknown")
}

// afterInvolved: the police question for motor accidents and whenever
// someone or something else is involved; else injuries or photos.
func afterInvolved(t *dialogs.Turn) string {
	if koe.AccidentKind(t.Var(vKind)) == koe.AccidentMotor {
		return stPolice
	}
	switch t.Var(vInvolved) {
	case chVehicle.Data, chPerson.Data, chProperty.Data:
		return stPolice
	}
	return afterPolice(t)
}

func promptDetails(t *dialogs.Turn) {
	ask(t, helpSkip, "accident.ask_details_"+t.Var(vInvolved), t.QuickReplies(chUnknown))
}

func answerDetails(t *dialogs.Turn) {
	if _, ok := t.Chosen(chUnknown, chSkip); ok {
		t.SetVar(vDetails, "")
		t.Goto(stPolice)
		return
	}
	n := utf8.RuneCountInString(t.Text())
	switch {
	case t.Message().Kind != koe.KindText || n == 0:
		reject(t, "accident.err_need_text")
		return
	case n > maxDetails:
		reject(t, "accident.err_too_long", "max", strconv.Itoa(maxDetails))
		return
	}
	t.SetVar(vDetails, t.Text())
	t.Goto(stPolice)
}

func promptPolice(t *dialogs.Turn) {
	ask(t, helpDesk, "accident.ask_police", t.QuickReplies(chPoliceYes, chPoliceNo, chPoliceUnk))
}

func answerPolice(t *dialogs.Turn) {
	data, ok := t.Chosen(chPoliceYes, chPoliceNo, chPoliceUnk)
	if !ok {
		reject(t, "accident.err_choose")
		return
	}
	t.SetVar(vPolice, data)
	if data == chPoliceNo.Data && koe.AccidentKind(t.Var(vKind)) == koe.AccidentMotor {
		t.Say("accident.police_advice")
	}
	t.Next(afterPolice(t))
}

func showPolice(t *dialogs.Turn, v string) string {
	switch v {
	case chPoliceYes.Data:
		return t.T(chPoliceYes.Label)
	case chPoliceNo.Data:
		return t.T(chPoliceNo.Label)
	}
	return t.T("accident.v_unknown")
}

func afterPolice(t *dialogs.Turn) string {
	if t.Var(vUrgent) != "" {
		return stInjuries
	}
	return stPhotos
}

func promptInjuries(t *dialogs.Turn) {
	ask(t, helpUnknown, "accident.ask_injuries", t.QuickReplies(chUnknown))
}

func answerInjuries(t *dialogs.Turn) {
	if _, ok := t.Chosen(chUnknown); ok {
		t.SetVar(vInjuries, unknown)
		t.Next(stPhotos)
		return
	}
	n := utf8.RuneCountInString(t.Text())
	switch {
	case t.Message().Kind != koe.KindText || n == 0:
		reject(t, "accident.err_need_text")
		return
	case n > maxDetails:
		reject(t, "accident.err_too_long", "max", strconv.Itoa(maxDetails))
		return
	}
	t.SetVar(vInjuries, t.Text())
	t.Next(stPhotos)
}

func showInjuries(t *dialogs.Turn, v string) string {
	switch v {
	case "":
		return t.T("accident.v_none")
	case unknown:
		return t.T("accident.v_unknown")
	}
	return v
}

// --- photos ---

func photos(t *dialogs.Turn) []string {
	var ids []string
	if v := t.Var(vPhotos); v != "" {
		_ = json.Unmarshal([]byte(v), &ids)
	}
	return ids
}

func promptPhotos(t *dialogs.Turn) {
	camera := koe.Action{Kind: koe.ActionCamera, Label: t.T("accident.btn_camera")}
	roll := koe.Action{Kind: koe.ActionCameraRoll, Label: t.T("accident.btn_camera_roll")}
	n := len(photos(t))
	if n == 0 {
		actions := append([]koe.Action{camera, roll}, t.QuickReplies(chPhotosSkip)...)
		ask(t, helpDesk, "accident.ask_photos", actions, "max", strconv.Itoa(MaxPhotos))
		return
	}
	actions := append(t.QuickReplies(chPhotosDone), camera, roll)
	ask(t, helpDesk, "accident.ask_more_photos", actions, "count", strconv.Itoa(n), "max", strconv.Itoa(MaxPhotos))
}

func answerPhotos(t *dialogs.Turn) {
	m := t.Message()
	if m.Kind == koe.KindImage && m.Image != nil {
		id := m.Image.ContentID
		if id == "" && m.Image.Path != "" {
			id = koe.LocalContentPrefix + m.Image.Path
		}
		ids := photos(t)
		if id == "" || slices.Contains(ids, id) {
			t.Goto(stPhotos)
			return
		}
		ids = append(ids, id)
		b, _ := json.Marshal(ids)
		t.SetVar(vPhotos, string(b))
		if len(ids) >= MaxPhotos {
			t.Say("accident.photos_full", "max", strconv.Itoa(MaxPhotos))
			t.Next(afterPhotos(t))
			return
		}
		t.Goto(stPhotos) // same question, counter reset, new count shown
		return
	}
	if _, ok := t.Chosen(chPhotosDone, chPhotosSkip); ok {
		t.Next(afterPhotos(t))
		return
	}
	reject(t, "accident.err_photos")
}

func afterPhotos(t *dialogs.Turn) string {
	if t.Var(vPhone) != "" && !t.Editing() {
		return stCallTime
	}
	return stPhone
}

func showPhotos(t *dialogs.Turn, v string) string {
	return t.T("accident.v_photos", "count", strconv.Itoa(len(photos(t))))
}

// --- contact ---

func promptCallTime(t *dialogs.Turn) {
	ask(t, helpSkip, "accident.ask_calltime", t.QuickReplies(chAnytime, chMorning, chAfternoon, chEvening), "phone", showPhone(t, t.Var(vPhone)))
}

func answerCallTime(t *dialogs.Turn) {
	text := t.Text()
	if data, ok := t.Chosen(chAnytime, chMorning, chAfternoon, chEvening, chSkip); ok {
		text = data
		if data == chSkip.Data {
			text = chAnytime.Data
		}
	} else if t.Message().Kind != koe.KindText {
		reject(t, "accident.err_calltime")
		return
	}
	c, err := jpinput.ParseCallTime(text)
	if err != nil {
		key := "accident.err_calltime"
		if errors.Is(err, jpinput.ErrInvalidDate) {
			key = "accident.err_calltime_invalid"
		}
		reject(t, key)
		return
	}
	b, _ := json.Marshal(c)
	t.SetVar(vCallTime, string(b))
	t.Next(stConfirm)
}

func decodeCallTime(v string) (jpinput.CallTime, bool) {
	var c jpinput.CallTime
	if v == "" || json.Unmarshal([]byte(v), &c) != nil {
		return jpinput.CallTime{}, false
	}
	return c, true
}

func showCallTime(t *dialogs.Turn, v string) string {
	c, ok := decodeCallTime(v)
	if !ok {
		return t.T("accident.v_unknown")
	}
	return c.Format(string(t.Lang()))
}

// --- confirm and edit ---

func promptConfirm(t *dialogs.Turn) {
	title := t.T("accident.summary_title")
	card := &koe.Card{AltText: title, Title: title, Note: t.T("accident.summary_note"), Urgent: t.Var(vUrgent) != ""}
	add := func(label, value string) {
		card.Fields = append(card.Fields, koe.CardField{Label: t.T(label), Value: value})
	}
	if card.Urgent {
		add("accident.f_urgent", t.T("accident.v_urgent"))
	}
	add("accident.f_kind", showKind(t, t.Var(vKind)))
	add("accident.f_policy", showPolicy(t, t.Var(vPolicy)))
	if t.Var(vName) != "" {
		add("accident.f_name", t.Var(vName))
	}
	add("accident.f_when", showWhen(t, t.Var(vWhen)))
	add("accident.f_where", t.Var(vWhere))
	add("accident.f_desc", t.Var(vDesc))
	inv := showInvolved(t, t.Var(vInvolved))
	if d := t.Var(vDetails); d != "" {
		inv += "\n" + d
	}
	add("accident.f_involved", inv)
	if t.Var(vPolice) != "" {
		add("accident.f_police", showPolice(t, t.Var(vPolice)))
	}
	if t.Var(vUrgent) != "" {
		add("accident.f_injuries", showInjuries(t, t.Var(vInjuries)))
	}
	add("accident.f_photos", showPhotos(t, t.Var(vPhotos)))
	add("accident.f_phone", showPhone(t, t.Var(vPhone)))
	add("accident.f_calltime", showCallTime(t, t.Var(vCallTime)))
	t.Reply(koe.Reply{Card: card, QuickReplies: t.QuickReplies(chSend, chFix, chAbort)})
}

func answerConfirm(t *dialogs.Turn) {
	switch data, _ := t.Chosen(chSend, chFix); data {
	case chSend.Data:
		rep, ids := Build(t)
		t.Effect(Submit{Report: rep, PhotoContentIDs: ids})
		t.Effect(dialogs.VoiceEffect{Text: rep.Description, Source: VoiceSource})
		t.End()
		t.Menu("menu.other")
	case chFix.Data:
		t.Goto(stEdit)
	default:
		t.Reask("accident.err_confirm")
	}
}

func promptEdit(t *dialogs.Turn) {
	var cs []dialogs.Choice
	for _, f := range editable {
		if !offered(t, f.state) {
			continue
		}
		cs = append(cs, dialogs.Choice{Label: f.label, Data: "acc:edit:" + f.state})
	}
	cs = append(cs, chToSummary)
	t.Ask("accident.ask_edit", cs)
}

// offered reports whether the summary shows the field asked in state.
func offered(t *dialogs.Turn, state string) bool {
	switch state {
	case stPolice:
		return t.Var(vPolice) != ""
	case stInjuries:
		return t.Var(vUrgent) != ""
	}
	return true
}

func answerEdit(t *dialogs.Turn) {
	cs := []dialogs.Choice{chToSummary}
	for _, f := range editable {
		if offered(t, f.state) {
			cs = append(cs, dialogs.Choice{Label: f.label, Data: "acc:edit:" + f.state})
		}
	}
	data, ok := t.Chosen(cs...)
	switch {
	case !ok:
		t.Reask("accident.err_edit")
	case data == chToSummary.Data:
		t.Goto(stConfirm)
	default:
		t.EditFrom(stConfirm, strings.TrimPrefix(data, "acc:edit:"))
	}
}

// Build turns the answers into a report (without what the runner decides,
// see Submit) and the photos' content ids. It is pure.
func Build(t *dialogs.Turn) (koe.AccidentReport, []string) {
	lang := string(t.Lang())
	r := koe.AccidentReport{
		Urgent:      t.Var(vUrgent) != "",
		Kind:        koe.AccidentKind(kindKey(koe.AccidentKind(t.Var(vKind)))),
		Name:        t.Var(vName),
		Description: t.Var(vDesc),
		Place:       t.Var(vWhere),
		Injuries:    t.Var(vInjuries),
	}
	if p := t.Var(vPolicy); p != unknown {
		r.PolicyNumber = p
	}
	if !r.Urgent {
		r.Injuries = "none"
	}
	if w, ok := decodeWhen(t.Var(vWhen)); ok {
		r.OccurredAt = w.Time
		r.OccurredText = w.Format(lang)
	} else {
		r.OccurredText = t.T("accident.v_unknown")
	}
	if v := t.Var(vLocation); v != "" {
		var l koe.Location
		if json.Unmarshal([]byte(v), &l) == nil {
			r.Location = &l
			r.Place = "" // the shared location says it all
		}
	}
	switch inv := t.Var(vInvolved); inv {
	case chVehicle.Data, chPerson.Data, chProperty.Data:
		r.Involved = []koe.Party{ParseParty(inv, t.Var(vDetails))}
	}
	r.PoliceNotified = t.Var(vPolice)
	if p, err := jpinput.ParsePhone(t.Var(vPhone)); err == nil {
		r.Phone = p.E164
	}
	if c, ok := decodeCallTime(t.Var(vCallTime)); ok {
		r.CallTime = c.Format(lang)
	}
	return r, photos(t)
}

var (
	platePattern   = regexp.MustCompile(`[\p{Han}\p{Hiragana}\p{Katakana}]{1,4}\s*\d{2,3}\s*[\p{Hiragana}a-zA-Z]\s*[\d・\-]{1,5}|ナンバー|plate`)
	insurerPattern = regexp.MustCompile(`保険|損保|海上|共済|insurance|insurer`)
	partySplit     = regexp.MustCompile(`[、,，\n／/]+`)
)

// ParseParty reads what a customer typed about the other party (name,
// number plate, insurer, in any order, separated by 、 , / or new lines)
// into a Party of kind: a part shaped like a plate (品川 300 あ 12-34) is
// the plate, a part naming an insurer (…保険, …損保, …海上, …共済) the
// insurer, the rest the name. Nothing is lost: unclassified parts join the
// name.
func ParseParty(kind, text string) koe.Party {
	p := koe.Party{Kind: kind}
	var name []string
	for _, part := range partySplit.Split(strings.TrimSpace(text), -1) {
		part = strings.TrimSpace(part)
		switch {
		case part == "":
		case p.Plate == "" && platePattern.MatchString(part):
			p.Plate = part
		case p.Insurer == "" && insurerPattern.MatchString(part):
			p.Insurer = part
		default:
			name = append(name, part)
		}
	}
	p.Name = strings.Join(name, " ")
	return p
}
