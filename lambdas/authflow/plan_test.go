package authflow_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
)

type planCase struct {
	name         string
	session      []*events.CognitoEventUserPoolsChallengeResult
	meta         map[string]string
	userNotFound bool
	cfg          *authflow.Config // nil: allCfg
	want         authflow.Outcome
	next         authflow.Challenge // checked when want == Continue
}

func runPlanCases(t *testing.T, cases []planCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := allCfg
			if tc.cfg != nil {
				cfg = *tc.cfg
			}
			got, next, reason := authflow.Plan(tc.session, tc.meta, tc.userNotFound, cfg)
			if got != tc.want {
				t.Fatalf("outcome = %v (reason %q), want %v", got, reason, tc.want)
			}
			switch got {
			case authflow.Continue:
				if next != tc.next {
					t.Errorf("next = %+v, want %+v", next, tc.next)
				}
				if reason != "" {
					t.Errorf("reason = %q for Continue, want empty", reason)
				}
				if len(tc.session) > 0 && next.SessionID != sid {
					t.Errorf("next session ID = %q, want the session's %q", next.SessionID, sid)
				}
			case authflow.Fail:
				if next != (authflow.Challenge{}) {
					t.Errorf("Fail with a next challenge %+v", next)
				}
				if reason == "" {
					t.Error("Fail without a reason for the logs")
				}
			case authflow.IssueTokens:
				if next != (authflow.Challenge{}) {
					t.Errorf("IssueTokens with a next challenge %+v", next)
				}
			}
		})
	}
}

func TestPlanHappyPathsAndCaps(t *testing.T) {
	emailOnly := authflow.Config{Methods: []authflow.Method{authflow.EmailOTP}, MaxAttempts: 3, MaxResends: 2}
	noResend := authflow.Config{Methods: authflow.AllMethods, MaxAttempts: 3, MaxResends: 0}
	oneAttempt := authflow.Config{Methods: authflow.AllMethods, MaxAttempts: 1, MaxResends: 2}
	selects := func(n int) []*events.CognitoEventUserPoolsChallengeResult {
		s := sess(rnd(mStart, false))
		for i := 0; i < n; i++ {
			s = append(s, rnd(mEmail1, false))
		}
		return s
	}
	runPlanCases(t, []planCase{
		{name: "empty session: nonce round", session: nil, want: authflow.Continue,
			next: authflow.Challenge{Kind: authflow.KindNonce, Reason: authflow.ReasonStart}},
		{name: "empty non-nil session: nonce round", session: sess(), meta: cm(authflow.DeviceKey, ""), want: authflow.Continue,
			next: authflow.Challenge{Kind: authflow.KindNonce, Reason: authflow.ReasonStart}},
		{name: "empty session for an unknown user: same nonce round", session: nil, userNotFound: true, want: authflow.Continue,
			next: authflow.Challenge{Kind: authflow.KindNonce, Reason: authflow.ReasonStart}},

		// Key methods: one round trip.
		{name: "device_key proof true: tokens", session: sess(rnd(mStart, true)), meta: cm(authflow.DeviceKey, ""), want: authflow.IssueTokens},
		{name: "passkey proof true: tokens", session: sess(rnd(mStart, true)), meta: cm(authflow.Passkey, ""), want: authflow.IssueTokens},
		{name: "key proof true after a retry: tokens", session: sess(rnd(mStart, false), rnd(mNonceRetry, true)), meta: cm(authflow.DeviceKey, ""), want: authflow.IssueTokens},
		{name: "device_key proof false: new nonce round", session: sess(rnd(mStart, false)), meta: cm(authflow.DeviceKey, ""),
			want: authflow.Continue, next: nonceCh(authflow.ReasonRetry)},
		{name: "second wrong proof: another nonce round", session: sess(rnd(mStart, false), rnd(mNonceRetry, false)), meta: cm(authflow.Passkey, ""),
			want: authflow.Continue, next: nonceCh(authflow.ReasonRetry)},
		{name: "third wrong proof: fail (MaxAttempts 3)", session: sess(rnd(mStart, false), rnd(mNonceRetry, false), rnd(mNonceRetry, false)), meta: cm(authflow.DeviceKey, ""),
			want: authflow.Fail},
		{name: "MaxAttempts 1: first wrong proof fails", session: sess(rnd(mStart, false)), meta: cm(authflow.DeviceKey, ""), cfg: &oneAttempt,
			want: authflow.Fail},
		{name: "select after a wrong proof: code round", session: sess(rnd(mStart, false), rnd(mNonceRetry, false)), meta: cm(authflow.EmailOTP, ""),
			want: authflow.Continue, next: codeCh(authflow.ReasonSelect, authflow.EmailOTP, 1)},

		// Code methods: select, then codes.
		{name: "select email_otp: CODE gen 1", session: sess(rnd(mStart, false)), meta: cm(authflow.EmailOTP, ""),
			want: authflow.Continue, next: codeCh(authflow.ReasonSelect, authflow.EmailOTP, 1)},
		{name: "select sms_otp: CODE gen 1", session: sess(rnd(mStart, false)), meta: cm(authflow.SMSOTP, ""),
			want: authflow.Continue, next: codeCh(authflow.ReasonSelect, authflow.SMSOTP, 1)},
		{name: "select with only email enabled", session: sess(rnd(mStart, false)), meta: cm(authflow.EmailOTP, ""), cfg: &emailOnly,
			want: authflow.Continue, next: codeCh(authflow.ReasonSelect, authflow.EmailOTP, 1)},
		{name: "right code: tokens", session: sess(rnd(mStart, false), rnd(mEmail1, true)), meta: cm(authflow.EmailOTP, ""), want: authflow.IssueTokens},
		{name: "right sms code: tokens", session: sess(rnd(mStart, false), rnd(mSMS1, true)), meta: cm(authflow.SMSOTP, ""), want: authflow.IssueTokens},
		{name: "right code after a resend: tokens", session: sess(rnd(mStart, false), rnd(mEmail1, false), rnd(mEmail2, true)), meta: cm(authflow.EmailOTP, ""), want: authflow.IssueTokens},
		{name: "wrong code: same generation retry", session: sess(rnd(mStart, false), rnd(mEmail1, false)), meta: cm(authflow.EmailOTP, ""),
			want: authflow.Continue, next: codeCh(authflow.ReasonRetry, authflow.EmailOTP, 1)},
		{name: "wrong code after resend keeps gen 2", session: sess(rnd(mStart, false), rnd(mEmail1, false), rnd(mEmail2, false)), meta: cm(authflow.EmailOTP, ""),
			want: authflow.Continue, next: codeCh(authflow.ReasonRetry, authflow.EmailOTP, 2)},
		{name: "second wrong code: retry", session: sess(rnd(mStart, false), rnd(mEmail1, false), rnd(mEmailRetry, false)), meta: cm(authflow.EmailOTP, ""),
			want: authflow.Continue, next: codeCh(authflow.ReasonRetry, authflow.EmailOTP, 1)},
		{name: "third wrong code: fail", session: sess(rnd(mStart, false), rnd(mEmail1, false), rnd(mEmailRetry, false), rnd(mEmailRetry, false)), meta: cm(authflow.EmailOTP, ""),
			want: authflow.Fail},
		{name: "wrong proof then two wrong codes: fail (attempts shared)", session: sess(rnd(mStart, false), rnd(mNonceRetry, false), rnd(mEmail1, false), rnd(mEmailRetry, false)),
			meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "resend: gen+1", session: sess(rnd(mStart, false), rnd(mEmail1, false)), meta: cm(authflow.EmailOTP, authflow.ActionResend),
			want: authflow.Continue, next: codeCh(authflow.ReasonResend, authflow.EmailOTP, 2)},
		{name: "second resend: gen 3", session: sess(rnd(mStart, false), rnd(mEmail1, false), rnd(mEmail2, false)), meta: cm(authflow.EmailOTP, authflow.ActionResend),
			want: authflow.Continue, next: codeCh(authflow.ReasonResend, authflow.EmailOTP, 3)},
		{name: "resend after a wrong code keeps counting gens", session: sess(rnd(mStart, false), rnd(mEmail1, false), rnd(mEmailRetry, false)), meta: cm(authflow.EmailOTP, authflow.ActionResend),
			want: authflow.Continue, next: codeCh(authflow.ReasonResend, authflow.EmailOTP, 2)},
		{name: "third resend: fail (MaxResends 2)", session: sess(rnd(mStart, false), rnd(mEmail1, false), rnd(mEmail2, false), rnd(mEmail3, false)),
			meta: cm(authflow.EmailOTP, authflow.ActionResend), want: authflow.Fail},
		{name: "MaxResends 0: first resend fails", session: sess(rnd(mStart, false), rnd(mEmail1, false)), meta: cm(authflow.EmailOTP, authflow.ActionResend), cfg: &noResend,
			want: authflow.Fail},

		// The round cap. MaxRounds is 7 for allCfg; select rounds count neither as attempts nor
		// resends, so only the cap can stop this (crafted) history.
		{name: "6 rounds: still under MaxRounds", session: selects(5), meta: cm(authflow.EmailOTP, ""),
			want: authflow.Continue, next: codeCh(authflow.ReasonRetry, authflow.EmailOTP, 1)},
		{name: "7 rounds: MaxRounds cap", session: selects(6), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "20 rounds: MaxRounds cap", session: selects(19), meta: cm(authflow.EmailOTP, authflow.ActionResend), want: authflow.Fail},

		// Unknown users run the same (false) rounds.
		{name: "unknown user: wrong proof gets the same retry", session: sess(rnd(mStart, false)), meta: cm(authflow.DeviceKey, ""), userNotFound: true,
			want: authflow.Continue, next: nonceCh(authflow.ReasonRetry)},
		{name: "unknown user: select gets the same code round", session: sess(rnd(mStart, false)), meta: cm(authflow.EmailOTP, ""), userNotFound: true,
			want: authflow.Continue, next: codeCh(authflow.ReasonSelect, authflow.EmailOTP, 1)},
	})
}

func TestPlanFailsClosed(t *testing.T) {
	emailOnly := authflow.Config{Methods: []authflow.Method{authflow.EmailOTP}, MaxAttempts: 3, MaxResends: 2}
	keyOnly := authflow.Config{Methods: []authflow.Method{authflow.DeviceKey}, MaxAttempts: 3, MaxResends: 2}
	none := authflow.Config{MaxAttempts: 3, MaxResends: 2}
	long := "NONCE;sid=" + sid + ";r=start;" + strings.Repeat("x", 300)
	runPlanCases(t, []planCase{
		// A true result for a round that cannot prove the user.
		{name: "nonce round answered as a code selection with true", session: sess(rnd(mStart, true)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "nonce round true without client metadata", session: sess(rnd(mStart, true)), meta: nil, want: authflow.Fail},
		{name: "nonce round true with resend action", session: sess(rnd(mStart, true)), meta: cm(authflow.DeviceKey, authflow.ActionResend), want: authflow.Fail},
		{name: "nonce round true with a disabled key method", session: sess(rnd(mStart, true)), meta: cm(authflow.Passkey, ""), cfg: &keyOnly, want: authflow.Fail},
		{name: "code round true for a method disabled since", session: sess(rnd(mStart, false), rnd(mEmail1, true)), meta: cm(authflow.EmailOTP, ""), cfg: &keyOnly, want: authflow.Fail},
		{name: "no methods enabled: key proof true", session: sess(rnd(mStart, true)), meta: cm(authflow.DeviceKey, ""), cfg: &none, want: authflow.Fail},

		// Unknown users never get tokens.
		{name: "userNotFound with key proof true", session: sess(rnd(mStart, true)), meta: cm(authflow.DeviceKey, ""), userNotFound: true, want: authflow.Fail},
		{name: "userNotFound with code true", session: sess(rnd(mStart, false), rnd(mEmail1, true)), meta: cm(authflow.EmailOTP, ""), userNotFound: true, want: authflow.Fail},

		// Methods and actions the protocol does not allow.
		{name: "disabled key method", session: sess(rnd(mStart, false)), meta: cm(authflow.DeviceKey, ""), cfg: &emailOnly, want: authflow.Fail},
		{name: "disabled code method", session: sess(rnd(mStart, false)), meta: cm(authflow.SMSOTP, ""), cfg: &emailOnly, want: authflow.Fail},
		{name: "no methods enabled", session: sess(rnd(mStart, false)), meta: cm(authflow.EmailOTP, ""), cfg: &none, want: authflow.Fail},
		{name: "unknown method", session: sess(rnd(mStart, false)), meta: map[string]string{"signInMethod": "password"}, want: authflow.Fail},
		{name: "method in another case", session: sess(rnd(mStart, false)), meta: map[string]string{"signInMethod": "EMAIL_OTP"}, want: authflow.Fail},
		{name: "method with spaces", session: sess(rnd(mStart, false)), meta: map[string]string{"signInMethod": " email_otp"}, want: authflow.Fail},
		{name: "nil client metadata", session: sess(rnd(mStart, false)), meta: nil, want: authflow.Fail},
		{name: "garbage client metadata", session: sess(rnd(mStart, false)), meta: map[string]string{"foo": "bar", "\x00": "\xff"}, want: authflow.Fail},
		{name: "method switch inside a CODE round (sms)", session: sess(rnd(mStart, false), rnd(mEmail1, false)), meta: cm(authflow.SMSOTP, ""), want: authflow.Fail},
		{name: "method switch inside a CODE round (key)", session: sess(rnd(mStart, false), rnd(mEmail1, false)), meta: cm(authflow.DeviceKey, ""), want: authflow.Fail},
		{name: "method switch on resend", session: sess(rnd(mStart, false), rnd(mEmail1, false)), meta: cm(authflow.SMSOTP, authflow.ActionResend), want: authflow.Fail},
		{name: "resend in the nonce round", session: sess(rnd(mStart, false)), meta: cm(authflow.EmailOTP, authflow.ActionResend), want: authflow.Fail},
		{name: "resend in a retried nonce round", session: sess(rnd(mStart, false), rnd(mNonceRetry, false)), meta: cm(authflow.DeviceKey, authflow.ActionResend), want: authflow.Fail},
		{name: "unknown action in a CODE round", session: sess(rnd(mStart, false), rnd(mEmail1, false)), meta: cm(authflow.EmailOTP, "RESEND"), want: authflow.Fail},

		// Entries that are not this protocol's.
		{name: "SRP_A entry", session: sess(named("SRP_A", "", true)), meta: cm(authflow.DeviceKey, ""), want: authflow.Fail},
		{name: "SRP_A then custom", session: sess(named("SRP_A", "", true), rnd(mStart, true)), meta: cm(authflow.DeviceKey, ""), want: authflow.Fail},
		{name: "PASSWORD_VERIFIER entry", session: sess(named("SRP_A", "", true), named("PASSWORD_VERIFIER", "", true)), meta: nil, want: authflow.Fail},
		{name: "PASSWORD_VERIFIER with our metadata", session: sess(named("PASSWORD_VERIFIER", mStart, true)), meta: cm(authflow.DeviceKey, ""), want: authflow.Fail},
		{name: "custom then PASSWORD_VERIFIER", session: sess(rnd(mStart, false), named("PASSWORD_VERIFIER", mEmail1, true)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "lower-case custom_challenge", session: sess(named("custom_challenge", mStart, true)), meta: cm(authflow.DeviceKey, ""), want: authflow.Fail},
		{name: "empty challenge name", session: sess(named("", mStart, true)), meta: cm(authflow.DeviceKey, ""), want: authflow.Fail},

		// Tampered or garbled metadata.
		{name: "empty metadata", session: sess(rnd("", true)), meta: cm(authflow.DeviceKey, ""), want: authflow.Fail},
		{name: "garbage metadata", session: sess(rnd("hello", false)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "lower-case kind", session: sess(rnd("nonce;sid="+sid+";r=start", true)), meta: cm(authflow.DeviceKey, ""), want: authflow.Fail},
		{name: "short session ID", session: sess(rnd("NONCE;sid=abc;r=start", true)), meta: cm(authflow.DeviceKey, ""), want: authflow.Fail},
		{name: "session ID with a bad character", session: sess(rnd("NONCE;sid="+sid[:21]+"+;r=start", true)), meta: cm(authflow.DeviceKey, ""), want: authflow.Fail},
		{name: "unknown reason", session: sess(rnd("NONCE;sid="+sid+";r=skip", true)), meta: cm(authflow.DeviceKey, ""), want: authflow.Fail},
		{name: "nonce round with a method field", session: sess(rnd(mStart+";m=email_otp", false)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "duplicate field", session: sess(rnd("NONCE;sid="+sid+";sid="+sid, true)), meta: cm(authflow.DeviceKey, ""), want: authflow.Fail},
		{name: "metadata over 256 bytes", session: sess(rnd(long, true)), meta: cm(authflow.DeviceKey, ""), want: authflow.Fail},
		{name: "code round with a key method", session: sess(rnd(mStart, false), rnd("CODE;sid="+sid+";r=select;m=device_key;g=1", true)), meta: cm(authflow.DeviceKey, ""), want: authflow.Fail},
		{name: "code round gen 0", session: sess(rnd(mStart, false), rnd("CODE;sid="+sid+";r=select;m=email_otp;g=0", true)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "code round gen 101", session: sess(rnd(mStart, false), rnd("CODE;sid="+sid+";r=resend;m=email_otp;g=101", true)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "code round without gen", session: sess(rnd(mStart, false), rnd("CODE;sid="+sid+";r=select;m=email_otp", true)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "garbled later round", session: sess(rnd(mStart, false), rnd(mEmail1[:len(mEmail1)-4], false)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},

		// Histories Create cannot have written.
		{name: "inconsistent session IDs", session: sess(rnd(mStart, false), rnd(strings.Replace(mEmail1, sid, otherSID, 1), true)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "inconsistent session IDs, false result", session: sess(rnd(mStart, false), rnd(strings.Replace(mEmail1, sid, otherSID, 1), false)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "first round is a retry", session: sess(rnd(mNonceRetry, true)), meta: cm(authflow.DeviceKey, ""), want: authflow.Fail},
		{name: "first round is a CODE round", session: sess(rnd(mEmail1, true)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "first round is a CODE round with start", session: sess(rnd(codeCh(authflow.ReasonStart, authflow.EmailOTP, 1).String(), true)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "later round claims to start", session: sess(rnd(mStart, false), rnd(mStart, true)), meta: cm(authflow.DeviceKey, ""), want: authflow.Fail},
		{name: "earlier round true, last false", session: sess(rnd(mStart, true), rnd(mEmail1, false)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "earlier round true, last true", session: sess(rnd(mStart, true), rnd(mEmail1, true)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "middle round true", session: sess(rnd(mStart, false), rnd(mEmail1, true), rnd(mEmailRetry, false)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "nil entry", session: sess(nil), meta: cm(authflow.DeviceKey, ""), want: authflow.Fail},
		{name: "nil last entry", session: sess(rnd(mStart, false), nil), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},
		{name: "nil first entry", session: sess(nil, rnd(mEmail1, true)), meta: cm(authflow.EmailOTP, ""), want: authflow.Fail},

		// A zero Config fails everything but the first round.
		{name: "zero config", session: sess(rnd(mStart, false)), meta: cm(authflow.EmailOTP, ""), cfg: &authflow.Config{}, want: authflow.Fail},
	})
}

// The zero Outcome must be Fail, so a forgotten assignment fails closed.
func TestOutcomeAndIntentNames(t *testing.T) {
	var zero authflow.Outcome
	if zero != authflow.Fail {
		t.Fatalf("zero Outcome is %v, want Fail", zero)
	}
	for o, want := range map[authflow.Outcome]string{authflow.Fail: "fail", authflow.Continue: "continue", authflow.IssueTokens: "tokens", authflow.Outcome(42): "fail"} {
		if got := o.String(); got != want {
			t.Errorf("Outcome(%d).String() = %q, want %q", int(o), got, want)
		}
	}
	var zi authflow.Intent
	if zi != authflow.Invalid {
		t.Fatalf("zero Intent is %v, want Invalid", zi)
	}
	for i, want := range map[authflow.Intent]string{authflow.Invalid: "invalid", authflow.Attempt: "attempt", authflow.Select: "select", authflow.Resend: "resend", authflow.Intent(9): "invalid"} {
		if got := i.String(); got != want {
			t.Errorf("Intent(%d).String() = %q, want %q", int(i), got, want)
		}
	}
}

func TestClassify(t *testing.T) {
	emailOnly := authflow.Config{Methods: []authflow.Method{authflow.EmailOTP}, MaxAttempts: 3}
	nonce := nonceCh(authflow.ReasonStart)
	code := codeCh(authflow.ReasonSelect, authflow.SMSOTP, 1)
	for _, tc := range []struct {
		name string
		c    authflow.Challenge
		meta map[string]string
		cfg  authflow.Config
		want authflow.Intent
	}{
		{"nonce device_key", nonce, cm(authflow.DeviceKey, ""), allCfg, authflow.Attempt},
		{"nonce passkey", nonce, cm(authflow.Passkey, ""), allCfg, authflow.Attempt},
		{"nonce email", nonce, cm(authflow.EmailOTP, ""), allCfg, authflow.Select},
		{"nonce sms", nonce, cm(authflow.SMSOTP, ""), allCfg, authflow.Select},
		{"nonce resend", nonce, cm(authflow.EmailOTP, authflow.ActionResend), allCfg, authflow.Invalid},
		{"nonce other action", nonce, cm(authflow.DeviceKey, "x"), allCfg, authflow.Invalid},
		{"nonce disabled", nonce, cm(authflow.DeviceKey, ""), emailOnly, authflow.Invalid},
		{"nonce nil metadata", nonce, nil, allCfg, authflow.Invalid},
		{"code answer", code, cm(authflow.SMSOTP, ""), allCfg, authflow.Attempt},
		{"code resend", code, cm(authflow.SMSOTP, authflow.ActionResend), allCfg, authflow.Resend},
		{"code other action", code, cm(authflow.SMSOTP, "select"), allCfg, authflow.Invalid},
		{"code method switch", code, cm(authflow.EmailOTP, ""), allCfg, authflow.Invalid},
		{"code disabled method", code, cm(authflow.SMSOTP, ""), emailOnly, authflow.Invalid},
		{"unknown kind", authflow.Challenge{Kind: "OTHER", SessionID: sid}, cm(authflow.DeviceKey, ""), allCfg, authflow.Invalid},
	} {
		if got := authflow.Classify(tc.c, tc.meta, tc.cfg); got != tc.want {
			t.Errorf("%s: Classify = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Plan must not mutate its inputs: Define and Create call it on the event they return.
func TestPlanDoesNotMutateInputs(t *testing.T) {
	s := sess(rnd(mStart, false), rnd(mEmail1, false))
	meta := cm(authflow.EmailOTP, authflow.ActionResend)
	cfg := authflow.Config{Methods: []authflow.Method{authflow.EmailOTP, authflow.DeviceKey}, MaxAttempts: 3, MaxResends: 2}
	authflow.Plan(s, meta, false, cfg)
	if s[0].ChallengeMetadata != mStart || s[1].ChallengeMetadata != mEmail1 || s[0].ChallengeResult || s[1].ChallengeResult || len(s) != 2 {
		t.Errorf("session changed: %+v %+v", *s[0], *s[1])
	}
	if len(meta) != 2 || meta[authflow.MetaAction] != authflow.ActionResend {
		t.Errorf("client metadata changed: %v", meta)
	}
	if len(cfg.Methods) != 2 || cfg.Methods[0] != authflow.EmailOTP {
		t.Errorf("config changed: %+v", cfg)
	}
}
