package keyauth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/devicekey"
	"github.com/passwordless-go/cognito/lambdas/keyauth"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

const (
	testPool   = "eu-west-1_AbCdEf123"
	testClient = "1example23456789abcdefghij"
	subAlice   = "3f1c2a9e-0000-4000-8000-00000000a11c"
	subBob     = "3f1c2a9e-0000-4000-8000-000000000b0b"
	nameAlice  = "alice@example.com"
	nameBob    = "bob@example.com"
	sessionID  = "c2Vzc2lvbmlkc2Vzc2lvbg"
)

// Keys are generated once per test binary.
var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	rsaKey2  *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
	ecKey2   *ecdsa.PrivateKey
	keysErr  error
)

func testKeys(tb testing.TB) {
	tb.Helper()
	keysOnce.Do(func() {
		if rsaKey, keysErr = rsa.GenerateKey(rand.Reader, 2048); keysErr != nil {
			return
		}
		if rsaKey2, keysErr = rsa.GenerateKey(rand.Reader, 2048); keysErr != nil {
			return
		}
		if ecKey, keysErr = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); keysErr != nil {
			return
		}
		ecKey2, keysErr = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	})
	if keysErr != nil {
		tb.Fatalf("generating keys: %v", keysErr)
	}
}

// signer is a device key pair in one of the upload formats devicekey accepts.
type signer struct {
	name    string
	upload  string // what the app uploads
	sign    func(tb testing.TB, msg []byte) string
	private crypto.Signer
}

// signAlice signs the device-key message of a sign-in of Alice (nameAlice in the test pool and
// client) with nonce, and returns the signature in base64.
func (s signer) signAlice(tb testing.TB, nonce string) string {
	tb.Helper()
	return s.sign(tb, message(tb, testPool, testClient, nameAlice, nonce))
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// aliceRSA generates the test keys (once) and returns the signer of rsaKey in SPKI form, the key
// most tests give Alice.
func aliceRSA(tb testing.TB) signer {
	tb.Helper()
	testKeys(tb)
	return rsaSigner(tb, rsaKey, false)
}

func rsaSigner(tb testing.TB, k *rsa.PrivateKey, pkcs1 bool) signer {
	tb.Helper()
	var der []byte
	name := "RSA-2048 SPKI"
	if pkcs1 {
		der, name = x509.MarshalPKCS1PublicKey(&k.PublicKey), "RSA-2048 PKCS#1"
	} else {
		var err error
		if der, err = x509.MarshalPKIXPublicKey(&k.PublicKey); err != nil {
			tb.Fatal(err)
		}
	}
	return signer{name: name, upload: b64(der), private: k, sign: func(tb testing.TB, msg []byte) string {
		tb.Helper()
		d := sha256.Sum256(msg)
		sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:])
		if err != nil {
			tb.Fatal(err)
		}
		return b64(sig)
	}}
}

func ecSigner(tb testing.TB, k *ecdsa.PrivateKey, rawPoint, rawSig bool) signer {
	tb.Helper()
	var upload string
	name := "P-256 SPKI"
	if rawPoint {
		pt, err := k.PublicKey.Bytes()
		if err != nil {
			tb.Fatal(err)
		}
		upload, name = b64(pt), "P-256 raw point"
	} else {
		der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			tb.Fatal(err)
		}
		upload = b64(der)
	}
	if rawSig {
		name += ", raw r||s signature"
	} else {
		name += ", DER signature"
	}
	return signer{name: name, upload: upload, private: k, sign: func(tb testing.TB, msg []byte) string {
		tb.Helper()
		d := sha256.Sum256(msg)
		sig, err := ecdsa.SignASN1(rand.Reader, k, d[:])
		if err != nil {
			tb.Fatal(err)
		}
		if !rawSig {
			return b64(sig)
		}
		r, s, ok := parseDERSig(sig)
		if !ok {
			tb.Fatal("cannot parse own ECDSA signature")
		}
		raw := make([]byte, 64)
		copy(raw[32-len(r):32], r)
		copy(raw[64-len(s):], s)
		return base64.RawURLEncoding.EncodeToString(raw)
	}}
}

// parseDERSig splits a DER ECDSA signature into minimal big-endian r and s.
func parseDERSig(sig []byte) (r, s []byte, ok bool) {
	if len(sig) < 8 || sig[0] != 0x30 || int(sig[1]) != len(sig)-2 {
		return nil, nil, false
	}
	rest := sig[2:]
	read := func() []byte {
		if len(rest) < 2 || rest[0] != 0x02 || int(rest[1]) > len(rest)-2 {
			return nil
		}
		v := rest[2 : 2+int(rest[1])]
		rest = rest[2+int(rest[1]):]
		for len(v) > 0 && v[0] == 0 {
			v = v[1:]
		}
		return v
	}
	r, s = read(), read()
	return r, s, r != nil && s != nil && len(rest) == 0 && len(r) <= 32 && len(s) <= 32
}

func allSigners(tb testing.TB) []signer {
	testKeys(tb)
	return []signer{
		rsaSigner(tb, rsaKey, false),
		rsaSigner(tb, rsaKey, true),
		ecSigner(tb, ecKey, false, false),
		ecSigner(tb, ecKey, false, true),
		ecSigner(tb, ecKey, true, false),
	}
}

// memStore is an in-memory keyauth.KeyStore with call counters and error injection.
type memStore struct {
	mu      sync.Mutex
	keys    map[string]store.DeviceKey // by owner + "/" + id
	gets    int
	touches int
	getErr  error
	// beforeTouch runs before a touch is applied (e.g. to revoke the key meanwhile).
	beforeTouch func()
	touchErr    error
}

func newMemStore() *memStore { return &memStore{keys: map[string]store.DeviceKey{}} }

func (m *memStore) GetDeviceKey(_ context.Context, owner, keyID string) (store.DeviceKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets++
	if m.getErr != nil {
		return store.DeviceKey{}, m.getErr
	}
	k, ok := m.keys[owner+"/"+keyID]
	if !ok {
		return store.DeviceKey{}, store.ErrNotFound
	}
	return k, nil
}

func (m *memStore) TouchDeviceKey(_ context.Context, owner, keyID string, at time.Time) error {
	if m.beforeTouch != nil {
		m.beforeTouch()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.touches++
	if m.touchErr != nil {
		return m.touchErr
	}
	k, ok := m.keys[owner+"/"+keyID]
	if !ok {
		return errors.Join(errors.New("touch"), store.ErrNotFound)
	}
	k.LastUsedAt = at
	m.keys[owner+"/"+keyID] = k
	return nil
}

func (m *memStore) delete(owner, keyID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, owner+"/"+keyID)
}

func (m *memStore) get(owner, keyID string) (store.DeviceKey, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[owner+"/"+keyID]
	return k, ok
}

// register stores s's key for owner under a fresh key ID, as the API does.
func (m *memStore) register(tb testing.TB, owner string, s signer) string {
	tb.Helper()
	k := deviceKey(tb, owner, s)
	k.CreatedAt = time.Unix(1700000000, 0).UTC()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[owner+"/"+k.ID] = k
	return k.ID
}

// deviceKey is s's key as the API stores it for owner, under a fresh key ID, named "phone".
func deviceKey(tb testing.TB, owner string, s signer) store.DeviceKey {
	tb.Helper()
	pub, err := devicekey.ParsePublicKey(s.upload)
	if err != nil {
		tb.Fatalf("%s: %v", s.name, err)
	}
	return store.DeviceKey{Owner: owner, ID: newKeyID(tb), Name: "phone", Algorithm: string(pub.Algorithm()),
		Fingerprint: pub.Fingerprint(), PublicKey: pub.SPKI()}
}

// aliceChecker registers s's key for Alice in a new memStore and returns the store, the key's
// ID, a Checker over the store (with opts) and a fresh nonce: the start of most Checker tests.
func aliceChecker(tb testing.TB, s signer, opts ...keyauth.Option) (*memStore, string, *keyauth.Checker, string) {
	tb.Helper()
	m := newMemStore()
	id := m.register(tb, subAlice, s)
	return m, id, keyauth.New(m, opts...), newNonce(tb)
}

func newKeyID(tb testing.TB) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func newNonce(tb testing.TB) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func message(tb testing.TB, pool, client, user, nonce string) []byte {
	tb.Helper()
	m, err := devicekey.Message(pool, client, user, nonce)
	if err != nil {
		tb.Fatal(err)
	}
	return []byte(m)
}

func answer(keyID, sig string) string {
	b, _ := json.Marshal(map[string]string{"keyId": keyID, "signature": sig})
	return string(b)
}

// request is a CheckRequest for a device-key answer to a nonce round of user (sub) with nonce.
func request(user, sub, nonce, ans string) triggers.CheckRequest {
	ch := authflow.Challenge{Kind: authflow.KindNonce, SessionID: sessionID, Reason: authflow.ReasonStart}
	priv := ch.Private()
	priv[authflow.PrivNonce] = nonce
	attrs := map[string]string{"email": user}
	if sub != "" {
		attrs["sub"] = sub
	}
	return triggers.CheckRequest{
		Challenge: ch,
		Method:    authflow.DeviceKey,
		Private:   priv,
		Answer:    ans,
		Caller: triggers.Caller{
			UserPoolID:     testPool,
			ClientID:       testClient,
			UserName:       user,
			UserAttributes: attrs,
			ClientMetadata: map[string]string{authflow.MetaSignInMethod: string(authflow.DeviceKey)},
		},
	}
}

var fixedNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func clock() time.Time { return fixedNow }
