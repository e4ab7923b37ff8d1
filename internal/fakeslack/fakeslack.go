// Package fakeslack is a fake Slack Web API for tests: an httptest server on
// 127.0.0.1 implementing chat.postMessage, chat.update,
// conversations.history, conversations.replies (paged, see RepliesPageSize),
// files.getUploadURLExternal (with its upload URL),
// files.completeUploadExternal and views.open, recording every accepted
// call; plus helpers that build signed inbound requests (interactions,
// events, slash commands) the way Slack sends them.
//
// The fake behaves like Slack where Koe depends on it: it checks the bot
// token (form field "token" or "Authorization: Bearer"), answers API
// errors as HTTP 200 {"ok":false,"error":code}, gives each message a ts
// with microseconds that is unique and increasing, refuses chat.update of
// unknown messages (message_not_found), a trigger id used twice
// (exchanged_trigger_id) and blocks that break Block Kit's length limits
// (invalid_blocks). Faults can be injected with FailNext (HTTP status, a
// 429 answered Slack-style with Retry-After and {"ok":false,
// "error":"ratelimited"}), ErrorNext (an API error code) and HangNext. A
// Server is safe for concurrent use.
package fakeslack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// BotToken is the bot token the fake accepts.
const BotToken = "xoxb-fakeslack-bot-token"

// The workspace and bot identity the fake stands for.
const (
	TeamID    = "T0FAKE"
	BotUserID = "U0BOT"
	BotID     = "B0BOT"
)

// Message is an accepted chat.postMessage or chat.update.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string
	Text     string
	// Blocks is the blocks JSON array as sent ("" → nil).
	Blocks json.RawMessage
	// Metadata is the message metadata JSON as sent ("" → nil).
	Metadata json.RawMessage
	// At is when the fake accepted the call.
	At time.Time
}

// Upload is a file announced with files.getUploadURLExternal.
type Upload struct {
	FileID   string
	Filename string
	// Length is the size announced; Data what was uploaded.
	Length   int
	Data     []byte
	Uploaded bool
	// Completed, Channel, ThreadTS and Title are set by
	// files.completeUploadExternal.
	Completed bool
	Channel   string
	ThreadTS  string
	Title     string
}

// Modal is an accepted views.open.
type Modal struct {
	TriggerID       string
	CallbackID      string
	Title           string
	PrivateMetadata string
	// View is the view JSON as sent.
	View json.RawMessage
}

type fault struct {
	method     string // "" for any
	status     int
	retryAfter string
	code       string // API error code answered with 200
}

// Server is the fake. Create it with New.
type Server struct {
	lost       int // calls left whose answer is lost (LoseNextAnswers)
	lostMethod string
	srv        *httptest.Server
	closed     chan struct{}
	once       sync.Once

	mu        sync.Mutex
	posts     []Message
	updates   []Message
	current   map[string]Message // channel + "/" + ts → latest content
	uploads   []*Upload
	modals    []Modal
	triggers  map[string]bool
	faults    []fault
	hangs     int
	requests  map[string]int
	postTimes map[string][]time.Time
	lastTS    int64 // microseconds
	fileSeq   int
	pageSize  int // RepliesPageSize; 0: as many as asked for
}

// New starts a fake on 127.0.0.1 and stops it when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		closed:    make(chan struct{}),
		current:   map[string]Message{},
		triggers:  map[string]bool{},
		requests:  map[string]int{},
		postTimes: map[string][]time.Time{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/chat.postMessage", s.handle("chat.postMessage", s.postMessage))
	mux.HandleFunc("POST /api/chat.update", s.handle("chat.update", s.update))
	mux.HandleFunc("POST /api/files.getUploadURLExternal", s.handle("files.getUploadURLExternal", s.getUploadURL))
	mux.HandleFunc("POST /api/files.completeUploadExternal", s.handle("files.completeUploadExternal", s.completeUpload))
	mux.HandleFunc("POST /api/views.open", s.handle("views.open", s.viewsOpen))
	mux.HandleFunc("POST /api/conversations.history", s.handle("conversations.history", s.history))
	mux.HandleFunc("POST /api/conversations.replies", s.handle("conversations.replies", s.replies))
	mux.HandleFunc("POST /upload/{id}", s.handle("upload", s.upload))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "unknown_method"})
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// URL is the Web API base URL, with the trailing slash slack-go needs.
func (s *Server) URL() string { return s.srv.URL + "/api/" }

// Client returns an HTTP client for the fake.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close stops the server, releasing hung requests first. It is safe to call
// more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closed)
		s.srv.Close()
	})
}

// FailNext makes the next n requests fail with HTTP status, adding a
// Retry-After header (seconds) when retryAfter is not empty. A 429 is
// answered like Slack: {"ok":false,"error":"ratelimited"}. Faults queue
// behind earlier ones and apply to any method, the upload URL included.
func (s *Server) FailNext(n int, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: status, retryAfter: retryAfter})
	}
}

// FailNextOn is FailNext for requests to method only ("chat.postMessage",
// "upload", …); other requests pass.
func (s *Server) FailNextOn(method string, n int, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{method: method, status: status, retryAfter: retryAfter})
	}
}

// ErrorNext makes the next n requests answer HTTP 200
// {"ok":false,"error":code}, e.g. "channel_not_found" or "internal_error".
func (s *Server) ErrorNext(n int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: http.StatusOK, code: code})
	}
}

// HangNext makes the next n requests block until the client gives up (or
// the server is closed) without answering.
func (s *Server) HangNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hangs += n
}

// Posts returns a snapshot of the accepted chat.postMessage calls, in order.
func (s *Server) Posts() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.posts)
}

// Updates returns a snapshot of the accepted chat.update calls, in order.
func (s *Server) Updates() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.updates)
}

// Current returns the latest content of the message ts in channel (the
// post with its updates applied).
func (s *Server) Current(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.current[channel+"/"+ts]
	return m, ok
}

// Uploads returns a snapshot of the files announced, in order.
func (s *Server) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Upload, len(s.uploads))
	for i, u := range s.uploads {
		out[i] = *u
		out[i].Data = bytes.Clone(u.Data)
	}
	return out
}

// Modals returns a snapshot of the accepted views.open calls, in order.
func (s *Server) Modals() []Modal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.modals)
}

// Requests returns how many requests method ("chat.postMessage", "upload",
// …) has received, failed and refused ones included.
func (s *Server) Requests(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[method]
}

// PostTimes returns when each chat.postMessage request for channel arrived,
// failed and refused ones included, so tests can check pacing.
func (s *Server) PostTimes(channel string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.postTimes[channel])
}

// WaitPosts polls until at least n posts were accepted and returns them; it
// fails the test when timeout passes first.
func (s *Server) WaitPosts(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := s.Posts()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("fakeslack: %d posts after %v, want %d", len(got), timeout, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// request is a parsed API call: form values or a JSON object.
type request struct {
	r    *http.Request
	form url.Values
	json map[string]json.RawMessage
	raw  []byte
}

// get returns a parameter as a string (JSON strings unquoted, other JSON
// values as written).
func (q *request) get(key string) string {
	if q.json != nil {
		v, ok := q.json[key]
		if !ok {
			return ""
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		return string(v)
	}
	return q.form.Get(key)
}

func (q *request) token() string {
	if t, ok := strings.CutPrefix(q.r.Header.Get("Authorization"), "Bearer "); ok {
		return t
	}
	if q.form != nil {
		return q.form.Get("token")
	}
	return ""
}

func (s *Server) handle(method string, h func(w http.ResponseWriter, q *request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		q := &request{r: r, raw: raw}
		if method != "upload" {
			ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if ct == "application/json" {
				if err := json.Unmarshal(raw, &q.json); err != nil {
					writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_json"})
					return
				}
			} else {
				q.form, _ = url.ParseQuery(string(raw))
			}
		}

		s.mu.Lock()
		s.requests[method]++
		if method == "chat.postMessage" {
			ch := q.get("channel")
			s.postTimes[ch] = append(s.postTimes[ch], time.Now())
		}
		hang := s.hangs > 0
		if hang {
			s.hangs--
		}
		lose := !hang && s.lost > 0 && (s.lostMethod == "" || s.lostMethod == method)
		if lose {
			s.lost--
		}
		var f *fault
		if !hang {
			for i := range s.faults {
				if s.faults[i].method == "" || s.faults[i].method == method {
					ff := s.faults[i]
					f = &ff
					s.faults = slices.Delete(s.faults, i, i+1)
					break
				}
			}
		}
		s.mu.Unlock()

		if hang {
			select {
			case <-r.Context().Done():
			case <-s.closed:
			}
			return
		}
		if f != nil {
			if f.retryAfter != "" {
				w.Header().Set("Retry-After", f.retryAfter)
			}
			code := f.code
			switch {
			case code != "":
			case f.status == http.StatusTooManyRequests:
				code = "ratelimited"
			default:
				code = "fault_injected"
			}
			writeJSON(w, f.status, map[string]any{"ok": false, "error": code})
			return
		}
		switch tok := q.token(); {
		case tok == "":
			apiError(w, "not_authed")
			return
		case tok != BotToken:
			apiError(w, "invalid_auth")
			return
		}
		if lose { // do the work, then fail as if the answer were lost
			h(httptest.NewRecorder(), q)
			writeJSON(w, http.StatusInternalServerError, map[string]any{"ok": false, "error": "fault_injected"})
			return
		}
		h(w, q)
	}
}

// LoseNextAnswers makes the next n calls of method ("" for any) do their
// work and then answer 500, as when Slack posted a message but the answer
// never arrived: the case a plain retry turns into a duplicate.
func (s *Server) LoseNextAnswers(method string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lost, s.lostMethod = n, method
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code})
}

func ok(w http.ResponseWriter, v map[string]any) {
	if v == nil {
		v = map[string]any{}
	}
	v["ok"] = true
	writeJSON(w, http.StatusOK, v)
}

// nextTS returns a ts with microseconds, unique and increasing. Called with
// s.mu held.
func (s *Server) nextTS() string {
	us := time.Now().UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

func (s *Server) postMessage(w http.ResponseWriter, q *request) {
	m, code := readMessage(q)
	if code != "" {
		apiError(w, code)
		return
	}
	s.mu.Lock()
	m.TS = s.nextTS()
	m.At = time.Now()
	s.posts = append(s.posts, m)
	s.current[m.Channel+"/"+m.TS] = m
	s.mu.Unlock()
	ok(w, map[string]any{"channel": m.Channel, "ts": m.TS, "message": map[string]any{"type": "message", "text": m.Text, "ts": m.TS, "bot_id": BotID}})
}

// history answers conversations.history: the channel's top-level messages
// at or after oldest, newest first, with metadata when asked for (no
// paging: everything in one page).
func (s *Server) history(w http.ResponseWriter, q *request) {
	channel := q.get("channel")
	oldest, _ := strconv.ParseFloat(q.get("oldest"), 64)
	withMeta := q.get("include_all_metadata") == "1" || q.get("include_all_metadata") == "true"
	s.mu.Lock()
	var out []map[string]any
	for i := len(s.posts) - 1; i >= 0; i-- {
		m := s.current[s.posts[i].Channel+"/"+s.posts[i].TS]
		if m.Channel != channel || m.ThreadTS != "" {
			continue
		}
		if ts, _ := strconv.ParseFloat(m.TS, 64); ts < oldest {
			continue
		}
		msg := map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "bot_id": BotID}
		if withMeta && m.Metadata != nil {
			msg["metadata"] = m.Metadata
		}
		out = append(out, msg)
	}
	s.mu.Unlock()
	ok(w, map[string]any{"messages": out, "has_more": false})
}

// RepliesPageSize makes conversations.replies answer at most n messages a
// page, whatever limit asks for (Slack may return fewer than limit), so
// tests can make a client page through a short thread. n <= 0 restores
// the default.
func (s *Server) RepliesPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = max(n, 0)
}

// replies answers conversations.replies like Slack: the thread of ts in
// channel, its parent first, then the replies oldest first, with metadata
// when include_all_metadata is set, paged by limit (default 1000) and an
// opaque cursor. A thread with neither parent nor replies is
// thread_not_found; oldest, latest and inclusive are not supported.
func (s *Server) replies(w http.ResponseWriter, q *request) {
	channel, thread := q.get("channel"), q.get("ts")
	withMeta := q.get("include_all_metadata") == "1" || q.get("include_all_metadata") == "true"
	limit, err := strconv.Atoi(q.get("limit"))
	if err != nil || limit <= 0 || limit > 1000 {
		limit = 1000
	}
	start := 0
	if c := q.get("cursor"); c != "" {
		n, ok := strings.CutPrefix(c, "fake:")
		start, err = strconv.Atoi(n)
		if !ok || err != nil || start < 0 {
			apiError(w, "invalid_cursor")
			return
		}
	}
	s.mu.Lock()
	if s.pageSize > 0 {
		limit = min(limit, s.pageSize)
	}
	var parent map[string]any
	var out []map[string]any
	for _, p := range s.posts {
		m := s.current[p.Channel+"/"+p.TS]
		if m.Channel != channel || (m.TS != thread && m.ThreadTS != thread) {
			continue
		}
		msg := map[string]any{"type": "message", "ts": m.TS, "thread_ts": thread, "text": m.Text, "bot_id": BotID}
		if withMeta && m.Metadata != nil {
			msg["metadata"] = m.Metadata
		}
		if m.TS == thread {
			parent = msg
			continue
		}
		out = append(out, msg)
	}
	s.mu.Unlock()
	if parent == nil && len(out) == 0 {
		apiError(w, "thread_not_found")
		return
	}
	if parent != nil {
		parent["reply_count"] = len(out)
		out = append([]map[string]any{parent}, out...)
	}
	if start > len(out) {
		apiError(w, "invalid_cursor")
		return
	}
	end := min(start+limit, len(out))
	resp := map[string]any{"messages": out[start:end], "has_more": end < len(out)}
	if end < len(out) {
		resp["response_metadata"] = map[string]any{"next_cursor": "fake:" + strconv.Itoa(end)}
	}
	ok(w, resp)
}

func (s *Server) update(w http.ResponseWriter, q *request) {
	m, code := readMessage(q)
	if code != "" {
		apiError(w, code)
		return
	}
	m.TS = q.get("ts")
	s.mu.Lock()
	defer s.mu.Unlock()
	old, found := s.current[m.Channel+"/"+m.TS]
	if m.TS == "" || !found {
		apiError(w, "message_not_found")
		return
	}
	m.ThreadTS = old.ThreadTS
	if m.Metadata == nil { // like Slack: an update without metadata keeps it
		m.Metadata = old.Metadata
	}
	m.At = time.Now()
	s.updates = append(s.updates, m)
	s.current[m.Channel+"/"+m.TS] = m
	ok(w, map[string]any{"channel": m.Channel, "ts": m.TS, "text": m.Text})
}

// readMessage reads and checks the fields chat.postMessage and chat.update
// share; code is Slack's error code when the call must be refused.
func readMessage(q *request) (Message, string) {
	m := Message{Channel: q.get("channel"), ThreadTS: q.get("thread_ts"), Text: q.get("text")}
	if b := q.get("blocks"); b != "" {
		m.Blocks = json.RawMessage(b)
	}
	if md := q.get("metadata"); md != "" {
		m.Metadata = json.RawMessage(md)
	}
	if m.Channel == "" {
		return m, "channel_not_found"
	}
	if utf8.RuneCountInString(m.Text) > 40000 {
		return m, "msg_too_long"
	}
	nblocks, err := checkBlocks(m.Blocks, 50)
	if err != nil {
		return m, "invalid_blocks"
	}
	if m.Text == "" && nblocks == 0 {
		return m, "no_text"
	}
	return m, ""
}

type textObj struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type element struct {
	Type     string   `json:"type"`
	ActionID string   `json:"action_id"`
	Text     *textObj `json:"text"`
	Value    string   `json:"value"`
}

type block struct {
	Type     string            `json:"type"`
	BlockID  string            `json:"block_id"`
	Text     *textObj          `json:"text"`
	Fields   []textObj         `json:"fields"`
	Elements []json.RawMessage `json:"elements"`
	Label    *textObj          `json:"label"`
	Element  json.RawMessage   `json:"element"`
}

// checkBlocks applies Block Kit's structural and length limits that Koe's
// renderer promises to respect; it returns the number of blocks.
func checkBlocks(raw json.RawMessage, maxBlocks int) (int, error) {
	if len(raw) == 0 {
		return 0, nil
	}
	var blocks []block
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return 0, err
	}
	if len(blocks) > maxBlocks {
		return 0, fmt.Errorf("%d blocks", len(blocks))
	}
	textOK := func(t *textObj, limit int) error {
		if t == nil || t.Text == "" || utf8.RuneCountInString(t.Text) > limit {
			return fmt.Errorf("text missing or too long")
		}
		if t.Type != "plain_text" && t.Type != "mrkdwn" {
			return fmt.Errorf("text type %q", t.Type)
		}
		return nil
	}
	for i, b := range blocks {
		if len(b.BlockID) > 255 {
			return 0, fmt.Errorf("block %d: block_id too long", i)
		}
		switch b.Type {
		case "header":
			if err := textOK(b.Text, 150); err != nil || b.Text.Type != "plain_text" {
				return 0, fmt.Errorf("block %d: header", i)
			}
		case "section":
			if b.Text == nil && len(b.Fields) == 0 {
				return 0, fmt.Errorf("block %d: empty section", i)
			}
			if b.Text != nil {
				if err := textOK(b.Text, 3000); err != nil {
					return 0, fmt.Errorf("block %d: %w", i, err)
				}
			}
			if len(b.Fields) > 10 {
				return 0, fmt.Errorf("block %d: %d fields", i, len(b.Fields))
			}
			for _, f := range b.Fields {
				if err := textOK(&f, 2000); err != nil {
					return 0, fmt.Errorf("block %d: field: %w", i, err)
				}
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > 10 {
				return 0, fmt.Errorf("block %d: %d context elements", i, len(b.Elements))
			}
			for _, e := range b.Elements {
				var t textObj
				if err := json.Unmarshal(e, &t); err != nil {
					return 0, err
				}
				if t.Type == "plain_text" || t.Type == "mrkdwn" {
					if err := textOK(&t, 3000); err != nil {
						return 0, fmt.Errorf("block %d: context: %w", i, err)
					}
				}
			}
		case "actions":
			if len(b.Elements) == 0 || len(b.Elements) > 25 {
				return 0, fmt.Errorf("block %d: %d elements", i, len(b.Elements))
			}
			for _, e := range b.Elements {
				var el element
				if err := json.Unmarshal(e, &el); err != nil {
					return 0, err
				}
				if utf8.RuneCountInString(el.ActionID) > 255 || utf8.RuneCountInString(el.Value) > 2000 {
					return 0, fmt.Errorf("block %d: action id or value too long", i)
				}
				if el.Type == "button" {
					if err := textOK(el.Text, 75); err != nil || el.Text.Type != "plain_text" {
						return 0, fmt.Errorf("block %d: button text", i)
					}
				}
			}
		case "input":
			if err := textOK(b.Label, 2000); err != nil || len(b.Element) == 0 {
				return 0, fmt.Errorf("block %d: input", i)
			}
		case "divider", "image", "rich_text", "markdown":
		default:
			return 0, fmt.Errorf("block %d: unknown type %q", i, b.Type)
		}
	}
	return len(blocks), nil
}

func (s *Server) getUploadURL(w http.ResponseWriter, q *request) {
	name := q.get("filename")
	n, err := strconv.Atoi(q.get("length"))
	if name == "" || err != nil || n <= 0 {
		apiError(w, "invalid_arguments")
		return
	}
	s.mu.Lock()
	s.fileSeq++
	id := fmt.Sprintf("F%08d", s.fileSeq)
	s.uploads = append(s.uploads, &Upload{FileID: id, Filename: name, Length: n})
	s.mu.Unlock()
	ok(w, map[string]any{"upload_url": s.srv.URL + "/upload/" + id, "file_id": id})
}

func (s *Server) findUpload(id string) *Upload {
	for _, u := range s.uploads {
		if u.FileID == id {
			return u
		}
	}
	return nil
}

// upload takes the file body: multipart (field "file", as slack-go sends
// it) or raw bytes. Slack answers the upload URL in plain text.
func (s *Server) upload(w http.ResponseWriter, q *request) {
	id := q.r.PathValue("id")
	data := q.raw
	if ct, params, err := mime.ParseMediaType(q.r.Header.Get("Content-Type")); err == nil && strings.HasPrefix(ct, "multipart/") {
		mr := multipart.NewReader(bytes.NewReader(q.raw), params["boundary"])
		data = nil
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if p.FormName() == "file" {
				data, _ = io.ReadAll(p)
			}
		}
		if data == nil {
			http.Error(w, "no file part", http.StatusBadRequest)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.findUpload(id)
	if u == nil {
		http.Error(w, "unknown upload", http.StatusNotFound)
		return
	}
	u.Data = bytes.Clone(data)
	u.Uploaded = true
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "OK - "+strconv.Itoa(len(data)))
}

func (s *Server) completeUpload(w http.ResponseWriter, q *request) {
	var files []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(q.get("files")), &files); err != nil || len(files) == 0 {
		apiError(w, "invalid_arguments")
		return
	}
	channel, thread := q.get("channel_id"), q.get("thread_ts")
	if thread != "" && channel == "" {
		apiError(w, "invalid_arguments")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, f := range files {
		u := s.findUpload(f.ID)
		if u == nil || !u.Uploaded {
			apiError(w, "file_not_found")
			return
		}
	}
	for _, f := range files {
		u := s.findUpload(f.ID)
		u.Completed, u.Channel, u.ThreadTS, u.Title = true, channel, thread, f.Title
		if u.Title == "" {
			u.Title = u.Filename
		}
		out = append(out, map[string]any{"id": u.FileID, "title": u.Title})
	}
	ok(w, map[string]any{"files": out})
}

func (s *Server) viewsOpen(w http.ResponseWriter, q *request) {
	trigger := q.get("trigger_id")
	rawView := []byte(q.get("view"))
	if trigger == "" || len(rawView) == 0 {
		apiError(w, "invalid_arguments")
		return
	}
	var v struct {
		Type            string          `json:"type"`
		Title           *textObj        `json:"title"`
		Submit          *textObj        `json:"submit"`
		Close           *textObj        `json:"close"`
		CallbackID      string          `json:"callback_id"`
		PrivateMetadata string          `json:"private_metadata"`
		Blocks          json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(rawView, &v); err != nil {
		apiError(w, "invalid_arguments")
		return
	}
	short := func(t *textObj) bool {
		return t == nil || (t.Type == "plain_text" && t.Text != "" && utf8.RuneCountInString(t.Text) <= 24)
	}
	n, err := checkBlocks(v.Blocks, 100)
	hasInput := bytes.Contains(v.Blocks, []byte(`"type":"input"`))
	if v.Type != "modal" || v.Title == nil || !short(v.Title) || !short(v.Submit) || !short(v.Close) ||
		len(v.CallbackID) > 255 || utf8.RuneCountInString(v.PrivateMetadata) > 3000 ||
		err != nil || n == 0 || (hasInput && v.Submit == nil) {
		apiError(w, "invalid_arguments")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.triggers[trigger] {
		apiError(w, "exchanged_trigger_id")
		return
	}
	s.triggers[trigger] = true
	s.modals = append(s.modals, Modal{
		TriggerID:       trigger,
		CallbackID:      v.CallbackID,
		Title:           v.Title.Text,
		PrivateMetadata: v.PrivateMetadata,
		View:            json.RawMessage(bytes.Clone(rawView)),
	})
	ok(w, map[string]any{"view": map[string]any{"id": fmt.Sprintf("V%08d", len(s.modals)), "type": "modal", "callback_id": v.CallbackID}})
}
