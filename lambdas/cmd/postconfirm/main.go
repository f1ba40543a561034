// Command postconfirm is the PostConfirmation trigger of native mode (see package postconfirm).
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/awsconfig"
	"github.com/passwordless-go/cognito/lambdas/logging"
	"github.com/passwordless-go/cognito/lambdas/postconfirm"
)

func main() {
	aws, err := awsconfig.New(nil)
	if err != nil {
		log.Fatalf("postconfirm: %v", err)
	}
	api, err := awsapi.New(aws)
	if err != nil {
		log.Fatalf("postconfirm: %v", err)
	}
	h, err := postconfirm.New(api, logging.New(nil, nil))
	if err != nil {
		log.Fatalf("postconfirm: %v", err)
	}
	lambda.Start(h.Handle)
}
