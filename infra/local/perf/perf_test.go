//go:build unix

package perf_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/infra/local/perf"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// One Rig (five host builds, dynalite, awsmock) for the whole test binary, closed by TestMain.
var shared struct {
	once    sync.Once
	rig     *perf.Rig
	err     error
	nodeDo  sync.Once
	modules string
	nodeErr error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.rig != nil {
		shared.rig.Close()
	}
	os.Exit(code)
}

// rig returns the shared Rig. Without dynalite the test is skipped, or failed with
// REQUIRE_DYNALITE=1.
func rig(tb testing.TB) *perf.Rig {
	tb.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		shared.rig, shared.err = perf.Start(ctx, perf.Options{})
	})
	if errors.Is(shared.err, dynalitetest.ErrNotInstalled) && os.Getenv(dynalitetest.EnvRequire) != "1" {
		tb.Skipf("skipping: %v (set %s=1 to make this a failure)", shared.err, dynalitetest.EnvRequire)
	}
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.rig
}

// nodeModules installs the Node.js peer's SDK if needed; without node or npm the test is skipped.
func nodeModules(tb testing.TB) string {
	tb.Helper()
	r := rig(tb)
	shared.nodeDo.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
		defer cancel()
		shared.modules, shared.nodeErr = perf.EnsureNode(ctx, perf.NodeDir(r.Root))
	})
	if errors.Is(shared.nodeErr, perf.ErrNoNode) {
		tb.Skip(shared.nodeErr)
	}
	if shared.nodeErr != nil {
		tb.Fatal(shared.nodeErr)
	}
	return shared.modules
}

// TestStartup starts each function once with the construct's environment: it must reach
// GET /next (a function missing a variable it needs exits at init and fails here), answer the
// cold-start event, and make no AWS call while starting.
func TestStartup(t *testing.T) {
	r := rig(t)
	ctx := context.Background()
	check := func(t *testing.T, target perf.Target) {
		c, err := r.ColdStart(ctx, target)
		if err != nil {
			t.Fatal(err)
		}
		if c.ColdStart <= 0 {
			t.Errorf("no cold-start duration: the process never reached GET /next")
		}
		if c.InitCalls != 0 {
			t.Errorf("%d awsmock calls during start-up, want 0: %v", c.InitCalls, r.AWS.Calls())
		}
		t.Logf("cold start %v, peak RSS %.1f MiB", c.ColdStart.Round(10*time.Microsecond), float64(c.PeakRSS)/(1<<20))
	}
	for _, f := range perf.Functions {
		t.Run(f, func(t *testing.T) {
			target, err := r.Target(f)
			if err != nil {
				t.Fatal(err)
			}
			check(t, target)
		})
	}
	for _, h := range perf.NodeHandlers {
		t.Run("node-"+h, func(t *testing.T) {
			target, err := r.NodeTarget(h, nodeModules(t))
			if err != nil {
				t.Fatal(err)
			}
			check(t, target)
		})
	}
}

// TestStartupNeedsEnv shows that TestStartup would catch a missing variable: verify without
// KEY_TABLE_NAME exits at init.
func TestStartupNeedsEnv(t *testing.T) {
	r := rig(t)
	target, err := r.Target("verify")
	if err != nil {
		t.Fatal(err)
	}
	delete(target.Function.Env, store.EnvTableName)
	if _, err := r.ColdStart(context.Background(), target); err == nil {
		t.Fatalf("verify started without %s", store.EnvTableName)
	} else {
		t.Logf("as expected: %v", err)
	}
}

// TestWorkloads runs a few warm invocations of every function with its workload: every answer
// is checked, and the AWS calls are the ones the events should cause.
func TestWorkloads(t *testing.T) {
	r := rig(t)
	ctx := context.Background()
	const n = 4
	for _, f := range perf.Functions {
		t.Run(f, func(t *testing.T) {
			w, err := r.WarmFunction(ctx, f, n)
			if err != nil {
				t.Fatal(err)
			}
			if w.Invocations != n || w.PeakRSS <= 0 {
				t.Errorf("warm = %+v", w)
			}
			switch f {
			case "create":
				if w.Calls["ses.SendEmail"] != n/2 {
					t.Errorf("calls = %v, want %d ses.SendEmail", w.Calls, n/2)
				}
			case "verify":
				// Device-key answers read the key; code answers reserve and give back a lockout
				// attempt slot (updates).
				if w.Calls["dynamodb.GetItem"] < n/2 || w.Calls["dynamodb.UpdateItem"] < n/2 {
					t.Errorf("calls = %v, want at least %d dynamodb.GetItem and %d dynamodb.UpdateItem", w.Calls, n/2, n/2)
				}
			default:
				if len(w.Calls) != 0 {
					t.Errorf("calls = %v, want none", w.Calls)
				}
			}
			t.Logf("peak RSS %.1f MiB, calls %v", float64(w.PeakRSS)/(1<<20), w.Calls)
		})
	}
	for _, h := range perf.NodeHandlers {
		t.Run("node-"+h, func(t *testing.T) {
			fn, err := r.NodeFunction(h, nodeModules(t))
			if err != nil {
				t.Fatal(err)
			}
			wl, err := r.NodeWorkload(ctx, h)
			if err != nil {
				t.Fatal(err)
			}
			w, err := r.Warm(ctx, fn.Name, fn, wl, n)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("peak RSS %.1f MiB, calls %v", float64(w.PeakRSS)/(1<<20), w.Calls)
		})
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 10; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := perf.Summarize(ds)
	want := perf.Summary{N: 10, P50: 5 * time.Millisecond, P90: 9 * time.Millisecond, Min: time.Millisecond, Max: 10 * time.Millisecond}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if !slices.IsSortedFunc(ds, func(a, b time.Duration) int { return int(b - a) }) {
		t.Error("Summarize sorted its argument")
	}
	if got := perf.Summarize([]time.Duration{3 * time.Millisecond}); got.P50 != 3*time.Millisecond || got.P90 != 3*time.Millisecond {
		t.Errorf("one value: %+v", got)
	}
}

// minStarts is the fewest cold starts a benchmark reports percentiles over.
const minStarts = 10

func benchColdStart(b *testing.B, r *perf.Rig, target perf.Target) {
	ctx := context.Background()
	var starts []perf.Cold
	for i := 0; i < max(b.N, minStarts); i++ {
		c, err := r.ColdStart(ctx, target)
		if err != nil {
			b.Fatal(err)
		}
		starts = append(starts, c)
	}
	if n := perf.InitCalls(starts); n != 0 {
		b.Fatalf("%d awsmock calls during start-up, want 0", n)
	}
	s := perf.Summarize(perf.ColdStartDurations(starts))
	b.ReportMetric(perf.Ms(s.P50), "ms/coldstart")
	b.ReportMetric(perf.Ms(s.P90), "ms/coldstart-p90")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkColdStart starts each function in a fresh process (at least 10 times) and reports the
// p50 and p90 of exec to the first GET /next.
func BenchmarkColdStart(b *testing.B) {
	r := rig(b)
	for _, f := range perf.Functions {
		b.Run(f, func(b *testing.B) {
			target, err := r.Target(f)
			if err != nil {
				b.Fatal(err)
			}
			benchColdStart(b, r, target)
		})
	}
}

// BenchmarkColdStartNode is BenchmarkColdStart for the Node.js peers of verify (SDK) and define.
func BenchmarkColdStartNode(b *testing.B) {
	r := rig(b)
	modules := nodeModules(b)
	for _, h := range perf.NodeHandlers {
		b.Run(h, func(b *testing.B) {
			target, err := r.NodeTarget(h, modules)
			if err != nil {
				b.Fatal(err)
			}
			benchColdStart(b, r, target)
		})
	}
}

// BenchmarkWarm invokes each function b.N times on one process with its workload and reports the
// time per invocation through the Runtime API and the process's peak RSS.
func BenchmarkWarm(b *testing.B) {
	r := rig(b)
	ctx := context.Background()
	for _, f := range perf.Functions {
		b.Run(f, func(b *testing.B) {
			w, err := r.WarmFunction(ctx, f, b.N+1)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(w.Latency.P50.Microseconds()), "us/invoke-p50")
			b.ReportMetric(float64(w.PeakRSS)/(1<<20), "MiB/peak-rss")
		})
	}
}
