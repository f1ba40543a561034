// Package audit publishes security-relevant events (sign-ins, lockouts, keys and passkeys added
// or removed, contact changes, recovery actions) to an Amazon EventBridge bus, where a SIEM or the
// team's own rules consume them.
//
// # Configuration
//
// AUDIT_EVENT_BUS (a bus name or ARN; unset: auditing off, a nil *Publisher whose methods do
// nothing), AUDIT_SOURCE (the events' source, default "passwordless", never "aws.*") and
// AUDIT_TIMEOUT (default 300ms, 10ms to 2s). The function needs events:PutEvents on that bus.
//
// # Events
//
// Each event is an EventBridge entry with source AUDIT_SOURCE, detail-type the Type
// ("sign_in.succeeded", "sign_in.failed", "account.locked", "device_key.added",
// "device_key.removed", "passkey.added", "passkey.removed", "contact.changed",
// "recovery.device_keys_revoked", "recovery.passkeys_revoked",
// "recovery.signed_out_everywhere") and this detail (schema version "1"; members without a
// value are left out):
//
//	{
//	  "version":    "1",                        // SchemaVersion; changes only when a member changes meaning or goes
//	  "type":       "sign_in.failed",           // the detail-type again
//	  "time":       "2025-03-04T04:06:07.891Z", // when the function recorded it, RFC 3339, UTC, milliseconds
//	  "function":   "verify",                   // the publishing function: "verify" or "api"
//	  "userPoolId": "eu-west-1_AbC123",         // the user pool, when known
//	  "user":       "3f9a0c71d2e4",             // keyed user reference (12 hex digits), as in the log lines
//	  "method":     "sms_otp",                  // email_otp sms_otp device_key passkey magic_link (or "other")
//	  "reason":     "wrong_answer",             // as the metrics' Reason values (or "other")
//	  "count":      3,                          // how many things the event covers (keys revoked), when > 0
//	  "attribute":  "email"                     // contact.changed: "email" or "phone_number"
//	}
//
// Nothing in an event identifies a person without the deployment secret: "user" is an HMAC
// reference (UserRef, the same as in the functions' log lines, so the two can be joined by whoever
// holds the logs), an Event whose User is not 12 lower-case hex digits is dropped (and the drop is
// logged without the value), and method, reason and attribute are allow-listed (anything else is
// written as "other"). No address, phone number, code, nonce, key or token is ever part of an
// event. Caveat: a 12-digit number is also 12 hex digits, so a caller must pass UserRef's result,
// never a raw identifier; the types make that the natural thing to do.
//
// # Delivery and loss model
//
// Add only buffers (no I/O, about a microsecond). Wrap flushes after the handler returns (or
// fails, or panics): one PutEvents call per 10 events, all within AUDIT_TIMEOUT, so publishing
// adds at most AUDIT_TIMEOUT to an invocation and never changes its result. An event EventBridge
// did not take (an error, the timeout, or an entry it refused) is written to the function's log
// as one JSON line, msg "audit event undelivered", with the full detail (it holds no secrets),
// the reason ("error", "timeout", "refused") and the error code, and counted as the metric
// AuditUndelivered. So no event is lost: it is on the bus or in the function's log group, and a
// metric filter or Logs Insights query over "audit event undelivered" recovers it. An event can
// occur twice (logged after a timeout although EventBridge took it late), never zero times,
// except when the function's process dies between Add and Flush.
package audit
