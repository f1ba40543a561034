package triggers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/metrics"
)

// Sizes of the random values Create draws.
const (
	SessionIDBytes = 16 // 128 bits, base64url: 22 characters
	NonceBytes     = 32 // 256 bits, base64url: 43 characters
)

// ErrUnavailable is what a trigger returns when it cannot decide; Cognito then fails the sign-in
// and the client sees only this generic text.
var ErrUnavailable = errors.New("sign-in temporarily unavailable")

// Create is the CreateAuthChallenge trigger. The nonce round draws a fresh session ID and nonce from
// crypto/rand and sends nothing; a CODE or LINK round is handed to the method's CodeIssuer. Every round's
// private parameters carry the round number (authflow.PrivRound), which names the attempt Verify
// counts.
type Create struct {
	Config  authflow.Config
	Issuers map[authflow.Method]CodeIssuer // per code or link method; a missing one fails the round
	// Keys hands out the deployment key, fetched once per request and passed to issuers and nonce
	// extras. nil is allowed only when Config enables no method; otherwise every round fails.
	Keys keyed.Source
	// NonceExtras, when set, adds parameters to every nonce round (e.g. passkey request options).
	// Its keys may not be reserved or already set; an error fails the round. nil: none.
	NonceExtras NonceExtra
	Rand        io.Reader    // nil: crypto/rand (tests may pass a failing reader)
	Log         *slog.Logger // nil: no logging
	// Metrics counts SignInStarted for the nonce round of each new session, and SignInFailed
	// (reason dependency) for a round that fails because a dependency failed (the deployment
	// key, the random source, a nonce extra or an issuer). Issuers count their own sends. nil: none.
	Metrics MetricCounter
}

// NonceRequest is what a NonceExtra gets for a nonce round.
type NonceRequest struct {
	Challenge authflow.Challenge // Kind is KindNonce; SessionID is set
	Nonce     string             // the nonce of this round (public and private parameter authflow.PubNonce)
	Caller
}

// NonceExtra adds method-specific parameters to a nonce round, such as the options a passkey
// assertion needs. What it returns is merged like an Issuer's parameters: reserved keys and keys
// already set are refused (the round fails).
type NonceExtra interface {
	Extra(ctx context.Context, req NonceRequest) (Issued, error)
}

// Handle answers one CreateAuthChallenge event.
func (c *Create) Handle(ctx context.Context, ev events.CognitoEventUserPoolsCreateAuthChallenge) (events.CognitoEventUserPoolsCreateAuthChallenge, error) {
	round := len(ev.Request.Session) + 1
	key, log, err := deploymentKey(ctx, "create", c.Keys, c.Config, c.Metrics, logger(c.Log).With("round", round), ev.UserPoolID, ev.UserName)
	if err != nil {
		return ev, err
	}
	if ev.Request.ChallengeName != authflow.ChallengeName {
		log.WarnContext(ctx, "create: unexpected challenge name")
		return ev, ErrUnavailable
	}
	outcome, next, reason := authflow.Plan(ev.Request.Session, ev.Request.ClientMetadata, ev.Request.UserNotFound, c.Config)
	if outcome != authflow.Continue {
		// Define would not have asked for a challenge: refuse rather than guess.
		log.WarnContext(ctx, "create: no next round", "reason", reason)
		return ev, ErrUnavailable
	}
	who := caller(ev.CognitoEventUserPoolsHeader, ev.Request.UserAttributes, ev.Request.ClientMetadata, ev.Request.UserNotFound, key)
	public := map[string]string{authflow.PubKind: string(next.Kind), authflow.PubMethods: c.Config.MethodList()}
	var private map[string]string
	switch next.Kind {
	case authflow.KindNonce:
		if next.SessionID == "" {
			sid, err := c.random(SessionIDBytes)
			if err != nil {
				log.ErrorContext(ctx, "create: random source failed", "err", err)
				c.dependencyFailed(next)
				return ev, ErrUnavailable
			}
			next.SessionID = sid
		}
		nonce, err := c.random(NonceBytes)
		if err != nil {
			log.ErrorContext(ctx, "create: random source failed", "err", err)
			c.dependencyFailed(next)
			return ev, ErrUnavailable
		}
		private = next.Private()
		private[authflow.PrivNonce] = nonce
		public[authflow.PubNonce] = nonce
		if c.NonceExtras != nil {
			extra, err := c.NonceExtras.Extra(ctx, NonceRequest{
				Challenge: next,
				Nonce:     nonce,
				Caller:    who,
			})
			if err != nil {
				log.ErrorContext(ctx, "create: nonce round extra failed", "err", err)
				c.dependencyFailed(next)
				return ev, ErrUnavailable
			}
			if err := mergeIssued(private, public, extra); err != nil {
				log.ErrorContext(ctx, "create: nonce round extra returned a reserved parameter", "err", err)
				return ev, ErrUnavailable
			}
		}
	case authflow.KindCode, authflow.KindLink:
		issuer := c.Issuers[next.Method]
		if issuer == nil {
			log.ErrorContext(ctx, "create: no issuer for method", "method", string(next.Method))
			return ev, ErrUnavailable
		}
		issued, err := issuer.Issue(ctx, IssueRequest{
			Challenge: next,
			Caller:    who,
		})
		if err != nil {
			log.ErrorContext(ctx, "create: issuing the round failed", "method", string(next.Method), "err", err)
			c.dependencyFailed(next)
			return ev, ErrUnavailable
		}
		private = next.Private()
		if err := mergeIssued(private, public, issued); err != nil {
			log.ErrorContext(ctx, "create: issuer returned a reserved parameter", "err", err)
			return ev, ErrUnavailable
		}
	default:
		// Plan never plans another kind; refuse rather than answer a round nobody described.
		log.ErrorContext(ctx, "create: round of unknown kind", "kind", string(next.Kind))
		return ev, ErrUnavailable
	}
	private[authflow.PrivRound] = strconv.Itoa(round)
	ev.Response = events.CognitoEventUserPoolsCreateAuthChallengeResponse{
		PublicChallengeParameters:  public,
		PrivateChallengeParameters: private,
		ChallengeMetadata:          next.String(),
	}
	log.InfoContext(ctx, "create", "session", next.SessionID, "kind", string(next.Kind), "why", string(next.Reason), "method", string(next.Method))
	if next.Kind == authflow.KindNonce && next.Reason == authflow.ReasonStart {
		count(c.Metrics, metrics.SignInStarted, metrics.Dims{})
	}
	return ev, nil
}

// dependencyFailed counts a round that failed because a dependency did (SignInFailed, reason
// dependency, with the round's method if it has one).
func (c *Create) dependencyFailed(next authflow.Challenge) {
	count(c.Metrics, metrics.SignInFailed, metrics.Dims{Method: string(next.Method), Reason: metrics.ReasonDependency})
}

func (c *Create) random(n int) (string, error) {
	r := c.Rand
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("read %d random bytes: %w", n, err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// reserved are the challenge parameters the protocol owns, whatever the round.
var reserved = map[string]bool{
	authflow.PrivKind: true, authflow.PrivSessionID: true, authflow.PrivMethod: true,
	authflow.PrivGeneration: true, authflow.PrivNonce: true, authflow.PrivRound: true, authflow.PubMethods: true,
}

// mergeIssued merges what an issuer or a nonce extra returned into the round's private and
// public parameters (merge), the private ones first.
func mergeIssued(private, public map[string]string, in Issued) error {
	if err := merge(private, in.Private); err != nil {
		return err
	}
	return merge(public, in.Public)
}

// merge adds src to dst, refusing any key the protocol owns or dst already has.
func merge(dst, src map[string]string) error {
	for k := range src {
		if _, taken := dst[k]; taken || reserved[k] {
			return fmt.Errorf("create: issuer may not set challenge parameter %q", k)
		}
	}
	for k, v := range src {
		dst[k] = v
	}
	return nil
}
