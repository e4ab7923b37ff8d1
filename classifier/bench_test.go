package classifier

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

// text100 is a 100-character customer text, the size the speed target is
// stated for.
var text100 = func() string {
	s := "先月の追突事故の件ですが、保険金の支払いがまだです。担当の方からの連絡もなく、修理工場からは催促されて困っています。いつ頃になるのか教えていただけますか。ご対応よろしくお願いします。"
	for utf8.RuneCountInString(s) < 100 {
		s += "。"
	}
	r := []rune(s)
	return string(r[:100])
}()

func BenchmarkClassify(b *testing.B) {
	m := mustLoad(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Classify(ctx, text100); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClassifyEnglish(b *testing.B) {
	m := mustLoad(b)
	ctx := context.Background()
	text := strings.Repeat("My claim is still not paid after six weeks. ", 3)[:100]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Classify(ctx, text); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadEmbedded(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadEmbedded(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRedact(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Redact(text100)
	}
}

func BenchmarkNormalize(b *testing.B) {
	for b.Loop() {
		Normalize(text100)
	}
}

func BenchmarkFindUrgency(b *testing.B) {
	n := Normalize(text100)
	for b.Loop() {
		findUrgencyNormalized(n)
	}
}

func BenchmarkScore(b *testing.B) {
	m := mustLoad(b)
	n := Normalize(text100)
	var logits [nOut]float64
	for b.Loop() {
		m.score(n, &logits)
	}
}
