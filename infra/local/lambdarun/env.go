//go:build unix

package lambdarun

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Runtime API paths (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
const (
	pathNext      = "/2018-06-01/runtime/invocation/next"
	pathResponse  = "/2018-06-01/runtime/invocation/{id}/response"
	pathError     = "/2018-06-01/runtime/invocation/{id}/error"
	pathInitError = "/2018-06-01/runtime/init/error"

	headerRequestID   = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline    = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID     = "Lambda-Runtime-Trace-Id"
	headerErrorType   = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody  = "Lambda-Runtime-Function-Error-Body"

	accountID = "123456789012"
)

// invocation is one event on its way through an execution environment.
type invocation struct {
	id        string
	payload   []byte
	deadline  time.Time     // set when delivered
	delivered chan struct{} // closed by GET /next when the runtime takes the event
	result    chan result   // the runtime's answer; buffered
	abandoned chan struct{} // closed when the caller gave up
}

type result struct {
	body []byte
	err  error // *FunctionError
}

func newInvocation(payload []byte) (*invocation, error) {
	id, err := uuid()
	if err != nil {
		return nil, err
	}
	return &invocation{
		id:        id,
		payload:   payload,
		delivered: make(chan struct{}),
		result:    make(chan result, 1),
		abandoned: make(chan struct{}),
	}, nil
}

// env is one execution environment: a process and the Runtime API listener only it talks to.
type env struct {
	h      *Host
	pid    int
	execAt time.Time
	srv    *http.Server
	wake   chan struct{} // a pending event; capacity 1
	stop   chan struct{} // closed when the process is gone: ends long polls
	exited chan struct{} // closed when the process has exited and its output is drained

	dead bool // guarded by h.mu: no longer in use

	mu          sync.Mutex
	polled      bool
	coldStart   time.Duration
	pending     *invocation // assigned, not yet taken by GET /next
	inflight    *invocation // taken, not yet answered
	invocations int
	initErr     *FunctionError
	killReason  string
	peakRSS     int64
	hasExited   bool
	exitCode    int
	signal      string
	stderr      *tail
}

// spawnLocked starts a process with its own Runtime API listener. h.mu is held.
func (h *Host) spawnLocked() (*env, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lambdarun: runtime API listener: %w", err)
	}
	e := &env{
		h:      h,
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		exited: make(chan struct{}),
		stderr: newTail(stderrTail),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pathNext, e.handleNext)
	mux.HandleFunc("POST "+pathResponse, e.handleResponse)
	mux.HandleFunc("POST "+pathError, e.handleError)
	mux.HandleFunc("POST "+pathInitError, e.handleInitError)
	e.srv = &http.Server{Handler: mux, ErrorLog: log.New(io.Discard, "", 0)}

	outR, outW, err := os.Pipe()
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("lambdarun: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		ln.Close()
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("lambdarun: %w", err)
	}
	cmd := exec.Command(h.fn.Path)
	cmd.Dir = filepath.Dir(h.fn.Path)
	cmd.Env = h.environ(ln.Addr().String())
	cmd.Stdout = outW
	cmd.Stderr = errW
	cmd.SysProcAttr = sysProcAttr()

	go e.srv.Serve(ln)
	e.execAt = time.Now()
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		e.srv.Close()
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("lambdarun: starting %s: %w", h.fn.Path, err)
	}
	e.pid = cmd.Process.Pid
	h.all = append(h.all, e)
	h.stats.ColdStarts++

	var copies sync.WaitGroup
	copies.Add(2)
	h.wg.Add(3)
	go func() {
		defer h.wg.Done()
		defer copies.Done()
		h.copyOutput(outR, &lineWriter{h: h, dst: h.fn.Stdout})
	}()
	go func() {
		defer h.wg.Done()
		defer copies.Done()
		h.copyOutput(errR, &lineWriter{h: h, dst: h.fn.Stderr, raw: e.stderr, rawMu: &e.mu})
	}()
	go func() {
		defer h.wg.Done()
		_ = cmd.Wait() // the status is in cmd.ProcessState
		// Sweep whatever the process left in its group, then give its output a moment to drain
		// (a survivor in another group may still hold the pipes).
		killGroup(e.pid, syscall.SIGKILL)
		drained := make(chan struct{})
		go func() { copies.Wait(); close(drained) }()
		select {
		case <-drained:
		case <-time.After(time.Second):
			outR.Close()
			errR.Close()
			<-drained
		}
		code, sig := exitStatus(cmd.ProcessState)
		e.mu.Lock()
		e.hasExited, e.exitCode, e.signal = true, code, sig
		e.mu.Unlock()
		close(e.stop)
		e.srv.Close()
		h.mu.Lock()
		e.dead = true
		if i := slicesIndex(h.idle, e); i >= 0 {
			h.idle = append(h.idle[:i], h.idle[i+1:]...)
		}
		h.mu.Unlock()
		close(e.exited)
	}()
	return e, nil
}

func slicesIndex(s []*env, e *env) int {
	for i, x := range s {
		if x == e {
			return i
		}
	}
	return -1
}

// copyOutput copies one of a process's output pipes into w until EOF.
func (h *Host) copyOutput(r *os.File, w *lineWriter) {
	defer r.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			w.Write(buf[:n])
		}
		if err != nil {
			break
		}
	}
	w.flush()
}

// lineWriter forwards a process's output to the Host's log sinks in whole lines, so lines of
// concurrent processes do not interleave. Used by one goroutine.
type lineWriter struct {
	h       *Host
	dst     io.Writer
	raw     *tail // every byte, for CrashError.StderrTail
	rawMu   *sync.Mutex
	partial []byte
}

func (w *lineWriter) Write(p []byte) {
	if w.raw != nil {
		w.rawMu.Lock()
		w.raw.Write(p)
		w.rawMu.Unlock()
	}
	w.partial = append(w.partial, p...)
	if i := bytes.LastIndexByte(w.partial, '\n'); i >= 0 {
		w.h.emit(w.dst, w.partial[:i+1])
		w.partial = append(w.partial[:0], w.partial[i+1:]...)
	} else if len(w.partial) >= 64<<10 {
		w.flush()
	}
}

func (w *lineWriter) flush() {
	if len(w.partial) > 0 {
		w.h.emit(w.dst, w.partial)
		w.partial = w.partial[:0]
	}
}

// environ is a process's environment: the standard Lambda variables, then fn.Env on top, and
// nothing from this process's environment but PATH.
func (h *Host) environ(api string) []string {
	fn := h.fn
	region := fn.Env["AWS_REGION"]
	if region == "" {
		region = fn.Env["AWS_DEFAULT_REGION"]
	}
	if region == "" {
		region = DefaultRegion
	}
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	stream := make([]byte, 16)
	_, _ = rand.Read(stream)
	env := map[string]string{
		"PATH":                            path,
		"AWS_LAMBDA_RUNTIME_API":          api,
		"AWS_LAMBDA_FUNCTION_NAME":        fn.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(fn.MemoryMB),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + fn.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + hex.EncodeToString(stream),
		"AWS_REGION":                      region,
		"AWS_DEFAULT_REGION":              region,
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                filepath.Dir(fn.Path),
		"LANG":                            "en_US.UTF-8",
		"TZ":                              ":UTC",
	}
	_, hasKey := fn.Env["AWS_ACCESS_KEY_ID"]
	_, hasSecret := fn.Env["AWS_SECRET_ACCESS_KEY"]
	_, hasToken := fn.Env["AWS_SESSION_TOKEN"]
	if !hasKey && !hasSecret && !hasToken {
		// Dummy credentials: an SDK call signs but reaches nothing real.
		env["AWS_ACCESS_KEY_ID"] = "ASIALAMBDARUNLOCAL00"
		env["AWS_SECRET_ACCESS_KEY"] = "lambdarun-local-dummy-secret-access-key"
		env["AWS_SESSION_TOKEN"] = "lambdarun-local-dummy-session-token"
	}
	for k, v := range fn.Env {
		env[k] = v
	}
	list := make([]string, 0, len(env))
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	return list
}

// assign queues inv for the runtime's next GET /next.
func (e *env) assign(inv *invocation) {
	e.mu.Lock()
	e.pending = inv
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// withdraw takes back inv if the runtime has not taken it yet.
func (e *env) withdraw(inv *invocation) bool { return e.clearSlot(&e.pending, inv) }

// clearInflight ends inv without an answer if it has none yet; later answers are refused.
func (e *env) clearInflight(inv *invocation) bool { return e.clearSlot(&e.inflight, inv) }

// clearSlot sets *slot (e.pending or e.inflight) to nil under e.mu if it holds inv, and reports
// whether it did.
func (e *env) clearSlot(slot **invocation, inv *invocation) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if *slot == inv {
		*slot = nil
		return true
	}
	return false
}

// warm reports whether the process has taken an event before.
func (e *env) warm() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.invocations > 0
}

// kill records why the process is being killed (the first reason wins) and SIGKILLs its group.
func (e *env) kill(reason string) {
	e.mu.Lock()
	exited := e.hasExited
	if e.killReason == "" && !exited {
		e.killReason = reason
	}
	e.mu.Unlock()
	if !exited {
		killGroup(e.pid, syscall.SIGKILL)
	}
}

// shutdown stops the process: SIGTERM to its group, SIGKILL after grace.
func (e *env) shutdown(grace time.Duration) {
	select {
	case <-e.exited:
		return
	default:
	}
	e.sampleRSS()
	e.mu.Lock()
	if e.killReason == "" && !e.hasExited {
		e.killReason = "host closed"
	}
	e.mu.Unlock()
	killGroup(e.pid, syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-e.exited:
	case <-t.C:
		killGroup(e.pid, syscall.SIGKILL)
		<-e.exited
	}
}

// sampleRSS reads the process's VmHWM while it runs and returns the largest value seen.
func (e *env) sampleRSS() int64 {
	e.mu.Lock()
	running := !e.hasExited
	e.mu.Unlock()
	var v int64
	if running {
		v = readPeakRSS(e.pid)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.peakRSS = max(e.peakRSS, v)
	return e.peakRSS
}

func (e *env) snapshot() ProcessStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return ProcessStats{
		PID: e.pid, ColdStart: e.coldStart, Invocations: e.invocations, PeakRSS: e.peakRSS,
		Exited: e.hasExited, ExitCode: e.exitCode,
	}
}

// handleNext is GET /runtime/invocation/next: a long poll for the next event.
func (e *env) handleNext(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	first := !e.polled
	if first {
		e.polled = true
		e.coldStart = time.Since(e.execAt)
	}
	cold := e.coldStart
	e.mu.Unlock()
	if first {
		e.h.mu.Lock()
		e.h.stats.ColdStartDurations = append(e.h.stats.ColdStartDurations, cold)
		e.h.mu.Unlock()
	}
	for {
		e.mu.Lock()
		if inv := e.pending; inv != nil {
			e.pending = nil
			e.inflight = inv
			e.invocations++
			inv.deadline = time.Now().Add(e.h.fn.Timeout)
			close(inv.delivered)
			e.mu.Unlock()
			e.h.mu.Lock()
			e.h.stats.Invocations++
			e.h.mu.Unlock()
			hdr := w.Header()
			hdr.Set("Content-Type", "application/json")
			hdr.Set(headerRequestID, inv.id)
			hdr.Set(headerDeadline, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
			hdr.Set(headerFunctionARN, fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", e.region(), accountID, e.h.fn.Name))
			hdr.Set(headerTraceID, traceID())
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(inv.payload)
			return
		}
		e.mu.Unlock()
		select {
		case <-e.wake:
		case <-r.Context().Done():
			return
		case <-e.stop:
			return
		}
	}
}

func (e *env) region() string {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := e.h.fn.Env[k]; v != "" {
			return v
		}
	}
	return DefaultRegion
}

// answer hands the runtime's answer for request id to the waiting invocation.
func (e *env) answer(w http.ResponseWriter, id string, res result) bool {
	e.mu.Lock()
	inv := e.inflight
	if inv == nil || inv.id != id {
		e.mu.Unlock()
		apiError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation in flight with request id "+strconv.Quote(id))
		return false
	}
	e.inflight = nil
	e.mu.Unlock()
	inv.result <- res
	return true
}

// handleResponse is POST /runtime/invocation/{id}/response.
func (e *env) handleResponse(w http.ResponseWriter, r *http.Request) {
	body, tooLarge, err := readBody(r.Body)
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequest", "reading the response: "+err.Error())
		return
	}
	var res result
	switch {
	case tooLarge:
		res.err = &FunctionError{Type: "Function.ResponseSizeTooLarge", Message: fmt.Sprintf("response payload size exceeded maximum allowed payload size (%d bytes)", MaxPayloadBytes)}
	case r.Trailer.Get(headerErrorType) != "":
		// aws-lambda-go reports an error while streaming the response body in trailers.
		fe := &FunctionError{Type: r.Trailer.Get(headerErrorType)}
		if b, err := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrorBody)); err == nil {
			if parsed := parseFunctionError(b, ""); parsed.Message != "" {
				fe.Message = parsed.Message
			}
		}
		res.err = fe
	default:
		res.body = body
	}
	if !e.answer(w, r.PathValue("id"), res) {
		return
	}
	if tooLarge {
		apiError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", res.err.(*FunctionError).Message)
		return
	}
	accepted(w)
}

// handleError is POST /runtime/invocation/{id}/error.
func (e *env) handleError(w http.ResponseWriter, r *http.Request) {
	fe, ok := readFunctionError(w, r)
	if !ok {
		return
	}
	if e.answer(w, r.PathValue("id"), result{err: fe}) {
		accepted(w)
	}
}

// readFunctionError reads the error a function reports (the body and the error type header);
// when the body cannot be read it answers 400 InvalidRequest and returns false.
func readFunctionError(w http.ResponseWriter, r *http.Request) (*FunctionError, bool) {
	body, _, err := readBody(r.Body)
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequest", "reading the error: "+err.Error())
		return nil, false
	}
	return parseFunctionError(body, r.Header.Get(headerErrorType)), true
}

// handleInitError is POST /runtime/init/error: the environment is torn down.
func (e *env) handleInitError(w http.ResponseWriter, r *http.Request) {
	fe, ok := readFunctionError(w, r)
	if !ok {
		return
	}
	e.mu.Lock()
	if e.polled || e.initErr != nil {
		e.mu.Unlock()
		apiError(w, http.StatusForbidden, "InvalidStateTransition", "init error reported after init")
		return
	}
	e.initErr = fe
	e.mu.Unlock()
	accepted(w)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	go e.kill("runtime reported an init error")
}

func readBody(r io.Reader) (body []byte, tooLarge bool, err error) {
	body, err = io.ReadAll(io.LimitReader(r, MaxPayloadBytes+1))
	if err != nil {
		return nil, false, err
	}
	if len(body) > MaxPayloadBytes {
		_, _ = io.Copy(io.Discard, r)
		return nil, true, nil
	}
	return body, false, nil
}

func parseFunctionError(body []byte, headerType string) *FunctionError {
	var v struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	fe := &FunctionError{}
	if err := json.Unmarshal(body, &v); err == nil {
		fe.Type, fe.Message = v.Type, v.Message
	} else {
		fe.Message = string(body)
		if len(fe.Message) > 4096 {
			fe.Message = fe.Message[:4096] + "..."
		}
	}
	if fe.Type == "" {
		fe.Type = headerType
	}
	if fe.Type == "" {
		fe.Type = "Unhandled"
	}
	return fe
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func uuid() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", errors.New("lambdarun: no randomness for a request id")
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

func traceID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), hex.EncodeToString(b[:12]), hex.EncodeToString(b[12:]))
}
