package dialogs

import (
	"strconv"
	"unicode/utf8"

	"github.com/koehq/koe"
)

// FeedbackMaxRunes is the longest comment the feedback dialog accepts.
const FeedbackMaxRunes = 1000

// VoiceSourceFeedback is the VoiceEffect.Source of the feedback dialog.
const VoiceSourceFeedback = "feedback"

var (
	choiceFeedbackSend = Choice{Label: "feedback.send", Data: "feedback:send"}
	choiceFeedbackEdit = Choice{Label: "feedback.edit", Data: "feedback:edit"}
)

// FeedbackDialog is ご意見・ご感想: it asks for a free-text comment, shows it
// for confirmation, and on "send" hands it to the voice pipeline as a
// VoiceEffect and thanks the customer (unless the voice sink answers, as it
// does for a complaint). The comment is kept in Vars
// ("comment") until the dialog ends.
func FeedbackDialog() *Dialog {
	return &Dialog{
		Name:  DialogFeedback,
		Start: "comment",
		States: map[string]State{
			"comment": {
				Field: "comment",
				Prompt: func(t *Turn) {
					t.Ask("feedback.ask", []Choice{ChoiceCancel}, "max", strconv.Itoa(FeedbackMaxRunes))
				},
				Answer: func(t *Turn) {
					text := t.Text()
					if t.Message().Kind != koe.KindText || text == "" {
						t.Reask("feedback.need_text")
						return
					}
					if n := utf8.RuneCountInString(text); n > FeedbackMaxRunes {
						t.Reask("feedback.too_long", "max", strconv.Itoa(FeedbackMaxRunes), "count", strconv.Itoa(n))
						return
					}
					t.SetVar("comment", text)
					t.Next("confirm")
				},
			},
			"confirm": {
				Prompt: func(t *Turn) {
					title := t.T("feedback.confirm_title")
					t.Reply(koe.Reply{
						Card: &koe.Card{
							AltText: title,
							Title:   title,
							Fields:  []koe.CardField{{Label: t.T("feedback.comment_label"), Value: t.Var("comment")}},
							Note:    t.T("feedback.confirm_note"),
						},
						QuickReplies: t.QuickReplies(choiceFeedbackSend, choiceFeedbackEdit, ChoiceCancel),
					})
				},
				Answer: func(t *Turn) {
					switch data, _ := t.Chosen(choiceFeedbackSend, choiceFeedbackEdit); data {
					case choiceFeedbackSend.Data:
						// The voice sink answers a complaint (an apology and
						// a case reference) instead of the thanks.
						t.EffectOr(VoiceEffect{Text: t.Var("comment"), Source: VoiceSourceFeedback},
							func(t *Turn) { t.Say("feedback.thanks") })
						t.End()
						t.Menu("menu.other")
					case choiceFeedbackEdit.Data:
						t.Edit("comment")
					default:
						t.Reask("feedback.confirm_reask")
					}
				},
			},
		},
	}
}
