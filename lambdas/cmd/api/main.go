// Command api is the HTTP API handler (see package api).
package main

import (
	"errors"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/logging"
	"github.com/passwordless-go/cognito/lambdas/passkey"
	"github.com/passwordless-go/cognito/lambdas/store"
)

func main() {
	clientID := os.Getenv(api.EnvClientID)
	if clientID == "" {
		log.Fatalf("api: %s is not set", api.EnvClientID)
	}
	logger := logging.New(nil, nil)
	h := api.New(clientID, logger)
	handle := h.Handle
	passkeys := os.Getenv(passkey.EnvRPID) != ""
	keys, err := store.FromEnv(nil)
	switch {
	case errors.Is(err, store.ErrNoTable):
		// No key table: only the built-in routes.
		if passkeys {
			log.Fatalf("api: %s is set but %s is not", passkey.EnvRPID, store.EnvTableName)
		}
	case err != nil:
		log.Fatalf("api: %v", err)
	default:
		cfg, err := api.DeviceKeyConfigFromEnv(nil)
		if err != nil {
			log.Fatalf("api: %v", err)
		}
		h.WithDeviceKeys(keys, cfg)
		if passkeys {
			// The passkey routes, including the public POST /passkeys/authentication/options.
			pcfg, err := api.PasskeyConfigFromEnv(nil)
			if err != nil {
				log.Fatalf("api: %v", err)
			}
			handle = h.WithPasskeys(keys, pcfg).Handle
		}
	}
	if !passkeys {
		for _, name := range []string{passkey.EnvOrigins, passkey.EnvRPName, passkey.EnvUserVerification, passkey.EnvResidentKey,
			passkey.EnvAttestation, passkey.EnvAttachment, passkey.EnvTimeoutSeconds, passkey.EnvMaxPerUser} {
			if os.Getenv(name) != "" {
				log.Fatalf("api: %s is set but %s is not", name, passkey.EnvRPID)
			}
		}
	}
	lambda.Start(handle)
}
