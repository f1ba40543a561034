package devicekey_test

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/devicekey"
)

const (
	testPool   = "eu-west-1_AbCdEf123"
	testClient = "3n4b5urk1ft4fl3mg5e62d9ado"
)

func mustMessage(t testing.TB, username, nonce string) []byte {
	t.Helper()
	m, err := devicekey.Message(testPool, testClient, username, nonce)
	if err != nil {
		t.Fatalf("Message: %v", err)
	}
	return []byte(m)
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

func TestVerifyRSARejects(t *testing.T) {
	k := testKeys(t)
	pk := mustParse(t, b64(mustSPKI(t, &k.rsa2048.PublicKey)))
	msg := mustMessage(t, "alice", "nonce-1")
	sig := signRSA(t, k.rsa2048, msg)
	if err := pk.Verify(msg, b64(sig)); err != nil {
		t.Fatalf("valid signature rejected: %v", err)
	}
	h := sha256.Sum256(msg)
	pss, err := rsa.SignPSS(rand.Reader, k.rsa2048, crypto.SHA256, h[:], nil)
	if err != nil {
		t.Fatal(err)
	}
	pssHashLen, err := rsa.SignPSS(rand.Reader, k.rsa2048, crypto.SHA256, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	if err != nil {
		t.Fatal(err)
	}
	h1 := sha1.Sum(msg)
	sha1Sig, err := rsa.SignPKCS1v15(rand.Reader, k.rsa2048, crypto.SHA1, h1[:])
	if err != nil {
		t.Fatal(err)
	}
	h512 := sha512.Sum512(msg)
	sha512Sig, err := rsa.SignPKCS1v15(rand.Reader, k.rsa2048, crypto.SHA512, h512[:])
	if err != nil {
		t.Fatal(err)
	}
	// Signing the message itself as if it were a digest ("raw" PKCS#1 v1.5).
	rawSig, err := rsa.SignPKCS1v15(rand.Reader, k.rsa2048, crypto.Hash(0), h[:])
	if err != nil {
		t.Fatal(err)
	}

	tests := map[string]string{
		"PSS signature":               b64(pss),
		"PSS signature salt=hash len": b64(pssHashLen),
		"PKCS1v15 SHA-1":              b64(sha1Sig),
		"PKCS1v15 SHA-512":            b64(sha512Sig),
		"PKCS1v15 without DigestInfo": b64(rawSig),
		"truncated":                   b64(sig[:len(sig)-1]),
		"truncated half":              b64(sig[:len(sig)/2]),
		"extra byte":                  b64(append(bytes.Clone(sig), 0)),
		"leading zero byte":           b64(append([]byte{0}, sig...)),
		"bit flip first byte":         b64(flip(sig, 0)),
		"bit flip middle":             b64(flip(sig, len(sig)/2)),
		"bit flip last byte":          b64(flip(sig, len(sig)-1)),
		"all zeros":                   b64(make([]byte, len(sig))),
		"modulus":                     b64(k.rsa2048.N.Bytes()),
		"wrong nonce":                 b64(signRSA(t, k.rsa2048, mustMessage(t, "alice", "nonce-2"))),
		"wrong username":              b64(signRSA(t, k.rsa2048, mustMessage(t, "bob", "nonce-1"))),
		"different key":               b64(signRSA(t, k.rsa2048b, msg)),
		"4096 key signature":          b64(signRSA(t, rsa4096(t), msg)),
		"EC signature":                b64(signECDER(t, k.p256, msg)),
		"empty":                       "",
		"whitespace":                  " \n ",
		"bad base64":                  "!" + b64(sig)[1:],
		"mixed alphabets":             "-" + b64(sig)[1:] + "+",
		"oversized":                   strings.Repeat("A", devicekey.MaxEncodedSignatureLen+1),
		"oversized whitespace":        b64(sig) + strings.Repeat("\n", devicekey.MaxEncodedSignatureLen),
	}
	for name, s := range tests {
		t.Run(name, func(t *testing.T) {
			assertSentinel(t, pk.Verify(msg, s), devicekey.ErrBadSignature)
		})
	}
}

func TestVerifyP256Rejects(t *testing.T) {
	k := testKeys(t)
	pk := mustParse(t, b64(rawPoint(t, &k.p256.PublicKey)))
	msg := mustMessage(t, "alice", "nonce-1")
	der := signECDER(t, k.p256, msg)
	r, s := parseECDER(t, der)
	raw := rawRS(r, s)
	for _, good := range []string{b64(der), b64(raw)} {
		if err := pk.Verify(msg, good); err != nil {
			t.Fatalf("valid signature rejected: %v", err)
		}
	}

	N := elliptic.P256().Params().N
	zero := new(big.Int)
	nPlus := func(x *big.Int) *big.Int { return new(big.Int).Add(x, N) }
	max256 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	// r as a negative INTEGER: DER content with the high bit set and no
	// leading zero byte.
	negR := []byte{0x30, 0x06, 0x02, 0x01, 0xff, 0x02, 0x01, 0x01}
	otherDER := signECDER(t, k.p256b, msg)
	otherR, otherS := parseECDER(t, otherDER)
	wrongNonce := signECDER(t, k.p256, mustMessage(t, "alice", "nonce-2"))
	wr, ws := parseECDER(t, wrongNonce)

	tests := map[string][]byte{
		"DER truncated":          der[:len(der)-1],
		"DER trailing byte":      append(bytes.Clone(der), 0),
		"DER bit flip in r":      flip(der, 8),
		"DER bit flip last byte": flip(der, len(der)-1),
		"DER wrong nonce":        wrongNonce,
		"DER different key":      otherDER,
		"DER r=0":                derRS(t, zero, s),
		"DER s=0":                derRS(t, r, zero),
		"DER r=N":                derRS(t, N, s),
		"DER s=N":                derRS(t, r, N),
		"DER r+N":                derRS(t, nPlus(r), s),
		"DER s+N":                derRS(t, r, nPlus(s)),
		"DER r=-1":               negR,
		"DER r=s=1":              derRS(t, big.NewInt(1), big.NewInt(1)),
		"DER empty SEQUENCE":     {0x30, 0x00},
		"raw truncated":          raw[:63],
		"raw extra byte":         append(bytes.Clone(raw), 0),
		"raw bit flip r":         flip(raw, 5),
		"raw bit flip s":         flip(raw, 63),
		"raw wrong nonce":        rawRS(wr, ws),
		"raw different key":      rawRS(otherR, otherS),
		"raw r=0":                rawRS(zero, s),
		"raw s=0":                rawRS(r, zero),
		"raw r=s=0":              make([]byte, 64),
		"raw r=N":                rawRS(N, s),
		"raw s=N":                rawRS(r, N),
		"raw r=2^256-1":          rawRS(max256, s),
		"raw s=2^256-1":          rawRS(r, max256),
		"raw s||r swapped":       rawRS(s, r),
		"RSA signature":          signRSA(t, k.rsa2048, msg),
		"single byte":            {0x30},
		"DER r+N would fit":      derRS(t, nPlus(big.NewInt(1)), s),
	}
	for name, sig := range tests {
		t.Run(name, func(t *testing.T) {
			for _, enc := range []string{b64(sig), base64.RawURLEncoding.EncodeToString(sig)} {
				assertSentinel(t, pk.Verify(msg, enc), devicekey.ErrBadSignature)
			}
		})
	}
	for name, s := range map[string]string{
		"empty":      "",
		"bad base64": "%%%%",
		"oversized":  strings.Repeat("A", devicekey.MaxEncodedSignatureLen+1),
	} {
		t.Run(name, func(t *testing.T) {
			assertSentinel(t, pk.Verify(msg, s), devicekey.ErrBadSignature)
		})
	}
}

// ECDSA signatures are malleable: (r, N-s) is valid whenever (r, s) is.
// Verify accepts both, as every standard verifier does; replay protection
// must come from single-use nonces, not from signature bytes.
func TestVerifyP256AcceptsNegatedS(t *testing.T) {
	k := testKeys(t)
	pk, err := devicekey.ParseSPKI(mustSPKI(t, &k.p256.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	msg := mustMessage(t, "alice", "n")
	r, s := parseECDER(t, signECDER(t, k.p256, msg))
	negS := new(big.Int).Sub(elliptic.P256().Params().N, s)
	if err := pk.Verify(msg, b64(rawRS(r, negS))); err != nil {
		t.Fatalf("(r, N-s) rejected: %v", err)
	}
}

// TestVerifyShortIntegers checks that raw r||s with leading zero bytes and
// DER with short INTEGERs are handled (a signature whose r or s is below
// 2^248 occurs once in 256 signatures).
func TestVerifyShortIntegers(t *testing.T) {
	k := testKeys(t)
	pk, err := devicekey.ParseSPKI(mustSPKI(t, &k.p256.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for i := 0; i < 4000 && seen < 3; i++ {
		msg := mustMessage(t, "alice", "nonce-"+big.NewInt(int64(i)).String())
		der := signECDER(t, k.p256, msg)
		r, s := parseECDER(t, der)
		if r.BitLen() > 248 && s.BitLen() > 248 {
			continue
		}
		seen++
		for _, sig := range [][]byte{der, rawRS(r, s)} {
			if err := pk.Verify(msg, b64(sig)); err != nil {
				t.Fatalf("valid signature with short r or s rejected: %v", err)
			}
		}
	}
	if seen == 0 {
		t.Log("no signature with a short r or s found")
	}
}

func TestSignInFlow(t *testing.T) {
	k := testKeys(t)
	type device struct {
		name   string
		upload string
		sign   func([]byte) []byte
	}
	devices := []device{
		{"RSA SPKI", b64(mustSPKI(t, &k.rsa2048.PublicKey)), func(m []byte) []byte { return signRSA(t, k.rsa2048, m) }},
		{"RSA 4096 PKCS1", b64(mustSPKI(t, &rsa4096(t).PublicKey)), func(m []byte) []byte { return signRSA(t, rsa4096(t), m) }},
		{"P-256 DER", b64(mustSPKI(t, &k.p256.PublicKey)), func(m []byte) []byte { return signECDER(t, k.p256, m) }},
		{"P-256 raw", b64(rawPoint(t, &k.p256.PublicKey)), func(m []byte) []byte { return signECRaw(t, k.p256, m) }},
	}
	for _, d := range devices {
		t.Run(d.name, func(t *testing.T) {
			// Registration: parse and store the canonical SPKI.
			reg, err := devicekey.ParsePublicKey(d.upload)
			if err != nil {
				t.Fatal(err)
			}
			stored := reg.SPKI()
			// Sign-in: the device signs the server-built message.
			msg := mustMessage(t, "alice@example.com", "b3Rw-Zx_91")
			sig := base64.StdEncoding.EncodeToString(d.sign(msg))
			pk, err := devicekey.ParseSPKI(stored)
			if err != nil {
				t.Fatal(err)
			}
			if err := pk.Verify(msg, sig); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			other := mustMessage(t, "alice@example.com", "b3Rw-Zx_92")
			assertSentinel(t, pk.Verify(other, sig), devicekey.ErrBadSignature)
		})
	}
}
