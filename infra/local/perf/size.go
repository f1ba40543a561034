//go:build unix

package perf

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/passwordless-go/cognito/constructs/passwordless"
)

// ArmBuildEnv is the environment of the construct's build on top of the caller's.
var ArmBuildEnv = []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=readonly"}

// buildTimeout bounds one go build (a cold build cache compiles the AWS SDK).
const buildTimeout = 10 * time.Minute

// BinarySizes builds each of Functions for linux/arm64 as the construct ships it
// (passwordless.BuildFlags, ArmBuildEnv) into <outDir>/<function>/bootstrap and returns the sizes
// in bytes. The builds run one after the other.
func BinarySizes(ctx context.Context, root, outDir string) (map[string]int64, error) {
	sizes := map[string]int64{}
	for _, c := range Functions {
		out := filepath.Join(outDir, c, "bootstrap")
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return nil, err
		}
		args := slices.Concat([]string{"build"}, passwordless.BuildFlags, []string{"-o", out, "./lambdas/cmd/" + c})
		bctx, cancel := context.WithTimeout(ctx, buildTimeout)
		cmd := exec.CommandContext(bctx, "go", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), ArmBuildEnv...)
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		err := cmd.Run()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("perf: %s go %s: %w\n%s", strings.Join(ArmBuildEnv, " "), strings.Join(args, " "), err, log.Bytes())
		}
		st, err := os.Stat(out)
		if err != nil {
			return nil, err
		}
		sizes[c] = st.Size()
	}
	return sizes, nil
}
