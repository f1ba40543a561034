package apigw_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/passwordless-go/cognito/infra/local/apigw"
)

const (
	issuer   = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Local123"
	clientID = "4f3k2j1h0g9f8e7d6c5b4a3210"
	kid      = "key-1"
	sub      = "7d9a3c1e-0b6f-4e2a-9c55-3f1e2d4b6a80"
)

var now = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

var keys struct {
	once       sync.Once
	main, evil *rsa.PrivateKey
}

func testKeys(t *testing.T) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	keys.once.Do(func() {
		var err error
		if keys.main, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if keys.evil, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return keys.main, keys.evil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func jwks(keys map[string]*rsa.PublicKey) []byte {
	var list []map[string]string
	for id, k := range keys {
		list = append(list, map[string]string{
			"kty": "RSA", "kid": id, "alg": "RS256", "use": "sig",
			"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes()),
		})
	}
	b, _ := json.Marshal(map[string]any{"keys": list})
	return b
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// sign makes an RS256 JWS of claims with key and the header fields given.
func sign(key *rsa.PrivateKey, header map[string]any, claims map[string]any) string {
	in := b64(mustJSON(header)) + "." + b64(mustJSON(claims))
	d := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	if err != nil {
		panic(err)
	}
	return in + "." + b64(sig)
}

func rs256() map[string]any { return map[string]any{"alg": "RS256", "kid": kid, "typ": "JWT"} }

func accessClaims() map[string]any {
	return map[string]any{
		"sub":            sub,
		"iss":            issuer,
		"client_id":      clientID,
		"origin_jti":     "0d4b3c2a-1111-2222-3333-444455556666",
		"event_id":       "e1",
		"token_use":      "access",
		"scope":          "aws.cognito.signin.user.admin",
		"auth_time":      now.Add(-time.Minute).Unix(),
		"exp":            now.Add(time.Hour).Unix(),
		"iat":            now.Add(-time.Minute).Unix(),
		"jti":            "jti-1",
		"username":       sub,
		"cognito:groups": []string{"admin", "users"},
	}
}

// accessClaimsWith is accessClaims changed by mod.
func accessClaimsWith(mod func(c map[string]any)) map[string]any {
	c := accessClaims()
	mod(c)
	return c
}

func idClaims() map[string]any {
	return map[string]any{
		"sub":              sub,
		"iss":              issuer,
		"aud":              clientID,
		"token_use":        "id",
		"email":            "alice@example.com",
		"email_verified":   true,
		"cognito:username": sub,
		"auth_time":        now.Add(-time.Minute).Unix(),
		"exp":              now.Add(time.Hour).Unix(),
		"iat":              now.Add(-time.Minute).Unix(),
	}
}

// fakeFn records events and answers with resp (or err).
type fakeFn struct {
	mu     sync.Mutex
	events []events.APIGatewayV2HTTPRequest
	raw    [][]byte
	resp   []byte
	err    error
}

func (f *fakeFn) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	f.events = append(f.events, ev)
	f.raw = append(f.raw, payload)
	if f.err != nil {
		return nil, f.err
	}
	if f.resp != nil {
		return f.resp, nil
	}
	return []byte(`{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":"{\"ok\":true}"}`), nil
}

func (f *fakeFn) n() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.events)
}

func (f *fakeFn) last(t *testing.T) events.APIGatewayV2HTTPRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) == 0 {
		t.Fatal("function not invoked")
	}
	return f.events[len(f.events)-1]
}

var routes = []string{"GET /me", "POST /device-keys", "DELETE /device-keys/{id}", "GET /device-keys"}

type fixture struct {
	fn     *fakeFn
	router *apigw.Router
	srv    *httptest.Server
	key    *rsa.PrivateKey
	evil   *rsa.PrivateKey
	jwks   []byte
	mu     sync.Mutex
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newCORSFixture(t, nil)
}

// newCORSFixture is newFixture with cors as Config.CORS (nil: none).
func newCORSFixture(t *testing.T, cors *apigw.CORS) *fixture {
	t.Helper()
	key, evil := testKeys(t)
	f := &fixture{fn: &fakeFn{}, key: key, evil: evil}
	f.jwks = jwks(map[string]*rsa.PublicKey{kid: &key.PublicKey})
	r, err := apigw.New(apigw.Config{
		Routes:   routes,
		Issuer:   issuer,
		Audience: []string{clientID},
		JWKS: func() []byte {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.jwks
		},
		Clock: func() time.Time { return now },
		CORS:  cors,
	}, f.fn)
	if err != nil {
		t.Fatal(err)
	}
	f.router = r
	f.srv = httptest.NewServer(r)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(t *testing.T, method, path, auth string, body io.Reader, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestValidAccessToken(t *testing.T) {
	f := newFixture(t)
	tok := sign(f.key, rs256(), accessClaims())
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/me?a=1&b=x%20y&a=2", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", "apigw-test/1.0")
	req.Header.Add("X-Custom", "one")
	req.Header.Add("X-Custom", "two")
	req.Header.Set("Cookie", "c1=v1; c2=v2")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"ok":true}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("answer %d %q %v", resp.StatusCode, body, resp.Header)
	}
	ev := f.fn.last(t)
	checks := map[string][2]any{
		"version":        {ev.Version, "2.0"},
		"routeKey":       {ev.RouteKey, "GET /me"},
		"rc.routeKey":    {ev.RequestContext.RouteKey, "GET /me"},
		"rawPath":        {ev.RawPath, "/me"},
		"rawQueryString": {ev.RawQueryString, "a=1&b=x%20y&a=2"},
		"query a":        {ev.QueryStringParameters["a"], "1,2"},
		"query b":        {ev.QueryStringParameters["b"], "x y"},
		"method":         {ev.RequestContext.HTTP.Method, "GET"},
		"path":           {ev.RequestContext.HTTP.Path, "/me"},
		"protocol":       {ev.RequestContext.HTTP.Protocol, "HTTP/1.1"},
		"sourceIp":       {ev.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		"userAgent":      {ev.RequestContext.HTTP.UserAgent, "apigw-test/1.0"},
		"stage":          {ev.RequestContext.Stage, "$default"},
		"apiId":          {ev.RequestContext.APIID, "localapi"},
		"requestId":      {ev.RequestContext.RequestID, resp.Header.Get("Apigw-Requestid")},
		"time":           {ev.RequestContext.Time, "02/Jan/2030:03:04:05 +0000"},
		"timeEpoch":      {ev.RequestContext.TimeEpoch, now.UnixMilli()},
		"x-custom":       {ev.Headers["x-custom"], "one,two"},
		"user-agent":     {ev.Headers["user-agent"], "apigw-test/1.0"},
		"authorization":  {ev.Headers["authorization"], "Bearer " + tok},
		"host":           {ev.Headers["host"], strings.TrimPrefix(f.srv.URL, "http://")},
		"cookie header":  {ev.Headers["cookie"], ""},
		"cookies":        {strings.Join(ev.Cookies, "|"), "c1=v1|c2=v2"},
		"base64":         {ev.IsBase64Encoded, false},
		"body":           {ev.Body, ""},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %#v, want %#v", name, c[0], c[1])
		}
	}
	if ev.RequestContext.RequestID == "" {
		t.Error("no requestId")
	}
	for k := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q not lower-cased", k)
		}
	}
	if ev.RequestContext.Authorizer == nil || ev.RequestContext.Authorizer.JWT == nil {
		t.Fatal("no authorizer.jwt in the event")
	}
	claims := ev.RequestContext.Authorizer.JWT.Claims
	wantClaims := map[string]string{
		"sub":            sub,
		"token_use":      "access",
		"client_id":      clientID,
		"iss":            issuer,
		"username":       sub,
		"scope":          "aws.cognito.signin.user.admin",
		"auth_time":      "1893553385", // now - 1 min, as a string
		"exp":            "1893557045",
		"cognito:groups": "[admin users]",
	}
	for k, v := range wantClaims {
		if claims[k] != v {
			t.Errorf("claim %s = %q, want %q", k, claims[k], v)
		}
	}
	// The raw event carries the claims as JSON strings, as API Gateway sends them.
	var raw map[string]any
	_ = json.Unmarshal(f.fn.raw[0], &raw)
	rc := raw["requestContext"].(map[string]any)
	jwt := rc["authorizer"].(map[string]any)["jwt"].(map[string]any)
	if _, ok := jwt["claims"].(map[string]any)["auth_time"].(string); !ok {
		t.Errorf("auth_time is not a JSON string in the event: %v", jwt["claims"])
	}
	if _, ok := rc["authentication"]; ok {
		t.Errorf("requestContext.authentication sent without mutual TLS: %v", rc["authentication"])
	}
	if got := f.router.Calls(); got["GET /me"] != 1 || got["unauthorized"] != 0 {
		t.Errorf("Calls = %v", got)
	}
	// Without the "Bearer " prefix too.
	if resp, _ := f.do(t, "GET", "/me", tok, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("token without Bearer prefix: %d", resp.StatusCode)
	}
}

func TestPathParametersAndBodies(t *testing.T) {
	f := newFixture(t)
	auth := "Bearer " + sign(f.key, rs256(), accessClaims())

	resp, _ := f.do(t, "DELETE", "/device-keys/abc%2F123", auth, nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	ev := f.fn.last(t)
	if ev.RouteKey != "DELETE /device-keys/{id}" || ev.PathParameters["id"] != "abc/123" || ev.RawPath != "/device-keys/abc%2F123" {
		t.Fatalf("DELETE event: route %q params %v rawPath %q", ev.RouteKey, ev.PathParameters, ev.RawPath)
	}

	resp, _ = f.do(t, "POST", "/device-keys", auth, strings.NewReader(`{"name":"laptop ✓"}`), map[string]string{"Content-Type": "application/json; charset=utf-8"})
	if resp.StatusCode != 200 {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	ev = f.fn.last(t)
	if ev.RouteKey != "POST /device-keys" || ev.Body != `{"name":"laptop ✓"}` || ev.IsBase64Encoded || ev.PathParameters != nil {
		t.Fatalf("POST JSON event: %q %q base64=%v params=%v", ev.RouteKey, ev.Body, ev.IsBase64Encoded, ev.PathParameters)
	}
	if ev.Headers["content-type"] != "application/json; charset=utf-8" || ev.Headers["content-length"] != "21" {
		t.Fatalf("POST headers: %v", ev.Headers)
	}

	bin := []byte{0, 1, 2, 0xff, 0xfe}
	resp, _ = f.do(t, "POST", "/device-keys", auth, strings.NewReader(string(bin)), map[string]string{"Content-Type": "application/octet-stream"})
	if resp.StatusCode != 200 {
		t.Fatalf("POST binary: %d", resp.StatusCode)
	}
	ev = f.fn.last(t)
	if !ev.IsBase64Encoded || ev.Body != base64.StdEncoding.EncodeToString(bin) {
		t.Fatalf("binary body: %q base64=%v", ev.Body, ev.IsBase64Encoded)
	}
	if got := f.router.Calls(); got["DELETE /device-keys/{id}"] != 1 || got["POST /device-keys"] != 2 {
		t.Fatalf("Calls = %v", got)
	}
}

func TestIDTokenPassesAuthorizer(t *testing.T) {
	f := newFixture(t)
	resp, _ := f.do(t, "GET", "/me", "Bearer "+sign(f.key, rs256(), idClaims()), nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("ID token with aud = client: %d, want it to pass the authorizer", resp.StatusCode)
	}
	c := f.fn.last(t).RequestContext.Authorizer.JWT.Claims
	if c["token_use"] != "id" || c["aud"] != clientID || c["email_verified"] != "true" {
		t.Fatalf("claims %v", c)
	}
}

func TestRefused(t *testing.T) {
	f := newFixture(t)
	good := sign(f.key, rs256(), accessClaims())
	parts := strings.Split(good, ".")
	hs256 := func() string {
		h := b64(mustJSON(map[string]any{"alg": "HS256", "kid": kid}))
		p := b64(mustJSON(accessClaims()))
		pub, _ := x509.MarshalPKIXPublicKey(&f.key.PublicKey)
		m := hmac.New(sha256.New, pub)
		m.Write([]byte(h + "." + p))
		return h + "." + p + "." + b64(m.Sum(nil))
	}
	tampered := func() string {
		c := accessClaims()
		c["sub"] = "someone-else"
		return parts[0] + "." + b64(mustJSON(c)) + "." + parts[2]
	}
	idOther := idClaims()
	idOther["aud"] = "another-client"
	cases := map[string]string{
		"missing header":             "",
		"bearer only":                "Bearer ",
		"basic auth":                 "Basic dXNlcjpwYXNz",
		"wrong iss":                  sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["iss"] = issuer + "x" })),
		"iss prefix":                 sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["iss"] = strings.TrimSuffix(issuer, "3") })),
		"no iss":                     sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { delete(c, "iss") })),
		"wrong client_id":            sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["client_id"] = "another-client" })),
		"no client_id and no aud":    sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { delete(c, "client_id") })),
		"wrong aud (id token)":       sign(f.key, rs256(), idOther),
		"aud wins over client_id":    sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["aud"] = "another-client" })),
		"aud list without client":    sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["aud"] = []string{"x", "y"} })),
		"aud a number":               sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["aud"] = 5 })),
		"expired":                    sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["exp"] = now.Add(-time.Second).Unix() })),
		"exp now":                    sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["exp"] = now.Unix() })),
		"no exp":                     sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { delete(c, "exp") })),
		"exp a string":               sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["exp"] = "9999999999" })),
		"nbf in the future":          sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["nbf"] = now.Add(time.Second).Unix() })),
		"iat in the future":          sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["iat"] = now.Add(time.Minute).Unix() })),
		"signed by another key":      sign(f.evil, rs256(), accessClaims()),
		"tampered payload":           tampered(),
		"truncated signature":        parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-4],
		"non-canonical base64":       parts[0] + "." + parts[1] + "." + nonCanonical(parts[2]),
		"empty signature":            parts[0] + "." + parts[1] + ".",
		"alg none":                   b64([]byte(`{"alg":"none","kid":"`+kid+`"}`)) + "." + parts[1] + ".",
		"alg none with signature":    b64([]byte(`{"alg":"none","kid":"`+kid+`"}`)) + "." + parts[1] + "." + parts[2],
		"alg HS256":                  hs256(),
		"alg rs256 lower case":       sign(f.key, map[string]any{"alg": "rs256", "kid": kid}, accessClaims()),
		"alg PS256":                  sign(f.key, map[string]any{"alg": "PS256", "kid": kid}, accessClaims()),
		"unknown kid":                sign(f.key, map[string]any{"alg": "RS256", "kid": "key-2"}, accessClaims()),
		"no kid":                     sign(f.key, map[string]any{"alg": "RS256"}, accessClaims()),
		"crit header":                sign(f.key, map[string]any{"alg": "RS256", "kid": kid, "crit": []string{"exp"}}, accessClaims()),
		"two parts":                  parts[0] + "." + parts[1],
		"four parts":                 good + "." + parts[2],
		"not base64":                 parts[0] + ".!!!." + parts[2],
		"padded base64":              parts[0] + "=." + parts[1] + "." + parts[2],
		"standard base64 alphabet":   strings.NewReplacer("-", "+", "_", "/").Replace(good),
		"header not JSON":            signRaw(f.key, b64([]byte("not json")), parts[1]),
		"header an array":            signRaw(f.key, b64([]byte(`["RS256"]`)), parts[1]),
		"payload not JSON":           signRaw(f.key, b64(mustJSON(rs256())), b64([]byte("not json"))),
		"payload an array":           signRaw(f.key, b64(mustJSON(rs256())), b64([]byte(`["a"]`))),
		"payload with trailing data": signRaw(f.key, b64(mustJSON(rs256())), b64(append(mustJSON(accessClaims()), []byte(`{}`)...))),
		"garbage":                    "Bearer abc",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			before := f.fn.n()
			auth := tok
			if tok != "" && !strings.HasPrefix(tok, "Bearer ") && !strings.HasPrefix(tok, "Basic ") {
				auth = "Bearer " + tok
			}
			req, _ := http.NewRequest("GET", f.srv.URL+"/me", nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := f.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 401 || string(b) != `{"message":"Unauthorized"}` {
				t.Fatalf("answer %d %s, want 401 Unauthorized", resp.StatusCode, b)
			}
			if f.fn.n() != before {
				t.Fatal("the function was invoked")
			}
		})
	}
	// A line break inside the token (a client refuses to send it; straight to the handler).
	ts := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/me", nil)
	req.Header.Set("Authorization", "Bearer "+parts[0][:4]+"\n"+parts[0][4:]+"."+parts[1]+"."+parts[2])
	f.router.ServeHTTP(ts, req)
	if ts.Code != 401 {
		t.Fatalf("token with a line break: %d", ts.Code)
	}
	if f.fn.n() != 0 {
		t.Fatalf("function invoked %d times", f.fn.n())
	}
	if got := f.router.Calls(); got["unauthorized"] != len(cases)+1 || got["GET /me"] != 0 {
		t.Fatalf("Calls = %v", got)
	}
	// The good token still works (the refusals above are not an artefact of the fixture).
	if resp, _ := f.do(t, "GET", "/me", "Bearer "+good, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("good token: %d", resp.StatusCode)
	}
}

// nonCanonical sets unused trailing bits of unpadded base64url: a lax decoder reads the same
// bytes, a strict one refuses.
func nonCanonical(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(s)%4 == 0 {
		panic("no trailing bits")
	}
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[i|1])
}

func signRaw(key *rsa.PrivateKey, h, p string) string {
	d := sha256.Sum256([]byte(h + "." + p))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	return h + "." + p + "." + b64(sig)
}

func TestNotFound(t *testing.T) {
	f := newFixture(t)
	auth := "Bearer " + sign(f.key, rs256(), accessClaims())
	for _, c := range []struct{ method, path, auth string }{
		{"GET", "/nope", auth},
		{"GET", "/nope", ""},
		{"POST", "/me", auth},
		{"GET", "/me/", auth},
		{"GET", "/device-keys/x", auth},
		{"DELETE", "/device-keys", auth},
		{"DELETE", "/device-keys/a/b", auth},
	} {
		resp, body := f.do(t, c.method, c.path, c.auth, nil, nil)
		if resp.StatusCode != 404 || body != `{"message":"Not Found"}` {
			t.Errorf("%s %s: %d %s, want 404", c.method, c.path, resp.StatusCode, body)
		}
	}
	if f.fn.n() != 0 {
		t.Fatal("function invoked for an unknown route")
	}
	if got := f.router.Calls(); got["unauthorized"] != 0 {
		t.Fatalf("an unmatched route reached the authorizer: %v", got)
	}
}

func TestFunctionAnswers(t *testing.T) {
	f := newFixture(t)
	auth := "Bearer " + sign(f.key, rs256(), accessClaims())
	cases := []struct {
		name    string
		resp    []byte
		err     error
		status  int
		body    string
		headers map[string]string
	}{
		{name: "function error", err: errors.New("lambdarun: function error errorString: boom"), status: 500, body: `{"message":"Internal Server Error"}`},
		{name: "base64 body", resp: mustJSON(events.APIGatewayV2HTTPResponse{
			StatusCode: 201, Headers: map[string]string{"Content-Type": "application/octet-stream", "X-Thing": "1"},
			Body: base64.StdEncoding.EncodeToString([]byte{0, 'h', 'i', 0xff}), IsBase64Encoded: true, Cookies: []string{"a=b; Secure"},
		}), status: 201, body: "\x00hi\xff", headers: map[string]string{"Content-Type": "application/octet-stream", "X-Thing": "1", "Set-Cookie": "a=b; Secure"}},
		{name: "bad base64 body", resp: []byte(`{"statusCode":200,"body":"!!!","isBase64Encoded":true}`), status: 500, body: `{"message":"Internal Server Error"}`},
		{name: "no statusCode", resp: []byte(`{"hello":"world"}`), status: 200, body: `{"hello":"world"}`, headers: map[string]string{"Content-Type": "application/json"}},
		{name: "not JSON", resp: []byte(`hello`), status: 500, body: `{"message":"Internal Server Error"}`},
		{name: "bad status", resp: []byte(`{"statusCode":42,"body":"x"}`), status: 500, body: `{"message":"Internal Server Error"}`},
		{name: "no content", resp: []byte(`{"statusCode":204}`), status: 204, body: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.fn.mu.Lock()
			f.fn.resp, f.fn.err = c.resp, c.err
			f.fn.mu.Unlock()
			resp, body := f.do(t, "GET", "/me", auth, nil, nil)
			if resp.StatusCode != c.status || body != c.body {
				t.Fatalf("answer %d %q, want %d %q", resp.StatusCode, body, c.status, c.body)
			}
			for k, v := range c.headers {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

type slowFn struct{}

func (slowFn) Invoke(ctx context.Context, _ []byte) ([]byte, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestIntegrationTimeout(t *testing.T) {
	key, _ := testKeys(t)
	r, err := apigw.New(apigw.Config{
		Routes: []string{"GET /me"}, Issuer: issuer, Audience: []string{clientID},
		JWKS:    func() []byte { return jwks(map[string]*rsa.PublicKey{kid: &key.PublicKey}) },
		Clock:   func() time.Time { return now },
		Timeout: 100 * time.Millisecond,
	}, slowFn{})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/me", nil)
	req.Header.Set("Authorization", "Bearer "+sign(key, rs256(), accessClaims()))
	r.ServeHTTP(w, req)
	if w.Code != 503 {
		t.Fatalf("integration timeout: %d %s", w.Code, w.Body)
	}
}

func TestRouteSpecificity(t *testing.T) {
	key, _ := testKeys(t)
	fn := &fakeFn{}
	r, err := apigw.New(apigw.Config{
		Routes: []string{"ANY /{proxy+}", "GET /items/{id}", "GET /items/special", "ANY /items/{id}", "$default"},
		Issuer: issuer, Audience: []string{"other", clientID},
		JWKS:  func() []byte { return jwks(map[string]*rsa.PublicKey{kid: &key.PublicKey}) },
		Clock: func() time.Time { return now },
	}, fn)
	if err != nil {
		t.Fatal(err)
	}
	auth := "Bearer " + sign(key, rs256(), accessClaims())
	for _, c := range []struct{ method, path, route, params string }{
		{"GET", "/items/special", "GET /items/special", "map[]"},
		{"GET", "/items/7", "GET /items/{id}", "map[id:7]"},
		{"PUT", "/items/7", "ANY /items/{id}", "map[id:7]"},
		{"GET", "/a/b/c", "ANY /{proxy+}", "map[proxy:a/b/c]"},
		{"GET", "/", "$default", "map[]"},
	} {
		w := httptest.NewRecorder()
		req := httptest.NewRequest(c.method, c.path, nil)
		req.Header.Set("Authorization", auth)
		r.ServeHTTP(w, req)
		ev := fn.last(t)
		if w.Code != 200 || ev.RouteKey != c.route || fmtMap(ev.PathParameters) != c.params {
			t.Errorf("%s %s: %d route %q params %v, want %q %s", c.method, c.path, w.Code, ev.RouteKey, ev.PathParameters, c.route, c.params)
		}
	}
}

func fmtMap(m map[string]string) string {
	b := &strings.Builder{}
	b.WriteString("map[")
	first := true
	for k, v := range m {
		if !first {
			b.WriteString(" ")
		}
		first = false
		b.WriteString(k + ":" + v)
	}
	b.WriteString("]")
	return b.String()
}

func TestKeyRotation(t *testing.T) {
	f := newFixture(t)
	old := "Bearer " + sign(f.key, rs256(), accessClaims())
	newTok := "Bearer " + sign(f.evil, map[string]any{"alg": "RS256", "kid": "key-2"}, accessClaims())
	if resp, _ := f.do(t, "GET", "/me", newTok, nil, nil); resp.StatusCode != 401 {
		t.Fatalf("token of a key not yet published: %d", resp.StatusCode)
	}
	f.mu.Lock()
	f.jwks = jwks(map[string]*rsa.PublicKey{"key-2": &f.evil.PublicKey})
	f.mu.Unlock()
	if resp, _ := f.do(t, "GET", "/me", newTok, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("token of the new key: %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, "GET", "/me", old, nil, nil); resp.StatusCode != 401 {
		t.Fatalf("token of the retired key: %d", resp.StatusCode)
	}
}

func TestNewChecksConfig(t *testing.T) {
	jw := func() []byte { return []byte(`{"keys":[]}`) }
	fn := &fakeFn{}
	good := apigw.Config{Routes: []string{"GET /me"}, Issuer: issuer, Audience: []string{clientID}, JWKS: jw}
	if _, err := apigw.New(good, fn); err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(c *apigw.Config){
		"no issuer":      func(c *apigw.Config) { c.Issuer = "" },
		"no audience":    func(c *apigw.Config) { c.Audience = nil },
		"no JWKS":        func(c *apigw.Config) { c.JWKS = nil },
		"no routes":      func(c *apigw.Config) { c.Routes = nil },
		"bad route":      func(c *apigw.Config) { c.Routes = []string{"GET me"} },
		"bad method":     func(c *apigw.Config) { c.Routes = []string{"FETCH /me"} },
		"greedy inside":  func(c *apigw.Config) { c.Routes = []string{"GET /{p+}/x"} },
		"duplicate":      func(c *apigw.Config) { c.Routes = []string{"GET /me", "GET /me"} },
		"duplicate name": func(c *apigw.Config) { c.Routes = []string{"GET /{a}/{a}"} },
	}
	for name, mod := range bad {
		c := good
		mod(&c)
		if _, err := apigw.New(c, fn); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	if _, err := apigw.New(good, nil); err == nil {
		t.Error("New without an Invoker succeeded")
	}
}
