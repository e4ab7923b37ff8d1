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
	if len(sets) != len(floors) {
		t.Fatalf("%d evaluation sets, want %d", len(sets), len(floors))
	}
	for _, s := range sets {
		r := Evaluate(kb, s.Cases)
		var out strings.Builder
		r.Write(&out, true)
		t.Logf("%s:\n%s", s.Name, out.String())
		f, ok := floors[s.Name]
		if !ok {
			t.Fatalf("no floors for %s", s.Name)
		}
		if r.InFAQ < 150 || r.OutFAQ < f.minOut {
			t.Errorf("%s has %d in-FAQ and %d out-of-FAQ questions, want ≥ 150 and ≥ %d", s.Name, r.InFAQ, r.OutFAQ, f.minOut)
		}
		if len(r.UnknownIDs) > 0 {
			t.Errorf("%s expects unknown ids %v", s.Name, r.UnknownIDs)
		}
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
// top-3 bars, and the out-of-FAQ rejection just under what was measured.
// First runs (2026-11-22), each after the ranker was settled on dev.tsv:
// eval.tsv top-1 0.929, top-3 1.000, outside below Threshold 0.905;
// eval2.tsv 0.866, 0.953, 0.839; eval-kana.tsv 0.933, 0.985, 0.923 (before
// the kana readings: 0.562, 0.696). Since the readings, eval.tsv 0.944,
// 1.000, 0.929 and eval2.tsv 0.894, 0.978, 0.839 — eval2's misses had been
// read by then, so those are no longer held-out figures.
var floors = map[string]struct {
	top1, top3, out float64
	minOut          int
}{
	"eval.tsv":      {0.85, 0.95, 0.90, 40},
	"eval2.tsv":     {0.85, 0.95, 0.83, 40},
	"eval-kana.tsv": {0.85, 0.95, 0.90, 20},
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
	return readCases(t, "testdata/dev.tsv")
}

func readCases(t testing.TB, name string) []Case {
	t.Helper()
	f, err := os.Open(name)
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
