package staff

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/followup"
	"github.com/koehq/koe/bot/slack"
	"github.com/koehq/koe/classifier"
	"github.com/koehq/koe/dialogs/jpinput"
)

// Job kinds of case follow-up. Every job's Ref is the case reference.
const (
	// JobCaseAlert posts the case's Slack alert (once per case).
	JobCaseAlert = "case.alert"
	// JobCaseUpdate redraws the alert with the case's current state.
	JobCaseUpdate = "case.update"
	// JobCaseRelay posts a customer's message during a handoff in the
	// alert's thread. Attrs["voice"] is the voice id of a text or location;
	// Attrs["content"] the content id of a picture (a LINE message id, or
	// koe.LocalContentPrefix and a path for the console); Attrs "package",
	// "sticker" and "keywords" (comma-separated) describe a sticker.
	JobCaseRelay = "case.relay"
	// JobCaseHandoffEnd notes the end of a handoff in the alert's thread;
	// Attrs["by"] is "customer" or "staff".
	JobCaseHandoffEnd = "case.handoff_end"
	// JobCaseThread posts a staff reply sent from the 返信 modal, or a note
	// for staff, in the alert's thread; Attrs "text", "by" and "what"
	// ("reply" or "note").
	JobCaseThread = "case.thread"
	// JobCaseNotify tells the customer that the case was closed, through
	// the customer's inbox (a KindStaff message with Action koe.StaffClose).
	JobCaseNotify = "case.notify"
)

// Slack action ids of the case alert's buttons; the button value is the
// case reference. All start with "case.".
const (
	ActionCaseAck        = "case.ack"        // 受付確認
	ActionCaseAssign     = "case.assign"     // 担当する
	ActionCaseResponded  = "case.responded"  // 回答済み
	ActionCaseClose      = "case.close"      // 完了 (opens the close modal)
	ActionCaseReclassify = "case.reclassify" // 再分類 (opens the reclassify modal)
	ActionCaseReply      = "case.reply"      // 返信 (opens the reply modal)
	ActionCaseDetail     = "case.detail"     // 原文 (opens the unmasked text for the presser only)
)

// Callback ids of the case modals; PrivateMetadata is the case reference.
const (
	CallbackCaseClose      = "case.close"
	CallbackCaseReclassify = "case.reclassify"
	CallbackCaseReply      = "case.reply"
)

// Block ids of the modals' inputs (the keys of Submission.Values).
const (
	BlockRootCause = "root_cause"
	BlockAction    = "action"
	BlockKind      = "kind"
	BlockTopic     = "topic"
	BlockReplyText = "text"
)

// MaxReplyLen bounds a staff reply typed in the 返信 modal (characters).
const MaxReplyLen = 2000

// CasesSlack is what the case side needs of Slack (bot/slack.Client).
// Alerts and the posts in their threads are posted exactly once: with a
// Key, through PostOnce and PostThreadOnce, so a post whose answer was lost
// or whose job was repeated is found instead of being posted again.
type CasesSlack interface {
	Post(ctx context.Context, channel string, msg slack.Message) (string, error)
	Update(ctx context.Context, channel, ts string, msg slack.Message) error
	OpenModal(ctx context.Context, triggerID string, view slack.Modal) error
	// PostOnce posts msg unless a message with its Key is in channel
	// since then (see bot/slack.Client.PostOnce).
	PostOnce(ctx context.Context, channel string, msg slack.Message, since time.Time, recheck bool) (string, error)
	// PostThreadOnce posts msg in the thread of threadTS unless a reply
	// with its Key is there (see bot/slack.Client.PostThreadOnce).
	PostThreadOnce(ctx context.Context, channel, threadTS string, msg slack.Message, recheck bool) (string, error)
	// FindReplyByKey looks for a reply with key in the thread of threadTS
	// (see bot/slack.Client.FindReplyByKey).
	FindReplyByKey(ctx context.Context, channel, threadTS, key string) (ts string, found bool, err error)
	// UploadToThread shares a file in the thread of threadTS (see
	// bot/slack.Client.UploadToThread).
	UploadToThread(ctx context.Context, channel, threadTS, filename string, data []byte, title string) error
}

// PhotoFetcher fetches a picture a customer sent and keeps it under the
// data dir (bot.PhotoFetcher). It is idempotent by (user, content id). An
// error wrapping koe.ErrInvalid or koe.ErrNotFound means the picture can
// never be fetched (LINE keeps content only for a while; no source for
// the channel); any other error is worth a retry.
type PhotoFetcher interface {
	FetchPhoto(ctx context.Context, user koe.UserID, contentID string) (koe.Photo, error)
}

// Appender is the part of koe.Inbox that delivers staff messages to a
// customer's conversation, in order with the customer's own messages.
type Appender interface {
	Append(ctx context.Context, msgs ...koe.Message) (int, error)
}

// CasesConfig wires Cases.
type CasesConfig struct {
	Cases  koe.CaseStore
	Voices koe.VoiceStore
	Queue  koe.Queue
	Slack  CasesSlack
	// Channels maps a case type to its alert channel: complaint →
	// SLACK_CHANNEL_COMPLAINTS, inquiry → SLACK_CHANNEL_INQUIRIES. A case
	// whose type has no channel is not alerted (its job is dead-lettered).
	Channels map[koe.CaseType]string
	// Inbox receives staff replies and notes for the customer.
	Inbox Appender
	// Photos fetches the pictures customers send during a handoff, to
	// upload them to the alert's thread; DataDir is where the paths of
	// its photos are relative to. Without Photos staff are told that a
	// picture was sent but could not be retrieved.
	Photos  PhotoFetcher
	DataDir string
	// Corrections receives one TSV line per reclassification, in the
	// classifier's training format (see classifier.ReadExamples); nil
	// drops them. OpenCorrections opens the usual file. Writes are
	// serialised by Cases.
	Corrections io.Writer
	// Wake is called after jobs were enqueued (the worker's Notify).
	Wake   func()
	Now    func() time.Time
	Logger *slog.Logger
}

// Cases is the staff side of complaints and escalated inquiries: the Slack
// alert of each case, the buttons and modals that move it through its
// lifecycle, and the handoff between staff in the alert's thread and the
// customer on LINE. It is safe for concurrent use.
type Cases struct {
	cfg CasesConfig
	log *slog.Logger
	wmu sync.Mutex // serialises writes to cfg.Corrections
}

// NewCases checks cfg: Cases, Voices, Queue, Slack, Inbox and at least one
// channel are required (an error wrapping koe.ErrInvalid otherwise).
func NewCases(cfg CasesConfig) (*Cases, error) {
	if cfg.Cases == nil || cfg.Voices == nil || cfg.Queue == nil || cfg.Slack == nil || cfg.Inbox == nil || len(cfg.Channels) == 0 {
		return nil, fmt.Errorf("staff: cases: case store, voice store, queue, slack, inbox and channels are required: %w", koe.ErrInvalid)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cs := &Cases{cfg: cfg, log: log}
	return cs, nil
}

// Handlers returns the follow-up handlers of case jobs.
func (cs *Cases) Handlers() map[string]followup.Handler {
	return map[string]followup.Handler{
		JobCaseAlert:      followup.HandlerFunc(cs.alert),
		JobCaseUpdate:     followup.HandlerFunc(cs.update),
		JobCaseRelay:      followup.HandlerFunc(cs.relay),
		JobCaseHandoffEnd: followup.HandlerFunc(cs.handoffEnd),
		JobCaseThread:     followup.HandlerFunc(cs.thread),
		JobCaseNotify:     followup.HandlerFunc(cs.notify),
	}
}

// alertSkew is how far before a case's creation PostOnce looks for an
// earlier post of its alert (clocks of Koe and Slack differ).
const alertSkew = 10 * time.Minute

// alert posts the case's Slack alert unless it has one, then records it.
func (cs *Cases) alert(ctx context.Context, job koe.Job) error {
	c, err := cs.load(ctx, job.Ref)
	if err != nil {
		return err
	}
	if c.Alert != nil {
		return nil
	}
	channel := cs.cfg.Channels[c.Type]
	if channel == "" {
		return fmt.Errorf("staff: no alert channel for case type %q: %w", c.Type, koe.ErrInvalid)
	}
	msg := CaseAlert(c, cs.cfg.Now())
	// A redelivered job (the process may have died between posting and
	// recording the post) looks for the earlier post first.
	ts, err := cs.cfg.Slack.PostOnce(ctx, channel, msg, c.CreatedAt.Add(-alertSkew), followup.Attempt(ctx) > 1)
	if err != nil {
		return fmt.Errorf("staff: post alert %s: %w", c.Ref, err)
	}
	ref := &koe.AlertRef{Channel: channel, TS: ts}
	c, _, err = cs.change(ctx, c.Ref, func(c *koe.Case) (bool, error) {
		if c.Alert != nil {
			return false, nil
		}
		c.Alert = ref
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("staff: record alert %s: %w", job.Ref, err)
	}
	cs.log.InfoContext(ctx, "case alert posted", "case", c)
	return nil
}

// threadKey is the Key of a job's post in the thread of case ref's alert:
// the case, the job's kind and a digest of its id (which names the message,
// Slack event or submission that caused it: a console message id, say,
// derives from the customer's session, so the id itself is not used). The
// key is the same on every delivery of the job, and a redelivered webhook
// or message yields the same job id. 128 bits: two posts of one thread
// never share a key by chance.
func threadKey(ref string, job koe.Job) string {
	sum := sha256.Sum256([]byte(job.ID))
	return ref + ":" + job.Kind + ":" + hex.EncodeToString(sum[:16])
}

// threadPoster is the part of CasesSlack and SLASlack that posts in a
// thread once.
type threadPoster interface {
	PostThreadOnce(ctx context.Context, channel, threadTS string, msg slack.Message, recheck bool) (string, error)
}

// postThread posts msg once in the thread of c's alert, keyed by key. A
// repeated delivery of the job (the earlier one may have posted and died
// before completing) looks for the earlier post first, as alerts do; a
// webhook or message redelivered by Slack or LINE maps to the same job id,
// which the queue does not run twice, so the attempt is the one signal.
func postThread(ctx context.Context, sl threadPoster, c koe.Case, key string, msg slack.Message) error {
	msg.Key = key
	_, err := sl.PostThreadOnce(ctx, c.Alert.Channel, c.Alert.TS, msg, followup.Attempt(ctx) > 1)
	return err
}

// update redraws the alert with the case's current state.
func (cs *Cases) update(ctx context.Context, job koe.Job) error {
	c, err := cs.alerted(ctx, job.Ref)
	if err != nil {
		return err
	}
	if err := cs.cfg.Slack.Update(ctx, c.Alert.Channel, c.Alert.TS, CaseAlert(c, cs.cfg.Now())); err != nil {
		return fmt.Errorf("staff: update alert %s: %w", c.Ref, err)
	}
	return nil
}

// relay posts the customer's message in the alert's thread, once per job
// (keyed by threadKey):
//
//   - a text or location (Attrs["voice"]): the words as written (escaped,
//     never interpreted as mrkdwn);
//   - a picture (Attrs["content"]): the picture, uploaded to the thread,
//     then a note 「（写真）」 (see relayPhoto);
//   - a sticker (Attrs "package", "sticker", "keywords"): a note with its
//     keywords, or its package and sticker ids.
//
// A job with none of these, or whose voice is unknown, is an error
// wrapping koe.ErrInvalid.
func (cs *Cases) relay(ctx context.Context, job koe.Job) error {
	c, err := cs.alerted(ctx, job.Ref)
	if err != nil {
		return err
	}
	a := job.Attrs
	switch {
	case a["voice"] == "" && a["content"] != "":
		return cs.relayPhoto(ctx, c, job)
	case a["voice"] == "" && (a["package"] != "" || a["sticker"] != "" || a["keywords"] != ""):
		msg := relayMessage(c, "*お客さま*\n（スタンプ："+stickerLabel(a)+"）", relayTime(job, cs.cfg.Now()))
		if err := postThread(ctx, cs.cfg.Slack, c, threadKey(c.Ref, job), msg); err != nil {
			return fmt.Errorf("staff: relay sticker to %s: %w", c.Ref, err)
		}
		return nil
	}
	v, err := cs.voice(ctx, c, a["voice"])
	if err != nil {
		return err
	}
	at := v.At
	if at.IsZero() {
		at = cs.cfg.Now()
	}
	body := "*お客さま*\n" + v.Text
	if strings.TrimSpace(v.Text) == "" {
		body = "*お客さま*\n（テキスト以外のメッセージ）"
	}
	if err := postThread(ctx, cs.cfg.Slack, c, threadKey(c.Ref, job), relayMessage(c, body, at)); err != nil {
		return fmt.Errorf("staff: relay to %s: %w", c.Ref, err)
	}
	return nil
}

// relayPhoto uploads the picture of a relay job to the alert's thread and
// then posts the job's keyed note 「*お客さま*\n（写真）」 there. A file
// upload carries no message metadata, so the note stands for both: a
// repeated delivery looks for the note first and, when it is there, uploads
// nothing. The remaining window is an upload whose note was not posted (the
// process died, or Slack failed, between the two): the next delivery
// uploads the picture again, so staff may see it twice, but never miss it.
//
// A picture that can never be fetched (see PhotoFetcher: content expired,
// no source; or no Photos at all) is replaced by a keyed note saying so,
// so that staff can ask the customer to send it again, and the job
// succeeds. Any other failure to fetch, read or upload fails the job, to
// be retried. Filenames and titles carry the case reference and a digest
// of the job id, never personal data.
func (cs *Cases) relayPhoto(ctx context.Context, c koe.Case, job koe.Job) error {
	key := threadKey(c.Ref, job)
	if followup.Attempt(ctx) > 1 {
		_, found, err := cs.cfg.Slack.FindReplyByKey(ctx, c.Alert.Channel, c.Alert.TS, key)
		if err != nil {
			return fmt.Errorf("staff: relay picture to %s: look for an earlier relay: %w", c.Ref, err)
		}
		if found {
			return nil
		}
	}
	at := relayTime(job, cs.cfg.Now())
	note := relayMessage(c, "*お客さま*\n（写真）", at)
	data, ext, err := cs.photo(ctx, c, job.Attrs["content"])
	switch {
	case errors.Is(err, errUnretrievable):
		cs.log.WarnContext(ctx, "picture relayed during a handoff could not be retrieved", "case", c, "err", err)
		note = relayMessage(c, "*お客さま*\n（写真が送られましたが、取得できませんでした。必要であれば、お客さまにもう一度送っていただくようお願いしてください）", at)
		note.Text = "お客さまからの写真を取得できませんでした（" + c.Ref + "）"
	case err != nil:
		return fmt.Errorf("staff: relay picture to %s: %w", c.Ref, err)
	default:
		name := c.Ref + "-photo-" + digest(job.ID) + ext
		if err := cs.cfg.Slack.UploadToThread(ctx, c.Alert.Channel, c.Alert.TS, name, data, "お客さまからの写真（"+c.Ref+"）"); err != nil {
			return fmt.Errorf("staff: relay picture to %s: upload: %w", c.Ref, err)
		}
		note.Text = "お客さまからの写真（" + c.Ref + "）"
	}
	// This delivery looked for the note (or is the first): no need to look
	// again before posting; PostThreadOnce still looks after a post whose
	// answer was lost.
	note.Key = key
	if _, err := cs.cfg.Slack.PostThreadOnce(ctx, c.Alert.Channel, c.Alert.TS, note, false); err != nil {
		return fmt.Errorf("staff: relay picture to %s: note: %w", c.Ref, err)
	}
	return nil
}

// errUnretrievable marks a picture that can never be fetched.
var errUnretrievable = errors.New("picture cannot be retrieved")

// photo fetches the picture contentID of c's customer and reads it from the
// data dir, returning its bytes and file extension. An error wrapping
// errUnretrievable means it never will be.
func (cs *Cases) photo(ctx context.Context, c koe.Case, contentID string) ([]byte, string, error) {
	if cs.cfg.Photos == nil {
		return nil, "", fmt.Errorf("no photo fetcher: %w", errUnretrievable)
	}
	p, err := cs.cfg.Photos.FetchPhoto(ctx, c.User, contentID)
	if errors.Is(err, koe.ErrInvalid) || errors.Is(err, koe.ErrNotFound) {
		return nil, "", fmt.Errorf("%w: %w", errUnretrievable, err)
	}
	if err != nil {
		return nil, "", fmt.Errorf("fetch: %w", err)
	}
	if p.Path == "" {
		return nil, "", fmt.Errorf("fetched without a path: %w", errUnretrievable)
	}
	data, err := os.ReadFile(filepath.Join(cs.cfg.DataDir, filepath.FromSlash(p.Path)))
	if err != nil {
		return nil, "", fmt.Errorf("read the kept picture: %w", err) // retried: the fetcher keeps it again
	}
	if len(data) == 0 {
		return nil, "", fmt.Errorf("empty picture: %w", errUnretrievable)
	}
	ext := strings.ToLower(filepath.Ext(p.Path))
	if ext == "" {
		ext = ".bin"
	}
	return data, ext, nil
}

// relayMessage is a customer's message relayed to the thread of c's alert.
func relayMessage(c koe.Case, body string, at time.Time) slack.Message {
	return slack.Message{
		Text:    "お客さまからのメッセージ（" + c.Ref + "）",
		Body:    body,
		Context: []string{"LINE ・ " + at.In(tokyo).Format("01-02 15:04") + " ・ このスレッドへの返信はお客さまに送られます（「//」で始めるとメモ、「/終了」で会話を終了）"},
	}
}

// relayTime is when the customer's message of a relay job without a voice
// was received: when the job was queued, or now.
func relayTime(job koe.Job, now time.Time) time.Time {
	if job.Created.IsZero() {
		return now
	}
	return job.Created
}

// stickerLabel names a relayed sticker for staff: its keywords (LINE's
// description of it), or else its package and sticker ids.
func stickerLabel(a map[string]string) string {
	var words []string
	for w := range strings.SplitSeq(a["keywords"], ",") {
		if w = strings.TrimSpace(w); w != "" {
			words = append(words, w)
		}
	}
	if len(words) > 0 {
		return strings.Join(words, "・")
	}
	return firstNonEmpty(a["package"], "?") + "/" + firstNonEmpty(a["sticker"], "?")
}

// digest is a short, stable name for s (a job id) that shows nothing of it.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// handoffEnd notes the end of a handoff in the thread, once per job, and
// redraws the alert.
func (cs *Cases) handoffEnd(ctx context.Context, job koe.Job) error {
	c, err := cs.alerted(ctx, job.Ref)
	if err != nil {
		return err
	}
	note := "担当者との会話は終了しました。以降のお客さまのメッセージにはボットが応答します。"
	switch job.Attrs["by"] {
	case "customer":
		note = "お客さまが担当者との会話を終了しました。以降のメッセージにはボットが応答します。"
	case "staff":
		note = "担当者が会話を終了しました。以降のお客さまのメッセージにはボットが応答します。"
	}
	if err := postThread(ctx, cs.cfg.Slack, c, threadKey(c.Ref, job), slack.Message{Text: note}); err != nil {
		return fmt.Errorf("staff: handoff end note of %s: %w", c.Ref, err)
	}
	if err := cs.cfg.Slack.Update(ctx, c.Alert.Channel, c.Alert.TS, CaseAlert(c, cs.cfg.Now())); err != nil {
		return fmt.Errorf("staff: update alert %s: %w", c.Ref, err)
	}
	return nil
}

// thread posts a staff reply from the 返信 modal, or a note, in the thread,
// once per job.
func (cs *Cases) thread(ctx context.Context, job koe.Job) error {
	c, err := cs.alerted(ctx, job.Ref)
	if err != nil {
		return err
	}
	var msg slack.Message
	switch job.Attrs["what"] {
	case "reply":
		by := firstNonEmpty(job.Attrs["by"], "担当者")
		msg = slack.Message{
			Text:    "お客さまに返信しました（" + c.Ref + "）",
			Body:    "*" + by + " → お客さま*\n" + job.Attrs["text"],
			Context: []string{"返信モーダルから送信"},
		}
	default:
		msg = slack.Message{Text: firstNonEmpty(job.Attrs["text"], "—")}
	}
	if err := postThread(ctx, cs.cfg.Slack, c, threadKey(c.Ref, job), msg); err != nil {
		return fmt.Errorf("staff: thread post of %s: %w", c.Ref, err)
	}
	return nil
}

// notify tells the customer the case is closed, through the inbox so that
// the dialogs answer in the customer's language and the handoff ends in
// order with the customer's messages.
func (cs *Cases) notify(ctx context.Context, job koe.Job) error {
	c, err := cs.load(ctx, job.Ref)
	if err != nil {
		return err
	}
	if c.Status != koe.CaseClosed {
		return nil
	}
	m := koe.Message{
		ID:     "case:" + c.Ref + ":closed",
		User:   c.User,
		Kind:   koe.KindStaff,
		Staff:  &koe.StaffNote{CaseRef: c.Ref, Action: koe.StaffClose},
		SentAt: cs.cfg.Now(),
	}
	if _, err := cs.cfg.Inbox.Append(ctx, m); err != nil {
		return fmt.Errorf("staff: close note of %s: %w", c.Ref, err)
	}
	return nil
}

// OnAction handles a press of one of the case alert's buttons (action ids
// starting with "case."). 受付確認, 担当する and 回答済み record a status
// change once per Slack action id (Action.ID) and queue the alert's
// redraw; 完了, 再分類, 返信 and 原文 open a modal with the action's trigger
// id. A press the case's status does not allow (受付確認 on an assigned
// case, 完了 before 回答済み) changes nothing and returns nil, as does a
// repeated delivery. An unknown action id or case reference returns an
// error wrapping koe.ErrInvalid. Call it while acknowledging the
// interaction: trigger ids expire after about 3 seconds.
func (cs *Cases) OnAction(ctx context.Context, a slack.Action) error {
	who := firstNonEmpty(a.UserName, a.UserID)
	switch a.ActionID {
	case ActionCaseAck:
		return cs.press(ctx, a.Value, koe.CaseAcknowledged, who, "受付確認", a.ID)
	case ActionCaseAssign:
		return cs.press(ctx, a.Value, koe.CaseAssigned, who, "担当", a.ID)
	case ActionCaseResponded:
		return cs.press(ctx, a.Value, koe.CaseResponded, who, "回答済み", a.ID)
	case ActionCaseClose, ActionCaseReclassify, ActionCaseReply, ActionCaseDetail:
	default:
		return fmt.Errorf("staff: unknown case action: %w", koe.ErrInvalid)
	}
	c, err := cs.load(ctx, a.Value)
	if err != nil {
		return err
	}
	var view slack.Modal
	switch a.ActionID {
	case ActionCaseClose:
		if !allowedCase(c.Status, koe.CaseClosed) {
			cs.log.InfoContext(ctx, "case close refused in this status", "case", c)
			return nil
		}
		view = closeModal(c)
	case ActionCaseReclassify:
		view = reclassifyModal(c)
	case ActionCaseReply:
		if !c.Open() {
			return nil
		}
		view = replyModal(c)
	case ActionCaseDetail:
		view = detailModal(c)
		cs.log.InfoContext(ctx, "case text shown to staff", "case", c, slog.String("slack_user", a.UserID))
	}
	if err := cs.cfg.Slack.OpenModal(ctx, a.TriggerID, view); err != nil {
		if apiErr, ok := errors.AsType[*slack.APIError](err); ok && apiErr.Code == "exchanged_trigger_id" {
			return nil // a repeated delivery of a press whose modal is open
		}
		return fmt.Errorf("staff: open modal of %s: %w", c.Ref, err)
	}
	return nil
}

// OnSubmit handles a submitted case modal (callback ids starting with
// "case."), once per Submission.ID:
//
//   - 完了: both root cause and action are required (a *slack.ValidationError
//     otherwise, or when the case can no longer be closed); the case is
//     closed, the alert redrawn and the customer told (JobCaseNotify).
//   - 再分類: kind and topic must be known values; a change updates the
//     case, is recorded in its history and is written to Corrections.
//   - 返信: the text (required) is appended to the customer's inbox as a
//     KindStaff message with ID "slack:" + Submission.ID and posted in the
//     alert's thread (JobCaseThread).
//
// An unknown callback id or case reference returns an error wrapping
// koe.ErrInvalid.
func (cs *Cases) OnSubmit(ctx context.Context, s slack.Submission) error {
	switch s.CallbackID {
	case CallbackCaseClose:
		return cs.submitClose(ctx, s)
	case CallbackCaseReclassify:
		return cs.submitReclassify(ctx, s)
	case CallbackCaseReply:
		return cs.submitReply(ctx, s)
	}
	return fmt.Errorf("staff: unknown case modal: %w", koe.ErrInvalid)
}

// OnThreadReply handles a message staff wrote in a thread. Under a case
// alert (CaseStore.CaseByAlert) it is delivered to the customer: appended
// to the customer's inbox as a KindStaff message with ID "slack:" +
// EventID (the inbox drops redeliveries) and StaffNote Action koe.StaffReply,
// or koe.StaffEnd for 「/終了」 or "!end". A reply that starts with "//" is a
// note among staff and is not sent. Replies under other messages are
// ignored; under a closed case a note in the thread says nothing was sent.
// Errors (store or inbox unavailable) make Slack redeliver the event.
func (cs *Cases) OnThreadReply(ctx context.Context, r slack.ThreadReply) error {
	if r.ChannelID == "" || r.ThreadTS == "" {
		return nil
	}
	c, err := cs.cfg.Cases.CaseByAlert(ctx, r.ChannelID, r.ThreadTS)
	if errors.Is(err, koe.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("staff: find case of thread: %w", err)
	}
	text := strings.TrimSpace(PlainText(r.Text))
	if text == "" || strings.HasPrefix(text, "//") {
		return nil
	}
	if !c.Open() {
		return cs.enqueue(ctx, koe.Job{ID: JobCaseThread + ":" + r.EventID, Kind: JobCaseThread, Ref: c.Ref,
			Attrs: map[string]string{"what": "note", "text": "この案件は完了しているため、このメッセージはお客さまに送信していません。"}})
	}
	note := &koe.StaffNote{CaseRef: c.Ref, Action: koe.StaffReply, Text: text, By: r.UserID}
	if isEndCommand(text) {
		note = &koe.StaffNote{CaseRef: c.Ref, Action: koe.StaffEnd, By: r.UserID}
	}
	at := r.At
	if at.IsZero() {
		at = cs.cfg.Now()
	}
	m := koe.Message{ID: "slack:" + r.EventID, User: c.User, Kind: koe.KindStaff, Staff: note, SentAt: at}
	if _, err := cs.cfg.Inbox.Append(ctx, m); err != nil {
		return fmt.Errorf("staff: deliver thread reply of %s: %w", c.Ref, err)
	}
	cs.log.InfoContext(ctx, "staff thread reply queued for the customer", "case", c, slog.String("action", note.Action))
	return nil
}

func isEndCommand(text string) bool {
	t := strings.ToLower(jpinput.Normalize(text))
	return t == "/終了" || t == "!end" || t == "/end"
}

// Transition moves the case ref to status to, recording by, note and key
// (the idempotency key, e.g. a Slack action id or an SLA job id) in its
// history, and queues the alert's redraw. It reports whether the case
// changed: a key already in the history or a move the lifecycle does not
// allow changes nothing (false, nil). Moving to assigned sets the assignee
// to by. Closing needs a root cause and an action, so closed is refused
// here with an error wrapping koe.ErrInvalid (staff close through the 完了
// modal). An unknown ref is an error wrapping koe.ErrInvalid.
func (cs *Cases) Transition(ctx context.Context, ref string, to koe.CaseStatus, by, note, key string) (koe.Case, bool, error) {
	if to == koe.CaseClosed || key == "" {
		return koe.Case{}, false, fmt.Errorf("staff: transition of %s: closing needs the modal, and a key is required: %w", ref, koe.ErrInvalid)
	}
	c, changed, err := cs.change(ctx, ref, func(c *koe.Case) (bool, error) {
		if hasKey(c, key) {
			return false, nil
		}
		if !allowedCase(c.Status, to) || (to == koe.CaseAssigned && c.Status == koe.CaseAssigned && c.Assignee == by) {
			return false, nil
		}
		c.History = append(c.History, koe.CaseChange{From: c.Status, To: to, By: by, At: cs.cfg.Now(), Note: note, Key: key})
		c.Status = to
		if to == koe.CaseAssigned || (c.Assignee == "" && to == koe.CaseResponded) {
			c.Assignee = by
		}
		return true, nil
	})
	if err != nil {
		return c, false, err
	}
	if err := cs.afterChange(ctx, c, key); err != nil {
		return c, changed, err
	}
	if changed {
		cs.log.InfoContext(ctx, "case status changed", "case", c)
	}
	return c, changed, nil
}

func (cs *Cases) press(ctx context.Context, ref string, to koe.CaseStatus, who, note, key string) error {
	_, _, err := cs.Transition(ctx, ref, to, who, note, key)
	return err
}

// afterChange queues the redraw of the change recorded under key (again,
// when a repeated delivery finds it: the queue drops a job it has, and a
// crash between saving the case and queueing is mended), and the
// customer's close note for a closed case.
func (cs *Cases) afterChange(ctx context.Context, c koe.Case, key string) error {
	i := slices.IndexFunc(c.History, func(h koe.CaseChange) bool { return h.Key == key })
	if i < 0 {
		return nil
	}
	jobs := []koe.Job{{ID: JobCaseUpdate + ":" + c.Ref + ":" + strconv.Itoa(i+1), Kind: JobCaseUpdate, Ref: c.Ref}}
	if c.History[i].To == koe.CaseClosed && c.History[i].From != koe.CaseClosed {
		jobs = append(jobs, koe.Job{ID: JobCaseNotify + ":" + c.Ref + ":closed", Kind: JobCaseNotify, Ref: c.Ref})
	}
	return cs.enqueue(ctx, jobs...)
}

// allowedCase is the lifecycle: received → acknowledged → assigned →
// responded → closed; escalated from any open status before responded,
// and from escalated on to assigned, responded and closed. assigned →
// assigned hands a case over to someone else.
func allowedCase(from, to koe.CaseStatus) bool {
	switch from {
	case koe.CaseReceived:
		return to == koe.CaseAcknowledged || to == koe.CaseAssigned || to == koe.CaseEscalated
	case koe.CaseAcknowledged:
		return to == koe.CaseAssigned || to == koe.CaseEscalated
	case koe.CaseAssigned:
		return to == koe.CaseAssigned || to == koe.CaseResponded || to == koe.CaseEscalated
	case koe.CaseEscalated:
		return to == koe.CaseAssigned || to == koe.CaseResponded || to == koe.CaseClosed
	case koe.CaseResponded:
		return to == koe.CaseClosed
	}
	return false
}

func hasKey(c *koe.Case, key string) bool {
	return slices.ContainsFunc(c.History, func(h koe.CaseChange) bool { return h.Key == key })
}

func (cs *Cases) submitClose(ctx context.Context, s slack.Submission) error {
	root := strings.TrimSpace(s.Values[BlockRootCause])
	action := strings.TrimSpace(s.Values[BlockAction])
	if root == "" || action == "" {
		ve := &slack.ValidationError{Errors: map[string]string{}}
		if root == "" {
			ve.Errors[BlockRootCause] = "原因を入力してください。"
		}
		if action == "" {
			ve.Errors[BlockAction] = "実施した対応を入力してください。"
		}
		return ve
	}
	who := firstNonEmpty(s.UserName, s.UserID)
	c, changed, err := cs.change(ctx, s.PrivateMetadata, func(c *koe.Case) (bool, error) {
		if hasKey(c, s.ID) || c.Status == koe.CaseClosed {
			return false, nil
		}
		if !allowedCase(c.Status, koe.CaseClosed) {
			return false, &slack.ValidationError{Errors: map[string]string{
				BlockRootCause: "この案件は「" + statusLabel(c.Status) + "」のため完了にできません。先に「回答済み」にしてください。",
			}}
		}
		c.History = append(c.History, koe.CaseChange{From: c.Status, To: koe.CaseClosed, By: who, At: cs.cfg.Now(), Note: "完了", Key: s.ID})
		c.Status = koe.CaseClosed
		c.RootCause, c.Action = root, action
		return true, nil
	})
	if err != nil {
		return err
	}
	if changed {
		cs.log.InfoContext(ctx, "case closed", "case", c)
	}
	return cs.afterChange(ctx, c, s.ID)
}

func (cs *Cases) submitReclassify(ctx context.Context, s slack.Submission) error {
	kind, topic := koe.VoiceKind(s.Values[BlockKind]), koe.Topic(s.Values[BlockTopic])
	ve := &slack.ValidationError{Errors: map[string]string{}}
	if _, ok := kindLabels[kind]; !ok {
		ve.Errors[BlockKind] = "種別を選んでください。"
	}
	if _, ok := topicLabels[topic]; !ok {
		ve.Errors[BlockTopic] = "分野を選んでください。"
	}
	if len(ve.Errors) > 0 {
		return ve
	}
	c, err := cs.load(ctx, s.PrivateMetadata)
	if err != nil {
		return err
	}
	if hasKey(&c, s.ID) {
		return cs.afterChange(ctx, c, s.ID)
	}
	if c.Kind == kind && c.Topic == topic {
		return nil
	}
	// The example is written before the case changes: a failure after it
	// repeats a line (harmless for training), never loses one.
	if err := cs.writeCorrection(c, kind, topic); err != nil {
		return err
	}
	who := firstNonEmpty(s.UserName, s.UserID)
	note := fmt.Sprintf("再分類: %s／%s → %s／%s", kindLabel(c.Kind), topicLabel(c.Topic), kindLabel(kind), topicLabel(topic))
	c, changed, err := cs.change(ctx, c.Ref, func(c *koe.Case) (bool, error) {
		if hasKey(c, s.ID) || (c.Kind == kind && c.Topic == topic) {
			return false, nil
		}
		c.History = append(c.History, koe.CaseChange{From: c.Status, To: c.Status, By: who, At: cs.cfg.Now(), Note: note, Key: s.ID})
		c.Kind, c.Topic = kind, topic
		return true, nil
	})
	if err != nil {
		return err
	}
	if changed {
		cs.log.InfoContext(ctx, "case reclassified", "case", c, slog.String("kind", string(kind)), slog.String("topic", string(topic)))
	}
	return cs.afterChange(ctx, c, s.ID)
}

func (cs *Cases) submitReply(ctx context.Context, s slack.Submission) error {
	text := strings.TrimSpace(s.Values[BlockReplyText])
	if text == "" {
		return &slack.ValidationError{Errors: map[string]string{BlockReplyText: "返信内容を入力してください。"}}
	}
	if n := len([]rune(text)); n > MaxReplyLen {
		return &slack.ValidationError{Errors: map[string]string{BlockReplyText: fmt.Sprintf("%d文字以内で入力してください（現在%d文字）。", MaxReplyLen, n)}}
	}
	c, err := cs.load(ctx, s.PrivateMetadata)
	if err != nil {
		return err
	}
	if !c.Open() {
		return &slack.ValidationError{Errors: map[string]string{BlockReplyText: "この案件は完了しているため返信できません。"}}
	}
	who := firstNonEmpty(s.UserName, s.UserID)
	m := koe.Message{
		ID:     "slack:" + s.ID,
		User:   c.User,
		Kind:   koe.KindStaff,
		Staff:  &koe.StaffNote{CaseRef: c.Ref, Action: koe.StaffReply, Text: text, By: who},
		SentAt: cs.cfg.Now(),
	}
	if _, err := cs.cfg.Inbox.Append(ctx, m); err != nil {
		return fmt.Errorf("staff: deliver reply of %s: %w", c.Ref, err)
	}
	cs.log.InfoContext(ctx, "staff reply queued for the customer", "case", c)
	return cs.enqueue(ctx, koe.Job{ID: JobCaseThread + ":" + s.ID, Kind: JobCaseThread, Ref: c.Ref,
		Attrs: map[string]string{"what": "reply", "text": text, "by": who}})
}

// writeCorrection appends the case's text with the staff's labels as a
// training example: kind, topic, sentiment, urgency, text separated by
// tabs. The text is redacted (classifier.Redact) and kept on one line; the
// sentiment follows the kind as in the training data (complaint negative,
// praise positive, others neutral).
func (cs *Cases) writeCorrection(c koe.Case, kind koe.VoiceKind, topic koe.Topic) error {
	if cs.cfg.Corrections == nil {
		return nil
	}
	text := strings.Join(strings.Fields(classifier.Redact(c.Summary)), " ")
	if text == "" {
		return nil
	}
	sentiment := classifier.SentimentNeutral
	switch kind {
	case koe.VoiceComplaint:
		sentiment = classifier.SentimentNegative
	case koe.VoicePraise:
		sentiment = classifier.SentimentPositive
	}
	var urgency []string
	for _, u := range c.Urgency {
		if slices.Contains(classifier.Urgencies, u) && !slices.Contains(urgency, u) {
			urgency = append(urgency, u)
		}
	}
	u := "-"
	if len(urgency) > 0 {
		u = strings.Join(urgency, ",")
	}
	line := strings.Join([]string{string(kind), string(topic), sentiment, u, text}, "\t") + "\n"
	cs.wmu.Lock()
	defer cs.wmu.Unlock()
	if _, err := io.WriteString(cs.cfg.Corrections, line); err != nil {
		return fmt.Errorf("staff: save correction of %s: %w", c.Ref, err)
	}
	return nil
}

// CorrectionsHeader is the first line of a corrections file (a comment to
// classifier.ReadExamples).
const CorrectionsHeader = "# kind\ttopic\tsentiment\turgency\ttext\n"

// OpenCorrections opens dataDir/corrections/corrections.tsv for appending,
// creating the directory and the file (with CorrectionsHeader) as needed.
// The caller closes it. Lines can be copied into classifier/data for the
// next training.
func OpenCorrections(dataDir string) (*os.File, error) {
	dir := filepath.Join(dataDir, "corrections")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("staff: corrections: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "corrections.tsv"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("staff: corrections: %w", err)
	}
	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		if _, err := io.WriteString(f, CorrectionsHeader); err != nil {
			f.Close()
			return nil, fmt.Errorf("staff: corrections: %w", err)
		}
	}
	return f, nil
}

// voice loads the voice id of case c.
func (cs *Cases) voice(ctx context.Context, c koe.Case, id string) (koe.Voice, error) {
	if id == "" {
		return koe.Voice{}, fmt.Errorf("staff: relay to %s without a voice: %w", c.Ref, koe.ErrInvalid)
	}
	v, err := cs.cfg.Voices.GetVoice(ctx, id)
	if errors.Is(err, koe.ErrNotFound) {
		return v, fmt.Errorf("staff: relay to %s: voice %w (%w)", c.Ref, koe.ErrInvalid, err)
	}
	if err != nil {
		return v, fmt.Errorf("staff: relay to %s: load voice: %w", c.Ref, err)
	}
	return v, nil
}

func (cs *Cases) load(ctx context.Context, ref string) (koe.Case, error) {
	return loadCase(ctx, cs.cfg.Cases, ref)
}

// loadCase returns the case ref; a case that does not exist is an error
// wrapping koe.ErrInvalid (a job about it can never succeed).
func loadCase(ctx context.Context, cases koe.CaseStore, ref string) (koe.Case, error) {
	c, err := cases.GetCase(ctx, ref)
	if errors.Is(err, koe.ErrNotFound) {
		return c, fmt.Errorf("staff: case %s: %w (%w)", ref, koe.ErrInvalid, err)
	}
	if err != nil {
		return c, fmt.Errorf("staff: load case %s: %w", ref, err)
	}
	return c, nil
}

// alerted loads a case whose alert must exist; before the alert is posted
// it returns a plain error, so the job is retried later.
func (cs *Cases) alerted(ctx context.Context, ref string) (koe.Case, error) {
	c, err := cs.load(ctx, ref)
	if err != nil {
		return c, err
	}
	if c.Alert == nil {
		return c, fmt.Errorf("staff: case %s has no alert yet", c.Ref)
	}
	return c, nil
}

// change is changeCase on the cases' store.
func (cs *Cases) change(ctx context.Context, ref string, edit func(*koe.Case) (bool, error)) (koe.Case, bool, error) {
	return changeCase(ctx, cs.cfg.Cases, cs.cfg.Now, ref, edit)
}

// changeCase applies edit to the stored case with optimistic versioning,
// retrying on a concurrent write, and stamps UpdatedAt with now. edit
// reports whether it changed the case; its error is returned as is.
func changeCase(ctx context.Context, cases koe.CaseStore, now func() time.Time, ref string, edit func(*koe.Case) (bool, error)) (koe.Case, bool, error) {
	for attempt := 1; ; attempt++ {
		c, err := loadCase(ctx, cases, ref)
		if err != nil {
			return c, false, err
		}
		changed, err := edit(&c)
		if err != nil || !changed {
			return c, false, err
		}
		c.UpdatedAt = now()
		saved, err := cases.UpdateCase(ctx, c)
		if errors.Is(err, koe.ErrConflict) && attempt < 5 {
			continue
		}
		if err != nil {
			return c, false, fmt.Errorf("staff: save case %s: %w", ref, err)
		}
		return saved, true, nil
	}
}

func (cs *Cases) enqueue(ctx context.Context, jobs ...koe.Job) error {
	now := cs.cfg.Now()
	for i := range jobs {
		jobs[i].Created = now
	}
	if _, err := cs.cfg.Queue.Enqueue(ctx, jobs...); err != nil {
		return fmt.Errorf("staff: enqueue: %w", err)
	}
	cs.cfg.Wake()
	return nil
}

// Labels staff see.
var (
	kindLabels = map[koe.VoiceKind]string{
		koe.VoiceComplaint: "苦情", koe.VoiceInquiry: "問い合わせ・照会", koe.VoiceConsultation: "相談",
		koe.VoiceRequest: "要望・意見", koe.VoicePraise: "お褒め・感謝",
	}
	kindOrder   = []koe.VoiceKind{koe.VoiceComplaint, koe.VoiceInquiry, koe.VoiceConsultation, koe.VoiceRequest, koe.VoicePraise}
	topicLabels = map[koe.Topic]string{
		koe.TopicContractSales: "契約・募集行為", koe.TopicPolicyAdmin: "契約の管理・保全・集金", koe.TopicClaims: "保険金",
		koe.TopicPrivacy: "個人情報", koe.TopicOther: "その他",
	}
	topicOrder     = []koe.Topic{koe.TopicContractSales, koe.TopicPolicyAdmin, koe.TopicClaims, koe.TopicPrivacy, koe.TopicOther}
	priorityLabels = map[koe.Priority]string{koe.PriorityNormal: "通常", koe.PriorityHigh: "高", koe.PriorityUrgent: "緊急"}
	statusLabels   = map[koe.CaseStatus]string{
		koe.CaseReceived: "受付", koe.CaseAcknowledged: "受付確認済み", koe.CaseAssigned: "担当決定",
		koe.CaseResponded: "回答済み", koe.CaseClosed: "完了", koe.CaseEscalated: "エスカレーション",
	}
	urgencyLabels = map[string]string{
		classifier.UrgencyInjury: "けが", classifier.UrgencyLegal: "法的措置", classifier.UrgencyRegulator: "行政・消費生活センター",
		classifier.UrgencyPublic: "SNS・報道",
	}
	typeLabels = map[koe.CaseType]string{koe.CaseComplaint: "苦情", koe.CaseInquiry: "問い合わせ"}
)

func label[K comparable](m map[K]string, k K, unknown string) string {
	if l, ok := m[k]; ok {
		return l
	}
	return unknown
}

func kindLabel(k koe.VoiceKind) string {
	return label(kindLabels, k, firstNonEmpty(string(k), "—"))
}

func topicLabel(t koe.Topic) string {
	return label(topicLabels, t, firstNonEmpty(string(t), "—"))
}

func statusLabel(s koe.CaseStatus) string {
	return label(statusLabels, s, firstNonEmpty(string(s), "—"))
}

// CaseAlert renders a case as the Slack alert staff see: reference, kind,
// topic, priority and urgency signals, status, assignee, due times (Asia/
// Tokyo), the customer's words with personal data masked (MaskText), and
// the buttons that fit its status. now marks overdue cases. The message's
// Key is the case reference (bot/slack.Client.PostOnce). It is pure, for
// reuse by reminders and escalations.
func CaseAlert(c koe.Case, now time.Time) slack.Message {
	typ := label(typeLabels, c.Type, "案件")
	prio := label(priorityLabels, c.Priority, "通常")
	var signals []string
	for _, u := range c.Urgency {
		signals = append(signals, label(urgencyLabels, u, u))
	}
	priority := prio
	if len(signals) > 0 {
		priority += "（" + strings.Join(signals, "・") + "）"
	}
	due := func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(tokyo).Format("2006-01-02 15:04")
	}
	status := statusLabel(c.Status)
	if c.Handoff && c.Open() {
		status += "（担当者とお客さまが会話中）"
	}
	fields := []slack.Field{
		{Label: "種別", Value: kindLabel(c.Kind)},
		{Label: "分野", Value: topicLabel(c.Topic)},
		{Label: "優先度", Value: priority},
		{Label: "状況", Value: status},
		{Label: "担当", Value: firstNonEmpty(c.Assignee, "未定")},
		{Label: "受付確認期限", Value: due(c.AckDueAt)},
		{Label: "回答期限", Value: due(c.DueAt)},
	}
	if c.Score != nil {
		fields = append(fields, slack.Field{Label: "NPS回答", Value: strconv.Itoa(*c.Score) + "点"})
	}
	if c.Status == koe.CaseClosed {
		fields = append(fields, slack.Field{Label: "原因", Value: firstNonEmpty(c.RootCause, "—")},
			slack.Field{Label: "対応", Value: firstNonEmpty(c.Action, "—")})
	}
	summary := MaskText(c.Summary)
	if strings.TrimSpace(summary) == "" {
		summary = "（本文なし）"
	}
	ctxLines := []string{fmt.Sprintf("受付 %s ・ 更新 %s ・ 個人情報はマスク済み（原文は「原文」ボタン）",
		c.CreatedAt.In(tokyo).Format("2006-01-02 15:04"), now.In(tokyo).Format("01-02 15:04"))}
	if n := len(c.History); n > 0 {
		h := c.History[n-1]
		what := firstNonEmpty(h.Note, statusLabel(h.To))
		ctxLines = append(ctxLines, fmt.Sprintf("最終操作: %s（%s・%s）", what, firstNonEmpty(h.By, "—"), h.At.In(tokyo).Format("01-02 15:04")))
	}
	if c.Open() {
		switch {
		case !c.DueAt.IsZero() && now.After(c.DueAt) && c.Status != koe.CaseResponded:
			ctxLines = append(ctxLines, "⚠️ 回答期限を過ぎています")
		case !c.AckDueAt.IsZero() && now.After(c.AckDueAt) && c.Status == koe.CaseReceived:
			ctxLines = append(ctxLines, "⚠️ 受付確認期限を過ぎています")
		}
	}
	msg := slack.Message{
		Key:     c.Ref,
		Text:    fmt.Sprintf("%s %s（%s・%s・優先度 %s）", typ, c.Ref, kindLabel(c.Kind), topicLabel(c.Topic), prio),
		Header:  typ + " " + c.Ref,
		Urgent:  c.Priority == koe.PriorityUrgent,
		Fields:  fields,
		Body:    "*お客さまの声*\n" + summary,
		Context: ctxLines,
	}
	b := func(action, text string, primary bool) slack.Button {
		btn := slack.Button{ActionID: action, Text: text, Value: c.Ref}
		if primary {
			btn.Style = "primary"
		}
		return btn
	}
	switch c.Status {
	case koe.CaseReceived:
		msg.Buttons = []slack.Button{b(ActionCaseAck, "受付確認", true), b(ActionCaseAssign, "担当する", false)}
	case koe.CaseAcknowledged:
		msg.Buttons = []slack.Button{b(ActionCaseAssign, "担当する", true)}
	case koe.CaseAssigned:
		msg.Buttons = []slack.Button{b(ActionCaseResponded, "回答済み", true), b(ActionCaseAssign, "担当する", false)}
	case koe.CaseEscalated:
		msg.Buttons = []slack.Button{b(ActionCaseAssign, "担当する", true), b(ActionCaseResponded, "回答済み", false), b(ActionCaseClose, "完了", false)}
	case koe.CaseResponded:
		msg.Buttons = []slack.Button{b(ActionCaseClose, "完了", true)}
	}
	if c.Open() {
		msg.Buttons = append(msg.Buttons, b(ActionCaseReply, "返信", false))
	}
	msg.Buttons = append(msg.Buttons, b(ActionCaseReclassify, "再分類", false), b(ActionCaseDetail, "原文", false))
	return msg
}

func closeModal(c koe.Case) slack.Modal {
	return slack.Modal{
		CallbackID: CallbackCaseClose, Title: "完了 " + c.Ref, Submit: "完了にする", Close: "キャンセル",
		PrivateMetadata: c.Ref,
		Body:            "案件 " + c.Ref + " を完了にします。原因と実施した対応を記録してください（お客さまには完了のお知らせが届きます）。",
		Inputs: []slack.Input{
			{BlockID: BlockRootCause, Label: "原因", Multiline: true, MaxLength: 2000, Placeholder: "例: 支払手続きの確認漏れ"},
			{BlockID: BlockAction, Label: "実施した対応", Multiline: true, MaxLength: 2000, Placeholder: "例: 電話で経緯を説明し、本日お支払い手続きを完了"},
		},
	}
}

func reclassifyModal(c koe.Case) slack.Modal {
	kinds := make([]slack.Option, 0, len(kindOrder))
	for _, k := range kindOrder {
		kinds = append(kinds, slack.Option{Text: kindLabels[k], Value: string(k)})
	}
	topics := make([]slack.Option, 0, len(topicOrder))
	for _, t := range topicOrder {
		topics = append(topics, slack.Option{Text: topicLabels[t], Value: string(t)})
	}
	return slack.Modal{
		CallbackID: CallbackCaseReclassify, Title: "再分類 " + c.Ref, Submit: "保存", Close: "キャンセル",
		PrivateMetadata: c.Ref,
		Body:            "正しい種別と分野を選んでください。訂正は次回の学習データとして保存されます。",
		Inputs: []slack.Input{
			{BlockID: BlockKind, Label: "種別", Options: kinds, Initial: string(c.Kind)},
			{BlockID: BlockTopic, Label: "分野", Options: topics, Initial: string(c.Topic)},
		},
	}
}

func replyModal(c koe.Case) slack.Modal {
	return slack.Modal{
		CallbackID: CallbackCaseReply, Title: "返信 " + c.Ref, Submit: "送信", Close: "キャンセル",
		PrivateMetadata: c.Ref,
		Body:            "お客さまにLINEで送ります。送った内容はアラートのスレッドにも残ります。",
		Inputs: []slack.Input{
			{BlockID: BlockReplyText, Label: "お客さまへの返信", Multiline: true, MaxLength: MaxReplyLen},
		},
	}
}

// detailModal shows the customer's words unmasked, to the one staff
// member who asked (a modal is visible to its opener only).
func detailModal(c koe.Case) slack.Modal {
	return slack.Modal{
		CallbackID: "case.detail", Title: "原文 " + c.Ref, Close: "閉じる",
		PrivateMetadata: c.Ref,
		Body:            "*お客さまの声（原文・取扱注意）*\n" + firstNonEmpty(c.Summary, "（本文なし）"),
	}
}

var (
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	// numberRE finds runs of digits with the separators people type in
	// phone and policy numbers, optionally after one or two letters at a
	// word boundary (AB12345678) or a '+' (+81 90 …).
	numberRE = regexp.MustCompile(`(?:\b[A-Za-z]{1,2}-?)?\+?\(?\d[\d\-.() ]*\d`)
	dateRE   = regexp.MustCompile(`^\d{4}[\-/.]\d{1,2}[\-/.]\d{1,2}$|^\d{1,2}[\-/.]\d{1,2}[\-/.]\d{4}$`)
)

// minMaskedDigits is the shortest run of digits MaskText treats as a
// number that can identify someone; shorter runs (amounts, counts, times)
// stay.
const minMaskedDigits = 7

// MaskText masks the personal data staff need not see in an alert: e-mail
// addresses become [メールアドレス], phone numbers keep their first and
// last groups (090-****-5678), policy numbers their first 2 and last 4
// characters (12****7890, see jpinput), and any other run of 7 or more
// digits (claim and account numbers) is starred out. Dates (2026-11-22)
// and shorter numbers stay. Each line is normalised first (jpinput.Normalize:
// full-width digits, dashes and ー between digits), so those are caught
// too. It is a best effort on free text.
func MaskText(s string) string {
	lines := strings.Split(strings.ToValidUTF8(s, "\uFFFD"), "\n")
	for i, l := range lines {
		lines[i] = jpinput.Normalize(l)
	}
	s = strings.Join(lines, "\n")
	s = emailRE.ReplaceAllString(s, "[メールアドレス]")
	return numberRE.ReplaceAllStringFunc(s, maskNumber)
}

func maskNumber(m string) string {
	// Keep separators at the edges (a trailing space or ')' belongs to the
	// text around it).
	core := strings.TrimRight(m, " .-(")
	tail := m[len(core):]
	digits := 0
	letters := 0
	for _, r := range core {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z'):
			letters++
		}
	}
	if digits < minMaskedDigits || dateRE.MatchString(core) {
		return m
	}
	numeric := core
	prefix := ""
	if letters > 0 {
		i := strings.IndexFunc(core, func(r rune) bool { return r == '+' || r == '(' || (r >= '0' && r <= '9') })
		prefix, numeric = core[:i], core[i:]
	}
	if p, err := jpinput.ParsePhone(numeric); err == nil {
		return prefix + p.Masked() + tail
	}
	if _, err := jpinput.ParsePolicyNumber(core); err == nil {
		return jpinput.MaskPolicyNumber(core) + tail
	}
	var b strings.Builder
	for _, r := range core {
		if r >= '0' && r <= '9' {
			b.WriteByte('*')
		} else {
			b.WriteRune(r)
		}
	}
	return b.String() + tail
}

var slackMarkup = regexp.MustCompile(`<([^<>|]*)(?:\|([^<>]*))?>`)

// PlainText turns a Slack message text (mrkdwn as Slack sends it) into
// plain text for a customer: user, channel and special mentions
// (<@U…>, <#C…|name>, <!here>) are dropped or replaced by their label,
// links become their address (with the label when it differs), and
// &amp; &lt; &gt; are unescaped.
func PlainText(s string) string {
	s = slackMarkup.ReplaceAllStringFunc(s, func(m string) string {
		sub := slackMarkup.FindStringSubmatch(m)
		target, lbl := sub[1], sub[2]
		switch {
		case strings.HasPrefix(target, "@"), strings.HasPrefix(target, "!"):
			return ""
		case strings.HasPrefix(target, "#"):
			return lbl
		}
		target = strings.TrimPrefix(target, "mailto:")
		if lbl == "" || strings.Contains(target, lbl) {
			return target
		}
		return lbl + " " + target
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "\r", "").Replace(s)
}
