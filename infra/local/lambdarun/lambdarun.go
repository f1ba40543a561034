//go:build unix

// Package lambdarun runs built Lambda bootstrap binaries behind a local Lambda Runtime API
// (2018-06-01), so tests and benchmarks exercise the real binaries the construct ships: a packaging
// mistake (wrong build flags, a missing environment variable, a panic at init) fails them.
//
// Each execution environment is one process with its own loopback listener serving the Runtime
// API, started with the standard Lambda environment plus the function's own variables and nothing
// else from the parent's environment but PATH. Invocations on one process are sequential; a Host
// runs up to MaxConcurrency processes, starting one only when none is idle. A process that times
// out, crashes or reports an init error is killed and replaced on the next invocation, as Lambda
// does.
//
// The package never logs or prints event payloads or responses; the functions' own output goes to
// Function.Stdout/Stderr and to an in-memory tail readable with Host.Logs.
package lambdarun

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/passwordless-go/cognito/constructs/passwordless"
)

// Limits and defaults, as Lambda applies them.
const (
	// DefaultTimeout is the construct's function timeout.
	DefaultTimeout = time.Duration(passwordless.TriggerTimeoutSeconds) * time.Second
	// DefaultMemoryMB is the construct's default memory size.
	DefaultMemoryMB = passwordless.DefaultMemorySize
	// DefaultMaxConcurrency is the default number of execution environments.
	DefaultMaxConcurrency = 4
	// DefaultInitTimeout bounds the init phase (exec to the first GET /next), as Lambda's 10 s.
	DefaultInitTimeout = 10 * time.Second
	// DefaultRegion is AWS_REGION when Function.Env does not set it.
	DefaultRegion = "us-east-1"
	// MaxPayloadBytes is the synchronous invocation request and response limit (6 MB).
	MaxPayloadBytes = 6 * 1024 * 1024

	shutdownGrace = 500 * time.Millisecond // SIGTERM to SIGKILL on Close
	logTailBytes  = 1 << 20                // Host.Logs
	stderrTail    = 16 << 10               // CrashError.StderrTail
	maxAttempts   = 3                      // an event not yet delivered to a dead warm process is retried
)

// ErrTimeout is returned by Invoke when the function did not respond within Function.Timeout. The
// process is killed; the next invocation starts a fresh one.
var ErrTimeout = errors.New("lambdarun: task timed out")

// ErrClosed is returned by Invoke once the Host is closed.
var ErrClosed = errors.New("lambdarun: host closed")

// FunctionError is an error the function reported for one invocation: what aws-lambda-go posts to
// /runtime/invocation/{id}/error when the handler returns an error or panics. The process is kept
// unless it exits.
type FunctionError struct {
	Type    string // errorType, e.g. "errorString" or "Runtime.Panic"
	Message string // errorMessage
}

func (e *FunctionError) Error() string {
	if e.Type == "" {
		return "lambdarun: function error: " + e.Message
	}
	return "lambdarun: function error " + e.Type + ": " + e.Message
}

// CrashError is returned when the execution environment died: the process exited (log.Fatal or a
// panic at init, os.Exit or a panic during the invocation), posted /runtime/init/error, did not
// finish init within Function.InitTimeout, or went over its memory size.
type CrashError struct {
	Reason     string         // what happened, e.g. "runtime exited during init"
	ExitCode   int            // the exit status; -1 when the process was killed by a signal
	Signal     string         // the signal that ended the process, if any
	InitError  *FunctionError // what the runtime posted to /runtime/init/error, if it did
	StderrTail string         // the last bytes the process wrote to stderr
}

func (e *CrashError) Error() string {
	var b strings.Builder
	b.WriteString("lambdarun: ")
	b.WriteString(e.Reason)
	switch {
	case e.Signal != "":
		fmt.Fprintf(&b, " (signal: %s)", e.Signal)
	case e.ExitCode >= 0:
		fmt.Fprintf(&b, " (exit status %d)", e.ExitCode)
	}
	if e.InitError != nil {
		fmt.Fprintf(&b, ": %s: %s", e.InitError.Type, e.InitError.Message)
	} else if line := keyLine(e.StderrTail); line != "" {
		b.WriteString(": ")
		b.WriteString(line)
	}
	return b.String()
}

// keyLine picks the line of a stderr tail that says what went wrong: a Go panic or fatal error,
// else the last non-empty line.
func keyLine(tail string) string {
	lines := strings.Split(tail, "\n")
	pick := ""
	for _, l := range lines {
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			pick = l
			break
		}
	}
	if pick == "" {
		for i := len(lines) - 1; i >= 0; i-- {
			if s := strings.TrimSpace(lines[i]); s != "" {
				pick = s
				break
			}
		}
	}
	if len(pick) > 512 {
		pick = pick[:512] + "..."
	}
	return pick
}

// Function configures one function. Zero values take the defaults.
type Function struct {
	// Name is AWS_LAMBDA_FUNCTION_NAME. Default: the directory holding Path when Path is
	// .../<command>/bootstrap, else the file name.
	Name string
	// Path is the bootstrap binary, built for this host (see Build).
	Path string
	// Env is the function's own environment (what the construct sets), applied on top of the
	// standard Lambda variables. Nothing else from the parent's environment is passed but PATH.
	Env map[string]string
	// Timeout of one invocation, from delivery of the event. Default DefaultTimeout (4 s).
	Timeout time.Duration
	// InitTimeout bounds exec to the first GET /next. Default DefaultInitTimeout (10 s).
	InitTimeout time.Duration
	// MemoryMB is AWS_LAMBDA_FUNCTION_MEMORY_SIZE. A process whose peak RSS (where readable)
	// exceeds it after an invocation is killed and the invocation fails with a CrashError.
	// Default DefaultMemoryMB (256).
	MemoryMB int
	// MaxConcurrency is the most execution environments (processes) at once. Default 4.
	MaxConcurrency int
	// Stdout and Stderr receive the processes' output, whole lines at a time. Default: kept only in
	// the in-memory tail returned by Host.Logs (which always holds the latest output).
	Stdout, Stderr io.Writer
}

func (fn Function) withDefaults() (Function, error) {
	if fn.Path == "" {
		return fn, errors.New("lambdarun: Function.Path is empty")
	}
	p, err := filepath.Abs(fn.Path)
	if err != nil {
		return fn, fmt.Errorf("lambdarun: %w", err)
	}
	fn.Path = p
	st, err := os.Stat(p)
	if err != nil {
		return fn, fmt.Errorf("lambdarun: %w", err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return fn, fmt.Errorf("lambdarun: %s is not an executable file", p)
	}
	if err := checkArch(p); err != nil {
		return fn, err
	}
	if fn.Name == "" {
		fn.Name = filepath.Base(p)
		if fn.Name == "bootstrap" {
			fn.Name = filepath.Base(filepath.Dir(p))
		}
	}
	if fn.Timeout == 0 {
		fn.Timeout = DefaultTimeout
	}
	if fn.InitTimeout == 0 {
		fn.InitTimeout = DefaultInitTimeout
	}
	if fn.MemoryMB == 0 {
		fn.MemoryMB = DefaultMemoryMB
	}
	if fn.MaxConcurrency == 0 {
		fn.MaxConcurrency = DefaultMaxConcurrency
	}
	if fn.Timeout < 0 || fn.InitTimeout < 0 || fn.MemoryMB < 0 || fn.MaxConcurrency < 0 {
		return fn, errors.New("lambdarun: negative Timeout, InitTimeout, MemoryMB or MaxConcurrency")
	}
	fn.Env = maps.Clone(fn.Env)
	return fn, nil
}

var elfMachines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386, "arm": elf.EM_ARM,
	"riscv64": elf.EM_RISCV, "ppc64": elf.EM_PPC64, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390,
	"loong64": elf.EM_LOONGARCH,
}

// checkArch refuses an ELF binary for another machine (e.g. the construct's linux/arm64 build)
// with a clear message instead of "exec format error" at the first invocation.
func checkArch(path string) error {
	want, ok := elfMachines[runtime.GOARCH]
	if !ok {
		return nil
	}
	f, err := elf.Open(path)
	if err != nil {
		return nil // not ELF (or unreadable): exec will tell
	}
	defer f.Close()
	if f.Machine != want {
		return fmt.Errorf("lambdarun: %s is built for %v, this host is %s/%s (build it with lambdarun.Build)", path, f.Machine, runtime.GOOS, runtime.GOARCH)
	}
	return nil
}

// Build builds ./lambdas/cmd/<command> of the module at root into <outDir>/<command>/bootstrap
// with the construct's flags (passwordless.BuildFlags, CGO_ENABLED=0, GOWORK=off,
// GOFLAGS=-mod=readonly) but for this host's GOOS/GOARCH, and returns the binary's path.
func Build(root, command, outDir string) (string, error) {
	if command == "" || command == "." || command == ".." || strings.ContainsAny(command, `/\`) {
		return "", fmt.Errorf("lambdarun: bad command name %q", command)
	}
	dir, err := filepath.Abs(filepath.Join(outDir, command))
	if err != nil {
		return "", fmt.Errorf("lambdarun: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("lambdarun: %w", err)
	}
	out := filepath.Join(dir, "bootstrap")
	args := slices.Concat([]string{"build"}, passwordless.BuildFlags, []string{"-o", out, "./lambdas/cmd/" + command})
	goTool := "go"
	if p, err := exec.LookPath("go"); err == nil {
		goTool = p
	}
	cmd := exec.Command(goTool, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=readonly")
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("lambdarun: go %s in %s: %w\n%s", strings.Join(args, " "), root, err, output.Bytes())
	}
	return out, nil
}

// Stats are a Host's counters.
type Stats struct {
	Invocations        int             // events delivered to a process
	ColdStarts         int             // processes started
	ColdStartDurations []time.Duration // exec to first GET /next, one per process that got there
	Errors             int             // invocations that returned a FunctionError
	Timeouts           int             // invocations that timed out
	Crashes            int             // invocations that failed with a CrashError
	Processes          []ProcessStats  // every process started, in start order
}

// ProcessStats describe one execution environment.
type ProcessStats struct {
	PID         int
	ColdStart   time.Duration // exec to first GET /next; 0 if it never got there
	Invocations int
	PeakRSS     int64 // bytes (VmHWM), as last sampled; 0 if not readable
	Exited      bool
	ExitCode    int // valid when Exited; -1 when killed by a signal
}

// Host serves the Runtime API for one function and runs its execution environments.
type Host struct {
	fn      Function
	slots   chan struct{} // one token per busy execution environment
	closing chan struct{}

	mu      sync.Mutex
	closed  bool
	idle    []*env // LIFO
	all     []*env
	stats   Stats
	seq     int
	wg      sync.WaitGroup // run goroutines, process watchers and output copiers
	closeMu sync.Once

	logMu sync.Mutex
	logs  *tail
}

// Start returns a Host for fn. Processes start on demand, at the first Invoke that finds none idle
// (so a failing init surfaces from Invoke as a *CrashError). The Host is closed when ctx is done.
func Start(ctx context.Context, fn Function) (*Host, error) {
	fn, err := fn.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h := &Host{
		fn:      fn,
		slots:   make(chan struct{}, fn.MaxConcurrency),
		closing: make(chan struct{}),
		logs:    newTail(logTailBytes),
	}
	if ctx.Done() != nil {
		go func() {
			select {
			case <-ctx.Done():
				h.Close()
			case <-h.closing:
			}
		}()
	}
	return h, nil
}

// outcome is how one attempt at an invocation ended.
type outcome struct {
	body  []byte
	err   error
	reuse bool // the process may take another invocation
	retry bool // the event was never delivered: try another process
}

// Invoke hands payload (a JSON event) to an idle execution environment, starting a process if none
// is idle and fewer than MaxConcurrency run, else waiting for one. It returns the function's
// response, a *FunctionError, ErrTimeout, a *CrashError, ErrClosed or ctx's error. When ctx ends
// after the event was delivered, the invocation still runs to completion (or timeout) in the
// background, holding its process.
func (h *Host) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if len(payload) > MaxPayloadBytes {
		return nil, fmt.Errorf("lambdarun: request payload of %d bytes exceeds the %d-byte limit", len(payload), MaxPayloadBytes)
	}
	if len(payload) > 0 && !json.Valid(payload) {
		return nil, errors.New("lambdarun: request payload is not valid JSON")
	}
	payload = bytes.Clone(payload)
	for attempt := 1; ; attempt++ {
		select {
		case h.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-h.closing:
			return nil, ErrClosed
		}
		e, err := h.take()
		if err != nil {
			<-h.slots
			return nil, err
		}
		inv, err := newInvocation(payload)
		if err != nil {
			h.release(e, outcome{reuse: true})
			h.wg.Done()
			return nil, err
		}
		e.assign(inv)
		done := make(chan outcome, 1)
		go func() {
			defer h.wg.Done()
			o := h.run(e, inv)
			h.release(e, o)
			done <- o
		}()
		select {
		case o := <-done:
			if o.retry && attempt < maxAttempts {
				continue
			}
			if o.retry {
				o.err = h.crashError(e)
			}
			return o.body, o.err
		case <-ctx.Done():
			close(inv.abandoned)
			return nil, ctx.Err()
		}
	}
}

// take returns an idle execution environment or starts one. The caller holds a slot; on success
// it also holds one h.wg count for its run goroutine.
func (h *Host) take() (*env, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	for len(h.idle) > 0 {
		e := h.idle[len(h.idle)-1]
		h.idle = h.idle[:len(h.idle)-1]
		if !e.dead {
			h.wg.Add(1)
			return e, nil
		}
	}
	e, err := h.spawnLocked()
	if err != nil {
		return nil, err
	}
	h.wg.Add(1)
	return e, nil
}

// release returns e to the idle list when it may be reused, then frees the caller's slot (in that
// order, so the number of processes never exceeds MaxConcurrency).
func (h *Host) release(e *env, o outcome) {
	h.mu.Lock()
	if o.reuse && !e.dead && !h.closed {
		h.idle = append(h.idle, e)
	}
	h.mu.Unlock()
	<-h.slots
}

func (h *Host) isClosed() bool {
	select {
	case <-h.closing:
		return true
	default:
		return false
	}
}

// run waits for one invocation on e to end.
func (h *Host) run(e *env, inv *invocation) outcome {
	initTimer := time.NewTimer(h.fn.InitTimeout)
	defer initTimer.Stop()
	// Phase 1: until the runtime takes the event with GET /next.
	select {
	case <-inv.delivered:
	case <-inv.abandoned:
		if e.withdraw(inv) {
			return outcome{err: context.Canceled, reuse: true}
		}
	case <-initTimer.C:
		if e.withdraw(inv) {
			e.kill(fmt.Sprintf("runtime did not call GET /next within %v", h.fn.InitTimeout))
			<-e.exited
			return h.crashed(e)
		}
	case <-e.exited:
		if e.withdraw(inv) {
			if h.isClosed() {
				return outcome{err: ErrClosed}
			}
			if e.warm() {
				// A warm process died while idle (e.g. it panicked after its last response):
				// the event never reached it, so another process gets it.
				return outcome{retry: true}
			}
			return h.crashed(e)
		}
	}
	// Phase 2: delivered (inv.delivered is closed and inv.deadline set); wait for the answer.
	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	var res result
	select {
	case res = <-inv.result:
	case <-timer.C:
		if !e.clearInflight(inv) {
			res = <-inv.result // answered just in time
			break
		}
		e.sampleRSS()
		e.kill(fmt.Sprintf("task timed out after %v", h.fn.Timeout))
		<-e.exited
		if h.isClosed() {
			return outcome{err: ErrClosed}
		}
		h.mu.Lock()
		h.stats.Timeouts++
		h.mu.Unlock()
		return outcome{err: ErrTimeout}
	case <-e.exited:
		if !e.clearInflight(inv) {
			res = <-inv.result // answered, then exited: the answer stands
			break
		}
		if h.isClosed() {
			return outcome{err: ErrClosed}
		}
		return h.crashed(e)
	}
	if rss := e.sampleRSS(); rss > int64(h.fn.MemoryMB)<<20 {
		e.kill(fmt.Sprintf("memory size exceeded: peak RSS %d MB > %d MB", rss>>20, h.fn.MemoryMB))
		<-e.exited
		return h.crashed(e)
	}
	if res.err != nil {
		h.mu.Lock()
		h.stats.Errors++
		h.mu.Unlock()
	}
	return outcome{body: res.body, err: res.err, reuse: true}
}

func (h *Host) crashed(e *env) outcome {
	h.mu.Lock()
	h.stats.Crashes++
	h.mu.Unlock()
	return outcome{err: h.crashError(e)}
}

// crashError describes e's death; e has exited.
func (h *Host) crashError(e *env) *CrashError {
	e.mu.Lock()
	defer e.mu.Unlock()
	ce := &CrashError{ExitCode: e.exitCode, Signal: e.signal, InitError: e.initErr, StderrTail: e.stderr.String()}
	switch {
	case e.killReason != "":
		ce.Reason = e.killReason
	case !e.polled:
		ce.Reason = "runtime exited during init"
	default:
		ce.Reason = "runtime exited during the invocation"
	}
	return ce
}

// Stats returns a snapshot of the counters.
func (h *Host) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.stats
	s.ColdStartDurations = slices.Clone(h.stats.ColdStartDurations)
	s.Processes = make([]ProcessStats, 0, len(h.all))
	for _, e := range h.all {
		s.Processes = append(s.Processes, e.snapshot())
	}
	return s
}

// PeakRSS returns the largest peak resident set size (VmHWM) of any process this Host started, in
// bytes, sampling the live ones now and the others as last sampled (after each invocation and
// before a kill). It is 0 where /proc/<pid>/status is not readable.
func (h *Host) PeakRSS() int64 {
	h.mu.Lock()
	envs := slices.Clone(h.all)
	h.mu.Unlock()
	var peak int64
	for _, e := range envs {
		peak = max(peak, e.sampleRSS())
	}
	return peak
}

// Logs returns the latest output (up to 1 MiB) of the Host's processes, stdout and stderr, in
// whole lines.
func (h *Host) Logs() string {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	return h.logs.String()
}

// emit writes whole lines of a process's output to the log tail and dst.
func (h *Host) emit(dst io.Writer, p []byte) {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	h.logs.Write(p)
	if dst != nil {
		_, _ = dst.Write(p)
	}
}

// Close stops every process (SIGTERM to its process group, SIGKILL after 500 ms) and its Runtime
// API listener, and waits for them. Invocations in flight return ErrClosed. It is idempotent.
func (h *Host) Close() error {
	h.closeMu.Do(func() {
		h.mu.Lock()
		h.closed = true
		close(h.closing)
		envs := slices.Clone(h.all)
		h.idle = nil
		h.mu.Unlock()
		var wg sync.WaitGroup
		for _, e := range envs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.shutdown(shutdownGrace)
			}()
		}
		wg.Wait()
		h.wg.Wait()
	})
	return nil
}

// tail keeps the last max bytes written to it. It is not safe for concurrent use.
type tail struct {
	max int
	buf []byte
}

func newTail(max int) *tail { return &tail{max: max} }

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		n := copy(t.buf, t.buf[len(t.buf)-t.max:])
		t.buf = t.buf[:n]
	}
	return len(p), nil
}

func (t *tail) String() string {
	if len(t.buf) > t.max {
		return string(t.buf[len(t.buf)-t.max:])
	}
	return string(t.buf)
}
