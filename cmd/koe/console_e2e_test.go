package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/console"
)

// TestWebConsoleEndToEnd talks to `koe serve` with no channel configured,
// through the browser console's HTTP API exactly as the page does: the
// page is served, messages go through the inbox and the dialogs, replies
// come back by long poll, a tapped quick reply is answered, and a
// re-sent message (same id) is not answered twice.
func TestWebConsoleEndToEnd(t *testing.T) {
	for _, b := range storeBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			env := testEnv(t, b.store, "", "")
			for _, k := range []string{"LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "LINE_API_BASE_URL", "LINE_DATA_API_BASE_URL"} {
				delete(env, k) // no channel but the console
			}
			cfg, err := loadConfig(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			a := startTestApp(t, cfg)
			base := "http://" + a.Addr().String()

			resp, err := http.Get(base + "/") // redirected to the page
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Request.URL.Path != "/console" || !strings.Contains(string(page), "Koe コンソール") {
				t.Fatalf("GET /: %d at %s", resp.StatusCode, resp.Request.URL.Path)
			}

			c := &consoleClient{t: t, base: base, session: "e2e-" + b.name + "-session"}
			c.post("m-00000001", map[string]any{"text": "お問い合わせ"})
			first := c.next()
			if !strings.Contains(first.Replies[0].Text, "お問い合わせ内容を") {
				t.Fatalf("first answer = %+v", first)
			}
			c.post("m-00000002", map[string]any{"text": "保険金はいつ振り込まれますか？"})
			c.post("m-00000002", map[string]any{"text": "保険金はいつ振り込まれますか？"}) // the page retrying
			answer := c.next()
			if !strings.Contains(answer.Replies[0].Text, "30日以内") {
				t.Fatalf("FAQ answer = %+v", answer)
			}
			last := answer.Replies[len(answer.Replies)-1]
			var yes *koe.Action
			for i, q := range last.QuickReplies {
				if q.Label == "はい" {
					yes = &last.QuickReplies[i]
				}
			}
			if yes == nil {
				t.Fatalf("no はい among %+v", last.QuickReplies)
			}
			c.post("m-00000003", tap(*yes))
			// A second answer to the re-sent question would come first here.
			if done := c.next(); !strings.Contains(done.Replies[0].Text, "解決してよかったです") {
				t.Fatalf("after はい: %+v", done)
			}
		})
	}
}

// tap is what the page posts for a quick reply.
func tap(a koe.Action) map[string]any {
	switch a.Kind {
	case koe.ActionPostback:
		return map[string]any{"postback": map[string]any{"data": a.Data}}
	default:
		text := a.Text
		if text == "" {
			text = a.Label
		}
		return map[string]any{"text": text}
	}
}

type consoleClient struct {
	t       *testing.T
	base    string
	session string
	after   int64
}

func (c *consoleClient) post(id string, payload map[string]any) {
	c.t.Helper()
	payload["session"], payload["id"] = c.session, id
	body, _ := json.Marshal(payload)
	resp, err := http.Post(c.base+"/console/api/messages", "application/json", bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(resp.Body)
		c.t.Fatalf("post %s: %d %s", id, resp.StatusCode, b)
	}
}

// poll is one long poll: the batches after seq (none when it times out).
func (c *consoleClient) poll(seq int64) []console.Batch {
	c.t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/console/api/replies?session=%s&after=%d", c.base, c.session, seq))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Batches []console.Batch }
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&body) != nil {
		c.t.Fatalf("poll: %d", resp.StatusCode)
	}
	return body.Batches
}

// next waits for the next batch of replies.
func (c *consoleClient) next() console.Batch {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if bs := c.poll(c.after); len(bs) > 0 {
			c.after = bs[0].Seq
			return bs[0]
		}
	}
	c.t.Fatal("no reply within 30s")
	return console.Batch{}
}
