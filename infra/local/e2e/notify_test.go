//go:build unix

package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/passwordless-go/cognito/infra/local/awsmock"
	"github.com/passwordless-go/cognito/infra/local/signin"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/passkey/softauthn"
)

// notifyTests run on the issue-12 stack (TestIssue12).
var notifyTests = []subtest{
	{"DeviceKeys", testNotifyDeviceKeys},
	{"Passkeys", testNotifyPasskeys},
	{"AccountLockedBurst", testNotifyAccountLockedBurst},
	{"ContactChanged", testNotifyContactChanged},
	{"SMSWhenPhoneIsTheOnlyContact", testNotifySMSOnly},
}

// detailText is how a kind's default email text shows detail field = value: the literal text
// around the placeholder {{.Detail.<field>}} (up to the neighbouring placeholders or line ends)
// with value in its place.
func detailText(t testing.TB, k notify.Kind, field, value string) string {
	t.Helper()
	tpl := notify.DefaultTemplatesNoName[k].Text
	ph := "{{.Detail." + field + "}}"
	i := strings.Index(tpl, ph)
	if i < 0 {
		t.Fatalf("the default %s text has no %s", k, ph)
	}
	before, after := tpl[:i], tpl[i+len(ph):]
	if j := strings.LastIndexAny(before, "}\n"); j >= 0 {
		before = before[j+1:]
	}
	if j := strings.IndexAny(after, "{\n"); j >= 0 {
		after = after[:j]
	}
	return before + value + after
}

// nameTag returns a key name no template could hold by chance.
func nameTag(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + base64.RawURLEncoding.EncodeToString(b)
}

// testNotifyDeviceKeys: a first sign-in ever is no news; adding a device key is notified to the
// verified address (no link, not the name the key was given); the first sign-in with that key is
// a new method (notified once: the second is not); DELETE /device-keys removes both keys with one
// key_removed notice holding the count, and a repeat removes and notifies nothing.
func testNotifyDeviceKeys(t *testing.T, s *stack) {
	ctx := ctxT(t, 2*time.Minute)
	u, res := s.verifiedEmailUser(t, "notify-keys")
	s.settle()
	if got := s.notices(u.email, ""); len(got) != 0 {
		t.Fatalf("a first sign-in ever was notified: %s", subjects(got))
	}
	name1 := nameTag("kitchen")
	k1 := newP256(t)
	id1 := s.registerKey(t, aws.ToString(res.AccessToken), k1, name1)
	added := s.waitNotice(t, u.email, notify.KeyAdded, 1)
	s.checkNotice(t, added, name1)

	out, err := s.keySignIn(ctx, u.email, k1, id1)
	keyRes := s.wantTokens(t, "device-key sign-in", out, err, u.sub)
	s.checkNotice(t, s.waitNotice(t, u.email, notify.NewMethodSignIn, 1))
	out, err = s.keySignIn(ctx, u.email, k1, id1)
	s.wantTokens(t, "second device-key sign-in", out, err, u.sub)
	s.settle()
	if n := len(s.notices(u.email, notify.NewMethodSignIn)); n != 1 {
		t.Fatalf("%d new-method notices after signing in twice with one key, want 1", n)
	}

	access := aws.ToString(keyRes.AccessToken) // a recent sign-in
	k2 := newP256(t)
	s.registerKey(t, access, k2, nameTag("phone"))
	s.waitNotice(t, u.email, notify.KeyAdded, 2)

	status, body := s.api(t, http.MethodDelete, "/device-keys", access, nil)
	if status != http.StatusOK || body["removed"] != float64(2) {
		t.Fatalf("DELETE /device-keys: %d %v, want 200 and removed 2", status, body)
	}
	removed := s.waitNotice(t, u.email, notify.KeyRemoved, 1)
	s.checkNotice(t, removed)
	if want := detailText(t, notify.KeyRemoved, notify.DetailCount, "2"); !strings.Contains(removed.Text, want) {
		t.Errorf("key_removed notice does not say %q:\n%s", want, removed.Text)
	}
	status, body = s.api(t, http.MethodDelete, "/device-keys", access, nil)
	if status != http.StatusOK || body["removed"] != float64(0) {
		t.Fatalf("DELETE /device-keys again: %d %v, want 200 and removed 0", status, body)
	}
	s.settle()
	if n := len(s.notices(u.email, notify.KeyRemoved)); n != 1 {
		t.Fatalf("%d key_removed notices, want 1 (a removal of nothing is no news)", n)
	}
	out, err = s.keySignIn(ctx, u.email, k1, id1)
	refusal(t, "a removed key", out, err)
}

// authenticator is a software passkey authenticator for the issue-12 stack's relying party.
func authenticator() *softauthn.Authenticator {
	return &softauthn.Authenticator{RPID: "localhost", Origin: passkeyOrigin, UV: true, BackupEligible: true, BackupState: true}
}

// registerPasskey creates a passkey on a for the holder of access (registration options, the
// authenticator, registration) and returns its credential ID.
func (s *stack) registerPasskey(t testing.TB, access string, a *softauthn.Authenticator, name string) string {
	t.Helper()
	status, opts := s.api(t, http.MethodPost, "/passkeys/registration/options", access, map[string]string{})
	pk, _ := opts["publicKey"].(map[string]any)
	challenge, _ := pk["challenge"].(string)
	userObj, _ := pk["user"].(map[string]any)
	userID, _ := userObj["id"].(string)
	handle, err := base64.RawURLEncoding.DecodeString(userID)
	if status != http.StatusOK || challenge == "" || err != nil || len(handle) == 0 {
		t.Fatalf("POST /passkeys/registration/options: %d %v", status, opts)
	}
	_, cred, err := a.Register(challenge, handle, softauthn.Tweak{})
	if err != nil {
		t.Fatal(err)
	}
	status, body := s.api(t, http.MethodPost, "/passkeys/registration", access,
		map[string]any{"credential": json.RawMessage(cred), "name": name})
	id, _ := body["id"].(string)
	if status != http.StatusCreated || id == "" {
		t.Fatalf("POST /passkeys/registration: %d %v", status, body)
	}
	return id
}

// testNotifyPasskeys: adding a passkey and removing all of them (DELETE /passkeys) are each
// notified once to the verified address.
func testNotifyPasskeys(t *testing.T, s *stack) {
	u, res := s.verifiedEmailUser(t, "notify-passkeys")
	access := aws.ToString(res.AccessToken)
	name := nameTag("laptop")
	s.registerPasskey(t, access, authenticator(), name)
	s.checkNotice(t, s.waitNotice(t, u.email, notify.PasskeyAdded, 1), name)
	status, body := s.api(t, http.MethodDelete, "/passkeys", access, nil)
	if status != http.StatusOK || body["removed"] != float64(1) {
		t.Fatalf("DELETE /passkeys: %d %v, want 200 and removed 1", status, body)
	}
	removed := s.waitNotice(t, u.email, notify.PasskeyRemoved, 1)
	s.checkNotice(t, removed, name)
	if want := detailText(t, notify.PasskeyRemoved, notify.DetailCount, "1"); !strings.Contains(removed.Text, want) {
		t.Errorf("passkey_removed notice does not say %q:\n%s", want, removed.Text)
	}
	s.settle()
	if n, m := len(s.notices(u.email, notify.PasskeyAdded)), len(s.notices(u.email, notify.PasskeyRemoved)); n != 1 || m != 1 {
		t.Fatalf("%d passkey_added and %d passkey_removed notices, want 1 each", n, m)
	}
}

// testNotifyAccountLockedBurst: wrong codes lock the account; a burst of further wrong answers,
// sent at the same moment, each in its own sign-in, is refused, and the owner gets exactly one
// account_locked notice (no code in it).
func testNotifyAccountLockedBurst(t *testing.T, s *stack) {
	const burst = 6
	waitWindow(t, 15*time.Minute, 2*time.Minute) // lockout windows: 15 min, epoch-aligned
	ctx := ctxT(t, 3*time.Minute)
	u, _ := s.verifiedEmailUser(t, "notify-locked")
	r, right := s.codeRound(t, ctx, u, "email_otp")
	wrong := wrongCode(right)
	for answered := 0; answered < lockoutLimit; {
		out, err := s.respond(ctx, r, wrong, method("email_otp"))
		answered++
		switch {
		case signin.Tokens(out):
			t.Fatal("a wrong code signed in")
		case err == nil:
			r.next(out) // another try in this sign-in
		case signin.IsNotAuthorized(err):
			if answered < lockoutLimit {
				r = s.startCode(t, ctx, u.email, "email_otp")
			}
		default:
			t.Fatalf("wrong answer %d: %v", answered, err)
		}
	}
	rounds := make([]*round, burst)
	for i := range rounds {
		rounds[i] = s.startCode(t, ctx, u.email, "email_otp")
	}
	errs := make([]error, burst)
	signedIn := make([]bool, burst)
	concurrently(burst, func(i int) {
		out, err := s.respond(ctx, rounds[i], wrong, method("email_otp"))
		signedIn[i], errs[i] = signin.Tokens(out), err
	})
	for i := range rounds {
		if signedIn[i] {
			t.Fatal("a wrong code signed in a locked account")
		}
		if errs[i] != nil && !signin.IsNotAuthorized(errs[i]) && !isLambdaFailure(errs[i]) {
			t.Fatalf("a wrong answer to a locked account failed uncleanly: %v", errs[i])
		}
	}
	notice := s.waitNotice(t, u.email, notify.AccountLocked, 1)
	s.checkNotice(t, notice, right)
	s.settle()
	if got := s.notices(u.email, notify.AccountLocked); len(got) != 1 {
		t.Fatalf("%d account_locked notices for one lock and a burst of %d refused answers, want exactly 1: %s", len(got), burst, subjects(got))
	}
}

// testNotifyContactChanged: changing the verified email address notifies the old address and the
// new one (addresses masked, no code); adding a phone number notifies the verified email
// address, not the number just added.
func testNotifyContactChanged(t *testing.T, s *stack) {
	u, res := s.verifiedEmailUser(t, "notify-contact")
	access := aws.ToString(res.AccessToken)
	newEmail := uniqueEmail("notify-contact-new")
	change := func(field, value string) string {
		t.Helper()
		status, body := s.api(t, http.MethodPost, "/me/contact", access, map[string]string{field: value})
		id, _ := body["changeId"].(string)
		if status != http.StatusAccepted || id == "" {
			t.Fatalf("POST /me/contact %s: %d %v", field, status, body)
		}
		code := s.code(t, value, 1)
		status, body = s.api(t, http.MethodPost, "/me/contact/verify", access, map[string]string{"changeId": id, "code": code})
		if status != http.StatusOK || body["verified"] != true {
			t.Fatalf("POST /me/contact/verify %s: %d %v", field, status, body)
		}
		return code
	}
	code := change("email", newEmail)
	toOld := s.waitNotice(t, u.email, notify.ContactChanged, 1)
	toNew := s.waitNotice(t, newEmail, notify.ContactChanged, 1)
	for _, m := range []awsmock.Message{toOld, toNew} {
		s.checkNotice(t, m, code, u.email, newEmail)
	}

	phone := uniquePhone()
	code = change("phoneNumber", phone)
	s.checkNotice(t, s.waitNotice(t, newEmail, notify.ContactChanged, 2), code, phone)
	s.settle()
	if got := s.notices(phone, ""); len(got) != 0 {
		t.Fatalf("the number just added got a notice: %s", subjects(got))
	}
	if n, m := len(s.notices(u.email, notify.ContactChanged)), len(s.notices(newEmail, notify.ContactChanged)); n != 1 || m != 2 {
		t.Fatalf("contact_changed notices: %d to the old address (want 1), %d to the new (want 2)", n, m)
	}
}

// testNotifySMSOnly: a user whose only verified contact is a phone number is notified by SMS.
func testNotifySMSOnly(t *testing.T, s *stack) {
	u := s.signUp(t, uniquePhone())
	res := s.codeSignIn(t, u, "sms_otp")
	s.registerKey(t, aws.ToString(res.AccessToken), newP256(t), nameTag("watch"))
	m := s.waitNotice(t, u.phone, notify.KeyAdded, 1)
	if m.Medium != awsmock.MediumSMS {
		t.Fatalf("key_added to a phone-only user went by %s", m.Medium)
	}
	s.checkNotice(t, m)
}
