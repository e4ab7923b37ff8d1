package console

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/koehq/koe"
	"github.com/koehq/koe/internal/atomicfile"
)

// Appender is the part of koe.Inbox the web console needs.
type Appender interface {
	Append(ctx context.Context, msgs ...koe.Message) (added int, err error)
}

// Access says who may use the web console.
type Access string

// Access levels. AccessLocal (the default) serves only requests that come
// straight from the loopback interface (no proxy headers) and name this
// machine in their Host (localhost or a loopback address, which stops DNS
// rebinding); AccessOpen serves everyone (behind an authenticating proxy,
// say); AccessOff serves no one. A proxy on the same machine that sets
// neither header nor a public Host would pass AccessLocal: production
// services leave the console off (cmd/koe does when LINE is configured).
const (
	AccessLocal Access = "local"
	AccessOpen  Access = "open"
	AccessOff   Access = "off"
)

// ParseAccess parses "local", "open" or "off" ("" is local).
func ParseAccess(s string) (Access, bool) {
	switch a := Access(strings.ToLower(strings.TrimSpace(s))); a {
	case "":
		return AccessLocal, true
	case AccessLocal, AccessOpen, AccessOff:
		return a, true
	}
	return "", false
}

// Limits of the web console.
const (
	// MaxTextRunes bounds a typed message (LINE allows 5,000 characters;
	// the console is for trying the bot out).
	MaxTextRunes = 2000
	// MaxBatches is how many reply batches are kept per browser session;
	// older ones are dropped.
	MaxBatches = 200
	// MaxSessions bounds the browser sessions kept in memory; the one idle
	// longest is dropped first.
	MaxSessions = 1000
	// PollWait is how long GET /console/api/replies waits for a reply
	// before answering with none (under the server's write timeout).
	PollWait = 10 * time.Second
	// MaxImageBytes bounds an uploaded picture (LINE's own limit is 10 MB).
	MaxImageBytes = 10 << 20

	maxBodyBytes = 16 << 10
)

// WebConfig configures a Web console.
type WebConfig struct {
	// Inbox receives the browser's messages, like a channel's webhook
	// (koe.Inbox's Append).
	Inbox Appender
	// Notify, if set, is called after messages are appended (wakes the
	// dispatcher).
	Notify func()
	Access Access
	Logger *slog.Logger
	// Now stamps messages (default time.Now).
	Now func() time.Time
	// PollWait overrides PollWait (tests).
	PollWait time.Duration
	// DataDir is where uploaded pictures are kept (under console/); without
	// it the page cannot send pictures (POST /console/api/images is 404).
	DataDir string
}

// Web is the console channel in a browser: a chat page at /console that
// talks to the bot through the same inbox, dispatcher and dialogs as LINE.
// Each browser session (a random id the page keeps) is the user
// console:web-SESSION. The page posts messages with ids it makes, so a
// retried post is deduplicated by the inbox; replies reach Web as the
// console channel's koe.Sender and are kept in memory, per session, for
// the page to fetch with a long poll. Replies for console users who are not
// browser sessions (koe chat on the same store) are dropped.
//
// Web is safe for concurrent use. Replies are not durable: a restart loses
// the ones no page fetched (the conversation itself is in the store).
type Web struct {
	cfg WebConfig

	mu       sync.Mutex
	sessions map[koe.UserID]*mailbox
	created  chan struct{} // closed and replaced when a mailbox is created
}

// mailbox holds one session's reply batches, numbered from 1.
type mailbox struct {
	batches []Batch
	next    int64         // seq of the next batch
	wake    chan struct{} // closed and replaced when a batch arrives
	used    time.Time
}

// Batch is one turn of replies, as the page receives it.
type Batch struct {
	Seq     int64       `json:"seq"`
	Replies []koe.Reply `json:"replies"`
}

var _ koe.Sender = (*Web)(nil)

// NewWeb returns a web console; it needs an Inbox.
func NewWeb(cfg WebConfig) (*Web, error) {
	if cfg.Inbox == nil {
		return nil, fmt.Errorf("console: web console needs an inbox: %w", koe.ErrInvalid)
	}
	if cfg.Access == "" {
		cfg.Access = AccessLocal
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PollWait <= 0 {
		cfg.PollWait = PollWait
	}
	return &Web{cfg: cfg, sessions: make(map[koe.UserID]*mailbox), created: make(chan struct{})}, nil
}

//go:embed web.html
var page []byte

// Routes returns the console's routes as http.ServeMux patterns: the page
// at GET /console (and a redirect to it from GET /), POST
// /console/api/messages, POST /console/api/images (with a DataDir) and GET
// /console/api/replies. With AccessOff there are none.
func (w *Web) Routes() map[string]http.Handler {
	if w.cfg.Access == AccessOff {
		return nil
	}
	routes := map[string]http.Handler{
		"GET /{$}":                   http.RedirectHandler("/console", http.StatusFound),
		"GET /console":               w.guard(http.HandlerFunc(w.servePage)),
		"POST /console/api/messages": w.guard(http.HandlerFunc(w.postMessage)),
		"GET /console/api/replies":   w.guard(http.HandlerFunc(w.getReplies)),
	}
	if w.cfg.DataDir != "" {
		routes["POST /console/api/images"] = w.guard(http.HandlerFunc(w.postImage))
	}
	return routes
}

// guard enforces Access and refuses cross-site requests (a page elsewhere
// must not drive the console through the operator's browser).
func (w *Web) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if w.cfg.Access == AccessLocal && (!fromLoopback(r) || !loopbackHost(r.Host)) {
			writeError(rw, http.StatusForbidden, "the console answers only on this machine, at localhost (KOE_CONSOLE=open serves everyone)")
			return
		}
		if o := r.Header.Get("Origin"); o != "" {
			if u, err := url.Parse(o); err != nil || u.Host != r.Host {
				writeError(rw, http.StatusForbidden, "cross-origin request refused")
				return
			}
		}
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			writeError(rw, http.StatusForbidden, "cross-site request refused")
			return
		}
		next.ServeHTTP(rw, r)
	})
}

// loopbackHost reports whether the Host header names this machine
// (localhost or a loopback address). A page of another site whose name a
// DNS rebinding points at 127.0.0.1 still sends its own name, so it is
// refused.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// fromLoopback reports whether r came straight from a loopback address: a
// request relayed by a proxy (Forwarded, X-Forwarded-For) does not count,
// since the proxy may be on this machine.
func fromLoopback(r *http.Request) bool {
	if r.Header.Get("Forwarded") != "" || r.Header.Get("X-Forwarded-For") != "" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (w *Web) servePage(rw http.ResponseWriter, r *http.Request) {
	h := rw.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	rw.Write(page)
}

// sessionRE and idRE bound what the page may send as its session and
// message ids.
var (
	sessionRE = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)
	idRE      = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)
)

// webMessage is the body of POST /console/api/messages: a session, a
// message id, and exactly one of text, postback or location.
type webMessage struct {
	Session  string        `json:"session"`
	ID       string        `json:"id"`
	Text     *string       `json:"text"`
	Postback *koe.Postback `json:"postback"`
	Location *koe.Location `json:"location"`
}

func (w *Web) postMessage(rw http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeError(rw, http.StatusUnsupportedMediaType, "send JSON (Content-Type: application/json)")
		return
	}
	var in webMessage
	dec := json.NewDecoder(http.MaxBytesReader(rw, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(rw, http.StatusRequestEntityTooLarge, fmt.Sprintf("message larger than %d bytes", maxBodyBytes))
			return
		}
		writeError(rw, http.StatusBadRequest, "body is not a message: "+err.Error())
		return
	}
	msg, err := w.toMessage(in)
	if err != nil {
		writeError(rw, http.StatusBadRequest, err.Error())
		return
	}
	w.append(rw, r, msg, in.ID)
}

// append stores msg in the inbox and answers 202, or 503 when the store
// failed.
func (w *Web) append(rw http.ResponseWriter, r *http.Request, msg koe.Message, id string) {
	w.touch(msg.User)
	added, err := w.cfg.Inbox.Append(r.Context(), msg)
	if err != nil {
		w.cfg.Logger.ErrorContext(r.Context(), "console message not stored", "err", err)
		writeError(rw, http.StatusServiceUnavailable, "the message was not stored; send it again")
		return
	}
	if added > 0 && w.cfg.Notify != nil {
		w.cfg.Notify()
	}
	writeJSON(rw, http.StatusAccepted, map[string]any{"id": id, "duplicate": added == 0})
}

// imageTypes are the pictures the console accepts, by sniffed type.
var imageTypes = map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}

// postImage answers POST /console/api/images?session=S&id=I whose body is
// one picture (JPEG, PNG, GIF or WebP by its bytes, at most MaxImageBytes).
// The picture is kept under DataDir/console/<digest of the session>/ and
// sent as a KindImage message whose Image.Path names the file, as `koe
// chat`'s /image does.
// A retried upload with the same id overwrites the same file and is
// deduplicated by the inbox.
func (w *Web) postImage(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	session, id := q.Get("session"), q.Get("id")
	if !sessionRE.MatchString(session) {
		writeError(rw, http.StatusBadRequest, "session: want 8-64 letters, digits, - or _")
		return
	}
	if !idRE.MatchString(id) {
		writeError(rw, http.StatusBadRequest, "id: want 8-64 letters, digits, - or _")
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, MaxImageBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(rw, http.StatusRequestEntityTooLarge, fmt.Sprintf("picture larger than %d bytes", MaxImageBytes))
			return
		}
		writeError(rw, http.StatusBadRequest, "could not read the picture")
		return
	}
	ext, ok := imageTypes[http.DetectContentType(data)]
	if !ok || len(data) == 0 {
		writeError(rw, http.StatusUnsupportedMediaType, "send a JPEG, PNG, GIF or WebP picture")
		return
	}
	dir, err := filepath.Abs(filepath.Join(w.cfg.DataDir, "console", sessionDir(session)))
	if err != nil {
		writeError(rw, http.StatusServiceUnavailable, "the picture was not stored; send it again")
		return
	}
	file := filepath.Join(dir, id+ext)
	if err := atomicfile.Write(file, data); err != nil {
		w.cfg.Logger.ErrorContext(r.Context(), "console picture not kept", "err", err)
		writeError(rw, http.StatusServiceUnavailable, "the picture was not stored; send it again")
		return
	}
	msg := koe.Message{
		ID:     messageID(session, id),
		User:   sessionUser(session),
		Kind:   koe.KindImage,
		Image:  &koe.Image{Path: file},
		SentAt: w.cfg.Now(),
	}
	w.append(rw, r, msg, id)
}

// toMessage validates a posted message and turns it into a koe.Message.
func (w *Web) toMessage(in webMessage) (koe.Message, error) {
	if !sessionRE.MatchString(in.Session) {
		return koe.Message{}, errors.New("session: want 8-64 letters, digits, - or _")
	}
	if !idRE.MatchString(in.ID) {
		return koe.Message{}, errors.New("id: want 8-64 letters, digits, - or _")
	}
	msg := koe.Message{
		ID:     messageID(in.Session, in.ID),
		User:   sessionUser(in.Session),
		SentAt: w.cfg.Now(),
	}
	n := 0
	if in.Text != nil {
		n++
		t := strings.TrimSpace(*in.Text)
		switch {
		case t == "":
			return koe.Message{}, errors.New("text: empty")
		case !utf8.ValidString(t):
			return koe.Message{}, errors.New("text: not UTF-8")
		case utf8.RuneCountInString(t) > MaxTextRunes:
			return koe.Message{}, fmt.Errorf("text: longer than %d characters", MaxTextRunes)
		}
		msg.Kind, msg.Text = koe.KindText, t
	}
	if in.Postback != nil {
		n++
		if in.Postback.Data == "" || len(in.Postback.Data) > 300 {
			return koe.Message{}, errors.New("postback.data: want 1-300 bytes")
		}
		if len(in.Postback.Params) > 3 {
			return koe.Message{}, errors.New("postback.params: at most date, time and datetime")
		}
		for k, v := range in.Postback.Params {
			if k != "date" && k != "time" && k != "datetime" || len(v) > 32 {
				return koe.Message{}, fmt.Errorf("postback.params: %q is not a picker value", k)
			}
		}
		msg.Kind, msg.Postback = koe.KindPostback, in.Postback
	}
	if in.Location != nil {
		n++
		l := in.Location
		if !(l.Latitude >= -90 && l.Latitude <= 90 && l.Longitude >= -180 && l.Longitude <= 180) {
			return koe.Message{}, errors.New("location: latitude -90..90, longitude -180..180")
		}
		if utf8.RuneCountInString(l.Title) > 100 || utf8.RuneCountInString(l.Address) > 200 {
			return koe.Message{}, errors.New("location: title or address too long")
		}
		msg.Kind, msg.Location = koe.KindLocation, l
	}
	if n != 1 {
		return koe.Message{}, errors.New("want exactly one of text, postback, location")
	}
	return msg, nil
}

// messageID is the inbox id of the page's message id in a session: a
// digest, because the session is the user's id (personal data) and message
// ids appear in logs and job ids; the same pair always gives the same id,
// so a retried post is deduplicated.
func messageID(session, id string) string {
	sum := sha256.Sum256([]byte(session + "\x00" + id))
	return "console-web:" + hex.EncodeToString(sum[:16])
}

// sessionDir names a session's directory of uploaded pictures: a digest,
// since picture paths travel in messages and reports and the session is
// the user's id.
func sessionDir(session string) string {
	sum := sha256.Sum256([]byte(session))
	return hex.EncodeToString(sum[:12])
}

// sessionUser is the user of a browser session.
func sessionUser(session string) koe.UserID {
	return koe.NewUserID(koe.ChannelConsole, "web-"+session)
}

// Send keeps out's replies for the browser session it is addressed to and
// wakes the session's poll. Replies to other console users are dropped.
func (w *Web) Send(ctx context.Context, out koe.Outbound) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !strings.HasPrefix(out.To.Local(), "web-") || len(out.Replies) == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	mb := w.mailboxLocked(out.To, true)
	mb.next++
	mb.batches = append(mb.batches, Batch{Seq: mb.next, Replies: out.Replies})
	if over := len(mb.batches) - MaxBatches; over > 0 {
		mb.batches = append([]Batch(nil), mb.batches[over:]...)
	}
	close(mb.wake)
	mb.wake = make(chan struct{})
	return nil
}

// touch marks a session as in use (creating its mailbox).
func (w *Web) touch(u koe.UserID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.mailboxLocked(u, true)
}

// mailboxLocked returns u's mailbox, creating it (and evicting the one
// idle longest when there are MaxSessions) unless it is missing and create
// is false. Only messages from a session and replies to it create one: a
// poll alone does not, so polls cannot push other sessions out.
func (w *Web) mailboxLocked(u koe.UserID, create bool) *mailbox {
	mb := w.sessions[u]
	if mb == nil && !create {
		return nil
	}
	if mb == nil {
		if len(w.sessions) >= MaxSessions {
			var oldest koe.UserID
			for k, v := range w.sessions {
				if oldest == "" || v.used.Before(w.sessions[oldest].used) {
					oldest = k
				}
			}
			close(w.sessions[oldest].wake)
			delete(w.sessions, oldest)
		}
		mb = &mailbox{wake: make(chan struct{})}
		w.sessions[u] = mb
		close(w.created)
		w.created = make(chan struct{})
	}
	mb.used = w.cfg.Now()
	return mb
}

// after returns the session's batches with Seq > seq and a channel that is
// closed when another arrives (or, for a session without a mailbox yet,
// when any mailbox is created).
func (w *Web) after(u koe.UserID, seq int64) ([]Batch, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	mb := w.mailboxLocked(u, false)
	if mb == nil {
		return nil, w.created
	}
	if seq > mb.next {
		seq = 0 // the page counted batches of an earlier process
	}
	var out []Batch
	for _, b := range mb.batches {
		if b.Seq > seq {
			out = append(out, b)
		}
	}
	return out, mb.wake
}

// getReplies answers GET /console/api/replies?session=S&after=N with the
// batches after N, waiting up to PollWait for one when there are none:
// {"batches":[…]} (possibly empty).
func (w *Web) getReplies(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	session := q.Get("session")
	if !sessionRE.MatchString(session) {
		writeError(rw, http.StatusBadRequest, "session: want 8-64 letters, digits, - or _")
		return
	}
	var seq int64
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			writeError(rw, http.StatusBadRequest, "after: want a batch number ≥ 0")
			return
		}
		seq = n
	}
	u := sessionUser(session)
	timer := time.NewTimer(w.cfg.PollWait)
	defer timer.Stop()
	for {
		batches, wake := w.after(u, seq)
		if len(batches) > 0 {
			writeJSON(rw, http.StatusOK, map[string]any{"batches": batches})
			return
		}
		select {
		case <-wake:
		case <-timer.C:
			writeJSON(rw, http.StatusOK, map[string]any{"batches": []Batch{}})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
