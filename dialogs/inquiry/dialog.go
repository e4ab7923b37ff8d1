package inquiry

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/dialogs/jpinput"
)

// TopChoices is how many entries are offered when no match is confident.
const TopChoices = 3

// MaxQuestionRunes is the longest question the dialog accepts.
const MaxQuestionRunes = 1000

// States of the dialog (stored in sessions: do not rename).
const (
	stQuestion = "question"
	stResolved = "resolved"
	stChoose   = "choose"
	stOffer    = "offer"
	stChannel  = "channel"
	stPhone    = "phone"
)

// Vars of the dialog.
const (
	vQuestion = "question" // the customer's question
	vVoice    = "voice"    // key of the question's VoiceEffect
	vCands    = "cands"    // "id conf" lines, best first
	vEntry    = "entry"    // entry shown in stResolved
	vRank     = "rank"     // its rank
	vAnswer   = "answer"   // key of its AnswerEffect
	vAnswers  = "answers"  // keys of all AnswerEffects, space separated
	vChannel  = "channel"  // ChannelLINE or ChannelPhone
	vPhone    = "phone"    // display form of the phone number
)

const entryData = "inquiry:entry:"

var (
	choiceYes    = dialogs.Choice{Label: "inquiry.yes", Data: "inquiry:yes", Words: []string{"はい", "yes", "y", "解決した", "解決しました"}}
	choiceNo     = dialogs.Choice{Label: "inquiry.no", Data: "inquiry:no", Words: []string{"いいえ", "no", "n", "解決しない", "解決しなかった"}}
	choicePerson = dialogs.Choice{Label: "inquiry.person", Data: "inquiry:person",
		Words: []string{"担当者", "担当者と話したい", "人と話したい", "オペレーター", "person", "staff", "agent"}}
	choiceAgain = dialogs.Choice{Label: "inquiry.again", Data: "inquiry:again"}
	choiceLINE  = dialogs.Choice{Label: "inquiry.channel_line", Data: "inquiry:line", Words: []string{"line", "ライン"}}
	choicePhone = dialogs.Choice{Label: "inquiry.channel_phone", Data: "inquiry:phone", Words: []string{"電話", "でんわ", "phone", "call"}}
	choiceKnown = dialogs.Choice{Label: "inquiry.phone_use", Data: "inquiry:phone_known"}
)

type flow struct {
	kb        Searcher
	threshold float64
}

// Dialog returns the お問い合わせ dialog (dialogs.DialogInquiry) answering
// from kb; a match is confident when its Confidence ≥ threshold. kb is
// searched inside dialog steps, so it must be in memory (see Searcher). The
// dialog brings VerdictCommand, for the buttons under Answerer's answers.
func Dialog(kb Searcher, threshold float64) *dialogs.Dialog {
	f := &flow{kb: kb, threshold: threshold}
	return &dialogs.Dialog{
		Name:  dialogs.DialogInquiry,
		Start: stQuestion,
		States: map[string]dialogs.State{
			stQuestion: {Field: vQuestion, Prompt: f.promptQuestion, Answer: f.answerQuestion},
			stResolved: {Prompt: f.promptResolved, Answer: f.answerResolved},
			stChoose:   {Prompt: f.promptChoose, Answer: f.answerChoose},
			stOffer:    {Prompt: f.promptOffer, Answer: f.answerOffer},
			stChannel:  {Prompt: f.promptChannel, Answer: f.answerChannel},
			stPhone:    {Field: vPhone, Prompt: f.promptPhone, Answer: f.answerPhone},
		},
		Commands: []dialogs.Command{VerdictCommand()},
	}
}

func (f *flow) promptQuestion(t *dialogs.Turn) {
	t.Ask("inquiry.ask", []dialogs.Choice{dialogs.ChoiceCancel})
}

func (f *flow) answerQuestion(t *dialogs.Turn) {
	text := t.Text()
	switch {
	case t.Message().Kind != koe.KindText || !dialogs.HasSubstance(text):
		t.Reask("inquiry.need_text")
	case utf8.RuneCountInString(text) > MaxQuestionRunes:
		t.Reask("inquiry.too_long", "max", strconv.Itoa(MaxQuestionRunes))
	default:
		f.ask(t, text)
	}
}

// ask records the question as a voice, searches the FAQ and shows the
// confident answer or the choices.
func (f *flow) ask(t *dialogs.Turn, text string) {
	t.SetVar(vQuestion, text)
	if t.Var(vPhone) == "" {
		t.SetVar(vPhone, phoneIn(text))
	}
	t.SetVar(vVoice, t.NextEffectKey())
	t.Effect(dialogs.VoiceEffect{Text: text, Source: VoiceSource})
	ms := f.kb.Search(t.Lang(), text, TopChoices)
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.ID + " " + strconv.FormatFloat(m.Confidence, 'f', 4, 64) + "\n")
	}
	t.SetVar(vCands, b.String())
	if len(ms) > 0 && ms[0].Confidence >= f.threshold {
		f.show(t, ms[0].ID, 1, ms[0].Confidence)
		return
	}
	t.Goto(stChoose)
}

type cand struct {
	id   string
	conf float64
}

func cands(t *dialogs.Turn) []cand {
	var cs []cand
	for _, line := range strings.Split(t.Var(vCands), "\n") {
		id, c, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		conf, _ := strconv.ParseFloat(c, 64)
		cs = append(cs, cand{id, conf})
	}
	return cs
}

// show records and shows entry id at rank and asks whether it helped.
func (f *flow) show(t *dialogs.Turn, id string, rank int, conf float64) {
	key := t.NextEffectKey()
	t.Effect(AnswerEffect{Entry: id, Rank: rank, Confidence: conf})
	t.SetVar(vAnswer, key)
	t.SetVar(vAnswers, strings.TrimSpace(t.Var(vAnswers)+" "+key))
	t.SetVar(vEntry, id)
	t.SetVar(vRank, strconv.Itoa(rank))
	t.Goto(stResolved)
}

// pick shows the entry the customer chose: its rank among the candidates,
// or rank 1 with confidence 1 for a follow-up.
func (f *flow) pick(t *dialogs.Turn, id string) bool {
	if _, ok := f.kb.Entry(t.Lang(), id); !ok {
		return false
	}
	for i, c := range cands(t) {
		if c.id == id {
			f.show(t, id, i+1, c.conf)
			return true
		}
	}
	f.show(t, id, 1, 1)
	return true
}

// answerReply renders an entry's answer and link.
func answerReply(m Match) koe.Reply {
	text := strings.TrimSpace(m.Answer)
	if m.Link != "" {
		text += "\n" + m.Link
	}
	return koe.Reply{Text: text}
}

// entryAction is a quick reply that picks an entry.
func entryAction(m Match) koe.Action {
	label := []rune(strings.TrimSpace(m.Question))
	if len(label) > 20 {
		label = append(label[:19], '…')
	}
	return koe.Action{Kind: koe.ActionPostback, Label: string(label), Data: entryData + m.ID, Text: m.Question}
}

func (f *flow) promptResolved(t *dialogs.Turn) {
	m, ok := f.kb.Entry(t.Lang(), t.Var(vEntry))
	if !ok {
		t.Ask("inquiry.entry_gone", []dialogs.Choice{choicePerson, choiceAgain, dialogs.ChoiceCancel})
		return
	}
	t.Reply(answerReply(m))
	qr := t.QuickReplies(choiceYes, choiceNo)
	for _, title := range m.FollowUps {
		if len(qr) >= 12 {
			break
		}
		// A follow-up is an entry's title: its entry is the title's best match.
		if ms := f.kb.Search(t.Lang(), title, 1); len(ms) > 0 && ms[0].ID != m.ID {
			if fu, ok := f.kb.Entry(t.Lang(), ms[0].ID); ok {
				qr = append(qr, entryAction(fu))
			}
		}
	}
	t.Reply(koe.Reply{Text: t.T("inquiry.resolved"), QuickReplies: qr})
}

func (f *flow) answerResolved(t *dialogs.Turn) {
	if id, ok := strings.CutPrefix(t.Postback(), entryData); ok && f.pick(t, id) {
		return
	}
	data, _ := t.Chosen(choiceYes, choiceNo, choicePerson, choiceAgain)
	switch data {
	case choiceYes.Data:
		t.Effect(VerdictEffect{Answer: t.Var(vAnswer), Helpful: true})
		t.Say("inquiry.thanks")
		t.End()
		t.Menu("menu.other")
	case choiceNo.Data:
		t.Effect(VerdictEffect{Answer: t.Var(vAnswer), Helpful: false})
		rank, _ := strconv.Atoi(t.Var(vRank))
		if cs := cands(t); rank == 1 && len(cs) > 1 && cs[0].id == t.Var(vEntry) {
			t.Say("inquiry.next")
			f.show(t, cs[1].id, 2, cs[1].conf)
			return
		}
		t.Say("inquiry.sorry")
		t.Goto(stOffer)
	case choicePerson.Data:
		t.Goto(stChannel)
	case choiceAgain.Data:
		t.Goto(stQuestion)
	default:
		f.otherwise(t, "inquiry.resolved_reask")
	}
}

// otherwise takes a text that answers none of the choices as a new
// question, and re-asks anything else.
func (f *flow) otherwise(t *dialogs.Turn, reask string) {
	if text := t.Text(); dialogs.HasSubstance(text) && utf8.RuneCountInString(text) <= MaxQuestionRunes {
		f.ask(t, text)
		return
	}
	t.Reask(reask)
}

func (f *flow) promptChoose(t *dialogs.Turn) {
	var (
		lines []string
		qr    []koe.Action
	)
	for i, c := range cands(t) {
		m, ok := f.kb.Entry(t.Lang(), c.id)
		if !ok {
			continue
		}
		lines = append(lines, strconv.Itoa(i+1)+". "+m.Question)
		qr = append(qr, entryAction(m))
	}
	if len(lines) == 0 {
		t.Ask("inquiry.no_match", []dialogs.Choice{choicePerson, choiceAgain, dialogs.ChoiceCancel})
		return
	}
	qr = append(qr, t.QuickReplies(choicePerson, dialogs.ChoiceCancel)...)
	t.Reply(koe.Reply{Text: t.T("inquiry.choices", "list", strings.Join(lines, "\n")), QuickReplies: qr})
}

func (f *flow) answerChoose(t *dialogs.Turn) {
	if id, ok := strings.CutPrefix(t.Postback(), entryData); ok && f.pick(t, id) {
		return
	}
	cs := cands(t)
	if n, err := strconv.Atoi(strings.TrimSpace(dialogs.Normalize(t.Text()))); err == nil && n >= 1 && n <= len(cs) && f.pick(t, cs[n-1].id) {
		return
	}
	switch data, _ := t.Chosen(choicePerson, choiceAgain); data {
	case choicePerson.Data:
		t.Goto(stChannel)
	case choiceAgain.Data:
		t.Goto(stQuestion)
	default:
		f.otherwise(t, "inquiry.choose_reask")
	}
}

func (f *flow) promptOffer(t *dialogs.Turn) {
	t.Ask("inquiry.offer", []dialogs.Choice{choicePerson, choiceAgain, dialogs.ChoiceCancel})
}

func (f *flow) answerOffer(t *dialogs.Turn) {
	switch data, _ := t.Chosen(choicePerson, choiceAgain); data {
	case choicePerson.Data:
		t.Goto(stChannel)
	case choiceAgain.Data:
		t.Goto(stQuestion)
	default:
		f.otherwise(t, "inquiry.offer_reask")
	}
}

func (f *flow) promptChannel(t *dialogs.Turn) {
	t.Ask("inquiry.channel", []dialogs.Choice{choiceLINE, choicePhone, dialogs.ChoiceCancel})
}

func (f *flow) answerChannel(t *dialogs.Turn) {
	switch data, _ := t.Chosen(choiceLINE, choicePhone); data {
	case choiceLINE.Data:
		t.SetVar(vChannel, ChannelLINE)
		f.escalate(t)
	case choicePhone.Data:
		t.SetVar(vChannel, ChannelPhone)
		t.Next(stPhone)
	default:
		t.Reask("inquiry.channel_reask")
	}
}

func (f *flow) promptPhone(t *dialogs.Turn) {
	if p := t.Var(vPhone); p != "" {
		t.Ask("inquiry.phone_known", []dialogs.Choice{choiceKnown, dialogs.ChoiceCancel}, "phone", p)
		return
	}
	t.Ask("inquiry.phone", []dialogs.Choice{dialogs.ChoiceCancel})
}

func (f *flow) answerPhone(t *dialogs.Turn) {
	if data, _ := t.Chosen(choiceKnown); data == choiceKnown.Data && t.Var(vPhone) != "" {
		f.escalate(t)
		return
	}
	p, err := jpinput.ParsePhone(t.Text())
	if err != nil {
		t.Reask("inquiry.phone_invalid")
		return
	}
	t.SetVar(vPhone, p.Display)
	f.escalate(t)
}

// escalate opens the inquiry case; the runner answers with the reference.
func (f *flow) escalate(t *dialogs.Turn) {
	e := EscalateEffect{
		Question: t.Var(vQuestion),
		Channel:  t.Var(vChannel),
		Voice:    t.Var(vVoice),
		Answers:  strings.Fields(t.Var(vAnswers)),
	}
	if e.Channel == ChannelPhone {
		e.Phone = t.Var(vPhone)
	}
	t.EffectOr(e, func(t *dialogs.Turn) { t.Say("inquiry.case_fallback") })
	t.End()
	t.Menu("menu.other")
}

// phoneCandidate finds digit runs that may be a phone number in a text.
var phoneCandidate = regexp.MustCompile(`[+0-9０-９][0-9０-９\-‐－ー()（） ]{8,16}[0-9０-９]`)

// phoneIn returns the display form of the first valid phone number in
// text, or "".
func phoneIn(text string) string {
	for _, s := range phoneCandidate.FindAllString(text, 3) {
		if p, err := jpinput.ParsePhone(s); err == nil {
			return p.Display
		}
	}
	return ""
}

// questionWords mark a text as a question (compared after Normalize).
var questionWords = []string{"?", "？", "いつ", "どう", "どの", "どこ", "何", "なに", "なぜ", "いくら", "ですか", "ますか", "できる", "でしょうか", "教えて",
	"how ", "what ", "when ", "where ", "which ", "why ", "can i", "do i", "is there", "how much"}

// looksLikeQuestion reports whether text reads as a question.
func looksLikeQuestion(text string) bool {
	n := dialogs.Normalize(text) + " "
	for _, w := range questionWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Interrupt returns the hook for dialogs.Config.Interrupt: a text that
// another dialog rejected as an answer, reads as a question and matches an
// FAQ entry with Confidence ≥ threshold is answered (recorded as a voice
// and an AnswerEffect of rank 1, with no 解決しましたか question) and the
// engine then asks the interrupted question again. Anything else, and
// anything inside the inquiry dialog itself, is left to the dialog.
func Interrupt(kb Searcher, threshold float64) func(t *dialogs.Turn) bool {
	return func(t *dialogs.Turn) bool {
		name, _ := t.Dialog()
		text := t.Text()
		if name == "" || name == dialogs.DialogInquiry || !dialogs.HasSubstance(text) || !looksLikeQuestion(text) {
			return false
		}
		ms := kb.Search(t.Lang(), text, 1)
		if len(ms) == 0 || ms[0].Confidence < threshold {
			return false
		}
		m, ok := kb.Entry(t.Lang(), ms[0].ID)
		if !ok {
			return false
		}
		t.Effect(dialogs.VoiceEffect{Text: text, Source: VoiceSource})
		t.Effect(AnswerEffect{Entry: m.ID, Rank: 1, Confidence: ms[0].Confidence})
		r := answerReply(m)
		r.Text = t.T("inquiry.interrupt_intro") + "\n" + r.Text + "\n\n" + t.T("inquiry.interrupt_resume")
		t.Reply(r)
		return true
	}
}
