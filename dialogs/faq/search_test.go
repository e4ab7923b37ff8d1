package faq

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/koehq/koe"
)

func TestLoadRejects(t *testing.T) {
	base := fstest.MapFS{
		"kb/vars.txt":     {Data: []byte("inquiry_phone: 0120-XXX-XXX\n")},
		"kb/synonyms.txt": {Data: []byte("解約 = やめたい\n")},
	}
	tests := []struct{ name, file, want string }{
		{"duplicate id", "id: a\nq: x\na: y\n\nid: a\nq: x\na: y\n", "kb/ja.faq:5: duplicate id"},
		{"missing answer", "id: a\nq: x\n", "kb/ja.faq:1: entry \"a\" has no answer"},
		{"no variants", "id: a\na: y\n", "kb/ja.faq:1: entry \"a\" has no question variants"},
		{"empty variant", "id: a\nq:\na: y\n", "kb/ja.faq:2: empty question variant"},
		{"unknown key", "id: a\nq: x\nanswer: y\n", "kb/ja.faq:3: unknown key \"answer\""},
		{"answer too long", "id: a\nq: x\na: " + strings.Repeat("あ", MaxAnswerRunes+1) + "\n", "kb/ja.faq:1: answer of \"a\" has 501 characters"},
		{"unknown follow-up", "id: a\nq: x\na: y\nfollow: b\n", "kb/ja.faq:1: follow-up \"b\""},
		{"unknown placeholder", "id: a\nq: x\na: {nope}\n", "unknown placeholder {nope}"},
	}
	t.Run("prefix canonical", func(t *testing.T) {
		fsys := fstest.MapFS{"kb/ja.faq": {Data: []byte("id: a\nq: x\na: y\n")}, "kb/vars.txt": base["kb/vars.txt"],
			"kb/synonyms.txt": {Data: []byte("# c\n\ntheft* = burgl*\n")}}
		if _, err := Load(fsys); err == nil || !errors.Is(err, koe.ErrInvalid) || !strings.Contains(err.Error(), "kb/synonyms.txt:3: the canonical") {
			t.Errorf("Load = %v, want kb/synonyms.txt:3 rejected", err)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"kb/ja.faq": {Data: []byte(tt.file)}}
			for k, v := range base {
				fsys[k] = v
			}
			_, err := Load(fsys)
			if err == nil || !errors.Is(err, koe.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load = %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}

func TestExpandMatchesLatinPhrasesAsWords(t *testing.T) {
	kb := &KB{synonyms: newSynonymIndex([][]string{{"password", "pw"}, {"theft", "burgl*"}, {"住所変更", "引っ越"}})}
	tests := []struct{ text, want string }{
		{"forgot my pw", "forgot my pw password"},
		{"pw?", "pw? password"},
		{"prices went upward", "prices went upward"},
		{"pwd reset", "pwd reset"},
		{"a burglary last night", "a burglary last night theft"},
		{"reburgle", "reburgle"},
		{"来月引っ越します", "来月引っ越します 住所変更"},
		{"the theft of my burglar alarm", "the theft of my burglar alarm"}, // canonical already there
	}
	for _, tt := range tests {
		if got := kb.synonyms.expand(tt.text); got != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestDefault(t *testing.T) {
	kb := mustDefault(t)
	if kb.Len() < 60 {
		t.Errorf("Len = %d, want ≥ 60", kb.Len())
	}
	ja, en := kb.IDs(koe.Japanese), kb.IDs(koe.English)
	if fmt.Sprint(ja) != fmt.Sprint(en) {
		t.Errorf("ja and en entries differ")
	}
	m, ok := kb.Entry(koe.Japanese, "contact-phone")
	if !ok || !strings.Contains(m.Answer, "0120-XXX-XXX") || strings.Contains(m.Answer, "{") {
		t.Errorf("Entry(contact-phone) = %+v, %v; want placeholders filled", m, ok)
	}
	m2, _ := kb.With(map[string]string{"inquiry_phone": "0120-111-222"}).Entry(koe.Japanese, "contact-phone")
	if !strings.Contains(m2.Answer, "0120-111-222") {
		t.Errorf("With did not fill inquiry_phone: %q", m2.Answer)
	}
	if got := kb.Search(koe.Japanese, "車を買い替えた", 3); len(got) == 0 || got[0].ID != "motor-vehicle-change" {
		t.Errorf("Search(車を買い替えた) = %+v, want motor-vehicle-change first", got)
	}
	if got := kb.Search(koe.English, "how to cancel my policy", 1); len(got) != 1 || got[0].ID != "cancel-how" || !strings.Contains(got[0].Answer, "cancel") {
		t.Errorf("Search(en cancel) = %+v", got)
	}
}

func checkResults(t *testing.T, ms []Match, k int) {
	t.Helper()
	if len(ms) > k {
		t.Fatalf("%d results for k=%d", len(ms), k)
	}
	if !sort.SliceIsSorted(ms, func(i, j int) bool { return ms[i].Score > ms[j].Score }) {
		t.Errorf("results not sorted by score")
	}
	for _, m := range ms {
		if math.IsNaN(m.Confidence) || m.Confidence < 0 || m.Confidence > 1 {
			t.Errorf("confidence %v out of range", m.Confidence)
		}
	}
}

func FuzzSearch(f *testing.F) {
	for _, s := range []string{"", "事故", "ｼﾞｺ", "how to cancel", "\xff\xfe", strings.Repeat("あ", 5000), "車両入替 解約 0120"} {
		f.Add(s, 3)
	}
	kb, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string, k int) {
		k = k%20 - 2
		for _, lang := range []koe.Lang{koe.Japanese, koe.English, "xx"} {
			checkResults(t, kb.Search(lang, q, k), max(k, 0))
		}
	})
}

func BenchmarkSearch(b *testing.B) {
	kb := mustDefault(b)
	qs := []string{"車を買い替えたので保険を移したい", "保険金はいつ振り込まれますか", "マイページにログインできない", "I want to cancel my policy"}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		kb.Search(koe.Japanese, qs[i%len(qs)], 3)
	}
}

// BenchmarkSearch5000 templates 5,000 entries from the real ones (each
// variant gets a numbered product/region suffix) to show how cost grows.
func BenchmarkSearch5000(b *testing.B) {
	var sb strings.Builder
	base := mustDefault(b)
	ix := base.langs[koe.Japanese]
	for n := 0; n < 5000; n++ {
		e := ix.entries[n%len(ix.entries)]
		fmt.Fprintf(&sb, "id: e%d\n", n)
		for _, v := range e.variants {
			fmt.Fprintf(&sb, "q: %s（プラン%s・地域%s）\n", v, string(rune('亜'+n%997)), string(rune('一'+n/997)))
		}
		fmt.Fprintf(&sb, "a: %s\n\n", strings.ReplaceAll(e.answer, "\n", "\na: "))
	}
	fsys := fstest.MapFS{"kb/ja.faq": {Data: []byte(sb.String())}, "kb/vars.txt": {Data: []byte("inquiry_phone: 0\naccident_phone: 0\nroadside_phone: 0\nsite: x\n")}, "kb/synonyms.txt": {Data: []byte("解約 = やめたい\n")}}
	kb, err := Load(fsys)
	if err != nil {
		b.Fatal(err)
	}
	qs := []string{"車を買い替えたので保険を移したい", "保険金はいつ振り込まれますか", "マイページにログインできない"}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		kb.Search(koe.Japanese, qs[i%len(qs)], 3)
	}
}

// BenchmarkLoad is the knowledge base's start-up cost: parsing the embedded
// files and building the indexes.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(embedded); err != nil {
			b.Fatal(err)
		}
	}
}
