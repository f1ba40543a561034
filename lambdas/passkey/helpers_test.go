package passkey_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/passkey"
	"github.com/passwordless-go/cognito/lambdas/passkey/softauthn"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

const (
	rpID       = "example.com"
	webOrigin  = "https://app.example.com"
	testPool   = "eu-west-1_AbCdEf123"
	testClient = "1example23456789abcdefghij"
	subAlice   = "3f1c2a9e-0000-4000-8000-00000000a11c"
	subBob     = "3f1c2a9e-0000-4000-8000-000000000b0b"
	// In pools signing in by email the username is a UUID the pool assigned; it differs from the
	// email the user types and is the passkey user handle.
	userAlice = "9a0c7e52-1111-4a2b-8c3d-00000000a11c"
	userBob   = "9a0c7e52-1111-4a2b-8c3d-000000000b0b"
	sessionID = "c2Vzc2lvbmlkc2Vzc2lvbg"
)

// androidOrigin is an Android app origin (a made-up certificate hash).
var androidOrigin = func() string {
	h := sha256.Sum256([]byte("test signing certificate"))
	return passkey.AndroidOriginPrefix + base64.RawURLEncoding.EncodeToString(h[:])
}()

var fixedNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func clock() time.Time { return fixedNow }

func testConfig() passkey.Config {
	return passkey.Config{RPID: rpID, RPName: "Example", Origins: []string{webOrigin, androidOrigin}}
}

func newRP(tb testing.TB, cfg passkey.Config) *passkey.RP {
	tb.Helper()
	rp, err := passkey.NewRP(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return rp
}

// authenticator returns a software authenticator for the test RP: UV on, synced (BE+BS),
// no counter (like platform passkeys).
func authenticator() *softauthn.Authenticator {
	return &softauthn.Authenticator{RPID: rpID, Origin: webOrigin, UV: true, BackupEligible: true, BackupState: true}
}

// memStore is an in-memory CheckerStore and OptionsStore with the store package's semantics,
// call counters and error injection.
type memStore struct {
	mu         sync.Mutex
	passkeys   map[string]store.Passkey // by owner + "/" + encoded credential ID
	lastChal   map[string]string
	challenges map[string]store.PasskeyChallenge // by ID
	now        func() time.Time
	lenient    bool // UsePasskey accepts anything (benchmarks)

	gets, uses, lists, consumes         int
	getErr, useErr, listErr, consumeErr error
}

func newMemStore() *memStore {
	return &memStore{
		passkeys:   map[string]store.Passkey{},
		lastChal:   map[string]string{},
		challenges: map[string]store.PasskeyChallenge{},
		now:        clock,
	}
}

func mkey(owner string, id []byte) string { return owner + "/" + store.EncodeCredentialID(id) }

func (m *memStore) GetPasskey(_ context.Context, owner string, id []byte) (store.Passkey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets++
	if m.getErr != nil {
		return store.Passkey{}, m.getErr
	}
	if owner == "" || len(id) == 0 {
		return store.Passkey{}, store.ErrInvalidArgument
	}
	p, ok := m.passkeys[mkey(owner, id)]
	if !ok {
		return store.Passkey{}, fmt.Errorf("get: %w", store.ErrNotFound)
	}
	return p, nil
}

func (m *memStore) UsePasskey(_ context.Context, owner string, id []byte, u store.PasskeyUse) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.uses++
	if m.useErr != nil {
		return m.useErr
	}
	k := mkey(owner, id)
	p, ok := m.passkeys[k]
	if !ok {
		return fmt.Errorf("use: %w", store.ErrNotFound)
	}
	if !m.lenient {
		rising := u.SignCount > p.SignCount || (u.SignCount == 0 && p.SignCount == 0)
		if !rising || m.lastChal[k] == u.Challenge {
			return fmt.Errorf("use: %w", store.ErrReplay)
		}
	}
	p.SignCount, p.LastUsedAt, p.BackupState = u.SignCount, u.At, u.BackupState
	m.passkeys[k] = p
	m.lastChal[k] = u.Challenge
	return nil
}

func (m *memStore) ConsumePasskeyChallenge(_ context.Context, c store.PasskeyChallenge) (store.PasskeyChallenge, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.consumes++
	if m.consumeErr != nil {
		return store.PasskeyChallenge{}, m.consumeErr
	}
	got, ok := m.challenges[c.ID]
	if !ok || c.Kind != store.AuthenticationChallenge || !got.ExpiresAt.After(m.now()) {
		return store.PasskeyChallenge{}, fmt.Errorf("consume: %w", store.ErrNotFound)
	}
	delete(m.challenges, c.ID)
	return got, nil
}

func (m *memStore) ListPasskeys(_ context.Context, owner string) ([]store.Passkey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lists++
	if m.listErr != nil {
		return nil, m.listErr
	}
	out := []store.Passkey{}
	for _, p := range m.passkeys {
		if p.Owner == owner {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b store.Passkey) int {
		return bytes.Compare([]byte(store.EncodeCredentialID(a.CredentialID)), []byte(store.EncodeCredentialID(b.CredentialID)))
	})
	return out, nil
}

func (m *memStore) get(owner string, id []byte) (store.Passkey, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.passkeys[mkey(owner, id)]
	return p, ok
}

func (m *memStore) put(p store.Passkey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.passkeys[mkey(p.Owner, p.CredentialID)] = p
}

func (m *memStore) remove(owner string, id []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.passkeys, mkey(owner, id))
}

func (m *memStore) addChallenge(tb testing.TB, challenge string, ttl time.Duration) string {
	tb.Helper()
	id := randB64(tb, passkey.ChallengeIDBytes)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.challenges[id] = store.PasskeyChallenge{Kind: store.AuthenticationChallenge, ID: id, Challenge: challenge, ExpiresAt: m.now().Add(ttl)}
	return id
}

func randB64(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func newNonce(tb testing.TB) string { return randB64(tb, 32) }

// enroll registers a new credential of a for owner/username through the RP (options, create,
// verify) and stores it in m, as the API does.
func enroll(tb testing.TB, rp *passkey.RP, m *memStore, a *softauthn.Authenticator, owner, username string) *softauthn.Credential {
	tb.Helper()
	handle, err := passkey.UserHandle(username)
	if err != nil {
		tb.Fatal(err)
	}
	_, challenge, err := rp.BeginRegistration(passkey.Registration{UserHandle: handle})
	if err != nil {
		tb.Fatal(err)
	}
	cred, js, err := a.Register(challenge, handle, softauthn.Tweak{})
	if err != nil {
		tb.Fatal(err)
	}
	parsed, err := passkey.DecodeAttestation(js)
	if err != nil {
		tb.Fatalf("decode registration: %v", err)
	}
	wc, err := rp.FinishRegistration(handle, challenge, parsed)
	if err != nil {
		tb.Fatalf("finish registration: %v", err)
	}
	ts := []string{}
	for _, t := range wc.Transport {
		ts = append(ts, string(t))
	}
	m.put(store.Passkey{
		Owner: owner, CredentialID: wc.ID, UserHandle: handle, PublicKey: wc.PublicKey,
		SignCount: wc.Authenticator.SignCount, UserVerified: wc.Flags.UserVerified,
		BackupEligible: wc.Flags.BackupEligible, BackupState: wc.Flags.BackupState,
		AAGUID: wc.Authenticator.AAGUID, Transports: ts, AttestationType: wc.AttestationType,
		AttestationFormat: wc.AttestationFormat, Name: "phone", CreatedAt: fixedNow.Add(-time.Hour),
	})
	return cred
}

// checkReq is the CheckRequest Verify builds for a passkey answer to a nonce round issued
// issuedAgo before fixedNow.
func checkReq(username, sub, nonce string, issuedAgo time.Duration, answer []byte) triggers.CheckRequest {
	ch := authflow.Challenge{Kind: authflow.KindNonce, SessionID: sessionID, Reason: authflow.ReasonStart}
	priv := ch.Private()
	priv[authflow.PrivNonce] = nonce
	priv[passkey.PrivIssuedAt] = strconv.FormatInt(fixedNow.Add(-issuedAgo).UnixMilli(), 10)
	attrs := map[string]string{"email": "someone@example.com"}
	if sub != "" {
		attrs["sub"] = sub
	}
	return triggers.CheckRequest{
		Challenge: ch,
		Method:    authflow.Passkey,
		Private:   priv,
		Answer:    string(answer),
		Caller: triggers.Caller{
			UserPoolID:     testPool,
			ClientID:       testClient,
			UserName:       username,
			UserAttributes: attrs,
			ClientMetadata: map[string]string{authflow.MetaSignInMethod: string(authflow.Passkey)},
		},
	}
}

func mustAssert(tb testing.TB, a *softauthn.Authenticator, c *softauthn.Credential, challenge string, t softauthn.Tweak) []byte {
	tb.Helper()
	js, err := a.Assert(c, challenge, t)
	if err != nil {
		tb.Fatal(err)
	}
	return js
}

var errDown = errors.New("dynamodb: throttled")

// userHandle is the user handle an assertion (a PublicKeyCredential in JSON) carries, decoded;
// empty when it has none or does not decode.
func userHandle(ans []byte) []byte {
	var v struct {
		Response struct {
			UserHandle string `json:"userHandle"`
		} `json:"response"`
	}
	_ = json.Unmarshal(ans, &v)
	handle, _ := base64.RawURLEncoding.DecodeString(v.Response.UserHandle)
	return handle
}
