package classifier

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Confusion is a confusion matrix over Labels: Counts[gold][predicted].
type Confusion struct {
	Labels []string
	Counts [][]int
}

// NewConfusion returns an empty matrix over labels.
func NewConfusion(labels []string) *Confusion {
	c := &Confusion{Labels: labels, Counts: make([][]int, len(labels))}
	for i := range c.Counts {
		c.Counts[i] = make([]int, len(labels))
	}
	return c
}

// Add counts one decision; unknown labels are ignored.
func (c *Confusion) Add(gold, pred string) {
	g, p := indexOf(c.Labels, gold), indexOf(c.Labels, pred)
	if g >= 0 && p >= 0 {
		c.Counts[g][p]++
	}
}

// ClassScores are one label's precision, recall and F1 and its number of
// gold examples.
type ClassScores struct {
	Label                 string
	Precision, Recall, F1 float64
	Support               int
}

// Scores returns per-label scores in the order of Labels.
func (c *Confusion) Scores() []ClassScores {
	out := make([]ClassScores, len(c.Labels))
	for i, l := range c.Labels {
		tp, gold, pred := c.Counts[i][i], 0, 0
		for j := range c.Labels {
			gold += c.Counts[i][j]
			pred += c.Counts[j][i]
		}
		s := ClassScores{Label: l, Support: gold}
		if pred > 0 {
			s.Precision = float64(tp) / float64(pred)
		}
		if gold > 0 {
			s.Recall = float64(tp) / float64(gold)
		}
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		out[i] = s
	}
	return out
}

// MacroF1 is the mean F1 over labels that occur in the gold data.
func (c *Confusion) MacroF1() float64 {
	sum, n := 0.0, 0
	for _, s := range c.Scores() {
		if s.Support > 0 {
			sum += s.F1
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// Accuracy is the share of decisions on the diagonal.
func (c *Confusion) Accuracy() float64 {
	tp, all := 0, 0
	for i := range c.Counts {
		for j, v := range c.Counts[i] {
			all += v
			if i == j {
				tp += v
			}
		}
	}
	if all == 0 {
		return 0
	}
	return float64(tp) / float64(all)
}

// Score returns one label's scores.
func (c *Confusion) Score(label string) ClassScores {
	for _, s := range c.Scores() {
		if s.Label == label {
			return s
		}
	}
	return ClassScores{Label: label}
}

// Evaluation is the result of classifying labelled examples.
type Evaluation struct {
	N                      int
	Kind, Topic, Sentiment *Confusion
	// Urgency counts the "urgent or not" decision.
	UrgentTP, UrgentFP, UrgentFN int
	// calib holds, per confidence decile of the kind, the number of
	// decisions, the sum of confidences and the number correct.
	calib [10][3]float64
	// Misses lists the examples whose kind or topic was wrong.
	Misses []Miss
}

// Miss is one wrongly classified example.
type Miss struct {
	Example Example
	Got     Result
}

// Evaluate classifies every example with c and tallies the results. It
// stops with the context's error when ctx is done and with c's error for
// any example c cannot classify.
func Evaluate(ctx context.Context, c Classifier, examples []Example) (*Evaluation, error) {
	ev := &Evaluation{Kind: NewConfusion(Kinds), Topic: NewConfusion(Topics), Sentiment: NewConfusion(Sentiments)}
	for i, ex := range examples {
		r, err := c.Classify(ctx, ex.Text)
		if err != nil {
			return nil, fmt.Errorf("classifier: evaluate example %d: %w", i+1, err)
		}
		ev.N++
		ev.Kind.Add(ex.Kind, r.Kind)
		ev.Topic.Add(ex.Topic, r.Topic)
		if ex.Sentiment != "" {
			ev.Sentiment.Add(ex.Sentiment, r.Sentiment)
		}
		gold := len(ex.Urgency) > 0
		switch {
		case gold && r.Urgent:
			ev.UrgentTP++
		case !gold && r.Urgent:
			ev.UrgentFP++
		case gold && !r.Urgent:
			ev.UrgentFN++
		}
		ev.addCalibration(r.KindConfidence, r.Kind == ex.Kind)
		if r.Kind != ex.Kind || r.Topic != ex.Topic {
			ev.Misses = append(ev.Misses, Miss{Example: ex, Got: r})
		}
	}
	return ev, nil
}

func (ev *Evaluation) addCalibration(conf float64, correct bool) {
	b := min(int(conf*10), 9)
	ev.calib[b][0]++
	ev.calib[b][1] += conf
	if correct {
		ev.calib[b][2]++
	}
}

// KindECE is the expected calibration error of the kind confidence: the
// mean gap between confidence and accuracy over ten confidence bins,
// weighted by the decisions in each.
func (ev *Evaluation) KindECE() float64 {
	sum, n := 0.0, 0.0
	for _, c := range ev.calib {
		if c[0] > 0 {
			sum += math.Abs(c[1]/c[0]-c[2]/c[0]) * c[0]
			n += c[0]
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

// WriteReport prints per-class precision, recall and F1 and the confusion
// matrices for kind and topic (and sentiment), plus urgency detection.
func (ev *Evaluation) WriteReport(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "examples: %d\n", ev.N)
	for _, part := range []struct {
		name string
		c    *Confusion
	}{{"kind", ev.Kind}, {"topic", ev.Topic}, {"sentiment", ev.Sentiment}} {
		fmt.Fprintf(&b, "\n== %s: accuracy %.3f, macro-F1 %.3f\n", part.name, part.c.Accuracy(), part.c.MacroF1())
		fmt.Fprintf(&b, "%-15s %9s %9s %9s %8s\n", "label", "precision", "recall", "f1", "support")
		for _, s := range part.c.Scores() {
			fmt.Fprintf(&b, "%-15s %9.3f %9.3f %9.3f %8d\n", s.Label, s.Precision, s.Recall, s.F1, s.Support)
		}
		width := 8
		for _, l := range part.c.Labels {
			width = max(width, len(abbrev(l))+1)
		}
		fmt.Fprintf(&b, "confusion (rows gold, columns predicted):\n%-15s", "")
		for _, l := range part.c.Labels {
			fmt.Fprintf(&b, "%*s", width, abbrev(l))
		}
		b.WriteByte('\n')
		for i, l := range part.c.Labels {
			fmt.Fprintf(&b, "%-15s", l)
			for _, v := range part.c.Counts[i] {
				fmt.Fprintf(&b, "%*d", width, v)
			}
			b.WriteByte('\n')
		}
	}
	p, r := ratio(ev.UrgentTP, ev.UrgentTP+ev.UrgentFP), ratio(ev.UrgentTP, ev.UrgentTP+ev.UrgentFN)
	fmt.Fprintf(&b, "\n== kind confidence: expected calibration error %.3f\n", ev.KindECE())
	fmt.Fprintf(&b, "\n== urgent: precision %.3f, recall %.3f (tp %d, fp %d, fn %d)\n", p, r, ev.UrgentTP, ev.UrgentFP, ev.UrgentFN)
	_, err := io.WriteString(w, b.String())
	return err
}

func abbrev(l string) string {
	if len(l) > 12 {
		return l[:12]
	}
	return l
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// sortedLabels returns the labels of list sorted, for tests.
func sortedLabels(list []string) []string { s := slices.Clone(list); slices.Sort(s); return s }
