// Command api is the HTTP API handler (see package api).
package main

import (
	"errors"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/awsconfig"
	"github.com/passwordless-go/cognito/lambdas/contact"
	"github.com/passwordless-go/cognito/lambdas/keyed"
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
	// Routes that change something check the caller's access token with Cognito GetUser (revoked
	// tokens still pass API Gateway's authorizer). Building the client makes no network call.
	awsCfg, err := awsconfig.New(nil)
	if err != nil {
		log.Fatalf("api: %v", err)
	}
	cognito, err := awsapi.New(awsCfg)
	if err != nil {
		log.Fatalf("api: %v", err)
	}
	h := api.New(clientID, logger).WithTokenChecker(api.CognitoTokens{Client: cognito})
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
		if os.Getenv(contact.EnvUserPoolID) != "" {
			// Adding or changing an email address or phone number (the app client cannot write them).
			ccfg, err := contact.FromEnv(nil)
			if err != nil {
				log.Fatalf("api: %v", err)
			}
			ccfg.MaxAuthAge = cfg.MaxAuthAge // the same recent sign-in as device-key registration
			// The deployment key is read on the first request that needs it, not here.
			secret, err := keyed.FromEnv(nil, cognito)
			if err != nil {
				log.Fatalf("api: %v", err)
			}
			svc, err := contact.New(ccfg, contact.Deps{Store: keys, Keys: secret, Users: cognito, Email: cognito, SMS: cognito, Log: logger})
			if err != nil {
				log.Fatalf("api: %v", err)
			}
			h.WithContact(svc)
		}
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
			passkey.EnvAttestation, passkey.EnvAttachment, passkey.EnvTimeoutSeconds, passkey.EnvMaxPerUser, passkey.EnvAllowCredentials} {
			if os.Getenv(name) != "" {
				log.Fatalf("api: %s is set but %s is not", name, passkey.EnvRPID)
			}
		}
	}
	lambda.Start(handle)
}
