package otp_test

import (
	"context"
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
	f.Add(p[otp.PrivSalt], p[otp.PrivDigest], p[otp.PrivExpires], p[otp.PrivRecipient], "2")
	f.Add("", "", "", "", "")
	f.Add("AAAA", p[otp.PrivDigest], "-1", p[otp.PrivRecipient], "1")
	f.Fuzz(func(t *testing.T, salt, digest, expires, recipient, gen string) {
		r := checkReq(req, out, code)
		r.Private[otp.PrivSalt], r.Private[otp.PrivDigest], r.Private[otp.PrivExpires], r.Private[otp.PrivRecipient] = salt, digest, expires, recipient
		r.Private[authflow.PrivGeneration] = gen
		ok, err := e.chk.Check(context.Background(), r)
		if err != nil {
			t.Fatalf("error: %v", err)
		}
		original := salt == p[otp.PrivSalt] && digest == p[otp.PrivDigest] && recipient == p[otp.PrivRecipient]
		if ok && !original {
			t.Fatalf("accepted forged parameters %q %q %q %q", salt, digest, expires, recipient)
		}
	})
}
