package voices_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/classifier"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/dialogs/catalog"
	"github.com/koehq/koe/dialogs/voices"
	"github.com/koehq/koe/internal/fakes"
	"github.com/koehq/koe/internal/sla"
)

// monday10 is Monday 23 November 2026, 10:00 in Tokyo.
var monday10 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.FixedZone("JST", 9*3600))

const alice = koe.UserID("line:Ualice")

// fakeClassifier answers result for every text, or err, and counts calls.
type fakeClassifier struct {
	mu     sync.Mutex
	result classifier.Result
	err    error
	calls  int
}

func (c *fakeClassifier) Classify(ctx context.Context, text string) (classifier.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.err != nil {
		return classifier.Result{}, c.err
	}
	r := c.result
	r.Urgency = append([]string(nil), r.Urgency...)
	return r, nil
}

func (c *fakeClassifier) set(r classifier.Result, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.result, c.err = r, err
}

func result(kind, sentiment string, urgency ...string) classifier.Result {
	return classifier.Result{Kind: kind, Topic: classifier.TopicClaims, Sentiment: sentiment, Urgency: urgency, Urgent: len(urgency) > 0,
		Confidence: 0.9, KindConfidence: 0.95, TopicConfidence: 0.9, SentimentConfidence: 0.95, Model: "fake/1"}
}

// checkedQueue is a queue that records, for every case.alert job, whether
// its case was already stored, and can be told to fail.
type checkedQueue struct {
	*fakes.Queue
	cases *fakes.CaseStore
	mu    sync.Mutex
	err   error
	// alertBeforeCase counts alerts enqueued for a case not yet stored.
	alertBeforeCase int
}

func (q *checkedQueue) Enqueue(ctx context.Context, jobs ...koe.Job) (int, error) {
	q.mu.Lock()
	err := q.err
	q.mu.Unlock()
	if err != nil {
		return 0, err
	}
	for _, j := range jobs {
		if j.Kind == voices.JobCaseAlert {
			if _, err := q.cases.GetCase(ctx, j.Ref); err != nil {
				q.mu.Lock()
				q.alertBeforeCase++
				q.mu.Unlock()
			}
		}
	}
	return q.Queue.Enqueue(ctx, jobs...)
}

func (q *checkedQueue) setErr(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.err = err
}

type rig struct {
	clf    *fakeClassifier
	voices *fakes.VoiceStore
	cases  *fakes.CaseStore
	queue  *checkedQueue
	sink   *voices.Sink
	logs   *bytes.Buffer
}

func newRig(t *testing.T) *rig {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return monday10 }
	r := &rig{clf: &fakeClassifier{}, voices: fakes.NewVoiceStore(), cases: fakes.NewCaseStore(), logs: &bytes.Buffer{}}
	r.queue = &checkedQueue{Queue: fakes.NewQueue(now), cases: r.cases}
	r.sink = &voices.Sink{
		Classifier: r.clf, Voices: r.voices, Cases: r.cases, Queue: r.queue, Catalog: cat,
		Now: now, Rand: bytes.NewReader(bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8}, 64)),
		Logger: slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return r
}

func meta(key string) dialogs.EffectMeta {
	id, _, _ := strings.Cut(key, "/")
	return dialogs.EffectMeta{Key: key, MessageID: id, User: alice, Lang: koe.Japanese, At: monday10}
}

const complaintText = "保険金がまだ振り込まれません。090-1234-5678 山田"

func TestComplaintIsIdempotent(t *testing.T) {
	r := newRig(t)
	r.clf.set(result(classifier.KindComplaint, classifier.SentimentNegative), nil)
	ctx := context.Background()
	v := dialogs.VoiceEffect{Text: complaintText, Source: dialogs.VoiceSourceFreeText}
	first, err := r.sink.AddVoice(ctx, meta("m1/0"), v)
	if err != nil {
		t.Fatal(err)
	}
	// A retry after a crash, with a classifier that now says otherwise: the
	// stored voice decides.
	r.clf.set(result(classifier.KindPraise, classifier.SentimentPositive), nil)
	second, err := r.sink.AddVoice(ctx, meta("m1/0"), v)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("replies differ:\n%+v\n%+v", first, second)
	}
	if n := len(r.voices.All()); n != 1 {
		t.Errorf("%d voices, want 1", n)
	}
	cs := r.cases.All()
	if len(cs) != 1 {
		t.Fatalf("%d cases, want 1", len(cs))
	}
	c := cs[0]
	if c.Type != koe.CaseComplaint || c.Priority != koe.PriorityHigh || c.Key != "m1/0" || c.VoiceID != "m1/0" || c.Status != koe.CaseReceived {
		t.Errorf("case = %+v", c)
	}
	if !strings.HasPrefix(c.Ref, "C-20261123-") || len(c.Ref) != len("C-20261123-XXXX") {
		t.Errorf("ref = %q", c.Ref)
	}
	wantAck, wantDue := sla.DueTimes(nil, nil)(monday10, koe.PriorityHigh)
	if !c.AckDueAt.Equal(wantAck) || !c.DueAt.Equal(wantDue) {
		t.Errorf("due = %v/%v, want %v/%v", c.AckDueAt, c.DueAt, wantAck, wantDue)
	}
	if got := r.voices.All()[0].CaseRef; got != c.Ref {
		t.Errorf("voice case ref = %q, want %q", got, c.Ref)
	}
	jobs := r.queue.Pending()
	if len(jobs) != 1 || jobs[0].ID != "case.alert:"+c.Ref || jobs[0].Kind != voices.JobCaseAlert || jobs[0].Ref != c.Ref {
		t.Errorf("jobs = %+v", jobs)
	}
	if len(first) != 1 || !strings.Contains(first[0].Text, c.Ref) || !strings.Contains(first[0].Text, "申し訳ございません") ||
		!strings.Contains(first[0].Text, "11月25日(水)17時") {
		t.Errorf("reply = %+v", first)
	}
	if strings.Contains(r.logs.String(), "090-1234-5678") || strings.Contains(r.logs.String(), "山田") {
		t.Error("logs hold personal data")
	}
}

func TestCaseAndAlertAreStoredBeforeTheReply(t *testing.T) {
	r := newRig(t)
	r.clf.set(result(classifier.KindComplaint, classifier.SentimentNegative, classifier.UrgencyLegal), nil)
	ctx := context.Background()
	v := dialogs.VoiceEffect{Text: complaintText, Source: dialogs.VoiceSourceFreeText}
	r.queue.setErr(errors.New("queue down"))
	replies, err := r.sink.AddVoice(ctx, meta("m1/0"), v)
	if err == nil || replies != nil {
		t.Fatalf("AddVoice with the queue down = %+v, %v; want an error and no reply", replies, err)
	}
	if len(r.queue.Pending()) != 0 {
		t.Error("job enqueued although the queue failed")
	}
	r.queue.setErr(nil)
	replies, err = r.sink.AddVoice(ctx, meta("m1/0"), v)
	if err != nil {
		t.Fatal(err)
	}
	cs := r.cases.All()
	if len(cs) != 1 || len(r.queue.Pending()) != 1 || r.queue.alertBeforeCase != 0 {
		t.Fatalf("cases %d, jobs %d, alerts before their case %d; want 1, 1, 0", len(cs), len(r.queue.Pending()), r.queue.alertBeforeCase)
	}
	if cs[0].Priority != koe.PriorityUrgent || !strings.Contains(replies[0].Text, cs[0].Ref) || !strings.Contains(replies[0].Text, "0120-") {
		t.Errorf("urgent case %+v answered %+v", cs[0], replies)
	}
}

func TestClassifierErrorStoresNothing(t *testing.T) {
	r := newRig(t)
	r.clf.set(classifier.Result{}, fmt.Errorf("openai: %w", context.DeadlineExceeded))
	replies, err := r.sink.AddVoice(context.Background(), meta("m1/0"), dialogs.VoiceEffect{Text: complaintText, Source: dialogs.VoiceSourceFreeText})
	if !errors.Is(err, context.DeadlineExceeded) || replies != nil {
		t.Fatalf("AddVoice = %+v, %v; want the classifier's error", replies, err)
	}
	if len(r.voices.All()) != 0 || len(r.cases.All()) != 0 || len(r.queue.Pending()) != 0 {
		t.Error("something was stored although classification failed")
	}
	if strings.Contains(err.Error(), "山田") {
		t.Error("error holds personal data")
	}
}

func TestKinds(t *testing.T) {
	tests := []struct {
		name      string
		source    string
		res       classifier.Result
		caseType  koe.CaseType
		priority  koe.Priority
		job       string // kind of the job enqueued, "" for none
		replyHas  string // "" for no reply
		replyWant bool
	}{
		{"polite complaint", dialogs.VoiceSourceFreeText, func() classifier.Result {
			r := result(classifier.KindComplaint, classifier.SentimentNegative)
			r.SentimentConfidence = 0.6
			return r
		}(), koe.CaseComplaint, koe.PriorityNormal, voices.JobCaseAlert, "受付番号", true},
		{"neutral complaint", dialogs.VoiceSourceFreeText, result(classifier.KindComplaint, classifier.SentimentNeutral), koe.CaseComplaint, koe.PriorityNormal, voices.JobCaseAlert, "受付番号", true},
		{"feedback complaint", dialogs.VoiceSourceFeedback, result(classifier.KindComplaint, classifier.SentimentNegative), koe.CaseComplaint, koe.PriorityHigh, voices.JobCaseAlert, "申し訳ございません", true},
		{"accident complaint", voices.SourceAccident, result(classifier.KindComplaint, classifier.SentimentNegative), "", "", "", "", false},
		{"praise", dialogs.VoiceSourceFreeText, result(classifier.KindPraise, classifier.SentimentPositive), "", "", voices.JobPraise, "温かいお言葉", true},
		{"feedback praise", dialogs.VoiceSourceFeedback, result(classifier.KindPraise, classifier.SentimentPositive), "", "", voices.JobPraise, "", false},
		{"request", dialogs.VoiceSourceFreeText, result(classifier.KindRequest, classifier.SentimentNeutral), "", "", "", "ご要望", true},
		{"feedback request", dialogs.VoiceSourceFeedback, result(classifier.KindRequest, classifier.SentimentNeutral), "", "", "", "", false},
		{"inquiry", dialogs.VoiceSourceFreeText, result(classifier.KindInquiry, classifier.SentimentNeutral), koe.CaseInquiry, koe.PriorityNormal, voices.JobCaseAlert, "LINEでご回答", true},
		{"urgent inquiry", dialogs.VoiceSourceFreeText, result(classifier.KindInquiry, classifier.SentimentNeutral, classifier.UrgencyInjury), koe.CaseInquiry, koe.PriorityUrgent, voices.JobCaseAlert, "受付番号", true},
		{"consultation", dialogs.VoiceSourceFreeText, result(classifier.KindConsultation, classifier.SentimentNeutral), koe.CaseInquiry, koe.PriorityNormal, voices.JobCaseAlert, "ご相談", true},
		{"feedback inquiry", dialogs.VoiceSourceFeedback, result(classifier.KindInquiry, classifier.SentimentNeutral), "", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.clf.set(tt.res, nil)
			replies, err := r.sink.AddVoice(context.Background(), meta("m1/0"), dialogs.VoiceEffect{Text: "text", Source: tt.source})
			if err != nil {
				t.Fatal(err)
			}
			vs := r.voices.All()
			if len(vs) != 1 || vs[0].Source != tt.source || string(vs[0].Kind) != tt.res.Kind || vs[0].Model != "fake/1" || vs[0].User != alice {
				t.Errorf("voices = %+v", vs)
			}
			cs := r.cases.All()
			switch {
			case tt.caseType == "" && len(cs) != 0:
				t.Errorf("cases = %+v, want none", cs)
			case tt.caseType != "" && (len(cs) != 1 || cs[0].Type != tt.caseType || cs[0].Priority != tt.priority):
				t.Errorf("cases = %+v, want one %s of priority %s", cs, tt.caseType, tt.priority)
			}
			jobs := r.queue.Pending()
			switch {
			case tt.job == "" && len(jobs) != 0:
				t.Errorf("jobs = %+v, want none", jobs)
			case tt.job != "" && (len(jobs) != 1 || jobs[0].Kind != tt.job):
				t.Errorf("jobs = %+v, want one %s", jobs, tt.job)
			case tt.job == voices.JobPraise && (jobs[0].ID != "voice.praise:m1/0" || jobs[0].Attrs["voice"] != "m1/0"):
				t.Errorf("praise job = %+v", jobs[0])
			}
			if !tt.replyWant {
				if replies != nil {
					t.Errorf("replies = %+v, want none", replies)
				}
				return
			}
			if len(replies) != 1 || !strings.Contains(replies[0].Text, tt.replyHas) || strings.Contains(replies[0].Text, "[") {
				t.Errorf("replies = %+v, want one containing %q", replies, tt.replyHas)
			}
		})
	}
}

func TestEnglishComplaintReply(t *testing.T) {
	r := newRig(t)
	r.clf.set(result(classifier.KindComplaint, classifier.SentimentNegative), nil)
	m := meta("m1/0")
	m.Lang = koe.English
	replies, err := r.sink.AddVoice(context.Background(), m, dialogs.VoiceEffect{Text: "slow claim", Source: dialogs.VoiceSourceFreeText})
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 1 || !strings.Contains(replies[0].Text, "We are very sorry") || !strings.Contains(replies[0].Text, "17:00 on Wed 25 Nov") {
		t.Errorf("replies = %+v", replies)
	}
	if c := r.cases.All()[0]; c.Lang != koe.English {
		t.Errorf("case lang = %q", c.Lang)
	}
}

// repeatReader yields the same bytes forever.
type repeatReader struct{ b byte }

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.b
	}
	return len(p), nil
}

func TestReferenceCollision(t *testing.T) {
	r := newRig(t)
	r.clf.set(result(classifier.KindComplaint, classifier.SentimentNegative), nil)
	ctx := context.Background()
	if _, err := r.sink.AddVoice(ctx, meta("m1/0"), dialogs.VoiceEffect{Text: "a", Source: dialogs.VoiceSourceFreeText}); err != nil {
		t.Fatal(err)
	}
	taken := r.cases.All()[0].Ref
	// A source of zeros draws C-…-0000 only: free the first time, taken
	// after that, so the third complaint finds no free reference.
	r.sink.Rand = repeatReader{b: 0}
	if _, err := r.sink.AddVoice(ctx, meta("m2/0"), dialogs.VoiceEffect{Text: "b", Source: dialogs.VoiceSourceFreeText}); err != nil {
		t.Fatalf("AddVoice: %v", err)
	}
	_, err := r.sink.AddVoice(ctx, meta("m3/0"), dialogs.VoiceEffect{Text: "c", Source: dialogs.VoiceSourceFreeText})
	if !errors.Is(err, koe.ErrConflict) {
		t.Fatalf("AddVoice with every reference taken = %v, want ErrConflict", err)
	}
	if n := len(r.cases.All()); n != 2 {
		t.Errorf("%d cases, want 2", n)
	}
	if _, ok := r.voices.Get("m3/0"); ok {
		t.Error("voice stored although no reference was free")
	}
	if r.cases.All()[1].Ref == taken {
		t.Error("two cases share a reference")
	}
}

func TestEmptyTextIsNotAVoice(t *testing.T) {
	r := newRig(t)
	replies, err := r.sink.AddVoice(context.Background(), meta("m1/0"), dialogs.VoiceEffect{Text: "  ", Source: dialogs.VoiceSourceFreeText})
	if err != nil || replies != nil || len(r.voices.All()) != 0 || r.clf.calls != 0 {
		t.Errorf("empty text: %+v, %v, %d voices, %d classifications", replies, err, len(r.voices.All()), r.clf.calls)
	}
}

func TestRelay(t *testing.T) {
	r := newRig(t)
	r.clf.set(result(classifier.KindRequest, classifier.SentimentNeutral), nil)
	ctx := context.Background()
	effects := []struct {
		key  string
		eff  dialogs.Effect
		want map[string]string
	}{
		{"m1/0", dialogs.RelayEffect{CaseRef: "C-1", Kind: koe.KindText, Text: "口座は 1234567 です"},
			map[string]string{"message": "m1", "kind": "text", "voice": "m1/0", "at": "2026-11-23T01:00:00Z"}},
		{"m2/0", dialogs.RelayEffect{CaseRef: "C-1", Kind: koe.KindImage, Image: &koe.Image{ContentID: "line-42"}},
			map[string]string{"message": "m2", "kind": "image", "content": "line-42"}},
		{"m3/0", dialogs.RelayEffect{CaseRef: "C-1", Kind: koe.KindSticker, Sticker: &koe.Sticker{PackageID: "11537", StickerID: "52002734", Keywords: []string{"thanks", "bow"}}},
			map[string]string{"message": "m3", "kind": "sticker", "package": "11537", "sticker": "52002734", "keywords": "thanks,bow"}},
		{"m4/0", dialogs.RelayEffect{CaseRef: "C-1", Kind: koe.KindLocation, Location: &koe.Location{Address: "東京都千代田区1-1", Latitude: 35.68, Longitude: 139.76}},
			map[string]string{"message": "m4", "kind": "location", "voice": "m4/0", "at": "2026-11-23T01:00:00Z"}},
		{"m5/0", dialogs.HandoffEndEffect{CaseRef: "C-1", By: dialogs.HandoffByCustomer},
			map[string]string{"message": "m5", "by": "customer"}},
	}
	for _, e := range effects {
		for range 2 { // the second run is a retry: nothing new
			replies, err := r.sink.RunEffect(ctx, meta(e.key), e.eff)
			if err != nil || replies != nil {
				t.Fatalf("%s: RunEffect = %+v, %v", e.key, replies, err)
			}
		}
	}
	jobs := r.queue.Pending()
	if len(jobs) != len(effects) {
		t.Fatalf("%d jobs, want %d: %+v", len(jobs), len(effects), jobs)
	}
	byID := map[string]koe.Job{}
	for _, j := range jobs {
		byID[j.ID] = j
	}
	for _, e := range effects {
		id, _, _ := strings.Cut(e.key, "/")
		kind := voices.JobRelay
		if _, ok := e.eff.(dialogs.HandoffEndEffect); ok {
			kind = voices.JobHandoffEnd
		}
		j, ok := byID[kind+":"+id]
		if !ok || j.Kind != kind || j.Ref != "C-1" || !reflect.DeepEqual(j.Attrs, e.want) {
			t.Errorf("job for %s = %+v, want kind %s attrs %v", e.key, j, kind, e.want)
		}
		for _, v := range j.Attrs {
			if strings.Contains(v, "1234567") || strings.Contains(v, "千代田") {
				t.Errorf("job attrs hold personal data: %v", j.Attrs)
			}
		}
	}
	vs := r.voices.All()
	if len(vs) != 2 || vs[0].Source != voices.SourceHandoff || vs[0].Text != "口座は 1234567 です" || vs[0].CaseRef != "" ||
		!strings.Contains(vs[1].Text, "東京都千代田区1-1") {
		t.Errorf("voices = %+v", vs)
	}
	if len(r.cases.All()) != 0 {
		t.Error("a handoff message opened a case")
	}
	if _, err := r.sink.RunEffect(ctx, meta("m6/0"), voices.CaseStatusQuery{}); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("unknown effect: %v, want ErrInvalid", err)
	}
}

func TestFormatDue(t *testing.T) {
	at := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC) // 17:30 in Tokyo
	if got := voices.FormatDue(koe.Japanese, at); got != "11月25日(水)17時30分" {
		t.Errorf("ja = %q", got)
	}
	if got := voices.FormatDue(koe.English, at); got != "17:30 on Wed 25 Nov" {
		t.Errorf("en = %q", got)
	}
}

func TestCustomDue(t *testing.T) {
	r := newRig(t)
	r.clf.set(result(classifier.KindComplaint, classifier.SentimentNegative), nil)
	var gotAt time.Time
	var gotP koe.Priority
	r.sink.Due = func(at time.Time, p koe.Priority) (time.Time, time.Time) {
		gotAt, gotP = at, p
		return at.Add(15 * time.Minute), at.Add(48 * time.Hour)
	}
	if _, err := r.sink.AddVoice(context.Background(), meta("m1/0"), dialogs.VoiceEffect{Text: "x", Source: dialogs.VoiceSourceFreeText}); err != nil {
		t.Fatal(err)
	}
	c := r.cases.All()[0]
	if !gotAt.Equal(monday10) || gotP != koe.PriorityHigh || !c.AckDueAt.Equal(monday10.Add(15*time.Minute)) || !c.DueAt.Equal(monday10.Add(48*time.Hour)) {
		t.Errorf("Due got %v %s; case due %v/%v", gotAt, gotP, c.AckDueAt, c.DueAt)
	}
}

func TestSinkNeedsItsParts(t *testing.T) {
	s := &voices.Sink{}
	if _, err := s.AddVoice(context.Background(), meta("m1/0"), dialogs.VoiceEffect{Text: "x"}); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("AddVoice on an empty sink = %v, want ErrInvalid", err)
	}
}

// stubFAQ answers the questions it knows.
type stubFAQ struct{ known map[string]string }

func (f stubFAQ) Answer(ctx context.Context, meta dialogs.EffectMeta, text string) ([]koe.Reply, bool, error) {
	a, ok := f.known[text]
	if !ok {
		return nil, false, nil
	}
	return []koe.Reply{{Text: a}}, true, nil
}

// TestInquiryTriesTheFAQFirst: a free-text question the FAQ answers is kept
// as a voice and answered, with no case; one it cannot answer opens an
// inquiry case as before. Complaints never go to the FAQ.
func TestInquiryTriesTheFAQFirst(t *testing.T) {
	r := newRig(t)
	r.sink.FAQ = stubFAQ{known: map[string]string{
		"保険料の支払い方法は？":   "口座振替、クレジットカードがご利用いただけます。",
		"保険金がまだです。不満です": "(must not be used for a complaint)",
	}}
	ctx := context.Background()

	r.clf.set(result("inquiry", "neutral"), nil)
	replies, err := r.sink.AddVoice(ctx, meta("m1/0"), dialogs.VoiceEffect{Text: "保険料の支払い方法は？", Source: dialogs.VoiceSourceFreeText})
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 1 || replies[0].Text != "口座振替、クレジットカードがご利用いただけます。" {
		t.Fatalf("replies = %+v, want the FAQ answer", replies)
	}
	if v, ok := r.voices.Get("m1/0"); !ok || v.CaseRef != "" {
		t.Errorf("voice = %+v, %v; want kept without a case", v, ok)
	}
	if n := len(r.cases.All()); n != 0 {
		t.Errorf("%d cases opened for an answered question", n)
	}

	if _, err := r.sink.AddVoice(ctx, meta("m2/0"), dialogs.VoiceEffect{Text: "代理店を変更したいのですが", Source: dialogs.VoiceSourceFreeText}); err != nil {
		t.Fatal(err)
	}
	if cs := r.cases.All(); len(cs) != 1 || cs[0].Type != koe.CaseInquiry {
		t.Errorf("cases = %+v, want one inquiry case for the unanswered question", cs)
	}

	r.clf.set(result("complaint", "negative"), nil)
	replies, err = r.sink.AddVoice(ctx, meta("m3/0"), dialogs.VoiceEffect{Text: "保険金がまだです。不満です", Source: dialogs.VoiceSourceFreeText})
	if err != nil {
		t.Fatal(err)
	}
	if cs := r.cases.All(); len(cs) != 2 || cs[0].Type != koe.CaseComplaint && cs[1].Type != koe.CaseComplaint {
		t.Errorf("cases = %+v, want the complaint's case too", cs)
	}
	for _, rep := range replies {
		if strings.Contains(rep.Text, "must not") {
			t.Error("a complaint was answered from the FAQ")
		}
	}
}
