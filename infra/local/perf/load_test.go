//go:build unix

package perf_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/infra/local/perf"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
)

// TestLoadSmall runs the load with 1 and 8 clients and a few sign-ins each, without injected
// latency, and checks that every sign-in ends with tokens and no trigger failed or was retried.
// It asserts no timing.
func TestLoadSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole harness")
	}
	dynalitetest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var progress strings.Builder
	res, err := perf.Load(ctx, perf.LoadConfig{
		Concurrency:   []int{1, 8},
		SignIns:       []int{6, 24},
		NoLatency:     true,
		SignInTimeout: 30 * time.Second,
		Command:       "go test ./infra/local/perf -run TestLoadSmall",
		Progress:      &progress,
	}, perf.LoadHarnessOptions{MaxConcurrency: 8})
	t.Log(progress.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Phases) != 2 {
		t.Fatalf("%d phases, want 2", len(res.Phases))
	}
	for i, ph := range res.Phases {
		want := []int{6, 24}[i]
		if ph.SignIns != want || ph.OK != want || ph.Failed != 0 || len(ph.Latency) != want {
			t.Errorf("C=%d: %d of %d sign-ins ok, %d failed: %v", ph.Concurrency, ph.OK, ph.SignIns, ph.Failed, ph.Errors)
		}
		if len(ph.ByMethod[perf.MethodDeviceKey]) != want/2 || len(ph.ByMethod[perf.MethodEmailOTP]) != want/2 {
			t.Errorf("C=%d: %d device-key and %d email-code sign-ins, want %d each", ph.Concurrency,
				len(ph.ByMethod[perf.MethodDeviceKey]), len(ph.ByMethod[perf.MethodEmailOTP]), want/2)
		}
		if ph.TriggerRetries != 0 || ph.TriggerFailures != 0 {
			t.Errorf("C=%d: %d trigger retries, %d trigger failures", ph.Concurrency, ph.TriggerRetries, ph.TriggerFailures)
		}
		// Device key: define 2, create 1, verify 1; email code: define 3, create 2, verify 2.
		invocations := 0
		for k, tt := range ph.Triggers {
			invocations += len(tt.Durations)
			if tt.FunctionErrors+tt.Timeouts+tt.Abandoned != 0 {
				t.Errorf("C=%d: %s: %d function errors, %d timeouts, %d abandoned", ph.Concurrency, k, tt.FunctionErrors, tt.Timeouts, tt.Abandoned)
			}
		}
		if wantInv := want/2*4 + want/2*7; invocations != wantInv {
			t.Errorf("C=%d: %d trigger invocations timed, want %d", ph.Concurrency, invocations, wantInv)
		}
	}
	t.Log("\n" + res.Markdown())
}
