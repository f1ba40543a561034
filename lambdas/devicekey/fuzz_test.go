package devicekey_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/devicekey"
)

// keySentinels are the errors ParsePublicKey and ParseSPKI may wrap.
var keySentinels = []error{
	devicekey.ErrMalformed,
	devicekey.ErrUnsupportedAlgorithm,
	devicekey.ErrWeakKey,
	devicekey.ErrTooLarge,
}

func checkParseResult(t *testing.T, pk *devicekey.PublicKey, err error) {
	t.Helper()
	if err != nil {
		if pk != nil {
			t.Fatalf("key returned with error %v", err)
		}
		s := sentinelOf(err)
		for _, ks := range keySentinels {
			if s == ks {
				return
			}
		}
		t.Fatalf("error %q does not wrap exactly one key sentinel", err)
	}
	switch pk.Algorithm() {
	case devicekey.RSA:
		if pk.Bits() < devicekey.MinRSABits || pk.Bits() > devicekey.MaxRSABits {
			t.Fatalf("RSA key of %d bits accepted", pk.Bits())
		}
	case devicekey.ECDSAP256:
		if pk.Bits() != 256 {
			t.Fatalf("P-256 key with Bits() = %d", pk.Bits())
		}
	default:
		t.Fatalf("unexpected algorithm %q", pk.Algorithm())
	}
	spki := pk.SPKI()
	again, err := devicekey.ParseSPKI(spki)
	if err != nil {
		t.Fatalf("ParseSPKI(SPKI()) of an accepted key failed: %v", err)
	}
	if !bytes.Equal(again.SPKI(), spki) || again.Fingerprint() != pk.Fingerprint() {
		t.Fatal("SPKI does not round-trip")
	}
	// Differential check against crypto/x509.
	if _, err := x509.ParsePKIXPublicKey(spki); err != nil {
		t.Fatalf("crypto/x509 rejects the canonical SPKI: %v", err)
	}
	if err := pk.Verify([]byte("m"), "AAAA"); !errors.Is(err, devicekey.ErrBadSignature) {
		t.Fatalf("Verify of junk: %v", err)
	}
}

func FuzzParsePublicKey(f *testing.F) {
	k := testKeys(f)
	rsaSPKI, rsaPKCS1, ecSPKI, point := encodings(f, k)
	for _, der := range [][]byte{rsaSPKI, rsaPKCS1, ecSPKI, point} {
		f.Add(b64(der))
		f.Add(base64.RawURLEncoding.EncodeToString(der))
		f.Add(wrap(b64(der), 64, "\r\n"))
		f.Add(string(der)) // exercises ParseSPKI below
	}
	f.Add(pemOf("PUBLIC KEY", rsaSPKI))
	f.Add(pemOf("RSA PUBLIC KEY", rsaPKCS1))
	f.Add(pemOf("PUBLIC KEY", ecSPKI))
	f.Add("")
	f.Add("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n")
	f.Add("MA==")
	f.Fuzz(func(t *testing.T, s string) {
		pk, err := devicekey.ParsePublicKey(s)
		checkParseResult(t, pk, err)
		pk, err = devicekey.ParseSPKI([]byte(s))
		checkParseResult(t, pk, err)
	})
}

// FuzzVerify takes the key as an input too, so seeds stay valid across fuzz
// worker processes (each generates its own test keys).
func FuzzVerify(f *testing.F) {
	k := testKeys(f)
	msg := mustMessage(f, "alice", "nonce")
	rsaKey := b64(mustSPKI(f, &k.rsa2048.PublicKey))
	ecKey := b64(mustSPKI(f, &k.p256.PublicKey))
	ecPoint := b64(rawPoint(f, &k.p256.PublicKey))
	f.Add(rsaKey, msg, b64(signRSA(f, k.rsa2048, msg)))
	f.Add(ecKey, msg, b64(signECDER(f, k.p256, msg)))
	f.Add(ecKey, msg, b64(signECRaw(f, k.p256, msg)))
	f.Add(ecPoint, msg, base64.RawURLEncoding.EncodeToString(signECRaw(f, k.p256, msg)))
	f.Add(ecPoint, []byte{}, "")
	f.Add(rsaKey, msg, "AAAA")
	f.Fuzz(func(t *testing.T, key string, message []byte, sig string) {
		pk, err := devicekey.ParsePublicKey(key)
		if err != nil {
			return
		}
		err = pk.Verify(message, sig)
		if err != nil {
			if sentinelOf(err) != devicekey.ErrBadSignature {
				t.Fatalf("Verify error %q does not wrap exactly ErrBadSignature", err)
			}
			return
		}
		// An accepted signature must not also verify another message.
		other := append(bytes.Clone(message), 0)
		if pk.Verify(other, sig) == nil {
			t.Fatal("signature verifies two different messages")
		}
	})
}
