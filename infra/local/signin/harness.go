package signin

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/infra/local/syncbuf"
)

// LogBuffer is an io.Writer safe for the harness's (or Chromium's) concurrent writers
// (syncbuf.Buffer); it keeps everything written for Tail.
type LogBuffer struct {
	syncbuf.Buffer
}

// Tail returns the last n lines, leaving out Chromium's complaints about a missing D-Bus
// (lines naming "dbus/").
func (b *LogBuffer) Tail(n int) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		if !strings.Contains(l, "dbus/") {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// StartTimeout bounds StartHarness's start (synthesis, build, dynalite): 5 minutes.
const StartTimeout = 5 * time.Minute

// StartHarness starts a harness with o for the test t, within StartTimeout of ctx, and fails the
// test when it does not start. The harness's log goes to a LogBuffer (o.Log is replaced) whose
// last 80 lines the test logs when it fails; the harness is closed when t ends, and an error
// closing it fails the test. It logs how long the start took. (The harness package silences jsii's Node.js banners when it is initialized: jsiienv.Quiet.)
func StartHarness(ctx context.Context, t testing.TB, o harness.Options) *harness.Harness {
	t.Helper()
	logs := &LogBuffer{}
	o.Log = logs
	startCtx, cancel := context.WithTimeout(ctx, StartTimeout)
	h, err := harness.Start(startCtx, o)
	cancel()
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("harness close: %v", err)
		}
		if t.Failed() {
			t.Logf("harness log (last lines):\n%s", logs.Tail(80))
		}
	})
	t.Logf("harness started in %s (build %s)", h.Startup.Total.Round(time.Millisecond), h.Startup.Build.Round(time.Millisecond))
	return h
}
