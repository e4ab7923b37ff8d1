package survey

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
)

// CommentMaxRunes is the longest follow-up comment accepted.
const CommentMaxRunes = 1000

// maxInvalid is how many unusable answers in a row leave the survey: the
// second is handled as if no survey were running (it is optional).
const maxInvalid = 2

// Vars of the survey dialog.
const (
	varID         = "survey"
	varTouchpoint = "touchpoint"
	varExpires    = "expires"
	varScore      = "score"
)

var (
	choiceSkip = dialogs.Choice{Label: "survey.skip", Data: "survey:skip",
		Words: []string{"スキップ", "skip", "なし", "特になし", "とくになし", "ない", "特にない", "no comment", "none", "pass", "パス"}}
	// satisfaction levels, 5 (とても満足) down to 1 (不満).
	choicesSatisfaction = []dialogs.Choice{
		{Label: "survey.sat_5", Data: "survey:sat:5"},
		{Label: "survey.sat_4", Data: "survey:sat:4"},
		{Label: "survey.sat_3", Data: "survey:sat:3", Words: []string{"普通", "ふつう", "neutral"}},
		{Label: "survey.sat_2", Data: "survey:sat:2"},
		{Label: "survey.sat_1", Data: "survey:sat:1"},
	}
)

// Start is the Config.StaffActions handler of StaffAction: it starts the
// survey named by the note (StartNote) and asks the score question. It
// says nothing, and leaves the conversation as it is, while staff talk
// with the customer, while another dialog is in progress (an accident
// report must not be interrupted), when the survey has already expired, or
// when the same survey is already running.
func Start(t *dialogs.Turn) {
	n := t.Message().Staff
	if n == nil || n.CaseRef == "" || t.HandedOff() {
		return
	}
	name, _ := t.Dialog()
	if name == DialogName && t.Var(varID) == n.CaseRef {
		return
	}
	if name != "" && name != DialogName {
		return
	}
	tp, expires := parseNote(n.Text)
	if !expires.IsZero() && !t.Now().Before(expires) {
		return
	}
	t.Begin(DialogName)
	t.SetVar(varID, n.CaseRef)
	t.SetVar(varTouchpoint, string(tp))
	if !expires.IsZero() {
		t.SetVar(varExpires, expires.UTC().Format(time.RFC3339))
	}
	t.Prompt()
}

// Dialog is the survey: the 0–10 question with eleven buttons, a
// follow-up that depends on the score (optional, with a skip button), the
// 5-level satisfaction question (optional) and thanks. A survey past its
// expiry answers that it has closed. A pause never asks to resume, and
// the session is kept DefaultRetention while the survey waits.
func Dialog() *dialogs.Dialog {
	return &dialogs.Dialog{
		Name:        DialogName,
		Start:       "score",
		MaxInvalid:  maxInvalid,
		IdleTimeout: -1,
		Retention:   DefaultRetention,
		GiveUp: func(t *dialogs.Turn) {
			// The survey is optional: leave it and treat the message as
			// if no survey were running.
			t.End()
			t.MainMenu()
		},
		States: map[string]dialogs.State{
			"score": {
				Field:  varScore,
				Prompt: askScore,
				Answer: answerScore,
			},
			"comment": {
				Prompt: askComment,
				Answer: answerComment,
			},
			"satisfaction": {
				Prompt: func(t *dialogs.Turn) {
					t.Ask("survey.satisfaction", append(choicesSatisfaction, choiceSkip), "touchpoint", touchpoint(t))
				},
				Answer: answerSatisfaction,
			},
		},
	}
}

// Prompt is a no-op before Start has set the survey's vars (Begin prompts
// before they exist).
func askScore(t *dialogs.Turn) {
	id := t.Var(varID)
	if id == "" {
		return
	}
	qr := make([]koe.Action, 11)
	for i := range qr {
		label := strconv.Itoa(i)
		qr[i] = koe.Action{Kind: koe.ActionPostback, Label: label, Data: scoreData(id, i), Text: label}
	}
	t.Reply(koe.Reply{Text: t.T("survey.ask", "touchpoint", touchpoint(t)), QuickReplies: qr})
}

func touchpoint(t *dialogs.Turn) string {
	key := "survey.touchpoint_" + t.Var(varTouchpoint)
	if t.Catalog().Has(t.Lang(), key) {
		return t.T(key)
	}
	return t.T("survey.touchpoint_other")
}

// expired reports whether the running survey has closed.
func expired(t *dialogs.Turn) bool {
	at, err := time.Parse(time.RFC3339, t.Var(varExpires))
	return err == nil && !t.Now().Before(at)
}

func answerScore(t *dialogs.Turn) {
	id := t.Var(varID)
	n, ok := -1, false
	if pb := t.Postback(); pb != "" {
		var pid string
		pid, n, ok = parseScoreData(pb)
		ok = ok && pid == id
	} else if t.Message().Kind == koe.KindText {
		n, ok = ParseScore(t.Text())
	}
	if !ok {
		if t.MenuChosen() {
			t.End()
			t.MainMenu()
			return
		}
		t.Reask("survey.score_reask")
		return
	}
	if expired(t) {
		t.End()
		t.Menu("survey.closed")
		return
	}
	t.Effect(Score{Survey: id, Score: n})
	t.SetVar(varScore, strconv.Itoa(n))
	t.Next("comment")
}

func askComment(t *dialogs.Turn) {
	n, _ := strconv.Atoi(t.Var(varScore))
	t.Ask("survey.followup_"+string(BandOf(n)), []dialogs.Choice{choiceSkip})
}

func answerComment(t *dialogs.Turn) {
	if _, ok := t.Chosen(choiceSkip); ok {
		t.Next("satisfaction")
		return
	}
	text := t.Text()
	if t.Message().Kind != koe.KindText || text == "" {
		t.Reask("survey.comment_reask")
		return
	}
	if _, isScore := ParseScore(text); isScore {
		// A second answer to the score question: thanked, not counted.
		t.Say("survey.already_answered")
		t.Prompt()
		return
	}
	if n := utf8.RuneCountInString(text); n > CommentMaxRunes {
		t.Reask("survey.comment_too_long", "max", strconv.Itoa(CommentMaxRunes), "count", strconv.Itoa(n))
		return
	}
	t.EffectOr(Comment{Survey: t.Var(varID), Text: text}, func(t *dialogs.Turn) { t.Say("survey.comment_thanks") })
	t.Next("satisfaction")
}

func answerSatisfaction(t *dialogs.Turn) {
	data, ok := t.Chosen(append(choicesSatisfaction, choiceSkip)...)
	if !ok {
		t.Reask("survey.satisfaction_reask")
		return
	}
	if data != choiceSkip.Data {
		level, _ := strconv.Atoi(data[len(data)-1:])
		t.Effect(Satisfaction{Survey: t.Var(varID), Level: level})
	}
	n, _ := strconv.Atoi(t.Var(varScore))
	key := "survey.thanks"
	if BandOf(n) == Detractor {
		key = "survey.thanks_detractor"
	}
	t.End()
	t.Menu(key)
}

// LateAnswerCommand answers a tap on a survey's score button that the
// running survey question does not take: a second tap after the survey
// moved on or ended, or a tap on an older survey's buttons. The Score
// effect's runner decides: a survey already answered is thanked and not
// counted, a closed one says so, and one not yet answered is recorded
// (with thanks; the follow-up questions are not asked then).
func LateAnswerCommand() dialogs.Command {
	return dialogs.Command{
		Name: "survey late answer",
		Match: func(t *dialogs.Turn) bool {
			id, _, ok := parseScoreData(t.Postback())
			if !ok {
				return false
			}
			name, state := t.Dialog()
			return !(name == DialogName && state == "score" && t.Var(varID) == id)
		},
		Run: func(t *dialogs.Turn) {
			id, n, _ := parseScoreData(t.Postback())
			t.EffectOr(Score{Survey: id, Score: n}, func(t *dialogs.Turn) { t.Say("survey.score_thanks") })
		},
	}
}
