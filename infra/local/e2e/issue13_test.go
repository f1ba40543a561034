//go:build unix

package e2e

// The issue-13 tests (metrics, audit trail) run on a harness of their own, started by TestIssue13
// and closed when it ends: the construct's defaults, which switch metrics and the audit trail on
// (every function gets METRICS_NAMESPACE; Verify and the API get AUDIT_EVENT_BUS "default"). The
// harness reads the EMF lines the functions write on stdout as CloudWatch would (Metrics) and the
// events they put on EventBridge (AuditEvents); a fault on awsmock's EventBridge shows that a
// slow or failing EventBridge never fails a sign-in. The stack has its own metrics and events,
// so counts taken here see this test's traffic only.

import (
	"context"
	"crypto"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/infra/local/awsmock"
	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/infra/local/signin"
	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/devicekey"
	"github.com/passwordless-go/cognito/lambdas/keyed"
)

// i13 is the issue-13 stack and what its tests learnt that must never show up in a metric, an
// audit event or a function log line.
type i13 struct {
	*stack
	key *keyed.Key // the deployment key, to compute the users' keyed references

	mu      sync.Mutex
	secrets map[string]string // value -> what it is
}

// secret records v (an address, number, code, nonce, key ID or token) for the final scan.
func (s *i13) secret(what, v string) {
	if v == "" {
		return
	}
	s.mu.Lock()
	s.secrets[v] = what
	s.mu.Unlock()
}

// ref is the keyed reference the functions give u in log lines and audit events.
func (s *i13) ref(u *user) string { return audit.UserRef(s.key, s.h.PoolID, u.sub) }

var hex12 = regexp.MustCompile(`^[0-9a-f]{12}$`)

// TestIssue13 starts the issue-13 stack and runs the metric and audit tests on it, in order
// (the last one scans everything the others produced).
func TestIssue13(t *testing.T) {
	need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h, err := harness.Start(ctx, harness.Options{
		Props:          harness.DefaultProps(),
		Root:           os.Getenv(EnvFunctionsRoot),
		MaxConcurrency: 4,
		Env:            map[string]map[string]string{"create": e2eEnv, "api": e2eEnv},
	})
	if err != nil {
		t.Fatalf("the issue-13 harness did not start: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	t.Logf("issue-13 harness started in %s", h.Startup.Total.Round(time.Millisecond))
	s := &i13{stack: newStack(h), secrets: map[string]string{}}

	// The construct's defaults switch metrics and the audit trail on.
	for _, c := range harness.Commands {
		if h.Env(c)["METRICS_NAMESPACE"] == "" {
			t.Errorf("function %s has no METRICS_NAMESPACE: the construct's default must switch metrics on", c)
		}
	}
	for _, c := range []string{"verify", "api"} {
		if h.Env(c)[audit.EnvEventBus] == "" {
			t.Errorf("function %s has no %s: the construct's default must switch the audit trail on", c, audit.EnvEventBus)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	k, err := keyed.New([]byte(h.DeploymentSecret()))
	if err != nil {
		t.Fatal(err)
	}
	s.key = k

	for _, st := range []struct {
		name string
		run  func(t *testing.T, s *i13)
	}{
		{"EmailCodeSignIn", testI13EmailCode},
		{"SMSCodeSignIn", testI13SMSCode},
		{"WrongCode", testI13WrongCode},
		{"Lockout", testI13Lockout},
		{"DeviceKeys", testI13DeviceKeys},
		{"EventBridgeHangs", testI13EventBridgeHangs},
		{"EventBridgeFailsEntries", testI13EventBridgeFailsEntries},
		{"WellFormed", testI13WellFormed},
		{"NothingPersonal", testI13NothingPersonal},
	} {
		t.Run(st.name, func(t *testing.T) { st.run(t, s) })
	}
}

// waitMetric waits up to 10 s for a metric name with at least dims written at index from or
// later, and fails the test naming what did come.
func (s *i13) waitMetric(t testing.TB, from int, name string, dims map[string]string) harness.Metric {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := s.h.WaitMetric(ctx, from, harness.MetricIs(name, dims))
	if err != nil {
		t.Fatalf("no metric %s%v: %v\nmetrics written since: %s\nEMF errors: %q", name, dims, err, summary(s.h.Metrics()[from:]), s.h.EMFErrors())
	}
	return m
}

// waitAudit waits up to 10 s for an audit event of type typ for u (nil: any user) put at index
// from or later.
func (s *i13) waitAudit(t testing.TB, from int, typ audit.Type, u *user) harness.AuditEvent {
	t.Helper()
	ref := ""
	if u != nil {
		ref = s.ref(u)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := s.h.WaitAuditEvent(ctx, from, harness.AuditIs(string(typ), ref))
	if err != nil {
		var got []string
		for _, e := range s.h.AuditEvents()[from:] {
			got = append(got, e.String())
		}
		t.Fatalf("no audit event %s for user %q: %v\nevents put since: %q", typ, ref, err, got)
	}
	return a
}

// checkAudit fails the test unless a is a well-formed version-1 event of the deployment's
// default source and bus from function fn, for u, with the given method ("" any).
func (s *i13) checkAudit(t testing.TB, a harness.AuditEvent, fn string, u *user, method string) {
	t.Helper()
	if a.Version != audit.SchemaVersion || a.Type != a.DetailType || a.Function != fn ||
		a.Source != s.h.Env(fn)[audit.EnvSource] || a.Bus != s.h.Env(fn)[audit.EnvEventBus] {
		t.Errorf("audit event %s: version %q type %q function %q source %q bus %q; want version %q, the detail-type, %s, %q, %q\n%s",
			a.DetailType, a.Version, a.Type, a.Function, a.Source, a.Bus, audit.SchemaVersion, fn,
			s.h.Env(fn)[audit.EnvSource], s.h.Env(fn)[audit.EnvEventBus], a.Raw)
	}
	if !hex12.MatchString(a.User) || a.User != s.ref(u) {
		t.Errorf("audit event %s: user %q, want the keyed reference %q (12 hex digits)", a.DetailType, a.User, s.ref(u))
	}
	if method != "" && a.Method != method {
		t.Errorf("audit event %s: method %q, want %q", a.DetailType, a.Method, method)
	}
	if ts, err := time.Parse(time.RFC3339, a.Time); err != nil || ts.Location() != time.UTC {
		t.Errorf("audit event %s: time %q, want RFC 3339 UTC", a.DetailType, a.Time)
	}
	if a.UserPoolID != "" && a.UserPoolID != s.h.PoolID {
		t.Errorf("audit event %s: userPoolId %q, want %q", a.DetailType, a.UserPoolID, s.h.PoolID)
	}
}

func summary(ms []harness.Metric) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.String())
	}
	return "[" + strings.Join(out, "; ") + "]"
}

// signIn signs u in with code method m, recording the address, the code and the tokens.
func (s *i13) signIn(t testing.TB, u *user, m string) *types.AuthenticationResultType {
	t.Helper()
	ctx := ctxT(t, 2*time.Minute)
	r, code := s.codeRound(t, ctx, u, m)
	s.secret("code", code)
	out, err := s.respond(ctx, r, code, method(m))
	if err != nil || !signin.Tokens(out) {
		t.Fatalf("answer the %s code: tokens=%v err=%v", m, signin.Tokens(out), err)
	}
	s.tokens(out.AuthenticationResult)
	return out.AuthenticationResult
}

func (s *i13) tokens(res *types.AuthenticationResultType) {
	s.secret("access token", aws.ToString(res.AccessToken))
	s.secret("ID token", aws.ToString(res.IdToken))
	s.secret("refresh token", aws.ToString(res.RefreshToken))
}

func (s *i13) newUser(t testing.TB, tag string) *user {
	t.Helper()
	u := s.signUp(t, uniqueEmail(tag))
	s.secret("email address", u.email)
	return u
}

// wrongAnswerRound signs up an email user tagged tag and starts its email_otp sign-in for a test
// that answers it wrongly; it records the code and the wrong answer (wrongCode) for the final scan
// and returns the user, the round and the right code.
func (s *i13) wrongAnswerRound(t testing.TB, ctx context.Context, tag string) (*user, *round, string) {
	t.Helper()
	u := s.newUser(t, tag)
	r, code := s.codeRound(t, ctx, u, "email_otp")
	s.secret("code", code)
	s.secret("wrong code", wrongCode(code))
	return u, r, code
}

// testI13EmailCode: a sign-in by email code writes SignInStarted (create), Sent{email,code}
// (create), SignInSucceeded{email_otp} (verify) and the latency of its DynamoDB and SES calls,
// and puts sign_in.succeeded with the user's keyed reference.
func testI13EmailCode(t *testing.T, s *i13) {
	from, evFrom := len(s.h.Metrics()), len(s.h.AuditEvents())
	u := s.newUser(t, "i13-email")
	s.signIn(t, u, "email_otp")

	ns := s.h.Env("create")["METRICS_NAMESPACE"]
	for _, w := range []struct {
		fn, name string
		dims     map[string]string
		unit     string
	}{
		{"create", "SignInStarted", nil, "Count"},
		{"create", "Sent", map[string]string{"Channel": "email", "Kind": "code"}, "Count"},
		{"verify", "SignInSucceeded", map[string]string{"Method": "email_otp"}, "Count"},
		{"", "DependencyLatency", map[string]string{"Dependency": "dynamodb"}, "Milliseconds"},
		{"create", "DependencyLatency", map[string]string{"Dependency": "ses"}, "Milliseconds"},
	} {
		m := s.waitMetric(t, from, w.name, w.dims)
		if (w.fn != "" && m.Function != w.fn) || m.Unit != w.unit || m.Namespace != ns || m.Value() <= 0 {
			t.Errorf("%s: function %q unit %q namespace %q value %v; want %q %q %q and a positive value", m, m.Function, m.Unit, m.Namespace, m.Value(), w.fn, w.unit, ns)
		}
	}
	if n := harness.SumMetrics(s.h.Metrics()[from:], harness.MetricIs("SignInSucceeded", nil)); n != 1 {
		t.Errorf("SignInSucceeded sums to %v for one sign-in, want 1", n)
	}
	a := s.waitAudit(t, evFrom, audit.SignInSucceeded, u)
	s.checkAudit(t, a, "verify", u, "email_otp")
}

// testI13SMSCode: an SMS code goes out as Sent{sms,code} and the SNS call's latency is recorded.
func testI13SMSCode(t *testing.T, s *i13) {
	from, evFrom := len(s.h.Metrics()), len(s.h.AuditEvents())
	u := s.signUp(t, uniquePhone())
	s.secret("phone number", u.phone)
	s.signIn(t, u, "sms_otp")
	s.waitMetric(t, from, "Sent", map[string]string{"Channel": "sms", "Kind": "code"})
	s.waitMetric(t, from, "DependencyLatency", map[string]string{"Dependency": "sns"})
	s.waitMetric(t, from, "SignInSucceeded", map[string]string{"Method": "sms_otp"})
	s.checkAudit(t, s.waitAudit(t, evFrom, audit.SignInSucceeded, u), "verify", u, "sms_otp")
}

// testI13WrongCode: a wrong code is SignInFailed{email_otp, wrong_answer} and sign_in.failed.
func testI13WrongCode(t *testing.T, s *i13) {
	from, evFrom := len(s.h.Metrics()), len(s.h.AuditEvents())
	ctx := ctxT(t, 2*time.Minute)
	u, r, code := s.wrongAnswerRound(t, ctx, "i13-wrong")
	out, err := s.respond(ctx, r, wrongCode(code), method("email_otp"))
	if refusal(t, "a wrong code", out, err) != "retry" {
		t.Fatalf("a first wrong code ended the sign-in: %v", err)
	}
	m := s.waitMetric(t, from, "SignInFailed", map[string]string{"Method": "email_otp", "Reason": "wrong_answer"})
	if m.Function != "verify" {
		t.Errorf("%s written by %s, want verify", m, m.Function)
	}
	a := s.waitAudit(t, evFrom, audit.SignInFailed, u)
	s.checkAudit(t, a, "verify", u, "email_otp")
	if a.Reason != "wrong_answer" {
		t.Errorf("sign_in.failed reason %q, want wrong_answer", a.Reason)
	}
}

// testI13Lockout: wrong answers up to the account's limit lock it; the right code of a sign-in
// still open is then refused, counted as Lockouts, and account.locked is put.
func testI13Lockout(t *testing.T, s *i13) {
	waitWindow(t, 15*time.Minute, 10*time.Second) // lockout windows are 15 min, epoch-aligned
	from, evFrom := len(s.h.Metrics()), len(s.h.AuditEvents())
	ctx := ctxT(t, 2*time.Minute)
	u, held, right := s.wrongAnswerRound(t, ctx, "i13-lock")
	wrong := 0
	for wrong < lockoutLimit {
		r, err := s.chooseCode(ctx, u.email, "email_otp") // later sign-ins keep the first code
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= maxAttempts && wrong < lockoutLimit; i++ {
			out, err := s.respond(ctx, r, wrongCode(right), method("email_otp"))
			wrong++
			if signin.Tokens(out) {
				t.Fatal("tokens for a wrong code")
			}
			if err != nil {
				break
			}
			r.next(out)
		}
	}
	out, err := s.respond(ctx, held, right, method("email_otp"))
	if signin.Tokens(out) {
		t.Fatalf("right code accepted after %d wrong answers (lockout at %d)", wrong, lockoutLimit)
	}
	m := s.waitMetric(t, from, "Lockouts", nil)
	if m.Function != "verify" {
		t.Errorf("%s written by %s, want verify", m, m.Function)
	}
	s.checkAudit(t, s.waitAudit(t, evFrom, audit.AccountLocked, u), "verify", u, "")
	t.Logf("after %d wrong answers the right code was refused (err=%v); metrics: %s", wrong, err,
		summary(slices.DeleteFunc(s.h.Metrics()[from:], func(m harness.Metric) bool { return m.Name == "DependencyLatency" })))
}

// keySignIn signs name in with device key k, recording the nonce, and returns the outcome.
func (s *i13) keySignIn(ctx context.Context, t testing.TB, name string, k crypto.Signer, keyID string) *types.AuthenticationResultType {
	t.Helper()
	init, err := s.Initiate(ctx, name)
	if err != nil {
		t.Fatalf("InitiateAuth %s: %v", name, err)
	}
	nonce := init.ChallengeParameters["nonce"]
	s.secret("nonce", nonce)
	msg, err := devicekey.Message(s.h.PoolID, s.h.ClientID, init.ChallengeParameters["USERNAME"], nonce)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signRaw(k, msg)
	if err != nil {
		t.Fatal(err)
	}
	s.secret("signature", sig)
	r := &round{session: init.Session, username: init.ChallengeParameters["USERNAME"], params: init.ChallengeParameters}
	out, err := s.respond(ctx, r, keyAnswer(keyID, sig), method("device_key"))
	if err != nil || !signin.Tokens(out) {
		t.Fatalf("device key sign-in: tokens=%v err=%v", signin.Tokens(out), err)
	}
	s.tokens(out.AuthenticationResult)
	return out.AuthenticationResult
}

// testI13DeviceKeys: registering device keys is KeyRegistered{device_key} and device_key.added
// (api); a key sign-in is SignInSucceeded{device_key}; revoking all keys is one KeyRevoked per
// key and recovery.device_keys_revoked with the count.
func testI13DeviceKeys(t *testing.T, s *i13) {
	from, evFrom := len(s.h.Metrics()), len(s.h.AuditEvents())
	u := s.newUser(t, "i13-keys")
	res := s.signIn(t, u, "email_otp")
	access := aws.ToString(res.AccessToken)
	k1, k2 := newP256(t), newP256(t)
	id1 := s.registerKey(t, access, k1, "i13 phone")
	id2 := s.registerKey(t, access, k2, "i13 tablet")
	s.secret("key ID", id1)
	s.secret("key ID", id2)
	s.waitMetric(t, from, "KeyRegistered", map[string]string{"Method": "device_key"})
	a := s.waitAudit(t, evFrom, audit.DeviceKeyAdded, u)
	s.checkAudit(t, a, "api", u, "device_key")
	s.keySignIn(ctxT(t, time.Minute), t, u.email, k1, id1)
	s.waitMetric(t, from, "SignInSucceeded", map[string]string{"Method": "device_key"})

	revFrom := len(s.h.AuditEvents())
	status, body := s.api(t, http.MethodDelete, "/device-keys", access, nil)
	if status != http.StatusOK || body["removed"] != float64(2) {
		t.Fatalf("DELETE /device-keys: %d %v, want 200 removed 2", status, body)
	}
	s.waitMetric(t, from, "KeyRevoked", map[string]string{"Method": "device_key"})
	r := s.waitAudit(t, revFrom, audit.DeviceKeysRevoked, u)
	s.checkAudit(t, r, "api", u, "")
	if r.Count != 2 {
		t.Errorf("recovery.device_keys_revoked count %d, want 2\n%s", r.Count, r.Raw)
	}
	// Wait for the function's output to settle, then count: one KeyRegistered and one KeyRevoked
	// per key.
	s.settle()
	ms := s.h.Metrics()[from:]
	reg := harness.SumMetrics(ms, harness.MetricIs("KeyRegistered", map[string]string{"Method": "device_key"}))
	rev := harness.SumMetrics(ms, harness.MetricIs("KeyRevoked", map[string]string{"Method": "device_key"}))
	if reg != 2 || rev != 2 {
		t.Errorf("KeyRegistered %v and KeyRevoked %v for two keys registered and revoked, want 2 and 2", reg, rev)
	}
	if n := len(s.h.AuditEvents()[evFrom:]); n == 0 {
		t.Error("no audit events")
	}
}

// undelivered waits until function fn's log has at least n lines "audit event undelivered".
func (s *i13) undelivered(t testing.TB, fn string, n int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		logs := s.h.Hosts[fn].Logs()
		if strings.Count(logs, `"audit event undelivered"`) >= n || time.Now().After(deadline) {
			if c := strings.Count(logs, `"audit event undelivered"`); c < n {
				t.Fatalf("%s logged %d \"audit event undelivered\" lines, want at least %d", fn, c, n)
			}
			return logs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testI13EventBridgeHangs: with EventBridge holding every PutEvents without an answer, a sign-in
// still succeeds (Verify gives up after AUDIT_TIMEOUT, well inside Cognito's 5 s), the event is
// written to Verify's log as "audit event undelivered" and counted as AuditUndelivered, and
// the failed call as DependencyErrors{events}.
func testI13EventBridgeHangs(t *testing.T, s *i13) {
	from, evFrom := len(s.h.Metrics()), len(s.h.AuditEvents())
	before := strings.Count(s.h.Hosts["verify"].Logs(), `"audit event undelivered"`)
	s.h.AWS.Inject(awsmock.Fault{Service: awsmock.ServiceEvents, Operation: "PutEvents", Kind: awsmock.Hang})
	defer s.h.AWS.ClearFaults()
	u := s.newUser(t, "i13-hang")
	s.signIn(t, u, "email_otp") // fails the test unless the tokens come
	logs := s.undelivered(t, "verify", before+1)
	var line string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"audit event undelivered"`) && strings.Contains(l, s.ref(u)) {
			line = l
		}
	}
	if line == "" || !strings.Contains(line, string(audit.SignInSucceeded)) {
		t.Errorf("no \"audit event undelivered\" line with sign_in.succeeded for %s in verify's log", s.ref(u))
	}
	s.waitMetric(t, from, "AuditUndelivered", nil)
	s.dependencyError(t, from, "events")
	if calls := s.h.AWS.Calls()["events.PutEvents"]; calls == 0 {
		t.Error("Verify never called PutEvents")
	}
	for _, a := range s.h.AuditEvents()[evFrom:] {
		if a.User == s.ref(u) {
			t.Errorf("an event was taken while EventBridge hung: %s", a)
		}
	}
}

// dependencyError fails the test unless the invocation that made the failed call wrote
// DependencyErrors{dep} (at index from or later). When it did not, it signs in once more with
// the fault cleared and says whether the metric then came with a later invocation's metrics (the
// failure recorded after the invocation had flushed) or not at all.
func (s *i13) dependencyError(t *testing.T, from int, dep string) {
	t.Helper()
	match := harness.MetricIs("DependencyErrors", map[string]string{"Dependency": dep})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.h.WaitMetric(ctx, from, match); err == nil {
		return
	}
	s.h.AWS.ClearFaults()
	next := len(s.h.Metrics())
	s.signIn(t, s.newUser(t, "i13-after-fault"), "email_otp")
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if m, err := s.h.WaitMetric(ctx2, next, match); err == nil {
		t.Errorf("DependencyErrors{Dependency=%s} of the failed call was not written by the invocation that made it, "+
			"but by a later one (%s, after the next sign-in): the failure is recorded after that invocation's "+
			"metrics were flushed (the call still ran when the invocation ended), so its time is wrong and, "+
			"without a later invocation of the same process, it is lost", dep, m)
		return
	}
	t.Errorf("DependencyErrors{Dependency=%s} never written for the failed call (metrics since: %s)", dep, summary(s.h.Metrics()[from:]))
}

// testI13EventBridgeFailsEntries: EventBridge answering every entry failed (InternalFailure) does
// not fail the sign-in either; the events are logged as undelivered.
func testI13EventBridgeFailsEntries(t *testing.T, s *i13) {
	from := len(s.h.Metrics())
	before := strings.Count(s.h.Hosts["verify"].Logs(), `"audit event undelivered"`)
	s.h.AWS.Inject(awsmock.Fault{Service: awsmock.ServiceEvents, Kind: awsmock.FailEntries})
	defer s.h.AWS.ClearFaults()
	u := s.newUser(t, "i13-fail")
	s.signIn(t, u, "email_otp")
	s.undelivered(t, "verify", before+1)
	s.waitMetric(t, from, "AuditUndelivered", nil)
}

// allowedDims are the dimension values package metrics allows (anything else is "other").
var allowedDims = map[string][]string{
	"Method":     {"email_otp", "sms_otp", "device_key", "passkey", "magic_link", "other"},
	"Reason":     {"wrong_answer", "expired", "locked", "limit", "dependency", "rate_limit", "daily_cap", "country", "unverified", "budget", "throttle", "fault", "timeout", "other"},
	"Channel":    {"email", "sms", "other"},
	"Kind":       {"code", "link", "notice", "other"},
	"Dependency": {"dynamodb", "ses", "sns", "cognito", "secretsmanager", "events", "other"},
}

// testI13WellFormed: every EMF line the functions wrote is one CloudWatch extracts metrics from,
// in the deployment's namespace, with dimensions from the allow-lists only (low cardinality).
func testI13WellFormed(t *testing.T, s *i13) {
	s.settle()
	if errs := s.h.EMFErrors(); len(errs) > 0 {
		t.Errorf("%d EMF lines CloudWatch would extract no metric from:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	ms := s.h.Metrics()
	if len(ms) == 0 {
		t.Fatal("no metrics at all")
	}
	for _, m := range ms {
		if want := s.h.Env(m.Function)["METRICS_NAMESPACE"]; m.Namespace != want {
			t.Errorf("%s: namespace %q, want %q", m, m.Namespace, want)
		}
		for k, v := range m.Dims {
			if !slices.Contains(allowedDims[k], v) {
				t.Errorf("%s: dimension %s=%q is not in the allow-list", m, k, v)
			}
		}
	}
	names := map[string]bool{}
	for _, m := range ms {
		names[m.Name] = true
	}
	t.Logf("%d metrics written, names %v", len(ms), slices.Sorted(maps.Keys(names)))
}

// testI13NothingPersonal: no EMF line, audit event or function log line holds any address, phone
// number, code, nonce, key ID, signature or token the tests used.
func testI13NothingPersonal(t *testing.T, s *i13) {
	s.settle()
	s.mu.Lock()
	secrets := maps.Clone(s.secrets)
	s.mu.Unlock()
	if len(secrets) < 10 {
		t.Fatalf("only %d values to look for: the tests before did not run", len(secrets))
	}
	// A code is digits: it counts only where no digit or decimal point touches it, so that a
	// timestamp or a latency that happens to contain its digits is no false alarm. Anything else
	// is looked for case-insensitively.
	var pats []*regexp.Regexp
	var whats []string
	for v, what := range secrets {
		p := "(?i)" + regexp.QuoteMeta(v)
		if strings.Trim(v, "0123456789") == "" {
			p = `(^|[^0-9.])` + regexp.QuoteMeta(v) + `([^0-9.]|$)`
		}
		pats, whats = append(pats, regexp.MustCompile(p)), append(whats, what)
	}
	leaks := func(text string) []string {
		var out []string
		for i, re := range pats {
			if re.MatchString(text) {
				out = append(out, whats[i])
			}
		}
		return out
	}
	check := func(where, text string) {
		if l := leaks(text); len(l) > 0 {
			t.Errorf("%s holds %v:\n%.400s", where, l, text)
		}
	}
	// The scan finds what it looks for (a recorded address and code), and no mere digits that
	// touch others.
	var anEmail, aCode string
	for v, what := range secrets {
		switch what {
		case "email address":
			anEmail = v
		case "code":
			aCode = v
		}
	}
	if len(leaks(`{"msg":"x","to":"`+strings.ToUpper(anEmail)+`"}`)) == 0 || len(leaks(`{"answer":"`+aCode+`"}`)) == 0 ||
		len(leaks(`{"Timestamp":19`+aCode+`1,"DependencyLatency":[2.`+aCode+`]}`)) != 0 {
		t.Fatalf("the scan does not work: email %q, code %q", anEmail, aCode)
	}
	emfLines, logLines := 0, 0
	for _, fn := range harness.Commands {
		for _, l := range strings.Split(s.h.Hosts[fn].Logs(), "\n") {
			if l == "" {
				continue
			}
			if _, isEMF, _ := harness.ParseEMF(fn, []byte(l)); isEMF {
				emfLines++
				check(fn+" EMF line", l)
			} else {
				logLines++
				check(fn+" log line", l)
			}
		}
	}
	evs := s.h.AuditEvents()
	for _, a := range evs {
		check("audit event "+a.DetailType, a.Source+" "+a.DetailType+" "+a.Raw)
	}
	if emfLines == 0 || len(evs) == 0 || logLines == 0 {
		t.Errorf("scanned %d EMF lines, %d audit events, %d log lines: each should be more than 0", emfLines, len(evs), logLines)
	}
	t.Logf("scanned %d EMF lines, %d audit events and %d function log lines for %d values", emfLines, len(evs), logLines, len(secrets))
}
