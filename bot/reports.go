package bot

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/internal/bizcal"
)

// ReportKinds are the kinds of voice a Report counts, in the order shown.
var ReportKinds = []koe.VoiceKind{koe.VoicePraise, koe.VoiceInquiry, koe.VoiceConsultation, koe.VoiceRequest, koe.VoiceComplaint}

// ReportTopics are the disclosure topics, in the order insurers publish
// them.
var ReportTopics = []koe.Topic{koe.TopicContractSales, koe.TopicPolicyAdmin, koe.TopicClaims, koe.TopicPrivacy, koe.TopicOther}

// KindLabel is the Japanese heading of a kind of voice.
func KindLabel(k koe.VoiceKind) string {
	return cmp.Or(map[koe.VoiceKind]string{
		koe.VoicePraise: "お褒め・感謝", koe.VoiceInquiry: "問い合わせ・照会", koe.VoiceConsultation: "相談",
		koe.VoiceRequest: "要望・意見", koe.VoiceComplaint: "苦情",
	}[k], string(k))
}

// TopicLabel is the Japanese heading of a disclosure topic.
func TopicLabel(t koe.Topic) string {
	return cmp.Or(map[koe.Topic]string{
		koe.TopicContractSales: "契約・募集行為", koe.TopicPolicyAdmin: "契約の管理・保全・集金",
		koe.TopicClaims: "保険金", koe.TopicPrivacy: "個人情報", koe.TopicOther: "その他",
	}[t], string(t))
}

// Report counts voices by kind × topic for a period, quarter by quarter
// and in total: the table insurers publish (お客さまの声の件数, 苦情の件数と
// 構成比), with the complaint rate when the number of policies in force is
// known.
//
// Quarters are calendar quarters in Asia/Tokyo (Q1 = January–March),
// labelled "2026Q4"; the first and last are cut to the period, so a
// table's From and To are its real bounds. (Japanese fiscal years start in
// April: fiscal 2026 Q1 is calendar 2026Q2. Calendar quarters are used so
// a label never needs explaining.)
//
// Shares are percentages of a denominator, rounded half up to one decimal
// (1 of 3 is 33.3, 2 of 3 is 66.7); rounded shares need not add up to
// exactly 100. A share of an empty denominator is 0.
type Report struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	TimeZone string    `json:"timeZone"`
	// PoliciesInForce is the number of policies the complaint rate is
	// computed against (0: no rate).
	PoliciesInForce int           `json:"policiesInForce,omitempty"`
	Quarters        []ReportTable `json:"quarters"`
	Total           ReportTable   `json:"total"`
	// Unknown counts voices of a kind not in ReportKinds (not in any
	// table). Voices of an unknown topic count under "other".
	Unknown int `json:"unknown,omitempty"`
}

// ReportTable is the kind × topic table of one quarter or of the period.
type ReportTable struct {
	Label string    `json:"label"` // "2026Q4", or "total"
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Count int       `json:"count"`
	// Kinds has one row per ReportKinds entry, in that order.
	Kinds []KindRow `json:"kinds"`
	// Topics are the column totals over all kinds, in ReportTopics order;
	// Share is of Count.
	Topics []TopicCell `json:"topics"`
	// ComplaintRate is set when Report.PoliciesInForce > 0.
	ComplaintRate *ComplaintRate `json:"complaintRate,omitempty"`
}

// KindRow is one kind's counts by topic. Share is the row's percentage of
// the table's Count; its Topics' KindShare are percentages of the row
// (for complaints: the disclosed 構成比 by topic).
type KindRow struct {
	Kind   koe.VoiceKind `json:"kind"`
	Label  string        `json:"label"`
	Count  int           `json:"count"`
	Share  float64       `json:"share"`
	Topics []TopicCell   `json:"topics"`
}

// TopicCell is one count of a table: Share is its percentage of the
// table's Count, KindShare of its row's Count (0 in column totals).
type TopicCell struct {
	Topic     koe.Topic `json:"topic"`
	Label     string    `json:"label"`
	Count     int       `json:"count"`
	Share     float64   `json:"share"`
	KindShare float64   `json:"kindShare,omitempty"`
}

// ComplaintRate (苦情発生率) is complaints ÷ policies in force, per 10,000
// policies as insurers publish it, rounded half up to two decimals.
type ComplaintRate struct {
	Complaints int     `json:"complaints"`
	Policies   int     `json:"policies"`
	Per10000   float64 `json:"per10000"`
}

// ReportZone is the time zone of report quarters and of date-only
// parameters.
func ReportZone() *time.Location { return bizcal.Tokyo() }

// VoiceReport counts voices whose At is in [from, to). A zero from starts
// at the earliest voice, a zero to ends after the latest; with neither
// bounds nor voices, or to not after from, there are no quarters and the
// total is empty. policiesInForce > 0 adds the complaint rate to every
// table (the same number of policies for every quarter).
func VoiceReport(voices []koe.Voice, from, to time.Time, policiesInForce int) Report {
	loc := ReportZone()
	if from.IsZero() || to.IsZero() {
		var lo, hi time.Time
		for _, v := range voices {
			if lo.IsZero() || v.At.Before(lo) {
				lo = v.At
			}
			if hi.IsZero() || v.At.After(hi) {
				hi = v.At
			}
		}
		if from.IsZero() {
			from = lo
		}
		if to.IsZero() && !hi.IsZero() {
			to = hi.Add(time.Nanosecond)
		}
	}
	rep := Report{From: from.In(loc), To: to.In(loc), TimeZone: loc.String(), PoliciesInForce: max(policiesInForce, 0)}
	rep.Total = newTable("total", rep.From, rep.To)
	if from.IsZero() || to.IsZero() || !to.After(from) {
		rep.Total.To = rep.Total.From
		finish(&rep.Total, rep.PoliciesInForce)
		return rep
	}
	first := quarterStart(rep.From)
	for qs := first; qs.Before(rep.To); qs = qs.AddDate(0, 3, 0) {
		t := newTable(quarterLabel(qs), later(qs, rep.From), earlier(qs.AddDate(0, 3, 0), rep.To))
		rep.Quarters = append(rep.Quarters, t)
	}
	kindIx := map[koe.VoiceKind]int{}
	for i, k := range ReportKinds {
		kindIx[k] = i
	}
	topicIx := map[koe.Topic]int{}
	for i, t := range ReportTopics {
		topicIx[t] = i
	}
	for _, v := range voices {
		if v.At.Before(from) || !v.At.Before(to) {
			continue
		}
		ki, ok := kindIx[v.Kind]
		if !ok {
			rep.Unknown++
			continue
		}
		ti, ok := topicIx[v.Topic]
		if !ok {
			ti = topicIx[koe.TopicOther]
		}
		q := quarterIndex(v.At.In(loc)) - quarterIndex(first)
		for _, t := range []*ReportTable{&rep.Quarters[q], &rep.Total} {
			t.Count++
			t.Kinds[ki].Count++
			t.Kinds[ki].Topics[ti].Count++
			t.Topics[ti].Count++
		}
	}
	for i := range rep.Quarters {
		finish(&rep.Quarters[i], rep.PoliciesInForce)
	}
	finish(&rep.Total, rep.PoliciesInForce)
	return rep
}

func newTable(label string, from, to time.Time) ReportTable {
	t := ReportTable{Label: label, From: from, To: to, Kinds: make([]KindRow, len(ReportKinds)), Topics: topicCells()}
	for i, k := range ReportKinds {
		t.Kinds[i] = KindRow{Kind: k, Label: KindLabel(k), Topics: topicCells()}
	}
	return t
}

func topicCells() []TopicCell {
	out := make([]TopicCell, len(ReportTopics))
	for i, tp := range ReportTopics {
		out[i] = TopicCell{Topic: tp, Label: TopicLabel(tp)}
	}
	return out
}

// finish computes a table's shares and complaint rate from its counts.
func finish(t *ReportTable, policies int) {
	for i := range t.Kinds {
		row := &t.Kinds[i]
		row.Share = Percent(row.Count, t.Count)
		for j := range row.Topics {
			row.Topics[j].Share = Percent(row.Topics[j].Count, t.Count)
			row.Topics[j].KindShare = Percent(row.Topics[j].Count, row.Count)
		}
	}
	for j := range t.Topics {
		t.Topics[j].Share = Percent(t.Topics[j].Count, t.Count)
	}
	if policies > 0 {
		n := 0
		for _, row := range t.Kinds {
			if row.Kind == koe.VoiceComplaint {
				n = row.Count
			}
		}
		t.ComplaintRate = &ComplaintRate{Complaints: n, Policies: policies, Per10000: Per10000(n, policies)}
	}
}

// Percent is part ÷ whole in percent, rounded half up to one decimal; 0
// when whole ≤ 0. It computes in integers, so 1 of 8 is exactly 12.5.
func Percent(part, whole int) float64 {
	if whole <= 0 {
		return 0
	}
	return float64(roundDiv(int64(part)*1000, int64(whole))) / 10
}

// Per10000 is n per 10,000 of policies, rounded half up to two decimals;
// 0 when policies ≤ 0.
func Per10000(n, policies int) float64 {
	if policies <= 0 {
		return 0
	}
	return float64(roundDiv(int64(n)*10000*100, int64(policies))) / 100
}

// roundDiv is a ÷ b rounded half up, for a ≥ 0 and b > 0.
func roundDiv(a, b int64) int64 { return (2*a + b) / (2 * b) }

func quarterStart(t time.Time) time.Time {
	y, m, _ := t.Date()
	return time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, t.Location())
}

func quarterIndex(t time.Time) int {
	y, m, _ := t.Date()
	return y*4 + int(m-1)/3
}

func quarterLabel(qs time.Time) string {
	return fmt.Sprintf("%dQ%d", qs.Year(), int(qs.Month()-1)/3+1)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// DefaultReportPeriod is the period a report covers when none is given:
// the last four calendar quarters (Asia/Tokyo) up to now, the current one
// included.
func DefaultReportPeriod(now time.Time) (from, to time.Time) {
	return quarterStart(now.In(ReportZone())).AddDate(0, -9, 0), now
}

// ParseReportTime parses a period bound of the admin API and `koe report`:
// RFC 3339, or YYYY-MM-DD meaning midnight in Asia/Tokyo — the start of
// that day for a from, the end of it (the next midnight) for a to, so
// from=2026-10-01&to=2026-12-31 is the whole fourth quarter. Empty gives
// the zero time.
func ParseReportTime(s string, isTo bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, s, ReportZone())
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor YYYY-MM-DD", s)
	}
	if isTo {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

// ReportAPIConfig configures the admin API's case, voice and report
// routes. With no Token they answer 404 like the rest of /api/v1.
type ReportAPIConfig struct {
	Token  string
	Cases  koe.CaseStore
	Voices koe.VoiceStore
	// PoliciesInForce adds the complaint rate to voice reports (0: none);
	// a request's policies parameter overrides it.
	PoliciesInForce int
	// MaxVoices bounds one /api/v1/voices answer and the voices one report
	// reads (default 100000); a report over it answers 422.
	MaxVoices int
	Now       func() time.Time
	Logger    *slog.Logger
}

// NewReportAPI returns the routes
//
//	GET /api/v1/cases?status=&type=&limit=      → {"cases":[…]}, newest first
//	GET /api/v1/voices?from=&to=&kind=&limit=   → {"voices":[…]}, newest first
//	GET /api/v1/reports/voices?from=&to=&policies= → Report
//
// behind the same bearer guard as NewAPI, for ServerConfig.Extra (merge
// with NewAPI's map). from and to are RFC 3339 or YYYY-MM-DD (see
// ParseReportTime); the voices list has open bounds by default, a report
// covers the last four calendar quarters up to now. Unknown status, type or
// kind, malformed times or numbers, from after to, or a report of more
// than 40 quarters answer 400 {"error":…}; a route whose store is nil
// answers 501.
func NewReportAPI(cfg ReportAPIConfig) map[string]http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxVoices <= 0 {
		cfg.MaxVoices = 100000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &reportAPI{cfg: cfg}
	cases, voices, report := http.HandlerFunc(a.cases), http.HandlerFunc(a.voices), http.HandlerFunc(a.report)
	if cfg.Cases == nil {
		cases = unavailable("cases")
	}
	if cfg.Voices == nil {
		voices, report = unavailable("voices"), unavailable("voices")
	}
	return map[string]http.Handler{
		"GET /api/v1/cases":          bearerGuard(cfg.Token, cases),
		"GET /api/v1/voices":         bearerGuard(cfg.Token, voices),
		"GET /api/v1/reports/voices": bearerGuard(cfg.Token, report),
	}
}

// unavailable answers 501 for a route whose store is not configured.
func unavailable(what string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotImplemented, "this store does not keep "+what)
	}
}

type reportAPI struct{ cfg ReportAPIConfig }

// maxQuarters bounds a report's period.
const maxQuarters = 40

func (a *reportAPI) cases(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := koe.CaseFilter{Status: koe.CaseStatus(q.Get("status")), Type: koe.CaseType(q.Get("type"))}
	switch f.Status {
	case "", koe.CaseReceived, koe.CaseAcknowledged, koe.CaseAssigned, koe.CaseResponded, koe.CaseClosed, koe.CaseEscalated:
	default:
		writeError(w, http.StatusBadRequest, "status: want received, acknowledged, assigned, responded, closed or escalated")
		return
	}
	switch f.Type {
	case "", koe.CaseComplaint, koe.CaseInquiry:
	default:
		writeError(w, http.StatusBadRequest, "type: want complaint or inquiry")
		return
	}
	var ok bool
	if f.Limit, ok = limitParam(w, q.Get("limit"), a.cfg.MaxVoices); !ok {
		return
	}
	cs, err := a.cfg.Cases.Cases(r.Context(), f)
	if err != nil {
		a.internalError(r.Context(), w, "list cases", err)
		return
	}
	if cs == nil {
		cs = []koe.Case{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": cs})
}

func (a *reportAPI) voices(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to, ok := periodParams(w, q.Get("from"), q.Get("to"))
	if !ok {
		return
	}
	kind := koe.VoiceKind(q.Get("kind"))
	if kind != "" && KindLabel(kind) == string(kind) {
		writeError(w, http.StatusBadRequest, "kind: want praise, inquiry, consultation, request or complaint")
		return
	}
	limit, ok := limitParam(w, q.Get("limit"), a.cfg.MaxVoices)
	if !ok {
		return
	}
	vs, err := a.cfg.Voices.Voices(r.Context(), koe.VoiceFilter{From: from, To: to, Kind: kind, Limit: cmp.Or(limit, a.cfg.MaxVoices)})
	if err != nil {
		a.internalError(r.Context(), w, "list voices", err)
		return
	}
	if vs == nil {
		vs = []koe.Voice{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"voices": vs})
}

func (a *reportAPI) report(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to, ok := periodParams(w, q.Get("from"), q.Get("to"))
	if !ok {
		return
	}
	if to.IsZero() {
		to = a.cfg.Now()
	}
	if from.IsZero() {
		from, _ = DefaultReportPeriod(to)
	}
	if !to.After(from) {
		writeError(w, http.StatusBadRequest, "from must be before to")
		return
	}
	if quarterIndex(to.In(ReportZone()))-quarterIndex(from.In(ReportZone())) >= maxQuarters {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("period longer than %d quarters", maxQuarters))
		return
	}
	policies := a.cfg.PoliciesInForce
	if s := q.Get("policies"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "policies: want a whole number ≥ 0")
			return
		}
		policies = n
	}
	vs, err := a.cfg.Voices.Voices(r.Context(), koe.VoiceFilter{From: from, To: to, Limit: a.cfg.MaxVoices + 1})
	if err != nil {
		a.internalError(r.Context(), w, "report voices", err)
		return
	}
	if len(vs) > a.cfg.MaxVoices {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("more than %d voices in the period: ask for a shorter one", a.cfg.MaxVoices))
		return
	}
	writeJSON(w, http.StatusOK, VoiceReport(vs, from, to, policies))
}

// periodParams parses from and to, answering 400 when malformed or
// reversed.
func periodParams(w http.ResponseWriter, fromS, toS string) (from, to time.Time, ok bool) {
	from, err := ParseReportTime(fromS, false)
	if err != nil {
		writeError(w, http.StatusBadRequest, "from: "+err.Error())
		return from, to, false
	}
	if to, err = ParseReportTime(toS, true); err != nil {
		writeError(w, http.StatusBadRequest, "to: "+err.Error())
		return from, to, false
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		writeError(w, http.StatusBadRequest, "from must be before to")
		return from, to, false
	}
	return from, to, true
}

func limitParam(w http.ResponseWriter, s string, most int) (int, bool) {
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > most {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: want 1 to %d", most))
		return 0, false
	}
	return n, true
}

func (a *reportAPI) internalError(ctx context.Context, w http.ResponseWriter, op string, err error) {
	a.cfg.Logger.ErrorContext(ctx, "admin api failed", "op", op, "err", err)
	writeError(w, http.StatusInternalServerError, "internal error")
}
