package magiclink_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/magiclink"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

const (
	poolID   = "eu-west-1_Ab12Cd34E"
	clientID = "4f3k2j1h0g9f8e7d6c5b4a3210"
	alice    = "7d9a3c1e-0b6f-4e2a-9c55-3f1e2d4b6a80" // user names are subs in an alias pool
	bob      = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
	appURL   = "https://app.example.com/signin"
	sender   = "Example <no-reply@example.com>"
)

var (
	testKeys = keyed.MustStatic("magiclink-test-deployment-secret-0123456789")
	testKey  = testKeys.K
)

// t0 is the start of a 24 h send window.
var t0 = time.Unix(1_800_000_000, 0).Truncate(24 * time.Hour).Add(time.Hour)

type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// mailbox is an otp.EmailSender that keeps what it was asked to send.
type mailbox struct {
	mu   sync.Mutex
	sent []*awsapi.SendEmailInput
	err  error
}

func (m *mailbox) SendEmail(_ context.Context, in *awsapi.SendEmailInput) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.sent = append(m.sent, in)
	return nil
}

func (m *mailbox) n() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sent)
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+#ml=[A-Za-z0-9_-]+`)

// lastLink returns the link in the last email's text body.
func (m *mailbox) lastLink(t *testing.T) (string, magiclink.Link) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sent) == 0 {
		t.Fatal("no email sent")
	}
	u := linkRE.FindString(m.sent[len(m.sent)-1].Text)
	if u == "" {
		t.Fatalf("no link in the email text %q", m.sent[len(m.sent)-1].Text)
	}
	l, err := magiclink.ParseFragment(u)
	if err != nil {
		t.Fatalf("the emailed link does not parse: %v", err)
	}
	return u, l
}

// env is a magic-link deployment over dynalite: the three triggers with a real store and lockout.
type env struct {
	st      *store.Store
	clk     *clock
	mail    *mailbox
	cfg     magiclink.Config
	issuer  *magiclink.Issuer
	checker *magiclink.Checker
	create  *triggers.Create
	verify  *triggers.Verify
	define  *triggers.Define
	logs    *bytes.Buffer
	// attrs overrides the attributes of users by name, as the pool holds them now (setAttrs).
	mu    sync.Mutex
	attrs map[string]map[string]string
}

var flowCfg = authflow.Config{Methods: []authflow.Method{authflow.EmailOTP, authflow.MagicLink, authflow.DeviceKey}, MaxAttempts: 3, MaxResends: 2}

func newEnv(t *testing.T, mutate func(*magiclink.Config)) *env {
	t.Helper()
	srv := dynalitetest.Shared(t)
	db := srv.Client()
	table := dynalitetest.NewTable(t, db, store.TableDefinition("magic"))
	e := &env{clk: &clock{}, mail: &mailbox{}, logs: &bytes.Buffer{}}
	e.clk.ns.Store(t0.UnixNano())
	e.st = store.New(db, table, store.WithClock(e.clk.Now))
	e.cfg = magiclink.Config{URLs: []string{appURL, "http://localhost:5173/"}, EmailFrom: sender, AppName: "Example"}
	if mutate != nil {
		mutate(&e.cfg)
	}
	log := slog.New(slog.NewTextHandler(&syncWriter{w: e.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var err error
	e.issuer, err = magiclink.NewIssuer(e.cfg, magiclink.IssuerDeps{Store: e.st, Email: e.mail, Now: e.clk.Now, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	e.checker, err = magiclink.NewChecker(e.st, e.cfg.SameDevice, log)
	if err != nil {
		t.Fatal(err)
	}
	counter, err := lockout.New(e.st, lockout.Config{Limit: 5, Window: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	e.create = &triggers.Create{Config: flowCfg, Keys: testKeys, Log: log, Issuers: map[authflow.Method]triggers.CodeIssuer{authflow.MagicLink: e.issuer}}
	e.verify = &triggers.Verify{Config: flowCfg, Keys: testKeys, Log: log, Failures: counter, Checkers: map[authflow.Method]triggers.Checker{authflow.MagicLink: e.checker}}
	e.define = &triggers.Define{Config: flowCfg, Log: log}
	return e
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// user is a Cognito user as the triggers see it.
type user struct {
	name         string
	attrs        map[string]string
	userNotFound bool
}

func verified(name, email string) user {
	return user{name: name, attrs: map[string]string{"sub": name, "email": email, "email_verified": "true", "cognito:user_status": "CONFIRMED"}}
}

// session plays one sign-in through the triggers as Cognito does: Define decides, Create issues,
// the client answers, Verify checks, Define decides again.
type session struct {
	e       *env
	u       user
	history []*events.CognitoEventUserPoolsChallengeResult
	public  map[string]string
	private map[string]string
	tokens  bool
	failed  bool
}

// start runs InitiateAuth: Define and Create of round 1.
func (e *env) start(t *testing.T, u user) *session {
	t.Helper()
	s := &session{e: e, u: u}
	s.next(t, nil)
	return s
}

func (s *session) header(trigger string) events.CognitoEventUserPoolsHeader {
	return events.CognitoEventUserPoolsHeader{Version: "1", TriggerSource: trigger, Region: "eu-west-1", UserPoolID: poolID,
		CallerContext: events.CognitoEventUserPoolsCallerContext{ClientID: clientID}, UserName: s.u.name}
}

// next runs Define and, when it continues, Create, for the current history.
func (s *session) next(t *testing.T, meta map[string]string) error {
	t.Helper()
	ctx := context.Background()
	d, err := s.e.define.Handle(ctx, events.CognitoEventUserPoolsDefineAuthChallenge{
		CognitoEventUserPoolsHeader: s.header("DefineAuthChallenge_Authentication"),
		Request:                     events.CognitoEventUserPoolsDefineAuthChallengeRequest{UserAttributes: s.u.attrs, Session: s.history, ClientMetadata: meta, UserNotFound: s.u.userNotFound},
	})
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case d.Response.IssueTokens:
		s.tokens = true
		return nil
	case d.Response.FailAuthentication:
		s.failed = true
		return nil
	}
	c, err := s.e.create.Handle(ctx, events.CognitoEventUserPoolsCreateAuthChallenge{
		CognitoEventUserPoolsHeader: s.header("CreateAuthChallenge_Authentication"),
		Request: events.CognitoEventUserPoolsCreateAuthChallengeRequest{UserAttributes: s.u.attrs, ChallengeName: authflow.ChallengeName,
			Session: s.history, ClientMetadata: meta, UserNotFound: s.u.userNotFound},
	})
	if err != nil {
		return err
	}
	s.public, s.private = c.Response.PublicChallengeParameters, c.Response.PrivateChallengeParameters
	s.history = append(s.history, &events.CognitoEventUserPoolsChallengeResult{ChallengeName: authflow.ChallengeName, ChallengeMetadata: c.Response.ChallengeMetadata})
	return nil
}

// respond runs RespondToAuthChallenge: Verify, then Define (and Create).
func (s *session) respond(t *testing.T, answer string, meta map[string]string) error {
	t.Helper()
	if s.tokens || s.failed {
		t.Fatal("respond after the sign-in ended")
	}
	v, err := s.e.verify.Handle(context.Background(), events.CognitoEventUserPoolsVerifyAuthChallenge{
		CognitoEventUserPoolsHeader: s.header("VerifyAuthChallengeResponse_Authentication"),
		Request: events.CognitoEventUserPoolsVerifyAuthChallengeRequest{UserAttributes: s.u.attrs, PrivateChallengeParameters: s.private,
			ChallengeAnswer: answer, ClientMetadata: meta, UserNotFound: s.u.userNotFound},
	})
	if err != nil {
		return err
	}
	s.history[len(s.history)-1].ChallengeResult = v.Response.AnswerCorrect
	return s.next(t, meta)
}

func meta(kv ...string) map[string]string {
	m := map[string]string{authflow.MetaSignInMethod: string(authflow.MagicLink)}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// request asks for a link in a fresh sign-in and returns the session in its LINK round.
func (e *env) request(t *testing.T, u user, kv ...string) *session {
	t.Helper()
	s := e.start(t, u)
	if err := s.respond(t, "-", meta(kv...)); err != nil {
		t.Fatalf("link request: %v", err)
	}
	if s.public["kind"] != "LINK" {
		t.Fatalf("round after the request: %v", s.public)
	}
	return s
}

// complete opens a link in a fresh sign-in ("another device") and reports whether it signed in.
func (e *env) complete(t *testing.T, l magiclink.Link, kv ...string) bool {
	t.Helper()
	attrs := e.attrsOf(l.UserName)
	s := e.start(t, user{name: l.UserName, attrs: attrs, userNotFound: attrs == nil})
	if err := s.respond(t, l.Secret, meta(append([]string{authflow.MetaAction, authflow.ActionComplete}, kv...)...)); err != nil {
		t.Fatalf("completion: %v", err)
	}
	return s.tokens
}

// users of the tests, by name.
var users = map[string]user{
	alice: verified(alice, "Alice@Example.com"),
	bob:   verified(bob, "bob@example.org"),
}

func (e *env) attrsOf(name string) map[string]string {
	e.mu.Lock()
	a, ok := e.attrs[name]
	e.mu.Unlock()
	if ok {
		return a
	}
	if u, ok := users[name]; ok {
		return u.attrs
	}
	return nil
}

// setAttrs changes a user's attributes in the pool (what later sign-ins' triggers see), e.g.
// after an email change.
func (e *env) setAttrs(name string, attrs map[string]string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.attrs == nil {
		e.attrs = map[string]map[string]string{}
	}
	e.attrs[name] = attrs
}

var errSES = errors.New("ses down")
