package staff_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/slack"
	"github.com/koehq/koe/bot/staff"
	"github.com/koehq/koe/internal/bizcal"
	"github.com/koehq/koe/internal/fakes"
	"github.com/koehq/koe/internal/fakeslack"
	"github.com/koehq/koe/internal/sla"
)

func jst(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, bizcal.Tokyo())
}

// clock is a settable clock for the handlers and the fake queue.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type slaRig struct {
	cases   *fakes.CaseStore
	queue   *fakes.Queue
	slack   *fakeslack.Server
	clock   *clock
	sla     *staff.SLA
	changed []string
	mu      sync.Mutex
}

// newSLARig builds an SLA on fakes; wrap, if set, wraps the case store.
func newSLARig(t *testing.T, wrap func(*fakes.CaseStore) koe.CaseStore, edit func(*staff.SLAConfig)) *slaRig {
	t.Helper()
	r := &slaRig{cases: fakes.NewCaseStore(), slack: fakeslack.New(t), clock: &clock{t: jst(2026, 11, 20, 16, 0)}}
	r.queue = fakes.NewQueue(r.clock.Now)
	var store koe.CaseStore = r.cases
	if wrap != nil {
		store = wrap(r.cases)
	}
	sc, err := slack.NewClient(slack.ClientConfig{BotToken: fakeslack.BotToken, APIURL: r.slack.URL(), PerChannelInterval: -1, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg := staff.SLAConfig{
		Cases: store, Queue: r.queue, Slack: sc, EscalationChannel: "CESC", Now: r.clock.Now,
		Changed: func(ctx context.Context, c koe.Case) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.changed = append(r.changed, c.Ref+":"+string(c.Status))
			return nil
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	r.sla, err = staff.NewSLA(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sampleCase() koe.Case {
	created := jst(2026, 11, 20, 16, 0)
	return koe.Case{
		Ref: "C-20261120-7F3K", Key: "voice-1", Type: koe.CaseComplaint, Kind: koe.VoiceComplaint,
		Topic: koe.TopicClaims, Priority: koe.PriorityUrgent, User: "line:Ucustomer", Lang: koe.Japanese,
		Summary: "山田太郎と申します。保険金の連絡が遅い。090-1234-5678 に電話をください。証券番号 1234567890、taro@example.com",
		Status:  koe.CaseReceived, CreatedAt: created, UpdatedAt: created,
		AckDueAt: jst(2026, 11, 20, 16, 30), DueAt: jst(2026, 11, 24, 16, 0),
		Alert: &koe.AlertRef{Channel: "CCOMP", TS: "1763622000.000100"},
	}
}

func (r *slaRig) create(t *testing.T, c koe.Case) koe.Case {
	t.Helper()
	c, err := r.cases.CreateCase(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (r *slaRig) handle(kind string, job koe.Job) error {
	return r.sla.Handlers()[kind].HandleJob(context.Background(), job)
}

func TestDue(t *testing.T) {
	r := newSLARig(t, nil, nil)
	custom := newSLARig(t, nil, func(c *staff.SLAConfig) {
		c.Targets = map[koe.Priority]sla.Target{koe.PriorityUrgent: {Ack: 10 * time.Minute, Respond: time.Hour}}
	})
	fri := jst(2026, 11, 20, 16, 0) // Friday; Monday 11/23 is 勤労感謝の日
	tests := []struct {
		name             string
		sla              *staff.SLA
		created          time.Time
		p                koe.Priority
		wantAck, wantDue time.Time
	}{
		{"urgent", r.sla, fri, koe.PriorityUrgent, jst(2026, 11, 20, 16, 30), jst(2026, 11, 24, 16, 0)},
		{"high", r.sla, fri, koe.PriorityHigh, jst(2026, 11, 20, 17, 0), jst(2026, 11, 25, 16, 0)},
		{"normal", r.sla, fri, koe.PriorityNormal, jst(2026, 11, 24, 10, 0), jst(2026, 11, 26, 16, 0)},
		{"unknown priority is normal", r.sla, fri, koe.Priority("weird"), jst(2026, 11, 24, 10, 0), jst(2026, 11, 26, 16, 0)},
		{"saturday night", r.sla, jst(2026, 11, 21, 23, 0), koe.PriorityUrgent, jst(2026, 11, 24, 9, 30), jst(2026, 11, 24, 17, 0)},
		{"custom urgent", custom.sla, fri, koe.PriorityUrgent, jst(2026, 11, 20, 16, 10), jst(2026, 11, 20, 17, 0)},
		{"custom keeps default high", custom.sla, fri, koe.PriorityHigh, jst(2026, 11, 20, 17, 0), jst(2026, 11, 25, 16, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ack, due := tt.sla.Due(tt.created, tt.p)
			if !ack.Equal(tt.wantAck) || !due.Equal(tt.wantDue) {
				t.Errorf("Due = %v, %v; want %v, %v", ack, due, tt.wantAck, tt.wantDue)
			}
		})
	}
}

func TestNewSLARejects(t *testing.T) {
	r := newSLARig(t, nil, nil)
	sc, _ := slack.NewClient(slack.ClientConfig{BotToken: "xoxb-x"})
	tests := []struct {
		name string
		cfg  staff.SLAConfig
	}{
		{"no channel", staff.SLAConfig{Cases: r.cases, Queue: r.queue, Slack: sc}},
		{"no store", staff.SLAConfig{Queue: r.queue, Slack: sc, EscalationChannel: "C"}},
		{"zero target", staff.SLAConfig{Cases: r.cases, Queue: r.queue, Slack: sc, EscalationChannel: "C",
			Targets: map[koe.Priority]sla.Target{koe.PriorityHigh: {}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := staff.NewSLA(tt.cfg); !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("NewSLA = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestSchedule(t *testing.T) {
	tests := []struct {
		name        string
		remindAfter time.Duration
		edit        func(*koe.Case)
		wantRemind  time.Time
		wantDue     time.Time
	}{
		{"at the stored due times", 0, nil, jst(2026, 11, 20, 16, 30), jst(2026, 11, 24, 16, 0)},
		{"remind after 90 business minutes", 90 * time.Minute, nil, jst(2026, 11, 24, 9, 30), jst(2026, 11, 24, 16, 0)},
		{"computed when unset", 0, func(c *koe.Case) { c.AckDueAt, c.DueAt, c.Priority = time.Time{}, time.Time{}, koe.PriorityHigh },
			jst(2026, 11, 20, 17, 0), jst(2026, 11, 25, 16, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSLARig(t, nil, func(c *staff.SLAConfig) { c.RemindAfter = tt.remindAfter })
			c := sampleCase()
			if tt.edit != nil {
				tt.edit(&c)
			}
			for range 2 {
				if err := r.sla.Schedule(context.Background(), c); err != nil {
					t.Fatal(err)
				}
			}
			jobs := r.queue.Pending()
			if len(jobs) != 2 {
				t.Fatalf("%d jobs pending, want 2: %+v", len(jobs), jobs)
			}
			want := map[string]time.Time{"case.escalate:" + c.Ref: tt.wantDue, "case.remind:" + c.Ref: tt.wantRemind}
			for _, j := range jobs {
				at, ok := want[j.ID]
				if !ok || j.Ref != c.Ref || j.Kind != strings.Split(j.ID, ":")[0] {
					t.Errorf("unexpected job %+v", j)
					continue
				}
				if !j.NotBefore.Equal(at) {
					t.Errorf("%s NotBefore = %v, want %v", j.ID, j.NotBefore, at)
				}
			}
		})
	}
}

func TestRemind(t *testing.T) {
	job := koe.Job{ID: "case.remind:C-20261120-7F3K", Kind: staff.JobCaseRemind, Ref: "C-20261120-7F3K"}
	tests := []struct {
		name      string
		edit      func(*koe.Case)
		now       time.Time
		wantPosts int
		wantErr   bool
		wantLater bool // a rescheduled job is pending
	}{
		{"unacknowledged", nil, jst(2026, 11, 20, 16, 31), 1, false, false},
		{"acknowledged meanwhile", func(c *koe.Case) { c.Status = koe.CaseAcknowledged }, jst(2026, 11, 20, 16, 31), 0, false, false},
		{"alert not yet posted", func(c *koe.Case) { c.Alert = nil }, jst(2026, 11, 20, 16, 31), 0, true, false},
		{"too early", nil, jst(2026, 11, 20, 16, 10), 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSLARig(t, nil, nil)
			c := sampleCase()
			if tt.edit != nil {
				tt.edit(&c)
			}
			r.create(t, c)
			r.clock.Set(tt.now)
			for range 2 { // a redelivery posts nothing more
				err := r.handle(staff.JobCaseRemind, job)
				if (err != nil) != tt.wantErr {
					t.Fatalf("remind: %v, want error %v", err, tt.wantErr)
				}
			}
			posts := r.slack.Posts()
			if len(posts) != tt.wantPosts {
				t.Fatalf("%d posts, want %d", len(posts), tt.wantPosts)
			}
			if tt.wantPosts == 1 {
				p := posts[0]
				if p.Channel != "CCOMP" || p.ThreadTS != c.Alert.TS {
					t.Errorf("posted to %s thread %q, want CCOMP thread %s", p.Channel, p.ThreadTS, c.Alert.TS)
				}
				if body := p.Text + string(p.Blocks); !strings.Contains(body, "受付確認") || !strings.Contains(body, c.Ref) {
					t.Errorf("reminder lacks 受付確認 or the ref: %s", body)
				}
				got, _ := r.cases.GetCase(context.Background(), c.Ref)
				if got.Status != koe.CaseReceived || len(got.History) != 1 || got.History[0].By != staff.SystemActor {
					t.Errorf("case after reminder: status %s, history %+v", got.Status, got.History)
				}
			}
			later := false
			for _, j := range r.queue.Pending() {
				if j.Kind == staff.JobCaseRemind && j.NotBefore.Equal(jst(2026, 11, 20, 16, 30)) {
					later = true
				}
			}
			if later != tt.wantLater {
				t.Errorf("rescheduled = %v, want %v (pending %+v)", later, tt.wantLater, r.queue.Pending())
			}
		})
	}
}

// racingStore applies a concurrent change before the first UpdateCase,
// so that update is stale and the SLA must re-read and retry.
type racingStore struct {
	*fakes.CaseStore
	once sync.Once
	race func(*koe.Case)
}

func (s *racingStore) UpdateCase(ctx context.Context, c koe.Case) (koe.Case, error) {
	s.once.Do(func() {
		cur, err := s.CaseStore.GetCase(ctx, c.Ref)
		if err != nil {
			panic(err)
		}
		s.race(&cur)
		if _, err := s.CaseStore.UpdateCase(ctx, cur); err != nil {
			panic(err)
		}
	})
	return s.CaseStore.UpdateCase(ctx, c)
}

func TestEscalate(t *testing.T) {
	job := koe.Job{ID: "case.escalate:C-20261120-7F3K", Kind: staff.JobCaseEscalate, Ref: "C-20261120-7F3K"}
	overdue := jst(2026, 11, 24, 16, 1)
	tests := []struct {
		name       string
		edit       func(*koe.Case)
		race       func(*koe.Case)
		now        time.Time
		wantPosts  int
		wantStatus koe.CaseStatus
		wantFrom   koe.CaseStatus
		wantLater  bool
	}{
		{"received and overdue", nil, nil, overdue, 1, koe.CaseEscalated, koe.CaseReceived, false},
		{"assigned and overdue", func(c *koe.Case) { c.Status, c.Assignee = koe.CaseAssigned, "佐藤" }, nil, overdue, 1, koe.CaseEscalated, koe.CaseAssigned, false},
		{"responded in time", func(c *koe.Case) { c.Status = koe.CaseResponded }, nil, overdue, 0, koe.CaseResponded, "", false},
		{"closed", func(c *koe.Case) { c.Status = koe.CaseClosed }, nil, overdue, 0, koe.CaseClosed, "", false},
		{"not yet due", nil, nil, jst(2026, 11, 24, 15, 0), 0, koe.CaseReceived, "", true},
		{"assigned concurrently", nil, func(c *koe.Case) { c.Status = koe.CaseAssigned }, overdue, 1, koe.CaseEscalated, koe.CaseAssigned, false},
		{"responded concurrently", nil, func(c *koe.Case) { c.Status = koe.CaseResponded }, overdue, 1, koe.CaseResponded, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wrap func(*fakes.CaseStore) koe.CaseStore
			if tt.race != nil {
				wrap = func(st *fakes.CaseStore) koe.CaseStore { return &racingStore{CaseStore: st, race: tt.race} }
			}
			r := newSLARig(t, wrap, nil)
			c := sampleCase()
			if tt.edit != nil {
				tt.edit(&c)
			}
			r.create(t, c)
			r.clock.Set(tt.now)
			for range 2 {
				if err := r.handle(staff.JobCaseEscalate, job); err != nil {
					t.Fatal(err)
				}
			}
			posts := r.slack.Posts()
			if len(posts) != tt.wantPosts {
				t.Fatalf("%d posts, want %d", len(posts), tt.wantPosts)
			}
			got, _ := r.cases.GetCase(context.Background(), c.Ref)
			if got.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", got.Status, tt.wantStatus)
			}
			if tt.wantStatus == koe.CaseEscalated {
				last := got.History[len(got.History)-1]
				if last.From != tt.wantFrom || last.To != koe.CaseEscalated || last.By != staff.SystemActor || last.Key != job.ID || last.Note == "" {
					t.Errorf("last change = %+v", last)
				}
				// Once per delivery: the queue dedupes what Changed enqueues.
				if len(r.changed) != 2 || r.changed[0] != c.Ref+":escalated" || r.changed[1] != c.Ref+":escalated" {
					t.Errorf("Changed calls = %v, want 2 × escalated", r.changed)
				}
			} else if len(r.changed) != 0 {
				t.Errorf("Changed called %v, want never", r.changed)
			}
			if tt.wantPosts == 1 {
				p := posts[0]
				body := p.Text + string(p.Blocks)
				if p.Channel != "CESC" || p.ThreadTS != "" {
					t.Errorf("posted to %s/%s, want CESC", p.Channel, p.ThreadTS)
				}
				for _, want := range []string{c.Ref, "保険金", "エスカレーション", "https://slack.com/archives/CCOMP/p1763622000000100", "2026-11-24 16:00"} {
					if !strings.Contains(body, want) {
						t.Errorf("escalation lacks %q", want)
					}
				}
				for _, secret := range []string{"山田", "090-1234-5678", "1234567890", "taro@example.com", "Ucustomer"} {
					if strings.Contains(body, secret) {
						t.Errorf("escalation contains %q", secret)
					}
				}
			}
			later := false
			for _, j := range r.queue.Pending() {
				later = later || (j.Kind == staff.JobCaseEscalate && j.NotBefore.Equal(c.DueAt))
			}
			if later != tt.wantLater {
				t.Errorf("rescheduled = %v, want %v", later, tt.wantLater)
			}
		})
	}
}

// TestEscalateSlackDown: a failed post changes nothing; the retry posts
// once and escalates.
func TestEscalateSlackDown(t *testing.T) {
	r := newSLARig(t, nil, nil)
	c := r.create(t, sampleCase())
	r.clock.Set(jst(2026, 11, 25, 9, 0))
	job := koe.Job{ID: "case.escalate:" + c.Ref, Kind: staff.JobCaseEscalate, Ref: c.Ref}
	r.slack.FailNext(1, 500, "")
	if err := r.handle(staff.JobCaseEscalate, job); err == nil {
		t.Fatal("escalate with Slack down succeeded, want an error (retry)")
	}
	if got, _ := r.cases.GetCase(context.Background(), c.Ref); got.Status != koe.CaseReceived {
		t.Fatalf("status after failed post = %s, want received", got.Status)
	}
	if err := r.handle(staff.JobCaseEscalate, job); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.cases.GetCase(context.Background(), c.Ref); got.Status != koe.CaseEscalated {
		t.Errorf("status = %s, want escalated", got.Status)
	}
	if n := len(r.slack.Posts()); n != 1 {
		t.Errorf("%d posts, want 1", n)
	}
}

func TestSLAUnknownCaseIsPermanent(t *testing.T) {
	r := newSLARig(t, nil, nil)
	for _, kind := range []string{staff.JobCaseRemind, staff.JobCaseEscalate} {
		err := r.handle(kind, koe.Job{ID: kind + ":C-NONE", Kind: kind, Ref: "C-NONE"})
		if !errors.Is(err, koe.ErrInvalid) {
			t.Errorf("%s of an unknown case: %v, want ErrInvalid", kind, err)
		}
	}
}

// TestEscalateQueuesRedraw: by default the escalation queues the redraw of
// the case's alert under cases.go's job id scheme, once.
func TestEscalateQueuesRedraw(t *testing.T) {
	r := newSLARig(t, nil, func(c *staff.SLAConfig) { c.Changed = nil })
	c := sampleCase()
	c.History = []koe.CaseChange{{From: koe.CaseReceived, To: koe.CaseAcknowledged, By: "U1", Key: "a1"}}
	c.Status = koe.CaseAcknowledged
	r.create(t, c)
	r.clock.Set(jst(2026, 11, 25, 9, 0))
	job := koe.Job{ID: "case.escalate:" + c.Ref, Kind: staff.JobCaseEscalate, Ref: c.Ref}
	for range 2 {
		if err := r.handle(staff.JobCaseEscalate, job); err != nil {
			t.Fatal(err)
		}
	}
	var redraws []string
	for _, j := range r.queue.Pending() {
		if j.Kind == staff.JobCaseUpdate {
			redraws = append(redraws, j.ID)
		}
	}
	if want := "case.update:" + c.Ref + ":2"; len(redraws) != 1 || redraws[0] != want {
		t.Errorf("redraw jobs = %v, want [%s]", redraws, want)
	}
}
