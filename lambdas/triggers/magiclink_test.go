package triggers_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

func linkChallenge(r authflow.Reason, gen int) authflow.Challenge {
	return authflow.Challenge{Kind: authflow.KindLink, SessionID: sid, Reason: r, Method: authflow.MagicLink, Generation: gen}
}

// linkPrivate is what Create writes for a LINK round in round 2.
func linkPrivate(gen string) map[string]string {
	return map[string]string{authflow.PrivKind: string(authflow.KindLink), authflow.PrivSessionID: sid, authflow.PrivMethod: string(authflow.MagicLink),
		authflow.PrivGeneration: gen, authflow.PrivRound: "2"}
}

// TestCreateLinkRound: choosing magic_link in the nonce round makes Create hand a LINK round to the
// magic_link issuer (never to a code issuer), and the round is described to Verify and Define.
func TestCreateLinkRound(t *testing.T) {
	link, email := &fakeIssuer{out: triggers.Issued{Public: map[string]string{"destination": "a***@e***.com", "codeStatus": "sent"}}}, &fakeIssuer{}
	h := &triggers.Create{Keys: testKeys, Config: allCfg, Issuers: map[authflow.Method]triggers.CodeIssuer{authflow.MagicLink: link, authflow.EmailOTP: email}}
	meta := cm(authflow.MagicLink, "")
	meta["redirectUrl"] = "https://app.example.com/signin"
	out, err := h.Handle(context.Background(), createEvent(sess(rnd(nonceMeta(authflow.ReasonStart), false)), meta, false))
	if err != nil {
		t.Fatal(err)
	}
	if len(link.reqs) != 1 || len(email.reqs) != 0 {
		t.Fatalf("link issuer called %d times, email issuer %d; want 1 and 0", len(link.reqs), len(email.reqs))
	}
	req := link.reqs[0]
	if want := linkChallenge(authflow.ReasonSelect, 1); req.Challenge != want {
		t.Errorf("issuer challenge = %+v, want %+v", req.Challenge, want)
	}
	if req.Key != testKey || req.ClientMetadata["redirectUrl"] != "https://app.example.com/signin" || req.UserName != userName {
		t.Errorf("issuer request = %+v", req)
	}
	r := out.Response
	wantPub := map[string]string{"kind": "LINK", "methods": allCfg.MethodList(), "destination": "a***@e***.com", "codeStatus": "sent"}
	if !maps.Equal(r.PublicChallengeParameters, wantPub) {
		t.Errorf("public = %v, want %v", r.PublicChallengeParameters, wantPub)
	}
	if want := linkPrivate("1"); !maps.Equal(r.PrivateChallengeParameters, want) {
		t.Errorf("private = %v, want %v", r.PrivateChallengeParameters, want)
	}
	if want := "LINK;sid=" + sid + ";r=select;m=magic_link;g=1"; r.ChallengeMetadata != want {
		t.Errorf("metadata = %q, want %q", r.ChallengeMetadata, want)
	}

	// A resend in the LINK round is another LINK round, generation 2, to the same issuer.
	out, err = h.Handle(context.Background(), createEvent(sess(rnd(nonceMeta(authflow.ReasonStart), false), rnd(linkChallenge(authflow.ReasonSelect, 1).String(), false)),
		cm(authflow.MagicLink, authflow.ActionResend), false))
	if err != nil || len(link.reqs) != 2 || link.reqs[1].Challenge != linkChallenge(authflow.ReasonResend, 2) {
		t.Fatalf("resend: err %v, issuer requests %d, last %+v", err, len(link.reqs), link.reqs[len(link.reqs)-1].Challenge)
	}
	if out.Response.PrivateChallengeParameters[authflow.PrivRound] != "3" {
		t.Errorf("resend round = %q, want 3", out.Response.PrivateChallengeParameters[authflow.PrivRound])
	}
}

// TestCreateLinkRoundFailsClosed: no magic_link issuer, or an issuer that fails (a redirect URL not
// in the list, SES down), fails the round.
func TestCreateLinkRoundFailsClosed(t *testing.T) {
	ev := createEvent(sess(rnd(nonceMeta(authflow.ReasonStart), false)), cm(authflow.MagicLink, ""), false)
	for name, issuers := range map[string]map[authflow.Method]triggers.CodeIssuer{
		"no issuer":      {authflow.EmailOTP: &fakeIssuer{}},
		"issuer failing": {authflow.MagicLink: &fakeIssuer{err: errors.New("redirect URL not allowed")}},
	} {
		h := &triggers.Create{Keys: testKeys, Config: allCfg, Issuers: issuers}
		if _, err := h.Handle(context.Background(), ev); !errors.Is(err, triggers.ErrUnavailable) {
			t.Errorf("%s: err = %v, want ErrUnavailable", name, err)
		}
	}
}

// TestVerifyMagicLinkIsGuessable: a link's secret, answered in a fresh sign-in's nonce round
// (action=complete) or in the LINK round, takes an attempt slot before it is checked; a locked
// account's right link is refused unchecked; a right one gives its slot back.
func TestVerifyMagicLinkIsGuessable(t *testing.T) {
	account := triggers.Account(poolID, userName, attrs())
	for name, ev := range map[string]func() events.CognitoEventUserPoolsVerifyAuthChallenge{
		"completion in a nonce round": func() events.CognitoEventUserPoolsVerifyAuthChallenge {
			return verifyEvent(noncePrivate(testNonce), "secret", cm(authflow.MagicLink, authflow.ActionComplete), false)
		},
		"answer in the LINK round": func() events.CognitoEventUserPoolsVerifyAuthChallenge {
			return verifyEvent(linkPrivate("1"), "secret", cm(authflow.MagicLink, ""), false)
		},
	} {
		t.Run(name, func(t *testing.T) {
			locked, right := &fakeCounter{locked: true}, &fakeChecker{ok: true}
			v := &triggers.Verify{Keys: testKeys, Config: allCfg, Failures: locked, Checkers: map[authflow.Method]triggers.Checker{authflow.MagicLink: right}}
			if ok, err := runVerify(t, v, ev()); ok || err != nil || right.n() != 0 {
				t.Errorf("locked: correct=%v err=%v, checker ran %d times", ok, err, right.n())
			}
			if len(locked.reserved) != 1 || !strings.HasPrefix(locked.reserved[0], account+"/"+sid+"/") {
				t.Errorf("reserved %v, want one slot of %s", locked.reserved, account)
			}
			counter := &fakeCounter{}
			v.Failures = counter
			if ok, err := runVerify(t, v, ev()); !ok || err != nil {
				t.Errorf("right link: correct=%v err=%v", ok, err)
			}
			if len(counter.reserved) != 1 || len(counter.released) != 1 || counter.held(account) != 0 {
				t.Errorf("right link: reserved %v released %v", counter.reserved, counter.released)
			}
			if c := right.calls[0]; c.Method != authflow.MagicLink || c.Answer != "secret" {
				t.Errorf("checker got method %q answer %q", c.Method, c.Answer)
			}
			wrong := &fakeChecker{ok: false}
			counter = &fakeCounter{}
			v.Failures, v.Checkers[authflow.MagicLink] = counter, wrong
			if ok, err := runVerify(t, v, ev()); ok || err != nil || counter.held(account) != 1 {
				t.Errorf("wrong link: correct=%v err=%v, held %d", ok, err, counter.held(account))
			}
		})
	}
}

// fakeLockHook records the requests Verify refused because the account was locked.
type fakeLockHook struct {
	mu    sync.Mutex
	calls []triggers.CheckRequest
}

func (h *fakeLockHook) Locked(_ context.Context, req triggers.CheckRequest) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, req)
}

func (h *fakeLockHook) n() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.calls)
}

// TestVerifyLockHook: a guessable answer refused by the lock is told to the lock hooks (with the
// user's attributes and the method, never for an unknown user); answers that were granted a slot,
// and key proofs, are not.
func TestVerifyLockHook(t *testing.T) {
	code := verifyEvent(codePrivate(authflow.EmailOTP, "1"), "123456", cm(authflow.EmailOTP, ""), false)
	link := verifyEvent(noncePrivate(testNonce), "secret", cm(authflow.MagicLink, authflow.ActionComplete), false)
	key := verifyEvent(noncePrivate(testNonce), "proof", cm(authflow.DeviceKey, ""), false)
	unknown := verifyEvent(codePrivate(authflow.EmailOTP, "1"), "123456", cm(authflow.EmailOTP, ""), true)

	hook := &fakeLockHook{}
	cks, _ := checkers(false)
	v := &triggers.Verify{Keys: testKeys, Config: allCfg, Failures: &fakeCounter{locked: true}, Checkers: cks}
	v.OnLocked = []triggers.LockHook{hook, nil}
	for _, ev := range []events.CognitoEventUserPoolsVerifyAuthChallenge{code, link, key, unknown} {
		if ok, err := runVerify(t, v, ev); ok || err != nil {
			t.Fatalf("locked: correct=%v err=%v", ok, err)
		}
	}
	if hook.n() != 2 {
		t.Fatalf("lock hook called %d times, want 2 (code and link; not the key proof nor the unknown user)", hook.n())
	}
	for i, want := range []authflow.Method{authflow.EmailOTP, authflow.MagicLink} {
		c := hook.calls[i]
		if c.Method != want || c.UserAttributes["email"] != "alice@example.com" || c.Key != testKey || c.UserPoolID != poolID || c.UserName != userName || c.Challenge.SessionID != sid {
			t.Errorf("lock hook call %d = %+v", i, c)
		}
		if c.Answer != "" {
			t.Errorf("lock hook call %d carries the refused answer", i)
		}
	}

	// Granted answers, right or wrong, are not a lock.
	hook2 := &fakeLockHook{}
	v = &triggers.Verify{Keys: testKeys, Config: allCfg, Failures: &fakeCounter{}, Checkers: cks, OnLocked: []triggers.LockHook{hook2}}
	for _, ev := range []events.CognitoEventUserPoolsVerifyAuthChallenge{code, link} {
		runVerify(t, v, ev)
	}
	if hook2.n() != 0 {
		t.Errorf("lock hook called %d times for granted answers", hook2.n())
	}
}
