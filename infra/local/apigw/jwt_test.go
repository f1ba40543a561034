package apigw_test

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/infra/local/apigw"
)

// TestRefusedWhereLibraryDefaultsDiffer covers the tokens golang-jwt/jwt/v5 accepts with its
// default options (or the authorizer must refuse beyond them): each is signed with the
// published key unless the case is about the key, so only the rule named can refuse it.
func TestRefusedWhereLibraryDefaultsDiffer(t *testing.T) {
	f := newFixture(t)
	good := sign(f.key, rs256(), accessClaims())
	parts := strings.Split(good, ".")
	der, err := x509.MarshalPKIXPublicKey(&f.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hs256 := func(secret []byte) string {
		in := b64(mustJSON(map[string]any{"alg": "HS256", "kid": kid})) + "." + parts[1]
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(in))
		return in + "." + b64(m.Sum(nil))
	}
	rs384 := func() string {
		in := b64(mustJSON(map[string]any{"alg": "RS384", "kid": kid})) + "." + parts[1]
		d := sha512.Sum384([]byte(in))
		sig, err := rsa.SignPKCS1v15(rand.Reader, f.key, crypto.SHA384, d[:])
		if err != nil {
			panic(err)
		}
		return in + "." + b64(sig)
	}
	inf := json.Number("1e400") // valid JSON, not a finite float64
	cases := map[string]string{
		// Library default: no exp is fine (WithExpirationRequired).
		"no exp": sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { delete(c, "exp") })),
		// Library default: iat is not checked (WithIssuedAt).
		"iat in the future": sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["iat"] = now.Add(time.Second).Unix() })),
		"iat a string":      sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["iat"] = "1" })),
		// Library default: any registered method (WithValidMethods).
		"HS256 with the DER public key": hs256(der),
		"HS256 with the PEM public key": hs256(pemKey),
		"RS384 with the published key":  rs384(),
		"alg none":                      b64([]byte(`{"alg":"none","kid":"`+kid+`"}`)) + "." + parts[1] + ".",
		// Library default: lax base64 (WithStrictDecoding); line breaks are skipped even then.
		"non-canonical signature": parts[0] + "." + parts[1] + "." + nonCanonical(parts[2]),
		// Library default: no issuer check (WithIssuer).
		"iss a number": sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["iss"] = 5 })),
		// The library reads an infinite NumericDate as a date; the authorizer refuses it.
		"exp infinite": sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["exp"] = inf })),
		"nbf infinite": sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["nbf"] = inf })),
		"iat infinite": sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["iat"] = inf })),
		// Types and shapes.
		"exp a bool":             sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["exp"] = true })),
		"nbf a string":           sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["nbf"] = "1" })),
		"aud null":               sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["aud"] = nil })),
		"aud list with a number": sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["aud"] = []any{clientID, 5} })),
		"client_id a list":       sign(f.key, rs256(), accessClaimsWith(func(c map[string]any) { c["client_id"] = []string{clientID} })),
		"payload null":           signRaw(f.key, b64(mustJSON(rs256())), b64([]byte("null"))),
		"header null":            signRaw(f.key, b64([]byte("null")), parts[1]),
		"no alg":                 sign(f.key, map[string]any{"kid": kid}, accessClaims()),
		"kid a number":           sign(f.key, map[string]any{"alg": "RS256", "kid": 1}, accessClaims()),
		"kid of another key":     sign(f.evil, rs256(), accessClaims()),
		"wrong kid, right key":   sign(f.key, map[string]any{"alg": "RS256", "kid": "key-2"}, accessClaims()),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			resp, body := f.do(t, "GET", "/me", "Bearer "+tok, nil, nil)
			if resp.StatusCode != 401 || body != `{"message":"Unauthorized"}` {
				t.Fatalf("answer %d %s, want 401 Unauthorized", resp.StatusCode, body)
			}
		})
	}
	// Line breaks and carriage returns inside the signature segment: a base64 decoder skips
	// them, so only the character check refuses (a client refuses to send them: straight to the
	// handler).
	for name, tok := range map[string]string{
		"LF in the signature": parts[0] + "." + parts[1] + "." + parts[2][:8] + "\n" + parts[2][8:],
		"CR in the signature": parts[0] + "." + parts[1] + "." + parts[2][:8] + "\r" + parts[2][8:],
	} {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/me", nil)
		req.Header["Authorization"] = []string{"Bearer " + tok}
		f.router.ServeHTTP(w, req)
		if w.Code != 401 {
			t.Errorf("%s: %d, want 401", name, w.Code)
		}
	}
	if f.fn.n() != 0 {
		t.Fatalf("function invoked %d times", f.fn.n())
	}
	if got := f.router.Calls(); got["unauthorized"] != len(cases)+2 {
		t.Fatalf("Calls = %v, want %d unauthorized", got, len(cases)+2)
	}
	// The good token still works (the refusals above are not an artefact of the fixture).
	if resp, _ := f.do(t, "GET", "/me", "Bearer "+good, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("good token: %d", resp.StatusCode)
	}
}

// TestAccepted covers tokens the authorizer must let through.
func TestAccepted(t *testing.T) {
	key, evil := testKeys(t)
	// Two keys published under the same kid (a rotation in progress): either verifies.
	set := jwks(map[string]*rsa.PublicKey{kid: &key.PublicKey})
	other := jwks(map[string]*rsa.PublicKey{kid: &evil.PublicKey})
	var a, b struct{ Keys []json.RawMessage }
	if err := json.Unmarshal(set, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(other, &b); err != nil {
		t.Fatal(err)
	}
	both := mustJSON(map[string]any{"keys": append(a.Keys, b.Keys...)})
	fn := &fakeFn{}
	r := newRouter(t, both, fn)
	for name, tok := range map[string]string{
		"first key of the kid":     sign(key, rs256(), accessClaims()),
		"second key of the kid":    sign(evil, rs256(), accessClaims()),
		"aud list with the client": sign(key, rs256(), accessClaimsWith(func(c map[string]any) { c["aud"] = []string{"x", clientID} })),
		"exp one second ahead":     sign(key, rs256(), accessClaimsWith(func(c map[string]any) { c["exp"] = now.Add(time.Second).Unix() })),
		"nbf now, iat now":         sign(key, rs256(), accessClaimsWith(func(c map[string]any) { c["nbf"] = now.Unix(); c["iat"] = now.Unix() })),
		"no iat":                   sign(key, rs256(), accessClaimsWith(func(c map[string]any) { delete(c, "iat") })),
		"no typ":                   sign(key, map[string]any{"alg": "RS256", "kid": kid}, accessClaims()),
		"unknown header field":     sign(key, map[string]any{"alg": "RS256", "kid": kid, "x5t": "abc"}, accessClaims()),
		"exp written as a float":   sign(key, rs256(), accessClaimsWith(func(c map[string]any) { c["exp"] = json.Number("1893560645.0") })),
		"exp in exponent notation": sign(key, rs256(), accessClaimsWith(func(c map[string]any) { c["exp"] = json.Number("1.893560645e9") })),
	} {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		r.ServeHTTP(w, req)
		if w.Code != 200 {
			body, _ := io.ReadAll(w.Body)
			t.Errorf("%s: %d %s, want 200", name, w.Code, body)
		}
	}
	// Numbers reach the function as written (json.Number), not through float64.
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/me", nil)
	req.Header.Set("Authorization", "Bearer "+sign(key, rs256(), accessClaimsWith(func(c map[string]any) { c["big"] = json.Number("12345678901234567890") })))
	r.ServeHTTP(w, req)
	if got := fn.last(t).RequestContext.Authorizer.JWT.Claims["big"]; w.Code != 200 || got != "12345678901234567890" {
		t.Errorf("answer %d, claim big = %q, want the number as written", w.Code, got)
	}
}

func newRouter(t *testing.T, jwksDoc []byte, fn *fakeFn) http.Handler {
	t.Helper()
	r, err := apigw.New(apigw.Config{
		Routes: []string{"GET /me"}, Issuer: issuer, Audience: []string{clientID},
		JWKS:  func() []byte { return jwksDoc },
		Clock: func() time.Time { return now },
	}, fn)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
