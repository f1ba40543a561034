// Package triggers holds the Cognito trigger handlers: Define, Create and Verify for custom auth,
// and PreSignUp. Each is a struct whose Handle method has the signature lambda.Start expects; the
// binaries under lambdas/cmd only build one from the environment and start it.
//
// Methods plug in through two narrow interfaces: a CodeIssuer sends a one-time code in a CODE round
// (or a sign-in link in a LINK round), a Checker checks an answer. A method with no Checker can
// never sign anyone in.
//
// Create and Verify fetch the deployment key (keyed.Source) once per request and pass it to
// issuers, nonce extras and checkers (IssueRequest.Key, NonceRequest.Key, CheckRequest.Key); it
// also keys the user references in their log lines (UserRef) and the failure counter's table key.
// Without the key they fail the round (closed). Define never needs it: it calls nothing outside
// the process and logs the sign-in's random session ID, never a user reference.
//
// Guessable answers (one-time codes and link secrets, authflow.Method.Guessable) are limited per
// account by a FailureCounter: Verify reserves an attempt slot with one conditional write before
// checking such an answer, so concurrent wrong answers can never have more than the limit checked.
//
// Verify tells hooks what happened, for example to notify the account's owner (package
// triggers/notifyhook): SuccessHooks after an accepted answer, LockHooks when a guessable answer
// is refused because the account is locked. Hooks never change the outcome.
//
// Create and Verify count what they do as CloudWatch metrics through a MetricCounter
// (*metrics.Recorder): Create SignInStarted for each new sign-in (and SignInFailed, reason
// dependency, for a round a dependency failed); Verify SignInSucceeded{Method} and
// SignInFailed{Method, Reason} for every attempt (wrong_answer, expired, locked, dependency) and
// Lockouts. Verify also hands the attempts' security events to an AuditLog (*audit.Publisher):
// sign_in.succeeded, sign_in.failed and account.locked, naming the user by its keyed reference
// only. Neither ever changes an outcome; both are off when nil.
//
// Define lives in package triggers/define (Define here is an alias) so that the define binary
// links neither this package's dependencies (package audit, and through it the AWS SDK) nor
// anything else outside the process; it emits no metrics.
package triggers

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/metrics"
)

// Caller is what every request to a round's plug-in (IssueRequest, CheckRequest, NonceRequest)
// carries from the Cognito event, and the deployment key.
type Caller struct {
	UserPoolID     string
	ClientID       string
	UserName       string
	UserAttributes map[string]string
	ClientMetadata map[string]string
	// UserNotFound: the user does not exist. An issuer or nonce extra must answer with the same
	// shape and similar latency (an issuer sends nothing); a checker must do comparable work and
	// return false.
	UserNotFound bool
	// Key derives keyed identifiers (send-limit keys, placeholders and decoys for unknown users,
	// log references) from the deployment secret. Create and Verify set it on every request.
	Key *keyed.Key
}

// caller returns the Caller of an event: its header, the request's user attributes, client
// metadata and userNotFound flag, and the deployment key.
func caller(h events.CognitoEventUserPoolsHeader, attrs, meta map[string]string, notFound bool, key *keyed.Key) Caller {
	return Caller{UserPoolID: h.UserPoolID, ClientID: h.CallerContext.ClientID, UserName: h.UserName,
		UserAttributes: attrs, ClientMetadata: meta, UserNotFound: notFound, Key: key}
}

// IssueRequest is what a CodeIssuer gets to create a CODE or LINK round.
type IssueRequest struct {
	Challenge authflow.Challenge // Kind is KindCode or KindLink; Method, Generation and SessionID are set
	Caller
}

// Issued is what a CodeIssuer adds to the challenge parameters. It must not overwrite the keys of
// authflow.Challenge.Private.
type Issued struct {
	Public  map[string]string
	Private map[string]string
}

// CodeIssuer creates a CODE or LINK round: it sends a code or a link (at most once per round,
// Cognito may retry) and returns what Verify needs to check the answer.
type CodeIssuer interface {
	Issue(ctx context.Context, req IssueRequest) (Issued, error)
}

// CheckRequest is what a Checker gets to check one answer.
type CheckRequest struct {
	Challenge authflow.Challenge // the round answered, as Create described it
	Method    authflow.Method    // the method the answer is for
	Private   map[string]string  // all private challenge parameters of the round
	Answer    string
	Caller
}

// SuccessHook is told about every answer Verify accepts, after the check and before tokens are
// issued (for example to reset a recipient's growing send delays). An error is logged and does
// not fail the sign-in.
type SuccessHook interface {
	Succeeded(ctx context.Context, req CheckRequest) error
}

// LockHook is told when Verify refuses a guessable answer because the account is locked (its
// FailureCounter refused the attempt slot), for a user that exists. req describes the refused
// answer without the answer itself (Answer is empty). It runs before Verify answers Cognito, so it
// must return within a bounded time (package notify gives up after its timeout); it returns
// nothing: the refusal stands whatever the hook does.
type LockHook interface {
	Locked(ctx context.Context, req CheckRequest)
}

// Checker checks answers for one method. It returns an error only when it could not decide
// (a dependency failed); the sign-in then fails, it is never let through.
type Checker interface {
	Check(ctx context.Context, req CheckRequest) (bool, error)
}

// FailureCounter limits wrong answers to guessable challenges (one-time codes) per account across
// sessions. Verify reserves an attempt slot before it checks such an answer and gives the slot
// back when the answer was right, so only wrong answers keep their slots; once an account's slots
// of the current window are taken, Verify refuses its guessable answers without checking them,
// right ones included. Answers with a key (device_key, passkey) are neither gated nor counted.
type FailureCounter interface {
	// Reserve takes one attempt slot of account for attemptID with one conditional write and
	// reports whether it was granted (false: the account is locked). Reserving an attemptID
	// that already holds a slot is granted again without taking a second one, so a retried
	// Verify counts once. k keys the account before it reaches storage.
	Reserve(ctx context.Context, k *keyed.Key, account, attemptID string) (bool, error)
	// Release gives back the slot of attemptID (the answer was right).
	Release(ctx context.Context, k *keyed.Key, account, attemptID string) error
}

// Account is the per-account identity for failure counting: the user's sub when known, else the
// pool and user name (unknown users are counted too, so probing them costs the same). It may hold
// an email address or phone number: a FailureCounter keys it (keyed.Key) before storing it.
func Account(userPoolID, userName string, attrs map[string]string) string {
	if sub := attrs["sub"]; sub != "" {
		return "sub:" + sub
	}
	return "name:" + userPoolID + "/" + userName
}

// UserRef is a short reference to a user for log lines: 12 hex digits of an HMAC under the
// deployment key (keyed.Key.Ref, purpose "userref"), so an operator can follow one user's lines
// while nobody without the deployment secret can tell whose they are (an unkeyed hash of an email
// address or phone number is reversible in seconds). It returns "" when k is nil.
func UserRef(k *keyed.Key, userPoolID, userName string) string {
	if k == nil {
		return ""
	}
	return k.Ref("userref", userPoolID, userName)
}

// fetchKey returns the deployment key for one request. With no Source it returns nil, which is
// allowed only when no method is enabled (such a deployment signs nobody in); otherwise it is an
// error, as is a Source that fails: the trigger then fails closed.
func fetchKey(ctx context.Context, src keyed.Source, cfg authflow.Config) (*keyed.Key, error) {
	if src == nil {
		if len(cfg.Methods) > 0 {
			return nil, errors.New("no deployment key source configured")
		}
		return nil, nil
	}
	k, err := src.Key(ctx)
	if err == nil && k == nil {
		err = errors.New("the key source returned no key")
	}
	return k, err
}

// deploymentKey is the first step of Create and Verify (fn names which): the deployment key
// (fetchKey) and log with the keyed reference of user in pool added. When the key is unavailable
// it logs that, counts SignInFailed{Reason: dependency} (without a method: the round is not read
// yet) and returns ErrUnavailable.
func deploymentKey(ctx context.Context, fn string, src keyed.Source, cfg authflow.Config, m MetricCounter, log *slog.Logger,
	pool, user string) (*keyed.Key, *slog.Logger, error) {
	key, err := fetchKey(ctx, src, cfg)
	if err != nil {
		log.ErrorContext(ctx, fn+": deployment key unavailable", "err", err)
		count(m, metrics.SignInFailed, metrics.Dims{Reason: metrics.ReasonDependency})
		return nil, log, ErrUnavailable
	}
	if key != nil {
		log = log.With("user", UserRef(key, pool, user))
	}
	return key, log, nil
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
