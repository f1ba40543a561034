package apigw

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

type recordInvoker struct {
	events []events.APIGatewayV2HTTPRequest
}

func (r *recordInvoker) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	r.events = append(r.events, ev)
	return []byte(`{"statusCode":200,"body":"{}"}`), nil
}

// TestPublicRoute: a route listed in Public is invoked without a token and without authorizer
// context; the other routes still need one.
func TestPublicRoute(t *testing.T) {
	inv := &recordInvoker{}
	r, err := New(Config{
		Routes:   []string{"POST /passkeys/authentication/options", "GET /me"},
		Public:   []string{"POST /passkeys/authentication/options"},
		Issuer:   "https://issuer.example",
		Audience: []string{"client"},
		JWKS:     func() []byte { return []byte(`{"keys":[]}`) },
	}, inv)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/passkeys/authentication/options", strings.NewReader("{}")))
	if rec.Code != http.StatusOK || len(inv.events) != 1 {
		t.Fatalf("public route: %d, %d invocations", rec.Code, len(inv.events))
	}
	if inv.events[0].RequestContext.Authorizer != nil {
		t.Errorf("public route got authorizer context: %+v", inv.events[0].RequestContext.Authorizer)
	}
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/me", nil))
	if rec.Code != http.StatusUnauthorized || len(inv.events) != 1 {
		t.Fatalf("protected route without a token: %d, %d invocations", rec.Code, len(inv.events))
	}
}
