package slack

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	slackapi "github.com/slack-go/slack"
)

// Command is a slash command invocation.
type Command struct {
	// Command is the command with its slash ("/koe").
	Command string
	// Text is what followed the command. Personal data: never log it.
	Text        string
	UserID      string
	UserName    string
	ChannelID   string
	TeamID      string
	TriggerID   string
	ResponseURL string
}

// CommandsConfig configures NewCommandsHandler.
type CommandsConfig struct {
	// SigningSecret verifies X-Slack-Signature. Without it every request
	// is answered 401.
	SigningSecret string
	// OnCommand answers a command; the Message is shown only to the user
	// who typed it. A zero Message answers with an empty 200 (nothing
	// shown); an error answers 500 (Slack shows the user that the command
	// failed). nil: commands are acknowledged with an empty 200.
	OnCommand func(ctx context.Context, c Command) (Message, error)
	// MaxBodyBytes caps the body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// AckTimeout bounds the callback's ctx (default DefaultAckTimeout).
	AckTimeout time.Duration
	// Logger (nil: discard).
	Logger *slog.Logger
}

type commandsHandler struct {
	in        intake
	onCommand func(ctx context.Context, c Command) (Message, error)
}

// NewCommandsHandler returns the handler for POST /webhooks/slack/commands.
// It is safe for concurrent use.
//
// Order of work: method (405) → signature headers and timestamp (401) →
// body cap (413) → signature of the raw body (401) → form with a command
// (400) → OnCommand → 200 with {"response_type":"ephemeral","text":…,
// "blocks":[…]}. Slack does not redeliver slash commands.
func NewCommandsHandler(cfg CommandsConfig) http.Handler {
	return &commandsHandler{
		in:        newIntake("commands", cfg.SigningSecret, cfg.MaxBodyBytes, cfg.AckTimeout, cfg.Logger),
		onCommand: cfg.OnCommand,
	}
}

type commandResponse struct {
	ResponseType string           `json:"response_type"`
	Text         string           `json:"text,omitempty"`
	Blocks       []slackapi.Block `json:"blocks,omitempty"`
}

func (h *commandsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := h.in.read(w, r)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		h.in.badRequest(w, r, "form")
		return
	}
	c := Command{
		Command:     form.Get("command"),
		Text:        form.Get("text"),
		UserID:      form.Get("user_id"),
		UserName:    form.Get("user_name"),
		ChannelID:   form.Get("channel_id"),
		TeamID:      form.Get("team_id"),
		TriggerID:   form.Get("trigger_id"),
		ResponseURL: form.Get("response_url"),
	}
	if c.Command == "" {
		h.in.badRequest(w, r, "command missing")
		return
	}
	if h.onCommand == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	ctx, cancel := h.in.callbackContext(r)
	defer cancel()
	msg, err := h.onCommand(ctx, c)
	if err != nil {
		h.in.callbackFailed(w, r, "command", err)
		return
	}
	text, blocks := RenderMessage(msg)
	if text == "" && len(blocks) == 0 {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, commandResponse{ResponseType: slackapi.ResponseTypeEphemeral, Text: text, Blocks: blocks})
}
