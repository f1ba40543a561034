package triggers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/audit/audittest"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/internal/testkit"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// wantEMF checks that the EMF lines in b sum (testkit.EMFCounts, namespace "test-ns") to want
// (testkit.WantCounts); nil: no metric at all.
func wantEMF(t *testing.T, b []byte, want map[string]float64) {
	t.Helper()
	testkit.WantCounts(t, "", testkit.EMFCounts(t, b, "test-ns"), want)
}

// fakeAudit is an AuditLog recording its events.
type fakeAudit struct {
	mu  sync.Mutex
	evs []audit.Event
}

func (f *fakeAudit) Add(ev audit.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.evs = append(f.evs, ev)
}

func (f *fakeAudit) events() []audit.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.evs)
}

// fakeExpiry is a Checker that can tell an expired round (triggers.ExpiryChecker).
type fakeExpiry struct {
	fakeChecker
	expired bool
}

func (f *fakeExpiry) Expired(triggers.CheckRequest) bool { return f.expired }

// failingKeys is a key source that fails.
type failingKeys struct{}

func (failingKeys) Key(context.Context) (*keyed.Key, error) { return nil, errBoom }

// Values the scenarios carry that no metric line or audit event may contain.
const (
	obsPhone      = "+447400123456"
	obsCode       = "482913"
	obsKeyID      = "k-01HV6Z"
	obsUnknown    = "victim.person@example.org"
	obsProof      = `{"keyId":"k-01HV6Z","signature":"MEUCIQDxV0Zr3bW8n3p"}`
	obsOTPSalt    = "c2FsdHNhbHRzYWx0c2FsdA=="
	obsOTPAddress = "alice@example.com"
)

var userRef = audit.UserRef(testKey, poolID, userName)

// verifyScenario is one answer to Verify and what it must count and report.
type verifyScenario struct {
	name    string
	v       func() *triggers.Verify
	ev      func() events.CognitoEventUserPoolsVerifyAuthChallenge
	correct bool
	err     bool
	metrics map[string]float64
	audit   []audit.Event
}

func obsAttrs() map[string]string {
	a := attrs()
	a["phone_number"], a["phone_number_verified"] = obsPhone, "true"
	return a
}

func codeEvent(m authflow.Method, answer string) events.CognitoEventUserPoolsVerifyAuthChallenge {
	private := codePrivate(m, "1")
	private["otpSalt"], private["otpAddress"] = obsOTPSalt, obsOTPAddress
	ev := verifyEvent(private, answer, cm(m, ""), false)
	ev.Request.UserAttributes = obsAttrs()
	return ev
}

func linkEvent(answer string) events.CognitoEventUserPoolsVerifyAuthChallenge {
	private := map[string]string{authflow.PrivKind: string(authflow.KindLink), authflow.PrivSessionID: sid,
		authflow.PrivMethod: string(authflow.MagicLink), authflow.PrivGeneration: "1", authflow.PrivRound: "2"}
	ev := verifyEvent(private, answer, cm(authflow.MagicLink, ""), false)
	ev.Request.UserAttributes = obsAttrs()
	return ev
}

func keyEvent(m authflow.Method) events.CognitoEventUserPoolsVerifyAuthChallenge {
	ev := verifyEvent(noncePrivate(testNonce), obsProof, cm(m, ""), false)
	ev.Request.UserAttributes = obsAttrs()
	return ev
}

func unknown(ev events.CognitoEventUserPoolsVerifyAuthChallenge) events.CognitoEventUserPoolsVerifyAuthChallenge {
	ev.UserName = obsUnknown
	ev.Request.UserNotFound = true
	ev.Request.UserAttributes = nil
	return ev
}

func verifyWith(c triggers.Checker, counter triggers.FailureCounter) func() *triggers.Verify {
	return func() *triggers.Verify {
		cs := map[authflow.Method]triggers.Checker{}
		for _, m := range authflow.AllMethods {
			cs[m] = c
		}
		return &triggers.Verify{Keys: testKeys, Config: allCfg, Checkers: cs, Failures: counter}
	}
}

func failed(m authflow.Method, reason string) audit.Event {
	return audit.Event{Type: audit.SignInFailed, User: userRef, UserPoolID: poolID, Method: string(m), Reason: reason}
}

func verifyScenarios() []verifyScenario {
	unknownRef := audit.UserRef(testKey, poolID, obsUnknown)
	return []verifyScenario{
		{
			name: "right code", v: verifyWith(&fakeChecker{ok: true}, &fakeCounter{limit: 3}),
			ev: func() events.CognitoEventUserPoolsVerifyAuthChallenge { return codeEvent(authflow.EmailOTP, obsCode) }, correct: true,
			metrics: map[string]float64{"SignInSucceeded{Method=email_otp}": 1},
			audit:   []audit.Event{{Type: audit.SignInSucceeded, User: userRef, UserPoolID: poolID, Method: "email_otp"}},
		},
		{
			name: "wrong code", v: verifyWith(&fakeChecker{}, &fakeCounter{limit: 3}),
			ev:      func() events.CognitoEventUserPoolsVerifyAuthChallenge { return codeEvent(authflow.SMSOTP, obsCode) },
			metrics: map[string]float64{"SignInFailed{Method=sms_otp,Reason=wrong_answer}": 1},
			audit:   []audit.Event{failed(authflow.SMSOTP, "wrong_answer")},
		},
		{
			name: "expired code", v: verifyWith(&fakeExpiry{expired: true}, &fakeCounter{limit: 3}),
			ev:      func() events.CognitoEventUserPoolsVerifyAuthChallenge { return codeEvent(authflow.EmailOTP, obsCode) },
			metrics: map[string]float64{"SignInFailed{Method=email_otp,Reason=expired}": 1},
			audit:   []audit.Event{failed(authflow.EmailOTP, "expired")},
		},
		{
			name: "wrong code, round not expired", v: verifyWith(&fakeExpiry{}, &fakeCounter{limit: 3}),
			ev:      func() events.CognitoEventUserPoolsVerifyAuthChallenge { return codeEvent(authflow.EmailOTP, obsCode) },
			metrics: map[string]float64{"SignInFailed{Method=email_otp,Reason=wrong_answer}": 1},
			audit:   []audit.Event{failed(authflow.EmailOTP, "wrong_answer")},
		},
		{
			name: "locked account", v: verifyWith(&fakeChecker{ok: true}, &fakeCounter{locked: true}),
			ev:      func() events.CognitoEventUserPoolsVerifyAuthChallenge { return codeEvent(authflow.EmailOTP, obsCode) },
			metrics: map[string]float64{"SignInFailed{Method=email_otp,Reason=locked}": 1, "Lockouts{}": 1},
			audit: []audit.Event{failed(authflow.EmailOTP, "locked"),
				{Type: audit.AccountLocked, User: userRef, UserPoolID: poolID, Method: "email_otp"}},
		},
		{
			name: "locked account, magic link", v: verifyWith(&fakeChecker{ok: true}, &fakeCounter{locked: true}),
			ev:      func() events.CognitoEventUserPoolsVerifyAuthChallenge { return linkEvent("secret-link-value") },
			metrics: map[string]float64{"SignInFailed{Method=magic_link,Reason=locked}": 1, "Lockouts{}": 1},
			audit: []audit.Event{failed(authflow.MagicLink, "locked"),
				{Type: audit.AccountLocked, User: userRef, UserPoolID: poolID, Method: "magic_link"}},
		},
		{
			name: "checker could not decide", v: verifyWith(&fakeChecker{err: errBoom}, &fakeCounter{limit: 3}), err: true,
			ev:      func() events.CognitoEventUserPoolsVerifyAuthChallenge { return codeEvent(authflow.EmailOTP, obsCode) },
			metrics: map[string]float64{"SignInFailed{Method=email_otp,Reason=dependency}": 1},
			audit:   []audit.Event{failed(authflow.EmailOTP, "dependency")},
		},
		{
			name: "failure counter unavailable", v: verifyWith(&fakeChecker{ok: true}, &fakeCounter{reserveErr: errBoom}), err: true,
			ev:      func() events.CognitoEventUserPoolsVerifyAuthChallenge { return codeEvent(authflow.EmailOTP, obsCode) },
			metrics: map[string]float64{"SignInFailed{Method=email_otp,Reason=dependency}": 1},
			audit:   []audit.Event{failed(authflow.EmailOTP, "dependency")},
		},
		{
			name: "deployment key unavailable", err: true,
			v: func() *triggers.Verify {
				v := verifyWith(&fakeChecker{ok: true}, &fakeCounter{limit: 3})()
				v.Keys = failingKeys{}
				return v
			},
			ev: func() events.CognitoEventUserPoolsVerifyAuthChallenge { return codeEvent(authflow.EmailOTP, obsCode) },
			// No method yet, and no user reference without the key: counted, not audited.
			metrics: map[string]float64{"SignInFailed{Reason=dependency}": 1},
		},
		{
			name: "right device key proof", v: verifyWith(&fakeChecker{ok: true}, &fakeCounter{locked: true}),
			ev: func() events.CognitoEventUserPoolsVerifyAuthChallenge { return keyEvent(authflow.DeviceKey) }, correct: true,
			metrics: map[string]float64{"SignInSucceeded{Method=device_key}": 1},
			audit:   []audit.Event{{Type: audit.SignInSucceeded, User: userRef, UserPoolID: poolID, Method: "device_key"}},
		},
		{
			name: "wrong passkey assertion", v: verifyWith(&fakeChecker{}, &fakeCounter{locked: true}),
			ev:      func() events.CognitoEventUserPoolsVerifyAuthChallenge { return keyEvent(authflow.Passkey) },
			metrics: map[string]float64{"SignInFailed{Method=passkey,Reason=wrong_answer}": 1},
			audit:   []audit.Event{failed(authflow.Passkey, "wrong_answer")},
		},
		{
			name: "wrong magic link", v: verifyWith(&fakeChecker{}, &fakeCounter{limit: 3}),
			ev:      func() events.CognitoEventUserPoolsVerifyAuthChallenge { return linkEvent("secret-link-value") },
			metrics: map[string]float64{"SignInFailed{Method=magic_link,Reason=wrong_answer}": 1},
			audit:   []audit.Event{failed(authflow.MagicLink, "wrong_answer")},
		},
		{
			name: "no checker for the method", v: func() *triggers.Verify { return &triggers.Verify{Keys: testKeys, Config: allCfg} },
			ev:      func() events.CognitoEventUserPoolsVerifyAuthChallenge { return keyEvent(authflow.DeviceKey) },
			metrics: map[string]float64{"SignInFailed{Method=device_key,Reason=wrong_answer}": 1},
			audit:   []audit.Event{failed(authflow.DeviceKey, "wrong_answer")},
		},
		{
			name: "unknown user, wrong code", v: verifyWith(&fakeChecker{}, &fakeCounter{limit: 3}),
			ev: func() events.CognitoEventUserPoolsVerifyAuthChallenge {
				return unknown(codeEvent(authflow.EmailOTP, obsCode))
			},
			metrics: map[string]float64{"SignInFailed{Method=email_otp,Reason=wrong_answer}": 1},
			audit:   []audit.Event{{Type: audit.SignInFailed, User: unknownRef, UserPoolID: poolID, Method: "email_otp", Reason: "wrong_answer"}},
		},
		{
			name: "unknown user, a checker saying yes", v: verifyWith(&fakeChecker{ok: true}, &fakeCounter{limit: 3}),
			ev:      func() events.CognitoEventUserPoolsVerifyAuthChallenge { return unknown(keyEvent(authflow.DeviceKey)) },
			metrics: map[string]float64{"SignInFailed{Method=device_key,Reason=wrong_answer}": 1},
			audit:   []audit.Event{{Type: audit.SignInFailed, User: unknownRef, UserPoolID: poolID, Method: "device_key", Reason: "wrong_answer"}},
		},
		{
			name: "unknown user, locked name", v: verifyWith(&fakeChecker{}, &fakeCounter{locked: true}),
			ev: func() events.CognitoEventUserPoolsVerifyAuthChallenge {
				return unknown(codeEvent(authflow.EmailOTP, obsCode))
			},
			// The name is locked like an account, but there is no account to report locked.
			metrics: map[string]float64{"SignInFailed{Method=email_otp,Reason=locked}": 1, "Lockouts{}": 1},
			audit:   []audit.Event{{Type: audit.SignInFailed, User: unknownRef, UserPoolID: poolID, Method: "email_otp", Reason: "locked"}},
		},
		{
			name: "method selection is not an attempt", v: verifyWith(&fakeChecker{}, &fakeCounter{limit: 3}),
			ev: func() events.CognitoEventUserPoolsVerifyAuthChallenge {
				ev := keyEvent(authflow.EmailOTP)
				ev.Request.ChallengeAnswer = ""
				return ev
			},
		},
		{
			name: "resend is not an attempt", v: verifyWith(&fakeChecker{}, &fakeCounter{limit: 3}),
			ev: func() events.CognitoEventUserPoolsVerifyAuthChallenge {
				ev := codeEvent(authflow.EmailOTP, "")
				ev.Request.ClientMetadata = cm(authflow.EmailOTP, authflow.ActionResend)
				return ev
			},
		},
	}
}

// runVerifyScenario runs sc with a Recorder writing to buf and the fake audit log a.
func runVerifyScenario(t *testing.T, sc verifyScenario, buf *bytes.Buffer, a triggers.AuditLog) {
	t.Helper()
	rec := metrics.New(buf, "test-ns")
	v := sc.v()
	v.Metrics, v.Audit = rec, a
	ok, err := runVerify(t, v, sc.ev())
	if ok != sc.correct || (err != nil) != sc.err {
		t.Fatalf("correct=%v err=%v, want correct=%v error=%v", ok, err, sc.correct, sc.err)
	}
	rec.Flush()
}

// TestVerifyMetricsAndAudit reads the EMF lines and audit events of every kind of answer.
func TestVerifyMetricsAndAudit(t *testing.T) {
	for _, sc := range verifyScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			var buf bytes.Buffer
			a := &fakeAudit{}
			runVerifyScenario(t, sc, &buf, a)
			wantEMF(t, buf.Bytes(), sc.metrics)
			if evs := a.events(); !slices.Equal(evs, sc.audit) {
				t.Errorf("audit events %+v, want %+v", evs, sc.audit)
			}
		})
	}
}

// TestVerifyMetricsOff: without a Recorder and an audit log (nil interfaces, or nil pointers in
// them) every scenario answers as before and nothing panics.
func TestVerifyMetricsOff(t *testing.T) {
	for _, sc := range verifyScenarios() {
		for _, off := range []struct {
			m triggers.MetricCounter
			a triggers.AuditLog
		}{{nil, nil}, {(*metrics.Recorder)(nil), (*audit.Publisher)(nil)}} {
			v := sc.v()
			v.Metrics, v.Audit = off.m, off.a
			ok, err := runVerify(t, v, sc.ev())
			if ok != sc.correct || (err != nil) != sc.err {
				t.Errorf("%s, metrics off (%T): correct=%v err=%v", sc.name, off.m, ok, err)
			}
		}
	}
}

// createScenario is one CreateAuthChallenge and what it must count.
type createScenario struct {
	name    string
	c       func() *triggers.Create
	ev      func() events.CognitoEventUserPoolsCreateAuthChallenge
	err     bool
	metrics map[string]float64
}

func createScenarios() []createScenario {
	issuerOK := func() *triggers.Create {
		return &triggers.Create{Keys: testKeys, Config: allCfg, Issuers: map[authflow.Method]triggers.CodeIssuer{
			authflow.EmailOTP: &fakeIssuer{out: triggers.Issued{Public: map[string]string{"destination": "a***@e***"}}},
		}}
	}
	codeRound := func() events.CognitoEventUserPoolsCreateAuthChallenge {
		ev := createEvent(sess(rnd(nonceMeta(authflow.ReasonStart), false)), cm(authflow.EmailOTP, ""), false)
		ev.Request.UserAttributes = obsAttrs()
		return ev
	}
	firstRound := func() events.CognitoEventUserPoolsCreateAuthChallenge {
		ev := createEvent(nil, nil, false)
		ev.Request.UserAttributes = obsAttrs()
		return ev
	}
	return []createScenario{
		{name: "nonce round of a new sign-in", c: issuerOK, ev: firstRound, metrics: map[string]float64{"SignInStarted{}": 1}},
		{name: "nonce round of an unknown user", c: issuerOK, ev: func() events.CognitoEventUserPoolsCreateAuthChallenge {
			ev := createEvent(nil, nil, true)
			ev.UserName = obsUnknown
			return ev
		}, metrics: map[string]float64{"SignInStarted{}": 1}},
		{name: "code round", c: issuerOK, ev: codeRound},
		{name: "issuer failed", c: func() *triggers.Create {
			c := issuerOK()
			c.Issuers[authflow.EmailOTP] = &fakeIssuer{err: errBoom}
			return c
		}, ev: codeRound, err: true, metrics: map[string]float64{"SignInFailed{Method=email_otp,Reason=dependency}": 1}},
		{name: "deployment key unavailable", c: func() *triggers.Create {
			c := issuerOK()
			c.Keys = failingKeys{}
			return c
		}, ev: firstRound, err: true, metrics: map[string]float64{"SignInFailed{Reason=dependency}": 1}},
		{name: "random source failed", c: func() *triggers.Create {
			c := issuerOK()
			c.Rand = &failingReader{}
			return c
		}, ev: firstRound, err: true, metrics: map[string]float64{"SignInFailed{Reason=dependency}": 1}},
		{name: "no issuer for the method", c: func() *triggers.Create {
			c := issuerOK()
			delete(c.Issuers, authflow.EmailOTP)
			return c
		}, ev: codeRound, err: true},
	}
}

func runCreateScenario(t *testing.T, sc createScenario, buf *bytes.Buffer) {
	t.Helper()
	rec := metrics.New(buf, "test-ns")
	c := sc.c()
	c.Metrics = rec
	_, err := c.Handle(context.Background(), sc.ev())
	if (err != nil) != sc.err {
		t.Fatalf("err = %v, want error %v", err, sc.err)
	}
	rec.Flush()
}

// TestCreateMetrics reads the EMF lines of Create's rounds: SignInStarted once per new sign-in,
// SignInFailed when a dependency fails the round, nothing for later rounds (issuers count sends).
func TestCreateMetrics(t *testing.T) {
	for _, sc := range createScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			var buf bytes.Buffer
			runCreateScenario(t, sc, &buf)
			wantEMF(t, buf.Bytes(), sc.metrics)
		})
	}
	// Metrics off: nil interface and nil Recorder.
	for _, sc := range createScenarios() {
		for _, m := range []triggers.MetricCounter{nil, (*metrics.Recorder)(nil)} {
			c := sc.c()
			c.Metrics = m
			if _, err := c.Handle(context.Background(), sc.ev()); (err != nil) != sc.err {
				t.Errorf("%s, metrics off: err = %v", sc.name, err)
			}
		}
	}
}

// TestNoSecretsInMetricsOrAudit runs every Create and Verify scenario with a real Recorder and a
// real audit Publisher and fails if any EMF line, audit event or EventBridge entry carries an
// email address, phone number, code, nonce, key ID, user name, session ID, salt, link secret,
// answer or the deployment secret.
func TestNoSecretsInMetricsOrAudit(t *testing.T) {
	var buf bytes.Buffer
	put := &audittest.Bus{}
	env := map[string]string{audit.EnvEventBus: "security-events"}
	var auditLog bytes.Buffer
	pub, err := audit.FromEnv(func(k string) string { return env[k] }, put, slog.New(slog.NewJSONHandler(&auditLog, nil)), nil, "verify")
	if err != nil || pub == nil {
		t.Fatalf("audit.FromEnv: %v", err)
	}
	fake := &fakeAudit{}
	for _, sc := range verifyScenarios() {
		runVerifyScenario(t, sc, &buf, fake)
		runVerifyScenario(t, sc, &buf, pub)
	}
	for _, sc := range createScenarios() {
		runCreateScenario(t, sc, &buf)
	}
	pub.Flush(context.Background())

	var texts []string
	for line := range strings.Lines(buf.String()) {
		texts = append(texts, line)
	}
	if len(texts) < 10 {
		t.Fatalf("only %d metric lines: the scenarios did not record", len(texts))
	}
	for _, ev := range fake.events() {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	if len(put.Entries()) < 10 {
		t.Errorf("only %d audit entries reached the putter", len(put.Entries()))
	}
	for _, e := range put.Entries() {
		texts = append(texts, e.Source+" "+e.DetailType+" "+e.Detail+" "+e.EventBusName)
	}
	for line := range strings.Lines(auditLog.String()) {
		texts = append(texts, line)
	}
	secret := []string{
		obsOTPAddress, "alice", "example.com", obsPhone, "7400123456", obsCode, testNonce, obsKeyID, obsProof,
		"MEUCIQDxV0Zr3bW8n3p", obsUnknown, "victim", userName, sid, obsOTPSalt, "secret-link-value",
		"triggers-test-deployment-secret",
	}
	for _, text := range texts {
		for _, s := range secret {
			if strings.Contains(strings.ToLower(text), strings.ToLower(s)) {
				t.Errorf("%q leaks into %s", s, text)
			}
		}
	}
}
