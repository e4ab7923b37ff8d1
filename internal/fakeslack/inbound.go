package fakeslack

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// Sign returns the X-Slack-Signature of body sent at ts: "v0=" + hex of
// HMAC-SHA256(secret, "v0:" + unix seconds + ":" + body).
func Sign(secret string, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%d:", ts.Unix())
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// SignedRequest returns a POST of body to target signed with secret at
// ts, as Slack sends it. The content type is JSON when body starts with
// "{", a form otherwise.
func SignedRequest(secret, target string, body []byte, ts time.Time) *http.Request {
	r, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		panic("fakeslack: " + err.Error())
	}
	if bytes.HasPrefix(body, []byte("{")) {
		r.Header.Set("Content-Type", "application/json")
	} else {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts.Unix(), 10))
	r.Header.Set("X-Slack-Signature", Sign(secret, ts, body))
	r.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	return r
}

var seq atomic.Int64

// newTS returns a fresh Slack-style ts ("1700000000.123456"), unique within
// the process.
func newTS() string {
	us := time.Now().UnixMicro() + seq.Add(1)
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// BlockAction describes a button press for BlockActionPayload. Empty
// TriggerID, ActionTS and ResponseURL are filled with fresh values.
type BlockAction struct {
	UserID, UserName string
	ChannelID        string
	MessageTS        string
	ThreadTS         string
	BlockID          string
	ActionID         string
	Value            string
	ActionTS         string
	TriggerID        string
	ResponseURL      string
}

func user(id, name string) map[string]any {
	return map[string]any{"id": id, "username": name, "name": name, "team_id": TeamID}
}

func form(payload any) []byte {
	b, err := json.Marshal(payload)
	if err != nil {
		panic("fakeslack: " + err.Error())
	}
	return []byte(url.Values{"payload": {string(b)}}.Encode())
}

// BlockActionPayload returns the form body Slack posts to the interactivity
// URL when a button on a message is pressed.
func BlockActionPayload(a BlockAction) []byte {
	if a.TriggerID == "" {
		a.TriggerID = "trigger-" + newTS()
	}
	if a.ActionTS == "" {
		a.ActionTS = newTS()
	}
	if a.ResponseURL == "" {
		a.ResponseURL = "https://hooks.slack.com/actions/" + TeamID + "/1/fake"
	}
	container := map[string]any{"type": "message", "message_ts": a.MessageTS, "channel_id": a.ChannelID, "is_ephemeral": false}
	message := map[string]any{"type": "message", "ts": a.MessageTS, "bot_id": BotID, "text": "alert"}
	if a.ThreadTS != "" {
		container["thread_ts"] = a.ThreadTS
		message["thread_ts"] = a.ThreadTS
	}
	return form(map[string]any{
		"type":         "block_actions",
		"user":         user(a.UserID, a.UserName),
		"api_app_id":   "A0FAKE",
		"token":        "legacy-verification-token",
		"container":    container,
		"trigger_id":   a.TriggerID,
		"team":         map[string]any{"id": TeamID, "domain": "fake"},
		"channel":      map[string]any{"id": a.ChannelID, "name": "alerts"},
		"message":      message,
		"response_url": a.ResponseURL,
		"actions": []any{map[string]any{
			"action_id": a.ActionID,
			"block_id":  a.BlockID,
			"text":      map[string]any{"type": "plain_text", "text": "button", "emoji": true},
			"value":     a.Value,
			"type":      "button",
			"action_ts": a.ActionTS,
		}},
	})
}

// ViewSubmission describes a modal submission for ViewSubmissionPayload.
// Texts are the values of plain-text inputs and Selected the values of
// static selects, by block id (each with action id "value", as
// bot/slack renders them). Empty ViewID and TriggerID are filled.
type ViewSubmission struct {
	UserID, UserName string
	ViewID           string
	CallbackID       string
	PrivateMetadata  string
	TriggerID        string
	Texts            map[string]string
	Selected         map[string]string
}

// ViewSubmissionPayload returns the form body Slack posts when a modal is
// submitted.
func ViewSubmissionPayload(v ViewSubmission) []byte {
	if v.ViewID == "" {
		v.ViewID = "V0FAKE"
	}
	if v.TriggerID == "" {
		v.TriggerID = "trigger-" + newTS()
	}
	values := map[string]any{}
	for block, text := range v.Texts {
		values[block] = map[string]any{"value": map[string]any{"type": "plain_text_input", "value": text}}
	}
	for block, val := range v.Selected {
		values[block] = map[string]any{"value": map[string]any{
			"type":            "static_select",
			"selected_option": map[string]any{"text": map[string]any{"type": "plain_text", "text": val, "emoji": true}, "value": val},
		}}
	}
	return form(map[string]any{
		"type":       "view_submission",
		"team":       map[string]any{"id": TeamID, "domain": "fake"},
		"user":       user(v.UserID, v.UserName),
		"api_app_id": "A0FAKE",
		"token":      "legacy-verification-token",
		"trigger_id": v.TriggerID,
		"view": map[string]any{
			"id":               v.ViewID,
			"team_id":          TeamID,
			"type":             "modal",
			"blocks":           []any{},
			"private_metadata": v.PrivateMetadata,
			"callback_id":      v.CallbackID,
			"state":            map[string]any{"values": values},
			"hash":             "1700000000.fakehash",
			"title":            map[string]any{"type": "plain_text", "text": "modal"},
		},
		"response_urls": []any{},
	})
}

// EventCallback returns an Events API body carrying event with eventID.
func EventCallback(eventID string, event map[string]any) []byte {
	b, err := json.Marshal(map[string]any{
		"token":        "legacy-verification-token",
		"team_id":      TeamID,
		"api_app_id":   "A0FAKE",
		"event":        event,
		"type":         "event_callback",
		"event_id":     eventID,
		"event_time":   time.Now().Unix(),
		"authed_users": []string{BotUserID},
	})
	if err != nil {
		panic("fakeslack: " + err.Error())
	}
	return b
}

// ThreadMessage is a message event written by user in the thread of
// threadTS (a top-level message when threadTS is empty or equals ts).
// Modify the map to make bot messages ("bot_id") or subtypes.
func ThreadMessage(channel, threadTS, ts, user, text string) map[string]any {
	e := map[string]any{
		"type":         "message",
		"channel":      channel,
		"user":         user,
		"text":         text,
		"ts":           ts,
		"event_ts":     ts,
		"channel_type": "channel",
	}
	if threadTS != "" {
		e["thread_ts"] = threadTS
	}
	return e
}

// URLVerification returns the body Slack sends to check the events URL.
func URLVerification(challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"token": "legacy-verification-token", "challenge": challenge, "type": "url_verification"})
	return b
}

// SlashCommand returns the form body of a slash command.
func SlashCommand(command, text, userID, channelID string) []byte {
	return []byte(url.Values{
		"token":        {"legacy-verification-token"},
		"team_id":      {TeamID},
		"team_domain":  {"fake"},
		"channel_id":   {channelID},
		"channel_name": {"alerts"},
		"user_id":      {userID},
		"user_name":    {"staff"},
		"command":      {command},
		"text":         {text},
		"api_app_id":   {"A0FAKE"},
		"response_url": {"https://hooks.slack.com/commands/" + TeamID + "/1/fake"},
		"trigger_id":   {"trigger-" + newTS()},
	}.Encode())
}
