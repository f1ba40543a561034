package triggers_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// BenchmarkDefine runs Define as the Lambda runtime does: JSON in, JSON out, with a two-round
// session (nonce round, then a successful code round).
func BenchmarkDefine(b *testing.B) {
	benchDefineInvoke(b, lambda.NewHandler((&triggers.Define{Config: allCfg}).Handle))
}

// benchDefineInvoke checks that h answers the two-round session of define_code_correct.json by
// issuing tokens, then times its invocations with that payload.
func benchDefineInvoke(b *testing.B, h lambda.Handler) {
	payload := fixtureBytes(b, "define_code_correct.json")
	ctx := context.Background()
	out, err := h.Invoke(ctx, payload)
	if err != nil || !bytes.Contains(out, []byte(`"issueTokens":true`)) {
		b.Fatalf("unexpected response %s, %v", out, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := h.Invoke(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateNonce draws a session ID and a nonce from crypto/rand.
func BenchmarkCreateNonce(b *testing.B) {
	h := &triggers.Create{Keys: testKeys, Config: allCfg}
	ctx := context.Background()
	ev := createEvent(nil, nil, false)
	b.ReportAllocs()
	for b.Loop() {
		out, err := h.Handle(ctx, ev)
		if err != nil || len(out.Response.PublicChallengeParameters["nonce"]) != 43 {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyNoChecker is the cheapest way to a wrong answer: a key proof for a method with no
// checker.
func BenchmarkVerifyNoChecker(b *testing.B) {
	h := &triggers.Verify{Keys: testKeys, Config: allCfg}
	ctx := context.Background()
	ev := verifyEvent(noncePrivate(testNonce), "proof", cm("device_key", ""), false)
	b.ReportAllocs()
	for b.Loop() {
		out, err := h.Handle(ctx, ev)
		if err != nil || out.Response.AnswerCorrect {
			b.Fatal(err)
		}
	}
}

// BenchmarkDefineInvoke is the path the define binary takes: lambda.NewHandler around Define,
// which implements lambda.Handler.
func BenchmarkDefineInvoke(b *testing.B) {
	benchDefineInvoke(b, lambda.NewHandler(&triggers.Define{Config: allCfg}))
}
