package keyauth_test

import (
	"context"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/keyauth"
)

func benchCheck(b *testing.B, s signer) {
	_, id, c, nonce := aliceChecker(b, s, keyauth.WithClock(clock))
	req := request(nameAlice, subAlice, nonce, answer(id, s.signAlice(b, nonce)))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := c.Check(ctx, req); !ok || err != nil {
			b.Fatalf("Check = %v, %v", ok, err)
		}
	}
}

// BenchmarkCheckRSA2048 is a successful check with an RSA-2048 key (in-memory store).
func BenchmarkCheckRSA2048(b *testing.B) {
	benchCheck(b, aliceRSA(b))
}

// BenchmarkCheckP256 is a successful check with a P-256 key (in-memory store).
func BenchmarkCheckP256(b *testing.B) {
	testKeys(b)
	benchCheck(b, ecSigner(b, ecKey, false, false))
}

// BenchmarkCheckUnknownUser is a refused check of an unknown user (dummy RSA-2048 work).
func BenchmarkCheckUnknownUser(b *testing.B) {
	s := aliceRSA(b)
	m := newMemStore()
	c := keyauth.New(m)
	nonce := newNonce(b)
	req := withNotFound(request("ghost@example.com", "", nonce, answer(newKeyID(b), s.sign(b, message(b, testPool, testClient, "ghost@example.com", nonce)))))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := c.Check(ctx, req); ok || err != nil {
			b.Fatalf("Check = %v, %v", ok, err)
		}
	}
}
