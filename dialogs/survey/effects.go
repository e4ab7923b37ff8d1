package survey

import (
	"strconv"
	"strings"
	"time"

	"github.com/koehq/koe"
)

// StaffAction is the koe.StaffNote action that starts a survey.
const StaffAction = koe.StaffSurvey

// DialogName is the survey dialog's name.
const DialogName = "survey"

// VoiceSource is the dialogs.VoiceEffect.Source of survey comments.
const VoiceSource = "survey"

// Effect kinds, for dialogs.Runners.
const (
	KindScore        = "survey:score"
	KindSatisfaction = "survey:satisfaction"
	KindComment      = "survey:comment"
)

// DefaultRetention is how long the survey dialog keeps the customer's
// session waiting for an answer: longer than the default expiry of seven
// days, so a survey can be answered until it closes.
const DefaultRetention = 8 * 24 * time.Hour

// Score records the customer's 0–10 answer to survey Survey.
type Score struct {
	Survey string
	Score  int
}

// EffectKind returns KindScore.
func (Score) EffectKind() string { return KindScore }

// Satisfaction records the 5-level satisfaction: 5 とても満足 … 1 不満.
type Satisfaction struct {
	Survey string
	Level  int
}

// EffectKind returns KindSatisfaction.
func (Satisfaction) EffectKind() string { return KindSatisfaction }

// Comment records the follow-up answer; it is classified and kept as a
// voice (Source VoiceSource). Text is personal data.
type Comment struct {
	Survey string
	Text   string
}

// EffectKind returns KindComment.
func (Comment) EffectKind() string { return KindComment }

// StartNote is the staff note that starts survey s in the customer's
// conversation: Action StaffAction, CaseRef the survey id, and Text the
// touchpoint and expiry ("touchpoint=claim expires=2026-11-29T10:00:00Z"),
// so the dialog can ask about the right touchpoint and close on time
// without reading the store.
func StartNote(s koe.Survey) *koe.StaffNote {
	text := "touchpoint=" + string(s.Touchpoint)
	if !s.ExpiresAt.IsZero() {
		text += " expires=" + s.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return &koe.StaffNote{Action: StaffAction, CaseRef: s.ID, Text: text}
}

// StartMessage is the inbox message that starts survey s: a koe.KindStaff
// message for s.User with StartNote(s), ID "survey:"+s.ID (so the inbox
// deduplicates a second start of the same survey) and SentAt at. Put it
// in the customer's inbox (koe.Inbox) like any inbound message; the
// engine then asks the question by push.
func StartMessage(s koe.Survey, at time.Time) koe.Message {
	return koe.Message{ID: "survey:" + s.ID, User: s.User, Kind: koe.KindStaff, Staff: StartNote(s), SentAt: at}
}

// parseNote reads StartNote's text.
func parseNote(text string) (tp koe.Touchpoint, expires time.Time) {
	for _, f := range strings.Fields(text) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "touchpoint":
			tp = koe.Touchpoint(v)
		case "expires":
			expires, _ = time.Parse(time.RFC3339, v)
		}
	}
	return tp, expires
}

// scoreData is the postback data of a score button.
// ("nps:S-20261122-7F3K:8").
func scoreData(id string, n int) string { return scorePrefix + id + ":" + strconv.Itoa(n) }

const scorePrefix = "nps:"

// parseScoreData reads a score button's data.
func parseScoreData(data string) (id string, n int, ok bool) {
	rest, ok := strings.CutPrefix(data, scorePrefix)
	if !ok {
		return "", 0, false
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(rest[i+1:])
	if err != nil || n < 0 || n > 10 {
		return "", 0, false
	}
	return rest[:i], n, true
}

// Band is the NPS group of a score.
type Band string

// Bands.
const (
	Promoter  Band = "promoter"  // 9–10
	Passive   Band = "passive"   // 7–8
	Detractor Band = "detractor" // 0–6
)

// BandOf returns the NPS group of a 0–10 score.
func BandOf(score int) Band {
	switch {
	case score >= 9:
		return Promoter
	case score >= 7:
		return Passive
	}
	return Detractor
}
