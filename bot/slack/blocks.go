package slack

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/koehq/koe"
)

// Slack's Block Kit limits, in characters, that rendering enforces by
// truncation: texts end with an ellipsis when cut; ids and values are cut
// without one.
const (
	MaxTextLen        = 4000 // message fallback text (Slack recommends under 4000)
	MaxHeaderLen      = 150  // header block
	MaxSectionLen     = 3000 // section text, context element
	MaxFieldLen       = 2000 // one section field
	MaxButtonTextLen  = 75   // button label, select option label
	MaxButtonValueLen = 2000 // button value
	MaxActionIDLen    = 255  // action_id, block_id, callback_id
	MaxModalTitleLen  = 24   // modal title, submit and close labels
	MaxInputLabelLen  = 2000 // input block label
	MaxOptionValueLen = 150  // select option value
	MaxMetadataLen    = 3000 // modal private_metadata (longer is an error, not cut)

	maxFieldsPerSection   = 10
	maxElementsPerActions = 25
	maxContextElements    = 10
	maxSelectOptions      = 100
	maxBlocks             = 50
	maxModalBlocks        = 100
)

// UrgentPrefix is put before the header and the fallback text of an urgent
// message.
const UrgentPrefix = "🚨 "

// InputActionID is the action_id of the element inside every input block a
// Modal renders; Submission.Values is keyed by block id only.
const InputActionID = "value"

// Message is a Slack message described without Block Kit. Every text that
// Slack would read as mrkdwn (Text, Field labels and values, Body, Context)
// is escaped (&, <, >) and marked verbatim, so customer text cannot inject
// mentions (<!channel>, <@U…>) or links. Header and button labels are
// plain_text, which Slack never parses. Over-long texts are cut to Slack's
// limits. The zero Message renders to nothing.
type Message struct {
	// Text is the notification and fallback text. When empty, Header is
	// used.
	Text string
	// Header is shown as a header block (at most MaxHeaderLen characters).
	Header string
	// Urgent prefixes the header and the fallback text with UrgentPrefix.
	Urgent bool
	// Fields are shown two per row as "*Label*\nValue" (10 per section).
	Fields []Field
	// Body is a section of free text (at most MaxSectionLen characters).
	Body string
	// Context lines are shown small below the body (at most 10).
	Context []string
	// Buttons are shown in an actions block (25 per block).
	Buttons []Button
	// Key, if set, travels with the message as Slack message metadata, so
	// PostOnce, PostThreadOnce, FindByKey and FindReplyByKey can tell that
	// the message was already posted.
	// It is an identifier such as a case reference, never personal data.
	Key string
}

// Field is one labelled value of a Message.
type Field struct {
	Label string
	Value string
	// UserID, if it is a Slack user id (U… or W…), is appended to the value
	// as a real mention (<@U…>); anything else is ignored. This is the only
	// way to mention someone in a rendered message.
	UserID string
}

// Button is an interactive button. ActionID comes back as Action.ActionID,
// Value as Action.Value.
type Button struct {
	ActionID string
	Text     string
	Value    string
	// Style is "primary", "danger" or "" (default); other values are
	// rendered as the default style.
	Style string
}

// Modal is a form opened with Client.OpenModal. Its submission arrives as a
// Submission with the same CallbackID and PrivateMetadata and the values of
// the inputs keyed by BlockID.
type Modal struct {
	CallbackID string
	// Title, Submit and Close are cut to MaxModalTitleLen characters.
	// Submit defaults to "送信" when the modal has inputs; Close to Slack's
	// default ("Cancel") when empty.
	Title  string
	Submit string
	Close  string
	// PrivateMetadata is returned verbatim with the submission; longer than
	// MaxMetadataLen is an error.
	PrivateMetadata string
	// Body, if set, is an escaped mrkdwn section above the inputs.
	Body   string
	Inputs []Input
}

// Input is one input block of a Modal: a plain-text input, or a static
// select when Options is not empty.
type Input struct {
	// BlockID identifies the value in Submission.Values; it must be
	// non-empty and unique within the modal.
	BlockID     string
	Label       string
	Placeholder string
	Multiline   bool
	Optional    bool
	// MaxLength bounds a text input (0: Slack's limit, 3000).
	MaxLength int
	// Initial is the initial text, or the Value of the initially selected
	// option.
	Initial string
	Options []Option
}

// Option is one choice of a static select.
type Option struct {
	Text  string
	Value string
}

// Escape escapes the three characters Slack's mrkdwn treats as control
// characters (&, <, >), so the text shows as written and cannot form
// mentions or links.
func Escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// truncate cuts s to at most limit characters, ending with "…" when cut.
func truncate(s string, limit int) string {
	if limit <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	rs := []rune(s)
	return string(rs[:limit-1]) + "…"
}

// cut cuts s to at most limit characters without marking the cut; for
// machine-read strings (ids, values).
func cut(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	return string([]rune(s)[:limit])
}

// escapeTruncate escapes s and cuts it so the escaped text has at most
// limit characters, never splitting an entity.
func escapeTruncate(s string, limit int) string {
	if limit <= 0 {
		return ""
	}
	cost := func(r rune) int {
		switch r {
		case '&':
			return 5
		case '<', '>':
			return 4
		}
		return 1
	}
	total := 0
	for _, r := range s {
		total += cost(r)
	}
	if total <= limit {
		return Escape(s)
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		c := cost(r)
		if n+c > limit-1 {
			break
		}
		n += c
		b.WriteString(Escape(string(r)))
	}
	b.WriteString("…")
	return b.String()
}

var userIDPattern = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

func plain(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, true, false)
}

func mrkdwn(s string) *slackapi.TextBlockObject {
	return &slackapi.TextBlockObject{Type: slackapi.MarkdownType, Text: s, Verbatim: true}
}

// fallbackText is the escaped notification text of m.
func fallbackText(m Message) string {
	t := m.Text
	if t == "" {
		t = m.Header
	}
	if t == "" {
		return ""
	}
	if m.Urgent {
		t = UrgentPrefix + t
	}
	return escapeTruncate(t, MaxTextLen)
}

// RenderMessage turns m into the fallback text (escaped) and blocks for
// chat.postMessage, chat.update or a slash-command response. It is pure.
// Blocks past Slack's limit of 50 are dropped.
func RenderMessage(m Message) (text string, blocks []slackapi.Block) {
	text = fallbackText(m)
	if h := strings.TrimSpace(m.Header); h != "" {
		if m.Urgent {
			h = UrgentPrefix + h
		}
		blocks = append(blocks, slackapi.NewHeaderBlock(plain(truncate(h, MaxHeaderLen))))
	}
	var fields []*slackapi.TextBlockObject
	for _, f := range m.Fields {
		if t := renderField(f); t != "" {
			fields = append(fields, mrkdwn(t))
		}
	}
	for len(fields) > 0 {
		n := min(len(fields), maxFieldsPerSection)
		blocks = append(blocks, slackapi.NewSectionBlock(nil, fields[:n], nil))
		fields = fields[n:]
	}
	if m.Body != "" {
		blocks = append(blocks, slackapi.NewSectionBlock(mrkdwn(escapeTruncate(m.Body, MaxSectionLen)), nil, nil))
	}
	var ctx []slackapi.MixedElement
	for _, c := range m.Context {
		if c == "" || len(ctx) == maxContextElements {
			continue
		}
		ctx = append(ctx, mrkdwn(escapeTruncate(c, MaxSectionLen)))
	}
	if len(ctx) > 0 {
		blocks = append(blocks, slackapi.NewContextBlock("", ctx...))
	}
	var buttons []slackapi.BlockElement
	for _, b := range m.Buttons {
		if b.ActionID == "" || b.Text == "" {
			continue
		}
		el := slackapi.NewButtonBlockElement(cut(b.ActionID, MaxActionIDLen), cut(b.Value, MaxButtonValueLen), plain(truncate(b.Text, MaxButtonTextLen)))
		switch b.Style {
		case "primary":
			el.Style = slackapi.StylePrimary
		case "danger":
			el.Style = slackapi.StyleDanger
		}
		buttons = append(buttons, el)
	}
	for len(buttons) > 0 {
		n := min(len(buttons), maxElementsPerActions)
		blocks = append(blocks, slackapi.NewActionBlock("", buttons[:n]...))
		buttons = buttons[n:]
	}
	if len(blocks) > maxBlocks {
		blocks = blocks[:maxBlocks]
	}
	return text, blocks
}

func renderField(f Field) string {
	var mention string
	if userIDPattern.MatchString(f.UserID) {
		mention = "<@" + f.UserID + ">"
	}
	if f.Label == "" && f.Value == "" && mention == "" {
		return ""
	}
	var b strings.Builder
	if f.Label != "" {
		b.WriteString("*" + escapeTruncate(f.Label, 200) + "*\n")
	}
	room := MaxFieldLen - utf8.RuneCountInString(b.String())
	if mention != "" {
		room -= utf8.RuneCountInString(mention) + 1
	}
	if f.Value != "" {
		b.WriteString(escapeTruncate(f.Value, room))
		if mention != "" {
			b.WriteString(" ")
		}
	}
	b.WriteString(mention)
	return b.String()
}

// RenderModal turns v into a views.open request. It fails (wrapping
// koe.ErrInvalid) when an input has no block id or a duplicate one, when
// PrivateMetadata is longer than MaxMetadataLen, or when the title is empty;
// texts are cut to Slack's limits.
func RenderModal(v Modal) (slackapi.ModalViewRequest, error) {
	if strings.TrimSpace(v.Title) == "" {
		return slackapi.ModalViewRequest{}, fmt.Errorf("slack: modal: title is required: %w", koe.ErrInvalid)
	}
	if n := utf8.RuneCountInString(v.PrivateMetadata); n > MaxMetadataLen {
		return slackapi.ModalViewRequest{}, fmt.Errorf("slack: modal: private metadata has %d characters, max %d: %w", n, MaxMetadataLen, koe.ErrInvalid)
	}
	req := slackapi.ModalViewRequest{
		Type:            slackapi.VTModal,
		Title:           plain(truncate(v.Title, MaxModalTitleLen)),
		CallbackID:      cut(v.CallbackID, MaxActionIDLen),
		PrivateMetadata: v.PrivateMetadata,
	}
	var blocks []slackapi.Block
	if v.Body != "" {
		blocks = append(blocks, slackapi.NewSectionBlock(mrkdwn(escapeTruncate(v.Body, MaxSectionLen)), nil, nil))
	}
	seen := map[string]bool{}
	for i, in := range v.Inputs {
		if in.BlockID == "" || len(in.BlockID) > MaxActionIDLen {
			return slackapi.ModalViewRequest{}, fmt.Errorf("slack: modal: input %d: block id must have 1 to %d bytes: %w", i, MaxActionIDLen, koe.ErrInvalid)
		}
		if seen[in.BlockID] {
			return slackapi.ModalViewRequest{}, fmt.Errorf("slack: modal: input %d: duplicate block id %q: %w", i, in.BlockID, koe.ErrInvalid)
		}
		seen[in.BlockID] = true
		blocks = append(blocks, renderInput(in))
	}
	if len(blocks) > maxModalBlocks {
		return slackapi.ModalViewRequest{}, fmt.Errorf("slack: modal: %d blocks, max %d: %w", len(blocks), maxModalBlocks, koe.ErrInvalid)
	}
	req.Blocks = slackapi.Blocks{BlockSet: blocks}
	submit := v.Submit
	if submit == "" && len(v.Inputs) > 0 {
		submit = "送信"
	}
	if submit != "" {
		req.Submit = plain(truncate(submit, MaxModalTitleLen))
	}
	if v.Close != "" {
		req.Close = plain(truncate(v.Close, MaxModalTitleLen))
	}
	return req, nil
}

func renderInput(in Input) *slackapi.InputBlock {
	label := in.Label
	if label == "" {
		label = in.BlockID
	}
	var placeholder *slackapi.TextBlockObject
	if in.Placeholder != "" {
		placeholder = plain(truncate(in.Placeholder, 150))
	}
	var el slackapi.BlockElement
	if len(in.Options) > 0 {
		var opts []*slackapi.OptionBlockObject
		var initial *slackapi.OptionBlockObject
		for _, o := range in.Options {
			if len(opts) == maxSelectOptions {
				break
			}
			ob := slackapi.NewOptionBlockObject(cut(o.Value, MaxOptionValueLen), plain(truncate(o.Text, MaxButtonTextLen)), nil)
			if in.Initial != "" && o.Value == in.Initial && initial == nil {
				initial = ob
			}
			opts = append(opts, ob)
		}
		sel := slackapi.NewOptionsSelectBlockElement(slackapi.OptTypeStatic, placeholder, InputActionID, opts...)
		sel.InitialOption = initial
		el = sel
	} else {
		ti := slackapi.NewPlainTextInputBlockElement(placeholder, InputActionID)
		ti.Multiline = in.Multiline
		if in.MaxLength > 0 {
			ti.MaxLength = min(in.MaxLength, 3000)
		}
		if in.Initial != "" {
			ti.InitialValue = truncate(in.Initial, 3000)
		}
		el = ti
	}
	b := slackapi.NewInputBlock(in.BlockID, plain(truncate(label, MaxInputLabelLen)), nil, el)
	b.Optional = in.Optional
	return b
}
