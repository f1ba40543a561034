package otp_test

import (
	"testing"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/otp"
)

// The helpers other email senders use (package magiclink) pick, mask and count the recipient
// exactly as email codes do: the same destination for real and unknown users, the same send key.
func TestEmailHelpersMatchTheIssuer(t *testing.T) {
	for name, tc := range map[string]struct {
		userName     string
		attrs        map[string]string
		userNotFound bool
	}{
		"real user":                 {userName, emailAttrs(true), false},
		"unknown user, typed email": {" Bob@Example.org ", nil, true},
		"unknown user, plain name":  {"bob", nil, true},
		"user without email":        {userName, map[string]string{"sub": userName}, false},
	} {
		e := newEnv(t, otp.Config{})
		req := issueReq(authflow.EmailOTP, 1, tc.attrs)
		req.UserName, req.UserNotFound = tc.userName, tc.userNotFound
		out := e.issueQuick(t, req)
		recipient, fromAttr := otp.EmailRecipient(tc.userName, tc.attrs, tc.userNotFound)
		if got := otp.EmailDestination(testKey, poolID, tc.userName, recipient, fromAttr); got != out.Public[otp.PubDestination] {
			t.Errorf("%s: EmailDestination = %q, the issuer published %q", name, got, out.Public[otp.PubDestination])
		}
		key := otp.RecipientKey(testKey, authflow.EmailOTP, recipient)
		if len(e.store.sendKeys) != 1 || e.store.sendKeys[0] != key {
			t.Errorf("%s: send key %q, the issuer used %v", name, key, e.store.sendKeys)
		}
	}
	if !otp.LooksLikeEmail("a@b.co") || otp.LooksLikeEmail("a b@c.co") || otp.LooksLikeEmail("+447400123456") {
		t.Error("LooksLikeEmail")
	}
}

// A LINK round is not the code issuer's or checker's: handed one by mistake they refuse it.
func TestCodesRefuseLinkRounds(t *testing.T) {
	e := newEnv(t, otp.Config{})
	req := issueReq(authflow.EmailOTP, 1, emailAttrs(true))
	req.Challenge = authflow.Challenge{Kind: authflow.KindLink, SessionID: sid, Reason: authflow.ReasonSelect, Method: authflow.MagicLink, Generation: 1}
	if _, err := e.iss.Issue(t.Context(), req); err == nil || e.ses.count() != 0 {
		t.Fatalf("code issuer took a LINK round: %v, %d emails", err, e.ses.count())
	}
	ok := issueReq(authflow.EmailOTP, 1, emailAttrs(true))
	issued := e.issue(t, ok)
	cr := checkReq(ok, issued, e.lastEmailCode(t))
	cr.Challenge, cr.Method = req.Challenge, authflow.MagicLink
	if e.check(t, cr) {
		t.Fatal("code checker accepted an answer to a LINK round")
	}
}
