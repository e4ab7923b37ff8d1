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

// reportStore makes a SQLite store with voices in 2026Q3 and 2026Q4
// (Asia/Tokyo) and returns its KOE_STORE value.
func reportStore(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "koe.db")
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tokyo := bot.ReportZone()
	at := func(m time.Month, d, h int) time.Time { return time.Date(2026, m, d, h, 0, 0, 0, tokyo) }
	voices := []koe.Voice{
		{Kind: koe.VoiceComplaint, Topic: koe.TopicClaims, At: at(7, 1, 0)},
		{Kind: koe.VoiceComplaint, Topic: koe.TopicClaims, At: at(8, 1, 10)},
		{Kind: koe.VoiceComplaint, Topic: koe.TopicPolicyAdmin, At: at(9, 30, 23)},
		{Kind: koe.VoicePraise, Topic: koe.TopicOther, At: at(9, 1, 9)},
		{Kind: koe.VoiceComplaint, Topic: koe.TopicClaims, At: at(10, 1, 0)},
		{Kind: koe.VoiceInquiry, Topic: koe.TopicClaims, At: at(11, 1, 10)},
		{Kind: koe.VoiceComplaint, Topic: koe.TopicClaims, At: at(12, 31, 23)}, // 2026-12-31 23:00 is in
		{Kind: koe.VoiceComplaint, Topic: koe.TopicClaims, At: time.Date(2027, 1, 1, 0, 0, 0, 0, tokyo)},
	}
	for i, v := range voices {
		v.ID = "v" + string(rune('a'+i))
		v.User = "line:U1"
		v.Source = "free_text"
		v.Text = "テスト"
		if _, err := st.AddVoice(context.Background(), v); err != nil {
			t.Fatal(err)
		}
	}
	return "sqlite:" + path
}

func runReportCmd(t *testing.T, store string, vars map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		if k == "KOE_STORE" {
			return store
		}
		return vars[k]
	}
	err := runReport(context.Background(), args, env{getenv: getenv, stdin: strings.NewReader(""), stdout: &out, stderr: &errOut})
	return out.String(), errOut.String(), err
}

func TestReportVoices(t *testing.T) {
	store := reportStore(t)
	period := []string{"voices", "-from", "2026-07-01", "-to", "2026-12-31"}

	t.Run("table", func(t *testing.T) {
		out, _, err := runReportCmd(t, store, map[string]string{EnvPoliciesInForce: "40000"}, period...)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"期間 2026-07-01 〜 2026-12-31",
			"■ 苦情件数（項目別・四半期別）",
			"2026Q3", "2026Q4", "合計",
			"保険金", "2 (66.7%)", "2 (100.0%)", "4 (80.0%)",
			"契約の管理・保全・集金", "1 (33.3%)",
			"発生率（1万件あたり）", "0.75", "0.50", "1.25",
			"保有契約件数 40,000件",
			"■ お客さまの声の件数（種類別・項目別、期間合計）",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("csv", func(t *testing.T) {
		out, _, err := runReportCmd(t, store, nil, append(period, "-format", "csv", "-policies", "10000")...)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		// header + 3 tables × (5 kinds × (5 topics + 1) + 1)
		if want := 1 + 3*(5*6+1); len(rows) != want {
			t.Errorf("%d csv rows, want %d", len(rows), want)
		}
		found := false
		for _, r := range rows {
			if r[0] == "合計" && r[3] == "苦情" && r[4] == "合計" {
				found = true
				if r[5] != "5" || r[7] != "71.4" || r[8] != "5.00" {
					t.Errorf("total complaints row = %v, want 5, 71.4%%, 5.00", r)
				}
			}
		}
		if !found {
			t.Error("no 合計/苦情/合計 row")
		}
	})
	t.Run("json", func(t *testing.T) {
		out, _, err := runReportCmd(t, store, nil, append(period, "-format", "json")...)
		if err != nil {
			t.Fatal(err)
		}
		var rep bot.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Total.Count != 7 || len(rep.Quarters) != 2 || rep.Total.ComplaintRate != nil {
			t.Errorf("json: total %d, %d quarters, rate %v; want 7, 2, none", rep.Total.Count, len(rep.Quarters), rep.Total.ComplaintRate)
		}
	})
	t.Run("empty period", func(t *testing.T) {
		out, _, err := runReportCmd(t, store, nil, "voices", "-from", "2025-01-01", "-to", "2025-03-31")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "2025Q1") || !strings.Contains(out, "0 (0.0%)") {
			t.Errorf("empty period table:\n%s", out)
		}
	})
}

func TestReportVoicesErrors(t *testing.T) {
	store := "sqlite:" + filepath.Join(t.TempDir(), "koe.db")
	tests := []struct {
		name    string
		vars    map[string]string
		args    []string
		want    error  // errors.Is
		wantMsg string // in the error or stderr
	}{
		{"no report", nil, nil, errUsage, "report voices"},
		{"unknown report", nil, []string{"frobnicate"}, errUsage, "unknown report"},
		{"bad format", nil, []string{"voices", "-format", "xml"}, errUsage, "-format"},
		{"bad from", nil, []string{"voices", "-from", "2026-13-01"}, nil, "-from"},
		{"reversed", nil, []string{"voices", "-from", "2026-12-01", "-to", "2026-11-01"}, nil, "before"},
		{"extra argument", nil, []string{"voices", "extra"}, errUsage, "unexpected argument"},
		{"bad policies variable", map[string]string{EnvPoliciesInForce: "lots"}, []string{"voices"}, nil, EnvPoliciesInForce},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := runReportCmd(t, store, tt.vars, tt.args...)
			if err == nil {
				t.Fatal("succeeded, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error()+stderr, tt.wantMsg) {
				t.Errorf("error %q / stderr %q lacks %q", err, stderr, tt.wantMsg)
			}
		})
	}
}
