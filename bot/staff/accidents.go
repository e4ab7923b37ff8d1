package staff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/followup"
	"github.com/koehq/koe/bot/slack"
	"github.com/koehq/koe/dialogs/catalog"
	"github.com/koehq/koe/dialogs/jpinput"
)

// Job kinds of accident follow-up.
const (
	JobAccidentAlert  = "accident.alert"  // post the Slack alert of a new report
	JobAccidentPhotos = "accident.photos" // upload its photos to the alert's thread
	JobAccidentUpdate = "accident.update" // redraw the alert after a status change
	JobAccidentNotify = "accident.notify" // push a progress note to the customer
)

// Slack action ids of the alert's buttons; the button value is the report
// reference.
const (
	ActionAssign   = "accident.assign"   // 担当する
	ActionProgress = "accident.progress" // 対応中
	ActionDone     = "accident.done"     // 完了
)

// SlackAPI is what the staff side needs of Slack (bot/slack.Client).
type SlackAPI interface {
	Post(ctx context.Context, channel string, msg slack.Message) (string, error)
	// PostOnce posts msg unless a message with its Key is in channel
	// since then (see bot/slack.Client.PostOnce).
	PostOnce(ctx context.Context, channel string, msg slack.Message, since time.Time, recheck bool) (string, error)
	Update(ctx context.Context, channel, ts string, msg slack.Message) error
	UploadToThread(ctx context.Context, channel, threadTS, filename string, data []byte, title string) error
}

// AccidentsConfig wires Accidents.
type AccidentsConfig struct {
	Reports koe.ReportStore
	Queue   koe.Queue
	Slack   SlackAPI
	// Channel is SLACK_CHANNEL_ACCIDENTS.
	Channel string
	// Senders push progress notes, by the customer's channel.
	Senders map[koe.Channel]koe.Sender
	Catalog *catalog.Catalog
	// DataDir is where photo paths are relative to.
	DataDir string
	// Wake is called after jobs were enqueued (the worker's Notify).
	Wake func()
	// Closed, if set, returns the jobs to queue when a report is marked
	// 完了 (the claim survey, after a delay); they are queued with the
	// redraw and the progress note, keyed so a retried press adds none.
	Closed func(r koe.AccidentReport, at time.Time) []koe.Job
	Now    func() time.Time
	Logger *slog.Logger
}

// Accidents handles the staff side of accident reports.
type Accidents struct {
	cfg AccidentsConfig
	log *slog.Logger
}

// NewAccidents checks cfg.
func NewAccidents(cfg AccidentsConfig) (*Accidents, error) {
	if cfg.Reports == nil || cfg.Queue == nil || cfg.Slack == nil || cfg.Channel == "" || cfg.Catalog == nil {
		return nil, fmt.Errorf("staff: accidents: reports, queue, slack, channel and catalog are required: %w", koe.ErrInvalid)
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
	return &Accidents{cfg: cfg, log: log}, nil
}

// Handlers returns the follow-up handlers of accident jobs.
func (a *Accidents) Handlers() map[string]followup.Handler {
	return map[string]followup.Handler{
		JobAccidentAlert:  followup.HandlerFunc(a.alert),
		JobAccidentPhotos: followup.HandlerFunc(a.photos),
		JobAccidentUpdate: followup.HandlerFunc(a.update),
		JobAccidentNotify: followup.HandlerFunc(a.notify),
	}
}

// alert posts the report's Slack alert unless it has one, then records it.
func (a *Accidents) alert(ctx context.Context, job koe.Job) error {
	r, err := a.report(ctx, job.Ref)
	if err != nil {
		return err
	}
	if r.Alert == nil {
		// A redelivered job may have posted before the process died: look first.
		since := r.SubmittedAt.Add(-time.Minute)
		ts, err := a.cfg.Slack.PostOnce(ctx, a.cfg.Channel, AccidentAlert(r, a.cfg.Now()), since, followup.Attempt(ctx) > 1)
		if err != nil {
			return fmt.Errorf("staff: post alert %s: %w", r.Ref, err)
		}
		ref := &koe.AlertRef{Channel: a.cfg.Channel, TS: ts}
		if r, err = a.change(ctx, job.Ref, func(r *koe.AccidentReport) bool {
			if r.Alert != nil {
				return false
			}
			r.Alert = ref
			return true
		}); err != nil {
			return fmt.Errorf("staff: record alert %s: %w", job.Ref, err)
		}
		a.log.InfoContext(ctx, "accident alert posted", "report", r)
	}
	if len(r.Photos) > 0 {
		return a.enqueue(ctx, koe.Job{ID: JobAccidentPhotos + ":" + r.Ref, Kind: JobAccidentPhotos, Ref: r.Ref})
	}
	return nil
}

// photos uploads the report's photos to the alert's thread.
func (a *Accidents) photos(ctx context.Context, job koe.Job) error {
	r, err := a.report(ctx, job.Ref)
	if err != nil {
		return err
	}
	if r.Alert == nil {
		return fmt.Errorf("staff: photos of %s before its alert", r.Ref) // retried after the alert
	}
	for i, p := range r.Photos {
		if p.Path == "" {
			continue // never fetched from the channel; only its content id is known
		}
		path := filepath.Join(a.cfg.DataDir, filepath.FromSlash(p.Path))
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("staff: read photo %d of %s: %w", i+1, r.Ref, koe.ErrInvalid)
		}
		name := fmt.Sprintf("%s-%d%s", r.Ref, i+1, filepath.Ext(p.Path))
		title := fmt.Sprintf("%s 写真 %d/%d", r.Ref, i+1, len(r.Photos))
		if err := a.cfg.Slack.UploadToThread(ctx, r.Alert.Channel, r.Alert.TS, name, data, title); err != nil {
			return fmt.Errorf("staff: upload photo %d of %s: %w", i+1, r.Ref, err)
		}
	}
	return nil
}

// update redraws the alert with the report's current state.
func (a *Accidents) update(ctx context.Context, job koe.Job) error {
	r, err := a.report(ctx, job.Ref)
	if err != nil {
		return err
	}
	if r.Alert == nil {
		return fmt.Errorf("staff: update of %s before its alert", r.Ref) // retried
	}
	if err := a.cfg.Slack.Update(ctx, r.Alert.Channel, r.Alert.TS, AccidentAlert(r, a.cfg.Now())); err != nil {
		return fmt.Errorf("staff: update alert %s: %w", r.Ref, err)
	}
	return nil
}

// notify pushes the progress note of one status change to the customer.
func (a *Accidents) notify(ctx context.Context, job koe.Job) error {
	r, err := a.report(ctx, job.Ref)
	if err != nil {
		return err
	}
	status := koe.ReportStatus(job.Attrs["status"])
	key := "progress." + string(status)
	lang := r.Lang
	if !a.cfg.Catalog.Has(lang, key) {
		return fmt.Errorf("staff: no progress note for status %q: %w", status, koe.ErrInvalid)
	}
	sender := a.cfg.Senders[r.User.Channel()]
	if sender == nil {
		return fmt.Errorf("staff: no sender for channel %q: %w", r.User.Channel(), koe.ErrInvalid)
	}
	out := koe.Outbound{
		ID:       job.ID,
		To:       r.User,
		Lang:     lang,
		Replies:  []koe.Reply{{Text: a.cfg.Catalog.Text(lang, key, "ref", r.Ref)}},
		RetryKey: uuid.NewSHA1(uuid.NameSpaceOID, []byte("koe:"+job.ID)).String(),
	}
	if err := sender.Send(ctx, out); err != nil {
		return fmt.Errorf("staff: push progress of %s: %w", r.Ref, err)
	}
	return nil
}

// OnAction applies a staff member's button press to a report: it records
// the status change once per Slack action id, then queues the alert's
// redraw and the customer's progress note. It returns nil for a duplicate
// or a press that changes nothing (完了 pressed twice), and an error
// wrapping koe.ErrInvalid for an unknown action or report.
func (a *Accidents) OnAction(ctx context.Context, act slack.Action) error {
	var to koe.ReportStatus
	switch act.ActionID {
	case ActionAssign:
		to = koe.ReportAssigned
	case ActionProgress:
		to = koe.ReportInProgress
	case ActionDone:
		to = koe.ReportDone
	default:
		return fmt.Errorf("staff: unknown action: %w", koe.ErrInvalid)
	}
	who := act.UserName
	if who == "" {
		who = act.UserID
	}
	r, err := a.change(ctx, act.Value, func(r *koe.AccidentReport) bool {
		if slices.ContainsFunc(r.History, func(c koe.StatusChange) bool { return c.Key == act.ID }) {
			return false // a retried delivery of the same press
		}
		if !allowed(r.Status, to, r.Assignee, who) {
			return false
		}
		r.History = append(r.History, koe.StatusChange{
			From: r.Status, To: to, By: act.UserID, At: a.cfg.Now(), Key: act.ID,
		})
		r.Status = to
		if to == koe.ReportAssigned || r.Assignee == "" {
			r.Assignee = who
		}
		return true
	})
	if err != nil {
		return err
	}
	// The change this press made, now or on an earlier delivery whose jobs
	// may not have been queued (queuing again is a no-op: jobs are keyed).
	i := slices.IndexFunc(r.History, func(c koe.StatusChange) bool { return c.Key == act.ID })
	if i < 0 {
		return nil // the press changed nothing (完了 twice, say)
	}
	change := r.History[i]
	a.log.InfoContext(ctx, "accident report status changed", "report", r)
	n := strconv.Itoa(i + 1)
	jobs := []koe.Job{
		{ID: JobAccidentUpdate + ":" + r.Ref + ":" + n, Kind: JobAccidentUpdate, Ref: r.Ref},
		{ID: JobAccidentNotify + ":" + r.Ref + ":" + n, Kind: JobAccidentNotify, Ref: r.Ref,
			Attrs: map[string]string{"status": string(change.To)}},
	}
	if change.To == koe.ReportDone && a.cfg.Closed != nil {
		jobs = append(jobs, a.cfg.Closed(r, change.At)...)
	}
	return a.enqueue(ctx, jobs...)
}

// allowed says whether a press moves a report from one status to another:
// nothing leaves 完了, and 担当する by the current assignee changes nothing.
func allowed(from, to koe.ReportStatus, assignee, who string) bool {
	switch {
	case from == koe.ReportDone:
		return false
	case to == koe.ReportAssigned:
		return from != koe.ReportAssigned || assignee != who
	default:
		return from != to
	}
}

func (a *Accidents) report(ctx context.Context, ref string) (koe.AccidentReport, error) {
	r, err := a.cfg.Reports.GetReport(ctx, ref)
	if errors.Is(err, koe.ErrNotFound) {
		return r, fmt.Errorf("staff: report %s: %w (%w)", ref, koe.ErrInvalid, err)
	}
	if err != nil {
		return r, fmt.Errorf("staff: load report %s: %w", ref, err)
	}
	return r, nil
}

// change applies edit to the stored report with optimistic versioning,
// retrying on a concurrent write. edit returns false to leave it as is.
func (a *Accidents) change(ctx context.Context, ref string, edit func(*koe.AccidentReport) bool) (koe.AccidentReport, error) {
	for attempt := 1; ; attempt++ {
		r, err := a.report(ctx, ref)
		if err != nil {
			return r, err
		}
		if !edit(&r) {
			return r, nil
		}
		r.UpdatedAt = a.cfg.Now()
		saved, err := a.cfg.Reports.UpdateReport(ctx, r)
		if errors.Is(err, koe.ErrConflict) && attempt < 5 {
			continue
		}
		if err != nil {
			return r, fmt.Errorf("staff: save report %s: %w", ref, err)
		}
		return saved, nil
	}
}

func (a *Accidents) enqueue(ctx context.Context, jobs ...koe.Job) error {
	now := a.cfg.Now()
	for i := range jobs {
		jobs[i].Created = now
	}
	if _, err := a.cfg.Queue.Enqueue(ctx, jobs...); err != nil {
		return fmt.Errorf("staff: enqueue: %w", err)
	}
	a.cfg.Wake()
	return nil
}

var tokyo = jpinput.Tokyo()

// AccidentAlert renders a report as the Slack alert staff see: facts with
// the policy number and phone masked, the description, and the buttons that
// fit its status.
func AccidentAlert(r koe.AccidentReport, now time.Time) slack.Message {
	kind := map[koe.AccidentKind]string{koe.AccidentMotor: "自動車", koe.AccidentHome: "住まい・火災", koe.AccidentOther: "その他"}[r.Kind]
	urgency := "通常"
	if r.Urgent {
		urgency = "緊急（けが・危険あり）"
	}
	policy := "不明（氏名で照会）"
	if r.PolicyNumber != "" {
		policy = jpinput.MaskPolicyNumber(r.PolicyNumber)
	}
	phone := "—"
	if r.Phone != "" {
		phone = jpinput.MaskPhone(r.Phone)
	}
	when := r.OccurredText
	if when == "" && !r.OccurredAt.IsZero() {
		when = r.OccurredAt.In(tokyo).Format("2006-01-02 15:04")
	}
	where := r.Place
	if where == "" && r.Location != nil {
		where = firstNonEmpty(r.Location.Address, r.Location.Title, fmt.Sprintf("%.4f, %.4f", r.Location.Latitude, r.Location.Longitude))
	}
	var others []string
	for _, p := range r.Involved {
		others = append(others, map[string]string{"vehicle": "車両", "person": "人", "property": "物"}[p.Kind])
	}
	involved := "なし"
	if len(others) > 0 {
		involved = strings.Join(others, "・")
	}
	status := map[koe.ReportStatus]string{
		koe.ReportReceived: "受付", koe.ReportAssigned: "担当決定", koe.ReportInProgress: "対応中", koe.ReportDone: "完了",
	}[r.Status]
	if r.Assignee != "" {
		status += "（担当: " + r.Assignee + "）"
	}
	msg := slack.Message{
		Text:   fmt.Sprintf("事故連絡 %s（%s・%s）", r.Ref, kind, urgency),
		Header: "事故連絡 " + r.Ref,
		Urgent: r.Urgent,
		Fields: []slack.Field{
			{Label: "緊急度", Value: urgency},
			{Label: "種類", Value: kind},
			{Label: "発生日時", Value: firstNonEmpty(when, "—")},
			{Label: "場所", Value: firstNonEmpty(where, "—")},
			{Label: "証券番号", Value: policy},
			{Label: "連絡先", Value: phone},
			{Label: "相手方", Value: involved},
			{Label: "写真", Value: fmt.Sprintf("%d枚", len(r.Photos))},
			{Label: "状況", Value: status},
		},
		Body: "*概要*\n" + r.Description,
		Key:  r.Ref,
		Context: []string{fmt.Sprintf("受付 %s ・ 更新 %s", r.SubmittedAt.In(tokyo).Format("2006-01-02 15:04"),
			now.In(tokyo).Format("01-02 15:04"))},
	}
	switch r.Status {
	case koe.ReportReceived:
		msg.Buttons = []slack.Button{
			{ActionID: ActionAssign, Text: "担当する", Value: r.Ref, Style: "primary"},
			{ActionID: ActionProgress, Text: "対応中", Value: r.Ref},
			{ActionID: ActionDone, Text: "完了", Value: r.Ref},
		}
	case koe.ReportAssigned, koe.ReportInProgress:
		msg.Buttons = []slack.Button{
			{ActionID: ActionAssign, Text: "担当する", Value: r.Ref},
			{ActionID: ActionProgress, Text: "対応中", Value: r.Ref},
			{ActionID: ActionDone, Text: "完了", Value: r.Ref, Style: "primary"},
		}
	}
	return msg
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
