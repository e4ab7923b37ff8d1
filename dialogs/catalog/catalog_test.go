package catalog_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs/catalog"
)

func load(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	return c
}

func TestLanguagesHaveSameKeysAndPlaceholders(t *testing.T) {
	c := load(t)
	if got, want := c.Langs(), []koe.Lang{koe.English, koe.Japanese}; !slices.Equal(got, want) {
		t.Fatalf("Langs() = %v, want %v", got, want)
	}
	ja, en := c.Keys(koe.Japanese), c.Keys(koe.English)
	if len(ja) == 0 {
		t.Fatal("no Japanese keys")
	}
	for _, k := range ja {
		if !c.Has(koe.English, k) {
			t.Errorf("key %q is in ja but not en", k)
		}
	}
	for _, k := range en {
		if !c.Has(koe.Japanese, k) {
			t.Errorf("key %q is in en but not ja", k)
		}
	}
	for _, k := range ja {
		pj := catalog.Placeholders(c.Text(koe.Japanese, k))
		pe := catalog.Placeholders(c.Text(koe.English, k))
		if c.Has(koe.English, k) && !slices.Equal(pj, pe) {
			t.Errorf("key %q: placeholders ja %v, en %v", k, pj, pe)
		}
		for _, l := range []koe.Lang{koe.Japanese, koe.English} {
			if c.Text(l, k) == "" {
				t.Errorf("key %q is empty in %s", k, l)
			}
		}
	}
}

// Quick-reply labels (LINE: at most 20 characters).
func TestLabelsFitLINE(t *testing.T) {
	c := load(t)
	labels := []string{"menu.accident", "menu.inquiry", "menu.feedback", "cmd.menu", "cmd.cancel", "cmd.back", "cmd.help",
		"cancel.yes", "cancel.no", "feedback.send", "feedback.edit"}
	labels = append(labels, "resume.continue", "resume.restart", "accident.police_yes", "accident.police_no",
		"handoff.end", "handoff.end_yes", "handoff.end_no")
	for _, k := range c.Keys(koe.Japanese) {
		for _, p := range []string{"accident.btn_", "accident.kind_", "accident.inv_", "accident.call_", "accident.f_"} {
			if strings.HasPrefix(k, p) {
				labels = append(labels, k)
			}
		}
	}
	for _, k := range labels {
		for _, l := range c.Langs() {
			if n := utf8.RuneCountInString(c.Text(l, k)); n > 20 {
				t.Errorf("%s label %q has %d characters, LINE allows 20", l, k, n)
			}
		}
	}
}

func TestText(t *testing.T) {
	c, err := catalog.Load(fstest.MapFS{
		"ja.txtar":       {Data: []byte("comment\n-- a.hello --\nこんにちは、{name}さん。{name}！\n-- a.only_ja --\n日本語だけ\n")},
		"en.txtar":       {Data: []byte("-- a.hello --\nHello, {name}. {other}\n")},
		"ja.extra.txtar": {Data: []byte("-- b.more --\n追加\n\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		lang koe.Lang
		key  string
		args []string
		want string
	}{
		{"filled twice", koe.Japanese, "a.hello", []string{"name", "花子"}, "こんにちは、花子さん。花子！"},
		{"unfilled stays", koe.English, "a.hello", []string{"name", "Ann"}, "Hello, Ann. {other}"},
		{"no args", koe.English, "a.hello", nil, "Hello, {name}. {other}"},
		{"falls back to ja", koe.English, "a.only_ja", nil, "日本語だけ"},
		{"unknown language falls back", "fr", "a.only_ja", nil, "日本語だけ"},
		{"second file, trailing newlines trimmed", koe.Japanese, "b.more", nil, "追加"},
		{"missing", koe.Japanese, "a.missing", nil, "[a.missing]"},
		{"odd args ignored", koe.Japanese, "a.hello", []string{"name"}, "こんにちは、{name}さん。{name}！"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Text(tt.lang, tt.key, tt.args...); got != tt.want {
				t.Errorf("Text(%s, %s) = %q, want %q", tt.lang, tt.key, got, tt.want)
			}
		})
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name string
		fs   fstest.MapFS
	}{
		{"unknown language", fstest.MapFS{"ja.txtar": {Data: []byte("-- a.b --\nx\n")}, "fr.txtar": {Data: []byte("-- a.b --\nx\n")}}},
		{"bad key", fstest.MapFS{"ja.txtar": {Data: []byte("-- Hello --\nx\n")}}},
		{"duplicate", fstest.MapFS{"ja.txtar": {Data: []byte("-- a.b --\nx\n")}, "ja.more.txtar": {Data: []byte("-- a.b --\ny\n")}}},
		{"no Japanese", fstest.MapFS{"en.txtar": {Data: []byte("-- a.b --\nx\n")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := catalog.Load(tt.fs); !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("Load = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestPlaceholders(t *testing.T) {
	if got, want := catalog.Placeholders("{b} {a} {b} {Not} {}"), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("Placeholders = %v, want %v", got, want)
	}
}
