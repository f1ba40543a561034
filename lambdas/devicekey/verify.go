package devicekey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
)

// Verify checks that signatureB64 is a valid signature of message by k.
// message is hashed with SHA-256 here; pass the exact bytes the device
// signed (normally the string returned by [Message]).
//
// signatureB64 is base64 in the standard or URL-safe alphabet, padded or
// not, with ASCII whitespace ignored (the same rules as [ParsePublicKey]),
// and at most [MaxEncodedSignatureLen] bytes long. The decoded signature is:
//
//   - for [RSA] keys: an RSASSA-PKCS1-v1_5 SHA-256 signature exactly as long
//     as the modulus (RSASSA-PSS and other hashes are not accepted);
//   - for [ECDSAP256] keys: an ECDSA SHA-256 signature, either ASN.1 DER
//     (SEQUENCE of r and s, as Android and iOS SecKeyCreateSignature
//     produce) or 64 bytes raw r||s (big-endian, 32 bytes each, as WebCrypto
//     and some iOS libraries produce). r and s must be in [1, N-1]. As with
//     any ECDSA verifier, (r, N-s) verifies whenever (r, s) does, so a
//     signature's bytes are not unique: replay protection must come from
//     single-use nonces.
//
// Verify returns nil if the signature is valid. Otherwise it returns an
// error wrapping [ErrBadSignature], whether the signature is malformed,
// too long, or does not match (wrong message, nonce or key). It also returns
// such an error for a nil or zero PublicKey.
func (k *PublicKey) Verify(message []byte, signatureB64 string) error {
	if k == nil || (k.rsa == nil && k.ec == nil) {
		return fmt.Errorf("%w: uninitialized public key", ErrBadSignature)
	}
	if len(signatureB64) > MaxEncodedSignatureLen {
		return fmt.Errorf("%w: encoded signature is %d bytes, the limit is %d", ErrBadSignature, len(signatureB64), MaxEncodedSignatureLen)
	}
	sig, err := decodeBase64(signatureB64)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	digest := sha256.Sum256(message)
	switch {
	case k.alg == RSA && k.rsa != nil:
		if want := (k.bits + 7) / 8; len(sig) != want {
			return fmt.Errorf("%w: RSA signature must be %d bytes, got %d", ErrBadSignature, want, len(sig))
		}
		if rsa.VerifyPKCS1v15(k.rsa, crypto.SHA256, digest[:], sig) != nil {
			return errMismatch
		}
		return nil
	case k.alg == ECDSAP256 && k.ec != nil:
		return verifyP256(k.ec, digest[:], sig)
	}
	return fmt.Errorf("%w: uninitialized public key", ErrBadSignature)
}

var errMismatch = fmt.Errorf("%w: signature does not verify", ErrBadSignature)

// verifyP256 verifies a DER or raw r||s ECDSA signature of digest.
func verifyP256(pub *ecdsa.PublicKey, digest, sig []byte) error {
	isDER := isDERSignature(sig)
	if len(sig) == 64 {
		var buf [2 + 2*(2+33)]byte
		if ecdsa.VerifyASN1(pub, digest, rawToDER(buf[:0], sig[:32], sig[32:])) {
			return nil
		}
		// A DER signature can be 64 bytes long too (rarely); try it as such.
		if isDER && ecdsa.VerifyASN1(pub, digest, sig) {
			return nil
		}
		return errMismatch
	}
	if !isDER {
		return fmt.Errorf("%w: ECDSA signature must be ASN.1 DER or 64 bytes raw r||s, got %d bytes", ErrBadSignature, len(sig))
	}
	if !ecdsa.VerifyASN1(pub, digest, sig) {
		return errMismatch
	}
	return nil
}

// isDERSignature reports whether sig is structurally a DER ECDSA-Sig-Value
// (SEQUENCE of two INTEGERs, nothing after) with P-256 sized integers.
func isDERSignature(sig []byte) bool {
	c, rest, ok := readElement(sig, tagSequence)
	if !ok || len(rest) != 0 {
		return false
	}
	r, c, ok := readElement(c, tagInteger)
	if !ok || len(r) == 0 || len(r) > 33 {
		return false
	}
	s, c, ok := readElement(c, tagInteger)
	return ok && len(s) > 0 && len(s) <= 33 && len(c) == 0
}

// rawToDER appends to dst the DER ECDSA-Sig-Value for the big-endian
// unsigned integers r and s (each at most 32 bytes).
func rawToDER(dst, r, s []byte) []byte {
	r, s = trimInt(r), trimInt(s)
	n := intLen(r) + intLen(s)
	dst = append(dst, tagSequence, byte(n))
	dst = appendInt(dst, r)
	return appendInt(dst, s)
}

func trimInt(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

func intLen(b []byte) int {
	if b[0]&0x80 != 0 {
		return 3 + len(b)
	}
	return 2 + len(b)
}

func appendInt(dst, b []byte) []byte {
	if b[0]&0x80 != 0 {
		return append(append(dst, tagInteger, byte(len(b)+1), 0), b...)
	}
	return append(append(dst, tagInteger, byte(len(b))), b...)
}
