//go:build unix

// Command bench measures the five functions as they ship (issue #7) and prints a Markdown section
// for BENCHMARKS.md: linux/arm64 bootstrap sizes, cold start (exec to the first GET /next) with
// the construct's environment, AWS calls at init (must be 0), peak RSS after warm invocations, and
// the same cold start for a minimal Node.js function with the AWS SDK v3. See package
// infra/local/perf.
//
//	go run ./infra/cmd/bench [-runs 15] [-invocations 1000] [-timeout 15m] [-no-node]
//	go run ./infra/cmd/bench -load [-runs N] [-load-clients 1,8,64] [-load-signins 40,160,320]
//	    [-load-latency 1s] [-load-latency-signins 8,32,128]
//
// -load also runs sign-ins under load through the whole local stack (perf.Load): C concurrent
// clients, device keys and email codes, sign-ins/s and p50/p99/p99.9 latency, then the same with
// the latency injected into every DynamoDB call, with every trigger invocation's duration against
// Cognito's 5 s budget. With -load, -runs may be below 10, or 0 to skip the cold-start section.
//
// It needs dynalite (make tools) and, for the comparison, node and npm; the SDK is installed into
// .tools/perf-node on first use. Progress goes to stderr, the report to stdout.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/passwordless-go/cognito/infra/local/perf"
)

func main() {
	runs := flag.Int("runs", 15, "cold starts per function (at least 10; with -load any, 0 skips the cold-start section)")
	invocations := flag.Int("invocations", 1000, "warm invocations per function before reading its peak RSS")
	timeout := flag.Duration("timeout", 15*time.Minute, "stop everything after this long")
	noNode := flag.Bool("no-node", false, "skip the Node.js comparison")
	verbose := flag.Bool("v", false, "copy the functions' output to stderr")
	load := flag.Bool("load", false, "also measure sign-ins under load through the local stack")
	loadClients := flag.String("load-clients", joinInts(perf.DefaultLoadConcurrency), "with -load: concurrent clients, one phase each")
	loadSignIns := flag.String("load-signins", joinInts(perf.DefaultLoadSignIns), "with -load: sign-ins per phase without injected latency (by clients)")
	loadLatency := flag.String("load-latency", "1s", "with -load: latencies injected into every DynamoDB call, one set of phases each (\"0\": none)")
	loadLatencySignIns := flag.String("load-latency-signins", joinInts(perf.DefaultLatencySignIns), "with -load: sign-ins per phase with injected latency (by clients)")
	flag.Parse()
	minRuns := 10
	if *load {
		minRuns = 0
	}
	clients, err1 := parseInts(*loadClients)
	signIns, err2 := parseInts(*loadSignIns)
	latencySignIns, err3 := parseInts(*loadLatencySignIns)
	latencies, err4 := parseDurations(*loadLatency)
	if flag.NArg() > 0 || *runs < minRuns || *invocations < 1 || *timeout <= 0 || errors.Join(err1, err2, err3, err4) != nil {
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
		fmt.Fprintln(os.Stderr, "usage: go run ./infra/cmd/bench [-runs N>=10] [-invocations N>=1] [-timeout D] [-no-node] [-v]\n"+
			"       go run ./infra/cmd/bench -load [-runs N>=0] [-load-clients 1,8,64] [-load-signins 40,160,320] [-load-latency 1s] [-load-latency-signins 8,32,128] ...")
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
	if *runs > 0 {
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
	if !*load {
		return
	}
	if *runs > 0 {
		fmt.Println()
	}
	res, err := perf.Load(ctx, perf.LoadConfig{
		Concurrency: clients, SignIns: signIns, LatencySignIns: latencySignIns,
		DynamoLatencies: latencies, NoLatency: len(latencies) == 0,
		Command: command, Progress: os.Stderr,
	}, perf.LoadHarnessOptions{Log: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: load:", err)
		if res != nil && len(res.Phases) > 0 {
			fmt.Print(res.Markdown()) // what was measured before the error
		}
		os.Exit(1)
	}
	fmt.Print(res.Markdown())
}

func joinInts(l []int) string {
	s := make([]string, len(l))
	for i, n := range l {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// parseInts parses "1,8,64" (each at least 1).
func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q: want positive integers separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseDurations parses "1s,250ms"; "0", "none" or "" is none.
func parseDurations(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" || f == "0" || f == "none" {
			continue
		}
		d, err := time.ParseDuration(f)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%q: want durations separated by commas", s)
		}
		if d > 0 {
			out = append(out, d)
		}
	}
	return out, nil
}
