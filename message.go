package koe

import (
	"log/slog"
	"time"
)

// MessageKind says what a customer did.
type MessageKind string

// The kinds of inbound messages. Channels map their platform events onto
// these; anything else is dropped at the channel edge.
const (
	KindText     MessageKind = "text"
	KindPostback MessageKind = "postback" // a tapped button or quick reply carrying data
	KindLocation MessageKind = "location"
	KindImage    MessageKind = "image"
	KindSticker  MessageKind = "sticker"
	KindFollow   MessageKind = "follow"   // added as a friend (or unblocked)
	KindUnfollow MessageKind = "unfollow" // blocked; nothing can be sent back
	// KindStaff is not from the customer but from staff, about the
	// customer's conversation (a reply typed in Slack, the end of a
	// handoff). It travels through the customer's inbox so it is ordered
	// with the customer's own messages.
	KindStaff MessageKind = "staff"
)

// Message is one inbound event from a customer, channel-neutral.
//
// ID is the platform's event id (LINE's webhookEventId); it is the key the
// inbox deduplicates on and the key that makes every effect of processing the
// message idempotent.
type Message struct {
	ID         string      `json:"id"`
	User       UserID      `json:"user"`
	Kind       MessageKind `json:"kind"`
	Text       string      `json:"text,omitempty"`
	Postback   *Postback   `json:"postback,omitempty"`
	Location   *Location   `json:"location,omitempty"`
	Image      *Image      `json:"image,omitempty"`
	Sticker    *Sticker    `json:"sticker,omitempty"`
	Staff      *StaffNote  `json:"staff,omitempty"`
	ReplyToken string      `json:"replyToken,omitempty"`
	// SentAt is when the customer acted, by the platform's clock.
	SentAt time.Time `json:"sentAt"`
	// Redelivery is set when the platform says it is sending the event again.
	Redelivery bool `json:"redelivery,omitempty"`
}

// Postback is the data of a tapped action. Params holds the datetime
// picker's answer under "date", "time" or "datetime".
type Postback struct {
	Data   string            `json:"data"`
	Params map[string]string `json:"params,omitempty"`
}

// Location is a place the customer shared.
type Location struct {
	Title     string  `json:"title,omitempty"`
	Address   string  `json:"address,omitempty"`
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

// Image refers to a picture the customer sent. ContentID is what the channel
// needs to fetch the bytes (LINE's message id); Path is set for pictures that
// are already local (the console's /image PATH).
type Image struct {
	ContentID string `json:"contentId,omitempty"`
	Path      string `json:"path,omitempty"`
}

// StaffNote is what staff did in a KindStaff message; Action is one of the
// Staff* actions.
type StaffNote struct {
	CaseRef string `json:"caseRef"`
	Action  string `json:"action"`
	Text    string `json:"text,omitempty"`
	By      string `json:"by,omitempty"` // staff display name
}

// Staff actions of a StaffNote.
const (
	StaffReply  = "reply"  // Text is the staff member's answer to the customer
	StaffEnd    = "end"    // the handoff of the case is over
	StaffClose  = "close"  // the case is closed; the customer is told
	StaffSurvey = "survey" // CaseRef is a survey to ask now (dialogs/survey)
)

// LocalContentPrefix starts a content id that names a file on this machine
// rather than content held by a channel (the console's /image PATH becomes
// "file:PATH").
const LocalContentPrefix = "file:"

// Sticker is a LINE sticker; Keywords are LINE's hints of its meaning.
type Sticker struct {
	PackageID string   `json:"packageId"`
	StickerID string   `json:"stickerId"`
	Keywords  []string `json:"keywords,omitempty"`
}

// LogValue keeps personal data out of logs: it shows the id, kind and
// channel, and only the length of any text.
func (m Message) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("id", m.ID),
		slog.String("kind", string(m.Kind)),
		slog.String("channel", string(m.User.Channel())),
		slog.String("user", m.User.Hash()),
	}
	if m.Text != "" {
		attrs = append(attrs, slog.Int("text_len", len([]rune(m.Text))))
	}
	if m.Redelivery {
		attrs = append(attrs, slog.Bool("redelivery", true))
	}
	return slog.GroupValue(attrs...)
}
