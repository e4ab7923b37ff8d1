package bot

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/internal/fakes"
)

func jst(y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, ReportZone())
}

func voice(id string, kind koe.VoiceKind, topic koe.Topic, at time.Time) koe.Voice {
	return koe.Voice{ID: id, User: "line:U1", Source: "free_text", Text: "…", Kind: kind, Topic: topic, At: at}
}

// reportVoices are hand-counted in TestVoiceReport. Times near quarter
// boundaries are given in UTC to check the quarters are Tokyo's.
func reportVoices() []koe.Voice {
	utc := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	return []koe.Voice{
		// Before the period: 2026-06-30 23:59 JST.
		voice("early", koe.VoiceComplaint, koe.TopicClaims, utc(2026, 6, 30, 14, 59)),
		// 2026Q3: 2026-07-01 00:00 JST is the first instant.
		voice("q3a", koe.VoiceComplaint, koe.TopicClaims, utc(2026, 6, 30, 15, 0)),
		voice("q3b", koe.VoiceComplaint, koe.TopicClaims, jst(2026, 8, 10, 12, 0, 0)),
		voice("q3c", koe.VoiceComplaint, koe.TopicPolicyAdmin, jst(2026, 9, 30, 23, 59, 59)),
		voice("q3d", koe.VoicePraise, koe.TopicOther, jst(2026, 9, 1, 9, 0, 0)),
		// 2026Q4: 2026-10-01 00:30 JST is still September in UTC.
		voice("q4a", koe.VoiceComplaint, koe.TopicClaims, utc(2026, 9, 30, 15, 30)),
		voice("q4b", koe.VoiceComplaint, koe.TopicContractSales, jst(2026, 11, 2, 10, 0, 0)),
		voice("q4c", koe.VoiceComplaint, koe.TopicPrivacy, jst(2026, 12, 31, 23, 59, 0)),
		voice("q4d", koe.VoiceInquiry, koe.TopicClaims, jst(2026, 10, 5, 10, 0, 0)),
		voice("q4e", koe.VoiceInquiry, koe.TopicClaims, jst(2026, 10, 6, 10, 0, 0)),
		voice("q4f", koe.VoiceInquiry, koe.TopicClaims, jst(2026, 10, 7, 10, 0, 0)),
		voice("q4g", koe.VoiceInquiry, koe.TopicClaims, jst(2026, 10, 8, 10, 0, 0)),
		voice("q4h", koe.VoiceInquiry, koe.TopicClaims, jst(2026, 10, 9, 10, 0, 0)),
		voice("q4i", koe.VoiceRequest, koe.Topic("mystery"), jst(2026, 10, 9, 11, 0, 0)), // counted as other
		voice("q4j", koe.VoiceKind("spam"), koe.TopicOther, jst(2026, 10, 9, 12, 0, 0)),  // unknown kind
		// After the period: 2027-01-01 00:00 JST.
		voice("late", koe.VoiceComplaint, koe.TopicClaims, jst(2027, 1, 1, 0, 0, 0)),
	}
}

func row(t ReportTable, k koe.VoiceKind) KindRow {
	for _, r := range t.Kinds {
		if r.Kind == k {
			return r
		}
	}
	return KindRow{}
}

func cell(r KindRow, tp koe.Topic) TopicCell {
	for _, c := range r.Topics {
		if c.Topic == tp {
			return c
		}
	}
	return TopicCell{}
}

func TestVoiceReport(t *testing.T) {
	rep := VoiceReport(reportVoices(), jst(2026, 7, 1, 0, 0, 0), jst(2027, 1, 1, 0, 0, 0), 120000)
	if len(rep.Quarters) != 2 || rep.Quarters[0].Label != "2026Q3" || rep.Quarters[1].Label != "2026Q4" {
		t.Fatalf("quarters = %+v", rep.Quarters)
	}
	if rep.Unknown != 1 {
		t.Errorf("Unknown = %d, want 1", rep.Unknown)
	}
	q3, q4, tot := rep.Quarters[0], rep.Quarters[1], rep.Total
	type check struct {
		name      string
		got, want float64
	}
	comp3, comp4, compT := row(q3, koe.VoiceComplaint), row(q4, koe.VoiceComplaint), row(tot, koe.VoiceComplaint)
	checks := []check{
		{"Q3 count", float64(q3.Count), 4},
		{"Q3 complaints", float64(comp3.Count), 3},
		{"Q3 complaint share of all", comp3.Share, 75.0},
		{"Q3 praise share", row(q3, koe.VoicePraise).Share, 25.0},
		{"Q3 complaints claims", float64(cell(comp3, koe.TopicClaims).Count), 2},
		{"Q3 complaints claims 構成比", cell(comp3, koe.TopicClaims).KindShare, 66.7},
		{"Q3 complaints policy admin 構成比", cell(comp3, koe.TopicPolicyAdmin).KindShare, 33.3},
		{"Q3 complaints claims share of all", cell(comp3, koe.TopicClaims).Share, 50.0},
		{"Q3 rate", q3.ComplaintRate.Per10000, 0.25},
		{"Q4 count", float64(q4.Count), 9},
		{"Q4 complaints", float64(comp4.Count), 3},
		{"Q4 complaint share", comp4.Share, 33.3},
		{"Q4 inquiry share", row(q4, koe.VoiceInquiry).Share, 55.6},
		{"Q4 request share", row(q4, koe.VoiceRequest).Share, 11.1},
		{"Q4 request other", float64(cell(row(q4, koe.VoiceRequest), koe.TopicOther).Count), 1},
		{"Q4 complaints claims (UTC September)", float64(cell(comp4, koe.TopicClaims).Count), 1},
		{"Q4 complaints privacy (Dec 31 23:59)", float64(cell(comp4, koe.TopicPrivacy).Count), 1},
		{"Q4 column claims", float64(q4.Topics[2].Count), 6},
		{"Q4 column claims share", q4.Topics[2].Share, 66.7},
		{"Q4 rate", q4.ComplaintRate.Per10000, 0.25},
		{"total count", float64(tot.Count), 13},
		{"total complaints", float64(compT.Count), 6},
		{"total complaint share", compT.Share, 46.2},
		{"total complaints claims 構成比", cell(compT, koe.TopicClaims).KindShare, 50.0},
		{"total complaints contract sales 構成比", cell(compT, koe.TopicContractSales).KindShare, 16.7},
		{"total rate", tot.ComplaintRate.Per10000, 0.5},
		{"total rate complaints", float64(tot.ComplaintRate.Complaints), 6},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if q4.Topics[2].Topic != koe.TopicClaims {
		t.Errorf("topic column 3 = %s, want claims", q4.Topics[2].Topic)
	}
	if !q3.From.Equal(jst(2026, 7, 1, 0, 0, 0)) || !q3.To.Equal(jst(2026, 10, 1, 0, 0, 0)) || !q4.To.Equal(jst(2027, 1, 1, 0, 0, 0)) {
		t.Errorf("quarter bounds: Q3 %v–%v, Q4 to %v", q3.From, q3.To, q4.To)
	}
}

func TestVoiceReportPeriods(t *testing.T) {
	vs := reportVoices()
	t.Run("empty period", func(t *testing.T) {
		rep := VoiceReport(nil, jst(2026, 7, 1, 0, 0, 0), jst(2027, 1, 1, 0, 0, 0), 1000)
		if len(rep.Quarters) != 2 || rep.Total.Count != 0 {
			t.Fatalf("quarters %d, total %d; want 2 empty quarters", len(rep.Quarters), rep.Total.Count)
		}
		for _, r := range rep.Total.Kinds {
			if r.Share != 0 || r.Count != 0 {
				t.Errorf("%s: count %d share %v, want 0", r.Kind, r.Count, r.Share)
			}
		}
		if rep.Total.ComplaintRate == nil || rep.Total.ComplaintRate.Per10000 != 0 {
			t.Errorf("rate = %+v, want 0", rep.Total.ComplaintRate)
		}
	})
	t.Run("reversed period", func(t *testing.T) {
		rep := VoiceReport(vs, jst(2027, 1, 1, 0, 0, 0), jst(2026, 7, 1, 0, 0, 0), 0)
		if len(rep.Quarters) != 0 || rep.Total.Count != 0 || rep.Total.ComplaintRate != nil {
			t.Errorf("reversed: %d quarters, total %d, rate %v; want none", len(rep.Quarters), rep.Total.Count, rep.Total.ComplaintRate)
		}
	})
	t.Run("partial quarters", func(t *testing.T) {
		rep := VoiceReport(vs, jst(2026, 8, 15, 0, 0, 0), jst(2026, 10, 2, 0, 0, 0), 0)
		if len(rep.Quarters) != 2 {
			t.Fatalf("%d quarters, want 2", len(rep.Quarters))
		}
		q3, q4 := rep.Quarters[0], rep.Quarters[1]
		if !q3.From.Equal(jst(2026, 8, 15, 0, 0, 0)) || !q4.To.Equal(jst(2026, 10, 2, 0, 0, 0)) {
			t.Errorf("bounds %v, %v", q3.From, q4.To)
		}
		// q3c, q3d in Q3 (q3a/q3b before Aug 15); q4a in Q4.
		if q3.Count != 2 || q4.Count != 1 || rep.Total.Count != 3 {
			t.Errorf("counts %d, %d, total %d; want 2, 1, 3", q3.Count, q4.Count, rep.Total.Count)
		}
	})
	t.Run("open bounds", func(t *testing.T) {
		rep := VoiceReport(vs, time.Time{}, time.Time{}, 0)
		if rep.Total.Count != 15 || rep.Unknown != 1 || len(rep.Quarters) != 4 { // 2026Q2 .. 2027Q1; the spam voice is Unknown
			t.Errorf("open bounds: total %d (+%d unknown) in %d quarters, want 15 (+1) in 4", rep.Total.Count, rep.Unknown, len(rep.Quarters))
		}
	})
	t.Run("no voices, open bounds", func(t *testing.T) {
		if rep := VoiceReport(nil, time.Time{}, time.Time{}, 0); len(rep.Quarters) != 0 {
			t.Errorf("%d quarters, want 0", len(rep.Quarters))
		}
	})
}

func TestPercentRounding(t *testing.T) {
	tests := []struct {
		part, whole int
		want        float64
	}{
		{1, 3, 33.3}, {2, 3, 66.7}, {1, 8, 12.5}, {1, 16, 6.3}, {3, 16, 18.8}, {1, 6, 16.7},
		{0, 5, 0}, {5, 5, 100}, {0, 0, 0}, {3, 0, 0}, {1, 2000, 0.1}, {1, 2001, 0},
	}
	for _, tt := range tests {
		if got := Percent(tt.part, tt.whole); got != tt.want {
			t.Errorf("Percent(%d, %d) = %v, want %v", tt.part, tt.whole, got, tt.want)
		}
	}
	rates := []struct {
		n, policies int
		want        float64
	}{
		{6, 120000, 0.5}, {1, 30000, 0.33}, {1, 80000, 0.13}, {1, 8000000, 0}, {235, 1000000, 2.35}, {3, 0, 0},
	}
	for _, tt := range rates {
		if got := Per10000(tt.n, tt.policies); got != tt.want {
			t.Errorf("Per10000(%d, %d) = %v, want %v", tt.n, tt.policies, got, tt.want)
		}
	}
}

func TestParseReportTime(t *testing.T) {
	tests := []struct {
		in      string
		isTo    bool
		want    time.Time
		wantErr bool
	}{
		{"", false, time.Time{}, false},
		{"2026-10-01", false, jst(2026, 10, 1, 0, 0, 0), false},
		{"2026-12-31", true, jst(2027, 1, 1, 0, 0, 0), false},
		{"2026-10-01T09:00:00Z", false, time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC), false},
		{"2026-10-01T09:00:00+09:00", true, jst(2026, 10, 1, 9, 0, 0), false},
		{"2026-13-01", false, time.Time{}, true},
		{"yesterday", false, time.Time{}, true},
		{"2026/10/01", false, time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := ParseReportTime(tt.in, tt.isTo)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("ParseReportTime(%q, %v) = %v, %v; want %v, error %v", tt.in, tt.isTo, got, err, tt.want, tt.wantErr)
		}
	}
}

func newReportServer(t *testing.T, cfg ReportAPIConfig) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for p, h := range NewAPI(APIConfig{Token: cfg.Token, Reports: fakes.NewReportStore()}) {
		mux.Handle(p, h)
	}
	for p, h := range NewReportAPI(cfg) {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, path, token string) (int, map[string]json.RawMessage) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: body is not a JSON object: %v", path, err)
	}
	return resp.StatusCode, body
}

func TestReportAPI(t *testing.T) {
	ctx := context.Background()
	cases := fakes.NewCaseStore()
	for i, st := range []koe.CaseStatus{koe.CaseReceived, koe.CaseClosed, koe.CaseReceived} {
		c := koe.Case{Ref: "C-2026112" + string(rune('0'+i)) + "-AAAA", Key: "k" + string(rune('0'+i)), Type: koe.CaseComplaint,
			User: "line:U1", Status: st, CreatedAt: jst(2026, 11, 20+i, 10, 0, 0)}
		if _, err := cases.CreateCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	voices := fakes.NewVoiceStore()
	for _, v := range reportVoices() {
		if _, err := voices.AddVoice(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	now := func() time.Time { return jst(2026, 12, 15, 0, 0, 0) }
	srv := newReportServer(t, ReportAPIConfig{Token: "s3cret", Cases: cases, Voices: voices, PoliciesInForce: 120000, Now: now})
	off := newReportServer(t, ReportAPIConfig{Cases: cases, Voices: voices})
	noStore := newReportServer(t, ReportAPIConfig{Token: "s3cret"})

	tests := []struct {
		name     string
		srv      *httptest.Server
		path     string
		token    string
		want     int
		wantKey  string // a key of the JSON answer
		wantN    int    // length of the list under wantKey (-1: not a list)
		errorHas string
	}{
		{"disabled", off, "/api/v1/cases", "s3cret", 404, "error", -1, "KOE_ADMIN_TOKEN"},
		{"no token", srv, "/api/v1/cases", "", 401, "error", -1, "bearer"},
		{"wrong token", srv, "/api/v1/voices", "guess", 401, "error", -1, "bearer"},
		{"wrong token on report", srv, "/api/v1/reports/voices", "s3cret2", 401, "error", -1, "bearer"},
		{"all cases", srv, "/api/v1/cases", "s3cret", 200, "cases", 3, ""},
		{"received cases", srv, "/api/v1/cases?status=received&type=complaint", "s3cret", 200, "cases", 2, ""},
		{"no inquiries", srv, "/api/v1/cases?type=inquiry", "s3cret", 200, "cases", 0, ""},
		{"limit", srv, "/api/v1/cases?limit=1", "s3cret", 200, "cases", 1, ""},
		{"bad status", srv, "/api/v1/cases?status=lost", "s3cret", 400, "error", -1, "status"},
		{"bad type", srv, "/api/v1/cases?type=x", "s3cret", 400, "error", -1, "type"},
		{"bad limit", srv, "/api/v1/cases?limit=-3", "s3cret", 400, "error", -1, "limit"},
		{"voices in Q4 by date", srv, "/api/v1/voices?from=2026-10-01&to=2026-12-31", "s3cret", 200, "voices", 10, ""},
		{"voices by RFC 3339", srv, "/api/v1/voices?from=2026-09-30T15:00:00Z&to=2026-10-05T10:00:01%2B09:00", "s3cret", 200, "voices", 2, ""},
		{"complaints only", srv, "/api/v1/voices?kind=complaint", "s3cret", 200, "voices", 8, ""},
		{"bad from", srv, "/api/v1/voices?from=2026-13-01", "s3cret", 400, "error", -1, "from"},
		{"bad to", srv, "/api/v1/voices?to=soon", "s3cret", 400, "error", -1, "to"},
		{"reversed", srv, "/api/v1/voices?from=2026-12-01&to=2026-11-01", "s3cret", 400, "error", -1, "before"},
		{"bad kind", srv, "/api/v1/voices?kind=rant", "s3cret", 400, "error", -1, "kind"},
		{"report", srv, "/api/v1/reports/voices?from=2026-07-01&to=2026-12-31", "s3cret", 200, "quarters", 2, ""},
		{"report default period", srv, "/api/v1/reports/voices", "s3cret", 200, "quarters", 4, ""},
		{"report bad policies", srv, "/api/v1/reports/voices?policies=many", "s3cret", 400, "error", -1, "policies"},
		{"report too long", srv, "/api/v1/reports/voices?from=1900-01-01&to=2026-01-01", "s3cret", 400, "error", -1, "quarters"},
		{"report reversed", srv, "/api/v1/reports/voices?from=2026-12-01&to=2026-11-01", "s3cret", 400, "error", -1, "before"},
		{"unknown route still 404", srv, "/api/v1/nothing", "s3cret", 404, "error", -1, "no such route"},
		{"no voice store", noStore, "/api/v1/reports/voices", "s3cret", 501, "error", -1, "voices"},
		{"no case store", noStore, "/api/v1/cases", "s3cret", 501, "error", -1, "cases"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(t, tt.srv, tt.path, tt.token)
			if code != tt.want {
				t.Fatalf("GET %s = %d %s, want %d", tt.path, code, body["error"], tt.want)
			}
			raw, ok := body[tt.wantKey]
			if !ok {
				t.Fatalf("answer lacks %q: %v", tt.wantKey, body)
			}
			if tt.errorHas != "" && !strings.Contains(string(raw), tt.errorHas) {
				t.Errorf("error %s lacks %q", raw, tt.errorHas)
			}
			if tt.wantN >= 0 {
				var list []json.RawMessage
				if err := json.Unmarshal(raw, &list); err != nil || len(list) != tt.wantN {
					t.Errorf("%s has %d entries (%v), want %d", tt.wantKey, len(list), err, tt.wantN)
				}
			}
		})
	}

	t.Run("report body", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/reports/voices?from=2026-07-01&to=2026-12-31&policies=60000", nil)
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var rep Report
		if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
			t.Fatal(err)
		}
		if rep.Total.Count != 13 || rep.Total.ComplaintRate == nil || rep.Total.ComplaintRate.Per10000 != 1 || rep.PoliciesInForce != 60000 {
			t.Errorf("report total %d, rate %+v, policies %d; want 13, 1.00 per 10,000 of 60000", rep.Total.Count, rep.Total.ComplaintRate, rep.PoliciesInForce)
		}
		if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
			t.Errorf("Content-Type = %q", got)
		}
	})
}
