package testkit_test

import (
	"bytes"
	"fmt"
	"maps"
	"runtime"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/internal/testkit"
	"github.com/passwordless-go/cognito/lambdas/metrics"
)

// TestEMFCounts reads back what a metrics.Recorder wrote: counts summed by name and sorted
// dimensions.
func TestEMFCounts(t *testing.T) {
	var buf bytes.Buffer
	rec := metrics.New(&buf, "ns")
	rec.Count(metrics.Sent, metrics.Dims{Channel: "sms", Kind: "code"})
	rec.Count(metrics.Sent, metrics.Dims{Channel: "sms", Kind: "code"})
	rec.Count(metrics.SendRefused, metrics.Dims{Reason: "country", Channel: "sms"})
	rec.Flush()
	got := testkit.EMFCounts(t, buf.Bytes(), "ns")
	want := map[string]float64{"Sent{Channel=sms,Kind=code}": 2, "SendRefused{Channel=sms,Reason=country}": 1}
	if !maps.Equal(got, want) {
		t.Errorf("EMFCounts = %v, want %v", got, want)
	}
	if got := testkit.EMFCounts(t, nil, "ns"); len(got) != 0 {
		t.Errorf("no lines: %v", got)
	}
}

// fatalTB records the first Fatalf or Errorf and, on Fatalf, stops the goroutine as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalTB) Errorf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }

// failure runs fn with a fatalTB in its own goroutine and returns what it failed with ("": passed).
func failure(fn func(tb testing.TB)) string {
	tb := &fatalTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(tb)
	}()
	<-done
	return tb.msg
}

// TestEMFCountsRejects: each malformed line fails EMFCounts with its own message.
func TestEMFCountsRejects(t *testing.T) {
	const good = `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"ns","Dimensions":[["Channel"]],"Metrics":[{"Name":"Sent","Unit":"Count"}]}]},"Channel":"sms","Sent":1}`
	if msg := failure(func(tb testing.TB) { testkit.EMFCounts(tb, []byte(good+"\n"), "ns") }); msg != "" {
		t.Fatalf("a good line failed: %s", msg)
	}
	for _, c := range []struct{ name, line, want string }{
		{"blank", "\n", "not JSON"},
		{"no timestamp", strings.Replace(good, `"Timestamp":1`, `"Timestamp":0`, 1), "not an EMF document"},
		{"namespace", good, `namespace "ns", want "other"`},
		{"dimension without value", strings.Replace(good, `"Channel":"sms",`, "", 1), "dimension Channel has no value"},
		{"not a count", strings.Replace(good, `"Unit":"Count"`, `"Unit":"Seconds"`, 1), "unit Seconds"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns := "ns"
			if c.name == "namespace" {
				ns = "other"
			}
			msg := failure(func(tb testing.TB) { testkit.EMFCounts(tb, []byte(c.line), ns) })
			if !strings.Contains(msg, c.want) {
				t.Errorf("failure %q, want one containing %q", msg, c.want)
			}
		})
	}
}

// TestWantCounts: equal maps pass (nil and empty alike); any other difference fails, listing
// both maps sorted.
func TestWantCounts(t *testing.T) {
	if msg := failure(func(tb testing.TB) { testkit.WantCounts(tb, "", nil, map[string]float64{}) }); msg != "" {
		t.Errorf("nil and empty differ: %s", msg)
	}
	msg := failure(func(tb testing.TB) {
		testkit.WantCounts(tb, "step", map[string]float64{"B{}": 2, "A{X=y}": 1}, map[string]float64{"A{X=y}": 1})
	})
	if want := "step: metrics [A{X=y}=1 B{}=2], want [A{X=y}=1]"; msg != want {
		t.Errorf("failure %q, want %q", msg, want)
	}
}
