//go:build unix

package perf

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Targets of issue #7.
const (
	// TargetPeakRSS is the most a function's peak RSS may be: 16 MB.
	TargetPeakRSS = 16_000_000
	// TargetNodeRatio is the least the Node.js SDK function's p50 cold start should be, as a
	// multiple of the Go function's.
	TargetNodeRatio = 20
)

// Machine describes where the figures were taken.
type Machine struct {
	GoVersion string // the toolchain that built the functions (go env GOVERSION)
	OS, Arch  string
	CPUs      int
	CPUModel  string
	MemTotal  int64 // bytes, 0 if unknown
	Kernel    string
	Node      string // node --version, "" without node
}

// ReadMachine describes this machine.
func ReadMachine() Machine {
	m := Machine{GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), Node: NodeVersion()}
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUModel = procField(b, "model name")
		if m.CPUModel == "" {
			m.CPUModel = procField(b, "Model") // arm64
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if kb, err := strconv.ParseInt(strings.TrimSuffix(procField(b, "MemTotal"), " kB"), 10, 64); err == nil {
			m.MemTotal = kb << 10
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// procField is the value of the first "name: value" line of a /proc file.
func procField(b []byte, name string) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Markdown renders res as a section for BENCHMARKS.md.
func (res *Result) Markdown() string {
	var b strings.Builder
	m := res.Machine
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }

	p("## Cold start, memory and size (issue #7)\n\n")
	p("`%s`\n\n", res.Command)
	p("Machine: %s/%s, %d CPUs (%s)", m.OS, m.Arch, m.CPUs, orUnknown(m.CPUModel))
	if m.MemTotal > 0 {
		p(", %.1f GiB", float64(m.MemTotal)/(1<<30))
	}
	if m.Kernel != "" {
		p(", Linux %s", m.Kernel)
	}
	p("; %s", m.GoVersion)
	if m.Node != "" {
		p(", Node %s", m.Node)
	}
	p(". Date: %s. Measuring took %s.\n\n", res.Date.Format("2006-01-02 15:04 MST"), res.Elapsed.Round(time.Second))

	p("| function | bytes (linux/arm64) | cold start p50 ms | p90 ms | min ms | max ms | AWS calls at init | peak RSS MiB after %s warm | warm p50 us | Node p50 / Go p50 |\n", commas(int64(res.Invocations)))
	p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, f := range Functions {
		p("| %s | %s | %s | %s |\n", f, commas(res.Sizes[f]), res.coldCells(f), res.warmCells(f))
	}
	for _, h := range NodeHandlers {
		name := "node-" + h
		if _, ok := res.Cold[name]; !ok {
			continue
		}
		label := "Node.js " + h + " (no SDK)"
		if h == "verify" {
			label = "Node.js " + h + " (" + NodeSDKPackage + " " + NodeSDKVersion + ")"
		}
		ratio := "-"
		if g := Summarize(ColdStartDurations(res.Cold[h])).P50; g > 0 {
			ratio = fmt.Sprintf("**%.0fx** %s", float64(Summarize(ColdStartDurations(res.Cold[name])).P50)/float64(g), h)
		}
		p("| %s | - | %s | %s | %s |\n", label, res.coldCells(name), res.warmCells(name), ratio)
	}
	p("\n")

	p("- Cold start: exec to the first `GET /runtime/invocation/next` (lambdarun), each start a fresh process with the construct's environment (`perf.DefaultProps`: email_otp, sms_otp, device_key), %d starts per function, round-robin, nearest-rank percentiles, on this host's architecture (%s; the construct ships arm64). ", res.Runs, m.Arch)
	p("AWS calls at init: awsmock calls counted over all starts, each answering an event that makes no AWS call (so only init could make them).\n")
	p("- Peak RSS: VmHWM of one process after %s warm invocations (define: 2-round session; create: nonce and email code rounds alternately; verify: device-key and email code answers alternately, both right; presignup: email sign-up; api: `GET /me`), DynamoDB in dynalite and SES in awsmock. Warm p50: one invocation through the Runtime API on loopback, handler and its AWS calls included.\n", commas(int64(res.Invocations)))
	p("- Node.js peers: `infra/local/perf/node/bootstrap`, a minimal runtime-API loop (no runtime interface client, so it favours Node); verify creates a DynamoDBClient at module init and reads the failure counter per attempt, define decides from the session alone.\n")
	if res.NodeSkipped != "" {
		p("- No Node.js comparison: %s.\n", res.NodeSkipped)
	}
	p("\nTargets:\n\n")
	for _, line := range res.Verdicts() {
		p("- %s\n", line)
	}
	return b.String()
}

func (res *Result) coldCells(name string) string {
	starts := res.Cold[name]
	if len(starts) == 0 {
		return "- | - | - | - | -"
	}
	s := Summarize(ColdStartDurations(starts))
	return fmt.Sprintf("%.2f | %.2f | %.2f | %.2f | %d", Ms(s.P50), Ms(s.P90), Ms(s.Min), Ms(s.Max), InitCalls(starts))
}

func (res *Result) warmCells(name string) string {
	w, ok := res.Warm[name]
	if !ok {
		return "- | -"
	}
	return fmt.Sprintf("%.1f | %d", float64(w.PeakRSS)/(1<<20), w.Latency.P50.Microseconds())
}

// Verdicts says, per target, whether it was met.
func (res *Result) Verdicts() []string {
	var out []string
	calls := 0
	for _, starts := range res.Cold {
		calls += InitCalls(starts)
	}
	if calls == 0 {
		out = append(out, "no AWS call at init: met (0 awsmock calls during every start)")
	} else {
		out = append(out, fmt.Sprintf("no AWS call at init: **missed** (%d awsmock calls during start-up)", calls))
	}
	var over []string
	var largest string
	var peak int64
	for _, f := range Functions {
		w, ok := res.Warm[f]
		if !ok {
			continue
		}
		if w.PeakRSS > peak {
			peak, largest = w.PeakRSS, f
		}
		if w.PeakRSS > TargetPeakRSS {
			split := ""
			if w.RssFile > 0 {
				split = fmt.Sprintf(": %.1f MiB mapped binary, %.1f MiB anonymous", float64(w.RssFile)/(1<<20), float64(w.RssAnon)/(1<<20))
			}
			over = append(over, fmt.Sprintf("%s %.1f MiB = %s bytes%s", f, float64(w.PeakRSS)/(1<<20), commas(w.PeakRSS), split))
		}
	}
	switch {
	case peak == 0:
		out = append(out, "peak RSS <= 16 MB: not measured (no /proc)")
	case len(over) == 0:
		out = append(out, fmt.Sprintf("peak RSS <= 16 MB: met by all five (largest: %s, %s bytes = %.1f MiB)", largest, commas(peak), float64(peak)/(1<<20)))
	default:
		out = append(out, "peak RSS <= 16 MB: **missed** by "+strings.Join(over, ", "))
	}
	for _, h := range NodeHandlers {
		node, goStarts := res.Cold["node-"+h], res.Cold[h]
		if len(node) == 0 || len(goStarts) == 0 {
			continue
		}
		ratio := float64(Summarize(ColdStartDurations(node)).P50) / float64(Summarize(ColdStartDurations(goStarts)).P50)
		if h != "verify" {
			out = append(out, fmt.Sprintf("Node.js %s (no SDK) / Go %s cold start p50: %.0fx (no target)", h, h, ratio))
			continue
		}
		verdict := "met"
		if ratio < TargetNodeRatio {
			verdict = "**missed**"
		}
		out = append(out, fmt.Sprintf("Node.js SDK function / Go %s cold start p50 >= %dx: %s (%.0fx)", h, TargetNodeRatio, verdict, ratio))
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown CPU"
	}
	return s
}

// commas formats n with thousands separators.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
