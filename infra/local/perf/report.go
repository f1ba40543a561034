//go:build unix

package perf

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/passwordless-go/cognito/lambdas/awsconfig"
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

// Markdown renders a load run as a section for BENCHMARKS.md.
func (res *LoadResult) Markdown() string {
	var b strings.Builder
	m := res.Machine
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f", Ms(d)) }

	p("## Sign-ins under load\n\n")
	if res.Command != "" {
		p("`%s`\n\n", res.Command)
	}
	p("Machine: %s/%s, %d CPUs (%s)", m.OS, m.Arch, m.CPUs, orUnknown(m.CPUModel))
	if m.MemTotal > 0 {
		p(", %.1f GiB", float64(m.MemTotal)/(1<<30))
	}
	p("; %s. Date: %s. Measuring took %s.\n\n", m.GoVersion, res.Date.Format("2006-01-02 15:04 MST"), res.Elapsed.Round(time.Second))
	p("The whole local stack (`infra/local/harness`: emulated user pool, the built bootstraps behind lambdarun")
	if res.MaxConcurrency > 0 {
		p(" with up to %d execution environments per function", res.MaxConcurrency)
	}
	p(", dynalite behind awsmock, the HTTP API). C clients run complete sign-ins back to back through the cognitoidentityprovider SDK (no SDK retries), alternately a P-256 device key (registered before) and an email code (the user's first, so it also marks the address verified); every sign-in has its own user and address. Latency: InitiateAuth to tokens, the code's delivery included; nearest-rank percentiles, so with fewer than 1,000 sign-ins p99.9 is the slowest one.\n\n")

	p("| DynamoDB latency | clients | sign-ins | ok | failed (timed out) | seconds | sign-ins/s | p50 ms | p99 ms | p99.9 ms | max ms | device key p50 ms | email code p50 ms | DynamoDB calls | trigger retries / failures |\n")
	p("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, ph := range res.Phases {
		t := TailOf(ph.Latency)
		cell := func(d time.Duration) string {
			if t.N == 0 {
				return "-"
			}
			return ms(d)
		}
		methodP50 := func(method string) string {
			if len(ph.ByMethod[method]) == 0 {
				return "-"
			}
			return ms(TailOf(ph.ByMethod[method]).P50)
		}
		p("| %s | %d | %d | %d | %d (%d) | %.1f | %.1f | %s | %s | %s | %s | %s | %s | %d | %d / %d |\n",
			latencyLabel(ph.DynamoLatency), ph.Concurrency, ph.SignIns, ph.OK, ph.Failed, ph.TimedOut, ph.Elapsed.Seconds(), ph.SignInsPerSecond(),
			cell(t.P50), cell(t.P99), cell(t.P999), cell(t.Max), methodP50(MethodDeviceKey), methodP50(MethodEmailOTP), ph.DynamoCalls, ph.TriggerRetries, ph.TriggerFailures)
	}
	p("\nTrigger invocations as Cognito sees them (the pool's invoke to the answer, a wait for a free execution environment included); Cognito's budget is %s per invocation, the functions' timeout %s. \"gave up\" are invocations the pool abandoned at its budget (then retried, as Cognito does).\n\n", CognitoTriggerBudget, FunctionTimeout)
	p("| DynamoDB latency | clients | trigger | invocations | p50 ms | p99 ms | p99.9 ms | max ms | function errors | function timeouts | gave up at %s |\n", CognitoTriggerBudget)
	p("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, ph := range res.Phases {
		for _, k := range triggerOrder(slices.Collect(maps.Keys(ph.Triggers))) {
			tt := ph.Triggers[k]
			t := TailOf(tt.Durations)
			p("| %s | %d | %s | %d | %s | %s | %s | %s | %d | %d | %d |\n", latencyLabel(ph.DynamoLatency), ph.Concurrency, k, t.N,
				ms(t.P50), ms(t.P99), ms(t.P999), ms(t.Max), tt.FunctionErrors, tt.Timeouts, tt.Abandoned)
		}
	}
	var failures []string
	for _, ph := range res.Phases {
		for _, e := range slices.Sorted(maps.Keys(ph.Errors)) {
			failures = append(failures, fmt.Sprintf("%s, C=%d: %d x %s", latencyLabel(ph.DynamoLatency), ph.Concurrency, ph.Errors[e], e))
		}
	}
	if len(failures) > 0 {
		p("\nFailed sign-ins:\n\n")
		for _, f := range failures {
			p("- %s\n", f)
		}
	}
	slowest := time.Duration(0)
	for _, ph := range res.Phases {
		slowest = max(slowest, ph.DynamoLatency)
	}
	if slowest > 0 {
		p("\nThe functions' AWS SDK (`lambdas/awsconfig`) gives each HTTP attempt %s and makes at most %d attempts (backoff up to %s)", awsconfig.AttemptTimeout, awsconfig.MaxAttempts, awsconfig.MaxBackoff)
		if slowest >= awsconfig.AttemptTimeout {
			p(": an injected latency of %s or more makes every DynamoDB attempt time out, so each trigger's first DynamoDB call fails after about %d x %s and the trigger fails closed (\"sign-in temporarily unavailable\") well inside Cognito's budget", awsconfig.AttemptTimeout, awsconfig.MaxAttempts, awsconfig.AttemptTimeout)
		}
		p(".\n")
	}
	p("\nVerdicts:\n\n")
	for _, line := range res.Verdicts() {
		p("- %s\n", line)
	}
	return b.String()
}

// Verdicts says, per phase, whether every sign-in succeeded and, with injected latency, whether
// every trigger's p99.9 stayed inside Cognito's budget.
func (res *LoadResult) Verdicts() []string {
	var out []string
	for _, ph := range res.Phases {
		head := fmt.Sprintf("DynamoDB latency %s, C=%d", latencyLabel(ph.DynamoLatency), ph.Concurrency)
		ok := "every sign-in succeeded"
		if ph.Failed > 0 {
			ok = fmt.Sprintf("**%d of %d sign-ins failed** (%d timed out)", ph.Failed, ph.SignIns, ph.TimedOut)
		}
		if ph.DynamoLatency == 0 {
			out = append(out, fmt.Sprintf("%s: %s; p99.9 %s ms", head, ok, fmtTail(ph.Latency)))
			continue
		}
		var over []string
		worst, worstKey := time.Duration(0), ""
		for _, k := range triggerOrder(slices.Collect(maps.Keys(ph.Triggers))) {
			tt := ph.Triggers[k]
			t := TailOf(tt.Durations)
			if t.P999 > worst {
				worst, worstKey = t.P999, k
			}
			if t.P999 >= CognitoTriggerBudget || tt.Abandoned > 0 {
				over = append(over, fmt.Sprintf("%s p99.9 %.1f s, %d gave up", k, t.P999.Seconds(), tt.Abandoned))
			}
		}
		budget := fmt.Sprintf("every trigger's p99.9 inside Cognito's %s: met (slowest: %s, %.1f s)", CognitoTriggerBudget, worstKey, worst.Seconds())
		if len(over) > 0 {
			budget = fmt.Sprintf("every trigger's p99.9 inside Cognito's %s: **missed** (%s)", CognitoTriggerBudget, strings.Join(over, "; "))
		}
		out = append(out, fmt.Sprintf("%s: %s; %s; sign-in p99.9 %s ms", head, ok, budget, fmtTail(ph.Latency)))
	}
	return out
}

func fmtTail(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", Ms(TailOf(ds).P999))
}

func latencyLabel(d time.Duration) string {
	if d == 0 {
		return "none"
	}
	return d.String()
}
