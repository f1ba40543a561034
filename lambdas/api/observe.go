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

	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/metrics"
)

// Counter counts metrics; *metrics.Recorder implements it.
type Counter interface {
	Count(name string, d metrics.Dims)
}

// Auditor buffers audit events (it does no I/O and never fails); *audit.Publisher implements it.
type Auditor interface {
	Add(ev audit.Event)
}

var (
	_ Counter = (*metrics.Recorder)(nil)
	_ Auditor = (*audit.Publisher)(nil)
)

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

// keyAdded records the registration of one key or passkey (method device_key or passkey).
func (h *Handler) keyAdded(ctx context.Context, c Caller, method string, t audit.Type) {
	h.count(metrics.KeyRegistered, metrics.Dims{Method: method}, 1)
	h.audit(ctx, c, audit.Event{Type: t, Method: method})
}

// keyRemoved records the removal of one key or passkey by its own route.
func (h *Handler) keyRemoved(ctx context.Context, c Caller, method string, t audit.Type) {
	h.count(metrics.KeyRevoked, metrics.Dims{Method: method}, 1)
	h.audit(ctx, c, audit.Event{Type: t, Method: method})
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
