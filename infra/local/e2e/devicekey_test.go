//go:build unix

package e2e

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
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/passwordless-go/cognito/infra/local/signin"
	"github.com/passwordless-go/cognito/lambdas/devicekey"
)

// deviceKey is a key pair held by a test "device" and its registered ID.
type deviceKey struct {
	priv  crypto.Signer
	id    string
	alg   string
	owner *user
}

func newP256(t testing.TB) crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newRSA(t testing.TB) crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func generateP256() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

// signRaw signs message as the device would: RSASSA-PKCS1-v1_5 / SHA-256 or ECDSA P-256 /
// SHA-256 (DER), standard base64.
func signRaw(k crypto.Signer, message string) (string, error) {
	sum := sha256.Sum256([]byte(message))
	sig, err := k.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

func devicekeyMessage(username, nonce string) (string, error) {
	return devicekey.Message(H.PoolID, H.ClientID, username, nonce)
}

// answerFor builds the device_key ANSWER for the challenge: a signature over
// devicekey.Message(pool, client, USERNAME, nonce).
func answerFor(t testing.TB, k crypto.Signer, keyID, username, nonce string) string {
	t.Helper()
	a, err := signAnswer(k, keyID, username, nonce)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func keyAnswer(keyID, signature string) string {
	b, _ := json.Marshal(map[string]string{"keyId": keyID, "signature": signature})
	return string(b)
}

// register enrols k for the holder of access through POST /device-keys.
func register(t testing.TB, access string, k crypto.Signer, name string) (int, map[string]any) {
	t.Helper()
	status, raw, err := tryRegister(access, k, name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("POST /device-keys: %d, body not JSON: %q", status, raw)
	}
	return status, m
}

func tryRegister(access string, k crypto.Signer, name string) (int, []byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		return 0, nil, err
	}
	body, _ := json.Marshal(map[string]string{"publicKey": base64.StdEncoding.EncodeToString(der), "name": name})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return signin.API(ctx, H.APIURL, http.MethodPost, "/device-keys", access, body)
}

// enrol signs u in with an email code and registers a new key of the given kind.
func enrol(t testing.TB, u *user, newKey func(testing.TB) crypto.Signer) *deviceKey {
	t.Helper()
	res := codeSignIn(t, u, "email_otp")
	k := newKey(t)
	status, body := register(t, aws.ToString(res.AccessToken), k, "test device")
	if status != http.StatusCreated {
		t.Fatalf("POST /device-keys: %d %v", status, body)
	}
	id, _ := body["keyId"].(string)
	alg, _ := body["algorithm"].(string)
	if id == "" || alg == "" {
		t.Fatalf("POST /device-keys answer %v", body)
	}
	return &deviceKey{priv: k, id: id, alg: alg, owner: u}
}

// keyRound starts a sign-in for name and returns the NONCE round.
func keyRound(t testing.TB, ctx context.Context, name string) *round {
	t.Helper()
	init, err := app.Initiate(ctx, name)
	if err != nil {
		t.Fatalf("InitiateAuth %s: %v", name, err)
	}
	if init.ChallengeParameters["nonce"] == "" {
		t.Fatalf("no nonce: %v", init.ChallengeParameters)
	}
	return &round{session: init.Session, username: init.ChallengeParameters["USERNAME"], params: init.ChallengeParameters}
}

// TestDeviceKey enrols a P-256 and an RSA-2048 key after a code sign-in and signs in with each in
// one round trip; a replayed signature, another user's key and a revoked key never sign in.
func TestDeviceKey(t *testing.T) {
	need(t)
	ctx := ctxT(t, 60*time.Second)
	alice := newEmailUser(t, "alice")
	p256 := enrol(t, alice, newP256)
	bob := newEmailUser(t, "bob")
	rsaKey := enrol(t, bob, newRSA)
	if p256.alg == rsaKey.alg {
		t.Fatalf("both keys report algorithm %s", p256.alg)
	}

	var aliceSig string
	for _, k := range []*deviceKey{p256, rsaKey} {
		r := keyRound(t, ctx, k.owner.email)
		ans := answerFor(t, k.priv, k.id, r.username, r.params["nonce"])
		if k == p256 {
			aliceSig = ans
		}
		out, err := app.Respond(ctx, r.session, r.username, ans, method("device_key"))
		if err != nil || !signin.Tokens(out) {
			t.Fatalf("%s sign-in: tokens=%v err=%v", k.alg, signin.Tokens(out), err)
		}
		status, me := apiCall(t, http.MethodGet, "/me", aws.ToString(out.AuthenticationResult.AccessToken), nil)
		if status != http.StatusOK || me["sub"] != k.owner.sub {
			t.Fatalf("%s: GET /me %d %v", k.alg, status, me)
		}
	}

	t.Run("replayed signature", func(t *testing.T) {
		r := keyRound(t, ctx, alice.email)
		out, err := app.Respond(ctx, r.session, r.username, aliceSig, method("device_key"))
		if signin.Tokens(out) || (err != nil && !signin.IsNotAuthorized(err)) {
			t.Fatalf("replay: tokens=%v err=%v", signin.Tokens(out), err)
		}
	})
	t.Run("another user's key", func(t *testing.T) {
		// Bob's device key, correctly signing Alice's challenge.
		r := keyRound(t, ctx, alice.email)
		out, err := app.Respond(ctx, r.session, r.username, answerFor(t, rsaKey.priv, rsaKey.id, r.username, r.params["nonce"]), method("device_key"))
		if signin.Tokens(out) || (err != nil && !signin.IsNotAuthorized(err)) {
			t.Fatalf("Bob's key for Alice: tokens=%v err=%v", signin.Tokens(out), err)
		}
	})
	t.Run("revoked key", func(t *testing.T) {
		access := aws.ToString(codeSignIn(t, alice, "email_otp").AccessToken)
		status, list := apiCall(t, http.MethodGet, "/device-keys", access, nil)
		keys, _ := list["keys"].([]any)
		if status != http.StatusOK || len(keys) != 1 {
			t.Fatalf("GET /device-keys: %d %v", status, list)
		}
		if k, _ := keys[0].(map[string]any); k["keyId"] != p256.id || k["lastUsedAt"] == nil {
			t.Fatalf("listed key %v, want %s with lastUsedAt", k, p256.id)
		}
		if status, body := apiCall(t, http.MethodDelete, "/device-keys/"+rsaKey.id, access, nil); status != http.StatusNotFound {
			t.Fatalf("DELETE Bob's key with Alice's token: %d %v, want 404", status, body)
		}
		if status, body := apiCall(t, http.MethodDelete, "/device-keys/"+p256.id, access, nil); status != http.StatusNoContent {
			t.Fatalf("DELETE /device-keys/%s: %d %v", p256.id, status, body)
		}
		r := keyRound(t, ctx, alice.email)
		out, err := app.Respond(ctx, r.session, r.username, answerFor(t, p256.priv, p256.id, r.username, r.params["nonce"]), method("device_key"))
		if signin.Tokens(out) || (err != nil && !signin.IsNotAuthorized(err)) {
			t.Fatalf("revoked key: tokens=%v err=%v", signin.Tokens(out), err)
		}
		// Bob's key still works.
		r = keyRound(t, ctx, bob.email)
		out, err = app.Respond(ctx, r.session, r.username, answerFor(t, rsaKey.priv, rsaKey.id, r.username, r.params["nonce"]), method("device_key"))
		if err != nil || !signin.Tokens(out) {
			t.Fatalf("Bob after Alice revoked hers: tokens=%v err=%v", signin.Tokens(out), err)
		}
	})
}

// TestEnrolmentNeedsFreshSignIn: an access token whose auth_time is older than
// DEVICE_KEY_MAX_AUTH_AGE_SECONDS cannot register a key, also after a refresh (which keeps
// auth_time). The pool's clock is moved back for the sign-in; the function uses real time.
func TestEnrolmentNeedsFreshSignIn(t *testing.T) {
	need(t)
	u := newEmailUser(t, "stale")
	clock.Set(-10 * time.Minute)
	res := func() *struct{ access, refresh string } {
		defer clock.Set(0)
		r := codeSignIn(t, u, "email_otp")
		return &struct{ access, refresh string }{aws.ToString(r.AccessToken), aws.ToString(r.RefreshToken)}
	}()
	at, _ := signin.JWTClaims(t, res.access)["auth_time"].(float64)
	if age := time.Since(time.Unix(int64(at), 0)); age < 9*time.Minute {
		t.Fatalf("auth_time is only %s old", age)
	}
	status, body := register(t, res.access, newP256(t), "stale")
	if status != http.StatusForbidden || body["code"] != "stale_auth" {
		t.Fatalf("POST /device-keys with a 10-minute-old sign-in: %d %v, want 403 stale_auth", status, body)
	}
	refreshed := refresh(t, res.refresh)
	if signin.JWTClaims(t, refreshed)["auth_time"] != signin.JWTClaims(t, res.access)["auth_time"] {
		t.Fatal("refresh changed auth_time")
	}
	status, body = register(t, refreshed, newP256(t), "stale")
	if status != http.StatusForbidden || body["code"] != "stale_auth" {
		t.Fatalf("POST /device-keys with a refreshed token of an old sign-in: %d %v, want 403 stale_auth", status, body)
	}
	// A fresh sign-in may register.
	fresh := aws.ToString(codeSignIn(t, u, "email_otp").AccessToken)
	if status, body := register(t, fresh, newP256(t), "fresh"); status != http.StatusCreated {
		t.Fatalf("POST /device-keys after a fresh sign-in: %d %v", status, body)
	}
}

// TestKeyLimitAndDuplicates: the same key twice is refused; concurrent registrations of one key
// store it once.
func TestKeyDuplicates(t *testing.T) {
	need(t)
	u := newEmailUser(t, "dup")
	access := aws.ToString(codeSignIn(t, u, "email_otp").AccessToken)
	k := newP256(t)
	const n = 8
	statuses := make(chan int, n)
	for i := 0; i < n; i++ {
		go func() {
			s, _, err := tryRegister(access, k, "same key")
			if err != nil {
				s = -1
			}
			statuses <- s
		}()
	}
	created := 0
	for i := 0; i < n; i++ {
		switch s := <-statuses; s {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
		default:
			t.Errorf("concurrent registration: status %d", s)
		}
	}
	status, list := apiCall(t, http.MethodGet, "/device-keys", access, nil)
	keys, _ := list["keys"].([]any)
	if created != 1 || status != http.StatusOK || len(keys) != 1 {
		t.Fatalf("%d concurrent registrations of one key: %d created, %d listed", n, created, len(keys))
	}
}
