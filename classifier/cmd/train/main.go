// Command train builds the embedded classifier model from the labelled data.
//
//	go run ./classifier/cmd/train -data classifier/data -out classifier/model.bin
//
// It is deterministic: the same data always gives the same bytes, which
// TestModelUpToDate in package classifier checks. With -eval FILE it also
// prints the evaluation of the new model on FILE (never trained on); with
// -cv it prints the cross-validated evaluation on the training data instead
// of writing a model. The other flags change the method for experiments;
// the committed model uses the defaults.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/koehq/koe/classifier"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	cfg := classifier.DefaultTrainConfig()
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "data", "directory of labelled *.tsv / *.jsonl files")
	out := fs.String("out", "model.bin", "model file to write")
	eval := fs.String("eval", "", "labelled file to evaluate the new model on")
	cv := fs.Bool("cv", false, "print the cross-validated evaluation on the training data and write nothing")
	fs.IntVar(&cfg.MinN, "minn", cfg.MinN, "shortest character n-gram")
	fs.IntVar(&cfg.MaxN, "maxn", cfg.MaxN, "longest character n-gram")
	fs.BoolVar(&cfg.Words, "words", cfg.Words, "add English word unigrams and bigrams")
	fs.IntVar(&cfg.MinDF, "mindf", cfg.MinDF, "keep features seen in at least this many examples")
	fs.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "training epochs")
	fs.Float64Var(&cfg.L2, "l2", cfg.L2, "L2 regularisation")
	fs.Float64Var(&cfg.ComplaintRecall, "recall", cfg.ComplaintRecall, "cross-validated complaint recall to tune the threshold to (0: argmax)")
	fs.BoolVar(&cfg.NoCalibration, "nocal", cfg.NoCalibration, "skip temperature calibration")
	if err := fs.Parse(args); err != nil {
		return err
	}
	examples, err := classifier.ReadExamplesDir(*data)
	if err != nil {
		return err
	}
	if *cv {
		ev, err := classifier.CrossValidate(examples, cfg)
		if err != nil {
			return err
		}
		return ev.WriteReport(stdout)
	}
	m, err := classifier.Train(examples, cfg)
	if err != nil {
		return err
	}
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "trained on %d examples: %s, %d bytes, complaint threshold %.3f\n",
		len(examples), m.Name(), len(b), m.ComplaintThreshold())
	if *eval == "" {
		return nil
	}
	f, err := os.Open(*eval)
	if err != nil {
		return err
	}
	defer f.Close()
	dev, err := classifier.ReadExamples(f)
	if err != nil {
		return err
	}
	ev, err := classifier.Evaluate(context.Background(), m, dev)
	if err != nil {
		return err
	}
	return ev.WriteReport(stdout)
}
