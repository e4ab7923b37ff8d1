package fakeline

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"time"
)

// Destination is the bot user id Body puts in webhook bodies.
const Destination = "U00000000000000000000000000000000"

// Sign returns the X-Line-Signature of body for secret: base64 of
// HMAC-SHA256(secret, body).
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// NewWebhookRequest returns a POST request of body to target signed with
// secret, as LINE would send it.
func NewWebhookRequest(target, secret string, body []byte) *http.Request {
	r, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		panic("fakeline: " + err.Error())
	}
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	r.Header.Set("X-Line-Signature", Sign(secret, body))
	return r
}

// Event is one webhook event object. Builders return a fresh map; the
// modifier methods change it in place and return it for chaining.
type Event map[string]any

// Body returns a webhook request body holding events, in order.
func Body(events ...Event) []byte {
	if events == nil {
		events = []Event{}
	}
	b, err := json.Marshal(map[string]any{"destination": Destination, "events": events})
	if err != nil {
		panic("fakeline: " + err.Error())
	}
	return b
}

func base(typ, id, user string) Event {
	return Event{
		"type":            typ,
		"mode":            "active",
		"timestamp":       time.Now().UnixMilli(),
		"source":          map[string]any{"type": "user", "userId": user},
		"webhookEventId":  id,
		"deliveryContext": map[string]any{"isRedelivery": false},
	}
}

func withReply(e Event, id, user string) Event {
	e["replyToken"] = ReplyToken(id, user)
	return e
}

func message(id, user string, msg map[string]any) Event {
	msg["id"] = "m-" + id
	msg["quoteToken"] = "q-" + id
	e := withReply(base("message", id, user), id, user)
	e["message"] = msg
	return e
}

// TextEvent is a text message event; its message id is "m-"+id and its
// reply token ReplyToken(id, user).
func TextEvent(id, user, text string) Event {
	return message(id, user, map[string]any{"type": "text", "text": text})
}

// LocationEvent is a location message event.
func LocationEvent(id, user, title, address string, lat, lon float64) Event {
	return message(id, user, map[string]any{"type": "location", "title": title, "address": address, "latitude": lat, "longitude": lon})
}

// ImageEvent is an image message event whose content id (message id) is
// "m-"+id.
func ImageEvent(id, user string) Event {
	return message(id, user, map[string]any{"type": "image", "contentProvider": map[string]any{"type": "line"}})
}

// StickerEvent is a sticker message event.
func StickerEvent(id, user, packageID, stickerID string, keywords ...string) Event {
	return message(id, user, map[string]any{"type": "sticker", "packageId": packageID, "stickerId": stickerID,
		"stickerResourceType": "STATIC", "keywords": keywords})
}

// VideoEvent is a video message event (a type Koe ignores).
func VideoEvent(id, user string) Event {
	return message(id, user, map[string]any{"type": "video", "duration": 1000, "contentProvider": map[string]any{"type": "line"}})
}

// PostbackEvent is a postback event; params may be nil (datetime pickers
// send "date", "time" or "datetime").
func PostbackEvent(id, user, data string, params map[string]string) Event {
	e := withReply(base("postback", id, user), id, user)
	pb := map[string]any{"data": data}
	if params != nil {
		pb["params"] = maps.Clone(params)
	}
	e["postback"] = pb
	return e
}

// FollowEvent is a follow (friend added or unblocked) event.
func FollowEvent(id, user string) Event {
	e := withReply(base("follow", id, user), id, user)
	e["follow"] = map[string]any{"isUnblocked": false}
	return e
}

// UnfollowEvent is an unfollow (blocked) event; it has no reply token.
func UnfollowEvent(id, user string) Event { return base("unfollow", id, user) }

// RawEvent is an event of any type with the common fields set, for event
// types without a builder (e.g. "beacon", "join").
func RawEvent(typ, id, user string) Event { return base(typ, id, user) }

// Standby sets mode "standby" (another channel owns the chat; no reply
// token).
func (e Event) Standby() Event {
	e["mode"] = "standby"
	delete(e, "replyToken")
	return e
}

// Redelivered marks the event as a redelivery.
func (e Event) Redelivered() Event {
	e["deliveryContext"] = map[string]any{"isRedelivery": true}
	return e
}

// At sets the event timestamp.
func (e Event) At(t time.Time) Event {
	e["timestamp"] = t.UnixMilli()
	return e
}

// FromGroup makes the event come from a group chat (the user is kept as the
// speaker).
func (e Event) FromGroup(groupID string) Event {
	src, _ := e["source"].(map[string]any)
	e["source"] = map[string]any{"type": "group", "groupId": groupID, "userId": src["userId"]}
	return e
}

// FromRoom makes the event come from a multi-person chat.
func (e Event) FromRoom(roomID string) Event {
	src, _ := e["source"].(map[string]any)
	e["source"] = map[string]any{"type": "room", "roomId": roomID, "userId": src["userId"]}
	return e
}
