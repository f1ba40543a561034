package otp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/internal/testkit"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

var flowCfg = authflow.Config{Methods: []authflow.Method{authflow.EmailOTP, authflow.SMSOTP, authflow.DeviceKey}, MaxAttempts: 3, MaxResends: 2}

// flow plays Cognito's custom-auth state machine against the real trigger handlers.
type flow struct {
	tb       testing.TB
	define   *triggers.Define
	create   *triggers.Create
	verify   *triggers.Verify
	userName string
	attrs    map[string]string
	notFound bool
	session  []*events.CognitoEventUserPoolsChallengeResult
	round    events.CognitoEventUserPoolsCreateAuthChallengeResponse
	meta     map[string]string // ClientMetadata of the last RespondToAuthChallenge
}

// startFlow starts a sign-in of userName, with attrs, through the triggers over e's issuer and
// checker.
func (e *env) startFlow(t *testing.T, attrs map[string]string) *flow {
	t.Helper()
	f := newFlow(t, e.iss, e.chk, nil, nil)
	f.userName, f.attrs = userName, attrs
	f.start()
	return f
}

func newFlow(tb testing.TB, iss triggers.CodeIssuer, chk triggers.Checker, failures triggers.FailureCounter, log *slog.Logger) *flow {
	return &flow{
		tb:     tb,
		define: &triggers.Define{Config: flowCfg, Log: log},
		create: &triggers.Create{Config: flowCfg, Log: log, Keys: keyed.Static{K: testKey}, Issuers: map[authflow.Method]triggers.CodeIssuer{authflow.EmailOTP: iss, authflow.SMSOTP: iss}},
		verify: &triggers.Verify{Config: flowCfg, Log: log, Keys: keyed.Static{K: testKey}, Failures: failures, Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: chk, authflow.SMSOTP: chk}},
	}
}

// signIn is f's sign-in as testkit sends it to the triggers.
func (f *flow) signIn() *testkit.SignIn {
	return &testkit.SignIn{Define: f.define, Create: f.create, Verify: f.verify, PoolID: poolID, ClientID: clientID,
		UserName: f.userName, Attrs: f.attrs, UserNotFound: f.notFound, Session: f.session, Round: f.round}
}

// doDefine runs Define and reports its decision.
func (f *flow) doDefine() events.CognitoEventUserPoolsDefineAuthChallengeResponse {
	f.tb.Helper()
	out, err := f.signIn().DoDefine(context.Background(), f.meta)
	if err != nil {
		f.tb.Fatalf("define: %v", err)
	}
	return out
}

// doCreate runs Create for the next round (again, to simulate Cognito retrying it).
func (f *flow) doCreate() (events.CognitoEventUserPoolsCreateAuthChallengeResponse, error) {
	return f.signIn().DoCreate(context.Background(), f.meta)
}

// start is InitiateAuth: Define, then Create for the nonce round.
func (f *flow) start() {
	f.tb.Helper()
	f.session, f.meta = nil, nil
	if r := f.doDefine(); r.ChallengeName != authflow.ChallengeName {
		f.tb.Fatalf("define did not start a challenge: %+v", r)
	}
	var err error
	if f.round, err = f.doCreate(); err != nil {
		f.tb.Fatalf("create: %v", err)
	}
}

// outcome of one RespondToAuthChallenge.
type outcome int

const (
	nextRound outcome = iota
	tokens
	failed
	createFailed
)

// respond is RespondToAuthChallenge: Verify, Define, and Create when another round follows.
func (f *flow) respond(answer string, meta map[string]string) outcome {
	f.tb.Helper()
	f.meta = meta
	in := f.signIn()
	_, err := in.DoVerify(context.Background(), answer, meta)
	if err != nil {
		return failed // Cognito fails the sign-in when Verify errors
	}
	f.session = in.Session
	d := f.doDefine()
	switch {
	case d.IssueTokens:
		return tokens
	case d.FailAuthentication:
		return failed
	}
	if f.round, err = f.doCreate(); err != nil {
		return createFailed
	}
	return nextRound
}

func selectMethod(m authflow.Method) map[string]string {
	return map[string]string{authflow.MetaSignInMethod: string(m)}
}

func resend(m authflow.Method) map[string]string {
	return map[string]string{authflow.MetaSignInMethod: string(m), authflow.MetaAction: authflow.ActionResend}
}

// TestFlowThroughTriggers runs whole sign-ins through Define, Create and Verify with in-memory
// fakes.
func TestFlowThroughTriggers(t *testing.T) {
	t.Run("email: wrong, then right", func(t *testing.T) {
		e := newEnv(t, otp.Config{})
		f := e.startFlow(t, emailAttrs(false))
		if got := f.respond("", selectMethod(authflow.EmailOTP)); got != nextRound {
			t.Fatalf("select: %v", got)
		}
		if f.round.PublicChallengeParameters[otp.PubDestination] != "a***@e***.com" || f.round.PublicChallengeParameters[authflow.PubKind] != "CODE" {
			t.Fatalf("public %v", f.round.PublicChallengeParameters)
		}
		code := e.lastEmailCode(t)
		if got := f.respond(otherCode(code), selectMethod(authflow.EmailOTP)); got != nextRound {
			t.Fatalf("wrong code: %v", got)
		}
		if e.ses.count() != 1 {
			t.Fatal("the retry round sent another email")
		}
		if got := f.respond(code, selectMethod(authflow.EmailOTP)); got != tokens {
			t.Fatalf("right code: %v", got)
		}
		if e.cog.count() != 1 {
			t.Fatal("email not marked verified")
		}
	})
	t.Run("sms: resend, old code fails, new code works", func(t *testing.T) {
		e := newEnv(t, otp.Config{})
		f := e.startFlow(t, phoneAttrs(phone, true, true))
		f.respond("", selectMethod(authflow.SMSOTP))
		old := e.lastSMSCode(t)
		e.clock.Add(61 * time.Second)
		if got := f.respond("", resend(authflow.SMSOTP)); got != nextRound {
			t.Fatalf("resend: %v", got)
		}
		if e.sns.count() != 2 {
			t.Fatalf("%d SMS, want 2", e.sns.count())
		}
		code := e.lastSMSCode(t)
		if old != code {
			if got := f.respond(old, selectMethod(authflow.SMSOTP)); got != nextRound {
				t.Fatalf("old code: %v, want another round", got)
			}
		}
		if got := f.respond(code, selectMethod(authflow.SMSOTP)); got != tokens {
			t.Fatalf("new code: %v", got)
		}
	})
	t.Run("cognito retries create", func(t *testing.T) {
		e := newEnv(t, otp.Config{})
		f := e.startFlow(t, emailAttrs(true))
		f.respond("", selectMethod(authflow.EmailOTP))
		again, err := f.doCreate()
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(again.PrivateChallengeParameters, f.round.PrivateChallengeParameters) ||
			again.PublicChallengeParameters[otp.PubDestination] != f.round.PublicChallengeParameters[otp.PubDestination] {
			t.Fatal("a retried Create changed the round")
		}
		if again.PublicChallengeParameters[otp.PubCodeStatus] != "kept" {
			t.Fatalf("a retried Create says %v", again.PublicChallengeParameters)
		}
		if e.ses.count() != 1 {
			t.Fatalf("%d emails, want 1", e.ses.count())
		}
	})
	t.Run("send failure fails the sign-in, once", func(t *testing.T) {
		e := newEnv(t, otp.Config{})
		e.ses.err = apiError("Throttling", "Maximum sending rate exceeded.")
		f := e.startFlow(t, emailAttrs(true))
		if got := f.respond("", selectMethod(authflow.EmailOTP)); got != createFailed {
			t.Fatalf("got %v, want Create to fail", got)
		}
		e.ses.err = nil
		if _, err := f.doCreate(); err != nil {
			t.Fatalf("retried Create: %v", err)
		}
		if e.ses.count() != 1 {
			t.Fatalf("%d send attempts, want 1", e.ses.count())
		}
	})
	t.Run("expired code", func(t *testing.T) {
		e := newEnv(t, otp.Config{})
		f := e.startFlow(t, emailAttrs(true))
		f.respond("", selectMethod(authflow.EmailOTP))
		code := e.lastEmailCode(t)
		e.clock.Add(5*time.Minute + time.Second)
		if got := f.respond(code, selectMethod(authflow.EmailOTP)); got == tokens {
			t.Fatal("an expired code gave tokens")
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		e := newEnv(t, otp.Config{})
		f := newFlow(t, e.iss, e.chk, nil, nil)
		f.userName, f.attrs, f.notFound = email, nil, true
		f.start()
		if got := f.respond("", selectMethod(authflow.EmailOTP)); got != nextRound {
			t.Fatalf("select: %v", got)
		}
		if f.round.PublicChallengeParameters[otp.PubDestination] != "a***@e***.com" {
			t.Fatalf("public %v", f.round.PublicChallengeParameters)
		}
		for range 2 {
			if got := f.respond("123456", selectMethod(authflow.EmailOTP)); got == tokens {
				t.Fatal("tokens for an unknown user")
			}
		}
		if e.ses.count() != 0 {
			t.Fatal("sent to an unknown user")
		}
	})
}

// TestLogsHoldNoSecrets runs sign-ins (sent, refused, failed) through the triggers with a JSON
// logger at debug level and checks that no code, address, salt or digest reaches the log.
func TestLogsHoldNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, otp.Config{})
	iss, err := otp.NewIssuer(otp.Config{EmailFrom: sender}, otp.IssuerDeps{Store: e.store, Email: e.ses, SMS: e.sns, Now: e.clock.Now, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	chk, err := otp.NewChecker(otp.Config{}, otp.CheckerDeps{Verifier: e.cog, Now: e.clock.Now, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	var codes, params []string
	remember := func(f *flow) {
		for _, k := range []string{otp.PrivSalt, otp.PrivDigest, otp.PrivAddress} {
			if v := f.round.PrivateChallengeParameters[k]; v != "" {
				params = append(params, v)
				if raw, err := base64.StdEncoding.DecodeString(v); err == nil {
					params = append(params, base64.RawURLEncoding.EncodeToString(raw))
				}
			}
		}
	}

	// Email, wrong then right, address marked verified.
	f := newFlow(t, iss, chk, nil, log)
	f.userName, f.attrs = userName, phoneAttrs(phone, false, false)
	f.start()
	f.respond("", selectMethod(authflow.EmailOTP))
	remember(f)
	codes = append(codes, e.lastEmailCode(t))
	f.respond(otherCode(codes[0]), selectMethod(authflow.EmailOTP))
	if got := f.respond(codes[0], selectMethod(authflow.EmailOTP)); got != tokens {
		t.Fatalf("email sign-in: %v", got)
	}

	// SMS with a resend and a failing attribute update.
	e.cog.err = apiError("InternalErrorException", "failed for "+phone+" / "+emailNorm)
	e.clock.Add(2 * time.Minute)
	f = newFlow(t, iss, chk, nil, log)
	f.userName, f.attrs = userName, phoneAttrs(phone, false, false)
	f.start()
	f.respond("", selectMethod(authflow.SMSOTP))
	remember(f)
	codes = append(codes, e.lastSMSCode(t))
	e.clock.Add(61 * time.Second)
	f.respond("", resend(authflow.SMSOTP))
	remember(f)
	codes = append(codes, e.lastSMSCode(t))
	f.respond(codes[1], selectMethod(authflow.SMSOTP))
	if got := f.respond(codes[2], selectMethod(authflow.SMSOTP)); got != failed {
		t.Fatalf("sms sign-in with failing verifier: %v", got)
	}
	e.cog.err = nil

	// Refused sends: rate limit, unverified number, unknown user.
	f = newFlow(t, iss, chk, nil, log)
	f.userName, f.attrs = userName, phoneAttrs(phone, true, true)
	f.start()
	f.respond("", selectMethod(authflow.SMSOTP))
	f = newFlow(t, iss, chk, nil, log)
	f.userName, f.attrs = userName, phoneAttrs(phone, false, true)
	f.start()
	f.respond("", selectMethod(authflow.SMSOTP))
	f.respond("000000", selectMethod(authflow.SMSOTP))
	f = newFlow(t, iss, chk, nil, log)
	f.userName, f.attrs, f.notFound = email, nil, true
	f.start()
	f.respond("", selectMethod(authflow.EmailOTP))
	f.respond("000000", selectMethod(authflow.EmailOTP))
	f = newFlow(t, iss, chk, nil, log)
	f.userName, f.attrs, f.notFound = phone, nil, true
	f.start()
	f.respond("", selectMethod(authflow.SMSOTP))

	// Delivery failures whose provider messages quote the address.
	e.clock.Add(24 * time.Hour)
	e.ses.err = apiError("MessageRejected", "Email address is not verified. The following identities failed the check: "+emailNorm)
	e.sns.err = apiError("InvalidParameter", "Invalid parameter: PhoneNumber Reason: "+phone+" is not valid")
	for _, m := range []authflow.Method{authflow.EmailOTP, authflow.SMSOTP} {
		f = newFlow(t, iss, chk, nil, log)
		f.userName, f.attrs = userName, phoneAttrs(phone, true, true)
		f.start()
		if got := f.respond("", selectMethod(m)); got != createFailed {
			t.Fatalf("%s with a failing sender: %v", m, got)
		}
	}
	sentCodes := 0
	for _, in := range e.ses.sent {
		if c := codeRE.FindString(in.Text); c != "" {
			codes = append(codes, c)
			sentCodes++
		}
	}
	for _, in := range e.sns.sent {
		if c := codeRE.FindString(in.Message); c != "" {
			codes = append(codes, c)
			sentCodes++
		}
	}

	out := buf.String()
	if strings.Count(out, "\n") < 20 {
		t.Fatalf("suspiciously little logging:\n%s", out)
	}
	for _, want := range []string{"otp: code sent", "otp: code not sent", "wait has not passed", "unknown user", "not verified", "MessageRejected", "InvalidParameter", "otp: answer refused", "wrong code"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	secrets := map[string]string{
		"email": email, "email (normalised)": emailNorm, "email local part": "liddell",
		"phone": phone, "phone digits": phone[1:], "national phone": phone[3:],
	}
	for i, c := range codes {
		secrets["code "+string(rune('a'+i))] = c
	}
	for i, p := range params {
		secrets["parameter "+string(rune('a'+i))] = p
	}
	for name, s := range secrets {
		if strings.Contains(strings.ToLower(out), strings.ToLower(s)) {
			t.Errorf("log contains the %s %q", name, s)
		}
	}
	if sentCodes < 3 || len(params) < 6 {
		t.Fatalf("test did not exercise enough: %d codes, %d parameters", sentCodes, len(params))
	}
}
