package api_test

import (
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// refusedTokens are the callers every route behind the authorizer refuses before doing anything,
// with the status each gets.
var refusedTokens = map[string]struct {
	opt    reqOpt
	status int
}{
	"ID token":          {withClaim("token_use", "id"), http.StatusUnauthorized},
	"other app client":  {withClaim("client_id", "someotherclient"), http.StatusForbidden},
	"no subject":        {withClaim("sub", ""), http.StatusUnauthorized},
	"no token_use":      {withoutClaim("token_use"), http.StatusUnauthorized},
	"no authorizer jwt": {func(r *events.APIGatewayV2HTTPRequest) { r.RequestContext.Authorizer = nil }, http.StatusUnauthorized},
}

// routeCall is one request to a route: its route key, path ID and body.
type routeCall struct{ key, id, body string }

// wantTokensRefused sends subA's request of every route with each of refusedTokens through
// call and checks the status.
func wantTokensRefused(t *testing.T, call func(events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse, routes []routeCall) {
	t.Helper()
	for _, route := range routes {
		for name, tc := range refusedTokens {
			if resp := call(request(route.key, subA, route.id, route.body, tc.opt)); resp.StatusCode != tc.status {
				t.Errorf("%s with %s: %d, want %d", route.key, name, resp.StatusCode, tc.status)
			}
		}
	}
}
