package classifier

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzClassify: any input — invalid UTF-8, huge, empty — gives a valid
// result or ErrEmptyText, never a panic; Redact and FindUrgency never panic
// and Redact returns valid UTF-8.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{
		"", " ", "保険金がまだです", "ｱﾘｶﾞﾄｳ", "\xff\xfe\x00", "😡😡😡", "090-1234-5678", "I'll sue you",
		strings.Repeat("遅い！", 5000), "\u200b", "a\x00b", "〒100-0005 東京都千代田区1-1", "名前は山田太郎と申します",
	} {
		f.Add(s)
	}
	m, err := LoadEmbedded()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		r, err := m.Classify(context.Background(), text)
		switch {
		case errors.Is(err, ErrEmptyText):
			if Normalize(text) != "" {
				t.Errorf("ErrEmptyText for a text that normalises to %q", Normalize(text))
			}
		case err != nil:
			t.Fatalf("Classify error = %v", err)
		case !r.Valid():
			t.Fatalf("invalid result %+v", r)
		case r.Confidence < 0 || r.Confidence > 1:
			t.Fatalf("confidence %v out of range", r.Confidence)
		}
		if red := Redact(text); !utf8.ValidString(red) {
			t.Errorf("Redact returned invalid UTF-8")
		}
		FindUrgency(text)
	})
}
