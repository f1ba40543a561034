// Package keyed derives identifiers from the deployment secret: table keys of rate limits and
// failure counters, log references, decoys and placeholders for unknown users. An unkeyed hash of
// an email address or phone number is reversible in seconds (the space of phone numbers is small,
// and addresses can be guessed); an HMAC under a secret that lives only in AWS Secrets Manager is
// not, and nobody can compute a decoy from public data.
//
// The secret is created by CloudFormation (AWS::SecretsManager::Secret with a generated string),
// so it appears in no template, snapshot or log; each function reads it once per instance
// (SecretsManager, on first use) and keeps it for MaxAge.
package keyed

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
)

// MinSecretBytes is the shortest secret New accepts (256 bits).
const MinSecretBytes = 32

// Key derives keyed identifiers. It is immutable and safe for concurrent use.
type Key struct {
	k []byte
}

// New returns a Key for secret, which must be at least MinSecretBytes long. The secret is first
// hashed with SHA-256 under a fixed label, so a secret of any length gives a 32-byte HMAC key.
func New(secret []byte) (*Key, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("keyed: secret has %d bytes, need at least %d", len(secret), MinSecretBytes)
	}
	h := hmac.New(sha256.New, []byte("passwordless-deployment-secret-v1"))
	h.Write(secret)
	return &Key{k: h.Sum(nil)}, nil
}

// Sum returns HMAC-SHA256 under the key of purpose and parts, each prefixed by its length, so that
// no two different (purpose, parts) lists give the same message. purpose names what the value is
// for ("rate", "lockout", "userref", ...) so that values for one use never equal values for another.
func (k *Key) Sum(purpose string, parts ...string) [sha256.Size]byte {
	h := hmac.New(sha256.New, k.k)
	writeField(h, purpose)
	for _, p := range parts {
		writeField(h, p)
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

type writer interface{ Write([]byte) (int, error) }

func writeField(w writer, s string) {
	w.Write([]byte(strconv.Itoa(len(s))))
	w.Write([]byte{':'})
	w.Write([]byte(s))
}

// ID returns the first 16 bytes (128 bits) of Sum in hex: for table keys.
func (k *Key) ID(purpose string, parts ...string) string {
	s := k.Sum(purpose, parts...)
	return hex.EncodeToString(s[:16])
}

// Ref returns the first 6 bytes of Sum in hex: a short reference for log lines that lets an
// operator correlate one user's lines without revealing who the user is.
func (k *Key) Ref(purpose string, parts ...string) string {
	s := k.Sum(purpose, parts...)
	return hex.EncodeToString(s[:6])
}

// Derive returns a 32-byte sub-secret for purpose (for example the seed of decoy credentials).
func (k *Key) Derive(purpose string) []byte {
	s := k.Sum("derive", purpose)
	return s[:]
}

// Source hands out the deployment's Key. Handlers call it per request; implementations cache.
type Source interface {
	Key(ctx context.Context) (*Key, error)
}

// Static is a Source that always returns one Key (tests, and callers that already hold the key).
type Static struct{ K *Key }

// Key returns s.K, or an error when it is nil.
func (s Static) Key(context.Context) (*Key, error) {
	if s.K == nil {
		return nil, errors.New("keyed: no key")
	}
	return s.K, nil
}

// MustStatic returns a Static Source for secret, panicking on a short secret (tests).
func MustStatic(secret string) Static {
	k, err := New([]byte(secret))
	if err != nil {
		panic(err)
	}
	return Static{K: k}
}
