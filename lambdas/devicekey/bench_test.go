package devicekey_test

import (
	"testing"

	"github.com/passwordless-go/cognito/lambdas/devicekey"
)

func BenchmarkVerifyRSA2048(b *testing.B) {
	k := testKeys(b)
	pk := mustParse(b, b64(mustSPKI(b, &k.rsa2048.PublicKey)))
	msg := mustMessage(b, "alice", "nonce")
	sig := b64(signRSA(b, k.rsa2048, msg))
	b.ReportAllocs()
	for b.Loop() {
		if err := pk.Verify(msg, sig); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyP256(b *testing.B) {
	k := testKeys(b)
	pk := mustParse(b, b64(mustSPKI(b, &k.p256.PublicKey)))
	msg := mustMessage(b, "alice", "nonce")
	for _, bc := range []struct {
		name string
		sig  string
	}{
		{"DER", b64(signECDER(b, k.p256, msg))},
		{"raw", b64(signECRaw(b, k.p256, msg))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := pk.Verify(msg, bc.sig); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParsePublicKey(b *testing.B) {
	k := testKeys(b)
	for _, bc := range []struct {
		name string
		enc  string
	}{
		{"RSA2048_SPKI", b64(mustSPKI(b, &k.rsa2048.PublicKey))},
		{"P256_SPKI", b64(mustSPKI(b, &k.p256.PublicKey))},
		{"P256_point", b64(rawPoint(b, &k.p256.PublicKey))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := devicekey.ParsePublicKey(bc.enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
