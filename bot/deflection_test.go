package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/koehq/koe"
	"github.com/koehq/koe/internal/fakes"
)

// dT is the start of the deflection tests' time; dNow is ten days later.
var (
	dT   = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	dNow = dT.Add(240 * time.Hour)
)

func fa(id, user, entry string, at time.Time) koe.FAQAnswer {
	return koe.FAQAnswer{ID: id, User: koe.NewUserID(koe.ChannelLINE, user), Entry: entry, Lang: koe.Japanese, Rank: 1, Confidence: 0.9, At: at}
}

func marked(a koe.FAQAnswer, helpful *bool, caseRef string) koe.FAQAnswer {
	a.Helpful, a.CaseRef = helpful, caseRef
	return a
}

func bp(b bool) *bool { return &b }

// deflectionAnswers is the hand-computed case of TestDeflection (comments:
// the expected outcome with the report at dNow).
func deflectionAnswers() []koe.FAQAnswer {
	w := koe.DeflectionWindow
	return []koe.FAQAnswer{
		fa("a1", "u1", "e1", dT),                                            // deflected
		marked(fa("a2", "u1", "e2", dT), bp(false), ""),                     // unhelpful
		marked(fa("a3", "u2", "e2", dT.Add(time.Hour)), bp(false), "C-1"),   // unhelpful and escalated
		fa("a4", "u3", "e3", dT),                                            // repeated by a5
		fa("a5", "u3", "e3", dT.Add(w-time.Nanosecond)),                     // deflected
		fa("a6", "u4", "e3", dT.Add(24*time.Hour)),                          // deflected: a7 is exactly 72h later
		fa("a7", "u4", "e3", dT.Add(24*time.Hour+w)),                        // deflected
		fa("a8", "u5", "e1", dT.Add(48*time.Hour)),                          // deflected: a9 is another user
		fa("a9", "u6", "e1", dT.Add(49*time.Hour)),                          // deflected
		fa("a10", "u7", "e1", dT.Add(72*time.Hour)),                         // deflected: a11 is another entry
		fa("a11", "u7", "e2", dT.Add(73*time.Hour)),                         // deflected
		marked(fa("a12", "u8", "e1", dT.Add(96*time.Hour)), bp(true), ""),   // deflected (helpful)
		fa("a13", "u9", "e1", dNow.Add(-w+time.Nanosecond)),                 // pending: window open a nanosecond more
		fa("a14", "u10", "e1", dNow.Add(-w)),                                // deflected: window closed at dNow
		marked(fa("a15", "u11", "e2", dNow.Add(-time.Hour)), bp(false), ""), // unhelpful, not pending
		fa("a16", "u12", "e3", dNow.Add(-2*time.Hour)),                      // repeated by a17, not pending
		fa("a17", "u12", "e3", dNow.Add(-time.Hour)),                        // pending
	}
}

func TestDeflection(t *testing.T) {
	in := deflectionAnswers()
	// Shuffled input: the order must not matter.
	shuffled := slices.Clone(in)
	slices.Reverse(shuffled)
	shuffled[0], shuffled[7] = shuffled[7], shuffled[0]
	want := DeflectionReport{
		At: dNow, Window: "72h0m0s",
		Total: DeflectionRow{Answered: 17, Deflected: 10, NotDeflected: 5, Pending: 2, Unhelpful: 3, Escalated: 1, Repeated: 2,
			Rate: 10.0 / 15, Percent: 66.7},
		Entries: []DeflectionRow{
			{Entry: "e1", Answered: 7, Deflected: 6, Pending: 1, Rate: 1, Percent: 100},
			{Entry: "e3", Answered: 6, Deflected: 3, NotDeflected: 2, Pending: 1, Repeated: 2, Rate: 0.6, Percent: 60},
			{Entry: "e2", Answered: 4, Deflected: 1, NotDeflected: 3, Unhelpful: 3, Escalated: 1, Rate: 0.25, Percent: 25},
		},
	}
	for name, as := range map[string][]koe.FAQAnswer{"in time order": in, "shuffled": shuffled} {
		before := slices.Clone(as)
		got := Deflection(as, time.Time{}, time.Time{}, dNow)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Deflection =\n%+v\nwant\n%+v", name, got, want)
		}
		if !reflect.DeepEqual(as, before) {
			t.Errorf("%s: Deflection reordered its input", name)
		}
	}
}

func TestDeflectionCases(t *testing.T) {
	w := koe.DeflectionWindow
	tests := []struct {
		name     string
		answers  []koe.FAQAnswer
		from, to time.Time
		now      time.Time
		want     DeflectionRow // Total; Rate and Percent are checked too
	}{
		{"nothing", nil, time.Time{}, time.Time{}, dNow, DeflectionRow{}},
		{"exactly 72h old is settled", []koe.FAQAnswer{fa("x", "u", "e", dNow.Add(-w))}, time.Time{}, time.Time{}, dNow,
			DeflectionRow{Answered: 1, Deflected: 1, Rate: 1, Percent: 100}},
		{"a nanosecond younger is pending", []koe.FAQAnswer{fa("x", "u", "e", dNow.Add(-w+1))}, time.Time{}, time.Time{}, dNow,
			DeflectionRow{Answered: 1, Pending: 1}},
		{"repeat a nanosecond inside the window", []koe.FAQAnswer{fa("x", "u", "e", dT), fa("y", "u", "e", dT.Add(w-1))}, time.Time{}, time.Time{}, dNow,
			DeflectionRow{Answered: 2, Deflected: 1, NotDeflected: 1, Repeated: 1, Rate: 0.5, Percent: 50}},
		{"repeat exactly 72h later is a new question", []koe.FAQAnswer{fa("x", "u", "e", dT), fa("y", "u", "e", dT.Add(w))}, time.Time{}, time.Time{}, dNow,
			DeflectionRow{Answered: 2, Deflected: 2, Rate: 1, Percent: 100}},
		{"same question by another user", []koe.FAQAnswer{fa("x", "u", "e", dT), fa("y", "v", "e", dT.Add(time.Minute))}, time.Time{}, time.Time{}, dNow,
			DeflectionRow{Answered: 2, Deflected: 2, Rate: 1, Percent: 100}},
		{"same instant: the later id repeats the earlier", []koe.FAQAnswer{fa("y", "u", "e", dT), fa("x", "u", "e", dT)}, time.Time{}, time.Time{}, dNow,
			DeflectionRow{Answered: 2, Deflected: 1, NotDeflected: 1, Repeated: 1, Rate: 0.5, Percent: 50}},
		{"escalated without a verdict", []koe.FAQAnswer{marked(fa("x", "u", "e", dT), nil, "C-9")}, time.Time{}, time.Time{}, dNow,
			DeflectionRow{Answered: 1, NotDeflected: 1, Escalated: 1}},
		{"young but already unhelpful is settled", []koe.FAQAnswer{marked(fa("x", "u", "e", dNow.Add(-time.Minute)), bp(false), "")}, time.Time{}, time.Time{}, dNow,
			DeflectionRow{Answered: 1, NotDeflected: 1, Unhelpful: 1}},
		{"helpful but repeated", []koe.FAQAnswer{marked(fa("x", "u", "e", dT), bp(true), ""), fa("y", "u", "e", dT.Add(time.Hour))}, time.Time{}, time.Time{}, dNow,
			DeflectionRow{Answered: 2, Deflected: 1, NotDeflected: 1, Repeated: 1, Rate: 0.5, Percent: 50}},
		{"period: answers outside only count as repeats", []koe.FAQAnswer{
			fa("p0", "u", "e", dT.Add(-time.Hour)),   // before from: not reported
			fa("p1", "u", "e", dT.Add(24*time.Hour)), // reported, repeated by p2
			fa("p2", "u", "e", dT.Add(49*time.Hour)), // at to: not reported
			fa("p3", "v", "e", dT),                   // from is inclusive
		}, dT, dT.Add(49 * time.Hour), dNow,
			DeflectionRow{Answered: 2, Deflected: 1, NotDeflected: 1, Repeated: 1, Rate: 0.5, Percent: 50}},
		{"two of three settled", []koe.FAQAnswer{fa("x", "u", "e", dT), marked(fa("y", "v", "e", dT), bp(false), ""), fa("z", "w", "e", dNow)},
			time.Time{}, time.Time{}, dNow,
			DeflectionRow{Answered: 3, Deflected: 1, NotDeflected: 1, Pending: 1, Unhelpful: 1, Rate: 0.5, Percent: 50}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Deflection(tc.answers, tc.from, tc.to, tc.now)
			if !reflect.DeepEqual(got.Total, tc.want) {
				t.Errorf("Total = %+v, want %+v", got.Total, tc.want)
			}
			if got.Total.Answered != got.Total.Deflected+got.Total.NotDeflected+got.Total.Pending {
				t.Errorf("Answered %d is not deflected + not deflected + pending", got.Total.Answered)
			}
			if got.Entries == nil {
				t.Error("Entries = nil, want a non-nil slice (JSON [])")
			}
		})
	}
}

// failingLog is a koe.FAQLog whose reads fail.
type failingLog struct{ koe.FAQLog }

func (failingLog) Answers(ctx context.Context, from, to time.Time) ([]koe.FAQAnswer, error) {
	return nil, errors.New("store down")
}

func newFAQLog(t *testing.T, as []koe.FAQAnswer) *fakes.FAQLog {
	t.Helper()
	l := fakes.NewFAQLog()
	for _, a := range as {
		if _, err := l.RecordAnswer(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func TestFAQReportAPI(t *testing.T) {
	l := newFAQLog(t, append(deflectionAnswers(),
		// After the period of "period" below, inside its window: a repeat
		// of a1 the route must read.
		fa("late", "u1", "e1", dT.Add(2*time.Hour))))
	now := func() time.Time { return dNow }
	mk := func(cfg FAQReportConfig) *httptest.Server {
		mux := http.NewServeMux()
		for p, h := range NewFAQReportAPI(cfg) {
			mux.Handle(p, h)
		}
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		return srv
	}
	srv := mk(FAQReportConfig{Token: "s3cret", Log: l, Now: now})
	off := mk(FAQReportConfig{Log: l, Now: now})
	noLog := mk(FAQReportConfig{Token: "s3cret", Now: now})
	broken := mk(FAQReportConfig{Token: "s3cret", Log: failingLog{}, Now: now})
	period := "?from=" + dT.Format(time.RFC3339) + "&to=" + dT.Add(time.Hour).Format(time.RFC3339)
	tests := []struct {
		name     string
		srv      *httptest.Server
		path     string
		token    string
		want     int
		errorHas string
		total    *DeflectionRow
	}{
		{"disabled", off, "/api/v1/reports/faq", "s3cret", 404, "KOE_ADMIN_TOKEN", nil},
		{"no token", srv, "/api/v1/reports/faq", "", 401, "bearer", nil},
		{"wrong token", srv, "/api/v1/reports/faq", "guess", 401, "bearer", nil},
		{"no log", noLog, "/api/v1/reports/faq", "s3cret", 501, "FAQ", nil},
		{"store down", broken, "/api/v1/reports/faq", "s3cret", 500, "internal error", nil},
		{"bad from", srv, "/api/v1/reports/faq?from=yesterday", "s3cret", 400, "from", nil},
		{"reversed", srv, "/api/v1/reports/faq?from=2026-11-05&to=2026-11-01", "s3cret", 400, "before", nil},
		{"too long", srv, "/api/v1/reports/faq?from=2024-01-01&to=2026-11-01", "s3cret", 400, "400 days", nil},
		{"default: the last 30 days", srv, "/api/v1/reports/faq", "s3cret", 200, "",
			// TestDeflection's report, with "late" (deflected) added and
			// a1 now repeated by it.
			&DeflectionRow{Answered: 18, Deflected: 10, NotDeflected: 6, Pending: 2, Unhelpful: 3, Escalated: 1, Repeated: 3,
				Rate: 10.0 / 16, Percent: 62.5}},
		// a1, a2 and a4 at dT; a1 is repeated by "late", a4 by a5 (read
		// from after the period), a2 unhelpful.
		{"period", srv, "/api/v1/reports/faq" + period, "s3cret", 200, "",
			&DeflectionRow{Answered: 3, NotDeflected: 3, Unhelpful: 1, Repeated: 2, Rate: 0, Percent: 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, tc.srv, tc.path, tc.token)
			if code != tc.want {
				t.Fatalf("GET %s = %d %s, want %d", tc.path, code, body["error"], tc.want)
			}
			if tc.errorHas != "" && !strings.Contains(string(body["error"]), tc.errorHas) {
				t.Errorf("error = %s, want it to mention %q", body["error"], tc.errorHas)
			}
			if tc.total == nil {
				return
			}
			var total DeflectionRow
			if err := json.Unmarshal(body["total"], &total); err != nil {
				t.Fatalf("total: %v", err)
			}
			if !reflect.DeepEqual(total, *tc.total) {
				t.Errorf("total = %+v, want %+v", total, *tc.total)
			}
			if _, ok := body["entries"]; !ok {
				t.Error("answer has no entries")
			}
		})
	}
}

// gather scrapes c and returns "name{labels} value" lines, sorted.
func gather(t *testing.T, c prometheus.Collector) ([]string, error) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	var out []string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, lp := range m.GetLabel() {
				ls = append(ls, lp.GetName()+"="+lp.GetValue())
			}
			v := m.GetGauge().GetValue()
			out = append(out, fmt.Sprintf("%s{%s} %s", mf.GetName(), strings.Join(ls, ","), strconv.FormatFloat(v, 'g', 4, 64)))
		}
	}
	slices.Sort(out)
	return out, err
}

func TestDeflectionCollector(t *testing.T) {
	as := append(deflectionAnswers(), fa("old", "u1", "e9", dNow.Add(-31*24*time.Hour)))
	c := NewDeflectionCollector(newFAQLog(t, as), 0).(*deflectionCollector)
	c.now = func() time.Time { return dNow }
	got, err := gather(t, c)
	if err != nil {
		t.Fatalf("Gather = %v", err)
	}
	// The 30-day window leaves out "old" (entry e9); the rest is
	// TestDeflection's report.
	want := []string{
		"koe_faq_answers_total{entry=,outcome=deflected} 10",
		"koe_faq_answers_total{entry=,outcome=not_deflected} 5",
		"koe_faq_answers_total{entry=,outcome=pending} 2",
		"koe_faq_answers_total{entry=e1,outcome=deflected} 6",
		"koe_faq_answers_total{entry=e1,outcome=not_deflected} 0",
		"koe_faq_answers_total{entry=e1,outcome=pending} 1",
		"koe_faq_answers_total{entry=e2,outcome=deflected} 1",
		"koe_faq_answers_total{entry=e2,outcome=not_deflected} 3",
		"koe_faq_answers_total{entry=e2,outcome=pending} 0",
		"koe_faq_answers_total{entry=e3,outcome=deflected} 3",
		"koe_faq_answers_total{entry=e3,outcome=not_deflected} 2",
		"koe_faq_answers_total{entry=e3,outcome=pending} 1",
		"koe_faq_deflection_ratio{entry=} 0.6667",
		"koe_faq_deflection_ratio{entry=e1} 1",
		"koe_faq_deflection_ratio{entry=e2} 0.25",
		"koe_faq_deflection_ratio{entry=e3} 0.6",
	}
	// The exposition drops empty label values; the registry keeps them.
	for i := range got {
		got[i] = strings.Replace(got[i], "{outcome=", "{entry=,outcome=", 1)
		got[i] = strings.Replace(got[i], "{}", "{entry=}", 1)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("metrics =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	t.Run("only pending: no ratio", func(t *testing.T) {
		c := NewDeflectionCollector(newFAQLog(t, []koe.FAQAnswer{fa("y", "u", "e", dNow.Add(-time.Hour))}), time.Hour).(*deflectionCollector)
		c.now = func() time.Time { return dNow }
		got, err := gather(t, c)
		if err != nil {
			t.Fatalf("Gather = %v", err)
		}
		for _, m := range got {
			if strings.HasPrefix(m, "koe_faq_deflection_ratio") {
				t.Errorf("ratio exported with nothing settled: %s", m)
			}
		}
		if len(got) != 6 {
			t.Errorf("metrics = %v, want 3 outcomes for the total and for e", got)
		}
	})
	t.Run("store down", func(t *testing.T) {
		if _, err := gather(t, NewDeflectionCollector(failingLog{}, 0)); err == nil || !strings.Contains(err.Error(), "store down") {
			t.Errorf("Gather = %v, want the read error", err)
		}
	})
	t.Run("window is bounded", func(t *testing.T) {
		for _, tc := range []struct{ in, want time.Duration }{
			{0, 30 * 24 * time.Hour}, {-time.Hour, 30 * 24 * time.Hour}, {time.Hour, 24 * time.Hour},
			{7 * 24 * time.Hour, 7 * 24 * time.Hour}, {1000 * 24 * time.Hour, 90 * 24 * time.Hour},
		} {
			if got := NewDeflectionCollector(fakes.NewFAQLog(), tc.in).(*deflectionCollector).window; got != tc.want {
				t.Errorf("window(%v) = %v, want %v", tc.in, got, tc.want)
			}
		}
	})
}
