//go:build unix

package e2e

// A magic link works only while the account's verified email address is the one it went to.
// TestMagicLinkAddress runs on a harness of its own with the issue-12 stack's props (magic links
// to magicRedirect, notifications on), started when the test starts and closed when it ends.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/infra/local/signin"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/magiclink"
	"github.com/passwordless-go/cognito/lambdas/notify"
)

// startLinkStack starts a harness with props (short send delays on the functions that send, as
// the issue-12 stack has) on its own user-pool clock, closed when t ends.
func startLinkStack(t *testing.T, props *passwordless.Props) *stack {
	t.Helper()
	var clk harness.ShiftClock
	return startShortDelayStack(t, "harness", props, clk.Now)
}

// TestMagicLinkAddress: a link waiting in a mailbox the account has moved away from, or whose
// address is no longer verified, does not sign in.
func TestMagicLinkAddress(t *testing.T) {
	s := startLinkStack(t, issue12Props())
	for _, st := range []subtest{
		{"ChangedThroughAPI", testLinkAfterContactChange},
		{"AdminUnverifiedAndChanged", testLinkAfterAdminChange},
	} {
		t.Run(st.name, func(t *testing.T) { st.run(t, s) })
	}
}

// changeEmail changes the holder of access's email address to newEmail as the README says: POST
// /me/contact, the code sent to the new address, POST /me/contact/verify. It waits for the
// contact_changed notices to the old and the new address, so that later message counts see them.
func (s *stack) changeEmail(t testing.TB, access, oldEmail, newEmail string) {
	t.Helper()
	status, body := s.api(t, http.MethodPost, "/me/contact", access, map[string]string{"email": newEmail})
	id, _ := body["changeId"].(string)
	if status != http.StatusAccepted || id == "" {
		t.Fatalf("POST /me/contact: %d %v", status, body)
	}
	code := s.code(t, newEmail, 1)
	status, body = s.api(t, http.MethodPost, "/me/contact/verify", access, map[string]string{"changeId": id, "code": code})
	if status != http.StatusOK || body["verified"] != true || body["email"] != newEmail {
		t.Fatalf("POST /me/contact/verify: %d %v", status, body)
	}
	s.waitNotice(t, oldEmail, notify.ContactChanged, 1)
	s.waitNotice(t, newEmail, notify.ContactChanged, 1)
}

// testLinkAfterContactChange (attack): a user asks for a link (it goes to the old address), then
// changes the account's address through the API; the link in the old mailbox is refused on any
// device, cleanly, like a wrong answer. A link asked for afterwards goes to the new address and
// signs in.
func testLinkAfterContactChange(t *testing.T, s *stack) {
	ctx := ctxT(t, 3*time.Minute)
	u, res := s.verifiedEmailUser(t, "ml-moved")
	_, old := s.linkRound(t, ctx, u)

	newEmail := uniqueEmail("ml-moved-new")
	s.changeEmail(t, aws.ToString(res.AccessToken), u.email, newEmail)
	got := s.device().refused(t, ctx, "the link sent to the old address, after the address changed", old.link)
	t.Logf("the old address's link was refused (%s)", got)
	if left := time.Until(old.link.Expires); left <= 0 {
		t.Fatalf("the old link expired before it was tried (%s): the refusal proves nothing", -left)
	}

	moved := &user{email: newEmail, sub: u.sub}
	_, fresh := s.linkRound(t, ctx, moved)
	if fresh.msg.To != newEmail {
		t.Fatalf("the new link went to %q, want %q", fresh.msg.To, newEmail)
	}
	s.device().signsIn(t, ctx, "a link to the new address", fresh.link, u.sub)
}

// testLinkAfterAdminChange: an administrator clears email_verified after the link went out: the
// link is refused; marked verified again (the same address), the still unused, unexpired link
// signs in, since a new request would send a link to that same mailbox. An administrator's
// change of the address (verified) refuses the link sent to the one before.
func testLinkAfterAdminChange(t *testing.T, s *stack) {
	ctx := ctxT(t, 3*time.Minute)
	update := func(u *user, attrs ...types.AttributeType) {
		t.Helper()
		if _, err := s.Cognito.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: aws.String(s.h.PoolID),
			Username: aws.String(u.sub), UserAttributes: attrs}); err != nil {
			t.Fatalf("AdminUpdateUserAttributes: %v", err)
		}
	}
	u, _ := s.verifiedEmailUser(t, "ml-admin")
	_, sent := s.linkRound(t, ctx, u)
	update(u, attrType("email_verified", "false"))
	s.device().refused(t, ctx, "the link after its address was marked unverified", sent.link)
	update(u, attrType("email_verified", "true"))
	s.device().signsIn(t, ctx, "the link once its address is verified again", sent.link, u.sub)

	v, _ := s.verifiedEmailUser(t, "ml-admin-moved")
	_, sent = s.linkRound(t, ctx, v)
	update(v, attrType("email", uniqueEmail("ml-admin-moved-new")), attrType("email_verified", "true"))
	s.device().refused(t, ctx, "the link after an administrator changed the address", sent.link)
}

// TestMagicLinkSameDeviceAndExpiry runs on a harness of its own whose links live one minute (the
// shortest MagicLink.TTL) and are bound to the requesting device (MagicLink.SameDevice).
func TestMagicLinkSameDeviceAndExpiry(t *testing.T) {
	p := issue12Props()
	p.MagicLink.TTL = time.Minute
	p.MagicLink.SameDevice = true
	s := startLinkStack(t, p)
	for _, st := range []subtest{
		{"SameDevice", testLinkSameDevice},
		{"Expired", testLinkExpired},
	} {
		t.Run(st.name, func(t *testing.T) { st.run(t, s) })
	}
}

// newDeviceSecret draws what a same-device page keeps: 32 random bytes, base64url.
func newDeviceSecret(t testing.TB) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// deviceLinkRound asks for a link for u bound to a new device secret (ClientMetadata deviceHash)
// and returns the secret and the link emailed; like linkRound, it waits out a send delay.
func (s *stack) deviceLinkRound(t testing.TB, ctx context.Context, u *user) (string, sentLink) {
	t.Helper()
	secret := newDeviceSecret(t)
	meta := linkMeta(magiclink.MetaDeviceHash, magiclink.DeviceHash(secret))
	before := s.messages(u.email)
	r, err := s.requestLink(ctx, u.email, meta)
	if err != nil {
		t.Fatal(err)
	}
	if noCode(r.params["codeStatus"]) {
		s.resendLink(t, ctx, r, linkMeta(authflow.MetaAction, authflow.ActionResend, magiclink.MetaDeviceHash, magiclink.DeviceHash(secret)))
	}
	return secret, s.linkEmail(t, ctx, u.email, before+1)
}

// completeOnDevice opens link l as the link's page does on a device that presents deviceSecret
// ("" presents none).
func (s *stack) completeOnDevice(ctx context.Context, l magiclink.Link, deviceSecret string) (*cip.RespondToAuthChallengeOutput, error) {
	init, err := s.Initiate(ctx, l.UserName)
	if err != nil {
		return nil, err
	}
	r := &round{session: init.Session, username: init.ChallengeParameters["USERNAME"], params: init.ChallengeParameters}
	meta := linkMeta(authflow.MetaAction, authflow.ActionComplete)
	if deviceSecret != "" {
		meta[magiclink.MetaDeviceSecret] = deviceSecret
	}
	return s.respond(ctx, r, l.Secret, meta)
}

// liveAttempts bounds how often a test that needs a one-minute link still unexpired asks again
// when the machine was so slow that the link expired before the step that needed it. When every
// attempt is too slow the test is skipped: the steps would prove nothing, and a busy machine must
// not fail it.
const liveAttempts = 3

// expiredBy reports whether l had expired by now (the functions and the test share the clock).
func expiredBy(l magiclink.Link) bool { return !time.Now().Before(l.Expires) }

// signInLive opens the link sent to u on the device that asked, with its secret, and wants tokens
// for u (what names the step in a failure). It returns false, without failing, when the link was
// refused because it had expired before it was opened (a busy machine): the caller's attempt
// (numbered attempt) asks for a new link.
func (s *stack) signInLive(t testing.TB, ctx context.Context, u *user, secret string, sent sentLink, what string, attempt int) bool {
	t.Helper()
	out, err := s.device().completeOnDevice(ctx, sent.link, secret)
	if !signin.Tokens(out) && expiredBy(sent.link) {
		t.Logf("attempt %d: the one-minute link expired before it was opened (busy machine); again", attempt)
		return false
	}
	s.wantTokens(t, what, out, err, u.sub)
	return true
}

// skipTooSlow skips a test whose liveAttempts one-minute links all expired before it could use them.
func skipTooSlow(t testing.TB) {
	t.Helper()
	t.Skipf("the machine is too slow: in %d attempts a one-minute link expired before the test could use it", liveAttempts)
}

// testLinkSameDevice: a request without a device hash fails and sends nothing; the link of a
// request with one is refused without the device's secret (a forwarded email) and with another
// device's secret, and signs in where the request was made.
func testLinkSameDevice(t *testing.T, s *stack) {
	ctx := ctxT(t, 4*time.Minute)
	u, _ := s.verifiedEmailUser(t, "ml-samedev-none")
	before := s.messages(u.email)
	if r, err := s.requestLink(ctx, u.email, linkMeta()); err == nil {
		t.Fatalf("a request without deviceHash got a LINK round %v", r.params)
	}
	s.settle()
	if n := s.messages(u.email) - before; n != 0 {
		t.Fatalf("%d emails for a request without deviceHash", n)
	}

	for attempt := 1; attempt <= liveAttempts; attempt++ {
		u, _ := s.verifiedEmailUser(t, "ml-samedev") // a new account each time: refusals count toward its lock
		secret, sent := s.deviceLinkRound(t, ctx, u)
		for what, ds := range map[string]string{"without the device secret (a forwarded email)": "", "with another device's secret": newDeviceSecret(t)} {
			out, err := s.device().completeOnDevice(ctx, sent.link, ds)
			refusal(t, "the link "+what, out, err)
		}
		if expiredBy(sent.link) {
			t.Logf("attempt %d: the one-minute link expired before the refusals were done (busy machine); again", attempt)
			continue
		}
		if s.signInLive(t, ctx, u, secret, sent, "the link on the device that asked, with its secret", attempt) {
			return
		}
	}
	skipTooSlow(t)
}

// testLinkExpired: a link opened after its MagicLink.TTL is refused, on the device that asked,
// with its secret; a new link to the same user then signs in.
func testLinkExpired(t *testing.T, s *stack) {
	ctx := ctxT(t, 5*time.Minute)
	u, _ := s.verifiedEmailUser(t, "ml-expired")
	secret, sent := s.deviceLinkRound(t, ctx, u)
	if left := time.Until(sent.link.Expires); left > time.Minute+5*time.Second {
		t.Fatalf("a one-minute link expires in %s", left)
	}
	time.Sleep(time.Until(sent.link.Expires) + 2*time.Second)
	out, err := s.device().completeOnDevice(ctx, sent.link, secret)
	t.Logf("the expired link was refused (%s)", refusal(t, "the link after its expiry", out, err))

	for attempt := 1; attempt <= liveAttempts; attempt++ {
		secret, sent = s.deviceLinkRound(t, ctx, u)
		if s.signInLive(t, ctx, u, secret, sent, "a new link after the expired one", attempt) {
			return
		}
	}
	skipTooSlow(t)
}
