package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/contact"
)

// contactFake records what the contact routes hand to the service.
type contactFake struct {
	mu      sync.Mutex
	callers []contact.Caller
	bodies  []string
	routes  []string
}

func (f *contactFake) record(route string, c contact.Caller, body []byte) contact.Reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.callers, f.bodies, f.routes = append(f.callers, c), append(f.bodies, string(body)), append(f.routes, route)
	return contact.Reply{Status: http.StatusAccepted, Body: map[string]string{"route": route}}
}

func (f *contactFake) Start(_ context.Context, c contact.Caller, body []byte) contact.Reply {
	return f.record("start", c, body)
}

func (f *contactFake) Verify(_ context.Context, c contact.Caller, body []byte) contact.Reply {
	return f.record("verify", c, body)
}

// contactTokens is a TokenChecker that knows one user and can be told to refuse.
type contactTokens struct {
	user    api.TokenUser
	revoked bool
}

func (c contactTokens) Check(context.Context, string) (api.TokenUser, error) {
	if c.revoked {
		return api.TokenUser{}, api.ErrTokenRevoked
	}
	return c.user, nil
}

const (
	contactClient = "contactclient1234567890"
	contactSub    = "c0c0c0c0-0000-4000-8000-0000000000c0"
)

func contactRequest(route, body string, base64Body bool) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: route, Body: body, IsBase64Encoded: base64Body,
		Headers: map[string]string{"authorization": "Bearer token"}}
	req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{
			"sub": contactSub, "username": contactSub, "token_use": "access", "client_id": contactClient,
			"auth_time": strconv.FormatInt(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).Unix(), 10),
		}},
	}
	return req
}

func contactStatus(t *testing.T, h *api.Handler, req events.APIGatewayV2HTTPRequest) (int, map[string]any) {
	t.Helper()
	resp, err := h.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if resp.Body != "" {
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
			t.Fatalf("body %q: %v", resp.Body, err)
		}
	}
	return resp.StatusCode, body
}

// TestContactRoutes: WithContact registers both routes; each gets the caller of the verified
// claims with the attributes Cognito's GetUser returned, and the body (base64 undone).
func TestContactRoutes(t *testing.T) {
	f := &contactFake{}
	attrs := map[string]string{"sub": contactSub, "email": "me@example.com", "email_verified": "true"}
	h := api.New(contactClient, nil).WithTokenChecker(contactTokens{user: api.TokenUser{Username: contactSub, Attributes: attrs}}).WithContact(f)
	if api.RouteStartContactChange != "POST /me/contact" || api.RouteVerifyContactChange != "POST /me/contact/verify" {
		t.Fatal("route keys changed")
	}
	st, body := contactStatus(t, h, contactRequest(api.RouteStartContactChange, `{"email":"new@example.com"}`, false))
	if st != http.StatusAccepted || body["route"] != "start" {
		t.Fatalf("start: %d %v", st, body)
	}
	st, body = contactStatus(t, h, contactRequest(api.RouteVerifyContactChange,
		base64.StdEncoding.EncodeToString([]byte(`{"changeId":"x","code":"123456"}`)), true))
	if st != http.StatusAccepted || body["route"] != "verify" {
		t.Fatalf("verify: %d %v", st, body)
	}
	want := contact.Caller{Sub: contactSub, Username: contactSub, AuthTime: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Attributes: attrs}
	for i, c := range f.callers {
		if c.Sub != want.Sub || c.Username != want.Username || !c.AuthTime.Equal(want.AuthTime) || c.Attributes["email"] != "me@example.com" {
			t.Errorf("call %d: caller %+v, want %+v", i, c, want)
		}
	}
	if f.bodies[0] != `{"email":"new@example.com"}` || f.bodies[1] != `{"changeId":"x","code":"123456"}` {
		t.Errorf("bodies %q", f.bodies)
	}
}

// TestContactRoutesRefuseBeforeTheService: a revoked token, no token checker, and an oversized
// body never reach the service.
func TestContactRoutesRefuseBeforeTheService(t *testing.T) {
	f := &contactFake{}
	revoked := api.New(contactClient, nil).WithTokenChecker(contactTokens{revoked: true}).WithContact(f)
	if st, body := contactStatus(t, revoked, contactRequest(api.RouteStartContactChange, `{"email":"a@example.com"}`, false)); st != http.StatusUnauthorized {
		t.Errorf("revoked token: %d %v", st, body)
	}
	unchecked := api.New(contactClient, nil).WithContact(f)
	if st, body := contactStatus(t, unchecked, contactRequest(api.RouteVerifyContactChange, `{}`, false)); st != http.StatusServiceUnavailable {
		t.Errorf("no token checker: %d %v", st, body)
	}
	ok := api.New(contactClient, nil).WithTokenChecker(contactTokens{user: api.TokenUser{Username: contactSub, Attributes: map[string]string{}}}).WithContact(f)
	big := `{"email":"` + strings.Repeat("a", contact.MaxBody) + `@example.com"}`
	if st, body := contactStatus(t, ok, contactRequest(api.RouteStartContactChange, big, false)); st != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d %v", st, body)
	}
	if st, body := contactStatus(t, ok, contactRequest(api.RouteStartContactChange, "%%%", true)); st != http.StatusBadRequest {
		t.Errorf("bad base64: %d %v", st, body)
	}
	if len(f.callers) != 0 {
		t.Fatalf("the service was called %d times", len(f.callers))
	}
}

// TestContactErrorCodesMatchTheAPI: the contact package's codes for the same situations are the
// api package's.
func TestContactErrorCodesMatchTheAPI(t *testing.T) {
	for c, a := range map[string]string{
		contact.CodeStaleAuth:    api.CodeStaleAuth,
		contact.CodeBadJSON:      api.CodeBadJSON,
		contact.CodeNotFound:     api.CodeNotFound,
		contact.CodeInternal:     api.CodeInternal,
		contact.CodeUnauthorized: api.CodeUnauthorized,
	} {
		if c != a {
			t.Errorf("contact %q, api %q", c, a)
		}
	}
	if contact.DefaultMaxAuthAge != api.DefaultDeviceKeyMaxAuthAge {
		t.Errorf("contact's default sign-in age %s, device keys' %s", contact.DefaultMaxAuthAge, api.DefaultDeviceKeyMaxAuthAge)
	}
}
