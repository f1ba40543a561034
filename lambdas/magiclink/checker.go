package magiclink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// CheckerStore is the part of *store.Store the Checker uses.
type CheckerStore interface {
	ConsumeMagicLink(ctx context.Context, userKey string, hash, addressHash []byte, deviceHash string, requireDevice bool, attempt string) (bool, error)
}

var _ CheckerStore = (*store.Store)(nil)

// Checker is the triggers.Checker of authflow.MagicLink. Create one with NewChecker; it is safe
// for concurrent use.
type Checker struct {
	store      CheckerStore
	sameDevice bool
	log        *slog.Logger
}

var _ triggers.Checker = (*Checker)(nil)

// NewChecker returns a Checker over st; sameDevice is Config.SameDevice (SameDeviceFromEnv).
// log receives why an answer was refused, never the answer (nil: no logging).
func NewChecker(st CheckerStore, sameDevice bool, log *slog.Logger) (*Checker, error) {
	if st == nil {
		return nil, errors.New("magiclink: checker has no store")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Checker{store: st, sameDevice: sameDevice, log: log}, nil
}

// AttemptTag names one answer to one sign-in round for store.ConsumeMagicLink: 32 hex digits of
// an HMAC under the deployment key of the session ID, the round and the secret. A Cognito retry
// of the Verify that used a link carries the same three and is told yes again; nothing else can
// produce the tag (the session ID is never shown to the client).
func AttemptTag(k *keyed.Key, sessionID string, round int, secret string) string {
	return k.ID(purposeAttempt, sessionID, strconv.Itoa(round), secret)
}

// Check answers a link's secret: in a fresh sign-in's nonce round (ClientMetadata
// action=complete) or in the LINK round of the sign-in that asked for it. The secret (trimmed of
// spaces) is hashed with the user (SecretHash) and the user's outstanding link is used in one
// conditional write (store.ConsumeMagicLink): it must hold that hash, have been sent to the
// account's current email address, which must still be verified (AddressHash of the request's
// email attribute when email_verified is "true"), not be expired and, with Config.SameDevice, be
// bound to DeviceHash(ClientMetadata deviceSecret). So a link works once, only for the user it
// was sent to, only while the account's verified address is the one it went to (a link left in a
// mailbox the account has since moved away from, or whose address is no longer verified, is
// refused like a wrong answer), only until it expires or a newer one replaces it; a Cognito
// retry of the Verify that used it (same session, round and secret: AttemptTag) is told yes again. Every
// answer, malformed or for an unknown user, makes the same single call and gets (false, nil)
// unless it used the link; a store failure is an error (Verify fails the sign-in, closed).
func (c *Checker) Check(ctx context.Context, req triggers.CheckRequest) (bool, error) {
	if c == nil || c.store == nil {
		return false, errors.New("magiclink: checker not configured (use NewChecker)")
	}
	if req.Key == nil {
		return false, errors.New("magiclink: no deployment key in the request")
	}
	ch := req.Challenge
	if req.Method != authflow.MagicLink || (ch.Kind != authflow.KindNonce && !(ch.Kind == authflow.KindLink && ch.Method == authflow.MagicLink)) {
		c.log.WarnContext(ctx, "magiclink: not an answer to a nonce or link round")
		return false, nil
	}
	secret := strings.TrimSpace(req.Answer)
	wellFormed := ValidSecret(secret)
	deviceHash := ""
	deviceOK := true
	if c.sameDevice {
		ds := req.ClientMetadata[MetaDeviceSecret]
		deviceOK = ValidDeviceSecret(ds)
		if deviceOK {
			deviceHash = DeviceHash(ds)
		}
	}
	address, hasAddress := currentAddress(req)
	var addressHash []byte // nil matches no link
	if hasAddress {
		addressHash = AddressHash(req.Key, req.UserPoolID, req.UserName, address)
	}
	round, _ := authflow.Round(req.Private) // 0 when missing: Verify requires it for this method
	used, err := c.store.ConsumeMagicLink(ctx, UserKey(req.Key, req.UserPoolID, req.UserName),
		SecretHash(req.Key, req.UserPoolID, req.UserName, secret), addressHash, deviceHash, c.sameDevice,
		AttemptTag(req.Key, ch.SessionID, round, secret))
	if err != nil {
		return false, fmt.Errorf("magiclink: %w", err)
	}
	reason := ""
	switch {
	case req.UserNotFound:
		reason = "unknown user"
	case !wellFormed:
		reason = "answer is not a link secret"
	case !deviceOK:
		reason = "no device secret"
	case !hasAddress:
		reason = "the account has no verified email address"
	case !used:
		reason = "no such link: wrong, used, replaced, expired, another user's, another device's or another address's"
	}
	if reason != "" {
		c.log.InfoContext(ctx, "magiclink: answer refused", "reason", reason, "round", string(ch.Kind))
		return false, nil
	}
	c.log.InfoContext(ctx, "magiclink: link used", "round", string(ch.Kind))
	return true, nil
}

// currentAddress returns the account's email address as the request shows it now, if links may
// be used for it: a user that exists, whose email attribute is present, well-formed and verified
// (email_verified "true"), as Issue requires of the address it sends to.
func currentAddress(req triggers.CheckRequest) (string, bool) {
	if req.UserNotFound {
		return "", false
	}
	addr, ok := req.UserAttributes[otp.AttrEmail]
	if !ok || req.UserAttributes[otp.AttrEmailVerified] != "true" || !otp.LooksLikeEmail(strings.TrimSpace(addr)) {
		return "", false
	}
	return addr, true
}
