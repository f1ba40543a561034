// Command verify is the VerifyAuthChallengeResponse trigger (see package triggers).
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/awsconfig"
	"github.com/passwordless-go/cognito/lambdas/keyauth"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/logging"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/passkey"
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
	if len(cfg.Methods) == 0 {
		// Nothing to sign in with: every answer is wrong, no key, no dependencies.
		lambda.Start(h.Handle)
		return
	}
	aws, err := awsconfig.New(nil)
	if err != nil {
		log.Fatalf("verify: %v", err)
	}
	api, err := awsapi.New(aws)
	if err != nil {
		log.Fatalf("verify: %v", err)
	}
	// The deployment key is read on the first request, not here: init makes no network call.
	if h.Keys, err = keyed.FromEnv(nil, api); err != nil {
		log.Fatalf("verify: %v", err)
	}
	keys, err := store.FromEnv(nil)
	if err != nil {
		log.Fatalf("verify: %v", err)
	}
	limits, err := lockout.FromEnv(nil)
	if err != nil {
		log.Fatalf("verify: %v", err)
	}
	if h.Failures, err = lockout.New(keys, limits); err != nil {
		log.Fatalf("verify: %v", err)
	}
	if cfg.Enabled(authflow.DeviceKey) {
		h.Checkers[authflow.DeviceKey] = keyauth.New(keys, keyauth.WithLogger(logger))
	}
	if cfg.Enabled(authflow.Passkey) {
		pcfg, err := passkey.ConfigFromEnv(nil)
		if err != nil {
			log.Fatalf("verify: %v", err)
		}
		rp, err := passkey.NewRP(pcfg)
		if err != nil {
			log.Fatalf("verify: %v", err)
		}
		h.Checkers[authflow.Passkey] = passkey.NewChecker(rp, keys, passkey.WithLogger(logger))
	}
	if cfg.Enabled(authflow.EmailOTP) || cfg.Enabled(authflow.SMSOTP) {
		codes, err := otp.FromEnv(nil)
		if err != nil {
			log.Fatalf("verify: %v", err)
		}
		checker, err := otp.NewChecker(codes, otp.CheckerDeps{Verifier: api, Log: logger})
		if err != nil {
			log.Fatalf("verify: %v", err)
		}
		for _, m := range cfg.Methods {
			if m.IsCode() {
				h.Checkers[m] = checker
			}
		}
		// Any accepted answer (codes, device keys, passkeys) starts the user's send delays afresh.
		h.OnSuccess = append(h.OnSuccess, otp.NewSendReset(keys, logger))
	}
	lambda.Start(h.Handle)
}
