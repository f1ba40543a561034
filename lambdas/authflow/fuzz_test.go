package authflow_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
)

// fuzzSession builds a session from newline-separated metadata strings. Bit i of results is round
// i's result; bit i of foreign replaces round i's challenge name by a non-custom one; the metadata
// "<nil>" stands for a nil entry.
func fuzzSession(metas string, results, foreign uint16) []*events.CognitoEventUserPoolsChallengeResult {
	if metas == "" {
		return nil
	}
	parts := strings.Split(metas, "\n")
	if len(parts) > 12 {
		parts = parts[:12]
	}
	s := make([]*events.CognitoEventUserPoolsChallengeResult, len(parts))
	for i, m := range parts {
		if m == "<nil>" {
			continue
		}
		name := authflow.ChallengeName
		if foreign&(1<<i) != 0 {
			name = []string{"SRP_A", "PASSWORD_VERIFIER", "DEVICE_SRP_AUTH", ""}[i%4]
		}
		s[i] = &events.CognitoEventUserPoolsChallengeResult{ChallengeName: name, ChallengeResult: results&(1<<i) != 0, ChallengeMetadata: m}
	}
	return s
}

// fuzzConfig derives a valid Config from sel: attempts 1-4, resends 0-2, a subset of methods
// (bit 4+i enables AllMethods[i]).
func fuzzConfig(sel uint16) authflow.Config {
	c := authflow.Config{MaxAttempts: 1 + int(sel%4), MaxResends: int(sel/4) % 3}
	for i, m := range authflow.AllMethods {
		if sel&(0x10<<i) != 0 {
			c.Methods = append(c.Methods, m)
		}
	}
	return c
}

func FuzzPlan(f *testing.F) {
	j := func(ms ...string) string { return strings.Join(ms, "\n") }
	all := uint16(0x1F0 | 2 | 2*4) // every method, 3 attempts, 2 resends
	f.Add("", uint16(0), uint16(0), "", "", false, all)
	f.Add(j(mStart), uint16(1), uint16(0), "device_key", "", false, all)
	f.Add(j(mStart), uint16(1), uint16(0), "device_key", "", true, all)
	f.Add(j(mStart), uint16(0), uint16(0), "passkey", "", false, all)
	f.Add(j(mStart), uint16(1), uint16(0), "email_otp", "", false, all)
	f.Add(j(mStart), uint16(0), uint16(0), "email_otp", "", false, all)
	f.Add(j(mStart, mEmail1), uint16(2), uint16(0), "email_otp", "", false, all)
	f.Add(j(mStart, mEmail1), uint16(0), uint16(0), "email_otp", "resend", false, all)
	f.Add(j(mStart, mEmail1, mEmail2, mEmail3), uint16(0), uint16(0), "email_otp", "resend", false, all)
	f.Add(j(mStart, mEmail1, mEmailRetry, mEmailRetry), uint16(0), uint16(0), "email_otp", "", false, all)
	f.Add(j(mStart, mNonceRetry, mNonceRetry), uint16(4), uint16(0), "device_key", "", false, all)
	f.Add(j(mStart, mSMS1), uint16(2), uint16(1), "sms_otp", "", false, all)
	f.Add(j(mStart, "<nil>"), uint16(2), uint16(0), "sms_otp", "", false, all)
	f.Add(j(mStart, mEmail1, mEmail1, mEmail1, mEmail1, mEmail1, mEmail1), uint16(0), uint16(0), "email_otp", "", false, all)
	f.Add(j("NONCE;sid=x;r=start"), uint16(1), uint16(0), "device_key", "", false, uint16(0x11))
	f.Add(j(mStart), uint16(0), uint16(0), "magic_link", "", false, all)
	f.Add(j(mStart), uint16(1), uint16(0), "magic_link", "complete", false, all)
	f.Add(j(mStart), uint16(1), uint16(0), "email_otp", "complete", false, all)
	f.Add(j(mStart, mLink1), uint16(2), uint16(0), "magic_link", "", false, all)
	f.Add(j(mStart, mLink1), uint16(0), uint16(0), "magic_link", "resend", false, all)
	f.Add(j(mStart, mLink1, mLink2), uint16(4), uint16(0), "magic_link", "complete", false, all)
	f.Add(j(mStart, mLink1, mLinkRetry), uint16(4), uint16(0), "email_otp", "", false, all)
	f.Fuzz(func(t *testing.T, metas string, results, foreign uint16, method, action string, userNotFound bool, cfgSel uint16) {
		session := fuzzSession(metas, results, foreign)
		meta := map[string]string{authflow.MetaSignInMethod: method}
		if action != "" {
			meta[authflow.MetaAction] = action
		}
		cfg := fuzzConfig(cfgSel)
		out, next, reason := authflow.Plan(session, meta, userNotFound, cfg)
		out2, next2, reason2 := authflow.Plan(session, meta, userNotFound, cfg)
		if out != out2 || next != next2 || reason != reason2 {
			t.Fatalf("Plan is not deterministic: %v %+v %q / %v %+v %q", out, next, reason, out2, next2, reason2)
		}
		var last *events.CognitoEventUserPoolsChallengeResult
		if len(session) > 0 {
			last = session[len(session)-1]
		}
		switch out {
		case authflow.IssueTokens:
			if last == nil || !last.ChallengeResult {
				t.Fatalf("tokens without a true last result: %q results=%b", metas, results)
			}
			if userNotFound {
				t.Fatalf("tokens for an unknown user: %q", metas)
			}
			for i, r := range session {
				if r == nil || r.ChallengeName != authflow.ChallengeName {
					t.Fatalf("tokens with a foreign or nil round %d: %q", i, metas)
				}
				if i < len(session)-1 && r.ChallengeResult {
					t.Fatalf("tokens although round %d already succeeded", i)
				}
			}
			lc, err := authflow.ParseChallenge(last.ChallengeMetadata)
			if err != nil {
				t.Fatalf("tokens for unreadable metadata %q", last.ChallengeMetadata)
			}
			if authflow.Classify(lc, meta, cfg) != authflow.Attempt {
				t.Fatalf("tokens for a round not answered with an attempt of an enabled method: %+v %v", lc, meta)
			}
			switch lc.Kind {
			case authflow.KindNonce:
				m := authflow.Method(meta[authflow.MetaSignInMethod])
				if !m.IsKey() && !(m.IsLink() && meta[authflow.MetaAction] == authflow.ActionComplete) {
					t.Fatalf("tokens for a nonce round answered by %v", meta)
				}
			case authflow.KindCode, authflow.KindLink:
				if !cfg.Enabled(lc.Method) || string(lc.Method) != meta[authflow.MetaSignInMethod] {
					t.Fatalf("tokens for a disabled or switched method %q (%v)", lc.Method, meta)
				}
			default:
				t.Fatalf("tokens for a round of kind %q", lc.Kind)
			}
			if next != (authflow.Challenge{}) {
				t.Fatalf("tokens with a next round %+v", next)
			}
		case authflow.Continue:
			if reason != "" {
				t.Fatalf("Continue with reason %q", reason)
			}
			if len(session) == 0 {
				if next != (authflow.Challenge{Kind: authflow.KindNonce, Reason: authflow.ReasonStart}) {
					t.Fatalf("first round %+v", next)
				}
				return
			}
			if last.ChallengeResult {
				t.Fatalf("Continue after a true result: %q", metas)
			}
			first, err := authflow.ParseChallenge(session[0].ChallengeMetadata)
			if err != nil || next.SessionID != first.SessionID {
				t.Fatalf("next session ID %q, first round %+v (%v)", next.SessionID, first, err)
			}
			if len(session) >= cfg.MaxRounds() {
				t.Fatalf("round %d beyond MaxRounds %d", len(session)+1, cfg.MaxRounds())
			}
			switch next.Kind {
			case authflow.KindNonce:
				if next.Reason != authflow.ReasonRetry {
					t.Fatalf("nonce round for reason %q", next.Reason)
				}
			case authflow.KindCode, authflow.KindLink:
				if next.Method.RoundKind() != next.Kind || !cfg.Enabled(next.Method) || next.Generation < 1 {
					t.Fatalf("bad %s round %+v for %+v", next.Kind, next, cfg)
				}
				if next.Reason != authflow.ReasonRetry && next.Reason != authflow.ReasonSelect && next.Reason != authflow.ReasonResend {
					t.Fatalf("code round for reason %q", next.Reason)
				}
			default:
				t.Fatalf("next round of kind %q", next.Kind)
			}
		case authflow.Fail:
			if reason == "" || next != (authflow.Challenge{}) {
				t.Fatalf("Fail with reason %q, next %+v", reason, next)
			}
		default:
			t.Fatalf("unknown outcome %d", out)
		}
	})
}

func FuzzParseChallenge(f *testing.F) {
	for _, s := range []string{
		mStart, mNonceRetry, mEmail1, mEmail2, mSMS1, mLink1, mLink2, mLinkRetry,
		"LINK;sid=" + sid + ";r=select;m=email_otp;g=1", "CODE;sid=" + sid + ";r=select;m=magic_link;g=1",
		"", ";", "NONCE", "CODE;sid=" + sid + ";r=select;m=email_otp;g=+1",
		"CODE;sid=" + sid + ";r=select;m=email_otp;g=007",
		"CODE;g=2;m=sms_otp;r=resend;sid=" + sid,
		"NONCE;sid=" + sid + ";r=start;x=1",
		"NONCE;sid=" + sid + ";r=start=start",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := authflow.ParseChallenge(s)
		if err != nil {
			if c != (authflow.Challenge{}) {
				t.Fatalf("error %v with a non-zero challenge %+v", err, c)
			}
			return
		}
		enc := c.String()
		c2, err := authflow.ParseChallenge(enc)
		if err != nil {
			t.Fatalf("ParseChallenge(%q) accepted as %+v, but its String %q is rejected: %v", s, c, enc, err)
		}
		if c2 != c {
			t.Fatalf("round trip changed the value: %+v -> %q -> %+v", c, enc, c2)
		}
		if c2.String() != enc {
			t.Fatalf("String is not canonical: %q then %q", enc, c2.String())
		}
		if len(enc) > 256 {
			t.Fatalf("accepted challenge encodes to %d bytes", len(enc))
		}
		// What Create hands to Verify describes the same round.
		p, err := authflow.ChallengeFromPrivate(c.Private())
		want := c
		want.Reason = ""
		if err != nil || p != want {
			t.Fatalf("Private round trip: %+v, %v; want %+v", p, err, want)
		}
	})
}
