package jsiienv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestQuietSetsOnlyUnset(t *testing.T) {
	t.Setenv(Silenced[0][0], "18,20")
	t.Setenv(Silenced[1][0], "")
	os.Unsetenv(Silenced[1][0])
	setUnset()
	if got := os.Getenv(Silenced[0][0]); got != "18,20" {
		t.Errorf("%s = %q, want the user's value kept", Silenced[0][0], got)
	}
	if got, ok := os.LookupEnv(Silenced[1][0]); !ok || got != Silenced[1][1] {
		t.Errorf("%s = %q (set %v), want %q", Silenced[1][0], got, ok, Silenced[1][1])
	}
}

// TestQuietSilencesBanner starts jsii the way the test helpers and the harness do (Quiet in an
// init function), with no silencing variable in the environment: Node.js 20's end-of-life banner
// must not appear. On Node.js 20 it also checks that the banner appears without Quiet, so the test
// can tell the difference; on other versions there is no banner to silence and that half is skipped.
func TestQuietSilencesBanner(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node: jsii cannot start")
	}
	run := func(loud bool) string {
		t.Helper()
		cmd := exec.Command("go", "run", "./testdata/banner")
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "JSII_SILENCE_WARNING_") && !strings.HasPrefix(kv, "BANNER_LOUD=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		if loud {
			cmd.Env = append(cmd.Env, "BANNER_LOUD=1")
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go run ./testdata/banner: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := run(false); strings.Contains(out, "end-of-life") || strings.Contains(out, "!!!!") {
		t.Errorf("with Quiet at init, jsii still printed a banner:\n%s", out)
	}
	v, _ := exec.Command("node", "--version").Output()
	if !strings.HasPrefix(string(v), "v20.") {
		t.Skipf("node %s prints no end-of-life banner to silence", strings.TrimSpace(string(v)))
	}
	if out := run(true); !strings.Contains(out, "end-of-life") {
		t.Errorf("without Quiet, no banner on node %s: the test cannot tell silenced from absent\n%s", strings.TrimSpace(string(v)), out)
	}
}
