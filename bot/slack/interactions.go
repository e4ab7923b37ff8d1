package slack

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"
)

// Action is one button press (or select choice) on a message or in a view
// (a block_actions interaction).
type Action struct {
	// ID is a stable key for deduplication: "ba:" + the container (message
	// ts or view id) + ":" + ActionID + ":" + the action's own timestamp.
	// The same press delivered twice has the same ID; two presses differ.
	ID       string
	ActionID string
	BlockID  string
	// Value is the button's value, or the value of the selected option.
	Value    string
	UserID   string
	UserName string
	// ChannelID, MessageTS and ThreadTS locate the message that carried
	// the button (empty for buttons in a view; then ViewID is set).
	ChannelID string
	MessageTS string
	ThreadTS  string
	ViewID    string
	// TriggerID opens a modal (Client.OpenModal) within about 3 seconds.
	TriggerID string
	// ResponseURL accepts up to 5 responses within 30 minutes.
	ResponseURL string
	// At is when the user acted (the action's timestamp).
	At time.Time
}

// Submission is a submitted modal (a view_submission interaction).
type Submission struct {
	// ID is a stable key for deduplication: "vs:" + view id + ":" +
	// trigger id. A resubmission after validation errors has a new ID.
	ID              string
	CallbackID      string
	PrivateMetadata string
	ViewID          string
	// Values holds the value of each input block by block id: the text of
	// a text input, the value of the selected option of a select, the date
	// of a date picker, the user of a user select. Inputs left empty are
	// absent.
	Values   map[string]string
	UserID   string
	UserName string
}

// ValidationError, returned by OnSubmit, keeps the modal open and shows
// each message under its input (block id → message). Its Error names the
// block ids only. An empty Errors map is treated as success.
type ValidationError struct {
	Errors map[string]string
}

func (e *ValidationError) Error() string {
	keys := slices.Sorted(maps.Keys(e.Errors))
	return "slack: submission invalid: " + strings.Join(keys, ", ")
}

// InteractionsConfig configures NewInteractionsHandler.
type InteractionsConfig struct {
	// SigningSecret verifies X-Slack-Signature. Without it every request
	// is answered 401.
	SigningSecret string
	// OnAction receives each action of a block_actions interaction, in
	// order. nil: actions are acknowledged and dropped.
	OnAction func(ctx context.Context, a Action) error
	// OnSubmit receives a view_submission. Returning a *ValidationError
	// keeps the modal open with its messages; another error answers 500
	// (Slack shows the user an error); nil closes the modal. nil
	// OnSubmit: submissions are acknowledged (the modal closes).
	OnSubmit func(ctx context.Context, s Submission) error
	// MaxBodyBytes caps the body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// AckTimeout bounds each callback's ctx (default DefaultAckTimeout).
	AckTimeout time.Duration
	// Logger (nil: discard).
	Logger *slog.Logger
}

type interactionsHandler struct {
	in       intake
	onAction func(ctx context.Context, a Action) error
	onSubmit func(ctx context.Context, s Submission) error
}

// NewInteractionsHandler returns the handler for POST
// /webhooks/slack/interactions. It is safe for concurrent use.
//
// Order of work: method (405) → signature headers and timestamp within 5
// minutes (401) → body cap (413) → signature of the raw body (401) → form
// field "payload" as JSON (400) → callbacks → 200. Nothing reaches a
// callback before the signature is verified. block_actions go to
// OnAction, one call per action (the first error answers 500 and skips
// the rest); view_submission to OnSubmit; other interaction types
// (shortcuts, view_closed, …) are acknowledged with 200 and dropped.
//
// Callbacks run inside the request with a ctx bounded by AckTimeout, so
// they must only hand the work off (to the durable inbox). Slack does not
// redeliver interactions, but callers should still be idempotent by ID.
func NewInteractionsHandler(cfg InteractionsConfig) http.Handler {
	return &interactionsHandler{
		in:       newIntake("interactions", cfg.SigningSecret, cfg.MaxBodyBytes, cfg.AckTimeout, cfg.Logger),
		onAction: cfg.OnAction,
		onSubmit: cfg.OnSubmit,
	}
}

func (h *interactionsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := h.in.read(w, r)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		h.in.badRequest(w, r, "form")
		return
	}
	payload := form.Get("payload")
	if payload == "" {
		h.in.badRequest(w, r, "payload missing")
		return
	}
	var ic slackapi.InteractionCallback
	if err := json.Unmarshal([]byte(payload), &ic); err != nil {
		h.in.badRequest(w, r, "payload json")
		return
	}
	switch ic.Type {
	case slackapi.InteractionTypeBlockActions:
		h.blockActions(w, r, &ic)
	case slackapi.InteractionTypeViewSubmission:
		h.viewSubmission(w, r, &ic)
	default:
		h.in.log.DebugContext(r.Context(), "slack interactions: type ignored", slog.String("type", truncate(string(ic.Type), 40)))
		w.WriteHeader(http.StatusOK)
	}
}

func (h *interactionsHandler) blockActions(w http.ResponseWriter, r *http.Request, ic *slackapi.InteractionCallback) {
	if h.onAction == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	ctx, cancel := h.in.callbackContext(r)
	defer cancel()
	for _, ba := range ic.ActionCallback.BlockActions {
		if ba == nil {
			continue
		}
		a := toAction(ic, ba)
		if err := h.onAction(ctx, a); err != nil {
			h.in.callbackFailed(w, r, "action", err)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

func toAction(ic *slackapi.InteractionCallback, ba *slackapi.BlockAction) Action {
	a := Action{
		ActionID:    ba.ActionID,
		BlockID:     ba.BlockID,
		Value:       ba.Value,
		UserID:      ic.User.ID,
		UserName:    firstNonEmpty(ic.User.Name, ic.User.Username),
		ChannelID:   firstNonEmpty(ic.Container.ChannelID, ic.Channel.ID),
		MessageTS:   firstNonEmpty(ic.Container.MessageTs, ic.Message.Timestamp),
		ThreadTS:    firstNonEmpty(ic.Container.ThreadTs, ic.Message.ThreadTimestamp),
		ViewID:      firstNonEmpty(ic.Container.ViewID, ic.View.ID),
		TriggerID:   ic.TriggerID,
		ResponseURL: ic.ResponseURL,
	}
	if a.Value == "" {
		a.Value = firstNonEmpty(ba.SelectedOption.Value, ba.SelectedUser, ba.SelectedChannel, ba.SelectedConversation, ba.SelectedDate)
	}
	actionTS := firstNonEmpty(ba.ActionTs, ic.ActionTs)
	a.At = parseTS(actionTS)
	container := firstNonEmpty(a.MessageTS, a.ViewID)
	a.ID = "ba:" + container + ":" + a.ActionID + ":" + actionTS
	return a
}

func (h *interactionsHandler) viewSubmission(w http.ResponseWriter, r *http.Request, ic *slackapi.InteractionCallback) {
	if h.onSubmit == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	s := Submission{
		ID:              "vs:" + ic.View.ID + ":" + ic.TriggerID,
		CallbackID:      ic.View.CallbackID,
		PrivateMetadata: ic.View.PrivateMetadata,
		ViewID:          ic.View.ID,
		Values:          map[string]string{},
		UserID:          ic.User.ID,
		UserName:        firstNonEmpty(ic.User.Name, ic.User.Username),
	}
	if ic.View.State != nil {
		for blockID, actions := range ic.View.State.Values {
			if v := stateValue(actions); v != "" {
				s.Values[blockID] = v
			}
		}
	}
	ctx, cancel := h.in.callbackContext(r)
	defer cancel()
	err := h.onSubmit(ctx, s)
	if ve, ok := errors.AsType[*ValidationError](err); ok && ve != nil && len(ve.Errors) > 0 {
		writeJSON(w, slackapi.NewErrorsViewSubmissionResponse(ve.Errors))
		return
	}
	if err != nil {
		h.in.callbackFailed(w, r, "submission", err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// stateValue picks the value of an input block's element: InputActionID
// when present, otherwise the first element in action id order.
func stateValue(actions map[string]slackapi.BlockAction) string {
	ba, ok := actions[InputActionID]
	if !ok {
		keys := slices.Sorted(maps.Keys(actions))
		if len(keys) == 0 {
			return ""
		}
		ba = actions[keys[0]]
	}
	return firstNonEmpty(ba.Value, ba.SelectedOption.Value, ba.SelectedDate, ba.SelectedTime,
		ba.SelectedUser, ba.SelectedChannel, ba.SelectedConversation)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
