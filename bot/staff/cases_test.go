package staff_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/followup"
	"github.com/koehq/koe/bot/slack"
	"github.com/koehq/koe/bot/staff"
	"github.com/koehq/koe/classifier"
	"github.com/koehq/koe/internal/fakes"
	"github.com/koehq/koe/internal/fakeslack"
)

// lockedBuffer is a strings.Builder safe to read while Cases writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type caseRig struct {
	cases       *fakes.CaseStore
	voices      *fakes.VoiceStore
	queue       *fakes.Queue
	slack       *fakeslack.Server
	inbox       *fakes.Appender
	corrections *lockedBuffer
	cs          *staff.Cases
	ran         map[string]bool
	trigger     int
}

const (
	chComplaints = "CCOMPLAINTS"
	chInquiries  = "CINQUIRIES"
)

func newCaseRig(t *testing.T) *caseRig {
	t.Helper()
	return newCaseRigWith(t, nil)
}

// newCaseRigWith is newCaseRig with edit applied to the configuration.
func newCaseRigWith(t *testing.T, edit func(*staff.CasesConfig)) *caseRig {
	t.Helper()
	r := &caseRig{
		cases:       fakes.NewCaseStore(),
		voices:      fakes.NewVoiceStore(),
		queue:       fakes.NewQueue(func() time.Time { return t0 }),
		slack:       fakeslack.New(t),
		inbox:       &fakes.Appender{},
		corrections: &lockedBuffer{},
		ran:         map[string]bool{},
	}
	sc, err := slack.NewClient(slack.ClientConfig{BotToken: fakeslack.BotToken, APIURL: r.slack.URL(), PerChannelInterval: -1, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg := staff.CasesConfig{
		Cases: r.cases, Voices: r.voices, Queue: r.queue, Slack: sc,
		Channels:    map[koe.CaseType]string{koe.CaseComplaint: chComplaints, koe.CaseInquiry: chInquiries},
		Inbox:       r.inbox,
		Corrections: r.corrections,
		Now:         func() time.Time { return t0.Add(5 * time.Minute) },
	}
	if edit != nil {
		edit(&cfg)
	}
	r.cs, err = staff.NewCases(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Planted personal data of the sample complaint.
const (
	plantedPhone  = "090-1234-5678"
	plantedEmail  = "taro.yamada@example.com"
	plantedPolicy = "1234567890"
)

func sampleComplaint() koe.Case {
	return koe.Case{
		Ref: "C-20261122-7F3K", Key: "ev-complaint/0", Type: koe.CaseComplaint, Kind: koe.VoiceComplaint,
		Topic: koe.TopicClaims, Priority: koe.PriorityHigh, Urgency: []string{"legal"},
		User: "line:Ucustomer", Lang: koe.Japanese, VoiceID: "ev-complaint/0",
		Summary: "保険金がまだ振り込まれません。証券番号 " + plantedPolicy + "、電話は" + plantedPhone +
			"、メールは" + plantedEmail + " です。弁護士に相談します <!channel>",
		Status: koe.CaseReceived, AckDueAt: t0.Add(time.Hour), DueAt: t0.Add(48 * time.Hour),
		CreatedAt: t0, UpdatedAt: t0,
	}
}

func (r *caseRig) open(t *testing.T, c koe.Case) koe.Case {
	t.Helper()
	stored, err := r.cases.CreateCase(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func (r *caseRig) get(t *testing.T, ref string) koe.Case {
	t.Helper()
	c, err := r.cases.GetCase(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (r *caseRig) run(t *testing.T, job koe.Job) {
	t.Helper()
	h, ok := r.cs.Handlers()[job.Kind]
	if !ok {
		t.Fatalf("no handler for %s", job.Kind)
	}
	if err := h.HandleJob(context.Background(), job); err != nil {
		t.Fatalf("%s: %v", job.ID, err)
	}
	r.ran[job.ID] = true
}

// alerted opens c and runs its alert job.
func (r *caseRig) alerted(t *testing.T, c koe.Case) koe.Case {
	t.Helper()
	c = r.open(t, c)
	r.run(t, koe.Job{ID: "case.alert:" + c.Ref, Kind: staff.JobCaseAlert, Ref: c.Ref})
	return r.get(t, c.Ref)
}

// runPending runs every queued job of kind (all kinds when "") not run
// before and returns them.
func (r *caseRig) runPending(t *testing.T, kind string) []koe.Job {
	t.Helper()
	var ran []koe.Job
	for _, j := range r.queue.Pending() {
		if r.ran[j.ID] || (kind != "" && j.Kind != kind) {
			continue
		}
		r.run(t, j)
		ran = append(ran, j)
	}
	return ran
}

func (r *caseRig) press(t *testing.T, id, action, ref string) {
	t.Helper()
	r.trigger++
	a := slack.Action{ID: id, ActionID: action, Value: ref, UserID: "U1", UserName: "sato",
		TriggerID: fmt.Sprintf("trig-%d", r.trigger), ChannelID: chComplaints}
	if err := r.cs.OnAction(context.Background(), a); err != nil {
		t.Fatalf("OnAction(%s %s): %v", action, id, err)
	}
}

func (r *caseRig) submit(id, callback, ref string, values map[string]string) error {
	return r.cs.OnSubmit(context.Background(), slack.Submission{
		ID: id, CallbackID: callback, PrivateMetadata: ref, Values: values, UserID: "U2", UserName: "suzuki",
	})
}

func alertText(t *testing.T, r *caseRig, c koe.Case) string {
	t.Helper()
	m, ok := r.slack.Current(c.Alert.Channel, c.Alert.TS)
	if !ok {
		t.Fatalf("alert %s not found in the fake", c.Alert.TS)
	}
	return m.Text + unJSON(m.Blocks)
}

// unJSON undoes the JSON encoder's escaping of &, < and >, so a test can
// look for what Slack would show.
func unJSON(raw []byte) string {
	return strings.NewReplacer(`\u0026`, "&", `\u003c`, "<", `\u003e`, ">").Replace(string(raw))
}

// TestCaseAlertOnceMasked: one alert per case, in the channel of its type,
// with the customer's phone, e-mail and policy number masked; a second run
// of the job, and a run after the alert's record was lost (a crash between
// posting and saving), post nothing more.
func TestCaseAlertOnceMasked(t *testing.T) {
	r := newCaseRig(t)
	c := r.open(t, sampleComplaint())
	job := koe.Job{ID: "case.alert:" + c.Ref, Kind: staff.JobCaseAlert, Ref: c.Ref}
	r.run(t, job)
	r.run(t, job)

	got := r.get(t, c.Ref)
	if got.Alert == nil {
		t.Fatal("alert not recorded")
	}
	// Lose the record, as if the process died after the post: the job is
	// then delivered again (its lease ran out), as attempt 2.
	lost := got
	lost.Alert = nil
	if _, err := r.cases.UpdateCase(context.Background(), lost); err != nil {
		t.Fatal(err)
	}
	if err := r.cs.Handlers()[job.Kind].HandleJob(followup.WithAttempt(context.Background(), 2), job); err != nil {
		t.Fatal(err)
	}

	posts := r.slack.Posts()
	if len(posts) != 1 {
		t.Fatalf("%d posts, want 1", len(posts))
	}
	if posts[0].Channel != chComplaints {
		t.Errorf("posted to %s, want %s", posts[0].Channel, chComplaints)
	}
	again := r.get(t, c.Ref)
	if again.Alert == nil || again.Alert.TS != posts[0].TS || again.Alert.Channel != chComplaints {
		t.Errorf("alert ref = %+v, want %s/%s", again.Alert, chComplaints, posts[0].TS)
	}
	body := posts[0].Text + unJSON(posts[0].Blocks)
	for _, want := range []string{
		"C-20261122-7F3K", "090-****-5678", "12****7890", "[メールアドレス]", "苦情", "保険金", "高", "法的措置",
		"2026-11-24 14:00", "受付", "未定", "受付確認", "担当する", staff.ActionCaseAck, staff.ActionCaseAssign,
		staff.ActionCaseReclassify, staff.ActionCaseReply, "弁護士に相談します",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("alert lacks %q", want)
		}
	}
	for _, secret := range []string{plantedPhone, "09012345678", plantedEmail, "example.com", plantedPolicy, "<!channel>"} {
		if strings.Contains(body, secret) {
			t.Errorf("alert contains %q", secret)
		}
	}
}

func TestInquiryAlertGoesToInquiryChannel(t *testing.T) {
	r := newCaseRig(t)
	c := sampleComplaint()
	c.Ref, c.Key, c.Type, c.Kind = "C-20261122-Q1NQ", "ev-inq/0", koe.CaseInquiry, koe.VoiceInquiry
	c = r.alerted(t, c)
	if posts := r.slack.Posts(); len(posts) != 1 || posts[0].Channel != chInquiries || !strings.Contains(posts[0].Text, "問い合わせ") {
		t.Fatalf("posts = %+v, want one 問い合わせ alert in %s", posts, chInquiries)
	}
}

func TestAlertWithoutChannelIsPermanent(t *testing.T) {
	r := newCaseRig(t)
	c := sampleComplaint()
	c.Type = "accident"
	c = r.open(t, c)
	err := r.cs.Handlers()[staff.JobCaseAlert].HandleJob(context.Background(), koe.Job{ID: "a", Kind: staff.JobCaseAlert, Ref: c.Ref})
	if !errors.Is(err, koe.ErrInvalid) {
		t.Fatalf("err = %v, want koe.ErrInvalid", err)
	}
}

// TestLifecycleThroughButtons walks 受付確認 → 担当する → 回答済み → 完了,
// with retried deliveries and presses the lifecycle does not allow, and
// checks the history, the redrawn alert and the customer's close note.
func TestLifecycleThroughButtons(t *testing.T) {
	r := newCaseRig(t)
	c := r.alerted(t, sampleComplaint())

	r.press(t, "ba:1", staff.ActionCaseAck, c.Ref)
	r.press(t, "ba:1", staff.ActionCaseAck, c.Ref)       // Slack retried the press
	r.press(t, "ba:2", staff.ActionCaseAck, c.Ref)       // pressed again: already acknowledged
	r.press(t, "ba:3", staff.ActionCaseResponded, c.Ref) // not assigned yet: ignored
	r.press(t, "ba:4", staff.ActionCaseClose, c.Ref)     // not responded yet: no modal
	if n := len(r.slack.Modals()); n != 0 {
		t.Errorf("%d modals opened for 完了 on an acknowledged case, want 0", n)
	}
	r.press(t, "ba:5", staff.ActionCaseAssign, c.Ref)
	r.press(t, "ba:6", staff.ActionCaseResponded, c.Ref)
	updates := r.runPending(t, staff.JobCaseUpdate)
	if len(updates) != 3 {
		t.Errorf("%d redraws queued, want 3 (one per change)", len(updates))
	}
	if body := alertText(t, r, c); !strings.Contains(body, "回答済み") || !strings.Contains(body, staff.ActionCaseClose) || strings.Contains(body, staff.ActionCaseAck) {
		t.Errorf("alert after 回答済み should offer 完了 only: %s", body)
	}

	r.press(t, "ba:7", staff.ActionCaseClose, c.Ref)
	modals := r.slack.Modals()
	if len(modals) != 1 || modals[0].CallbackID != staff.CallbackCaseClose || modals[0].PrivateMetadata != c.Ref {
		t.Fatalf("modals = %+v, want the close modal of %s", modals, c.Ref)
	}
	for _, want := range []string{staff.BlockRootCause, staff.BlockAction} {
		if !strings.Contains(string(modals[0].View), `"block_id":"`+want+`"`) {
			t.Errorf("close modal lacks input %q", want)
		}
	}
	values := map[string]string{staff.BlockRootCause: "支払手続きの確認漏れ", staff.BlockAction: "電話で説明し、本日支払い"}
	if err := r.submit("vs:V1:t1", staff.CallbackCaseClose, c.Ref, values); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := r.submit("vs:V1:t1", staff.CallbackCaseClose, c.Ref, values); err != nil { // redelivered
		t.Fatalf("close again: %v", err)
	}

	got := r.get(t, c.Ref)
	if got.Status != koe.CaseClosed || got.RootCause != "支払手続きの確認漏れ" || got.Action != "電話で説明し、本日支払い" {
		t.Fatalf("case = %s, root cause %q, action %q", got.Status, got.RootCause, got.Action)
	}
	if got.Assignee != "sato" {
		t.Errorf("assignee = %q, want sato", got.Assignee)
	}
	want := []struct {
		from, to koe.CaseStatus
		by, key  string
	}{
		{koe.CaseReceived, koe.CaseAcknowledged, "sato", "ba:1"},
		{koe.CaseAcknowledged, koe.CaseAssigned, "sato", "ba:5"},
		{koe.CaseAssigned, koe.CaseResponded, "sato", "ba:6"},
		{koe.CaseResponded, koe.CaseClosed, "suzuki", "vs:V1:t1"},
	}
	if len(got.History) != len(want) {
		t.Fatalf("history has %d changes, want %d: %+v", len(got.History), len(want), got.History)
	}
	for i, w := range want {
		h := got.History[i]
		if h.From != w.from || h.To != w.to || h.By != w.by || h.Key != w.key || !h.At.Equal(t0.Add(5*time.Minute)) || h.Note == "" {
			t.Errorf("change %d = %+v, want %s→%s by %s key %s with a note", i, h, w.from, w.to, w.by, w.key)
		}
	}

	r.runPending(t, "")
	body := alertText(t, r, got)
	for _, want := range []string{"完了", "支払手続きの確認漏れ", "電話で説明し、本日支払い", staff.ActionCaseReclassify} {
		if !strings.Contains(body, want) {
			t.Errorf("closed alert lacks %q", want)
		}
	}
	for _, gone := range []string{staff.ActionCaseClose, staff.ActionCaseAssign, staff.ActionCaseReply} {
		if strings.Contains(body, gone) {
			t.Errorf("closed alert still offers %q", gone)
		}
	}
	msgs := r.inbox.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d inbox messages, want the one close note: %+v", len(msgs), msgs)
	}
	if m := msgs[0]; m.Kind != koe.KindStaff || m.User != "line:Ucustomer" || m.Staff == nil ||
		m.Staff.Action != koe.StaffClose || m.Staff.CaseRef != c.Ref || m.Staff.Text != "" {
		t.Errorf("close note = %+v %+v", m, m.Staff)
	}
}

func TestCloseNeedsRootCauseAndAction(t *testing.T) {
	tests := []struct {
		name    string
		values  map[string]string
		missing []string
	}{
		{"both missing", map[string]string{}, []string{staff.BlockRootCause, staff.BlockAction}},
		{"blank root cause", map[string]string{staff.BlockRootCause: "  ", staff.BlockAction: "説明した"}, []string{staff.BlockRootCause}},
		{"no action", map[string]string{staff.BlockRootCause: "確認漏れ"}, []string{staff.BlockAction}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newCaseRig(t)
			c := sampleComplaint()
			c.Status = koe.CaseResponded
			c = r.alerted(t, c)
			err := r.submit("vs:V9:t9", staff.CallbackCaseClose, c.Ref, tt.values)
			ve, ok := errors.AsType[*slack.ValidationError](err)
			if !ok {
				t.Fatalf("err = %v, want a *slack.ValidationError", err)
			}
			for _, b := range tt.missing {
				if ve.Errors[b] == "" {
					t.Errorf("no message for %s: %v", b, ve.Errors)
				}
			}
			if len(ve.Errors) != len(tt.missing) {
				t.Errorf("errors = %v, want only %v", ve.Errors, tt.missing)
			}
			if got := r.get(t, c.Ref); got.Status != koe.CaseResponded || len(got.History) != 0 {
				t.Errorf("case changed: %s with %d changes", got.Status, len(got.History))
			}
		})
	}
	t.Run("before responded", func(t *testing.T) {
		r := newCaseRig(t)
		c := r.alerted(t, sampleComplaint())
		err := r.submit("vs:V9:t9", staff.CallbackCaseClose, c.Ref, map[string]string{staff.BlockRootCause: "a", staff.BlockAction: "b"})
		if ve, ok := errors.AsType[*slack.ValidationError](err); !ok || ve.Errors[staff.BlockRootCause] == "" {
			t.Fatalf("err = %v, want a validation error on the root cause", err)
		}
		if got := r.get(t, c.Ref); got.Status != koe.CaseReceived {
			t.Errorf("status = %s, want received", got.Status)
		}
	})
}

// TestReclassifyWritesCorrection: the 再分類 modal offers the five kinds and
// topics; a submission updates the case once, notes it in the history and
// writes one training example the classifier can read, without the
// customer's personal data.
func TestReclassifyWritesCorrection(t *testing.T) {
	r := newCaseRig(t)
	c := r.alerted(t, sampleComplaint())
	r.press(t, "ba:1", staff.ActionCaseReclassify, c.Ref)
	modals := r.slack.Modals()
	if len(modals) != 1 || modals[0].CallbackID != staff.CallbackCaseReclassify {
		t.Fatalf("modals = %+v, want the reclassify modal", modals)
	}
	for _, want := range []string{"契約・募集行為", "契約の管理・保全・集金", "保険金", "個人情報", "その他", "苦情", "相談", `"value":"policy_admin"`} {
		if !strings.Contains(unJSON(modals[0].View), want) {
			t.Errorf("reclassify modal lacks %q", want)
		}
	}

	if err := r.submit("vs:R:1", staff.CallbackCaseReclassify, c.Ref, map[string]string{staff.BlockKind: "gossip", staff.BlockTopic: "claims"}); err == nil {
		t.Error("unknown kind accepted")
	} else if _, ok := errors.AsType[*slack.ValidationError](err); !ok {
		t.Errorf("unknown kind: err = %v, want a validation error", err)
	}
	values := map[string]string{staff.BlockKind: "inquiry", staff.BlockTopic: "policy_admin"}
	for range 2 { // the second is a redelivery
		if err := r.submit("vs:R:2", staff.CallbackCaseReclassify, c.Ref, values); err != nil {
			t.Fatal(err)
		}
	}
	got := r.get(t, c.Ref)
	if got.Kind != koe.VoiceInquiry || got.Topic != koe.TopicPolicyAdmin || got.Status != koe.CaseReceived {
		t.Fatalf("case = %s/%s/%s, want inquiry/policy_admin/received", got.Kind, got.Topic, got.Status)
	}
	if len(got.History) != 1 || got.History[0].Key != "vs:R:2" || !strings.Contains(got.History[0].Note, "再分類") || got.History[0].By != "suzuki" {
		t.Errorf("history = %+v, want one 再分類 note by suzuki", got.History)
	}

	lines := r.corrections.String()
	exs, err := classifier.ReadExamples(strings.NewReader(staff.CorrectionsHeader + lines))
	if err != nil {
		t.Fatalf("corrections do not parse: %v\n%s", err, lines)
	}
	if len(exs) != 1 {
		t.Fatalf("%d corrections, want 1:\n%s", len(exs), lines)
	}
	ex := exs[0]
	if ex.Kind != "inquiry" || ex.Topic != "policy_admin" || ex.Sentiment != "neutral" || !slices.Equal(ex.Urgency, []string{"legal"}) {
		t.Errorf("correction = %+v", ex)
	}
	if !strings.Contains(ex.Text, "保険金がまだ振り込まれません") {
		t.Errorf("correction text lost the words: %q", ex.Text)
	}
	for _, secret := range []string{plantedPhone, plantedEmail, plantedPolicy} {
		if strings.Contains(lines, secret) {
			t.Errorf("correction contains %q", secret)
		}
	}

	// The same labels again change nothing and write nothing.
	if err := r.submit("vs:R:3", staff.CallbackCaseReclassify, c.Ref, values); err != nil {
		t.Fatal(err)
	}
	if got := r.get(t, c.Ref); len(got.History) != 1 || r.corrections.String() != lines {
		t.Errorf("unchanged labels recorded: %d changes", len(got.History))
	}
	r.runPending(t, staff.JobCaseUpdate)
	if body := alertText(t, r, got); !strings.Contains(body, "問い合わせ・照会") || !strings.Contains(body, "契約の管理・保全・集金") {
		t.Errorf("redrawn alert lacks the new labels: %s", body)
	}
}

// TestReplyModal: 返信 opens a modal; its text goes to the customer's inbox
// as a KindStaff reply keyed by the submission, once, and into the thread.
func TestReplyModal(t *testing.T) {
	r := newCaseRig(t)
	c := r.alerted(t, sampleComplaint())
	r.press(t, "ba:1", staff.ActionCaseReply, c.Ref)
	if m := r.slack.Modals(); len(m) != 1 || m[0].CallbackID != staff.CallbackCaseReply || m[0].PrivateMetadata != c.Ref {
		t.Fatalf("modals = %+v, want the reply modal", m)
	}
	err := r.submit("vs:P:0", staff.CallbackCaseReply, c.Ref, map[string]string{staff.BlockReplyText: " \n "})
	if ve, ok := errors.AsType[*slack.ValidationError](err); !ok || ve.Errors[staff.BlockReplyText] == "" {
		t.Fatalf("empty reply: err = %v, want a validation error", err)
	}
	text := "ご迷惑をおかけしております。本日中にお振込みします。"
	for range 2 {
		if err := r.submit("vs:P:1", staff.CallbackCaseReply, c.Ref, map[string]string{staff.BlockReplyText: text}); err != nil {
			t.Fatal(err)
		}
	}
	msgs := r.inbox.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d inbox messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.ID != "slack:vs:P:1" || m.User != c.User || m.Kind != koe.KindStaff || m.Staff == nil ||
		*m.Staff != (koe.StaffNote{CaseRef: c.Ref, Action: koe.StaffReply, Text: text, By: "suzuki"}) {
		t.Errorf("inbox message = %+v %+v", m, m.Staff)
	}
	threadJobs := r.runPending(t, staff.JobCaseThread)
	if len(threadJobs) != 1 {
		t.Fatalf("%d thread jobs, want 1", len(threadJobs))
	}
	posts := r.slack.Posts()
	last := posts[len(posts)-1]
	if len(posts) != 2 || last.ThreadTS != c.Alert.TS || last.Channel != c.Alert.Channel || !strings.Contains(unJSON(last.Blocks), text) {
		t.Errorf("thread post = %+v, want the reply under %s", last, c.Alert.TS)
	}
}

// TestThreadReplies: staff writing under the alert reach the customer's
// inbox as KindStaff messages; notes among staff, replies elsewhere and
// redeliveries do not.
func TestThreadReplies(t *testing.T) {
	r := newCaseRig(t)
	c := r.alerted(t, sampleComplaint())
	ctx := context.Background()
	reply := func(ev, channel, thread, text string) {
		t.Helper()
		err := r.cs.OnThreadReply(ctx, slack.ThreadReply{EventID: ev, ChannelID: channel, ThreadTS: thread, TS: "9.9", UserID: "U7", Text: text, At: t0})
		if err != nil {
			t.Fatalf("OnThreadReply(%s): %v", ev, err)
		}
	}
	reply("Ev1", c.Alert.Channel, c.Alert.TS, "<@U0BOT> お待たせしました &amp; 詳細は <https://example.jp/faq|こちら> です")
	reply("Ev1", c.Alert.Channel, c.Alert.TS, "<@U0BOT> お待たせしました &amp; 詳細は <https://example.jp/faq|こちら> です") // redelivered
	reply("Ev2", c.Alert.Channel, c.Alert.TS, "// 課長に確認中")
	reply("Ev3", c.Alert.Channel, "1.000001", "関係ないスレッド")
	reply("Ev4", "COTHER", c.Alert.TS, "別チャンネル")
	reply("Ev5", c.Alert.Channel, c.Alert.TS, "／終了")

	msgs := r.inbox.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d inbox messages, want 2: %+v", len(msgs), msgs)
	}
	want := []koe.Message{
		{ID: "slack:Ev1", User: c.User, Kind: koe.KindStaff, SentAt: t0,
			Staff: &koe.StaffNote{CaseRef: c.Ref, Action: koe.StaffReply, Text: "お待たせしました & 詳細は こちら https://example.jp/faq です", By: "U7"}},
		{ID: "slack:Ev5", User: c.User, Kind: koe.KindStaff, SentAt: t0,
			Staff: &koe.StaffNote{CaseRef: c.Ref, Action: koe.StaffEnd, By: "U7"}},
	}
	for i, w := range want {
		g := msgs[i]
		if g.ID != w.ID || g.User != w.User || g.Kind != w.Kind || !g.SentAt.Equal(w.SentAt) || g.Staff == nil || *g.Staff != *w.Staff {
			t.Errorf("message %d = %+v %+v, want %+v %+v", i, g, g.Staff, w, w.Staff)
		}
	}

	t.Run("closed case", func(t *testing.T) {
		closed := r.get(t, c.Ref)
		closed.Status = koe.CaseClosed
		if _, err := r.cases.UpdateCase(ctx, closed); err != nil {
			t.Fatal(err)
		}
		reply("Ev6", c.Alert.Channel, c.Alert.TS, "追伸です")
		if n := len(r.inbox.Messages()); n != 2 {
			t.Errorf("%d inbox messages after a reply to a closed case, want 2", n)
		}
		notes := r.runPending(t, staff.JobCaseThread)
		if len(notes) != 1 {
			t.Fatalf("%d thread notes, want 1", len(notes))
		}
		posts := r.slack.Posts()
		if last := posts[len(posts)-1]; last.ThreadTS != c.Alert.TS || !strings.Contains(last.Text, "送信していません") {
			t.Errorf("note = %+v", last)
		}
	})

	t.Run("inbox down", func(t *testing.T) {
		open := r.get(t, c.Ref)
		open.Status = koe.CaseAssigned
		if _, err := r.cases.UpdateCase(ctx, open); err != nil {
			t.Fatal(err)
		}
		r.inbox.Err = errors.New("disk full")
		defer func() { r.inbox.Err = nil }()
		err := r.cs.OnThreadReply(ctx, slack.ThreadReply{EventID: "Ev7", ChannelID: c.Alert.Channel, ThreadTS: c.Alert.TS, UserID: "U7", Text: "hi"})
		if err == nil {
			t.Error("a reply the inbox refused was acknowledged; Slack would not redeliver it")
		}
	})
}

// TestRelayAndHandoffEnd: the customer's messages during a handoff and its
// end appear in the alert's thread, the customer's words as written.
func TestRelayAndHandoffEnd(t *testing.T) {
	r := newCaseRig(t)
	c := sampleComplaint()
	c.Handoff = true
	c = r.alerted(t, c)
	ctx := context.Background()
	if _, err := r.voices.AddVoice(ctx, koe.Voice{ID: "ev-9/0", User: c.User, Source: "handoff", Text: "まだですか？ <!here> 電話は " + plantedPhone, At: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	r.run(t, koe.Job{ID: "case.relay:ev-9/0", Kind: staff.JobCaseRelay, Ref: c.Ref, Attrs: map[string]string{"voice": "ev-9/0"}})
	posts := r.slack.Posts()
	if len(posts) != 2 {
		t.Fatalf("%d posts, want alert + relay", len(posts))
	}
	relay := posts[1]
	body := unJSON(relay.Blocks)
	if relay.ThreadTS != c.Alert.TS || relay.Channel != c.Alert.Channel {
		t.Errorf("relay posted at %s/%s, want the thread of %s", relay.Channel, relay.ThreadTS, c.Alert.TS)
	}
	if !strings.Contains(body, "まだですか？ &lt;!here&gt; 電話は "+plantedPhone) || strings.Contains(body, "<!here>") {
		t.Errorf("relay should carry the words as written, escaped: %s", body)
	}
	if !strings.Contains(alertText(t, r, c), "会話中") {
		t.Error("alert of a case in handoff does not say so")
	}

	err := r.cs.Handlers()[staff.JobCaseRelay].HandleJob(ctx, koe.Job{ID: "x", Kind: staff.JobCaseRelay, Ref: c.Ref, Attrs: map[string]string{"voice": "nope"}})
	if !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("relay of an unknown voice: err = %v, want koe.ErrInvalid", err)
	}

	ended := r.get(t, c.Ref)
	ended.Handoff = false
	if _, err := r.cases.UpdateCase(ctx, ended); err != nil {
		t.Fatal(err)
	}
	r.run(t, koe.Job{ID: "case.handoff_end:1", Kind: staff.JobCaseHandoffEnd, Ref: c.Ref, Attrs: map[string]string{"by": "customer"}})
	posts = r.slack.Posts()
	if last := posts[len(posts)-1]; len(posts) != 3 || last.ThreadTS != c.Alert.TS || !strings.Contains(last.Text, "お客さまが") {
		t.Errorf("handoff end note = %+v", last)
	}
	if strings.Contains(alertText(t, r, c), "会話中") {
		t.Error("alert still shows the handoff after its end")
	}
}

func TestJobsBeforeAlertAreRetried(t *testing.T) {
	r := newCaseRig(t)
	c := r.open(t, sampleComplaint())
	for _, kind := range []string{staff.JobCaseUpdate, staff.JobCaseRelay, staff.JobCaseThread, staff.JobCaseHandoffEnd} {
		err := r.cs.Handlers()[kind].HandleJob(context.Background(), koe.Job{ID: kind, Kind: kind, Ref: c.Ref, Attrs: map[string]string{"voice": "v"}})
		if err == nil || errors.Is(err, koe.ErrInvalid) {
			t.Errorf("%s before the alert: err = %v, want a retryable error", kind, err)
		}
	}
}

// TestTransition is the API reminders and escalations use.
func TestTransition(t *testing.T) {
	r := newCaseRig(t)
	c := r.alerted(t, sampleComplaint())
	ctx := context.Background()
	got, changed, err := r.cs.Transition(ctx, c.Ref, koe.CaseEscalated, "sla", "回答期限超過", "sla:esc:1")
	if err != nil || !changed || got.Status != koe.CaseEscalated {
		t.Fatalf("escalate: %s, %v, %v", got.Status, changed, err)
	}
	if _, changed, err := r.cs.Transition(ctx, c.Ref, koe.CaseEscalated, "sla", "回答期限超過", "sla:esc:1"); err != nil || changed {
		t.Errorf("repeated escalation: changed %v, err %v", changed, err)
	}
	if _, _, err := r.cs.Transition(ctx, c.Ref, koe.CaseClosed, "sla", "", "k"); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("close by Transition: err = %v, want koe.ErrInvalid", err)
	}
	r.runPending(t, staff.JobCaseUpdate)
	if body := alertText(t, r, got); !strings.Contains(body, "エスカレーション") || !strings.Contains(body, staff.ActionCaseClose) {
		t.Errorf("escalated alert: %s", body)
	}
	// An escalated case can be closed directly.
	if err := r.submit("vs:E:1", staff.CallbackCaseClose, c.Ref, map[string]string{staff.BlockRootCause: "a", staff.BlockAction: "b"}); err != nil {
		t.Fatal(err)
	}
	if s := r.get(t, c.Ref).Status; s != koe.CaseClosed {
		t.Errorf("status = %s, want closed", s)
	}
}

func TestUnknownCaseActionsAreInvalid(t *testing.T) {
	r := newCaseRig(t)
	ctx := context.Background()
	for name, err := range map[string]error{
		"action":      r.cs.OnAction(ctx, slack.Action{ID: "x", ActionID: "case.frobnicate", Value: "C-1"}),
		"case":        r.cs.OnAction(ctx, slack.Action{ID: "x", ActionID: staff.ActionCaseAck, Value: "C-20990101-XXXX"}),
		"modal case":  r.cs.OnAction(ctx, slack.Action{ID: "x", ActionID: staff.ActionCaseClose, Value: "C-20990101-XXXX", TriggerID: "t"}),
		"callback":    r.cs.OnSubmit(ctx, slack.Submission{ID: "x", CallbackID: "case.frobnicate"}),
		"submit case": r.cs.OnSubmit(ctx, slack.Submission{ID: "x", CallbackID: staff.CallbackCaseReply, PrivateMetadata: "C-20990101-XXXX", Values: map[string]string{staff.BlockReplyText: "x"}}),
	} {
		if !errors.Is(err, koe.ErrInvalid) {
			t.Errorf("unknown %s: err = %v, want koe.ErrInvalid", name, err)
		}
	}
}

// TestModalPressDeliveredTwice: a repeated delivery of a press carries the
// same trigger id, which Slack refuses; the modal is already open.
func TestModalPressDeliveredTwice(t *testing.T) {
	r := newCaseRig(t)
	c := r.alerted(t, sampleComplaint())
	a := slack.Action{ID: "ba:1", ActionID: staff.ActionCaseDetail, Value: c.Ref, UserID: "U1", TriggerID: "trig-x"}
	for i := range 2 {
		if err := r.cs.OnAction(context.Background(), a); err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
	}
	m := r.slack.Modals()
	if len(m) != 1 || !strings.Contains(unJSON(m[0].View), plantedPhone) {
		t.Errorf("modals = %+v, want one with the unmasked text", m)
	}
}

func TestMaskText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"電話は090-1234-5678です", "電話は090-****-5678です"},
		{"電話は０９０ー１２３４ー５６７８です", "電話は090-****-5678です"},
		{"携帯 09012345678", "携帯 090-****-5678"},
		{"+81 90 1234 5678 まで", "090-****-5678 まで"},
		{"固定 0312345678", "固定 03-****-5678"},
		{"証券番号1234567890", "証券番号12****7890"},
		{"証券番号はAB12345678です", "証券番号はAB****5678です"},
		{"mail: a.b+c@mail.example.co.jp", "mail: [メールアドレス]"},
		{"口座 1234-5678-9012", "口座 ****-****-****"},
		{"2026-11-22に5万円", "2026-11-22に5万円"},
		{"3件、12時30分、150,000円", "3件、12時30分、150,000円"},
		{"一行目 03-1234-5678\n二行目", "一行目 03-****-5678\n二行目"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := staff.MaskText(tt.in); got != tt.want {
				t.Errorf("MaskText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<@U123> こんにちは", " こんにちは"},
		{"<!here> 至急", " 至急"},
		{"<#C1|general> を見て", "general を見て"},
		{"<https://example.jp/a>", "https://example.jp/a"},
		{"<https://example.jp/a|example.jp/a>", "https://example.jp/a"},
		{"<mailto:a@example.jp|a@example.jp>", "a@example.jp"},
		{"1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 < 2 && 3 > 2"},
		{"&amp;lt;", "&lt;"},
	}
	for _, tt := range tests {
		if got := staff.PlainText(tt.in); got != tt.want {
			t.Errorf("PlainText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOpenCorrections(t *testing.T) {
	dir := t.TempDir()
	for i := range 2 {
		f, err := staff.OpenCorrections(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fmt.Fprintf(f, "complaint\tclaims\tnegative\t-\t遅い %d\n", i); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "corrections", "corrections.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(data), "# kind") != 1 {
		t.Errorf("header written %d times", strings.Count(string(data), "# kind"))
	}
	exs, err := classifier.ReadExamplesDir(filepath.Join(dir, "corrections"))
	if err != nil || len(exs) != 2 {
		t.Fatalf("ReadExamplesDir: %d examples, %v", len(exs), err)
	}
}

func TestNewCasesRequires(t *testing.T) {
	if _, err := staff.NewCases(staff.CasesConfig{}); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("empty config: err = %v, want koe.ErrInvalid", err)
	}
}

// TestLateRedeliveryDoesNotUndoAHandover: sato takes the case, tanaka
// takes it over, then Slack's late redelivery of sato's press arrives; it
// is recognised by its action id and changes nothing.
func TestLateRedeliveryDoesNotUndoAHandover(t *testing.T) {
	r := newCaseRig(t)
	c := r.alerted(t, sampleComplaint())
	ctx := context.Background()
	press := func(id, uid, name string) {
		t.Helper()
		if err := r.cs.OnAction(ctx, slack.Action{ID: id, ActionID: staff.ActionCaseAssign, Value: c.Ref, UserID: uid, UserName: name}); err != nil {
			t.Fatal(err)
		}
	}
	press("ba:1", "U1", "sato")
	press("ba:2", "U3", "tanaka")
	press("ba:1", "U1", "sato")
	got := r.get(t, c.Ref)
	if got.Assignee != "tanaka" || len(got.History) != 2 {
		t.Fatalf("assignee %q with %d changes, want tanaka with 2", got.Assignee, len(got.History))
	}
	if h := got.History[1]; h.From != koe.CaseAssigned || h.To != koe.CaseAssigned || h.By != "tanaka" {
		t.Errorf("handover = %+v", h)
	}
}
