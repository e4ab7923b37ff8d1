package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFAQEval(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		var out bytes.Buffer
		err := runFAQ(context.Background(), []string{"eval"}, env{getenv: os.Getenv, stdin: strings.NewReader(""), stdout: &out, stderr: &out})
		if err != nil {
			t.Fatal(err)
		}
		t.Log("\n" + out.String())
		for _, want := range []string{"== eval.tsv\n", "== eval2.tsv\n", "== all sets\n", "top-1:", "top-3:", "out-of-FAQ below", "misses:"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q", want)
			}
		}
	})
	t.Run("without misses", func(t *testing.T) {
		var out bytes.Buffer
		if err := runFAQ(context.Background(), []string{"eval", "-misses=false"}, env{stdout: &out, stderr: &out}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "misses:") || !strings.Contains(out.String(), "top-3:") {
			t.Errorf("output = %s", out.String())
		}
	})
	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "e.tsv")
		os.WriteFile(path, []byte("ja\tcancel-how\t解約したい\nja\t-\t明日の天気\n"), 0o600)
		var out bytes.Buffer
		if err := runFAQ(context.Background(), []string{"eval", "-file", path}, env{stdout: &out, stderr: &out}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "in-FAQ questions:      1") {
			t.Errorf("output = %s", out.String())
		}
	})
	t.Run("usage", func(t *testing.T) {
		var out bytes.Buffer
		if err := runFAQ(context.Background(), nil, env{stdout: &out, stderr: &out}); err != errUsage {
			t.Errorf("err = %v, want errUsage", err)
		}
	})
}
