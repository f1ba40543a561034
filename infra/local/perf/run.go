//go:build unix

package perf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"
)

// Config configures Run.
type Config struct {
	// Runs is the number of cold starts of each function (at least 1; the command requires 10).
	Runs int
	// Invocations is the number of warm invocations of each function for its peak RSS.
	Invocations int
	// NodeDir is where the Node.js peer's SDK is installed (default NodeDir(root)). Node is
	// skipped, with the reason in Result.NodeSkipped, when node or npm is missing.
	NodeDir string
	// NoNode skips the Node.js comparison.
	NoNode bool
	// Command is the command line quoted in the report.
	Command string
	// Progress receives one line per step (default: discarded).
	Progress io.Writer
}

// Result is everything Run measured.
type Result struct {
	Machine     Machine
	Date        time.Time
	Command     string
	Runs        int
	Invocations int
	// Sizes are the linux/arm64 bootstraps' sizes in bytes, by function.
	Sizes map[string]int64
	// Cold are the cold starts by target: the functions and "node-verify", "node-define".
	Cold map[string][]Cold
	// Warm are the warm runs by target.
	Warm map[string]Warm
	// NodeSkipped says why there is no Node.js comparison ("" when there is one).
	NodeSkipped string
	Elapsed     time.Duration
}

// Run measures everything on r: the arm64 sizes, cfg.Runs cold starts of every function and of
// the Node.js peers (round-robin), then cfg.Invocations warm invocations of each. The builds run
// first so they do not disturb the timings.
func Run(ctx context.Context, r *Rig, cfg Config) (*Result, error) {
	t0 := time.Now()
	if cfg.Runs < 1 || cfg.Invocations < 1 {
		return nil, errors.New("perf: Runs and Invocations must be at least 1")
	}
	progress := cfg.Progress
	if progress == nil {
		progress = io.Discard
	}
	step := func(format string, a ...any) {
		fmt.Fprintf(progress, "%s  "+format+"\n", append([]any{time.Since(t0).Round(100 * time.Millisecond)}, a...)...)
	}
	res := &Result{
		Machine: ReadMachine(), Date: time.Now().UTC(), Command: cfg.Command,
		Runs: cfg.Runs, Invocations: cfg.Invocations, Warm: map[string]Warm{},
	}

	step("building the five functions for linux/arm64 (construct flags)")
	sizes, err := BinarySizes(ctx, r.Root, filepath.Join(r.binDir, "arm64"))
	if err != nil {
		return nil, err
	}
	res.Sizes = sizes

	var targets []Target
	for _, f := range Functions {
		t, err := r.Target(f)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}
	modules := ""
	switch {
	case cfg.NoNode:
		res.NodeSkipped = "not asked for"
	default:
		dir := cfg.NodeDir
		if dir == "" {
			dir = NodeDir(r.Root)
		}
		step("checking %s@%s in %s", NodeSDKPackage, NodeSDKVersion, dir)
		modules, err = EnsureNode(ctx, dir)
		if errors.Is(err, ErrNoNode) {
			res.NodeSkipped = err.Error()
			break
		}
		if err != nil {
			return nil, err
		}
		for _, h := range NodeHandlers {
			t, err := r.NodeTarget(h, modules)
			if err != nil {
				return nil, err
			}
			targets = append(targets, t)
		}
	}

	step("cold starts: %d x %d targets, round-robin", cfg.Runs, len(targets))
	res.Cold, err = r.ColdStarts(ctx, targets, cfg.Runs)
	if err != nil {
		return nil, err
	}

	for _, f := range Functions {
		step("warm: %d invocations of %s", cfg.Invocations, f)
		w, err := r.WarmFunction(ctx, f, cfg.Invocations)
		if err != nil {
			return nil, err
		}
		res.Warm[f] = w
	}
	if modules != "" {
		for _, h := range NodeHandlers {
			step("warm: %d invocations of node-%s", cfg.Invocations, h)
			fn, err := r.NodeFunction(h, modules)
			if err != nil {
				return nil, err
			}
			wl, err := r.NodeWorkload(ctx, h)
			if err != nil {
				return nil, err
			}
			w, err := r.Warm(ctx, fn.Name, fn, wl, cfg.Invocations)
			if err != nil {
				return nil, err
			}
			res.Warm[fn.Name] = w
		}
	}
	res.Elapsed = time.Since(t0)
	step("done")
	return res, nil
}
