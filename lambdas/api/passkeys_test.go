package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/passkey"
	"github.com/passwordless-go/cognito/lambdas/passkey/softauthn"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
)

const (
	pkRPID   = "example.com"
	pkOrigin = "https://example.com"
)

// pkStore implements api.PasskeyStore with the store package's semantics.
type pkStore struct {
	mu         sync.Mutex
	now        func() time.Time
	passkeys   []store.Passkey
	challenges map[string]store.PasskeyChallenge // by kind/owner/challenge or kind/ID
	err        error                             // returned by every call when set
}

func newPKStore(now func() time.Time) *pkStore {
	return &pkStore{now: now, challenges: map[string]store.PasskeyChallenge{}}
}

func chKey(c store.PasskeyChallenge) string {
	if c.Kind == store.RegistrationChallenge {
		return fmt.Sprintf("R/%s/%s", c.Owner, c.Challenge)
	}
	return "A/" + c.ID
}

func (m *pkStore) PutPasskey(_ context.Context, p store.Passkey, maxPerUser int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if p.Owner == "" || len(p.CredentialID) == 0 || len(p.PublicKey) == 0 || len(p.UserHandle) == 0 || maxPerUser < 1 {
		return store.ErrInvalidArgument
	}
	n := 0
	for _, e := range m.passkeys {
		if bytes.Equal(e.CredentialID, p.CredentialID) {
			return fmt.Errorf("put: %w", store.ErrExists)
		}
		if e.Owner == p.Owner {
			n++
		}
	}
	if n >= maxPerUser {
		return fmt.Errorf("put: %w", store.ErrLimitReached)
	}
	m.passkeys = append(m.passkeys, p)
	return nil
}

func (m *pkStore) ListPasskeys(_ context.Context, owner string) ([]store.Passkey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	out := []store.Passkey{}
	for _, p := range m.passkeys {
		if p.Owner == owner {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b store.Passkey) int {
		return strings.Compare(store.EncodeCredentialID(a.CredentialID), store.EncodeCredentialID(b.CredentialID))
	})
	return out, nil
}

func (m *pkStore) find(owner string, id []byte) int {
	for i, p := range m.passkeys {
		if p.Owner == owner && bytes.Equal(p.CredentialID, id) {
			return i
		}
	}
	return -1
}

func (m *pkStore) RenamePasskey(_ context.Context, owner string, id []byte, name string) (store.Passkey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return store.Passkey{}, m.err
	}
	i := m.find(owner, id)
	if i < 0 {
		return store.Passkey{}, fmt.Errorf("rename: %w", store.ErrNotFound)
	}
	m.passkeys[i].Name = name
	return m.passkeys[i], nil
}

func (m *pkStore) DeletePasskey(_ context.Context, owner string, id []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	i := m.find(owner, id)
	if i < 0 {
		return fmt.Errorf("delete: %w", store.ErrNotFound)
	}
	m.passkeys = slices.Delete(m.passkeys, i, i+1)
	return nil
}

func (m *pkStore) PutPasskeyChallenge(_ context.Context, c store.PasskeyChallenge) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if _, dup := m.challenges[chKey(c)]; dup {
		return store.ErrExists
	}
	m.challenges[chKey(c)] = c
	return nil
}

func (m *pkStore) ConsumePasskeyChallenge(_ context.Context, c store.PasskeyChallenge) (store.PasskeyChallenge, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return store.PasskeyChallenge{}, m.err
	}
	got, ok := m.challenges[chKey(c)]
	if !ok || !got.ExpiresAt.After(m.now()) {
		return store.PasskeyChallenge{}, fmt.Errorf("consume: %w", store.ErrNotFound)
	}
	delete(m.challenges, chKey(c))
	return got, nil
}

func pkConfig() passkey.Config {
	return passkey.Config{RPID: pkRPID, RPName: "Example", Origins: []string{pkOrigin}}
}

type pkEnv struct {
	h    *api.PublicHandler
	cog  *fakeCognito
	m    *pkStore
	clk  *storetest.Clock // shared by the handler and the store
	rp   *passkey.RP
	a    *softauthn.Authenticator
	logs *bytes.Buffer
}

func newPKEnv(t testing.TB, cfg passkey.Config) *pkEnv {
	t.Helper()
	rp, err := passkey.NewRP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	clk := storetest.NewClock(testNow)
	m := newPKStore(clk.Now)
	logs := &bytes.Buffer{}
	cog := newFakeCognito()
	h := api.New(clientID, slog.New(slog.NewJSONHandler(logs, nil))).WithTokenChecker(cog.checker()).
		WithPasskeys(m, api.PasskeyConfig{RP: rp, Now: clk.Now})
	return &pkEnv{h: h, cog: cog, m: m, clk: clk, rp: rp, logs: logs,
		a: &softauthn.Authenticator{RPID: pkRPID, Origin: pkOrigin, UV: true, BackupEligible: true, BackupState: true}}
}

// pcall is call for the PublicHandler: the same invariants (checkAnswer).
func pcall(t testing.TB, h *api.PublicHandler, r events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := h.Handle(context.Background(), r)
	return checkAnswer(t, resp, err)
}

func pcallNo500(t testing.TB, h *api.PublicHandler, r events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp := pcall(t, h, r)
	if resp.StatusCode >= 500 {
		t.Fatalf("%s: %d %s", r.RouteKey, resp.StatusCode, resp.Body)
	}
	return resp
}

// creationOptions is PublicKeyCredentialCreationOptionsJSON as a browser library reads it.
type creationOptions struct {
	PublicKey struct {
		RP struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"rp"`
		User struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			DisplayName string `json:"displayName"`
		} `json:"user"`
		Challenge        string `json:"challenge"`
		PubKeyCredParams []struct {
			Type string `json:"type"`
			Alg  int    `json:"alg"`
		} `json:"pubKeyCredParams"`
		Timeout            int `json:"timeout"`
		ExcludeCredentials []struct {
			Type       string   `json:"type"`
			ID         string   `json:"id"`
			Transports []string `json:"transports"`
		} `json:"excludeCredentials"`
		AuthenticatorSelection struct {
			AuthenticatorAttachment string `json:"authenticatorAttachment"`
			RequireResidentKey      bool   `json:"requireResidentKey"`
			ResidentKey             string `json:"residentKey"`
			UserVerification        string `json:"userVerification"`
		} `json:"authenticatorSelection"`
		Attestation string `json:"attestation"`
	} `json:"publicKey"`
}

func (e *pkEnv) options(t testing.TB, sub, body string, opts ...reqOpt) creationOptions {
	t.Helper()
	resp := pcallNo500(t, e.h, request(api.RouteRegistrationOptions, sub, "", body, opts...))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("options: %d %s", resp.StatusCode, resp.Body)
	}
	var o creationOptions
	if err := json.Unmarshal([]byte(resp.Body), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func regBody(cred []byte, name string) string {
	if name == "" {
		return fmt.Sprintf(`{"credential":%s}`, cred)
	}
	n, _ := json.Marshal(name)
	return fmt.Sprintf(`{"credential":%s,"name":%s}`, cred, n)
}

// enrollPK runs options, create and registration for sub and returns the credential and answer.
func (e *pkEnv) enroll(t testing.TB, sub, name string) (*softauthn.Credential, api.PasskeyJSON) {
	t.Helper()
	o := e.options(t, sub, "")
	handle, _ := base64.RawURLEncoding.DecodeString(o.PublicKey.User.ID)
	cred, js, err := e.a.Register(o.PublicKey.Challenge, handle, softauthn.Tweak{})
	if err != nil {
		t.Fatal(err)
	}
	resp := pcallNo500(t, e.h, request(api.RouteRegisterPasskey, sub, "", regBody(js, name)))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %s", resp.StatusCode, resp.Body)
	}
	var out api.PasskeyJSON
	if err := strictUnmarshal(resp.Body, &out); err != nil {
		t.Fatalf("register body %s: %v", resp.Body, err)
	}
	return cred, out
}

func (e *pkEnv) list(t testing.TB, sub string) []api.PasskeyJSON {
	t.Helper()
	resp := pcallNo500(t, e.h, request(api.RouteListPasskeys, sub, "", ""))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list: %d %s", resp.StatusCode, resp.Body)
	}
	var out api.PasskeyListJSON
	if err := strictUnmarshal(resp.Body, &out); err != nil || out.Passkeys == nil {
		t.Fatalf("list body %s: %v", resp.Body, err)
	}
	return out.Passkeys
}

func TestPasskeyRegistrationFlow(t *testing.T) {
	e := newPKEnv(t, pkConfig())
	o := e.options(t, subA, "")
	p := o.PublicKey
	if p.RP.ID != pkRPID || p.RP.Name != "Example" {
		t.Errorf("rp %+v", p.RP)
	}
	if h, _ := base64.RawURLEncoding.DecodeString(p.User.ID); string(h) != subA || p.User.Name != subA || p.User.DisplayName != subA {
		t.Errorf("user %+v: user.id must be the username", p.User)
	}
	if c, err := base64.RawURLEncoding.DecodeString(p.Challenge); err != nil || len(c) < 16 {
		t.Errorf("challenge %q", p.Challenge)
	}
	if p.Timeout != 120000 || p.Attestation != "none" || len(p.PubKeyCredParams) == 0 || p.PubKeyCredParams[0].Alg != -7 {
		t.Errorf("options %+v", p)
	}
	// A discoverable credential by default: sign-in publishes no allowCredentials (PASSKEY_ALLOW_CREDENTIALS=none).
	if s := p.AuthenticatorSelection; s.ResidentKey != "required" || !s.RequireResidentKey || s.UserVerification != "required" || s.AuthenticatorAttachment != "" {
		t.Errorf("authenticatorSelection %+v", s)
	}
	if len(p.ExcludeCredentials) != 0 {
		t.Errorf("excludeCredentials %+v before any registration", p.ExcludeCredentials)
	}
	// The challenge is stored server-side with the timeout.
	if c, ok := e.m.challenges["R/"+subA+"/"+p.Challenge]; !ok || !c.ExpiresAt.Equal(testNow.Add(2*time.Minute)) || string(c.UserHandle) != subA {
		t.Errorf("stored challenge %+v (%v)", c, ok)
	}

	cred, js, err := e.a.Register(p.Challenge, []byte(subA), softauthn.Tweak{})
	if err != nil {
		t.Fatal(err)
	}
	resp := pcallNo500(t, e.h, request(api.RouteRegisterPasskey, subA, "", regBody(js, "  Ada's MacBook ")))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %s", resp.StatusCode, resp.Body)
	}
	var out api.PasskeyJSON
	if err := strictUnmarshal(resp.Body, &out); err != nil {
		t.Fatal(err)
	}
	want := api.PasskeyJSON{
		ID: base64.RawURLEncoding.EncodeToString(cred.ID), Name: "Ada's MacBook", CreatedAt: "2026-01-02T03:04:10.123Z",
		AAGUID: "00000000-0000-0000-0000-000000000000", Transports: []string{"hybrid", "internal"},
		BackupEligible: true, BackedUp: true, UserVerified: true, AttestationFormat: "none",
	}
	if fmt.Sprint(out) != fmt.Sprint(want) {
		t.Errorf("answer %+v\nwant   %+v", out, want)
	}
	if len(e.m.passkeys) != 1 {
		t.Fatalf("stored %d passkeys", len(e.m.passkeys))
	}
	st := e.m.passkeys[0]
	if st.Owner != subA || string(st.UserHandle) != subA || !bytes.Equal(st.CredentialID, cred.ID) || len(st.PublicKey) == 0 ||
		st.SignCount != 0 || st.AttestationType != "none" || !st.LastUsedAt.IsZero() {
		t.Errorf("stored %+v", st)
	}
	if l := e.list(t, subA); len(l) != 1 || l[0].ID != want.ID || l[0].LastUsedAt != nil {
		t.Errorf("list %+v", l)
	}
	// The next options exclude it; the challenge was used up.
	o2 := e.options(t, subA, `{"userName":"ada@example.com","displayName":"Ada Lovelace"}`)
	if len(o2.PublicKey.ExcludeCredentials) != 1 || o2.PublicKey.ExcludeCredentials[0].ID != want.ID ||
		o2.PublicKey.User.Name != "ada@example.com" || o2.PublicKey.User.DisplayName != "Ada Lovelace" {
		t.Errorf("second options %+v", o2.PublicKey)
	}
	if _, ok := e.m.challenges["R/"+subA+"/"+p.Challenge]; ok {
		t.Error("challenge still stored after use")
	}
	// Packed self attestation, default name, base64 body.
	e.a.Attestation = "packed"
	_, js2, err := e.a.Register(o2.PublicKey.Challenge, []byte(subA), softauthn.Tweak{})
	if err != nil {
		t.Fatal(err)
	}
	resp = pcallNo500(t, e.h, request(api.RouteRegisterPasskey, subA, "", regBody(js2, ""), base64Body()))
	if resp.StatusCode != http.StatusCreated || !strings.Contains(resp.Body, `"name":"Passkey"`) || !strings.Contains(resp.Body, `"attestationFormat":"packed"`) {
		t.Fatalf("packed: %d %s", resp.StatusCode, resp.Body)
	}
	if e.m.passkeys[1].AttestationType != "basic_surrogate" { // self attestation, in FIDO metadata terms
		t.Errorf("attestation type %q", e.m.passkeys[1].AttestationType)
	}
}

func TestPasskeyRegistrationRefuses(t *testing.T) {
	type tc struct {
		name   string
		status int
		code   string
		// make returns the body to post, given fresh options for subA.
		make func(t *testing.T, e *pkEnv, o creationOptions) string
	}
	reg := func(tw softauthn.Tweak) func(t *testing.T, e *pkEnv, o creationOptions) string {
		return func(t *testing.T, e *pkEnv, o creationOptions) string {
			_, js, err := e.a.Register(o.PublicKey.Challenge, []byte(subA), tw)
			if err != nil {
				t.Fatal(err)
			}
			return regBody(js, "x")
		}
	}
	cases := []tc{
		{"challenge never issued", 400, api.CodeBadChallenge, reg(softauthn.Tweak{Challenge: base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))})},
		{"challenge not base64url", 400, api.CodeBadChallenge, reg(softauthn.Tweak{Challenge: "not a challenge!"})},
		{"reused challenge", 400, api.CodeBadChallenge, func(t *testing.T, e *pkEnv, o creationOptions) string {
			body := reg(softauthn.Tweak{})(t, e, o)
			if r := pcallNo500(t, e.h, request(api.RouteRegisterPasskey, subA, "", body)); r.StatusCode != 201 {
				t.Fatalf("first use: %d %s", r.StatusCode, r.Body)
			}
			return reg(softauthn.Tweak{})(t, e, o)
		}},
		{"expired challenge", 400, api.CodeBadChallenge, func(t *testing.T, e *pkEnv, o creationOptions) string {
			e.clk.Add(2*time.Minute + time.Millisecond)
			return reg(softauthn.Tweak{})(t, e, o)
		}},
		{"another user's challenge", 400, api.CodeBadChallenge, func(t *testing.T, e *pkEnv, _ creationOptions) string {
			ob := e.options(t, subB, "")
			return reg(softauthn.Tweak{})(t, e, ob)
		}},
		{"wrong origin", 400, api.CodeBadCredential, reg(softauthn.Tweak{Origin: "https://evil.example"})},
		{"wrong rpIdHash", 400, api.CodeBadCredential, reg(softauthn.Tweak{RPID: "evil.example"})},
		{"UP missing", 400, api.CodeBadCredential, reg(softauthn.Tweak{NoUP: true})},
		{"UV missing when required", 400, api.CodeBadCredential, reg(softauthn.Tweak{NoUV: true})},
		{"BS without BE", 400, api.CodeBadCredential, reg(softauthn.Tweak{NoBE: true, SetBS: true})},
		{"type webauthn.get", 400, api.CodeBadCredential, reg(softauthn.Tweak{Type: "webauthn.get"})},
		{"credential id differs from the attested one", 400, api.CodeBadCredential, reg(softauthn.Tweak{AttestationID: bytes.Repeat([]byte{1}, 32)})},
		{"bad packed attestation signature", 400, api.CodeBadCredential, func(t *testing.T, e *pkEnv, o creationOptions) string {
			e.a.Attestation = "packed"
			return reg(softauthn.Tweak{BadSignature: true})(t, e, o)
		}},
		{"duplicate credential", 409, api.CodePasskeyExists, func(t *testing.T, e *pkEnv, o creationOptions) string {
			cred, _ := e.enroll(t, subA, "first")
			o2 := e.options(t, subA, "")
			js, err := e.a.RegisterWith(cred, o2.PublicKey.Challenge, softauthn.Tweak{})
			if err != nil {
				t.Fatal(err)
			}
			return regBody(js, "again")
		}},
		{"credential registered by another user", 409, api.CodePasskeyExists, func(t *testing.T, e *pkEnv, o creationOptions) string {
			ob := e.options(t, subB, "")
			cred, js, err := e.a.Register(ob.PublicKey.Challenge, []byte(subB), softauthn.Tweak{})
			if err != nil {
				t.Fatal(err)
			}
			if r := pcallNo500(t, e.h, request(api.RouteRegisterPasskey, subB, "", regBody(js, "b"))); r.StatusCode != 201 {
				t.Fatalf("bob: %d %s", r.StatusCode, r.Body)
			}
			js, _ = e.a.RegisterWith(&softauthn.Credential{ID: cred.ID, Key: cred.Key, UserHandle: []byte(subA)}, o.PublicKey.Challenge, softauthn.Tweak{})
			return regBody(js, "a")
		}},
	}
	reasons := map[string]string{
		"challenge never issued":                      "unknown, already used or expired",
		"reused challenge":                            "unknown, already used or expired",
		"expired challenge":                           "unknown, already used or expired",
		"another user's challenge":                    "unknown, already used or expired",
		"wrong origin":                                "origin",
		"wrong rpIdHash":                              "RP Hash mismatch",
		"UP missing":                                  "User presence required",
		"UV missing when required":                    "User verification required",
		"BS without BE":                               "Backup State",
		"type webauthn.get":                           "ceremony type",
		"credential id differs from the attested one": "attested credential id",
		"bad packed attestation signature":            "signature",
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newPKEnv(t, pkConfig())
			o := e.options(t, subA, "")
			before := len(e.m.passkeys)
			body := c.make(t, e, o)
			before = max(before, len(e.m.passkeys))
			resp := pcallNo500(t, e.h, request(api.RouteRegisterPasskey, subA, "", body))
			er := wantError(t, resp, c.status, c.code)
			if want := reasons[c.name]; !strings.Contains(er.Message, want) {
				t.Errorf("message %q does not say %q", er.Message, want)
			}
			if len(e.m.passkeys) != before {
				t.Errorf("a refused registration was stored")
			}
		})
	}
}

func TestPasskeyCap(t *testing.T) {
	cfg := pkConfig()
	cfg.MaxPerUser = 2
	e := newPKEnv(t, cfg)
	// Two outstanding options, then two registrations, then the options route refuses.
	o1, o2, o3 := e.options(t, subA, ""), e.options(t, subA, ""), e.options(t, subA, "")
	for i, o := range []creationOptions{o1, o2} {
		_, js, _ := e.a.Register(o.PublicKey.Challenge, []byte(subA), softauthn.Tweak{})
		if r := pcallNo500(t, e.h, request(api.RouteRegisterPasskey, subA, "", regBody(js, fmt.Sprint(i)))); r.StatusCode != 201 {
			t.Fatalf("registration %d: %d %s", i, r.StatusCode, r.Body)
		}
	}
	_, js, _ := e.a.Register(o3.PublicKey.Challenge, []byte(subA), softauthn.Tweak{})
	wantError(t, pcallNo500(t, e.h, request(api.RouteRegisterPasskey, subA, "", regBody(js, "3"))), http.StatusConflict, api.CodePasskeyLimit)
	wantError(t, pcallNo500(t, e.h, request(api.RouteRegistrationOptions, subA, "", "")), http.StatusConflict, api.CodePasskeyLimit)
	// Bob is not affected.
	e.enroll(t, subB, "bob")
	if len(e.m.passkeys) != 3 {
		t.Errorf("%d passkeys stored", len(e.m.passkeys))
	}
}

func TestPasskeyOwnership(t *testing.T) {
	e := newPKEnv(t, pkConfig())
	_, a1 := e.enroll(t, subA, "alice 1")
	_, b1 := e.enroll(t, subB, "bob 1")
	if l := e.list(t, subA); len(l) != 1 || l[0].ID != a1.ID {
		t.Errorf("alice sees %+v", l)
	}
	if l := e.list(t, subB); len(l) != 1 || l[0].ID != b1.ID {
		t.Errorf("bob sees %+v", l)
	}
	rename := func(sub, id, body string) events.APIGatewayV2HTTPResponse {
		return pcallNo500(t, e.h, request(api.RouteRenamePasskey, sub, id, body))
	}
	remove := func(sub, id string) events.APIGatewayV2HTTPResponse {
		return pcallNo500(t, e.h, request(api.RouteDeletePasskey, sub, id, ""))
	}
	// Bob cannot touch Alice's passkey; the answer is the same as for a passkey that does not exist.
	wantError(t, rename(subB, a1.ID, `{"name":"mine"}`), http.StatusNotFound, api.CodeNotFound)
	wantError(t, remove(subB, a1.ID), http.StatusNotFound, api.CodeNotFound)
	wantError(t, remove(subA, base64.RawURLEncoding.EncodeToString([]byte("no such credential"))), http.StatusNotFound, api.CodeNotFound)
	for _, bad := range []string{"", "!!", a1.ID + "=", strings.Repeat("A", 700), "AA=="} {
		wantError(t, remove(subA, bad), http.StatusNotFound, api.CodeNotFound)
		wantError(t, rename(subA, bad, `{"name":"x"}`), http.StatusNotFound, api.CodeNotFound)
	}
	if l := e.list(t, subA); len(l) != 1 || l[0].Name != "alice 1" {
		t.Fatalf("alice's passkey changed by bob: %+v", l)
	}
	// Alice renames and deletes her own.
	r := rename(subA, a1.ID, `{"name":" Work key "}`)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `"name":"Work key"`) {
		t.Fatalf("rename: %d %s", r.StatusCode, r.Body)
	}
	wantError(t, rename(subA, a1.ID, `{"name":"a\u0000b"}`), http.StatusBadRequest, api.CodeBadName)
	wantError(t, rename(subA, a1.ID, `{"name":"x","y":1}`), http.StatusBadRequest, api.CodeBadJSON)
	wantError(t, rename(subA, a1.ID, `{"name":1}`), http.StatusBadRequest, api.CodeBadJSON)
	if r := remove(subA, a1.ID); r.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
	}
	wantError(t, remove(subA, a1.ID), http.StatusNotFound, api.CodeNotFound)
	if l := e.list(t, subA); len(l) != 0 {
		t.Errorf("alice after delete: %+v", l)
	}
	if l := e.list(t, subB); len(l) != 1 {
		t.Errorf("bob after alice's delete: %+v", l)
	}
}

func TestPasskeyRegistrationNeedsRecentSignIn(t *testing.T) {
	e := newPKEnv(t, pkConfig())
	o := e.options(t, subA, "")
	_, js, _ := e.a.Register(o.PublicKey.Challenge, []byte(subA), softauthn.Tweak{})
	for name, opt := range map[string]reqOpt{
		"6 minutes ago":       withAuthTime(testNow.Add(-6 * time.Minute)),
		"in the future":       withAuthTime(testNow.Add(5 * time.Minute)),
		"no auth_time":        withoutClaim("auth_time"),
		"auth_time not a num": withClaim("auth_time", "yesterday"),
	} {
		wantError(t, pcallNo500(t, e.h, request(api.RouteRegistrationOptions, subA, "", "", opt)), http.StatusForbidden, api.CodeStaleAuth)
		wantError(t, pcallNo500(t, e.h, request(api.RouteRegisterPasskey, subA, "", regBody(js, "x"), opt)), http.StatusForbidden, api.CodeStaleAuth)
		_ = name
	}
	// The challenge was not consumed by the refused calls.
	if r := pcallNo500(t, e.h, request(api.RouteRegisterPasskey, subA, "", regBody(js, "x"), withAuthTime(testNow.Add(-4*time.Minute)))); r.StatusCode != 201 {
		t.Fatalf("4 minutes ago: %d %s", r.StatusCode, r.Body)
	}
	// List, rename and delete do not need a recent sign-in.
	id := base64.RawURLEncoding.EncodeToString(e.m.passkeys[0].CredentialID)
	old := withAuthTime(testNow.Add(-time.Hour))
	if r := pcallNo500(t, e.h, request(api.RouteListPasskeys, subA, "", "", old)); r.StatusCode != 200 {
		t.Errorf("list: %d", r.StatusCode)
	}
	if r := pcallNo500(t, e.h, request(api.RouteRenamePasskey, subA, id, `{"name":"y"}`, old)); r.StatusCode != 200 {
		t.Errorf("rename: %d", r.StatusCode)
	}
	if r := pcallNo500(t, e.h, request(api.RouteDeletePasskey, subA, id, "", old)); r.StatusCode != 204 {
		t.Errorf("delete: %d", r.StatusCode)
	}
	// A username that cannot be a user handle.
	wantError(t, pcallNo500(t, e.h, request(api.RouteRegistrationOptions, subA, "", "", withClaim("username", strings.Repeat("u", 65)))), http.StatusForbidden, api.CodeForbidden)
	// A token without a username claim cannot match the user Cognito names for it (GetUser always
	// returns one), so it is refused before the route runs.
	wantError(t, pcallNo500(t, e.h, request(api.RouteRegistrationOptions, subA, "", "", withoutClaim("username"), withToken(testToken(subA, subA)))),
		http.StatusUnauthorized, api.CodeUnauthorized)
}

func TestPasskeyMalformedInput(t *testing.T) {
	e := newPKEnv(t, pkConfig())
	o := e.options(t, subA, "")
	_, js, _ := e.a.Register(o.PublicKey.Challenge, []byte(subA), softauthn.Tweak{})
	good := string(js)
	for _, c := range []struct {
		body   string
		status int
		code   string
		opts   []reqOpt
	}{
		{"", 400, api.CodeBadJSON, nil},
		{"null", 400, api.CodeBadJSON, nil},
		{"[]", 400, api.CodeBadJSON, nil},
		{`{"credential":` + good, 400, api.CodeBadJSON, nil},
		{`{"credential":` + good + `}{}`, 400, api.CodeBadJSON, nil},
		{`{"credential":` + good + `,"name":"a","name":"b"}`, 400, api.CodeBadJSON, nil},
		{`{"credential":` + good + `,"nom":"a"}`, 400, api.CodeBadJSON, nil},
		{`{"name":"a"}`, 400, api.CodeBadJSON, nil},
		{`{"credential":"` + strings.ReplaceAll(good, `"`, `\"`) + `"}`, 400, api.CodeBadJSON, nil},
		{`{"credential":` + good + `,"name":7}`, 400, api.CodeBadJSON, nil},
		{`{"credential":` + good + `,"name":"` + strings.Repeat("n", 65) + `"}`, 400, api.CodeBadName, nil},
		{`{"credential":` + good + `,"name":"tab\there"}`, 400, api.CodeBadName, nil},
		{`{"credential":` + good + `,"name":"   "}`, 400, api.CodeBadName, nil},
		{`{"credential":{}}`, 400, api.CodeBadCredential, nil},
		{`{"credential":{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}}`, 400, api.CodeBadCredential, nil},
		{`{"credential":` + strings.Replace(good, `"type":"public-key"`, `"type":"public-key","type":"public-key"`, 1) + `}`, 400, api.CodeBadCredential, nil},
		{`{"credential":` + strings.Replace(good, `"attestationObject":"`, `"attestationObject":"AAAA`, 1) + `}`, 400, api.CodeBadCredential, nil},
		{`{"credential":` + strings.Replace(good, `"clientDataJSON":"`, `"clientDataJSON":"e30`, 1) + `}`, 400, api.CodeBadCredential, nil},
		{"\xff\xfe", 400, api.CodeBadJSON, nil},
		{strings.Repeat(" ", api.MaxPasskeyBody+1), 413, api.CodeTooLarge, nil},
		{"!!not base64!!", 400, api.CodeBadJSON, []reqOpt{func(r *events.APIGatewayV2HTTPRequest) { r.IsBase64Encoded = true }}},
	} {
		resp := pcallNo500(t, e.h, request(api.RouteRegisterPasskey, subA, "", c.body, c.opts...))
		var er apiError
		_ = json.Unmarshal([]byte(resp.Body), &er)
		if resp.StatusCode != c.status || er.Code != c.code {
			t.Errorf("body %.60q: %d %s, want %d %s", c.body, resp.StatusCode, er.Code, c.status, c.code)
		}
	}
	for _, body := range []string{"[]", `{"userName":1}`, `{"x":"y"}`, `{"userName":"a","userName":"b"}`, `{"displayName":"` + strings.Repeat("d", 65) + `"}`} {
		resp := pcallNo500(t, e.h, request(api.RouteRegistrationOptions, subA, "", body))
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("options body %q: %d", body, resp.StatusCode)
		}
	}
	if len(e.m.passkeys) != 0 {
		t.Fatal("malformed input stored a passkey")
	}
	// The good one still works: nothing above consumed its challenge.
	if r := pcallNo500(t, e.h, request(api.RouteRegisterPasskey, subA, "", regBody(js, "ok"))); r.StatusCode != 201 {
		t.Fatalf("good body: %d %s", r.StatusCode, r.Body)
	}
}

func TestPasskeyRoutesNeedAccessTokenOfThisClient(t *testing.T) {
	e := newPKEnv(t, pkConfig())
	_, p := e.enroll(t, subA, "a")
	wantTokensRefused(t, func(r events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse { return pcall(t, e.h, r) }, []routeCall{
		{api.RouteRegistrationOptions, "", ""},
		{api.RouteRegisterPasskey, "", `{"credential":{}}`},
		{api.RouteListPasskeys, "", ""},
		{api.RouteRenamePasskey, p.ID, `{"name":"x"}`},
		{api.RouteDeletePasskey, p.ID, ""},
	})
	if l := e.list(t, subA); len(l) != 1 || l[0].Name != "a" {
		t.Errorf("store changed by refused requests: %+v", l)
	}
	// Unknown routes are still 404, and the device-key and /me routes are unaffected.
	if r := pcall(t, e.h, request("GET /nothing", subA, "", "")); r.StatusCode != 404 {
		t.Errorf("unknown route: %d", r.StatusCode)
	}
	if r := pcall(t, e.h, request("GET /me", subA, "", "")); r.StatusCode != 200 {
		t.Errorf("GET /me: %d", r.StatusCode)
	}
}

func TestPasskeyAuthenticationOptionsIsPublic(t *testing.T) {
	e := newPKEnv(t, pkConfig())
	req := request(api.RouteAuthenticationOptions, "", "", "")
	req.RequestContext.Authorizer = nil // the route has no authorizer
	resp := pcallNo500(t, e.h, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	var out struct {
		PublicKey struct {
			Challenge        string            `json:"challenge"`
			Timeout          int               `json:"timeout"`
			RPID             string            `json:"rpId"`
			UserVerification string            `json:"userVerification"`
			AllowCredentials []json.RawMessage `json:"allowCredentials"`
		} `json:"publicKey"`
		ChallengeID string `json:"challengeId"`
	}
	if err := strictUnmarshal(resp.Body, &out); err != nil {
		t.Fatalf("%s: %v", resp.Body, err)
	}
	p := out.PublicKey
	if p.RPID != pkRPID || p.UserVerification != "required" || p.Timeout != 120000 || len(p.AllowCredentials) != 0 || !passkey.ValidChallengeID(out.ChallengeID) {
		t.Errorf("answer %s", resp.Body)
	}
	c, ok := e.m.challenges["A/"+out.ChallengeID]
	if !ok || c.Challenge != p.Challenge || !c.ExpiresAt.Equal(testNow.Add(2*time.Minute)) {
		t.Errorf("stored %+v (%v)", c, ok)
	}
	// Two calls, two challenges.
	resp2 := pcallNo500(t, e.h, req)
	if resp2.Body == resp.Body || len(e.m.challenges) != 2 {
		t.Error("challenge reused")
	}
	// A token, even a foreign one, changes nothing; a store failure is a 500.
	if r := pcallNo500(t, e.h, request(api.RouteAuthenticationOptions, subA, "", "", withClaim("token_use", "id"))); r.StatusCode != 200 {
		t.Errorf("with an ID token: %d", r.StatusCode)
	}
	e.m.err = errDown
	if r := pcall(t, e.h, req); r.StatusCode != http.StatusInternalServerError {
		t.Errorf("store failure: %d", r.StatusCode)
	}
}

var errDown = fmt.Errorf("dynamodb: throttled")

func TestPasskeyStoreFailures(t *testing.T) {
	e := newPKEnv(t, pkConfig())
	o := e.options(t, subA, "")
	_, js, _ := e.a.Register(o.PublicKey.Challenge, []byte(subA), softauthn.Tweak{})
	e.m.err = errDown
	for _, r := range []events.APIGatewayV2HTTPRequest{
		request(api.RouteRegistrationOptions, subA, "", ""),
		request(api.RouteRegisterPasskey, subA, "", regBody(js, "x")),
		request(api.RouteListPasskeys, subA, "", ""),
		request(api.RouteRenamePasskey, subA, "AAAA", `{"name":"x"}`),
		request(api.RouteDeletePasskey, subA, "AAAA", ""),
	} {
		wantError(t, pcall(t, e.h, r), http.StatusInternalServerError, api.CodeInternal)
	}
	if strings.Contains(e.logs.String(), o.PublicKey.Challenge) {
		t.Error("a challenge was logged")
	}
}

func TestPasskeyConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, err := api.PasskeyConfigFromEnv(env(map[string]string{passkey.EnvRPID: "example.com", api.EnvDeviceKeyMaxAuthAge: "120"}))
	if err != nil || cfg.RP == nil || cfg.MaxAuthAge != 2*time.Minute || cfg.RP.Config().RPID != "example.com" {
		t.Fatalf("%+v, %v", cfg, err)
	}
	for _, bad := range []map[string]string{
		{},
		{passkey.EnvRPID: "example.com", passkey.EnvTimeoutSeconds: "0"},
		{passkey.EnvRPID: "example.com", api.EnvDeviceKeyMaxAuthAge: "0"},
	} {
		if _, err := api.PasskeyConfigFromEnv(env(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestPasskeyFixtureEvent(t *testing.T) {
	raw, err := os.ReadFile("testdata/post-passkey-registration-options.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	rp, err := passkey.NewRP(pkConfig())
	if err != nil {
		t.Fatal(err)
	}
	authTime := time.Unix(1767323045, 0)
	m := newPKStore(func() time.Time { return authTime })
	h := api.New(clientID, nil).WithTokenChecker(newFakeCognito().checker()).
		WithPasskeys(m, api.PasskeyConfig{RP: rp, Now: func() time.Time { return authTime.Add(5 * time.Second) }})
	resp := pcallNo500(t, h, ev)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `"displayName":"Ada"`) {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	if len(m.challenges) != 1 {
		t.Errorf("challenges %+v", m.challenges)
	}
	var pub struct {
		RequestContext struct {
			Authorizer any `json:"authorizer"`
		} `json:"requestContext"`
	}
	raw, err = os.ReadFile("testdata/post-passkey-authentication-options.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &pub); err != nil || pub.RequestContext.Authorizer != nil {
		t.Fatalf("public fixture has an authorizer: %v", err)
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	ev.RequestContext.Authorizer = nil
	if resp := pcallNo500(t, h, ev); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `"challengeId"`) {
		t.Fatalf("public: %d %s", resp.StatusCode, resp.Body)
	}
}

// TestPasskeysWithDynalite runs the passkey routes against the real store on dynalite.
func TestPasskeysWithDynalite(t *testing.T) {
	e, tb := newDynalitePKEnv(t, &softauthn.Authenticator{RPID: pkRPID, Origin: pkOrigin, UV: true, Attestation: "packed"})
	st := tb.Store
	fresh := withAuthTime(e.clk.Now().Add(-time.Second))
	reg := func(sub string, tw softauthn.Tweak) (*softauthn.Credential, events.APIGatewayV2HTTPResponse) {
		o := e.options(t, sub, "", fresh)
		cred, js, err := e.a.Register(o.PublicKey.Challenge, []byte(sub), tw)
		if err != nil {
			t.Fatal(err)
		}
		return cred, pcallNo500(t, e.h, request(api.RouteRegisterPasskey, sub, "", regBody(js, "key"), fresh))
	}
	a1, r := reg(subA, softauthn.Tweak{})
	if r.StatusCode != 201 {
		t.Fatalf("register: %d %s", r.StatusCode, r.Body)
	}
	if _, r := reg(subA, softauthn.Tweak{NoUV: true}); r.StatusCode != 400 {
		t.Fatalf("UV missing: %d %s", r.StatusCode, r.Body)
	}
	// Reusing a challenge on the real store.
	o := e.options(t, subA, "", fresh)
	_, js, _ := e.a.Register(o.PublicKey.Challenge, []byte(subA), softauthn.Tweak{})
	if r := pcallNo500(t, e.h, request(api.RouteRegisterPasskey, subA, "", regBody(js, "k2"), fresh)); r.StatusCode != 201 {
		t.Fatalf("second: %d %s", r.StatusCode, r.Body)
	}
	_, js, _ = e.a.Register(o.PublicKey.Challenge, []byte(subA), softauthn.Tweak{})
	wantError(t, pcallNo500(t, e.h, request(api.RouteRegisterPasskey, subA, "", regBody(js, "k3"), fresh)), 400, api.CodeBadChallenge)
	// Cap of 2 reached.
	wantError(t, pcallNo500(t, e.h, request(api.RouteRegistrationOptions, subA, "", "", fresh)), 409, api.CodePasskeyLimit)
	// Found through the GSI by credential ID.
	if p, err := st.FindPasskey(context.Background(), a1.ID); err != nil || p.Owner != subA {
		t.Errorf("GSI lookup: %+v, %v", p, err)
	}
	// Ownership on the real store.
	id := base64.RawURLEncoding.EncodeToString(a1.ID)
	wantError(t, pcallNo500(t, e.h, request(api.RouteDeletePasskey, subB, id, "")), 404, api.CodeNotFound)
	wantError(t, pcallNo500(t, e.h, request(api.RouteRenamePasskey, subB, id, `{"name":"x"}`)), 404, api.CodeNotFound)
	if r := pcallNo500(t, e.h, request(api.RouteRenamePasskey, subA, id, `{"name":"Renamed"}`)); r.StatusCode != 200 || !strings.Contains(r.Body, "Renamed") {
		t.Fatalf("rename: %d %s", r.StatusCode, r.Body)
	}
	if l := e.list(t, subA); len(l) != 2 || e.list(t, subB) == nil || len(e.list(t, subB)) != 0 {
		t.Fatalf("lists: %+v", l)
	}
	if r := pcallNo500(t, e.h, request(api.RouteDeletePasskey, subA, id, "")); r.StatusCode != 204 {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
	}
	if _, r := reg(subA, softauthn.Tweak{}); r.StatusCode != 201 {
		t.Fatalf("register after delete: %d %s", r.StatusCode, r.Body)
	}
	// The public route stores a challenge that can be consumed once.
	pub := request(api.RouteAuthenticationOptions, "", "", "")
	pub.RequestContext.Authorizer = nil
	resp := pcallNo500(t, e.h, pub)
	var out api.AuthenticationOptionsJSON
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("public options: %d %s", resp.StatusCode, resp.Body)
	}
	c, err := st.ConsumePasskeyChallenge(context.Background(), store.PasskeyChallenge{Kind: store.AuthenticationChallenge, ID: out.ChallengeID})
	if err != nil || c.Challenge != out.PublicKey.Challenge.String() {
		t.Fatalf("consume: %+v, %v", c, err)
	}
}
