// Package devicekey parses, stores and verifies the public keys that mobile
// devices register for passwordless "device key" sign-in (FaceID / TouchID
// backed key pairs such as the ones created by react-native-biometrics).
//
// The flow is:
//
//  1. Registration: the app uploads its public key. The server calls
//     [ParsePublicKey], then stores [PublicKey.SPKI] (canonical DER) and
//     [PublicKey.Fingerprint] (to detect the same key registered twice).
//  2. Sign-in: the server issues a nonce, builds the bytes to sign with
//     [Message], the device signs them, and the server loads the stored key
//     with [ParseSPKI] and checks the signature with [PublicKey.Verify].
//
// Only two key types are accepted: RSA (2048 to 4096 bit modulus, public
// exponent 65537) used with RSASSA-PKCS1-v1_5 / SHA-256, and ECDSA on NIST
// P-256 used with SHA-256. Everything else is rejected.
//
// Every error returned by this package wraps exactly one of the exported
// sentinel errors ([ErrMalformed], [ErrUnsupportedAlgorithm], [ErrWeakKey],
// [ErrTooLarge], [ErrBadSignature], [ErrInvalidMessage]), so an HTTP handler
// can map them to a 400 response with a stable error code using [errors.Is].
// No function in this package panics, whatever its input.
//
// The package uses only the Go standard library.
package devicekey

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
)

// Algorithm names the signature scheme a [PublicKey] is used with.
type Algorithm string

const (
	// RSA is RSASSA-PKCS1-v1_5 with SHA-256 over an RSA key with a
	// 2048..4096 bit modulus and public exponent 65537.
	RSA Algorithm = "RSA_PKCS1_SHA256"
	// ECDSAP256 is ECDSA over NIST P-256 (secp256r1, prime256v1) with SHA-256.
	ECDSAP256 Algorithm = "ECDSA_P256_SHA256"
)

// Limits enforced by this package.
const (
	// MaxEncodedKeyLen is the maximum length, in bytes, of the string passed
	// to [ParsePublicKey], including any whitespace and PEM armour. It is
	// checked before anything is decoded. A PEM-armoured 4096-bit RSA key is
	// about 800 bytes.
	MaxEncodedKeyLen = 2048
	// MaxDERLen is the maximum length, in bytes, of a DER key (the input of
	// [ParseSPKI], or the decoded form of the input of [ParsePublicKey]).
	// A 4096-bit RSA SubjectPublicKeyInfo is 550 bytes.
	MaxDERLen = 1536
	// MaxEncodedSignatureLen is the maximum length, in bytes, of the
	// signature string passed to [PublicKey.Verify], whitespace included.
	// A base64 4096-bit RSA signature is 684 bytes.
	MaxEncodedSignatureLen = 1024
	// MinRSABits is the smallest accepted RSA modulus size in bits.
	MinRSABits = 2048
	// MaxRSABits is the largest accepted RSA modulus size in bits.
	MaxRSABits = 4096
	// RSAExponent is the only accepted RSA public exponent.
	RSAExponent = 65537
)

// Sentinel errors. Errors returned by this package wrap exactly one of them
// (test with [errors.Is]); the wrapping error's message adds detail that is
// safe to show to the client.
var (
	// ErrMalformed reports input that cannot be decoded: empty input, bad
	// base64 or PEM, truncated or non-DER ASN.1, trailing bytes, an EC point
	// that is not on the curve, an RSA modulus that is not a valid modulus.
	ErrMalformed = errors.New("devicekey: malformed public key")
	// ErrUnsupportedAlgorithm reports a well-formed key of a type this
	// package does not accept: Ed25519, X25519, DSA, RSASSA-PSS keys, EC
	// curves other than P-256 (P-384, P-521, secp256k1, explicit
	// parameters), or an unknown algorithm identifier.
	ErrUnsupportedAlgorithm = errors.New("devicekey: unsupported key algorithm")
	// ErrWeakKey reports an RSA key whose modulus is smaller than
	// [MinRSABits] bits or whose public exponent is not [RSAExponent].
	ErrWeakKey = errors.New("devicekey: weak or non-standard key")
	// ErrTooLarge reports input longer than [MaxEncodedKeyLen] or
	// [MaxDERLen], or an RSA modulus larger than [MaxRSABits] bits.
	ErrTooLarge = errors.New("devicekey: public key too large")
	// ErrBadSignature is wrapped by every error returned by
	// [PublicKey.Verify]: the signature is malformed (bad base64, too long,
	// wrong length or encoding) or does not verify.
	ErrBadSignature = errors.New("devicekey: bad signature")
	// ErrInvalidMessage reports a [Message] field that is empty or contains
	// '|' or a byte outside printable ASCII (0x20..0x7E).
	ErrInvalidMessage = errors.New("devicekey: invalid message field")
)

// PublicKey is a validated device public key. Obtain one with
// [ParsePublicKey] or [ParseSPKI]; the zero value is not usable (its Verify
// method always fails). A PublicKey is immutable and safe for concurrent use.
type PublicKey struct {
	alg         Algorithm
	bits        int
	rsa         *rsa.PublicKey
	ec          *ecdsa.PublicKey
	spki        []byte
	fingerprint string
}

// Algorithm returns the signature scheme of the key: [RSA] or [ECDSAP256].
// It returns "" for a zero or nil PublicKey.
func (k *PublicKey) Algorithm() Algorithm {
	if k == nil {
		return ""
	}
	return k.alg
}

// Bits returns the key size in bits: the RSA modulus length (2048..4096) or
// 256 for P-256. It returns 0 for a zero or nil PublicKey.
func (k *PublicKey) Bits() int {
	if k == nil {
		return 0
	}
	return k.bits
}

// SPKI returns the canonical DER SubjectPublicKeyInfo of the key, suitable
// for storage and for [ParseSPKI]. The bytes are the same whatever encoding
// the key was parsed from (SPKI, PKCS#1, raw EC point, PEM, base64 variant).
// The returned slice is a copy and may be modified by the caller.
func (k *PublicKey) SPKI() []byte {
	if k == nil || k.spki == nil {
		return nil
	}
	return append([]byte(nil), k.spki...)
}

// Fingerprint returns the unpadded base64url encoding of the SHA-256 digest
// of [PublicKey.SPKI] (43 characters). Two PublicKeys have the same
// fingerprint exactly when they are the same key. It returns "" for a zero
// or nil PublicKey.
func (k *PublicKey) Fingerprint() string {
	if k == nil {
		return ""
	}
	return k.fingerprint
}
