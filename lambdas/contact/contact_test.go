package contact_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/contact"
	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// TestAttackAddVictimEmail (issue 10, attack 1b): an attacker signed in to their own account
// (with a device key, say) asks to set their email address to the victim's. The code goes to the
// victim only; the attacker's answers without it use up the change and never reach Cognito, and
// the victim's inbox gets a message that says nothing changes without the code.
func TestAttackAddVictimEmail(t *testing.T) {
	e := newEnv(t, config())
	attacker := e.caller(attackerSub, map[string]string{"email": "attacker@example.net", "email_verified": "true"})
	r := e.startOK(t, attacker, `{"email": "victim@example.com"}`)
	id := r.str("changeId")
	if got := e.box.EmailsTo("attacker@example.net"); len(got) != 0 {
		t.Fatalf("the attacker's own address got %d messages", len(got))
	}
	victimCode := e.box.lastCode(t, "victim@example.com")
	for _, v := range r.body {
		if s, ok := v.(string); ok && strings.Contains(s, victimCode) {
			t.Fatalf("the answer to the attacker holds the code: %v", r.body)
		}
	}
	if m := e.box.EmailsTo("victim@example.com")[0]; !strings.Contains(m.Text, "nothing changes without the code") {
		t.Errorf("the code email does not tell the victim nothing changes without the code:\n%s", m.Text)
	}
	// Guesses: every one is refused, the fourth even with the right code.
	for i, guess := range []string{"000000", "123456", "999999"} {
		if guess == victimCode {
			guess = wrongCode(guess)
		}
		got := e.verify(t, attacker, id, guess)
		if got.status != 400 || got.str("code") != contact.CodeWrongCode || got.body["attemptsLeft"] != float64(2-i) {
			t.Fatalf("guess %d: %d %v, want 400 wrong_code with %d attempts left", i+1, got.status, got.body, 2-i)
		}
	}
	if got := e.verify(t, attacker, id, victimCode); got.status != 404 || got.str("code") != contact.CodeNotFound {
		t.Fatalf("4th answer (the right code): %d %v, want 404", got.status, got.body)
	}
	if n := len(e.idp.updates()); n != 0 {
		t.Fatalf("%d AdminUpdateUserAttributes calls without the victim's code: %+v", n, e.idp.updates())
	}
	// A new change needs a new code, again sent to the victim only.
	e.clk.Add(time.Minute) // the recipient limit allows one code a minute
	r2 := e.startOK(t, attacker, `{"email": "victim@example.com"}`)
	if r2.str("changeId") == id {
		t.Fatal("a new change reused the change ID")
	}
	if e.box.lastCode(t, "victim@example.com") == victimCode {
		t.Log("the new code equals the old one (1 in a million)")
	}
	if n := len(e.box.EmailsTo("victim@example.com")); n != 2 || e.box.Len() != 2 {
		t.Fatalf("%d codes to the victim, %d messages in all; want 2 and 2", n, e.box.Len())
	}
	if n := len(e.idp.updates()); n != 0 {
		t.Fatalf("%d Cognito calls", n)
	}
}

// TestVerifyWritesValueAndFlagInOneCall (issue 10, attack 2 / "What must hold", second bullet):
// the right code leads to exactly one AdminUpdateUserAttributes call that carries the value the
// code went to and its verified flag, for email and for phone.
func TestVerifyWritesValueAndFlagInOneCall(t *testing.T) {
	for _, tc := range []struct {
		body, field, attr, verified, value, medium string
	}{
		{`{"email": "  New@Example.com "}`, "email", "email", "email_verified", "New@Example.com", "EMAIL"},
		{`{"phoneNumber": "+447400123456"}`, "phoneNumber", "phone_number", "phone_number_verified", "+447400123456", "SMS"},
	} {
		e := newEnv(t, config())
		c := e.caller(victimSub, map[string]string{})
		r := e.startOK(t, c, tc.body)
		if r.str("deliveryMedium") != tc.medium {
			t.Errorf("%s: deliveryMedium %q", tc.attr, r.str("deliveryMedium"))
		}
		m := map[string]authflow.Method{"EMAIL": authflow.EmailOTP, "SMS": authflow.SMSOTP}[tc.medium]
		if want := otp.Mask(m, tc.value); r.str("destination") != want {
			t.Errorf("%s: destination %q, want %q", tc.attr, r.str("destination"), want)
		}
		exp, err := time.Parse(time.RFC3339, r.str("expiresAt"))
		if err != nil || !exp.Equal(t0.Add(otp.DefaultTTL)) {
			t.Errorf("%s: expiresAt %q (%v), want %s", tc.attr, r.str("expiresAt"), err, t0.Add(otp.DefaultTTL))
		}
		if got, err := base64.RawURLEncoding.Strict().DecodeString(r.str("changeId")); err != nil || len(got) != 16 {
			t.Errorf("%s: changeId %q is not 128 bits of base64url", tc.attr, r.str("changeId"))
		}
		code := e.box.lastCode(t, tc.value)
		got := e.verify(t, c, r.str("changeId"), code)
		if got.status != 200 || got.str(tc.field) != tc.value || got.body["verified"] != true {
			t.Fatalf("%s: verify: %d %v", tc.attr, got.status, got.body)
		}
		want := []awsapi.AdminUpdateUserAttributesInput{{
			UserPoolID: poolID,
			Username:   victimSub,
			UserAttributes: []awsapi.Attribute{
				{Name: tc.attr, Value: tc.value},
				{Name: tc.verified, Value: "true"},
			},
		}}
		if calls := e.idp.updates(); !reflect.DeepEqual(calls, want) {
			t.Fatalf("%s: Cognito calls %+v\nwant %+v", tc.attr, calls, want)
		}
		// Single use.
		if again := e.verify(t, c, r.str("changeId"), code); again.status != 404 {
			t.Fatalf("%s: second verify with the same code: %d %v", tc.attr, again.status, again.body)
		}
		if n := len(e.idp.updates()); n != 1 {
			t.Fatalf("%s: %d Cognito calls after a replay", tc.attr, n)
		}
		if p := e.fake.pending(); len(p) != 0 {
			t.Fatalf("%s: change not deleted: %+v", tc.attr, p)
		}
	}
}

// TestFourthAttemptRefusedWithRightCode: 3 wrong answers kill the change.
func TestFourthAttemptRefusedWithRightCode(t *testing.T) {
	e := newEnv(t, config())
	c := e.caller(victimSub, nil)
	id := e.startOK(t, c, `{"email": "me@example.com"}`).str("changeId")
	code := e.box.lastCode(t, "me@example.com")
	for i := range 3 {
		r := e.verify(t, c, id, wrongCode(code))
		if r.status != 400 || r.str("code") != contact.CodeWrongCode {
			t.Fatalf("wrong answer %d: %d %v", i+1, r.status, r.body)
		}
		if i == 2 && !strings.Contains(r.str("message"), "no attempts left") {
			t.Errorf("last wrong answer: message %q", r.str("message"))
		}
	}
	if r := e.verify(t, c, id, code); r.status != 404 {
		t.Fatalf("4th answer, right code: %d %v, want 404", r.status, r.body)
	}
	if n := len(e.idp.updates()); n != 0 {
		t.Fatalf("%d Cognito calls", n)
	}
}

// TestNotFoundIsTheSameForAll: another user's change (even with its right code), an expired
// change and an unknown ID get the same 404; the other user's tries use none of the owner's
// attempts.
func TestNotFoundIsTheSameForAll(t *testing.T) {
	e := newEnv(t, config())
	victim := e.caller(victimSub, nil)
	attacker := e.caller(attackerSub, nil)
	id := e.startOK(t, victim, `{"email": "victim@example.com"}`).str("changeId")
	code := e.box.lastCode(t, "victim@example.com")

	var bodies []reply
	for range 5 {
		bodies = append(bodies, e.verify(t, attacker, id, code)) // another user's change
	}
	bodies = append(bodies, e.verify(t, attacker, base64.RawURLEncoding.EncodeToString(make([]byte, 16)), code)) // unknown
	bodies = append(bodies, e.verify(t, attacker, "not-an-id", code))                                            // malformed
	// The victim still has all attempts: the fake store saw no attempt by the attacker.
	if p := e.fake.pending(); len(p) != 1 || p[0].Attempts != 0 {
		t.Fatalf("another user's answers counted: %+v", p)
	}
	e.clk.Add(otp.DefaultTTL)
	bodies = append(bodies, e.verify(t, victim, id, code)) // expired
	for i, b := range bodies {
		if !reflect.DeepEqual(b, bodies[0]) || b.status != 404 || b.str("code") != contact.CodeNotFound {
			t.Errorf("answer %d: %d %v; want the same 404 as %v", i, b.status, b.body, bodies[0].body)
		}
	}
	if n := len(e.idp.updates()); n != 0 {
		t.Fatalf("%d Cognito calls", n)
	}
}

// TestOwnerCompletesDespiteOthers: after another user's tries, the owner's right code still works.
func TestOwnerCompletesDespiteOthers(t *testing.T) {
	e := newEnv(t, config())
	victim := e.caller(victimSub, nil)
	id := e.startOK(t, victim, `{"email": "victim@example.com"}`).str("changeId")
	code := e.box.lastCode(t, "victim@example.com")
	for range 5 {
		e.verify(t, e.caller(attackerSub, nil), id, code)
	}
	if r := e.verify(t, victim, id, code); r.status != 200 {
		t.Fatalf("owner: %d %v", r.status, r.body)
	}
}

// TestAddressInUse: Cognito finds the address on another account: 409 address_in_use, and the
// change is used up (a retry needs a new change).
func TestAddressInUse(t *testing.T) {
	for _, code := range []string{"AliasExistsException", "UsernameExistsException"} {
		e := newEnv(t, config())
		c := e.caller(victimSub, nil)
		id := e.startOK(t, c, `{"email": "taken@example.com"}`).str("changeId")
		e.idp.setErr(apiErr(code))
		r := e.verify(t, c, id, e.box.lastCode(t, "taken@example.com"))
		if r.status != 409 || r.str("code") != contact.CodeAddressInUse {
			t.Fatalf("%s: %d %v, want 409 address_in_use", code, r.status, r.body)
		}
		if strings.Contains(e.logText(), "taken@example.com") {
			t.Fatalf("%s: the address reached the log", code)
		}
	}
	// Any other failure is a 500 that says nothing.
	e := newEnv(t, config())
	c := e.caller(victimSub, nil)
	id := e.startOK(t, c, `{"email": "x@example.com"}`).str("changeId")
	e.idp.setErr(apiErr("InternalErrorException"))
	if r := e.verify(t, c, id, e.box.lastCode(t, "x@example.com")); r.status != 500 || r.str("code") != contact.CodeInternal {
		t.Fatalf("Cognito failure: %d %v", r.status, r.body)
	}
	if strings.Contains(e.logText(), "victim@example.com") || strings.Contains(e.logText(), "x@example.com") {
		t.Fatal("an address reached the log")
	}
}

// TestOldAddressNotified: the previous verified address is told, with the new one masked and no
// code; when the kind of address is new, the other verified address is told it was added; an
// unverified old address is not written to; a failed notice does not fail the change.
func TestOldAddressNotified(t *testing.T) {
	type msg struct{ to, contains string }
	for _, tc := range []struct {
		name  string
		attrs map[string]string
		body  string
		newTo string
		want  []msg // notices (besides the code message)
	}{
		{"email changed", map[string]string{"email": "old@example.com", "email_verified": "true"},
			`{"email": "new@example.org"}`, "new@example.org",
			[]msg{{"old@example.com", "was changed to n***@e***.org"}}},
		{"phone changed", map[string]string{"phone_number": "+447400111222", "phone_number_verified": "true", "email": "me@example.com", "email_verified": "true"},
			`{"phoneNumber": "+447400123456"}`, "+447400123456",
			[]msg{{"+447400111222", "was changed to +44*******456"}}},
		{"phone added, email told", map[string]string{"email": "me@example.com", "email_verified": "true"},
			`{"phoneNumber": "+447400123456"}`, "+447400123456",
			[]msg{{"me@example.com", "+44*******456 was added"}}},
		{"email added, phone told", map[string]string{"phone_number": "+447400111222", "phone_number_verified": "true"},
			`{"email": "new@example.org"}`, "new@example.org",
			[]msg{{"+447400111222", "n***@e***.org added"}}},
		{"unverified old email: the verified phone is told", map[string]string{"email": "old@example.com", "email_verified": "false", "phone_number": "+447400111222", "phone_number_verified": "true"},
			`{"email": "new@example.org"}`, "new@example.org",
			[]msg{{"+447400111222", "added"}}},
		{"nothing verified: nobody told", map[string]string{"email": "old@example.com"},
			`{"email": "new@example.org"}`, "new@example.org", nil},
		{"same address verified now", map[string]string{"email": "me@example.com", "email_verified": "false"},
			`{"email": "me@example.com"}`, "me@example.com", nil},
	} {
		e := newEnv(t, config())
		c := e.caller(victimSub, tc.attrs)
		id := e.startOK(t, c, tc.body).str("changeId")
		code := e.box.lastCode(t, tc.newTo)
		if r := e.verify(t, c, id, code); r.status != 200 {
			t.Fatalf("%s: %d %v", tc.name, r.status, r.body)
		}
		if n := e.box.Len(); n != 1+len(tc.want) {
			t.Errorf("%s: %d messages sent, want %d", tc.name, n, 1+len(tc.want))
		}
		for _, w := range tc.want {
			var texts []string
			for _, m := range e.box.EmailsTo(w.to) {
				texts = append(texts, m.Subject, m.Text, m.HTML)
			}
			for _, m := range e.box.SMSTo(w.to) {
				texts = append(texts, m.Message)
			}
			if len(texts) == 0 {
				t.Errorf("%s: nothing sent to the old address", tc.name)
				continue
			}
			all := strings.Join(texts, "\n")
			if !strings.Contains(all, w.contains) {
				t.Errorf("%s: notice lacks %q:\n%s", tc.name, w.contains, all)
			}
			if strings.Contains(all, code) || strings.Contains(all, tc.newTo) || strings.Contains(all, "http") {
				t.Errorf("%s: notice holds the code, the new address or a link:\n%s", tc.name, all)
			}
		}
	}

	// A failed notice is logged; the change stands.
	e := newEnv(t, config())
	c := e.caller(victimSub, map[string]string{"email": "old@example.com", "email_verified": "true"})
	id := e.startOK(t, c, `{"email": "new@example.org"}`).str("changeId")
	code := e.box.lastCode(t, "new@example.org")
	e.box.SetErr(apiErr("Throttling"))
	if r := e.verify(t, c, id, code); r.status != 200 || len(e.idp.updates()) != 1 {
		t.Fatalf("failed notice: %d %v, %d Cognito calls", r.status, r.body, len(e.idp.updates()))
	}
	if logs := e.logText(); !strings.Contains(logs, "notice") || strings.Contains(logs, "old@example.com") {
		t.Fatalf("failed notice not logged, or logged with the address:\n%s", logs)
	}
}

// TestStartNeedsRecentSignIn: the same freshness as device-key registration.
func TestStartNeedsRecentSignIn(t *testing.T) {
	e := newEnv(t, config())
	for name, at := range map[string]time.Time{
		"no auth_time":   {},
		"6 minutes ago":  t0.Add(-6 * time.Minute),
		"in the future":  t0.Add(2 * time.Minute),
		"a day ago":      t0.Add(-24 * time.Hour),
		"just too stale": t0.Add(-contact.DefaultMaxAuthAge - time.Second),
	} {
		c := e.caller(victimSub, nil)
		c.AuthTime = at
		r := e.start(t, c, `{"email": "me@example.com"}`)
		if r.status != 403 || r.str("code") != contact.CodeStaleAuth {
			t.Errorf("%s: %d %v, want 403 stale_auth", name, r.status, r.body)
		}
	}
	c := e.caller(victimSub, nil)
	c.AuthTime = t0.Add(-contact.DefaultMaxAuthAge)
	e.startOK(t, c, `{"email": "me@example.com"}`)
	if e.box.Len() != 1 {
		t.Fatalf("%d messages", e.box.Len())
	}

	cfg := config()
	cfg.MaxAuthAge = time.Hour
	e = newEnv(t, cfg)
	c = e.caller(victimSub, nil)
	c.AuthTime = t0.Add(-50 * time.Minute)
	e.startOK(t, c, `{"email": "me@example.com"}`)
}

func TestStartRefuses(t *testing.T) {
	emailOnly := config()
	emailOnly.Phone = false
	for _, tc := range []struct {
		name   string
		cfg    *contact.Config
		attrs  map[string]string
		body   string
		status int
		code   string
	}{
		{"empty body", nil, nil, ``, 400, "bad_json"},
		{"not JSON", nil, nil, `email=a@b.c`, 400, "bad_json"},
		{"array", nil, nil, `["a@example.com"]`, 400, "bad_json"},
		{"neither", nil, nil, `{}`, 400, "bad_json"},
		{"both", nil, nil, `{"email": "a@example.com", "phoneNumber": "+447400123456"}`, 400, "bad_json"},
		{"unknown member", nil, nil, `{"email": "a@example.com", "x": 1}`, 400, "bad_json"},
		{"duplicate member", nil, nil, `{"email": "a@example.com", "email": "b@example.com"}`, 400, "bad_json"},
		{"not a string", nil, nil, `{"email": 7}`, 400, "bad_json"},
		{"null", nil, nil, `{"phoneNumber": null}`, 400, "bad_json"},
		{"trailing data", nil, nil, `{"email": "a@example.com"} x`, 400, "bad_json"},
		{"not UTF-8", nil, nil, "{\"email\": \"a\xff@example.com\"}", 400, "bad_json"},
		{"bad email", nil, nil, `{"email": "not an address"}`, 400, "bad_address"},
		{"display name", nil, nil, `{"email": "A <a@example.com>"}`, 400, "bad_address"},
		{"two addresses", nil, nil, `{"email": "a@example.com,b@example.com"}`, 400, "bad_address"},
		{"CRLF", nil, nil, `{"email": "a@example.com\r\nBcc: b@example.com"}`, 400, "bad_address"},
		{"no dot in domain", nil, nil, `{"email": "a@localhost"}`, 400, "bad_address"},
		{"long email", nil, nil, `{"email": "` + strings.Repeat("a", 250) + `@example.com"}`, 400, "bad_address"},
		{"national phone", nil, nil, `{"phoneNumber": "07700900123"}`, 400, "bad_address"},
		{"phone with spaces", nil, nil, `{"phoneNumber": "+44 7700 900123"}`, 400, "bad_address"},
		{"phone not allowed", nil, nil, `{"phoneNumber": "+8613800138000"}`, 400, "bad_address"},
		{"Caribbean number under +1", nil, nil, `{"phoneNumber": "+18765550123"}`, 400, "bad_address"},
		{"premium rate", nil, nil, `{"phoneNumber": "+19005550100"}`, 400, "bad_address"},
		{"not a mobile number", nil, nil, `{"phoneNumber": "+447700900123"}`, 400, "bad_address"},
		{"same verified phone, stored with the trunk 0", nil, map[string]string{"phone_number": "+4407400123456", "phone_number_verified": "true"}, `{"phoneNumber": "+447400123456"}`, 400, "unchanged"},
		{"same verified phone, written with the trunk 0", nil, map[string]string{"phone_number": "+447400123456", "phone_number_verified": "true"}, `{"phoneNumber": "+4407400123456"}`, 400, "unchanged"},
		{"phone in an email-only app", &emailOnly, nil, `{"phoneNumber": "+447400123456"}`, 400, "unsupported"},
		{"same verified email", nil, map[string]string{"email": "Me@Example.com", "email_verified": "true"}, `{"email": "me@example.com"}`, 400, "unchanged"},
		{"same verified phone", nil, map[string]string{"phone_number": "+447400123456", "phone_number_verified": "true"}, `{"phoneNumber": "+447400123456"}`, 400, "unchanged"},
	} {
		cfg := config()
		if tc.cfg != nil {
			cfg = *tc.cfg
		}
		e := newEnv(t, cfg)
		r := e.start(t, e.caller(victimSub, tc.attrs), tc.body)
		if r.status != tc.status || r.str("code") != tc.code {
			t.Errorf("%s: %d %v, want %d %s", tc.name, r.status, r.body, tc.status, tc.code)
		}
		if n := e.box.Len(); n != 0 {
			t.Errorf("%s: %d messages sent", tc.name, n)
		}
		if p := e.fake.pending(); len(p) != 0 {
			t.Errorf("%s: change stored", tc.name)
		}
	}
}

func TestVerifyRefusesMalformed(t *testing.T) {
	e := newEnv(t, config())
	c := e.caller(victimSub, nil)
	id := e.startOK(t, c, `{"email": "me@example.com"}`).str("changeId")
	for name, body := range map[string]string{
		"empty":          ``,
		"missing code":   `{"changeId": "` + id + `"}`,
		"code number":    `{"changeId": "` + id + `", "code": 123456}`,
		"unknown member": `{"changeId": "` + id + `", "code": "123456", "x": ""}`,
	} {
		r := decode(t, e.svc.Verify(context.Background(), c, []byte(body)))
		if r.status != 400 || r.str("code") != contact.CodeBadJSON {
			t.Errorf("%s: %d %v", name, r.status, r.body)
		}
	}
	// A code of the wrong shape uses no attempt.
	for _, code := range []string{"", "12345", "1234567", "12345a", "١٢٣٤٥٦"} {
		r := e.verify(t, c, id, code)
		if r.status != 400 || r.str("code") != contact.CodeBadCode {
			t.Errorf("code %q: %d %v", code, r.status, r.body)
		}
	}
	if p := e.fake.pending(); len(p) != 1 || p[0].Attempts != 0 {
		t.Fatalf("malformed codes used attempts: %+v", p)
	}
	if r := e.verify(t, c, id, " "+e.box.lastCode(t, "me@example.com")+" "); r.status != 200 {
		t.Fatalf("right code with spaces: %d %v", r.status, r.body)
	}
}

// TestRateLimits: per user, then per new address.
func TestRateLimits(t *testing.T) {
	e := newEnv(t, config())
	c := e.caller(victimSub, nil)
	for i := range 5 {
		e.startOK(t, c, `{"email": "a`+string(rune('0'+i))+`@example.com"}`)
	}
	r := e.start(t, c, `{"email": "a9@example.com"}`)
	if r.status != 429 || r.str("code") != contact.CodeRateLimited {
		t.Fatalf("6th change in an hour: %d %v", r.status, r.body)
	}
	// Another user, the same address within the minute: refused; the address's budget is shared
	// (normalised: case does not make a new recipient).
	other := e.caller(attackerSub, nil)
	r = e.start(t, other, `{"email": "A0@EXAMPLE.com"}`)
	if r.status != 429 {
		t.Fatalf("second code to one address within a minute: %d %v", r.status, r.body)
	}
	e.clk.Add(time.Minute)
	e.startOK(t, other, `{"email": "A0@EXAMPLE.com"}`)
	if n := e.box.Len(); n != 6 {
		t.Fatalf("%d messages, want 6", n)
	}
}

func TestFailuresAnswer500WithoutDetail(t *testing.T) {
	// The send fails.
	e := newEnv(t, config())
	e.box.SetErr(apiErr("MessageRejected"))
	r := e.start(t, e.caller(victimSub, nil), `{"email": "victim@example.com"}`)
	if r.status != 500 || r.str("code") != contact.CodeInternal || strings.Contains(r.str("message"), "Rejected") {
		t.Fatalf("send failure: %d %v", r.status, r.body)
	}
	if logs := e.logText(); !strings.Contains(logs, "MessageRejected") || strings.Contains(logs, "victim@example.com") {
		t.Fatalf("send failure log:\n%s", logs)
	}
	// The store fails.
	e = newEnv(t, config())
	e.fake.err = errBoom
	if r := e.start(t, e.caller(victimSub, nil), `{"email": "victim@example.com"}`); r.status != 500 {
		t.Fatalf("store failure: %d %v", r.status, r.body)
	}
	if e.box.Len() != 0 {
		t.Fatal("sent although the store failed")
	}
	// No attributes from Cognito: fail closed.
	e = newEnv(t, config())
	c := e.caller(victimSub, nil)
	c.Attributes = nil
	if r := e.start(t, c, `{"email": "victim@example.com"}`); r.status != 500 {
		t.Fatalf("nil attributes: %d %v", r.status, r.body)
	}
	if r := e.verify(t, c, base64.RawURLEncoding.EncodeToString(make([]byte, 16)), "123456"); r.status != 500 {
		t.Fatalf("nil attributes, verify: %d %v", r.status, r.body)
	}
	// No caller.
	if r := e.start(t, contact.Caller{Attributes: map[string]string{}, AuthTime: t0}, `{"email": "victim@example.com"}`); r.status != 401 {
		t.Fatalf("no sub: %d %v", r.status, r.body)
	}
}

// TestNoCodeOrAddressInLogs runs complete changes and checks the log.
func TestNoCodeOrAddressInLogs(t *testing.T) {
	e := newEnv(t, config())
	c := e.caller(victimSub, map[string]string{"email": "old-addr@example.com", "email_verified": "true", "phone_number": "+447400111222", "phone_number_verified": "true"})
	var secrets []string
	for _, tc := range []struct{ body, to string }{
		{`{"email": "fresh-addr@example.org"}`, "fresh-addr@example.org"},
		{`{"phoneNumber": "+447400123456"}`, "+447400123456"},
	} {
		r := e.startOK(t, c, tc.body)
		code := e.box.lastCode(t, tc.to)
		e.verify(t, c, r.str("changeId"), wrongCode(code))
		if v := e.verify(t, c, r.str("changeId"), code); v.status != 200 {
			t.Fatalf("%s: %d %v", tc.body, v.status, v.body)
		}
		secrets = append(secrets, code, tc.to, r.str("destination"))
	}
	secrets = append(secrets, "old-addr", "fresh-addr", "+447400111222", "7400123456", victimSub)
	logs := e.logText()
	if logs == "" {
		t.Fatal("nothing logged")
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("log holds %q:\n%s", s, logs)
		}
	}
}

// TestCodeNeverStored: the pending change holds a salted digest, not the code.
func TestCodeNeverStored(t *testing.T) {
	e := newEnv(t, config())
	e.startOK(t, e.caller(victimSub, nil), `{"email": "me@example.com"}`)
	code := e.box.lastCode(t, "me@example.com")
	p := e.fake.pending()
	if len(p) != 1 {
		t.Fatalf("%d changes", len(p))
	}
	if len(p[0].Salt) != otp.SaltBytes || len(p[0].Digest) != 32 || p[0].Owner != victimSub || p[0].Attribute != "email" || p[0].Value != "me@example.com" {
		t.Fatalf("change %+v", p[0])
	}
	if strings.Contains(string(p[0].Digest)+string(p[0].Salt)+p[0].ID, code) {
		t.Fatal("the code is stored")
	}
	if !p[0].ExpiresAt.Equal(t0.Add(otp.DefaultTTL)) {
		t.Fatalf("expiry %s", p[0].ExpiresAt)
	}
}

// TestDigestBindsTheChange: a digest copied onto another value (someone who could write the
// table) does not verify.
func TestDigestBindsTheChange(t *testing.T) {
	e := newEnv(t, config())
	c := e.caller(victimSub, nil)
	id := e.startOK(t, c, `{"email": "me@example.com"}`).str("changeId")
	code := e.box.lastCode(t, "me@example.com")
	e.fake.mu.Lock()
	ch := e.fake.changes[id]
	ch.Value = "attacker@example.net"
	e.fake.changes[id] = ch
	e.fake.mu.Unlock()
	if r := e.verify(t, c, id, code); r.status != 400 || r.str("code") != contact.CodeWrongCode {
		t.Fatalf("tampered value: %d %v", r.status, r.body)
	}
	if len(e.idp.updates()) != 0 {
		t.Fatal("Cognito called for a tampered change")
	}
}

func TestNewChecksDeps(t *testing.T) {
	ok := contact.Deps{Store: newFakeStore(time.Now), Keys: nil, Users: &cognito{}, Email: &inbox{}, SMS: &inbox{}}
	if _, err := contact.New(config(), ok); err == nil {
		t.Error("no key source: accepted")
	}
	for name, cfg := range map[string]contact.Config{
		"no pool":        {Email: true, Code: otp.Config{EmailFrom: sender}},
		"no attributes":  {UserPoolID: poolID, Code: otp.Config{EmailFrom: sender}},
		"no sender":      {UserPoolID: poolID, Email: true},
		"ttl too long":   {UserPoolID: poolID, Email: true, Code: otp.Config{EmailFrom: sender, TTL: 11 * time.Minute}},
		"attempts":       {UserPoolID: poolID, Email: true, Code: otp.Config{EmailFrom: sender}, MaxAttempts: 11},
		"bad user limit": {UserPoolID: poolID, Email: true, Code: otp.Config{EmailFrom: sender}, UserLimits: []store.Limit{}},
	} {
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: valid", name)
		}
	}
	cfg := config()
	for name, d := range map[string]contact.Deps{
		"no store": {Users: &cognito{}, Email: &inbox{}, SMS: &inbox{}},
		"no users": {Store: newFakeStore(time.Now), Email: &inbox{}, SMS: &inbox{}},
		"no email": {Store: newFakeStore(time.Now), Users: &cognito{}, SMS: &inbox{}},
		"no SMS":   {Store: newFakeStore(time.Now), Users: &cognito{}, Email: &inbox{}},
	} {
		if _, err := contact.New(cfg, d); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestPhoneNormalised (issue 10, attack 11): a number written with its trunk 0 after the country
// code is one recipient with the plain one: it is stored and sent to in E.164, and shares the
// plain number's send limit.
func TestPhoneNormalised(t *testing.T) {
	e := newEnv(t, config())
	c := e.caller(victimSub, nil)
	r := e.startOK(t, c, `{"phoneNumber": "+4407400123456"}`)
	if got := e.box.SMSTo("+447400123456"); len(got) != 1 {
		t.Fatalf("%d SMS to the E.164 form", len(got))
	}
	if v := e.verify(t, c, r.str("changeId"), e.box.lastCode(t, "+447400123456")); v.status != 200 || v.str("phoneNumber") != "+447400123456" {
		t.Fatalf("verify: %d %v", v.status, v.body)
	}
	if u := e.idp.updates(); len(u) != 1 || u[0].UserAttributes[0].Value != "+447400123456" {
		t.Fatalf("Cognito got %+v", u)
	}
	if r := e.start(t, e.caller(attackerSub, nil), `{"phoneNumber": "+447400123456"}`); r.status != 429 {
		t.Fatalf("the same number written the other way within a minute: %d %v", r.status, r.body)
	}
}

// TestEmailSubaddressesShareALimit (issue 10, attack 12): "victim+1@..." is the victim's inbox.
func TestEmailSubaddressesShareALimit(t *testing.T) {
	e := newEnv(t, config())
	e.startOK(t, e.caller(attackerSub, nil), `{"email": "v.ictim@gmail.com"}`)
	for _, addr := range []string{"victim+1@gmail.com", "VICTIM@googlemail.com", "vic.tim+x@gmail.com"} {
		if r := e.start(t, e.caller(victimSub, nil), `{"email": "`+addr+`"}`); r.status != 429 {
			t.Errorf("%s within a minute: %d %v", addr, r.status, r.body)
		}
	}
	if n := e.box.Len(); n != 1 {
		t.Fatalf("%d codes into one inbox, want 1", n)
	}
}

// TestSMSBudget (issue 10, attack 11): codes to new numbers count against the deployment-wide
// budget of SMS to unverified numbers; email changes do not.
func TestSMSBudget(t *testing.T) {
	cfg := config()
	cfg.Code.SMSUnverifiedLimits = []store.Limit{{Window: time.Hour, Max: 2}}
	e := newEnv(t, cfg)
	numbers := []string{"+447400123451", "+447400123452", "+447400123453"}
	for i, n := range numbers {
		r := e.start(t, e.caller(fmt.Sprint("user-", i), nil), `{"phoneNumber": "`+n+`"}`)
		if want := map[bool]int{true: 202, false: 429}[i < 2]; r.status != want {
			t.Fatalf("number %d: %d %v, want %d", i+1, r.status, r.body, want)
		}
	}
	if len(e.box.SMSTo(numbers[2])) != 0 {
		t.Fatal("an SMS went out over the budget")
	}
	e.startOK(t, e.caller("user-9", nil), `{"email": "me@example.com"}`)
}

// TestCodeSMSOnePart: the code SMS the service sends is one SMS part with an app name that makes
// it UCS-2 (70 characters in one part): it leaves the name out rather than send two. Before, the
// code path rendered the full template whatever its length.
func TestCodeSMSOnePart(t *testing.T) {
	cfg := config()
	cfg.Code.AppName = "Señal Ópera y Café Olé"
	e := newEnv(t, cfg)
	e.startOK(t, e.caller(victimSub, nil), `{"phoneNumber": "+447400123456"}`)
	got := e.box.SMSTo("+447400123456")
	if len(got) != 1 {
		t.Fatalf("%d SMS", len(got))
	}
	if m := got[0].Message; delivery.SMSParts(m) != 1 || strings.Contains(m, "Ópera") {
		t.Errorf("code SMS is %d parts: %q", delivery.SMSParts(m), m)
	}
}
