package triggers_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
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
			ok, err := runVerify(t, &triggers.Verify{Config: allCfg, Checkers: cs}, ev)
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
			if ok, err := runVerify(t, &triggers.Verify{Config: allCfg, Checkers: cs}, ev); ok || err != nil {
				t.Errorf("wrong answer: correct=%v err=%v", ok, err)
			}
		})
	}
}

func TestVerifyNoChecker(t *testing.T) {
	for _, v := range []*triggers.Verify{
		{Config: allCfg},
		{Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: &fakeChecker{ok: true}}},
		{Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.DeviceKey: nil}},
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
			ok, err := runVerify(t, &triggers.Verify{Config: allCfg, Checkers: cs, Failures: counter}, verifyEvent(tc.private, "answer-1", tc.meta, false))
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
			} else if len(counter.recorded) != 0 {
				t.Errorf("a non-attempt was recorded as a failure: %v", counter.recorded)
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
			v := &triggers.Verify{Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.Passkey: f, authflow.SMSOTP: f}}
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
		ok, err := runVerify(t, &triggers.Verify{Config: allCfg, Checkers: cs, Failures: counter}, ev)
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
		// Probing unknown users costs the same as probing real ones.
		if want := []string{"name:" + poolID + "/nobody@example.com"}; len(counter.recorded) != 1 || counter.recorded[0] != want[0] {
			t.Errorf("recorded %v, want %v", counter.recorded, want)
		}
	}
}

func TestVerifyCheckerError(t *testing.T) {
	for _, ok := range []bool{false, true} {
		f := &fakeChecker{ok: ok, err: errBoom}
		counter := &fakeCounter{}
		v := &triggers.Verify{Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: f}, Failures: counter}
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

	t.Run("locked refuses a right answer", func(t *testing.T) {
		counter := &fakeCounter{locked: true}
		v := &triggers.Verify{Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: &fakeChecker{ok: true}}, Failures: counter}
		ok, err := runVerify(t, v, ev())
		if ok || err != nil {
			t.Errorf("locked: correct=%v err=%v", ok, err)
		}
		if len(counter.lockedArgs) != 1 || counter.lockedArgs[0] != account {
			t.Errorf("Locked asked for %v, want [%s]", counter.lockedArgs, account)
		}
	})
	t.Run("wrong answer recorded once", func(t *testing.T) {
		counter := &fakeCounter{}
		v := &triggers.Verify{Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: &fakeChecker{ok: false}}, Failures: counter}
		ok, err := runVerify(t, v, ev())
		if ok || err != nil {
			t.Errorf("correct=%v err=%v", ok, err)
		}
		if len(counter.recorded) != 1 || counter.recorded[0] != account {
			t.Errorf("recorded %v, want [%s]", counter.recorded, account)
		}
	})
	t.Run("wrong answer without sub recorded by name", func(t *testing.T) {
		counter := &fakeCounter{}
		v := &triggers.Verify{Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: &fakeChecker{ok: false}}, Failures: counter}
		e := ev()
		e.Request.UserAttributes = map[string]string{"email": "alice@example.com"}
		if ok, err := runVerify(t, v, e); ok || err != nil {
			t.Errorf("correct=%v err=%v", ok, err)
		}
		if want := "name:" + poolID + "/" + userName; len(counter.recorded) != 1 || counter.recorded[0] != want {
			t.Errorf("recorded %v, want [%s]", counter.recorded, want)
		}
	})
	t.Run("oversized answer recorded", func(t *testing.T) {
		counter := &fakeCounter{}
		v := &triggers.Verify{Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: &fakeChecker{ok: true}}, Failures: counter}
		e := ev()
		e.Request.ChallengeAnswer = strings.Repeat("9", triggers.MaxAnswerLength+1)
		if ok, err := runVerify(t, v, e); ok || err != nil {
			t.Errorf("correct=%v err=%v", ok, err)
		}
		if len(counter.recorded) != 1 {
			t.Errorf("recorded %v, want one failure", counter.recorded)
		}
	})
	t.Run("right answer not recorded", func(t *testing.T) {
		counter := &fakeCounter{}
		v := &triggers.Verify{Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: &fakeChecker{ok: true}}, Failures: counter}
		ok, err := runVerify(t, v, ev())
		if !ok || err != nil {
			t.Errorf("correct=%v err=%v", ok, err)
		}
		if len(counter.recorded) != 0 {
			t.Errorf("right answer recorded: %v", counter.recorded)
		}
	})
	t.Run("Locked error", func(t *testing.T) {
		counter := &fakeCounter{lockedErr: errBoom}
		f := &fakeChecker{ok: true}
		v := &triggers.Verify{Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: f}, Failures: counter}
		ok, err := runVerify(t, v, ev())
		if ok || !errors.Is(err, triggers.ErrUnavailable) {
			t.Errorf("correct=%v err=%v, want false and ErrUnavailable", ok, err)
		}
	})
	t.Run("RecordFailure error", func(t *testing.T) {
		counter := &fakeCounter{recordErr: errBoom}
		v := &triggers.Verify{Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: &fakeChecker{ok: false}}, Failures: counter}
		ok, err := runVerify(t, v, ev())
		if ok || !errors.Is(err, triggers.ErrUnavailable) {
			t.Errorf("correct=%v err=%v, want false and ErrUnavailable", ok, err)
		}
		if len(counter.recorded) != 1 {
			t.Errorf("RecordFailure called %d times, want 1", len(counter.recorded))
		}
	})
	t.Run("RecordFailure error on a right answer is irrelevant", func(t *testing.T) {
		counter := &fakeCounter{recordErr: errBoom}
		v := &triggers.Verify{Config: allCfg, Checkers: map[authflow.Method]triggers.Checker{authflow.EmailOTP: &fakeChecker{ok: true}}, Failures: counter}
		if ok, err := runVerify(t, v, ev()); !ok || err != nil {
			t.Errorf("correct=%v err=%v", ok, err)
		}
	})
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
