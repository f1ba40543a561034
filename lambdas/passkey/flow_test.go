package passkey_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/internal/testkit"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/passkey"
	"github.com/passwordless-go/cognito/lambdas/passkey/passkeynonce"
	"github.com/passwordless-go/cognito/lambdas/passkey/softauthn"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

var flowConfig = authflow.Config{
	Methods:     []authflow.Method{authflow.EmailOTP, authflow.Passkey},
	MaxAttempts: authflow.DefaultMaxAttempts,
	MaxResends:  authflow.DefaultMaxResends,
}

// cognito plays the Cognito side of CUSTOM_AUTH with the real Define, Create and Verify handlers
// (passkey hook and checker on the real store on dynalite), and the API on the same store.
type cognito struct {
	define *triggers.Define
	create *triggers.Create
	verify *triggers.Verify
	api    *api.PublicHandler
	st     *store.Store
}

// newCognito wires the triggers and the API for cfg (testConfig or listConfig).
func newCognito(t *testing.T, cfg passkey.Config) *cognito {
	t.Helper()
	st := storetest.New(t, "keys").Store
	rp := newRP(t, cfg)
	return &cognito{
		define: &triggers.Define{Config: flowConfig},
		create: &triggers.Create{Config: flowConfig, Keys: keyed.Static{K: testKey}, NonceExtras: passkeynonce.NewOptions(rp.Config(), st)},
		verify: &triggers.Verify{Config: flowConfig, Keys: keyed.Static{K: testKey}, Checkers: map[authflow.Method]triggers.Checker{authflow.Passkey: passkey.NewChecker(rp, st)}},
		api:    api.New(testClient, nil).WithTokenChecker(api.CognitoTokens{Client: tokenOwners{}}).WithPasskeys(st, api.PasskeyConfig{RP: rp}),
		st:     st,
	}
}

// tokenOwners is Cognito's GetUser for the access tokens apiCall sends: "<username> <sub>".
type tokenOwners struct{}

func (tokenOwners) GetUser(_ context.Context, token string) (*awsapi.GetUserOutput, error) {
	name, sub, ok := strings.Cut(token, " ")
	if !ok {
		return nil, &awsapi.APIError{Code: "NotAuthorizedException", StatusCode: 400}
	}
	return &awsapi.GetUserOutput{Username: name, UserAttributes: []awsapi.Attribute{{Name: "sub", Value: sub}}}, nil
}

type user struct {
	name     string // Cognito username (the passkey user handle)
	sub      string
	notFound bool
}

func (u user) attrs() map[string]string {
	if u.notFound {
		return nil
	}
	return map[string]string{"sub": u.sub, "email": "someone@example.com", "email_verified": "true"}
}

// apiCall sends an API request as u (an access token of the client, signed in just now).
func (c *cognito) apiCall(t *testing.T, u user, routeKey, id, body string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	r := events.APIGatewayV2HTTPRequest{RouteKey: routeKey, Body: body, Headers: map[string]string{"authorization": "Bearer " + u.name + " " + u.sub}}
	if id != "" {
		r.PathParameters = map[string]string{"id": id}
	}
	r.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{
			"sub": u.sub, "username": u.name, "client_id": testClient, "token_use": "access",
			"auth_time": strconv.FormatInt(time.Now().Add(-10*time.Second).Unix(), 10),
		}},
	}
	resp, err := c.api.Handle(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// register creates a passkey for u through the API with authenticator a.
func (c *cognito) register(t *testing.T, u user, a *softauthn.Authenticator) *softauthn.Credential {
	t.Helper()
	resp := c.apiCall(t, u, api.RouteRegistrationOptions, "", "")
	if resp.StatusCode != 200 {
		t.Fatalf("options: %d %s", resp.StatusCode, resp.Body)
	}
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			User      struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &o); err != nil {
		t.Fatal(err)
	}
	handle, _ := base64.RawURLEncoding.DecodeString(o.PublicKey.User.ID)
	cred, js, err := a.Register(o.PublicKey.Challenge, handle, softauthn.Tweak{})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"credential": json.RawMessage(js), "name": "phone"})
	if resp := c.apiCall(t, u, api.RouteRegisterPasskey, "", string(body)); resp.StatusCode != 201 {
		t.Fatalf("register: %d %s", resp.StatusCode, resp.Body)
	}
	return cred
}

// session is one sign-in in progress.
type session struct {
	u      user
	in     testkit.SignIn
	public map[string]string // of the current round; nil once the sign-in failed
}

// initiate runs Define and Create for the first round (InitiateAuth).
func (c *cognito) initiate(t *testing.T, u user) *session {
	t.Helper()
	s := &session{u: u, in: testkit.SignIn{Define: c.define, Create: c.create, Verify: c.verify, PoolID: testPool, ClientID: testClient,
		UserName: u.name, Attrs: u.attrs(), UserNotFound: u.notFound}}
	s.next(t, nil)
	return s
}

func (s *session) next(t *testing.T, clientMetadata map[string]string) bool {
	t.Helper()
	d, err := s.in.DoDefine(context.Background(), clientMetadata)
	if err != nil {
		t.Fatal(err)
	}
	if d.IssueTokens {
		return true
	}
	if d.FailAuthentication {
		s.public = nil
		return false
	}
	if s.in.Round, err = s.in.DoCreate(context.Background(), clientMetadata); err != nil {
		t.Fatalf("create: %v", err)
	}
	s.public = s.in.Round.PublicChallengeParameters
	return false
}

// respond runs Verify and then Define/Create (RespondToAuthChallenge); it reports tokens.
func (s *session) respond(t *testing.T, answer string, clientMetadata map[string]string) bool {
	t.Helper()
	if _, err := s.in.DoVerify(context.Background(), answer, clientMetadata); err != nil {
		t.Fatalf("verify: %v", err)
	}
	return s.next(t, clientMetadata)
}

func (s *session) options(t *testing.T) requestOptions {
	t.Helper()
	var ro requestOptions
	if err := json.Unmarshal([]byte(s.public[passkey.PubOptions]), &ro); err != nil {
		t.Fatalf("passkeyOptions %q: %v", s.public[passkey.PubOptions], err)
	}
	return ro
}

var passkeyMeta = map[string]string{authflow.MetaSignInMethod: string(authflow.Passkey)}

// TestFlowSignInWithPasskey signs in with the default options (no allowCredentials: the
// authenticator offers its discoverable credential, Verify finds it by credential ID among the
// user's passkeys) and in list mode.
func TestFlowSignInWithPasskey(t *testing.T) {
	for _, cfg := range []passkey.Config{testConfig(), listConfig()} {
		t.Run(cfg.WithDefaults().AllowCredentials, func(t *testing.T) { flowSignIn(t, cfg) })
	}
}

func flowSignIn(t *testing.T, cfg passkey.Config) {
	list := cfg.WithDefaults().AllowCredentials == passkey.AllowCredentialsList
	c := newCognito(t, cfg)
	alice := user{name: userAlice, sub: subAlice}
	bob := user{name: userBob, sub: subBob}
	a := authenticator()
	a.Counter = true
	cred := c.register(t, alice, a)
	c.register(t, bob, a)

	s := c.initiate(t, alice)
	ro := s.options(t)
	if ro.Challenge != s.public[authflow.PubNonce] {
		t.Fatalf("options %+v (nonce %s)", ro, s.public[authflow.PubNonce])
	}
	switch {
	case list && (len(ro.AllowCredentials) != 1 || ro.AllowCredentials[0].ID != base64.RawURLEncoding.EncodeToString(cred.ID)):
		t.Fatalf("list mode: allowCredentials %+v, want alice's passkey", ro.AllowCredentials)
	case !list && len(ro.AllowCredentials) != 0:
		t.Fatalf("default mode: allowCredentials %+v, want none", ro.AllowCredentials)
	}
	ans := mustAssert(t, a, cred, ro.Challenge, softauthn.Tweak{})
	if !s.respond(t, string(ans), passkeyMeta) {
		t.Fatal("no tokens for a right passkey answer")
	}
	p, err := c.st.GetPasskey(context.Background(), subAlice, cred.ID)
	if err != nil || p.SignCount != 1 || p.LastUsedAt.IsZero() {
		t.Fatalf("after sign-in: %+v, %v", p, err)
	}

	// Replaying the same assertion in a new sign-in: wrong challenge, no tokens.
	s2 := c.initiate(t, alice)
	if s2.respond(t, string(ans), passkeyMeta) {
		t.Fatal("replayed assertion signed in")
	}
	// Signing in as bob with alice's passkey: no tokens.
	s3 := c.initiate(t, bob)
	if s3.respond(t, string(mustAssert(t, a, cred, s3.options(t).Challenge, softauthn.Tweak{})), passkeyMeta) {
		t.Fatal("alice's passkey signed in as bob")
	}
	// After deleting the passkey through the API it no longer works.
	if out := c.apiCall(t, alice, api.RouteDeletePasskey, base64.RawURLEncoding.EncodeToString(cred.ID), ""); out.StatusCode != 204 {
		t.Fatalf("delete: %d %s", out.StatusCode, out.Body)
	}
	s4 := c.initiate(t, alice)
	if len(s4.options(t).AllowCredentials) != 0 {
		t.Error("deleted passkey still offered")
	}
	if s4.respond(t, string(mustAssert(t, a, cred, s4.options(t).Challenge, softauthn.Tweak{})), passkeyMeta) {
		t.Fatal("deleted passkey signed in")
	}
}

func TestFlowUsernameless(t *testing.T) {
	c := newCognito(t, testConfig())
	alice := user{name: userAlice, sub: subAlice}
	a := authenticator()
	cred := c.register(t, alice, a)

	// 1. Public options, no token.
	out, err := c.api.Handle(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: api.RouteAuthenticationOptions})
	if err != nil || out.StatusCode != 200 {
		t.Fatalf("public options: %d %v %s", out.StatusCode, err, out.Body)
	}
	var opts api.AuthenticationOptionsJSON
	if err := json.Unmarshal([]byte(out.Body), &opts); err != nil {
		t.Fatal(err)
	}
	// 2. The authenticator picks the discoverable credential; the assertion carries the user handle.
	ans := mustAssert(t, a, cred, opts.PublicKey.Challenge.String(), softauthn.Tweak{})
	handle := userHandle(ans)
	// 3. InitiateAuth with USERNAME = the user handle: Cognito resolves it to alice.
	if string(handle) != alice.name {
		t.Fatalf("user handle %q is not the username", handle)
	}
	meta := map[string]string{authflow.MetaSignInMethod: "passkey", passkey.MetaChallengeID: opts.ChallengeID}
	s := c.initiate(t, alice)
	if !s.respond(t, string(ans), meta) {
		t.Fatal("usernameless sign-in refused")
	}
	// The same challenge again: refused.
	s2 := c.initiate(t, alice)
	if s2.respond(t, string(ans), meta) {
		t.Fatal("usernameless challenge worked twice")
	}
}

func TestFlowUnknownUser(t *testing.T) {
	for _, cfg := range []passkey.Config{testConfig(), listConfig()} {
		t.Run(cfg.WithDefaults().AllowCredentials, func(t *testing.T) { flowUnknownUser(t, cfg) })
	}
}

func flowUnknownUser(t *testing.T, cfg passkey.Config) {
	c := newCognito(t, cfg)
	alice := user{name: userAlice, sub: subAlice}
	a := authenticator()
	cred := c.register(t, alice, a)
	ghost := user{name: "ghost@example.com", notFound: true}
	s1 := c.initiate(t, ghost)
	s2 := c.initiate(t, ghost)
	sa := c.initiate(t, alice)
	if s1.public[passkey.PubOptions] == "" || len(s1.public) != len(sa.public) {
		t.Fatalf("unknown user's round differs in shape: %v", s1.public)
	}
	if a, b := ids(s1.options(t)), ids(s2.options(t)); len(a) != len(b) || (len(a) > 0 && a[0] != b[0]) {
		t.Errorf("decoys change between sign-ins: %v vs %v", a, b)
	}
	if cfg.WithDefaults().AllowCredentials == passkey.AllowCredentialsNone {
		// The same options as a real user with a passkey, apart from the challenge.
		blank := func(s *session) string {
			return strings.Replace(s.public[passkey.PubOptions], s.options(t).Challenge, "-", 1)
		}
		if blank(s1) != blank(sa) {
			t.Errorf("unknown user's options %s differ from a real user's %s", blank(s1), blank(sa))
		}
	}
	// Even alice's valid assertion over this round's nonce does not sign the unknown user in.
	if s1.respond(t, string(mustAssert(t, a, cred, s1.options(t).Challenge, softauthn.Tweak{})), passkeyMeta) {
		t.Fatal("unknown user signed in")
	}
}
