package otp_test

import (
	"testing"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/otp"
)

// TestReviewUnknownNameCaseOracle: the pool is case-insensitive (the construct sets
// SignInCaseSensitive false), so "Victim@Example.com" and "victim@example.com" are one real
// user: their SMS-code rounds show one destination (the masked phone, or a placeholder keyed by
// the sub) and share one send schedule. For an unknown name the placeholder and the schedule are
// keyed by the name exactly as typed, so the two spellings give two different destinations and
// two fresh schedules. Typing an email in two casings and choosing sms_otp tells unknown
// addresses from registered ones; for a registered user without a phone it sends nothing.
func TestReviewUnknownNameCaseOracle(t *testing.T) {
	const a, b = "Victim.Person@Example.com", "victim.person@example.com"

	// A real user without a phone number: Cognito passes the username (the sub) whatever the casing typed.
	real := newEnv(t, otp.Config{})
	r1 := issueReq(authflow.SMSOTP, 1, emailAttrs(true))
	r1.Challenge.SessionID = session(1)
	r2 := issueReq(authflow.SMSOTP, 1, emailAttrs(true))
	r2.Challenge.SessionID = session(2)
	ro1, ro2 := real.issueQuick(t, r1), real.issueQuick(t, r2)
	if ro1.Public["destination"] != ro2.Public["destination"] || codeStatus(t, ro2) != "wait" {
		t.Fatalf("precondition: a real user's two probes: %v / %v", ro1.Public, ro2.Public)
	}

	// An unknown name, typed in two casings.
	unknown := newEnv(t, otp.Config{})
	u1 := unknownReq(authflow.SMSOTP, a, testKey)
	u1.Challenge.SessionID = session(1)
	u2 := unknownReq(authflow.SMSOTP, b, testKey)
	u2.Challenge.SessionID = session(2)
	uo1, uo2 := unknown.issueQuick(t, u1), unknown.issueQuick(t, u2)
	if uo1.Public["destination"] != uo2.Public["destination"] {
		t.Errorf("unknown %q and %q show destinations %q and %q; a real user shows one (%q) for every casing",
			a, b, uo1.Public["destination"], uo2.Public["destination"], ro1.Public["destination"])
	}
	if s := codeStatus(t, uo2); s != codeStatus(t, ro2) {
		t.Errorf("second probe in another casing: unknown name says codeStatus=%s resendAfter=%s, a real user codeStatus=%s resendAfter=%s",
			s, uo2.Public["resendAfter"], codeStatus(t, ro2), ro2.Public["resendAfter"])
	}
}
