// Package triggers holds the Cognito trigger handlers: Define, Create and Verify for custom auth,
// and PreSignUp. Each is a struct whose Handle method has the signature lambda.Start expects; the
// binaries under lambdas/cmd only build one from the environment and start it.
//
// Methods plug in through two narrow interfaces: a CodeIssuer sends a one-time code in a CODE round,
// a Checker checks an answer. A method with no Checker can never sign anyone in.
package triggers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/keyed"
)

// IssueRequest is what a CodeIssuer gets to create a CODE round.
type IssueRequest struct {
	Challenge      authflow.Challenge // Kind is KindCode; Method, Generation and SessionID are set
	UserPoolID     string
	ClientID       string
	UserName       string
	UserAttributes map[string]string
	ClientMetadata map[string]string
	// UserNotFound: the issuer must answer with the same shape and similar latency and send nothing.
	UserNotFound bool
	// Key derives keyed identifiers (send-limit keys, placeholders for unknown users, log
	// references) from the deployment secret. Create sets it on every request.
	Key *keyed.Key
}

// Issued is what a CodeIssuer adds to the challenge parameters. It must not overwrite the keys of
// authflow.Challenge.Private.
type Issued struct {
	Public  map[string]string
	Private map[string]string
}

// CodeIssuer creates a CODE round: it sends a code (at most once per round, Cognito may retry)
// and returns what Verify needs to check it.
type CodeIssuer interface {
	Issue(ctx context.Context, req IssueRequest) (Issued, error)
}

// CheckRequest is what a Checker gets to check one answer.
type CheckRequest struct {
	Challenge      authflow.Challenge // the round answered, as Create described it
	Method         authflow.Method    // the method the answer is for
	Private        map[string]string  // all private challenge parameters of the round
	Answer         string
	UserPoolID     string
	ClientID       string
	UserName       string
	UserAttributes map[string]string
	ClientMetadata map[string]string
	// UserNotFound: the checker must do comparable work and return false.
	UserNotFound bool
	// Key derives keyed identifiers from the deployment secret. Verify sets it on every request.
	Key *keyed.Key
}

// SuccessHook is told about every answer Verify accepts, after the check and before tokens are
// issued (for example to reset a recipient's growing send delays). An error is logged and does
// not fail the sign-in.
type SuccessHook interface {
	Succeeded(ctx context.Context, req CheckRequest) error
}

// Checker checks answers for one method. It returns an error only when it could not decide
// (a dependency failed); the sign-in then fails, it is never let through.
type Checker interface {
	Check(ctx context.Context, req CheckRequest) (bool, error)
}

// FailureCounter counts wrong answers per account across sessions (Verify refuses an account
// whose count in the current window reached the limit, even with a right answer).
type FailureCounter interface {
	// Locked reports whether account has reached the failure limit.
	Locked(ctx context.Context, account string) (bool, error)
	// RecordFailure counts one wrong answer for account.
	RecordFailure(ctx context.Context, account string) error
}

// Account is the per-account key for failure counting: the user's sub when known, else the pool
// and user name (unknown users are counted too, so probing them costs the same).
func Account(userPoolID, userName string, attrs map[string]string) string {
	if sub := attrs["sub"]; sub != "" {
		return "sub:" + sub
	}
	return "name:" + userPoolID + "/" + userName
}

// UserRef is a short, non-reversible reference to a user for log lines (no PII in logs).
func UserRef(userPoolID, userName string) string {
	h := sha256.Sum256([]byte(userPoolID + "\x00" + userName))
	return hex.EncodeToString(h[:6])
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
