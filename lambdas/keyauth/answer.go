package keyauth

import (
	"errors"
	"fmt"

	"github.com/passwordless-go/cognito/lambdas/strictjson"
)

// MaxAnswerBytes caps the answers DecodeAnswer reads. A device-key answer is a key ID
// (22 characters) and a base64 signature (at most devicekey.MaxEncodedSignatureLen, 1024 bytes),
// so anything longer is not an answer.
const MaxAnswerBytes = 2048

// KeyIDLength is the length of a key ID: 16 random bytes, unpadded base64url.
const KeyIDLength = 22

// Answer is what the client sends as ChallengeAnswer when it signs in with a device key:
//
//	{"keyId":"<key ID returned at registration>","signature":"<base64 signature of the message>"}
type Answer struct {
	KeyID     string `json:"keyId"`
	Signature string `json:"signature"`
}

// ErrBadAnswer is wrapped by every error DecodeAnswer returns.
var ErrBadAnswer = errors.New("keyauth: malformed answer")

// DecodeAnswer strictly decodes a device-key answer: at most MaxAnswerBytes of valid UTF-8
// holding exactly one JSON object whose members are exactly "keyId" and "signature" (matched
// case-sensitively, each once), both non-empty strings, with nothing but whitespace after it.
// The key ID must look like one this system issues (ValidKeyID). The signature is not decoded
// here; devicekey.PublicKey.Verify does that. DecodeAnswer never panics.
func DecodeAnswer(s string) (Answer, error) {
	if len(s) > MaxAnswerBytes {
		return Answer{}, fmt.Errorf("%w: longer than %d bytes", ErrBadAnswer, MaxAnswerBytes)
	}
	fields, err := strictjson.Strings([]byte(s), "keyId", "signature")
	if err != nil {
		return Answer{}, fmt.Errorf("%w: %v", ErrBadAnswer, err)
	}
	a := Answer{KeyID: fields["keyId"], Signature: fields["signature"]}
	if !ValidKeyID(a.KeyID) {
		return Answer{}, fmt.Errorf("%w: keyId is not a key ID", ErrBadAnswer)
	}
	if a.Signature == "" {
		return Answer{}, fmt.Errorf("%w: signature is empty", ErrBadAnswer)
	}
	return a, nil
}

// ValidKeyID reports whether id has the shape of a key ID this system issues: KeyIDLength
// characters of the unpadded base64url alphabet, encoding 16 bytes (so the last character
// carries no stray bits).
func ValidKeyID(id string) bool {
	if len(id) != KeyIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	// 22 characters carry 132 bits; the last character's low 4 bits must be zero for 128 bits.
	switch id[KeyIDLength-1] {
	case 'A', 'Q', 'g', 'w':
		return true
	}
	return false
}
