package survey_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/classifier"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/dialogs/catalog"
	"github.com/koehq/koe/dialogs/survey"
	"github.com/koehq/koe/dialogs/voices"
	"github.com/koehq/koe/internal/fakes"
)

var (
	sentAt = time.Date(2026, 11, 22, 10, 0, 0, 0, time.FixedZone("JST", 9*3600))
	user   = koe.UserID("line:U1234")
)

const surveyID = "S-20261122-7F3K"

// classify answers complaint for texts containing 遅, praise otherwise.
type classify struct{}

func (classify) Classify(ctx context.Context, text string) (classifier.Result, error) {
	if strings.Contains(text, "遅") {
		return classifier.Result{Kind: "complaint", Topic: "claims", Sentiment: "negative", Confidence: 0.9, SentimentConfidence: 0.9, Model: "test"}, nil
	}
	return classifier.Result{Kind: "praise", Topic: "claims", Sentiment: "positive", Confidence: 0.9, Model: "test"}, nil
}

// counter is a deterministic random source for references.
type counter struct {
	mu sync.Mutex
	n  byte
}

func (c *counter) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range p {
		c.n++
		p[i] = c.n
	}
	return len(p), nil
}

type env struct {
	surveys *fakes.SurveyStore
	cases   *fakes.CaseStore
	voices  *fakes.VoiceStore
	queue   *fakes.Queue
	runner  *survey.Runner
	cat     *catalog.Catalog
}

func newEnv(t *testing.T, store koe.SurveyStore) *env {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return sentAt }
	e := &env{surveys: fakes.NewSurveyStore(), cases: fakes.NewCaseStore(), voices: fakes.NewVoiceStore(), queue: fakes.NewQueue(now), cat: cat}
	if store == nil {
		store = e.surveys
	}
	sink := &voices.Sink{Classifier: classify{}, Voices: e.voices, Cases: e.cases, Queue: e.queue, Catalog: cat, Now: now, Rand: &counter{}}
	e.runner = &survey.Runner{Surveys: store, Voices: sink, Cases: e.cases, Queue: e.queue, Catalog: cat, Now: now, Rand: &counter{n: 100}}
	s := koe.Survey{ID: surveyID, Key: "k1", User: user, Touchpoint: koe.TouchpointClaim, Lang: koe.Japanese,
		Status: koe.SurveySent, SentAt: sentAt, ExpiresAt: sentAt.Add(7 * 24 * time.Hour)}
	if _, err := e.surveys.CreateSurvey(context.Background(), s, time.Time{}); err != nil {
		t.Fatal(err)
	}
	return e
}

func meta(key string, at time.Time) dialogs.EffectMeta {
	return dialogs.EffectMeta{Key: key, MessageID: strings.Split(key, "/")[0], User: user, Lang: koe.Japanese, At: at}
}

func (e *env) run(t *testing.T, m dialogs.EffectMeta, eff dialogs.Effect) []koe.Reply {
	t.Helper()
	replies, err := e.runner.RunEffect(context.Background(), m, eff)
	if err != nil {
		t.Fatalf("RunEffect(%s): %v", eff.EffectKind(), err)
	}
	return replies
}

func (e *env) survey(t *testing.T) koe.Survey {
	t.Helper()
	s, err := e.surveys.GetSurvey(context.Background(), surveyID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) alerts() []koe.Job {
	var out []koe.Job
	for _, j := range e.queue.Pending() {
		if j.Kind == voices.JobCaseAlert {
			out = append(out, j)
		}
	}
	return out
}

func text(rs []koe.Reply) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.Text)
	}
	return b.String()
}

func TestScoreRecordedOnceByKey(t *testing.T) {
	e := newEnv(t, nil)
	m := meta("msg-1/0", sentAt.Add(time.Hour))
	for i := range 3 {
		if r := e.run(t, m, survey.Score{Survey: surveyID, Score: 8}); r != nil {
			t.Fatalf("run %d answered %q; want nothing (the dialog goes on)", i, text(r))
		}
	}
	s := e.survey(t)
	if s.Score == nil || *s.Score != 8 || s.Status != koe.SurveyAnswered || !s.AnsweredAt.Equal(m.At) {
		t.Errorf("survey = %+v; want score 8 answered at %v", s, m.At)
	}
	if st := e.surveys.Stats(); st.Updates != 1 {
		t.Errorf("%d updates; want 1", st.Updates)
	}
	if n := len(e.cases.All()); n != 0 {
		t.Errorf("%d cases for a passive; want 0", n)
	}
}

func TestScoreNotCounted(t *testing.T) {
	tests := []struct {
		name    string
		first   int // -1: no earlier answer
		score   int
		at      time.Time
		user    koe.UserID
		wantKey string
		want    *int
	}{
		{name: "second answer", first: 9, score: 3, at: sentAt.Add(time.Hour), user: user, wantKey: "survey.already_answered", want: ptr(9)},
		{name: "expired", first: -1, score: 9, at: sentAt.Add(7 * 24 * time.Hour), user: user, wantKey: "survey.closed"},
		{name: "another user", first: -1, score: 9, at: sentAt.Add(time.Hour), user: "line:Uother", wantKey: "survey.closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if tt.first >= 0 {
				e.run(t, meta("msg-1/0", sentAt.Add(time.Minute)), survey.Score{Survey: surveyID, Score: tt.first})
			}
			before := e.surveys.Stats().Updates
			m := meta("msg-2/0", tt.at)
			m.User = tt.user
			got := text(e.run(t, m, survey.Score{Survey: surveyID, Score: tt.score}))
			if want := e.cat.Text(koe.Japanese, tt.wantKey); got != want {
				t.Errorf("answer %q; want %q", got, want)
			}
			if n := e.surveys.Stats().Updates; n != before {
				t.Errorf("survey written %d times; want none", n-before)
			}
			s := e.survey(t)
			if (s.Score == nil) != (tt.want == nil) || (s.Score != nil && *s.Score != *tt.want) {
				t.Errorf("score %v; want %v", s.Score, tt.want)
			}
			if n := len(e.cases.All()); n != 0 {
				t.Errorf("%d cases; want 0", n)
			}
		})
	}
}

func ptr(n int) *int { return &n }

func TestDetractorOpensExactlyOneCase(t *testing.T) {
	e := newEnv(t, nil)
	at := sentAt.Add(time.Hour)
	e.run(t, meta("msg-1/0", at), survey.Score{Survey: surveyID, Score: 3})
	e.run(t, meta("msg-1/0", at), survey.Score{Survey: surveyID, Score: 3})          // re-run after a crash
	e.run(t, meta("msg-2/0", at), survey.Score{Survey: surveyID, Score: 0})          // a second tap
	e.run(t, meta("msg-3/0", at), survey.Comment{Survey: surveyID, Text: "連絡が遅かった"}) // a complaint
	e.run(t, meta("msg-3/0", at), survey.Comment{Survey: surveyID, Text: "連絡が遅かった"})
	cases := e.cases.All()
	if len(cases) != 1 {
		t.Fatalf("%d cases; want exactly 1: %+v", len(cases), cases)
	}
	c := cases[0]
	if c.Type != koe.CaseComplaint || c.Score == nil || *c.Score != 3 || c.Key != "survey:"+surveyID || c.User != user || c.Topic != koe.TopicClaims {
		t.Errorf("case = %+v", c)
	}
	if !strings.Contains(c.Summary, "3点") {
		t.Errorf("summary %q does not show the score", c.Summary)
	}
	alerts := e.alerts()
	if len(alerts) != 1 || alerts[0].ID != "case.alert:"+c.Ref || alerts[0].Ref != c.Ref {
		t.Errorf("alerts = %+v; want one for %s", alerts, c.Ref)
	}
	s := e.survey(t)
	if s.CaseRef != c.Ref || s.VoiceID != "msg-3/0" || s.Comment != "連絡が遅かった" || *s.Score != 3 {
		t.Errorf("survey = %+v", s)
	}
	v, ok := e.voices.Get("msg-3/0")
	if !ok || v.Source != survey.VoiceSource || v.CaseRef != c.Ref || v.Kind != koe.VoiceComplaint {
		t.Errorf("voice = %+v, %v; want a survey complaint linked to %s", v, ok, c.Ref)
	}
}

func TestPassiveComplaintCaseGetsScore(t *testing.T) {
	e := newEnv(t, nil)
	at := sentAt.Add(time.Hour)
	e.run(t, meta("msg-1/0", at), survey.Score{Survey: surveyID, Score: 7})
	if n := len(e.cases.All()); n != 0 {
		t.Fatalf("%d cases after a passive score", n)
	}
	r := e.run(t, meta("msg-2/0", at), survey.Comment{Survey: surveyID, Text: "説明が遅い"})
	cases := e.cases.All()
	if len(cases) != 1 || cases[0].Score == nil || *cases[0].Score != 7 {
		t.Fatalf("cases = %+v; want one with score 7", cases)
	}
	if !strings.Contains(text(r), cases[0].Ref) {
		t.Errorf("answer %q lacks the reference %s", text(r), cases[0].Ref)
	}
	if s := e.survey(t); s.CaseRef != cases[0].Ref {
		t.Errorf("survey case %q; want %q", s.CaseRef, cases[0].Ref)
	}
	// Praise from a promoter opens nothing.
	e2 := newEnv(t, nil)
	e2.run(t, meta("msg-1/0", at), survey.Score{Survey: surveyID, Score: 10})
	if r := e2.run(t, meta("msg-2/0", at), survey.Comment{Survey: surveyID, Text: "親切でした"}); r != nil {
		t.Errorf("praise answered %q; want nothing (the dialog thanks)", text(r))
	}
	if n := len(e2.cases.All()); n != 0 {
		t.Errorf("%d cases for praise", n)
	}
}

func TestSatisfactionOnce(t *testing.T) {
	e := newEnv(t, nil)
	at := sentAt.Add(time.Hour)
	e.run(t, meta("msg-1/0", at), survey.Satisfaction{Survey: surveyID, Level: 4})
	e.run(t, meta("msg-2/0", at), survey.Satisfaction{Survey: surveyID, Level: 1})
	if s := e.survey(t); s.Satisfaction == nil || *s.Satisfaction != 4 {
		t.Errorf("satisfaction %v; want 4", s.Satisfaction)
	}
	if _, err := e.runner.RunEffect(context.Background(), meta("msg-3/0", at), survey.Satisfaction{Survey: surveyID, Level: 6}); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("level 6: err %v; want ErrInvalid", err)
	}
}

// racing is a SurveyStore whose first update loses to a concurrent writer
// that records a satisfaction.
type racing struct {
	*fakes.SurveyStore
	once sync.Once
}

func (r *racing) UpdateSurvey(ctx context.Context, s koe.Survey) (koe.Survey, error) {
	raced := false
	r.once.Do(func() {
		other, _ := r.SurveyStore.GetSurvey(ctx, s.ID)
		other.Satisfaction = ptr(5)
		if _, err := r.SurveyStore.UpdateSurvey(ctx, other); err != nil {
			panic(err)
		}
		raced = true
	})
	if raced {
		return koe.Survey{}, fmt.Errorf("racing: %w", koe.ErrConflict)
	}
	return r.SurveyStore.UpdateSurvey(ctx, s)
}

func TestScoreRetriesStaleWrite(t *testing.T) {
	e := newEnv(t, nil)
	e.runner.Surveys = &racing{SurveyStore: e.surveys}
	e.run(t, meta("msg-1/0", sentAt.Add(time.Hour)), survey.Score{Survey: surveyID, Score: 2})
	s := e.survey(t)
	if s.Score == nil || *s.Score != 2 || s.Satisfaction == nil || *s.Satisfaction != 5 {
		t.Errorf("survey = score %v satisfaction %v; want both kept (2, 5)", s.Score, s.Satisfaction)
	}
	if n := len(e.cases.All()); n != 1 {
		t.Errorf("%d cases; want 1", n)
	}
}

// failing fails every read.
type failing struct{ *fakes.SurveyStore }

func (failing) GetSurvey(ctx context.Context, id string) (koe.Survey, error) {
	return koe.Survey{}, errors.New("disk on fire")
}

func TestStoreErrorReturned(t *testing.T) {
	e := newEnv(t, nil)
	e.runner.Surveys = failing{e.surveys}
	_, err := e.runner.RunEffect(context.Background(), meta("msg-1/0", sentAt), survey.Score{Survey: surveyID, Score: 1})
	if err == nil {
		t.Fatal("no error")
	}
	if n := len(e.cases.All()); n != 0 {
		t.Errorf("%d cases after a failed read", n)
	}
}

func TestUnknownEffectAndMissingDeps(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.runner.RunEffect(context.Background(), meta("m/0", sentAt), dialogs.VoiceEffect{Text: "x"}); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("unknown effect: %v", err)
	}
	if _, err := (&survey.Runner{}).RunEffect(context.Background(), meta("m/0", sentAt), survey.Score{Survey: surveyID, Score: 1}); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("empty runner: %v", err)
	}
}

func TestStartMessage(t *testing.T) {
	s := koe.Survey{ID: surveyID, User: user, Touchpoint: koe.TouchpointRenewal, ExpiresAt: sentAt.Add(time.Hour)}
	m := survey.StartMessage(s, sentAt)
	if m.ID != "survey:"+surveyID || m.Kind != koe.KindStaff || m.User != user || m.Staff == nil ||
		m.Staff.Action != survey.StaffAction || m.Staff.CaseRef != surveyID || !m.SentAt.Equal(sentAt) {
		t.Errorf("StartMessage = %+v", m)
	}
	if want := "touchpoint=renewal expires=2026-11-22T02:00:00Z"; m.Staff.Text != want {
		t.Errorf("note text %q; want %q", m.Staff.Text, want)
	}
	var b bytes.Buffer
	fmt.Fprint(&b, m.LogValue())
	if strings.Contains(b.String(), "touchpoint=") {
		t.Errorf("log shows the note text: %s", b.String())
	}
}
