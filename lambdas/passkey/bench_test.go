package passkey_test

import (
	"context"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/passkey"
	"github.com/passwordless-go/cognito/lambdas/passkey/passkeynonce"
	"github.com/passwordless-go/cognito/lambdas/passkey/softauthn"
)

// BenchmarkPasskeyCheck is a successful passkey check: strict parse, one read, full WebAuthn
// verification (ES256) and the use update, with an in-memory store.
func BenchmarkPasskeyCheck(b *testing.B) {
	f := newFixture(b, testConfig(), authenticator())
	f.m.lenient = true // the same assertion is checked again and again
	c := passkey.NewChecker(f.rp, f.m, passkey.WithClock(clock))
	nonce := newNonce(b)
	req := checkReq(userAlice, subAlice, nonce, time.Second, mustAssert(b, f.a, f.alice, nonce, softauthn.Tweak{}))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := c.Check(ctx, req); !ok || err != nil {
			b.Fatalf("Check = %v, %v", ok, err)
		}
	}
}

// BenchmarkPasskeyCheckUnknownUser is a refused check of an unknown user (dummy verification).
func BenchmarkPasskeyCheckUnknownUser(b *testing.B) {
	f := newFixture(b, testConfig(), authenticator())
	c := passkey.NewChecker(f.rp, f.m, passkey.WithClock(clock))
	nonce := newNonce(b)
	req := checkReq("ghost@example.com", "", nonce, time.Second, mustAssert(b, f.a, f.alice, nonce, softauthn.Tweak{}))
	req.UserNotFound = true
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := c.Check(ctx, req); ok || err != nil {
			b.Fatalf("Check = %v, %v", ok, err)
		}
	}
}

// BenchmarkPasskeyOptions is the nonce-round hook for a user with two passkeys.
func BenchmarkPasskeyOptions(b *testing.B) {
	f := newFixture(b, testConfig(), authenticator())
	o := passkeynonce.NewOptions(f.rp.Config(), f.m, passkeynonce.WithClock(clock))
	r := nonceReqB(userAlice, subAlice, newNonce(b))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.Extra(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}
