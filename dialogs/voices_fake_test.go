package dialogs_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/classifier"
	"github.com/koehq/koe/internal/fakes"
)

// scriptedClassifier answers what a transcript's classify section says for
// a text, and request/other/neutral for any other text, so transcripts do
// not depend on the trained model.
type scriptedClassifier struct {
	mu     sync.Mutex
	script map[string]classifier.Result
}

// load reads lines "TEXT => KIND TOPIC SENTIMENT [urgency=A,B] [conf=0.7]".
func (c *scriptedClassifier) load(t *testing.T, data string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.script == nil {
		c.script = make(map[string]classifier.Result)
	}
	for _, line := range strings.Split(data, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		i := strings.LastIndex(line, " => ")
		if i < 0 {
			t.Fatalf("classify: %q has no \" => \"", line)
		}
		text, f := strings.TrimSpace(line[:i]), strings.Fields(line[i+4:])
		if len(f) < 3 {
			t.Fatalf("classify: %q needs KIND TOPIC SENTIMENT", line)
		}
		r := classifier.Result{Kind: f[0], Topic: f[1], Sentiment: f[2], Confidence: 0.95, KindConfidence: 0.95,
			TopicConfidence: 0.95, SentimentConfidence: 0.95, Model: "scripted"}
		for _, opt := range f[3:] {
			k, v, _ := strings.Cut(opt, "=")
			switch k {
			case "urgency":
				r.Urgency = strings.Split(v, ",")
				r.Urgent = true
			case "conf":
				x, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("classify: %q: %v", line, err)
				}
				r.Confidence, r.KindConfidence, r.TopicConfidence, r.SentimentConfidence = x, x, x, x
			default:
				t.Fatalf("classify: %q: unknown option %q", line, opt)
			}
		}
		if !r.Valid() {
			t.Fatalf("classify: %q: unknown label", line)
		}
		c.script[text] = r
	}
}

func (c *scriptedClassifier) Classify(ctx context.Context, text string) (classifier.Result, error) {
	if strings.TrimSpace(text) == "" {
		return classifier.Result{}, classifier.ErrEmptyText
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.script[text]; ok {
		r.Urgency = slices.Clone(r.Urgency)
		return r, nil
	}
	return classifier.Result{Kind: classifier.KindRequest, Topic: classifier.TopicOther, Sentiment: classifier.SentimentNeutral,
		Confidence: 0.9, KindConfidence: 0.9, TopicConfidence: 0.9, SentimentConfidence: 0.9, Model: "scripted"}, nil
}

// staffMessage parses "reply REF TEXT" or "end REF".
func staffMessage(t *testing.T, line string, user koe.UserID, id string, now time.Time) koe.Message {
	t.Helper()
	f := strings.SplitN(strings.TrimSpace(line), " ", 3)
	if len(f) < 2 {
		t.Fatalf("staff: %q needs ACTION REF [TEXT]", line)
	}
	note := &koe.StaffNote{Action: f[0], CaseRef: f[1], By: "担当 佐藤"}
	if len(f) == 3 {
		note.Text = strings.ReplaceAll(f[2], `\n`, "\n")
	}
	return koe.Message{ID: id, User: user, Kind: koe.KindStaff, Staff: note, SentAt: now}
}

func formatAttrs(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

// seedCases stores three cases of user (an inquiry answered, a complaint
// being worked on, an old complaint closed) and one of another user.
func seedCases(t *testing.T, st *fakes.CaseStore, user koe.UserID) {
	t.Helper()
	at := defaultNow.Add(-96 * time.Hour)
	for i, c := range []koe.Case{
		{Ref: "C-20261118-AB12", Type: koe.CaseComplaint, Status: koe.CaseClosed, User: user, CreatedAt: at},
		{Ref: "C-20261119-CD34", Type: koe.CaseComplaint, Status: koe.CaseReceived, User: "console:someone-else", CreatedAt: at.Add(24 * time.Hour)},
		{Ref: "C-20261120-EF56", Type: koe.CaseInquiry, Status: koe.CaseResponded, User: user, CreatedAt: at.Add(48 * time.Hour)},
		{Ref: "C-20261121-GH78", Type: koe.CaseComplaint, Status: koe.CaseEscalated, User: user, CreatedAt: at.Add(72 * time.Hour)},
	} {
		c.Key = fmt.Sprintf("seed-case-%d", i)
		c.Kind, c.Topic, c.Priority, c.UpdatedAt = koe.VoiceComplaint, koe.TopicClaims, koe.PriorityNormal, c.CreatedAt
		if _, err := st.CreateCase(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
}

// seedSurvey stores the survey S-20261122-7F3K of h.user about touchpoint
// h.survey, sent at h.now and expiring seven days later.
func seedSurvey(t *testing.T, st *fakes.SurveyStore, h header) {
	t.Helper()
	s := koe.Survey{ID: "S-20261122-7F3K", Key: "seed-survey", User: h.user, Touchpoint: h.survey, Ref: "AR-20261119-2B4D",
		Lang: h.lang, Status: koe.SurveySent, SentAt: h.now, ExpiresAt: h.now.Add(7 * 24 * time.Hour)}
	if _, err := st.CreateSurvey(context.Background(), s, h.now.Add(-30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
}

func formatInt(p *int) string {
	if p == nil {
		return "-"
	}
	return strconv.Itoa(*p)
}

func formatTime(at time.Time) string {
	if at.IsZero() {
		return "-"
	}
	return at.Format(time.RFC3339)
}
