package otp_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

func keys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

var (
	wantPublic  = []string{otp.PubCodeStatus, otp.PubDeliveryMedium, otp.PubDestination, otp.PubResendAfter}
	wantPrivate = []string{otp.PrivAddress, otp.PrivDigest, otp.PrivExpires, otp.PrivSalt}
)

// sameShape fails unless a and b have the same public and private keys, medium and status, and
// private values of the same lengths (but the address, which is the user's).
func sameShape(tb testing.TB, a, b triggers.Issued) {
	tb.Helper()
	if !slices.Equal(keys(a.Public), keys(b.Public)) || !slices.Equal(keys(a.Private), keys(b.Private)) {
		tb.Fatalf("shapes differ: %v/%v vs %v/%v", keys(a.Public), keys(a.Private), keys(b.Public), keys(b.Private))
	}
	if a.Public[otp.PubDeliveryMedium] != b.Public[otp.PubDeliveryMedium] || a.Public[otp.PubCodeStatus] != b.Public[otp.PubCodeStatus] {
		tb.Fatalf("media or status differ: %v vs %v", a.Public, b.Public)
	}
	for k := range a.Private {
		if k != otp.PrivAddress && len(a.Private[k]) != len(b.Private[k]) {
			tb.Fatalf("private %s lengths differ", k)
		}
	}
}

func TestEmailHappyPath(t *testing.T) {
	e := newEnv(t, otp.Config{EmailConfigurationSet: "prod-set"})
	req := issueReq(authflow.EmailOTP, 1, emailAttrs(false))
	out := e.issue(t, req)
	if !slices.Equal(keys(out.Public), wantPublic) || !slices.Equal(keys(out.Private), wantPrivate) {
		t.Fatalf("issued %v / %v", keys(out.Public), keys(out.Private))
	}
	if want := map[string]string{"deliveryMedium": "EMAIL", "destination": "a***@e***.com", "resendAfter": "60", "codeStatus": "sent"}; !maps.Equal(out.Public, want) {
		t.Fatalf("public %v, want %v", out.Public, want)
	}
	if out.Private[otp.PrivAddress] != email {
		t.Fatalf("private address %q", out.Private[otp.PrivAddress])
	}
	if got := out.Private[otp.PrivExpires]; got != itoa(t0.Add(5*time.Minute).Unix()) {
		t.Fatalf("otpExpires %s, want now+5m", got)
	}
	if e.ses.count() != 1 {
		t.Fatalf("%d emails sent", e.ses.count())
	}
	in := e.ses.sent[0]
	if got := in.To; !slices.Equal(got, []string{email}) {
		t.Errorf("sent to %v", got)
	}
	if in.From != sender || in.ConfigurationSet != "prod-set" {
		t.Errorf("from %q set %q", in.From, in.ConfigurationSet)
	}
	code := e.lastEmailCode(t)
	for k, v := range out.Private {
		if strings.Contains(v, code) {
			t.Errorf("private %s contains the code", k)
		}
	}
	for _, r := range e.store.otps {
		if strings.Contains(string(r.Hash)+string(r.Salt), code) {
			t.Error("stored record contains the code")
		}
	}
	if got := e.store.sendKeys; len(got) != 1 || got[0] != otp.RecipientKey(testKey, authflow.EmailOTP, email) || strings.Contains(got[0], "alice") {
		t.Errorf("send schedule keys %v", got)
	}
	if len(e.store.keys) != 0 {
		t.Errorf("an email counted against the SMS budget: %v", e.store.keys)
	}

	if !e.check(t, checkReq(req, out, code)) {
		t.Fatal("the right code was refused")
	}
	if e.cog.count() != 1 {
		t.Fatalf("%d attribute updates, want 1", e.cog.count())
	}
	call := e.cog.sent[0]
	if call.UserPoolID != poolID || call.Username != userName ||
		!slices.Equal(call.UserAttributes, []awsapi.Attribute{{Name: "email", Value: email}, {Name: "email_verified", Value: "true"}}) {
		t.Fatalf("attribute update %+v", call)
	}

	// Already verified: no update.
	verified := checkReq(req, out, " "+code+"\n")
	verified.UserAttributes["email_verified"] = "true"
	if !e.check(t, verified) {
		t.Fatal("the right code (with spaces) was refused")
	}
	if e.cog.count() != 1 {
		t.Fatal("a verified address was updated again")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestSMSHappyPath(t *testing.T) {
	e := newEnv(t, otp.Config{SMSSenderID: "Acme", SMSOriginationNumber: "+15555550100"})
	req := issueReq(authflow.SMSOTP, 1, phoneAttrs(phone, false, false))
	out := e.issue(t, req)
	if out.Public[otp.PubDeliveryMedium] != "SMS" || out.Public[otp.PubDestination] != "+44*******456" {
		t.Fatalf("public %v", out.Public)
	}
	if e.sns.count() != 1 || e.ses.count() != 0 {
		t.Fatalf("%d SMS, %d emails sent", e.sns.count(), e.ses.count())
	}
	in := e.sns.sent[0]
	if in.PhoneNumber != phone {
		t.Errorf("sent to %q", in.PhoneNumber)
	}
	attrs := map[string]string{}
	for k, v := range in.MessageAttributes {
		if v.DataType != "String" {
			t.Errorf("attribute %s has type %q", k, v.DataType)
		}
		attrs[k] = v.StringValue
	}
	want := map[string]string{"AWS.SNS.SMS.SMSType": "Transactional", "AWS.SNS.SMS.SenderID": "Acme", "AWS.MM.SMS.OriginationNumber": "+15555550100"}
	if !maps.Equal(attrs, want) {
		t.Errorf("message attributes %v, want %v", attrs, want)
	}
	code := e.lastSMSCode(t)
	if e.check(t, checkReq(req, out, otherCode(code))) {
		t.Fatal("a wrong code was accepted")
	}
	if e.cog.count() != 0 {
		t.Fatal("a wrong code marked the number verified")
	}
	if !e.check(t, checkReq(req, out, code)) {
		t.Fatal("the right code was refused")
	}
	if e.cog.count() != 1 || !slices.Equal(e.cog.sent[0].UserAttributes, []awsapi.Attribute{{Name: "phone_number", Value: phone}, {Name: "phone_number_verified", Value: "true"}}) {
		t.Fatalf("attribute updates %+v", e.cog.sent)
	}
	if len(e.store.keys) != 1 || e.store.keys[0] != "sms-unverified" {
		t.Fatalf("SMS budget keys %v, want one unit of sms-unverified", e.store.keys)
	}
}

func TestSMSWithoutOptionalAttributes(t *testing.T) {
	e := newEnv(t, otp.Config{})
	e.issue(t, issueReq(authflow.SMSOTP, 1, phoneAttrs(phone, true, true)))
	if e.sns.count() != 1 {
		t.Fatal("not sent")
	}
	got := slices.Sorted(maps.Keys(e.sns.sent[0].MessageAttributes))
	if !slices.Equal(got, []string{"AWS.SNS.SMS.SMSType"}) {
		t.Fatalf("message attributes %v", got)
	}
}

func TestWrongAndMalformedAnswers(t *testing.T) {
	e := newEnv(t, otp.Config{})
	req, out, code := e.issueEmail(t, true)
	for _, a := range []string{
		"", otherCode(code), code[:5], code + "0", "0" + code, code[:3] + " " + code[3:],
		"１２３４５６", "-" + code[1:], "+" + code[1:], code[:5] + "a", "\x00" + code[1:],
		strings.Repeat("9", 8192),
	} {
		if e.check(t, checkReq(req, out, a)) {
			t.Errorf("answer %q accepted", a)
		}
	}
	// Answers for another round of the same session do not work either.
	other := checkReq(req, out, code)
	other.Challenge.SessionID = sid2
	if e.check(t, other) {
		t.Error("code accepted for another session")
	}
	wrongMethod := checkReq(req, out, code)
	wrongMethod.Method = authflow.SMSOTP
	if e.check(t, wrongMethod) {
		t.Error("code accepted as an SMS answer")
	}
	if !e.check(t, checkReq(req, out, code)) {
		t.Fatal("the right code was refused")
	}
}

func TestMalformedPrivateParameters(t *testing.T) {
	e := newEnv(t, otp.Config{})
	req, out, code := e.issueEmail(t, true)
	for _, mutate := range []func(p map[string]string){
		func(p map[string]string) { delete(p, otp.PrivSalt) },
		func(p map[string]string) { delete(p, otp.PrivDigest) },
		func(p map[string]string) { delete(p, otp.PrivExpires) },
		func(p map[string]string) { delete(p, otp.PrivAddress) },
		func(p map[string]string) { p[otp.PrivAddress] = "mallory@example.com" },
		func(p map[string]string) { p[otp.PrivSalt] = "!!" },
		func(p map[string]string) { p[otp.PrivDigest] = p[otp.PrivDigest][:20] },
		func(p map[string]string) { p[otp.PrivExpires] = "soon" },
		func(p map[string]string) { p[otp.PrivAddress] = " " },
	} {
		r := checkReq(req, out, code)
		mutate(r.Private)
		if e.check(t, r) {
			t.Errorf("accepted with private %v", r.Private)
		}
	}
	nonce := checkReq(req, out, code)
	nonce.Challenge.Kind = authflow.KindNonce
	if e.check(t, nonce) {
		t.Error("accepted as a nonce-round answer")
	}
}

func TestExpiredCode(t *testing.T) {
	e := newEnv(t, otp.Config{TTL: 2 * time.Minute})
	req, out, code := e.issueEmail(t, true)
	e.clock.Add(2 * time.Minute)
	if !e.check(t, checkReq(req, out, code)) {
		t.Fatal("refused at the last valid second")
	}
	e.clock.Add(time.Second)
	if e.check(t, checkReq(req, out, code)) {
		t.Fatal("an expired code was accepted")
	}
}

func TestResendReplacesTheCode(t *testing.T) {
	e := newEnv(t, otp.Config{})
	req1 := issueReq(authflow.EmailOTP, 1, emailAttrs(true))
	out1 := e.issue(t, req1)
	code1 := e.lastEmailCode(t)
	e.clock.Add(60 * time.Second) // past the first delay
	req2 := req1
	req2.Challenge = challenge(sid, authflow.EmailOTP, 2, authflow.ReasonResend)
	out2 := e.issue(t, req2)
	if e.ses.count() != 2 {
		t.Fatalf("%d emails sent, want 2", e.ses.count())
	}
	code2 := e.lastEmailCode(t)
	if _, ok := e.store.otps[sid+"#2"]; !ok {
		t.Fatal("no generation-2 record")
	}
	if out1.Private[otp.PrivSalt] == out2.Private[otp.PrivSalt] || out1.Private[otp.PrivDigest] == out2.Private[otp.PrivDigest] {
		t.Fatal("the resend reused the salt or digest")
	}
	if code1 != code2 && e.check(t, checkReq(req2, out2, code1)) {
		t.Fatal("the generation-1 code works against the generation-2 round")
	}
	// Even if both draws gave the same digits, generation 1's digest does not verify in round 2.
	mixed := checkReq(req2, out2, code1)
	mixed.Private[otp.PrivSalt], mixed.Private[otp.PrivDigest] = out1.Private[otp.PrivSalt], out1.Private[otp.PrivDigest]
	if e.check(t, mixed) {
		t.Fatal("generation-1 parameters verify as generation 2")
	}
	if !e.check(t, checkReq(req2, out2, code2)) {
		t.Fatal("the generation-2 code was refused")
	}
}

func TestCreateRetrySendsOnce(t *testing.T) {
	for _, m := range []authflow.Method{authflow.EmailOTP, authflow.SMSOTP} {
		t.Run(string(m), func(t *testing.T) {
			e := newEnv(t, otp.Config{})
			req := issueReq(m, 1, phoneAttrs(phone, true, true))
			first := e.issue(t, req)
			e.clock.Add(2 * time.Second)
			again := e.issue(t, req) // Cognito retried Create
			req.Challenge.Reason = authflow.ReasonRetry
			e.clock.Add(30 * time.Second)
			retry := e.issue(t, req) // the round after a wrong answer
			for _, o := range []triggers.Issued{again, retry} {
				if !maps.Equal(first.Private, o.Private) || first.Public[otp.PubDestination] != o.Public[otp.PubDestination] {
					t.Fatalf("retried Create changed the parameters:\n%v\n%v", first, o)
				}
			}
			// Nothing new went out; the wait is read, not taken again.
			if first.Public[otp.PubCodeStatus] != "sent" || again.Public[otp.PubCodeStatus] != "kept" || retry.Public[otp.PubCodeStatus] != "kept" ||
				again.Public[otp.PubResendAfter] != "58" || retry.Public[otp.PubResendAfter] != "28" {
				t.Fatalf("status and wait: %v, %v, %v", first.Public, again.Public, retry.Public)
			}
			if sent := e.ses.count() + e.sns.count(); sent != 1 {
				t.Fatalf("%d messages sent, want 1", sent)
			}
			if len(e.store.sendKeys) != 1 {
				t.Fatalf("%d schedule steps, want 1", len(e.store.sendKeys))
			}
			var code string
			if m == authflow.SMSOTP {
				code = e.lastSMSCode(t)
			} else {
				code = e.lastEmailCode(t)
			}
			if !e.check(t, checkReq(req, retry, code)) {
				t.Fatal("the code was refused in the retry round")
			}
		})
	}
}

func TestSendSchedule(t *testing.T) {
	e := newEnv(t, otp.Config{})
	req, first, code := e.issueEmail(t, true)

	e.clock.Add(30 * time.Second)
	req2 := req
	req2.Challenge = challenge(sid2, authflow.EmailOTP, 1, authflow.ReasonSelect)
	second := e.issue(t, req2)
	if e.ses.count() != 1 {
		t.Fatalf("second sign-in within 60 s sent a code (%d emails)", e.ses.count())
	}
	if second.Public[otp.PubCodeStatus] != "wait" || second.Public[otp.PubResendAfter] != "30" {
		t.Fatalf("second sign-in: %v", second.Public)
	}
	if first.Public[otp.PubDestination] != second.Public[otp.PubDestination] {
		t.Fatal("destinations differ")
	}
	if e.check(t, checkReq(req2, second, code)) {
		t.Fatal("the first sign-in's code works in the second")
	}
	// The schedule is per recipient, not per user: case and spaces do not dodge it.
	req3 := req2
	req3.Challenge.SessionID = "AAAAAAAAAAAAAAAAAAAAAA"
	req3.UserAttributes = emailAttrs(true)
	req3.UserAttributes["email"] = "  ALICE.LIDDELL@example.COM "
	e.issue(t, req3)
	if e.ses.count() != 1 {
		t.Fatal("a differently-cased address dodged the schedule")
	}

	e.clock.Add(30 * time.Second) // the first delay has passed
	req4 := req2
	req4.Challenge = challenge(sid2, authflow.EmailOTP, 2, authflow.ReasonResend)
	out := e.issue(t, req4)
	if e.ses.count() != 2 || out.Public[otp.PubResendAfter] != "120" {
		t.Fatalf("no code sent after the wait (%d emails), %v", e.ses.count(), out.Public)
	}
}

func TestDailySendCap(t *testing.T) {
	e := newEnv(t, otp.Config{SendDelays: []time.Duration{time.Second}, SendDailyCap: 3})
	var last triggers.Issued
	for i := range 5 {
		req := issueReq(authflow.SMSOTP, 1, phoneAttrs(phone, true, true))
		req.Challenge.SessionID = session(i)
		last = e.issue(t, req)
		e.clock.Add(time.Minute)
	}
	if e.sns.count() != 3 {
		t.Fatalf("%d SMS in one day, want 3", e.sns.count())
	}
	if w := resendAfter(t, last); w != 24*time.Hour-4*time.Minute {
		t.Fatalf("over the cap the wait is %s, want until 24 h after the first code", w)
	}
}

func TestSMSRefusals(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]string
		send  bool
	}{
		{"verified number", phoneAttrs(phone, true, true), true},
		{"fresh sign-up, nothing verified", phoneAttrs(phone, false, false), true},
		{"unverified number, verified email", phoneAttrs(phone, false, true), false},
		{"verified-attribute missing, verified email", map[string]string{"phone_number": phone, "email_verified": "true"}, false},
		{"verified-attribute missing, no sub", map[string]string{"phone_number": phone}, false},
		{"country not allowed", phoneAttrs("+79161234567", true, true), false},
		{"Caribbean under +1", phoneAttrs("+18765550123", true, true), false},
		{"Guernsey under +44", phoneAttrs("+447911123456", true, true), false},
		{"GB premium rate", phoneAttrs("+449098790000", true, true), false},
		{"not E.164: national format", phoneAttrs("07400123456", true, true), false},
		{"not E.164: spaces", phoneAttrs("+44 7400 123456", true, true), false},
		{"not E.164: too long", phoneAttrs("+4474001234567890", true, true), false},
		{"trunk prefix after the country code", phoneAttrs("+4407400123456", true, true), true},
		{"no number", emailAttrs(true), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, otp.Config{})
			ref := newEnv(t, otp.Config{})
			got := e.issueQuick(t, issueReq(authflow.SMSOTP, 1, tt.attrs))
			want := ref.issueQuick(t, issueReq(authflow.SMSOTP, 1, phoneAttrs(phone, true, true)))
			sameShape(t, got, want)
			if sent := e.sns.count() == 1; sent != tt.send {
				t.Fatalf("sent = %v, want %v", sent, tt.send)
			}
			if len(e.store.sendKeys) != 1 {
				t.Fatalf("%d schedule steps, want 1 whether sent or not", len(e.store.sendKeys))
			}
		})
	}
}

func TestCountryList(t *testing.T) {
	e := newEnv(t, otp.Config{SMSAllowedCountries: []string{"+44"}})
	for i, number := range []string{"+18765550123", "+4", "+12015550123"} {
		e.issue(t, issueReq(authflow.SMSOTP, i+1, phoneAttrs(number, true, true)))
	}
	if e.sns.count() != 0 {
		t.Fatal("sent outside the allow-list")
	}
	e.issue(t, issueReq(authflow.SMSOTP, 4, phoneAttrs("+447911123456", true, true)))
	if e.sns.count() != 1 {
		t.Fatal("+44 does not take in Guernsey")
	}
	e = newEnv(t, otp.Config{SMSAllowedCountries: []string{"JM", "+1206"}})
	for i, number := range []string{"+18765550123", "+12065550123", "+12015550123", "+447400123456"} {
		req := issueReq(authflow.SMSOTP, 1, phoneAttrs(number, true, true))
		req.Challenge.SessionID = session(i)
		e.issue(t, req)
	}
	if e.sns.count() != 2 || e.sns.sent[0].PhoneNumber != "+18765550123" || e.sns.sent[1].PhoneNumber != "+12065550123" {
		t.Fatalf("sent %d", e.sns.count())
	}
}

func TestUnknownUser(t *testing.T) {
	for _, m := range []authflow.Method{authflow.EmailOTP, authflow.SMSOTP} {
		t.Run(string(m), func(t *testing.T) {
			typed := email
			if m == authflow.SMSOTP {
				typed = phone
			}
			// A real user whose address is what the unknown user typed.
			real := newEnv(t, otp.Config{})
			realReq := issueReq(m, 1, phoneAttrs(phone, true, true))
			realOut := real.issue(t, realReq)

			e := newEnv(t, otp.Config{})
			fixed := seeded(9)
			iss, err := otp.NewIssuer(otp.Config{EmailFrom: sender}, otp.IssuerDeps{Store: e.store, Email: e.ses, SMS: e.sns, Now: e.clock.Now, Rand: fixed})
			if err != nil {
				t.Fatal(err)
			}
			req := triggers.IssueRequest{Challenge: challenge(sid, m, 1, authflow.ReasonSelect), Caller: triggers.Caller{UserPoolID: poolID, ClientID: clientID, UserName: typed, UserNotFound: true, Key: testKey}}
			out, err := iss.Issue(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			sameShape(t, out, realOut)
			if out.Public[otp.PubDestination] != realOut.Public[otp.PubDestination] {
				t.Fatalf("unknown user sees %q, a real user %q", out.Public[otp.PubDestination], realOut.Public[otp.PubDestination])
			}
			if e.ses.count()+e.sns.count() != 0 {
				t.Fatal("a code was sent for an unknown user")
			}
			if e.store.creates != 1 || len(e.store.sendKeys) != 1 || e.store.reads != 1 ||
				e.store.sendKeys[0] != real.store.sendKeys[0] || len(real.store.sendKeys) != 1 {
				t.Fatalf("unknown user: %d creates, schedule %v; want the same work as a real user (%v)", e.store.creates, e.store.sendKeys, real.store.sendKeys)
			}
			// The code the issuer drew (same seed) is refused for the unknown user...
			code, _ := otp.Generate(seeded(9), 6)
			cr := checkReq(req, out, code)
			if e.check(t, cr) {
				t.Fatal("Check accepted an unknown user")
			}
			// ...although it is the right code: the same answer for a real user passes.
			cr.UserNotFound = false
			cr.UserAttributes = map[string]string{"email": typed, "phone_number": typed, "email_verified": "true", "phone_number_verified": "true"}
			if !e.check(t, cr) {
				t.Fatal("control: the drawn code is not the code")
			}
		})
	}
}

func TestPlaceholderDestination(t *testing.T) {
	e := newEnv(t, otp.Config{})
	req := triggers.IssueRequest{Challenge: challenge(sid, authflow.EmailOTP, 1, authflow.ReasonSelect), Caller: triggers.Caller{UserPoolID: poolID, UserName: "jdoe", UserNotFound: true, Key: testKey}}
	a := e.issue(t, req)
	req.Challenge.SessionID = sid2
	b := e.issue(t, req)
	if a.Public[otp.PubDestination] != b.Public[otp.PubDestination] {
		t.Fatal("placeholder is not deterministic")
	}
	if d := a.Public[otp.PubDestination]; !strings.Contains(d, "***@") || strings.Contains(d, "jdoe") {
		t.Fatalf("placeholder %q", d)
	}
	req.Challenge = challenge("SMSSESSION000000000000", authflow.SMSOTP, 1, authflow.ReasonSelect)
	s := e.issue(t, req)
	if d := s.Public[otp.PubDestination]; !strings.HasPrefix(d, "+") || !strings.Contains(d, "*****") {
		t.Fatalf("SMS placeholder %q", d)
	}
	// A real user without the attribute gets the same kind of answer, and nothing is sent.
	real := issueReq(authflow.SMSOTP, 3, emailAttrs(true))
	r := e.issue(t, real)
	sameShape(t, r, s)
	if e.ses.count()+e.sns.count() != 0 {
		t.Fatal("sent")
	}
}

func TestMasks(t *testing.T) {
	for _, tt := range []struct {
		m    authflow.Method
		in   string
		want string
	}{
		{authflow.EmailOTP, "john@example.com", "j***@e***.com"},
		{authflow.EmailOTP, "John.Doe@Mail.Example.co.uk", "j***@m***.uk"},
		{authflow.EmailOTP, "x@localhost", "x***@l***"},
		{authflow.EmailOTP, "no-at-sign", "***@***"},
		{authflow.EmailOTP, "élodie@exemple.fr", "é***@e***.fr"},
		{authflow.SMSOTP, "+447911123123", "+44*******123"},
		{authflow.SMSOTP, "+15555550100", "+15******100"},
		{authflow.SMSOTP, "12", "+**********"},
	} {
		if got := otp.Mask(tt.m, tt.in); got != tt.want {
			t.Errorf("Mask(%s, %q) = %q, want %q", tt.m, tt.in, got, tt.want)
		}
	}
}

func TestDeliveryFailure(t *testing.T) {
	for _, m := range []authflow.Method{authflow.EmailOTP, authflow.SMSOTP} {
		t.Run(string(m), func(t *testing.T) {
			e := newEnv(t, otp.Config{})
			e.ses.err = apiError("MessageRejected", "Email address is not verified: "+emailNorm)
			e.sns.err = apiError("InvalidParameter", "Invalid parameter: PhoneNumber "+phone)
			req := issueReq(m, 1, phoneAttrs(phone, true, true))
			_, err := e.iss.Issue(context.Background(), req)
			var de *otp.DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("Issue = %v, want a DeliveryError", err)
			}
			if msg := err.Error(); strings.Contains(msg, "alice") || strings.Contains(msg, "7911") {
				t.Fatalf("error message leaks the address: %s", msg)
			}
			if de.Code != "MessageRejected" && de.Code != "InvalidParameter" {
				t.Fatalf("code %q", de.Code)
			}
			// Cognito retries Create: the record exists, nothing is sent again.
			e.ses.err, e.sns.err = nil, nil
			if _, err := e.iss.Issue(context.Background(), req); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if sent := e.ses.count() + e.sns.count(); sent != 1 {
				t.Fatalf("%d send attempts, want 1", sent)
			}
		})
	}
}

func TestDeliveryTimeout(t *testing.T) {
	e := newEnv(t, otp.Config{})
	e.ses.err = context.DeadlineExceeded
	_, err := e.iss.Issue(context.Background(), issueReq(authflow.EmailOTP, 1, emailAttrs(true)))
	var de *otp.DeliveryError
	if !errors.As(err, &de) || de.Code != "deadline exceeded" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Issue = %v", err)
	}
}

func TestStoreFailures(t *testing.T) {
	e := newEnv(t, otp.Config{})
	e.store.createErr = errDown
	if _, err := e.iss.Issue(context.Background(), issueReq(authflow.EmailOTP, 1, emailAttrs(true))); !errors.Is(err, errDown) {
		t.Fatalf("CreateOTP failure: %v", err)
	}
	e.store.createErr, e.store.sendErr = nil, errDown
	if _, err := e.iss.Issue(context.Background(), issueReq(authflow.EmailOTP, 2, emailAttrs(true))); !errors.Is(err, errDown) {
		t.Fatalf("schedule failure: %v", err)
	}
	unknown := issueReq(authflow.EmailOTP, 3, nil)
	unknown.UserNotFound = true
	if _, err := e.iss.Issue(context.Background(), unknown); !errors.Is(err, errDown) {
		t.Fatalf("schedule failure, unknown user: %v (must fail like a real user)", err)
	}
	e.store.sendErr, e.store.credErr = nil, errDown
	fresh := issueReq(authflow.EmailOTP, 1, emailAttrs(false))
	fresh.Challenge.SessionID = session(1)
	if _, err := e.iss.Issue(context.Background(), fresh); !errors.Is(err, errDown) {
		t.Fatalf("key count failure: %v", err)
	}
	e.store.credErr, e.store.allowErr = nil, errDown
	sms := issueReq(authflow.SMSOTP, 1, phoneAttrs(phone, false, false))
	sms.Challenge.SessionID = session(2)
	if _, err := e.iss.Issue(context.Background(), sms); !errors.Is(err, errDown) {
		t.Fatalf("SMS budget failure: %v", err)
	}
	if e.ses.count()+e.sns.count() != 0 {
		t.Fatal("sent without a decision")
	}
}

func TestIssueRefusesBadRounds(t *testing.T) {
	e := newEnv(t, otp.Config{})
	for name, req := range map[string]triggers.IssueRequest{
		"nonce round":   {Challenge: authflow.Challenge{Kind: authflow.KindNonce, SessionID: sid}},
		"key method":    {Challenge: challenge(sid, authflow.DeviceKey, 1, authflow.ReasonSelect)},
		"generation 0":  {Challenge: challenge(sid, authflow.EmailOTP, 0, authflow.ReasonSelect)},
		"no session ID": {Challenge: challenge("", authflow.EmailOTP, 1, authflow.ReasonSelect)},
	} {
		if _, err := e.iss.Issue(context.Background(), req); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	noSMS, err := otp.NewIssuer(otp.Config{}, otp.IssuerDeps{Store: e.store})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []authflow.Method{authflow.EmailOTP, authflow.SMSOTP} {
		if _, err := noSMS.Issue(context.Background(), issueReq(m, 1, phoneAttrs(phone, true, true))); err == nil {
			t.Errorf("%s without a sender: no error", m)
		}
	}
	var zero otp.Issuer
	if _, err := zero.Issue(context.Background(), issueReq(authflow.EmailOTP, 1, emailAttrs(true))); err == nil {
		t.Error("zero Issuer: no error")
	}
	if e.store.creates != 0 {
		t.Error("bad rounds reached the store")
	}
}

func TestRecipientChanged(t *testing.T) {
	e := newEnv(t, otp.Config{})
	req, out, code := e.issueEmail(t, false)
	r := checkReq(req, out, code)
	r.UserAttributes["email"] = "mallory@example.net"
	if e.check(t, r) {
		t.Fatal("the code verified a different address")
	}
	if e.cog.count() != 0 {
		t.Fatal("an address the code was not sent to was marked verified")
	}
}

func TestAttributeVerifierFailure(t *testing.T) {
	e := newEnv(t, otp.Config{})
	e.cog.err = apiError("TooManyRequestsException", "Rate exceeded for user "+userName)
	req := issueReq(authflow.EmailOTP, 1, emailAttrs(false))
	out := e.issue(t, req)
	ok, err := e.chk.Check(context.Background(), checkReq(req, out, e.lastEmailCode(t)))
	var ve *otp.VerifyAttributeError
	if ok || !errors.As(err, &ve) || ve.Code != "TooManyRequestsException" {
		t.Fatalf("Check = %v, %v; want false and a VerifyAttributeError", ok, err)
	}
	if strings.Contains(err.Error(), userName) {
		t.Fatalf("error message quotes the provider message: %s", err)
	}
	e.cog.err = nil
	if !e.check(t, checkReq(req, out, e.lastEmailCode(t))) {
		t.Fatal("retry after the verifier recovered was refused")
	}
}

func TestZeroChecker(t *testing.T) {
	var c otp.Checker
	if ok, err := c.Check(context.Background(), triggers.CheckRequest{}); ok || err == nil {
		t.Fatalf("zero Checker = %v, %v", ok, err)
	}
}

// TestRefusedResendKeepsTheCode: a resend over the send limit sends nothing, and the round
// carries the code the user already has on, so they are not locked out until the window passes;
// a retried Create of that round gives the same parameters; a later resend that does send
// replaces the code.
func TestRefusedResendKeepsTheCode(t *testing.T) {
	e := newEnv(t, otp.Config{}) // default limits: 1 per minute
	req1 := issueReq(authflow.EmailOTP, 1, emailAttrs(true))
	e.issue(t, req1)
	code1 := e.lastEmailCode(t)
	e.clock.Add(10 * time.Second)
	req2 := req1
	req2.Challenge = challenge(sid, authflow.EmailOTP, 2, authflow.ReasonResend)
	out2 := e.issue(t, req2)
	if e.ses.count() != 1 {
		t.Fatalf("%d emails, want 1: the resend is over the limit", e.ses.count())
	}
	if out2.Private[otp.PrivCodeGeneration] != "1" {
		t.Fatalf("round 2 does not carry generation 1's code: %v", out2.Private)
	}
	if !e.check(t, checkReq(req2, out2, code1)) {
		t.Fatal("the code the user has stopped working after a refused resend")
	}
	if e.check(t, checkReq(req2, out2, otherCode(code1))) {
		t.Fatal("a wrong code passed in the carried round")
	}
	again := e.issue(t, req2) // Cognito retried Create for round 2
	if !maps.Equal(again.Private, out2.Private) || e.ses.count() != 1 {
		t.Fatalf("retry changed the round or sent: %v vs %v, %d emails", again.Private, out2.Private, e.ses.count())
	}
	// Generation 3, another refusal: still generation 1's code.
	req3 := req1
	req3.Challenge = challenge(sid, authflow.EmailOTP, 3, authflow.ReasonResend)
	out3 := e.issue(t, req3)
	if out3.Private[otp.PrivCodeGeneration] != "1" || !e.check(t, checkReq(req3, out3, code1)) {
		t.Fatalf("generation 3 does not carry generation 1's code: %v", out3.Private)
	}
	// Past the window a resend sends and replaces the code.
	e.clock.Add(time.Minute)
	req4 := req1
	req4.Challenge = challenge(sid, authflow.EmailOTP, 4, authflow.ReasonResend)
	out4 := e.issue(t, req4)
	code4 := e.lastEmailCode(t)
	if e.ses.count() != 2 || out4.Private[otp.PrivCodeGeneration] != "" {
		t.Fatalf("resend past the window: %d emails, %v", e.ses.count(), out4.Private)
	}
	if code4 != code1 && e.check(t, checkReq(req4, out4, code1)) {
		t.Fatal("the replaced code still works")
	}
	if !e.check(t, checkReq(req4, out4, code4)) {
		t.Fatal("the new code was refused")
	}
}

func TestCheckRefusesForgedCodeGeneration(t *testing.T) {
	e := newEnv(t, otp.Config{})
	req1 := issueReq(authflow.EmailOTP, 1, emailAttrs(true))
	e.issue(t, req1)
	code1 := e.lastEmailCode(t)
	req2 := req1
	req2.Challenge = challenge(sid, authflow.EmailOTP, 2, authflow.ReasonResend)
	out2 := e.issue(t, req2)
	for _, g := range []string{"0", "2", "3", "01", "x", "-1"} {
		cr := checkReq(req2, out2, code1)
		cr.Private[otp.PrivCodeGeneration] = g
		if e.check(t, cr) {
			t.Errorf("code generation %q accepted", g)
		}
	}
}
