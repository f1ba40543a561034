package magiclink_test

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/internal/testkit"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/magiclink"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
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

// mailbox is an otp.EmailSender that keeps what it was asked to send.
type mailbox struct{ testkit.Mailbox }

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+#ml=[A-Za-z0-9_-]+`)

// lastLink returns the link in the last email's text body.
func (m *mailbox) lastLink(t *testing.T) (string, magiclink.Link) {
	t.Helper()
	sent := m.Emails()
	if len(sent) == 0 {
		t.Fatal("no email sent")
	}
	u := linkRE.FindString(sent[len(sent)-1].Text)
	if u == "" {
		t.Fatalf("no link in the email text %q", sent[len(sent)-1].Text)
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
	clk     *storetest.Clock
	mail    *mailbox
	cfg     magiclink.Config
	issuer  *magiclink.Issuer
	checker *magiclink.Checker
	create  *triggers.Create
	verify  *triggers.Verify
	define  *triggers.Define
	logs    *testkit.Buffer
	// attrs overrides the attributes of users by name, as the pool holds them now (setAttrs).
	mu    sync.Mutex
	attrs map[string]map[string]string
}

var flowCfg = authflow.Config{Methods: []authflow.Method{authflow.EmailOTP, authflow.MagicLink, authflow.DeviceKey}, MaxAttempts: 3, MaxResends: 2}

func newEnv(t *testing.T, mutate func(*magiclink.Config)) *env {
	t.Helper()
	e := &env{clk: storetest.NewClock(t0), mail: &mailbox{}, logs: &testkit.Buffer{}}
	e.st = storetest.New(t, "magic", store.WithClock(e.clk.Now)).Store
	e.cfg = magiclink.Config{URLs: []string{appURL, "http://localhost:5173/"}, EmailFrom: sender, AppName: "Example"}
	if mutate != nil {
		mutate(&e.cfg)
	}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
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
	in      testkit.SignIn
	public  map[string]string
	private map[string]string
	tokens  bool
	failed  bool
}

// start runs InitiateAuth: Define and Create of round 1.
func (e *env) start(t *testing.T, u user) *session {
	t.Helper()
	s := &session{e: e, u: u, in: testkit.SignIn{Define: e.define, Create: e.create, Verify: e.verify, PoolID: poolID, ClientID: clientID}}
	s.next(t, nil)
	return s
}

// next runs Define and, when it continues, Create, for the current session.
func (s *session) next(t *testing.T, meta map[string]string) error {
	t.Helper()
	ctx := context.Background()
	s.in.UserName, s.in.Attrs, s.in.UserNotFound = s.u.name, s.u.attrs, s.u.userNotFound
	d, err := s.in.DoDefine(ctx, meta)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case d.IssueTokens:
		s.tokens = true
		return nil
	case d.FailAuthentication:
		s.failed = true
		return nil
	}
	if s.in.Round, err = s.in.DoCreate(ctx, meta); err != nil {
		return err
	}
	s.public, s.private = s.in.Round.PublicChallengeParameters, s.in.Round.PrivateChallengeParameters
	return nil
}

// respond runs RespondToAuthChallenge: Verify, then Define (and Create).
func (s *session) respond(t *testing.T, answer string, meta map[string]string) error {
	t.Helper()
	if s.tokens || s.failed {
		t.Fatal("respond after the sign-in ended")
	}
	s.in.UserName, s.in.Attrs, s.in.UserNotFound = s.u.name, s.u.attrs, s.u.userNotFound
	if _, err := s.in.DoVerify(context.Background(), answer, meta); err != nil {
		return err
	}
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

// completeOnce completes l twice: the first completion must sign in, the second must not. what
// names the link in failures.
func (e *env) completeOnce(t *testing.T, l magiclink.Link, what string) {
	t.Helper()
	if !e.complete(t, l) {
		t.Fatal(what + " did not sign in")
	}
	if e.complete(t, l) {
		t.Fatal(what + " signed in twice")
	}
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
