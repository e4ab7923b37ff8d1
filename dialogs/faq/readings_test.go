package faq

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/koehq/koe"
)

// TestReadingsCurrent fails when kb/ja.readings or testdata/dev-kana.tsv
// no longer follow what they are generated from: every Japanese question
// variant must have its reading line, in order, and no other, and
// dev-kana.tsv must have dev.tsv's Japanese cases' ids in order. It
// compares variants and ids, not readings, so it needs no tokenizer;
// internal/readings' TestGeneratedFilesAreCurrent regenerates both files
// and compares them byte for byte.
func TestReadingsCurrent(t *testing.T) {
	const fix = "run go generate ./dialogs/faq"
	kb := mustDefault(t)
	for _, e := range kb.langs[koe.Japanese].entries {
		var got []string
		for _, r := range e.readings {
			got = append(got, r.variant)
		}
		if !slices.Equal(got, e.variants) {
			t.Errorf("kb/ja.readings is stale for %s (%s): readings of %q, variants %q", e.id, fix, got, e.variants)
		}
	}
	var want, got []string
	for _, c := range readDev(t) {
		if c.Lang == koe.Japanese {
			want = append(want, c.Want)
		}
	}
	for _, c := range readCases(t, "testdata/dev-kana.tsv") {
		got = append(got, c.Want)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("testdata/dev-kana.tsv does not follow the Japanese cases of dev.tsv (%s)", fix)
	}
}

func readingsFS(readings string) fstest.MapFS {
	fsys := fstest.MapFS{
		"kb/ja.faq":       {Data: []byte("id: accident\nq: 事故の連絡\na: x\n\nid: cancel\nq: 解約の方法\na: y\n")},
		"kb/vars.txt":     {Data: []byte("inquiry_phone: 0120-XXX-XXX\n")},
		"kb/synonyms.txt": {Data: []byte("解約 = やめたい\n")},
	}
	if readings != "" {
		fsys["kb/ja.readings"] = &fstest.MapFile{Data: []byte(readings)}
	}
	return fsys
}

func TestLoadReadings(t *testing.T) {
	rejects := []struct{ name, file, want string }{
		{"two fields", "# generated\naccident\t事故の連絡\n", "kb/ja.readings:2: want id<TAB>variant<TAB>reading"},
		{"empty reading", "accident\t事故の連絡\t \n", "kb/ja.readings:1: want id<TAB>variant<TAB>reading"},
		{"malformed id", "Accident\t事故の連絡\tじこのれんらく\n", "kb/ja.readings:1: want id<TAB>variant<TAB>reading"},
		{"unknown id", "accident\t事故の連絡\tじこのれんらく\n\nclaim\t請求\tせいきゅう\n", "kb/ja.readings:3: \"claim\" is not a Japanese entry"},
	}
	for _, tt := range rejects {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(readingsFS(tt.file))
			if err == nil || !errors.Is(err, koe.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load = %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
	t.Run("kana question", func(t *testing.T) {
		without, err := Load(readingsFS(""))
		if err != nil {
			t.Fatalf("Load without readings: %v", err)
		}
		if got := without.Search(koe.Japanese, "じこのれんらく", 3); len(got) != 0 {
			t.Errorf("without readings, Search(じこのれんらく) = %+v, want nothing", got)
		}
		with, err := Load(readingsFS("accident\t事故の連絡\tじこのれんらく\r\ncancel\t解約の方法\tかいやくのほうほう\r\n"))
		if err != nil {
			t.Fatalf("Load with readings: %v", err)
		}
		for q, want := range map[string]string{"じこのれんらく": "accident", "かいやくしたい": "cancel", "事故の連絡": "accident"} {
			if got := with.Search(koe.Japanese, q, 3); len(got) == 0 || got[0].ID != want {
				t.Errorf("with readings, Search(%s) = %+v, want %s first", q, got, want)
			}
		}
	})
}

// TestKanaQuestions searches the embedded knowledge base with questions
// typed without kana-to-kanji conversion (written before the readings
// were indexed, and not tuned on).
func TestKanaQuestions(t *testing.T) {
	kb := mustDefault(t)
	tests := []struct {
		q, want string
		within  int // the expected entry's rank is at most this
	}{
		{"じこのれんらくをしたい", "accident-report", 1},
		{"かいやくしたい", "cancel-how", 3},
		{"ねんれいじょうけん変えたい", "motor-age-condition", 3},
		{"じゅうしょへんこうのてつづき", "change-address", 1},
		{"あてにげされた", "accident-hit-and-run", 1},
	}
	for _, tt := range tests {
		ms := kb.Search(koe.Japanese, tt.q, 3)
		rank := 0
		for i, m := range ms {
			if m.ID == tt.want {
				rank = i + 1
				break
			}
		}
		if rank == 0 || rank > tt.within {
			var ids []string
			for _, m := range ms {
				ids = append(ids, fmt.Sprintf("%s %.2f", m.ID, m.Confidence))
			}
			t.Errorf("Search(%s) = %v, want %s within the first %d", tt.q, ids, tt.want, tt.within)
		}
	}
}
