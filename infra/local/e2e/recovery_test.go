//go:build unix

package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/infra/local/signin"
	"github.com/passwordless-go/cognito/lambdas/notify"
)

// recoveryTests run on the issue-12 stack (TestIssue12).
var recoveryTests = []subtest{
	{"NeedRecentSignIn", testRecoveryNeedsRecentSignIn},
	{"SignOutEverywhere", testRecoverySignOutEverywhere},
	{"LostDevice", testRecoveryLostDevice},
}

// refreshAccess runs REFRESH_TOKEN_AUTH on s and returns the new access token.
func (s *stack) refreshAccess(t testing.TB, refreshToken string) string {
	t.Helper()
	out, err := s.Cognito.InitiateAuth(ctxT(t, 10*time.Second), &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
		ClientId:       aws.String(s.h.ClientID),
		AuthParameters: map[string]string{"REFRESH_TOKEN": refreshToken},
	})
	if err != nil || out.AuthenticationResult == nil || aws.ToString(out.AuthenticationResult.AccessToken) == "" {
		t.Fatalf("REFRESH_TOKEN_AUTH: %v", err)
	}
	return aws.ToString(out.AuthenticationResult.AccessToken)
}

// listed returns how many items GET path lists under field for the holder of access.
func (s *stack) listed(t testing.TB, path, field, access string) int {
	t.Helper()
	status, body := s.api(t, http.MethodGet, path, access, nil)
	items, ok := body[field].([]any)
	if status != http.StatusOK || !ok {
		t.Fatalf("GET %s: %d %v", path, status, body)
	}
	return len(items)
}

// recoveryRoutes are the three recovery routes (method, path).
var recoveryRoutes = [][2]string{
	{http.MethodDelete, "/device-keys"},
	{http.MethodDelete, "/passkeys"},
	{http.MethodPost, "/me/signout-everywhere"},
}

// testRecoveryNeedsRecentSignIn: DELETE /device-keys, DELETE /passkeys and POST
// /me/signout-everywhere refuse a sign-in older than the registration limit (403 stale_auth),
// also through a refreshed token (which keeps auth_time), and remove nothing; a fresh sign-in may.
// The pool's clock is moved back for the old sign-in; the function uses real time.
func testRecoveryNeedsRecentSignIn(t *testing.T, s *stack) {
	ctx := ctxT(t, 2*time.Minute)
	u, res := s.verifiedEmailUser(t, "recover-stale")
	fresh := aws.ToString(res.AccessToken)
	k := newP256(t)
	keyID := s.registerKey(t, fresh, k, "phone")
	s.registerPasskey(t, fresh, authenticator(), "laptop")

	i12Clock.Set(-10 * time.Minute)
	old := func() *types.AuthenticationResultType {
		defer i12Clock.Set(0)
		out, err := s.keySignIn(ctx, u.email, k, keyID)
		return s.wantTokens(t, "device-key sign-in 10 minutes ago", out, err, u.sub)
	}()
	at, _ := signin.JWTClaims(t, aws.ToString(old.AccessToken))["auth_time"].(float64)
	if age := time.Since(time.Unix(int64(at), 0)); age < 9*time.Minute {
		t.Fatalf("auth_time is only %s old", age)
	}
	refreshed := s.refreshAccess(t, aws.ToString(old.RefreshToken))
	for _, tok := range []struct{ name, access string }{{"old sign-in", aws.ToString(old.AccessToken)}, {"refreshed old sign-in", refreshed}} {
		for _, r := range recoveryRoutes {
			status, body := s.api(t, r[0], r[1], tok.access, nil)
			if status != http.StatusForbidden || body["code"] != "stale_auth" {
				t.Errorf("%s %s with a %s: %d %v, want 403 stale_auth", r[0], r[1], tok.name, status, body)
			}
		}
	}
	if n, m := s.listed(t, "/device-keys", "keys", fresh), s.listed(t, "/passkeys", "passkeys", fresh); n != 1 || m != 1 {
		t.Fatalf("after refused recovery calls: %d keys and %d passkeys listed, want 1 each", n, m)
	}
	if err := s.refreshErr(ctx, aws.ToString(old.RefreshToken)); err != nil {
		t.Fatalf("a refused sign-out signed out: refresh %v", err)
	}

	// A fresh sign-in may.
	out, err := s.keySignIn(ctx, u.email, k, keyID)
	now := aws.ToString(s.wantTokens(t, "fresh device-key sign-in", out, err, u.sub).AccessToken)
	for _, p := range []string{"/device-keys", "/passkeys"} {
		if status, body := s.api(t, http.MethodDelete, p, now, nil); status != http.StatusOK || body["removed"] != float64(1) {
			t.Fatalf("DELETE %s after a fresh sign-in: %d %v, want 200 removed 1", p, status, body)
		}
	}
}

// testRecoverySignOutEverywhere: POST /me/signout-everywhere ends every session of the user: the
// refresh tokens of both devices are refused afterwards, and the routes that change something
// refuse the old access tokens (401 token_revoked), the caller's and the other device's; GET
// routes still answer them until they expire (only the JWT authorizer checks those, as
// documented). A new sign-in works.
func testRecoverySignOutEverywhere(t *testing.T, s *stack) {
	ctx := ctxT(t, 2*time.Minute)
	u, onA := s.verifiedEmailUser(t, "recover-signout")
	b := s.device()
	onB := b.codeSignIn(t, u, "email_otp")
	status, body := s.api(t, http.MethodPost, "/me/signout-everywhere", aws.ToString(onB.AccessToken), nil)
	if status != http.StatusOK || body["signedOut"] != true {
		t.Fatalf("POST /me/signout-everywhere: %d %v", status, body)
	}
	for name, res := range map[string]*types.AuthenticationResultType{"device A": onA, "device B (the caller)": onB} {
		if err := s.refreshErr(ctx, aws.ToString(res.RefreshToken)); !signin.IsNotAuthorized(err) {
			t.Errorf("%s: refresh after signing out everywhere: %v, want NotAuthorizedException", name, err)
		}
		access := aws.ToString(res.AccessToken)
		for _, r := range [][2]string{{http.MethodPost, "/device-keys"}, {http.MethodDelete, "/device-keys"}, {http.MethodPost, "/me/signout-everywhere"}} {
			var body any
			if r[0] == http.MethodPost && r[1] == "/device-keys" {
				body = map[string]string{"publicKey": "x", "name": "x"}
			}
			status, got := s.api(t, r[0], r[1], access, body)
			if status != http.StatusUnauthorized || got["code"] != "token_revoked" {
				t.Errorf("%s: %s %s with a signed-out token: %d %v, want 401 token_revoked", name, r[0], r[1], status, got)
			}
		}
		if status, me := s.api(t, http.MethodGet, "/me", access, nil); status != http.StatusOK || me["sub"] != u.sub {
			t.Errorf("%s: GET /me with a signed-out token: %d %v (GET routes answer until the token expires)", name, status, me)
		}
	}
	again := s.codeSignIn(t, u, "email_otp")
	s.registerKey(t, aws.ToString(again.AccessToken), newP256(t), "after sign-out")
}

// testRecoveryLostDevice: the documented path for a user whose phone (device key and passkey) is
// lost: sign in with a magic link on a new device, see the key and passkey with their last use,
// remove all of both, enrol a new key. The lost key no longer signs in, the new one does, and the
// verified address hears of every step.
func testRecoveryLostDevice(t *testing.T, s *stack) {
	ctx := ctxT(t, 3*time.Minute)
	u, res := s.verifiedEmailUser(t, "recover-lost")
	lost := newP256(t)
	lostID := s.registerKey(t, aws.ToString(res.AccessToken), lost, "old phone")
	s.registerPasskey(t, aws.ToString(res.AccessToken), authenticator(), "old phone passkey")
	out, err := s.keySignIn(ctx, u.email, lost, lostID)
	s.wantTokens(t, "sign-in with the key before it was lost", out, err, u.sub)

	// The phone is gone. On a new device: a magic link.
	_, sent := s.linkRound(t, ctx, u)
	newDevice := s.device()
	access := aws.ToString(newDevice.signsIn(t, ctx, "magic link on the new device", sent.link, u.sub).AccessToken)
	status, body := s.api(t, http.MethodGet, "/device-keys", access, nil)
	keys, _ := body["keys"].([]any)
	if status != http.StatusOK || len(keys) != 1 {
		t.Fatalf("GET /device-keys: %d %v", status, body)
	}
	if k, _ := keys[0].(map[string]any); k["keyId"] != lostID || k["lastUsedAt"] == nil {
		t.Fatalf("listed key %v, want %s with lastUsedAt", k, lostID)
	}
	if n := s.listed(t, "/passkeys", "passkeys", access); n != 1 {
		t.Fatalf("%d passkeys listed, want 1", n)
	}
	for _, p := range []string{"/device-keys", "/passkeys"} {
		if status, body := s.api(t, http.MethodDelete, p, access, nil); status != http.StatusOK || body["removed"] != float64(1) {
			t.Fatalf("DELETE %s: %d %v, want 200 removed 1", p, status, body)
		}
	}
	out, err = s.keySignIn(ctx, u.email, lost, lostID)
	refusal(t, "the lost key after removing all keys", out, err)
	replacement := newP256(t)
	newID := s.registerKey(t, access, replacement, "new phone")
	out, err = s.keySignIn(ctx, u.email, replacement, newID)
	s.wantTokens(t, "sign-in with the new key", out, err, u.sub)

	for _, k := range []notify.Kind{notify.KeyRemoved, notify.PasskeyRemoved} {
		s.checkNotice(t, s.waitNotice(t, u.email, k, 1))
	}
	s.waitNotice(t, u.email, notify.KeyAdded, 2)
	s.waitNotice(t, u.email, notify.PasskeyAdded, 1)
}
