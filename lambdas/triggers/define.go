package triggers

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
)

// Define is the DefineAuthChallenge trigger. It only applies authflow.Plan: it calls nothing
// outside the process, so it cannot be made to fail open by a failing dependency.
type Define struct {
	Config authflow.Config
	Log    *slog.Logger // nil: no logging
}

// Handle answers one DefineAuthChallenge event.
func (d *Define) Handle(ctx context.Context, ev events.CognitoEventUserPoolsDefineAuthChallenge) (events.CognitoEventUserPoolsDefineAuthChallenge, error) {
	outcome, next, reason := authflow.Plan(ev.Request.Session, ev.Request.ClientMetadata, ev.Request.UserNotFound, d.Config)
	ev.Response = events.CognitoEventUserPoolsDefineAuthChallengeResponse{}
	switch outcome {
	case authflow.IssueTokens:
		ev.Response.IssueTokens = true
	case authflow.Continue:
		ev.Response.ChallengeName = authflow.ChallengeName
	default:
		ev.Response.FailAuthentication = true
	}
	attrs := []any{
		"user", userRef(ev.UserPoolID, ev.UserName),
		"round", len(ev.Request.Session) + 1,
		"outcome", outcome.String(),
	}
	if outcome == authflow.Continue {
		attrs = append(attrs, "next", string(next.Kind), "why", string(next.Reason))
	}
	if reason != "" {
		attrs = append(attrs, "reason", reason)
	}
	logger(d.Log).InfoContext(ctx, "define", attrs...)
	return ev, nil
}
