// Package fakeline is a fake LINE Messaging API for tests: an httptest
// server on 127.0.0.1 that records replies, pushes, loading indicators and
// serves message content, plus helpers to build and sign webhook bodies.
//
// The fake behaves like LINE where Koe depends on it: it checks the bearer
// token, accepts each reply token once (a reused or invalidated token is
// answered 400 {"message":"Invalid reply token"}), answers a push whose
// X-Line-Retry-Key was accepted before with 409, and rejects requests that
// break LINE's limits (more than 5 messages, text over 5000 UTF-16 units,
// more than 13 quick-reply items, quick-reply items without "type":"action",
// labels over 20 characters). Faults can be injected with FailNext and
// HangNext. A Server is safe for concurrent use.
package fakeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/uuid"
)

// AccessToken is the channel access token the fake accepts.
const AccessToken = "fakeline-channel-access-token"

// Sent is one accepted reply or push.
type Sent struct {
	// Via is "reply" or "push".
	Via string
	// User is the LINE user id: the push's "to", or for a reply the user
	// encoded in a token made by ReplyToken (empty for other tokens).
	User       string
	ReplyToken string
	// RetryKey is the push's X-Line-Retry-Key.
	RetryKey string
	// Texts holds one entry per message: the text of a text message, the
	// altText of a flex or template message, "" for other types.
	Texts []string
	// QuickReplies are the labels of the last message's quick-reply items.
	QuickReplies []string
	// Messages are the raw JSON message objects; Raw is the whole request
	// body.
	Messages []json.RawMessage
	Raw      json.RawMessage
}

// Loading is one accepted loading-indicator request.
type Loading struct {
	ChatID  string
	Seconds int
}

type fault struct {
	status     int
	retryAfter string
}

type content struct {
	contentType string
	data        []byte
	preparing   int
}

// Server is the fake. Create it with New.
type Server struct {
	srv    *httptest.Server
	closed chan struct{}
	once   sync.Once

	mu        sync.Mutex
	sent      []Sent
	loadings  []Loading
	used      map[string]bool // reply tokens used or invalidated
	retryKeys map[string]bool
	faults    []fault
	hangs     int
	contents  map[string]*content
	requests  map[string]int // op → requests seen, faults included
}

// New starts a fake on 127.0.0.1 and stops it when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		closed:    make(chan struct{}),
		used:      map[string]bool{},
		retryKeys: map[string]bool{},
		contents:  map[string]*content{},
		requests:  map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/bot/message/reply", s.handle("reply", s.reply))
	mux.HandleFunc("POST /v2/bot/message/push", s.handle("push", s.push))
	mux.HandleFunc("POST /v2/bot/chat/loading/start", s.handle("loading", s.loading))
	mux.HandleFunc("GET /v2/bot/message/{id}/content", s.handle("content", s.content))
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// URL is the base URL of the fake (use it for both the API and the data
// API).
func (s *Server) URL() string { return s.srv.URL }

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

// FailNext makes the next n API requests fail with status, adding a
// Retry-After header when retryAfter is not empty. Faults queue up behind
// earlier ones.
func (s *Server) FailNext(n int, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: status, retryAfter: retryAfter})
	}
}

// HangNext makes the next n API requests block until the client gives up
// (or the server is closed) without answering.
func (s *Server) HangNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hangs += n
}

// InvalidateReplyToken makes token be refused as if it had expired.
func (s *Server) InvalidateReplyToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used[token] = true
}

// SetContent serves data as the content of messageID; the first preparing
// requests are answered 202 (content still being prepared).
func (s *Server) SetContent(messageID, contentType string, data []byte, preparing int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contents[messageID] = &content{contentType: contentType, data: bytes.Clone(data), preparing: preparing}
}

// Messages returns a snapshot of the accepted replies and pushes, in order.
func (s *Server) Messages() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// Loadings returns a snapshot of the accepted loading-indicator requests.
func (s *Server) Loadings() []Loading {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.loadings)
}

// Requests returns how many requests op ("reply", "push", "loading",
// "content") has received, failed and refused ones included.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}

// WaitMessages polls until at least n replies and pushes were accepted and
// returns them; it fails the test when timeout passes first.
func (s *Server) WaitMessages(t testing.TB, n int, timeout time.Duration) []Sent {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := s.Messages()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("fakeline: %d messages after %v, want %d", len(got), timeout, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *Server) handle(op string, h func(w http.ResponseWriter, r *http.Request, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[op]++
		hang := s.hangs > 0
		if hang {
			s.hangs--
		}
		var f *fault
		if !hang && len(s.faults) > 0 {
			f = &s.faults[0]
			s.faults = s.faults[1:]
		}
		s.mu.Unlock()

		if hang {
			select {
			case <-r.Context().Done():
			case <-s.closed:
			}
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+AccessToken {
			writeError(w, http.StatusUnauthorized, "Authentication failed. Confirm that the access token in the authorization header is valid.")
			return
		}
		if f != nil {
			if f.retryAfter != "" {
				w.Header().Set("Retry-After", f.retryAfter)
			}
			writeError(w, f.status, "fault injected")
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err != nil {
			writeError(w, http.StatusBadRequest, "cannot read body")
			return
		}
		h(w, r, body)
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type sendRequest struct {
	To         string            `json:"to"`
	ReplyToken string            `json:"replyToken"`
	Messages   []json.RawMessage `json:"messages"`
}

// parseMessages checks the messages against LINE's limits and extracts the
// texts and last quick-reply labels.
func parseMessages(raw []json.RawMessage) (texts, quick []string, err error) {
	if len(raw) < 1 || len(raw) > 5 {
		return nil, nil, fmt.Errorf("messages: must contain 1 to 5 items, got %d", len(raw))
	}
	for i, m := range raw {
		var msg struct {
			Type       string          `json:"type"`
			Text       *string         `json:"text"`
			AltText    string          `json:"altText"`
			Contents   json.RawMessage `json:"contents"`
			QuickReply *struct {
				Items []struct {
					Type   string `json:"type"`
					Action struct {
						Type  string `json:"type"`
						Label string `json:"label"`
					} `json:"action"`
				} `json:"items"`
			} `json:"quickReply"`
		}
		if err := json.Unmarshal(m, &msg); err != nil {
			return nil, nil, fmt.Errorf("messages[%d]: malformed", i)
		}
		switch msg.Type {
		case "text":
			if msg.Text == nil || *msg.Text == "" {
				return nil, nil, fmt.Errorf("messages[%d].text: must not be empty", i)
			}
			if n := len(utf16.Encode([]rune(*msg.Text))); n > 5000 {
				return nil, nil, fmt.Errorf("messages[%d].text: %d UTF-16 units, max 5000", i, n)
			}
			texts = append(texts, *msg.Text)
		case "flex":
			if msg.AltText == "" || utf8.RuneCountInString(msg.AltText) > 1500 {
				return nil, nil, fmt.Errorf("messages[%d].altText: invalid length", i)
			}
			if len(msg.Contents) == 0 {
				return nil, nil, fmt.Errorf("messages[%d].contents: required", i)
			}
			texts = append(texts, msg.AltText)
		case "":
			return nil, nil, fmt.Errorf("messages[%d].type: required", i)
		default:
			texts = append(texts, msg.AltText)
		}
		if msg.QuickReply != nil {
			if i != len(raw)-1 {
				// LINE accepts this but shows only the last; Koe never
				// should send it, so the fake refuses it to catch bugs.
				return nil, nil, fmt.Errorf("messages[%d].quickReply: only the last message may carry quick replies", i)
			}
			items := msg.QuickReply.Items
			if len(items) < 1 || len(items) > 13 {
				return nil, nil, fmt.Errorf("messages[%d].quickReply.items: 1 to 13 items, got %d", i, len(items))
			}
			for j, it := range items {
				if it.Type != "action" {
					return nil, nil, fmt.Errorf("messages[%d].quickReply.items[%d].type: must be action", i, j)
				}
				if it.Action.Type == "" {
					return nil, nil, fmt.Errorf("messages[%d].quickReply.items[%d].action.type: required", i, j)
				}
				if n := utf8.RuneCountInString(it.Action.Label); n < 1 || n > 20 {
					return nil, nil, fmt.Errorf("messages[%d].quickReply.items[%d].action.label: 1 to 20 characters", i, j)
				}
				quick = append(quick, it.Action.Label)
			}
		}
	}
	return texts, quick, nil
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request, body []byte) {
	var req sendRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "The request body has 1 error(s)")
		return
	}
	texts, quick, err := parseMessages(req.Messages)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.ReplyToken == "" || s.used[req.ReplyToken] {
		writeError(w, http.StatusBadRequest, "Invalid reply token")
		return
	}
	s.used[req.ReplyToken] = true
	s.sent = append(s.sent, Sent{
		Via:          "reply",
		User:         userOfToken(req.ReplyToken),
		ReplyToken:   req.ReplyToken,
		Texts:        texts,
		QuickReplies: quick,
		Messages:     req.Messages,
		Raw:          json.RawMessage(bytes.Clone(body)),
	})
	writeJSON(w, http.StatusOK, map[string]any{"sentMessages": sentIDs(len(req.Messages))})
}

func (s *Server) push(w http.ResponseWriter, r *http.Request, body []byte) {
	key := r.Header.Get("X-Line-Retry-Key")
	if key != "" {
		if _, err := uuid.Parse(key); err != nil {
			writeError(w, http.StatusBadRequest, "The value for the 'X-Line-Retry-Key' header is invalid")
			return
		}
	}
	var req sendRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "The request body has 1 error(s)")
		return
	}
	if req.To == "" {
		writeError(w, http.StatusBadRequest, "The property, 'to', in the request body is invalid")
		return
	}
	texts, quick, err := parseMessages(req.Messages)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if key != "" {
		if s.retryKeys[key] {
			w.Header().Set("X-Line-Accepted-Request-Id", "fake-"+key)
			writeError(w, http.StatusConflict, "The retry key is already accepted")
			return
		}
		s.retryKeys[key] = true
	}
	s.sent = append(s.sent, Sent{
		Via:          "push",
		User:         req.To,
		RetryKey:     key,
		Texts:        texts,
		QuickReplies: quick,
		Messages:     req.Messages,
		Raw:          json.RawMessage(bytes.Clone(body)),
	})
	writeJSON(w, http.StatusOK, map[string]any{"sentMessages": sentIDs(len(req.Messages))})
}

func sentIDs(n int) []map[string]string {
	out := make([]map[string]string, n)
	for i := range out {
		out[i] = map[string]string{"id": strconv.Itoa(i + 1), "quoteToken": "q"}
	}
	return out
}

func (s *Server) loading(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		ChatID         string `json:"chatId"`
		LoadingSeconds int    `json:"loadingSeconds"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.ChatID == "" {
		writeError(w, http.StatusBadRequest, "The request body has 1 error(s)")
		return
	}
	if req.LoadingSeconds < 5 || req.LoadingSeconds > 60 || req.LoadingSeconds%5 != 0 {
		writeError(w, http.StatusBadRequest, "loadingSeconds must be a multiple of 5 between 5 and 60")
		return
	}
	s.mu.Lock()
	s.loadings = append(s.loadings, Loading{ChatID: req.ChatID, Seconds: req.LoadingSeconds})
	s.mu.Unlock()
	writeJSON(w, http.StatusAccepted, struct{}{})
}

func (s *Server) content(w http.ResponseWriter, r *http.Request, _ []byte) {
	id := r.PathValue("id")
	s.mu.Lock()
	c, ok := s.contents[id]
	preparing := false
	if ok && c.preparing > 0 {
		c.preparing--
		preparing = true
	}
	s.mu.Unlock()
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, "Not found")
	case preparing:
		w.WriteHeader(http.StatusAccepted)
	default:
		w.Header().Set("Content-Type", c.contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(c.data)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(c.data)
	}
}

// ReplyToken returns the reply token the event builders use for event id
// and user: the fake reads the user back from it when recording a reply.
func ReplyToken(id, user string) string { return "rt:" + user + ":" + id }

func userOfToken(tok string) string {
	rest, ok := strings.CutPrefix(tok, "rt:")
	if !ok {
		return ""
	}
	user, _, _ := strings.Cut(rest, ":")
	return user
}
