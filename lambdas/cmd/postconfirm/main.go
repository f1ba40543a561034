// Command postconfirm is the PostConfirmation trigger of native mode (see package postconfirm).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/passwordless-go/cognito/lambdas/cmd/internal/wiring"
	"github.com/passwordless-go/cognito/lambdas/logging"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/postconfirm"
)

func main() {
	logger := logging.New(nil, nil)
	// Metrics (METRICS_NAMESPACE; nil when off): the Cognito calls' DependencyLatency and
	// DependencyErrors, written when each invocation ends. A namespace CloudWatch would refuse
	// turns them off, logged: metrics never fail a confirmation.
	rec, err := metrics.FromEnv(nil, nil)
	if err != nil {
		logger.Error("postconfirm: metrics off", "err", err)
	}
	_, api := wiring.AWS("postconfirm", rec)
	h, err := postconfirm.New(api, logger)
	if err != nil {
		log.Fatalf("postconfirm: %v", err)
	}
	// No audit trail here (it would link the deployment key, which this trigger does not need):
	// only the metrics are flushed after each invocation, also when it failed.
	lambda.Start(func(ctx context.Context, ev events.CognitoEventUserPoolsPostConfirmation) (events.CognitoEventUserPoolsPostConfirmation, error) {
		defer rec.Flush()
		return h.Handle(ctx, ev)
	})
}
