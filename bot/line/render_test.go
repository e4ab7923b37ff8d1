package line

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/koehq/koe"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/render")

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	many := make([]koe.Action, 15)
	for i := range many {
		many[i] = koe.Action{Kind: koe.ActionPostback, Label: strings.Repeat("選", i+10), Data: "n=" + string(rune('a'+i))}
	}
	tests := []struct {
		name    string
		replies []koe.Reply
	}{
		{"text", []koe.Reply{{Text: "お問い合わせありがとうございます。"}}},
		{"quick_replies_all_kinds", []koe.Reply{{Text: "事故の日時を教えてください。", QuickReplies: []koe.Action{
			{Kind: koe.ActionPostback, Label: "はい", Data: "answer=yes", Text: "はい"},
			{Kind: koe.ActionMessage, Label: "いいえ"},
			{Kind: koe.ActionURI, Label: "詳しく", URL: "https://example.com/help"},
			{Kind: koe.ActionLocation, Label: "現在地を送る"},
			{Kind: koe.ActionCamera, Label: "写真を撮る"},
			{Kind: koe.ActionCameraRoll, Label: "写真を選ぶ"},
			{Kind: koe.ActionDatetime, Label: "日時を選ぶ", Data: "step=when", Picker: &koe.DatetimePicker{
				Mode: "datetime", Initial: "2026-11-22T14:00", Min: "2026-01-01T00:00", Max: "2026-11-22T23:59"}},
			{Kind: koe.ActionDatetime, Label: "日付", Data: "step=date"},
		}}}},
		{"quick_replies_limits", []koe.Reply{{Text: "選んでください", QuickReplies: many}}},
		{"quick_replies_on_last_only", []koe.Reply{
			{Text: "一つ目", QuickReplies: []koe.Action{{Kind: koe.ActionMessage, Label: "古い"}}},
			{Text: "二つ目"},
			{Text: "三つ目", QuickReplies: []koe.Action{{Kind: koe.ActionMessage, Label: "新しい", Text: "新しい選択"}}},
		}},
		{"card", []koe.Reply{{Card: &koe.Card{
			AltText: "事故受付 AR-20261122-7F3K", Title: "事故受付", Note: "担当者から1営業日以内にご連絡します。",
			Fields: []koe.CardField{{Label: "受付番号", Value: "AR-20261122-7F3K"}, {Label: "日時", Value: "2026-11-22 14:00"}, {Label: "場所", Value: ""}},
			Buttons: []koe.Action{
				{Kind: koe.ActionPostback, Label: "内容を訂正する", Data: "fix=1", Text: "訂正します"},
				{Kind: koe.ActionURI, Label: "マイページ", URL: "https://example.com/my"},
				{Kind: koe.ActionCamera, Label: "カメラ（ボタン不可）"},
			},
		}}, {Text: "ほかにありますか？", QuickReplies: []koe.Action{{Kind: koe.ActionMessage, Label: "ない"}}}}},
		{"card_urgent_minimal", []koe.Reply{{Card: &koe.Card{Title: "至急：けが人あり", Urgent: true}, QuickReplies: []koe.Action{{Kind: koe.ActionMessage, Label: "119番しました"}}}}},
		{"empty_replies_skipped", []koe.Reply{{}, {Text: "  \n"}, {Text: "本文"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msgs, err := render(tt.replies)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(map[string]any{"messages": msgs}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "render", tt.name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("render mismatch with %s (go test -update rewrites it); got:\n%s", path, got)
			}
			if bytes.Contains(got, []byte(`"flex": 0`)) {
				t.Errorf("rendered JSON contains \"flex\": 0")
			}
		})
	}
}

func TestSplitText(t *testing.T) {
	t.Parallel()
	emoji := "😀" // two UTF-16 units
	tests := []struct {
		name      string
		in        string
		wantParts int
		wantLast  string // suffix of the last part, if set
	}{
		{"short", "こんにちは", 1, "こんにちは"},
		{"blank", " \n ", 0, ""},
		{"exactly the limit", strings.Repeat("a", maxTextUnits), 1, ""},
		{"surrogates over the limit", strings.Repeat(emoji, maxTextUnits/2+1), 2, emoji},
		{"paragraphs", strings.Repeat("あ", 4000) + "\n\n" + strings.Repeat("い", 4000), 2, "い"},
		{"huge is truncated", strings.Repeat("b", maxTextUnits*maxPartsPerText+10), maxPartsPerText, ellipsis},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			parts := splitText(tt.in)
			if len(parts) != tt.wantParts {
				t.Fatalf("%d parts, want %d", len(parts), tt.wantParts)
			}
			for i, p := range parts {
				if n := len(utf16.Encode([]rune(p))); n > maxTextUnits || n == 0 {
					t.Errorf("part %d has %d UTF-16 units", i, n)
				}
				if strings.ContainsRune(p, '\uFFFD') {
					t.Errorf("part %d splits a character", i)
				}
			}
			if tt.wantParts > 0 && !strings.HasSuffix(parts[len(parts)-1], tt.wantLast) {
				t.Errorf("last part does not end with %q", tt.wantLast)
			}
			if tt.name == "paragraphs" && parts[0] != strings.Repeat("あ", 4000) {
				t.Errorf("first part not cut at the paragraph break")
			}
		})
	}
}

func TestRenderRefusesLongPostbackData(t *testing.T) {
	t.Parallel()
	_, err := render([]koe.Reply{{Text: "x", QuickReplies: []koe.Action{{Kind: koe.ActionPostback, Label: "l", Data: strings.Repeat("d", 301)}}}})
	if !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("render = %v, want ErrInvalid", err)
	}
}
