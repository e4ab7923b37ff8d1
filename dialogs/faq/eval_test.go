package faq

import (
	"os"
	"strings"
	"testing"
)

// TestEvalSet runs the held-out evaluation sets (see EvalSets). Issue 6's
// bar is top-1 ≥ 0.85 and top-3 ≥ 0.95 with out-of-FAQ questions below
// Threshold. Tune only on testdata/dev.tsv: changing the knowledge base or
// the ranker to fit these sets would make their figures meaningless.
func TestEvalSet(t *testing.T) {
	kb := mustDefault(t)
	sets, err := EvalSets()
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 2 {
		t.Fatalf("%d evaluation sets, want 2", len(sets))
	}
	for _, s := range sets {
		r := Evaluate(kb, s.Cases)
		var out strings.Builder
		r.Write(&out, true)
		t.Logf("%s:\n%s", s.Name, out.String())
		if r.InFAQ < 150 || r.OutFAQ < 40 {
			t.Errorf("%s has %d in-FAQ and %d out-of-FAQ questions, want ≥ 150 and ≥ 40", s.Name, r.InFAQ, r.OutFAQ)
		}
		if len(r.UnknownIDs) > 0 {
			t.Errorf("%s expects unknown ids %v", s.Name, r.UnknownIDs)
		}
		f := floors[s.Name]
		if got := r.Top1Rate(); got < f.top1 {
			t.Errorf("%s: top-1 = %.3f, want ≥ %.3f", s.Name, got, f.top1)
		}
		if got := r.Top3Rate(); got < f.top3 {
			t.Errorf("%s: top-3 = %.3f, want ≥ %.3f", s.Name, got, f.top3)
		}
		if got := r.OutBelowRate(); got < f.out {
			t.Errorf("%s: out-of-FAQ below threshold = %.3f, want ≥ %.3f", s.Name, got, f.out)
		}
	}
}

// floors are the figures TestEvalSet guards per set: the top-1 and
// top-3 bars, and the out-of-FAQ rejection just under what was measured
// (2026-11-22, the first run of eval2.tsv: eval.tsv top-1 0.929, top-3
// 1.000, outside below Threshold 0.905; eval2.tsv 0.866, 0.953, 0.839).
var floors = map[string]struct{ top1, top3, out float64 }{
	"eval.tsv":  {0.85, 0.95, 0.90},
	"eval2.tsv": {0.85, 0.95, 0.83},
}

func mustDefault(t testing.TB) *KB {
	t.Helper()
	kb, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return kb
}

func readDev(t testing.TB) []Case {
	t.Helper()
	f, err := os.Open("testdata/dev.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := ReadCases(f)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}
