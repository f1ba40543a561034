package passkey

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/passkey/passkeynonce"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// Challenge parameter and ClientMetadata keys of the passkey method.
const (
	// PubOptions is the public challenge parameter of the nonce round holding the
	// PublicKeyCredentialRequestOptions JSON for navigator.credentials.get.
	PubOptions = passkeynonce.PubOptions
	// PrivIssuedAt is the private challenge parameter with the nonce round's issue time (Unix
	// milliseconds); Verify refuses answers given more than Config.Timeout after it.
	PrivIssuedAt = passkeynonce.PrivIssuedAt
	// MetaChallengeID is the ClientMetadata key naming the challenge of a usernameless sign-in,
	// as returned by POST /passkeys/authentication/options.
	MetaChallengeID = "challengeId"
)

// MinNonceLength is the shortest private nonce accepted; Create issues 43 characters (32 bytes).
const MinNonceLength = 22

// clockSkew is how far in the future an issue time may lie (clocks of two functions).
const clockSkew = 5 * time.Second

// ChallengeIDBytes is the length of a usernameless challenge ID before base64url encoding.
const ChallengeIDBytes = 16

// ValidChallengeID reports whether id has the shape of a challenge ID: 16 bytes, unpadded base64url.
func ValidChallengeID(id string) bool {
	if len(id) != base64.RawURLEncoding.EncodedLen(ChallengeIDBytes) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(id)
	return err == nil && len(b) == ChallengeIDBytes
}

// CheckerStore is the part of *store.Store the Checker uses.
type CheckerStore interface {
	// GetPasskey returns owner's passkey with a strongly consistent read, or store.ErrNotFound.
	GetPasskey(ctx context.Context, owner string, credentialID []byte) (store.Passkey, error)
	// UsePasskey records a use conditionally (store.ErrReplay, store.ErrNotFound).
	UsePasskey(ctx context.Context, owner string, credentialID []byte, u store.PasskeyUse) error
	// ConsumePasskeyChallenge uses up a stored challenge once (store.ErrNotFound).
	ConsumePasskeyChallenge(ctx context.Context, c store.PasskeyChallenge) (store.PasskeyChallenge, error)
}

var _ CheckerStore = (*store.Store)(nil)

// Option configures a Checker.
type Option func(*common)

type common struct {
	now func() time.Time
	log *slog.Logger
}

// WithClock sets the clock (default time.Now; nil keeps it).
func WithClock(now func() time.Time) Option {
	return func(c *common) {
		if now != nil {
			c.now = now
		}
	}
}

// WithLogger sets the logger (default: none). Nothing secret is logged: no nonce, challenge,
// credential ID, key or answer.
func WithLogger(l *slog.Logger) Option {
	return func(c *common) {
		if l != nil {
			c.log = l
		}
	}
}

func newCommon(opts []Option) common {
	c := common{now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// Checker is the triggers.Checker for authflow.Passkey. Create one with NewChecker.
type Checker struct {
	common
	rp    *RP
	store CheckerStore
}

var _ triggers.Checker = (*Checker)(nil)

// NewChecker returns a Checker for rp reading passkeys from s.
func NewChecker(rp *RP, s CheckerStore, opts ...Option) *Checker {
	return &Checker{common: newCommon(opts), rp: rp, store: s}
}

// unknownOwner is the owner looked up for unknown users, so that they cost one read like real
// users. Cognito subs are UUIDs, so it never names a real user.
const unknownOwner = "passkey:unknown-user"

// Check checks one passkey answer. The ANSWER is the PublicKeyCredential JSON of an assertion
// (DecodeAssertion). Its challenge is this round's nonce, or, when ClientMetadata carries
// MetaChallengeID, the stored challenge of a usernameless sign-in, which is consumed (once,
// atomically) whatever the outcome. It returns (true, nil) only when the credential is one of
// this user's passkeys (looked up by the user's sub and the credential ID), the assertion passes
// every WebAuthn check (RP.VerifyAssertion), the nonce round is not older than the timeout, the
// sign count rose (or is zero for counterless authenticators) and recording the use won a
// conditional update. Wrong, malformed or foreign answers give (false, nil); a non-rising sign
// count is logged as a possible cloned authenticator. A failing store gives (false, err), so the
// sign-in fails closed. Unknown users get the same work (one read, one signature check) and false.
func (c *Checker) Check(ctx context.Context, req triggers.CheckRequest) (bool, error) {
	if c == nil || c.store == nil || c.rp == nil {
		return false, errors.New("passkey: checker has no store or relying party")
	}
	if req.Method != authflow.Passkey || req.Challenge.Kind != authflow.KindNonce {
		c.log.WarnContext(ctx, "passkey: not a passkey answer to a nonce round")
		return false, nil
	}
	nonce := req.Private[authflow.PrivNonce]
	if len(nonce) < MinNonceLength {
		c.log.WarnContext(ctx, "passkey: round has no nonce")
		return false, nil
	}
	now := c.now()
	issued, err := strconv.ParseInt(req.Private[PrivIssuedAt], 10, 64)
	if err != nil {
		c.log.WarnContext(ctx, "passkey: round has no issue time (is the Create hook wired?)")
		return false, nil
	}
	if age := now.Sub(time.UnixMilli(issued)); age > c.rp.cfg.Timeout || age < -clockSkew {
		c.log.InfoContext(ctx, "passkey: login timeout", "ageMs", age.Milliseconds())
		return false, nil
	}
	parsed, err := DecodeAssertion(req.Answer)
	if err != nil {
		c.log.InfoContext(ctx, "passkey: malformed answer", "reason", err.Error())
		return false, nil
	}

	challenge, discoverable := nonce, false
	if id, ok := req.ClientMetadata[MetaChallengeID]; ok {
		if !ValidChallengeID(id) {
			c.log.InfoContext(ctx, "passkey: malformed challenge ID")
			return false, nil
		}
		ch, err := c.store.ConsumePasskeyChallenge(ctx, store.PasskeyChallenge{Kind: store.AuthenticationChallenge, ID: id})
		switch {
		case err == nil:
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalidArgument):
			c.log.InfoContext(ctx, "passkey: unknown, used or expired usernameless challenge")
			return false, nil
		default:
			return false, err
		}
		challenge, discoverable = ch.Challenge, true
	}

	owner := req.UserAttributes["sub"]
	known := !req.UserNotFound && owner != ""
	if !known {
		owner = unknownOwner
	}
	p, err := c.store.GetPasskey(ctx, owner, parsed.RawID)
	switch {
	case err == nil && known:
	case err == nil, errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalidArgument):
		// Unknown user, another user's passkey, a deleted or never-registered one.
		c.dummyVerify(parsed, challenge, discoverable)
		if known {
			c.log.InfoContext(ctx, "passkey: no such passkey for this user")
		} else {
			c.log.InfoContext(ctx, "passkey: unknown user")
		}
		return false, nil
	default:
		return false, err
	}

	cred, err := c.rp.VerifyAssertion(p, challenge, parsed, discoverable)
	if err != nil {
		c.log.InfoContext(ctx, "passkey: assertion does not verify", "reason", ErrorReason(err))
		return false, nil
	}
	counter := parsed.Response.AuthenticatorData.Counter
	if cred.Authenticator.CloneWarning {
		c.log.WarnContext(ctx, "passkey: sign count did not rise: possible cloned authenticator or replayed assertion",
			"stored", p.SignCount, "received", counter)
		return false, nil
	}
	err = c.store.UsePasskey(ctx, owner, p.CredentialID, store.PasskeyUse{
		SignCount:   counter,
		BackupState: parsed.Response.AuthenticatorData.Flags.HasBackupState(),
		Challenge:   challenge,
		At:          now,
	})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrReplay):
		c.log.WarnContext(ctx, "passkey: use refused by the store: possible cloned authenticator or concurrent replay",
			"received", counter)
		return false, nil
	case errors.Is(err, store.ErrNotFound):
		c.log.InfoContext(ctx, "passkey: passkey deleted during sign-in")
		return false, nil
	default:
		return false, err
	}
}

// dummyKey is a P-256 COSE key whose private half was never kept: unknown users and unknown
// credentials are verified against it so that refusing them costs what refusing a wrong
// signature by a real passkey costs. Nothing verified against it is ever accepted.
var dummyKey = func() []byte {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic("passkey: dummy key: " + err.Error())
	}
	b, err := k.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		panic("passkey: dummy key: " + err.Error())
	}
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: b[1:33], -3: b[33:65]})
	if err != nil {
		panic("passkey: dummy key: " + err.Error())
	}
	return cose
}()

func (c *Checker) dummyVerify(parsed *protocol.ParsedCredentialAssertionData, challenge string, discoverable bool) {
	handle := parsed.Response.UserHandle
	if len(handle) == 0 {
		handle = []byte("passkey:unknown-user")
	}
	flags := parsed.Response.AuthenticatorData.Flags
	_, _ = c.rp.VerifyAssertion(store.Passkey{
		CredentialID:   parsed.RawID,
		UserHandle:     handle,
		PublicKey:      dummyKey,
		BackupEligible: flags.HasBackupEligible(),
	}, challenge, parsed, discoverable)
}
