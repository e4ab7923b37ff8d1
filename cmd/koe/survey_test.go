package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot"
	"github.com/koehq/koe/store/sqlite"
)

const surveyUser = "line:U4af4980629bbbbbbbbbbbbbbbbbbbbbbbb"

func runSurveyCmd(t *testing.T, run func(context.Context, []string, env) error, store string, vars map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		if k == "KOE_STORE" {
			return store
		}
		return vars[k]
	}
	err := run(context.Background(), args, env{getenv: getenv, stdin: strings.NewReader(""), stdout: &out, stderr: &errOut})
	return out.String(), errOut.String(), err
}

func openSurveyStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSurveySend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "koe.db")
	store := "sqlite:" + path
	blocked := "line:Ucccccccccccccccccccccccccccccccc"
	func() {
		st := openSurveyStore(t, path)
		defer st.Close()
		if err := st.SetFollowing(context.Background(), koe.UserID(blocked), false, time.Now()); err != nil {
			t.Fatal(err)
		}
	}()

	out, _, err := runSurveyCmd(t, runSurvey, store, nil, "send", "-user", surveyUser, "-touchpoint", "claim", "-ref", "AR-20261120-7F3K", "-key", "k1")
	if err != nil {
		t.Fatal(err)
	}
	id, _, _ := strings.Cut(out, "\t")
	if !strings.HasPrefix(id, "S-") || !strings.Contains(out, "claim\tsent\texpires ") {
		t.Fatalf("out = %q", out)
	}
	st := openSurveyStore(t, path)
	sv, err := st.GetSurvey(context.Background(), id)
	if err != nil {
		t.Fatalf("survey %s not stored: %v", id, err)
	}
	if sv.User != surveyUser || sv.Ref != "AR-20261120-7F3K" || sv.Key != "k1" || sv.ExpiresAt.Sub(sv.SentAt) != 7*24*time.Hour {
		t.Errorf("survey = %+v", sv)
	}
	ds, err := st.Claim(context.Background(), "test", 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Message.Kind != koe.KindStaff || ds[0].Message.Staff == nil ||
		ds[0].Message.Staff.Action != bot.SurveyAction || ds[0].Message.Staff.CaseRef != id {
		t.Errorf("inbox = %+v, want the survey's staff message", ds)
	}
	st.Close()

	tests := []struct {
		name    string
		vars    map[string]string
		args    []string
		wantErr string // in err (or errUsage with this on stderr)
		usage   bool
	}{
		{"same key is idempotent", nil, []string{"-user", surveyUser, "-touchpoint", "claim", "-key", "k1"}, "", false},
		{"fatigue", nil, []string{"-user", surveyUser, "-touchpoint", "renewal"}, "not sent (fatigue)", false},
		{"unfollowed", nil, []string{"-user", blocked, "-touchpoint", "claim"}, "not sent (unfollowed)", false},
		{"no user", nil, []string{"-touchpoint", "claim"}, "user is required", true},
		{"console user", nil, []string{"-user", "console:alice", "-touchpoint", "claim"}, "LINE user", true},
		{"bad touchpoint", nil, []string{"-user", surveyUser, "-touchpoint", "sales"}, "touchpoint", true},
		{"bad setting", map[string]string{EnvSurveyFatigue: "soon"}, []string{"-user", surveyUser, "-touchpoint", "claim"}, EnvSurveyFatigue, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := runSurveyCmd(t, runSurvey, store, tt.vars, append([]string{"send"}, tt.args...)...)
			switch {
			case tt.wantErr == "":
				if err != nil || !strings.HasPrefix(out, id+"\t") {
					t.Errorf("err = %v, out = %q; want %s again", err, out, id)
				}
			case tt.usage:
				if !errors.Is(err, errUsage) || !strings.Contains(errOut, tt.wantErr) {
					t.Errorf("err = %v, stderr = %q; want usage mentioning %q", err, errOut, tt.wantErr)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want it to mention %q", err, tt.wantErr)
				}
			}
		})
	}
	t.Run("no action", func(t *testing.T) {
		if _, _, err := runSurveyCmd(t, runSurvey, store, nil); !errors.Is(err, errUsage) {
			t.Errorf("err = %v, want usage", err)
		}
		if _, errOut, err := runSurveyCmd(t, runSurvey, store, nil, "ask"); !errors.Is(err, errUsage) || !strings.Contains(errOut, "want send") {
			t.Errorf("err = %v (%s), want usage", err, errOut)
		}
	})
	st = openSurveyStore(t, path)
	defer st.Close()
	all, err := st.Surveys(context.Background(), koe.SurveyFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Errorf("%d surveys stored, want 1", len(all))
	}
}

func TestLoadSurveySettings(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want SurveySettings
		bad  string
	}{
		{"defaults", nil, SurveySettings{30 * 24 * time.Hour, 7 * 24 * time.Hour, 72 * time.Hour}, ""},
		{"days and hours", map[string]string{EnvSurveyFatigue: "60d", EnvSurveyExpiry: "36h", EnvSurveyDelay: "0"},
			SurveySettings{60 * 24 * time.Hour, 36 * time.Hour, 0}, ""},
		{"zero fatigue", map[string]string{EnvSurveyFatigue: "0d"}, SurveySettings{}, EnvSurveyFatigue},
		{"negative expiry", map[string]string{EnvSurveyExpiry: "-1h"}, SurveySettings{}, EnvSurveyExpiry},
		{"garbage delay", map[string]string{EnvSurveyDelay: "3 days"}, SurveySettings{}, EnvSurveyDelay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadSurveySettings(func(k string) string { return tt.vars[k] })
			if tt.bad != "" {
				var ce *ConfigError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.bad) {
					t.Errorf("err = %v, want a ConfigError about %s", err, tt.bad)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// npsStore makes a SQLite store with hand-counted claim and renewal
// surveys in 2026-10 and 2026-11 (Asia/Tokyo) and returns its KOE_STORE.
func npsStore(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "koe.db")
	st := openSurveyStore(t, path)
	defer st.Close()
	tokyo := bot.ReportZone()
	add := func(id string, tp koe.Touchpoint, at time.Time, score int) {
		t.Helper()
		ctx := context.Background()
		sv, err := st.CreateSurvey(ctx, koe.Survey{
			ID: id, Key: id, User: koe.UserID("line:U" + id), Touchpoint: tp, Lang: koe.Japanese,
			Status: koe.SurveySent, SentAt: at, ExpiresAt: at.Add(7 * 24 * time.Hour),
		}, at.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if score < 0 {
			return
		}
		sv.Score, sv.Status, sv.AnsweredAt = &score, koe.SurveyAnswered, at.Add(time.Minute)
		if _, err := st.UpdateSurvey(ctx, sv); err != nil {
			t.Fatal(err)
		}
	}
	oct := func(d int) time.Time { return time.Date(2026, 10, d, 10, 0, 0, 0, tokyo) }
	nov := func(d int) time.Time { return time.Date(2026, 11, d, 10, 0, 0, 0, tokyo) }
	// Claim, October: 10, 9, 8, 3, unanswered → 2 P, 1 N, 1 D of 4 (5 sent).
	add("c1", koe.TouchpointClaim, oct(1), 10)
	add("c2", koe.TouchpointClaim, oct(2), 9)
	add("c3", koe.TouchpointClaim, oct(3), 8)
	add("c4", koe.TouchpointClaim, oct(4), 3)
	add("c5", koe.TouchpointClaim, oct(5), -1)
	// Claim, November: 6 → 1 D of 1.
	add("c6", koe.TouchpointClaim, nov(1), 6)
	// Renewal, November: sent, unanswered.
	add("r1", koe.TouchpointRenewal, nov(2), -1)
	// Outside the period.
	add("c7", koe.TouchpointClaim, time.Date(2026, 12, 1, 0, 0, 0, 0, tokyo), 10)
	return "sqlite:" + path
}

func TestReportNPS(t *testing.T) {
	store := npsStore(t)
	period := []string{"-from", "2026-10-01", "-to", "2026-11-30"}

	t.Run("table", func(t *testing.T) {
		out, _, err := runSurveyCmd(t, runReportNPS, store, nil, period...)
		if err != nil {
			t.Fatal(err)
		}
		out = squashSpaces(out)
		for _, want := range []string{
			"期間 2026-10-01 〜 2026-11-30（Asia/Tokyo",
			"■ 事故対応NPS", "■ 継続NPS", "■ 全体",
			// Claim October: 2/4 = 50.0%, 1/4 = 25.0%; rate 4/5 = 80.0%.
			"2026-10 5 4 80.0% 2 (50.0%) 1 (25.0%) 1 (25.0%) 50.0% − 25.0% = 25.0",
			"2026-11 1 1 100.0% 0 (0.0%) 0 (0.0%) 1 (100.0%) 0.0% − 100.0% = −100.0",
			// Claim total: 2 P, 1 N, 2 D of 5 (6 sent): 40.0% − 40.0% = 0.0; rate 83.3%.
			"合計 6 5 83.3% 2 (40.0%) 1 (20.0%) 2 (40.0%) 40.0% − 40.0% = 0.0",
			// Renewal: nothing answered → —.
			"2026-11 1 0 0.0% 0 (0.0%) 0 (0.0%) 0 (0.0%) —",
			// All: 7 sent, 5 answered: 71.4%.
			"合計 7 5 71.4% 2 (40.0%) 1 (20.0%) 2 (40.0%) 40.0% − 40.0% = 0.0",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("csv", func(t *testing.T) {
		out, _, err := runSurveyCmd(t, runReportNPS, store, nil, append(period, "-format", "csv", "-touchpoint", "claim")...)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{
			{"claim", "2026-10", "2026-10-01", "2026-10-31", "5", "4", "80.0", "2", "50.0", "1", "25.0", "1", "25.0", "25.0"},
			{"claim", "2026-11", "2026-11-01", "2026-11-30", "1", "1", "100.0", "0", "0.0", "0", "0.0", "1", "100.0", "-100.0"},
			{"claim", "total", "2026-10-01", "2026-11-30", "6", "5", "83.3", "2", "40.0", "1", "20.0", "2", "40.0", "0.0"},
		}
		if len(recs) != len(want)+1 {
			t.Fatalf("%d records, want %d:\n%s", len(recs), len(want)+1, out)
		}
		for i, w := range want {
			if strings.Join(recs[i+1], ",") != strings.Join(w, ",") {
				t.Errorf("line %d = %v, want %v", i+1, recs[i+1], w)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		out, _, err := runSurveyCmd(t, runReportNPS, store, nil, append(period, "-format", "json", "-touchpoint", "renewal")...)
		if err != nil {
			t.Fatal(err)
		}
		var rep bot.NPSReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Touchpoints) != 1 || rep.All.Total.Sent != 1 || rep.All.Total.NPS != nil || rep.All.Total.Formula != bot.NoNPS {
			t.Errorf("report = %+v", rep.All.Total)
		}
	})
	t.Run("empty period", func(t *testing.T) {
		out, _, err := runSurveyCmd(t, runReportNPS, store, nil, "-from", "2025-01-01", "-to", "2025-01-31", "-touchpoint", "claim")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(squashSpaces(out), "\n合計 0 0 0.0% 0 (0.0%) 0 (0.0%) 0 (0.0%) —\n") {
			t.Errorf("table:\n%s", out)
		}
	})
	for name, args := range map[string][]string{
		"bad format":     {"-format", "xml"},
		"bad touchpoint": {"-touchpoint", "sales"},
		"extra argument": {"x"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := runSurveyCmd(t, runReportNPS, store, nil, args...); !errors.Is(err, errUsage) {
				t.Errorf("err = %v, want usage", err)
			}
		})
	}
	t.Run("reversed", func(t *testing.T) {
		if _, _, err := runSurveyCmd(t, runReportNPS, store, nil, "-from", "2026-11-01", "-to", "2026-10-01"); err == nil {
			t.Error("no error for from after to")
		}
	})
}

// squashSpaces collapses the runs of spaces that align table columns.
func squashSpaces(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}
