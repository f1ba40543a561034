//go:build unix

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/infra/local/idp"
	"github.com/passwordless-go/cognito/infra/local/signin"
)

// refresh runs REFRESH_TOKEN_AUTH and returns the new access token.
func refresh(t testing.TB, refreshToken string) string {
	t.Helper()
	out, err := cog.InitiateAuth(ctxT(t, 10*time.Second), &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
		ClientId:       aws.String(H.ClientID),
		AuthParameters: map[string]string{"REFRESH_TOKEN": refreshToken},
	})
	if err != nil || out.AuthenticationResult == nil || aws.ToString(out.AuthenticationResult.AccessToken) == "" {
		t.Fatalf("REFRESH_TOKEN_AUTH: %v", err)
	}
	return aws.ToString(out.AuthenticationResult.AccessToken)
}

// isGatewayRefusal reports whether the API Gateway authorizer (not the function) refused.
func isGatewayRefusal(status int, body map[string]any) bool {
	return status == http.StatusUnauthorized && body["message"] == "Unauthorized" && body["code"] == nil
}

// TestTokens: refresh tokens give access tokens the API accepts; the authorizer refuses tampered,
// unsigned and expired tokens without invoking the function; the function refuses ID tokens.
func TestTokens(t *testing.T) {
	h := need(t)
	u := newEmailUser(t, "tokens")
	res := codeSignIn(t, u, "email_otp")
	access, id := aws.ToString(res.AccessToken), aws.ToString(res.IdToken)

	fresh := refresh(t, aws.ToString(res.RefreshToken))
	if fresh == access {
		t.Fatal("refresh returned the same access token")
	}
	if status, me := apiCall(t, http.MethodGet, "/me", fresh, nil); status != http.StatusOK || me["sub"] != u.sub {
		t.Fatalf("GET /me with a refreshed token: %d %v", status, me)
	}

	parts := strings.Split(access, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	claims["sub"] = "someone-else"
	forged, _ := json.Marshal(claims)
	flip := func(s string) string {
		b := []byte(s)
		i := len(b) / 2
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	before := h.API.Calls()
	for name, tok := range map[string]string{
		"payload changed":   parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2],
		"signature changed": parts[0] + "." + parts[1] + "." + flip(parts[2]),
		"alg none":          base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".",
		"garbage":           "not-a-token",
		"empty":             "",
	} {
		if status, body := apiCall(t, http.MethodGet, "/me", tok, nil); !isGatewayRefusal(status, body) {
			t.Errorf("%s: GET /me %d %v, want the authorizer's 401", name, status, body)
		}
	}
	clock.Advance(h.Spec.AccessTokenValidity + time.Minute)
	status, body := apiCall(t, http.MethodGet, "/me", access, nil)
	clock.Set(0)
	if !isGatewayRefusal(status, body) {
		t.Errorf("expired token: GET /me %d %v, want the authorizer's 401", status, body)
	}
	if after := h.API.Calls(); after["GET /me"] != before["GET /me"] || after["unauthorized"]-before["unauthorized"] != 6 {
		t.Errorf("authorizer counters before %v after %v: want 6 refusals and no function call", before, after)
	}

	// An ID token passes API Gateway's authorizer (aud = the client) but not the function.
	status, body = apiCall(t, http.MethodPost, "/device-keys", id, map[string]string{"publicKey": "x", "name": "x"})
	if status != http.StatusUnauthorized || body["code"] != "unauthorized" {
		t.Fatalf("POST /device-keys with an ID token: %d %v, want the function's 401", status, body)
	}
	if h.API.Calls()["POST /device-keys"] == before["POST /device-keys"] {
		t.Fatal("the ID token did not reach the function")
	}
}

// TestOtherClientToken: a token of the same pool but another app client is refused by the
// authorizer (audience), and the function refuses it too if it ever got through.
func TestOtherClientToken(t *testing.T) {
	h := need(t)
	const other = "otherclient000000000000002"
	define := idp.Handle(func(_ context.Context, ev events.CognitoEventUserPoolsDefineAuthChallenge) (events.CognitoEventUserPoolsDefineAuthChallenge, error) {
		ev.Response.IssueTokens = true
		return ev, nil
	})
	pool, err := idp.New(idp.Config{
		PoolID: h.PoolID, ClientID: other, IssuerBase: h.CognitoURL, SigningKey: h.SigningKey,
		Aliases:  []idp.Alias{idp.AliasEmail},
		Triggers: idp.Triggers{DefineAuthChallenge: "define", CreateAuthChallenge: "none", VerifyAuthChallengeResponse: "none"},
	}, idp.Functions{"define": define})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(pool)
	defer srv.Close()
	c := newCognito(srv.URL)
	ctx := ctxT(t, 10*time.Second)
	email := uniqueEmail("other")
	if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(h.PoolID), Username: aws.String(email)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeCustomAuth, ClientId: aws.String(other), AuthParameters: map[string]string{"USERNAME": email}})
	if err != nil || out.AuthenticationResult == nil {
		t.Fatalf("sign-in on the other client: %v", err)
	}
	tok := aws.ToString(out.AuthenticationResult.AccessToken)
	cl := signin.JWTClaims(t, tok)
	if cl["client_id"] != other || cl["iss"] != h.IdP.Issuer() {
		t.Fatalf("other client's token claims %v", cl)
	}
	if status, body := apiCall(t, http.MethodGet, "/me", tok, nil); !isGatewayRefusal(status, body) {
		t.Fatalf("GET /me with another client's token: %d %v, want the authorizer's 401", status, body)
	}

	// Defence in depth: the function itself, with the claims such a token carries.
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "GET /me", RawPath: "/me",
		Headers: map[string]string{"authorization": "Bearer " + tok},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "GET /me", Stage: "$default", RequestID: "direct",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/me", Protocol: "HTTP/1.1", SourceIP: "127.0.0.1"},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"token_use": "access", "client_id": other, "sub": "x", "iss": h.IdP.Issuer()},
			}},
		},
	}
	payload, _ := json.Marshal(ev)
	raw, err := h.Hosts["api"].Invoke(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(raw, &resp); err != nil || resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Body, "forbidden") {
		t.Fatalf("api function with another client's claims: %d %s (%v), want 403 forbidden", resp.StatusCode, resp.Body, err)
	}
}

// TestGetTokensFromRefreshToken: the newer refresh operation (Amplify JS v6 refreshes with it)
// gives an access token the API accepts and, without refresh-token rotation, no new refresh
// token; a revoked refresh token and a client secret the client does not have are refused.
func TestGetTokensFromRefreshToken(t *testing.T) {
	need(t)
	u := newEmailUser(t, "gettokens")
	res := codeSignIn(t, u, "email_otp")
	rt := aws.ToString(res.RefreshToken)
	out, err := cog.GetTokensFromRefreshToken(ctxT(t, 10*time.Second), &cip.GetTokensFromRefreshTokenInput{
		ClientId: aws.String(H.ClientID), RefreshToken: aws.String(rt),
	})
	if err != nil || out.AuthenticationResult == nil {
		t.Fatalf("GetTokensFromRefreshToken: %v", err)
	}
	fresh := aws.ToString(out.AuthenticationResult.AccessToken)
	if fresh == "" || fresh == aws.ToString(res.AccessToken) || out.AuthenticationResult.RefreshToken != nil {
		t.Fatalf("GetTokensFromRefreshToken: access %q, refresh token %v", fresh, out.AuthenticationResult.RefreshToken)
	}
	if status, me := apiCall(t, http.MethodGet, "/me", fresh, nil); status != http.StatusOK || me["sub"] != u.sub {
		t.Fatalf("GET /me with the token: %d %v", status, me)
	}
	if _, err := cog.GetTokensFromRefreshToken(ctxT(t, 10*time.Second), &cip.GetTokensFromRefreshTokenInput{
		ClientId: aws.String(H.ClientID), RefreshToken: aws.String(rt), ClientSecret: aws.String("guess"),
	}); err == nil {
		t.Fatal("a client secret the client does not have was accepted")
	}
	if _, err := cog.RevokeToken(ctxT(t, 10*time.Second), &cip.RevokeTokenInput{
		ClientId: aws.String(H.ClientID), Token: aws.String(rt),
	}); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if _, err := cog.GetTokensFromRefreshToken(ctxT(t, 10*time.Second), &cip.GetTokensFromRefreshTokenInput{
		ClientId: aws.String(H.ClientID), RefreshToken: aws.String(rt),
	}); err == nil {
		t.Fatal("a revoked refresh token was accepted")
	}
}
