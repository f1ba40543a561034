package stacks_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/constructs/cdktest"
)

// TestCLISynth runs the pinned CDK CLI the way `make synth ENV=...` does, through cdk.json's
// `go run ./infra`, with bundling on: the cloud assembly of every environment must come out with
// zero template validation violations, no cdk-nag error and five bootstrap archives (uploaded as
// they are by `cdk deploy --app <assembly>`, on a machine without Go).
func TestCLISynth(t *testing.T) {
	cli := os.Getenv("CDK_CLI")
	if cli == "" {
		t.Skip("CDK_CLI not set (make test sets it to the pinned CLI in .tools/)")
	}
	if testing.Short() {
		t.Skip("slow: builds every Lambda")
	}
	for _, env := range []string{"dev", "prod"} {
		t.Run(env, func(t *testing.T) {
			out := t.TempDir()
			cmd := exec.Command(cli, "synth", "-c", "env="+env, "--quiet", "-o", out)
			cmd.Dir = "../.."
			cmd.Env = append(os.Environ(), "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1")
			b, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("cdk synth -c env=%s: %v\n%s", env, err, b)
			}
			if strings.Contains(string(b), "finished with errors") {
				t.Fatalf("synth reported errors:\n%s", b)
			}
			asm := cdktest.Assembly{Dir: out}
			if v := asm.ValidationViolations(t); len(v) > 0 {
				t.Errorf("validation violations: %v", v)
			}
			zips, _ := filepath.Glob(filepath.Join(out, "asset.*.zip"))
			if len(zips) != 5 {
				t.Errorf("want 5 bootstrap archives, got %d", len(zips))
			}
			// A pre-synthesized assembly is an app of its own (the CI pattern: synth where Go
			// is, deploy elsewhere): the CLI lists its stack without running Go.
			node, err := exec.LookPath("node")
			if err != nil {
				t.Fatal(err)
			}
			path := t.TempDir() // node alone on the PATH: no go
			if err := os.Symlink(node, filepath.Join(path, "node")); err != nil {
				t.Fatal(err)
			}
			ls := exec.Command(cli, "ls", "--app", out)
			ls.Dir = t.TempDir()
			ls.Env = append(os.Environ(), "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1", "PATH="+path)
			if b, err := ls.CombinedOutput(); err != nil || !strings.Contains(string(b), "Passwordless-"+env) {
				t.Errorf("cdk ls --app %s: %v\n%s", out, err, b)
			}
		})
	}
	t.Run("unknown environment", func(t *testing.T) {
		cmd := exec.Command(cli, "synth", "-c", "env=nosuch", "--quiet", "-o", t.TempDir())
		cmd.Dir = "../.."
		b, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(b), `unknown environment "nosuch"`) {
			t.Fatalf("want a clear error for an unknown environment, got %v:\n%s", err, b)
		}
	})
}
