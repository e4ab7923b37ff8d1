package classifier

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/koehq/koe"
)

// ReadExamples reads labelled examples in either of two formats, told apart
// by the first non-blank line:
//
//   - TSV: kind, topic, sentiment, urgency, text separated by tabs; urgency
//     is "-" or a comma-separated list; lines starting with "#" and blank
//     lines are skipped.
//   - JSON Lines: {"text":…,"kind":…,"topic":…,"sentiment":…,"urgency":[…]}.
//
// It returns an error wrapping koe.ErrInvalid, naming the line, for a
// malformed line or an unknown label. An empty sentiment in JSON Lines is
// allowed (the example is then not scored on sentiment).
func ReadExamples(r io.Reader) ([]Example, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var out []Example
	line := 0
	for sc.Scan() {
		line++
		raw := sc.Bytes()
		t := bytes.TrimSpace(raw)
		if len(t) == 0 || t[0] == '#' {
			continue
		}
		var ex Example
		if t[0] == '{' {
			var j struct {
				Text      string   `json:"text"`
				Kind      string   `json:"kind"`
				Topic     string   `json:"topic"`
				Sentiment string   `json:"sentiment"`
				Urgency   []string `json:"urgency"`
			}
			if err := json.Unmarshal(t, &j); err != nil {
				return nil, fmt.Errorf("classifier: line %d: malformed JSON: %w", line, koe.ErrInvalid)
			}
			ex = Example{Kind: j.Kind, Topic: j.Topic, Sentiment: j.Sentiment, Urgency: j.Urgency, Text: j.Text}
		} else {
			f := strings.SplitN(string(raw), "\t", 5)
			if len(f) != 5 {
				return nil, fmt.Errorf("classifier: line %d: want 5 tab-separated fields, got %d: %w", line, len(f), koe.ErrInvalid)
			}
			ex = Example{Kind: f[0], Topic: f[1], Sentiment: f[2], Text: strings.TrimSpace(f[4])}
			if u := strings.TrimSpace(f[3]); u != "-" && u != "" {
				ex.Urgency = strings.Split(u, ",")
			}
		}
		if indexOf(Kinds, ex.Kind) < 0 || indexOf(Topics, ex.Topic) < 0 ||
			(ex.Sentiment != "" && indexOf(Sentiments, ex.Sentiment) < 0) {
			return nil, fmt.Errorf("classifier: line %d: unknown label: %w", line, koe.ErrInvalid)
		}
		for _, u := range ex.Urgency {
			if indexOf(Urgencies, u) < 0 {
				return nil, fmt.Errorf("classifier: line %d: unknown urgency %q: %w", line, u, koe.ErrInvalid)
			}
		}
		if strings.TrimSpace(ex.Text) == "" {
			return nil, fmt.Errorf("classifier: line %d: empty text: %w", line, koe.ErrInvalid)
		}
		out = append(out, ex)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("classifier: read examples: %w", err)
	}
	return out, nil
}

// ReadExamplesDir reads every *.tsv and *.jsonl file of dir, in name order,
// with ReadExamples.
func ReadExamplesDir(dir string) ([]Example, error) {
	var names []string
	for _, pat := range []string{"*.tsv", "*.jsonl"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, fmt.Errorf("classifier: read %s: %w", dir, err)
		}
		names = append(names, m...)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("classifier: read %s: no *.tsv or *.jsonl files", dir)
	}
	var all []Example
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("classifier: %w", err)
		}
		ex, err := ReadExamples(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(name), err)
		}
		all = append(all, ex...)
	}
	return all, nil
}
