package inquiry_test

import (
	"testing"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs/faq"
)

// TestRealKnowledgeBase checks the questions the transcripts use against
// the shipped knowledge base: the interrupting accident-dialog question is
// answered with confidence, an unrelated text is not.
func TestRealKnowledgeBase(t *testing.T) {
	kb, err := faq.Default()
	if err != nil {
		t.Fatalf("faq.Default: %v", err)
	}
	tests := []struct {
		lang      koe.Lang
		q         string
		confident bool
	}{
		{koe.Japanese, "保険金はいつ振り込まれますか？", true},
		{koe.English, "When will my claim be paid?", true},
		{koe.Japanese, "今日の天気はどうですか？", false},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			ms := kb.Search(tt.lang, tt.q, 3)
			got := len(ms) > 0 && ms[0].Confidence >= faq.Threshold
			if got != tt.confident {
				t.Errorf("confident = %v (%+v); want %v", got, ms, tt.confident)
			}
			if got {
				if _, ok := kb.Entry(tt.lang, ms[0].ID); !ok {
					t.Errorf("Entry(%s) not found", ms[0].ID)
				}
			}
		})
	}
}
