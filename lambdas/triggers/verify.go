package triggers

import (
	"context"
	"log/slog"
	"strconv"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/metrics"
)

// MaxAnswerLength caps the answers Verify reads; longer ones are wrong without further work.
const MaxAnswerLength = 8192

// Verify is the VerifyAuthChallengeResponse trigger. It checks an answer only when the client
// meant it as an attempt (authflow.Classify), with the Checker of the method; with no Checker for
// a method every answer for it is wrong.
//
// An answer for a guessable method (a one-time code, a link's secret) is checked only after Failures granted it
// an attempt slot; a refused slot means the account is locked and the answer is wrong, right or
// not, without being checked (nor any of the Checker's side effects). The slot is named by the
// session, the round and a keyed digest of the answer, so a Cognito retry of the same Verify
// holds the same slot. A right answer gives its slot back; a wrong one keeps it. Key proofs
// (device_key, passkey) cannot be guessed: they take no slot and are never refused by a lock.
type Verify struct {
	Config   authflow.Config
	Checkers map[authflow.Method]Checker
	Failures FailureCounter // nil: no per-account limit
	// OnSuccess is told about every accepted answer, concurrently with giving back its attempt
	// slot; errors are logged and never fail the sign-in. nil: none.
	OnSuccess []SuccessHook
	// OnLocked is told about every guessable answer of an existing user refused because the
	// account is locked, one hook after the other. nil: none.
	OnLocked []LockHook
	// Keys hands out the deployment key, fetched once per request and passed to checkers.
	// nil is allowed only when Config enables no method; otherwise every answer fails closed.
	Keys keyed.Source
	Log  *slog.Logger // nil: no logging
	// Metrics counts every attempt's outcome: SignInSucceeded{Method} for an accepted answer,
	// SignInFailed{Method, Reason} for a refused one (wrong_answer, expired, locked, dependency)
	// and Lockouts for each guessable answer refused because the account is locked. nil: none.
	Metrics MetricCounter
	// Audit takes the attempts' security events: sign_in.succeeded, sign_in.failed and
	// account.locked, naming the user by its keyed reference (audit.UserRef), never by name.
	// nil: none.
	Audit AuditLog
}

// Handle answers one VerifyAuthChallengeResponse event. The answer itself is never logged.
func (v *Verify) Handle(ctx context.Context, ev events.CognitoEventUserPoolsVerifyAuthChallenge) (events.CognitoEventUserPoolsVerifyAuthChallenge, error) {
	ev.Response.AnswerCorrect = false
	// A missing key is not audited: without it there is no user reference, and the name itself
	// never goes in an event.
	key, log, err := deploymentKey(ctx, "verify", v.Keys, v.Config, v.Metrics, logger(v.Log), ev.UserPoolID, ev.UserName)
	if err != nil {
		return ev, err
	}
	private := ev.Request.PrivateChallengeParameters
	ch, err := authflow.ChallengeFromPrivate(private)
	if err != nil {
		log.WarnContext(ctx, "verify: unreadable challenge", "err", err)
		return ev, nil
	}
	intent := authflow.Classify(ch, ev.Request.ClientMetadata, v.Config)
	log = log.With("session", ch.SessionID, "kind", string(ch.Kind), "intent", intent.String())
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
	ok = ok && len(answer) <= MaxAnswerLength
	if !ok {
		answer = ""
	}
	account := Account(ev.UserPoolID, ev.UserName, ev.Request.UserAttributes)
	out := outcome{v: v, key: key, poolID: ev.UserPoolID, userName: ev.UserName, method: method}
	req := CheckRequest{
		Challenge: ch,
		Method:    method,
		Private:   private,
		Caller:    caller(ev.CognitoEventUserPoolsHeader, ev.Request.UserAttributes, ev.Request.ClientMetadata, ev.Request.UserNotFound, key),
	}

	// A guessable answer is checked only in a slot reserved first: concurrent answers in other
	// sessions can never have more than the limit checked, and the checker's side effects (such
	// as marking an address verified) never run for a locked account.
	attemptID := ""
	if method.Guessable() && v.Failures != nil {
		round, err := authflow.Round(private)
		if err != nil {
			log.WarnContext(ctx, "verify: round has no round number", "err", err)
			out.failed(metrics.ReasonWrongAnswer)
			return ev, nil
		}
		attemptID = AttemptID(key, ch.SessionID, round, answer)
		granted, err := v.Failures.Reserve(ctx, key, account, attemptID)
		if err != nil {
			log.ErrorContext(ctx, "verify: failure counter unavailable", "err", err)
			out.failed(metrics.ReasonDependency)
			return ev, ErrUnavailable
		}
		if !granted {
			log.WarnContext(ctx, "verify: account locked by failure limit")
			out.locked(!ev.Request.UserNotFound)
			if !ev.Request.UserNotFound {
				for _, h := range v.OnLocked {
					if h != nil {
						h.Locked(ctx, req) // req.Answer is still empty
					}
				}
			}
			return ev, nil
		}
	}

	checker := v.Checkers[method]
	correct := false
	switch {
	case checker == nil:
		log.WarnContext(ctx, "verify: method has no checker")
	case !ok:
		log.InfoContext(ctx, "verify: answer not a string of acceptable length")
	default:
		req.Answer = answer
		var err error
		if correct, err = checker.Check(ctx, req); err != nil {
			// The slot stays taken: an answer that could not be decided counts as wrong.
			log.ErrorContext(ctx, "verify: checker could not decide", "err", err)
			out.failed(metrics.ReasonDependency)
			return ev, ErrUnavailable
		}
		if correct && !ev.Request.UserNotFound {
			v.succeeded(ctx, log, req, account, attemptID)
		}
	}
	if ev.Request.UserNotFound {
		correct = false
	}
	switch {
	case correct:
		out.succeeded()
	case checker != nil && ok && expired(checker, req):
		out.failed(metrics.ReasonExpired)
	default:
		out.failed(metrics.ReasonWrongAnswer)
	}
	ev.Response.AnswerCorrect = correct
	log.InfoContext(ctx, "verify", "correct", correct)
	return ev, nil
}

// succeeded gives back the attempt slot of a right answer and runs the success hooks, all at
// once (one store round trip in all, inside Cognito's 5 s). Their errors are logged only: the
// answer was right, and a slot not given back merely counts like a wrong answer until its window
// ends.
func (v *Verify) succeeded(ctx context.Context, log *slog.Logger, req CheckRequest, account, attemptID string) {
	var wg sync.WaitGroup
	if attemptID != "" {
		wg.Go(func() {
			if err := v.Failures.Release(ctx, req.Key, account, attemptID); err != nil {
				log.ErrorContext(ctx, "verify: giving back the attempt slot failed", "err", err)
			}
		})
	}
	for i, h := range v.OnSuccess {
		if h == nil {
			continue
		}
		wg.Go(func() {
			if err := h.Succeeded(ctx, req); err != nil {
				log.ErrorContext(ctx, "verify: success hook failed", "hook", i, "err", err)
			}
		})
	}
	wg.Wait()
}

// AttemptID names one answer to one round for the failure counter: the session ID, the round
// number and 12 hex digits of an HMAC of the answer under the deployment key (k nil: "-").
// A Cognito retry of the same Verify carries the same session, round and answer, so it names the
// same attempt and counts once; another answer to the same round (a replayed Cognito session)
// names another attempt and takes another slot. The digest reveals nothing about the answer to
// anyone without the deployment secret.
func AttemptID(k *keyed.Key, sessionID string, round int, answer string) string {
	r := strconv.Itoa(round)
	digest := "-"
	if k != nil {
		digest = k.Ref("attempt", sessionID, r, answer)
	}
	return sessionID + "/" + r + "/" + digest
}
