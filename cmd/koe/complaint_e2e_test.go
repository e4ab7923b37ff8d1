package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/staff"
	"github.com/koehq/koe/internal/fakeline"
	"github.com/koehq/koe/internal/fakeslack"
)

// slackEnv adds a Slack app talking to sl, with one channel per alert kind.
func slackEnv(env map[string]string, sl *fakeslack.Server) {
	env["SLACK_SIGNING_SECRET"] = slackSecret
	env["SLACK_BOT_TOKEN"] = fakeslack.BotToken
	env["SLACK_API_URL"] = sl.URL()
	env["SLACK_CHANNEL_ACCIDENTS"] = "CACCIDENTS"
	env["SLACK_CHANNEL_COMPLAINTS"] = "CCOMPLAINTS"
	env["SLACK_CHANNEL_INQUIRIES"] = "CINQUIRIES"
	env["SLACK_CHANNEL_ESCALATIONS"] = "CESCALATIONS"
	env["SLACK_CHANNEL_PRAISE"] = "CPRAISE"
	env["KOE_ADMIN_TOKEN"] = "admin-token"
}

// slackPost sends a signed Slack request (form body) to path and wants 200.
func slackPost(t *testing.T, base, path string, body []byte) {
	t.Helper()
	req := fakeslack.SignedRequest(slackSecret, base+path, body, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: status %d", path, resp.StatusCode)
	}
}

func getCase(t *testing.T, a *app, ref string) koe.Case {
	t.Helper()
	c, err := a.store.GetCase(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var caseRefRE = regexp.MustCompile(`C-\d{8}-[0-9A-Z]{4}`)

// TestComplaintEndToEnd: a complaint on LINE is answered with an apology
// and a case reference; one Slack alert appears with the customer's phone
// number masked; 受付確認, 担当する, 回答済み and 完了 (with the close modal's
// root cause and action) move the case and redraw the alert; the customer
// is told the case is closed. On SQLite and on Redis.
func TestComplaintEndToEnd(t *testing.T) {
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
			logs := &syncBuffer{}
			a, err := startApp(context.Background(), cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				a.Shutdown(ctx)
				// Personal data planted in the complaint never reaches the logs.
				out := logs.String()
				if !strings.Contains(out, `"msg"`) {
					t.Error("no logs captured")
				}
				for _, pd := range []string{"Ucomplaint", "090-1234-5678", "09012345678", "1234-5678", "山田花子", "保険金の支払いが遅すぎます", "1234567890"} {
					if strings.Contains(out, pd) {
						t.Errorf("logs contain personal data %q", pd)
						for _, l := range strings.Split(out, "\n") {
							if strings.Contains(l, pd) {
								t.Log(l)
								break
							}
						}
					}
				}
			})
			base := "http://" + a.Addr().String()
			u := &lineUser{t: t, base: base, fake: line, id: "Ucomplaint"}

			m := u.say("保険金の支払いが遅すぎます。何度電話してもつながらず、本当に不満です。山田花子です。証券番号1234567890、折り返しは090-1234-5678へお願いします。")
			reply := strings.Join(m.Texts, "\n")
			ref := caseRefRE.FindString(reply)
			if ref == "" || !strings.Contains(reply, "申し訳") {
				t.Fatalf("complaint answer lacks an apology and a case reference: %q", reply)
			}
			posts := sl.WaitPosts(t, 1, 15*time.Second)
			alert := posts[0]
			shown := alert.Text + unescapeJSON(alert.Blocks)
			if alert.Channel != "CCOMPLAINTS" || !strings.Contains(shown, ref) || strings.Contains(shown, "1234-5678") ||
				!strings.Contains(shown, "090-****-5678") || strings.Contains(shown, "1234567890") || !strings.Contains(shown, "12****7890") {
				t.Fatalf("alert in %s = %s", alert.Channel, shown)
			}
			if c := getCase(t, a, ref); c.Status != koe.CaseReceived || c.Type != koe.CaseComplaint || c.DueAt.IsZero() {
				t.Fatalf("stored case = %+v", c)
			}

			press := func(action string) {
				t.Helper()
				slackPost(t, base, "/webhooks/slack/interactions", fakeslack.BlockActionPayload(fakeslack.BlockAction{
					UserID: "USTAFF2", UserName: "suzuki", ChannelID: alert.Channel, MessageTS: alert.TS,
					ActionID: action, Value: ref,
				}))
			}
			press(staff.ActionCaseAck)
			if c := getCase(t, a, ref); c.Status != koe.CaseAcknowledged || c.History[len(c.History)-1].By != "suzuki" {
				t.Fatalf("after 受付確認: %s by %+v", c.Status, c.History)
			}
			press(staff.ActionCaseAssign)
			press(staff.ActionCaseResponded)
			press(staff.ActionCaseClose) // opens the close modal
			waitUntil(t, "the close modal", func() bool { return len(sl.Modals()) == 1 })
			modal := sl.Modals()[0]
			slackPost(t, base, "/webhooks/slack/interactions", fakeslack.ViewSubmissionPayload(fakeslack.ViewSubmission{
				UserID: "USTAFF2", UserName: "suzuki", CallbackID: modal.CallbackID, PrivateMetadata: modal.PrivateMetadata,
				Texts: map[string]string{staff.BlockRootCause: "支払手続きの確認漏れ", staff.BlockAction: "電話で経緯を説明し、本日支払い手続きを完了"},
			}))
			c := getCase(t, a, ref)
			if c.Status != koe.CaseClosed || c.RootCause != "支払手続きの確認漏れ" || c.Action == "" {
				t.Fatalf("after 完了: %+v", c)
			}
			var statuses []string
			for _, h := range c.History {
				statuses = append(statuses, string(h.To))
			}
			if got, want := strings.Join(statuses, " "), "acknowledged assigned responded closed"; got != want {
				t.Errorf("transitions %q, want %q", got, want)
			}

			// The customer is told, and the alert shows the closed case.
			msgs := line.WaitMessages(t, u.seen+1, 15*time.Second)
			told := msgs[len(msgs)-1]
			if told.Via != "push" || !strings.Contains(strings.Join(told.Texts, "\n"), "対応を完了いたしました") || !strings.Contains(strings.Join(told.Texts, "\n"), ref) {
				t.Fatalf("closing message = %+v", told)
			}
			waitUntil(t, "the alert redrawn as closed", func() bool {
				cur, ok := sl.Current(alert.Channel, alert.TS)
				return ok && strings.Contains(unescapeJSON(cur.Blocks), "支払手続きの確認漏れ")
			})
			if n := len(sl.Posts()); n != 1 {
				t.Errorf("%d top-level or thread posts, want exactly the one alert", n)
			}

			// /koe with the reference shows the case privately, masked.
			slashBody := fakeslack.SlashCommand("/koe", ref, "USTAFF2", "CCOMPLAINTS")
			sreq := fakeslack.SignedRequest(slackSecret, base+"/webhooks/slack/commands", slashBody, time.Now())
			sresp, err := http.DefaultClient.Do(sreq)
			if err != nil {
				t.Fatal(err)
			}
			slash, _ := io.ReadAll(sresp.Body)
			sresp.Body.Close()
			if got := unescapeJSON(slash); sresp.StatusCode != 200 || !strings.Contains(got, ref) || !strings.Contains(got, "ephemeral") || strings.Contains(got, "1234-5678") {
				t.Errorf("/koe %s = %d %s", ref, sresp.StatusCode, got)
			}

			// The register shows it.
			req, _ := http.NewRequest("GET", base+"/api/v1/cases?status=closed&type=complaint", nil)
			req.Header.Set("Authorization", "Bearer admin-token")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var list struct{ Cases []koe.Case }
			json.NewDecoder(resp.Body).Decode(&list)
			resp.Body.Close()
			if len(list.Cases) != 1 || list.Cases[0].Ref != ref {
				t.Errorf("GET /api/v1/cases = %d %+v", resp.StatusCode, list)
			}
		})
	}
}

// unescapeJSON undoes the JSON encoder's escaping of <, > and &, so a test
// sees what Slack would show.
// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func unescapeJSON(raw []byte) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(raw))
}
