package dialogs_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/internal/fakes"
)

const alice = koe.UserID("line:Ualice")

type rig struct {
	clk    *clock
	store  *fakes.SessionStore
	sender *fakes.Sender
	voices *voiceRecorder
	eng    *dialogs.Engine
}

func newRig(t *testing.T, mod func(*dialogs.Config)) *rig {
	t.Helper()
	r := &rig{clk: newClock(defaultNow), sender: &fakes.Sender{}, voices: &voiceRecorder{}}
	r.store = fakes.NewSessionStore(r.clk.Now)
	cfg := dialogs.Config{
		Sessions:    r.store,
		Senders:     map[koe.Channel]koe.Sender{koe.ChannelLINE: r.sender},
		Now:         r.clk.Now,
		NewRetryKey: counter("retry-"),
		Voices:      r.voices,
	}
	if mod != nil {
		mod(&cfg)
	}
	eng, err := dialogs.NewEngine(cfg)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	r.eng = eng
	return r
}

func text(id, s string) koe.Message {
	return koe.Message{ID: id, User: alice, Kind: koe.KindText, Text: s, ReplyToken: "tok-" + id, SentAt: defaultNow}
}

func postback(id, data string) koe.Message {
	return koe.Message{ID: id, User: alice, Kind: koe.KindPostback, Postback: &koe.Postback{Data: data}, SentAt: defaultNow}
}

func (r *rig) handle(t *testing.T, msgs ...koe.Message) {
	t.Helper()
	for _, m := range msgs {
		if err := r.eng.Handle(context.Background(), m); err != nil {
			t.Fatalf("Handle(%s): %v", m.ID, err)
		}
	}
}

func (r *rig) session(t *testing.T) koe.Session {
	t.Helper()
	s, ok := r.store.Get(alice)
	if !ok {
		t.Fatal("no session stored")
	}
	return s
}

func TestHandleSavesOutboxAndSends(t *testing.T) {
	r := newRig(t, nil)
	msg := koe.Message{ID: "m1", User: alice, Kind: koe.KindFollow, ReplyToken: "tok", SentAt: defaultNow.Add(-time.Second)}
	r.handle(t, msg)

	s := r.session(t)
	if s.Version != 1 || s.Lang != koe.Japanese || !s.HasApplied("m1") {
		t.Errorf("session = version %d lang %q applied %v, want 1, ja, [m1]", s.Version, s.Lang, s.Applied)
	}
	if want := defaultNow.Add(dialogs.DefaultSessionRetention); !s.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", s.ExpiresAt, want)
	}
	sent := r.sender.Sent()
	if len(sent) != 1 {
		t.Fatalf("sent %d batches, want 1", len(sent))
	}
	out := sent[0]
	if out.ID != "m1" || out.To != alice || out.Lang != koe.Japanese || out.RetryKey != "retry-1" ||
		out.ReplyToken != "tok" || !out.TokenIssuedAt.Equal(msg.SentAt) {
		t.Errorf("outbound = %+v", out)
	}
	if s.Outbox == nil || !reflect.DeepEqual(*s.Outbox, out) {
		t.Errorf("stored outbox %+v differs from sent %+v", s.Outbox, out)
	}
	if n := len(out.Replies); n != 2 || len(out.Replies[1].QuickReplies) != 3 {
		t.Errorf("follow replies = %+v, want greeting and a 3-entry menu", out.Replies)
	}
}

func TestRedeliveryResendsStoredOutbox(t *testing.T) {
	r := newRig(t, nil)
	r.handle(t, text("m1", "メニュー"), postback("m2", "menu:feedback"), text("m3", "とても良い対応でした"))
	before := r.session(t)
	if before.State != "confirm" {
		t.Fatalf("state = %q, want confirm", before.State)
	}

	// m3 again: the same outbox goes out again; nothing else changes.
	r.handle(t, text("m3", "とても良い対応でした"))
	sent := r.sender.Sent()
	if len(sent) != 4 {
		t.Fatalf("sent %d batches, want 4", len(sent))
	}
	if !reflect.DeepEqual(sent[3], sent[2]) {
		t.Errorf("resent batch %+v differs from original %+v", sent[3], sent[2])
	}
	after := r.session(t)
	if !reflect.DeepEqual(after, before) {
		t.Errorf("redelivery changed the session:\n got %+v\nwant %+v", after, before)
	}

	// m2 again: superseded by m3, so nothing is sent and nothing changes.
	r.handle(t, postback("m2", "menu:feedback"))
	if n := len(r.sender.Sent()); n != 4 {
		t.Errorf("superseded redelivery sent something: %d batches", n)
	}
	if got := r.session(t); !reflect.DeepEqual(got, before) {
		t.Errorf("superseded redelivery changed the session")
	}

	// Sending the comment: one voice, even when the message comes twice.
	r.handle(t, postback("m4", "feedback:send"), postback("m4", "feedback:send"))
	if vs := r.voices.Voices(); len(vs) != 1 || vs[0].Voice.Text != "とても良い対応でした" || vs[0].Meta.Key != "m4/0" {
		t.Errorf("voices = %+v, want one with key m4/0", vs)
	}
	if c := r.voices.Calls(); c != 1 {
		t.Errorf("voice sink called %d times, want 1 (the redelivery must not run the step)", c)
	}
}

func TestSendFailureKeepsOutboxForRetry(t *testing.T) {
	r := newRig(t, nil)
	boom := errors.New("platform down")
	r.sender.SetErr(boom)
	err := r.eng.Handle(context.Background(), text("m1", "メニュー"))
	if !errors.Is(err, boom) {
		t.Fatalf("Handle = %v, want the sender's error", err)
	}
	s := r.session(t)
	if s.Outbox == nil || s.Outbox.RetryKey != "retry-1" {
		t.Fatalf("outbox not saved before sending: %+v", s.Outbox)
	}
	r.sender.SetErr(nil)
	r.handle(t, text("m1", "メニュー"))
	sent := r.sender.Sent()
	if len(sent) != 1 || sent[0].RetryKey != "retry-1" {
		t.Errorf("retry sent %+v, want the stored batch with retry key retry-1", sent)
	}
	if got := r.session(t); got.Version != s.Version {
		t.Errorf("retry saved again: version %d, want %d", got.Version, s.Version)
	}
}

func TestStaleWriteIsRetried(t *testing.T) {
	r := newRig(t, nil)
	r.handle(t, text("m1", "メニュー"))

	// A concurrent writer switches the session to English between the
	// engine's load and save, once.
	var once sync.Once
	r.store.BeforeSave = func(s koe.Session) {
		once.Do(func() {
			cur, _ := r.store.Get(alice)
			cur.Version++
			cur.Lang = koe.English
			r.store.Put(cur)
		})
	}
	r.handle(t, postback("m2", "menu:feedback"))

	_, conflicts, _ := r.store.Stats()
	if conflicts != 1 {
		t.Errorf("conflicts = %d, want 1", conflicts)
	}
	s := r.session(t)
	if s.Version != 3 || s.Dialog != dialogs.DialogFeedback || s.Lang != koe.English {
		t.Errorf("session = version %d dialog %q lang %q, want 3, feedback, en (step redone on the new state)", s.Version, s.Dialog, s.Lang)
	}
	last, _ := r.sender.Last()
	if !strings.Contains(last.Replies[0].Text, "feedback") {
		t.Errorf("reply was not recomputed in English: %q", last.Replies[0].Text)
	}
	if n := len(r.sender.Sent()); n != 2 {
		t.Errorf("sent %d batches, want 2", n)
	}
}

func TestStaleWriteGivesUp(t *testing.T) {
	r := newRig(t, nil)
	r.store.BeforeSave = func(s koe.Session) {
		cur, ok := r.store.Get(alice)
		if !ok {
			cur = koe.Session{User: alice, ExpiresAt: defaultNow.Add(time.Hour)}
		}
		cur.Version++
		r.store.Put(cur)
	}
	err := r.eng.Handle(context.Background(), text("m1", "メニュー"))
	if !errors.Is(err, koe.ErrConflict) {
		t.Fatalf("Handle = %v, want ErrConflict", err)
	}
	if _, conflicts, _ := r.store.Stats(); conflicts != 5 {
		t.Errorf("attempts = %d, want 5", conflicts)
	}
	if n := r.sender.Attempts(); n != 0 {
		t.Errorf("sent %d times after failing to save", n)
	}
}

func TestUnfollowForgetsSession(t *testing.T) {
	r := newRig(t, nil)
	r.handle(t, text("m1", "メニュー"), postback("m2", "menu:feedback"))
	r.handle(t, koe.Message{ID: "m3", User: alice, Kind: koe.KindUnfollow})
	if _, ok := r.store.Get(alice); ok {
		t.Error("session still stored after unfollow")
	}
	if n := len(r.sender.Sent()); n != 2 {
		t.Errorf("unfollow sent something: %d batches", n)
	}
	// Idempotent: again is fine.
	r.handle(t, koe.Message{ID: "m3", User: alice, Kind: koe.KindUnfollow})
}

func TestHandleRejects(t *testing.T) {
	tests := []struct {
		name string
		msg  koe.Message
	}{
		{"no id", koe.Message{User: alice, Kind: koe.KindText, Text: "x"}},
		{"bad user", koe.Message{ID: "m1", User: "alice", Kind: koe.KindText, Text: "x"}},
		{"channel without sender", koe.Message{ID: "m1", User: "console:bob", Kind: koe.KindText, Text: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, nil)
			err := r.eng.Handle(context.Background(), tt.msg)
			if !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("Handle = %v, want ErrInvalid", err)
			}
			if saves, _, _ := r.store.Stats(); saves != 0 {
				t.Errorf("saved %d sessions", saves)
			}
		})
	}
}

func TestVoiceSinkFailureLeavesSessionUnchanged(t *testing.T) {
	r := newRig(t, nil)
	r.handle(t, text("m1", "メニュー"), postback("m2", "menu:feedback"), text("m3", "要望です"))
	before := r.session(t)
	r.voices.SetErr(errors.New("queue full"))
	if err := r.eng.Handle(context.Background(), postback("m4", "feedback:send")); err == nil {
		t.Fatal("Handle succeeded although the voice sink failed")
	}
	if got := r.session(t); !reflect.DeepEqual(got, before) {
		t.Error("session changed although an effect failed")
	}
	r.voices.SetErr(nil)
	r.handle(t, postback("m4", "feedback:send"))
	vs := r.voices.Voices()
	if len(vs) != 1 || vs[0].Meta.Key != "m4/0" || vs[0].Meta.User != alice || vs[0].Voice.Source != dialogs.VoiceSourceFeedback {
		t.Errorf("voices = %+v", vs)
	}
	if s := r.session(t); s.Dialog != "" || s.Var("comment") != "" {
		t.Errorf("dialog not finished or comment kept: %+v", s)
	}
}

func TestNoVoiceSinkIsFine(t *testing.T) {
	r := newRig(t, func(c *dialogs.Config) { c.Voices = nil })
	r.handle(t, text("m1", "メニュー"), postback("m2", "menu:feedback"), text("m3", "要望です"), postback("m4", "feedback:send"))
	if s := r.session(t); s.Dialog != "" {
		t.Errorf("dialog still running: %q", s.Dialog)
	}
}

func TestRetentionExpiryStartsFresh(t *testing.T) {
	r := newRig(t, func(c *dialogs.Config) {
		c.IdleTimeout = 10 * time.Minute
		c.SessionRetention = 2 * time.Hour
	})
	r.handle(t, text("m1", "English"), postback("m2", "menu:feedback"))
	if s := r.session(t); !s.ExpiresAt.Equal(defaultNow.Add(2 * time.Hour)) {
		t.Errorf("ExpiresAt = %v, want now+retention", s.ExpiresAt)
	}
	r.clk.Advance(2 * time.Hour)
	r.handle(t, text("m3", "late comment"))
	s := r.session(t)
	if s.Version != 1 || s.Dialog != "" || s.Lang != koe.Japanese {
		t.Errorf("after expiry session = version %d dialog %q lang %q, want a fresh one", s.Version, s.Dialog, s.Lang)
	}
}

func TestIdlePauseOffersToResume(t *testing.T) {
	msgAt := func(m koe.Message, at time.Time) koe.Message { m.SentAt = at; return m }
	tests := []struct {
		name      string
		pause     time.Duration
		answer    koe.Message
		wantState string
		wantVar   string // the comment kept, or ""
	}{
		{"continue", 11 * time.Minute, postback("m5", "resume:continue"), "confirm", "good service"},
		{"restart", 11 * time.Minute, postback("m5", "resume:restart"), "comment", ""},
		{"short pause answers directly", 9 * time.Minute, postback("m5", "feedback:edit"), "comment", "good service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, func(c *dialogs.Config) { c.IdleTimeout = 10 * time.Minute })
			r.handle(t, text("m1", "English"), postback("m2", "menu:feedback"), text("m3", "good service"))
			r.clk.Advance(tt.pause)
			now := r.clk.Now()
			r.handle(t, msgAt(postback("m4", "feedback:edit"), now))
			s := r.session(t)
			paused := tt.pause >= 10*time.Minute
			if got := s.Var("_resume") != ""; got != paused {
				t.Fatalf("resume question pending = %v, want %v (state %q)", got, paused, s.State)
			}
			if paused {
				last, _ := r.sender.Last()
				if n := len(last.Replies); n != 1 || len(last.Replies[0].QuickReplies) != 3 || s.State != "confirm" || s.Lang != koe.English {
					t.Fatalf("after the pause: replies %+v state %q lang %q, want the resume question in English, state kept", last.Replies, s.State, s.Lang)
				}
				r.handle(t, msgAt(tt.answer, now))
			}
			s = r.session(t)
			if s.State != tt.wantState || s.Var("comment") != tt.wantVar || s.Var("_resume") != "" {
				t.Errorf("after answering: state %q comment %q resume %q, want %q %q", s.State, s.Var("comment"), s.Var("_resume"), tt.wantState, tt.wantVar)
			}
		})
	}
}

func TestIdleMeasuredToWhenTheCustomerActed(t *testing.T) {
	r := newRig(t, func(c *dialogs.Config) { c.IdleTimeout = 10 * time.Minute })
	r.handle(t, postback("m1", "menu:feedback"))
	// The customer answered after 5 minutes, but the message waited in the
	// inbox for 20: not a pause.
	sent := r.clk.Now().Add(5 * time.Minute)
	r.clk.Advance(25 * time.Minute)
	m := text("m2", "late but fine")
	m.SentAt = sent
	r.handle(t, m)
	if s := r.session(t); s.State != "confirm" || s.Var("comment") != "late but fine" {
		t.Errorf("state %q comment %q, want the answer taken", s.State, s.Var("comment"))
	}
}

func TestConfigPhonesAndDefaultLang(t *testing.T) {
	r := newRig(t, func(c *dialogs.Config) {
		c.AccidentPhone = "0120-111-222"
		c.DefaultLang = koe.English
	})
	r.handle(t, text("m1", "menu"), postback("m2", "menu:accident"))
	last, _ := r.sender.Last()
	if !strings.Contains(last.Replies[0].Text, "0120-111-222") || !strings.Contains(last.Replies[0].Text, "accident") {
		t.Errorf("accident answer = %q, want the configured phone in English", last.Replies[0].Text)
	}
}

func TestNewEngineValidates(t *testing.T) {
	ok := func(*dialogs.Turn) {}
	good := &dialogs.Dialog{Name: "x", Start: "a", States: map[string]dialogs.State{"a": {Prompt: ok, Answer: ok}}}
	tests := []struct {
		name string
		cfg  dialogs.Config
	}{
		{"no store", dialogs.Config{}},
		{"bad lang", dialogs.Config{Sessions: fakes.NewSessionStore(nil), DefaultLang: "fr"}},
		{"no start", dialogs.Config{Sessions: fakes.NewSessionStore(nil), Dialogs: []*dialogs.Dialog{{Name: "x", Start: "b", States: good.States}}}},
		{"reserved state", dialogs.Config{Sessions: fakes.NewSessionStore(nil), Dialogs: []*dialogs.Dialog{{Name: "x", Start: "_a", States: map[string]dialogs.State{"_a": {Prompt: ok, Answer: ok}}}}}},
		{"no answer", dialogs.Config{Sessions: fakes.NewSessionStore(nil), Dialogs: []*dialogs.Dialog{{Name: "x", Start: "a", States: map[string]dialogs.State{"a": {Prompt: ok}}}}}},
		{"twice", dialogs.Config{Sessions: fakes.NewSessionStore(nil), Dialogs: []*dialogs.Dialog{good, good}}},
		{"nil dialog", dialogs.Config{Sessions: fakes.NewSessionStore(nil), Dialogs: []*dialogs.Dialog{nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := dialogs.NewEngine(tt.cfg); !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("NewEngine = %v, want ErrInvalid", err)
			}
		})
	}
	eng, err := dialogs.NewEngine(dialogs.Config{Sessions: fakes.NewSessionStore(nil), Dialogs: []*dialogs.Dialog{good}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := eng.Dialogs(), []string{"feedback", "x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Dialogs() = %v, want %v", got, want)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ﾒﾆｭｰ", "メニュー"},
		{"  Ｍｅｎｕ  ", "menu"},
		{"ENGLISH", "english"},
		{"a\u3000 b\tc", "a b c"},
		{"１２３", "123"},
	}
	for _, tt := range tests {
		if got := dialogs.Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
