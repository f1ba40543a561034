// Package keyauth checks device-key sign-in answers: it is the triggers.Checker for
// authflow.DeviceKey.
//
// In the nonce round Create issues a fresh random nonce (private parameter authflow.PrivNonce,
// also sent to the client). The device signs, with the key it registered through the API,
//
//	devicekey.Message(userPoolID, clientID, username, nonce)
//	= "passwordless-device-key-v1|<userPoolID>|<clientID>|<username>|<nonce>"
//
// and answers with ClientMetadata signInMethod=device_key and the ChallengeAnswer
//
//	{"keyId":"<key ID>","signature":"<base64 signature>"}
//
// The Checker builds the message itself from the values Cognito gives the trigger (never from
// the client), loads the key by owner (the user's sub) and key ID, verifies the signature and
// records the key's last use. A signature from another session (other nonce), over a payload
// the client chose, made with another user's key or with a revoked key never verifies.
package keyauth

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/devicekey"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// MinNonceLength is the shortest private nonce accepted; Create issues 43 characters.
const MinNonceLength = 16

// KeyStore is the part of *store.Store the Checker uses.
type KeyStore interface {
	// GetDeviceKey returns owner's key keyID with a strongly consistent read, or an error
	// wrapping store.ErrNotFound.
	GetDeviceKey(ctx context.Context, owner, keyID string) (store.DeviceKey, error)
	// TouchDeviceKey records the key's last use, or returns an error wrapping
	// store.ErrNotFound when the key no longer exists.
	TouchDeviceKey(ctx context.Context, owner, keyID string, at time.Time) error
}

var _ KeyStore = (*store.Store)(nil)

// Checker is the triggers.Checker for authflow.DeviceKey. Create one with New.
type Checker struct {
	keys KeyStore
	now  func() time.Time
	log  *slog.Logger
}

var _ triggers.Checker = (*Checker)(nil)

// Option configures a Checker.
type Option func(*Checker)

// WithClock sets the clock used for the last-use time (default time.Now; nil keeps it).
func WithClock(now func() time.Time) Option {
	return func(c *Checker) {
		if now != nil {
			c.now = now
		}
	}
}

// WithLogger sets the logger (default: none). The Checker logs why an answer was refused, never
// a key, key ID, signature, nonce or message.
func WithLogger(l *slog.Logger) Option {
	return func(c *Checker) {
		if l != nil {
			c.log = l
		}
	}
}

// New returns a Checker reading keys from keys.
func New(keys KeyStore, opts ...Option) *Checker {
	c := &Checker{keys: keys, now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	return c
}

// unknownOwner is the owner looked up for unknown users, so that they cost one key-table read
// like real users. Cognito subs are UUIDs, so it never names a real user.
const unknownOwner = "keyauth:unknown-user"

// Check checks one answer. It returns (true, nil) only when the answer is a valid signature, by a
// key of this user that still exists, over the message for this session's nonce. Wrong,
// malformed or foreign answers give (false, nil); a failing store gives (false, err), so the
// sign-in fails closed. Unknown users get the same work (one key read, one key parse, one
// signature verification) and (false, nil).
func (c *Checker) Check(ctx context.Context, req triggers.CheckRequest) (bool, error) {
	if c == nil || c.keys == nil {
		return false, errors.New("keyauth: checker has no key store")
	}
	if req.Method != authflow.DeviceKey || req.Challenge.Kind != authflow.KindNonce {
		c.log.WarnContext(ctx, "keyauth: not a device-key answer to a nonce round")
		return false, nil
	}
	nonce := req.Private[authflow.PrivNonce]
	if len(nonce) < MinNonceLength {
		c.log.WarnContext(ctx, "keyauth: round has no nonce")
		return false, nil
	}
	ans, err := DecodeAnswer(req.Answer)
	if err != nil {
		c.log.InfoContext(ctx, "keyauth: malformed answer")
		return false, nil
	}
	// The message comes from values the client cannot choose. A username that cannot be part
	// of a message (non-ASCII, '|') can never sign in with a device key.
	msg, msgErr := devicekey.Message(req.UserPoolID, req.ClientID, req.UserName, nonce)

	owner := req.UserAttributes["sub"]
	known := !req.UserNotFound && owner != ""
	if !known {
		owner = unknownOwner
	}
	k, err := c.keys.GetDeviceKey(ctx, owner, ans.KeyID)
	switch {
	case err == nil && known:
	case err == nil, errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalidArgument):
		// Unknown user, another user's key, a revoked or never-registered key.
		dummyVerify(msg, ans.Signature)
		if known {
			c.log.InfoContext(ctx, "keyauth: no such key for this user")
		} else {
			c.log.InfoContext(ctx, "keyauth: unknown user")
		}
		return false, nil
	default:
		return false, err
	}

	pub, err := devicekey.ParseSPKI(k.PublicKey)
	if err != nil {
		// Only a corrupted item can get here: registration stores parsed keys.
		dummyVerify(msg, ans.Signature)
		c.log.ErrorContext(ctx, "keyauth: stored key does not parse", "err", err)
		return false, nil
	}
	if msgErr != nil {
		_ = pub.Verify(nil, ans.Signature)
		c.log.WarnContext(ctx, "keyauth: no device-key message for this user", "err", msgErr)
		return false, nil
	}
	if err := pub.Verify([]byte(msg), ans.Signature); err != nil {
		c.log.InfoContext(ctx, "keyauth: signature does not verify")
		return false, nil
	}
	if err := c.keys.TouchDeviceKey(ctx, owner, ans.KeyID, c.now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			c.log.InfoContext(ctx, "keyauth: key revoked during sign-in")
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// Dummy public keys whose private halves were thrown away when they were made: unknown users
// and unknown keys are verified against one of them, so that refusing them costs what refusing
// a wrong signature by a real key costs. Nothing verified against them is ever accepted.
const (
	dummyRSA2048SPKI = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnpLEAeSbFEWxRfX57IcQOwj8FfS/SqanwPYaqTl+drqNyD6rvmhQU9hS/1NLyZogjs+1Ee7t3J6JWgnQQL9ZWdiqN5BKXvB8jOlIj3cnAbtpgLZqlq+EgfPOGfL37fPq4r57cyXl0yAGiGTj2+bRxV49WiGMuQ4VmjF2koPQg0gzAwAYJNIeex/CVzmaoqWYg9JpLLnhKkIhGElbYh0h3qNOFUrRiSvbimSp39EwNnBeEb4aO6Xd5c2/O42w8bMKbvwAj9jpGukjp/Fzd8deUR9XKWgRUvUOCxvPZuHE6NEmtdVQgjccoTJjagiWuoClgIh1HxtwIkW7YmQfBf414wIDAQAB"
	dummyP256SPKI    = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEL+Yx6RBNGCgGZwzNAbIQfjJESEceeMiwoX3RfioyzGXiHrnht5lWOwLUEUcBCwxEGEr7xenWk1dpYJ3GoG00iA=="
)

var dummyRSA2048DER, dummyP256DER = mustDecodeDummy(dummyRSA2048SPKI), mustDecodeDummy(dummyP256SPKI)

func mustDecodeDummy(s string) []byte {
	k, err := devicekey.ParsePublicKey(s)
	if err != nil {
		panic("keyauth: dummy key: " + err.Error())
	}
	return k.SPKI()
}

// rsaSignatureMinEncoded: base64 of a 2048-bit signature is 342+ characters, of a P-256 one at
// most 96; anything from 128 up is treated as an RSA signature.
const rsaSignatureMinEncoded = 128

// dummyVerify parses and verifies against a dummy key of the kind the signature looks like.
// The result is ignored: it is always a failure.
func dummyVerify(msg, signature string) {
	der := dummyP256DER
	if len(signature) >= rsaSignatureMinEncoded {
		der = dummyRSA2048DER
	}
	pub, err := devicekey.ParseSPKI(der)
	if err != nil {
		return
	}
	_ = pub.Verify([]byte(msg), signature)
}
