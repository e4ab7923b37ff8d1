// Package classifycmd implements "koe classify": classify customer texts
// from standard input, or evaluate the classifier on a labelled file.
package classifycmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/koehq/koe/classifier"
)

const usage = `usage: koe classify [--jsonl] [--eval FILE]

Reads texts from standard input, one per line (or JSON Lines with a "text"
field when --jsonl is given), and writes one JSON object per input line:
  {"kind":…,"topic":…,"sentiment":…,"urgent":…,"urgency":[…],"confidence":…,
   "kind_confidence":…,"topic_confidence":…,"sentiment_confidence":…,"model":…}
A JSON Lines input's "id" field is copied to the output. A line that cannot
be classified (empty, malformed JSON) gives {"error":…} and the rest go on.

--eval FILE classifies a labelled file (TSV: kind, topic, sentiment, urgency,
text; or JSON Lines with text, kind, topic, sentiment) and prints per-class
precision, recall, F1 and the confusion matrices; FILE "-" is stdin.

The backend is chosen by KOE_CLASSIFIER: embedded (default) or openai
(OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL; falls back to embedded).

flags:
`

// Run runs "koe classify" with args (without the subcommand name). It
// returns nil after -h, an error for bad flags, configuration or I/O, and
// nil when every line was answered (lines that cannot be classified are
// answered with an error object). It stops with ctx's error when ctx is
// done.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jsonl := fs.Bool("jsonl", false, "read JSON Lines with a \"text\" field instead of plain lines")
	evalFile := fs.String("eval", "", "evaluate on a labelled `FILE` (TSV or JSON Lines; - for stdin) and print metrics")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("classify: unexpected argument %q", fs.Arg(0))
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := classifier.FromEnv(getenv, log)
	if err != nil {
		return fmt.Errorf("classify: %w", err)
	}
	if *evalFile != "" {
		return runEval(ctx, c, *evalFile, stdin, stdout)
	}
	return classifyLines(ctx, c, *jsonl, stdin, stdout)
}

func runEval(ctx context.Context, c classifier.Classifier, name string, stdin io.Reader, stdout io.Writer) error {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("classify: %w", err)
		}
		defer f.Close()
		r = f
	}
	examples, err := classifier.ReadExamples(r)
	if err != nil {
		return fmt.Errorf("classify: eval: %w", err)
	}
	if len(examples) == 0 {
		return fmt.Errorf("classify: eval: no labelled examples in %s", name)
	}
	ev, err := classifier.Evaluate(ctx, c, examples)
	if err != nil {
		return fmt.Errorf("classify: eval: %w", err)
	}
	return ev.WriteReport(stdout)
}

type output struct {
	ID json.RawMessage `json:"id,omitempty"`
	*classifier.Result
	Error string `json:"error,omitempty"`
}

func classifyLines(ctx context.Context, c classifier.Classifier, jsonl bool, stdin io.Reader, stdout io.Writer) error {
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("classify: %w", err)
		}
		var out output
		text := sc.Text()
		if jsonl {
			var in struct {
				ID   json.RawMessage `json:"id"`
				Text *string         `json:"text"`
			}
			if err := json.Unmarshal(sc.Bytes(), &in); err != nil || in.Text == nil {
				out.Error = `malformed line: want a JSON object with a "text" string`
				if err := enc.Encode(out); err != nil {
					return fmt.Errorf("classify: write: %w", err)
				}
				continue
			}
			out.ID, text = in.ID, *in.Text
		}
		r, err := c.Classify(ctx, text)
		switch {
		case errors.Is(err, classifier.ErrEmptyText):
			out.Error = "empty text"
		case err != nil:
			return fmt.Errorf("classify: %w", err)
		default:
			if r.Urgency == nil {
				r.Urgency = []string{}
			}
			out.Result = &r
		}
		if err := enc.Encode(out); err != nil {
			return fmt.Errorf("classify: write: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("classify: read: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("classify: write: %w", err)
	}
	return nil
}
