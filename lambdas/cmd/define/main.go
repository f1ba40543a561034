// Command define is the DefineAuthChallenge trigger (see package triggers/define). It imports
// that package, not package triggers, so that it links no AWS SDK (main_test.go); it emits no
// metrics.
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/logging"
	"github.com/passwordless-go/cognito/lambdas/triggers/define"
)

func main() {
	cfg, err := authflow.ConfigFromEnv(nil)
	if err != nil {
		log.Fatalf("define: %v", err)
	}
	h := &define.Define{Config: cfg, Log: logging.New(nil, nil)}
	lambda.Start(h) // Define implements lambda.Handler
}
