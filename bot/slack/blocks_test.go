package slack_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/koehq/koe/bot/slack"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from golden:\n got: %s\nwant: %s", name, buf.Bytes(), want)
	}
}

func TestRenderMessageGolden(t *testing.T) {
	msg := slack.Message{
		Text:   "苦情 C-42 <!channel>",
		Header: "苦情 C-42 <@U999>",
		Urgent: true,
		Fields: []slack.Field{
			{Label: "種別", Value: "苦情"},
			{Label: "分類", Value: "保険金 & 支払"},
			{Label: "担当", UserID: "U0STAFF1"},
			{Label: "偽担当", Value: "x", UserID: "<!here>"},
		},
		Body:    "支払いが遅い <@U123> <!channel> <https://evil.example|click> & more",
		Context: []string{"受付 2026-11-22 10:00", "", "<!everyone>"},
		Buttons: []slack.Button{
			{ActionID: "case.take", Text: "担当する", Value: "C-42", Style: "primary"},
			{ActionID: "case.close", Text: "完了", Value: "C-42", Style: "danger"},
			{ActionID: "case.reclassify", Text: "再分類", Value: "C-42", Style: "weird"},
			{ActionID: "", Text: "dropped"},
		},
	}
	text, blocks := slack.RenderMessage(msg)
	golden(t, "message.golden.json", map[string]any{"text": text, "blocks": blocks})

	all, _ := json.Marshal(map[string]any{"text": text, "blocks": blocks})
	// Nested marshalers escape < as \u003c; decode and join every string.
	var tree any
	if err := json.Unmarshal(all, &tree); err != nil {
		t.Fatal(err)
	}
	s := strings.Join(leaves(tree), "\n")
	for _, bad := range []string{"<!channel>", "<@U123>", "<https://evil", "<!everyone>", "<!here>", "& more"} {
		if strings.Contains(s, bad) {
			t.Errorf("rendered message contains %q unescaped", bad)
		}
	}
	for _, good := range []string{"&lt;!channel&gt;", "&lt;@U123&gt;", "&amp; more", "<@U0STAFF1>"} {
		if !strings.Contains(s, good) {
			t.Errorf("rendered message lacks %q", good)
		}
	}
	if len(all) == 0 {
		t.Fatal("empty")
	}
	if !strings.HasPrefix(text, slack.UrgentPrefix) {
		t.Errorf("text %q lacks the urgent prefix", text)
	}
}

func TestRenderModalGolden(t *testing.T) {
	req, err := slack.RenderModal(slack.Modal{
		CallbackID:      "complaint.close",
		Title:           "苦情を完了する（原因と対応を記録）長いタイトル",
		PrivateMetadata: `{"case":"C-42"}`,
		Body:            "お客さまの声 <!channel> を確認",
		Inputs: []slack.Input{
			{BlockID: "cause", Label: "原因", Multiline: true, MaxLength: 5000},
			{BlockID: "action", Label: "対応", Placeholder: "実施した対応", Initial: "謝罪"},
			{BlockID: "topic", Label: "分類", Optional: true, Initial: "claims",
				Options: []slack.Option{{Text: "契約・募集", Value: "contract_sales"}, {Text: "保険金", Value: "claims"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "modal.golden.json", req)
}

func TestRenderModalErrors(t *testing.T) {
	tests := []struct {
		name string
		m    slack.Modal
	}{
		{"no title", slack.Modal{Inputs: []slack.Input{{BlockID: "a"}}}},
		{"no block id", slack.Modal{Title: "t", Inputs: []slack.Input{{Label: "a"}}}},
		{"duplicate block id", slack.Modal{Title: "t", Inputs: []slack.Input{{BlockID: "a"}, {BlockID: "a"}}}},
		{"metadata too long", slack.Modal{Title: "t", PrivateMetadata: strings.Repeat("x", 3001)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := slack.RenderModal(tt.m); err == nil {
				t.Error("RenderModal succeeded, want an error")
			}
		})
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain 日本語", "plain 日本語"},
		{"<@U123>", "&lt;@U123&gt;"},
		{"<!channel>", "&lt;!channel&gt;"},
		{"a & b", "a &amp; b"},
		{"&amp;", "&amp;amp;"},
	}
	for _, tt := range tests {
		if got := slack.Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRenderMessageLimits(t *testing.T) {
	long := strings.Repeat("あ&", 5000)
	text, blocks := slack.RenderMessage(slack.Message{
		Text: long, Header: long, Body: long,
		Fields:  []slack.Field{{Label: "L", Value: long}},
		Buttons: []slack.Button{{ActionID: "a", Text: long, Value: strings.Repeat("v", 2500)}},
	})
	if n := utf8.RuneCountInString(text); n > slack.MaxTextLen || !strings.HasSuffix(text, "…") {
		t.Errorf("text has %d characters, want ≤ %d ending in …", n, slack.MaxTextLen)
	}
	var got []map[string]any
	b, _ := json.Marshal(blocks)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	textOf := func(m map[string]any) string { return m["text"].(map[string]any)["text"].(string) }
	checks := []struct {
		name  string
		text  string
		limit int
	}{
		{"header", textOf(got[0]), slack.MaxHeaderLen},
		{"field", got[1]["fields"].([]any)[0].(map[string]any)["text"].(string), slack.MaxFieldLen},
		{"body", textOf(got[2]), slack.MaxSectionLen},
		{"button text", got[3]["elements"].([]any)[0].(map[string]any)["text"].(map[string]any)["text"].(string), slack.MaxButtonTextLen},
	}
	for _, c := range checks {
		n := utf8.RuneCountInString(c.text)
		if n > c.limit || n < c.limit-5 {
			t.Errorf("%s has %d characters, want just under %d", c.name, n, c.limit)
		}
		if strings.HasSuffix(strings.TrimSuffix(c.text, "…"), "&am") || strings.Contains(c.text, "&a…") {
			t.Errorf("%s cut inside an entity", c.name)
		}
	}
	if v := got[3]["elements"].([]any)[0].(map[string]any)["value"].(string); len(v) != slack.MaxButtonValueLen {
		t.Errorf("button value has %d bytes, want %d", len(v), slack.MaxButtonValueLen)
	}
	if _, blocks := slack.RenderMessage(slack.Message{}); len(blocks) != 0 {
		t.Errorf("zero message rendered %d blocks", len(blocks))
	}
}

func leaves(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, leaves(x)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, x := range v {
			out = append(out, leaves(x)...)
		}
		return out
	}
	return nil
}
