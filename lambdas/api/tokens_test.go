package api_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/smithy-go"
	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/passkey/softauthn"
)

// fixtureToken is the access token in the testdata events; it belongs to fixtureUser.
const (
	fixtureToken = "eyJraWQiOiJleGFtcGxlIiwiYWxnIjoiUlMyNTYifQ.redacted.redacted"
	fixtureUser  = "3f1c2a9e-0000-4000-8000-00000000a11c"
)

// testToken is the access token request() sends for a user: the fake below reads the username
// and sub back from it, as Cognito knows them from a real token.
func testToken(username, sub string) string { return "at|" + username + "|" + sub }

// fakeCognito is Cognito's GetUser as the API sees it: a token made by testToken, or
// fixtureToken, belongs to its user unless revoked; err fails every call.
type fakeCognito struct {
	mu      sync.Mutex
	revoked map[string]bool
	err     error
	calls   int
}

func newFakeCognito() *fakeCognito { return &fakeCognito{revoked: map[string]bool{}} }

func (f *fakeCognito) GetUser(_ context.Context, token string) (*awsapi.GetUserOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	notAuthorized := &awsapi.APIError{Service: "cognito-idp", Operation: "GetUser", StatusCode: 400, Code: "NotAuthorizedException", Fault: smithy.FaultClient}
	switch {
	case f.err != nil:
		return nil, f.err
	case f.revoked[token]:
		return nil, notAuthorized
	case token == fixtureToken:
		return &awsapi.GetUserOutput{Username: fixtureUser, UserAttributes: []awsapi.Attribute{{Name: "sub", Value: fixtureUser}}}, nil
	}
	parts := strings.Split(token, "|")
	if len(parts) != 3 || parts[0] != "at" || parts[1] == "" {
		return nil, notAuthorized
	}
	return &awsapi.GetUserOutput{Username: parts[1], UserAttributes: []awsapi.Attribute{
		{Name: "sub", Value: parts[2]}, {Name: "email", Value: "user@example.com"}, {Name: "email_verified", Value: "true"},
	}}, nil
}

func (f *fakeCognito) revoke(username, sub string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked[testToken(username, sub)] = true
}

func (f *fakeCognito) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeCognito) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeCognito) checker() api.TokenChecker { return api.CognitoTokens{Client: f} }

// withToken sends token in the Authorization header instead of the caller's own.
func withToken(token string) reqOpt {
	return func(r *events.APIGatewayV2HTTPRequest) { r.Headers["authorization"] = "Bearer " + token }
}

// TestRevokedTokenCannotChangeDeviceKeys (issue 10): an access token revoked by GlobalSignOut or
// RevokeToken still passes API Gateway's authorizer; the API asks Cognito and refuses it on every
// route that changes something, and changes nothing.
func TestRevokedTokenCannotChangeDeviceKeys(t *testing.T) {
	m := newMemStore()
	cog := newFakeCognito()
	h := newHandler(m, api.DeviceKeyConfig{}).WithTokenChecker(cog.checker())
	k := register(t, h, subA, newP256(t), "phone")
	cog.revoke(subA, subA)

	wantError(t, call(t, h, request(api.RouteRegisterDeviceKey, subA, "", registerBody(newP256(t), "attacker's"))), http.StatusUnauthorized, api.CodeTokenRevoked)
	wantError(t, call(t, h, request(api.RouteRevokeDeviceKey, subA, k.KeyID, "")), http.StatusUnauthorized, api.CodeTokenRevoked)
	if len(m.keys[subA]) != 1 || m.keys[subA][0].ID != k.KeyID {
		t.Fatalf("a revoked token changed the keys: %+v", m.keys[subA])
	}
	// GET needs no call to Cognito and still works until the token expires.
	before := cog.count()
	if l := list(t, h, subA); len(l.Keys) != 1 {
		t.Errorf("list %+v", l)
	}
	if cog.count() != before {
		t.Errorf("GET called GetUser")
	}
	// Another user's valid token is unaffected.
	register(t, h, subB, newP256(t), "B")
}

func TestRevokedTokenCannotChangePasskeys(t *testing.T) {
	e := newPKEnv(t, pkConfig())
	_, p := e.enroll(t, subA, "mine")
	o := e.options(t, subA, "")
	_, js, err := e.a.Register(o.PublicKey.Challenge, []byte(subA), softauthn.Tweak{})
	if err != nil {
		t.Fatal(err)
	}
	e.cog.revoke(subA, subA)
	for _, r := range []events.APIGatewayV2HTTPRequest{
		request(api.RouteRegistrationOptions, subA, "", ""),
		request(api.RouteRegisterPasskey, subA, "", regBody(js, "attacker's")),
		request(api.RouteRenamePasskey, subA, p.ID, `{"name":"renamed"}`),
		request(api.RouteDeletePasskey, subA, p.ID, ""),
	} {
		wantError(t, pcall(t, e.h, r), http.StatusUnauthorized, api.CodeTokenRevoked)
	}
	if l := e.list(t, subA); len(l) != 1 || l[0].ID != p.ID || l[0].Name != "mine" {
		t.Fatalf("a revoked token changed the passkeys: %+v", l)
	}
	if len(e.m.challenges) != 1 {
		t.Errorf("%d challenges stored; the refused options call stored one", len(e.m.challenges))
	}
	// The public options route needs no token and never asks Cognito.
	before := e.cog.count()
	pub := request(api.RouteAuthenticationOptions, "", "", "")
	pub.RequestContext.Authorizer = nil
	if r := pcallNo500(t, e.h, pub); r.StatusCode != http.StatusOK || e.cog.count() != before {
		t.Errorf("public options: %d, %d GetUser calls", r.StatusCode, e.cog.count()-before)
	}
}

// TestTokenCheckFailureFailsClosed: when Cognito cannot answer, mutating routes answer 503 and
// change nothing; GET routes do not depend on it.
func TestTokenCheckFailureFailsClosed(t *testing.T) {
	m := newMemStore()
	cog := newFakeCognito()
	var logs strings.Builder
	h := api.New(clientID, slog.New(slog.NewJSONHandler(&logs, nil))).
		WithDeviceKeys(m, api.DeviceKeyConfig{Now: nowFn}).WithTokenChecker(cog.checker())
	k := register(t, h, subA, newP256(t), "phone")
	for _, err := range []error{
		&awsapi.APIError{Service: "cognito-idp", Operation: "GetUser", StatusCode: 400, Code: "TooManyRequestsException", Fault: smithy.FaultClient},
		&awsapi.APIError{Service: "cognito-idp", Operation: "GetUser", StatusCode: 500, Code: "InternalErrorException", Fault: smithy.FaultServer},
		context.DeadlineExceeded,
		errors.New("dial tcp: connection refused"),
	} {
		cog.setErr(err)
		wantError(t, call(t, h, request(api.RouteRegisterDeviceKey, subA, "", registerBody(newP256(t), "x"))), http.StatusServiceUnavailable, api.CodeUnavailable)
		wantError(t, call(t, h, request(api.RouteRevokeDeviceKey, subA, k.KeyID, "")), http.StatusServiceUnavailable, api.CodeUnavailable)
	}
	if len(m.keys[subA]) != 1 {
		t.Fatalf("keys changed while Cognito was down: %+v", m.keys[subA])
	}
	if l := list(t, h, subA); len(l.Keys) != 1 {
		t.Errorf("list while Cognito is down: %+v", l)
	}
	if strings.Contains(logs.String(), testToken(subA, subA)) {
		t.Error("an access token was logged")
	}
	// No checker configured: mutating routes refuse, they never run unchecked.
	unchecked := api.New(clientID, nil).WithDeviceKeys(m, api.DeviceKeyConfig{Now: nowFn})
	wantError(t, call(t, unchecked, request(api.RouteRevokeDeviceKey, subA, k.KeyID, "")), http.StatusServiceUnavailable, api.CodeUnavailable)
	if len(m.keys[subA]) != 1 {
		t.Fatal("an unchecked handler revoked a key")
	}
}

// TestTokenMustMatchItsUser: the token in the header is the one the authorizer verified, and
// Cognito's user for it must be the claims' user; no token, someone else's, or garbage: 401.
func TestTokenMustMatchItsUser(t *testing.T) {
	m := newMemStore()
	cog := newFakeCognito()
	h := newHandler(m, api.DeviceKeyConfig{}).WithTokenChecker(cog.checker())
	k := register(t, h, subA, newP256(t), "phone")
	for name, tc := range map[string]struct {
		opt  reqOpt
		code string
	}{
		"no Authorization header":  {func(r *events.APIGatewayV2HTTPRequest) { delete(r.Headers, "authorization") }, api.CodeUnauthorized},
		"empty bearer":             {func(r *events.APIGatewayV2HTTPRequest) { r.Headers["authorization"] = "Bearer " }, api.CodeUnauthorized},
		"another user's token":     {withToken(testToken(subB, subB)), api.CodeUnauthorized},
		"same username, other sub": {withToken(testToken(subA, subB)), api.CodeUnauthorized},
		"not a token":              {withToken("garbage"), api.CodeTokenRevoked},
	} {
		resp := call(t, h, request(api.RouteRevokeDeviceKey, subA, k.KeyID, "", tc.opt))
		if e := wantErrorNoFatal(resp); resp.StatusCode != http.StatusUnauthorized || e.Code != tc.code {
			t.Errorf("%s: %d %s, want 401 %s", name, resp.StatusCode, e.Code, tc.code)
		}
	}
	if len(m.keys[subA]) != 1 {
		t.Fatal("a mismatched token revoked a key")
	}
	// The header may be spelled in any case, with or without the Bearer prefix.
	for _, hv := range []string{"bearer " + testToken(subA, subA), testToken(subA, subA)} {
		r := request(api.RouteRegisterDeviceKey, subA, "", registerBody(newP256(t), "ok"))
		delete(r.Headers, "authorization")
		r.Headers["Authorization"] = hv
		if resp := call(t, h, r); resp.StatusCode != http.StatusCreated {
			t.Errorf("Authorization %q: %d %s", hv, resp.StatusCode, resp.Body)
		}
	}
}

// TestMutatingRoutesGetAttributes: routes that change something see the user's current
// attributes from GetUser; GET routes see none.
func TestMutatingRoutesGetAttributes(t *testing.T) {
	cog := newFakeCognito()
	var got []api.Caller
	route := func(_ context.Context, c api.Caller, _ events.APIGatewayV2HTTPRequest) api.Response {
		got = append(got, c)
		return api.Response{Status: http.StatusOK, Body: map[string]string{}}
	}
	h := &api.Handler{ClientID: clientID, Tokens: cog.checker(), Routes: map[string]api.Route{
		"GET /x": route, "POST /x": route, "PUT /x": route, "PATCH /x": route, "DELETE /x": route,
	}}
	for _, rk := range []string{"GET /x", "POST /x", "PUT /x", "PATCH /x", "DELETE /x"} {
		if resp := call(t, h, request(rk, subA, "", "")); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", rk, resp.StatusCode, resp.Body)
		}
	}
	if len(got) != 5 || got[0].Attributes != nil {
		t.Fatalf("callers %+v", got)
	}
	for _, c := range got[1:] {
		if c.Attributes["email"] != "user@example.com" || c.Attributes["sub"] != subA || c.Sub != subA {
			t.Errorf("caller %+v", c)
		}
	}
	if cog.count() != 4 {
		t.Errorf("%d GetUser calls for 4 mutating requests", cog.count())
	}
}

func wantErrorNoFatal(resp events.APIGatewayV2HTTPResponse) apiError {
	var e apiError
	_ = strictUnmarshal(resp.Body, &e)
	return e
}
