package triggers

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
)

// MaxAnswerLength caps the answers Verify reads; longer ones are wrong without further work.
const MaxAnswerLength = 8192

// Verify is the VerifyAuthChallengeResponse trigger. It checks an answer only when the client
// meant it as an attempt (authflow.Classify), with the Checker of the method; with no Checker for
// a method every answer for it is wrong. Accounts at their failure limit are refused even with a
// right answer.
type Verify struct {
	Config   authflow.Config
	Checkers map[authflow.Method]Checker
	Failures FailureCounter // nil: no per-account counting
	Log      *slog.Logger   // nil: no logging
}

// Handle answers one VerifyAuthChallengeResponse event. The answer itself is never logged.
func (v *Verify) Handle(ctx context.Context, ev events.CognitoEventUserPoolsVerifyAuthChallenge) (events.CognitoEventUserPoolsVerifyAuthChallenge, error) {
	ev.Response.AnswerCorrect = false
	log := logger(v.Log).With("user", UserRef(ev.UserPoolID, ev.UserName))
	ch, err := authflow.ChallengeFromPrivate(ev.Request.PrivateChallengeParameters)
	if err != nil {
		log.WarnContext(ctx, "verify: unreadable challenge", "err", err)
		return ev, nil
	}
	intent := authflow.Classify(ch, ev.Request.ClientMetadata, v.Config)
	log = log.With("kind", string(ch.Kind), "intent", intent.String())
	if intent != authflow.Attempt {
		// A method choice or a resend request: nothing to check; Define moves on or fails.
		log.InfoContext(ctx, "verify: not an attempt")
		return ev, nil
	}
	method := ch.Method
	if ch.Kind == authflow.KindNonce {
		method = authflow.Method(ev.Request.ClientMetadata[authflow.MetaSignInMethod])
	}
	log = log.With("method", string(method))
	answer, ok := ev.Request.ChallengeAnswer.(string)
	checker := v.Checkers[method]
	account := Account(ev.UserPoolID, ev.UserName, ev.Request.UserAttributes)
	// The failure counter is read while the answer is checked: under a slow store that is one
	// round trip less inside Cognito's 5 s. A locked account is refused whatever the check says.
	type lockState struct {
		locked bool
		err    error
	}
	lockc := make(chan lockState, 1)
	if v.Failures != nil {
		go func() {
			locked, err := v.Failures.Locked(ctx, account)
			lockc <- lockState{locked, err}
		}()
	} else {
		lockc <- lockState{}
	}
	correct, checkErr := false, error(nil)
	switch {
	case checker == nil:
		log.WarnContext(ctx, "verify: method has no checker")
	case !ok || len(answer) > MaxAnswerLength:
		log.InfoContext(ctx, "verify: answer not a string of acceptable length")
	default:
		correct, checkErr = checker.Check(ctx, CheckRequest{
			Challenge:      ch,
			Method:         method,
			Private:        ev.Request.PrivateChallengeParameters,
			Answer:         answer,
			UserPoolID:     ev.UserPoolID,
			ClientID:       ev.CallerContext.ClientID,
			UserName:       ev.UserName,
			UserAttributes: ev.Request.UserAttributes,
			ClientMetadata: ev.Request.ClientMetadata,
			UserNotFound:   ev.Request.UserNotFound,
		})
	}
	lock := <-lockc
	switch {
	case lock.err != nil:
		log.ErrorContext(ctx, "verify: failure counter unavailable", "err", lock.err)
		return ev, ErrUnavailable
	case lock.locked:
		log.WarnContext(ctx, "verify: account locked by failure limit")
		return ev, nil
	case checkErr != nil:
		log.ErrorContext(ctx, "verify: checker could not decide", "err", checkErr)
		return ev, ErrUnavailable
	}
	if ev.Request.UserNotFound {
		correct = false
	}
	if !correct && v.Failures != nil {
		if err := v.Failures.RecordFailure(ctx, account); err != nil {
			log.ErrorContext(ctx, "verify: recording the failure failed", "err", err)
			return ev, ErrUnavailable
		}
	}
	ev.Response.AnswerCorrect = correct
	log.InfoContext(ctx, "verify", "correct", correct)
	return ev, nil
}
