package authflow_test

import (
	"testing"

	"github.com/passwordless-go/cognito/lambdas/authflow"
)

// The literals below ("magic_link", "LINK", "complete") are the wire values of the magic-link
// protocol; the tests spell them out so that a renamed constant cannot silently change the wire.
const (
	mlMethod   = authflow.Method("magic_link")
	linkKind   = authflow.Kind("LINK")
	actionDone = "complete"
)

func linkCh(r authflow.Reason, gen int) authflow.Challenge {
	return authflow.Challenge{Kind: linkKind, SessionID: sid, Reason: r, Method: mlMethod, Generation: gen}
}

var (
	mLink1     = linkCh(authflow.ReasonSelect, 1).String()
	mLinkRetry = linkCh(authflow.ReasonRetry, 1).String()
	mLink2     = linkCh(authflow.ReasonResend, 2).String()
)

// TestMagicLinkMethod: magic_link is a method, guessable (gated by and counted toward the account
// lock like a code), neither a key nor a code method.
func TestMagicLinkMethod(t *testing.T) {
	m, err := authflow.ParseMethod("magic_link")
	if err != nil || m != mlMethod {
		t.Fatalf("ParseMethod(magic_link) = %q, %v", m, err)
	}
	if !m.Guessable() {
		t.Error("magic_link is not guessable: a stranger's wrong links would never lock the account")
	}
	if m.IsKey() || m.IsCode() {
		t.Errorf("magic_link IsKey=%v IsCode=%v, want neither", m.IsKey(), m.IsCode())
	}
	found := false
	for _, x := range authflow.AllMethods {
		found = found || x == mlMethod
	}
	if !found {
		t.Error("AllMethods does not list magic_link")
	}
}

func TestPlanMagicLink(t *testing.T) {
	noLink := authflow.Config{Methods: []authflow.Method{authflow.EmailOTP, authflow.DeviceKey}, MaxAttempts: 3, MaxResends: 2}
	oneAttempt := authflow.Config{Methods: authflow.AllMethods, MaxAttempts: 1, MaxResends: 2}
	runPlanCases(t, []planCase{
		// Request: the nonce round answered with magic_link and no action asks for a link.
		{name: "request: LINK round gen 1", session: sess(rnd(mStart, false)), meta: cm(mlMethod, ""),
			want: authflow.Continue, next: linkCh(authflow.ReasonSelect, 1)},
		{name: "unknown user request: same LINK round", session: sess(rnd(mStart, false)), meta: cm(mlMethod, ""), userNotFound: true,
			want: authflow.Continue, next: linkCh(authflow.ReasonSelect, 1)},
		{name: "resend in the LINK round: gen 2", session: sess(rnd(mStart, false), rnd(mLink1, false)), meta: cm(mlMethod, authflow.ActionResend),
			want: authflow.Continue, next: linkCh(authflow.ReasonResend, 2)},
		{name: "wrong secret in the LINK round: retry", session: sess(rnd(mStart, false), rnd(mLink1, false)), meta: cm(mlMethod, ""),
			want: authflow.Continue, next: linkCh(authflow.ReasonRetry, 1)},
		{name: "right secret in the LINK round: tokens", session: sess(rnd(mStart, false), rnd(mLink1, true)), meta: cm(mlMethod, ""), want: authflow.IssueTokens},
		{name: "right secret after a resend: tokens", session: sess(rnd(mStart, false), rnd(mLink1, false), rnd(mLink2, true)), meta: cm(mlMethod, ""), want: authflow.IssueTokens},
		{name: "LINK round answered with action complete: tokens", session: sess(rnd(mStart, false), rnd(mLink1, true)), meta: cm(mlMethod, actionDone), want: authflow.IssueTokens},

		// Completion: a fresh sign-in answers its nonce round with the secret and action=complete.
		{name: "completion true: tokens", session: sess(rnd(mStart, true)), meta: cm(mlMethod, actionDone), want: authflow.IssueTokens},
		{name: "completion false: nonce retry (an attempt)", session: sess(rnd(mStart, false)), meta: cm(mlMethod, actionDone),
			want: authflow.Continue, next: nonceCh(authflow.ReasonRetry)},
		{name: "completion false with one attempt: fail", session: sess(rnd(mStart, false)), meta: cm(mlMethod, actionDone), cfg: &oneAttempt, want: authflow.Fail},
		{name: "completion true after a wrong one: tokens", session: sess(rnd(mStart, false), rnd(mNonceRetry, true)), meta: cm(mlMethod, actionDone), want: authflow.IssueTokens},

		// What must never sign anyone in.
		{name: "request answered true: fail (a request proves nothing)", session: sess(rnd(mStart, true)), meta: cm(mlMethod, ""), want: authflow.Fail},
		{name: "complete with a code method: fail", session: sess(rnd(mStart, true)), meta: cm(authflow.EmailOTP, actionDone), want: authflow.Fail},
		{name: "complete with a key method: fail", session: sess(rnd(mStart, true)), meta: cm(authflow.DeviceKey, actionDone), want: authflow.Fail},
		{name: "complete with a code method, false: fail", session: sess(rnd(mStart, false)), meta: cm(authflow.EmailOTP, actionDone), want: authflow.Fail},
		{name: "magic_link disabled: request fails", session: sess(rnd(mStart, false)), meta: cm(mlMethod, ""), cfg: &noLink, want: authflow.Fail},
		{name: "magic_link disabled: completion true fails", session: sess(rnd(mStart, true)), meta: cm(mlMethod, actionDone), cfg: &noLink, want: authflow.Fail},
		{name: "magic_link disabled since the LINK round: fail", session: sess(rnd(mStart, false), rnd(mLink1, true)), meta: cm(mlMethod, ""), cfg: &noLink, want: authflow.Fail},
		{name: "unknown user completion true: fail", session: sess(rnd(mStart, true)), meta: cm(mlMethod, actionDone), userNotFound: true, want: authflow.Fail},
		{name: "unknown user LINK round true: fail", session: sess(rnd(mStart, false), rnd(mLink1, true)), meta: cm(mlMethod, ""), userNotFound: true, want: authflow.Fail},
		{name: "method switch in the LINK round: fail", session: sess(rnd(mStart, false), rnd(mLink1, false)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "email code answer to the LINK round: fail", session: sess(rnd(mStart, false), rnd(mLink1, true)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "resend in the nonce round: fail", session: sess(rnd(mStart, false)), meta: cm(mlMethod, authflow.ActionResend), want: authflow.Fail},
		{name: "complete in a CODE round: fail", session: sess(rnd(mStart, false), rnd(mEmail1, false)), meta: cm(authflow.EmailOTP, actionDone), want: authflow.Fail},
		{name: "LINK round with a code method: fail", session: sess(rnd(mStart, false), rnd("LINK;sid="+sid+";r=select;m=email_otp;g=1", true)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "CODE round with magic_link: fail", session: sess(rnd(mStart, false), rnd("CODE;sid="+sid+";r=select;m=magic_link;g=1", true)), meta: cm(mlMethod, ""), want: authflow.Fail},
		{name: "three wrong links across rounds: fail", session: sess(rnd(mStart, false), rnd(mLink1, false), rnd(mLinkRetry, false), rnd(mLinkRetry, false)), meta: cm(mlMethod, ""), want: authflow.Fail},
	})
}

func TestClassifyMagicLink(t *testing.T) {
	nonce := nonceCh(authflow.ReasonStart)
	link := linkCh(authflow.ReasonSelect, 1)
	for _, tc := range []struct {
		name string
		c    authflow.Challenge
		meta map[string]string
		want authflow.Intent
	}{
		{"nonce request", nonce, cm(mlMethod, ""), authflow.Select},
		{"nonce completion", nonce, cm(mlMethod, actionDone), authflow.Attempt},
		{"nonce resend", nonce, cm(mlMethod, authflow.ActionResend), authflow.Invalid},
		{"nonce complete for email", nonce, cm(authflow.EmailOTP, actionDone), authflow.Invalid},
		{"nonce complete for passkey", nonce, cm(authflow.Passkey, actionDone), authflow.Invalid},
		{"link answer", link, cm(mlMethod, ""), authflow.Attempt},
		{"link complete", link, cm(mlMethod, actionDone), authflow.Attempt},
		{"link resend", link, cm(mlMethod, authflow.ActionResend), authflow.Resend},
		{"link other action", link, cm(mlMethod, "COMPLETE"), authflow.Invalid},
		{"link method switch", link, cm(authflow.EmailOTP, ""), authflow.Invalid},
		{"code round complete", codeCh(authflow.ReasonSelect, authflow.EmailOTP, 1), cm(authflow.EmailOTP, actionDone), authflow.Invalid},
	} {
		if got := authflow.Classify(tc.c, tc.meta, allCfg); got != tc.want {
			t.Errorf("%s: Classify = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestLinkChallengeEncoding(t *testing.T) {
	c := linkCh(authflow.ReasonResend, 2)
	s := c.String()
	if want := "LINK;sid=" + sid + ";r=resend;m=magic_link;g=2"; s != want {
		t.Fatalf("String = %q, want %q", s, want)
	}
	got, err := authflow.ParseChallenge(s)
	if err != nil || got != c {
		t.Fatalf("ParseChallenge(%q) = %+v, %v", s, got, err)
	}
	p, err := authflow.ChallengeFromPrivate(c.Private())
	want := c
	want.Reason = ""
	if err != nil || p != want {
		t.Fatalf("ChallengeFromPrivate = %+v, %v; want %+v", p, err, want)
	}
	for _, bad := range []string{
		"LINK;sid=" + sid + ";r=select;m=email_otp;g=1",
		"LINK;sid=" + sid + ";r=select;m=device_key;g=1",
		"LINK;sid=" + sid + ";r=select;m=magic_link",
		"LINK;sid=" + sid + ";r=select;m=magic_link;g=0",
		"LINK;sid=" + sid + ";r=start;m=magic_link;g=1;x=2",
		"CODE;sid=" + sid + ";r=select;m=magic_link;g=1",
	} {
		if c, err := authflow.ParseChallenge(bad); err == nil {
			t.Errorf("ParseChallenge(%q) accepted: %+v", bad, c)
		}
	}
	for _, bad := range []map[string]string{
		{authflow.PrivKind: "LINK", authflow.PrivSessionID: sid, authflow.PrivMethod: "email_otp", authflow.PrivGeneration: "1"},
		{authflow.PrivKind: "CODE", authflow.PrivSessionID: sid, authflow.PrivMethod: "magic_link", authflow.PrivGeneration: "1"},
		{authflow.PrivKind: "LINK", authflow.PrivSessionID: sid, authflow.PrivMethod: "magic_link"},
	} {
		if c, err := authflow.ChallengeFromPrivate(bad); err == nil {
			t.Errorf("ChallengeFromPrivate(%v) accepted: %+v", bad, c)
		}
	}
}
