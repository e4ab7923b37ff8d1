package koe

// Reply is one message bubble Koe sends to a customer: a text or a card,
// with optional quick replies. Channels render it in their own format; a
// channel that cannot show quick replies lists them as numbered choices.
// Only the last reply of a turn should carry quick replies (LINE shows only
// those).
type Reply struct {
	Text         string   `json:"text,omitempty"`
	Card         *Card    `json:"card,omitempty"`
	QuickReplies []Action `json:"quickReplies,omitempty"`
}

// ActionKind is what tapping an action does.
type ActionKind string

// Action kinds. Camera, camera roll and location open the phone's pickers;
// datetime opens a date/time picker whose answer arrives as a postback.
const (
	ActionPostback   ActionKind = "postback"
	ActionMessage    ActionKind = "message"
	ActionURI        ActionKind = "uri"
	ActionLocation   ActionKind = "location"
	ActionCamera     ActionKind = "camera"
	ActionCameraRoll ActionKind = "cameraRoll"
	ActionDatetime   ActionKind = "datetime"
)

// Action is a quick reply or a card button.
//
//   - Postback: Data is sent back (≤ 300 bytes); Text, if set, is shown in the
//     chat as the customer's words.
//   - Message: Text is sent as if the customer typed it.
//   - URI: URL is opened.
//   - Datetime: Data is sent back with the picked value; Picker sets the mode
//     and bounds.
type Action struct {
	Kind   ActionKind      `json:"kind"`
	Label  string          `json:"label"`
	Data   string          `json:"data,omitempty"`
	Text   string          `json:"text,omitempty"`
	URL    string          `json:"url,omitempty"`
	Picker *DatetimePicker `json:"picker,omitempty"`
}

// DatetimePicker configures a datetime action. Mode is "datetime", "date" or
// "time"; Initial, Min and Max use LINE's formats ("2026-11-22T14:00",
// "2026-11-22", "14:00") and may be empty.
type DatetimePicker struct {
	Mode    string `json:"mode"`
	Initial string `json:"initial,omitempty"`
	Min     string `json:"min,omitempty"`
	Max     string `json:"max,omitempty"`
}

// Card is a structured summary (a LINE Flex bubble): a title, labelled
// fields and buttons. AltText is what notifications and old clients show.
type Card struct {
	AltText string      `json:"altText"`
	Title   string      `json:"title"`
	Note    string      `json:"note,omitempty"`
	Fields  []CardField `json:"fields,omitempty"`
	Buttons []Action    `json:"buttons,omitempty"`
	// Urgent colours the header to draw attention.
	Urgent bool `json:"urgent,omitempty"`
}

// CardField is one labelled line of a card.
type CardField struct {
	Label string `json:"label"`
	Value string `json:"value"`
}
