// Package console is the console channel, for trying Koe without LINE. In
// the terminal (`koe chat`) it turns typed lines into koe.Messages and
// renders koe.Replies as plain text; in the browser (Web, the page at
// /console of `koe serve`) the page posts messages to the inbox and fetches
// replies as JSON.
//
// Line syntax (ParseLine):
//
//	any text             a text message
//	N                    the N-th choice of the last turn (card buttons and
//	                     quick replies, numbered in the order shown); a number
//	                     is plain text when the last turn offered no choices
//	/postback DATA [k=v] a postback, with optional params (date=2026-11-22)
//	/location LAT LNG    a shared location
//	/image PATH          a picture already on disk
//	/follow, /unfollow   adding or blocking the account
//
// Rendering (Sender) is deterministic, so transcript tests compare it byte
// for byte: each reply is separated from the previous one by a blank line;
// a card is framed with "+--" and "|" lines; choices are "[N] label" lines,
// with the console command to use for actions a terminal cannot perform.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/koehq/koe"
	"golang.org/x/text/unicode/norm"
)

// ErrSyntax is returned (wrapped) by ParseLine for a line it cannot turn
// into a message; the error text explains the expected form.
var ErrSyntax = errors.New("console: syntax")

// Sender renders replies to a writer. It implements koe.Sender and is safe
// for concurrent use; batches are written whole, one at a time.
type Sender struct {
	mu sync.Mutex
	w  io.Writer
	// onSend, when set, is told each batch's choices (under mu).
	onSend func(to koe.UserID, choices []koe.Action)
}

var _ koe.Sender = (*Sender)(nil)

// NewSender returns a Sender writing to w.
func NewSender(w io.Writer) *Sender { return &Sender{w: w} }

// Send writes out's replies (see the package doc for the format). It
// returns the writer's error, wrapped.
func (s *Sender) Send(ctx context.Context, out koe.Outbound) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	text, choices := Render(out.Replies)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.onSend != nil {
		s.onSend(out.To, choices)
	}
	if _, err := io.WriteString(s.w, text); err != nil {
		return fmt.Errorf("console: write replies: %w", err)
	}
	return nil
}

// Render returns the console rendering of one batch of replies and the
// choices it offers, numbered from 1 in the order returned.
func Render(replies []koe.Reply) (string, []koe.Action) {
	var b strings.Builder
	var choices []koe.Action
	choice := func(prefix string, a koe.Action) {
		choices = append(choices, a)
		fmt.Fprintf(&b, "%s[%d] %s%s\n", prefix, len(choices), a.Label, hint(a))
	}
	for i, r := range replies {
		if i > 0 {
			b.WriteString("\n")
		}
		if r.Text != "" {
			b.WriteString(strings.TrimRight(r.Text, "\n"))
			b.WriteString("\n")
		}
		if c := r.Card; c != nil {
			title := c.Title
			if c.Urgent {
				title = "(!) " + title
			}
			fmt.Fprintf(&b, "+-- %s\n", title)
			for _, f := range c.Fields {
				fmt.Fprintf(&b, "| %s: %s\n", f.Label, strings.ReplaceAll(f.Value, "\n", "\n|   "))
			}
			if c.Note != "" {
				fmt.Fprintf(&b, "| %s\n", strings.ReplaceAll(c.Note, "\n", "\n| "))
			}
			for _, a := range c.Buttons {
				choice("| ", a)
			}
			b.WriteString("+--\n")
		}
		for _, a := range r.QuickReplies {
			choice("", a)
		}
	}
	return b.String(), choices
}

// hint tells how to perform an action a terminal cannot tap.
func hint(a koe.Action) string {
	switch a.Kind {
	case koe.ActionLocation:
		return " (/location LAT LNG)"
	case koe.ActionCamera, koe.ActionCameraRoll:
		return " (/image PATH)"
	case koe.ActionURI:
		return " <" + a.URL + ">"
	case koe.ActionDatetime:
		mode := "datetime"
		if a.Picker != nil && a.Picker.Mode != "" {
			mode = a.Picker.Mode
		}
		return fmt.Sprintf(" (/postback %s %s=VALUE)", a.Data, mode)
	}
	return ""
}

// Chat is one console user's side of a conversation: it parses the user's
// lines and, as the koe.Sender of the console channel, renders the bot's
// replies and remembers the choices they offered, so that typing a number
// picks one. Wire it as Config.Senders[koe.ChannelConsole] of the handler
// it talks to. It is safe for concurrent use.
type Chat struct {
	*Sender
	user koe.UserID

	// NewID makes message ids (default uuid.NewString); ids must be unique
	// across runs, because the session remembers applied ids.
	NewID func() string
	// Now stamps messages (default time.Now).
	Now func() time.Time

	mu      sync.Mutex
	choices []koe.Action
}

// NewChat returns a chat for user that renders replies to out.
func NewChat(user koe.UserID, out io.Writer) *Chat {
	c := &Chat{Sender: NewSender(out), user: user, NewID: uuid.NewString, Now: time.Now}
	c.Sender.onSend = func(to koe.UserID, choices []koe.Action) {
		if to != c.user {
			return
		}
		c.mu.Lock()
		c.choices = choices
		c.mu.Unlock()
	}
	return c
}

// User returns the chat's user.
func (c *Chat) User() koe.UserID { return c.user }

// Choices returns the choices the last batch of replies offered.
func (c *Chat) Choices() []koe.Action {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]koe.Action(nil), c.choices...)
}

// ParseLine turns one typed line into a message from the chat's user with
// a new id. A successful parse consumes the offered choices (as on LINE,
// quick replies vanish once the user sends something). Errors wrap
// ErrSyntax and leave the choices in place.
func (c *Chat) ParseLine(line string) (koe.Message, error) {
	line = strings.TrimSpace(line)
	msg := koe.Message{User: c.user, SentAt: c.Now()}
	if line == "" {
		return koe.Message{}, fmt.Errorf("%w: empty line", ErrSyntax)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case strings.HasPrefix(line, "/"):
		if err := parseCommand(line, &msg); err != nil {
			return koe.Message{}, err
		}
	case isNumber(line) && len(c.choices) > 0:
		n, _ := strconv.Atoi(norm.NFKC.String(line))
		if n < 1 || n > len(c.choices) {
			return koe.Message{}, fmt.Errorf("%w: no choice %d; choose 1-%d", ErrSyntax, n, len(c.choices))
		}
		if err := fromAction(c.choices[n-1], &msg); err != nil {
			return koe.Message{}, err
		}
	default:
		msg.Kind, msg.Text = koe.KindText, line
	}
	msg.ID = c.NewID()
	c.choices = nil
	return msg, nil
}

func isNumber(s string) bool {
	s = norm.NFKC.String(s)
	if s == "" || len(s) > 3 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func fromAction(a koe.Action, msg *koe.Message) error {
	switch a.Kind {
	case koe.ActionPostback:
		msg.Kind, msg.Postback = koe.KindPostback, &koe.Postback{Data: a.Data}
	case koe.ActionMessage:
		msg.Kind, msg.Text = koe.KindText, a.Text
		if msg.Text == "" {
			msg.Text = a.Label
		}
	default:
		return fmt.Errorf("%w: %q cannot be chosen by number here;%s", ErrSyntax, a.Label, hint(a))
	}
	return nil
}

const usage = "commands: /postback DATA [key=value ...], /location LAT LNG, /image PATH, /follow, /unfollow, /quit"

func parseCommand(line string, msg *koe.Message) error {
	fields := strings.Fields(line)
	name, args := fields[0], fields[1:]
	switch name {
	case "/postback":
		if len(args) == 0 {
			return fmt.Errorf("%w: /postback DATA [key=value ...]", ErrSyntax)
		}
		pb := &koe.Postback{Data: args[0]}
		for _, kv := range args[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return fmt.Errorf("%w: postback param %q is not key=value", ErrSyntax, kv)
			}
			if pb.Params == nil {
				pb.Params = make(map[string]string)
			}
			pb.Params[k] = v
		}
		msg.Kind, msg.Postback = koe.KindPostback, pb
	case "/location":
		if len(args) != 2 {
			return fmt.Errorf("%w: /location LAT LNG (e.g. /location 35.68 139.76)", ErrSyntax)
		}
		lat, err1 := strconv.ParseFloat(args[0], 64)
		lng, err2 := strconv.ParseFloat(args[1], 64)
		if err1 != nil || err2 != nil || lat < -90 || lat > 90 || lng < -180 || lng > 180 {
			return fmt.Errorf("%w: /location needs latitude -90..90 and longitude -180..180", ErrSyntax)
		}
		msg.Kind, msg.Location = koe.KindLocation, &koe.Location{Latitude: lat, Longitude: lng}
	case "/image":
		path := strings.TrimSpace(strings.TrimPrefix(line, "/image"))
		if path == "" {
			return fmt.Errorf("%w: /image PATH", ErrSyntax)
		}
		msg.Kind, msg.Image = koe.KindImage, &koe.Image{Path: path}
	case "/follow":
		msg.Kind = koe.KindFollow
	case "/unfollow":
		msg.Kind = koe.KindUnfollow
	default:
		return fmt.Errorf("%w: unknown command %s; %s", ErrSyntax, name, usage)
	}
	return nil
}

// Prompt is what Run prints before reading a line.
const Prompt = "> "

// Run talks to h as the chat's user: it prints Prompt, reads a line from in,
// parses it, and calls h.Handle synchronously (h renders its replies
// through this Chat as its console sender), until EOF, "/quit" or ctx is
// done. A line that does not parse, or a message h fails on, prints a line
// starting with "! " and the loop goes on. It returns nil on EOF or /quit,
// ctx.Err() when cancelled, and the reader's error otherwise.
func (c *Chat) Run(ctx context.Context, in io.Reader, h koe.Handler) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.write(Prompt); err != nil {
			return err
		}
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return fmt.Errorf("console: read: %w", err)
			}
			return c.write("\n")
		}
		line := strings.TrimSpace(sc.Text())
		switch line {
		case "":
			continue
		case "/quit", "/exit":
			return nil
		}
		msg, err := c.ParseLine(line)
		if err != nil {
			if werr := c.write("! " + err.Error() + "\n"); werr != nil {
				return werr
			}
			continue
		}
		if err := h.Handle(ctx, msg); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if werr := c.write("! the bot could not handle that message: " + err.Error() + "\n"); werr != nil {
				return werr
			}
		}
	}
}

func (c *Chat) write(s string) error {
	c.Sender.mu.Lock()
	defer c.Sender.mu.Unlock()
	if _, err := io.WriteString(c.Sender.w, s); err != nil {
		return fmt.Errorf("console: write: %w", err)
	}
	return nil
}
