package authflow_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/authflow"
)

func TestParseMethod(t *testing.T) {
	for _, m := range authflow.AllMethods {
		got, err := authflow.ParseMethod(string(m))
		if err != nil || got != m {
			t.Errorf("ParseMethod(%q) = %q, %v", m, got, err)
		}
		n := 0
		for _, f := range []bool{m.IsCode(), m.IsKey(), m.IsLink()} {
			if f {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%q: IsCode %v, IsKey %v, IsLink %v: want exactly one", m, m.IsCode(), m.IsKey(), m.IsLink())
		}
		if m.Sends() != (m.RoundKind() != "") || m.Sends() == m.IsKey() {
			t.Errorf("%q: Sends %v, RoundKind %q, IsKey %v disagree", m, m.Sends(), m.RoundKind(), m.IsKey())
		}
	}
	if !authflow.EmailOTP.IsCode() || !authflow.SMSOTP.IsCode() || !authflow.DeviceKey.IsKey() || !authflow.Passkey.IsKey() || !authflow.MagicLink.IsLink() {
		t.Error("method families are wrong")
	}
	for _, s := range []string{"", "password", "EMAIL_OTP", "email_otp ", "email-otp", "sms", "device_key\x00"} {
		if got, err := authflow.ParseMethod(s); err == nil {
			t.Errorf("ParseMethod(%q) = %q, want an error", s, got)
		}
		if m := authflow.Method(s); m.IsCode() || m.IsKey() || m.IsLink() || m.Sends() || m.RoundKind() != "" {
			t.Errorf("Method(%q) claims a family", s)
		}
	}
}

func TestChallengeStringFormat(t *testing.T) {
	for _, tc := range []struct {
		c    authflow.Challenge
		want string
	}{
		{nonceCh(authflow.ReasonStart), "NONCE;sid=" + sid + ";r=start"},
		{nonceCh(authflow.ReasonRetry), "NONCE;sid=" + sid + ";r=retry"},
		{codeCh(authflow.ReasonSelect, authflow.EmailOTP, 1), "CODE;sid=" + sid + ";r=select;m=email_otp;g=1"},
		{codeCh(authflow.ReasonResend, authflow.SMSOTP, 3), "CODE;sid=" + sid + ";r=resend;m=sms_otp;g=3"},
		// A nonce round never carries method or generation, even if set by mistake.
		{authflow.Challenge{Kind: authflow.KindNonce, SessionID: sid, Reason: authflow.ReasonStart, Method: authflow.EmailOTP, Generation: 4}, "NONCE;sid=" + sid + ";r=start"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestParseChallengeRoundTrip(t *testing.T) {
	var valid []authflow.Challenge
	for _, r := range []authflow.Reason{authflow.ReasonStart, authflow.ReasonRetry, authflow.ReasonSelect, authflow.ReasonResend} {
		valid = append(valid, nonceCh(r))
		for _, m := range []authflow.Method{authflow.EmailOTP, authflow.SMSOTP} {
			for _, g := range []int{1, 2, 99, 100} {
				valid = append(valid, codeCh(r, m, g))
			}
		}
	}
	valid = append(valid, authflow.Challenge{Kind: authflow.KindNonce, SessionID: "abcdefghijklmnopqrstu_", Reason: authflow.ReasonStart})
	for _, c := range valid {
		s := c.String()
		got, err := authflow.ParseChallenge(s)
		if err != nil {
			t.Errorf("ParseChallenge(%q): %v", s, err)
			continue
		}
		if got != c {
			t.Errorf("ParseChallenge(%q) = %+v, want %+v", s, got, c)
		}
		if len(s) > 256 {
			t.Errorf("metadata %q over the 256-byte limit", s)
		}
	}
	// Field order does not matter.
	got, err := authflow.ParseChallenge("CODE;g=2;m=sms_otp;r=resend;sid=" + sid)
	if err != nil || got != codeCh(authflow.ReasonResend, authflow.SMSOTP, 2) {
		t.Errorf("reordered fields: %+v, %v", got, err)
	}
}

func TestParseChallengeRejects(t *testing.T) {
	code := func(fields string) string { return "CODE;sid=" + sid + fields }
	for _, s := range []string{
		"",
		";",
		"NONCE",
		"NONCE;",
		"NONCE;sid=" + sid,
		"NONCE;r=start",
		"NONCE;sid=" + sid + ";r=start;",
		"NONCE;sid=" + sid + ";r=start;x=1",
		"NONCE;sid=" + sid + ";r=start;m=email_otp;g=1",
		"NONCE;sid=" + sid + ";sid=" + sid,
		"NONCE;sid=" + sid + ";r=start;r=start",
		"NONCE;sid=" + sid + ";r=",
		"NONCE;sid=" + sid + ";r=START",
		"NONCE;sid=" + sid + ";r=done",
		"NONCE;sid=" + sid + "x;r=start",
		"NONCE;sid=" + sid[:21] + ";r=start",
		"NONCE;sid=" + sid[:21] + "=;r=start",
		"NONCE;sid=" + sid[:21] + "/;r=start",
		"NONCE;sid=" + sid[:21] + "é;r=start",
		"NONCE;sid=;r=start",
		"nonce;sid=" + sid + ";r=start",
		" NONCE;sid=" + sid + ";r=start",
		"PASSWORD;sid=" + sid + ";r=start",
		"NONCE;sid " + sid + ";r=start",
		code(";r=select;m=email_otp"),
		code(";r=select;g=1"),
		code(";r=select;m=email_otp;g=1;x=y"),
		code(";r=select;m=email_otp;g=0"),
		code(";r=select;m=email_otp;g=-1"),
		code(";r=select;m=email_otp;g=101"),
		code(";r=select;m=email_otp;g=1e2"),
		code(";r=select;m=email_otp;g="),
		code(";r=select;m=email_otp;g=99999999999999999999999"),
		code(";r=select;m=device_key;g=1"),
		code(";r=select;m=passkey;g=1"),
		code(";r=select;m=;g=1"),
		code(";r=select;m=EMAIL_OTP;g=1"),
		code(";r=nope;m=email_otp;g=1"),
		code(";m=email_otp;g=1;x=select"),
		"NONCE;sid=" + sid + ";r=start" + strings.Repeat(";", 250),
		"CODE;sid=" + sid + ";r=select;m=email_otp;g=" + strings.Repeat("0", 250) + "1",
	} {
		if c, err := authflow.ParseChallenge(s); err == nil {
			t.Errorf("ParseChallenge(%q) = %+v, want an error", s, c)
		}
	}
}

func TestPrivateRoundTrip(t *testing.T) {
	n := nonceCh(authflow.ReasonRetry)
	p := n.Private()
	if want := map[string]string{authflow.PrivKind: "NONCE", authflow.PrivSessionID: sid}; !maps.Equal(p, want) {
		t.Errorf("nonce Private() = %v, want %v", p, want)
	}
	got, err := authflow.ChallengeFromPrivate(p)
	if err != nil || got != (authflow.Challenge{Kind: authflow.KindNonce, SessionID: sid}) {
		t.Errorf("ChallengeFromPrivate(nonce) = %+v, %v (the reason is not carried)", got, err)
	}
	// Create adds the nonce to the nonce round's private parameters; that is still readable.
	p[authflow.PrivNonce] = "n"
	if _, err := authflow.ChallengeFromPrivate(p); err != nil {
		t.Errorf("nonce round with nonce: %v", err)
	}

	c := codeCh(authflow.ReasonResend, authflow.SMSOTP, 3)
	p = c.Private()
	if want := map[string]string{authflow.PrivKind: "CODE", authflow.PrivSessionID: sid, authflow.PrivMethod: "sms_otp", authflow.PrivGeneration: "3"}; !maps.Equal(p, want) {
		t.Errorf("code Private() = %v, want %v", p, want)
	}
	got, err = authflow.ChallengeFromPrivate(p)
	c.Reason = ""
	if err != nil || got != c {
		t.Errorf("ChallengeFromPrivate(code) = %+v, %v, want %+v", got, err, c)
	}
}

func TestChallengeFromPrivateRejects(t *testing.T) {
	ok := map[string]string{"kind": "CODE", "sid": sid, "method": "email_otp", "gen": "1"}
	with := func(k, v string) map[string]string {
		m := maps.Clone(ok)
		if v == "\x00delete" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	if _, err := authflow.ChallengeFromPrivate(ok); err != nil {
		t.Fatalf("baseline rejected: %v", err)
	}
	for name, p := range map[string]map[string]string{
		"nil":               nil,
		"empty":             {},
		"no kind":           with("kind", "\x00delete"),
		"lower-case kind":   with("kind", "code"),
		"unknown kind":      with("kind", "PASSWORD"),
		"no sid":            with("sid", "\x00delete"),
		"short sid":         with("sid", sid[:21]),
		"long sid":          with("sid", sid+"A"),
		"sid bad char":      with("sid", sid[:21]+"."),
		"no method":         with("method", "\x00delete"),
		"key method":        with("method", "device_key"),
		"passkey method":    with("method", "passkey"),
		"unknown method":    with("method", "otp"),
		"no gen":            with("gen", "\x00delete"),
		"gen 0":             with("gen", "0"),
		"gen 101":           with("gen", "101"),
		"gen not a number":  with("gen", "one"),
		"gen negative":      with("gen", "-2"),
		"gen huge":          with("gen", "18446744073709551617"),
		"nonce without sid": {"kind": "NONCE", "nonce": "abc"},
		"nonce bad sid":     {"kind": "NONCE", "sid": "x"},
	} {
		if c, err := authflow.ChallengeFromPrivate(p); err == nil {
			t.Errorf("%s: ChallengeFromPrivate(%v) = %+v, want an error", name, p, c)
		}
	}
}

func TestGenerationMustBeCanonical(t *testing.T) {
	sid := "AAAAAAAAAAAAAAAAAAAAAA"
	for _, g := range []string{"01", "+1", " 1"} {
		if _, err := authflow.ParseChallenge("CODE;sid=" + sid + ";r=select;m=email_otp;g=" + g); err == nil {
			t.Errorf("metadata generation %q accepted", g)
		}
		p := map[string]string{authflow.PrivKind: "CODE", authflow.PrivSessionID: sid, authflow.PrivMethod: "email_otp", authflow.PrivGeneration: g}
		if _, err := authflow.ChallengeFromPrivate(p); err == nil {
			t.Errorf("private generation %q accepted", g)
		}
	}
}

// TestGuessable: only code and link methods are gated by and counted toward the account lock
// (attack 10: garbage key proofs must not lock anyone out of key sign-in).
func TestGuessable(t *testing.T) {
	want := map[authflow.Method]bool{authflow.EmailOTP: true, authflow.SMSOTP: true, authflow.MagicLink: true, authflow.DeviceKey: false, authflow.Passkey: false}
	for _, m := range authflow.AllMethods {
		if m.Guessable() != want[m] {
			t.Errorf("%q.Guessable() = %v, want %v", m, m.Guessable(), want[m])
		}
	}
	for _, s := range []string{"", "password", "EMAIL_OTP", "magic", "MAGIC_LINK"} {
		if authflow.Method(s).Guessable() {
			t.Errorf("Method(%q) is guessable", s)
		}
	}
}

func TestRound(t *testing.T) {
	for _, s := range []string{"1", "2", "17", "100"} {
		if n, err := authflow.Round(map[string]string{authflow.PrivRound: s}); err != nil || s != strings.TrimSpace(s) || n < 1 {
			t.Errorf("Round(%q) = %d, %v", s, n, err)
		}
	}
	for _, s := range []string{"", "0", "-1", "101", "01", "+2", "2 ", "1e1", "two", "99999999999999999999999"} {
		if n, err := authflow.Round(map[string]string{authflow.PrivRound: s}); err == nil {
			t.Errorf("Round(%q) = %d, want an error", s, n)
		}
	}
	if _, err := authflow.Round(nil); err == nil {
		t.Error("Round(nil) succeeded")
	}
}
