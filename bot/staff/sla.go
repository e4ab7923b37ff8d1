package staff

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/followup"
	"github.com/koehq/koe/bot/slack"
	"github.com/koehq/koe/classifier"
	"github.com/koehq/koe/internal/bizcal"
	"github.com/koehq/koe/internal/sla"
)

// Job kinds of the case SLA.
const (
	JobCaseRemind   = "case.remind"   // remind staff of an unacknowledged case in its alert's thread
	JobCaseEscalate = "case.escalate" // escalate a case not responded to by its due time
)

// SystemActor is CaseChange.By for changes the SLA makes.
const SystemActor = "system"

// SLASlack is what the SLA needs of Slack (bot/slack.Client).
type SLASlack interface {
	Post(ctx context.Context, channel string, msg slack.Message) (ts string, err error)
	PostOnce(ctx context.Context, channel string, msg slack.Message, since time.Time, recheck bool) (string, error)
	PostThreadOnce(ctx context.Context, channel, threadTS string, msg slack.Message, recheck bool) (string, error)
}

// SLAConfig wires SLA.
type SLAConfig struct {
	Cases koe.CaseStore
	Queue koe.Queue
	Slack SLASlack
	// EscalationChannel is SLACK_CHANNEL_ESCALATIONS. Required.
	EscalationChannel string
	// Calendar counts business time (default bizcal.Default()).
	Calendar *bizcal.Calendar
	// Targets per priority; the priorities missing take sla.DefaultTargets.
	Targets map[koe.Priority]sla.Target
	// RemindAfter is how long (business time, from creation) a case may
	// stay unacknowledged before staff are reminded in the alert's thread.
	// Zero: at the case's acknowledgement due time (AckDueAt).
	RemindAfter time.Duration
	// Changed is called after the SLA changed a case's status
	// (escalation); an error retries the job, so it must be idempotent.
	// Default: queue the redraw of the case's Slack alert (a JobCaseUpdate
	// job with the ID scheme cases.go uses: "case.update:REF:N", N the
	// 1-based index of the change in History).
	Changed func(ctx context.Context, c koe.Case) error
	// Wake is called after jobs were enqueued (the worker's Notify).
	Wake   func()
	Now    func() time.Time
	Logger *slog.Logger
}

// SLA computes due times of cases and runs their reminder and escalation
// jobs. It is safe for concurrent use.
type SLA struct {
	cfg SLAConfig
	due sla.DueFunc
	log *slog.Logger
}

// NewSLA checks cfg and fills the defaults. It wraps koe.ErrInvalid when a
// store, the queue, Slack or the escalation channel is missing or a target
// is not positive.
func NewSLA(cfg SLAConfig) (*SLA, error) {
	if cfg.Cases == nil || cfg.Queue == nil || cfg.Slack == nil || cfg.EscalationChannel == "" {
		return nil, fmt.Errorf("staff: sla: cases, queue, slack and escalation channel are required: %w", koe.ErrInvalid)
	}
	if cfg.Calendar == nil {
		cfg.Calendar = bizcal.Default()
	}
	for p, t := range cfg.Targets {
		if t.Ack <= 0 || t.Respond <= 0 {
			return nil, fmt.Errorf("staff: sla: target of %q must be positive: %w", p, koe.ErrInvalid)
		}
	}
	if cfg.RemindAfter < 0 {
		return nil, fmt.Errorf("staff: sla: negative RemindAfter: %w", koe.ErrInvalid)
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
	s := &SLA{cfg: cfg, due: sla.DueTimes(cfg.Calendar, cfg.Targets), log: log}
	if s.cfg.Changed == nil {
		s.cfg.Changed = s.redraw
	}
	return s, nil
}

// Due returns when a case created at createdAt with priority p must be
// acknowledged and responded to, on the business calendar. An unknown
// priority gets the normal target.
func (s *SLA) Due(createdAt time.Time, p koe.Priority) (ackDue, due time.Time) {
	return s.due(createdAt, p)
}

// RemindAt returns when c is to be reminded of if still unacknowledged.
func (s *SLA) RemindAt(c koe.Case) time.Time {
	if s.cfg.RemindAfter > 0 {
		return s.cfg.Calendar.Add(c.CreatedAt, s.cfg.RemindAfter)
	}
	ack, _ := s.dues(c)
	return ack
}

// dues are the case's stored due times, or computed ones when unset.
func (s *SLA) dues(c koe.Case) (ack, due time.Time) {
	ack, due = c.AckDueAt, c.DueAt
	if ack.IsZero() || due.IsZero() {
		a, d := s.Due(c.CreatedAt, c.Priority)
		if ack.IsZero() {
			ack = a
		}
		if due.IsZero() {
			due = d
		}
	}
	return ack, due
}

// Schedule queues c's reminder (ID "case.remind:"+ref, at RemindAt) and
// escalation (ID "case.escalate:"+ref, at c.DueAt, or the computed due
// time when unset). Scheduling a case twice queues nothing more (the queue
// dedupes by job ID). It wraps koe.ErrInvalid for a case without Ref.
func (s *SLA) Schedule(ctx context.Context, c koe.Case) error {
	if c.Ref == "" {
		return fmt.Errorf("staff: schedule sla: case without ref: %w", koe.ErrInvalid)
	}
	_, due := s.dues(c)
	now := s.cfg.Now()
	jobs := []koe.Job{
		{ID: JobCaseRemind + ":" + c.Ref, Kind: JobCaseRemind, Ref: c.Ref, Created: now, NotBefore: s.RemindAt(c)},
		{ID: JobCaseEscalate + ":" + c.Ref, Kind: JobCaseEscalate, Ref: c.Ref, Created: now, NotBefore: due},
	}
	if _, err := s.cfg.Queue.Enqueue(ctx, jobs...); err != nil {
		return fmt.Errorf("staff: schedule sla of %s: %w", c.Ref, err)
	}
	s.cfg.Wake()
	return nil
}

// Handlers returns the follow-up handlers of SLA jobs.
func (s *SLA) Handlers() map[string]followup.Handler {
	return map[string]followup.Handler{
		JobCaseRemind:   followup.HandlerFunc(s.remind),
		JobCaseEscalate: followup.HandlerFunc(s.escalate),
	}
}

// remind posts a reminder in the alert's thread if the case is still
// received (unacknowledged), once: the reminder is recorded in the case's
// history (received → received, by "system", keyed by the job's base id),
// so a redelivered job posts nothing, and the post carries the same key, so
// a redelivery after a crash between posting and recording finds it
// (PostThreadOnce). A job that runs early (due time moved) is rescheduled.
// The case must have its alert: until then the job fails and is retried.
func (s *SLA) remind(ctx context.Context, job koe.Job) error {
	c, err := s.get(ctx, job.Ref)
	if err != nil {
		return err
	}
	key := JobCaseRemind + ":" + c.Ref
	if c.Status != koe.CaseReceived || slaHasChange(c, key) {
		return nil
	}
	now := s.cfg.Now()
	if at := s.RemindAt(c); now.Before(at) {
		return s.reschedule(ctx, JobCaseRemind, c.Ref, at)
	}
	if c.Alert == nil {
		return fmt.Errorf("staff: reminder of %s before its alert", c.Ref) // retried after the alert
	}
	ack, _ := s.dues(c)
	msg := slack.Message{
		Text: fmt.Sprintf("⏰ %s はまだ受付確認されていません（受付確認期限 %s）", c.Ref, slaStamp(ack)),
		Body: fmt.Sprintf("⏰ *受付確認のお願い*\n%s はまだ受付確認されていません（受付確認期限 %s）。内容を確認し、アラートの「受付確認」ボタンを押してください。",
			c.Ref, slaStamp(ack)),
	}
	// Keyed like its record (not by the job id, which a reschedule
	// changes), so a run that posted and died before recording is found
	// by the job's next delivery.
	if err := postThread(ctx, s.cfg.Slack, c, key, msg); err != nil {
		return fmt.Errorf("staff: post reminder of %s: %w", c.Ref, err)
	}
	if _, err := s.change(ctx, c.Ref, func(c *koe.Case) bool {
		if slaHasChange(*c, key) {
			return false
		}
		c.History = append(c.History, koe.CaseChange{
			From: c.Status, To: c.Status, By: SystemActor, At: now, Note: "受付確認リマインド送信", Key: key,
		})
		return true
	}); err != nil {
		return fmt.Errorf("staff: record reminder of %s: %w", c.Ref, err)
	}
	s.log.InfoContext(ctx, "case reminder posted", "case", c)
	return nil
}

// escalate posts a masked summary to the escalation channel and sets the
// case escalated, once, if by its due time it is neither responded to nor
// closed (nor escalated already). The escalation is recorded as a
// CaseChange by "system" keyed by the job's base id, so a redelivered job
// posts nothing; after a crash between the post and the record, the
// redelivery finds the post by its key (PostOnce) instead of posting
// again. A job that runs early is rescheduled.
func (s *SLA) escalate(ctx context.Context, job koe.Job) error {
	c, err := s.get(ctx, job.Ref)
	if err != nil {
		return err
	}
	key := JobCaseEscalate + ":" + c.Ref
	if slaHasChange(c, key) {
		if c.Status == koe.CaseEscalated {
			// A redelivery: the first run may have died before Changed.
			if err := s.cfg.Changed(ctx, c); err != nil {
				return fmt.Errorf("staff: after escalation of %s: %w", c.Ref, err)
			}
		}
		return nil
	}
	if !slaOverdue(c.Status) {
		return nil
	}
	now := s.cfg.Now()
	_, due := s.dues(c)
	if now.Before(due) {
		return s.reschedule(ctx, JobCaseEscalate, c.Ref, due)
	}
	// Once per case: a redelivered job looks for the earlier post first.
	esc := EscalationMessage(c, due, now)
	esc.Key = "escalation:" + c.Ref
	if _, err := s.cfg.Slack.PostOnce(ctx, s.cfg.EscalationChannel, esc, due.Add(-time.Minute), followup.Attempt(ctx) > 1); err != nil {
		return fmt.Errorf("staff: post escalation of %s: %w", c.Ref, err)
	}
	changed := false
	c, err = s.change(ctx, c.Ref, func(c *koe.Case) bool {
		changed = false
		if !slaOverdue(c.Status) || slaHasChange(*c, key) {
			return false // responded or closed meanwhile
		}
		c.History = append(c.History, koe.CaseChange{
			From: c.Status, To: koe.CaseEscalated, By: SystemActor, At: now,
			Note: "応答期限（" + slaStamp(due) + "）超過のためエスカレーション", Key: key,
		})
		c.Status = koe.CaseEscalated
		changed = true
		return true
	})
	if err != nil {
		return fmt.Errorf("staff: record escalation of %s: %w", job.Ref, err)
	}
	if changed {
		s.log.InfoContext(ctx, "case escalated", "case", c)
		if err := s.cfg.Changed(ctx, c); err != nil {
			return fmt.Errorf("staff: after escalation of %s: %w", c.Ref, err)
		}
	}
	return nil
}

// redraw queues the redraw of the case's alert after the change the
// escalation recorded.
func (s *SLA) redraw(ctx context.Context, c koe.Case) error {
	i := slices.IndexFunc(c.History, func(h koe.CaseChange) bool { return h.Key == JobCaseEscalate+":"+c.Ref })
	if i < 0 || c.Alert == nil {
		return nil
	}
	job := koe.Job{
		ID:   JobCaseUpdate + ":" + c.Ref + ":" + strconv.Itoa(i+1),
		Kind: JobCaseUpdate, Ref: c.Ref, Created: s.cfg.Now(),
	}
	if _, err := s.cfg.Queue.Enqueue(ctx, job); err != nil {
		return fmt.Errorf("staff: queue redraw of %s: %w", c.Ref, err)
	}
	s.cfg.Wake()
	return nil
}

// slaOverdue: a case in these statuses is escalated when overdue.
func slaOverdue(st koe.CaseStatus) bool {
	return st == koe.CaseReceived || st == koe.CaseAcknowledged || st == koe.CaseAssigned
}

func slaHasChange(c koe.Case, key string) bool {
	return slices.ContainsFunc(c.History, func(ch koe.CaseChange) bool { return ch.Key == key })
}

// reschedule queues a job of kind for ref at a later time, under an id of
// its own (the current job's id is still pending).
func (s *SLA) reschedule(ctx context.Context, kind, ref string, at time.Time) error {
	job := koe.Job{
		ID: kind + ":" + ref + "@" + at.UTC().Format("20060102T150405Z"), Kind: kind, Ref: ref,
		Created: s.cfg.Now(), NotBefore: at,
	}
	if _, err := s.cfg.Queue.Enqueue(ctx, job); err != nil {
		return fmt.Errorf("staff: reschedule %s of %s: %w", kind, ref, err)
	}
	s.cfg.Wake()
	return nil
}

func (s *SLA) get(ctx context.Context, ref string) (koe.Case, error) {
	return loadCase(ctx, s.cfg.Cases, ref)
}

// change applies edit to the stored case (see changeCase); edit returns
// false to leave it as is.
func (s *SLA) change(ctx context.Context, ref string, edit func(*koe.Case) bool) (koe.Case, error) {
	c, _, err := changeCase(ctx, s.cfg.Cases, s.cfg.Now, ref, func(c *koe.Case) (bool, error) { return edit(c), nil })
	return c, err
}

// EscalationMessage renders the escalation notice of an overdue case: its
// reference, type, topic, priority, status, due time, a link to its alert
// and the customer's words redacted (names, phone, policy and other
// numbers, e-mail and postal addresses masked by classifier.Redact).
func EscalationMessage(c koe.Case, due, now time.Time) slack.Message {
	status := slaStatusLabel[c.Status]
	if c.Assignee != "" {
		status += "（担当: " + c.Assignee + "）"
	}
	alert := "（アラート未投稿）"
	if c.Alert != nil {
		alert = slaAlertLink(*c.Alert)
	}
	return slack.Message{
		Text:   fmt.Sprintf("エスカレーション: %s 応答期限超過（期限 %s）", c.Ref, slaStamp(due)),
		Header: "エスカレーション " + c.Ref,
		Urgent: c.Priority == koe.PriorityUrgent,
		Fields: []slack.Field{
			{Label: "種別", Value: slaTypeLabel(c.Type)},
			{Label: "項目", Value: slaTopicLabel(c.Topic)},
			{Label: "優先度", Value: slaPriorityLabel[c.Priority]},
			{Label: "状況", Value: firstNonEmpty(status, string(c.Status))},
			{Label: "応答期限", Value: slaStamp(due)},
			{Label: "アラート", Value: alert},
		},
		Body:    "*概要（個人情報マスク済み）*\n" + maskForSlack(c.Summary, 300),
		Context: []string{fmt.Sprintf("受付 %s ・ 判定 %s", slaStamp(c.CreatedAt), slaStamp(now))},
	}
}

// slaAlertLink is a link to a Slack message that opens it in the workspace of
// whoever clicks it.
func slaAlertLink(a koe.AlertRef) string {
	return "https://slack.com/archives/" + a.Channel + "/p" + strings.ReplaceAll(a.TS, ".", "")
}

// maskForSlack redacts personal data from a customer's words for a Slack
// message (classifier.Redact) and cuts it to at most n characters.
func maskForSlack(s string, n int) string {
	r := []rune(classifier.Redact(s))
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return string(r)
}

func slaStamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(tokyo).Format("2006-01-02 15:04")
}

var slaStatusLabel = map[koe.CaseStatus]string{
	koe.CaseReceived: "受付", koe.CaseAcknowledged: "受付確認済み", koe.CaseAssigned: "担当決定",
	koe.CaseResponded: "回答済み", koe.CaseClosed: "完了", koe.CaseEscalated: "エスカレーション",
}

var slaPriorityLabel = map[koe.Priority]string{
	koe.PriorityUrgent: "緊急", koe.PriorityHigh: "高", koe.PriorityNormal: "通常",
}

func slaTypeLabel(t koe.CaseType) string {
	switch t {
	case koe.CaseComplaint:
		return "苦情"
	case koe.CaseInquiry:
		return "問い合わせ"
	}
	return string(t)
}

// slaTopicLabel is the Japanese disclosure label of a topic.
func slaTopicLabel(t koe.Topic) string {
	switch t {
	case koe.TopicContractSales:
		return "契約・募集行為"
	case koe.TopicPolicyAdmin:
		return "契約の管理・保全・集金"
	case koe.TopicClaims:
		return "保険金"
	case koe.TopicPrivacy:
		return "個人情報"
	case koe.TopicOther:
		return "その他"
	}
	return string(t)
}
