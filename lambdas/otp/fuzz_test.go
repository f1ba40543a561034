package otp_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/otp"
)

// FuzzCheckAnswer: no answer panics the Checker or errors, and only the code itself (with
// surrounding spaces) is accepted.
func FuzzCheckAnswer(f *testing.F) {
	e := newEnv(f, otp.Config{})
	req := issueReq(authflow.EmailOTP, 1, emailAttrs(true))
	out, err := e.iss.Issue(context.Background(), req)
	if err != nil {
		f.Fatal(err)
	}
	code := e.lastEmailCode(f)
	for _, s := range []string{
		code, " " + code + "\t", otherCode(code), code[:5], code + "0", "", " ", "000000", "999999",
		"１２３４５６", "12345\u0660", "\x00\x00\x00\x00\x00\x00", "12345678901234567890", "-12345", "1e5",
		"\u00a0" + code + "\u2003", strings.Repeat(code, 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, answer string) {
		ok, err := e.chk.Check(context.Background(), checkReq(req, out, answer))
		if err != nil {
			t.Fatalf("Check(%q) error: %v", answer, err)
		}
		if want := strings.TrimSpace(answer) == code; ok != want {
			t.Fatalf("Check(%q) = %v, want %v (code %s)", answer, ok, want, code)
		}
	})
}

// FuzzCheckPrivate: malformed private parameters never panic and never accept.
func FuzzCheckPrivate(f *testing.F) {
	e := newEnv(f, otp.Config{})
	req := issueReq(authflow.SMSOTP, 1, phoneAttrs(phone, true, true))
	out, err := e.iss.Issue(context.Background(), req)
	if err != nil {
		f.Fatal(err)
	}
	code := e.lastSMSCode(f)
	p := out.Private
	f.Add(p[otp.PrivSalt], p[otp.PrivDigest], p[otp.PrivExpires], p[otp.PrivAddress], "2")
	f.Add("", "", "", "", "")
	f.Add("AAAA", p[otp.PrivDigest], "-1", p[otp.PrivAddress], "1")
	f.Fuzz(func(t *testing.T, salt, digest, expires, recipient, gen string) {
		r := checkReq(req, out, code)
		r.Private[otp.PrivSalt], r.Private[otp.PrivDigest], r.Private[otp.PrivExpires], r.Private[otp.PrivAddress] = salt, digest, expires, recipient
		r.Private[authflow.PrivGeneration] = gen
		ok, err := e.chk.Check(context.Background(), r)
		if err != nil {
			t.Fatalf("error: %v", err)
		}
		// The address may be written differently (a trunk 0, spaces): the same number.
		original := salt == p[otp.PrivSalt] && digest == p[otp.PrivDigest] && otp.LimitForm(authflow.SMSOTP, recipient) == phone
		if ok && !original {
			t.Fatalf("accepted forged parameters %q %q %q %q", salt, digest, expires, recipient)
		}
	})
}

// FuzzIssue: any user name and attribute values give a round of the usual shape, never a panic
// or an error, and a code only to an address that passes the checks.
func FuzzIssue(f *testing.F) {
	f.Add("alice", "Alice@Example.com", "+447400123456", true, false, false)
	f.Add("+4407400123456", "", "+4407400123456", false, true, true)
	f.Add("x@gmail.com", "v.i+x@googlemail.com", "+18765550123", true, true, false)
	f.Add("\x00", "@", "+", false, false, true)
	f.Fuzz(func(t *testing.T, name, mail, number string, emailVerified, phoneVerified, unknown bool) {
		e := newEnv(t, otp.Config{})
		for i, m := range []authflow.Method{authflow.EmailOTP, authflow.SMSOTP} {
			req := issueReq(m, 1, map[string]string{"sub": "s", "email": mail, "phone_number": number,
				"email_verified": strconv.FormatBool(emailVerified), "phone_number_verified": strconv.FormatBool(phoneVerified)})
			req.UserName, req.UserNotFound, req.Challenge.SessionID = name, unknown, session(i)
			out := e.issueQuick(t, req)
			if len(out.Public) != 4 || out.Public[otp.PubCodeStatus] == "" || out.Public[otp.PubResendAfter] == "" {
				t.Fatalf("public %v", out.Public)
			}
		}
		if unknown && e.ses.count()+e.sns.count() > 0 {
			t.Fatal("sent for an unknown user")
		}
		for _, in := range e.sns.sent {
			if in.PhoneNumber != otp.LimitForm(authflow.SMSOTP, number) || !strings.HasPrefix(in.PhoneNumber, "+") {
				t.Fatalf("SMS to %q for %q", in.PhoneNumber, number)
			}
		}
	})
}
