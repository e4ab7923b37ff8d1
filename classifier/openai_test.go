package classifier

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeLLM is an OpenAI-compatible chat completions server that records the
// requests it gets and answers with reply (the assistant's message content)
// or status, or blocks until released when block is set.
type fakeLLM struct {
	mu       sync.Mutex
	bodies   []string
	auth     []string
	reply    string
	status   int
	block    chan struct{}
	rawReply string // a whole response body, for malformed envelopes
}

func (f *fakeLLM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, string(body))
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	reply, status, block, raw := f.reply, f.status, f.block, f.rawReply
	f.mu.Unlock()
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	if block != nil {
		select {
		case <-block:
		case <-r.Context().Done():
			return
		}
	}
	if status != 0 {
		w.WriteHeader(status)
		io.WriteString(w, `{"error":{"message":"boom","type":"server_error"}}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if raw != "" {
		io.WriteString(w, raw)
		return
	}
	resp := map[string]any{
		"id": "cmpl-1", "object": "chat.completion", "model": "test-model",
		"choices": []any{map[string]any{
			"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": reply},
		}},
	}
	json.NewEncoder(w).Encode(resp)
}

func (f *fakeLLM) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

// recordingClassifier is a fallback that records the texts it was given.
type recordingClassifier struct {
	mu    sync.Mutex
	texts []string
}

func (c *recordingClassifier) Classify(ctx context.Context, text string) (Result, error) {
	c.mu.Lock()
	c.texts = append(c.texts, text)
	c.mu.Unlock()
	return Result{Kind: KindComplaint, Topic: TopicOther, Sentiment: SentimentNegative, Confidence: 0.5,
		KindConfidence: 0.5, TopicConfidence: 0.5, SentimentConfidence: 0.5, Model: "fallback"}, nil
}

func (c *recordingClassifier) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.texts)
}

const goodAnswer = `{"kind":"complaint","topic":"claims","sentiment":"negative","urgency":["legal"],"kind_confidence":0.9,"topic_confidence":0.8,"sentiment_confidence":0.95}`

func newTestOpenAI(t *testing.T, f *fakeLLM, fallback Classifier, timeout time.Duration) *OpenAI {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return NewOpenAI(OpenAIConfig{BaseURL: srv.URL + "/v1", APIKey: "test-key", Model: "test-model", Timeout: timeout, CacheSize: 8}, fallback)
}

func TestOpenAIClassify(t *testing.T) {
	f := &fakeLLM{reply: goodAnswer}
	fb := &recordingClassifier{}
	o := newTestOpenAI(t, f, fb, 5*time.Second)
	text := "名前は山田太郎です。証券番号AB12345678の保険金が払われない。電話は090-1234-5678、メールはtaro@example.com。事故で骨折しました"
	r, err := o.Classify(context.Background(), text)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Kind: KindComplaint, Topic: TopicClaims, Sentiment: SentimentNegative, Urgent: true,
		Urgency: []string{UrgencyInjury, UrgencyLegal}, Confidence: 0.8, KindConfidence: 0.9, TopicConfidence: 0.8,
		SentimentConfidence: 0.95, Model: "openai/test-model"}
	if got, _ := json.Marshal(r); string(got) != string(must(json.Marshal(want))) {
		t.Errorf("Classify = %s\nwant %s", got, must(json.Marshal(want)))
	}
	if fb.calls() != 0 {
		t.Errorf("fallback called %d times, want 0", fb.calls())
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	for _, secret := range []string{"AB12345678", "090-1234-5678", "1234-5678", "taro@example.com", "山田太郎"} {
		if strings.Contains(reqs[0], secret) {
			t.Errorf("request body contains personal data %q", secret)
		}
	}
	var req struct {
		Model          string `json:"model"`
		ResponseFormat struct {
			Type       string `json:"type"`
			JSONSchema struct {
				Name   string          `json:"name"`
				Strict bool            `json:"strict"`
				Schema json.RawMessage `json:"schema"`
			} `json:"json_schema"`
		} `json:"response_format"`
	}
	if err := json.Unmarshal([]byte(reqs[0]), &req); err != nil {
		t.Fatal(err)
	}
	if req.Model != "test-model" || req.ResponseFormat.Type != "json_schema" || !req.ResponseFormat.JSONSchema.Strict {
		t.Errorf("request model %q, response format %q strict %v; want test-model, json_schema, strict",
			req.Model, req.ResponseFormat.Type, req.ResponseFormat.JSONSchema.Strict)
	}
	for _, label := range append(append([]string{}, Kinds...), Topics...) {
		if !strings.Contains(string(req.ResponseFormat.JSONSchema.Schema), `"`+label+`"`) {
			t.Errorf("schema lacks label %q", label)
		}
	}
	if got := f.auth[0]; got != "Bearer test-key" {
		t.Errorf("Authorization = %q, want Bearer test-key", got)
	}

	t.Run("cached by text", func(t *testing.T) {
		r2, err := o.Classify(context.Background(), text)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(f.requests()); n != 1 {
			t.Errorf("server got %d requests after a repeat, want 1 (cached)", n)
		}
		if r2.Kind != r.Kind || r2.Model != r.Model {
			t.Errorf("cached result %+v differs from %+v", r2, r)
		}
	})
}

func TestOpenAIFallback(t *testing.T) {
	tests := []struct {
		name string
		fake *fakeLLM
	}{
		{"server error", &fakeLLM{status: http.StatusInternalServerError}},
		{"rate limited", &fakeLLM{status: http.StatusTooManyRequests}},
		{"not json", &fakeLLM{reply: "I think this is a complaint."}},
		{"unknown label", &fakeLLM{reply: `{"kind":"angry","topic":"claims","sentiment":"negative","urgency":[],"kind_confidence":1,"topic_confidence":1,"sentiment_confidence":1}`}},
		{"missing field", &fakeLLM{reply: `{"kind":"complaint","sentiment":"negative"}`}},
		{"empty content", &fakeLLM{reply: ""}},
		{"no choices", &fakeLLM{rawReply: `{"id":"x","choices":[]}`}},
		{"broken envelope", &fakeLLM{rawReply: `{"id":`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := &recordingClassifier{}
			o := newTestOpenAI(t, tt.fake, fb, 5*time.Second)
			r, err := o.Classify(context.Background(), "保険金が遅い")
			if err != nil {
				t.Fatalf("Classify error = %v, want fallback result", err)
			}
			if r.Model != "fallback" || fb.calls() != 1 {
				t.Errorf("model = %q, fallback calls = %d; want the fallback used once", r.Model, fb.calls())
			}
			// Fallback answers are not cached: the next call asks the LLM again.
			if _, err := o.Classify(context.Background(), "保険金が遅い"); err != nil {
				t.Fatal(err)
			}
			if n := len(tt.fake.requests()); n < 2 {
				t.Errorf("server got %d requests, want the LLM asked again after a failure", n)
			}
		})
	}
}

func TestOpenAITimeout(t *testing.T) {
	f := &fakeLLM{reply: goodAnswer, block: make(chan struct{})}
	defer close(f.block)
	fb := &recordingClassifier{}
	o := newTestOpenAI(t, f, fb, 50*time.Millisecond)
	r, err := o.Classify(context.Background(), "ありがとう")
	if err != nil {
		t.Fatal(err)
	}
	if r.Model != "fallback" {
		t.Errorf("model = %q, want fallback after a timeout", r.Model)
	}

	t.Run("no fallback", func(t *testing.T) {
		o := newTestOpenAI(t, f, nil, 50*time.Millisecond)
		if _, err := o.Classify(context.Background(), "ありがとう"); !errors.Is(err, ErrUnavailable) {
			t.Errorf("error = %v, want ErrUnavailable", err)
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		o := newTestOpenAI(t, f, fb, time.Minute)
		ctx, cancel := context.WithCancel(context.Background())
		base := len(f.requests())
		done := make(chan error, 1)
		go func() { _, err := o.Classify(ctx, "ありがとう"); done <- err }()
		// Wait until the request reached the server, then cancel.
		deadline := time.Now().Add(10 * time.Second)
		for len(f.requests()) <= base && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
	})
}

func TestOpenAIEmptyText(t *testing.T) {
	f := &fakeLLM{reply: goodAnswer}
	o := newTestOpenAI(t, f, &recordingClassifier{}, time.Second)
	if _, err := o.Classify(context.Background(), "  "); !errors.Is(err, ErrEmptyText) {
		t.Errorf("error = %v, want ErrEmptyText", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("server got %d requests for an empty text, want 0", n)
	}
}

func TestFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name    string
		env     map[string]string
		wantErr bool
		want    string // type
	}{
		{"default", nil, false, "*classifier.Model"},
		{"embedded", map[string]string{"KOE_CLASSIFIER": "embedded"}, false, "*classifier.Model"},
		{"openai", map[string]string{"KOE_CLASSIFIER": "openai", "OPENAI_MODEL": "m", "OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}, false, "*classifier.OpenAI"},
		{"openai without model", map[string]string{"KOE_CLASSIFIER": "openai"}, true, ""},
		{"unknown", map[string]string{"KOE_CLASSIFIER": "magic"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromEnv(env(tt.env), nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				if got := typeName(c); got != tt.want {
					t.Errorf("type = %s, want %s", got, tt.want)
				}
			}
		})
	}
}

func typeName(c Classifier) string {
	switch c.(type) {
	case *Model:
		return "*classifier.Model"
	case *OpenAI:
		return "*classifier.OpenAI"
	}
	return "?"
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
