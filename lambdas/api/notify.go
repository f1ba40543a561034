package api

// Security notifications of the API's routes (package notify): a device key or passkey added or
// removed. They are sent after the action, whose answer is already decided: a notification never
// changes a response, and a failure (the deployment key cannot be read, the notifier fails or
// even panics) is logged and the answer goes out as it is.

import (
	"context"
	"crypto/rand"
	"strings"
	"time"

	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/notify"
)

// Notifier is told about the security events of the routes; *notify.Sender implements it. Notify
// must return promptly (the Sender gives up after its timeout, 1 s by default) and send nothing
// for kinds that are switched off.
type Notifier = notify.Notifier

// keyTimeout bounds reading the deployment key for a notification (the key is cached by the
// source; this only matters when Secrets Manager is slow).
const keyTimeout = time.Second

// WithNotifier makes h tell the account's owner about the events of its routes through n, with
// the deployment key from keys (which n needs for its keyed identifiers), and returns h.
// userPoolID names the pool in the events; "" takes it from each token's issuer (the JWT
// authorizer has checked the issuer). A nil n sends nothing.
//
// Events: key_added (POST /device-keys; Detail keyName), key_removed (DELETE /device-keys/{id}:
// keyName and count 1; DELETE /device-keys: count), passkey_added (POST /passkeys/registration;
// keyName), passkey_removed (DELETE /passkeys/{id}: keyName and count 1; DELETE /passkeys:
// count). A removal that removed nothing (a retry) sends nothing. Each event carries a fresh
// random ID (128 bits): API requests are not retried by Cognito, and a client's retry is a new
// action.
func (h *Handler) WithNotifier(n Notifier, keys keyed.Source, userPoolID string) *Handler {
	h.Notifier, h.NotifyKeys, h.UserPoolID = n, keys, userPoolID
	return h
}

// notifyEnabled reports whether events of kind k may be sent: a notifier is set and, when it
// says which kinds it sends (as *notify.Sender does), k is one of them. It saves the reads only
// a notification needs (a removed key's name).
func (h *Handler) notifyEnabled(k notify.Kind) bool {
	if h.Notifier == nil {
		return false
	}
	if e, ok := h.Notifier.(interface{ Enabled(notify.Kind) bool }); ok {
		return e.Enabled(k)
	}
	return true
}

// notify tells c's owner about an event of kind k with detail. It never fails and never panics.
func (h *Handler) notify(ctx context.Context, c Caller, k notify.Kind, detail map[string]string) {
	if !h.notifyEnabled(k) {
		return
	}
	log := h.logger()
	defer func() {
		if r := recover(); r != nil {
			log.ErrorContext(ctx, "api: notification failed", "kind", string(k), "reason", "notifier panicked")
		}
	}()
	var key *keyed.Key
	if h.NotifyKeys == nil {
		log.ErrorContext(ctx, "api: notification without the deployment key", "kind", string(k), "reason", "no key source")
	} else {
		kctx, cancel := context.WithTimeout(ctx, keyTimeout)
		var err error
		key, err = h.NotifyKeys.Key(kctx)
		cancel()
		if err != nil {
			// The notifier is still called: it counts and logs the failure.
			key = nil
			log.ErrorContext(ctx, "api: notification without the deployment key", "kind", string(k), "reason", "key source failed")
		}
	}
	h.Notifier.Notify(ctx, key, notify.Event{
		Kind:       k,
		UserPoolID: h.poolOf(c),
		UserName:   userNameOf(c),
		Attributes: c.Attributes,
		Detail:     detail,
		ID:         rand.Text(), // 128 bits from crypto/rand
	})
}

// poolFromIssuer is the user pool ID at the end of a Cognito issuer URL
// (https://cognito-idp.<region>.amazonaws.com/<pool ID>), or "".
func poolFromIssuer(iss string) string {
	i := strings.LastIndexByte(iss, '/')
	if i < 0 || !strings.HasPrefix(iss, "https://") {
		return ""
	}
	id := iss[i+1:]
	region, rest, ok := strings.Cut(id, "_")
	if !ok || region == "" || rest == "" || len(id) > 55 {
		return ""
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return ""
		}
	}
	return id
}
