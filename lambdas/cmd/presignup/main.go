// Command presignup is the PreSignUp trigger (see package triggers).
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/passwordless-go/cognito/lambdas/logging"
	"github.com/passwordless-go/cognito/lambdas/signup"
)

func main() {
	h, err := signup.FromEnv(nil, logging.New(nil, nil))
	if err != nil {
		log.Fatalf("presignup: %v", err)
	}
	lambda.Start(h.Handle)
}
