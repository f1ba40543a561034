// Command api is the HTTP API handler (see package api).
package main

import (
	"errors"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/logging"
	"github.com/passwordless-go/cognito/lambdas/store"
)

func main() {
	clientID := os.Getenv(api.EnvClientID)
	if clientID == "" {
		log.Fatalf("api: %s is not set", api.EnvClientID)
	}
	logger := logging.New(nil, nil)
	h := api.New(clientID, logger)
	keys, err := store.FromEnv(nil)
	switch {
	case errors.Is(err, store.ErrNoTable):
		// No key table: only the built-in routes.
	case err != nil:
		log.Fatalf("api: %v", err)
	default:
		cfg, err := api.DeviceKeyConfigFromEnv(nil)
		if err != nil {
			log.Fatalf("api: %v", err)
		}
		h.WithDeviceKeys(keys, cfg)
	}
	lambda.Start(h.Handle)
}
