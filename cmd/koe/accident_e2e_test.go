package main

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/staff"
	"github.com/koehq/koe/internal/fakeline"
	"github.com/koehq/koe/internal/fakeslack"
)

const slackSecret = "test-slack-signing-secret"

// lineUser plays a customer on LINE: it sends signed webhook events and
// taps the quick replies of the bot's last message by their labels.
type lineUser struct {
	t    *testing.T
	base string
	fake *fakeline.Server
	id   string
	n    int // events sent
	seen int // bot messages seen
}

func (u *lineUser) send(ev fakeline.Event) fakeline.Sent {
	u.t.Helper()
	body := fakeline.Body(ev)
	if got := postWebhook(u.t, u.base, body, fakeline.Sign(testSecret, body)); got != 200 {
		u.t.Fatalf("webhook status %d", got)
	}
	msgs := u.fake.WaitMessages(u.t, u.seen+1, 15*time.Second)
	u.seen = len(msgs)
	return msgs[len(msgs)-1]
}

// nextID is a new webhookEventId: opaque, like LINE's, so it never holds
// the user id (ids are logged; user ids must not be).
func (u *lineUser) nextID() string { u.n++; return u.lastID() }

func (u *lineUser) lastID() string {
	h := fnv.New32a()
	h.Write([]byte(u.id))
	return fmt.Sprintf("01EV%08X%04d", h.Sum32(), u.n)
}

func (u *lineUser) say(text string) fakeline.Sent {
	return u.send(fakeline.TextEvent(u.nextID(), u.id, text))
}

func (u *lineUser) location(lat, lng float64) fakeline.Sent {
	return u.send(fakeline.LocationEvent(u.nextID(), u.id, "", "", lat, lng))
}

// tap finds the quick reply labelled label on the bot's last message and
// sends what LINE would send for it.
func (u *lineUser) tap(last fakeline.Sent, label string) fakeline.Sent {
	u.t.Helper()
	var msg struct {
		QuickReply struct {
			Items []struct {
				Action struct{ Type, Label, Data, Text string } `json:"action"`
			} `json:"items"`
		} `json:"quickReply"`
	}
	if err := json.Unmarshal(last.Messages[len(last.Messages)-1], &msg); err != nil {
		u.t.Fatal(err)
	}
	var labels []string
	for _, it := range msg.QuickReply.Items {
		a := it.Action
		labels = append(labels, a.Label)
		if a.Label != label {
			continue
		}
		switch a.Type {
		case "postback":
			return u.send(fakeline.PostbackEvent(u.nextID(), u.id, a.Data, nil))
		case "message":
			return u.say(a.Text)
		}
		u.t.Fatalf("quick reply %q is a %s action", label, a.Type)
	}
	u.t.Fatalf("no quick reply %q in %q", label, labels)
	return fakeline.Sent{}
}

var refRE = regexp.MustCompile(`AR-\d{8}-[0-9A-Z]{4}`)

// TestAccidentReportEndToEnd walks an accident report on LINE from the
// first message to the reference, sees the Slack alert (masked), presses
// 担当する and 完了 as signed Slack interactions and sees the progress notes
// pushed on LINE — with a redelivered webhook and a restart in the middle
// that must not post a second alert. On SQLite and on Redis.
func TestAccidentReportEndToEnd(t *testing.T) {
	for _, b := range storeBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			line := fakeline.New(t)
			sl := fakeslack.New(t)
			env := testEnv(t, b.store, line.URL(), testSecret)
			env["SLACK_SIGNING_SECRET"] = slackSecret
			env["SLACK_BOT_TOKEN"] = fakeslack.BotToken
			env["SLACK_API_URL"] = sl.URL()
			env["SLACK_CHANNEL_ACCIDENTS"] = "CACCIDENTS"
			env["KOE_ADMIN_TOKEN"] = "admin-token"
			env["KOE_SURVEY_DELAY"] = "0s" // the claim survey follows 完了 at once
			cfg, err := loadConfig(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			a := startTestApp(t, cfg)
			u := &lineUser{t: t, base: "http://" + a.Addr().String(), fake: line, id: "Uaccident"}

			steps := 0
			m := u.say("事故の連絡")
			steps++
			m = u.tap(m, "けが人なし・自動車")
			m = u.say("１２３４－５６７－８９０")
			m = u.tap(m, "たった今")
			m = u.location(35.65858, 139.70164)
			m = u.say("交差点で信号待ちをしていたところ、後ろから追突されました。")
			m = u.tap(m, "なし")
			m = u.tap(m, "届け出た")
			m = u.tap(m, "写真はあとで")
			m = u.say("090-1234-5678")
			m = u.tap(m, "いつでも")
			if !strings.Contains(strings.Join(m.Texts, "\n"), "事故のご連絡内容の確認") {
				t.Fatalf("expected the summary card, got %q", m.Texts)
			}
			m = u.tap(m, "送信する")
			steps = u.n
			ref := refRE.FindString(strings.Join(m.Texts, "\n"))
			if ref == "" {
				t.Fatalf("no reference in %q", m.Texts)
			}
			if steps > 12 {
				t.Errorf("happy path took %d customer messages, want at most 12", steps)
			}

			posts := sl.WaitPosts(t, 1, 15*time.Second)
			alert := posts[0]
			text := alert.Text + string(alert.Blocks)
			if alert.Channel != "CACCIDENTS" || !strings.Contains(text, ref) || !strings.Contains(text, "12****7890") ||
				!strings.Contains(text, "090-****-5678") || strings.Contains(text, "1234567890") || strings.Contains(text, "1234-5678") {
				t.Fatalf("alert = %s", text)
			}

			// LINE redelivers the submitting event: nothing new happens.
			redelivered := fakeline.Body(fakeline.PostbackEvent(u.lastID(), u.id, "x", nil).Redelivered())
			if got := postWebhook(t, u.base, redelivered, fakeline.Sign(testSecret, redelivered)); got != 200 {
				t.Fatalf("redelivery: status %d", got)
			}

			// Restart on the same store.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			if err := a.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			cancel()
			a = startTestApp(t, cfg)
			base := "http://" + a.Addr().String()

			press := func(action string) {
				t.Helper()
				body := fakeslack.BlockActionPayload(fakeslack.BlockAction{
					UserID: "USTAFF1", UserName: "sato", ChannelID: alert.Channel, MessageTS: alert.TS,
					ActionID: action, Value: ref,
				})
				req := fakeslack.SignedRequest(slackSecret, base+"/webhooks/slack/interactions", body, time.Now())
				for range 2 { // Slack retries: the second delivery must change nothing
					req2 := req.Clone(context.Background())
					req2.Body = io.NopCloser(strings.NewReader(string(body)))
					resp, err := http.DefaultClient.Do(req2)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if resp.StatusCode != 200 {
						t.Fatalf("interaction %s: status %d", action, resp.StatusCode)
					}
				}
			}
			before := len(line.Messages())
			press(staff.ActionAssign)
			msgs := line.WaitMessages(t, before+1, 15*time.Second)
			if n := msgs[before]; n.Via != "push" || n.User != "Uaccident" || !strings.Contains(n.Texts[0], ref) || !strings.Contains(n.Texts[0], "担当者が決まりました") {
				t.Fatalf("progress note = %+v", n)
			}
			press(staff.ActionDone)
			// The closing note and, KOE_SURVEY_DELAY later, the 事故対応NPS question.
			msgs = line.WaitMessages(t, before+3, 15*time.Second)
			var closing, survey bool
			for _, n := range msgs[before+1:] {
				text := strings.Join(n.Texts, "\n")
				closing = closing || (n.Via == "push" && strings.Contains(text, "完了しました"))
				survey = survey || (n.Via == "push" && strings.Contains(text, "0〜10") && len(n.QuickReplies) == 11)
			}
			if !closing || !survey {
				t.Fatalf("after 完了: closing note %v, survey question with 11 buttons %v: %+v", closing, survey, msgs[before+1:])
			}
			waitUntil(t, "the follow-up queue to drain", func() bool {
				d, _, err := a.store.QueueStats(context.Background())
				return err == nil && d == 0
			})
			if got := len(sl.Posts()); got != 1 {
				t.Errorf("%d Slack alerts, want exactly 1 (redelivery and restart must not alert again)", got)
			}
			if got := len(line.Messages()); got != before+3 {
				t.Errorf("%d LINE messages after the presses, want %d (one note per change and the survey)", got, before+3)
			}
			if ss, err := a.store.Surveys(context.Background(), koe.SurveyFilter{User: "line:Uaccident"}); err != nil || len(ss) != 1 || ss[0].Ref != ref || ss[0].Touchpoint != koe.TouchpointClaim {
				t.Errorf("surveys = %+v, %v; want one claim survey about %s", ss, err, ref)
			}
			cur, ok := sl.Current(alert.Channel, alert.TS)
			if !ok || !strings.Contains(string(cur.Blocks), "完了") || !strings.Contains(string(cur.Blocks), "sato") {
				t.Errorf("alert not redrawn as done by sato: %s", cur.Blocks)
			}

			// The customer asks how it is going.
			u.base = base
			u.seen = len(line.Messages()) // the pushes above were not answers to u
			m = u.say("状況")
			if m.ReplyToken != fakeline.ReplyToken(u.lastID(), u.id) || !strings.Contains(string(m.Raw), ref) {
				t.Errorf("status answer (on token %q) lacks %s: %s", m.ReplyToken, ref, m.Raw)
			}

			// The admin API shows the report, with who did what.
			req, _ := http.NewRequest("GET", base+"/api/v1/accidents/"+ref, nil)
			req.Header.Set("Authorization", "Bearer admin-token")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var rep struct {
				Status  string
				History []struct{ To, By string }
			}
			json.NewDecoder(resp.Body).Decode(&rep)
			resp.Body.Close()
			if resp.StatusCode != 200 || rep.Status != "done" || len(rep.History) != 2 || rep.History[0].By != "USTAFF1" {
				t.Errorf("GET accident = %d %+v", resp.StatusCode, rep)
			}
			if code, _ := getBody(t, base+"/api/v1/accidents/"+ref); code != 401 {
				t.Errorf("without token: %d, want 401", code)
			}
		})
	}
}
