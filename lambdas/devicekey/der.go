package devicekey

import (
	"encoding/asn1"
	"encoding/hex"
)

// DER tags used by this package.
const (
	tagInteger   = 0x02
	tagBitString = 0x03
	tagNull      = 0x05
	tagOID       = 0x06
	tagSequence  = 0x30
)

// readTLV reads one DER element from b. It accepts only low tag numbers and
// definite, minimally encoded lengths of at most two length bytes (the
// package caps DER input well below 64 KiB). full is the whole element
// (tag, length and content).
func readTLV(b []byte) (tag byte, content, full, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, nil, nil, false
	}
	tag = b[0]
	if tag&0x1f == 0x1f { // high-tag-number form
		return 0, nil, nil, nil, false
	}
	var length, off int
	switch l := b[1]; {
	case l < 0x80:
		length, off = int(l), 2
	case l == 0x81:
		if len(b) < 3 || b[2] < 0x80 { // must use the short form
			return 0, nil, nil, nil, false
		}
		length, off = int(b[2]), 3
	case l == 0x82:
		if len(b) < 4 || b[2] == 0 { // must use fewer length bytes
			return 0, nil, nil, nil, false
		}
		length, off = int(b[2])<<8|int(b[3]), 4
	default: // indefinite length or absurdly long
		return 0, nil, nil, nil, false
	}
	if len(b)-off < length {
		return 0, nil, nil, nil, false
	}
	end := off + length
	return tag, b[off:end], b[:end], b[end:], true
}

// readElement reads one DER element with the expected tag.
func readElement(b []byte, want byte) (content, rest []byte, ok bool) {
	tag, content, _, rest, ok := readTLV(b)
	if !ok || tag != want {
		return nil, nil, false
	}
	return content, rest, true
}

// positiveInteger validates the content of a DER INTEGER and returns its
// big-endian magnitude without leading zero bytes. It fails for negative,
// zero, empty or non-minimally encoded integers.
func positiveInteger(c []byte) ([]byte, bool) {
	if len(c) == 0 || c[0]&0x80 != 0 {
		return nil, false
	}
	if c[0] == 0 {
		if len(c) == 1 || c[1]&0x80 == 0 { // zero, or non-minimal
			return nil, false
		}
		c = c[1:]
	}
	return c, true
}

// bitStringBytes validates the content of a DER BIT STRING that must hold
// whole bytes and returns those bytes.
func bitStringBytes(c []byte) ([]byte, bool) {
	if len(c) == 0 || c[0] != 0 {
		return nil, false
	}
	return c[1:], true
}

// Object identifier contents (DER, without tag and length).
var (
	oidRSAEncryption = string([]byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01})
	oidECPublicKey   = string([]byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01})
	oidP256          = string([]byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07})
)

// knownOIDs names algorithm and curve identifiers that are recognised only
// to produce a clear error.
var knownOIDs = map[string]string{
	string([]byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a}): "RSASSA-PSS",
	string([]byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x07}): "RSAES-OAEP",
	string([]byte{0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01}):             "DSA",
	string([]byte{0x2a, 0x86, 0x48, 0xce, 0x3e, 0x02, 0x01}):             "Diffie-Hellman",
	string([]byte{0x2b, 0x65, 0x6e}):                                     "X25519",
	string([]byte{0x2b, 0x65, 0x6f}):                                     "X448",
	string([]byte{0x2b, 0x65, 0x70}):                                     "Ed25519",
	string([]byte{0x2b, 0x65, 0x71}):                                     "Ed448",
	string([]byte{0x2b, 0x81, 0x04, 0x00, 0x01}):                         "ECDH",
	string([]byte{0x2b, 0x81, 0x04, 0x00, 0x0c}):                         "ECMQV",
	string([]byte{0x2a, 0x85, 0x03, 0x07, 0x01, 0x01, 0x01, 0x01}):       "GOST R 34.10-2012 256",
	string([]byte{0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d}):       "SM2",
	// Named curves.
	string([]byte{0x2b, 0x81, 0x04, 0x00, 0x21}):                         "P-224",
	string([]byte{0x2b, 0x81, 0x04, 0x00, 0x22}):                         "P-384",
	string([]byte{0x2b, 0x81, 0x04, 0x00, 0x23}):                         "P-521",
	string([]byte{0x2b, 0x81, 0x04, 0x00, 0x0a}):                         "secp256k1",
	string([]byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x01}):       "P-192",
	string([]byte{0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07}): "brainpoolP256r1",
	string([]byte{0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0b}): "brainpoolP384r1",
	string([]byte{0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0d}): "brainpoolP512r1",
}

// describeOID returns a human-readable name for an OBJECT IDENTIFIER
// element (content and full TLV), for error messages only.
func describeOID(content, full []byte) string {
	if name, ok := knownOIDs[string(content)]; ok {
		return name
	}
	var oid asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(full, &oid); err == nil && len(rest) == 0 {
		return "OID " + oid.String()
	}
	if len(full) > 32 {
		full = full[:32]
	}
	return "OID bytes " + hex.EncodeToString(full)
}
