//go:build unix

package perf

import (
	"context"
	"fmt"
	"maps"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/passwordless-go/cognito/infra/local/lambdarun"
)

// Warm is the outcome of warm invocations on one process.
type Warm struct {
	Invocations int
	// PeakRSS is the process's VmHWM after the last invocation, in bytes (0 where unreadable).
	PeakRSS int64
	// ColdStart of the process (the first invocation's start).
	ColdStart time.Duration
	// Latency of each invocation after the first, through the Runtime API on loopback.
	Latency Summary
	// RssAnon and RssFile split the process's resident set after the last invocation, in bytes:
	// anonymous memory (Go heap, stacks, runtime) and file-backed pages (the mapped binary).
	// 0 where /proc is not readable.
	RssAnon, RssFile int64
	// Calls are awsmock's calls during the run, by operation.
	Calls map[string]int
}

// invokeTimeout bounds one warm invocation: the construct's function timeout and a margin (the
// Host kills a process that runs over the function timeout).
const invokeTimeout = lambdarun.DefaultTimeout + 5*time.Second

// Warm starts fn on one process and invokes it n times with w's events, checking every answer,
// then reads the process's peak RSS. It fails if the process had to be replaced.
func (r *Rig) Warm(ctx context.Context, name string, fn lambdarun.Function, w Workload, n int) (Warm, error) {
	if n < 1 {
		return Warm{}, fmt.Errorf("perf: %s: need at least one invocation", name)
	}
	fn.MaxConcurrency = 1
	before := r.AWS.Calls()
	h, err := lambdarun.Start(ctx, fn)
	if err != nil {
		return Warm{}, fmt.Errorf("perf: %s: %w", name, err)
	}
	defer h.Close()
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return Warm{}, err
		}
		inv := w(i)
		ictx, cancel := context.WithTimeout(ctx, invokeTimeout+startTimeout*time.Duration(btoi(i == 0)))
		t0 := time.Now()
		out, err := h.Invoke(ictx, inv.Event)
		d := time.Since(t0)
		cancel()
		if err != nil {
			return Warm{}, fmt.Errorf("perf: %s: invocation %d: %w%s", name, i+1, err, logTail(h))
		}
		if err := inv.Check(out); err != nil {
			return Warm{}, fmt.Errorf("perf: %s: invocation %d: %w%s", name, i+1, err, logTail(h))
		}
		if i > 0 {
			lat = append(lat, d)
		}
	}
	s := h.Stats()
	if s.ColdStarts != 1 || len(s.ColdStartDurations) != 1 {
		return Warm{}, fmt.Errorf("perf: %s: %d processes ran %d invocations, want 1", name, s.ColdStarts, n)
	}
	res := Warm{Invocations: s.Invocations, PeakRSS: h.PeakRSS(), ColdStart: s.ColdStartDurations[0], Latency: Summarize(lat)}
	res.RssAnon, res.RssFile = rssSplit(s.Processes[0].PID)
	h.Close()
	after := r.AWS.Calls()
	res.Calls = map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			res.Calls[k] = d
		}
	}
	return res, nil
}

// WarmFunction runs Warm for one of Functions with its Workload.
func (r *Rig) WarmFunction(ctx context.Context, name string, n int) (Warm, error) {
	fn, err := r.Function(name)
	if err != nil {
		return Warm{}, err
	}
	w, err := r.Workload(ctx, name)
	if err != nil {
		return Warm{}, err
	}
	return r.Warm(ctx, name, fn, w, n)
}

// CallsTotal sums a Calls map.
func CallsTotal(calls map[string]int) int {
	n := 0
	for v := range maps.Values(calls) {
		n += v
	}
	return n
}

// rssSplit reads RssAnon and RssFile of pid from /proc, in bytes (0 where unreadable).
func rssSplit(pid int) (anon, file int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	kb := func(name string) int64 {
		n, _ := strconv.ParseInt(strings.TrimSuffix(procField(b, name), " kB"), 10, 64)
		return n << 10
	}
	return kb("RssAnon"), kb("RssFile")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
