package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/koehq/koe/internal/fakeline"
	"github.com/koehq/koe/internal/fakeslack"
)

// adminPost sends JSON to the admin API and returns the status and body.
func adminPost(t *testing.T, url string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer admin-token")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestSurveyEndToEnd: POST /api/v1/surveys pushes the NPS question to a
// fake LINE; the customer taps 3 and writes why; one Slack alert opens for
// the detractor; the NPS report shows the answer; a second survey within
// 30 days is refused with 409. On SQLite and on Redis.
func TestSurveyEndToEnd(t *testing.T) {
	for _, b := range storeBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			line := fakeline.New(t)
			sl := fakeslack.New(t)
			env := testEnv(t, b.store, line.URL(), testSecret)
			slackEnv(env, sl)
			cfg, err := loadConfig(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			a := startTestApp(t, cfg)
			base := "http://" + a.Addr().String()
			u := &lineUser{t: t, base: base, fake: line, id: "Usurvey"}

			code, out := adminPost(t, base+"/api/v1/surveys", map[string]string{"user": "line:Usurvey", "touchpoint": "claim", "ref": "AR-20261120-7F3K"})
			id, _ := out["id"].(string)
			if code != http.StatusCreated || !strings.HasPrefix(id, "S-") {
				t.Fatalf("POST /api/v1/surveys = %d %v", code, out)
			}
			msgs := line.WaitMessages(t, 1, 15*time.Second)
			question := msgs[0]
			u.seen = 1
			if question.Via != "push" || question.RetryKey == "" || len(question.QuickReplies) != 11 || !strings.Contains(strings.Join(question.Texts, ""), "0〜10") {
				t.Fatalf("survey question = %+v", question)
			}
			m := u.tap(question, "3")
			if !strings.Contains(strings.Join(m.Texts, ""), "ご不満") {
				t.Errorf("detractor follow-up = %q", m.Texts)
			}
			u.say("連絡が遅く、何度も電話しないといけませんでした。")

			posts := sl.WaitPosts(t, 1, 15*time.Second)
			if posts[0].Channel != "CCOMPLAINTS" || !strings.Contains(unescapeJSON(posts[0].Blocks), "NPS回答") || !strings.Contains(unescapeJSON(posts[0].Blocks), "3点") {
				t.Errorf("detractor alert = %s in %s", posts[0].Blocks, posts[0].Channel)
			}

			code, out = adminPost(t, base+"/api/v1/surveys", map[string]string{"user": "line:Usurvey", "touchpoint": "renewal"})
			if code != http.StatusConflict || out["reason"] != "fatigue" {
				t.Errorf("second survey within 30 days = %d %v, want 409 fatigue", code, out)
			}

			req, _ := http.NewRequest("GET", base+"/api/v1/reports/nps?touchpoint=claim", nil)
			req.Header.Set("Authorization", "Bearer admin-token")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var report bytes.Buffer
			report.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(report.String(), `"detractors":1`) || !strings.Contains(report.String(), `"responses":1`) {
				t.Errorf("NPS report = %d %s", resp.StatusCode, report.String())
			}
			if n := len(sl.Posts()); n != 1 {
				t.Errorf("%d Slack alerts, want one for the detractor", n)
			}
		})
	}
}
