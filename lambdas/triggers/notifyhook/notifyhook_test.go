package notifyhook_test

import (
	"context"
	"errors"
	"strconv"
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
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
	"github.com/passwordless-go/cognito/lambdas/triggers/notifyhook"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

const (
	poolID = "eu-west-1_Ab12Cd34E"
	alice  = "7d9a3c1e-0b6f-4e2a-9c55-3f1e2d4b6a80"
	sid    = "q3Vx-_9aZk0bT1c2D3e4Fg"
	keyID  = "AAECAwQFBgcICQoLDA0ODw"
)

var testKey = keyed.MustStatic("notifyhook-test-deployment-secret-0123456789").K

func attrs() map[string]string {
	return map[string]string{"sub": alice, "email": "alice@example.com", "email_verified": "true"}
}

// recorder is a Notifier that keeps the events.
type recorder struct {
	mu     sync.Mutex
	events []notify.Event
	keys   []*keyed.Key
}

func (r *recorder) Notify(_ context.Context, k *keyed.Key, ev notify.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	r.keys = append(r.keys, k)
}

func (r *recorder) n() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

type fixedWindow struct{ d time.Duration }

func (w fixedWindow) WindowStart(t time.Time) time.Time { return t.Truncate(w.d) }

type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

var t0 = time.Unix(1_800_000_000, 0).Truncate(24 * time.Hour).Add(time.Hour)

func req(m authflow.Method) triggers.CheckRequest {
	return triggers.CheckRequest{Challenge: authflow.Challenge{Kind: authflow.KindNonce, SessionID: sid}, Method: m,
		UserPoolID: poolID, UserName: alice, UserAttributes: attrs(), Key: testKey}
}

// TestLockedOncePerWindow: a burst of refused answers in one window notifies once; the next
// window again; unknown users and requests without a key never.
func TestLockedOncePerWindow(t *testing.T) {
	rec, clk := &recorder{}, &clock{}
	clk.ns.Store(t0.UnixNano())
	h, err := notifyhook.NewLocked(rec, fixedWindow{15 * time.Minute}, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	dynalitetest.AtOnce(20, func(int) int { h.Locked(context.Background(), req(authflow.EmailOTP)); return 0 })
	if rec.n() != 1 {
		t.Fatalf("20 refusals in one window: %d notifications, want 1", rec.n())
	}
	ev := rec.events[0]
	if ev.Kind != notify.AccountLocked || ev.UserPoolID != poolID || ev.UserName != alice || ev.Attributes["email"] != "alice@example.com" ||
		ev.Detail[notify.DetailMethod] != "email_otp" || ev.ID != "window:"+itoa(t0.Unix()) || rec.keys[0] != testKey {
		t.Errorf("event %+v", ev)
	}
	clk.Add(14 * time.Minute)
	h.Locked(context.Background(), req(authflow.MagicLink))
	if rec.n() != 1 {
		t.Fatalf("a refusal later in the window notified again")
	}
	clk.Add(time.Minute)
	h.Locked(context.Background(), req(authflow.MagicLink))
	if rec.n() != 2 || rec.events[1].ID != "window:"+itoa(t0.Add(15*time.Minute).Unix()) {
		t.Fatalf("next window: %d notifications, last %+v", rec.n(), rec.events[len(rec.events)-1])
	}
	unknown := req(authflow.EmailOTP)
	unknown.UserNotFound = true
	noKey := req(authflow.EmailOTP)
	noKey.Key = nil
	clk.Add(time.Hour)
	h.Locked(context.Background(), unknown)
	h.Locked(context.Background(), noKey)
	if rec.n() != 2 {
		t.Fatalf("unknown user or no key notified")
	}
	if _, err := notifyhook.NewLocked(nil, fixedWindow{}, nil); err == nil {
		t.Error("NewLocked without a notifier")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// mailbox is an SES stand-in for a real notify.Sender.
type mailbox struct {
	mu   sync.Mutex
	sent []*awsapi.SendEmailInput
}

func (m *mailbox) SendEmail(_ context.Context, in *awsapi.SendEmailInput) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, in)
	return nil
}

func (m *mailbox) Publish(context.Context, *awsapi.PublishInput) error {
	return errors.New("no SMS in this test")
}

func (m *mailbox) n() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sent)
}

func dynaliteStore(t *testing.T, clk *clock) *store.Store {
	t.Helper()
	srv := dynalitetest.Shared(t)
	db := srv.Client()
	return store.New(db, dynalitetest.NewTable(t, db, store.TableDefinition("notifyhook")), store.WithClock(clk.Now))
}

func sender(t *testing.T, st *store.Store, mail *mailbox, kinds string) *notify.Sender {
	t.Helper()
	cfg, err := notify.ConfigFromEnv(func(k string) string {
		return map[string]string{notify.EnvEvents: kinds, notify.EnvEmailFrom: "no-reply@example.com", notify.EnvTimeout: "4s"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := notify.New(cfg, notify.Deps{Store: st, Email: mail, SMS: mail})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLockedThroughVerify: wrong codes lock the account (real lockout on dynalite); the refusals
// that follow, in two function instances at once, send one email to the owner.
func TestLockedThroughVerify(t *testing.T) {
	clk := &clock{}
	clk.ns.Store(t0.UnixNano())
	st := dynaliteStore(t, clk)
	mail := &mailbox{}
	s := sender(t, st, mail, "account_locked")
	counter, err := lockout.New(st, lockout.Config{Limit: 3, Window: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	instance := func() *triggers.Verify {
		h, err := notifyhook.NewLocked(s, counter, clk.Now)
		if err != nil {
			t.Fatal(err)
		}
		return &triggers.Verify{Config: authflow.Config{Methods: []authflow.Method{authflow.EmailOTP}, MaxAttempts: 3}, Keys: keyed.Static{K: testKey},
			Failures: counter, Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: wrong{}}, OnLocked: []triggers.LockHook{h}}
	}
	a, b := instance(), instance()
	answer := func(v *triggers.Verify, i int) {
		p := map[string]string{authflow.PrivKind: "CODE", authflow.PrivSessionID: sid[:20] + string(rune('A'+i/26)) + string(rune('A'+i%26)),
			authflow.PrivMethod: "email_otp", authflow.PrivGeneration: "1", authflow.PrivRound: "2"}
		ev := events.CognitoEventUserPoolsVerifyAuthChallenge{CognitoEventUserPoolsHeader: events.CognitoEventUserPoolsHeader{UserPoolID: poolID, UserName: alice}}
		ev.Request = events.CognitoEventUserPoolsVerifyAuthChallengeRequest{UserAttributes: attrs(), PrivateChallengeParameters: p, ChallengeAnswer: "000000",
			ClientMetadata: map[string]string{authflow.MetaSignInMethod: "email_otp"}}
		if out, err := v.Handle(context.Background(), ev); err != nil || out.Response.AnswerCorrect {
			t.Errorf("answer %d: %v %v", i, out.Response.AnswerCorrect, err)
		}
	}
	for i := range 3 {
		answer(a, i)
	}
	if mail.n() != 0 {
		t.Fatalf("notified before the lock: %d", mail.n())
	}
	dynalitetest.AtOnce(10, func(i int) int {
		v := a
		if i%2 == 1 {
			v = b
		}
		answer(v, 3+i)
		return 0
	})
	if mail.n() != 1 {
		t.Fatalf("10 refusals in two instances: %d emails, want 1", mail.n())
	}
	if to := mail.sent[0].To; len(to) != 1 || to[0] != "alice@example.com" {
		t.Errorf("sent to %v", to)
	}
}

type wrong struct{}

func (wrong) Check(context.Context, triggers.CheckRequest) (bool, error) { return false, nil }

// TestNewMethod: the first sign-in ever is not news; a method (or device key) not used before by
// a returning user is notified once, with the session ID as event ID; a Cognito retry of the same
// Verify sends nothing more.
func TestNewMethod(t *testing.T) {
	clk := &clock{}
	clk.ns.Store(t0.UnixNano())
	st := dynaliteStore(t, clk)
	rec := &recorder{}
	h, err := notifyhook.NewNewMethod(rec, st)
	if err != nil {
		t.Fatal(err)
	}
	keyAnswer := func(id string) triggers.CheckRequest {
		r := req(authflow.DeviceKey)
		r.Answer = `{"keyId":"` + id + `","signature":"c2ln"}`
		return r
	}
	for i, step := range []struct {
		r      triggers.CheckRequest
		notify bool
	}{
		{req(authflow.EmailOTP), false}, // first sign-in ever
		{req(authflow.EmailOTP), false},
		{req(authflow.MagicLink), true},
		{req(authflow.MagicLink), false},
		{keyAnswer(keyID), true},
		{keyAnswer(keyID), false},
		{keyAnswer("BAECAwQFBgcICQoLDA0ODw"), true}, // another device key
		{req(authflow.Passkey), true},
	} {
		before := rec.n()
		if err := h.Succeeded(context.Background(), step.r); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := rec.n() > before; got != step.notify {
			t.Fatalf("step %d (%s): notified %v, want %v", i, notifyhook.Entry(step.r), got, step.notify)
		}
	}
	ev := rec.events[0]
	if ev.Kind != notify.NewMethodSignIn || ev.ID != sid || ev.Detail[notify.DetailMethod] != "magic_link" || ev.UserName != alice || ev.Attributes["sub"] != alice {
		t.Errorf("event %+v", ev)
	}
	if e := notifyhook.Entry(keyAnswer(keyID)); e != "device_key:"+keyID {
		t.Errorf("device key entry %q", e)
	}
	if e := notifyhook.Entry(keyAnswer("not a key id")); e != "device_key" {
		t.Errorf("malformed device key answer entry %q", e)
	}
	unknown := req(authflow.SMSOTP)
	unknown.UserNotFound = true
	noSub := req(authflow.SMSOTP)
	noSub.UserAttributes = map[string]string{"email": "x@example.com"}
	before := rec.n()
	for _, r := range []triggers.CheckRequest{unknown, noSub} {
		if err := h.Succeeded(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if rec.n() != before {
		t.Error("notified an unknown user or one without a sub")
	}
	if _, err := notifyhook.NewNewMethod(rec, nil); err == nil {
		t.Error("NewNewMethod without a store")
	}
}

// failingSeen is a SeenStore that fails.
type failingSeen struct{}

func (failingSeen) MarkSignIn(context.Context, string, string) (bool, bool, error) {
	return false, false, errors.New("dynamodb down")
}

// A store failure is an error for Verify to log and notifies nothing; the sign-in stands.
func TestNewMethodStoreFailure(t *testing.T) {
	rec := &recorder{}
	h, _ := notifyhook.NewNewMethod(rec, failingSeen{})
	v := &triggers.Verify{Config: authflow.Config{Methods: []authflow.Method{authflow.DeviceKey}, MaxAttempts: 3}, Keys: keyed.Static{K: testKey},
		Checkers: map[authflow.Method]triggers.Checker{authflow.DeviceKey: right{}}, OnSuccess: []triggers.SuccessHook{h}}
	ev := events.CognitoEventUserPoolsVerifyAuthChallenge{CognitoEventUserPoolsHeader: events.CognitoEventUserPoolsHeader{UserPoolID: poolID, UserName: alice}}
	ev.Request = events.CognitoEventUserPoolsVerifyAuthChallengeRequest{UserAttributes: attrs(), ChallengeAnswer: "proof",
		PrivateChallengeParameters: map[string]string{authflow.PrivKind: "NONCE", authflow.PrivSessionID: sid, authflow.PrivRound: "1"},
		ClientMetadata:             map[string]string{authflow.MetaSignInMethod: "device_key"}}
	out, err := v.Handle(context.Background(), ev)
	if err != nil || !out.Response.AnswerCorrect || rec.n() != 0 {
		t.Fatalf("sign-in with a failing seen store: correct %v err %v, %d notifications", out.Response.AnswerCorrect, err, rec.n())
	}
}

type right struct{}

func (right) Check(context.Context, triggers.CheckRequest) (bool, error) { return true, nil }
