package dialogs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/console"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/dialogs/accident"
	"github.com/koehq/koe/dialogs/inquiry"
	"github.com/koehq/koe/dialogs/survey"
	"github.com/koehq/koe/dialogs/voices"
	"github.com/koehq/koe/internal/fakes"
	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite testdata/transcripts/*.txtar with the bot's current answers")

// defaultNow is the transcripts' clock unless a header sets "now:".
var defaultNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.FixedZone("JST", 9*3600))

// TestTranscripts replays every testdata/transcripts/*.txtar.
//
// A transcript is a txtar archive. Its comment describes the conversation
// and may set "lang: en" (the engine's default language), "now: RFC3339"
// (the fixed clock), "user: console:NAME", "accident: off" (the engine
// without the accident dialog) and "fixtures: reports" (two stored
// accident reports of the user and one of someone else, see seedReports)
// or "fixtures: cases" (those reports and three cases of the user, one
// closed, and one of someone else, see seedCases), and "faq: on" (the
// inquiry dialog and the engine's Interrupt answering from a small scripted
// knowledge base, see fakeKB, with threshold fakeThreshold; its FAQ answers
// and verdicts are listed under effects), and "survey: TOUCHPOINT" (a
// survey of the user, S-20261122-7F3K, sent at the start and expiring
// seven days later; see seedSurvey). The engine runs with the survey
// dialog, its command and runner, the accident dialog, its runner on in-memory reports and queue, the voice
// sink (voices.Sink) on in-memory voices and cases with a scripted
// classifier, the case status command and runner, and references drawn
// from fixed sequences (the first is AR-<date>-7F3K, C-<date>-7F3K). Then
// come sections in order:
//
//	-- classify -- lines "TEXT => KIND TOPIC SENTIMENT [urgency=A,B]
//	               [conf=0.7]": what the classifier answers for TEXT (any
//	               other text: request, other, neutral, confidence 0.9)
//	-- user --     one line in console syntax (text, N for a choice,
//	               /postback, /location, /image, /follow, /unfollow)
//	-- staff --    one line "reply REF TEXT" or "end REF": a koe.KindStaff
//	               message about case REF for the user; "survey ID" puts
//	               survey.StartMessage of the stored survey ID
//	-- bot --      the console rendering of the bot's answer to the line
//	-- effects --  what the turn's effects did (only when anything): reports
//	               created (as stored, JSON), cases created, voices stored,
//	               surveys changed, jobs enqueued
//	-- wait --     a duration (Go syntax, "31m") to advance the clock by
//
// With -update the bot and effects sections are rewritten from what the
// bot does now; classify, user, staff and wait sections are kept.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "transcripts", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no transcripts in testdata/transcripts")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := txtar.Parse(data)
			got := replay(t, want)
			gotData := txtar.Format(got)
			if bytes.Equal(gotData, data) {
				return
			}
			if *update {
				if err := os.WriteFile(file, gotData, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("rewrote %s", file)
				return
			}
			reportDiff(t, want, got)
		})
	}
}

type header struct {
	lang     koe.Lang
	now      time.Time
	user     koe.UserID
	fixtures string
	noAcc    bool
	faq      bool
	survey   koe.Touchpoint
}

func parseHeader(t *testing.T, comment []byte) header {
	t.Helper()
	h := header{lang: koe.Japanese, now: defaultNow, user: "console:tester"}
	for _, line := range strings.Split(string(comment), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "lang":
			l, ok := koe.ParseLang(v)
			if !ok {
				t.Fatalf("header: unknown lang %q", v)
			}
			h.lang = l
		case "now":
			tm, err := time.Parse(time.RFC3339, v)
			if err != nil {
				t.Fatalf("header: now: %v", err)
			}
			h.now = tm
		case "fixtures":
			h.fixtures = v
		case "accident":
			h.noAcc = v == "off"
		case "faq":
			h.faq = v == "on"
		case "survey":
			h.survey = koe.Touchpoint(v)
		case "user":
			h.user = koe.UserID(v)
			if !h.user.Valid() || h.user.Channel() != koe.ChannelConsole {
				t.Fatalf("header: user %q is not a console user", v)
			}
		}
	}
	return h
}

// replay runs the archive's user and wait sections against a fresh engine
// and returns the archive as the bot answers now.
func replay(t *testing.T, a *txtar.Archive) *txtar.Archive {
	t.Helper()
	h := parseHeader(t, a.Comment)
	clk := newClock(h.now)
	store := fakes.NewSessionStore(clk.Now)
	voiceStore, caseStore := fakes.NewVoiceStore(), fakes.NewCaseStore()
	clf := &scriptedClassifier{}
	var screen bytes.Buffer
	chat := console.NewChat(h.user, &screen)
	chat.NewID = counter("msg-")
	chat.Now = clk.Now
	reports, queue := fakes.NewReportStore(), fakes.NewQueue(clk.Now)
	if h.fixtures == "reports" || h.fixtures == "cases" {
		seedReports(t, reports, h.user)
	}
	if h.fixtures == "cases" {
		seedCases(t, caseStore, h.user)
	}
	runner := &accident.Runner{
		Reports: reports,
		Queue:   queue,
		Photos:  fakePhotos{},
		Catalog: mustCatalog(t),
		Now:     clk.Now,
		Rand:    &seqReader{},
	}
	sink := &voices.Sink{
		Classifier: clf,
		Voices:     voiceStore,
		Cases:      caseStore,
		Queue:      queue,
		Catalog:    mustCatalog(t),
		Now:        clk.Now,
		Rand:       &seqReader{},
	}
	status := &voices.Status{Cases: caseStore, Reports: runner, Catalog: mustCatalog(t)}
	runners := dialogs.Runners{
		accident.KindSubmit:    runner,
		accident.KindStatus:    status,
		voices.KindCaseStatus:  status,
		dialogs.KindRelay:      sink,
		dialogs.KindHandoffEnd: sink,
	}
	cfg := dialogs.Config{
		Sessions:    store,
		Senders:     map[koe.Channel]koe.Sender{koe.ChannelConsole: lineLimits{t, chat}},
		Now:         clk.Now,
		DefaultLang: h.lang,
		NewRetryKey: counter("retry-"),
		Voices:      sink,
		Dialogs:     []*dialogs.Dialog{accident.Dialog()},
		Commands:    []dialogs.Command{voices.StatusCommand()},
		Effects:     runners,
	}
	if h.noAcc {
		cfg.Dialogs = nil
		status.Reports = nil
		delete(runners, accident.KindSubmit)
		delete(runners, accident.KindStatus)
	}
	faqLog := fakes.NewFAQLog()
	if h.faq {
		kb := fakeKB{}
		cfg.Dialogs = append(cfg.Dialogs, inquiry.Dialog(kb, fakeThreshold))
		cfg.Interrupt = inquiry.Interrupt(kb, fakeThreshold)
		ir := &inquiry.Runner{FAQLog: faqLog, Cases: caseStore, Voices: voiceStore, Queue: queue,
			Catalog: mustCatalog(t), Now: clk.Now, Rand: &seqReader{}}
		runners[inquiry.KindAnswer] = ir
		runners[inquiry.KindVerdict] = ir
		runners[inquiry.KindEscalate] = ir
	}
	surveys := fakes.NewSurveyStore()
	if h.survey != "" {
		seedSurvey(t, surveys, h)
	}
	sr := &survey.Runner{Surveys: surveys, Voices: sink, Cases: caseStore, Queue: queue,
		Catalog: mustCatalog(t), Now: clk.Now, Rand: &seqReader{}}
	runners[survey.KindScore] = sr
	runners[survey.KindSatisfaction] = sr
	runners[survey.KindComment] = sr
	cfg.Dialogs = append(cfg.Dialogs, survey.Dialog())
	cfg.Commands = append(cfg.Commands, survey.LateAnswerCommand())
	cfg.StaffActions = map[string]func(*dialogs.Turn){survey.StaffAction: survey.Start}
	staffID := counter("staff-")
	eng, err := dialogs.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := &txtar.Archive{Comment: a.Comment}
	ctx := context.Background()
	for _, f := range a.Files {
		switch f.Name {
		case "bot", "effects":
			// Regenerated below.
		case "wait":
			d, err := time.ParseDuration(strings.TrimSpace(string(f.Data)))
			if err != nil {
				t.Fatalf("wait: %v", err)
			}
			clk.Advance(d)
			out.Files = append(out.Files, f)
		case "classify":
			clf.load(t, string(f.Data))
			out.Files = append(out.Files, f)
		case "user", "staff":
			line := strings.TrimRight(string(f.Data), "\n")
			if strings.Contains(line, "\n") {
				t.Fatalf("%s section holds more than one line: %q", f.Name, line)
			}
			out.Files = append(out.Files, f)
			screen.Reset()
			voicesBefore, casesBefore := len(voiceStore.All()), len(caseStore.All())
			reportsBefore, jobsBefore := len(reports.All()), len(queue.Enqueued())
			faqBefore := make(map[string]koe.FAQAnswer)
			for _, a := range faqLog.All() {
				faqBefore[a.ID] = a
			}
			surveysBefore := make(map[string]int64)
			for _, s := range surveys.All() {
				surveysBefore[s.ID] = s.Version
			}
			var msg koe.Message
			var err error
			if id, ok := strings.CutPrefix(line, "survey "); f.Name == "staff" && ok {
				s, gerr := surveys.GetSurvey(ctx, strings.TrimSpace(id))
				if gerr != nil {
					t.Fatalf("staff %q: %v", line, gerr)
				}
				msg = survey.StartMessage(s, clk.Now())
			} else if f.Name == "staff" {
				msg = staffMessage(t, line, h.user, staffID(), clk.Now())
			} else {
				msg, err = chat.ParseLine(line)
			}
			if err != nil {
				fmt.Fprintf(&screen, "! %v\n", err)
			} else if err := eng.Handle(ctx, msg); err != nil {
				t.Fatalf("line %q: Handle: %v", line, err)
			}
			out.Files = append(out.Files, txtar.File{Name: "bot", Data: bytes.Clone(screen.Bytes())})
			var b strings.Builder
			for _, r := range reports.All()[reportsBefore:] {
				js, err := json.MarshalIndent(r, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "report %s\n", js)
			}
			for _, c := range caseStore.All()[casesBefore:] {
				fmt.Fprintf(&b, "case ref=%s type=%s kind=%s topic=%s priority=%s status=%s voice=%s lang=%s ack=%s due=%s urgency=%s",
					c.Ref, c.Type, c.Kind, c.Topic, c.Priority, c.Status, c.VoiceID, c.Lang,
					c.AckDueAt.Format(time.RFC3339), c.DueAt.Format(time.RFC3339), strings.Join(c.Urgency, ","))
				if c.Score != nil || strings.HasPrefix(c.Key, "survey:") {
					fmt.Fprintf(&b, " score=%s key=%s summary=%q", formatInt(c.Score), c.Key, c.Summary)
				}
				b.WriteString("\n")
			}
			for _, s := range surveys.All() {
				if v, ok := surveysBefore[s.ID]; ok && v == s.Version {
					continue
				}
				fmt.Fprintf(&b, "survey id=%s status=%s score=%s satisfaction=%s comment=%q voice=%s case=%s answered=%s\n",
					s.ID, s.Status, formatInt(s.Score), formatInt(s.Satisfaction), s.Comment, s.VoiceID, s.CaseRef, formatTime(s.AnsweredAt))
			}
			for _, v := range voiceStore.All()[voicesBefore:] {
				fmt.Fprintf(&b, "voice id=%s source=%s kind=%s topic=%s sentiment=%s case=%s text=%q\n",
					v.ID, v.Source, v.Kind, v.Topic, v.Sentiment, v.CaseRef, v.Text)
			}
			for _, a := range faqLog.All() {
				old, seen := faqBefore[a.ID]
				switch {
				case !seen:
					fmt.Fprintf(&b, "faq answer id=%s entry=%s rank=%d confidence=%.2f lang=%s\n", a.ID, a.Entry, a.Rank, a.Confidence, a.Lang)
				case !sameVerdict(old, a):
					fmt.Fprintf(&b, "faq mark id=%s helpful=%s case=%s\n", a.ID, formatHelpful(a.Helpful), a.CaseRef)
				}
			}
			for _, j := range queue.Enqueued()[jobsBefore:] {
				fmt.Fprintf(&b, "job id=%s kind=%s ref=%s", j.ID, j.Kind, j.Ref)
				if len(j.Attrs) > 0 {
					fmt.Fprintf(&b, " attrs=%s", formatAttrs(j.Attrs))
				}
				b.WriteString("\n")
			}
			if b.Len() > 0 {
				out.Files = append(out.Files, txtar.File{Name: "effects", Data: []byte(b.String())})
			}
		default:
			t.Fatalf("unknown section %q (want classify, user, staff, bot, effects or wait)", f.Name)
		}
	}
	return out
}

func reportDiff(t *testing.T, want, got *txtar.Archive) {
	t.Helper()
	n := max(len(want.Files), len(got.Files))
	for i := range n {
		var w, g txtar.File
		if i < len(want.Files) {
			w = want.Files[i]
		}
		if i < len(got.Files) {
			g = got.Files[i]
		}
		if w.Name == g.Name && bytes.Equal(w.Data, g.Data) {
			continue
		}
		t.Errorf("section %d differs (run go test ./dialogs -run Transcripts -update to accept):\n--- want %s ---\n%s--- got %s ---\n%s",
			i+1, w.Name, w.Data, g.Name, g.Data)
		return
	}
	t.Errorf("transcript differs outside its sections (comment or trailing newline)")
}

// fakePhotos "stores" a picture under photos/ named after its content id.
type fakePhotos struct{}

func (fakePhotos) FetchPhoto(ctx context.Context, user koe.UserID, contentID string) (koe.Photo, error) {
	name := strings.NewReplacer("/", "_", ":", "_", ".", "_").Replace(contentID)
	return koe.Photo{Path: "photos/" + name + ".jpg", ContentType: "image/jpeg", Size: 1234}, nil
}

// seedReports stores two reports of user (an older one done, a newer one
// assigned) and one of another user.
func seedReports(t *testing.T, r *fakes.ReportStore, user koe.UserID) {
	t.Helper()
	at := defaultNow.Add(-72 * time.Hour)
	for _, rep := range []koe.AccidentReport{
		{Ref: "AR-20261119-2B4D", Key: "seed-1", User: user, Kind: koe.AccidentHome, Status: koe.ReportDone, SubmittedAt: at},
		{Ref: "AR-20261119-9XQZ", Key: "seed-2", User: "console:someone-else", Kind: koe.AccidentMotor, Status: koe.ReportReceived, SubmittedAt: at},
		{Ref: "AR-20261121-5HJM", Key: "seed-3", User: user, Kind: koe.AccidentMotor, Status: koe.ReportAssigned, Urgent: true, SubmittedAt: at.Add(48 * time.Hour)},
	} {
		if _, err := r.CreateReport(context.Background(), rep); err != nil {
			t.Fatal(err)
		}
	}
}
