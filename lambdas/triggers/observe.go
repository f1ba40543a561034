package triggers

import (
	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/metrics"
)

// MetricCounter counts events as CloudWatch metrics (*metrics.Recorder, whose methods are no-ops
// on a nil pointer). Names are the metrics constants; dimension values outside the metrics
// package's allow-lists are recorded as "other".
type MetricCounter = metrics.Counter

// AuditLog takes security events for the audit trail (*audit.Publisher, nil-safe). Add buffers
// only; the function's wrapper (audit.Wrap) sends them after the handler returns.
type AuditLog = audit.Auditor

// ExpiryChecker is implemented by a Checker whose rounds expire and that can tell from the
// round's private parameters alone (no I/O) that the round had expired when the answer came.
// Verify asks it only after the Checker refused an answer, and only to name the failure in
// metrics and audit events (reason "expired" rather than "wrong_answer"); the answer is refused
// either way.
type ExpiryChecker interface {
	Expired(req CheckRequest) bool
}

// count adds one to name when m is set.
func count(m MetricCounter, name string, d metrics.Dims) {
	if m != nil {
		m.Count(name, d)
	}
}

// expired reports whether c can tell that the round of req had expired (ExpiryChecker).
func expired(c Checker, req CheckRequest) bool {
	e, ok := c.(ExpiryChecker)
	return ok && e.Expired(req)
}

// outcome reports the outcome of one attempt to Verify's metrics and audit log. The user is
// named by its keyed reference only (audit.UserRef, the same as the log lines' UserRef); unknown
// users get the reference of the name they tried, like every other user.
type outcome struct {
	v        *Verify
	key      *keyed.Key
	poolID   string
	userName string
	method   authflow.Method
}

func (o *outcome) event(t audit.Type, reason string) {
	if o.v.Audit == nil || o.key == nil {
		return
	}
	o.v.Audit.Add(audit.Event{Type: t, User: audit.UserRef(o.key, o.poolID, o.userName), UserPoolID: o.poolID,
		Method: string(o.method), Reason: reason})
}

// succeeded: SignInSucceeded{Method} and sign_in.succeeded.
func (o *outcome) succeeded() {
	count(o.v.Metrics, metrics.SignInSucceeded, metrics.Dims{Method: string(o.method)})
	o.event(audit.SignInSucceeded, "")
}

// failed: SignInFailed{Method, Reason} and sign_in.failed with the reason.
func (o *outcome) failed(reason string) {
	count(o.v.Metrics, metrics.SignInFailed, metrics.Dims{Method: string(o.method), Reason: reason})
	o.event(audit.SignInFailed, reason)
}

// locked: a guessable answer refused because the account is locked: the failure (reason locked),
// Lockouts, and account.locked for a user that exists (once per refused answer).
func (o *outcome) locked(exists bool) {
	o.failed(metrics.ReasonLocked)
	count(o.v.Metrics, metrics.Lockouts, metrics.Dims{})
	if exists {
		o.event(audit.AccountLocked, "")
	}
}
