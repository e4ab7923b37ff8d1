package main

import (
	"context"

	"github.com/koehq/koe/classifier/classifycmd"
)

func runClassify(ctx context.Context, args []string, e env) error {
	return classifycmd.Run(ctx, args, e.stdin, e.stdout, e.stderr, e.getenv)
}
