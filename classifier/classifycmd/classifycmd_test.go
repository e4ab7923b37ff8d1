package classifycmd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func noEnv(string) string { return "" }

func run(t *testing.T, args []string, stdin string, getenv func(string) string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), args, strings.NewReader(stdin), &out, &errOut, getenv)
	return out.String(), errOut.String(), err
}

func TestClassifyLines(t *testing.T) {
	out, _, err := run(t, nil, "保険金がまだ振り込まれません。遅すぎます\n\nありがとうございました！\n", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d output lines, want 3 (one per input line):\n%s", len(lines), out)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"kind", "topic", "sentiment", "confidence", "urgent", "urgency", "kind_confidence", "topic_confidence", "sentiment_confidence", "model"} {
		if _, ok := first[k]; !ok {
			t.Errorf("output lacks %q: %s", k, lines[0])
		}
	}
	if first["kind"] != "complaint" || first["topic"] != "claims" {
		t.Errorf("first line = %s, want a claims complaint", lines[0])
	}
	if !strings.Contains(lines[1], `"error":"empty text"`) {
		t.Errorf("empty line gave %s, want an error object", lines[1])
	}
	if !strings.Contains(lines[2], `"kind":"praise"`) {
		t.Errorf("third line = %s, want praise", lines[2])
	}
}

func TestClassifyJSONL(t *testing.T) {
	in := `{"id":"a1","text":"住所変更の方法を教えてください"}
not json
{"text":"Thank you so much!"}
{"id":7}
`
	out, _, err := run(t, []string{"--jsonl"}, in, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d output lines, want 4:\n%s", len(lines), out)
	}
	if !strings.HasPrefix(lines[0], `{"id":"a1","kind":"inquiry","topic":"policy_admin"`) {
		t.Errorf("line 1 = %s, want id a1, inquiry, policy_admin", lines[0])
	}
	for _, i := range []int{1, 3} {
		if !strings.Contains(lines[i], `"error":"malformed line`) {
			t.Errorf("line %d = %s, want a malformed-line error", i+1, lines[i])
		}
	}
	if strings.Contains(lines[2], `"id"`) || !strings.Contains(lines[2], `"kind":"praise"`) {
		t.Errorf("line 3 = %s, want praise without id", lines[2])
	}
}

func TestEval(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "eval.tsv")
	data := "# kind\ttopic\tsentiment\turgency\ttext\n" +
		"complaint\tclaims\tnegative\t-\t保険金の支払いが遅すぎる。いつまで待たせるのか\n" +
		"praise\tother\tpositive\t-\t電話の方がとても親切でした。ありがとうございます\n" +
		"inquiry\tpolicy_admin\tneutral\t-\t保険料の引き落とし日はいつですか\n"
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, []string{"--eval", file}, "", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"examples: 3", "== kind: accuracy", "== topic: accuracy", "precision", "recall", "confusion (rows gold, columns predicted)", "complaint", "policy_admin"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
	t.Run("bad file", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.tsv")
		os.WriteFile(bad, []byte("nonsense\tline\n"), 0o600)
		if _, _, err := run(t, []string{"--eval", bad}, "", noEnv); err == nil {
			t.Error("want an error for a malformed eval file")
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if _, _, err := run(t, []string{"--eval", filepath.Join(dir, "nope.tsv")}, "", noEnv); err == nil {
			t.Error("want an error for a missing file")
		}
	})
}

func TestHelpAndBadFlags(t *testing.T) {
	_, errOut, err := run(t, []string{"-h"}, "", noEnv)
	if err != nil {
		t.Errorf("-h error = %v, want nil", err)
	}
	if !strings.Contains(errOut, "usage: koe classify") || !strings.Contains(errOut, "-jsonl") {
		t.Errorf("-h printed %q, want the usage", errOut)
	}
	if _, _, err := run(t, []string{"--nope"}, "", noEnv); err == nil {
		t.Error("unknown flag: want an error")
	}
	if _, _, err := run(t, []string{"extra"}, "", noEnv); err == nil {
		t.Error("stray argument: want an error")
	}
	env := func(k string) string {
		if k == "KOE_CLASSIFIER" {
			return "bogus"
		}
		return ""
	}
	if _, _, err := run(t, nil, "hi\n", env); err == nil {
		t.Error("KOE_CLASSIFIER=bogus: want an error")
	}
}

// TestOpenAIBackendFromEnv runs the command against a fake OpenAI-compatible
// server chosen by the environment, as an operator would.
func TestOpenAIBackendFromEnv(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"1","object":"chat.completion","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"{\"kind\":\"request\",\"topic\":\"privacy\",\"sentiment\":\"neutral\",\"urgency\":[],\"kind_confidence\":0.7,\"topic_confidence\":0.9,\"sentiment_confidence\":0.9}"}}]}`)
	}))
	defer srv.Close()
	env := map[string]string{"KOE_CLASSIFIER": "openai", "OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_MODEL": "fake", "OPENAI_API_KEY": "k"}
	out, _, err := run(t, nil, "DMを止めてください\n", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"kind":"request","topic":"privacy"`) || !strings.Contains(out, `"model":"openai/fake"`) {
		t.Errorf("output = %s, want the fake LLM's labels", out)
	}
	if calls.Load() != 1 {
		t.Errorf("server calls = %d, want 1", calls.Load())
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if err := Run(ctx, nil, strings.NewReader("a\nb\n"), &out, io.Discard, noEnv); err == nil {
		t.Error("want an error for a cancelled context")
	}
}
