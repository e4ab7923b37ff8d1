package bot

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/koehq/koe"
)

// DeflectionReport measures how many FAQ answers needed no person
// (deflection), overall and per FAQ entry, for the answers given in
// [From, To) as known at At.
//
// An answer is judged by what followed it within koe.DeflectionWindow
// (72h), a half-open window [answer.At, answer.At+72h):
//
//   - unhelpful: the customer marked it 解決しなかった (Helpful is false);
//   - escalated: a case followed (CaseRef set; a mark carries no time, so
//     any case counts);
//   - repeated: the same user was answered from the same entry again inside
//     the window (a later answer, by At then ID; an answer exactly 72h
//     later is a new question; other users' answers never count).
//
// These three may overlap (an unhelpful answer is often escalated too);
// an answer with any of them is NotDeflected. Otherwise it is Pending while
// its window is still open at At (At < answer.At+72h: a case or repeat may
// still come) and Deflected once the window has closed. Answered =
// Deflected + NotDeflected + Pending. Rate is Deflected ÷ (Answered −
// Pending), the settled answers (0 when none are settled); Percent is the
// same rounded half up to one decimal (see Percent).
type DeflectionReport struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// At is the report time that decides which answers are pending.
	At     time.Time     `json:"at"`
	Window string        `json:"window"` // koe.DeflectionWindow, "72h0m0s"
	Total  DeflectionRow `json:"total"`
	// Entries has one row per entry answered in the period, most answered
	// first (ties by entry id).
	Entries []DeflectionRow `json:"entries"`
}

// DeflectionRow counts the answers of one FAQ entry (Entry "" for the
// total).
type DeflectionRow struct {
	Entry        string  `json:"entry,omitempty"`
	Answered     int     `json:"answered"`
	Deflected    int     `json:"deflected"`
	NotDeflected int     `json:"notDeflected"`
	Pending      int     `json:"pending"`
	Unhelpful    int     `json:"unhelpful"`
	Escalated    int     `json:"escalated"`
	Repeated     int     `json:"repeated"`
	Rate         float64 `json:"rate"`    // 0..1 of settled answers
	Percent      float64 `json:"percent"` // Rate in percent, one decimal
}

// Settled is the number of answers whose outcome is final.
func (r DeflectionRow) Settled() int { return r.Answered - r.Pending }

// Deflection reports on the answers with At in [from, to) (zero bounds are
// open) as known at now. Answers outside the period are used only as
// possible repeats of answers inside it, so pass the answers up to
// to+koe.DeflectionWindow (or now) to judge the last days of the period
// fully. The input is not modified; its order does not matter.
func Deflection(answers []koe.FAQAnswer, from, to, now time.Time) DeflectionReport {
	as := slices.Clone(answers)
	slices.SortFunc(as, func(a, b koe.FAQAnswer) int { return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID)) })
	rep := DeflectionReport{From: from, To: to, At: now, Window: koe.DeflectionWindow.String(), Entries: []DeflectionRow{}}
	rows := map[string]*DeflectionRow{}
	// last[user+entry] is the index of the latest answer seen so far, so
	// each answer finds its next answer by scanning backwards once.
	type key struct {
		user  koe.UserID
		entry string
	}
	next := make([]int, len(as)) // index of the next answer to the same user on the same entry, or -1
	last := map[key]int{}
	for i := len(as) - 1; i >= 0; i-- {
		k := key{as[i].User, as[i].Entry}
		if j, ok := last[k]; ok {
			next[i] = j
		} else {
			next[i] = -1
		}
		last[k] = i
	}
	for i, a := range as {
		if (!from.IsZero() && a.At.Before(from)) || (!to.IsZero() && !a.At.Before(to)) {
			continue
		}
		end := a.At.Add(koe.DeflectionWindow)
		unhelpful := a.Helpful != nil && !*a.Helpful
		escalated := a.CaseRef != ""
		repeated := next[i] >= 0 && as[next[i]].At.Before(end)
		r := rows[a.Entry]
		if r == nil {
			r = &DeflectionRow{Entry: a.Entry}
			rows[a.Entry] = r
		}
		for _, row := range []*DeflectionRow{r, &rep.Total} {
			row.Answered++
			switch {
			case unhelpful || escalated || repeated:
				row.NotDeflected++
			case now.Before(end):
				row.Pending++
			default:
				row.Deflected++
			}
			row.Unhelpful += b2i(unhelpful)
			row.Escalated += b2i(escalated)
			row.Repeated += b2i(repeated)
		}
	}
	for _, r := range rows {
		r.finish()
		rep.Entries = append(rep.Entries, *r)
	}
	rep.Total.finish()
	slices.SortFunc(rep.Entries, func(a, b DeflectionRow) int {
		return cmp.Or(cmp.Compare(b.Answered, a.Answered), cmp.Compare(a.Entry, b.Entry))
	})
	return rep
}

func (r *DeflectionRow) finish() {
	if s := r.Settled(); s > 0 {
		r.Rate = float64(r.Deflected) / float64(s)
	}
	r.Percent = Percent(r.Deflected, r.Settled())
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// FAQReportConfig configures the FAQ deflection report route. With no
// Token it answers 404 like the rest of /api/v1.
type FAQReportConfig struct {
	Token  string
	Log    koe.FAQLog
	Now    func() time.Time
	Logger *slog.Logger
}

// maxFAQReportPeriod bounds one deflection report's period.
const maxFAQReportPeriod = 400 * 24 * time.Hour

// DefaultFAQReportDays is the period a deflection report covers when from
// is not given: the 30 days before to.
const DefaultFAQReportDays = 30

// NewFAQReportAPI returns the route
//
//	GET /api/v1/reports/faq?from=&to= → DeflectionReport
//
// behind the same bearer guard as NewAPI, for ServerConfig.Extra (merge
// with NewAPI's map). from and to are RFC 3339 or YYYY-MM-DD (see
// ParseReportTime); to defaults to now, from to 30 days before to. The
// answers up to to+koe.DeflectionWindow are read, so repeats just after
// the period count. Malformed times, from not before to, or a period over
// 400 days answer 400 {"error":…}; without a Log the route answers 501.
func NewFAQReportAPI(cfg FAQReportConfig) map[string]http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := http.Handler(unavailable("FAQ answers"))
	if cfg.Log != nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { faqReport(cfg, w, r) })
	}
	return map[string]http.Handler{"GET /api/v1/reports/faq": bearerGuard(cfg.Token, h)}
}

func faqReport(cfg FAQReportConfig, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to, ok := periodParams(w, q.Get("from"), q.Get("to"))
	if !ok {
		return
	}
	now := cfg.Now()
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -DefaultFAQReportDays)
	}
	if !to.After(from) {
		writeError(w, http.StatusBadRequest, "from must be before to")
		return
	}
	if to.Sub(from) > maxFAQReportPeriod {
		writeError(w, http.StatusBadRequest, "period longer than 400 days")
		return
	}
	as, err := cfg.Log.Answers(r.Context(), from, to.Add(koe.DeflectionWindow))
	if err != nil {
		cfg.Logger.ErrorContext(r.Context(), "admin api failed", "op", "faq answers", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	loc := ReportZone()
	writeJSON(w, http.StatusOK, Deflection(as, from.In(loc), to.In(loc), now.In(loc)))
}

// Deflection collector bounds: the window a scrape looks back over.
const (
	DefaultDeflectionMetricsWindow = 30 * 24 * time.Hour
	MaxDeflectionMetricsWindow     = 90 * 24 * time.Hour
	MinDeflectionMetricsWindow     = 24 * time.Hour
	deflectionScrapeTimeout        = 5 * time.Second
)

var (
	faqAnswersDesc = prometheus.NewDesc("koe_faq_answers_total",
		"FAQ answers given in the collector's window, by entry (none: all entries) and outcome (deflected, not_deflected, pending). A gauge over a sliding window, not a counter.",
		[]string{"entry", "outcome"}, nil)
	faqRatioDesc = prometheus.NewDesc("koe_faq_deflection_ratio",
		"Deflected ÷ settled FAQ answers given in the collector's window, by entry (none: all entries); absent while none is settled.",
		[]string{"entry"}, nil)
)

// deflectionCollector computes the deflection report on every scrape.
type deflectionCollector struct {
	log    koe.FAQLog
	window time.Duration
	now    func() time.Time
}

// NewDeflectionCollector returns a collector that, on each scrape, reads
// the answers of the last window (clamped to 1–90 days; 0 or less: 30
// days) from log and exports
//
//	koe_faq_answers_total{entry,outcome}  gauge: answers by outcome
//	koe_faq_deflection_ratio{entry}       gauge: Rate of Deflection
//
// once with entry="" (shown without the label: all entries) and once per
// entry id answered in the window. Entry ids are not personal data. A
// ratio is left out while nothing is settled. A failed read makes the
// scrape report an error for these metrics; it is bounded by 5 seconds.
func NewDeflectionCollector(log koe.FAQLog, window time.Duration) prometheus.Collector {
	if window <= 0 {
		window = DefaultDeflectionMetricsWindow
	}
	window = min(max(window, MinDeflectionMetricsWindow), MaxDeflectionMetricsWindow)
	return &deflectionCollector{log: log, window: window, now: time.Now}
}

func (c *deflectionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- faqAnswersDesc
	ch <- faqRatioDesc
}

func (c *deflectionCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), deflectionScrapeTimeout)
	defer cancel()
	now := c.now()
	from := now.Add(-c.window)
	as, err := c.log.Answers(ctx, from, time.Time{})
	if err != nil {
		ch <- prometheus.NewInvalidMetric(faqAnswersDesc, err)
		return
	}
	rep := Deflection(as, from, now, now)
	for _, r := range append([]DeflectionRow{rep.Total}, rep.Entries...) {
		ch <- prometheus.MustNewConstMetric(faqAnswersDesc, prometheus.GaugeValue, float64(r.Deflected), r.Entry, "deflected")
		ch <- prometheus.MustNewConstMetric(faqAnswersDesc, prometheus.GaugeValue, float64(r.NotDeflected), r.Entry, "not_deflected")
		ch <- prometheus.MustNewConstMetric(faqAnswersDesc, prometheus.GaugeValue, float64(r.Pending), r.Entry, "pending")
		if r.Settled() > 0 {
			ch <- prometheus.MustNewConstMetric(faqRatioDesc, prometheus.GaugeValue, r.Rate, r.Entry)
		}
	}
}
