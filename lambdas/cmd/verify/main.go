// Command verify is the VerifyAuthChallengeResponse trigger (see package triggers).
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/cmd/internal/wiring"
	"github.com/passwordless-go/cognito/lambdas/keyauth"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/magiclink"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/passkey"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
	"github.com/passwordless-go/cognito/lambdas/triggers/notifyhook"
)

func main() {
	// METRICS_NAMESPACE unset: rec is nil and every metric is a no-op.
	cfg, logger, rec := wiring.Trigger("verify")
	var err error
	h := &triggers.Verify{Config: cfg, Log: logger, Checkers: map[authflow.Method]triggers.Checker{}}
	if rec != nil {
		h.Metrics = rec
	}
	if len(cfg.Methods) == 0 {
		// Nothing to sign in with: every answer is wrong, no key, no dependencies, no audit.
		lambda.Start(audit.Wrap(h.Handle, nil, rec))
		return
	}
	// One aws.Config for every client, its HTTP client timed per call when metrics are on.
	aws, api := wiring.AWS("verify", rec)
	// AUDIT_EVENT_BUS unset: pub is nil and nothing is published.
	pub, err := audit.FromEnv(nil, api, logger, rec, "verify")
	if err != nil {
		log.Fatalf("verify: %v", err)
	}
	if pub != nil {
		h.Audit = pub
	}
	// The deployment key is read on the first request, not here: init makes no network call.
	if h.Keys, err = keyed.FromEnv(nil, api); err != nil {
		log.Fatalf("verify: %v", err)
	}
	keys, err := store.FromConfig(nil, aws)
	if err != nil {
		log.Fatalf("verify: %v", err)
	}
	limits, err := lockout.FromEnv(nil)
	if err != nil {
		log.Fatalf("verify: %v", err)
	}
	counter, err := lockout.New(keys, limits)
	if err != nil {
		log.Fatalf("verify: %v", err)
	}
	h.Failures = counter
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
	}
	if cfg.Enabled(authflow.MagicLink) {
		sameDevice, err := magiclink.SameDeviceFromEnv(nil)
		if err != nil {
			log.Fatalf("verify: %v", err)
		}
		if h.Checkers[authflow.MagicLink], err = magiclink.NewChecker(keys, sameDevice, logger); err != nil {
			log.Fatalf("verify: %v", err)
		}
	}
	for _, m := range cfg.Methods {
		if m.Sends() {
			// Any accepted answer (codes, links, device keys, passkeys) starts the user's send
			// delays afresh.
			h.OnSuccess = append(h.OnSuccess, otp.NewSendReset(keys, logger))
			break
		}
	}
	// Notifications (NOTIFY_EVENTS; empty: none, and no calls).
	notices, err := notify.FromEnv(nil, api, keys)
	if err != nil {
		log.Fatalf("verify: %v", err)
	}
	if rec != nil {
		notices.SetMetrics(rec)
	}
	if notices.Enabled(notify.AccountLocked) {
		hook, err := notifyhook.NewLocked(notices, counter, nil)
		if err != nil {
			log.Fatalf("verify: %v", err)
		}
		h.OnLocked = append(h.OnLocked, hook)
	}
	if notices.Enabled(notify.NewMethodSignIn) {
		hook, err := notifyhook.NewNewMethod(notices, keys)
		if err != nil {
			log.Fatalf("verify: %v", err)
		}
		h.OnSuccess = append(h.OnSuccess, hook)
	}
	// The wrapper sends the invocation's audit events (bounded by AUDIT_TIMEOUT) and writes its
	// metrics after the handler returns, whatever it returned.
	lambda.Start(audit.Wrap(h.Handle, pub, rec))
}
