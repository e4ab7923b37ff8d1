package classifier

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/koehq/koe"
)

// TestModelUpToDate retrains from data/ and fails when the committed
// model.bin differs: run `go generate ./classifier` after editing the data
// or the trainer.
func TestModelUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("retraining is slow; skipped in -short mode")
	}
	examples, err := ReadExamplesDir("data")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Train(examples, DefaultTrainConfig())
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, embeddedModel) {
		t.Fatalf("model.bin is stale (retrained %s, %d bytes; committed %d bytes): run go generate ./classifier",
			m.Name(), len(got), len(embeddedModel))
	}
}

// TestHeldOutTargets checks the targets of the issue on the held-out set in
// testdata/, which the trainer never reads.
func TestHeldOutTargets(t *testing.T) {
	m := mustLoad(t)
	f, err := os.Open("testdata/dev.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dev, err := ReadExamples(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(dev) < 300 {
		t.Errorf("held-out set has %d examples, want at least 300", len(dev))
	}
	ev, err := Evaluate(context.Background(), m, dev)
	if err != nil {
		t.Fatal(err)
	}
	var report strings.Builder
	if err := ev.WriteReport(&report); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + report.String())
	complaint := ev.Kind.Score(KindComplaint)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"kind macro-F1", ev.Kind.MacroF1(), 0.85},
		{"complaint recall", complaint.Recall, 0.95},
		{"complaint precision", complaint.Precision, 0.80},
		{"topic macro-F1", ev.Topic.MacroF1(), 0.80},
	} {
		if c.got < c.want {
			t.Errorf("%s = %.3f, want ≥ %.2f", c.name, c.got, c.want)
		}
	}
}

// TestTrainingDataShape keeps the data honest: enough examples, every
// label present, and no held-out text in the training data.
func TestTrainingDataShape(t *testing.T) {
	train, err := ReadExamplesDir("data")
	if err != nil {
		t.Fatal(err)
	}
	if len(train) < 2000 {
		t.Errorf("training examples = %d, want ≥ 2000", len(train))
	}
	count := map[string]int{}
	seen := map[string]bool{}
	for _, ex := range train {
		count[ex.Kind]++
		count[ex.Topic]++
		seen[Normalize(ex.Text)] = true
	}
	for _, l := range append(append([]string{}, Kinds...), Topics...) {
		if count[l] < 50 {
			t.Errorf("label %s has %d training examples, want ≥ 50", l, count[l])
		}
	}
	f, err := os.Open("testdata/dev.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dev, err := ReadExamples(f)
	if err != nil {
		t.Fatal(err)
	}
	for i, ex := range dev {
		if seen[Normalize(ex.Text)] {
			t.Errorf("held-out example %d also appears in the training data", i+1)
		}
	}
}

func TestClassify(t *testing.T) {
	m := mustLoad(t)
	tests := []struct {
		name, text             string
		kind, topic, sentiment string
		urgency                []string
	}{
		{"late claim payment", "保険金の振込がまだです。もう一か月待っています。遅すぎます。", KindComplaint, TopicClaims, SentimentNegative, nil},
		{"polite complaint", "大変恐縮ですが、先日のご説明には少々不満がございます。", KindComplaint, "", SentimentNegative, nil},
		{"thanks", "迅速に対応していただき、本当にありがとうございました。", KindPraise, "", SentimentPositive, nil},
		{"address change question", "引っ越したのですが、住所変更はどうすればいいですか？", KindInquiry, TopicPolicyAdmin, SentimentNeutral, nil},
		{"half-width katakana", "ｱﾘｶﾞﾄｳｺﾞｻﾞｲﾏｼﾀ", KindPraise, "", SentimentPositive, nil},
		{"english complaint", "I have been waiting two months for my claim. This is unacceptable.", KindComplaint, TopicClaims, SentimentNegative, nil},
		{"data deletion request", "私の個人情報を削除してください。", KindRequest, TopicPrivacy, "", nil},
		{"injury and lawyer", "事故で骨折したのに治療費を払ってもらえない。弁護士に相談します。", KindComplaint, TopicClaims, SentimentNegative, []string{UrgencyInjury, UrgencyLegal}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := m.Classify(context.Background(), tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tt.kind {
				t.Errorf("kind = %s (%.2f), want %s", r.Kind, r.KindConfidence, tt.kind)
			}
			if tt.topic != "" && r.Topic != tt.topic {
				t.Errorf("topic = %s (%.2f), want %s", r.Topic, r.TopicConfidence, tt.topic)
			}
			if tt.sentiment != "" && r.Sentiment != tt.sentiment {
				t.Errorf("sentiment = %s, want %s", r.Sentiment, tt.sentiment)
			}
			if strings.Join(r.Urgency, ",") != strings.Join(tt.urgency, ",") || r.Urgent != (len(tt.urgency) > 0) {
				t.Errorf("urgency = %v (urgent %v), want %v", r.Urgency, r.Urgent, tt.urgency)
			}
			for name, c := range map[string]float64{"confidence": r.Confidence, "kind": r.KindConfidence, "topic": r.TopicConfidence, "sentiment": r.SentimentConfidence} {
				if c <= 0 || c > 1 {
					t.Errorf("%s confidence = %v, want in (0, 1]", name, c)
				}
			}
			if r.Confidence > r.KindConfidence || r.Confidence > r.TopicConfidence || r.Confidence > r.SentimentConfidence {
				t.Errorf("confidence %v is not the lowest of %v", r.Confidence, r)
			}
			if !strings.HasPrefix(r.Model, "embedded/") {
				t.Errorf("model = %q, want embedded/…", r.Model)
			}
		})
	}
}

func TestClassifyErrors(t *testing.T) {
	m := mustLoad(t)
	for _, text := range []string{"", "   ", "\u200b\ufeff", "\t\n"} {
		if _, err := m.Classify(context.Background(), text); !errors.Is(err, ErrEmptyText) || !errors.Is(err, koe.ErrInvalid) {
			t.Errorf("Classify(%q) error = %v, want ErrEmptyText wrapping koe.ErrInvalid", text, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Classify(ctx, "ありがとう"); !errors.Is(err, context.Canceled) {
		t.Errorf("Classify(cancelled) error = %v, want context.Canceled", err)
	}
}

func TestParseModelRejectsCorruptFiles(t *testing.T) {
	good := EmbeddedModelBytes()
	tests := map[string][]byte{
		"empty":       nil,
		"bad magic":   append([]byte("XXXX"), good[4:]...),
		"truncated":   good[:len(good)-1],
		"extra byte":  append(append([]byte{}, good...), 0),
		"header only": good[:headerSize],
		"bad n-grams": func() []byte { b := append([]byte{}, good...); b[7] = 0; return b }(),
		"future":      func() []byte { b := append([]byte{}, good...); b[4] = 9; return b }(),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseModel(b); !errors.Is(err, ErrBadModel) {
				t.Errorf("ParseModel error = %v, want ErrBadModel", err)
			}
		})
	}
	m, err := ParseModel(good)
	if err != nil {
		t.Fatal(err)
	}
	again, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, good) {
		t.Error("MarshalBinary(ParseModel(b)) != b")
	}
}

func TestComplaintThresholdFavoursRecall(t *testing.T) {
	m := mustLoad(t)
	if th := m.ComplaintThreshold(); th <= 0 || th > 0.5 {
		t.Errorf("complaint threshold = %v, want in (0, 0.5]", th)
	}
}

func mustLoad(t testing.TB) *Model {
	t.Helper()
	m, err := LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	return m
}
