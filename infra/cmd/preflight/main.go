// Command preflight checks, with read-only AWS calls, that an AWS account and region are ready
// for one environment of cdk.json before `make deploy` (see package infra/preflight):
//
//	go run ./infra/cmd/preflight -env prod
//
// It prints a checklist and exits 0 when ready (warnings allowed), 1 when something blocks the
// environment, 2 when a check could not run.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/passwordless-go/cognito/infra/preflight"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := preflight.Run(ctx, os.Stdout, os.Args[1:])
	stop()
	os.Exit(code)
}
