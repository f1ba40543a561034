package devicekey_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/devicekey"
)

func fingerprintOf(spki []byte) string {
	sum := sha256.Sum256(spki)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// checkKey asserts the properties every successfully parsed key must have.
func checkKey(t *testing.T, pk *devicekey.PublicKey, alg devicekey.Algorithm, bits int, spki []byte) {
	t.Helper()
	if got := pk.Algorithm(); got != alg {
		t.Errorf("Algorithm() = %q, want %q", got, alg)
	}
	if got := pk.Bits(); got != bits {
		t.Errorf("Bits() = %d, want %d", got, bits)
	}
	if got := pk.SPKI(); !bytes.Equal(got, spki) {
		t.Errorf("SPKI() differs from the canonical x509 encoding")
	}
	if got, want := pk.Fingerprint(), fingerprintOf(spki); got != want {
		t.Errorf("Fingerprint() = %q, want %q", got, want)
	}
	again, err := devicekey.ParseSPKI(pk.SPKI())
	if err != nil {
		t.Fatalf("ParseSPKI(SPKI()) failed: %v", err)
	}
	if again.Fingerprint() != pk.Fingerprint() || again.Algorithm() != alg || again.Bits() != bits {
		t.Errorf("ParseSPKI(SPKI()) does not round-trip")
	}
}

func rsaEncodings(t *testing.T, pub *rsa.PublicKey) map[string]string {
	spki := mustSPKI(t, pub)
	pkcs1 := x509.MarshalPKCS1PublicKey(pub)
	pemSPKI := pemOf("PUBLIC KEY", spki)
	return map[string]string{
		"SPKI/std":                b64(spki),
		"SPKI/raw-std":            base64.RawStdEncoding.EncodeToString(spki),
		"SPKI/url":                base64.URLEncoding.EncodeToString(spki),
		"SPKI/raw-url":            base64.RawURLEncoding.EncodeToString(spki),
		"SPKI/wrapped-64-crlf":    " \r\n" + wrap(b64(spki), 64, "\r\n") + "\r\n\t ",
		"SPKI/wrapped-76-lf":      wrap(b64(spki), 76, "\n") + "\n",
		"PKCS1/std":               b64(pkcs1),
		"PKCS1/raw-url":           base64.RawURLEncoding.EncodeToString(pkcs1),
		"PKCS1/wrapped":           "\n" + wrap(b64(pkcs1), 64, "\n") + "\n",
		"PEM/PUBLIC KEY":          pemSPKI,
		"PEM/PUBLIC KEY/crlf":     "\r\n  " + strings.ReplaceAll(pemSPKI, "\n", "\r\n") + "  \r\n",
		"PEM/RSA PUBLIC KEY":      pemOf("RSA PUBLIC KEY", pkcs1),
		"PEM/mislabelled-PKCS1":   pemOf("PUBLIC KEY", pkcs1),
		"PEM/no-trailing-newline": strings.TrimSuffix(pemSPKI, "\n"),
	}
}

func TestParseRSA(t *testing.T) {
	k := testKeys(t)
	for _, tc := range []struct {
		name string
		priv func(testing.TB) *rsa.PrivateKey
		bits int
	}{
		{"2048", func(testing.TB) *rsa.PrivateKey { return k.rsa2048 }, 2048},
		{"4096", rsa4096, 4096},
	} {
		t.Run(tc.name, func(t *testing.T) {
			priv := tc.priv(t)
			spki := mustSPKI(t, &priv.PublicKey)
			msg := []byte("passwordless-device-key-v1|pool|client|alice|nonce-" + tc.name)
			sig := signRSA(t, priv, msg)
			sigEncodings := map[string]string{
				"std":     b64(sig),
				"raw-url": base64.RawURLEncoding.EncodeToString(sig),
				"wrapped": "\n" + wrap(b64(sig), 64, "\r\n") + " ",
			}
			for name, enc := range rsaEncodings(t, &priv.PublicKey) {
				t.Run(name, func(t *testing.T) {
					pk := mustParse(t, enc)
					checkKey(t, pk, devicekey.RSA, tc.bits, spki)
					for sname, s := range sigEncodings {
						if err := pk.Verify(msg, s); err != nil {
							t.Errorf("Verify(%s signature): %v", sname, err)
						}
					}
				})
			}
		})
	}
}

func TestParseP256(t *testing.T) {
	priv := testKeys(t).p256
	spki := mustSPKI(t, &priv.PublicKey)
	point := rawPoint(t, &priv.PublicKey)
	encodings := map[string]string{
		"SPKI/std":        b64(spki),
		"SPKI/raw-url":    base64.RawURLEncoding.EncodeToString(spki),
		"SPKI/wrapped":    "\t" + wrap(b64(spki), 64, "\n") + "\n",
		"PEM/PUBLIC KEY":  pemOf("PUBLIC KEY", spki),
		"point/std":       b64(point),
		"point/raw-std":   base64.RawStdEncoding.EncodeToString(point),
		"point/url":       base64.URLEncoding.EncodeToString(point),
		"point/raw-url":   base64.RawURLEncoding.EncodeToString(point),
		"point/whitespce": "  " + wrap(b64(point), 20, " \n ") + "\r\n",
	}
	msg := []byte("passwordless-device-key-v1|pool|client|bob|nonce")
	der := signECDER(t, priv, msg)
	raw := signECRaw(t, priv, msg)
	sigEncodings := map[string]string{
		"DER/std":     b64(der),
		"DER/raw-url": base64.RawURLEncoding.EncodeToString(der),
		"DER/wrapped": wrap(b64(der), 16, "\n"),
		"raw/std":     b64(raw),
		"raw/url":     base64.URLEncoding.EncodeToString(raw),
		"raw/raw-std": base64.RawStdEncoding.EncodeToString(raw),
	}
	for name, enc := range encodings {
		t.Run(name, func(t *testing.T) {
			pk := mustParse(t, enc)
			checkKey(t, pk, devicekey.ECDSAP256, 256, spki)
			for sname, s := range sigEncodings {
				if err := pk.Verify(msg, s); err != nil {
					t.Errorf("Verify(%s signature): %v", sname, err)
				}
			}
		})
	}
}

func TestSameKeySameFingerprint(t *testing.T) {
	k := testKeys(t)
	fp := map[string]bool{}
	for _, enc := range rsaEncodings(t, &k.rsa2048.PublicKey) {
		pk := mustParse(t, enc)
		fp[pk.Fingerprint()] = true
	}
	if len(fp) != 1 {
		t.Fatalf("RSA encodings of one key gave %d fingerprints, want 1", len(fp))
	}
	pkB, err := devicekey.ParsePublicKey(b64(mustSPKI(t, &k.rsa2048b.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	if fp[pkB.Fingerprint()] {
		t.Fatal("different keys have the same fingerprint")
	}
	a, err := devicekey.ParsePublicKey(b64(mustSPKI(t, &k.p256.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := devicekey.ParsePublicKey(base64.RawURLEncoding.EncodeToString(rawPoint(t, &k.p256.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	if a.Fingerprint() != b.Fingerprint() || !bytes.Equal(a.SPKI(), b.SPKI()) {
		t.Fatal("SPKI and raw point of one EC key differ")
	}
	if len(a.Fingerprint()) != 43 {
		t.Fatalf("fingerprint %q is not 43 characters", a.Fingerprint())
	}
}

func TestSPKIReturnsCopy(t *testing.T) {
	pk, err := devicekey.ParseSPKI(mustSPKI(t, &testKeys(t).p256.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	s := pk.SPKI()
	s[0] ^= 0xff
	if bytes.Equal(s, pk.SPKI()) {
		t.Fatal("SPKI() returned internal storage")
	}
}

func TestZeroPublicKey(t *testing.T) {
	for name, pk := range map[string]*devicekey.PublicKey{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			if pk.Algorithm() != "" || pk.Bits() != 0 || pk.SPKI() != nil || pk.Fingerprint() != "" {
				t.Error("zero key has non-zero properties")
			}
			assertSentinel(t, pk.Verify([]byte("m"), "AAAA"), devicekey.ErrBadSignature)
		})
	}
}

func TestParseRejects(t *testing.T) {
	k := testKeys(t)
	rsaSPKI, rsaPKCS1, ecSPKI, point := encodings(t, k)
	n := k.rsa2048.N

	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}

	offCurve := bytes.Clone(point)
	offCurve[64] ^= 0x01
	zeroPoint := append([]byte{0x04}, make([]byte, 64)...)
	bigX := bytes.Clone(point) // X = p (not reduced), any Y
	copy(bigX[1:33], elliptic.P256().Params().P.Bytes())
	compressed := elliptic.MarshalCompressed(elliptic.P256(), k.p256.X, k.p256.Y) //nolint:staticcheck // test input only
	// The same SPKI with a non-minimal (long form) outer length.
	nonMinimal := append([]byte{0x30, 0x81, ecSPKI[1]}, ecSPKI[2:]...)
	// DER with the inner PKCS#1 key followed by junk inside the BIT STRING.
	innerTrailing := buildSPKI(t, oidRSA, nullParams, append(bytes.Clone(rsaPKCS1), 0x00))
	dsaParams := asn1.RawValue{FullBytes: mustMarshal(t, struct{ P, Q, G *big.Int }{big.NewInt(23), big.NewInt(11), big.NewInt(4)})}
	explicitCurve := asn1.RawValue{FullBytes: mustMarshal(t, struct{ Version int }{1})}

	tests := []struct {
		name  string
		input string
		want  error
	}{
		// Sizes and strength.
		{"RSA 1024", b64(mustSPKI(t, &rsa1024.PublicKey)), devicekey.ErrWeakKey},
		{"RSA 1024 PKCS1", b64(x509.MarshalPKCS1PublicKey(&rsa1024.PublicKey)), devicekey.ErrWeakKey},
		{"RSA 2047", b64(buildRSASPKI(t, randomModulus(t, 2047), 65537)), devicekey.ErrWeakKey},
		{"RSA 4097", b64(buildRSASPKI(t, randomModulus(t, 4097), 65537)), devicekey.ErrTooLarge},
		{"RSA 8192", b64(buildRSASPKI(t, randomModulus(t, 8192), 65537)), devicekey.ErrTooLarge},
		{"RSA 8192 PKCS1 PEM", pemOf("RSA PUBLIC KEY", buildPKCS1(t, randomModulus(t, 8192), 65537)), devicekey.ErrTooLarge},
		{"RSA e=3", b64(buildRSASPKI(t, n, 3)), devicekey.ErrWeakKey},
		{"RSA e=3 PKCS1", b64(buildPKCS1(t, n, 3)), devicekey.ErrWeakKey},
		{"RSA e=17", b64(buildRSASPKI(t, n, 17)), devicekey.ErrWeakKey},
		{"RSA e=2^32+1", b64(buildRSASPKI(t, n, 1<<32+1)), devicekey.ErrWeakKey},
		{"RSA e=1", b64(buildRSASPKI(t, n, 1)), devicekey.ErrWeakKey},
		{"RSA e=0", b64(buildRSASPKI(t, n, 0)), devicekey.ErrMalformed},
		{"RSA e=-65537", b64(buildRSASPKI(t, n, -65537)), devicekey.ErrMalformed},
		{"RSA even modulus", b64(buildRSASPKI(t, new(big.Int).Add(n, big.NewInt(1)), 65537)), devicekey.ErrMalformed},
		{"RSA negative modulus", b64(buildRSASPKI(t, new(big.Int).Neg(n), 65537)), devicekey.ErrMalformed},
		{"RSA zero modulus", b64(buildRSASPKI(t, new(big.Int), 65537)), devicekey.ErrMalformed},
		{"RSA missing NULL params", b64(buildSPKI(t, oidRSA, noParams, rsaPKCS1)), devicekey.ErrMalformed},

		// Algorithms and curves.
		{"P-384", b64(mustSPKI(t, &p384.PublicKey)), devicekey.ErrUnsupportedAlgorithm},
		{"P-384 PEM", pemOf("PUBLIC KEY", mustSPKI(t, &p384.PublicKey)), devicekey.ErrUnsupportedAlgorithm},
		{"P-384 raw point", b64(rawPoint(t, &p384.PublicKey)), devicekey.ErrUnsupportedAlgorithm},
		{"P-521", b64(mustSPKI(t, &p521.PublicKey)), devicekey.ErrUnsupportedAlgorithm},
		{"secp256k1", b64(buildSPKI(t, oidEC, oidParams(t, oidSecp256k1), point)), devicekey.ErrUnsupportedAlgorithm},
		{"explicit EC parameters", b64(buildSPKI(t, oidEC, explicitCurve, point)), devicekey.ErrUnsupportedAlgorithm},
		{"EC missing curve", b64(buildSPKI(t, oidEC, noParams, point)), devicekey.ErrMalformed},
		{"EC NULL curve", b64(buildSPKI(t, oidEC, nullParams, point)), devicekey.ErrMalformed},
		{"Ed25519", b64(mustSPKI(t, edPub)), devicekey.ErrUnsupportedAlgorithm},
		{"Ed25519 PEM", pemOf("PUBLIC KEY", mustSPKI(t, edPub)), devicekey.ErrUnsupportedAlgorithm},
		{"X25519", b64(mustSPKI(t, x25519.PublicKey())), devicekey.ErrUnsupportedAlgorithm},
		{"DSA", b64(buildSPKI(t, oidDSA, dsaParams, mustMarshal(t, big.NewInt(5)))), devicekey.ErrUnsupportedAlgorithm},
		{"RSASSA-PSS key", b64(buildSPKI(t, oidRSAPSS, noParams, rsaPKCS1)), devicekey.ErrUnsupportedAlgorithm},
		{"unknown OID", b64(buildSPKI(t, oidUnknownAlgo, nullParams, rsaPKCS1)), devicekey.ErrUnsupportedAlgorithm},
		{"P-256 OID as algorithm", b64(buildSPKI(t, oidP256, noParams, point)), devicekey.ErrUnsupportedAlgorithm},

		// Points.
		{"point not on curve", b64(offCurve), devicekey.ErrMalformed},
		{"point not on curve SPKI", b64(buildSPKI(t, oidEC, oidParams(t, oidP256), offCurve)), devicekey.ErrMalformed},
		{"point zero", b64(zeroPoint), devicekey.ErrMalformed},
		{"point X >= p", b64(bigX), devicekey.ErrMalformed},
		{"point at infinity", b64([]byte{0x00}), devicekey.ErrMalformed},
		{"compressed point", b64(compressed), devicekey.ErrMalformed},
		{"compressed point SPKI", b64(buildSPKI(t, oidEC, oidParams(t, oidP256), compressed)), devicekey.ErrMalformed},
		{"raw point with trailing byte", b64(append(bytes.Clone(point), 0)), devicekey.ErrMalformed},
		{"raw point truncated", b64(point[:64]), devicekey.ErrMalformed},
		{"raw point in PEM", pemOf("PUBLIC KEY", point), devicekey.ErrMalformed},

		// DER structure.
		{"SPKI trailing byte", b64(append(bytes.Clone(rsaSPKI), 0x00)), devicekey.ErrMalformed},
		{"SPKI trailing DER", b64(append(bytes.Clone(ecSPKI), ecSPKI...)), devicekey.ErrMalformed},
		{"PKCS1 trailing byte", b64(append(bytes.Clone(rsaPKCS1), 0x05, 0x00)), devicekey.ErrMalformed},
		{"PEM SPKI trailing byte", pemOf("PUBLIC KEY", append(bytes.Clone(rsaSPKI), 0x00)), devicekey.ErrMalformed},
		{"trailing data inside BIT STRING", b64(innerTrailing), devicekey.ErrMalformed},
		{"SPKI truncated by 1", b64(rsaSPKI[:len(rsaSPKI)-1]), devicekey.ErrMalformed},
		{"SPKI truncated half", b64(rsaSPKI[:len(rsaSPKI)/2]), devicekey.ErrMalformed},
		{"SPKI header only", b64(ecSPKI[:4]), devicekey.ErrMalformed},
		{"EC SPKI truncated", b64(ecSPKI[:len(ecSPKI)-1]), devicekey.ErrMalformed},
		{"PKCS1 truncated", b64(rsaPKCS1[:len(rsaPKCS1)-3]), devicekey.ErrMalformed},
		{"non-minimal DER length", b64(nonMinimal), devicekey.ErrMalformed},
		{"indefinite length", b64(append([]byte{0x30, 0x80}, ecSPKI[2:]...)), devicekey.ErrMalformed},
		{"empty SEQUENCE", b64([]byte{0x30, 0x00}), devicekey.ErrMalformed},
		{"not DER", b64([]byte("hello, world")), devicekey.ErrMalformed},
		{"single byte", b64([]byte{0x30}), devicekey.ErrMalformed},

		// Text encoding.
		{"empty", "", devicekey.ErrMalformed},
		{"whitespace only", " \r\n\t ", devicekey.ErrMalformed},
		{"bad base64 characters", "MIIB!IjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", devicekey.ErrMalformed},
		{"mixed base64 alphabets", "ab+c-d__", devicekey.ErrMalformed},
		{"bad padding", "MFkwEw=", devicekey.ErrMalformed},
		{"padding in the middle", "MF==kwEw", devicekey.ErrMalformed},
		{"non-canonical base64", "AB==", devicekey.ErrMalformed},
		{"non-ASCII", "MFkw\u00e9EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE", devicekey.ErrMalformed},
		{"NUL", "MFkw\x00EwYH", devicekey.ErrMalformed},
		{"PEM certificate", pemOf("CERTIFICATE", rsaSPKI), devicekey.ErrMalformed},
		{"PEM private key type", pemOf("PRIVATE KEY", rsaSPKI), devicekey.ErrMalformed},
		{"PEM two blocks", pemOf("PUBLIC KEY", rsaSPKI) + pemOf("PUBLIC KEY", ecSPKI), devicekey.ErrMalformed},
		{"PEM trailing junk", pemOf("PUBLIC KEY", rsaSPKI) + "junk", devicekey.ErrMalformed},
		{"PEM leading junk", "junk\n" + pemOf("PUBLIC KEY", rsaSPKI), devicekey.ErrMalformed},
		{"PEM headers", "-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\n\n" + wrap(b64(ecSPKI), 64, "\n") + "\n-----END PUBLIC KEY-----\n", devicekey.ErrMalformed},
		{"PEM missing END", "-----BEGIN PUBLIC KEY-----\n" + b64(ecSPKI) + "\n", devicekey.ErrMalformed},
		{"PEM mismatched END", "-----BEGIN PUBLIC KEY-----\n" + b64(ecSPKI) + "\n-----END RSA PUBLIC KEY-----\n", devicekey.ErrMalformed},
		{"PEM empty", "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n", devicekey.ErrMalformed},
		{"dashes only", "-----", devicekey.ErrMalformed},
		{"oversized", strings.Repeat("A", devicekey.MaxEncodedKeyLen+1), devicekey.ErrTooLarge},
		{"oversized by whitespace", b64(ecSPKI) + strings.Repeat(" ", devicekey.MaxEncodedKeyLen), devicekey.ErrTooLarge},
		{"huge", strings.Repeat("QUFB", 1<<20), devicekey.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pk, err := devicekey.ParsePublicKey(tc.input)
			if pk != nil {
				t.Errorf("got a key with the error")
			}
			assertSentinel(t, err, tc.want)
			t.Logf("%v", err)
		})
	}
}

func TestParseSPKI(t *testing.T) {
	k := testKeys(t)
	rsaSPKI := mustSPKI(t, &k.rsa2048.PublicKey)
	ecSPKI := mustSPKI(t, &k.p256.PublicKey)
	for _, tc := range []struct {
		der  []byte
		alg  devicekey.Algorithm
		bits int
	}{
		{rsaSPKI, devicekey.RSA, 2048},
		{mustSPKI(t, &rsa4096(t).PublicKey), devicekey.RSA, 4096},
		{ecSPKI, devicekey.ECDSAP256, 256},
	} {
		pk, err := devicekey.ParseSPKI(tc.der)
		if err != nil {
			t.Fatalf("ParseSPKI: %v", err)
		}
		checkKey(t, pk, tc.alg, tc.bits, tc.der)
	}

	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		der  []byte
		want error
	}{
		{"nil", nil, devicekey.ErrMalformed},
		{"PKCS1", x509.MarshalPKCS1PublicKey(&k.rsa2048.PublicKey), devicekey.ErrMalformed},
		{"raw point", rawPoint(t, &k.p256.PublicKey), devicekey.ErrMalformed},
		{"base64 text", []byte(b64(rsaSPKI)), devicekey.ErrMalformed},
		{"trailing byte", append(bytes.Clone(ecSPKI), 0), devicekey.ErrMalformed},
		{"truncated", ecSPKI[:len(ecSPKI)-1], devicekey.ErrMalformed},
		{"P-384", mustSPKI(t, &p384.PublicKey), devicekey.ErrUnsupportedAlgorithm},
		{"RSA e=3", buildRSASPKI(t, k.rsa2048.N, 3), devicekey.ErrWeakKey},
		{"too long", make([]byte, devicekey.MaxDERLen+1), devicekey.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pk, err := devicekey.ParseSPKI(tc.der)
			if pk != nil {
				t.Errorf("got a key with the error")
			}
			assertSentinel(t, err, tc.want)
		})
	}
}
