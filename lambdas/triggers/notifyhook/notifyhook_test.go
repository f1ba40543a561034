package notifyhook_test

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/internal/testkit"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/notify/notifytest"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
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

type fixedWindow struct{ d time.Duration }

func (w fixedWindow) WindowStart(t time.Time) time.Time { return t.Truncate(w.d) }

var t0 = time.Unix(1_800_000_000, 0).Truncate(24 * time.Hour).Add(time.Hour)

func req(m authflow.Method) triggers.CheckRequest {
	return triggers.CheckRequest{
		Challenge: authflow.Challenge{Kind: authflow.KindNonce, SessionID: sid},
		Method:    m,
		Caller: triggers.Caller{
			UserPoolID:     poolID,
			UserName:       alice,
			UserAttributes: attrs(),
			Key:            testKey,
		},
	}
}

// TestLockedOncePerWindow: a burst of refused answers in one window notifies once; the next
// window again; unknown users and requests without a key never.
func TestLockedOncePerWindow(t *testing.T) {
	rec, clk := &notifytest.Recorder{}, storetest.NewClock(t0)
	h, err := notifyhook.NewLocked(rec, fixedWindow{15 * time.Minute}, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	dynalitetest.AtOnce(20, func(int) int { h.Locked(context.Background(), req(authflow.EmailOTP)); return 0 })
	if rec.Len() != 1 {
		t.Fatalf("20 refusals in one window: %d notifications, want 1", rec.Len())
	}
	ev := rec.Events()[0]
	if ev.Kind != notify.AccountLocked || ev.UserPoolID != poolID || ev.UserName != alice || ev.Attributes["email"] != "alice@example.com" ||
		ev.Detail[notify.DetailMethod] != "email_otp" || ev.ID != "window:"+itoa(t0.Unix()) || rec.Keys()[0] != testKey {
		t.Errorf("event %+v", ev)
	}
	clk.Add(14 * time.Minute)
	h.Locked(context.Background(), req(authflow.MagicLink))
	if rec.Len() != 1 {
		t.Fatalf("a refusal later in the window notified again")
	}
	clk.Add(time.Minute)
	h.Locked(context.Background(), req(authflow.MagicLink))
	if rec.Len() != 2 || rec.Events()[1].ID != "window:"+itoa(t0.Add(15*time.Minute).Unix()) {
		t.Fatalf("next window: %d notifications, last %+v", rec.Len(), rec.Events()[rec.Len()-1])
	}
	unknown := req(authflow.EmailOTP)
	unknown.UserNotFound = true
	noKey := req(authflow.EmailOTP)
	noKey.Key = nil
	clk.Add(time.Hour)
	h.Locked(context.Background(), unknown)
	h.Locked(context.Background(), noKey)
	if rec.Len() != 2 {
		t.Fatalf("unknown user or no key notified")
	}
	if _, err := notifyhook.NewLocked(nil, fixedWindow{}, nil); err == nil {
		t.Error("NewLocked without a notifier")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func dynaliteStore(t *testing.T, clk *storetest.Clock) *store.Store {
	t.Helper()
	return storetest.New(t, "notifyhook", store.WithClock(clk.Now)).Store
}

// sender is a real notify.Sender for kinds, mailing through mail, with locales as
// NOTIFY_LOCALES_JSON ("": none).
func sender(t *testing.T, st *store.Store, mail *testkit.Mailbox, kinds, locales string) *notify.Sender {
	t.Helper()
	cfg, err := notify.ConfigFromEnv(func(k string) string {
		return map[string]string{notify.EnvEvents: kinds, notify.EnvEmailFrom: "no-reply@example.com", notify.EnvTimeout: "4s",
			notify.EnvLocalesJSON: locales}[k]
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
	clk := storetest.NewClock(t0)
	st := dynaliteStore(t, clk)
	mail := &testkit.Mailbox{}
	s := sender(t, st, mail, "account_locked", "")
	counter := newCounter(t, st)
	a, b := lockingVerify(t, s, counter, clk), lockingVerify(t, s, counter, clk)
	answer := func(v *triggers.Verify, i int) { answerWrong(t, v, i, attrs(), nil) }
	for i := range 3 {
		answer(a, i)
	}
	if mail.Len() != 0 {
		t.Fatalf("notified before the lock: %d", mail.Len())
	}
	dynalitetest.AtOnce(10, func(i int) int {
		v := a
		if i%2 == 1 {
			v = b
		}
		answer(v, 3+i)
		return 0
	})
	if mail.Len() != 1 {
		t.Fatalf("10 refusals in two instances: %d emails, want 1", mail.Len())
	}
	if to := mail.Emails()[0].To; len(to) != 1 || to[0] != "alice@example.com" {
		t.Errorf("sent to %v", to)
	}
}

// newCounter is a lockout counter on st locking after 3 failures in 15 minutes.
func newCounter(t *testing.T, st *store.Store) *lockout.Counter {
	t.Helper()
	counter, err := lockout.New(st, lockout.Config{Limit: 3, Window: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return counter
}

// lockingVerify is a Verify instance for email codes whose every answer is wrong, locking with
// counter and notifying account_locked through s.
func lockingVerify(t *testing.T, s *notify.Sender, counter *lockout.Counter, clk *storetest.Clock) *triggers.Verify {
	t.Helper()
	h, err := notifyhook.NewLocked(s, counter, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	return &triggers.Verify{Config: authflow.Config{Methods: []authflow.Method{authflow.EmailOTP}, MaxAttempts: 3}, Keys: keyed.Static{K: testKey},
		Failures: counter, Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: wrong{}}, OnLocked: []triggers.LockHook{h}}
}

// answerWrong sends v the i-th wrong email code of the user alice with attributes ua (each i its
// own session), with meta added to the request's ClientMetadata; the answer must be refused.
func answerWrong(t *testing.T, v *triggers.Verify, i int, ua, meta map[string]string) {
	t.Helper()
	p := map[string]string{authflow.PrivKind: "CODE", authflow.PrivSessionID: sid[:20] + string(rune('A'+i/26)) + string(rune('A'+i%26)),
		authflow.PrivMethod: "email_otp", authflow.PrivGeneration: "1", authflow.PrivRound: "2"}
	cm := map[string]string{authflow.MetaSignInMethod: "email_otp"}
	maps.Copy(cm, meta)
	ev := events.CognitoEventUserPoolsVerifyAuthChallenge{CognitoEventUserPoolsHeader: events.CognitoEventUserPoolsHeader{UserPoolID: poolID, UserName: alice}}
	ev.Request = events.CognitoEventUserPoolsVerifyAuthChallengeRequest{UserAttributes: ua, PrivateChallengeParameters: p, ChallengeAnswer: "000000",
		ClientMetadata: cm}
	if out, err := v.Handle(context.Background(), ev); err != nil || out.Response.AnswerCorrect {
		t.Errorf("answer %d: %v %v", i, out.Response.AnswerCorrect, err)
	}
}

// TestLockedLocaleIsTheOwners: whoever signs in (possibly an attacker locking the account on
// purpose) cannot choose the language of the owner's notice: the request's ClientMetadata
// locale is ignored, only the owner's attribute locale counts.
func TestLockedLocaleIsTheOwners(t *testing.T) {
	const es = `{"es": {"account_locked": {"subject": "Cuenta bloqueada"}}}`
	for _, c := range []struct {
		name, attr, meta, want string
	}{
		{"request asks for es", "", "es", "Sign-in to your account is paused"},
		{"owner reads en, request asks for es", "en", "es", "Sign-in to your account is paused"},
		{"owner reads es", "es", "", "Cuenta bloqueada"},
		{"owner reads es, request asks for en", "es", "en", "Cuenta bloqueada"},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := storetest.NewClock(t0)
			st := dynaliteStore(t, clk)
			mail := &testkit.Mailbox{}
			v := lockingVerify(t, sender(t, st, mail, "account_locked", es), newCounter(t, st), clk)
			ua := attrs()
			if c.attr != "" {
				ua["locale"] = c.attr
			}
			for i := range 4 { // 3 failures lock; the 4th answer is refused as locked
				answerWrong(t, v, i, ua, map[string]string{"locale": c.meta})
			}
			if mail.Len() != 1 {
				t.Fatalf("%d emails, want 1", mail.Len())
			}
			if got := mail.Emails()[0].Subject; got != c.want {
				t.Errorf("subject %q, want %q", got, c.want)
			}
		})
	}
}

type wrong struct{}

func (wrong) Check(context.Context, triggers.CheckRequest) (bool, error) { return false, nil }

// TestNewMethod: the first sign-in ever is not news; a method (or device key) not used before by
// a returning user is notified once, with the session ID as event ID; a Cognito retry of the same
// Verify sends nothing more.
func TestNewMethod(t *testing.T) {
	clk := storetest.NewClock(t0)
	st := dynaliteStore(t, clk)
	rec := &notifytest.Recorder{}
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
		before := rec.Len()
		if err := h.Succeeded(context.Background(), step.r); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := rec.Len() > before; got != step.notify {
			t.Fatalf("step %d (%s): notified %v, want %v", i, notifyhook.Entry(step.r), got, step.notify)
		}
	}
	ev := rec.Events()[0]
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
	before := rec.Len()
	for _, r := range []triggers.CheckRequest{unknown, noSub} {
		if err := h.Succeeded(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if rec.Len() != before {
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
	rec := &notifytest.Recorder{}
	h, _ := notifyhook.NewNewMethod(rec, failingSeen{})
	v := &triggers.Verify{Config: authflow.Config{Methods: []authflow.Method{authflow.DeviceKey}, MaxAttempts: 3}, Keys: keyed.Static{K: testKey},
		Checkers: map[authflow.Method]triggers.Checker{authflow.DeviceKey: right{}}, OnSuccess: []triggers.SuccessHook{h}}
	ev := events.CognitoEventUserPoolsVerifyAuthChallenge{CognitoEventUserPoolsHeader: events.CognitoEventUserPoolsHeader{UserPoolID: poolID, UserName: alice}}
	ev.Request = events.CognitoEventUserPoolsVerifyAuthChallengeRequest{UserAttributes: attrs(), ChallengeAnswer: "proof",
		PrivateChallengeParameters: map[string]string{authflow.PrivKind: "NONCE", authflow.PrivSessionID: sid, authflow.PrivRound: "1"},
		ClientMetadata:             map[string]string{authflow.MetaSignInMethod: "device_key"}}
	out, err := v.Handle(context.Background(), ev)
	if err != nil || !out.Response.AnswerCorrect || rec.Len() != 0 {
		t.Fatalf("sign-in with a failing seen store: correct %v err %v, %d notifications", out.Response.AnswerCorrect, err, rec.Len())
	}
}

type right struct{}

func (right) Check(context.Context, triggers.CheckRequest) (bool, error) { return true, nil }
