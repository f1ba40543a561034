// Command api is the HTTP API handler (see package api).
package main

import (
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/logging"
)

func main() {
	clientID := os.Getenv(api.EnvClientID)
	if clientID == "" {
		log.Fatalf("api: %s is not set", api.EnvClientID)
	}
	h := api.New(clientID, logging.New(nil, nil))
	lambda.Start(h.Handle)
}
