package dialogs_test

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
)

// effectLog is an EffectRunner that records every effect and answers
// nothing.
type effectLog struct {
	mu      sync.Mutex
	effects []dialogs.Effect
}

func (l *effectLog) RunEffect(ctx context.Context, meta dialogs.EffectMeta, e dialogs.Effect) ([]koe.Reply, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.effects = append(l.effects, e)
	return nil, nil
}

func (l *effectLog) take() []dialogs.Effect {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.effects
	l.effects = nil
	return out
}

func staff(id, action, ref, text string) koe.Message {
	return koe.Message{ID: id, User: alice, Kind: koe.KindStaff, Staff: &koe.StaffNote{Action: action, CaseRef: ref, Text: text}, SentAt: defaultNow}
}

func (r *rig) lastTexts(t *testing.T) []string {
	t.Helper()
	out, ok := r.sender.Last()
	if !ok {
		t.Fatal("nothing sent")
	}
	var texts []string
	for _, rep := range out.Replies {
		texts = append(texts, rep.Text)
	}
	return texts
}

func TestHandoff(t *testing.T) {
	log := &effectLog{}
	r := newRig(t, func(c *dialogs.Config) { c.Effects = log })
	sticker := koe.Message{ID: "m2", User: alice, Kind: koe.KindSticker, Sticker: &koe.Sticker{PackageID: "1", StickerID: "2"}, SentAt: defaultNow}

	r.handle(t, staff("s1", koe.StaffReply, "C-1", "ご連絡ありがとうございます。"))
	if got := r.lastTexts(t); len(got) != 2 || !strings.Contains(got[0], "担当者より：\nご連絡ありがとうございます。") {
		t.Errorf("staff reply shown as %q", got)
	}
	r.handle(t, text("m1", "了解です"), sticker)
	effs := log.take()
	want := []dialogs.Effect{
		dialogs.RelayEffect{CaseRef: "C-1", Kind: koe.KindText, Text: "了解です"},
		dialogs.RelayEffect{CaseRef: "C-1", Kind: koe.KindSticker, Sticker: sticker.Sticker},
	}
	if !reflect.DeepEqual(effs, want) {
		t.Errorf("effects = %+v, want %+v", effs, want)
	}
	if n := len(r.sender.Sent()); n != 2 {
		t.Errorf("%d batches sent, want 2 (the staff reply and the first relay's confirmation only)", n)
	}
	if len(r.voices.Voices()) != 0 {
		t.Error("a handoff message went to the voice sink")
	}

	// A menu postback asks to confirm; "no" keeps the handoff.
	r.handle(t, postback("m3", "menu:feedback"))
	if got := r.lastTexts(t); len(got) != 1 || !strings.Contains(got[0], "終了しますか") {
		t.Errorf("postback during handoff answered %q", got)
	}
	r.handle(t, postback("m4", "handoff:end_no"), text("m5", "もう一つ質問です"))
	if effs := log.take(); len(effs) != 1 || effs[0].(dialogs.RelayEffect).Text != "もう一つ質問です" {
		t.Errorf("after declining to end, effects = %+v", effs)
	}

	// Staff end for another case changes nothing; for this one it ends.
	r.sender.Reset()
	r.handle(t, staff("s2", koe.StaffEnd, "C-2", ""), staff("s3", koe.StaffReply, "C-1", "  "), staff("s4", "wave", "C-1", "x"))
	if n := len(r.sender.Sent()); n != 0 {
		t.Errorf("ignored staff notes sent %d batches", n)
	}
	r.handle(t, staff("s5", koe.StaffEnd, "C-1", ""))
	if got := r.lastTexts(t); len(got) != 2 || !strings.Contains(got[0], "以上で終了") {
		t.Errorf("staff end answered %q", got)
	}
	if len(log.take()) != 0 {
		t.Error("a staff end produced an effect")
	}
	r.handle(t, text("m6", "保険金の請求について相談したいです"))
	if vs := r.voices.Voices(); len(vs) != 1 || vs[0].Voice.Source != dialogs.VoiceSourceFreeText {
		t.Errorf("after the handoff, voices = %+v", vs)
	}
}

func TestHandoffEndedByCustomer(t *testing.T) {
	tests := []struct {
		name  string
		msgs  []koe.Message
		ended bool
	}{
		{"end word", []koe.Message{text("m1", "終了")}, true},
		{"end in English", []koe.Message{text("m1", "End")}, true},
		{"end button", []koe.Message{postback("m1", "handoff:end")}, true},
		{"cancel then yes", []koe.Message{text("m1", "やめる"), text("m2", "はい")}, true},
		{"menu twice", []koe.Message{text("m1", "メニュー"), text("m2", "メニュー")}, true},
		{"cancel then a message", []koe.Message{text("m1", "やめる"), text("m2", "まだ話があります")}, false},
		{"back is a message", []koe.Message{text("m1", "戻る")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &effectLog{}
			r := newRig(t, func(c *dialogs.Config) { c.Effects = log })
			r.handle(t, staff("s1", koe.StaffReply, "C-9", "こんにちは"))
			r.handle(t, tt.msgs...)
			var ends []dialogs.HandoffEndEffect
			for _, e := range log.take() {
				if h, ok := e.(dialogs.HandoffEndEffect); ok {
					ends = append(ends, h)
				}
			}
			if !tt.ended {
				if len(ends) != 0 {
					t.Errorf("handoff ended: %+v", ends)
				}
				return
			}
			if len(ends) != 1 || ends[0] != (dialogs.HandoffEndEffect{CaseRef: "C-9", By: dialogs.HandoffByCustomer}) {
				t.Fatalf("end effects = %+v", ends)
			}
			if s := r.session(t); len(s.Vars) != 0 {
				t.Errorf("handoff vars kept: %v", s.Vars)
			}
		})
	}
}

func TestHandoffSurvivesEndOfDialog(t *testing.T) {
	log := &effectLog{}
	r := newRig(t, func(c *dialogs.Config) { c.Effects = log })
	r.handle(t, postback("m1", "menu:feedback"), staff("s1", koe.StaffReply, "C-3", "お電話します"), text("m2", "わかりました"))
	if s := r.session(t); s.Dialog != dialogs.DialogFeedback {
		t.Errorf("dialog = %q, want feedback kept while handed off", s.Dialog)
	}
	if effs := log.take(); len(effs) != 1 {
		t.Errorf("effects = %+v, want the relay", effs)
	}
	r.handle(t, koe.Message{ID: "m4", User: alice, Kind: koe.KindFollow, SentAt: defaultNow})
	if s := r.session(t); s.Dialog != "" {
		t.Errorf("follow kept the dialog %q", s.Dialog)
	}
	r.handle(t, text("m5", "まだいますか"))
	if effs := log.take(); len(effs) != 1 {
		t.Errorf("after follow, effects = %+v, want the relay", effs)
	}
}

func TestLongStaffReplyIsSplit(t *testing.T) {
	r := newRig(t, func(c *dialogs.Config) { c.Effects = &effectLog{} })
	long := strings.Repeat("あ", 9000)
	r.handle(t, staff("s1", koe.StaffReply, "C-1", long))
	out, _ := r.sender.Last()
	checkLineLimits(t, out)
	var joined string
	for _, rep := range out.Replies {
		joined += strings.TrimPrefix(rep.Text, "担当者より：\n")
	}
	if !strings.Contains(joined, long) {
		t.Error("the staff reply lost text when split")
	}
}

func TestFreeTextVoice(t *testing.T) {
	r := newRig(t, nil)
	r.voices.answer = []koe.Reply{{Text: "thanks"}}
	r.handle(t, text("m1", "担当の方がとても親切でした"))
	vs := r.voices.Voices()
	if len(vs) != 1 || vs[0].Voice != (dialogs.VoiceEffect{Text: "担当の方がとても親切でした", Source: dialogs.VoiceSourceFreeText}) || vs[0].Meta.Key != "m1/0" {
		t.Fatalf("voices = %+v", vs)
	}
	out, _ := r.sender.Last()
	if len(out.Replies) != 1 || out.Replies[0].Text != "thanks" || len(out.Replies[0].QuickReplies) != 3 {
		t.Errorf("answer = %+v, want the sink's text with the menu under it", out.Replies)
	}
	// Redelivery resends the stored answer without asking the sink again.
	calls := r.voices.Calls()
	r.handle(t, text("m1", "担当の方がとても親切でした"))
	if r.voices.Calls() != calls {
		t.Error("redelivery ran the sink again")
	}
	if again, _ := r.sender.Last(); !reflect.DeepEqual(again, out) {
		t.Errorf("redelivery sent %+v, want %+v", again, out)
	}
	// A sink with nothing to say leaves the menu to the engine.
	r.voices.answer = nil
	r.handle(t, text("m2", "よくわからないこと"))
	if got := r.lastTexts(t); len(got) != 1 || !strings.Contains(got[0], "メニュー") {
		t.Errorf("silent sink: answer %q, want the menu", got)
	}
	// Small talk and non-text are not voices.
	r.handle(t, text("m3", "こんにちは！"), text("m4", "ok"), text("m5", "あ"))
	if n := len(r.voices.Voices()); n != 2 {
		t.Errorf("%d voices, want 2 (small talk is not one)", n)
	}
}

func TestHasSubstance(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"保険金がまだです", true},
		{"ありがとう", true},
		{"遅い", true},
		{"こんにちは", false},
		{"こんにちは！", false},
		{"ＯＫ", false},
		{"Good morning.", false},
		{"はい", false},
		{"あ", false},
		{"？？", false},
		{"😀😀😀", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := dialogs.HasSubstance(tt.in); got != tt.want {
			t.Errorf("HasSubstance(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
