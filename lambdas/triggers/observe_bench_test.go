package triggers_test

import (
	"context"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// nopPutter takes every audit entry at once.
type nopPutter struct{}

func (nopPutter) PutEvents(context.Context, []awsapi.EventEntry) (int, error) { return 0, nil }

// logBytes counts what the Recorder writes, for the log-bytes/op figure.
type logBytes struct{ n int }

func (w *logBytes) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkVerifyObserve is the cost of metrics and audit on one wrong code as audit.Wrap runs
// it: Verify with a fake checker and counter, then the Publisher's Flush (to a putter that
// answers at once) and the Recorder's Flush (to io.Discard). "off" is the same without either.
func BenchmarkVerifyObserve(b *testing.B) {
	ev := codeEvent(authflow.EmailOTP, obsCode)
	for _, mode := range []string{"off", "metrics", "metrics+audit"} {
		b.Run(mode, func(b *testing.B) {
			v := verifyWith(&fakeChecker{}, &fakeCounter{})()
			var w logBytes
			var rec *metrics.Recorder
			var pub *audit.Publisher
			if mode != "off" {
				rec = metrics.New(&w, "Passwordless/Passwordless-prod/Passwordless")
				v.Metrics = rec
			}
			if mode == "metrics+audit" {
				var err error
				pub, err = audit.FromEnv(func(k string) string {
					return map[string]string{audit.EnvEventBus: "security-events"}[k]
				}, nopPutter{}, nil, rec, "verify")
				if err != nil {
					b.Fatal(err)
				}
				v.Audit = pub
			}
			h := audit.Wrap(v.Handle, pub, rec)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				out, err := h(ctx, ev)
				if err != nil || out.Response.AnswerCorrect {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(w.n)/float64(b.N), "log-bytes/op")
		})
	}
}

// BenchmarkCreateNonceObserve is BenchmarkCreateNonce with and without SignInStarted and the
// Recorder's Flush.
func BenchmarkCreateNonceObserve(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "off", true: "metrics"}[on], func(b *testing.B) {
			c := &triggers.Create{Keys: testKeys, Config: allCfg}
			var w logBytes
			var rec *metrics.Recorder
			if on {
				rec = metrics.New(&w, "Passwordless/Passwordless-prod/Passwordless")
				c.Metrics = rec
			}
			h := audit.Wrap(c.Handle, nil, rec)
			ctx := context.Background()
			ev := createEvent(nil, nil, false)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(w.n)/float64(b.N), "log-bytes/op")
		})
	}
}
