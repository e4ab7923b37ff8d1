package staff_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/followup"
	"github.com/koehq/koe/bot/slack"
	"github.com/koehq/koe/bot/staff"
	"github.com/koehq/koe/dialogs/catalog"
	"github.com/koehq/koe/internal/fakes"
	"github.com/koehq/koe/internal/fakeslack"
)

var t0 = time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC)

type rig struct {
	reports *fakes.ReportStore
	queue   *fakes.Queue
	slack   *fakeslack.Server
	sender  *fakes.Sender
	acc     *staff.Accidents
	dataDir string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{
		reports: fakes.NewReportStore(),
		queue:   fakes.NewQueue(func() time.Time { return t0 }),
		slack:   fakeslack.New(t),
		sender:  &fakes.Sender{},
		dataDir: t.TempDir(),
	}
	sc, err := slack.NewClient(slack.ClientConfig{BotToken: fakeslack.BotToken, APIURL: r.slack.URL(), PerChannelInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	r.acc, err = staff.NewAccidents(staff.AccidentsConfig{
		Reports: r.reports, Queue: r.queue, Slack: sc, Channel: "CACC",
		Senders: map[koe.Channel]koe.Sender{koe.ChannelLINE: r.sender},
		Catalog: cat, DataDir: r.dataDir, Now: func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) file(t *testing.T, rep koe.AccidentReport) koe.AccidentReport {
	t.Helper()
	stored, err := r.reports.CreateReport(context.Background(), rep)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func (r *rig) run(t *testing.T, kind string, job koe.Job) {
	t.Helper()
	if err := r.acc.Handlers()[kind].HandleJob(context.Background(), job); err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
}

func sampleReport() koe.AccidentReport {
	return koe.AccidentReport{
		Ref: "AR-20261122-7F3K", Key: "ev1/0", User: "line:Ucustomer", Lang: koe.Japanese,
		Urgent: true, Kind: koe.AccidentMotor, PolicyNumber: "1234567890",
		OccurredText: "2026年11月22日 13:40頃", Place: "東京都渋谷区道玄坂1-2-3",
		Description: "交差点で追突されました <!channel>", Phone: "+819012345678",
		Involved: []koe.Party{{Kind: "vehicle", Plate: "品川500あ1234"}},
		Status:   koe.ReportReceived, SubmittedAt: t0,
	}
}

// TestAlertPostsOnceWithPersonalDataMasked: the alert shows the facts with
// policy number and phone masked, and a second run of the job (redelivery
// or restart) posts nothing more.
func TestAlertPostsOnceWithPersonalDataMasked(t *testing.T) {
	r := newRig(t)
	rep := r.file(t, sampleReport())
	job := koe.Job{ID: "accident.alert:" + rep.Ref, Kind: staff.JobAccidentAlert, Ref: rep.Ref}
	r.run(t, staff.JobAccidentAlert, job)
	r.run(t, staff.JobAccidentAlert, job)

	posts := r.slack.Posts()
	if len(posts) != 1 {
		t.Fatalf("%d posts, want 1", len(posts))
	}
	// Decode the JSON escapes (\u003c for <) so a mention would show as one.
	body := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(posts[0].Blocks)) + posts[0].Text
	for _, want := range []string{"AR-20261122-7F3K", "12****7890", "090-****-5678", "自動車", "緊急", "担当する", "accident.assign"} {
		if !strings.Contains(body, want) {
			t.Errorf("alert lacks %q", want)
		}
	}
	for _, secret := range []string{"1234567890", "+819012345678", "09012345678", "090-1234-5678", "<!channel>"} {
		if strings.Contains(body, secret) {
			t.Errorf("alert contains %q", secret)
		}
	}
	got, _ := r.reports.GetReport(context.Background(), rep.Ref)
	if got.Alert == nil || got.Alert.Channel != "CACC" || got.Alert.TS != posts[0].TS {
		t.Errorf("alert ref = %+v, want CACC/%s", got.Alert, posts[0].TS)
	}
}

// TestButtonsChangeStatusOnceAndTellTheCustomer walks 担当する → 完了, with
// a retried delivery of a press and a second 完了, and checks the report,
// the queued jobs, the redrawn alert and the customer's progress notes.
func TestButtonsChangeStatusOnceAndTellTheCustomer(t *testing.T) {
	r := newRig(t)
	rep := r.file(t, sampleReport())
	r.run(t, staff.JobAccidentAlert, koe.Job{ID: "a", Kind: staff.JobAccidentAlert, Ref: rep.Ref})
	ctx := context.Background()
	press := func(id, action string) {
		t.Helper()
		err := r.acc.OnAction(ctx, slack.Action{ID: id, ActionID: action, Value: rep.Ref, UserID: "U1", UserName: "sato"})
		if err != nil {
			t.Fatalf("OnAction(%s): %v", action, err)
		}
	}
	press("ba:1", staff.ActionAssign)
	press("ba:1", staff.ActionAssign) // Slack retried the same press
	press("ba:2", staff.ActionDone)
	press("ba:3", staff.ActionDone) // pressed again: nothing leaves 完了

	got, _ := r.reports.GetReport(ctx, rep.Ref)
	if got.Status != koe.ReportDone || got.Assignee != "sato" || len(got.History) != 2 {
		t.Fatalf("report = %s by %q with %d changes; want done by sato with 2", got.Status, got.Assignee, len(got.History))
	}
	if h := got.History[0]; h.From != koe.ReportReceived || h.To != koe.ReportAssigned || h.By != "U1" || h.Key != "ba:1" || !h.At.Equal(t0) {
		t.Errorf("first change = %+v", h)
	}
	var notes []koe.Job
	for _, j := range r.queue.Pending() {
		switch j.Kind {
		case staff.JobAccidentNotify:
			notes = append(notes, j)
			r.run(t, j.Kind, j)
			r.run(t, j.Kind, j) // redelivered: same retry key, LINE shows it once
		case staff.JobAccidentUpdate:
			r.run(t, j.Kind, j)
		}
	}
	if len(notes) != 2 {
		t.Fatalf("%d progress notes queued, want 2", len(notes))
	}
	sent := r.sender.Sent()
	if len(sent) != 4 {
		t.Fatalf("%d pushes, want 4 (2 notes, each delivered twice)", len(sent))
	}
	if sent[0].RetryKey != sent[1].RetryKey || sent[0].RetryKey == sent[2].RetryKey {
		t.Errorf("retry keys %q %q %q: want equal for one note, different between notes", sent[0].RetryKey, sent[1].RetryKey, sent[2].RetryKey)
	}
	if !strings.Contains(sent[0].Replies[0].Text, "担当者が決まりました") || !strings.Contains(sent[2].Replies[0].Text, "完了しました") {
		t.Errorf("notes = %q / %q", sent[0].Replies[0].Text, sent[2].Replies[0].Text)
	}
	if sent[0].To != "line:Ucustomer" || sent[0].ReplyToken != "" {
		t.Errorf("note sent to %s with reply token %q; want a push to the customer", sent[0].To, sent[0].ReplyToken)
	}
	cur, ok := r.slack.Current("CACC", got.Alert.TS)
	if !ok || !strings.Contains(string(cur.Blocks), "完了") || strings.Contains(string(cur.Blocks), "accident.assign") {
		t.Errorf("redrawn alert should show 完了 without buttons: %s", cur.Blocks)
	}
}

// TestRedeliveredAlertAdoptsTheEarlierPost: the process posted the alert
// and died before recording it; the redelivered job finds the post by its
// key and records it instead of posting a second alert.
func TestRedeliveredAlertAdoptsTheEarlierPost(t *testing.T) {
	r := newRig(t)
	rep := r.file(t, sampleReport())
	sc, err := slack.NewClient(slack.ClientConfig{BotToken: fakeslack.BotToken, APIURL: r.slack.URL(), PerChannelInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	earlier, err := sc.Post(context.Background(), "CACC", staff.AccidentAlert(rep, t0))
	if err != nil {
		t.Fatal(err)
	}
	job := koe.Job{ID: "accident.alert:" + rep.Ref, Kind: staff.JobAccidentAlert, Ref: rep.Ref}
	if err := r.acc.Handlers()[job.Kind].HandleJob(followup.WithAttempt(context.Background(), 2), job); err != nil {
		t.Fatal(err)
	}
	if n := len(r.slack.Posts()); n != 1 {
		t.Errorf("%d alerts posted, want 1", n)
	}
	got, _ := r.reports.GetReport(context.Background(), rep.Ref)
	if got.Alert == nil || got.Alert.TS != earlier {
		t.Errorf("recorded alert %+v, want the earlier post %s", got.Alert, earlier)
	}
}

func TestUnknownActionOrReportIsInvalid(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if err := r.acc.OnAction(ctx, slack.Action{ID: "x", ActionID: "accident.frobnicate", Value: "AR-1"}); err == nil {
		t.Error("unknown action accepted")
	}
	if err := r.acc.OnAction(ctx, slack.Action{ID: "x", ActionID: staff.ActionAssign, Value: "AR-20990101-XXXX"}); err == nil {
		t.Error("unknown report accepted")
	}
}

// TestPhotosGoToTheAlertThread uploads kept photos and skips pictures that
// were never fetched from the channel.
func TestPhotosGoToTheAlertThread(t *testing.T) {
	r := newRig(t)
	if err := os.MkdirAll(filepath.Join(r.dataDir, "photos"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dataDir, "photos", "a.jpg"), []byte("\xff\xd8jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := sampleReport()
	rep.Photos = []koe.Photo{{Path: "photos/a.jpg", ContentType: "image/jpeg", Size: 6}, {ContentID: "m-lost"}}
	rep = r.file(t, rep)
	r.run(t, staff.JobAccidentAlert, koe.Job{ID: "a", Kind: staff.JobAccidentAlert, Ref: rep.Ref})
	var photoJob *koe.Job
	for _, j := range r.queue.Pending() {
		if j.Kind == staff.JobAccidentPhotos {
			photoJob = &j
		}
	}
	if photoJob == nil {
		t.Fatal("no photo job queued after the alert")
	}
	r.run(t, photoJob.Kind, *photoJob)
	ups := r.slack.Uploads()
	if len(ups) != 1 || !ups[0].Completed || ups[0].ThreadTS != r.slack.Posts()[0].TS || string(ups[0].Data) != "\xff\xd8jpeg" {
		t.Fatalf("uploads = %+v; want the one kept photo in the alert's thread", ups)
	}
}

// failOnce fails the next Enqueue, as a store outage would.
type failOnce struct {
	koe.Queue
	fail bool
}

func (q *failOnce) Enqueue(ctx context.Context, jobs ...koe.Job) (int, error) {
	if q.fail {
		q.fail = false
		return 0, errors.New("queue unavailable")
	}
	return q.Queue.Enqueue(ctx, jobs...)
}

// TestRetriedPressQueuesWhatTheFirstCouldNot: the status change was saved
// but its jobs could not be queued; Slack's retry of the same press must
// queue them (the redraw, the customer's note, the survey), once.
func TestRetriedPressQueuesWhatTheFirstCouldNot(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	reports, inner := fakes.NewReportStore(), fakes.NewQueue(func() time.Time { return t0 })
	q := &failOnce{Queue: inner}
	var closedAt []time.Time
	acc, err := staff.NewAccidents(staff.AccidentsConfig{
		Reports: reports, Queue: q, Slack: &slack.Client{}, Channel: "CACC", Catalog: cat,
		Now: func() time.Time { return t0 },
		Closed: func(r koe.AccidentReport, at time.Time) []koe.Job {
			closedAt = append(closedAt, at)
			return []koe.Job{{ID: "survey.send:" + r.Ref, Kind: "survey.send", Ref: r.Ref, NotBefore: at.Add(72 * time.Hour)}}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := reports.CreateReport(context.Background(), sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	press := slack.Action{ID: "ba:done", ActionID: staff.ActionDone, Value: rep.Ref, UserID: "U1", UserName: "sato"}
	q.fail = true
	if err := acc.OnAction(context.Background(), press); err == nil {
		t.Fatal("first press: want the queue's error")
	}
	if err := acc.OnAction(context.Background(), press); err != nil {
		t.Fatal(err)
	}
	if err := acc.OnAction(context.Background(), press); err != nil { // and once more
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, j := range inner.Pending() {
		kinds[j.Kind]++
	}
	if kinds[staff.JobAccidentUpdate] != 1 || kinds[staff.JobAccidentNotify] != 1 || kinds["survey.send"] != 1 {
		t.Errorf("queued %v, want one redraw, one note and one survey", kinds)
	}
	got, _ := reports.GetReport(context.Background(), rep.Ref)
	if len(got.History) != 1 || got.Status != koe.ReportDone {
		t.Errorf("history %+v, want the one change", got.History)
	}
	if len(closedAt) == 0 || !closedAt[0].Equal(t0) {
		t.Errorf("Closed called with %v, want the change's time %v", closedAt, t0)
	}
}
