// Package define is the DefineAuthChallenge trigger. It decides from the event alone
// (authflow.Plan) and calls nothing outside the process, so it can neither be slowed by a
// dependency nor fail open through one. It is a package of its own so that the define binary
// links only what it needs: package triggers (Create and Verify) reaches package audit and through
// it the AWS SDK, which define must not link (cmd/define's dependency test). Package triggers
// re-exports the type as triggers.Define.
package define

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
)

// Define is the DefineAuthChallenge trigger. It only applies authflow.Plan: it calls nothing
// outside the process (not even for the deployment key), so it cannot be made to fail open by a
// failing dependency. Its log lines name the sign-in by its random session ID (from the last
// round's challengeMetadata), never the user. It emits no metrics: what it decides is counted by
// Create (SignInStarted) and Verify (SignInSucceeded, SignInFailed).
type Define struct {
	Config authflow.Config
	Log    *slog.Logger // nil: no logging
}

// Handle answers one DefineAuthChallenge event.
func (d *Define) Handle(ctx context.Context, ev events.CognitoEventUserPoolsDefineAuthChallenge) (events.CognitoEventUserPoolsDefineAuthChallenge, error) {
	ev.Response = d.decide(ctx, ev.Request.Session, ev.Request.ClientMetadata, ev.Request.UserNotFound)
	return ev, nil
}

// defineWire is the DefineAuthChallenge event as Invoke reads and echoes it: the same fields as
// events.CognitoEventUserPoolsDefineAuthChallenge, but the user attributes pass through as raw
// JSON, never decoded into a map.
type defineWire struct {
	events.CognitoEventUserPoolsHeader
	Request  defineRequest                                           `json:"request"`
	Response events.CognitoEventUserPoolsDefineAuthChallengeResponse `json:"response"`
}

type defineRequest struct {
	UserAttributes json.RawMessage                                `json:"userAttributes,omitempty"`
	Session        []*events.CognitoEventUserPoolsChallengeResult `json:"session"`
	ClientMetadata map[string]string                              `json:"clientMetadata,omitempty"`
	UserNotFound   bool                                           `json:"userNotFound"`
}

// Invoke implements lambda.Handler: the same answer as Handle without decoding the user
// attributes (fewer allocations than the reflective path). The binary uses it.
func (d *Define) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var w defineWire
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, fmt.Errorf("define: malformed event: %w", err)
	}
	r := w.Request
	w.Response = d.decide(ctx, r.Session, r.ClientMetadata, r.UserNotFound)
	return json.Marshal(&w)
}

func (d *Define) decide(ctx context.Context, session []*events.CognitoEventUserPoolsChallengeResult, clientMetadata map[string]string, userNotFound bool) events.CognitoEventUserPoolsDefineAuthChallengeResponse {
	outcome, next, reason := authflow.Plan(session, clientMetadata, userNotFound, d.Config)
	var resp events.CognitoEventUserPoolsDefineAuthChallengeResponse
	switch outcome {
	case authflow.IssueTokens:
		resp.IssueTokens = true
	case authflow.Continue:
		resp.ChallengeName = authflow.ChallengeName
	default:
		resp.FailAuthentication = true
	}
	log := d.Log
	if log == nil || !log.Enabled(ctx, slog.LevelInfo) {
		return resp
	}
	attrs := []any{"round", len(session) + 1, "outcome", outcome.String()}
	if n := len(session); n > 0 && session[n-1] != nil {
		if c, err := authflow.ParseChallenge(session[n-1].ChallengeMetadata); err == nil {
			attrs = append(attrs, "session", c.SessionID)
		}
	}
	if outcome == authflow.Continue {
		attrs = append(attrs, "next", string(next.Kind), "why", string(next.Reason))
	}
	if reason != "" {
		attrs = append(attrs, "reason", reason)
	}
	log.InfoContext(ctx, "define", attrs...)
	return resp
}
