package apigw_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/infra/local/apigw"
)

const appOrigin = "http://localhost:5173"

// theConstructsCORS is what the construct's CorsPreflight (Props.AllowedOrigins) synthesizes.
func theConstructsCORS() *apigw.CORS {
	return &apigw.CORS{
		AllowOrigins: []string{appOrigin, "https://app.example.com"},
		AllowMethods: []string{"GET", "POST", "PATCH", "DELETE"},
		AllowHeaders: []string{"authorization", "content-type"},
		MaxAge:       600,
	}
}

func preflight(origin, method, headers string) map[string]string {
	return map[string]string{"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}
}

// TestCORSPreflight: with CORS configured, API Gateway answers a preflight itself, for any path
// and without a token: 204 with the configured lists for an allowed origin, no CORS headers for
// another; the function is never invoked and the authorizer never asked.
func TestCORSPreflight(t *testing.T) {
	f := newCORSFixture(t, theConstructsCORS())
	for _, path := range []string{"/device-keys", "/device-keys/abc", "/no-such-route"} {
		resp, body := f.do(t, http.MethodOptions, path, "", nil, preflight(appOrigin, "GET", "authorization"))
		want := map[string]string{
			"Access-Control-Allow-Origin":  appOrigin,
			"Access-Control-Allow-Methods": "GET,POST,PATCH,DELETE",
			"Access-Control-Allow-Headers": "authorization,content-type",
			"Access-Control-Max-Age":       "600",
		}
		if resp.StatusCode != http.StatusNoContent || body != "" {
			t.Errorf("preflight %s: %d %q, want 204 without a body", path, resp.StatusCode, body)
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("preflight %s: %s %q, want %q", path, k, got, v)
			}
		}
		if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight %s: Access-Control-Allow-Credentials without AllowCredentials", path)
		}
	}
	resp, _ := f.do(t, http.MethodOptions, "/device-keys", "", nil, preflight("https://evil.example", "GET", "authorization"))
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("preflight from another origin: %d, want 204", resp.StatusCode)
	}
	for k := range resp.Header {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Errorf("preflight from another origin got %s: %q", k, resp.Header.Get(k))
		}
	}
	if n := f.fn.n(); n != 0 {
		t.Errorf("preflights invoked the function %d times", n)
	}
	calls := f.router.Calls()
	if calls[apigw.CallsPreflight] != 4 || calls[apigw.CallsUnauthorized] != 0 {
		t.Errorf("calls %v, want 4 preflights and nothing refused", calls)
	}
}

// TestCORSActualRequests: a cross-origin request from an allowed origin gets
// Access-Control-Allow-Origin (and the exposed headers) on the function's answer and on the
// gateway's own answers (401, 404); the function's own CORS headers are ignored; another origin
// and a request without Origin get none.
func TestCORSActualRequests(t *testing.T) {
	cors := theConstructsCORS()
	cors.ExposeHeaders = []string{"x-request-id"}
	f := newCORSFixture(t, cors)
	f.fn.resp = []byte(`{"statusCode":200,"headers":{"Content-Type":"application/json","Access-Control-Allow-Origin":"*","access-control-allow-methods":"PUT"},"body":"{}"}`)
	tok := "Bearer " + sign(f.key, rs256(), accessClaims())

	resp, body := f.do(t, http.MethodGet, "/device-keys", tok, nil, map[string]string{"Origin": appOrigin})
	if resp.StatusCode != 200 || body != "{}" {
		t.Fatalf("GET /device-keys: %d %q", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != appOrigin {
		t.Errorf("Access-Control-Allow-Origin %q, want %q (the function's * ignored)", got, appOrigin)
	}
	if got := resp.Header.Get("Access-Control-Expose-Headers"); got != "x-request-id" {
		t.Errorf("Access-Control-Expose-Headers %q", got)
	}
	if got := resp.Header.Get("Access-Control-Allow-Methods"); got != "" {
		t.Errorf("the function's Access-Control-Allow-Methods %q went through", got)
	}

	resp, _ = f.do(t, http.MethodGet, "/device-keys", "", nil, map[string]string{"Origin": appOrigin})
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Access-Control-Allow-Origin") != appOrigin {
		t.Errorf("401: %d, Access-Control-Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	resp, _ = f.do(t, http.MethodGet, "/nothing", tok, nil, map[string]string{"Origin": appOrigin})
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Access-Control-Allow-Origin") != appOrigin {
		t.Errorf("404: %d, Access-Control-Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}

	for name, hdr := range map[string]map[string]string{
		"another origin": {"Origin": "https://evil.example"},
		"no origin":      nil,
	} {
		resp, _ := f.do(t, http.MethodGet, "/device-keys", tok, nil, hdr)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
		for k := range resp.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s: got %s %q", name, k, resp.Header.Get(k))
			}
		}
	}
}

// TestNoCORS: without a CORS configuration a preflight is an ordinary request (no OPTIONS
// route: 404) and no answer carries CORS headers, the function's own included.
func TestNoCORS(t *testing.T) {
	f := newCORSFixture(t, nil)
	f.fn.resp = []byte(`{"statusCode":200,"headers":{"Access-Control-Allow-Origin":"*"},"body":"{}"}`)
	resp, _ := f.do(t, http.MethodOptions, "/device-keys", "", nil, preflight(appOrigin, "GET", "authorization"))
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight without CORS: %d %v", resp.StatusCode, resp.Header)
	}
	// Without a CORS configuration API Gateway passes the integration's headers on.
	resp, _ = f.do(t, http.MethodGet, "/device-keys", "Bearer "+sign(f.key, rs256(), accessClaims()), nil, map[string]string{"Origin": appOrigin})
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("function's header without CORS: %d %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

// TestCORSWildcards: "*" answers "*"; a scheme wildcard "https://*" allows every origin of that
// scheme and answers the origin.
func TestCORSWildcards(t *testing.T) {
	for _, tc := range []struct {
		allow        []string
		origin, want string
	}{
		{[]string{"*"}, "https://any.example", "*"},
		{[]string{"https://*"}, "https://any.example:8443", "https://any.example:8443"},
		{[]string{"https://*"}, "http://any.example", ""},
		{[]string{"https://App.Example.com"}, "https://app.example.com", "https://app.example.com"},
	} {
		f := newCORSFixture(t, &apigw.CORS{AllowOrigins: tc.allow, AllowMethods: []string{"GET"}})
		resp, _ := f.do(t, http.MethodOptions, "/me", "", nil, preflight(tc.origin, "GET", ""))
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.want {
			t.Errorf("allow %v, origin %s: Access-Control-Allow-Origin %q, want %q", tc.allow, tc.origin, got, tc.want)
		}
	}
}

// TestCORSConfigRefused: configurations API Gateway refuses are refused by New and SetCORS.
func TestCORSConfigRefused(t *testing.T) {
	for name, c := range map[string]*apigw.CORS{
		"credentials with *": {AllowOrigins: []string{"*"}, AllowCredentials: true},
		"no origins":         {AllowMethods: []string{"GET"}},
		"empty origin":       {AllowOrigins: []string{""}},
		"origin with a path": {AllowOrigins: []string{"https://app.example.com/"}},
		"max age":            {AllowOrigins: []string{"*"}, MaxAge: 86401},
		"bad method":         {AllowOrigins: []string{"*"}, AllowMethods: []string{"G ET"}},
	} {
		_, err := apigw.New(apigw.Config{Routes: routes, Issuer: issuer, Audience: []string{clientID},
			JWKS: func() []byte { return nil }, CORS: c}, &fakeFn{})
		if err == nil {
			t.Errorf("%s: New accepted %+v", name, c)
		}
		f := newFixture(t)
		if err := f.router.SetCORS(c); err == nil {
			t.Errorf("%s: SetCORS accepted %+v", name, c)
		}
	}
}

// TestSetCORS: SetCORS switches CORS on and off on a running router; CORS returns a copy.
func TestSetCORS(t *testing.T) {
	f := newFixture(t)
	if f.router.CORS() != nil {
		t.Fatal("CORS on without a configuration")
	}
	if err := f.router.SetCORS(theConstructsCORS()); err != nil {
		t.Fatal(err)
	}
	got := f.router.CORS()
	if got == nil || got.AllowOrigins[0] != appOrigin {
		t.Fatalf("CORS() = %+v", got)
	}
	got.AllowOrigins[0] = "https://evil.example"
	resp, _ := f.do(t, http.MethodOptions, "/me", "", nil, preflight(appOrigin, "GET", ""))
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != appOrigin {
		t.Errorf("after SetCORS (and changing the copy): %d %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if err := f.router.SetCORS(nil); err != nil {
		t.Fatal(err)
	}
	resp, _ = f.do(t, http.MethodOptions, "/me", "", nil, preflight(appOrigin, "GET", ""))
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("after SetCORS(nil): %d", resp.StatusCode)
	}
}

// TestParseCORS reads a template's CorsConfiguration as the construct synthesizes it.
func TestParseCORS(t *testing.T) {
	c, err := apigw.ParseCORS(map[string]any{
		"AllowOrigins":     []any{appOrigin},
		"AllowMethods":     []any{"GET", "POST", "PATCH", "DELETE"},
		"AllowHeaders":     []any{"authorization", "content-type"},
		"ExposeHeaders":    []any{"date"},
		"AllowCredentials": false,
		"MaxAge":           float64(600),
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.AllowOrigins, ",") != appOrigin || strings.Join(c.AllowMethods, ",") != "GET,POST,PATCH,DELETE" ||
		strings.Join(c.AllowHeaders, ",") != "authorization,content-type" || strings.Join(c.ExposeHeaders, ",") != "date" ||
		c.AllowCredentials || c.MaxAge != 600 {
		t.Errorf("ParseCORS: %+v", c)
	}
	for name, bad := range map[string]map[string]any{
		"intrinsic origin": {"AllowOrigins": []any{map[string]any{"Ref": "X"}}},
		"max age string":   {"AllowOrigins": []any{"*"}, "MaxAge": "600"},
		"unknown property": {"AllowOrigins": []any{"*"}, "AllowOrigin": []any{"*"}},
	} {
		if _, err := apigw.ParseCORS(bad); err == nil {
			t.Errorf("%s: ParseCORS accepted %v", name, bad)
		}
	}
}
