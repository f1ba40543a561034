package api

// Recovery from a lost device: revoke all of the caller's device keys, all passkeys, and sign the
// caller out everywhere. Each needs a recent sign-in (the registration rule: a session started by
// an email or SMS code or a magic link will do) and, like every route that changes something, a
// token Cognito's GetUser still accepts.
//
// Whoever holds a fresh access token of the account can do all three: the API cannot tell a
// stolen token from its owner. The owner learns of it from the notification (key_removed,
// passkey_removed) sent to the account's verified address, which comes from Cognito, not from
// the request.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/smithy-go"
	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// Route keys of the recovery routes.
const (
	RouteRevokeAllDeviceKeys = "DELETE /device-keys"
	RouteRevokeAllPasskeys   = "DELETE /passkeys"
	RouteSignOutEverywhere   = "POST /me/signout-everywhere"
)

// DeviceKeyRevoker removes all of a user's device keys; *store.Store implements it.
type DeviceKeyRevoker interface {
	RevokeAllDeviceKeys(ctx context.Context, owner string) (removed int, err error)
}

// PasskeyRevoker removes all of a user's passkeys; *store.Store implements it.
type PasskeyRevoker interface {
	RevokeAllPasskeys(ctx context.Context, owner string) (removed int, err error)
}

// SignOutAPI is Cognito's GlobalSignOut, authorized by the user's access token alone (no IAM
// permission); *awsapi.Client implements it.
type SignOutAPI interface {
	GlobalSignOut(ctx context.Context, accessToken string) error
}

var (
	_ DeviceKeyRevoker = (*store.Store)(nil)
	_ PasskeyRevoker   = (*store.Store)(nil)
	_ SignOutAPI       = (*awsapi.Client)(nil)
)

// RecoveryConfig configures the recovery routes. A nil dependency leaves its route out.
type RecoveryConfig struct {
	DeviceKeys DeviceKeyRevoker // DELETE /device-keys
	Passkeys   PasskeyRevoker   // DELETE /passkeys
	SignOut    SignOutAPI       // POST /me/signout-everywhere
	// MaxAuthAge is how recent the caller's sign-in must be; default 5 minutes (the
	// registration setting, DEVICE_KEY_MAX_AUTH_AGE_SECONDS).
	MaxAuthAge time.Duration
	Now        func() time.Time // default time.Now
}

// RevokedJSON is the answer to DELETE /device-keys and DELETE /passkeys: how many this request
// removed (0 when there were none, e.g. on a retry).
type RevokedJSON struct {
	Removed int `json:"removed"`
}

// SignedOutJSON is the answer to POST /me/signout-everywhere.
type SignedOutJSON struct {
	SignedOut bool `json:"signedOut"`
}

// WithRecovery adds the recovery routes to h and returns h:
//
//	DELETE /device-keys            -> 200 {"removed": n}   all of the caller's device keys
//	DELETE /passkeys               -> 200 {"removed": n}   all of the caller's passkeys
//	POST   /me/signout-everywhere  -> 200 {"signedOut": true}
//
// Request bodies are ignored. Each route needs a sign-in at most MaxAuthAge old (403
// stale_auth) and a token Cognito still accepts (401 token_revoked; 503 unavailable when that
// cannot be checked). A store failure is 500 internal: some credentials may be gone already,
// and a retry removes the rest. The sign-out calls Cognito GlobalSignOut with the caller's own
// access token: every refresh token of the user stops working, and Cognito refuses the access
// tokens issued from them (so this API's routes that change something refuse them too; GET
// routes, which only API Gateway's authorizer checks, accept them until they expire, at most the
// access-token validity). Cognito refusing the token is 401 token_revoked, Cognito failing 503
// unavailable (try again).
//
// Revoke first, then sign out: the sign-out revokes the caller's own token too, and a sign-in
// that raced the revocation ends with the sign-out.
//
// Metrics and audit (see WithMetrics, WithAudit): each credential removed counts one
// KeyRevoked{Method}; a revoke-all that answers 200 publishes recovery.device_keys_revoked or
// recovery.passkeys_revoked with the count (omitted when 0, a repeat), and one that failed after
// removing some publishes the count it removed; a sign-out that answers 200 publishes
// recovery.signed_out_everywhere. Refused or failed requests that removed nothing record nothing.
func (h *Handler) WithRecovery(cfg RecoveryConfig) *Handler {
	var rnd io.Reader
	h.prepareRoutes(&cfg.MaxAuthAge, &cfg.Now, &rnd)
	r := &recovery{h: h, cfg: cfg}
	if cfg.DeviceKeys != nil {
		h.Routes[RouteRevokeAllDeviceKeys] = r.revokeAllDeviceKeys
	}
	if cfg.Passkeys != nil {
		h.Routes[RouteRevokeAllPasskeys] = r.revokeAllPasskeys
	}
	if cfg.SignOut != nil {
		h.Routes[RouteSignOutEverywhere] = r.signOutEverywhere
	}
	return h
}

type recovery struct {
	h   *Handler
	cfg RecoveryConfig
}

func (r *recovery) revokeAllDeviceKeys(ctx context.Context, c Caller, _ events.APIGatewayV2HTTPRequest) Response {
	return r.revokeAll(ctx, c, "revoking all device keys", notify.KeyRemoved, metrics.MethodDeviceKey, audit.DeviceKeysRevoked,
		r.cfg.DeviceKeys.RevokeAllDeviceKeys)
}

func (r *recovery) revokeAllPasskeys(ctx context.Context, c Caller, _ events.APIGatewayV2HTTPRequest) Response {
	return r.revokeAll(ctx, c, "removing all passkeys", notify.PasskeyRemoved, metrics.MethodPasskey, audit.PasskeysRevoked,
		r.cfg.Passkeys.RevokeAllPasskeys)
}

// revokeAll runs revoke for the caller. What it removed is counted (KeyRevoked{method}, one per
// credential), published (event with the count) and notified even when the store failed part
// way: the removals stand. A request that fails having removed nothing records nothing; one that
// succeeds publishes the recovery action even when there was nothing left to remove (a repeat).
func (r *recovery) revokeAll(ctx context.Context, c Caller, action string, kind notify.Kind, method string, event audit.Type,
	revoke func(ctx context.Context, owner string) (int, error)) Response {
	if stale, ok := recentSignIn(c, r.cfg.Now(), r.cfg.MaxAuthAge, action); !ok {
		return stale
	}
	n, err := revoke(ctx, c.Sub)
	r.h.count(metrics.KeyRevoked, metrics.Dims{Method: method}, n)
	if n > 0 || err == nil {
		r.h.audit(ctx, c, audit.Event{Type: event, Count: n})
	}
	if n > 0 {
		// Removed is removed, even when the rest failed: the owner hears of it either way.
		r.h.notify(ctx, c, kind, map[string]string{notify.DetailCount: strconv.Itoa(n)})
	}
	if err != nil {
		return internalError(ctx, r.h.Log, "api: "+action+": store failed after "+strconv.Itoa(n), err)
	}
	r.h.logger().InfoContext(ctx, "api: "+action, "removed", n)
	return Response{Status: http.StatusOK, Body: RevokedJSON{Removed: n}}
}

func (r *recovery) signOutEverywhere(ctx context.Context, c Caller, req events.APIGatewayV2HTTPRequest) Response {
	if stale, ok := recentSignIn(c, r.cfg.Now(), r.cfg.MaxAuthAge, "signing out everywhere"); !ok {
		return stale
	}
	token := bearerToken(req.Headers)
	if token == "" {
		return Error(http.StatusUnauthorized, CodeUnauthorized, "a bearer access token is required")
	}
	err := r.cfg.SignOut.GlobalSignOut(ctx, token)
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && revokedCodes[ae.ErrorCode()] {
			return Error(http.StatusUnauthorized, CodeTokenRevoked, "Cognito no longer accepts this access token: sign in again")
		}
		code := "error"
		if ae != nil {
			code = ae.ErrorCode()
		}
		r.h.logger().ErrorContext(ctx, "api: global sign-out failed", "code", code)
		return Error(http.StatusServiceUnavailable, CodeUnavailable, "signing out could not be completed, try again later")
	}
	r.h.audit(ctx, c, audit.Event{Type: audit.SignedOutEverywhere})
	r.h.logger().InfoContext(ctx, "api: signed out everywhere")
	return Response{Status: http.StatusOK, Body: SignedOutJSON{SignedOut: true}}
}
