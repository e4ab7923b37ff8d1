package staff_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/followup"
	"github.com/koehq/koe/bot/staff"
	"github.com/koehq/koe/internal/fakes"
	"github.com/koehq/koe/internal/fakeslack"
)

// threadPosts returns the posts in the thread of ts.
func threadPosts(fake *fakeslack.Server, ts string) []fakeslack.Message {
	var out []fakeslack.Message
	for _, p := range fake.Posts() {
		if p.ThreadTS == ts {
			out = append(out, p)
		}
	}
	return out
}

// checkKey: a thread post carries a key naming the case and what caused
// it, and no personal data.
func checkKey(t *testing.T, p fakeslack.Message, ref string, job koe.Job) {
	t.Helper()
	md := string(p.Metadata)
	sum := sha256.Sum256([]byte(job.ID))
	want := ref + ":" + job.Kind + ":" + hex.EncodeToString(sum[:16])
	if !strings.Contains(md, `"key":"`+want+`"`) {
		t.Errorf("metadata %s lacks the key %s", md, want)
	}
	if strings.Contains(md, job.ID) {
		t.Errorf("metadata %s holds the job id %s (its source may be a user's session)", md, job.ID)
	}
	for _, secret := range []string{plantedPhone, plantedEmail, plantedPolicy, "Ucustomer", "まだ", "本日中"} {
		if strings.Contains(md, secret) {
			t.Errorf("metadata %s contains %q", md, secret)
		}
	}
}

// TestThreadPostsOnce: each job that posts in a case alert's thread posts
// once. Delivered again (the first delivery may have posted and died before
// completing) it finds its post instead of posting again; and when Slack
// posted but the answer was lost, the job fails and its next delivery finds
// the post.
func TestThreadPostsOnce(t *testing.T) {
	tests := []struct {
		name string
		job  func(ref string) koe.Job
		want string // in the post
	}{
		{"relay", func(ref string) koe.Job {
			return koe.Job{ID: "case.relay:ev-9/0", Kind: staff.JobCaseRelay, Ref: ref, Attrs: map[string]string{"voice": "ev-9/0"}}
		}, "まだですか"},
		{"handoff end", func(ref string) koe.Job {
			return koe.Job{ID: "case.handoff_end:ev-10/0", Kind: staff.JobCaseHandoffEnd, Ref: ref, Attrs: map[string]string{"by": "customer"}}
		}, "お客さまが"},
		{"staff reply", func(ref string) koe.Job {
			return koe.Job{ID: "case.thread:vs:P:1", Kind: staff.JobCaseThread, Ref: ref,
				Attrs: map[string]string{"what": "reply", "text": "本日中にお電話します（" + plantedPhone + "）", "by": "suzuki"}}
		}, "本日中"},
		{"note", func(ref string) koe.Job {
			return koe.Job{ID: "case.thread:Ev6", Kind: staff.JobCaseThread, Ref: ref,
				Attrs: map[string]string{"what": "note", "text": "この案件は完了しているため、このメッセージはお客さまに送信していません。"}}
		}, "送信していません"},
	}
	setup := func(t *testing.T) (*caseRig, koe.Case) {
		t.Helper()
		r := newCaseRig(t)
		c := sampleComplaint()
		c.Handoff = true
		c = r.alerted(t, c)
		if _, err := r.voices.AddVoice(context.Background(), koe.Voice{ID: "ev-9/0", User: c.User, Source: "handoff",
			Text: "まだですか？ 電話は " + plantedPhone, At: t0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		return r, c
	}
	handle := func(r *caseRig, attempt int, job koe.Job) error {
		return r.cs.Handlers()[job.Kind].HandleJob(followup.WithAttempt(context.Background(), attempt), job)
	}
	for _, tt := range tests {
		t.Run(tt.name+"/delivered again", func(t *testing.T) {
			r, c := setup(t)
			job := tt.job(c.Ref)
			for attempt := 1; attempt <= 2; attempt++ {
				if err := handle(r, attempt, job); err != nil {
					t.Fatalf("attempt %d: %v", attempt, err)
				}
			}
			posts := threadPosts(r.slack, c.Alert.TS)
			if len(posts) != 1 {
				t.Fatalf("%d posts in the thread after two deliveries, want 1", len(posts))
			}
			if body := posts[0].Text + unJSON(posts[0].Blocks); !strings.Contains(body, tt.want) {
				t.Errorf("thread post lacks %q: %s", tt.want, body)
			}
			checkKey(t, posts[0], c.Ref, job)
			if n := r.slack.Requests("conversations.replies"); n != 1 {
				t.Errorf("thread searched %d times, want 1 (on the second delivery only)", n)
			}
		})
		t.Run(tt.name+"/answer lost", func(t *testing.T) {
			r, c := setup(t)
			job := tt.job(c.Ref)
			r.slack.LoseNextAnswers("chat.postMessage", 1)
			if err := handle(r, 1, job); err == nil {
				t.Fatal("a post whose answer was lost succeeded; the job would not be retried")
			}
			if err := handle(r, 2, job); err != nil {
				t.Fatalf("second delivery: %v", err)
			}
			if posts := threadPosts(r.slack, c.Alert.TS); len(posts) != 1 {
				t.Errorf("%d posts in the thread, want the 1 whose answer was lost", len(posts))
			}
		})
	}

	t.Run("different jobs post separately", func(t *testing.T) {
		r, c := setup(t)
		for _, id := range []string{"case.thread:Ev1", "case.thread:Ev2"} {
			job := koe.Job{ID: id, Kind: staff.JobCaseThread, Ref: c.Ref, Attrs: map[string]string{"what": "note", "text": "同じ文面"}}
			if err := handle(r, 2, job); err != nil {
				t.Fatal(err)
			}
		}
		if posts := threadPosts(r.slack, c.Alert.TS); len(posts) != 2 {
			t.Errorf("%d posts for two jobs with the same text, want 2", len(posts))
		}
	})
}

// failOnceStore fails the first UpdateCase, as a crash between the post
// and recording it would.
type failOnceStore struct {
	*fakes.CaseStore
	once sync.Once
}

func (s *failOnceStore) UpdateCase(ctx context.Context, c koe.Case) (koe.Case, error) {
	var err error
	s.once.Do(func() { err = errors.New("store down") })
	if err != nil {
		return koe.Case{}, err
	}
	return s.CaseStore.UpdateCase(ctx, c)
}

// TestRemindOnce: the reminder is posted once even when its record is
// lost (the job posted, then failed to record it) or Slack's answer is
// lost; the next delivery finds the post and records it.
func TestRemindOnce(t *testing.T) {
	job := koe.Job{ID: "case.remind:C-20261120-7F3K", Kind: staff.JobCaseRemind, Ref: "C-20261120-7F3K"}
	tests := []struct {
		name  string
		wrap  func(*fakes.CaseStore) koe.CaseStore
		fault func(*fakeslack.Server)
	}{
		{"record lost", func(st *fakes.CaseStore) koe.CaseStore { return &failOnceStore{CaseStore: st} }, nil},
		{"answer lost", nil, func(f *fakeslack.Server) { f.LoseNextAnswers("chat.postMessage", 1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSLARig(t, tt.wrap, nil)
			c := r.create(t, sampleCase())
			r.clock.Set(jst(2026, 11, 20, 16, 31))
			if tt.fault != nil {
				tt.fault(r.slack)
			}
			ctx := context.Background()
			if err := r.sla.Handlers()[job.Kind].HandleJob(ctx, job); err == nil {
				t.Fatal("first delivery succeeded; want the failure that makes the queue deliver it again")
			}
			if err := r.sla.Handlers()[job.Kind].HandleJob(followup.WithAttempt(ctx, 2), job); err != nil {
				t.Fatalf("second delivery: %v", err)
			}
			posts := threadPosts(r.slack, c.Alert.TS)
			if len(posts) != 1 {
				t.Fatalf("%d reminders posted, want 1", len(posts))
			}
			if md := string(posts[0].Metadata); !strings.Contains(md, `"case.remind:`+c.Ref+`"`) {
				t.Errorf("reminder metadata = %s, want the key case.remind:%s", md, c.Ref)
			}
			got, _ := r.cases.GetCase(ctx, c.Ref)
			if len(got.History) != 1 || got.History[0].Key != "case.remind:"+c.Ref {
				t.Errorf("history = %+v, want the reminder recorded once", got.History)
			}
		})
	}
}
