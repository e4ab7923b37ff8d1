package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/koehq/koe/internal/fakeline"
	"github.com/koehq/koe/internal/fakeslack"
)

// burstComplaints are 16 complaints from 16 customers (all classified as
// complaints by the embedded model).
var burstComplaints = []string{
	"保険金の支払いが遅すぎます。いつまで待たせるんですか。",
	"電話が全然つながりません。対応がひどすぎます。",
	"担当者の説明が毎回違っていて、とても不信感があります。",
	"解約の手続きをお願いしたのに、まだ保険料が引き落とされています。納得できません。",
	"代理店の説明と契約内容が違います。だまされた気分です。",
	"事故対応の担当者の態度が失礼で不愉快でした。",
	"書類を何度も送り直させられて、本当にうんざりしています。",
	"マイページにログインできず、問い合わせても返事がありません。不満です。",
	"住所変更を依頼したのに反映されておらず、書類が前の住所に届きました。困ります。",
	"修理工場への支払いがまだで、催促されて迷惑しています。",
	"個人情報が書かれた書類が別人に届いたと聞きました。どうなっているんですか。",
	"保険料が急に上がった理由の説明がなく、不親切だと思います。",
	"何度お願いしても折り返しの電話がありません。いい加減にしてください。",
	"給付金の請求から一か月たつのに連絡がないのはおかしいです。",
	"チャットで聞いても同じ回答ばかりで全く役に立ちません。",
	"更新の案内が届かず、保険が切れるところでした。ひどい対応です。",
}

// tryWebhook is postWebhook for a server that may be dead.
func tryWebhook(base string, body []byte) (int, error) {
	req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/line", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Line-Signature", fakeline.Sign(testSecret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestComplaintBurstSurvivesKills sends a burst of complaints to a real
// `koe serve` process and kills it with SIGKILL again and again while it
// stores them and posts their alerts (Slack also answers 500 and 429 for a
// while). A webhook counts as sent once it was answered 200, as for LINE.
// After the last restart every complaint must be stored once and alerted
// exactly once, and every customer must have their case reference.
func TestComplaintBurstSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the koe binary")
	}
	bin := buildKoe(t)
	for _, b := range storeBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			line := fakeline.New(t)
			sl := fakeslack.New(t)
			env := testEnv(t, b.store, line.URL(), testSecret)
			slackEnv(env, sl)
			env["KOE_LEASE_TTL"] = "3s"
			env["KOE_HANDLE_TIMEOUT"] = "2s"
			sl.FailNextOn("chat.postMessage", 4, http.StatusInternalServerError, "")
			sl.FailNextOn("chat.postMessage", 3, http.StatusTooManyRequests, "1")

			var mu sync.Mutex
			cur := startKoeProcess(t, bin, env)
			base := func() string { mu.Lock(); defer mu.Unlock(); return cur.base }

			n := len(burstComplaints)
			var acked, attempts atomic.Int64
			sendersDone := make(chan struct{})
			go func() {
				defer close(sendersDone)
				var wg sync.WaitGroup
				for i, text := range burstComplaints {
					wg.Go(func() {
						time.Sleep(time.Duration(i) * 150 * time.Millisecond)
						body := fakeline.Body(fakeline.TextEvent(fmt.Sprintf("burst-%02d", i), fmt.Sprintf("Uburst%02d", i), text))
						for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
							attempts.Add(1)
							if code, err := tryWebhook(base(), body); err == nil && code == http.StatusOK {
								acked.Add(1)
								return
							}
						}
					})
				}
				wg.Wait()
			}()

			// Kill and restart through the burst and while alerts are posted.
			const kills = 6
			for k := range kills {
				time.Sleep(time.Duration(700+rand.IntN(900)) * time.Millisecond)
				mu.Lock()
				alerted := 0
				for _, p := range sl.Posts() {
					if p.Channel == "CCOMPLAINTS" && p.ThreadTS == "" {
						alerted++
					}
				}
				t.Logf("kill %d: %d of %d complaints acknowledged, %d alerted", k+1, acked.Load(), n, alerted)
				cur.kill(t)
				cur = startKoeProcess(t, bin, env)
				mu.Unlock()
			}
			<-sendersDone
			if got := acked.Load(); got != int64(n) {
				t.Fatalf("%d of %d complaints acknowledged by the webhook", got, n)
			}

			alertKeys := func() (keys map[string]int, posts int) {
				keys = map[string]int{}
				for _, p := range sl.Posts() {
					if p.Channel != "CCOMPLAINTS" || p.ThreadTS != "" {
						continue
					}
					posts++
					var md struct {
						EventPayload struct{ Key string } `json:"event_payload"`
					}
					json.Unmarshal(p.Metadata, &md)
					keys[md.EventPayload.Key]++
				}
				return keys, posts
			}
			deadline := time.Now().Add(120 * time.Second)
			for {
				if keys, _ := alertKeys(); len(keys) >= n {
					break
				}
				if time.Now().After(deadline) {
					keys, posts := alertKeys()
					t.Fatalf("after %v: %d distinct alerts (%d posts) of %d complaints", 120*time.Second, len(keys), posts, n)
				}
				time.Sleep(100 * time.Millisecond)
			}
			// Settled: the inbox is empty and only the SLA jobs every alerted
			// case schedules (a reminder and an escalation, hours ahead) wait.
			settled := fmt.Sprintf("\nkoe_queue_depth %d\n", 2*n)
			waitUntil(t, "the inbox and the follow-up queue to settle", func() bool {
				_, metrics := getBody(t, base()+"/metrics")
				return strings.Contains(metrics, settled) && strings.Contains(metrics, "\nkoe_inbox_depth 0\n")
			})

			keys, posts := alertKeys()
			req, _ := http.NewRequest("GET", base()+"/api/v1/cases?type=complaint&limit=1000", nil)
			req.Header.Set("Authorization", "Bearer admin-token")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var list struct{ Cases []struct{ Ref string } }
			json.NewDecoder(resp.Body).Decode(&list)
			resp.Body.Close()
			stored := map[string]bool{}
			for _, c := range list.Cases {
				stored[c.Ref] = true
			}
			answered := map[string]bool{}
			for _, m := range line.Messages() {
				if caseRefRE.MatchString(strings.Join(m.Texts, "\n")) {
					answered[m.User] = true
				}
			}
			t.Logf("complaints sent %d (webhook attempts %d, %d kills), cases stored %d, alerts posted %d (distinct %d), duplicates %d, customers answered %d, Slack 5xx/429 injected 4/3",
				n, attempts.Load(), kills, len(stored), posts, len(keys), posts-len(keys), len(answered))
			if len(stored) != n {
				t.Errorf("%d cases stored, want %d", len(stored), n)
			}
			if posts != n || len(keys) != n {
				t.Errorf("%d alerts for %d distinct cases, want exactly %d", posts, len(keys), n)
			}
			for ref := range keys {
				if !stored[ref] {
					t.Errorf("alert for %q, which is not a stored case", ref)
				}
			}
			if len(answered) != n {
				t.Errorf("%d customers got their case reference, want %d", len(answered), n)
			}
			cur.stop(t)
		})
	}
}
