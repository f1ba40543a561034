package triggers_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/internal/testkit"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

const testNonce = "Yc1d9mQ2v0xkz7rPp8Wn3LbT5hJf6GsA4eUoRiNwKyE"

// checkers returns a fake checker per method, all answering ok.
func checkers(ok bool) (map[authflow.Method]triggers.Checker, map[authflow.Method]*fakeChecker) {
	fakes := map[authflow.Method]*fakeChecker{}
	m := map[authflow.Method]triggers.Checker{}
	for _, meth := range authflow.AllMethods {
		f := &fakeChecker{ok: ok}
		fakes[meth], m[meth] = f, f
	}
	return m, fakes
}

func runVerify(t *testing.T, v *triggers.Verify, ev events.CognitoEventUserPoolsVerifyAuthChallenge) (bool, error) {
	t.Helper()
	ev.Response.AnswerCorrect = true // a stale true must never survive
	out, err := v.Handle(context.Background(), ev)
	return out.Response.AnswerCorrect, err
}

func TestVerifyFixtures(t *testing.T) {
	for _, tc := range []struct {
		file   string
		method authflow.Method
		answer string
		ch     authflow.Challenge
	}{
		{"verify_nonce.json", authflow.DeviceKey, `{"keyId":"k-01HV6Z","signature":"MEUCIQDxV0Zr3bW8n3p"}`, authflow.Challenge{Kind: authflow.KindNonce, SessionID: sid}},
		{"verify_code.json", authflow.EmailOTP, "482913", authflow.Challenge{Kind: authflow.KindCode, SessionID: sid, Method: authflow.EmailOTP, Generation: 1}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			ev := fixture[events.CognitoEventUserPoolsVerifyAuthChallenge](t, tc.file)
			cs, fakes := checkers(true)
			ok, err := runVerify(t, &triggers.Verify{Keys: testKeys, Config: allCfg, Checkers: cs}, ev)
			if err != nil || !ok {
				t.Fatalf("right answer: correct=%v err=%v", ok, err)
			}
			for m, f := range fakes {
				if want := map[bool]int{true: 1, false: 0}[m == tc.method]; f.n() != want {
					t.Errorf("%s checker called %d times, want %d", m, f.n(), want)
				}
			}
			req := fakes[tc.method].calls[0]
			if req.Method != tc.method || req.Answer != tc.answer || req.Challenge != tc.ch {
				t.Errorf("check request method %q answer %q challenge %+v", req.Method, req.Answer, req.Challenge)
			}
			if !maps.Equal(req.Private, ev.Request.PrivateChallengeParameters) {
				t.Errorf("check request private %v, want %v", req.Private, ev.Request.PrivateChallengeParameters)
			}
			if req.UserPoolID != poolID || req.ClientID != clientID || req.UserName != userName || req.UserNotFound ||
				req.UserAttributes["sub"] != userSub || req.ClientMetadata["signInMethod"] != string(tc.method) {
				t.Errorf("check request context = %+v", req)
			}
			// The same answer judged wrong.
			cs, _ = checkers(false)
			if ok, err := runVerify(t, &triggers.Verify{Keys: testKeys, Config: allCfg, Checkers: cs}, ev); ok || err != nil {
				t.Errorf("wrong answer: correct=%v err=%v", ok, err)
			}
		})
	}
}

func TestVerifyNoChecker(t *testing.T) {
	for _, v := range []*triggers.Verify{
		{Keys: testKeys, Config: allCfg},
		{Keys: testKeys, Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: &fakeChecker{ok: true}}},
		{Keys: testKeys, Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.DeviceKey: nil}},
	} {
		ok, err := runVerify(t, v, verifyEvent(noncePrivate(testNonce), "proof", cm(authflow.DeviceKey, ""), false))
		if ok || err != nil {
			t.Errorf("no checker: correct=%v err=%v", ok, err)
		}
	}
}

func TestVerifyMethodSelection(t *testing.T) {
	for _, tc := range []struct {
		name    string
		private map[string]string
		meta    map[string]string
		want    authflow.Method // "" : no checker may be called
	}{
		{"nonce round, device_key from client metadata", noncePrivate(testNonce), cm(authflow.DeviceKey, ""), authflow.DeviceKey},
		{"nonce round, passkey from client metadata", noncePrivate(testNonce), cm(authflow.Passkey, ""), authflow.Passkey},
		{"code round, email from private params", codePrivate(authflow.EmailOTP, "1"), cm(authflow.EmailOTP, ""), authflow.EmailOTP},
		{"code round, sms from private params", codePrivate(authflow.SMSOTP, "2"), cm(authflow.SMSOTP, ""), authflow.SMSOTP},
		{"select email in the nonce round", noncePrivate(testNonce), cm(authflow.EmailOTP, ""), ""},
		{"select sms in the nonce round", noncePrivate(testNonce), cm(authflow.SMSOTP, ""), ""},
		{"resend in a code round", codePrivate(authflow.EmailOTP, "1"), cm(authflow.EmailOTP, authflow.ActionResend), ""},
		{"method switch in a code round", codePrivate(authflow.EmailOTP, "1"), cm(authflow.SMSOTP, ""), ""},
		{"key method in a code round", codePrivate(authflow.EmailOTP, "1"), cm(authflow.DeviceKey, ""), ""},
		{"resend in the nonce round", noncePrivate(testNonce), cm(authflow.DeviceKey, authflow.ActionResend), ""},
		{"unknown method", noncePrivate(testNonce), map[string]string{"signInMethod": "password"}, ""},
		{"no client metadata", noncePrivate(testNonce), nil, ""},
		{"no private params", nil, cm(authflow.DeviceKey, ""), ""},
		{"bad session ID", map[string]string{"kind": "NONCE", "sid": "x", "nonce": testNonce}, cm(authflow.DeviceKey, ""), ""},
		{"code round with key method", map[string]string{"kind": "CODE", "sid": sid, "method": "device_key", "gen": "1"}, cm(authflow.DeviceKey, ""), ""},
		{"unknown kind", map[string]string{"kind": "MAGIC", "sid": sid}, cm(authflow.DeviceKey, ""), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, fakes := checkers(true)
			counter := &fakeCounter{}
			ok, err := runVerify(t, &triggers.Verify{Keys: testKeys, Config: allCfg, Checkers: cs, Failures: counter}, verifyEvent(tc.private, "answer-1", tc.meta, false))
			if err != nil {
				t.Fatal(err)
			}
			if ok != (tc.want != "") {
				t.Errorf("correct = %v", ok)
			}
			for m, f := range fakes {
				want := 0
				if m == tc.want {
					want = 1
				}
				if f.n() != want {
					t.Errorf("%s checker called %d times, want %d", m, f.n(), want)
				}
			}
			if tc.want != "" {
				req := fakes[tc.want].calls[0]
				if req.Method != tc.want || req.Answer != "answer-1" {
					t.Errorf("checker got method %q answer %q", req.Method, req.Answer)
				}
			} else if len(counter.reserved) != 0 {
				t.Errorf("a non-attempt took an attempt slot: %v", counter.reserved)
			}
			if tc.want != "" && !tc.want.Guessable() && len(counter.reserved) != 0 {
				t.Errorf("a %s answer took an attempt slot: %v", tc.want, counter.reserved)
			}
		})
	}
}

func TestVerifyAnswerShape(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer any
		called bool
	}{
		{"nil", nil, false},
		{"number", 482913.0, false},
		{"bool", true, false},
		{"object", map[string]any{"signature": "x"}, false},
		{"array", []any{"482913"}, false},
		{"byte slice", []byte("482913"), false},
		{"over MaxAnswerLength", strings.Repeat("a", triggers.MaxAnswerLength+1), false},
		{"far over MaxAnswerLength", strings.Repeat("a", 1<<20), false},
		{"exactly MaxAnswerLength", strings.Repeat("a", triggers.MaxAnswerLength), true},
		{"empty string", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeChecker{ok: true}
			v := &triggers.Verify{Keys: testKeys, Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.Passkey: f, authflow.SMSOTP: f}}
			for _, ev := range []events.CognitoEventUserPoolsVerifyAuthChallenge{
				verifyEvent(noncePrivate(testNonce), tc.answer, cm(authflow.Passkey, ""), false),
				verifyEvent(codePrivate(authflow.SMSOTP, "1"), tc.answer, cm(authflow.SMSOTP, ""), false),
			} {
				before := f.n()
				ok, err := runVerify(t, v, ev)
				if err != nil {
					t.Fatal(err)
				}
				if called := f.n() > before; called != tc.called || ok != tc.called {
					t.Errorf("checker called %v, correct %v; want %v", called, ok, tc.called)
				}
			}
		})
	}
}

func TestVerifyUnknownUserNeverCorrect(t *testing.T) {
	for _, ev := range []events.CognitoEventUserPoolsVerifyAuthChallenge{
		verifyEvent(noncePrivate(testNonce), "proof", cm(authflow.DeviceKey, ""), true),
		verifyEvent(codePrivate(authflow.EmailOTP, "1"), "123456", cm(authflow.EmailOTP, ""), true),
	} {
		cs, fakes := checkers(true)
		counter := &fakeCounter{}
		ev.Request.UserAttributes = nil
		ev.UserName = "nobody@example.com"
		ok, err := runVerify(t, &triggers.Verify{Keys: testKeys, Config: allCfg, Checkers: cs, Failures: counter}, ev)
		if ok || err != nil {
			t.Errorf("unknown user: correct=%v err=%v", ok, err)
		}
		// The checker still does comparable work, told that the user is unknown.
		n := 0
		for _, f := range fakes {
			for _, c := range f.calls {
				n++
				if !c.UserNotFound {
					t.Error("checker not told the user is unknown")
				}
			}
		}
		if n != 1 {
			t.Errorf("checker calls = %d, want 1", n)
		}
		// Probing unknown users' codes costs the same as probing real ones; key proofs take no slot.
		want := 0
		if ev.Request.ClientMetadata[authflow.MetaSignInMethod] == string(authflow.EmailOTP) {
			want = 1
		}
		if counter.held("name:"+poolID+"/nobody@example.com") != want || len(counter.reserved) != want {
			t.Errorf("reserved %v, want %d slot for the unknown user's name", counter.reserved, want)
		}
	}
}

func TestVerifyCheckerError(t *testing.T) {
	for _, ok := range []bool{false, true} {
		f := &fakeChecker{ok: ok, err: errBoom}
		counter := &fakeCounter{}
		v := &triggers.Verify{Keys: testKeys, Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: f}, Failures: counter}
		correct, err := runVerify(t, v, verifyEvent(codePrivate(authflow.EmailOTP, "1"), "123456", cm(authflow.EmailOTP, ""), false))
		if !errors.Is(err, triggers.ErrUnavailable) || correct {
			t.Errorf("checker error (ok=%v): correct=%v err=%v, want false and ErrUnavailable", ok, correct, err)
		}
		if err != nil && strings.Contains(err.Error(), errBoom.Error()) {
			t.Errorf("the dependency's error %q reaches the client", err)
		}
	}
}

func TestVerifyFailureCounter(t *testing.T) {
	ev := func() events.CognitoEventUserPoolsVerifyAuthChallenge {
		return verifyEvent(codePrivate(authflow.EmailOTP, "1"), "123456", cm(authflow.EmailOTP, ""), false)
	}
	account := triggers.Account(poolID, userName, attrs())
	if account != "sub:"+userSub {
		t.Fatalf("Account = %q", account)
	}
	emailVerify := func(f *fakeChecker, c *fakeCounter) *triggers.Verify {
		return &triggers.Verify{Keys: testKeys, Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: f}, Failures: c}
	}

	t.Run("locked refuses a right answer without checking it", func(t *testing.T) {
		counter, f := &fakeCounter{locked: true}, &fakeChecker{ok: true}
		ok, err := runVerify(t, emailVerify(f, counter), ev())
		if ok || err != nil {
			t.Errorf("locked: correct=%v err=%v", ok, err)
		}
		if f.n() != 0 {
			t.Errorf("the checker ran %d times for a locked account (its side effects too)", f.n())
		}
		if len(counter.reserved) != 1 || !strings.HasPrefix(counter.reserved[0], account+"/"+sid+"/2/") {
			t.Errorf("Reserve asked for %v, want one slot of %s for session %s round 2", counter.reserved, account, sid)
		}
	})
	t.Run("wrong answer keeps its slot", func(t *testing.T) {
		counter := &fakeCounter{}
		ok, err := runVerify(t, emailVerify(&fakeChecker{ok: false}, counter), ev())
		if ok || err != nil {
			t.Errorf("correct=%v err=%v", ok, err)
		}
		if counter.held(account) != 1 || len(counter.released) != 0 {
			t.Errorf("held %d, released %v; want 1 slot kept", counter.held(account), counter.released)
		}
	})
	t.Run("right answer gives its slot back", func(t *testing.T) {
		counter := &fakeCounter{}
		ok, err := runVerify(t, emailVerify(&fakeChecker{ok: true}, counter), ev())
		if !ok || err != nil {
			t.Errorf("correct=%v err=%v", ok, err)
		}
		if counter.held(account) != 0 || len(counter.released) != 1 || counter.released[0] != counter.reserved[0] {
			t.Errorf("reserved %v, released %v; want the same slot given back", counter.reserved, counter.released)
		}
	})
	t.Run("wrong answer without sub counted by name", func(t *testing.T) {
		counter := &fakeCounter{}
		e := ev()
		e.Request.UserAttributes = map[string]string{"email": "alice@example.com"}
		if ok, err := runVerify(t, emailVerify(&fakeChecker{ok: false}, counter), e); ok || err != nil {
			t.Errorf("correct=%v err=%v", ok, err)
		}
		if counter.held("name:"+poolID+"/"+userName) != 1 {
			t.Errorf("reserved %v, want a slot for name:%s/%s", counter.reserved, poolID, userName)
		}
	})
	t.Run("oversized answer takes a slot and is not checked", func(t *testing.T) {
		counter, f := &fakeCounter{}, &fakeChecker{ok: true}
		e := ev()
		e.Request.ChallengeAnswer = strings.Repeat("9", triggers.MaxAnswerLength+1)
		if ok, err := runVerify(t, emailVerify(f, counter), e); ok || err != nil {
			t.Errorf("correct=%v err=%v", ok, err)
		}
		if counter.held(account) != 1 || f.n() != 0 {
			t.Errorf("held %d, checked %d; want 1 and 0", counter.held(account), f.n())
		}
	})
	t.Run("Reserve error fails closed without checking", func(t *testing.T) {
		counter, f := &fakeCounter{reserveErr: errBoom}, &fakeChecker{ok: true}
		ok, err := runVerify(t, emailVerify(f, counter), ev())
		if ok || !errors.Is(err, triggers.ErrUnavailable) {
			t.Errorf("correct=%v err=%v, want false and ErrUnavailable", ok, err)
		}
		if f.n() != 0 {
			t.Error("the checker ran without a slot")
		}
	})
	t.Run("Release error on a right answer does not fail the sign-in", func(t *testing.T) {
		counter := &fakeCounter{releaseErr: errBoom}
		if ok, err := runVerify(t, emailVerify(&fakeChecker{ok: true}, counter), ev()); !ok || err != nil {
			t.Errorf("correct=%v err=%v", ok, err)
		}
	})
	t.Run("checker error keeps the slot", func(t *testing.T) {
		counter := &fakeCounter{}
		ok, err := runVerify(t, emailVerify(&fakeChecker{ok: true, err: errBoom}, counter), ev())
		if ok || !errors.Is(err, triggers.ErrUnavailable) {
			t.Errorf("correct=%v err=%v", ok, err)
		}
		if counter.held(account) != 1 {
			t.Errorf("held %d, want 1", counter.held(account))
		}
	})
	t.Run("round without a round number is refused unchecked", func(t *testing.T) {
		for _, round := range []string{"", "0", "x", "02", "101"} {
			counter, f := &fakeCounter{}, &fakeChecker{ok: true}
			e := ev()
			e.Request.PrivateChallengeParameters[authflow.PrivRound] = round
			if ok, err := runVerify(t, emailVerify(f, counter), e); ok || err != nil {
				t.Errorf("round %q: correct=%v err=%v", round, ok, err)
			}
			if f.n() != 0 || len(counter.reserved) != 0 {
				t.Errorf("round %q: checked %d, reserved %v", round, f.n(), counter.reserved)
			}
		}
	})
	t.Run("a Cognito retry of the same Verify counts once", func(t *testing.T) {
		counter, f := &fakeCounter{limit: 1}, &fakeChecker{ok: false}
		v := emailVerify(f, counter)
		for range 3 {
			if ok, err := runVerify(t, v, ev()); ok || err != nil {
				t.Fatalf("correct=%v err=%v", ok, err)
			}
		}
		if counter.held(account) != 1 || f.n() != 3 {
			t.Errorf("3 deliveries of one wrong answer: %d slots held, %d checks; want 1 and 3", counter.held(account), f.n())
		}
		// The one slot is the limit: another answer is refused unchecked.
		e := ev()
		e.Request.PrivateChallengeParameters[authflow.PrivRound] = "3"
		if ok, _ := runVerify(t, v, e); ok || f.n() != 3 {
			t.Errorf("answer after the limit: correct=%v, checks %d", ok, f.n())
		}
	})
	t.Run("attempt IDs differ per session, round and answer", func(t *testing.T) {
		counter := &fakeCounter{}
		v := emailVerify(&fakeChecker{ok: false}, counter)
		seen := map[string]bool{}
		for _, tc := range []struct{ sid, round, answer string }{
			{sid, "2", "111111"}, {sid, "3", "111111"}, {sid, "2", "222222"}, {"Zz9Vx-_9aZk0bT1c2D3e4F", "2", "111111"},
		} {
			e := ev()
			e.Request.PrivateChallengeParameters[authflow.PrivSessionID] = tc.sid
			e.Request.PrivateChallengeParameters[authflow.PrivRound] = tc.round
			e.Request.ChallengeAnswer = tc.answer
			_, _ = runVerify(t, v, e)
		}
		for _, r := range counter.reserved {
			if seen[r] {
				t.Errorf("attempt %q named twice", r)
			}
			seen[r] = true
			if strings.Contains(r, "111111") || strings.Contains(r, "222222") {
				t.Errorf("attempt ID %q holds the answer", r)
			}
		}
		if len(seen) != 4 || counter.held(account) != 4 {
			t.Errorf("reserved %v", counter.reserved)
		}
	})
	t.Run("the deployment key reaches the counter and the checker", func(t *testing.T) {
		counter, f := &fakeCounter{}, &fakeChecker{ok: true}
		_, _ = runVerify(t, emailVerify(f, counter), ev())
		if len(counter.keys) != 2 || counter.keys[0] != testKey || counter.keys[1] != testKey || f.n() != 1 || f.calls[0].Key != testKey {
			t.Errorf("keys passed: counter %v, checker %v", counter.keys, f.calls)
		}
	})
}

// TestVerifyKeyProofsNotLocked is attack 10: a device-key or passkey answer cannot be guessed, so a
// lock never refuses one and a wrong one is never counted.
func TestVerifyKeyProofsNotLocked(t *testing.T) {
	for _, m := range []authflow.Method{authflow.DeviceKey, authflow.Passkey} {
		t.Run(string(m), func(t *testing.T) {
			counter := &fakeCounter{limit: 5}
			wrong, right := &fakeChecker{ok: false}, &fakeChecker{ok: true}
			v := &triggers.Verify{Keys: testKeys, Config: allCfg, Failures: counter, Checkers: map[authflow.Method]triggers.Checker{m: wrong}}
			for i := range 20 {
				if ok, err := runVerify(t, v, verifyEvent(noncePrivate(testNonce), fmt.Sprint("garbage-", i), cm(m, ""), false)); ok || err != nil {
					t.Fatalf("garbage: correct=%v err=%v", ok, err)
				}
			}
			if len(counter.reserved) != 0 || wrong.n() != 20 {
				t.Errorf("20 garbage %s answers: reserved %v, checked %d", m, counter.reserved, wrong.n())
			}
			// A locked account still signs in with a key.
			counter.locked = true
			v.Checkers[m] = right
			if ok, err := runVerify(t, v, verifyEvent(noncePrivate(testNonce), "valid", cm(m, ""), false)); !ok || err != nil {
				t.Errorf("valid %s answer on a locked account: correct=%v err=%v", m, ok, err)
			}
			if len(counter.reserved) != 0 || len(counter.released) != 0 {
				t.Errorf("key answer touched the counter: %v %v", counter.reserved, counter.released)
			}
		})
	}
}

// TestVerifyConcurrentWrongAnswers: 31 wrong codes at once in separate sessions against a limit of
// 5 have exactly 5 checked; then the right code is refused without being checked.
func TestVerifyConcurrentWrongAnswers(t *testing.T) {
	counter, f := &fakeCounter{limit: 5}, &fakeChecker{ok: false}
	v := &triggers.Verify{Keys: testKeys, Config: allCfg, Failures: counter, Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: f}}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 31 {
		wg.Go(func() {
			<-start
			p := codePrivate(authflow.EmailOTP, "1")
			p[authflow.PrivSessionID] = fmt.Sprintf("s%021d", i)
			out, err := v.Handle(context.Background(), verifyEvent(p, "000000", cm(authflow.EmailOTP, ""), false))
			if err != nil || out.Response.AnswerCorrect {
				t.Errorf("wrong answer %d: correct=%v err=%v", i, out.Response.AnswerCorrect, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if f.n() != 5 {
		t.Fatalf("31 concurrent wrong answers, limit 5: %d checked", f.n())
	}
	right := &fakeChecker{ok: true}
	v.Checkers[authflow.EmailOTP] = right
	if ok, err := runVerify(t, v, verifyEvent(codePrivate(authflow.EmailOTP, "1"), "123456", cm(authflow.EmailOTP, ""), false)); ok || err != nil || right.n() != 0 {
		t.Fatalf("right answer after the limit: correct=%v err=%v checked %d", ok, err, right.n())
	}
}

func TestVerifySuccessHooks(t *testing.T) {
	code := func() events.CognitoEventUserPoolsVerifyAuthChallenge {
		return verifyEvent(codePrivate(authflow.EmailOTP, "1"), "123456", cm(authflow.EmailOTP, ""), false)
	}
	key := func() events.CognitoEventUserPoolsVerifyAuthChallenge {
		return verifyEvent(noncePrivate(testNonce), "proof", cm(authflow.DeviceKey, ""), false)
	}
	for _, tc := range []struct {
		name    string
		ok      bool
		locked  bool
		ev      events.CognitoEventUserPoolsVerifyAuthChallenge
		unknown bool
		want    int
	}{
		{"right code", true, false, code(), false, 1},
		{"right key proof", true, false, key(), false, 1},
		{"wrong code", false, false, code(), false, 0},
		{"wrong key proof", false, false, key(), false, 0},
		{"right code, locked", true, true, code(), false, 0},
		{"unknown user", true, false, code(), true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h1, h2 := &fakeHook{}, &fakeHook{err: errBoom}
			f := &fakeChecker{ok: tc.ok}
			v := &triggers.Verify{Keys: testKeys, Config: allCfg, Failures: &fakeCounter{locked: tc.locked},
				Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: f, authflow.DeviceKey: f}, OnSuccess: []triggers.SuccessHook{h1, nil, h2}}
			tc.ev.Request.UserNotFound = tc.unknown
			ok, err := runVerify(t, v, tc.ev)
			if err != nil || ok != (tc.want == 1) {
				t.Fatalf("correct=%v err=%v (a failing hook must not fail the sign-in)", ok, err)
			}
			if h1.n() != tc.want || h2.n() != tc.want {
				t.Errorf("hooks called %d and %d times, want %d", h1.n(), h2.n(), tc.want)
			}
			if tc.want == 1 && (h1.calls[0].Key != testKey || h1.calls[0].UserName != userName) {
				t.Errorf("hook request %+v", h1.calls[0])
			}
		})
	}
}

// rendezvousCounter's Release and rendezvousHook's Succeeded each wait for the other: they finish
// only when Verify runs them at the same time.
type rendezvousCounter struct {
	fakeCounter
	release, hook chan struct{}
}

func (r *rendezvousCounter) Release(ctx context.Context, k *keyed.Key, account, attemptID string) error {
	close(r.release)
	select {
	case <-r.hook:
	case <-time.After(30 * time.Second):
		return errors.New("the success hook did not run while the slot was given back")
	}
	return r.fakeCounter.Release(ctx, k, account, attemptID)
}

type rendezvousHook struct{ r *rendezvousCounter }

func (h rendezvousHook) Succeeded(context.Context, triggers.CheckRequest) error {
	close(h.r.hook)
	select {
	case <-h.r.release:
		return nil
	case <-time.After(30 * time.Second):
		return errors.New("the slot was not given back while the hook ran")
	}
}

// TestVerifyReleaseAndHooksConcurrent: giving back the slot and the success hooks take one store
// round trip in all, not one each (the budget under 1 s of DynamoDB latency).
func TestVerifyReleaseAndHooksConcurrent(t *testing.T) {
	r := &rendezvousCounter{release: make(chan struct{}), hook: make(chan struct{})}
	var buf testkit.Buffer
	v := &triggers.Verify{Keys: testKeys, Config: allCfg, Failures: r, OnSuccess: []triggers.SuccessHook{rendezvousHook{r}},
		Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: &fakeChecker{ok: true}},
		Log:      slog.New(slog.NewJSONHandler(&buf, nil))}
	if ok, err := runVerify(t, v, verifyEvent(codePrivate(authflow.EmailOTP, "1"), "123456", cm(authflow.EmailOTP, ""), false)); !ok || err != nil {
		t.Fatalf("correct=%v err=%v", ok, err)
	}
	if strings.Contains(buf.String(), "failed") {
		t.Fatalf("release and hook did not run concurrently:\n%s", buf.String())
	}
}

// TestDeploymentKeyRequired: with methods enabled, Create and Verify fail closed without the
// deployment key; with none enabled they work without one.
func TestDeploymentKeyRequired(t *testing.T) {
	ctx := context.Background()
	for name, src := range map[string]keyed.Source{"no source": nil, "failing source": keyed.Static{}} {
		c := &triggers.Create{Keys: src, Config: allCfg}
		if _, err := c.Handle(ctx, createEvent(nil, nil, false)); !errors.Is(err, triggers.ErrUnavailable) {
			t.Errorf("%s: Create err = %v, want ErrUnavailable", name, err)
		}
		f := &fakeChecker{ok: true}
		v := &triggers.Verify{Keys: src, Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.DeviceKey: f}}
		if ok, err := runVerify(t, v, verifyEvent(noncePrivate(testNonce), "proof", cm(authflow.DeviceKey, ""), false)); ok || !errors.Is(err, triggers.ErrUnavailable) || f.n() != 0 {
			t.Errorf("%s: Verify correct=%v err=%v checked %d", name, ok, err, f.n())
		}
	}
	none := authflow.Config{MaxAttempts: 3}
	out, err := (&triggers.Create{Config: none}).Handle(ctx, createEvent(nil, nil, false))
	if err != nil || out.Response.PublicChallengeParameters[authflow.PubNonce] == "" {
		t.Errorf("no methods, no key: Create = %v", err)
	}
	if ok, err := runVerify(t, &triggers.Verify{Config: none}, verifyEvent(noncePrivate(testNonce), "proof", cm(authflow.DeviceKey, ""), false)); ok || err != nil {
		t.Errorf("no methods, no key: Verify correct=%v err=%v", ok, err)
	}
}

func TestAccount(t *testing.T) {
	if got := triggers.Account("p", "u", map[string]string{"sub": "s-1"}); got != "sub:s-1" {
		t.Errorf("with sub: %q", got)
	}
	if got := triggers.Account("p", "u", map[string]string{"sub": ""}); got != "name:p/u" {
		t.Errorf("empty sub: %q", got)
	}
	if got := triggers.Account("p", "u", nil); got != "name:p/u" {
		t.Errorf("nil attributes: %q", got)
	}
	// Different pools never share a counter for the same name.
	if triggers.Account("p1", "u", nil) == triggers.Account("p2", "u", nil) {
		t.Error("pools share an account key")
	}
}
