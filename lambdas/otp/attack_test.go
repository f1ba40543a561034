package otp_test

// Attacks of issue 10 against the Issuer and the Checker, each written to fail on the code
// before the fix.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

const (
	pubResendAfter = "resendAfter"
	pubCodeStatus  = "codeStatus"
)

// resendAfter returns the round's resendAfter parameter, failing when it is missing.
func resendAfter(tb testing.TB, out triggers.Issued) time.Duration {
	tb.Helper()
	s, ok := out.Public[pubResendAfter]
	n, err := strconv.Atoi(s)
	if !ok || err != nil || n < 0 || strconv.Itoa(n) != s {
		tb.Fatalf("resendAfter = %q (present %v) in %v", s, ok, out.Public)
	}
	return time.Duration(n) * time.Second
}

func codeStatus(tb testing.TB, out triggers.Issued) string {
	tb.Helper()
	s := out.Public[pubCodeStatus]
	if s != "sent" && s != "kept" && s != "wait" {
		tb.Fatalf("codeStatus = %q in %v", s, out.Public)
	}
	return s
}

// session returns a fresh session ID for sign-in i.
func session(i int) string { return fmt.Sprintf("S%021d", i) }

func unknownReq(m authflow.Method, typed string, key *keyed.Key) triggers.IssueRequest {
	return triggers.IssueRequest{
		Challenge: challenge(sid, m, 1, authflow.ReasonSelect),
		Caller: triggers.Caller{
			UserPoolID:   poolID,
			ClientID:     clientID,
			UserName:     typed,
			UserNotFound: true,
			Key:          key,
		},
	}
}

// oldPlaceholder is the unkeyed placeholder of the code before the fix: anyone who knows the
// pool ID could compute it.
func oldPlaceholder(m authflow.Method, userPoolID, userName string) string {
	h := sha256.Sum256([]byte("otp-placeholder|" + string(m) + "|" + userPoolID + "|" + userName))
	if m != authflow.SMSOTP {
		return string(rune('a'+h[0]%26)) + "***@" + string(rune('a'+h[1]%26)) + "***.com"
	}
	countries := []string{"+1", "+44", "+49", "+33", "+61", "+353"}
	prefix := countries[int(h[0])%len(countries)]
	total := 12
	if strings.HasPrefix(prefix, "+1") {
		total = 11
	}
	digits := []byte(prefix[1:])
	for i := 2; len(digits) < total; i++ {
		digits = append(digits, '0'+h[i%len(h)]%10)
	}
	return otp.Mask(authflow.SMSOTP, string(digits))
}

// TestAttack3PlaceholderIsKeyed: the masked destination of an unknown user depends on the
// deployment secret, so nobody can compute it from the pool ID and the typed name.
func TestAttack3PlaceholderIsKeyed(t *testing.T) {
	for _, tc := range []struct {
		m     authflow.Method
		typed string
	}{{authflow.EmailOTP, "jdoe"}, {authflow.SMSOTP, "alice@example.com"}, {authflow.SMSOTP, "bob"}} {
		a := newEnv(t, otp.Config{}).issue(t, unknownReq(tc.m, tc.typed, testKey))
		b := newEnv(t, otp.Config{}).issue(t, unknownReq(tc.m, tc.typed, otherKey))
		da, db := a.Public["destination"], b.Public["destination"]
		if da == db {
			t.Errorf("%s %q: the placeholder %q is the same under two deployment secrets", tc.m, tc.typed, da)
		}
		if old := oldPlaceholder(tc.m, poolID, tc.typed); da == old || db == old {
			t.Errorf("%s %q: the placeholder %q is the public, unkeyed one", tc.m, tc.typed, old)
		}
		again := newEnv(t, otp.Config{}).issue(t, unknownReq(tc.m, tc.typed, testKey))
		if again.Public["destination"] != da {
			t.Errorf("%s %q: the placeholder changes between requests", tc.m, tc.typed)
		}
	}
}

// TestAttack3NoPhoneLooksLikeUnknown: a real user without a phone number asked for an SMS code
// and an unknown user get the same public parameters, round after round, and cause the same
// store calls.
func TestAttack3NoPhoneLooksLikeUnknown(t *testing.T) {
	real, unknown := newEnv(t, otp.Config{}), newEnv(t, otp.Config{})
	for i, wait := range []time.Duration{0, 10 * time.Second, 50 * time.Second, 200 * time.Second} {
		real.clock.Add(wait)
		unknown.clock.Add(wait)
		rr := issueReq(authflow.SMSOTP, 1, emailAttrs(true))
		rr.Challenge.SessionID = session(i)
		ur := unknownReq(authflow.SMSOTP, userName, testKey)
		ur.Challenge.SessionID = session(i)
		r, u := real.issue(t, rr), unknown.issue(t, ur)
		if !maps.Equal(r.Public, u.Public) {
			t.Fatalf("round %d: a real user without a phone sees %v, an unknown user %v", i, r.Public, u.Public)
		}
		resendAfter(t, r)
		codeStatus(t, r)
	}
	if real.sns.count()+unknown.sns.count() != 0 {
		t.Fatal("an SMS was sent")
	}
	if !slices.Equal(real.store.sendKeys, unknown.store.sendKeys) || len(real.store.sendKeys) != 4 ||
		real.store.creates != unknown.store.creates || len(real.store.credReads) != len(unknown.store.credReads) {
		t.Fatalf("store calls differ: real %v %d %v, unknown %v %d %v", real.store.sendKeys, real.store.creates, real.store.credReads,
			unknown.store.sendKeys, unknown.store.creates, unknown.store.credReads)
	}
}

// TestAttack5StrangerCannotStopCodes: the attack of the issue, ten anonymous sign-ins spread
// over about ten minutes, used to stop the user's codes for the rest of the day. Now every
// round tells how long until the next code, never more than 15 minutes, and the user's own
// sign-in resets the delays.
func TestAttack5StrangerCannotStopCodes(t *testing.T) {
	e := newEnv(t, otp.Config{})
	for i := range 10 {
		req := issueReq(authflow.EmailOTP, 1, emailAttrs(true))
		req.Challenge.SessionID = session(i)
		out := e.issue(t, req)
		if w := resendAfter(t, out); w > 15*time.Minute {
			t.Fatalf("stranger's sign-in %d: the next code is %s away", i, w)
		}
		e.clock.Add(61 * time.Second)
	}
	stranger := e.ses.count()
	// The user asks for a code: at most 15 minutes later one is sent.
	req := issueReq(authflow.EmailOTP, 1, emailAttrs(true))
	req.Challenge.SessionID = session(100)
	out := e.issue(t, req)
	if e.ses.count() == stranger {
		w := resendAfter(t, out)
		if w > 15*time.Minute || codeStatus(t, out) != "wait" {
			t.Fatalf("user waits %s, status %s", w, codeStatus(t, out))
		}
		e.clock.Add(w)
		req.Challenge = challenge(session(100), authflow.EmailOTP, 2, authflow.ReasonResend)
		out = e.issue(t, req)
		if e.ses.count() != stranger+1 || codeStatus(t, out) != "sent" {
			t.Fatalf("no code for the user after the wait (%d emails, status %s)", e.ses.count(), codeStatus(t, out))
		}
	}
	code := e.lastEmailCode(t)
	cr := checkReq(req, out, code)
	if !e.check(t, cr) {
		t.Fatal("the user's code was refused")
	}
	// Signing in resets the delays: the next code goes at once.
	if err := otp.NewSendReset(e.store, nil).Succeeded(context.Background(), cr); err != nil {
		t.Fatal(err)
	}
	req.Challenge = challenge(session(101), authflow.EmailOTP, 1, authflow.ReasonSelect)
	sent := e.ses.count()
	if out := e.issue(t, req); e.ses.count() != sent+1 || resendAfter(t, out) != time.Minute {
		t.Fatalf("after signing in: %d emails, %v", e.ses.count()-sent, out.Public)
	}
}

// TestAttack5DayNeverCloses: a stranger who asks whenever allowed, for a whole day, never
// makes the user wait more than 15 minutes, and gets at most 99 codes sent.
func TestAttack5DayNeverCloses(t *testing.T) {
	e := newEnv(t, otp.Config{})
	start := e.clock.Now()
	for i := 0; e.clock.Now().Sub(start) < 24*time.Hour; i++ {
		req := issueReq(authflow.EmailOTP, 1, emailAttrs(true))
		req.Challenge.SessionID = session(i)
		w := resendAfter(t, e.issueQuick(t, req))
		if w > 15*time.Minute {
			t.Fatalf("after %d emails the wait is %s", e.ses.count(), w)
		}
		e.clock.Add(max(w, time.Second))
	}
	if n := e.ses.count(); n != 99 {
		t.Fatalf("%d emails in 24 h, want 99", n)
	}
}

// TestAttack6ResendIsHonest: a resend within the wait keeps the code (codeStatus=kept, with
// the seconds left), a resend after it replaces the code (codeStatus=sent).
func TestAttack6ResendIsHonest(t *testing.T) {
	e := newEnv(t, otp.Config{})
	req1 := issueReq(authflow.EmailOTP, 1, emailAttrs(true))
	out1 := e.issue(t, req1)
	if codeStatus(t, out1) != "sent" || resendAfter(t, out1) != time.Minute {
		t.Fatalf("first round %v", out1.Public)
	}
	code1 := e.lastEmailCode(t)
	e.clock.Add(10 * time.Second)
	req2 := req1
	req2.Challenge = challenge(sid, authflow.EmailOTP, 2, authflow.ReasonResend)
	out2 := e.issue(t, req2)
	if e.ses.count() != 1 || codeStatus(t, out2) != "kept" || resendAfter(t, out2) != 50*time.Second {
		t.Fatalf("resend within the wait: %d emails, %v", e.ses.count(), out2.Public)
	}
	if !e.check(t, checkReq(req2, out2, code1)) {
		t.Fatal("codeStatus=kept, but the kept code does not work")
	}
	e.clock.Add(50 * time.Second)
	req3 := req1
	req3.Challenge = challenge(sid, authflow.EmailOTP, 3, authflow.ReasonResend)
	out3 := e.issue(t, req3)
	code3 := e.lastEmailCode(t)
	if e.ses.count() != 2 || codeStatus(t, out3) != "sent" || resendAfter(t, out3) != 2*time.Minute {
		t.Fatalf("resend after the wait: %d emails, %v", e.ses.count(), out3.Public)
	}
	if code3 != code1 && e.check(t, checkReq(req3, out3, code1)) {
		t.Fatal("codeStatus=sent, but the old code still works")
	}
	if !e.check(t, checkReq(req3, out3, code3)) {
		t.Fatal("the new code was refused")
	}

	// A new sign-in within the wait: nothing was sent in it, so nothing is "kept" either.
	e.clock.Add(10 * time.Second)
	other := issueReq(authflow.EmailOTP, 1, emailAttrs(true))
	other.Challenge = challenge("another-session-id", authflow.EmailOTP, 1, authflow.ReasonSelect)
	out4 := e.issue(t, other)
	if e.ses.count() != 2 || codeStatus(t, out4) != "wait" || resendAfter(t, out4) != 110*time.Second {
		t.Fatalf("first round within the wait: %d emails, %v, want codeStatus=wait", e.ses.count(), out4.Public)
	}
}

// TestAttack8FreshInstancePads: on an instance that has never sent, an unknown user's answer
// still waits about as long as a send (a prior of typical SES and SNS latencies).
func TestAttack8FreshInstancePads(t *testing.T) {
	for m, least := range map[authflow.Method]time.Duration{authflow.EmailOTP: 90 * time.Millisecond, authflow.SMSOTP: 110 * time.Millisecond} {
		e := newEnv(t, otp.Config{}) // a fresh Issuer
		typed := "bob@example.com"
		if m == authflow.SMSOTP {
			typed = "+447400123456"
		}
		start := time.Now()
		e.issue(t, unknownReq(m, typed, testKey))
		if took := time.Since(start); took < least {
			t.Errorf("%s: a fresh instance answered an unknown user in %s, before a send could have finished", m, took)
		}
	}
}

// gbMobile returns the i-th of a series of valid GB mobile numbers.
func gbMobile(i int) string { return fmt.Sprintf("+4474001234%02d", i) }

// TestAttack11SMSBudget: eight attacker numbers on fresh sign-ups, asking for codes as often as
// each number's schedule allows for an hour, get no more than the deployment's hourly budget
// for unverified numbers (20); verified numbers keep getting codes.
func TestAttack11SMSBudget(t *testing.T) {
	e := newEnv(t, otp.Config{})
	for i := 0; i < 3600; i += 30 {
		for n := range 8 {
			req := issueReq(authflow.SMSOTP, 1, phoneAttrs(gbMobile(n), false, false))
			req.UserAttributes["sub"] = fmt.Sprintf("attacker-%d-%d", n, i)
			req.Challenge.SessionID = session(i*10 + n)
			e.issueQuick(t, req)
		}
		e.clock.Add(30 * time.Second)
	}
	if n := e.sns.count(); n != 20 {
		t.Fatalf("%d SMS to unverified numbers in an hour, want the budget of 20", n)
	}
	req := issueReq(authflow.SMSOTP, 1, phoneAttrs(gbMobile(50), true, true))
	req.Challenge.SessionID = session(99999)
	e.issue(t, req)
	if n := e.sns.count(); n != 21 {
		t.Fatal("a verified number got no code once the budget was spent")
	}
}

// TestAttack11NumberNormalisation: "+4407400123456" and "+447400123456" are one recipient with
// one schedule, and the SMS goes to the E.164 form.
func TestAttack11NumberNormalisation(t *testing.T) {
	e := newEnv(t, otp.Config{})
	a := issueReq(authflow.SMSOTP, 1, phoneAttrs("+4407400123456", true, true))
	e.issue(t, a)
	if e.sns.count() != 1 || e.sns.sent[0].PhoneNumber != "+447400123456" {
		t.Fatalf("first SMS: %d, to %v", e.sns.count(), e.sns.sent)
	}
	e.clock.Add(10 * time.Second)
	b := issueReq(authflow.SMSOTP, 1, phoneAttrs("+447400123456", true, true))
	b.Challenge.SessionID = sid2
	out := e.issue(t, b)
	if e.sns.count() != 1 {
		t.Fatal("the same number written with its trunk 0 got a second code within the wait")
	}
	if codeStatus(t, out) != "wait" {
		t.Fatalf("status %v", out.Public)
	}
}

// TestAttack11RiskyNumbersRefused: premium-rate and other non-mobile numbers, and numbers under
// +1 (Caribbean, and US and Canada, which need a registered origination number), get no SMS with
// the default countries.
func TestAttack11RiskyNumbersRefused(t *testing.T) {
	for number, send := range map[string]bool{
		"+449098790000":  false, // GB premium rate (09)
		"+448712345678":  false, // GB shared cost
		"+445612345678":  false, // GB VoIP
		"+448001234567":  false, // GB toll free
		"+18765550123":   false, // Jamaica, under +1
		"+12684641234":   false, // Antigua and Barbuda
		"+19005551234":   false, // US premium (900)
		"+447700900123":  false, // reserved for drama: not a valid number
		"+79161234567":   false, // Russia: not an allowed country
		"+447400123456":  true,  // GB mobile
		"+12015550123":   false, // US: not a default country
		"+14165550123":   false, // Canada: not a default country
		"+4915123456789": true,  // DE mobile
		"+33612345678":   true,  // FR mobile
		"+61412345678":   true,  // AU mobile
		"+353851234567":  true,  // IE mobile
	} {
		e := newEnv(t, otp.Config{})
		out := e.issueQuick(t, issueReq(authflow.SMSOTP, 1, phoneAttrs(number, true, true)))
		if sent := e.sns.count() == 1; sent != send {
			t.Errorf("%s: sent %v, want %v", number, sent, send)
		}
		if out.Public[pubCodeStatus] != "sent" {
			t.Errorf("%s: %v", number, out.Public)
		}
	}
}

// TestAttack12EmailSubaddresses: subaddresses, case and Gmail dots do not give an inbox a
// fresh schedule; the code still goes to the address as stored.
func TestAttack12EmailSubaddresses(t *testing.T) {
	e := newEnv(t, otp.Config{})
	first := issueReq(authflow.EmailOTP, 1, map[string]string{"sub": userName, "email": "Victim@gmail.com", "email_verified": "true"})
	e.issue(t, first)
	if e.ses.count() != 1 || e.ses.sent[0].To[0] != "Victim@gmail.com" {
		t.Fatalf("first email: %v", e.ses.sent)
	}
	for i, alias := range []string{"victim+1@gmail.com", "v.ictim@gmail.com", "victim@googlemail.com", "V.I.C.T.I.M+news@GoogleMail.com", " victim@GMAIL.com "} {
		e.clock.Add(time.Second)
		req := issueReq(authflow.EmailOTP, 1, map[string]string{"sub": fmt.Sprintf("u%d", i), "email": alias, "email_verified": "true"})
		req.Challenge.SessionID = session(i)
		e.issue(t, req)
		if e.ses.count() != 1 {
			t.Fatalf("%q got its own schedule", alias)
		}
	}
	// Dots count outside Gmail, and other domains are other inboxes.
	for i, other := range []string{"vic.tim@example.com", "victim@example.com", "victim@gmail.co"} {
		req := issueReq(authflow.EmailOTP, 1, map[string]string{"sub": fmt.Sprintf("o%d", i), "email": other, "email_verified": "true"})
		req.Challenge.SessionID = session(100 + i)
		e.issue(t, req)
		if e.ses.count() != 2+i {
			t.Fatalf("%q shares a schedule with another inbox", other)
		}
	}
}

// TestAttack2VerifiedTogetherWithValue: a right code marks the address verified together with
// the value the code was sent to, in one call.
func TestAttack2VerifiedTogetherWithValue(t *testing.T) {
	for _, m := range []authflow.Method{authflow.EmailOTP, authflow.SMSOTP} {
		e := newEnv(t, otp.Config{})
		req := issueReq(m, 1, phoneAttrs(gbMobile(1), false, false))
		req.UserAttributes["email"] = "Alice@Example.com"
		out := e.issue(t, req)
		code, want := "", []awsapi.Attribute{{Name: "email", Value: "Alice@Example.com"}, {Name: "email_verified", Value: "true"}}
		if m == authflow.SMSOTP {
			code, want = e.lastSMSCode(t), []awsapi.Attribute{{Name: "phone_number", Value: gbMobile(1)}, {Name: "phone_number_verified", Value: "true"}}
		} else {
			code = e.lastEmailCode(t)
		}
		if !e.check(t, checkReq(req, out, code)) {
			t.Fatalf("%s: the right code was refused", m)
		}
		if e.cog.count() != 1 || !slices.Equal(e.cog.sent[0].UserAttributes, want) {
			t.Fatalf("%s: attribute updates %+v, want one with %v", m, e.cog.sent, want)
		}
	}
}

// TestAttack2CarriedCodeDoesNotVerifyAnotherAddress: the address changes between two rounds
// of one sign-in to one whose schedule is in its wait, so the resend is refused and the round
// carries the first code on; that code (sent to the old address) must not verify the new one.
func TestAttack2CarriedCodeDoesNotVerifyAnotherAddress(t *testing.T) {
	const other = "mallory@example.net"
	e := newEnv(t, otp.Config{})
	otherAttrs := map[string]string{"sub": userName, "email": other, "email_verified": "false"}
	warm := issueReq(authflow.EmailOTP, 1, otherAttrs)
	warm.Challenge.SessionID = session(7)
	e.issue(t, warm) // a code to the other address: its schedule now waits
	req1 := issueReq(authflow.EmailOTP, 1, emailAttrs(false))
	e.issue(t, req1)
	code1 := e.lastEmailCode(t)
	e.clock.Add(10 * time.Second)
	req2 := req1
	req2.Challenge = challenge(sid, authflow.EmailOTP, 2, authflow.ReasonResend)
	req2.UserAttributes = otherAttrs
	out2 := e.issue(t, req2)
	if e.ses.count() != 2 {
		t.Fatalf("%d emails, want 2 (the resend is within the wait)", e.ses.count())
	}
	if e.check(t, checkReq(req2, out2, code1)) || e.cog.count() != 0 {
		t.Fatalf("a code sent to %s verified %s: %+v", email, other, e.cog.sent)
	}
}

// TestAttack1NoCodeToUnverifiedAddressOfEstablishedAccount: codes go to an unverified address
// only on an account with nothing else: no verified contact, no device key, no passkey.
func TestAttack1NoCodeToUnverifiedAddressOfEstablishedAccount(t *testing.T) {
	for _, tc := range []struct {
		name      string
		m         authflow.Method
		attrs     map[string]string
		creds     [2]int
		send      bool
		readsMeta bool
	}{
		{"email unverified, phone verified", authflow.EmailOTP, phoneAttrs(gbMobile(1), true, false), [2]int{}, false, false},
		{"phone unverified, email verified", authflow.SMSOTP, phoneAttrs(gbMobile(1), false, true), [2]int{}, false, false},
		{"email unverified, a device key", authflow.EmailOTP, emailAttrs(false), [2]int{1, 0}, false, true},
		{"email unverified, a passkey", authflow.EmailOTP, emailAttrs(false), [2]int{0, 1}, false, true},
		{"phone unverified, a device key", authflow.SMSOTP, phoneAttrs(gbMobile(1), false, false), [2]int{2, 0}, false, true},
		{"email unverified, nothing else: a fresh sign-up", authflow.EmailOTP, emailAttrs(false), [2]int{}, true, true},
		{"phone unverified, nothing else: a fresh sign-up", authflow.SMSOTP, phoneAttrs(gbMobile(1), false, false), [2]int{}, true, true},
		{"email verified, keys: no extra read", authflow.EmailOTP, emailAttrs(true), [2]int{1, 1}, true, false},
		{"phone verified, email not: no extra read", authflow.SMSOTP, phoneAttrs(gbMobile(1), true, false), [2]int{1, 1}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, otp.Config{})
			e.store.creds[userName] = tc.creds
			out := e.issue(t, issueReq(tc.m, 1, tc.attrs))
			if sent := e.ses.count()+e.sns.count() == 1; sent != tc.send {
				t.Fatalf("sent %v, want %v", sent, tc.send)
			}
			if reads := len(e.store.credReads) == 1; reads != tc.readsMeta {
				t.Fatalf("META reads %v, want %d", e.store.credReads, map[bool]int{true: 1}[tc.readsMeta])
			}
			ref := newEnv(t, otp.Config{}).issue(t, issueReq(tc.m, 1, phoneAttrs(gbMobile(1), true, true)))
			if !slices.Equal(keys(out.Public), keys(ref.Public)) || out.Public[pubCodeStatus] != "sent" {
				t.Fatalf("answer %v, a sent code %v", out.Public, ref.Public)
			}
		})
	}
}

// TestAttack9SendKeysAreKeyed: the table keys derived from an address depend on the deployment
// secret and are not the unkeyed hash.
func TestAttack9SendKeysAreKeyed(t *testing.T) {
	var all [2][]string
	for i, k := range []*keyed.Key{testKey, otherKey} {
		e := newEnv(t, otp.Config{})
		req := issueReq(authflow.EmailOTP, 1, emailAttrs(true))
		req.Key = k
		e.issue(t, req)
		all[i] = append(slices.Clone(e.store.keys), e.store.sendKeys...)
	}
	unkeyed := sha256.Sum256([]byte("email_otp|" + emailNorm))
	for _, k := range all[0] {
		if slices.Contains(all[1], k) || strings.Contains(k, hex.EncodeToString(unkeyed[:])) || strings.Contains(k, "alice") {
			t.Fatalf("key %q does not depend on the deployment secret", k)
		}
	}
	if len(all[0]) == 0 {
		t.Fatal("no keys")
	}
}

// TestNilKeyFailsClosed: a request without the deployment key is refused, nothing is sent.
func TestNilKeyFailsClosed(t *testing.T) {
	e := newEnv(t, otp.Config{})
	req, out, code := e.issueEmail(t, true)
	req.Key = nil
	req.Challenge.SessionID = sid2
	if _, err := e.iss.Issue(context.Background(), req); err == nil {
		t.Fatal("Issue without a key: no error")
	}
	unknown := unknownReq(authflow.EmailOTP, "x@example.com", nil)
	if _, err := e.iss.Issue(context.Background(), unknown); err == nil {
		t.Fatal("Issue for an unknown user without a key: no error")
	}
	if e.ses.count() != 1 {
		t.Fatal("sent without a key")
	}
	cr := checkReq(issueReq(authflow.EmailOTP, 1, emailAttrs(true)), out, code)
	cr.Key = nil
	if ok, err := e.chk.Check(context.Background(), cr); ok || err == nil {
		t.Fatalf("Check without a key = %v, %v", ok, err)
	}
}
