// Command api is the HTTP API handler (see package api).
package main

import (
	"errors"
	"log"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/cmd/internal/wiring"
	"github.com/passwordless-go/cognito/lambdas/contact"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/logging"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/passkey"
	"github.com/passwordless-go/cognito/lambdas/store"
)

func main() {
	clientID := os.Getenv(api.EnvClientID)
	if clientID == "" {
		log.Fatalf("api: %s is not set", api.EnvClientID)
	}
	logger := logging.New(nil, nil)
	// Metrics (METRICS_NAMESPACE; nil when off): EMF lines on standard output, written when each
	// invocation ends. A namespace CloudWatch would refuse turns them off, logged: metrics never
	// stop the API.
	rec, err := metrics.FromEnv(nil, nil)
	if err != nil {
		logger.Error("api: metrics off", "err", err)
	}
	// One AWS configuration for every client, its HTTP client timed per call (DependencyLatency,
	// DependencyErrors). Routes that change something check the caller's access token with
	// Cognito GetUser (revoked tokens still pass API Gateway's authorizer). Building the clients
	// makes no network call.
	awsCfg, cognito := wiring.AWS("api", rec)
	// The audit trail (AUDIT_EVENT_BUS; nil when off): events go to EventBridge when each
	// invocation ends, within AUDIT_TIMEOUT.
	pub, err := audit.FromEnv(nil, cognito, logger, rec, "api")
	if err != nil {
		log.Fatalf("api: %v", err)
	}
	h := api.New(clientID, logger).WithTokenChecker(api.CognitoTokens{Client: cognito})
	if rec != nil {
		h.WithMetrics(rec)
	}
	handle := h.Handle
	passkeys := os.Getenv(passkey.EnvRPID) != ""
	keys, err := store.FromConfig(nil, awsCfg)
	if err != nil && !errors.Is(err, store.ErrNoTable) {
		log.Fatalf("api: %v", err)
	}
	// Security notifications (NOTIFY_EVENTS; off when empty). They need the key table (their
	// de-duplication) and the deployment key, read on the first request that needs it.
	notifier, secret := notifications(cognito, keys)
	if rec != nil {
		notifier.SetMetrics(rec)
	}
	if pub != nil {
		// The events' user reference is keyed with the deployment key.
		if secret == nil {
			log.Fatalf("api: %s is set but %s is not", audit.EnvEventBus, keyed.EnvSecretARN)
		}
		h.WithAudit(pub, secret, os.Getenv(contact.EnvUserPoolID))
	}
	if notifier.Enabled(notify.KeyAdded) || notifier.Enabled(notify.KeyRemoved) ||
		notifier.Enabled(notify.PasskeyAdded) || notifier.Enabled(notify.PasskeyRemoved) {
		h.WithNotifier(notifier, secret, os.Getenv(contact.EnvUserPoolID))
	}
	// Signing out everywhere: Cognito GlobalSignOut with the caller's own access token (no IAM).
	recovery := api.RecoveryConfig{SignOut: cognito}
	switch {
	case errors.Is(err, store.ErrNoTable):
		// No key table: only the built-in routes.
		if passkeys {
			log.Fatalf("api: %s is set but %s is not", passkey.EnvRPID, store.EnvTableName)
		}
	default:
		cfg, err := api.DeviceKeyConfigFromEnv(nil)
		if err != nil {
			log.Fatalf("api: %v", err)
		}
		h.WithDeviceKeys(keys, cfg)
		// Revoking all device keys (and, below, all passkeys) needs the same recent sign-in as
		// registering one.
		recovery.DeviceKeys, recovery.MaxAuthAge = keys, cfg.MaxAuthAge
		if os.Getenv(contact.EnvUserPoolID) != "" {
			// Adding or changing an email address or phone number (the app client cannot write them).
			ccfg, err := contact.FromEnv(nil)
			if err != nil {
				log.Fatalf("api: %v", err)
			}
			ccfg.MaxAuthAge = cfg.MaxAuthAge // the same recent sign-in as device-key registration
			if secret == nil {
				log.Fatalf("api: %s is not set", keyed.EnvSecretARN)
			}
			deps := contact.Deps{Store: keys, Keys: secret, Users: cognito, Email: cognito, SMS: cognito, Log: logger}
			if rec != nil {
				deps.Metrics = rec
			}
			if pub != nil {
				deps.Audit = pub
			}
			if notifier.Enabled(notify.ContactChanged) {
				// The notification replaces the built-in notice to the replaced address.
				deps.Notify = notifier
			}
			svc, err := contact.New(ccfg, deps)
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
			recovery.Passkeys = keys
		}
	}
	h.WithRecovery(recovery)
	if !passkeys {
		for _, name := range []string{passkey.EnvOrigins, passkey.EnvRPName, passkey.EnvUserVerification, passkey.EnvResidentKey,
			passkey.EnvAttestation, passkey.EnvAttachment, passkey.EnvTimeoutSeconds, passkey.EnvMaxPerUser, passkey.EnvAllowCredentials} {
			if os.Getenv(name) != "" {
				log.Fatalf("api: %s is set but %s is not", name, passkey.EnvRPID)
			}
		}
	}
	// After each invocation: the audit events, then the metrics (also when the handler failed).
	lambda.Start(audit.Wrap(handle, pub, rec))
}

// notifications builds the notification sender from NOTIFY_EVENTS and the other notify
// variables (a Sender that sends nothing when the list is empty) and the deployment key source
// (nil when DEPLOYMENT_SECRET_ARN is not set, which is fatal when notifications are on). Neither
// makes a network call.
func notifications(cognito *awsapi.Client, keys *store.Store) (*notify.Sender, keyed.Source) {
	sender, err := notify.FromEnv(nil, cognito, keys)
	if err != nil {
		log.Fatalf("api: %v", err)
	}
	if os.Getenv(keyed.EnvSecretARN) == "" {
		if len(strings.TrimSpace(os.Getenv(notify.EnvEvents))) > 0 {
			log.Fatalf("api: %s is set but %s is not", notify.EnvEvents, keyed.EnvSecretARN)
		}
		return sender, nil
	}
	secret, err := keyed.FromEnv(nil, cognito)
	if err != nil {
		log.Fatalf("api: %v", err)
	}
	return sender, secret
}
