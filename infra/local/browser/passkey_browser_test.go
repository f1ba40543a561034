//go:build unix

package browser

import (
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/infra/local/signin"
	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/passkey"
)

//go:embed page.html
var pageHTML []byte

// servePage starts the page's server and returns its origin (see serveLocalhost; WebAuthn treats
// localhost as a secure context).
func servePage(t *testing.T) string {
	t.Helper()
	return serveLocalhost(t, map[string]route{"/": {"text/html; charset=utf-8", func() []byte { return pageHTML }}})
}

// Sign-in limits of the test's stack.
const (
	// maxAttempts is the construct's default: a wrong passkey answer gets a retry round (a new
	// nonce) until the sign-in has had maxAttempts wrong answers, then it fails.
	maxAttempts = 3
	// lockoutLimit is above the construct's default (5): the test answers wrongly 9 times on
	// purpose (three refused sign-ins of maxAttempts answers each), and a locked account must not
	// be the reason a replay is refused.
	lockoutLimit = 20
)

// passkeyProps enables email_otp and passkey for the relying party "localhost" and origin.
func passkeyProps(origin string) *passwordless.Props {
	return &passwordless.Props{
		Methods:     []passwordless.Method{passwordless.EmailOTP, passwordless.Passkey},
		Aliases:     passwordless.Aliases{Email: true},
		Email:       &passwordless.EmailProps{From: "no-reply@example.com"},
		Passkeys:    passwordless.PasskeyProps{RPID: "localhost", Origins: []string{origin}},
		MaxAttempts: maxAttempts,
		Lockout:     passwordless.LockoutProps{Limit: lockoutLimit},
	}
}

// credentialJSON is the part of a PublicKeyCredential's JSON the test looks at.
type credentialJSON struct {
	ID       string `json:"id"`
	RawID    string `json:"rawId"`
	Type     string `json:"type"`
	Response struct {
		ClientDataJSON string `json:"clientDataJSON"`
		UserHandle     string `json:"userHandle"`
	} `json:"response"`
}

func parseCredential(t *testing.T, raw string) credentialJSON {
	t.Helper()
	var c credentialJSON
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatalf("credential JSON %q: %v", raw, err)
	}
	if c.ID == "" || c.Type != "public-key" {
		t.Fatalf("credential JSON %s", raw)
	}
	return c
}

// clientData decodes the credential's clientDataJSON.
func (c credentialJSON) clientData(t *testing.T) (typ, challenge, origin string) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(c.Response.ClientDataJSON)
	if err != nil {
		t.Fatalf("clientDataJSON: %v", err)
	}
	var cd struct{ Type, Challenge, Origin string }
	if err := json.Unmarshal(b, &cd); err != nil {
		t.Fatalf("clientDataJSON %s: %v", b, err)
	}
	return cd.Type, cd.Challenge, cd.Origin
}

// requestOptions is the part of PublicKeyCredentialRequestOptions JSON the test looks at.
type requestOptions struct {
	Challenge        string `json:"challenge"`
	RPID             string `json:"rpId"`
	UserVerification string `json:"userVerification"`
	AllowCredentials []struct {
		ID string `json:"id"`
	} `json:"allowCredentials"`
}

// TestPasskeyInChromium registers a passkey from a real browser page and signs in with it, with
// a known username and usernameless, through the built functions behind the emulated user pool and
// the local HTTP API; replayed assertions and a reused usernameless challenge are refused.
func TestPasskeyInChromium(t *testing.T) {
	exec := findChromium(t)
	dynalitetest.Require(t)
	t0 := time.Now()
	// A cleanup, not a defer: the browser's context derives from ctx, and the failure screenshot
	// (a cleanup) needs the browser.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	t.Cleanup(cancel)

	// The page's server first: its port is part of the origin the relying party accepts.
	origin := servePage(t)

	h := signin.StartHarness(ctx, t, harness.Options{Props: passkeyProps(origin)})
	s := newStack(h)
	t.Logf("page origin %s", origin)
	if env := h.Env("api"); env[passkey.EnvRPID] != "localhost" || env[passkey.EnvOrigins] != origin {
		t.Fatalf("api environment: %s=%q %s=%q", passkey.EnvRPID, env[passkey.EnvRPID], passkey.EnvOrigins, env[passkey.EnvOrigins])
	}

	tb := time.Now()
	br := startChromium(ctx, t, exec, origin+"/")
	info, err := br.info()
	if err != nil {
		t.Fatalf("page info: %v", err)
	}
	if info.Origin != origin || !info.Secure {
		t.Fatalf("page origin %q secure=%v, want %q in a secure context", info.Origin, info.Secure, origin)
	}
	t.Logf("chromium up in %s: %s; native JSON helpers %v", time.Since(tb).Round(time.Millisecond), info.UserAgent, info.Native)

	// 1. Sign up and sign in with an emailed code.
	email := uniqueEmail("browser")
	sub := s.signUp(ctx, t, email)
	codeTokens := s.emailCodeSignIn(ctx, t, email, 1)
	access := aws.ToString(codeTokens.AccessToken)
	claims := signin.JWTClaims(t, access)
	username, _ := claims["username"].(string)
	if claims["sub"] != sub || username == "" {
		t.Fatalf("code sign-in access token: sub %v username %v, want sub %s", claims["sub"], claims["username"], sub)
	}
	br.note("signed up %s (username %s) and signed in with an email code", email, username)

	// 2. Registration.
	optsBody, _ := json.Marshal(map[string]string{"userName": email, "displayName": "Browser Test"})
	var creation struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			RP        struct{ ID string }
			User      struct{ ID, Name string }
		} `json:"publicKey"`
	}
	creationRaw := s.apiJSON(ctx, t, http.MethodPost, "/passkeys/registration/options", access, optsBody, http.StatusOK, &creation)
	if creation.PublicKey.RP.ID != "localhost" || creation.PublicKey.User.ID != base64.RawURLEncoding.EncodeToString([]byte(username)) {
		t.Fatalf("registration options: rp %q user.id %q, want localhost and base64url(%q): %s",
			creation.PublicKey.RP.ID, creation.PublicKey.User.ID, username, creationRaw)
	}
	attestation, err := br.create(creationRaw)
	if err != nil {
		t.Fatalf("navigator.credentials.create: %v", err)
	}
	cred := parseCredential(t, attestation)
	if typ, ch, o := cred.clientData(t); typ != "webauthn.create" || ch != creation.PublicKey.Challenge || o != origin {
		t.Fatalf("registration clientData: type %q challenge %q origin %q", typ, ch, o)
	}
	regBody, _ := json.Marshal(map[string]any{"credential": json.RawMessage(attestation), "name": "Chromium virtual authenticator"})
	var registered api.PasskeyJSON
	s.apiJSON(ctx, t, http.MethodPost, "/passkeys/registration", access, regBody, http.StatusCreated, &registered)
	if registered.ID != cred.ID || registered.Name != "Chromium virtual authenticator" || !registered.UserVerified {
		t.Fatalf("registered passkey %+v, want id %s, the name, user verified", registered, cred.ID)
	}
	var list api.PasskeyListJSON
	s.apiJSON(ctx, t, http.MethodGet, "/passkeys", access, nil, http.StatusOK, &list)
	if len(list.Passkeys) != 1 || list.Passkeys[0].ID != cred.ID || list.Passkeys[0].LastUsedAt != nil {
		t.Fatalf("GET /passkeys after registration: %+v, want only %s, never used", list.Passkeys, cred.ID)
	}
	creds, err := br.credentials()
	if err != nil || len(creds) != 1 {
		t.Fatalf("authenticator credentials: %d %v", len(creds), err)
	}
	vc := creds[0]
	if base64.RawURLEncoding.EncodeToString(vc.CredentialID) != cred.ID || !vc.IsResidentCredential || vc.RpID != "localhost" || string(vc.UserHandle) != username {
		t.Fatalf("authenticator credential: id %x resident %v rp %q handle %q", vc.CredentialID, vc.IsResidentCredential, vc.RpID, vc.UserHandle)
	}
	counts := []float64{vc.SignCount}
	br.note("registered passkey %s (sign count %v)", cred.ID, vc.SignCount)
	signCount := func(step string) {
		t.Helper()
		creds, err := br.credentials()
		if err != nil || len(creds) != 1 {
			t.Fatalf("%s: authenticator credentials: %d %v", step, len(creds), err)
		}
		last := counts[len(counts)-1]
		if creds[0].SignCount <= last {
			t.Fatalf("%s: sign count %v, not above %v", step, creds[0].SignCount, last)
		}
		counts = append(counts, creds[0].SignCount)
	}

	// 3. Sign-in with the username: the nonce round carries the request options.
	init, err := s.Initiate(ctx, email)
	if err != nil {
		t.Fatalf("InitiateAuth: %v", err)
	}
	params := init.ChallengeParameters
	var ro requestOptions
	if err := json.Unmarshal([]byte(params["passkeyOptions"]), &ro); err != nil {
		t.Fatalf("ChallengeParameters.passkeyOptions %q: %v", params["passkeyOptions"], err)
	}
	if params["kind"] != "NONCE" || ro.Challenge == "" || ro.Challenge != params["nonce"] || ro.RPID != "localhost" ||
		len(ro.AllowCredentials) != 0 {
		// The default (Passkeys.AllowCredentials "none") publishes no credential IDs: the browser
		// finds the discoverable passkey itself, and the options link no aliases of an account.
		t.Fatalf("nonce round: %v", params)
	}
	assertion, err := br.get([]byte(params["passkeyOptions"]))
	if err != nil {
		t.Fatalf("navigator.credentials.get: %v", err)
	}
	a := parseCredential(t, assertion)
	if typ, ch, o := a.clientData(t); a.ID != cred.ID || typ != "webauthn.get" || ch != params["nonce"] || o != origin {
		t.Fatalf("assertion: id %s clientData type %q challenge %q origin %q", a.ID, typ, ch, o)
	}
	passkeyMeta := map[string]string{"signInMethod": "passkey"}
	out, err := s.Respond(ctx, init.Session, params["USERNAME"], assertion, passkeyMeta)
	if err != nil || !signin.Tokens(out) {
		t.Fatalf("passkey sign-in: tokens=%v err=%v", signin.Tokens(out), err)
	}
	if c := signin.JWTClaims(t, aws.ToString(out.AuthenticationResult.AccessToken)); c["sub"] != sub || c["username"] != username {
		t.Fatalf("passkey sign-in access token: sub %v username %v, want %s %s", c["sub"], c["username"], sub, username)
	}
	access = aws.ToString(out.AuthenticationResult.AccessToken)
	signCount("sign-in with username")
	br.note("signed in with the passkey (username)")

	// 4. The same assertion answering a new session is refused: every round of that sign-in
	// (the first and its retries, each with a new nonce) gets the replayed assertion, and the
	// sign-in ends with NotAuthorizedException after maxAttempts wrong answers, never with tokens.
	refused := func(what string, init *cip.InitiateAuthOutput, answer string, meta map[string]string) {
		t.Helper()
		session, params := init.Session, init.ChallengeParameters
		username := params["USERNAME"]
		nonces := map[string]bool{}
		for n := 1; ; n++ {
			var ro requestOptions
			if err := json.Unmarshal([]byte(params["passkeyOptions"]), &ro); err != nil || params["kind"] != "NONCE" ||
				params["nonce"] == "" || ro.Challenge != params["nonce"] || nonces[params["nonce"]] {
				t.Fatalf("%s: round %d is not a NONCE round with a new nonce and matching options: %v", what, n, params)
			}
			nonces[params["nonce"]] = true
			out, err := s.Respond(ctx, session, username, answer, meta)
			switch {
			case signin.Tokens(out):
				t.Fatalf("%s: answer %d signed in", what, n)
			case err != nil && !signin.IsNotAuthorized(err):
				t.Fatalf("%s: answer %d: %v, want NotAuthorizedException", what, n, err)
			case err != nil && n != maxAttempts:
				t.Fatalf("%s: NotAuthorizedException after %d wrong answers, want %d", what, n, maxAttempts)
			case err != nil:
				return
			case n >= maxAttempts:
				t.Fatalf("%s: still a challenge (%v) after %d wrong answers", what, out.ChallengeParameters, n)
			}
			session, params = out.Session, out.ChallengeParameters
		}
	}
	replay, err := s.Initiate(ctx, email)
	if err != nil {
		t.Fatalf("InitiateAuth (replay): %v", err)
	}
	refused("replayed assertion", replay, assertion, passkeyMeta)
	br.note("replayed assertion refused")

	// 5. Usernameless: public options, a discoverable credential, the user handle as USERNAME.
	var pub api.AuthenticationOptionsJSON
	pubRaw := s.apiJSON(ctx, t, http.MethodPost, "/passkeys/authentication/options", "", nil, http.StatusOK, &pub)
	var pubOpts struct {
		PublicKey requestOptions `json:"publicKey"`
	}
	if err := json.Unmarshal(pubRaw, &pubOpts); err != nil {
		t.Fatal(err)
	}
	if pub.ChallengeID == "" || pubOpts.PublicKey.Challenge == "" || len(pubOpts.PublicKey.AllowCredentials) != 0 || pubOpts.PublicKey.RPID != "localhost" {
		t.Fatalf("authentication options: %s", pubRaw)
	}
	discovered, err := br.get(pubRaw)
	if err != nil {
		t.Fatalf("navigator.credentials.get (discoverable): %v", err)
	}
	d := parseCredential(t, discovered)
	handle, err := base64.RawURLEncoding.DecodeString(d.Response.UserHandle)
	if err != nil || string(handle) != username || d.ID != cred.ID {
		t.Fatalf("discoverable assertion: credential %s userHandle %q (%v), want %s and handle %q", d.ID, d.Response.UserHandle, err, cred.ID, username)
	}
	if _, ch, _ := d.clientData(t); ch != pubOpts.PublicKey.Challenge {
		t.Fatalf("discoverable assertion challenge %q, want %q", ch, pubOpts.PublicKey.Challenge)
	}
	usernamelessMeta := map[string]string{"signInMethod": "passkey", "challengeId": pub.ChallengeID}
	initHandle := func() *cip.InitiateAuthOutput {
		t.Helper()
		init, err := s.Initiate(ctx, string(handle))
		if err != nil {
			t.Fatalf("InitiateAuth USERNAME=<user handle>: %v", err)
		}
		return init
	}
	ul := initHandle()
	out, err = s.Respond(ctx, ul.Session, ul.ChallengeParameters["USERNAME"], discovered, usernamelessMeta)
	if err != nil || !signin.Tokens(out) {
		t.Fatalf("usernameless sign-in: tokens=%v err=%v", signin.Tokens(out), err)
	}
	if c := signin.JWTClaims(t, aws.ToString(out.AuthenticationResult.AccessToken)); c["sub"] != sub {
		t.Fatalf("usernameless access token sub %v, want %s", c["sub"], sub)
	}
	signCount("usernameless sign-in")
	br.note("signed in with the passkey (usernameless)")

	// The challenge is used up: neither the same assertion nor a fresh one over the same
	// challenge signs in again with that challengeId.
	refused("usernameless replay", initHandle(), discovered, usernamelessMeta)
	again, err := br.get(pubRaw)
	if err != nil {
		t.Fatalf("navigator.credentials.get (same challenge again): %v", err)
	}
	signCount("assertion over the used challenge")
	refused("fresh assertion with a used challengeId", initHandle(), again, usernamelessMeta)
	br.note("used challengeId refused")

	// The account is not locked: the refusals above were the replays'. A new sign-in works.
	init, err = s.Initiate(ctx, email)
	if err != nil {
		t.Fatalf("InitiateAuth (final): %v", err)
	}
	final, err := br.get([]byte(init.ChallengeParameters["passkeyOptions"]))
	if err != nil {
		t.Fatalf("navigator.credentials.get (final): %v", err)
	}
	out, err = s.Respond(ctx, init.Session, init.ChallengeParameters["USERNAME"], final, passkeyMeta)
	if err != nil || !signin.Tokens(out) {
		t.Fatalf("final passkey sign-in: tokens=%v err=%v", signin.Tokens(out), err)
	}
	signCount("final sign-in")

	// 6. The stored passkey records its use.
	s.apiJSON(ctx, t, http.MethodGet, "/passkeys", access, nil, http.StatusOK, &list)
	if len(list.Passkeys) != 1 || list.Passkeys[0].ID != cred.ID || list.Passkeys[0].LastUsedAt == nil {
		t.Fatalf("GET /passkeys after sign-in: %+v, want %s with lastUsedAt", list.Passkeys, cred.ID)
	}
	used, err := time.Parse(time.RFC3339Nano, *list.Passkeys[0].LastUsedAt)
	if err != nil || used.Before(t0.Add(-time.Minute)) || used.After(time.Now().Add(time.Minute)) {
		t.Fatalf("lastUsedAt %q (%v), want a time during the test", *list.Passkeys[0].LastUsedAt, err)
	}
	if !slices.IsSorted(counts) {
		t.Fatalf("sign counts %v", counts)
	}
	br.note("done: sign counts %v, lastUsedAt %s", counts, *list.Passkeys[0].LastUsedAt)
	t.Logf("sign counts %v; lastUsedAt %s; total %s", counts, *list.Passkeys[0].LastUsedAt, time.Since(t0).Round(time.Millisecond))
}
