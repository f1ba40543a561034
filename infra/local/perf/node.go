//go:build unix

package perf

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/passwordless-go/cognito/infra/local/lambdarun"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// The Node.js peer's SDK, pinned in node/package.json and node/package-lock.json.
const (
	NodeSDKPackage = "@aws-sdk/client-dynamodb"
	NodeSDKVersion = "3.1162.0"
)

// NodeHandlers are the Node.js peer's handlers, by the Go function each stands beside: verify
// (the SDK function: DynamoDBClient at module init, GetItem per attempt) and define (no SDK).
var NodeHandlers = []string{"verify", "define"}

//go:embed node/bootstrap node/package.json node/package-lock.json
var nodeFiles embed.FS

// ErrNoNode reports that node or npm is not on PATH.
var ErrNoNode = errors.New("perf: node and npm are needed on PATH for the Node.js comparison")

// NodeDir is where EnsureNode installs the SDK by default: <root>/.tools/perf-node.
func NodeDir(root string) string { return filepath.Join(root, ".tools", "perf-node") }

// installTimeout bounds npm ci.
const installTimeout = 5 * time.Minute

// EnsureNode makes sure dir holds the pinned SDK, installed from node/package-lock.json, and
// returns its node_modules directory. When it does not (missing, another version, another lock
// file), it writes node/package.json and node/package-lock.json into dir and runs
//
//	npm ci --prefix <dir> --no-audit --no-fund
//
// The error wraps ErrNoNode when node or npm is missing.
func EnsureNode(ctx context.Context, dir string) (string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", ErrNoNode
	}
	modules := filepath.Join(dir, "node_modules")
	pkg, _ := nodeFiles.ReadFile("node/package.json")
	lock, _ := nodeFiles.ReadFile("node/package-lock.json")
	if installed(dir, lock) {
		return modules, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", ErrNoNode
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("perf: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), pkg, 0o644); err != nil {
		return "", fmt.Errorf("perf: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), lock, 0o644); err != nil {
		return "", fmt.Errorf("perf: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--prefix", dir, "--no-audit", "--no-fund")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("perf: npm ci --prefix %s: %w\n%s", dir, err, out.Bytes())
	}
	if !installed(dir, lock) {
		return "", fmt.Errorf("perf: npm ci did not install %s@%s into %s", NodeSDKPackage, NodeSDKVersion, modules)
	}
	return modules, nil
}

// installed reports whether dir holds the SDK installed from lock.
func installed(dir string, lock []byte) bool {
	have, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil || !bytes.Equal(have, lock) {
		return false
	}
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", filepath.FromSlash(NodeSDKPackage), "package.json"))
	if err != nil {
		return false
	}
	var p struct{ Version string }
	return json.Unmarshal(b, &p) == nil && p.Version == NodeSDKVersion
}

// NodeVersion is `node --version`, or "" without node.
func NodeVersion() string {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// NodeFunction is the lambdarun configuration of the Node.js peer of the Go function handler
// ("verify" or "define"): node/bootstrap run by node with NODE_PATH=nodeModules and the Go
// function's environment (the same table, endpoint, region and limits).
func (r *Rig) NodeFunction(handler, nodeModules string) (lambdarun.Function, error) {
	goFn, err := r.Function(handler)
	if err != nil || (handler != "verify" && handler != "define") {
		return lambdarun.Function{}, fmt.Errorf("perf: no Node.js handler %q (want one of %v)", handler, NodeHandlers)
	}
	script, err := r.nodeScript()
	if err != nil {
		return lambdarun.Function{}, err
	}
	env := maps.Clone(goFn.Env)
	env["NODE_PATH"] = nodeModules
	env["PERF_NODE_HANDLER"] = handler
	env["PERF_PARTITION_KEY"] = store.PartitionKey
	env["PERF_SORT_KEY"] = store.SortKey
	return lambdarun.Function{
		Name:           "node-" + handler,
		Path:           script,
		Env:            env,
		MemoryMB:       r.MemoryMB,
		MaxConcurrency: 1,
		Stdout:         r.log,
		Stderr:         r.log,
	}, nil
}

// nodeScript writes node/bootstrap, executable, into the Rig's directory.
func (r *Rig) nodeScript() (string, error) {
	b, err := nodeFiles.ReadFile("node/bootstrap")
	if err != nil {
		return "", err
	}
	dir := filepath.Join(r.binDir, "node")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		return "", err
	}
	return p, os.Chmod(p, 0o755)
}

// NodeTarget is the cold-start Target of the Node.js peer of handler: the Go function's
// cold-start event and check.
func (r *Rig) NodeTarget(handler, nodeModules string) (Target, error) {
	fn, err := r.NodeFunction(handler, nodeModules)
	if err != nil {
		return Target{}, err
	}
	ev := coldEvents[handler]
	return Target{Name: fn.Name, Function: fn, Event: ev.event(), Check: ev.check}, nil
}

// NodeWorkload is the warm workload of the Node.js peer of handler: the Go function's events.
// The verify peer does not check answers (it reads the failure counter and says wrong).
func (r *Rig) NodeWorkload(ctx context.Context, handler string) (Workload, error) {
	w, err := r.Workload(ctx, handler)
	if err != nil || handler != "verify" {
		return w, err
	}
	return func(i int) Invocation {
		return Invocation{w(i).Event, want(`"answerCorrect":false`)}
	}, nil
}
