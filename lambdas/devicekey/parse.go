package devicekey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"strings"
)

// ParsePublicKey parses and validates a public key uploaded by a device.
//
// The input is limited to [MaxEncodedKeyLen] bytes (checked first) and may
// be surrounded by, and contain, ASCII whitespace (space, tab, CR, LF, VT,
// FF), so base64 wrapped at 64 or 76 columns is fine. It is either:
//
//   - base64 of the key bytes, in the standard alphabet ("+/") or the
//     URL-safe alphabet ("-_"), with or without "=" padding. Mixing the two
//     alphabets is rejected, as are non-canonical encodings (non-zero
//     padding bits) and wrong padding; or
//   - a single PEM block of type "PUBLIC KEY" or "RSA PUBLIC KEY" with no
//     PEM headers and nothing but whitespace around it. The block type is
//     not used to pick the format: the DER content is detected as below
//     (a mislabelled PKCS#1 key in a "PUBLIC KEY" block is accepted), except
//     that a raw EC point is not accepted inside PEM.
//
// The decoded bytes (at most [MaxDERLen]) must be exactly one of, with no
// trailing bytes:
//
//   - a DER SubjectPublicKeyInfo (X.509 / PKIX) holding an rsaEncryption key
//     (NULL parameters) or an id-ecPublicKey key on the named curve P-256
//     (uncompressed point), as react-native-biometrics returns on iOS and
//     Android;
//   - a DER PKCS#1 RSAPublicKey (SEQUENCE of modulus and exponent), as some
//     iOS libraries export;
//   - a 65-byte uncompressed P-256 point 0x04||X||Y, as some iOS libraries
//     export.
//
// RSA keys must have a modulus of [MinRSABits] to [MaxRSABits] bits and
// public exponent [RSAExponent]. EC points must be on the P-256 curve.
//
// Errors wrap [ErrTooLarge], [ErrMalformed], [ErrUnsupportedAlgorithm] or
// [ErrWeakKey]; see their documentation.
func ParsePublicKey(encoded string) (*PublicKey, error) {
	if len(encoded) > MaxEncodedKeyLen {
		return nil, fmt.Errorf("%w: encoded key is %d bytes, the limit is %d", ErrTooLarge, len(encoded), MaxEncodedKeyLen)
	}
	s := strings.Trim(encoded, asciiSpace)
	if s == "" {
		return nil, fmt.Errorf("%w: empty input", ErrMalformed)
	}
	if strings.HasPrefix(s, "-----") {
		der, err := decodePEM(s)
		if err != nil {
			return nil, err
		}
		return parseDER(der, true)
	}
	raw, err := decodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return parseBinary(raw)
}

// ParseSPKI parses a DER SubjectPublicKeyInfo, typically one previously
// returned by [PublicKey.SPKI] and read back from storage. It applies the
// same validation as [ParsePublicKey] but accepts only SubjectPublicKeyInfo
// (no base64, PEM, PKCS#1 or raw point), at most [MaxDERLen] bytes, with no
// trailing bytes. Errors wrap [ErrTooLarge], [ErrMalformed],
// [ErrUnsupportedAlgorithm] or [ErrWeakKey].
func ParseSPKI(der []byte) (*PublicKey, error) {
	if len(der) > MaxDERLen {
		return nil, fmt.Errorf("%w: DER key is %d bytes, the limit is %d", ErrTooLarge, len(der), MaxDERLen)
	}
	if len(der) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrMalformed)
	}
	return parseDER(der, false)
}

// asciiSpace lists the whitespace tolerated around and inside encodings.
const asciiSpace = " \t\r\n\v\f"

var (
	b64Std        = base64.StdEncoding.Strict()
	b64StdRaw     = base64.RawStdEncoding.Strict()
	b64URL        = base64.URLEncoding.Strict()
	b64URLRaw     = base64.RawURLEncoding.Strict()
	errEmptyB64   = errors.New("empty input")
	errMixedB64   = errors.New("base64 mixes the standard ('+', '/') and URL-safe ('-', '_') alphabets")
	errInvalidB64 = errors.New("invalid base64")
)

// decodeBase64 decodes standard or URL-safe base64, padded or not, ignoring
// ASCII whitespace anywhere. The caller bounds len(s).
func decodeBase64(s string) ([]byte, error) {
	buf := make([]byte, 0, len(s))
	var std, url, pad bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ' ', '\t', '\r', '\n', '\v', '\f':
			continue
		case '+', '/':
			std = true
		case '-', '_':
			url = true
		case '=':
			pad = true
		}
		buf = append(buf, c)
	}
	if len(buf) == 0 {
		return nil, errEmptyB64
	}
	if std && url {
		return nil, errMixedB64
	}
	var enc *base64.Encoding
	switch {
	case url && pad:
		enc = b64URL
	case url:
		enc = b64URLRaw
	case pad:
		enc = b64Std
	default:
		enc = b64StdRaw
	}
	out := make([]byte, enc.DecodedLen(len(buf)))
	n, err := enc.Decode(out, buf)
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("%w at offset %d (whitespace removed)", errInvalidB64, int64(ce))
		}
		return nil, errInvalidB64
	}
	return out[:n], nil
}

// decodePEM decodes a single PEM "PUBLIC KEY" or "RSA PUBLIC KEY" block that
// makes up all of s (s is already trimmed and starts with "-----").
func decodePEM(s string) ([]byte, error) {
	if !strings.HasPrefix(s, "-----BEGIN ") || strings.Count(s, "-----BEGIN") != 1 {
		return nil, fmt.Errorf("%w: input must be base64 or a single PEM block", ErrMalformed)
	}
	block, rest := pem.Decode([]byte(s))
	if block == nil {
		return nil, fmt.Errorf("%w: invalid PEM block", ErrMalformed)
	}
	if strings.Trim(string(rest), asciiSpace) != "" {
		return nil, fmt.Errorf("%w: unexpected data after the PEM block", ErrMalformed)
	}
	if len(block.Headers) != 0 {
		return nil, fmt.Errorf("%w: PEM headers are not allowed", ErrMalformed)
	}
	if block.Type != "PUBLIC KEY" && block.Type != "RSA PUBLIC KEY" {
		return nil, fmt.Errorf("%w: PEM block type %q is not accepted, want \"PUBLIC KEY\" or \"RSA PUBLIC KEY\"", ErrMalformed, block.Type)
	}
	if len(block.Bytes) == 0 {
		return nil, fmt.Errorf("%w: empty PEM block", ErrMalformed)
	}
	return block.Bytes, nil
}

// parseBinary dispatches decoded key bytes on their first byte.
func parseBinary(b []byte) (*PublicKey, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrMalformed)
	}
	if len(b) > MaxDERLen {
		return nil, fmt.Errorf("%w: decoded key is %d bytes, the limit is %d", ErrTooLarge, len(b), MaxDERLen)
	}
	switch b[0] {
	case tagSequence:
		return parseDER(b, true)
	case 0x04:
		return parseRawPoint(b)
	case 0x02, 0x03:
		if len(b) == 33 {
			return nil, errCompressed
		}
	}
	return nil, fmt.Errorf("%w: unrecognised key encoding, want DER SubjectPublicKeyInfo, DER PKCS#1 RSAPublicKey or an uncompressed P-256 point", ErrMalformed)
}

var errCompressed = fmt.Errorf("%w: compressed EC points are not supported, send the 65-byte uncompressed point or a SubjectPublicKeyInfo", ErrMalformed)

// parseRawPoint parses a bare uncompressed EC point (b[0] == 0x04).
func parseRawPoint(b []byte) (*PublicKey, error) {
	switch len(b) {
	case 65:
		return parseP256Point(b)
	case 57:
		return nil, fmt.Errorf("%w: raw P-224 points are not supported, only P-256", ErrUnsupportedAlgorithm)
	case 97:
		return nil, fmt.Errorf("%w: raw P-384 points are not supported, only P-256", ErrUnsupportedAlgorithm)
	case 133:
		return nil, fmt.Errorf("%w: raw P-521 points are not supported, only P-256", ErrUnsupportedAlgorithm)
	}
	return nil, fmt.Errorf("%w: a raw P-256 point must be 65 bytes (0x04||X||Y), got %d", ErrMalformed, len(b))
}

// parseDER parses a DER SubjectPublicKeyInfo, or, if allowPKCS1, a DER
// PKCS#1 RSAPublicKey. b must be exactly one DER element.
func parseDER(b []byte, allowPKCS1 bool) (*PublicKey, error) {
	content, rest, ok := readElement(b, tagSequence)
	if !ok {
		return nil, fmt.Errorf("%w: invalid or truncated DER, want a SEQUENCE", ErrMalformed)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: trailing data after the DER structure (%d bytes)", ErrMalformed, len(rest))
	}
	if len(content) > 0 {
		switch content[0] {
		case tagSequence:
			return parseSPKIContent(content)
		case tagInteger:
			if allowPKCS1 {
				return parseRSAPublicKey(content)
			}
			return nil, fmt.Errorf("%w: want a SubjectPublicKeyInfo, got what looks like a PKCS#1 RSAPublicKey", ErrMalformed)
		}
	}
	if allowPKCS1 {
		return nil, fmt.Errorf("%w: DER is neither a SubjectPublicKeyInfo nor a PKCS#1 RSAPublicKey", ErrMalformed)
	}
	return nil, fmt.Errorf("%w: DER is not a SubjectPublicKeyInfo", ErrMalformed)
}

// parseSPKIContent parses the content of a SubjectPublicKeyInfo SEQUENCE:
//
//	SubjectPublicKeyInfo ::= SEQUENCE {
//	    algorithm        AlgorithmIdentifier,
//	    subjectPublicKey BIT STRING }
//	AlgorithmIdentifier ::= SEQUENCE {
//	    algorithm  OBJECT IDENTIFIER,
//	    parameters ANY DEFINED BY algorithm OPTIONAL }
func parseSPKIContent(c []byte) (*PublicKey, error) {
	algo, c, ok := readElement(c, tagSequence)
	if !ok {
		return nil, fmt.Errorf("%w: invalid SubjectPublicKeyInfo algorithm identifier", ErrMalformed)
	}
	bitString, c, ok := readElement(c, tagBitString)
	if !ok {
		return nil, fmt.Errorf("%w: invalid SubjectPublicKeyInfo public key BIT STRING", ErrMalformed)
	}
	if len(c) != 0 {
		return nil, fmt.Errorf("%w: unexpected data inside SubjectPublicKeyInfo", ErrMalformed)
	}

	tag, oid, oidFull, params, ok := readTLV(algo)
	if !ok || tag != tagOID || len(oid) == 0 {
		return nil, fmt.Errorf("%w: invalid algorithm OBJECT IDENTIFIER", ErrMalformed)
	}
	var (
		hasParams bool
		paramTag  byte
		param     []byte
	)
	if len(params) > 0 {
		var rest []byte
		paramTag, param, _, rest, ok = readTLV(params)
		if !ok || len(rest) != 0 {
			return nil, fmt.Errorf("%w: invalid algorithm parameters", ErrMalformed)
		}
		hasParams = true
	}

	switch string(oid) {
	case oidRSAEncryption:
		if !hasParams || paramTag != tagNull || len(param) != 0 {
			return nil, fmt.Errorf("%w: rsaEncryption parameters must be NULL", ErrMalformed)
		}
		key, ok := bitStringBytes(bitString)
		if !ok {
			return nil, fmt.Errorf("%w: public key BIT STRING is not byte aligned", ErrMalformed)
		}
		inner, rest, ok := readElement(key, tagSequence)
		if !ok {
			return nil, fmt.Errorf("%w: invalid or truncated PKCS#1 RSAPublicKey", ErrMalformed)
		}
		if len(rest) != 0 {
			return nil, fmt.Errorf("%w: trailing data after the PKCS#1 RSAPublicKey (%d bytes)", ErrMalformed, len(rest))
		}
		return parseRSAPublicKey(inner)

	case oidECPublicKey:
		if !hasParams {
			return nil, fmt.Errorf("%w: id-ecPublicKey without curve parameters", ErrMalformed)
		}
		switch paramTag {
		case tagOID:
			if string(param) != oidP256 {
				_, _, curveFull, _, _ := readTLV(params)
				return nil, fmt.Errorf("%w: EC curve %s, only P-256 is supported", ErrUnsupportedAlgorithm, describeOID(param, curveFull))
			}
		case tagSequence:
			return nil, fmt.Errorf("%w: explicit EC curve parameters, only the named curve P-256 is supported", ErrUnsupportedAlgorithm)
		default:
			return nil, fmt.Errorf("%w: invalid id-ecPublicKey parameters, want a named curve", ErrMalformed)
		}
		key, ok := bitStringBytes(bitString)
		if !ok {
			return nil, fmt.Errorf("%w: public key BIT STRING is not byte aligned", ErrMalformed)
		}
		return parseP256Point(key)
	}
	return nil, fmt.Errorf("%w: %s, only RSA and EC P-256 keys are supported", ErrUnsupportedAlgorithm, describeOID(oid, oidFull))
}

// parseRSAPublicKey parses the content of a PKCS#1 RSAPublicKey SEQUENCE:
//
//	RSAPublicKey ::= SEQUENCE {
//	    modulus         INTEGER,
//	    publicExponent  INTEGER }
func parseRSAPublicKey(c []byte) (*PublicKey, error) {
	nBytes, c, ok := readElement(c, tagInteger)
	if !ok {
		return nil, fmt.Errorf("%w: invalid RSA modulus", ErrMalformed)
	}
	eBytes, c, ok := readElement(c, tagInteger)
	if !ok {
		return nil, fmt.Errorf("%w: invalid RSA public exponent", ErrMalformed)
	}
	if len(c) != 0 {
		return nil, fmt.Errorf("%w: unexpected data inside PKCS#1 RSAPublicKey", ErrMalformed)
	}
	n, ok := positiveInteger(nBytes)
	if !ok {
		return nil, fmt.Errorf("%w: RSA modulus must be a positive, minimally encoded INTEGER", ErrMalformed)
	}
	e, ok := positiveInteger(eBytes)
	if !ok {
		return nil, fmt.Errorf("%w: RSA public exponent must be a positive, minimally encoded INTEGER", ErrMalformed)
	}
	nBits := (len(n)-1)*8 + bits.Len8(n[0])
	if nBits < MinRSABits {
		return nil, fmt.Errorf("%w: RSA modulus is %d bits, the minimum is %d", ErrWeakKey, nBits, MinRSABits)
	}
	if nBits > MaxRSABits {
		return nil, fmt.Errorf("%w: RSA modulus is %d bits, the maximum is %d", ErrTooLarge, nBits, MaxRSABits)
	}
	if len(e) != 3 || e[0] != 0x01 || e[1] != 0x00 || e[2] != 0x01 {
		return nil, fmt.Errorf("%w: RSA public exponent must be %d", ErrWeakKey, RSAExponent)
	}
	if n[len(n)-1]&1 == 0 {
		return nil, fmt.Errorf("%w: RSA modulus is even", ErrMalformed)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: RSAExponent}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return newPublicKey(RSA, nBits, pub, nil, spki), nil
}

// parseP256Point parses an uncompressed P-256 point and checks that it is on
// the curve.
func parseP256Point(p []byte) (*PublicKey, error) {
	if len(p) == 33 && (p[0] == 0x02 || p[0] == 0x03) {
		return nil, errCompressed
	}
	if len(p) != 65 || p[0] != 0x04 {
		return nil, fmt.Errorf("%w: P-256 public key must be a 65-byte uncompressed point", ErrMalformed)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), p)
	if err != nil {
		return nil, fmt.Errorf("%w: point is not a valid P-256 public key (not on the curve)", ErrMalformed)
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return newPublicKey(ECDSAP256, 256, nil, pub, spki), nil
}

func newPublicKey(alg Algorithm, nBits int, r *rsa.PublicKey, e *ecdsa.PublicKey, spki []byte) *PublicKey {
	sum := sha256.Sum256(spki)
	return &PublicKey{
		alg:         alg,
		bits:        nBits,
		rsa:         r,
		ec:          e,
		spki:        spki,
		fingerprint: base64.RawURLEncoding.EncodeToString(sum[:]),
	}
}
