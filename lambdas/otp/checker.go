package otp

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// AttributeVerifier marks the address a code was answered from as verified, together with its
// value (Cognito AdminUpdateUserAttributes; *awsapi.Client).
type AttributeVerifier interface {
	AdminUpdateUserAttributes(ctx context.Context, in *awsapi.AdminUpdateUserAttributesInput) error
}

var _ AttributeVerifier = (*awsapi.Client)(nil)

// CheckerDeps are the Checker's dependencies.
type CheckerDeps struct {
	Verifier AttributeVerifier // required
	// Now is the clock for expiry (nil: time.Now).
	Now func() time.Time
	// Log receives why an answer was refused, never the answer or the code (nil: no logging).
	Log *slog.Logger
}

// Checker is the triggers.Checker for authflow.EmailOTP and authflow.SMSOTP. Create one with
// NewChecker; it is safe for concurrent use.
type Checker struct {
	digits   int
	verifier AttributeVerifier
	now      func() time.Time
	log      *slog.Logger
}

var _ triggers.Checker = (*Checker)(nil)

// NewChecker checks cfg (only Digits matters to the Checker) and returns a Checker.
func NewChecker(cfg Config, d CheckerDeps) (*Checker, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Verifier == nil {
		return nil, errors.New("otp: checker has no attribute verifier")
	}
	c := &Checker{digits: cfg.Digits, verifier: d.Verifier, now: d.Now, log: d.Log}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Check checks the answer to a CODE round against the private parameters the Issuer wrote.
// The answer, trimmed of spaces, must be exactly Config.Digits ASCII digits, match the digest
// for the round's session, generation and address (compared in constant time), the round must
// not have expired, and the user's attribute must still hold the address the code was sent to.
// Wrong, malformed and expired answers give (false, nil); unknown users get the same digest
// work and (false, nil). A request without the deployment key is an error.
//
// A right answer for an address that is not yet verified marks it verified together with the
// address the code was sent to, in one AdminUpdateUserAttributes call ([email, X] and
// [email_verified, "true"], resp. phone_number), so that the flag can never end up on a value
// that did not receive the code. If that call fails the answer is (false, err): the sign-in
// fails and the user can try again.
func (c *Checker) Check(ctx context.Context, req triggers.CheckRequest) (bool, error) {
	if c == nil || c.verifier == nil {
		return false, errors.New("otp: checker not configured (use NewChecker)")
	}
	if req.Key == nil {
		return false, errors.New("otp: no deployment key in the request")
	}
	ch := req.Challenge
	m := ch.Method
	if ch.Kind != authflow.KindCode || !m.IsCode() || req.Method != m {
		c.log.WarnContext(ctx, "otp: not an answer to a code round")
		return false, nil
	}
	log := c.log.With("method", string(m), "generation", ch.Generation)
	salt, err1 := base64.StdEncoding.DecodeString(req.Private[PrivSalt])
	digest, err2 := base64.StdEncoding.DecodeString(req.Private[PrivDigest])
	expires, err3 := strconv.ParseInt(req.Private[PrivExpires], 10, 64)
	address := req.Private[PrivAddress]
	if err := errors.Join(err1, err2, err3); err != nil || len(salt) == 0 || len(digest) != 32 || strings.TrimSpace(address) == "" {
		log.WarnContext(ctx, "otp: round has malformed code parameters")
		return false, nil
	}

	answer := strings.TrimSpace(req.Answer)
	wellFormed := delivery.IsDigits(answer, c.digits)
	// The digest is computed for every answer, real user or not.
	codeGen := ch.Generation
	if g := req.Private[PrivCodeGeneration]; g != "" {
		n, err := strconv.Atoi(g)
		if err != nil || n < 1 || n >= ch.Generation || strconv.Itoa(n) != g {
			log.WarnContext(ctx, "otp: round has a malformed code generation")
			return false, nil
		}
		codeGen = n
	}
	sentTo := bindForm(m, address)
	match := Verify(salt, digest, ch.SessionID, codeGen, sentTo, answer)
	recipient, fromAttr := target(triggers.IssueRequest{Caller: req.Caller}, m)
	sameRecipient := fromAttr && bindForm(m, recipient) == sentTo
	expired := c.now().After(time.Unix(expires, 0))

	reason := ""
	switch {
	case req.UserNotFound:
		reason = "unknown user"
	case !wellFormed:
		reason = "answer is not a code"
	case !match:
		reason = "wrong code"
	case expired:
		reason = "code expired"
	case !sameRecipient:
		reason = "the user's address changed since the code was sent"
	}
	if reason != "" {
		log.InfoContext(ctx, "otp: answer refused", "reason", reason)
		return false, nil
	}

	attr, verifiedAttr := addressAttr(m)
	if req.UserAttributes[verifiedAttr] != "true" {
		err := c.verifier.AdminUpdateUserAttributes(ctx, &awsapi.AdminUpdateUserAttributesInput{
			UserPoolID: req.UserPoolID,
			Username:   req.UserName,
			UserAttributes: []awsapi.Attribute{
				{Name: attr, Value: address},
				{Name: verifiedAttr, Value: "true"},
			},
		})
		if err != nil {
			verr := &VerifyAttributeError{Attribute: verifiedAttr, Code: delivery.ErrorCode(err), Err: err}
			log.WarnContext(ctx, "otp: right code, but marking the address verified failed", "err", verr)
			return false, verr
		}
		log.InfoContext(ctx, "otp: address marked verified", "attribute", verifiedAttr)
	}
	log.InfoContext(ctx, "otp: right code")
	return true, nil
}

var _ triggers.ExpiryChecker = (*Checker)(nil)

// Expired reports whether the round of req had expired by the Checker's clock: its expiry
// (PrivExpires) is well-formed and in the past, as Check judges it. It reads neither the answer
// nor anything outside req and makes no call; Verify asks it after a refused answer, only to name
// the failure "expired" in metrics and audit events (triggers.ExpiryChecker). A nil Checker
// reports false.
func (c *Checker) Expired(req triggers.CheckRequest) bool {
	if c == nil || c.now == nil {
		return false
	}
	expires, err := strconv.ParseInt(req.Private[PrivExpires], 10, 64)
	return err == nil && c.now().After(time.Unix(expires, 0))
}

// VerifyAttributeError reports a failed AdminUpdateUserAttributes call. Its message holds only
// the attribute name and the AWS error code; the original error is available through
// errors.Unwrap / errors.As.
type VerifyAttributeError struct {
	Attribute string
	Code      string
	Err       error
}

func (e *VerifyAttributeError) Error() string {
	return "otp: marking " + e.Attribute + " failed: " + e.Code
}

func (e *VerifyAttributeError) Unwrap() error { return e.Err }
