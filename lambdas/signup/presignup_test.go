package signup_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/signup"
)

func preSignUpEvent(source string, a map[string]string) events.CognitoEventUserPoolsPreSignup {
	ev := events.CognitoEventUserPoolsPreSignup{CognitoEventUserPoolsHeader: header(source)}
	ev.Request.UserAttributes = a
	// Whatever came in, the trigger decides the response itself.
	ev.Response = events.CognitoEventUserPoolsPreSignupResponse{AutoConfirmUser: true, AutoVerifyEmail: true, AutoVerifyPhone: true}
	return ev
}

func TestPreSignUpFixture(t *testing.T) {
	ev := fixture[events.CognitoEventUserPoolsPreSignup](t, "presignup.json")
	out, err := (&signup.PreSignUp{Email: true}).Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if r := out.Response; !r.AutoConfirmUser || r.AutoVerifyEmail || r.AutoVerifyPhone {
		t.Errorf("response = %+v, want auto-confirm only", r)
	}
}

func TestPreSignUpAccepts(t *testing.T) {
	email, phone, both := &signup.PreSignUp{Email: true}, &signup.PreSignUp{Phone: true}, &signup.PreSignUp{Email: true, Phone: true}
	for _, tc := range []struct {
		name string
		p    *signup.PreSignUp
		a    map[string]string
	}{
		{"email", email, map[string]string{"email": "alice@example.com"}},
		{"email with plus and subdomain", email, map[string]string{"email": "alice+tag@mail.example.co.uk"}},
		{"email with other attributes", email, map[string]string{"email": "bob@example.org", "name": "Bob", "locale": "en"}},
		{"phone", phone, map[string]string{"phone_number": "+447700900123"}},
		{"short phone", phone, map[string]string{"phone_number": "+1234567"}},
		{"15-digit phone", phone, map[string]string{"phone_number": "+123456789012345"}},
		{"both pool, email only", both, map[string]string{"email": "alice@example.com"}},
		{"both pool, phone only", both, map[string]string{"phone_number": "+14155550100"}},
		// The Username is the address; Cognito fills the attribute (the trigger may not see it).
		{"address in the Username only", both, nil},
		{"address in the Username, other attributes", email, map[string]string{"name": "Alice"}},
	} {
		for _, source := range []string{"PreSignUp_SignUp", "PreSignUp_AdminCreateUser"} {
			out, err := tc.p.Handle(context.Background(), preSignUpEvent(source, tc.a))
			if err != nil {
				t.Errorf("%s (%s): refused: %v", tc.name, source, err)
				continue
			}
			if r := out.Response; !r.AutoConfirmUser || r.AutoVerifyEmail || r.AutoVerifyPhone {
				t.Errorf("%s (%s): response = %+v, want auto-confirm only", tc.name, source, r)
			}
		}
	}
}

func TestPreSignUpRefuses(t *testing.T) {
	email, phone, both := &signup.PreSignUp{Email: true}, &signup.PreSignUp{Phone: true}, &signup.PreSignUp{Email: true, Phone: true}
	for _, tc := range []struct {
		name string
		p    *signup.PreSignUp
		a    map[string]string
		msg  string // part of the message the user sees
	}{
		{"empty email", email, map[string]string{"email": ""}, "not valid"},
		{"no at sign", email, map[string]string{"email": "alice.example.com"}, "not valid"},
		{"display name", email, map[string]string{"email": "Alice <alice@example.com>"}, "not valid"},
		{"angle brackets", email, map[string]string{"email": "<alice@example.com>"}, "not valid"},
		{"trailing space", email, map[string]string{"email": "alice@example.com "}, "not valid"},
		{"two addresses", email, map[string]string{"email": "alice@example.com, bob@example.com"}, "not valid"},
		{"comment", email, map[string]string{"email": "alice@example.com (Alice)"}, "not valid"},
		{"too long", email, map[string]string{"email": strings.Repeat("a", 64) + "@" + strings.Repeat("b", 190) + ".com"}, "too long"},
		{"bad email beside good phone", both, map[string]string{"email": "nope", "phone_number": "+447700900123"}, "not valid"},
		{"national phone", phone, map[string]string{"phone_number": "07700900123"}, "E.164"},
		{"phone with spaces", phone, map[string]string{"phone_number": "+44 7700 900123"}, "E.164"},
		{"phone with dashes", phone, map[string]string{"phone_number": "+1-415-555-0100"}, "E.164"},
		{"phone leading zero", phone, map[string]string{"phone_number": "+07700900123"}, "E.164"},
		{"phone too short", phone, map[string]string{"phone_number": "+123456"}, "E.164"},
		{"phone too long", phone, map[string]string{"phone_number": "+1234567890123456"}, "E.164"},
		{"phone with newline", phone, map[string]string{"phone_number": "+447700900123\n"}, "E.164"},
		{"empty phone", phone, map[string]string{"phone_number": ""}, "E.164"},
		{"bad phone beside good email", both, map[string]string{"email": "alice@example.com", "phone_number": "12"}, "E.164"},
		{"email in a phone pool", phone, map[string]string{"email": "alice@example.com"}, "email"},
		{"phone in an email pool", email, map[string]string{"phone_number": "+447700900123"}, "phone"},
		{"phone beside email in an email pool", email, map[string]string{"email": "alice@example.com", "phone_number": "+447700900123"}, "phone"},
		{"zero value trigger", &signup.PreSignUp{}, map[string]string{"email": "alice@example.com"}, "email"},
	} {
		out, err := tc.p.Handle(context.Background(), preSignUpEvent("PreSignUp_SignUp", tc.a))
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: message %q lacks %q", tc.name, err, tc.msg)
		}
		if r := out.Response; r.AutoConfirmUser || r.AutoVerifyEmail || r.AutoVerifyPhone {
			t.Errorf("%s: refused sign-up with response %+v", tc.name, r)
		}
	}
}

// TestPreSignUpOneContactAttribute (issue 10, attack 1a): a self sign-up that carries the
// victim's email address beside the attacker's own phone number is refused, in either order of
// pool configuration; so is any sign-up that tries to mark an address verified. The user signs up
// with the one address they sign in with and adds another after signing in (POST /me/contact).
func TestPreSignUpOneContactAttribute(t *testing.T) {
	both := &signup.PreSignUp{Email: true, Phone: true}
	for _, tc := range []struct {
		name string
		a    map[string]string
		msg  string
	}{
		{"attack 1a: victim email + attacker phone", map[string]string{"email": "victim@example.com", "phone_number": "+447700900123"}, "one address"},
		{"both with a name", map[string]string{"email": "alice@example.com", "phone_number": "+14155550100", "name": "A"}, "add another after signing in"},
		{"email_verified", map[string]string{"email": "alice@example.com", "email_verified": "true"}, "verified"},
		{"email_verified false", map[string]string{"email": "alice@example.com", "email_verified": "false"}, "verified"},
		{"phone_number_verified", map[string]string{"phone_number": "+14155550100", "phone_number_verified": "true"}, "verified"},
		{"other address verified", map[string]string{"email": "alice@example.com", "phone_number_verified": "true"}, "verified"},
		{"custom verified", map[string]string{"email": "alice@example.com", "custom:email_verified": "true"}, "verified"},
	} {
		for _, source := range []string{"PreSignUp_SignUp", "PreSignUp_ExternalProvider", "PreSignUp_SomethingNew", ""} {
			out, err := both.Handle(context.Background(), preSignUpEvent(source, tc.a))
			if err == nil {
				t.Errorf("%s (%s): accepted", tc.name, source)
				continue
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%s (%s): message %q lacks %q", tc.name, source, err, tc.msg)
			}
			if r := out.Response; r.AutoConfirmUser || r.AutoVerifyEmail || r.AutoVerifyPhone {
				t.Errorf("%s (%s): refused sign-up with response %+v", tc.name, source, r)
			}
		}
	}
	if _, err := both.Handle(context.Background(), preSignUpEvent("PreSignUp_SignUp",
		map[string]string{"email": "victim@example.com", "phone_number": "+447700900123"})); err == nil ||
		err.Error() != "sign up with one address; add another after signing in" {
		t.Errorf("attack 1a: error %v, want the documented message", err)
	}
}

// TestPreSignUpAdminCreateUserMayCarryBoth: an administrator is trusted: AdminCreateUser may
// carry both addresses (and the administrator may set verified flags), as before.
func TestPreSignUpAdminCreateUserMayCarryBoth(t *testing.T) {
	both := &signup.PreSignUp{Email: true, Phone: true}
	for _, a := range []map[string]string{
		{"email": "alice@example.com", "phone_number": "+14155550100"},
		{"email": "alice@example.com", "email_verified": "true"},
		{"email": "alice@example.com", "phone_number": "+14155550100", "email_verified": "true", "phone_number_verified": "true"},
	} {
		out, err := both.Handle(context.Background(), preSignUpEvent("PreSignUp_AdminCreateUser", a))
		if err != nil {
			t.Errorf("%v: refused: %v", a, err)
			continue
		}
		if r := out.Response; !r.AutoConfirmUser || r.AutoVerifyEmail || r.AutoVerifyPhone {
			t.Errorf("%v: response = %+v, want auto-confirm only", a, r)
		}
	}
	// The administrator's addresses are still checked for shape and for the pool's aliases.
	if _, err := (&signup.PreSignUp{Email: true}).Handle(context.Background(), preSignUpEvent("PreSignUp_AdminCreateUser",
		map[string]string{"email": "alice@example.com", "phone_number": "+14155550100"})); err == nil {
		t.Error("admin-created user with a phone number in an email-only pool: accepted")
	}
}

func TestPreSignUpFromEnv(t *testing.T) {
	for _, tc := range []struct {
		v            string
		email, phone bool
	}{
		{"email", true, false},
		{"phone", false, true},
		{"email,phone", true, true},
		{"phone,email", true, true},
		{" email , phone ", true, true},
		{"email,", true, false},
		{"email,email", true, false},
	} {
		p, err := signup.FromEnv(func(k string) string {
			if k == signup.EnvSignInAliases {
				return tc.v
			}
			return ""
		}, nil)
		if err != nil {
			t.Errorf("%q: %v", tc.v, err)
			continue
		}
		if p.Email != tc.email || p.Phone != tc.phone {
			t.Errorf("%q: email %v phone %v", tc.v, p.Email, p.Phone)
		}
	}
	for _, v := range []string{"", " ", ",", "sms", "Email", "email,username", "email;phone", "preferred_username"} {
		p, err := signup.FromEnv(func(string) string { return v }, nil)
		if err == nil {
			t.Errorf("%q: accepted as %+v", v, p)
		} else if !strings.Contains(err.Error(), signup.EnvSignInAliases) {
			t.Errorf("%q: error %q does not name %s", v, err, signup.EnvSignInAliases)
		}
	}
	t.Setenv(signup.EnvSignInAliases, "phone")
	p, err := signup.FromEnv(nil, nil)
	if err != nil || p.Email || !p.Phone {
		t.Errorf("from the OS environment: %+v, %v", p, err)
	}
}

// fixture reads testdata/name into an event of type E.
func fixture[E any](t *testing.T, name string) E {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev E
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

func header(trigger string) events.CognitoEventUserPoolsHeader {
	return events.CognitoEventUserPoolsHeader{
		Version:       "1",
		TriggerSource: trigger,
		Region:        "eu-west-1",
		UserPoolID:    "eu-west-1_AbCdEfGhI",
		CallerContext: events.CognitoEventUserPoolsCallerContext{AWSSDKVersion: "aws-sdk-js-3.540.0", ClientID: "1example23456789"},
		UserName:      "d2f4c1a8-5b7e-4c3d-9a1f-0e6b8c7d5a42",
	}
}
