// Command verify is the VerifyAuthChallengeResponse trigger (see package triggers).
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/keyauth"
	"github.com/passwordless-go/cognito/lambdas/logging"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

func main() {
	cfg, err := authflow.ConfigFromEnv(nil)
	if err != nil {
		log.Fatalf("verify: %v", err)
	}
	logger := logging.New(nil, nil)
	h := &triggers.Verify{Config: cfg, Log: logger, Checkers: map[authflow.Method]triggers.Checker{}}
	if cfg.Enabled(authflow.DeviceKey) {
		keys, err := store.FromEnv(nil)
		if err != nil {
			log.Fatalf("verify: device_key is enabled: %v", err)
		}
		h.Checkers[authflow.DeviceKey] = keyauth.New(keys, keyauth.WithLogger(logger))
	}
	lambda.Start(h.Handle)
}
