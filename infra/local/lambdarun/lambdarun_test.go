//go:build unix

package lambdarun_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/infra/local/lambdarun"
)

// Real Cognito trigger events (the shapes Cognito sends; see lambdas/triggers/testdata).
const (
	defineEvent = `{
  "version": "1",
  "region": "eu-west-1",
  "userPoolId": "eu-west-1_Ab12Cd34E",
  "userName": "7d9a3c1e-0b6f-4e2a-9c55-3f1e2d4b6a80",
  "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "4f3k2j1h0g9f8e7d6c5b4a3210"},
  "triggerSource": "DefineAuthChallenge_Authentication",
  "request": {
    "userAttributes": {
      "sub": "7d9a3c1e-0b6f-4e2a-9c55-3f1e2d4b6a80",
      "email_verified": "true",
      "cognito:user_status": "CONFIRMED",
      "email": "alice@example.com"
    },
    "session": [],
    "userNotFound": false
  },
  "response": {"challengeName": null, "issueTokens": null, "failAuthentication": null}
}`
	preSignUpEvent = `{
  "version": "1",
  "region": "eu-west-1",
  "userPoolId": "eu-west-1_Ab12Cd34E",
  "userName": "7d9a3c1e-0b6f-4e2a-9c55-3f1e2d4b6a80",
  "callerContext": {"awsSdkVersion": "aws-sdk-js-3.540.0", "clientId": "4f3k2j1h0g9f8e7d6c5b4a3210"},
  "triggerSource": "PreSignUp_SignUp",
  "request": {"userAttributes": %s, "validationData": null},
  "response": {"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false}
}`
)

func preSignUp(attrs string) []byte { return []byte(fmt.Sprintf(preSignUpEvent, attrs)) }

// sleeperMain speaks the Runtime API by hand, with the standard library only. The event controls
// it: sleep_ms, exit, fail, alloc_mb, log. Its environment controls init: SLEEPER_PANIC,
// SLEEPER_INIT_ERROR, SLEEPER_CHILD (start a child process that sleeps).
const sleeperMain = `package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		time.Sleep(time.Hour)
		return
	}
	if msg := os.Getenv("SLEEPER_PANIC"); msg != "" {
		panic(msg)
	}
	fmt.Println("sleeper: ready")
	base := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/"
	if msg := os.Getenv("SLEEPER_INIT_ERROR"); msg != "" {
		b, _ := json.Marshal(map[string]string{"errorMessage": msg, "errorType": "Sleeper.InitError"})
		post(base+"init/error", b)
		time.Sleep(time.Hour)
	}
	child := 0
	if os.Getenv("SLEEPER_CHILD") != "" {
		self, _ := os.Executable()
		c := exec.Command(self, "child")
		if err := c.Start(); err != nil {
			panic(err)
		}
		child = c.Process.Pid
	}
	var keep [][]byte
	for {
		resp, err := http.Get(base + "invocation/next")
		if err != nil {
			fmt.Fprintln(os.Stderr, "sleeper: next:", err)
			os.Exit(10)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		var ev struct {
			SleepMS int    ` + "`json:\"sleep_ms\"`" + `
			Exit    *int   ` + "`json:\"exit\"`" + `
			Fail    string ` + "`json:\"fail\"`" + `
			AllocMB int    ` + "`json:\"alloc_mb\"`" + `
			Log     string ` + "`json:\"log\"`" + `
		}
		if err := json.Unmarshal(body, &ev); err != nil {
			fmt.Fprintln(os.Stderr, "sleeper: bad event")
		}
		if ev.Log != "" {
			fmt.Println(ev.Log)
		}
		if ev.AllocMB > 0 {
			b := make([]byte, ev.AllocMB<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			keep = append(keep, b)
		}
		time.Sleep(time.Duration(ev.SleepMS) * time.Millisecond)
		if ev.Exit != nil {
			fmt.Fprintln(os.Stderr, "sleeper: exiting as asked")
			os.Exit(*ev.Exit)
		}
		if ev.Fail != "" {
			b, _ := json.Marshal(map[string]string{"errorMessage": ev.Fail, "errorType": "Sleeper.Error"})
			post(base+"invocation/"+id+"/error", b)
			continue
		}
		out, _ := json.Marshal(map[string]any{
			"pid":        os.Getpid(),
			"child":      child,
			"env":        os.Environ(),
			"request_id": id,
			"deadline":   resp.Header.Get("Lambda-Runtime-Deadline-Ms"),
			"arn":        resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn"),
			"trace":      resp.Header.Get("Lambda-Runtime-Trace-Id"),
		})
		post(base+"invocation/"+id+"/response", out)
		runtime.KeepAlive(keep)
	}
}

func post(url string, b []byte) {
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		fmt.Fprintln(os.Stderr, "sleeper: post:", err)
		os.Exit(11)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		fmt.Fprintln(os.Stderr, "sleeper: post status", resp.StatusCode)
	}
}
`

type sleeperOut struct {
	PID       int      `json:"pid"`
	Child     int      `json:"child"`
	Env       []string `json:"env"`
	RequestID string   `json:"request_id"`
	Deadline  string   `json:"deadline"`
	ARN       string   `json:"arn"`
	Trace     string   `json:"trace"`
}

// Binaries are built once per test binary, into one temporary directory removed by TestMain.
var (
	buildOnce sync.Once
	binDir    string
	bins      map[string]string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// moduleRoot walks up from the working directory to the go.mod of this module.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/passwordless-go/cognito\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod of github.com/passwordless-go/cognito not found")
		}
		dir = parent
	}
}

func buildAll() {
	binDir, buildErr = os.MkdirTemp("", "lambdarun-test-")
	if buildErr != nil {
		return
	}
	root, err := moduleRoot()
	if err != nil {
		buildErr = err
		return
	}
	bins = map[string]string{}
	// The sleeper is a module of its own laid out like this one, so Build (with the construct's
	// flags) builds it too.
	src := filepath.Join(binDir, "src")
	if err := os.MkdirAll(filepath.Join(src, "lambdas", "cmd", "sleeper"), 0o755); err != nil {
		buildErr = err
		return
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module sleeper\n\ngo 1.22\n"), 0o644); err != nil {
		buildErr = err
		return
	}
	if err := os.WriteFile(filepath.Join(src, "lambdas", "cmd", "sleeper", "main.go"), []byte(sleeperMain), 0o644); err != nil {
		buildErr = err
		return
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, b := range []struct{ root, command string }{{root, "define"}, {root, "presignup"}, {src, "sleeper"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := lambdarun.Build(b.root, b.command, filepath.Join(binDir, "bin"))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				buildErr = errors.Join(buildErr, err)
			}
			bins[b.command] = p
		}()
	}
	wg.Wait()
}

func bootstrap(tb testing.TB, command string) string {
	tb.Helper()
	buildOnce.Do(buildAll)
	if buildErr != nil {
		tb.Fatalf("building the bootstraps: %v", buildErr)
	}
	return bins[command]
}

func start(tb testing.TB, fn lambdarun.Function) *lambdarun.Host {
	tb.Helper()
	h, err := lambdarun.Start(context.Background(), fn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Close() })
	return h
}

func invoke(t *testing.T, h *lambdarun.Host, payload string) []byte {
	t.Helper()
	out, err := h.Invoke(context.Background(), []byte(payload))
	if err != nil {
		t.Fatalf("Invoke: %v\nlogs:\n%s", err, h.Logs())
	}
	return out
}

func invokeSleeper(t *testing.T, h *lambdarun.Host, payload string) sleeperOut {
	t.Helper()
	var out sleeperOut
	if err := json.Unmarshal(invoke(t, h, payload), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func defineFunction(t testing.TB) lambdarun.Function {
	return lambdarun.Function{
		Path: bootstrap(t, "define"),
		Env:  map[string]string{"SIGN_IN_METHODS": "email_otp", "LOG_LEVEL": "info"},
	}
}

func checkDefine(t *testing.T, out []byte) {
	t.Helper()
	var ev events.CognitoEventUserPoolsDefineAuthChallenge
	if err := json.Unmarshal(out, &ev); err != nil {
		t.Fatalf("define response: %v", err)
	}
	if ev.Response.ChallengeName != "CUSTOM_CHALLENGE" || ev.Response.IssueTokens || ev.Response.FailAuthentication {
		t.Fatalf("define response = %+v, want challengeName CUSTOM_CHALLENGE", ev.Response)
	}
}

func TestDefine(t *testing.T) {
	h := start(t, defineFunction(t))
	checkDefine(t, invoke(t, h, defineEvent))
	checkDefine(t, invoke(t, h, defineEvent))
	s := h.Stats()
	if s.Invocations != 2 || s.ColdStarts != 1 || len(s.ColdStartDurations) != 1 || s.ColdStartDurations[0] <= 0 {
		t.Errorf("stats = %+v, want 2 invocations on 1 process with a cold-start duration", s)
	}
	if len(s.Processes) != 1 || s.Processes[0].Invocations != 2 || s.Processes[0].ColdStart != s.ColdStartDurations[0] {
		t.Errorf("processes = %+v", s.Processes)
	}
	if runtime.GOOS == "linux" {
		if rss := h.PeakRSS(); rss < 1<<20 || rss > 256<<20 {
			t.Errorf("PeakRSS = %d, want between 1 MiB and 256 MiB", rss)
		}
	}
	t.Logf("define: cold start %v, peak RSS %d KiB", s.ColdStartDurations[0], h.PeakRSS()>>10)
}

func TestPreSignUp(t *testing.T) {
	h := start(t, lambdarun.Function{
		Path: bootstrap(t, "presignup"),
		Env:  map[string]string{"SIGN_IN_ALIASES": "email", "LOG_LEVEL": "info"},
	})
	var ev events.CognitoEventUserPoolsPreSignup
	if err := json.Unmarshal(invoke(t, h, string(preSignUp(`{"email": "alice@example.com"}`))), &ev); err != nil {
		t.Fatal(err)
	}
	if !ev.Response.AutoConfirmUser {
		t.Errorf("response = %+v, want autoConfirmUser", ev.Response)
	}

	// A handler error: a phone number in a pool that signs in by email only.
	_, err := h.Invoke(context.Background(), preSignUp(`{"phone_number": "+447400123456"}`))
	var fe *lambdarun.FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v (%T), want *FunctionError", err, err)
	}
	if !strings.Contains(fe.Message, "does not sign in with a phone number") || fe.Type == "" {
		t.Errorf("FunctionError = %+v", fe)
	}
	// The process survives a handler error.
	invoke(t, h, string(preSignUp(`{"email": "bob@example.com"}`)))
	if s := h.Stats(); s.ColdStarts != 1 || s.Invocations != 3 || s.Errors != 1 {
		t.Errorf("stats = %+v, want 3 invocations, 1 error, 1 process", s)
	}
}

func TestPreSignUpWithoutAliasesCrashesAtInit(t *testing.T) {
	h := start(t, lambdarun.Function{Path: bootstrap(t, "presignup")})
	for i := 0; i < 2; i++ {
		_, err := h.Invoke(context.Background(), preSignUp(`{"email": "alice@example.com"}`))
		var ce *lambdarun.CrashError
		if !errors.As(err, &ce) {
			t.Fatalf("err = %v (%T), want *CrashError", err, err)
		}
		if ce.ExitCode != 1 || !strings.Contains(ce.StderrTail, "SIGN_IN_ALIASES: need email, phone or both") || !strings.Contains(ce.Reason, "init") {
			t.Errorf("CrashError = %+v", ce)
		}
		if !strings.Contains(err.Error(), "SIGN_IN_ALIASES") {
			t.Errorf("error %q does not say why", err)
		}
	}
	if s := h.Stats(); s.ColdStarts != 2 || s.Crashes != 2 || s.Invocations != 0 || len(s.ColdStartDurations) != 0 {
		t.Errorf("stats = %+v, want 2 processes that never got to /next", s)
	}
}

func sleeper(t testing.TB) lambdarun.Function {
	return lambdarun.Function{Path: bootstrap(t, "sleeper"), Env: map[string]string{}}
}

func TestPanicAtInit(t *testing.T) {
	fn := sleeper(t)
	fn.Env["SLEEPER_PANIC"] = "boom at init"
	h := start(t, fn)
	_, err := h.Invoke(context.Background(), []byte(`{}`))
	var ce *lambdarun.CrashError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v (%T), want *CrashError", err, err)
	}
	if ce.ExitCode != 2 || !strings.Contains(ce.StderrTail, "panic: boom at init") || !strings.Contains(err.Error(), "panic: boom at init") {
		t.Errorf("CrashError = %+v\n%v", ce, err)
	}
}

func TestInitError(t *testing.T) {
	fn := sleeper(t)
	fn.Env["SLEEPER_INIT_ERROR"] = "no configuration"
	// Killed at once, not when init would time out: with an init timeout of an hour, an Invoke
	// that waited for it would meet this minute's deadline instead of a CrashError.
	fn.InitTimeout = time.Hour
	h := start(t, fn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := h.Invoke(ctx, []byte(`{}`))
	var ce *lambdarun.CrashError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v (%T), want *CrashError", err, err)
	}
	if ce.InitError == nil || ce.InitError.Message != "no configuration" || ce.InitError.Type != "Sleeper.InitError" || ce.Signal == "" {
		t.Errorf("CrashError = %+v", ce)
	}
	if !strings.Contains(err.Error(), "no configuration") {
		t.Errorf("error %q does not say why", err)
	}
}

func TestTimeoutReplacesProcess(t *testing.T) {
	fn := sleeper(t)
	fn.Timeout = 300 * time.Millisecond
	fn.MaxConcurrency = 1
	h := start(t, fn)
	first := invokeSleeper(t, h, `{}`)

	begin := time.Now()
	_, err := h.Invoke(context.Background(), []byte(`{"sleep_ms": 60000}`))
	took := time.Since(begin)
	// ErrTimeout, not the answer a minute later: the timeout ended it. Only the lower bound is
	// checked, since a busy machine makes it later, never earlier.
	if !errors.Is(err, lambdarun.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if took < 300*time.Millisecond {
		t.Errorf("timed out after %v, want at least 300ms", took)
	}
	if err := syscall.Kill(first.PID, 0); err == nil {
		t.Errorf("process %d still runs after its timeout", first.PID)
	}

	next := invokeSleeper(t, h, `{"sleep_ms": 100}`)
	if next.PID == first.PID {
		t.Errorf("the invocation after a timeout ran on the killed process %d", first.PID)
	}
	s := h.Stats()
	if s.Timeouts != 1 || s.ColdStarts != 2 || s.Invocations != 3 {
		t.Errorf("stats = %+v, want 1 timeout, 2 processes, 3 invocations", s)
	}
	if !s.Processes[0].Exited || s.Processes[0].ExitCode != -1 {
		t.Errorf("first process = %+v, want killed", s.Processes[0])
	}
}

func TestEnvironment(t *testing.T) {
	t.Setenv("LAMBDARUN_PARENT_ONLY", "must not leak")
	fn := sleeper(t)
	fn.Name = "Sleepy"
	fn.MemoryMB = 512
	fn.Env = map[string]string{"FOO": "bar", "AWS_REGION": "eu-west-1", "TZ": "Europe/Paris"}
	h := start(t, fn)
	out := invokeSleeper(t, h, `{}`)
	env := map[string]string{}
	for _, kv := range out.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "Sleepy",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/Sleepy",
		"AWS_REGION":                      "eu-west-1",
		"AWS_DEFAULT_REGION":              "eu-west-1",
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                filepath.Dir(fn.Path),
		"TZ":                              "Europe/Paris",
		"FOO":                             "bar",
		"PATH":                            os.Getenv("PATH"),
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_LOG_STREAM_NAME"} {
		if env[k] == "" {
			t.Errorf("%s is not set", k)
		}
	}
	if !strings.HasPrefix(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:") {
		t.Errorf("AWS_LAMBDA_RUNTIME_API = %q", env["AWS_LAMBDA_RUNTIME_API"])
	}
	for _, k := range []string{"LAMBDARUN_PARENT_ONLY", "HOME", "GOFLAGS"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s=%q leaked from the parent's environment", k, v)
		}
	}
	if !strings.HasPrefix(out.ARN, "arn:aws:lambda:eu-west-1:") || !strings.HasSuffix(out.ARN, ":function:Sleepy") {
		t.Errorf("function ARN = %q", out.ARN)
	}
	if !strings.HasPrefix(out.Trace, "Root=1-") || len(out.RequestID) != 36 || out.Deadline == "" {
		t.Errorf("trace %q, request id %q, deadline %q", out.Trace, out.RequestID, out.Deadline)
	}

	// Credentials given in Env replace all the dummy ones.
	fn.Env = map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}
	h2 := start(t, fn)
	out = invokeSleeper(t, h2, `{}`)
	if !slices.Contains(out.Env, "AWS_ACCESS_KEY_ID=AKIDEXAMPLE") || slices.ContainsFunc(out.Env, func(s string) bool {
		return strings.HasPrefix(s, "AWS_SESSION_TOKEN=")
	}) || !slices.Contains(out.Env, "AWS_REGION=us-east-1") {
		t.Errorf("env = %q", out.Env)
	}
}

func TestHandlerErrorAndCrashDuringInvocation(t *testing.T) {
	fn := sleeper(t)
	fn.MaxConcurrency = 1
	h := start(t, fn)
	_, err := h.Invoke(context.Background(), []byte(`{"fail": "refused"}`))
	var fe *lambdarun.FunctionError
	if !errors.As(err, &fe) || fe.Type != "Sleeper.Error" || fe.Message != "refused" {
		t.Fatalf("err = %v, want FunctionError Sleeper.Error: refused", err)
	}
	_, err = h.Invoke(context.Background(), []byte(`{"exit": 3}`))
	var ce *lambdarun.CrashError
	if !errors.As(err, &ce) || ce.ExitCode != 3 || !strings.Contains(ce.Reason, "during the invocation") || !strings.Contains(ce.StderrTail, "exiting as asked") {
		t.Fatalf("err = %v (%+v), want CrashError with exit status 3", err, ce)
	}
	invokeSleeper(t, h, `{}`)
	if s := h.Stats(); s.ColdStarts != 2 || s.Errors != 1 || s.Crashes != 1 {
		t.Errorf("stats = %+v", s)
	}
	if _, err := h.Invoke(context.Background(), []byte(`{not json`)); err == nil {
		t.Error("an invalid JSON payload was accepted")
	}
}

func TestMemorySize(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS needs /proc")
	}
	fn := sleeper(t)
	fn.MemoryMB = 128
	// Touching 160 MB can take longer than the default 4 s on a busy machine; the memory check
	// runs when the invocation answers, so the timeout must not end it first.
	fn.Timeout = 2 * time.Minute
	h := start(t, fn)
	invokeSleeper(t, h, `{"alloc_mb": 16}`)
	_, err := h.Invoke(context.Background(), []byte(`{"alloc_mb": 160}`))
	var ce *lambdarun.CrashError
	if !errors.As(err, &ce) || !strings.Contains(ce.Reason, "memory size exceeded") {
		t.Fatalf("err = %v, want a CrashError for the memory size", err)
	}
	if rss := h.PeakRSS(); rss < 160<<20 {
		t.Errorf("PeakRSS = %d MiB, want >= 160", rss>>20)
	}
}

func TestConcurrencyDefine(t *testing.T) {
	h := start(t, defineFunction(t))
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := h.Invoke(context.Background(), []byte(defineEvent))
			if err == nil && !bytes.Contains(out, []byte(`"challengeName":"CUSTOM_CHALLENGE"`)) {
				err = fmt.Errorf("response %s", out)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	s := h.Stats()
	if s.Invocations != 20 || s.ColdStarts < 1 || s.ColdStarts > 4 {
		t.Errorf("stats = %+v, want 20 invocations on at most 4 processes", s)
	}
	if len(s.ColdStartDurations) != s.ColdStarts {
		t.Errorf("%d cold-start durations for %d processes", len(s.ColdStartDurations), s.ColdStarts)
	}
	for _, p := range s.Processes {
		if p.ColdStart <= 0 || p.Invocations == 0 {
			t.Errorf("process %+v", p)
		}
	}
	t.Logf("20 invocations on %d processes, cold starts %v", s.ColdStarts, s.ColdStartDurations)
}

func TestConcurrencyLimit(t *testing.T) {
	fn := sleeper(t)
	fn.MaxConcurrency = 4
	h := start(t, fn)
	var mu sync.Mutex
	pids := map[int]bool{}
	var wg sync.WaitGroup
	begin := time.Now()
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := invokeSleeper(t, h, `{"sleep_ms": 100}`)
			mu.Lock()
			pids[out.PID] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	took := time.Since(begin)
	if len(pids) > 4 {
		t.Errorf("%d processes ran, want at most 4", len(pids))
	}
	if took < 480*time.Millisecond {
		t.Errorf("20 invocations of 100ms on 4 processes took %v, want >= 500ms", took)
	}
	if s := h.Stats(); s.ColdStarts > 4 || s.Invocations != 20 {
		t.Errorf("stats = %+v", s)
	}
}

func TestCancelledInvokeKeepsProcess(t *testing.T) {
	fn := sleeper(t)
	fn.MaxConcurrency = 1
	h := start(t, fn)
	first := invokeSleeper(t, h, `{}`)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := h.Invoke(ctx, []byte(`{"sleep_ms": 400}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	// The abandoned invocation still holds the only process; this one waits for it.
	next := invokeSleeper(t, h, `{}`)
	if next.PID != first.PID {
		t.Errorf("pid %d, want the same process %d", next.PID, first.PID)
	}
}

func TestLogs(t *testing.T) {
	var stdout bytes.Buffer
	fn := sleeper(t)
	fn.Stdout = &stdout
	h := start(t, fn)
	invokeSleeper(t, h, `{"log": "hello from the handler", "secret": "payload-marker-5f3a"}`)
	_, err := h.Invoke(context.Background(), []byte(`{"fail": "no", "secret": "payload-marker-5f3a"}`))
	if err == nil || strings.Contains(err.Error(), "payload-marker-5f3a") {
		t.Errorf("err = %v", err)
	}
	h.Close()
	logs := h.Logs()
	for _, s := range []string{"sleeper: ready\n", "hello from the handler\n"} {
		if !strings.Contains(logs, s) || !strings.Contains(stdout.String(), s) {
			t.Errorf("%q missing from Logs() %q or Stdout %q", s, logs, stdout.String())
		}
	}
	if strings.Contains(logs, "payload-marker") {
		t.Errorf("an event payload was logged: %q", logs)
	}
}

func TestCloseLeavesNoProcess(t *testing.T) {
	fn := sleeper(t)
	fn.Env["SLEEPER_CHILD"] = "1"
	fn.MaxConcurrency = 3
	h := start(t, fn)
	var mu sync.Mutex
	var outs []sleeperOut
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := invokeSleeper(t, h, `{"sleep_ms": 200}`)
			mu.Lock()
			outs = append(outs, out)
			mu.Unlock()
		}()
	}
	wg.Wait()
	var pids, children []int
	for _, p := range h.Stats().Processes {
		pids = append(pids, p.PID)
	}
	for _, o := range outs {
		children = append(children, o.Child)
	}
	api := ""
	for _, kv := range outs[0].Env {
		if v, ok := strings.CutPrefix(kv, "AWS_LAMBDA_RUNTIME_API="); ok {
			api = v
		}
	}
	if len(pids) != 3 {
		t.Fatalf("pids %v, want 3 processes", pids)
	}

	// An invocation in flight at Close ends with ErrClosed.
	inflight := make(chan error, 1)
	go func() {
		_, err := h.Invoke(context.Background(), []byte(`{"sleep_ms": 120000}`))
		inflight <- err
	}()
	for h.Stats().Invocations < 4 {
		time.Sleep(5 * time.Millisecond)
	}
	// Close does not wait for the invocation: had it waited, the invocation would have answered
	// (two minutes later) rather than ended with ErrClosed.
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-inflight; !errors.Is(err, lambdarun.ErrClosed) {
		t.Errorf("in-flight invocation: err = %v, want ErrClosed", err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("process %d survived Close", pid)
		}
	}
	// The children were in the processes' groups. Killed, they are reparented and may linger as
	// zombies until init reaps them.
	deadline := time.Now().Add(2 * time.Second)
	for _, pid := range children {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("child process %d survived Close", pid)
		}
	}
	if c, err := net.DialTimeout("tcp", api, time.Second); err == nil {
		c.Close()
		t.Errorf("runtime API %s still listens after Close", api)
	}
	if _, err := h.Invoke(context.Background(), []byte(`{}`)); !errors.Is(err, lambdarun.ErrClosed) {
		t.Errorf("Invoke after Close: err = %v, want ErrClosed", err)
	}
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return runtime.GOOS != "linux"
	}
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z' && b[i+2] != 'X'
	}
	return true
}

func TestStartRefuses(t *testing.T) {
	dir := t.TempDir()
	if _, err := lambdarun.Start(context.Background(), lambdarun.Function{Path: filepath.Join(dir, "missing")}); err == nil {
		t.Error("Start accepted a missing binary")
	}
	text := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(text, []byte("not a program"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := lambdarun.Start(context.Background(), lambdarun.Function{Path: text}); err == nil {
		t.Error("Start accepted a file that is not executable")
	}
	// An ELF header for another machine: the construct's arm64 build on an amd64 host.
	machine := uint16(183) // EM_AARCH64
	if runtime.GOARCH == "arm64" {
		machine = 62 // EM_X86_64
	}
	hdr := make([]byte, 64)
	copy(hdr, "\x7fELF\x02\x01\x01")
	binary.LittleEndian.PutUint16(hdr[16:], 2) // ET_EXEC
	binary.LittleEndian.PutUint16(hdr[18:], machine)
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	binary.LittleEndian.PutUint16(hdr[52:], 64)
	binary.LittleEndian.PutUint16(hdr[54:], 56)
	binary.LittleEndian.PutUint16(hdr[58:], 64)
	foreign := filepath.Join(dir, "foreign")
	if err := os.WriteFile(foreign, hdr, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := lambdarun.Start(context.Background(), lambdarun.Function{Path: foreign}); err == nil || !strings.Contains(err.Error(), "built for") {
		t.Errorf("Start of a foreign binary: err = %v", err)
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lambdarun.Build(root, "nope", dir); err == nil || !strings.Contains(err.Error(), "lambdas/cmd/nope") {
		t.Errorf("Build of a missing command: err = %v", err)
	}
}

func TestStartContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	h, err := lambdarun.Start(ctx, sleeper(t))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	invokeSleeper(t, h, `{}`)
	pid := h.Stats().Processes[0].PID
	cancel()
	deadline := time.Now().Add(3 * time.Second)
	for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if syscall.Kill(pid, 0) == nil {
		t.Error("the process survived the cancellation of Start's context")
	}
}

func BenchmarkColdStartDefine(b *testing.B) {
	fn := defineFunction(b)
	payload := []byte(defineEvent)
	var colds []time.Duration
	var peak int64
	for i := 0; i < b.N; i++ {
		h, err := lambdarun.Start(context.Background(), fn)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.Invoke(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
		s := h.Stats()
		if len(s.ColdStartDurations) != 1 {
			b.Fatalf("stats = %+v", s)
		}
		colds = append(colds, s.ColdStartDurations[0])
		peak = max(peak, h.PeakRSS())
		h.Close()
	}
	slices.Sort(colds)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(colds[len(colds)/2]), "ms/coldstart")
	b.ReportMetric(ms(colds[len(colds)*9/10]), "ms/coldstart-p90")
	b.ReportMetric(float64(peak)/(1<<20), "MiB/peak-rss")
}

func BenchmarkWarmInvokeDefine(b *testing.B) {
	h := start(b, defineFunction(b))
	payload := []byte(defineEvent)
	if _, err := h.Invoke(context.Background(), payload); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := h.Invoke(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/invoke")
}
