package inquiry

// Effect kinds, for dialogs.Runners.
const (
	KindAnswer   = "inquiry:answer"
	KindVerdict  = "inquiry:verdict"
	KindEscalate = "inquiry:escalate"
)

// VoiceSource is the dialogs.VoiceEffect.Source of the customers'
// questions.
const VoiceSource = "inquiry"

// JobCaseAlert is the kind of the job that alerts staff to a new inquiry
// case (the same kind voices.Sink uses); its ID is JobCaseAlert + ":" + the
// reference.
const JobCaseAlert = "case.alert"

// AnswerEffect records that the customer was shown FAQ entry Entry (a
// koe.FAQAnswer under the effect's key). The runner does not answer: the
// dialog has already shown the answer.
type AnswerEffect struct {
	Entry      string
	Rank       int
	Confidence float64
}

// EffectKind returns KindAnswer.
func (AnswerEffect) EffectKind() string { return KindAnswer }

// VerdictEffect records the customer's 解決しましたか answer for the FAQ
// answer recorded under Answer (an AnswerEffect's key).
type VerdictEffect struct {
	Answer  string
	Helpful bool
}

// EffectKind returns KindVerdict.
func (VerdictEffect) EffectKind() string { return KindVerdict }

// Channels a customer may prefer to be answered on.
const (
	ChannelLINE  = "line"
	ChannelPhone = "phone"
)

// EscalateEffect opens an inquiry case for Question. Channel is ChannelLINE
// or ChannelPhone; Phone is the national number to call back (with
// ChannelPhone). Voice is the key of the question's VoiceEffect (its
// classification sets the case's topic and urgency), Answers the keys of
// the FAQ answers shown before, which are marked unhelpful with the case.
// Question and Phone are personal data.
type EscalateEffect struct {
	Question string
	Channel  string
	Phone    string
	Voice    string
	Answers  []string
}

// EffectKind returns KindEscalate.
func (EscalateEffect) EffectKind() string { return KindEscalate }
