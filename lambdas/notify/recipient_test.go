package notify_test

import (
	"context"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/notify"
)

// Who is told: the verified email address; the verified phone only when it is the only contact
// that can be written to; never an unverified address.
func TestRecipientSelection(t *testing.T) {
	type want struct{ email, sms string }
	for _, tc := range []struct {
		name      string
		attrs     map[string]string
		noFrom    bool
		countries []string
		want      want
	}{
		{"verified email", verifiedEmail(), false, nil, want{email: email}},
		{"verified phone only", verifiedPhone(), false, nil, want{sms: phoneNo}},
		{"both verified: email only", map[string]string{"email": email, "email_verified": "true", "phone_number": phoneNo, "phone_number_verified": "true"}, false, nil, want{email: email}},
		{"unverified email, verified phone", map[string]string{"email": email, "email_verified": "false", "phone_number": phoneNo, "phone_number_verified": "true"}, false, nil, want{sms: phoneNo}},
		{"nothing verified", map[string]string{"email": email, "email_verified": "false", "phone_number": phoneNo, "phone_number_verified": "false"}, false, nil, want{}},
		{"flags missing", map[string]string{"email": email, "phone_number": phoneNo}, false, nil, want{}},
		{"flag not exactly true", map[string]string{"email": email, "email_verified": "True", "phone_number": phoneNo, "phone_number_verified": "1"}, false, nil, want{}},
		{"no attributes", nil, false, nil, want{}},
		{"verified but malformed email", map[string]string{"email": "not-an-address", "email_verified": "true"}, false, nil, want{}},
		{"verified email, no EMAIL_FROM, verified phone", map[string]string{"email": email, "email_verified": "true", "phone_number": phoneNo, "phone_number_verified": "true"}, true, nil, want{sms: phoneNo}},
		{"verified email, no EMAIL_FROM, no phone", verifiedEmail(), true, nil, want{}},
		{"phone outside allowed countries", verifiedPhone(), false, []string{"FR"}, want{}},
		{"phone in allowed prefix", verifiedPhone(), false, []string{"+4474"}, want{sms: phoneNo}},
		{"premium-rate phone", map[string]string{"phone_number": "+449098790123", "phone_number_verified": "true"}, false, nil, want{}},
		{"not a phone number", map[string]string{"phone_number": "+44abc", "phone_number_verified": "true"}, false, nil, want{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, func(c *notify.Config) {
				if tc.noFrom {
					c.EmailFrom = ""
				}
				c.SMSAllowedCountries = tc.countries
			})
			r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.PasskeyAdded, UserPoolID: pool, UserName: userName, Attributes: tc.attrs, ID: "1"})
			emails, sms := r.aws.sent()
			var got want
			if len(emails) > 1 || len(sms) > 1 || len(emails)+len(sms) > 1 {
				t.Fatalf("%d emails, %d SMS", len(emails), len(sms))
			}
			if len(emails) == 1 {
				got.email = emails[0].To[0]
			}
			if len(sms) == 1 {
				got.sms = sms[0].PhoneNumber
			}
			if got != tc.want {
				t.Fatalf("sent to %+v, want %+v", got, tc.want)
			}
			if got == (want{}) && r.st.claims != 0 {
				t.Fatalf("nothing to send but %d claims written", r.st.claims)
			}
		})
	}
}

// contact_changed: the old address is told as well, once, and only when it is usable.
func TestContactChangedOldAddress(t *testing.T) {
	for _, tc := range []struct {
		name   string
		old    string
		emails int
		sms    int
	}{
		{"old email", oldEmail, 2, 0},
		{"old phone", oldPhoneNo, 1, 1},
		{"same as current", email, 1, 0},
		{"same as current, other case", "Alice.Smith@Example.org", 1, 0},
		{"malformed", "nobody", 1, 0},
		{"old phone not allowed", "+34612345678", 1, 0},
		{"none (attribute added)", "", 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil)
			r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.ContactChanged, UserPoolID: pool, UserName: userName,
				Attributes: verifiedEmail(), Detail: map[string]string{notify.DetailOldAddress: tc.old}, ID: "1"})
			emails, sms := r.aws.sent()
			if len(emails) != tc.emails || len(sms) != tc.sms {
				t.Fatalf("%d emails, %d SMS; want %d, %d", len(emails), len(sms), tc.emails, tc.sms)
			}
		})
	}
	// Old address for other kinds is ignored.
	r := newRig(t, nil)
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName,
		Attributes: verifiedEmail(), Detail: map[string]string{notify.DetailOldAddress: oldEmail}, ID: "1"})
	if emails, _ := r.aws.sent(); len(emails) != 1 || emails[0].To[0] != email {
		t.Fatalf("key_added with an old address sent %v", emails)
	}
}
