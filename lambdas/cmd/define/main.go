// Command define is the DefineAuthChallenge trigger (see package triggers).
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/logging"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

func main() {
	cfg, err := authflow.ConfigFromEnv(nil)
	if err != nil {
		log.Fatalf("define: %v", err)
	}
	h := &triggers.Define{Config: cfg, Log: logging.New(nil, nil)}
	lambda.Start(h) // Define implements lambda.Handler
}
