package line

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/koehq/koe"
)

// The Messaging API's message objects, as LINE documents them and as the
// SDK's messaging_api types serialise them (the golden files in
// testdata/render hold both to the same bytes). They are our own structs
// because the SDK's MarshalJSON methods cost about 70 µs per reply, a fifth
// of Koe's CPU per event under load (BenchmarkIntake, pprof).
type (
	lineMessage struct {
		QuickReply *quickReply     `json:"quickReply,omitempty"`
		Text       string          `json:"text,omitempty"`
		AltText    string          `json:"altText,omitempty"`
		Contents   json.RawMessage `json:"contents,omitempty"`
		Type       string          `json:"type"`
	}
	quickReply struct {
		Items []quickReplyItem `json:"items"`
	}
	quickReplyItem struct {
		Action *lineAction `json:"action"`
		Type   string      `json:"type"` // always "action", which LINE requires
	}
	lineAction struct {
		Label       string `json:"label,omitempty"`
		Data        string `json:"data,omitempty"`
		DisplayText string `json:"displayText,omitempty"`
		Text        string `json:"text,omitempty"`
		URI         string `json:"uri,omitempty"`
		Mode        string `json:"mode,omitempty"`
		Initial     string `json:"initial,omitempty"`
		Max         string `json:"max,omitempty"`
		Min         string `json:"min,omitempty"`
		Type        string `json:"type"`
	}
	replyRequest struct {
		ReplyToken string        `json:"replyToken"`
		Messages   []lineMessage `json:"messages"`
	}
	pushRequest struct {
		To       string        `json:"to"`
		Messages []lineMessage `json:"messages"`
	}
)

// LINE's limits that rendering enforces.
const (
	maxTextUnits       = 5000 // UTF-16 code units per text message
	maxPartsPerText    = 5    // a longer text is truncated after this many messages
	maxQuickReplies    = 13
	maxQuickLabel      = 20 // characters
	maxButtonLabel     = 40 // characters, flex button
	maxAltText         = 400
	maxDisplayText     = 300
	maxPostbackData    = 300 // bytes
	maxMessagesPerCall = 5
	ellipsis           = "…"
)

// Colours of the card header.
const (
	headerColour       = "#1F4E79"
	headerUrgentColour = "#C62828"
)

// render turns a batch of replies into LINE messages, in order. Quick
// replies go on the last message only: the latest non-empty set in the
// batch is used. Replies with neither text nor card produce nothing. It
// fails (koe.ErrInvalid) only for input LINE would refuse and that cannot
// be shortened without changing its meaning (postback data over 300 bytes).
func render(replies []koe.Reply) ([]lineMessage, error) {
	var (
		msgs  []lineMessage
		quick []koe.Action
	)
	for _, r := range replies {
		if len(r.QuickReplies) > 0 {
			quick = r.QuickReplies
		}
		for _, part := range splitText(r.Text) {
			msgs = append(msgs, lineMessage{Type: "text", Text: part})
		}
		if r.Card != nil {
			m, err := renderCard(r.Card)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, m)
		}
	}
	if len(msgs) == 0 || len(quick) == 0 {
		return msgs, nil
	}
	qr, err := renderQuickReply(quick)
	if err != nil {
		return nil, err
	}
	msgs[len(msgs)-1].QuickReply = qr
	return msgs, nil
}

// splitText cuts s into parts of at most maxTextUnits UTF-16 units,
// preferring a paragraph break, then a line break, then a space, then any
// character boundary. After maxPartsPerText parts the rest is dropped and
// the last part ends with "…". Blank text gives no parts.
func splitText(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var parts []string
	for s != "" {
		if utf16Len(s) <= maxTextUnits {
			parts = append(parts, s)
			break
		}
		if len(parts) == maxPartsPerText-1 {
			parts = append(parts, truncateUnits(s, maxTextUnits-1)+ellipsis)
			break
		}
		head := truncateUnits(s, maxTextUnits)
		cut := len(head)
		for _, sep := range []string{"\n\n", "\n", " ", "　"} {
			if i := strings.LastIndex(head, sep); i > len(head)/2 {
				cut = i + len(sep)
				break
			}
		}
		part := strings.TrimRightFunc(s[:cut], unicode.IsSpace)
		if part != "" {
			parts = append(parts, part)
		}
		s = strings.TrimLeftFunc(s[cut:], unicode.IsSpace)
	}
	return parts
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

// truncateUnits returns the longest prefix of s of at most max UTF-16 units
// that ends on a character boundary.
func truncateUnits(s string, max int) string {
	n := 0
	for i, r := range s {
		l := utf16.RuneLen(r)
		if l < 0 {
			l = 1
		}
		if n+l > max {
			return s[:i]
		}
		n += l
	}
	return s
}

// truncateChars shortens s to at most max characters, ending with "…" when
// it was cut.
func truncateChars(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + ellipsis
}

func renderQuickReply(actions []koe.Action) (*quickReply, error) {
	if len(actions) > maxQuickReplies {
		actions = actions[:maxQuickReplies]
	}
	qr := &quickReply{}
	for _, a := range actions {
		act, err := renderAction(a, maxQuickLabel, true)
		if err != nil {
			return nil, err
		}
		if act == nil {
			continue
		}
		qr.Items = append(qr.Items, quickReplyItem{Type: "action", Action: act})
	}
	if len(qr.Items) == 0 {
		return nil, nil
	}
	return qr, nil
}

// renderAction maps an action; it returns nil for actions the place cannot
// hold (camera, camera roll and location are quick-reply only).
func renderAction(a koe.Action, maxLabel int, quick bool) (*lineAction, error) {
	label := truncateChars(strings.TrimSpace(a.Label), maxLabel)
	if label == "" {
		label = truncateChars(strings.TrimSpace(a.Text), maxLabel)
	}
	if len(a.Data) > maxPostbackData {
		return nil, fmt.Errorf("line: render: action %q: postback data is %d bytes, max %d: %w", a.Kind, len(a.Data), maxPostbackData, koe.ErrInvalid)
	}
	switch a.Kind {
	case koe.ActionPostback:
		return &lineAction{Type: "postback", Label: label, Data: a.Data, DisplayText: truncateChars(a.Text, maxDisplayText)}, nil
	case koe.ActionMessage:
		text := a.Text
		if text == "" {
			text = a.Label
		}
		return &lineAction{Type: "message", Label: label, Text: text}, nil
	case koe.ActionURI:
		return &lineAction{Type: "uri", Label: label, URI: a.URL}, nil
	case koe.ActionDatetime:
		p := koe.DatetimePicker{Mode: "datetime"}
		if a.Picker != nil {
			p = *a.Picker
			if p.Mode == "" {
				p.Mode = "datetime"
			}
		}
		return &lineAction{
			Type: "datetimepicker", Label: label, Data: a.Data, Mode: p.Mode,
			Initial: p.Initial, Min: p.Min, Max: p.Max,
		}, nil
	case koe.ActionLocation:
		if quick {
			return &lineAction{Type: "location", Label: label}, nil
		}
	case koe.ActionCamera:
		if quick {
			return &lineAction{Type: "camera", Label: label}, nil
		}
	case koe.ActionCameraRoll:
		if quick {
			return &lineAction{Type: "cameraRoll", Label: label}, nil
		}
	}
	return nil, nil
}

// Flex JSON, written by hand: the SDK's flex types emit "flex":0 on every
// component, which squashes horizontal layouts.
type (
	flexBubble struct {
		Type   string    `json:"type"`
		Header *flexBox  `json:"header,omitempty"`
		Body   *flexBox  `json:"body,omitempty"`
		Footer *flexBox  `json:"footer,omitempty"`
		Styles *flexStyl `json:"styles,omitempty"`
	}
	flexStyl struct {
		Header flexBlockStyle `json:"header"`
	}
	flexBlockStyle struct {
		BackgroundColor string `json:"backgroundColor"`
	}
	flexBox struct {
		Type     string `json:"type"`
		Layout   string `json:"layout"`
		Spacing  string `json:"spacing,omitempty"`
		Margin   string `json:"margin,omitempty"`
		Contents []any  `json:"contents"`
	}
	flexText struct {
		Type   string `json:"type"`
		Text   string `json:"text"`
		Size   string `json:"size,omitempty"`
		Weight string `json:"weight,omitempty"`
		Color  string `json:"color,omitempty"`
		Flex   *int   `json:"flex,omitempty"`
		Wrap   bool   `json:"wrap,omitempty"`
		Margin string `json:"margin,omitempty"`
	}
	flexSeparator struct {
		Type   string `json:"type"`
		Margin string `json:"margin,omitempty"`
	}
	flexButton struct {
		Type   string      `json:"type"`
		Style  string      `json:"style"`
		Height string      `json:"height"`
		Action *lineAction `json:"action"`
	}
)

func intp(i int) *int { return &i }

// orDash keeps flex texts non-empty, which LINE requires.
func orDash(s string) string { return cmp.Or(strings.TrimSpace(s), "-") }

func renderCard(c *koe.Card) (lineMessage, error) {
	bg := headerColour
	if c.Urgent {
		bg = headerUrgentColour
	}
	title := orDash(c.Title)
	b := flexBubble{
		Type: "bubble",
		Header: &flexBox{Type: "box", Layout: "vertical", Contents: []any{
			flexText{Type: "text", Text: title, Size: "lg", Weight: "bold", Color: "#FFFFFF", Wrap: true},
		}},
		Styles: &flexStyl{Header: flexBlockStyle{BackgroundColor: bg}},
	}
	var body []any
	for _, f := range c.Fields {
		body = append(body, flexBox{Type: "box", Layout: "baseline", Spacing: "sm", Contents: []any{
			flexText{Type: "text", Text: orDash(f.Label), Size: "sm", Color: "#888888", Flex: intp(2), Wrap: true},
			flexText{Type: "text", Text: orDash(f.Value), Size: "sm", Color: "#222222", Flex: intp(5), Wrap: true},
		}})
	}
	if note := strings.TrimSpace(c.Note); note != "" {
		if len(body) > 0 {
			body = append(body, flexSeparator{Type: "separator", Margin: "md"})
		}
		body = append(body, flexText{Type: "text", Text: note, Size: "xs", Color: "#666666", Wrap: true, Margin: "md"})
	}
	if len(body) > 0 {
		b.Body = &flexBox{Type: "box", Layout: "vertical", Spacing: "sm", Contents: body}
	}
	var buttons []any
	for _, a := range c.Buttons {
		act, err := renderAction(a, maxButtonLabel, false)
		if err != nil {
			return lineMessage{}, err
		}
		if act == nil {
			continue
		}
		style := "secondary"
		if len(buttons) == 0 {
			style = "primary"
		}
		buttons = append(buttons, flexButton{Type: "button", Style: style, Height: "sm", Action: act})
	}
	if len(buttons) > 0 {
		b.Footer = &flexBox{Type: "box", Layout: "vertical", Spacing: "sm", Contents: buttons}
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return lineMessage{}, fmt.Errorf("line: render card: %w", err)
	}
	alt := strings.TrimSpace(c.AltText)
	if alt == "" {
		alt = title
	}
	return lineMessage{Type: "flex", AltText: truncateChars(alt, maxAltText), Contents: raw}, nil
}
