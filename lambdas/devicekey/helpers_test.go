package devicekey_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/devicekey"
)

// Keys are generated once per test binary (per fuzz worker process).
type testKeySet struct {
	rsa2048, rsa2048b *rsa.PrivateKey
	p256, p256b       *ecdsa.PrivateKey
}

var (
	keysOnce sync.Once
	keys     testKeySet
	keysErr  error

	rsa4096Once sync.Once
	rsa4096Key  *rsa.PrivateKey
	rsa4096Err  error
)

func testKeys(tb testing.TB) *testKeySet {
	tb.Helper()
	keysOnce.Do(func() {
		if keys.rsa2048, keysErr = rsa.GenerateKey(rand.Reader, 2048); keysErr != nil {
			return
		}
		if keys.rsa2048b, keysErr = rsa.GenerateKey(rand.Reader, 2048); keysErr != nil {
			return
		}
		if keys.p256, keysErr = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); keysErr != nil {
			return
		}
		keys.p256b, keysErr = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	})
	if keysErr != nil {
		tb.Fatalf("generating test keys: %v", keysErr)
	}
	return &keys
}

// encodings returns the four DER forms ParsePublicKey accepts, of k's first keys: the RSA key as
// SPKI and as PKCS #1, the P-256 key as SPKI and as a raw uncompressed point.
func encodings(tb testing.TB, k *testKeySet) (rsaSPKI, rsaPKCS1, ecSPKI, point []byte) {
	tb.Helper()
	return mustSPKI(tb, &k.rsa2048.PublicKey), x509.MarshalPKCS1PublicKey(&k.rsa2048.PublicKey),
		mustSPKI(tb, &k.p256.PublicKey), rawPoint(tb, &k.p256.PublicKey)
}

// rsa4096 generates the (slow) 4096-bit key once per test binary.
func rsa4096(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	rsa4096Once.Do(func() {
		rsa4096Key, rsa4096Err = rsa.GenerateKey(rand.Reader, 4096)
	})
	if rsa4096Err != nil {
		tb.Fatalf("generating RSA 4096 key: %v", rsa4096Err)
	}
	return rsa4096Key
}

var allSentinels = []error{
	devicekey.ErrMalformed,
	devicekey.ErrUnsupportedAlgorithm,
	devicekey.ErrWeakKey,
	devicekey.ErrTooLarge,
	devicekey.ErrBadSignature,
	devicekey.ErrInvalidMessage,
}

// sentinelOf returns the single sentinel err wraps, or nil if it wraps none
// or more than one.
func sentinelOf(err error) error {
	var found error
	for _, s := range allSentinels {
		if errors.Is(err, s) {
			if found != nil {
				return nil
			}
			found = s
		}
	}
	return found
}

func assertSentinel(tb testing.TB, err, want error) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got nil error, want %v", want)
	}
	if got := sentinelOf(err); got != want {
		tb.Fatalf("error %q wraps %v, want exactly %v", err, got, want)
	}
}

// --- encodings ---

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// mustParse is ParsePublicKey(enc) for a key the test knows to be good.
func mustParse(tb testing.TB, enc string) *devicekey.PublicKey {
	tb.Helper()
	pk, err := devicekey.ParsePublicKey(enc)
	if err != nil {
		tb.Fatalf("ParsePublicKey: %v", err)
	}
	return pk
}

func mustSPKI(tb testing.TB, pub crypto.PublicKey) []byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatalf("MarshalPKIXPublicKey: %v", err)
	}
	return der
}

func rawPoint(tb testing.TB, pub *ecdsa.PublicKey) []byte {
	tb.Helper()
	p, err := pub.Bytes()
	if err != nil {
		tb.Fatalf("ecdsa Bytes: %v", err)
	}
	return p
}

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// wrap breaks s into lines of n characters joined by sep.
func wrap(s string, n int, sep string) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n])
		b.WriteString(sep)
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

var (
	oidRSA         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSAPSS      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidEC          = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidDSA         = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}
	oidP256        = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidSecp256k1   = asn1.ObjectIdentifier{1, 3, 132, 0, 10}
	oidUnknownAlgo = asn1.ObjectIdentifier{1, 2, 3, 4, 5}
	nullParams     = asn1.NullRawValue
	noParams       = asn1.RawValue{}
)

type pkcs1Key struct {
	N *big.Int
	E *big.Int
}

type spkiStruct struct {
	Algo pkix.AlgorithmIdentifier
	Key  asn1.BitString
}

func mustMarshal(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		tb.Fatalf("asn1.Marshal: %v", err)
	}
	return b
}

// buildSPKI assembles a SubjectPublicKeyInfo by hand, without the checks
// crypto/x509 would apply.
func buildSPKI(tb testing.TB, oid asn1.ObjectIdentifier, params asn1.RawValue, key []byte) []byte {
	tb.Helper()
	return mustMarshal(tb, spkiStruct{
		Algo: pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: params},
		Key:  asn1.BitString{Bytes: key, BitLength: 8 * len(key)},
	})
}

func buildPKCS1(tb testing.TB, n *big.Int, e int64) []byte {
	tb.Helper()
	return mustMarshal(tb, pkcs1Key{N: n, E: big.NewInt(e)})
}

func buildRSASPKI(tb testing.TB, n *big.Int, e int64) []byte {
	tb.Helper()
	return buildSPKI(tb, oidRSA, nullParams, buildPKCS1(tb, n, e))
}

func oidParams(tb testing.TB, oid asn1.ObjectIdentifier) asn1.RawValue {
	tb.Helper()
	return asn1.RawValue{FullBytes: mustMarshal(tb, oid)}
}

// randomModulus returns a random odd integer of exactly bits bits. It is not
// an RSA modulus, but the parser rejects its size before looking further.
func randomModulus(tb testing.TB, bits int) *big.Int {
	tb.Helper()
	buf := make([]byte, (bits+7)/8)
	if _, err := rand.Read(buf); err != nil {
		tb.Fatal(err)
	}
	n := new(big.Int).SetBytes(buf)
	n.SetBit(n, bits-1, 1)
	n.SetBit(n, 0, 1)
	for i := n.BitLen() - 1; i >= bits; i-- {
		n.SetBit(n, i, 0)
	}
	return n
}

// --- signatures ---

func signRSA(tb testing.TB, k *rsa.PrivateKey, msg []byte) []byte {
	tb.Helper()
	h := sha256.Sum256(msg)
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
	if err != nil {
		tb.Fatalf("SignPKCS1v15: %v", err)
	}
	return sig
}

func signECDER(tb testing.TB, k *ecdsa.PrivateKey, msg []byte) []byte {
	tb.Helper()
	h := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, k, h[:])
	if err != nil {
		tb.Fatalf("SignASN1: %v", err)
	}
	return sig
}

type ecSig struct{ R, S *big.Int }

func parseECDER(tb testing.TB, der []byte) (r, s *big.Int) {
	tb.Helper()
	var v ecSig
	if rest, err := asn1.Unmarshal(der, &v); err != nil || len(rest) != 0 {
		tb.Fatalf("parsing ECDSA signature: %v", err)
	}
	return v.R, v.S
}

// rawRS encodes r and s as 64 bytes r||s. Values must fit in 32 bytes.
func rawRS(r, s *big.Int) []byte {
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out
}

func derRS(tb testing.TB, r, s *big.Int) []byte {
	tb.Helper()
	return mustMarshal(tb, ecSig{R: r, S: s})
}

func signECRaw(tb testing.TB, k *ecdsa.PrivateKey, msg []byte) []byte {
	tb.Helper()
	r, s := parseECDER(tb, signECDER(tb, k, msg))
	return rawRS(r, s)
}
