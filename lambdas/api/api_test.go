package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/api"
)

const (
	meClientID = "4f3k2j1h0g9f8e7d6c5b4a3210"
	meSub      = "7d9a3c1e-0b6f-4e2a-9c55-3f1e2d4b6a80"
)

func meFixture(t *testing.T) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "get_me.json"))
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatal(err)
	}
	return req
}

// meAccessClaims are the claims API Gateway passes for a Cognito access token of the app client.
func meAccessClaims() map[string]string {
	return map[string]string{
		"sub":       meSub,
		"username":  "alice",
		"token_use": "access",
		"client_id": meClientID,
		"auth_time": "1712517249",
		"scope":     "aws.cognito.signin.user.admin",
		"iss":       "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab12Cd34E",
	}
}

// meIDClaims are the claims of an ID token of the same client: aud, not client_id.
func meIDClaims() map[string]string {
	return map[string]string{
		"sub":              meSub,
		"cognito:username": "alice",
		"token_use":        "id",
		"aud":              meClientID,
		"auth_time":        "1712517249",
		"email":            "alice@example.com",
	}
}

func meRequest(route string, claims map[string]string) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: route}
	if claims != nil {
		req.Headers = map[string]string{"authorization": "Bearer " + testToken(claims["username"], claims["sub"])}
		req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	return req
}

// meCall runs the handler and checks what every response must have: JSON headers, no caching, and
// for errors a {"code", "message"} body.
func meCall(t *testing.T, h *api.Handler, req events.APIGatewayV2HTTPRequest) (int, map[string]any) {
	t.Helper()
	resp, err := h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned an error: %v", err)
	}
	if got := resp.Headers["Content-Type"]; got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := resp.Headers["Cache-Control"]; got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
	if resp.IsBase64Encoded {
		t.Error("body marked base64")
	}
	var body map[string]any
	if resp.Body != "" {
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
			t.Fatalf("body is not a JSON object: %q", resp.Body)
		}
	}
	if resp.StatusCode >= 400 {
		code, _ := body["code"].(string)
		msg, _ := body["message"].(string)
		if code == "" || msg == "" || len(body) != 2 {
			t.Errorf("error body %q lacks code/message", resp.Body)
		}
	}
	return resp.StatusCode, body
}

func TestMeWithFixture(t *testing.T) {
	req := meFixture(t)
	status, body := meCall(t, api.New(meClientID, nil), req)
	if status != http.StatusOK {
		t.Fatalf("status %d, body %v", status, body)
	}
	want := map[string]any{"sub": meSub, "username": meSub, "authTime": "2024-04-07T19:14:09Z"}
	if !maps.Equal(body, want) {
		t.Errorf("body = %v, want %v", body, want)
	}
}

func TestMe(t *testing.T) {
	h := api.New(meClientID, nil)
	status, body := meCall(t, h, meRequest("GET /me", meAccessClaims()))
	if status != http.StatusOK {
		t.Fatalf("status %d, body %v", status, body)
	}
	if want := map[string]any{"sub": meSub, "username": "alice", "authTime": "2024-04-07T19:14:09Z"}; !maps.Equal(body, want) {
		t.Errorf("body = %v, want %v", body, want)
	}
	// Without a usable auth_time the field is left out rather than invented.
	for _, at := range []string{"", "abc", "0", "-5", "1.5e9"} {
		c := meAccessClaims()
		if at == "" {
			delete(c, "auth_time")
		} else {
			c["auth_time"] = at
		}
		status, body := meCall(t, h, meRequest("GET /me", c))
		if status != http.StatusOK {
			t.Fatalf("auth_time %q: status %d", at, status)
		}
		if _, ok := body["authTime"]; ok || body["sub"] != meSub {
			t.Errorf("auth_time %q: body %v", at, body)
		}
	}
}

func TestMeAuthorization(t *testing.T) {
	h := api.New(meClientID, nil)
	with := func(k, v string) map[string]string {
		c := meAccessClaims()
		if v == "\x00" {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	idWithClientID := meIDClaims()
	idWithClientID["client_id"] = meClientID
	for _, tc := range []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
		code   string
	}{
		{"ID token", meRequest("GET /me", meIDClaims()), 401, api.CodeUnauthorized},
		{"ID token carrying client_id", meRequest("GET /me", idWithClientID), 401, api.CodeUnauthorized},
		{"no token_use", meRequest("GET /me", with("token_use", "\x00")), 401, api.CodeUnauthorized},
		{"token_use Access", meRequest("GET /me", with("token_use", "Access")), 401, api.CodeUnauthorized},
		{"token_use refresh", meRequest("GET /me", with("token_use", "refresh")), 401, api.CodeUnauthorized},
		{"another client's access token", meRequest("GET /me", with("client_id", "0therclient0000000000000000")), 403, api.CodeForbidden},
		{"access token without client_id", meRequest("GET /me", with("client_id", "\x00")), 403, api.CodeForbidden},
		{"client_id prefix", meRequest("GET /me", with("client_id", meClientID[:10])), 403, api.CodeForbidden},
		{"no subject", meRequest("GET /me", with("sub", "\x00")), 401, api.CodeUnauthorized},
		{"empty subject", meRequest("GET /me", with("sub", "")), 401, api.CodeUnauthorized},
		{"no authorizer", meRequest("GET /me", nil), 401, api.CodeUnauthorized},
		{"authorizer without JWT", func() events.APIGatewayV2HTTPRequest {
			r := meRequest("GET /me", nil)
			r.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: map[string]any{"sub": meSub}}
			return r
		}(), 401, api.CodeUnauthorized},
		{"JWT with nil claims", func() events.APIGatewayV2HTTPRequest {
			r := meRequest("GET /me", nil)
			r.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{}}
			return r
		}(), 401, api.CodeUnauthorized},
		{"unknown route", meRequest("GET /nope", meAccessClaims()), 404, api.CodeNotFound},
		{"unknown route, no token", meRequest("GET /nope", nil), 404, api.CodeNotFound},
		{"wrong method", meRequest("PUT /me", meAccessClaims()), 404, api.CodeNotFound},
		{"empty route key", meRequest("", meAccessClaims()), 404, api.CodeNotFound},
		{"route key case", meRequest("get /me", meAccessClaims()), 404, api.CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := meCall(t, h, tc.req)
			if status != tc.status || body["code"] != tc.code {
				t.Errorf("status %d code %v, want %d %s (body %v)", status, body["code"], tc.status, tc.code, body)
			}
			if _, ok := body["sub"]; ok {
				t.Error("refused meRequest got the caller's data")
			}
		})
	}
}

// A handler without a client ID accepts nobody, even a token without client_id.
func TestMeEmptyClientIDRefusesAll(t *testing.T) {
	h := api.New("", nil)
	c := meAccessClaims()
	c["client_id"] = ""
	for _, claims := range []map[string]string{meAccessClaims(), c} {
		if status, body := meCall(t, h, meRequest("GET /me", claims)); status != http.StatusForbidden {
			t.Errorf("status %d body %v, want 403", status, body)
		}
	}
}

func TestMeRoutesGetTheVerifiedCaller(t *testing.T) {
	var got []api.Caller
	h := &api.Handler{ClientID: meClientID, Tokens: api.CognitoTokens{Client: newFakeCognito()}, Routes: map[string]api.Route{
		"POST /things": func(_ context.Context, c api.Caller, req events.APIGatewayV2HTTPRequest) api.Response {
			got = append(got, c)
			return api.Response{Status: http.StatusCreated, Body: map[string]string{"id": "t1", "body": req.Body}}
		},
		"DELETE /things/{id}": func(context.Context, api.Caller, events.APIGatewayV2HTTPRequest) api.Response {
			return api.Response{Status: http.StatusNoContent, Body: map[string]string{"ignored": "yes"}}
		},
		"GET /nil": func(context.Context, api.Caller, events.APIGatewayV2HTTPRequest) api.Response {
			return api.Response{Status: http.StatusOK}
		},
		"GET /broken": func(context.Context, api.Caller, events.APIGatewayV2HTTPRequest) api.Response {
			return api.Response{Status: http.StatusOK, Body: map[string]any{"ch": make(chan int)}}
		},
		"GET /error": func(context.Context, api.Caller, events.APIGatewayV2HTTPRequest) api.Response {
			return api.Error(http.StatusConflict, "conflict", "already there")
		},
	}}
	req := meRequest("POST /things", meAccessClaims())
	req.Body = `{"name":"x"}`
	status, body := meCall(t, h, req)
	if status != http.StatusCreated || body["id"] != "t1" || body["body"] != `{"name":"x"}` {
		t.Errorf("POST: %d %v", status, body)
	}
	if len(got) != 1 || got[0].Sub != meSub || got[0].Username != "alice" || got[0].AuthTime.Unix() != 1712517249 || got[0].AuthTime.Location().String() != "UTC" {
		t.Errorf("route got callers %+v", got)
	}
	// Not called for a refused token.
	meCall(t, h, meRequest("POST /things", meIDClaims()))
	if len(got) != 1 {
		t.Error("route called for an ID token")
	}

	resp, err := h.Handle(context.Background(), meRequest("DELETE /things/{id}", meAccessClaims()))
	if err != nil || resp.StatusCode != http.StatusNoContent || resp.Body != "" || resp.Headers["Cache-Control"] != "no-store" {
		t.Errorf("204: %+v, %v", resp, err)
	}
	resp, err = h.Handle(context.Background(), meRequest("GET /nil", meAccessClaims()))
	if err != nil || resp.StatusCode != http.StatusOK || resp.Body != "" || resp.Headers["Content-Type"] != "application/json" {
		t.Errorf("nil body: %+v, %v", resp, err)
	}
	if status, body := meCall(t, h, meRequest("GET /broken", meAccessClaims())); status != http.StatusInternalServerError || body["code"] != api.CodeInternal {
		t.Errorf("unencodable body: %d %v", status, body)
	}
	if status, body := meCall(t, h, meRequest("GET /error", meAccessClaims())); status != http.StatusConflict || body["code"] != "conflict" || body["message"] != "already there" {
		t.Errorf("route error: %d %v", status, body)
	}
}

func TestNewRegistersMe(t *testing.T) {
	h := api.New(meClientID, nil)
	if h.ClientID != meClientID || h.Routes["GET /me"] == nil {
		t.Fatalf("New = %+v", h)
	}
}

func TestMeLogsHoldNoClaims(t *testing.T) {
	var buf bytes.Buffer
	h := api.New(meClientID, slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	c := meAccessClaims()
	c["username"] = "alice.liddell@example.com"
	for _, claims := range []map[string]string{c, meIDClaims(), nil} {
		if _, err := h.Handle(context.Background(), meRequest("GET /me", claims)); err != nil {
			t.Fatal(err)
		}
	}
	out := buf.String()
	if strings.Count(out, "\n") < 3 {
		t.Fatalf("expected a log line per meRequest, got %q", out)
	}
	for _, s := range []string{meSub, "alice", meClientID} {
		if strings.Contains(out, s) {
			t.Errorf("log holds %q: %s", s, out)
		}
	}
}
