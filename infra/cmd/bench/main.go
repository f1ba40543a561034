//go:build unix

// Command bench measures the five functions as they ship (issue #7) and prints a Markdown section
// for BENCHMARKS.md: linux/arm64 bootstrap sizes, cold start (exec to the first GET /next) with
// the construct's environment, AWS calls at init (must be 0), peak RSS after warm invocations, and
// the same cold start for a minimal Node.js function with the AWS SDK v3. See package
// infra/local/perf.
//
//	go run ./infra/cmd/bench [-runs 15] [-invocations 1000] [-timeout 15m] [-no-node]
//
// It needs dynalite (make tools) and, for the comparison, node and npm; the SDK is installed into
// .tools/perf-node on first use. Progress goes to stderr, the report to stdout.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/passwordless-go/cognito/infra/local/perf"
)

func main() {
	runs := flag.Int("runs", 15, "cold starts per function (at least 10)")
	invocations := flag.Int("invocations", 1000, "warm invocations per function before reading its peak RSS")
	timeout := flag.Duration("timeout", 15*time.Minute, "stop everything after this long")
	noNode := flag.Bool("no-node", false, "skip the Node.js comparison")
	verbose := flag.Bool("v", false, "copy the functions' output to stderr")
	flag.Parse()
	if flag.NArg() > 0 || *runs < 10 || *invocations < 1 || *timeout <= 0 {
		fmt.Fprintln(os.Stderr, "usage: go run ./infra/cmd/bench [-runs N>=10] [-invocations N>=1] [-timeout D] [-no-node] [-v]")
		os.Exit(2)
	}
	command := strings.Join(append([]string{"go run ./infra/cmd/bench"}, os.Args[1:]...), " ")

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	var log io.Writer
	if *verbose {
		log = os.Stderr
	}
	fmt.Fprintln(os.Stderr, "building the five functions for this host, starting dynalite and awsmock")
	rig, err := perf.Start(ctx, perf.Options{Log: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	res, err := perf.Run(ctx, rig, perf.Config{
		Runs: *runs, Invocations: *invocations, NoNode: *noNode, Command: command, Progress: os.Stderr,
	})
	if cerr := rig.Close(); err == nil && cerr != nil {
		fmt.Fprintln(os.Stderr, "bench: cleanup:", cerr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Print(res.Markdown())
}
