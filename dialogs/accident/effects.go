package accident

import (
	"regexp"
	"strings"

	"github.com/koehq/koe"
	"golang.org/x/text/unicode/norm"
)

// Effect kinds, for dialogs.Runners.
const (
	KindSubmit = "accident:submit"
	KindStatus = "accident:status"
)

// JobAlert is the kind of the follow-up job that announces a new report to
// staff; its ID is JobAlert + ":" + the reference.
const JobAlert = "accident.alert"

// VoiceSource is the dialogs.VoiceEffect.Source of accident descriptions.
const VoiceSource = "accident"

// Submit files a finished report. Report is complete except for what the
// runner decides: Ref, Key, User, Lang, Photos, Status, SubmittedAt,
// UpdatedAt and Version. PhotoContentIDs are the customer's pictures in
// the order sent: a channel's content id (LINE's message id), or
// koe.LocalContentPrefix + a path for a picture already on disk (the console's
// /image PATH).
type Submit struct {
	Report          koe.AccidentReport
	PhotoContentIDs []string
}

// EffectKind returns KindSubmit.
func (Submit) EffectKind() string { return KindSubmit }

// StatusQuery asks for the status of the customer's reports: the one with
// Ref, or the most recent ones when Ref is empty. Only the customer's own
// reports are ever shown.
type StatusQuery struct {
	Ref string
}

// EffectKind returns KindStatus.
func (StatusQuery) EffectKind() string { return KindStatus }

// refPattern is a reference as customers type it (after NFKC and upper
// casing).
var refPattern = regexp.MustCompile(`AR-?\d{8}-?[0-9A-Z]{4}`)

// statusWords ask for the status (compared after Normalize, spaces
// dropped).
var statusWords = map[string]bool{
	"状況": true, "状況確認": true, "受付状況": true, "進捗": true, "進捗確認": true, "進捗状況": true,
	"ステータス": true, "status": true, "mystatus": true, "reportstatus": true, "checkstatus": true,
}

// ParseStatusQuery reports whether text asks for the status of reports:
// a status word alone (状況, 進捗, status), a reference alone
// (AR-20261122-7F3K, in any width and case, hyphens optional), or a
// reference with a status word (AR-20261122-7F3K の状況). It returns the
// reference in canonical form, or "" for all of the customer's reports.
func ParseStatusQuery(text string) (ref string, ok bool) {
	s := strings.ToUpper(norm.NFKC.String(text))
	s = strings.Map(func(r rune) rune {
		switch r {
		case '‐', '‑', '‒', '–', '—', '−', 'ー', '－':
			return '-'
		}
		return r
	}, s)
	if m := refPattern.FindString(s); m != "" {
		digits := strings.ReplaceAll(m[2:], "-", "")
		ref = "AR-" + digits[:8] + "-" + digits[8:]
		s = strings.Replace(s, m, "", 1)
	}
	rest := strings.ToLower(strings.Join(strings.Fields(s), ""))
	rest = strings.TrimRight(rest, "。.!?？！")
	rest = strings.TrimSuffix(rest, "を教えてください")
	rest = strings.TrimSuffix(rest, "を確認したい")
	rest = strings.TrimPrefix(rest, "の")
	switch {
	case ref != "" && (rest == "" || statusWords[rest] || statusWords[strings.TrimPrefix(rest, "の")]):
		return ref, true
	case ref == "" && statusWords[rest]:
		return "", true
	}
	return "", false
}
