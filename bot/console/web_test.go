package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/internal/fakes"
)

type webFixture struct {
	web     *Web
	mux     *http.ServeMux
	inbox   *fakes.Appender
	notices int
	mu      sync.Mutex
}

func newWebFixture(t *testing.T, access Access) *webFixture {
	t.Helper()
	f := &webFixture{inbox: &fakes.Appender{}}
	web, err := NewWeb(WebConfig{
		Inbox: f.inbox, Access: access, PollWait: 100 * time.Millisecond,
		Notify: func() { f.mu.Lock(); f.notices++; f.mu.Unlock() },
		Now:    func() time.Time { return time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.web, f.mux = web, http.NewServeMux()
	for p, h := range web.Routes() {
		f.mux.Handle(p, h)
	}
	return f
}

// do sends a request from the loopback interface unless remote is given.
func (f *webFixture) do(method, target, body string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.RemoteAddr, r.Host = "127.0.0.1:50000", "localhost:8080"
	if method == http.MethodPost {
		r.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		switch k {
		case "RemoteAddr":
			r.RemoteAddr = v
			continue
		case "Host":
			r.Host = v
			continue
		}
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, r)
	return w
}

func (f *webFixture) notified() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.notices
}

const session = "sess-12345678"

func TestWebPostsMessagesToTheInbox(t *testing.T) {
	f := newWebFixture(t, AccessLocal)
	post := func(body string) *httptest.ResponseRecorder {
		t.Helper()
		return f.do("POST", "/console/api/messages", body, nil)
	}
	if w := post(`{"session":"` + session + `","id":"msg-00000001","text":"  事故の連絡  "}`); w.Code != http.StatusAccepted {
		t.Fatalf("text: %d %s", w.Code, w.Body)
	}
	if w := post(`{"session":"` + session + `","id":"msg-00000001","text":"事故の連絡"}`); w.Code != http.StatusAccepted || !strings.Contains(w.Body.String(), `"duplicate":true`) {
		t.Fatalf("retried post: %d %s, want 202 duplicate", w.Code, w.Body)
	}
	post(`{"session":"` + session + `","id":"msg-00000002","postback":{"data":"acc:when","params":{"datetime":"2026-11-22T09:30"}}}`)
	post(`{"session":"` + session + `","id":"msg-00000003","location":{"latitude":35.6812,"longitude":139.7671}}`)

	got := f.inbox.Messages()
	if len(got) != 3 {
		t.Fatalf("inbox has %d messages, want 3: %+v", len(got), got)
	}
	user := koe.UserID("console:web-" + session)
	want := []koe.Message{
		{ID: messageID(session, "msg-00000001"), User: user, Kind: koe.KindText, Text: "事故の連絡"},
		{ID: messageID(session, "msg-00000002"), User: user, Kind: koe.KindPostback, Postback: &koe.Postback{Data: "acc:when", Params: map[string]string{"datetime": "2026-11-22T09:30"}}},
		{ID: messageID(session, "msg-00000003"), User: user, Kind: koe.KindLocation, Location: &koe.Location{Latitude: 35.6812, Longitude: 139.7671}},
	}
	for i, w := range want {
		w.SentAt = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
		gj, _ := json.Marshal(got[i])
		wj, _ := json.Marshal(w)
		if string(gj) != string(wj) {
			t.Errorf("message %d = %s, want %s", i, gj, wj)
		}
	}
	if n := f.notified(); n != 3 {
		t.Errorf("dispatcher notified %d times, want 3 (not for the duplicate)", n)
	}
}

func TestWebRejectsBadInputAndStoresNothing(t *testing.T) {
	long := strings.Repeat("あ", MaxTextRunes+1)
	tests := []struct {
		name, body string
		header     map[string]string
		status     int
		want       string
	}{
		{"not JSON content", `text=hi`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "Content-Type"},
		{"not JSON", `{`, nil, 400, "not a message"},
		{"unknown field", `{"session":"` + session + `","id":"msg-00000001","text":"a","user":"line:U1"}`, nil, 400, "unknown field"},
		{"bad session", `{"session":"../x","id":"msg-00000001","text":"a"}`, nil, 400, "session"},
		{"bad id", `{"session":"` + session + `","id":"1","text":"a"}`, nil, 400, "id:"},
		{"empty text", `{"session":"` + session + `","id":"msg-00000001","text":"   "}`, nil, 400, "text: empty"},
		{"long text", `{"session":"` + session + `","id":"msg-00000001","text":"` + long + `"}`, nil, 400, "longer than"},
		{"nothing", `{"session":"` + session + `","id":"msg-00000001"}`, nil, 400, "exactly one"},
		{"two kinds", `{"session":"` + session + `","id":"msg-00000001","text":"a","postback":{"data":"x"}}`, nil, 400, "exactly one"},
		{"empty postback", `{"session":"` + session + `","id":"msg-00000001","postback":{"data":""}}`, nil, 400, "postback.data"},
		{"bad picker", `{"session":"` + session + `","id":"msg-00000001","postback":{"data":"x","params":{"evil":"1"}}}`, nil, 400, "not a picker value"},
		{"bad location", `{"session":"` + session + `","id":"msg-00000001","location":{"latitude":91,"longitude":0}}`, nil, 400, "latitude"},
		{"too large", `{"session":"` + session + `","id":"msg-00000001","text":"` + strings.Repeat("a", maxBodyBytes) + `"}`, nil, 413, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newWebFixture(t, AccessLocal)
			w := f.do("POST", "/console/api/messages", tt.body, tt.header)
			var e struct{ Error string }
			json.Unmarshal(w.Body.Bytes(), &e)
			if w.Code != tt.status || !strings.Contains(e.Error, tt.want) {
				t.Errorf("%d %q, want %d with an error containing %q", w.Code, e.Error, tt.status, tt.want)
			}
			if n := len(f.inbox.Messages()); n != 0 || f.notified() != 0 {
				t.Errorf("%d messages stored, %d notices; want none", n, f.notified())
			}
		})
	}
	t.Run("store down", func(t *testing.T) {
		f := newWebFixture(t, AccessLocal)
		f.inbox.Err = errors.New("disk full")
		w := f.do("POST", "/console/api/messages", `{"session":"`+session+`","id":"msg-00000001","text":"a"}`, nil)
		if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "disk full") || f.notified() != 0 {
			t.Errorf("%d %s notices %d; want 503 without the store's error, no notice", w.Code, w.Body, f.notified())
		}
	})
}

func TestWebAccess(t *testing.T) {
	body := `{"session":"` + session + `","id":"msg-00000001","text":"hi"}`
	tests := []struct {
		name   string
		access Access
		header map[string]string
		status int
	}{
		{"local from loopback", AccessLocal, nil, 202},
		{"local from IPv6 loopback", AccessLocal, map[string]string{"RemoteAddr": "[::1]:5000"}, 202},
		{"local from elsewhere", AccessLocal, map[string]string{"RemoteAddr": "192.0.2.7:5000"}, 403},
		{"local through a proxy", AccessLocal, map[string]string{"X-Forwarded-For": "192.0.2.7"}, 403},
		{"open from elsewhere", AccessOpen, map[string]string{"RemoteAddr": "192.0.2.7:5000"}, 202},
		{"cross origin", AccessLocal, map[string]string{"Origin": "https://evil.example"}, 403},
		{"cross site", AccessOpen, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same origin", AccessLocal, map[string]string{"Origin": "http://localhost:8080"}, 202},
		{"loopback address as host", AccessLocal, map[string]string{"Host": "127.0.0.1:8080", "Origin": "http://127.0.0.1:8080"}, 202},
		{"DNS rebinding", AccessLocal, map[string]string{"Host": "evil.example:8080", "Origin": "http://evil.example:8080"}, 403},
		{"proxy keeping the host", AccessLocal, map[string]string{"Host": "koe.example.com"}, 403},
		{"open, any host", AccessOpen, map[string]string{"Host": "koe.example.com", "Origin": "https://koe.example.com"}, 202},
		{"off", AccessOff, nil, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newWebFixture(t, tt.access)
			if w := f.do("POST", "/console/api/messages", body, tt.header); w.Code != tt.status {
				t.Errorf("status %d, want %d (%s)", w.Code, tt.status, w.Body)
			}
			if stored := len(f.inbox.Messages()); (tt.status == 202) != (stored == 1) {
				t.Errorf("%d messages stored with status %d", stored, tt.status)
			}
		})
	}
}

func TestWebPage(t *testing.T) {
	f := newWebFixture(t, AccessLocal)
	w := f.do("GET", "/console", "", nil)
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") ||
		!strings.Contains(w.Body.String(), "Koe コンソール") || !strings.Contains(w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("GET /console: %d %v", w.Code, w.Header())
	}
	if w := f.do("GET", "/console", "", map[string]string{"RemoteAddr": "192.0.2.7:5000"}); w.Code != 403 {
		t.Errorf("GET /console from elsewhere: %d, want 403", w.Code)
	}
}

type repliesBody struct {
	Batches []Batch `json:"batches"`
}

func (f *webFixture) replies(t *testing.T, after string) repliesBody {
	t.Helper()
	b, err := f.poll(after)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// poll is replies for use off the test's goroutine.
func (f *webFixture) poll(after string) (repliesBody, error) {
	w := f.do("GET", "/console/api/replies?session="+session+"&after="+after, "", nil)
	var b repliesBody
	if w.Code != 200 {
		return b, fmt.Errorf("replies: %d %s", w.Code, w.Body)
	}
	err := json.Unmarshal(w.Body.Bytes(), &b)
	return b, err
}

func TestWebDeliversRepliesByLongPoll(t *testing.T) {
	f := newWebFixture(t, AccessLocal)
	ctx := context.Background()
	user := koe.UserID("console:web-" + session)

	if b := f.replies(t, "0"); len(b.Batches) != 0 {
		t.Fatalf("no replies yet, got %+v", b)
	}
	f.web.Send(ctx, koe.Outbound{To: user, Replies: []koe.Reply{{Text: "ご連絡ありがとうございます。"}}})
	f.web.Send(ctx, koe.Outbound{To: "console:alice", Replies: []koe.Reply{{Text: "not for a browser"}}})
	b := f.replies(t, "0")
	if len(b.Batches) != 1 || b.Batches[0].Seq != 1 || b.Batches[0].Replies[0].Text != "ご連絡ありがとうございます。" {
		t.Fatalf("after 0: %+v", b)
	}

	// A waiting poll is answered when the next batch arrives.
	type result struct {
		b   repliesBody
		err error
	}
	got := make(chan result, 1)
	f.web.cfg.PollWait = 5 * time.Second
	go func() {
		b, err := f.poll("1")
		got <- result{b, err}
	}()
	time.Sleep(20 * time.Millisecond)
	f.web.Send(ctx, koe.Outbound{To: user, Replies: []koe.Reply{{Text: "2"}}})
	select {
	case r := <-got:
		if r.err != nil || len(r.b.Batches) != 1 || r.b.Batches[0].Seq != 2 {
			t.Errorf("woken poll: %+v, %v", r.b, r.err)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("the poll was not woken by the reply")
	}

	// A page that counted an earlier process's batches starts again.
	if b := f.replies(t, "99"); len(b.Batches) != 2 {
		t.Errorf("after 99 (stale): %d batches, want both", len(b.Batches))
	}
	if w := f.do("GET", "/console/api/replies?session=x&after=0", "", nil); w.Code != 400 {
		t.Errorf("bad session: %d", w.Code)
	}
	if w := f.do("GET", "/console/api/replies?session="+session+"&after=-1", "", nil); w.Code != 400 {
		t.Errorf("bad after: %d", w.Code)
	}
}

func TestWebMessageIDsHoldNoSession(t *testing.T) {
	a, b := messageID(session, "msg-00000001"), messageID(session, "msg-00000002")
	if strings.Contains(a, session) || a == b || a != messageID(session, "msg-00000001") || messageID("other-session", "msg-00000001") == a {
		t.Errorf("messageID: %q, %q; want stable digests without the session, distinct per session and id", a, b)
	}
}

// TestWebPollsCreateNoSessions: only messages and replies make a session's
// mailbox, so polling with made-up sessions cannot push others' replies
// out; a poll for a session without a mailbox is answered when its first
// reply arrives.
func TestWebPollsCreateNoSessions(t *testing.T) {
	f := newWebFixture(t, AccessLocal)
	ctx := context.Background()
	victim := koe.UserID("console:web-" + session)
	f.web.Send(ctx, koe.Outbound{To: victim, Replies: []koe.Reply{{Text: "for the victim"}}})
	f.web.cfg.PollWait = time.Millisecond
	for i := range MaxSessions + 10 {
		if w := f.do("GET", fmt.Sprintf("/console/api/replies?session=probe-%08d&after=0", i), "", nil); w.Code != 200 {
			t.Fatalf("probe: %d", w.Code)
		}
	}
	if b := f.replies(t, "0"); len(b.Batches) != 1 {
		t.Fatalf("victim's replies after %d probing polls: %+v", MaxSessions+10, b)
	}

	fresh := "fresh-1234567"
	f.web.cfg.PollWait = 5 * time.Second
	done := make(chan int, 1)
	go func() {
		w := f.do("GET", "/console/api/replies?session="+fresh+"&after=0", "", nil)
		done <- strings.Count(w.Body.String(), `"seq"`)
	}()
	time.Sleep(20 * time.Millisecond)
	f.web.Send(ctx, koe.Outbound{To: sessionUser(fresh), Replies: []koe.Reply{{Text: "first"}}})
	select {
	case n := <-done:
		if n != 1 {
			t.Errorf("first poll of a new session got %d batches, want 1", n)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("a poll waiting before its session existed was not woken by the first reply")
	}
}

func TestWebKeepsTheLastBatches(t *testing.T) {
	f := newWebFixture(t, AccessLocal)
	user := koe.UserID("console:web-" + session)
	for range MaxBatches + 5 {
		f.web.Send(context.Background(), koe.Outbound{To: user, Replies: []koe.Reply{{Text: "x"}}})
	}
	b := f.replies(t, "0")
	if len(b.Batches) != MaxBatches || b.Batches[0].Seq != 6 {
		t.Errorf("%d batches from seq %d, want %d from 6", len(b.Batches), b.Batches[0].Seq, MaxBatches)
	}
}

// png is a 1×1 PNG.
var png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

func TestWebImages(t *testing.T) {
	dir := t.TempDir()
	f := &webFixture{inbox: &fakes.Appender{}}
	web, err := NewWeb(WebConfig{Inbox: f.inbox, DataDir: dir, Notify: func() { f.mu.Lock(); f.notices++; f.mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	f.web, f.mux = web, http.NewServeMux()
	for p, h := range web.Routes() {
		f.mux.Handle(p, h)
	}
	upload := func(query string, body []byte, header map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/console/api/images?"+query, bytes.NewReader(body))
		r.RemoteAddr, r.Host = "127.0.0.1:50000", "localhost:8080"
		r.Header.Set("Content-Type", "image/png")
		for k, v := range header {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		f.mux.ServeHTTP(w, r)
		return w
	}
	q := "session=" + session + "&id=img-00000001"
	if w := upload(q, png, nil); w.Code != http.StatusAccepted {
		t.Fatalf("upload: %d %s", w.Code, w.Body)
	}
	if w := upload(q, png, nil); w.Code != http.StatusAccepted || !strings.Contains(w.Body.String(), `"duplicate":true`) {
		t.Fatalf("retried upload: %d %s", w.Code, w.Body)
	}
	msgs := f.inbox.Messages()
	if len(msgs) != 1 || msgs[0].Kind != koe.KindImage || msgs[0].Image == nil || msgs[0].User != koe.UserID("console:web-"+session) {
		t.Fatalf("inbox = %+v, want one image message", msgs)
	}
	want := filepath.Join(dir, "console", sessionDir(session), "img-00000001.png")
	if msgs[0].Image.Path != want {
		t.Errorf("image path %q, want %q", msgs[0].Image.Path, want)
	}
	if got, err := os.ReadFile(want); err != nil || !bytes.Equal(got, png) {
		t.Errorf("kept picture: %v (%d bytes)", err, len(got))
	}

	bad := []struct {
		name, query string
		body        []byte
		header      map[string]string
		status      int
	}{
		{"not a picture", "session=" + session + "&id=img-00000002", []byte("%PDF-1.4 not an image"), nil, 415},
		{"empty", "session=" + session + "&id=img-00000003", nil, nil, 415},
		{"too large", "session=" + session + "&id=img-00000004", append(append([]byte{}, png...), make([]byte, MaxImageBytes)...), nil, 413},
		{"bad session", "session=../../etc&id=img-00000005", png, nil, 400},
		{"bad id", "session=" + session + "&id=../x", png, nil, 400},
		{"cross origin", "session=" + session + "&id=img-00000006", png, map[string]string{"Origin": "https://evil.example"}, 403},
	}
	for _, tt := range bad {
		if w := upload(tt.query, tt.body, tt.header); w.Code != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, w.Code, w.Body, tt.status)
		}
	}
	if n := len(f.inbox.Messages()); n != 1 {
		t.Errorf("%d messages after refused uploads, want 1", n)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "console", sessionDir(session)))
	if len(entries) != 1 {
		t.Errorf("files kept: %d, want 1 (refused uploads leave nothing)", len(entries))
	}

	// Without a data dir there is no upload route.
	g := newWebFixture(t, AccessLocal)
	r := httptest.NewRequest("POST", "/console/api/images?"+q, bytes.NewReader(png))
	r.RemoteAddr, r.Host = "127.0.0.1:50000", "localhost:8080"
	w := httptest.NewRecorder()
	g.mux.ServeHTTP(w, r)
	if w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed {
		t.Errorf("upload without DataDir: %d, want 404", w.Code)
	}
}
