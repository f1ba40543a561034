package api

// Metrics and audit events of the API's routes (issue 13). Like notifications, they are recorded
// after the action, whose answer is already decided: they never change a response. A request
// that changed nothing records nothing.
//
// Metrics (package metrics, one EMF line per metric and dimension values when the function's
// invocation ends): KeyRegistered{Method: device_key|passkey} once per key or passkey
// registered; KeyRevoked{Method} once per key or passkey removed (DELETE /device-keys/{id},
// DELETE /passkeys/{id}, and the count the revoke-all routes removed: nothing for a repeat that
// found none).
//
// Audit events (package audit, to EventBridge when the invocation ends): device_key.added,
// device_key.removed, passkey.added, passkey.removed (Method device_key or passkey),
// recovery.device_keys_revoked and recovery.passkeys_revoked (Count: how many this request
// removed, omitted when 0), recovery.signed_out_everywhere. Each carries the keyed user
// reference audit.UserRef(deployment key, pool, user name): the reference the triggers log, so
// events join the log lines; never a key ID, credential ID, name, address or token.

import (
	"context"
	"errors"
	"net/http"

	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// Counter counts metrics; *metrics.Recorder implements it.
type Counter = metrics.Counter

// Auditor buffers audit events (it does no I/O and never fails); *audit.Publisher implements it.
type Auditor = audit.Auditor

// WithMetrics makes h count the metrics of its routes in m and returns h. nil counts nothing.
func (h *Handler) WithMetrics(m Counter) *Handler {
	h.Metrics = m
	return h
}

// WithAudit makes h publish the audit events of its routes through a and returns h. keys gives
// the deployment key of the events' user reference (audit.UserRef); userPoolID names the pool
// ("" takes it from each token's issuer, as WithNotifier does). nil a publishes nothing. An event
// whose user reference cannot be made (the key cannot be read) cannot be published (the
// publisher takes keyed references only): it is logged at level ERROR as "api: audit event
// undelivered" (its type, method and count, no user) and counted as AuditUndelivered.
func (h *Handler) WithAudit(a Auditor, keys keyed.Source, userPoolID string) *Handler {
	h.Audit, h.AuditKeys = a, keys
	if userPoolID != "" {
		h.UserPoolID = userPoolID
	}
	return h
}

// count adds n to the metric name with dimensions d (nothing when n <= 0 or metrics are off).
func (h *Handler) count(name string, d metrics.Dims, n int) {
	if h.Metrics == nil {
		return
	}
	for range n {
		h.Metrics.Count(name, d)
	}
}

// audit adds ev, with c's pool and keyed user reference, to the audit events. It never fails
// and never panics.
func (h *Handler) audit(ctx context.Context, c Caller, ev audit.Event) {
	if h.Audit == nil {
		return
	}
	log := h.logger()
	defer func() {
		if r := recover(); r != nil {
			log.ErrorContext(ctx, "api: audit event undelivered", "type", string(ev.Type), "reason", "publisher panicked")
		}
	}()
	ev.UserPoolID = h.poolOf(c)
	why := "no key source"
	if h.AuditKeys != nil {
		kctx, cancel := context.WithTimeout(ctx, keyTimeout)
		k, err := h.AuditKeys.Key(kctx)
		cancel()
		if err == nil && k != nil {
			ev.User = audit.UserRef(k, ev.UserPoolID, userNameOf(c))
			h.Audit.Add(ev)
			return
		}
		why = "key source failed"
	}
	h.count(metrics.AuditUndelivered, metrics.Dims{}, 1)
	log.ErrorContext(ctx, "api: audit event undelivered", "type", string(ev.Type), "method", ev.Method, "count", ev.Count, "reason", why)
}

// keyKind is a kind of key the caller manages through its own routes (device keys, passkeys):
// what adding or removing one records.
type keyKind struct {
	method                     string // metrics and audit method: device_key or passkey
	added, removed             audit.Type
	addedNotice, removedNotice notify.Kind
	notFound                   Response // the answer for a key the caller does not have
}

// keyAdded records the registration of one key or passkey of kind k, and tells the owner (the
// key's name in the notice).
func (h *Handler) keyAdded(ctx context.Context, c Caller, k keyKind, name string) {
	h.count(metrics.KeyRegistered, metrics.Dims{Method: k.method}, 1)
	h.audit(ctx, c, audit.Event{Type: k.added, Method: k.method})
	h.notify(ctx, c, k.addedNotice, map[string]string{notify.DetailKeyName: name})
}

// keyRemoval answers the removal of one key or passkey of kind k by its own route, given the
// store's answer err: on success (204) the removal is recorded and the owner told (name: the
// key's name, read before it went); a key the store does not have or refuses as malformed is
// k.notFound; any other error is internal's 500.
func (h *Handler) keyRemoval(ctx context.Context, c Caller, k keyKind, name string, err error, internal func(context.Context, string, error) Response) Response {
	switch {
	case err == nil:
		h.count(metrics.KeyRevoked, metrics.Dims{Method: k.method}, 1)
		h.audit(ctx, c, audit.Event{Type: k.removed, Method: k.method})
		h.notify(ctx, c, k.removedNotice, map[string]string{notify.DetailKeyName: name, notify.DetailCount: "1"})
		return Response{Status: http.StatusNoContent}
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalidArgument):
		return k.notFound
	default:
		return internal(ctx, "store failed", err)
	}
}

// poolOf is the pool named in notifications and audit events: h.UserPoolID, or the token's.
func (h *Handler) poolOf(c Caller) string {
	if h.UserPoolID != "" {
		return h.UserPoolID
	}
	return c.UserPoolID
}

// userNameOf is c's Cognito user name (the token's username claim, else its sub).
func userNameOf(c Caller) string {
	if c.Username != "" {
		return c.Username
	}
	return c.Sub
}
