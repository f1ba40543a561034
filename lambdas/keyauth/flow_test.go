package keyauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/keyauth"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

// flowKeys hands out the deployment key Create and Verify need.
var flowKeys = keyed.MustStatic("keyauth-test-deployment-secret-0123456789")

var flowConfig = authflow.Config{
	Methods:     []authflow.Method{authflow.EmailOTP, authflow.DeviceKey},
	MaxAttempts: authflow.DefaultMaxAttempts,
	MaxResends:  authflow.DefaultMaxResends,
}

// session plays Cognito: it runs Create for round 1 and returns the event Verify will get for an
// answer to that round, plus the nonce the client received.
func session(t *testing.T, user, sub string, notFound bool) (events.CognitoEventUserPoolsVerifyAuthChallenge, string) {
	t.Helper()
	attrs := map[string]string{"email": user}
	if sub != "" {
		attrs["sub"] = sub
	}
	create := &triggers.Create{Config: flowConfig, Keys: flowKeys}
	var cev events.CognitoEventUserPoolsCreateAuthChallenge
	cev.UserPoolID, cev.UserName, cev.CallerContext.ClientID = testPool, user, testClient
	cev.Request.ChallengeName = authflow.ChallengeName
	cev.Request.UserAttributes = attrs
	cev.Request.UserNotFound = notFound
	out, err := create.Handle(context.Background(), cev)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	nonce := out.Response.PublicChallengeParameters[authflow.PubNonce]
	if nonce == "" || out.Response.PrivateChallengeParameters[authflow.PrivNonce] != nonce {
		t.Fatal("create issued no nonce")
	}
	var vev events.CognitoEventUserPoolsVerifyAuthChallenge
	vev.UserPoolID, vev.UserName, vev.CallerContext.ClientID = testPool, user, testClient
	vev.Request.UserAttributes = attrs
	vev.Request.PrivateChallengeParameters = out.Response.PrivateChallengeParameters
	vev.Request.ClientMetadata = map[string]string{authflow.MetaSignInMethod: string(authflow.DeviceKey)}
	vev.Request.UserNotFound = notFound
	return vev, nonce
}

func verify(t *testing.T, v *triggers.Verify, ev events.CognitoEventUserPoolsVerifyAuthChallenge, ans string) bool {
	t.Helper()
	ev.Request.ChallengeAnswer = ans
	out, err := v.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return out.Response.AnswerCorrect
}

// TestFlowWithDynalite drives Create and Verify with the real store on dynalite: a device signs
// the server's nonce and signs in; replays into a new session, another user's key and a revoked
// key do not.
func TestFlowWithDynalite(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	st := storetest.New(t, "keys", store.WithClock(func() time.Time { return now })).Store
	checker := keyauth.New(st, keyauth.WithClock(func() time.Time { return now }))
	v := &triggers.Verify{Config: flowConfig, Keys: flowKeys, Checkers: map[authflow.Method]triggers.Checker{authflow.DeviceKey: checker}}
	ctx := context.Background()

	testKeys(t)
	alice, bob := rsaSigner(t, rsaKey, false), ecSigner(t, ecKey, false, false)
	aliceID, bobID := putKey(t, st, subAlice, alice), putKey(t, st, subBob, bob)

	// Alice signs in.
	ev, nonce := session(t, nameAlice, subAlice, false)
	sig := alice.signAlice(t, nonce)
	if !verify(t, v, ev, answer(aliceID, sig)) {
		t.Fatal("right signature refused")
	}
	k, err := st.GetDeviceKey(ctx, subAlice, aliceID)
	if err != nil || !k.LastUsedAt.Equal(now) {
		t.Fatalf("lastUsedAt = %v (%v), want %v", k.LastUsedAt, err, now)
	}

	// The same answer replayed into a new session: the nonce differs.
	ev2, _ := session(t, nameAlice, subAlice, false)
	if verify(t, v, ev2, answer(aliceID, sig)) {
		t.Fatal("replayed signature accepted in a new session")
	}
	// Bob's key and Bob's signature over Alice's message, in Alice's session.
	ev3, nonce3 := session(t, nameAlice, subAlice, false)
	if verify(t, v, ev3, answer(bobID, bob.signAlice(t, nonce3))) {
		t.Fatal("another user's key signed Alice in")
	}
	// An unknown user presenting Alice's key and a valid-looking signature.
	ev4, nonce4 := session(t, "ghost@example.com", "", true)
	if verify(t, v, ev4, answer(aliceID, alice.sign(t, message(t, testPool, testClient, "ghost@example.com", nonce4)))) {
		t.Fatal("unknown user signed in")
	}
	// Alice revokes her key; a fresh, correct signature no longer works.
	if err := st.DeleteDeviceKey(ctx, subAlice, aliceID); err != nil {
		t.Fatal(err)
	}
	ev5, nonce5 := session(t, nameAlice, subAlice, false)
	if verify(t, v, ev5, answer(aliceID, alice.signAlice(t, nonce5))) {
		t.Fatal("revoked key signed in")
	}
	// Bob still can.
	ev6, nonce6 := session(t, nameBob, subBob, false)
	if !verify(t, v, ev6, answer(bobID, bob.sign(t, message(t, testPool, testClient, nameBob, nonce6)))) {
		t.Fatal("Bob's right signature refused")
	}
}

// TestFlowStoreDown: with the key table unreachable Verify fails the sign-in with an error.
func TestFlowStoreDown(t *testing.T) {
	st := storetest.NoTable(t)
	v := &triggers.Verify{Config: flowConfig, Keys: flowKeys, Checkers: map[authflow.Method]triggers.Checker{authflow.DeviceKey: keyauth.New(st)}}
	s := aliceRSA(t)
	ev, nonce := session(t, nameAlice, subAlice, false)
	ev.Request.ChallengeAnswer = answer(newKeyID(t), s.signAlice(t, nonce))
	out, err := v.Handle(context.Background(), ev)
	if err == nil || out.Response.AnswerCorrect {
		t.Fatalf("Verify = %v, %v; want an error and no success", out.Response.AnswerCorrect, err)
	}
}

// putKey stores s's key for owner under a fresh key ID in st (at most 10 keys an owner), as the
// API does, and returns the ID.
func putKey(t *testing.T, st *store.Store, owner string, s signer) string {
	t.Helper()
	k := deviceKey(t, owner, s)
	if err := st.PutDeviceKey(context.Background(), k, 10); err != nil {
		t.Fatal(err)
	}
	return k.ID
}

// codeChecker stands in for the one-time-code checker: every code is wrong.
type codeChecker struct{}

func (codeChecker) Check(context.Context, triggers.CheckRequest) (bool, error) { return false, nil }

// TestGarbageProofsDoNotLockKeySignIn is attack 10 with the real checker and the real failure
// counter on dynalite: garbage device-key answers are not counted and do not stop a valid one,
// and an account locked by wrong codes still signs in with its device key.
func TestGarbageProofsDoNotLockKeySignIn(t *testing.T) {
	st := storetest.New(t, "keys").Store
	counter, err := lockout.New(st, lockout.Config{Limit: 5, Window: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	v := &triggers.Verify{Config: flowConfig, Keys: flowKeys, Failures: counter,
		Checkers: map[authflow.Method]triggers.Checker{authflow.DeviceKey: keyauth.New(st), authflow.EmailOTP: codeChecker{}}}
	ctx := context.Background()
	alice := aliceRSA(t)
	id := putKey(t, st, subAlice, alice)
	signIn := func() bool {
		t.Helper()
		ev, nonce := session(t, nameAlice, subAlice, false)
		return verify(t, v, ev, answer(id, alice.signAlice(t, nonce)))
	}
	// A stranger sends garbage proofs: malformed, unknown key IDs, bad signatures for Alice's key.
	for i := range 12 {
		ev, _ := session(t, nameAlice, subAlice, false)
		garbage := []string{"{}", answer(newKeyID(t), "AAAA"), answer(id, alice.sign(t, []byte("not the message")))}[i%3]
		if verify(t, v, ev, garbage) {
			t.Fatal("garbage proof accepted")
		}
	}
	account := lockout.Key(flowKeys.K, triggers.Account(testPool, nameAlice, map[string]string{"sub": subAlice}))
	if n, err := st.Attempts(ctx, account, 15*time.Minute); err != nil || n != 0 {
		t.Fatalf("12 garbage proofs hold %d slots (%v), want 0", n, err)
	}
	if !signIn() {
		t.Fatal("valid device-key answer refused after garbage proofs")
	}
	// Wrong codes lock the account's code sign-in ...
	for range 6 {
		ev, _ := session(t, nameAlice, subAlice, false)
		ev.Request.PrivateChallengeParameters = map[string]string{
			authflow.PrivKind: string(authflow.KindCode), authflow.PrivSessionID: ev.Request.PrivateChallengeParameters[authflow.PrivSessionID],
			authflow.PrivMethod: string(authflow.EmailOTP), authflow.PrivGeneration: "1", authflow.PrivRound: "2",
		}
		ev.Request.ClientMetadata = map[string]string{authflow.MetaSignInMethod: string(authflow.EmailOTP)}
		_ = verify(t, v, ev, "000000")
	}
	if n, err := st.Attempts(ctx, account, 15*time.Minute); err != nil || n != 5 {
		t.Fatalf("wrong codes hold %d slots (%v), want 5", n, err)
	}
	// ... and the device key still signs in.
	if !signIn() {
		t.Fatal("valid device-key answer refused on an account locked by wrong codes")
	}
}
