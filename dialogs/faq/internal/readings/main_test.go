package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ja.faq", "# comment\nid: accident-report\nq: 事故の連絡方法\n  q:  IDを忘れた \na: x\nfollow: b\n")
	write("ja.home.faq", "id: home-theft\nq: 空き巣に入られた\na: y\n")
	write("en.faq", "id: accident-report\nq: accident\na: z\n")
	write("dev.tsv", "# c\nja\taccident-report\tカイヤクしたい\nen\t-\thello\nja\t-\t天気\n")
	out, devOut := filepath.Join(dir, "ja.readings"), filepath.Join(dir, "dev-kana.tsv")
	if err := run([]string{"-kb", dir, "-o", out, "-dev", filepath.Join(dir, "dev.tsv"), "-devout", devOut}, io.Discard); err != nil {
		t.Fatal(err)
	}
	body := func(name string) string {
		t.Helper()
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
		return strings.Join(lines, "\n")
	}
	want := "accident-report\t事故の連絡方法\tじこのれんらくほうほう\n" +
		"accident-report\tIDを忘れた\tIDをわすれた\n" +
		"home-theft\t空き巣に入られた\tあきすにはいられた"
	if got := body(out); got != want {
		t.Errorf("ja.readings =\n%s\nwant\n%s", got, want)
	}
	if got, want := body(devOut), "ja\taccident-report\tかいやくしたい\nja\t-\tてんき"; got != want {
		t.Errorf("dev-kana.tsv =\n%s\nwant\n%s", got, want)
	}
	if err := run([]string{"-kb", dir, "-o", out, "-dev", "x"}, io.Discard); err == nil {
		t.Errorf("run with -dev and no -devout succeeded")
	}
}

// TestGeneratedFilesAreCurrent regenerates kb/ja.readings and
// testdata/dev-kana.tsv from the committed knowledge base and dev set and
// compares them byte for byte with the committed files: a reading or a
// dev question changed by hand, or a stale file, fails here
// (faq.TestReadingsCurrent checks only that every variant has a line).
func TestGeneratedFilesAreCurrent(t *testing.T) {
	faq := filepath.Join("..", "..")
	dir := t.TempDir()
	out, devOut := filepath.Join(dir, "ja.readings"), filepath.Join(dir, "dev-kana.tsv")
	err := run([]string{"-kb", filepath.Join(faq, "kb"), "-o", out,
		"-dev", filepath.Join(faq, "testdata", "dev.tsv"), "-devout", devOut}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for generated, committed := range map[string]string{
		out:    filepath.Join(faq, "kb", "ja.readings"),
		devOut: filepath.Join(faq, "testdata", "dev-kana.tsv"),
	} {
		got, err1 := os.ReadFile(generated)
		want, err2 := os.ReadFile(committed)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if string(got) != string(want) {
			t.Errorf("%s is not what go generate ./dialogs/faq makes now: run it", committed)
		}
	}
}
