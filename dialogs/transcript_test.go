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
// without the accident dialog) and "fixtures: reports" (two
// stored accident reports of the user and one of someone else, see
// seedReports). The engine runs with the accident dialog, its runner on
// in-memory reports and queue, and references drawn from a fixed sequence
// (the first is AR-<date>-7F3K). Then come sections in order:
//
//	-- user --     one line in console syntax (text, N for a choice,
//	               /postback, /location, /image, /follow, /unfollow)
//	-- bot --      the console rendering of the bot's answer to that line
//	-- effects --  what the turn's effects did (only when anything): reports
//	               created (as stored, JSON), jobs enqueued, voices recorded
//	-- wait --     a duration (Go syntax, "31m") to advance the clock by
//
// With -update the bot and effects sections are rewritten from what the
// bot does now; user and wait sections are kept.
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
	voices := &voiceRecorder{}
	var screen bytes.Buffer
	chat := console.NewChat(h.user, &screen)
	chat.NewID = counter("msg-")
	chat.Now = clk.Now
	reports, queue := newMemReports(), &memQueue{}
	if h.fixtures == "reports" {
		seedReports(t, reports, h.user)
	}
	runner := &accident.Runner{
		Reports: reports,
		Queue:   queue,
		Photos:  fakePhotos{},
		Catalog: mustCatalog(t),
		Now:     clk.Now,
		Rand:    &seqReader{},
	}
	cfg := dialogs.Config{
		Sessions:    store,
		Senders:     map[koe.Channel]koe.Sender{koe.ChannelConsole: lineLimits{t, chat}},
		Now:         clk.Now,
		DefaultLang: h.lang,
		NewRetryKey: counter("retry-"),
		Voices:      voices,
		Dialogs:     []*dialogs.Dialog{accident.Dialog()},
		Effects:     runner,
	}
	if h.noAcc {
		cfg.Dialogs, cfg.Effects = nil, nil
	}
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
		case "user":
			line := strings.TrimRight(string(f.Data), "\n")
			if strings.Contains(line, "\n") {
				t.Fatalf("user section holds more than one line: %q", line)
			}
			out.Files = append(out.Files, f)
			screen.Reset()
			before := len(voices.Voices())
			reportsBefore, jobsBefore := len(reports.order), len(queue.Jobs())
			msg, err := chat.ParseLine(line)
			if err != nil {
				fmt.Fprintf(&screen, "! %v\n", err)
			} else if err := eng.Handle(ctx, msg); err != nil {
				t.Fatalf("line %q: Handle: %v", line, err)
			}
			out.Files = append(out.Files, txtar.File{Name: "bot", Data: bytes.Clone(screen.Bytes())})
			var b strings.Builder
			for _, ref := range reports.order[reportsBefore:] {
				r, _ := reports.GetReport(ctx, ref)
				js, err := json.MarshalIndent(r, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "report %s\n", js)
			}
			for _, j := range queue.Jobs()[jobsBefore:] {
				fmt.Fprintf(&b, "job id=%s kind=%s ref=%s\n", j.ID, j.Kind, j.Ref)
			}
			for _, v := range voices.Voices()[before:] {
				fmt.Fprintf(&b, "voice source=%s key=%s lang=%s text=%q\n", v.Voice.Source, v.Meta.Key, v.Meta.Lang, v.Voice.Text)
			}
			if b.Len() > 0 {
				out.Files = append(out.Files, txtar.File{Name: "effects", Data: []byte(b.String())})
			}
		default:
			t.Fatalf("unknown section %q (want user, bot, effects or wait)", f.Name)
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
func seedReports(t *testing.T, r *memReports, user koe.UserID) {
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
