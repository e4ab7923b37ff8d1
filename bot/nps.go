package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/koehq/koe"
)

// NPSReport is the Net Promoter Score of the surveys sent in a period, per
// touchpoint, month by month (Asia/Tokyo) and for the whole period.
//
// A survey counts in the period and month it was sent (SentAt), whether
// it was answered then or later. Sent counts every survey; Responses those
// with a score; ResponseRate is Responses ÷ Sent. Promoters scored 9–10,
// passives 7–8, detractors 0–6; their shares are of Responses.
//
// Rounding: shares and the response rate are percentages rounded half up to
// one decimal (Percent). NPS is promoters' share minus detractors' share,
// computed from the exact (unrounded) shares and then rounded to one decimal,
// halves away from zero (26.75 → 26.8, −26.75 → −26.8). Because the parts
// are rounded on their own, the shown difference can be 0.1 off the NPS:
// with 2 promoters and 1 detractor of 12 responses the parts are
// 16.7% − 8.3% (8.4) and NPS is 8.3 (1 ÷ 12 = 8.33…). A period or month without responses has no
// NPS (NPS nil, Formula "—"), which is not an NPS of 0.
type NPSReport struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	TimeZone string    `json:"timeZone"`
	// Touchpoint is the touchpoint asked for ("" for all).
	Touchpoint koe.Touchpoint `json:"touchpoint,omitempty"`
	// Touchpoints has one entry per known touchpoint (Touchpoints order),
	// or only the one asked for.
	Touchpoints []NPSTouchpoint `json:"touchpoints"`
	// All is every touchpoint together (equal to the single entry when one
	// touchpoint was asked for).
	All NPSTouchpoint `json:"all"`
	// Unknown counts surveys of a touchpoint not in Touchpoints (in no
	// table).
	Unknown int `json:"unknown,omitempty"`
}

// NPSTouchpoint is one touchpoint's monthly trend and period total.
type NPSTouchpoint struct {
	Touchpoint koe.Touchpoint `json:"touchpoint,omitempty"` // "" in NPSReport.All
	Label      string         `json:"label"`                // 事故対応NPS, 継続NPS, 全体
	Months     []NPSRow       `json:"months"`
	Total      NPSRow         `json:"total"`
}

// NPSRow is the NPS of one month or of the period.
type NPSRow struct {
	Label        string    `json:"label"` // "2026-11", or "total"
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	Sent         int       `json:"sent"`
	Responses    int       `json:"responses"`
	ResponseRate float64   `json:"responseRate"` // % of Sent
	Promoters    int       `json:"promoters"`
	Passives     int       `json:"passives"`
	Detractors   int       `json:"detractors"`
	// Shares of Responses in percent (0 without responses).
	PromoterShare  float64 `json:"promoterShare"`
	PassiveShare   float64 `json:"passiveShare"`
	DetractorShare float64 `json:"detractorShare"`
	// NPS is nil without responses.
	NPS *float64 `json:"nps"`
	// Formula shows NPS with its parts: "45.4% − 18.7% = 26.7", or "—".
	Formula string `json:"formula"`
}

// NoNPS is how an undefined NPS (no responses) is shown.
const NoNPS = "—"

// NPSBand is a score's band: "promoter" (9–10), "passive" (7–8) or
// "detractor" (0–6); "" outside 0–10.
func NPSBand(score int) string {
	switch {
	case score >= 9 && score <= 10:
		return "promoter"
	case score >= 7 && score <= 8:
		return "passive"
	case score >= 0 && score <= 6:
		return "detractor"
	}
	return ""
}

// NPSTenths is the NPS of the counts in tenths of a point
// ((promoters − detractors) ÷ responses × 1000, rounded half away from
// zero, in integers); ok is false when responses ≤ 0.
func NPSTenths(promoters, detractors, responses int) (tenths int64, ok bool) {
	if responses <= 0 {
		return 0, false
	}
	d := int64(promoters-detractors) * 1000
	if d < 0 {
		return -roundDiv(-d, int64(responses)), true
	}
	return roundDiv(d, int64(responses)), true
}

// FormatNPS shows an NPS with one decimal and a true minus sign
// ("26.7", "−20.0"), or NoNPS for nil.
func FormatNPS(nps *float64) string {
	if nps == nil {
		return NoNPS
	}
	s := strconv.FormatFloat(*nps, 'f', 1, 64)
	if s == "-0.0" {
		s = "0.0"
	}
	return strings.Replace(s, "-", "−", 1)
}

// NPSOf computes a row from its counts (Label, From and To left unset).
func NPSOf(sent, promoters, passives, detractors int) NPSRow {
	resp := promoters + passives + detractors
	row := NPSRow{
		Sent: sent, Responses: resp, ResponseRate: Percent(resp, sent),
		Promoters: promoters, Passives: passives, Detractors: detractors,
		PromoterShare: Percent(promoters, resp), PassiveShare: Percent(passives, resp), DetractorShare: Percent(detractors, resp),
		Formula: NoNPS,
	}
	if t, ok := NPSTenths(promoters, detractors, resp); ok {
		v := float64(t) / 10
		row.NPS = &v
		row.Formula = fmt.Sprintf("%s%% − %s%% = %s", num1(row.PromoterShare), num1(row.DetractorShare), FormatNPS(row.NPS))
	}
	return row
}

func num1(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// DefaultNPSPeriod is the period an NPS report covers when none is given:
// the last 12 calendar months (Asia/Tokyo) up to now, the current one
// included.
func DefaultNPSPeriod(now time.Time) (from, to time.Time) {
	return monthStart(now.In(ReportZone())).AddDate(0, -11, 0), now
}

// NPSReportOf computes the NPS report of the surveys sent in [from, to)
// (others are ignored), of touchpoint tp only when set. Zero bounds are
// taken from the surveys (the earliest, and just after the latest); with
// neither bounds nor surveys, or to not after from, there are no months and
// the totals are empty.
func NPSReportOf(surveys []koe.Survey, from, to time.Time, tp koe.Touchpoint) NPSReport {
	loc := ReportZone()
	if from.IsZero() || to.IsZero() {
		var lo, hi time.Time
		for _, s := range surveys {
			if lo.IsZero() || s.SentAt.Before(lo) {
				lo = s.SentAt
			}
			if hi.IsZero() || s.SentAt.After(hi) {
				hi = s.SentAt
			}
		}
		if from.IsZero() {
			from = lo
		}
		if to.IsZero() && !hi.IsZero() {
			to = hi.Add(time.Nanosecond)
		}
	}
	rep := NPSReport{From: from.In(loc), To: to.In(loc), TimeZone: loc.String(), Touchpoint: tp}
	tps := Touchpoints
	if tp != "" {
		tps = []koe.Touchpoint{tp}
	}
	valid := !from.IsZero() && !to.IsZero() && to.After(from)
	var months []NPSRow
	if valid {
		for ms := monthStart(rep.From); ms.Before(rep.To); ms = ms.AddDate(0, 1, 0) {
			months = append(months, NPSRow{Label: ms.Format("2006-01"), From: later(ms, rep.From), To: earlier(ms.AddDate(0, 1, 0), rep.To)})
		}
	}
	newTP := func(t koe.Touchpoint, label string) NPSTouchpoint {
		total := NPSRow{Label: "total", From: rep.From, To: rep.To}
		if !valid {
			total.To = total.From
		}
		return NPSTouchpoint{Touchpoint: t, Label: label, Months: append([]NPSRow(nil), months...), Total: total}
	}
	type counts struct{ sent, p, n, d int }
	// tally[touchpoint index or len(tps) for all][month index or len(months) for total]
	tally := make([][]counts, len(tps)+1)
	for i := range tally {
		tally[i] = make([]counts, len(months)+1)
	}
	tpIx := map[koe.Touchpoint]int{}
	for i, t := range tps {
		tpIx[t] = i
	}
	if valid {
		first := monthIndex(monthStart(rep.From))
		for _, s := range surveys {
			if s.SentAt.Before(from) || !s.SentAt.Before(to) || (tp != "" && s.Touchpoint != tp) {
				continue
			}
			ti, ok := tpIx[s.Touchpoint]
			if !ok {
				rep.Unknown++
				continue
			}
			mi := monthIndex(s.SentAt.In(loc)) - first
			for _, c := range []*counts{&tally[ti][mi], &tally[ti][len(months)], &tally[len(tps)][mi], &tally[len(tps)][len(months)]} {
				c.sent++
				if s.Score == nil {
					continue
				}
				switch NPSBand(*s.Score) {
				case "promoter":
					c.p++
				case "passive":
					c.n++
				case "detractor":
					c.d++
				}
			}
		}
	}
	fill := func(row NPSRow, c counts) NPSRow {
		r := NPSOf(c.sent, c.p, c.n, c.d)
		r.Label, r.From, r.To = row.Label, row.From, row.To
		return r
	}
	build := func(i int, t koe.Touchpoint, label string) NPSTouchpoint {
		out := newTP(t, label)
		for m := range out.Months {
			out.Months[m] = fill(out.Months[m], tally[i][m])
		}
		out.Total = fill(out.Total, tally[i][len(months)])
		return out
	}
	for i, t := range tps {
		rep.Touchpoints = append(rep.Touchpoints, build(i, t, TouchpointLabel(t)))
	}
	rep.All = build(len(tps), "", "全体")
	return rep
}

func monthStart(t time.Time) time.Time {
	y, m, _ := t.Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, t.Location())
}

func monthIndex(t time.Time) int {
	y, m, _ := t.Date()
	return y*12 + int(m-1)
}
