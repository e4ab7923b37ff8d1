package bot

import (
	"testing"
	"time"

	"github.com/koehq/koe"
)

// TestNPSOf checks the arithmetic against hand-computed cases.
func TestNPSOf(t *testing.T) {
	tests := []struct {
		name             string
		sent, p, n, d    int
		rate, ps, ns, ds float64
		nps              string // FormatNPS
		formula          string
	}{
		// 114/251 = 45.418…% → 45.4; 47/251 = 18.725…% → 18.7; 90/251 = 35.856…% → 35.9;
		// 67/251 = 26.693…% → 26.7. Response rate 251/300 = 83.666…% → 83.7.
		{"issue example", 300, 114, 90, 47, 83.7, 45.4, 35.9, 18.7, "26.7", "45.4% − 18.7% = 26.7"},
		// Parts 2/12 = 16.666… → 16.7 and 1/12 = 8.333… → 8.3 differ by 8.4, but
		// NPS is 1/12 = 8.333… → 8.3: it comes from the unrounded shares.
		{"parts rounded apart", 12, 2, 9, 1, 100, 16.7, 75, 8.3, "8.3", "16.7% − 8.3% = 8.3"},
		// 1/80 = 1.25% exactly: half rounds up for shares, away from zero for NPS.
		{"half up", 80, 1, 79, 0, 100, 1.3, 98.8, 0, "1.3", "1.3% − 0.0% = 1.3"},
		{"half away from zero when negative", 80, 0, 79, 1, 100, 0, 98.8, 1.3, "−1.3", "0.0% − 1.3% = −1.3"},
		// 1/3 = 33.333… → 33.3; −2/3: NPS −66.666… → −66.7.
		{"negative", 4, 0, 1, 2, 75, 0, 33.3, 66.7, "−66.7", "0.0% − 66.7% = −66.7"},
		{"all promoters", 1, 1, 0, 0, 100, 100, 0, 0, "100.0", "100.0% − 0.0% = 100.0"},
		{"all detractors", 2, 0, 0, 2, 100, 0, 0, 100, "−100.0", "0.0% − 100.0% = −100.0"},
		{"balanced is zero, not undefined", 2, 1, 0, 1, 100, 50, 0, 50, "0.0", "50.0% − 50.0% = 0.0"},
		{"sent, no responses: undefined", 5, 0, 0, 0, 0, 0, 0, 0, "—", "—"},
		{"nothing sent: undefined", 0, 0, 0, 0, 0, 0, 0, 0, "—", "—"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NPSOf(tt.sent, tt.p, tt.n, tt.d)
			if r.Responses != tt.p+tt.n+tt.d || r.ResponseRate != tt.rate ||
				r.PromoterShare != tt.ps || r.PassiveShare != tt.ns || r.DetractorShare != tt.ds {
				t.Errorf("row = %+v, want rate %v shares %v/%v/%v", r, tt.rate, tt.ps, tt.ns, tt.ds)
			}
			if got := FormatNPS(r.NPS); got != tt.nps {
				t.Errorf("NPS = %s, want %s", got, tt.nps)
			}
			if (r.NPS == nil) != (tt.nps == NoNPS) {
				t.Errorf("NPS nil = %v, want %v", r.NPS == nil, tt.nps == NoNPS)
			}
			if r.Formula != tt.formula {
				t.Errorf("formula = %q, want %q", r.Formula, tt.formula)
			}
		})
	}
}

func TestNPSBand(t *testing.T) {
	want := []string{"detractor", "detractor", "detractor", "detractor", "detractor", "detractor", "detractor", "passive", "passive", "promoter", "promoter"}
	for s, w := range want {
		if got := NPSBand(s); got != w {
			t.Errorf("NPSBand(%d) = %q, want %q", s, got, w)
		}
	}
	for _, s := range []int{-1, 11} {
		if got := NPSBand(s); got != "" {
			t.Errorf("NPSBand(%d) = %q, want \"\"", s, got)
		}
	}
}

func npsSurvey(id string, tp koe.Touchpoint, at time.Time, score int) koe.Survey {
	s := koe.Survey{ID: id, Key: id, User: "line:U1", Touchpoint: tp, SentAt: at, Status: koe.SurveySent}
	if score >= 0 {
		s.Score, s.Status = &score, koe.SurveyAnswered
	}
	return s
}

func TestNPSReportOf(t *testing.T) {
	utc := func(m time.Month, d, h int) time.Time { return time.Date(2026, m, d, h, 0, 0, 0, time.UTC) }
	ss := []koe.Survey{
		// 2026-09-30 23:00 UTC is 2026-10-01 08:00 JST: October.
		npsSurvey("a", koe.TouchpointClaim, utc(9, 30, 23), 10),
		npsSurvey("b", koe.TouchpointClaim, utc(10, 5, 0), 9),
		npsSurvey("c", koe.TouchpointClaim, utc(10, 6, 0), 3),
		npsSurvey("d", koe.TouchpointClaim, utc(10, 7, 0), -1), // no answer
		// 2026-11-30 15:00 UTC is 2026-12-01 00:00 JST: December.
		npsSurvey("e", koe.TouchpointClaim, utc(11, 30, 15), 7),
		npsSurvey("f", koe.TouchpointRenewal, utc(10, 10, 0), 0),
		npsSurvey("g", koe.TouchpointRenewal, utc(12, 1, 0), -1),
		npsSurvey("h", "purchase", utc(10, 10, 0), 10),
		// Before and after the period.
		npsSurvey("early", koe.TouchpointClaim, utc(9, 30, 14), 0), // 2026-09-30 23:00 JST
		npsSurvey("late", koe.TouchpointClaim, utc(12, 31, 15), 0), // 2027-01-01 00:00 JST
	}
	from, to := jst(2026, 10, 1, 0, 0, 0), jst(2027, 1, 1, 0, 0, 0)
	rep := NPSReportOf(ss, from, to, "")
	if rep.Unknown != 1 || len(rep.Touchpoints) != 2 || rep.TimeZone != "Asia/Tokyo" {
		t.Fatalf("report = %+v", rep)
	}
	type want struct {
		label               string
		sent, resp, p, n, d int
		formula             string
	}
	check := func(t *testing.T, rows []NPSRow, wants []want) {
		t.Helper()
		if len(rows) != len(wants) {
			t.Fatalf("%d rows, want %d", len(rows), len(wants))
		}
		for i, w := range wants {
			r := rows[i]
			got := want{r.Label, r.Sent, r.Responses, r.Promoters, r.Passives, r.Detractors, r.Formula}
			if got != w {
				t.Errorf("row %d = %+v, want %+v", i, got, w)
			}
		}
	}
	claim := rep.Touchpoints[0]
	if claim.Touchpoint != koe.TouchpointClaim || claim.Label != "事故対応NPS" {
		t.Errorf("first touchpoint = %s %s", claim.Touchpoint, claim.Label)
	}
	t.Run("claim", func(t *testing.T) {
		check(t, append(claim.Months, claim.Total), []want{
			// October: 10, 9, 3, unanswered → 2 promoters, 1 detractor of 3:
			// 66.7% − 33.3% = 33.3 (1/3).
			{"2026-10", 4, 3, 2, 0, 1, "66.7% − 33.3% = 33.3"},
			{"2026-11", 0, 0, 0, 0, 0, "—"},
			{"2026-12", 1, 1, 0, 1, 0, "0.0% − 0.0% = 0.0"},
			// 2 of 4 promoters, 1 detractor: 50.0% − 25.0% = 25.0.
			{"total", 5, 4, 2, 1, 1, "50.0% − 25.0% = 25.0"},
		})
		if r := claim.Total.ResponseRate; r != 80 {
			t.Errorf("response rate = %v, want 80", r)
		}
	})
	t.Run("renewal", func(t *testing.T) {
		r := rep.Touchpoints[1]
		check(t, append(r.Months, r.Total), []want{
			{"2026-10", 1, 1, 0, 0, 1, "0.0% − 100.0% = −100.0"},
			{"2026-11", 0, 0, 0, 0, 0, "—"},
			{"2026-12", 1, 0, 0, 0, 0, "—"},
			{"total", 2, 1, 0, 0, 1, "0.0% − 100.0% = −100.0"},
		})
	})
	t.Run("all", func(t *testing.T) {
		// Claim and renewal together (the unknown touchpoint is left out):
		// 2 promoters, 1 passive, 2 detractors of 5 → 40.0% − 40.0% = 0.0.
		check(t, append(rep.All.Months, rep.All.Total), []want{
			{"2026-10", 5, 4, 2, 0, 2, "50.0% − 50.0% = 0.0"},
			{"2026-11", 0, 0, 0, 0, 0, "—"},
			{"2026-12", 2, 1, 0, 1, 0, "0.0% − 0.0% = 0.0"},
			{"total", 7, 5, 2, 1, 2, "40.0% − 40.0% = 0.0"},
		})
		if m := rep.All.Months[0]; !m.From.Equal(from) || !m.To.Equal(jst(2026, 11, 1, 0, 0, 0)) {
			t.Errorf("October = [%v, %v)", m.From, m.To)
		}
	})
	t.Run("one touchpoint", func(t *testing.T) {
		r := NPSReportOf(ss, from, to, koe.TouchpointRenewal)
		if len(r.Touchpoints) != 1 || r.Touchpoints[0].Total.Formula != r.All.Total.Formula || r.All.Total.Sent != 2 || r.Unknown != 0 {
			t.Errorf("report = %+v", r)
		}
	})
	t.Run("cut months", func(t *testing.T) {
		r := NPSReportOf(ss, jst(2026, 10, 6, 0, 0, 0), jst(2026, 11, 15, 0, 0, 0), koe.TouchpointClaim)
		m := r.All.Months
		if len(m) != 2 || !m[0].From.Equal(jst(2026, 10, 6, 0, 0, 0)) || !m[1].To.Equal(jst(2026, 11, 15, 0, 0, 0)) {
			t.Fatalf("months = %+v", m)
		}
		if m[0].Sent != 2 || m[0].Responses != 1 { // c (3) and d (no answer); b was on the 5th
			t.Errorf("October = %+v", m[0])
		}
	})
}

func TestNPSReportEmpty(t *testing.T) {
	for name, tc := range map[string]struct {
		ss       []koe.Survey
		from, to time.Time
		months   int
	}{
		"no surveys, no bounds": {nil, time.Time{}, time.Time{}, 0},
		"no surveys in period":  {nil, jst(2026, 1, 1, 0, 0, 0), jst(2026, 4, 1, 0, 0, 0), 3},
		"reversed period":       {[]koe.Survey{npsSurvey("a", koe.TouchpointClaim, jst(2026, 2, 1, 0, 0, 0), 9)}, jst(2026, 4, 1, 0, 0, 0), jst(2026, 1, 1, 0, 0, 0), 0},
	} {
		t.Run(name, func(t *testing.T) {
			r := NPSReportOf(tc.ss, tc.from, tc.to, "")
			if len(r.All.Months) != tc.months {
				t.Errorf("%d months, want %d", len(r.All.Months), tc.months)
			}
			for _, row := range append(r.All.Months, r.All.Total) {
				if row.NPS != nil || row.Formula != NoNPS || row.Sent != 0 {
					t.Errorf("row %s = %+v, want empty with NPS —", row.Label, row)
				}
			}
		})
	}
	t.Run("open bounds from the surveys", func(t *testing.T) {
		ss := []koe.Survey{npsSurvey("a", koe.TouchpointClaim, jst(2026, 2, 3, 0, 0, 0), 9), npsSurvey("b", koe.TouchpointClaim, jst(2026, 4, 9, 0, 0, 0), 0)}
		r := NPSReportOf(ss, time.Time{}, time.Time{}, "")
		if len(r.All.Months) != 3 || r.All.Total.Sent != 2 || r.All.Total.Formula != "50.0% − 50.0% = 0.0" {
			t.Errorf("report = %+v", r.All)
		}
	})
}

func TestNPSTenthsExhaustive(t *testing.T) {
	// Against float arithmetic rounded away from zero, for every small case
	// where floats are exact enough to compare (no exact halves missed).
	for n := 1; n <= 60; n++ {
		for p := 0; p <= n; p++ {
			for d := 0; d <= n-p; d++ {
				got, ok := NPSTenths(p, d, n)
				x := float64(p-d) * 1000 / float64(n)
				want := int64(x + 0.5)
				if x < 0 {
					want = -int64(-x + 0.5)
				}
				if !ok || got != want {
					t.Fatalf("NPSTenths(%d, %d, %d) = %d, want %d", p, d, n, got, want)
				}
			}
		}
	}
	if _, ok := NPSTenths(0, 0, 0); ok {
		t.Error("NPSTenths of no responses is defined")
	}
}

func TestDefaultNPSPeriod(t *testing.T) {
	now := jst(2026, 11, 22, 10, 0, 0)
	from, to := DefaultNPSPeriod(now)
	if !from.Equal(jst(2025, 12, 1, 0, 0, 0)) || !to.Equal(now) {
		t.Errorf("period = %v – %v", from, to)
	}
}
