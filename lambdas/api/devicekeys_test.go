package api_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

const (
	clientID = "1example23456789abcdefghij"
	subA     = "3f1c2a9e-0000-4000-8000-00000000000a"
	subB     = "3f1c2a9e-0000-4000-8000-00000000000b"
)

var testNow = time.Date(2026, 1, 2, 3, 4, 10, 123_456_789, time.UTC)

func nowFn() time.Time { return testNow }

// --- keys -------------------------------------------------------------------------------------

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
	rsaErr  error
)

func rsaPub(t testing.TB) *rsa.PublicKey {
	t.Helper()
	rsaOnce.Do(func() { rsaKey, rsaErr = rsa.GenerateKey(rand.Reader, 2048) })
	if rsaErr != nil {
		t.Fatal(rsaErr)
	}
	return &rsaKey.PublicKey
}

func spkiB64(t testing.TB, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func newP256(t testing.TB) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return spkiB64(t, &k.PublicKey)
}

// --- requests ---------------------------------------------------------------------------------

type reqOpt func(*events.APIGatewayV2HTTPRequest)

func withClaim(k, v string) reqOpt {
	return func(r *events.APIGatewayV2HTTPRequest) { r.RequestContext.Authorizer.JWT.Claims[k] = v }
}

func withoutClaim(k string) reqOpt {
	return func(r *events.APIGatewayV2HTTPRequest) { delete(r.RequestContext.Authorizer.JWT.Claims, k) }
}

func withAuthTime(t time.Time) reqOpt { return withClaim("auth_time", strconv.FormatInt(t.Unix(), 10)) }

func base64Body() reqOpt {
	return func(r *events.APIGatewayV2HTTPRequest) {
		r.Body = base64.StdEncoding.EncodeToString([]byte(r.Body))
		r.IsBase64Encoded = true
	}
}

// request builds the event API Gateway sends for routeKey (e.g. "DELETE /device-keys/{id}") with
// an access token of sub issued to clientID, signed in 30 s before testNow.
func request(routeKey, sub, id, body string, opts ...reqOpt) events.APIGatewayV2HTTPRequest {
	method, path, _ := strings.Cut(routeKey, " ")
	r := events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: routeKey,
		RawPath:  path,
		Headers:  map[string]string{"content-type": "application/json"},
		Body:     body,
	}
	if id != "" {
		r.RawPath = strings.Replace(path, "{id}", id, 1)
		r.PathParameters = map[string]string{"id": id}
	}
	r.RequestContext.RouteKey = routeKey
	r.RequestContext.HTTP.Method = method
	r.RequestContext.HTTP.Path = r.RawPath
	r.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{
			"sub":       sub,
			"username":  sub,
			"client_id": clientID,
			"token_use": "access",
			"scope":     "aws.cognito.signin.user.admin",
			"iss":       "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123",
			"auth_time": strconv.FormatInt(testNow.Add(-30*time.Second).Unix(), 10),
			"iat":       strconv.FormatInt(testNow.Add(-30*time.Second).Unix(), 10),
			"exp":       strconv.FormatInt(testNow.Add(time.Hour).Unix(), 10),
		}},
	}
	// The access token the authorizer verified, unless an option sets or removes the header: the
	// one the final claims came from (the fake Cognito of tokens_test.go knows its user).
	const auto = "\x00auto"
	r.Headers["authorization"] = auto
	for _, o := range opts {
		o(&r)
	}
	if r.Headers["authorization"] == auto {
		c := map[string]string{"username": sub, "sub": sub}
		if r.RequestContext.Authorizer != nil && r.RequestContext.Authorizer.JWT != nil {
			c = r.RequestContext.Authorizer.JWT.Claims
		}
		r.Headers["authorization"] = "Bearer " + testToken(c["username"], c["sub"])
	}
	return r
}

func registerBody(publicKey, name string) string {
	b, _ := json.Marshal(map[string]string{"publicKey": publicKey, "name": name})
	return string(b)
}

type registered struct {
	KeyID     string `json:"keyId"`
	Algorithm string `json:"algorithm"`
	Name      string `json:"name"`
	CreatedAt string `json:"createdAt"`
}

type listed struct {
	Keys []struct {
		KeyID      string  `json:"keyId"`
		Name       string  `json:"name"`
		Algorithm  string  `json:"algorithm"`
		CreatedAt  string  `json:"createdAt"`
		LastUsedAt *string `json:"lastUsedAt"`
	} `json:"keys"`
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// call runs one request and checks the invariants of every answer (checkAnswer).
func call(t testing.TB, h *api.Handler, r events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := h.Handle(context.Background(), r)
	return checkAnswer(t, resp, err)
}

// checkAnswer checks the invariants of every answer of the API's handlers: no error (and never a
// panic), JSON content type, no-store, a JSON body (except 204, which has none), an error body
// {"code","message"} on errors.
func checkAnswer(t testing.TB, resp events.APIGatewayV2HTTPResponse, err error) events.APIGatewayV2HTTPResponse {
	t.Helper()
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if resp.Headers["Content-Type"] != "application/json" || resp.Headers["Cache-Control"] != "no-store" {
		t.Errorf("headers %v", resp.Headers)
	}
	switch {
	case resp.StatusCode == http.StatusNoContent:
		if resp.Body != "" {
			t.Errorf("204 with body %q", resp.Body)
		}
	case resp.StatusCode >= 400:
		var e apiError
		if err := strictUnmarshal(resp.Body, &e); err != nil || e.Code == "" || e.Message == "" {
			t.Errorf("error body %q is not {code, message}: %v", resp.Body, err)
		}
	default:
		if !json.Valid([]byte(resp.Body)) {
			t.Errorf("body %q is not JSON", resp.Body)
		}
	}
	return resp
}

func strictUnmarshal(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func wantError(t testing.TB, resp events.APIGatewayV2HTTPResponse, status int, code string) apiError {
	t.Helper()
	var e apiError
	_ = json.Unmarshal([]byte(resp.Body), &e)
	if resp.StatusCode != status || e.Code != code {
		t.Fatalf("got %d %q (%s), want %d %q", resp.StatusCode, e.Code, e.Message, status, code)
	}
	return e
}

func register(t testing.TB, h *api.Handler, sub, publicKey, name string, opts ...reqOpt) registered {
	t.Helper()
	resp := call(t, h, request(api.RouteRegisterDeviceKey, sub, "", registerBody(publicKey, name), opts...))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %s", resp.StatusCode, resp.Body)
	}
	var out registered
	if err := strictUnmarshal(resp.Body, &out); err != nil {
		t.Fatalf("register body %s: %v", resp.Body, err)
	}
	return out
}

func list(t testing.TB, h *api.Handler, sub string) listed {
	t.Helper()
	resp := call(t, h, request(api.RouteListDeviceKeys, sub, "", ""))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list: %d %s", resp.StatusCode, resp.Body)
	}
	var out listed
	if err := strictUnmarshal(resp.Body, &out); err != nil {
		t.Fatalf("list body %s: %v", resp.Body, err)
	}
	if out.Keys == nil {
		t.Fatalf("list body %s: keys is not an array", resp.Body)
	}
	return out
}

func revoke(t testing.TB, h *api.Handler, sub, id string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	return call(t, h, request(api.RouteRevokeDeviceKey, sub, id, ""))
}

// --- in-memory store --------------------------------------------------------------------------

// memStore implements api.DeviceKeyStore with the store package's semantics.
type memStore struct {
	mu   sync.Mutex
	keys map[string][]store.DeviceKey
	err  error // returned by every call when set
}

func newMemStore() *memStore { return &memStore{keys: map[string][]store.DeviceKey{}} }

func (m *memStore) PutDeviceKey(_ context.Context, k store.DeviceKey, maxPerUser int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if k.Owner == "" || k.ID == "" || len(k.PublicKey) == 0 || k.Fingerprint == "" || maxPerUser < 1 {
		return store.ErrInvalidArgument
	}
	for _, e := range m.keys[k.Owner] {
		if e.Fingerprint == k.Fingerprint || e.ID == k.ID {
			return fmt.Errorf("put: %w", store.ErrExists)
		}
	}
	if len(m.keys[k.Owner]) >= maxPerUser {
		return fmt.Errorf("put: %w", store.ErrLimitReached)
	}
	m.keys[k.Owner] = append(m.keys[k.Owner], k)
	return nil
}

func (m *memStore) ListDeviceKeys(_ context.Context, owner string) ([]store.DeviceKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	out := append([]store.DeviceKey{}, m.keys[owner]...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (m *memStore) DeleteDeviceKey(_ context.Context, owner, keyID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	for i, k := range m.keys[owner] {
		if k.ID == keyID {
			m.keys[owner] = append(m.keys[owner][:i], m.keys[owner][i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("delete: %w", store.ErrNotFound)
}

func newHandler(s api.DeviceKeyStore, cfg api.DeviceKeyConfig) *api.Handler {
	if cfg.Now == nil {
		cfg.Now = nowFn
	}
	return api.New(clientID, nil).WithDeviceKeys(s, cfg).WithTokenChecker(newFakeCognito().checker())
}

// --- tests ------------------------------------------------------------------------------------

// TestDeviceKeysWithDynalite runs register, list and revoke against the real store on dynalite,
// for two users, including the ownership checks.
func TestDeviceKeysWithDynalite(t *testing.T) {
	st := storetest.New(t, "keys").Store
	h := newHandler(st, api.DeviceKeyConfig{MaxPerUser: 2})

	rsaKeyB64 := spkiB64(t, rsaPub(t))
	a1 := register(t, h, subA, rsaKeyB64, "Alice's Pixel")
	wantCreated := testNow.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z07:00")
	if a1.Algorithm != "RSA_PKCS1_SHA256" || a1.Name != "Alice's Pixel" || a1.CreatedAt != wantCreated {
		t.Errorf("register answer %+v, createdAt want %s", a1, wantCreated)
	}
	if b, err := base64.RawURLEncoding.DecodeString(a1.KeyID); err != nil || len(b) != 16 {
		t.Errorf("keyId %q is not 16 bytes of base64url", a1.KeyID)
	}
	a2 := register(t, h, subA, newP256(t), "Alice's iPad")
	if a2.Algorithm != "ECDSA_P256_SHA256" {
		t.Errorf("P-256 algorithm %q", a2.Algorithm)
	}
	// Same key again (in PEM this time): key_exists. A third key: key_limit.
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(rsaPub(t))}))
	wantError(t, call(t, h, request(api.RouteRegisterDeviceKey, subA, "", registerBody(pemKey, "again"))), http.StatusConflict, api.CodeKeyExists)
	wantError(t, call(t, h, request(api.RouteRegisterDeviceKey, subA, "", registerBody(newP256(t), "third"))), http.StatusConflict, api.CodeKeyLimit)

	b1 := register(t, h, subB, newP256(t), "Bob's phone")

	la := list(t, h, subA)
	if len(la.Keys) != 2 {
		t.Fatalf("A lists %d keys, want 2: %+v", len(la.Keys), la)
	}
	ids := map[string]bool{}
	for _, k := range la.Keys {
		ids[k.KeyID] = true
		if k.LastUsedAt != nil || k.CreatedAt != wantCreated || k.Name == "" || k.Algorithm == "" {
			t.Errorf("listed key %+v", k)
		}
	}
	if !ids[a1.KeyID] || !ids[a2.KeyID] || ids[b1.KeyID] {
		t.Fatalf("A's list %v, want exactly %s and %s", ids, a1.KeyID, a2.KeyID)
	}
	if lb := list(t, h, subB); len(lb.Keys) != 1 || lb.Keys[0].KeyID != b1.KeyID {
		t.Fatalf("B's list %+v, want only %s", lb, b1.KeyID)
	}

	// B cannot revoke A's key; the answer is the same as for a key that does not exist.
	notMine := revoke(t, h, subB, a1.KeyID)
	wantError(t, notMine, http.StatusNotFound, api.CodeNotFound)
	missing := revoke(t, h, subB, "AAAAAAAAAAAAAAAAAAAAAA")
	if notMine.Body != missing.Body || notMine.StatusCode != missing.StatusCode {
		t.Errorf("another user's key (%d %s) and a missing key (%d %s) are distinguishable",
			notMine.StatusCode, notMine.Body, missing.StatusCode, missing.Body)
	}
	if len(list(t, h, subA).Keys) != 2 {
		t.Fatal("B's revoke attempt removed one of A's keys")
	}

	// A revokes a key, it is gone, a second revoke is 404, and A can register again.
	if resp := revoke(t, h, subA, a1.KeyID); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", resp.StatusCode, resp.Body)
	}
	if la := list(t, h, subA); len(la.Keys) != 1 || la.Keys[0].KeyID != a2.KeyID {
		t.Fatalf("after revoke A lists %+v", la)
	}
	wantError(t, revoke(t, h, subA, a1.KeyID), http.StatusNotFound, api.CodeNotFound)
	register(t, h, subA, rsaKeyB64, "Alice's Pixel, again")

	// lastUsedAt shows once the key was used.
	used := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	if err := st.TouchDeviceKey(context.Background(), subB, b1.KeyID, used); err != nil {
		t.Fatal(err)
	}
	if lb := list(t, h, subB); lb.Keys[0].LastUsedAt == nil || *lb.Keys[0].LastUsedAt != "2026-01-03T00:00:00.000Z" {
		t.Errorf("lastUsedAt %v", lb.Keys[0].LastUsedAt)
	}
	// Nothing in the list answer holds key material.
	resp := call(t, h, request(api.RouteListDeviceKeys, subA, "", ""))
	if strings.Contains(resp.Body, "MII") || strings.Contains(resp.Body, "publicKey") || strings.Contains(resp.Body, "fingerprint") {
		t.Errorf("list answer exposes key material: %s", resp.Body)
	}
}

// TestDeviceKeyOwnership: the owner is always the token's sub, whatever the request says.
func TestDeviceKeyOwnership(t *testing.T) {
	m := newMemStore()
	h := newHandler(m, api.DeviceKeyConfig{})
	a := register(t, h, subA, newP256(t), "A")
	b := register(t, h, subB, newP256(t), "B")

	for _, tc := range []struct {
		caller, other string
		mine, theirs  registered
	}{{subA, subB, a, b}, {subB, subA, b, a}} {
		l := list(t, h, tc.caller)
		if len(l.Keys) != 1 || l.Keys[0].KeyID != tc.mine.KeyID {
			t.Errorf("%s lists %+v", tc.caller, l)
		}
		wantError(t, revoke(t, h, tc.caller, tc.theirs.KeyID), http.StatusNotFound, api.CodeNotFound)
	}
	// A body or query naming another owner changes nothing.
	r := request(api.RouteListDeviceKeys, subA, "", `{"owner":"`+subB+`"}`)
	r.QueryStringParameters = map[string]string{"owner": subB, "sub": subB}
	resp := call(t, h, r)
	if strings.Contains(resp.Body, b.KeyID) {
		t.Errorf("A sees B's key: %s", resp.Body)
	}
	// Both keys survived.
	if len(m.keys[subA]) != 1 || len(m.keys[subB]) != 1 {
		t.Errorf("store: %+v", m.keys)
	}
	// Malformed and odd IDs are 404 like any other missing key, and do not reach the store
	// as anything but the caller's own partition.
	for _, id := range []string{"", "x", "../" + b.KeyID, b.KeyID + "=", strings.Repeat("A", 1000), "USER#" + subB, "AAAAAAAAAAAAAAAAAAAAAB"} {
		r := request(api.RouteRevokeDeviceKey, subA, "", "")
		r.PathParameters = map[string]string{"id": id}
		wantError(t, call(t, h, r), http.StatusNotFound, api.CodeNotFound)
	}
	r = request(api.RouteRevokeDeviceKey, subA, "", "")
	r.PathParameters = nil
	wantError(t, call(t, h, r), http.StatusNotFound, api.CodeNotFound)
}

func TestRegisterNeedsRecentSignIn(t *testing.T) {
	key := newP256(t)
	for _, tc := range []struct {
		name   string
		cfg    api.DeviceKeyConfig
		opt    reqOpt
		wantOK bool
	}{
		{"30 s ago", api.DeviceKeyConfig{}, withAuthTime(testNow.Add(-30 * time.Second)), true},
		{"just under 5 min ago", api.DeviceKeyConfig{}, withAuthTime(testNow.Add(-5 * time.Minute).Truncate(time.Second).Add(time.Second)), true},
		{"5 min 1 s ago", api.DeviceKeyConfig{}, withAuthTime(testNow.Add(-5*time.Minute - time.Second)), false},
		{"an hour ago", api.DeviceKeyConfig{}, withAuthTime(testNow.Add(-time.Hour)), false},
		{"missing auth_time", api.DeviceKeyConfig{}, withoutClaim("auth_time"), false},
		{"auth_time 0", api.DeviceKeyConfig{}, withClaim("auth_time", "0"), false},
		{"auth_time negative", api.DeviceKeyConfig{}, withClaim("auth_time", "-5"), false},
		{"auth_time empty", api.DeviceKeyConfig{}, withClaim("auth_time", ""), false},
		{"auth_time not a number", api.DeviceKeyConfig{}, withClaim("auth_time", "yesterday"), false},
		{"auth_time with fraction", api.DeviceKeyConfig{}, withClaim("auth_time", "1767323049.5"), false},
		{"auth_time far in the future", api.DeviceKeyConfig{}, withAuthTime(testNow.Add(time.Hour)), false},
		{"auth_time slightly ahead (clock skew)", api.DeviceKeyConfig{}, withAuthTime(testNow.Add(20 * time.Second)), true},
		{"custom window 60 s, 90 s ago", api.DeviceKeyConfig{MaxAuthAge: time.Minute}, withAuthTime(testNow.Add(-90 * time.Second)), false},
		{"custom window 1 h, 50 min ago", api.DeviceKeyConfig{MaxAuthAge: time.Hour}, withAuthTime(testNow.Add(-50 * time.Minute)), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemStore()
			h := newHandler(m, tc.cfg)
			resp := call(t, h, request(api.RouteRegisterDeviceKey, subA, "", registerBody(key, "phone"), tc.opt))
			if tc.wantOK {
				if resp.StatusCode != http.StatusCreated {
					t.Fatalf("%d %s, want 201", resp.StatusCode, resp.Body)
				}
				return
			}
			e := wantError(t, resp, http.StatusForbidden, api.CodeStaleAuth)
			if !strings.Contains(e.Message, "sign in again") {
				t.Errorf("message %q does not tell the user what to do", e.Message)
			}
			if len(m.keys[subA]) != 0 {
				t.Error("a key was stored")
			}
		})
	}
	// Listing and revoking do not need a recent sign-in.
	m := newMemStore()
	h := newHandler(m, api.DeviceKeyConfig{})
	k := register(t, h, subA, key, "phone")
	old := withAuthTime(testNow.Add(-24 * time.Hour))
	if resp := call(t, h, request(api.RouteListDeviceKeys, subA, "", "", old)); resp.StatusCode != http.StatusOK {
		t.Errorf("list with an old sign-in: %d", resp.StatusCode)
	}
	if resp := call(t, h, request(api.RouteRevokeDeviceKey, subA, k.KeyID, "", old)); resp.StatusCode != http.StatusNoContent {
		t.Errorf("revoke with an old sign-in: %d", resp.StatusCode)
	}
}

func TestRegisterKeyLimit(t *testing.T) {
	m := newMemStore()
	h := newHandler(m, api.DeviceKeyConfig{})
	var first registered
	for i := 0; i < api.DefaultDeviceKeyMaxPerUser; i++ {
		r := register(t, h, subA, newP256(t), fmt.Sprintf("device %d", i))
		if i == 0 {
			first = r
		}
	}
	e := wantError(t, call(t, h, request(api.RouteRegisterDeviceKey, subA, "", registerBody(newP256(t), "one too many"))), http.StatusConflict, api.CodeKeyLimit)
	if !strings.Contains(e.Message, "10") {
		t.Errorf("message %q does not name the limit", e.Message)
	}
	// Another user is not affected; after a revoke there is room again.
	register(t, h, subB, newP256(t), "B")
	if resp := revoke(t, h, subA, first.KeyID); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	register(t, h, subA, newP256(t), "replacement")

	// A configured cap.
	h = newHandler(newMemStore(), api.DeviceKeyConfig{MaxPerUser: 1})
	register(t, h, subA, newP256(t), "only")
	wantError(t, call(t, h, request(api.RouteRegisterDeviceKey, subA, "", registerBody(newP256(t), "second"))), http.StatusConflict, api.CodeKeyLimit)
}

func TestRegisterDuplicateKey(t *testing.T) {
	pub := rsaPub(t)
	spki := spkiB64(t, pub)
	pkcs1 := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(pub))
	urlSafe := base64.RawURLEncoding.EncodeToString(mustB64(t, spki))
	h := newHandler(newMemStore(), api.DeviceKeyConfig{})
	register(t, h, subA, spki, "phone")
	for name, enc := range map[string]string{"same bytes": spki, "PKCS#1": pkcs1, "base64url": urlSafe, "wrapped": wrap(spki, 64)} {
		t.Run(name, func(t *testing.T) {
			wantError(t, call(t, h, request(api.RouteRegisterDeviceKey, subA, "", registerBody(enc, "again"))), http.StatusConflict, api.CodeKeyExists)
		})
	}
}

func mustB64(t testing.TB, s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	return b.String() + s
}

func TestRegisterMalformed(t *testing.T) {
	key := newP256(t)
	ed := "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=" // Ed25519 SPKI
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	good := registerBody(key, "phone")

	for _, tc := range []struct {
		name   string
		body   string
		opts   []reqOpt
		status int
		code   string
	}{
		{"empty body", "", nil, 400, api.CodeBadJSON},
		{"whitespace body", " \n", nil, 400, api.CodeBadJSON},
		{"not JSON", "publicKey=abc&name=phone", nil, 400, api.CodeBadJSON},
		{"JSON array", `[` + good + `]`, nil, 400, api.CodeBadJSON},
		{"JSON string", quote(good), nil, 400, api.CodeBadJSON},
		{"null", "null", nil, 400, api.CodeBadJSON},
		{"truncated", good[:len(good)-1], nil, 400, api.CodeBadJSON},
		{"trailing data", good + "x", nil, 400, api.CodeBadJSON},
		{"two objects", good + good, nil, 400, api.CodeBadJSON},
		{"unknown field", `{"publicKey":` + quote(key) + `,"name":"phone","owner":"` + subB + `"}`, nil, 400, api.CodeBadJSON},
		{"field in other case", `{"PublicKey":` + quote(key) + `,"name":"phone"}`, nil, 400, api.CodeBadJSON},
		{"duplicate field", `{"publicKey":` + quote(key) + `,"name":"a","name":"b"}`, nil, 400, api.CodeBadJSON},
		{"missing publicKey", `{"name":"phone"}`, nil, 400, api.CodeBadJSON},
		{"missing name", `{"publicKey":` + quote(key) + `}`, nil, 400, api.CodeBadJSON},
		{"name not a string", `{"publicKey":` + quote(key) + `,"name":42}`, nil, 400, api.CodeBadJSON},
		{"name null", `{"publicKey":` + quote(key) + `,"name":null}`, nil, 400, api.CodeBadJSON},
		{"publicKey an object", `{"publicKey":{"kty":"EC"},"name":"phone"}`, nil, 400, api.CodeBadJSON},
		{"invalid UTF-8", `{"publicKey":` + quote(key) + `,"name":"ph` + "\xff" + `one"}`, nil, 400, api.CodeBadJSON},
		{"deep nesting", strings.Repeat("[", 5000), nil, 400, api.CodeBadJSON},
		{"empty name", registerBody(key, ""), nil, 400, api.CodeBadName},
		{"blank name", registerBody(key, "   "), nil, 400, api.CodeBadName},
		{"name 65 characters", registerBody(key, strings.Repeat("x", 65)), nil, 400, api.CodeBadName},
		{"name 65 runes", registerBody(key, strings.Repeat("é", 65)), nil, 400, api.CodeBadName},
		{"name with newline", registerBody(key, "my\nphone"), nil, 400, api.CodeBadName},
		{"name with tab", registerBody(key, "my\tphone"), nil, 400, api.CodeBadName},
		{"name with NUL", registerBody(key, "my\x00phone"), nil, 400, api.CodeBadName},
		{"name with bidi override", registerBody(key, "phone\u202egnp.exe"), nil, 400, api.CodeBadName},
		{"name with zero-width space", registerBody(key, "pho\u200bne"), nil, 400, api.CodeBadName},
		{"name with DEL", registerBody(key, "phone\x7f"), nil, 400, api.CodeBadName},
		{"empty key", registerBody("", "phone"), nil, 400, api.CodeBadKey},
		{"bad base64", registerBody("MFkw!!!"+key[7:], "phone"), nil, 400, api.CodeBadKey},
		{"mixed base64 alphabets", registerBody("MFkw+_"+key[6:], "phone"), nil, 400, api.CodeBadKey},
		{"truncated key", registerBody(key[:40], "phone"), nil, 400, api.CodeBadKey},
		{"Ed25519 key", registerBody(ed, "phone"), nil, 400, api.CodeBadKey},
		{"P-384 key", registerBody(spkiB64(t, &p384.PublicKey), "phone"), nil, 400, api.CodeBadKey},
		{"RSA-1024 key", registerBody(spkiB64(t, &weak.PublicKey), "phone"), nil, 400, api.CodeBadKey},
		{"key too long", registerBody(strings.Repeat("A", 3000), "phone"), nil, 400, api.CodeBadKey},
		{"certificate PEM", registerBody("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "phone"), nil, 400, api.CodeBadKey},
		{"body over 8 KiB", `{"publicKey":` + quote(key) + `,"name":"` + strings.Repeat(" ", 9000) + `phone"}`, nil, 413, api.CodeTooLarge},
		{"huge body", strings.Repeat("x", 1<<20), nil, 413, api.CodeTooLarge},
		{"base64 body over 8 KiB", `{"publicKey":` + quote(key) + `,"name":"` + strings.Repeat(" ", 9000) + `phone"}`, []reqOpt{base64Body()}, 413, api.CodeTooLarge},
		{"base64 body not base64", "", []reqOpt{func(r *events.APIGatewayV2HTTPRequest) { r.Body, r.IsBase64Encoded = "%%%", true }}, 400, api.CodeBadJSON},
		{"base64 body holding garbage", "\x00\x01{", []reqOpt{base64Body()}, 400, api.CodeBadJSON},
		{"base64 body with bad name", registerBody(key, ""), []reqOpt{base64Body()}, 400, api.CodeBadName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemStore()
			h := newHandler(m, api.DeviceKeyConfig{})
			e := wantError(t, call(t, h, request(api.RouteRegisterDeviceKey, subA, "", tc.body, tc.opts...)), tc.status, tc.code)
			if len(e.Message) < 10 || len(e.Message) > 300 {
				t.Errorf("message %q", e.Message)
			}
			if len(m.keys) != 0 {
				t.Error("a key was stored")
			}
		})
	}
}

func TestRegisterAccepts(t *testing.T) {
	pub := rsaPub(t)
	pkcs1PEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)}))
	for _, tc := range []struct{ name, key, devName, wantName, alg string }{
		{"RSA SPKI (react-native-biometrics)", spkiB64(t, pub), "Pixel 8", "Pixel 8", "RSA_PKCS1_SHA256"},
		{"RSA PKCS#1 PEM", pkcs1PEM, "iPhone", "iPhone", "RSA_PKCS1_SHA256"},
		{"P-256 SPKI", newP256(t), "  padded  ", "padded", "ECDSA_P256_SHA256"},
		{"name of 64 runes", newP256(t), strings.Repeat("ß", 64), strings.Repeat("ß", 64), "ECDSA_P256_SHA256"},
		{"emoji and punctuation", newP256(t), "Ana's 📱 (work)", "Ana's 📱 (work)", "ECDSA_P256_SHA256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemStore()
			h := newHandler(m, api.DeviceKeyConfig{})
			r := register(t, h, subA, tc.key, tc.devName)
			if r.Name != tc.wantName || r.Algorithm != tc.alg {
				t.Errorf("got %+v", r)
			}
			stored := m.keys[subA]
			if len(stored) != 1 || stored[0].ID != r.KeyID || stored[0].Owner != subA || stored[0].Name != tc.wantName {
				t.Fatalf("stored %+v", stored)
			}
			if _, err := x509.ParsePKIXPublicKey(stored[0].PublicKey); err != nil {
				t.Errorf("stored public key is not SPKI: %v", err)
			}
		})
	}
	// A base64-encoded body (API Gateway does this for some content types).
	h := newHandler(newMemStore(), api.DeviceKeyConfig{})
	register(t, h, subA, newP256(t), "b64", base64Body())
}

func TestRegisterFixtureEvent(t *testing.T) {
	raw, err := os.ReadFile("testdata/post-device-keys.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	m := newMemStore()
	authTime := time.Unix(1767323045, 0)
	h := newHandler(m, api.DeviceKeyConfig{Now: func() time.Time { return authTime.Add(5 * time.Second) }})
	resp := call(t, h, ev)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	var out registered
	if err := strictUnmarshal(resp.Body, &out); err != nil || out.Name != "Alice's iPhone" || out.Algorithm != "ECDSA_P256_SHA256" || out.CreatedAt != "2026-01-02T03:04:10.000Z" {
		t.Errorf("answer %s (%v)", resp.Body, err)
	}
	if len(m.keys["3f1c2a9e-0000-4000-8000-00000000a11c"]) != 1 {
		t.Errorf("store %+v", m.keys)
	}
	// The same event 10 minutes later: stale.
	h = newHandler(newMemStore(), api.DeviceKeyConfig{Now: func() time.Time { return authTime.Add(10 * time.Minute) }})
	wantError(t, call(t, h, ev), http.StatusForbidden, api.CodeStaleAuth)
}

func TestDeviceKeyRoutesNeedAccessTokenOfThisClient(t *testing.T) {
	m := newMemStore()
	h := newHandler(m, api.DeviceKeyConfig{})
	key := newP256(t)
	k := register(t, h, subA, key, "phone")
	wantTokensRefused(t, func(r events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse { return call(t, h, r) }, []routeCall{
		{api.RouteRegisterDeviceKey, "", registerBody(newP256(t), "x")},
		{api.RouteListDeviceKeys, "", ""},
		{api.RouteRevokeDeviceKey, k.KeyID, ""},
	})
	if len(m.keys[subA]) != 1 {
		t.Errorf("store changed by refused requests: %+v", m.keys)
	}
}

func TestDeviceKeyStoreFailures(t *testing.T) {
	m := newMemStore()
	var logs bytes.Buffer
	h := api.New(clientID, slog.New(slog.NewJSONHandler(&logs, nil))).WithDeviceKeys(m, api.DeviceKeyConfig{Now: nowFn}).
		WithTokenChecker(newFakeCognito().checker())
	m.err = errors.New("RequestLimitExceeded")
	key := newP256(t)
	for _, r := range []events.APIGatewayV2HTTPRequest{
		request(api.RouteRegisterDeviceKey, subA, "", registerBody(key, "phone")),
		request(api.RouteListDeviceKeys, subA, "", ""),
		request(api.RouteRevokeDeviceKey, subA, "AAAAAAAAAAAAAAAAAAAAAA", ""),
	} {
		e := wantError(t, call(t, h, r), http.StatusInternalServerError, api.CodeInternal)
		if strings.Contains(e.Message, "RequestLimitExceeded") {
			t.Errorf("internal error leaked: %q", e.Message)
		}
	}
	if strings.Contains(logs.String(), key) || strings.Contains(logs.String(), key[30:60]) {
		t.Error("public key logged")
	}
	if !strings.Contains(logs.String(), "RequestLimitExceeded") {
		t.Error("store error not logged")
	}
	// A failing random source is a 500, not a panic.
	h = newHandler(newMemStore(), api.DeviceKeyConfig{Rand: failingReader{}})
	wantError(t, call(t, h, request(api.RouteRegisterDeviceKey, subA, "", registerBody(key, "phone"))), http.StatusInternalServerError, api.CodeInternal)
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestDeviceKeyConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, err := api.DeviceKeyConfigFromEnv(env(nil))
	if err != nil || cfg.MaxPerUser != 10 || cfg.MaxAuthAge != 5*time.Minute {
		t.Fatalf("defaults: %+v, %v", cfg, err)
	}
	cfg, err = api.DeviceKeyConfigFromEnv(env(map[string]string{api.EnvDeviceKeyMaxPerUser: "3", api.EnvDeviceKeyMaxAuthAge: "120"}))
	if err != nil || cfg.MaxPerUser != 3 || cfg.MaxAuthAge != 2*time.Minute {
		t.Fatalf("set: %+v, %v", cfg, err)
	}
	for _, bad := range []map[string]string{
		{api.EnvDeviceKeyMaxPerUser: "0"},
		{api.EnvDeviceKeyMaxPerUser: "-1"},
		{api.EnvDeviceKeyMaxPerUser: "ten"},
		{api.EnvDeviceKeyMaxPerUser: "1000"},
		{api.EnvDeviceKeyMaxAuthAge: "0"},
		{api.EnvDeviceKeyMaxAuthAge: "5m"},
		{api.EnvDeviceKeyMaxAuthAge: "100000"},
	} {
		if _, err := api.DeviceKeyConfigFromEnv(env(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// FuzzRegisterBody sends arbitrary bodies to POST /device-keys: no panic, no 500, only the
// documented answers, and a 201 only for a body encoding/json reads as the two string fields.
func FuzzRegisterBody(f *testing.F) {
	key := newP256(f)
	f.Add(registerBody(key, "phone"), false)
	f.Add(registerBody(key, "phone"), true)
	f.Add(`{"publicKey":"`+key+`","name":"a","name":"b"}`, false)
	f.Add(`{"publicKey":"`+key+`","name":"x"} `, false)
	f.Add(`{"publicKey":"`+key+`","name":"x"}{}`, false)
	f.Add(`{"publicKey":"`+key+`" "name":"x"}`, false)
	f.Add(`{"publicKey":"`+key+`":"name","x"}`, false)
	f.Add(`{"publicKey":"-----BEGIN PUBLIC KEY-----\n`+key+`\n-----END PUBLIC KEY-----","name":"x"}`, false)
	f.Add(`{"publicKey":"`+key+`","name":"\u00e9\ud83d\udcf1"}`, false)
	f.Add(`{"publicKey":"`+key+`","name":"\ud800"}`, false)
	f.Add("", true)
	f.Add("[[[[", false)
	m := newMemStore()
	h := newHandler(m, api.DeviceKeyConfig{MaxPerUser: 100})
	f.Fuzz(func(t *testing.T, body string, b64 bool) {
		r := request(api.RouteRegisterDeviceKey, subA, "", body)
		if b64 {
			base64Body()(&r)
		}
		resp, err := h.Handle(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		switch resp.StatusCode {
		case http.StatusCreated:
			var fields map[string]any
			if !json.Valid([]byte(body)) || json.Unmarshal([]byte(body), &fields) != nil || len(fields) != 2 {
				t.Fatalf("201 for body %q", body)
			}
			if _, ok := fields["publicKey"].(string); !ok {
				t.Fatalf("201 for body %q", body)
			}
			m.mu.Lock()
			m.keys = map[string][]store.DeviceKey{}
			m.mu.Unlock()
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusConflict:
			var e apiError
			if err := strictUnmarshal(resp.Body, &e); err != nil || e.Code == "" {
				t.Fatalf("error body %q", resp.Body)
			}
		default:
			t.Fatalf("status %d for body %q: %s", resp.StatusCode, body, resp.Body)
		}
	})
}

// strayDeviceKeys is a faulty store that adds another user's key to every list.
type strayDeviceKeys struct{ *memStore }

func (s strayDeviceKeys) ListDeviceKeys(ctx context.Context, owner string) ([]store.DeviceKey, error) {
	keys, err := s.memStore.ListDeviceKeys(ctx, owner)
	return append(keys, store.DeviceKey{Owner: subB, ID: "stray", Name: "Bob's", Algorithm: "RSA_PKCS1_SHA256", CreatedAt: testNow}), err
}

// strayPasskeys is a faulty store that adds another user's passkey to every list.
type strayPasskeys struct{ *pkStore }

func (s strayPasskeys) ListPasskeys(ctx context.Context, owner string) ([]store.Passkey, error) {
	list, err := s.pkStore.ListPasskeys(ctx, owner)
	return append(list, store.Passkey{Owner: subB, CredentialID: []byte("stray"), Name: "Bob's", CreatedAt: testNow}), err
}

// TestListsShowOnlyOwnKeys: whatever the store returns, GET /device-keys and GET /passkeys show
// only the caller's own keys.
func TestListsShowOnlyOwnKeys(t *testing.T) {
	h := newHandler(strayDeviceKeys{newMemStore()}, api.DeviceKeyConfig{MaxPerUser: 2})
	mine := register(t, h, subA, spkiB64(t, rsaPub(t)), "mine")
	if got := list(t, h, subA).Keys; len(got) != 1 || got[0].KeyID != mine.KeyID {
		t.Errorf("device keys listed %+v, want only %s", got, mine.KeyID)
	}

	e := newPKEnv(t, pkConfig())
	_, own := e.enroll(t, subA, "mine")
	e.h = api.New(clientID, nil).WithTokenChecker(e.cog.checker()).WithPasskeys(strayPasskeys{e.m}, api.PasskeyConfig{RP: e.rp, Now: e.clk.Now})
	if got := e.list(t, subA); len(got) != 1 || got[0].ID != own.ID {
		t.Errorf("passkeys listed %+v, want only %s", got, own.ID)
	}
}
