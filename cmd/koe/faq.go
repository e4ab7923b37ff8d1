package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/koehq/koe/dialogs/faq"
)

// runFAQ is `koe faq eval [-file F]`: it ranks every question of an
// evaluation file (default: the embedded dialogs/faq/testdata/eval.tsv)
// against the embedded knowledge base and prints top-1, top-3, the share
// of out-of-FAQ questions below faq.Threshold, in-FAQ questions wrongly
// below it, and the misses.
func runFAQ(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] != "eval" {
		fmt.Fprintln(e.stderr, "Usage: koe faq eval [-file F]")
		return errUsage
	}
	fs := newFlagSet("faq eval", "faq eval [-file F]", e)
	file := fs.String("file", "", "evaluation file (lang<TAB>id<TAB>question); default: the embedded set")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	kb, err := faq.Default()
	if err != nil {
		return err
	}
	var r io.Reader = faq.EvalSet()
	if *file != "" {
		f, err := os.Open(*file)
		if err != nil {
			return fmt.Errorf("faq eval: %w", err)
		}
		defer f.Close()
		r = f
	}
	cases, err := faq.ReadCases(r)
	if err != nil {
		return fmt.Errorf("faq eval: %w", err)
	}
	return faq.Evaluate(kb, cases).Write(e.stdout)
}
