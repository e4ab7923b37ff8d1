package dialogs_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
)

// reportEffect is an effect only the test knows, as later dialogs will have.
type reportEffect struct{ Place, Kind string }

func (reportEffect) EffectKind() string { return "test.report" }

type runnerRecorder struct {
	metas   []dialogs.EffectMeta
	effects []dialogs.Effect
}

func (r *runnerRecorder) RunEffect(ctx context.Context, meta dialogs.EffectMeta, e dialogs.Effect) ([]koe.Reply, error) {
	if _, ok := e.(reportEffect); !ok {
		return nil, koe.ErrInvalid
	}
	r.metas = append(r.metas, meta)
	r.effects = append(r.effects, e)
	return nil, nil
}

var (
	kindCar  = dialogs.Choice{Label: "menu.accident", Data: "kind:car", Words: []string{"car"}}
	kindHome = dialogs.Choice{Label: "menu.inquiry", Data: "kind:home"}
)

// testAccident plugs in under the accident menu entry: kind (choice) →
// place (text) → summary (submit or edit kind), retry cap 2 with its own
// GiveUp. Catalogue keys are borrowed, since texts are not under test here.
func testAccident() *dialogs.Dialog {
	return &dialogs.Dialog{
		Name:       dialogs.DialogAccident,
		Start:      "kind",
		MaxInvalid: 2,
		GiveUp: func(t *dialogs.Turn) {
			t.SetVar("gave_up", "yes")
			t.Say("invalid.give_up", "phone", t.Phone(dialogs.DeskAccident))
			t.End()
		},
		States: map[string]dialogs.State{
			"kind": {
				Field: "kind",
				Show: func(t *dialogs.Turn, v string) string {
					if v == kindCar.Data {
						return t.T(kindCar.Label)
					}
					return t.T(kindHome.Label)
				},
				Prompt: func(t *dialogs.Turn) { t.Ask("menu.prompt", []dialogs.Choice{kindCar, kindHome, dialogs.ChoiceBack}) },
				Answer: func(t *dialogs.Turn) {
					data, ok := t.Chosen(kindCar, kindHome)
					if !ok {
						t.Reask("menu.fallback")
						return
					}
					t.SetVar("kind", data)
					t.Next("place")
				},
			},
			"place": {
				Field:  "place",
				Prompt: func(t *dialogs.Turn) { t.Say("feedback.ask", "max", "50") },
				Answer: func(t *dialogs.Turn) {
					if t.Text() == "" {
						t.Reask("feedback.need_text")
						return
					}
					t.SetVar("place", t.Text())
					t.Next("summary")
				},
			},
			"summary": {
				Prompt: func(t *dialogs.Turn) {
					t.Ask("feedback.confirm_note", []dialogs.Choice{{Label: "feedback.send", Data: "send"}, {Label: "feedback.edit", Data: "edit"}})
				},
				Answer: func(t *dialogs.Turn) {
					switch data, _ := t.Chosen(dialogs.Choice{Label: "feedback.send", Data: "send"}, dialogs.Choice{Label: "feedback.edit", Data: "edit"}); data {
					case "send":
						t.Effect(reportEffect{Place: t.Var("place"), Kind: t.Var("kind")})
						t.End()
						t.Say("feedback.thanks")
					case "edit":
						t.Edit("kind")
					default:
						t.Reask("feedback.confirm_reask")
					}
				},
			},
		},
	}
}

func TestPluggedDialog(t *testing.T) {
	runner := &runnerRecorder{}
	r := newRig(t, func(c *dialogs.Config) {
		c.Dialogs = []*dialogs.Dialog{testAccident()}
		c.Effects = runner
	})
	steps := []struct {
		msg       koe.Message
		state     string
		history   []string
		firstText string // key of the first reply's text, in ja
	}{
		{postback("m1", "menu:accident"), "kind", nil, "menu.prompt"},
		{text("m2", "Car"), "place", []string{"kind"}, "feedback.ask"},
		{text("m3", "戻る"), "kind", nil, "back.previous"},
		{postback("m4", "kind:home"), "place", []string{"kind"}, "feedback.ask"},
		{text("m5", "渋谷駅前"), "summary", []string{"kind", "place"}, "feedback.confirm_note"},
		{postback("m6", "edit"), "kind", []string{"kind", "place", "summary"}, "menu.prompt"},
		{postback("m7", "kind:car"), "summary", []string{"kind", "place", "summary", "kind"}, "feedback.confirm_note"},
		{postback("m8", "send"), "", nil, "feedback.thanks"},
	}
	cat := mustCatalog(t)
	for _, st := range steps {
		r.handle(t, st.msg)
		s, _ := r.store.Get(alice)
		if s.State != st.state || !slices.Equal(s.History, st.history) {
			t.Errorf("after %s: state %q history %v, want %q %v", st.msg.ID, s.State, s.History, st.state, st.history)
		}
		last, _ := r.sender.Last()
		want := cat.Text(koe.Japanese, st.firstText, "max", "50", "answer", "事故の連絡")
		if got := last.Replies[0].Text; got != want {
			t.Errorf("after %s: first reply %q, want %q", st.msg.ID, got, want)
		}
	}
	want := []dialogs.Effect{reportEffect{Place: "渋谷駅前", Kind: "kind:car"}}
	if !reflect.DeepEqual(runner.effects, want) || runner.metas[0].Key != "m8/0" {
		t.Errorf("effects = %+v %+v, want %+v with key m8/0", runner.effects, runner.metas, want)
	}
}

func TestRetryCapAndGiveUp(t *testing.T) {
	r := newRig(t, func(c *dialogs.Config) {
		c.Dialogs = []*dialogs.Dialog{testAccident()}
		c.Effects = &runnerRecorder{}
		c.AccidentPhone = "0120-999-999"
	})
	r.handle(t, postback("m1", "menu:accident"), text("m2", "bicycle"))
	if s, _ := r.store.Get(alice); s.Invalid != 1 || s.State != "kind" {
		t.Fatalf("after one invalid answer: invalid %d state %q", s.Invalid, s.State)
	}
	r.handle(t, text("m3", "boat"))
	s, _ := r.store.Get(alice)
	if s.Dialog != "" || s.Invalid != 0 {
		t.Errorf("after the cap: dialog %q invalid %d, want ended", s.Dialog, s.Invalid)
	}
	last, _ := r.sender.Last()
	if want := mustCatalog(t).Text(koe.Japanese, "invalid.give_up", "phone", "0120-999-999"); last.Replies[0].Text != want {
		t.Errorf("give-up reply %q, want %q", last.Replies[0].Text, want)
	}
}

func TestUnknownEffectWithoutRunnerFails(t *testing.T) {
	r := newRig(t, func(c *dialogs.Config) { c.Dialogs = []*dialogs.Dialog{testAccident()} })
	r.handle(t, postback("m1", "menu:accident"), postback("m2", "kind:car"), text("m3", "x"))
	err := r.eng.Handle(context.Background(), postback("m4", "send"))
	if !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("Handle = %v, want ErrInvalid for an effect nobody runs", err)
	}
	if s, _ := r.store.Get(alice); s.State != "summary" {
		t.Errorf("state = %q, want summary (unchanged)", s.State)
	}
}

func TestStepIsPure(t *testing.T) {
	r := newRig(t, nil)
	in := koe.Session{User: alice, Version: 4, Lang: koe.English, Dialog: dialogs.DialogFeedback, State: "confirm",
		Vars: map[string]string{"comment": "good"}, History: []string{"comment"}, Applied: []string{"m0"}}
	keep := koe.Session{User: alice, Version: 4, Lang: koe.English, Dialog: dialogs.DialogFeedback, State: "confirm",
		Vars: map[string]string{"comment": "good"}, History: []string{"comment"}, Applied: []string{"m0"}}
	out1, replies1, eff1 := r.eng.Step(in, postback("m1", "feedback:send"), defaultNow)
	out2, replies2, eff2 := r.eng.Step(in, postback("m1", "feedback:send"), defaultNow)
	if !reflect.DeepEqual(in, keep) {
		t.Errorf("Step changed its input: %+v", in)
	}
	if !reflect.DeepEqual(out1, out2) || !reflect.DeepEqual(replies1, replies2) || !reflect.DeepEqual(eff1, eff2) {
		t.Error("Step gave different results for the same input")
	}
	if want := []dialogs.Effect{dialogs.VoiceEffect{Text: "good", Source: "feedback"}}; !reflect.DeepEqual(eff1, want) {
		t.Errorf("effects = %+v, want %+v", eff1, want)
	}
	if out1.Dialog != "" || out1.Vars != nil || out1.Version != 4 {
		t.Errorf("out = %+v, want dialog ended, version untouched", out1)
	}
}

func TestStaleDialogInSessionStartsOver(t *testing.T) {
	r := newRig(t, nil)
	s := koe.Session{User: alice, Lang: koe.Japanese, Dialog: "retired", State: "q1"}
	out, replies, _ := r.eng.Step(s, text("m1", "hello"), defaultNow)
	if out.Dialog != "" || len(replies) != 1 || len(replies[0].QuickReplies) != 3 {
		t.Errorf("session in a removed dialog: got dialog %q replies %+v, want the menu", out.Dialog, replies)
	}
}

func TestInterruptAnswersRejectedTextAndResumes(t *testing.T) {
	var offered []string
	r := newRig(t, func(c *dialogs.Config) {
		c.Dialogs = []*dialogs.Dialog{testAccident()}
		c.Effects = &runnerRecorder{}
		c.Interrupt = func(t *dialogs.Turn) bool {
			offered = append(offered, t.Text())
			if t.Text() != "known question?" {
				return false
			}
			t.Say("help.text")
			return true
		}
	})
	r.handle(t, postback("m1", "menu:accident"))
	tests := []struct {
		name        string
		msg         koe.Message
		wantInvalid int
		wantOffered int
	}{
		{"a question the hook answers is not counted", text("m2", "known question?"), 0, 1},
		{"a rejected postback is not offered", postback("m3", "nonsense"), 1, 1},
		{"a text the hook declines is counted", text("m4", "boat"), 0, 2}, // the cap (2): gave up
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.handle(t, tt.msg)
			s, _ := r.store.Get(alice)
			if s.Invalid != tt.wantInvalid || len(offered) != tt.wantOffered {
				t.Errorf("invalid %d, offered %d; want %d, %d", s.Invalid, len(offered), tt.wantInvalid, tt.wantOffered)
			}
		})
	}
	if s, _ := r.store.Get(alice); s.Dialog != "" {
		t.Errorf("dialog %q still running after the cap", s.Dialog)
	}
	// The answered question was followed by the pending question again.
	outs := r.sender.Sent()
	if len(outs) < 2 {
		t.Fatalf("%d outbounds", len(outs))
	}
	got := outs[1].Replies
	cat := mustCatalog(t)
	if len(got) != 2 || got[0].Text != cat.Text(koe.Japanese, "help.text") || got[1].Text != cat.Text(koe.Japanese, "menu.prompt") {
		t.Errorf("replies to the interrupting question: %+v; want the answer, then the question again", got)
	}
}
