// Command create is the CreateAuthChallenge trigger (see package triggers).
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/cmd/internal/wiring"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/magiclink"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/passkey/passkeyconf"
	"github.com/passwordless-go/cognito/lambdas/passkey/passkeynonce"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

func main() {
	// METRICS_NAMESPACE unset: rec is nil and every metric is a no-op.
	cfg, logger, rec := wiring.Trigger("create")
	var err error
	h := &triggers.Create{Config: cfg, Log: logger, Issuers: map[authflow.Method]triggers.CodeIssuer{}}
	if rec != nil {
		h.Metrics = rec
	}
	// Create publishes no audit events; the wrapper flushes the invocation's metrics.
	handler := audit.Wrap(h.Handle, nil, rec)
	if len(cfg.Methods) == 0 {
		// Nothing to sign in with: no key, no dependencies.
		lambda.Start(handler)
		return
	}
	// One aws.Config for every client, its HTTP client timed per call when metrics are on.
	aws, api := wiring.AWS("create", rec)
	// The deployment key is read on the first request, not here: init makes no network call.
	if h.Keys, err = keyed.FromEnv(nil, api); err != nil {
		log.Fatalf("create: %v", err)
	}
	var keys *store.Store
	if cfg.Enabled(authflow.EmailOTP) || cfg.Enabled(authflow.SMSOTP) || cfg.Enabled(authflow.MagicLink) || cfg.Enabled(authflow.Passkey) {
		if keys, err = store.FromConfig(nil, aws); err != nil {
			log.Fatalf("create: %v", err)
		}
	}
	if cfg.Enabled(authflow.EmailOTP) || cfg.Enabled(authflow.SMSOTP) {
		codes, err := otp.FromEnv(nil)
		if err != nil {
			log.Fatalf("create: %v", err)
		}
		deps := otp.IssuerDeps{Store: keys, Log: logger}
		if rec != nil {
			deps.Metrics = rec
		}
		if cfg.Enabled(authflow.EmailOTP) {
			deps.Email = api
		}
		if cfg.Enabled(authflow.SMSOTP) {
			deps.SMS = api
		}
		issuer, err := otp.NewIssuer(codes, deps)
		if err != nil {
			log.Fatalf("create: %v", err)
		}
		for _, m := range cfg.Methods {
			if m.IsCode() {
				h.Issuers[m] = issuer
			}
		}
	}
	if cfg.Enabled(authflow.MagicLink) {
		links, err := magiclink.FromEnv(nil)
		if err != nil {
			log.Fatalf("create: %v", err)
		}
		deps := magiclink.IssuerDeps{Store: keys, Email: api, Log: logger}
		if rec != nil {
			deps.Metrics = rec
		}
		issuer, err := magiclink.NewIssuer(links, deps)
		if err != nil {
			log.Fatalf("create: %v", err)
		}
		h.Issuers[authflow.MagicLink] = issuer
	}
	if cfg.Enabled(authflow.Passkey) {
		// Every nonce round publishes passkey request options (the user's credentials, or decoys).
		// passkeyconf and passkeynonce do not link go-webauthn, which only Verify and the API need.
		pcfg, err := passkeyconf.ConfigFromEnv(nil)
		if err != nil {
			log.Fatalf("create: %v", err)
		}
		h.NonceExtras = passkeynonce.NewOptions(pcfg, keys, passkeynonce.WithLogger(logger))
	}
	lambda.Start(handler)
}
