package main

import (
	"context"
	"fmt"
	"os"

	"github.com/koehq/koe/dialogs/faq"
)

// runFAQ is `koe faq eval [-file F] [-misses=false]`: it ranks every
// question of an evaluation file against the embedded knowledge base and
// prints top-1, top-3, the share of out-of-FAQ questions below
// faq.Threshold, in-FAQ questions wrongly below it, and the misses. Without
// -file it evaluates each embedded held-out set and then all of them
// together.
func runFAQ(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] != "eval" {
		fmt.Fprintln(e.stderr, "Usage: koe faq eval [-file F] [-misses=false]")
		return errUsage
	}
	fs := newFlagSet("faq eval", "faq eval [-file F] [-misses=false]", e)
	file := fs.String("file", "", "evaluation file (lang<TAB>id<TAB>question); default: the embedded held-out sets")
	misses := fs.Bool("misses", true, "list the questions not ranked first")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	kb, err := faq.Default()
	if err != nil {
		return err
	}
	if *file != "" {
		f, err := os.Open(*file)
		if err != nil {
			return fmt.Errorf("faq eval: %w", err)
		}
		defer f.Close()
		cases, err := faq.ReadCases(f)
		if err != nil {
			return fmt.Errorf("faq eval: %w", err)
		}
		return faq.Evaluate(kb, cases).Write(e.stdout, *misses)
	}
	sets, err := faq.EvalSets()
	if err != nil {
		return err
	}
	var all faq.Report
	for _, s := range sets {
		r := faq.Evaluate(kb, s.Cases)
		all = all.Add(r)
		fmt.Fprintf(e.stdout, "== %s\n", s.Name)
		if err := r.Write(e.stdout, *misses); err != nil {
			return err
		}
	}
	fmt.Fprintln(e.stdout, "== all sets")
	return all.Write(e.stdout, false)
}
