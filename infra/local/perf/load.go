//go:build unix

package perf

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/infra/local/awsmock"
	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/infra/local/idp"
	"github.com/passwordless-go/cognito/infra/local/lambdarun"
	"github.com/passwordless-go/cognito/infra/smoke"
	"github.com/passwordless-go/cognito/lambdas/authflow"
)

// Load: sign-ins through the whole local stack (infra/local/harness: the emulated user pool, the
// built trigger bootstraps behind lambdarun, dynalite behind awsmock, the HTTP API) with C
// concurrent clients, each running complete sign-ins back to back, half with a device key and half
// with an email code, every one for its own user and address. The same again with a latency
// injected into every DynamoDB call (awsmock Fault Latency).

// Load defaults.
var (
	// DefaultLoadConcurrency are the numbers of concurrent clients.
	DefaultLoadConcurrency = []int{1, 8, 64}
	// DefaultLoadSignIns are the sign-ins per concurrency, without injected latency.
	DefaultLoadSignIns = []int{40, 160, 320}
	// DefaultLatencySignIns are the sign-ins per concurrency with injected DynamoDB latency (each
	// sign-in takes seconds then).
	DefaultLatencySignIns = []int{8, 32, 128}
	// DefaultDynamoLatencies are the latencies injected into every DynamoDB call, one set of
	// phases each.
	DefaultDynamoLatencies = []time.Duration{time.Second}
)

// Budgets a trigger runs under.
const (
	// CognitoTriggerBudget is how long Cognito waits for one trigger invocation.
	CognitoTriggerBudget = idp.DefaultTriggerTimeout
	// FunctionTimeout is the construct's function timeout (Lambda ends the invocation).
	FunctionTimeout = lambdarun.DefaultTimeout
)

// Load methods.
const (
	MethodDeviceKey = string(authflow.DeviceKey)
	MethodEmailOTP  = string(authflow.EmailOTP)
)

// LoadConfig configures RunLoad. Zero values take the defaults.
type LoadConfig struct {
	// Concurrency are the numbers of concurrent clients, one phase each (default
	// DefaultLoadConcurrency).
	Concurrency []int
	// SignIns are the sign-ins of each phase without injected latency, by index of Concurrency
	// (default DefaultLoadSignIns; the last value repeats).
	SignIns []int
	// LatencySignIns are the sign-ins of each phase with injected latency (default
	// DefaultLatencySignIns).
	LatencySignIns []int
	// DynamoLatencies are injected into every DynamoDB call, one set of phases each (default
	// DefaultDynamoLatencies). NoLatency skips these phases.
	DynamoLatencies []time.Duration
	NoLatency       bool
	// SignInTimeout bounds one sign-in (default 60 s): it then counts as timed out.
	SignInTimeout time.Duration
	// SetupConcurrency is the parallelism of the sign-ups and key enrolments before each phase
	// (default 8).
	SetupConcurrency int
	// Command is the command line quoted in the report.
	Command string
	// Progress receives one line per step (default: discarded).
	Progress io.Writer
}

func (c LoadConfig) withDefaults() LoadConfig {
	if len(c.Concurrency) == 0 {
		c.Concurrency = DefaultLoadConcurrency
	}
	if len(c.SignIns) == 0 {
		c.SignIns = DefaultLoadSignIns
	}
	if len(c.LatencySignIns) == 0 {
		c.LatencySignIns = DefaultLatencySignIns
	}
	if len(c.DynamoLatencies) == 0 {
		c.DynamoLatencies = DefaultDynamoLatencies
	}
	if c.NoLatency {
		c.DynamoLatencies = nil
	}
	if c.SignInTimeout <= 0 {
		c.SignInTimeout = 60 * time.Second
	}
	if c.SetupConcurrency <= 0 {
		c.SetupConcurrency = 8
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return c
}

func pick(l []int, i int) int { return l[min(i, len(l)-1)] }

// LoadResult is what RunLoad measured.
type LoadResult struct {
	Machine Machine
	Date    time.Time
	Command string
	// MaxConcurrency is the execution environments per function (0: not known, the harness was
	// given).
	MaxConcurrency int
	Phases         []LoadPhase
	Elapsed        time.Duration
}

// LoadPhase is one run of sign-ins at one concurrency and one injected DynamoDB latency.
type LoadPhase struct {
	DynamoLatency time.Duration // 0: none
	Concurrency   int
	SignIns       int // attempted
	OK            int // ended with tokens
	Failed        int // an error or no tokens before SignInTimeout
	TimedOut      int // SignInTimeout passed (also counted in Failed)
	// Errors counts the failures by message (request IDs removed).
	Errors map[string]int
	// Elapsed is from the first sign-in's start to the last one's end.
	Elapsed time.Duration
	// Latency are the successful sign-ins' durations (InitiateAuth to tokens, the code's
	// delivery included), all and by method; FailedLatency the failed ones'.
	Latency       []time.Duration
	ByMethod      map[string][]time.Duration
	FailedLatency []time.Duration
	// Triggers are the trigger invocations, by trigger and method (TriggerKey).
	Triggers map[string]*TriggerTimes
	// From the pool's and awsmock's counters.
	TriggerRetries, TriggerFailures int
	DynamoCalls                     int
	AWSCalls                        map[string]int
	Setup                           time.Duration
}

// TriggerTimes are one trigger's invocations as Cognito saw them: from the pool's invoke to the
// answer, waiting for a free execution environment included.
type TriggerTimes struct {
	Durations []time.Duration // every invocation, failed ones included
	// FunctionErrors are invocations the function answered with an error; Timeouts those Lambda
	// ended at the function timeout; Abandoned those Cognito gave up on (its budget) before any
	// answer.
	FunctionErrors, Timeouts, Abandoned int
}

// SignInsPerSecond is OK sign-ins per second of Elapsed.
func (p *LoadPhase) SignInsPerSecond() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.OK) / p.Elapsed.Seconds()
}

// Tail is nearest-rank percentiles of a set of durations.
type Tail struct {
	N                   int
	P50, P99, P999, Max time.Duration
}

// TailOf returns the Tail of ds.
func TailOf(ds []time.Duration) Tail {
	if len(ds) == 0 {
		return Tail{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return Tail{N: len(s), P50: Percentile(s, 50), P99: Percentile(s, 99), P999: Percentile(s, 99.9), Max: s[len(s)-1]}
}

// LoadHarnessOptions configure StartLoadHarness.
type LoadHarnessOptions struct {
	// MaxConcurrency is each function's number of execution environments (default: the largest
	// LoadConfig concurrency, at least 4), so that the functions scale with the clients as Lambda
	// does instead of queueing behind lambdarun's default of 4.
	MaxConcurrency int
	// Root is the module root (default harness.FindRoot).
	Root string
	// Log receives the functions' output and the pool's log lines (default: discarded).
	Log io.Writer
}

// LoadProps are the construct props of the load harness: the harness's defaults (email_otp,
// sms_otp, device_key). Every load user has its own address and is sent one code, so the send
// delays never hold a code back.
func LoadProps() *passwordless.Props {
	return harness.DefaultProps()
}

// StartLoadHarness starts a harness for RunLoad with LoadProps.
func StartLoadHarness(ctx context.Context, o LoadHarnessOptions) (*harness.Harness, error) {
	if o.MaxConcurrency <= 0 {
		o.MaxConcurrency = max(4, slices.Max(DefaultLoadConcurrency))
	}
	return harness.Start(ctx, harness.Options{Props: LoadProps(), Root: o.Root, Log: o.Log, MaxConcurrency: o.MaxConcurrency})
}

// Load starts a harness (StartLoadHarness), runs RunLoad on it and stops it.
func Load(ctx context.Context, cfg LoadConfig, o LoadHarnessOptions) (*LoadResult, error) {
	if o.MaxConcurrency <= 0 {
		o.MaxConcurrency = max(4, slices.Max(cfg.withDefaults().Concurrency))
	}
	t0 := time.Now()
	fmt.Fprintf(cfg.withDefaults().Progress, "load: starting the harness (synth, builds, dynalite), %d execution environments per function\n", o.MaxConcurrency)
	h, err := StartLoadHarness(ctx, o)
	if err != nil {
		return nil, err
	}
	res, err := RunLoad(ctx, h, cfg)
	if cerr := h.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("perf: closing the harness: %w", cerr)
	}
	if res != nil {
		res.MaxConcurrency = o.MaxConcurrency
		res.Elapsed = time.Since(t0)
	}
	return res, err
}

// RunLoad runs the load phases on h: for each concurrency C, SignIns sign-ins by C clients; then,
// for each of DynamoLatencies, the same with LatencySignIns and the latency injected into every
// DynamoDB call. Each phase signs up fresh users first (every second one enrols a P-256 device key
// after an email-code sign-in), outside the measurement and without injected latency.
//
// To time every trigger invocation, RunLoad serves a second pool (idp.New with h.IdP's
// configuration: the same pool and client IDs, issuer and signing key, so the API accepts its
// tokens) whose invoker times the calls to h.Hosts, and points h.AWS's Cognito handler at it
// while it runs (h.IdP afterwards). It clears h.AWS's faults after each latency phase. h must not
// be used by anything else meanwhile.
func RunLoad(ctx context.Context, h *harness.Harness, cfg LoadConfig) (*LoadResult, error) {
	t0 := time.Now()
	cfg = cfg.withDefaults()
	if h == nil || h.IdP == nil || h.AWS == nil {
		return nil, errors.New("perf: RunLoad needs a started harness")
	}
	for _, c := range cfg.Concurrency {
		if c < 1 {
			return nil, fmt.Errorf("perf: concurrency %d is less than 1", c)
		}
	}
	for _, n := range append(slices.Clone(cfg.SignIns), cfg.LatencySignIns...) {
		if n < 1 {
			return nil, fmt.Errorf("perf: %d sign-ins is less than 1", n)
		}
	}
	l, err := newLoader(h)
	if err != nil {
		return nil, err
	}
	defer l.close()
	step := func(format string, a ...any) {
		fmt.Fprintf(cfg.Progress, "%s  load: "+format+"\n", append([]any{time.Since(t0).Round(100 * time.Millisecond)}, a...)...)
	}
	res := &LoadResult{Machine: ReadMachine(), Date: time.Now().UTC(), Command: cfg.Command}
	latencies := append([]time.Duration{0}, cfg.DynamoLatencies...)
	for _, lat := range latencies {
		for i, c := range cfg.Concurrency {
			n := pick(cfg.SignIns, i)
			if lat > 0 {
				n = pick(cfg.LatencySignIns, i)
			}
			if err := ctx.Err(); err != nil {
				return res, err
			}
			step("C=%d, %d sign-ins, DynamoDB latency %s: signing up %d users", c, n, latencyLabel(lat), n)
			p, err := l.phase(ctx, cfg, c, n, lat)
			if err != nil {
				return res, err
			}
			res.Phases = append(res.Phases, *p)
			t := TailOf(p.Latency)
			step("C=%d: %d ok, %d failed in %s (%.1f sign-ins/s), p50 %s p99 %s p99.9 %s", c, p.OK, p.Failed,
				p.Elapsed.Round(time.Millisecond), p.SignInsPerSecond(), t.P50.Round(time.Millisecond), t.P99.Round(time.Millisecond), t.P999.Round(time.Millisecond))
		}
	}
	res.Elapsed = time.Since(t0)
	return res, nil
}

// loader is the load's client side and its timed pool.
type loader struct {
	h     *harness.Harness
	pool  *idp.Pool
	inv   *timedInvoker
	srv   *http.Server
	cog   *cip.Client
	api   *http.Client
	runID string
	seq   atomic.Int64
}

func newLoader(h *harness.Harness) (*loader, error) {
	inv := &timedInvoker{hosts: h.Hosts}
	pool, err := idp.New(h.IdP.Config(), inv)
	if err != nil {
		return nil, fmt.Errorf("perf: timed pool: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: pool, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	h.AWS.SetCognito(pool) // the functions' admin calls (AdminUpdateUserAttributes) reach this pool
	endpoint := "http://" + ln.Addr().String()
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 512, 512
	})
	cog := cip.NewFromConfig(aws.Config{
		Region:      h.Region,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCALLOAD", "local-load-secret", ""),
		HTTPClient:  httpClient,
	}, func(o *cip.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.RetryMaxAttempts = 1 // a failed call is a failed sign-in, as the user sees it
	})
	var id [4]byte
	_, _ = rand.Read(id[:])
	return &loader{
		h: h, pool: pool, inv: inv, srv: srv, cog: cog,
		api:   &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		runID: hex.EncodeToString(id[:]),
	}, nil
}

func (l *loader) close() {
	l.h.AWS.SetCognito(l.h.IdP)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if l.srv.Shutdown(ctx) != nil {
		l.srv.Close()
	}
}

// loadUser is one user of a phase.
type loadUser struct {
	method string
	email  string
	key    *ecdsa.PrivateKey
	keyID  string
}

// phase signs up n users, then runs their sign-ins with c clients.
func (l *loader) phase(ctx context.Context, cfg LoadConfig, c, n int, latency time.Duration) (*LoadPhase, error) {
	p := &LoadPhase{DynamoLatency: latency, Concurrency: c, SignIns: n, Errors: map[string]int{}, ByMethod: map[string][]time.Duration{}}
	setupStart := time.Now()
	users, err := l.setup(ctx, n, cfg.SetupConcurrency)
	if err != nil {
		return nil, err
	}
	p.Setup = time.Since(setupStart)

	rec := &phaseRecorder{triggers: map[string]*TriggerTimes{}}
	statsBefore, callsBefore := l.pool.Stats(), l.h.AWS.Calls()
	if latency > 0 {
		l.h.AWS.Inject(awsmock.Fault{Service: awsmock.ServiceDynamoDB, Kind: awsmock.Latency, Delay: latency})
	}
	l.inv.set(rec)

	jobs := make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				u := users[i]
				sctx, cancel := context.WithTimeout(ctx, cfg.SignInTimeout)
				t := time.Now()
				err := l.signIn(sctx, u)
				d := time.Since(t)
				timedOut := sctx.Err() != nil && ctx.Err() == nil
				cancel()
				mu.Lock()
				if err != nil {
					p.Failed++
					if timedOut {
						p.TimedOut++
					}
					p.Errors[u.method+": "+errorKey(err)]++
					p.FailedLatency = append(p.FailedLatency, d)
				} else {
					p.OK++
					p.Latency = append(p.Latency, d)
					p.ByMethod[u.method] = append(p.ByMethod[u.method], d)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range users {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	p.Elapsed = time.Since(start)

	if latency > 0 {
		l.h.AWS.ClearFaults()
	}
	// Invocations Cognito gave up on may still run on their process until the function timeout:
	// let them end before the next phase.
	if rec.abandoned() > 0 {
		time.Sleep(FunctionTimeout + 500*time.Millisecond)
	}
	l.inv.set(nil)
	p.Triggers = rec.snapshot()
	statsAfter, callsAfter := l.pool.Stats(), l.h.AWS.Calls()
	p.TriggerRetries = mapSum(statsAfter.Retries) - mapSum(statsBefore.Retries)
	p.TriggerFailures = mapSum(statsAfter.Failures) - mapSum(statsBefore.Failures)
	p.AWSCalls = map[string]int{}
	for k, v := range callsAfter {
		if d := v - callsBefore[k]; d != 0 {
			p.AWSCalls[k] = d
			if strings.HasPrefix(k, awsmock.ServiceDynamoDB+".") {
				p.DynamoCalls += d
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return p, err
	}
	return p, nil
}

func mapSum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

var requestIDs = regexp.MustCompile(`(?i)(RequestID|request id):? ?[0-9a-f-]+`)

// errorKey is err's message without request IDs, so that equal failures group.
func errorKey(err error) string {
	s := requestIDs.ReplaceAllString(err.Error(), "$1 <id>")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// setup signs up n users with unique addresses; the even ones sign in with an email code and
// register a P-256 device key.
func (l *loader) setup(ctx context.Context, n, par int) ([]*loadUser, error) {
	users := make([]*loadUser, n)
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for i := range users {
		m := MethodDeviceKey
		if i%2 == 1 {
			m = MethodEmailOTP
		}
		u := &loadUser{method: m, email: fmt.Sprintf("load-%s-%d@example.com", l.runID, l.seq.Add(1))}
		users[i] = u
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			if err := l.prepare(sctx, u); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s %s: %w", u.method, u.email, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, fmt.Errorf("perf: load set-up: %d of %d users failed, first: %w", len(errs), n, errs[0])
	}
	return users, nil
}

func (l *loader) prepare(ctx context.Context, u *loadUser) error {
	_, err := l.cog.SignUp(ctx, &cip.SignUpInput{
		ClientId: aws.String(l.h.ClientID),
		Username: aws.String(u.email),
		Password: aws.String(smoke.RandomPassword()),
		// No email attribute: the pool sets it from the Username; the app client may not write it.
	})
	if err != nil {
		return fmt.Errorf("SignUp: %w", err)
	}
	if u.method != MethodDeviceKey {
		return nil
	}
	access, err := l.codeSignIn(ctx, u, 1)
	if err != nil {
		return fmt.Errorf("code sign-in before enrolment: %w", err)
	}
	if u.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return err
	}
	der, err := x509.MarshalPKIXPublicKey(&u.key.PublicKey)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"publicKey": base64.StdEncoding.EncodeToString(der), "name": "load"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.h.APIURL+"/device-keys", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.api.Do(req)
	if err != nil {
		return fmt.Errorf("POST /device-keys: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var out struct {
		KeyID string `json:"keyId"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &out) != nil || out.KeyID == "" {
		return fmt.Errorf("POST /device-keys: %d %s", resp.StatusCode, raw)
	}
	u.keyID = out.KeyID
	return nil
}

// signIn runs one complete sign-in of u with its method.
func (l *loader) signIn(ctx context.Context, u *loadUser) error {
	if u.method == MethodEmailOTP {
		_, err := l.codeSignIn(ctx, u, 1)
		return err
	}
	init, err := l.initiate(ctx, u.email)
	if err != nil {
		return err
	}
	name, nonce := init.ChallengeParameters["USERNAME"], init.ChallengeParameters["nonce"]
	if nonce == "" {
		return fmt.Errorf("InitiateAuth: no nonce (%v)", slices.Sorted(maps.Keys(init.ChallengeParameters)))
	}
	answer, err := smoke.SignAnswer(u.key, u.keyID, l.h.PoolID, l.h.ClientID, name, nonce)
	if err != nil {
		return err
	}
	out, err := l.respond(ctx, init.Session, name, answer, MethodDeviceKey)
	if err != nil {
		return fmt.Errorf("RespondToAuthChallenge (signature): %w", err)
	}
	if out.AuthenticationResult == nil {
		return errors.New("RespondToAuthChallenge (signature): no tokens")
	}
	return nil
}

// codeSignIn signs u in with an email code, the n-th message to its address, and returns the
// access token.
func (l *loader) codeSignIn(ctx context.Context, u *loadUser, n int) (string, error) {
	init, err := l.initiate(ctx, u.email)
	if err != nil {
		return "", err
	}
	name := init.ChallengeParameters["USERNAME"]
	sel, err := l.respond(ctx, init.Session, name, MethodEmailOTP, MethodEmailOTP)
	if err != nil {
		return "", fmt.Errorf("RespondToAuthChallenge (choose email_otp): %w", err)
	}
	if sel.ChallengeParameters["kind"] != "CODE" {
		return "", fmt.Errorf("RespondToAuthChallenge (choose email_otp): kind %q, want CODE", sel.ChallengeParameters["kind"])
	}
	msg, err := l.h.AWS.WaitMessage(ctx, u.email, n)
	if err != nil {
		return "", err
	}
	code, ok := smoke.ExtractCode(msg.Text)
	if !ok {
		return "", errors.New("no code in the message")
	}
	out, err := l.respond(ctx, sel.Session, name, code, MethodEmailOTP)
	if err != nil {
		return "", fmt.Errorf("RespondToAuthChallenge (code): %w", err)
	}
	if out.AuthenticationResult == nil {
		return "", fmt.Errorf("RespondToAuthChallenge (code): no tokens (kind %q)", out.ChallengeParameters["kind"])
	}
	return aws.ToString(out.AuthenticationResult.AccessToken), nil
}

func (l *loader) initiate(ctx context.Context, name string) (*cip.InitiateAuthOutput, error) {
	out, err := l.cog.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       ciptypes.AuthFlowTypeCustomAuth,
		ClientId:       aws.String(l.h.ClientID),
		AuthParameters: map[string]string{"USERNAME": name},
	})
	if err != nil {
		return nil, fmt.Errorf("InitiateAuth: %w", err)
	}
	return out, nil
}

func (l *loader) respond(ctx context.Context, session *string, username, answer, method string) (*cip.RespondToAuthChallengeOutput, error) {
	return l.cog.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
		ClientId:           aws.String(l.h.ClientID),
		ChallengeName:      ciptypes.ChallengeNameTypeCustomChallenge,
		Session:            session,
		ChallengeResponses: map[string]string{"USERNAME": username, "ANSWER": answer},
		ClientMetadata:     map[string]string{authflow.MetaSignInMethod: method},
	})
}

// timedInvoker is the timed pool's idp.Invoker: the harness's functions (h.Hosts), each
// invocation timed into the current phaseRecorder. Outcomes become what Lambda's Invoke tells
// Cognito, as the harness's own invoker does.
type timedInvoker struct {
	hosts map[string]*lambdarun.Host
	mu    sync.Mutex
	rec   *phaseRecorder
}

func (i *timedInvoker) set(r *phaseRecorder) {
	i.mu.Lock()
	i.rec = r
	i.mu.Unlock()
}

func (i *timedInvoker) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	host := i.hosts[function]
	if host == nil {
		return nil, fmt.Errorf("ResourceNotFoundException: Function not found: %s", function)
	}
	start := time.Now()
	out, err := host.Invoke(ctx, payload)
	d := time.Since(start)
	i.mu.Lock()
	rec := i.rec
	i.mu.Unlock()
	if rec != nil {
		rec.add(TriggerKey(function, payload), d, err)
	}
	return harness.InvokeResult(out, err)
}

// TriggerKey names an invocation for the report: the function and the sign-in method of the
// RespondToAuthChallenge that caused it ("create email_otp"), or "initiate" for InitiateAuth's
// (no ClientMetadata reaches the triggers then); for verify also what was answered ("verify
// email_otp choice", "verify email_otp code", "verify device_key signature").
func TriggerKey(function string, payload []byte) string {
	var ev struct {
		Request struct {
			ClientMetadata map[string]string `json:"clientMetadata"`
			Private        map[string]string `json:"privateChallengeParameters"`
		} `json:"request"`
	}
	_ = json.Unmarshal(payload, &ev)
	m := ev.Request.ClientMetadata[authflow.MetaSignInMethod]
	switch {
	case function == "presignup":
		return function
	case m == "":
		return function + " initiate"
	case function != "verify":
		return function + " " + m
	}
	switch kind := authflow.Kind(ev.Request.Private[authflow.PrivKind]); {
	case kind == authflow.KindCode:
		return function + " " + m + " code"
	case kind == authflow.KindNonce && authflow.Method(m).IsCode():
		return function + " " + m + " choice"
	case kind == authflow.KindNonce:
		return function + " " + m + " signature"
	}
	return function + " " + m
}

// phaseRecorder collects one phase's trigger invocations.
type phaseRecorder struct {
	mu       sync.Mutex
	triggers map[string]*TriggerTimes
}

func (r *phaseRecorder) add(key string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.triggers[key]
	if t == nil {
		t = &TriggerTimes{}
		r.triggers[key] = t
	}
	t.Durations = append(t.Durations, d)
	var fe *lambdarun.FunctionError
	switch {
	case err == nil:
	case errors.Is(err, lambdarun.ErrTimeout):
		t.Timeouts++
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		t.Abandoned++
	case errors.As(err, &fe):
		t.FunctionErrors++
	default:
		t.FunctionErrors++ // crashes and anything else the function did wrong
	}
}

func (r *phaseRecorder) abandoned() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, t := range r.triggers {
		n += t.Abandoned + t.Timeouts
	}
	return n
}

func (r *phaseRecorder) snapshot() map[string]*TriggerTimes {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]*TriggerTimes, len(r.triggers))
	for k, t := range r.triggers {
		c := *t
		c.Durations = slices.Clone(t.Durations)
		out[k] = &c
	}
	return out
}

// triggerOrder sorts trigger keys: define, create, verify, then the method.
func triggerOrder(keys []string) []string {
	rank := map[string]int{"define": 0, "create": 1, "verify": 2, "presignup": 3}
	out := slices.Clone(keys)
	sort.SliceStable(out, func(i, j int) bool {
		fi, mi, _ := strings.Cut(out[i], " ")
		fj, mj, _ := strings.Cut(out[j], " ")
		if rank[fi] != rank[fj] {
			return rank[fi] < rank[fj]
		}
		return mi < mj
	})
	return out
}
