package faq

import (
	"bufio"
	"embed"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/koehq/koe"
)

//go:embed testdata/eval.tsv testdata/eval2.tsv testdata/eval-kana.tsv
var evalFS embed.FS

// EvalSet is one embedded held-out evaluation set: questions written apart
// from the knowledge base's variants and never used to choose the ranker's
// parameters (those are chosen on testdata/dev.tsv).
type EvalSet struct {
	Name  string // file name under testdata/
	Cases []Case
}

// EvalSets returns the embedded evaluation sets: eval.tsv (set 1),
// eval2.tsv (set 2, written by someone who saw only the entries' answers)
// and eval-kana.tsv (questions typed in kana, written the same way).
func EvalSets() ([]EvalSet, error) {
	var out []EvalSet
	for _, file := range []string{"testdata/eval.tsv", "testdata/eval2.tsv", "testdata/eval-kana.tsv"} {
		name := path.Base(file)
		f, err := evalFS.Open(file)
		if err != nil {
			return nil, fmt.Errorf("faq: %w", err)
		}
		cases, err := ReadCases(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("faq: %s: %w", name, err)
		}
		out = append(out, EvalSet{Name: name, Cases: cases})
	}
	return out, nil
}

// Case is one evaluation question. Want is the expected entry id, or ""
// for a question outside the FAQ (which must fall below Threshold).
type Case struct {
	Lang     koe.Lang
	Question string
	Want     string
	Line     int
}

// ReadCases reads an evaluation file: one case per line, tab separated
// "lang<TAB>expected-id<TAB>question", "-" as the id of an out-of-FAQ
// question; blank lines and lines starting with "#" are skipped. A
// malformed line is an error wrapping koe.ErrInvalid with its line number.
func ReadCases(r io.Reader) ([]Case, error) {
	var out []Case
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("faq: eval line %d: want lang<TAB>id<TAB>question: %w", n, koe.ErrInvalid)
		}
		lang, ok := koe.ParseLang(f[0])
		if !ok {
			return nil, fmt.Errorf("faq: eval line %d: unknown language: %w", n, koe.ErrInvalid)
		}
		c := Case{Lang: lang, Want: strings.TrimSpace(f[1]), Question: f[2], Line: n}
		if c.Want == "-" {
			c.Want = ""
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("faq: eval: %w", err)
	}
	return out, nil
}

// Miss is an in-FAQ case whose expected entry was not first, or an
// out-of-FAQ case whose best match reached Threshold.
type Miss struct {
	Case
	Got        string // best entry id ("" when nothing matched)
	Rank       int    // rank of the expected entry in the top 3, 0 when absent
	Confidence float64
}

// Report sums up an evaluation.
type Report struct {
	InFAQ, Top1, Top3 int
	// InBelow counts in-FAQ cases whose best match is below Threshold
	// (the dialog would offer choices instead of answering).
	InBelow int
	// OutFAQ counts out-of-FAQ cases; OutBelow those correctly below
	// Threshold.
	OutFAQ, OutBelow int
	Misses           []Miss
	UnknownIDs       []string // expected ids the KB does not have
}

// Evaluate searches every case and compares with the expectation.
func Evaluate(kb *KB, cases []Case) Report {
	var r Report
	for _, c := range cases {
		ms := kb.Search(c.Lang, c.Question, 3)
		var got string
		var conf float64
		if len(ms) > 0 {
			got, conf = ms[0].ID, ms[0].Confidence
		}
		if c.Want == "" {
			r.OutFAQ++
			if conf < Threshold {
				r.OutBelow++
			} else {
				r.Misses = append(r.Misses, Miss{Case: c, Got: got, Confidence: conf})
			}
			continue
		}
		if _, ok := kb.Entry(c.Lang, c.Want); !ok {
			r.UnknownIDs = append(r.UnknownIDs, c.Want)
		}
		r.InFAQ++
		if conf < Threshold {
			r.InBelow++
		}
		rank := 0
		for i, m := range ms {
			if m.ID == c.Want {
				rank = i + 1
				break
			}
		}
		if rank == 1 {
			r.Top1++
		}
		if rank >= 1 {
			r.Top3++
		}
		if rank != 1 {
			r.Misses = append(r.Misses, Miss{Case: c, Got: got, Rank: rank, Confidence: conf})
		}
	}
	return r
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Add returns the sum of two reports (for the figures over several sets).
func (r Report) Add(o Report) Report {
	r.InFAQ += o.InFAQ
	r.Top1 += o.Top1
	r.Top3 += o.Top3
	r.InBelow += o.InBelow
	r.OutFAQ += o.OutFAQ
	r.OutBelow += o.OutBelow
	r.Misses = append(append([]Miss(nil), r.Misses...), o.Misses...)
	r.UnknownIDs = append(append([]string(nil), r.UnknownIDs...), o.UnknownIDs...)
	return r
}

// Top1Rate, Top3Rate and OutBelowRate are the headline figures.
func (r Report) Top1Rate() float64     { return ratio(r.Top1, r.InFAQ) }
func (r Report) Top3Rate() float64     { return ratio(r.Top3, r.InFAQ) }
func (r Report) OutBelowRate() float64 { return ratio(r.OutBelow, r.OutFAQ) }

// Write prints the report's figures and, when misses is set, each miss.
// Questions are printed: evaluation sets are written by staff, not
// customers.
func (r Report) Write(w io.Writer, misses bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "in-FAQ questions:      %d\n", r.InFAQ)
	fmt.Fprintf(&b, "top-1:                 %.3f (%d/%d)\n", r.Top1Rate(), r.Top1, r.InFAQ)
	fmt.Fprintf(&b, "top-3:                 %.3f (%d/%d)\n", r.Top3Rate(), r.Top3, r.InFAQ)
	fmt.Fprintf(&b, "in-FAQ below %.2f:     %.3f (%d/%d)\n", Threshold, ratio(r.InBelow, r.InFAQ), r.InBelow, r.InFAQ)
	fmt.Fprintf(&b, "out-of-FAQ questions:  %d\n", r.OutFAQ)
	fmt.Fprintf(&b, "out-of-FAQ below %.2f: %.3f (%d/%d)\n", Threshold, r.OutBelowRate(), r.OutBelow, r.OutFAQ)
	for _, id := range r.UnknownIDs {
		fmt.Fprintf(&b, "unknown expected id: %s\n", id)
	}
	if misses && len(r.Misses) > 0 {
		b.WriteString("misses:\n")
	}
	for _, m := range r.Misses {
		if !misses {
			break
		}
		want := m.Want
		if want == "" {
			want = "(out of FAQ)"
		}
		fmt.Fprintf(&b, "  line %d [%s] %q: want %s, got %s (conf %.2f, rank %d)\n", m.Line, m.Lang, m.Question, want, m.Got, m.Confidence, m.Rank)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
