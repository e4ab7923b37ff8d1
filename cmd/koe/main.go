// Command koe is Koe's one binary: the service, a terminal chat with the
// same dialogs, the classifier, and tools. Run "koe help" for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "koe:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// command is one subcommand of koe.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, env env) error
}

// env is what a subcommand may touch of the outside world; tests replace it.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func commands() []command {
	return []command{
		{"serve", "run the service (webhooks, dispatcher, health, metrics)", runServe},
		{"chat", "talk to the bot in this terminal, through the same dialogs and store", runChat},
		{"classify", "classify customer texts read from stdin (one per line, or --jsonl)", runClassify},
		{"report", "print reports (voices: kind × topic per quarter; nps: NPS per touchpoint)", runReport},
		{"faq", "FAQ tools (faq eval: how well questions find their answers)", runFAQ},
		{"survey", "send NPS micro-surveys (survey send)", runSurvey},
		{"version", "print the version", runVersion},
		{"help", "show this help", nil},
	}
}

// run executes one koe command line. It is main without the process: tests
// call it with their own arguments, environment and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return errUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == name && c.run != nil {
			return c.run(ctx, rest, e)
		}
	}
	fmt.Fprintf(stderr, "koe: unknown command %q\n\n", name)
	usage(stderr)
	return errUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, "Koe (声) hears insurance customers on LINE and alerts staff in Slack.\n\nUsage: koe <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nEvery command takes -h. Configuration comes from the environment (see README.md).\n")
}

// newFlagSet makes a subcommand's flag set that prints its usage to stderr
// and returns errors instead of exiting.
func newFlagSet(name, synopsis string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet("koe "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: koe %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning a flag error into errUsage (already printed).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	return nil
}

func runVersion(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("version", "version", e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "koe %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
