package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/metrics"
)

// SchemaVersion is the value of the detail's "version" member. It changes only when a member
// changes meaning or is removed; new members may appear within a version.
const SchemaVersion = "1"

// Environment of a function that publishes audit events (the construct sets them).
const (
	EnvEventBus = "AUDIT_EVENT_BUS" // bus name or ARN; unset or empty turns auditing off
	EnvSource   = "AUDIT_SOURCE"    // the events' source; default DefaultSource
	EnvTimeout  = "AUDIT_TIMEOUT"   // Go duration bounding one Flush; default DefaultTimeout
)

// Defaults and bounds of the environment.
const (
	DefaultSource  = "passwordless"
	DefaultTimeout = 300 * time.Millisecond
	MinTimeout     = 10 * time.Millisecond
	MaxTimeout     = 2 * time.Second
)

// Type is the kind of an audit event; it is the EventBridge detail-type.
type Type string

// Event types.
const (
	SignInSucceeded     Type = "sign_in.succeeded"
	SignInFailed        Type = "sign_in.failed"
	AccountLocked       Type = "account.locked"
	DeviceKeyAdded      Type = "device_key.added"
	DeviceKeyRemoved    Type = "device_key.removed"
	PasskeyAdded        Type = "passkey.added"
	PasskeyRemoved      Type = "passkey.removed"
	ContactChanged      Type = "contact.changed"
	DeviceKeysRevoked   Type = "recovery.device_keys_revoked"
	PasskeysRevoked     Type = "recovery.passkeys_revoked"
	SignedOutEverywhere Type = "recovery.signed_out_everywhere"
)

// Types lists every event type, in a fixed order.
func Types() []Type {
	return []Type{SignInSucceeded, SignInFailed, AccountLocked, DeviceKeyAdded, DeviceKeyRemoved,
		PasskeyAdded, PasskeyRemoved, ContactChanged, DeviceKeysRevoked, PasskeysRevoked, SignedOutEverywhere}
}

func (t Type) valid() bool {
	switch t {
	case SignInSucceeded, SignInFailed, AccountLocked, DeviceKeyAdded, DeviceKeyRemoved,
		PasskeyAdded, PasskeyRemoved, ContactChanged, DeviceKeysRevoked, PasskeysRevoked, SignedOutEverywhere:
		return true
	}
	return false
}

// Contact attributes an Event's Attribute may name.
const (
	AttributeEmail = "email"
	AttributePhone = "phone_number"
)

// Event is one security-relevant event. Nothing in it identifies a person without the
// deployment secret: the user is a keyed reference and every other member is allow-listed.
type Event struct {
	Type Type
	// User is the keyed reference UserRef(k, userPoolID, userName) (12 hex digits, the same as
	// triggers.UserRef in the log lines). An event whose User is anything else is dropped (and
	// the drop logged), so an address or user name can never reach the bus.
	User string
	// UserPoolID is the user pool (optional; a value that is not a user pool ID is left out).
	UserPoolID string
	// Method is a metrics.Dims method value (email_otp, sms_otp, device_key, passkey,
	// magic_link); any other non-empty value is recorded as "other".
	Method string
	// Reason is a metrics.Dims reason value; any other non-empty value is recorded as "other".
	Reason string
	// Count is a number of things the event covers, such as keys revoked; 0 (or less) is left out.
	Count int
	// Attribute names the contact that changed (contact.changed): "email" or "phone_number";
	// any other non-empty value is recorded as "other".
	Attribute string
}

// UserRef is the keyed reference of a user for Event.User: k.Ref("userref", userPoolID,
// userName), equal to triggers.UserRef, so audit events join the functions' log lines. It
// returns "" when k is nil.
func UserRef(k *keyed.Key, userPoolID, userName string) string {
	if k == nil {
		return ""
	}
	return k.Ref("userref", userPoolID, userName)
}

// Putter sends events to EventBridge; *awsapi.Client implements it. failed is how many entries
// EventBridge did not take. A Putter that also implements
// PutEventsResults(ctx, entries) ([]awsapi.EventResult, error) tells which ones.
type Putter interface {
	PutEvents(ctx context.Context, entries []awsapi.EventEntry) (failed int, err error)
}

// resultPutter is a Putter that reports each entry's outcome (awsapi.Client).
type resultPutter interface {
	PutEventsResults(ctx context.Context, entries []awsapi.EventEntry) ([]awsapi.EventResult, error)
}

// Auditor takes security events for the audit trail: what the functions' packages need of a
// *Publisher (nil-safe). Add only buffers (no I/O, never fails); the function's wrapper (Wrap)
// sends the events after the handler returns.
type Auditor interface {
	Add(ev Event)
}

var _ Auditor = (*Publisher)(nil)

// Publisher buffers a function invocation's audit events and sends them on Flush. It is safe for
// concurrent use. Every method of a nil *Publisher is a no-op (auditing off).
type Publisher struct {
	put      Putter
	log      *slog.Logger
	m        *metrics.Recorder
	bus      string
	source   string
	timeout  time.Duration
	function string
	now      func() time.Time

	mu      sync.Mutex
	pending []awsapi.EventEntry
}

// FromEnv returns a Publisher sending to the bus in AUDIT_EVENT_BUS through p, or nil, nil when
// it is unset or empty (auditing off). AUDIT_SOURCE is the events' source (default
// "passwordless"; letters, digits, '.', '-' and '_', at most 256, not starting with "aws.").
// AUDIT_TIMEOUT (a Go duration, default 300ms, 10ms to 2s) bounds each Flush. function names the
// publishing function in every event ("verify", "api"; lower-case letters, digits, '-' and '_').
// log receives undelivered events (slog.Default() when nil); m counts them (AuditUndelivered).
// getenv nil reads os.Getenv.
func FromEnv(getenv func(string) string, p Putter, log *slog.Logger, m *metrics.Recorder, function string) (*Publisher, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	bus := getenv(EnvEventBus)
	if bus == "" {
		return nil, nil
	}
	if !validBus(bus) {
		return nil, fmt.Errorf("audit: %s is neither an event bus name nor an event bus ARN", EnvEventBus)
	}
	source := getenv(EnvSource)
	if source == "" {
		source = DefaultSource
	}
	if !validSource(source) {
		return nil, fmt.Errorf("audit: %s must be 1 to 256 of A-Z a-z 0-9 . - _ and not start with \"aws.\"", EnvSource)
	}
	timeout := DefaultTimeout
	if s := getenv(EnvTimeout); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("audit: %s: %w", EnvTimeout, err)
		}
		if d < MinTimeout || d > MaxTimeout {
			return nil, fmt.Errorf("audit: %s %s is outside %s..%s", EnvTimeout, d, MinTimeout, MaxTimeout)
		}
		timeout = d
	}
	if !validFunction(function) {
		return nil, fmt.Errorf("audit: function name %q is not a lower-case identifier", function)
	}
	if p == nil {
		return nil, fmt.Errorf("audit: %s is set but there is no Putter", EnvEventBus)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Publisher{put: p, log: log, m: m, bus: bus, source: source, timeout: timeout, function: function, now: time.Now}, nil
}

func validFunction(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validSource: EventBridge's Source pattern, restricted to the characters of a reverse domain.
func validSource(s string) bool {
	if len(s) == 0 || len(s) > 256 || strings.HasPrefix(s, "aws.") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validBus accepts an event bus name ([/.\-_A-Za-z0-9]{1,256}) or an event bus ARN
// (arn:<partition>:events:<region>:<12 digits>:event-bus/<name>).
func validBus(s string) bool {
	if strings.HasPrefix(s, "arn:") {
		p := strings.SplitN(s, ":", 6)
		if len(p) != 6 || !strings.HasPrefix(p[1], "aws") || p[2] != "events" || p[3] == "" || len(p[4]) != 12 {
			return false
		}
		for i := 0; i < len(p[4]); i++ {
			if p[4][i] < '0' || p[4][i] > '9' {
				return false
			}
		}
		name, ok := strings.CutPrefix(p[5], "event-bus/")
		return ok && validBusName(name) && len(s) <= 1600
	}
	return validBusName(s)
}

func validBusName(s string) bool {
	if len(s) == 0 || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// isUserRef: 12 lower-case hex digits, the form of keyed.Key.Ref.
func isUserRef(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isPoolID: a Cognito user pool ID, <region>_<id> ([\w-]+_[0-9a-zA-Z]+, at most 55 characters).
func isPoolID(s string) bool {
	i := strings.LastIndexByte(s, '_')
	if len(s) > 55 || i <= 0 || i == len(s)-1 {
		return false
	}
	for j := 0; j < len(s); j++ {
		c := s[j]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if j < i && !(alnum || c == '-' || c == '_') || j > i && !alnum {
			return false
		}
	}
	return true
}

// Add buffers ev for the next Flush; it makes no call. An event of an unknown Type, or whose
// User is not a keyed reference, is dropped and the drop logged (without the value). Method,
// Reason and Attribute outside their allow-lists become "other".
func (p *Publisher) Add(ev Event) {
	if p == nil {
		return
	}
	if !ev.Type.valid() {
		p.log.Warn("audit event dropped", "why", "unknown event type")
		return
	}
	if !isUserRef(ev.User) {
		p.log.Warn("audit event dropped", "type", string(ev.Type), "why", "user is not a keyed reference")
		return
	}
	e := awsapi.EventEntry{
		Source: p.source, DetailType: string(ev.Type), EventBusName: p.bus,
		Detail: string(p.appendDetail(make([]byte, 0, 320), &ev, p.now())),
	}
	p.mu.Lock()
	p.pending = append(p.pending, e)
	p.mu.Unlock()
}

// appendDetail appends the detail JSON of ev (schema in doc.go) to b.
func (p *Publisher) appendDetail(b []byte, ev *Event, t time.Time) []byte {
	b = append(b, `{"version":"`...)
	b = append(b, SchemaVersion...)
	b = append(b, `","type":`...)
	b = appendString(b, string(ev.Type))
	b = append(b, `,"time":"`...)
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, `","function":`...)
	b = appendString(b, p.function)
	if isPoolID(ev.UserPoolID) {
		b = append(b, `,"userPoolId":`...)
		b = appendString(b, ev.UserPoolID)
	}
	b = append(b, `,"user":`...)
	b = appendString(b, ev.User)
	if v := metrics.Canonical("Method", ev.Method); v != "" {
		b = append(b, `,"method":`...)
		b = appendString(b, v)
	}
	if v := metrics.Canonical("Reason", ev.Reason); v != "" {
		b = append(b, `,"reason":`...)
		b = appendString(b, v)
	}
	if ev.Count > 0 {
		b = append(b, `,"count":`...)
		b = strconv.AppendInt(b, int64(ev.Count), 10)
	}
	if a := attribute(ev.Attribute); a != "" {
		b = append(b, `,"attribute":`...)
		b = appendString(b, a)
	}
	return append(b, '}')
}

func attribute(a string) string {
	switch a {
	case "", AttributeEmail, AttributePhone:
		return a
	}
	return metrics.Other
}

// appendString appends s as a JSON string (every value is allow-listed or validated ASCII; the
// escaping, of everything outside printable ASCII, is a second line of defence).
func appendString(b []byte, s string) []byte { return metrics.AppendJSONString(b, s, true) }

// Flush sends the buffered events, at most awsapi.MaxEventEntries per PutEvents call, all within
// AUDIT_TIMEOUT (and ctx), and empties the buffer (an Add during Flush goes to the next one).
// Every event that was not delivered (an error, the timeout, or an entry EventBridge refused) is
// written to the log as one line, msg "audit event undelivered" with the full detail, and counted
// as metrics.AuditUndelivered. It never returns an error and never blocks past the timeout, even
// when the Putter ignores its context.
func (p *Publisher) Flush(ctx context.Context) {
	if p == nil {
		return
	}
	p.mu.Lock()
	batch := p.pending
	p.pending = nil
	p.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	cut := time.Now().Add(p.timeout)
	if dl, ok := ctx.Deadline(); ok {
		// Lambda ends the invocation at its deadline: leave deadlineReserve for the abandon wait
		// and for the runtime to post the handler's answer, or publishing would turn an answered
		// sign-in into a timeout.
		cut = minTime(cut, dl.Add(-deadlineReserve))
	}
	if !time.Now().Before(cut) {
		p.undelivered(ctx, batch, "timeout", "no time left before the invocation's deadline")
		return
	}
	ctx, cancel := context.WithDeadline(ctx, cut)
	defer cancel()
	for len(batch) > 0 {
		n := min(len(batch), awsapi.MaxEventEntries)
		p.send(ctx, batch[:n])
		batch = batch[n:]
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// abandonWait bounds how long send waits, after its deadline, for a Putter to return.
const abandonWait = 50 * time.Millisecond

// deadlineReserve is the time Flush leaves before the invocation's deadline: abandonWait plus
// 100 ms for the runtime to post the handler's answer.
const deadlineReserve = abandonWait + 100*time.Millisecond

type putResult struct {
	failed  int
	results []awsapi.EventResult // nil when the Putter reports only a count
	err     error
}

// send delivers one batch, logging and counting what was not delivered.
func (p *Publisher) send(ctx context.Context, entries []awsapi.EventEntry) {
	if err := ctx.Err(); err != nil {
		p.undelivered(ctx, entries, "timeout", err.Error())
		return
	}
	done := make(chan putResult, 1)
	go func() {
		var r putResult
		defer func() {
			// A bug in the client, signer or timing transport must not kill the process (and the
			// invocation's answer): the batch is logged as undelivered instead. The panic value
			// is not logged (it could hold request data).
			if recover() != nil {
				done <- putResult{err: errors.New("audit: the PutEvents client panicked")}
			}
		}()
		if rp, ok := p.put.(resultPutter); ok {
			r.results, r.err = rp.PutEventsResults(ctx, entries)
			if r.err == nil && len(r.results) != len(entries) {
				r.err = fmt.Errorf("audit: %d results for %d entries", len(r.results), len(entries))
			}
		} else {
			r.failed, r.err = p.put.PutEvents(ctx, entries)
		}
		done <- r
	}()
	var r putResult
	select {
	case r = <-done:
	case <-ctx.Done():
		// The Putter may still finish; an event it then delivers is also in the log (a
		// duplicate, never a loss).
		p.undelivered(ctx, entries, "timeout", ctx.Err().Error())
		// A context-aware Putter returns right after the deadline: wait for it briefly so the
		// latency and error it records land in this invocation's metrics, never in the next
		// one's; one that ignores its context is abandoned after abandonWait.
		t := time.NewTimer(abandonWait)
		select {
		case <-done:
		case <-t.C:
		}
		t.Stop()
		return
	}
	switch {
	case r.err != nil:
		why := "error"
		if ctx.Err() != nil {
			why = "timeout"
		}
		p.undelivered(ctx, entries, why, r.err.Error())
	case r.results != nil:
		for i, res := range r.results {
			if res.ErrorCode != "" {
				p.undelivered(ctx, entries[i:i+1], "refused", res.ErrorCode)
			}
		}
	case r.failed > 0:
		// Only a count: which entries failed is unknown, so all are logged and the count is
		// what is counted as undelivered.
		for _, e := range entries {
			p.logUndelivered(ctx, e, "refused", "FailedEntryCount "+strconv.Itoa(r.failed)+" of "+strconv.Itoa(len(entries)))
		}
		for range min(r.failed, len(entries)) {
			p.m.Count(metrics.AuditUndelivered, metrics.Dims{})
		}
	}
}

func (p *Publisher) undelivered(ctx context.Context, entries []awsapi.EventEntry, why, detail string) {
	for _, e := range entries {
		p.logUndelivered(ctx, e, why, detail)
		p.m.Count(metrics.AuditUndelivered, metrics.Dims{})
	}
}

func (p *Publisher) logUndelivered(ctx context.Context, e awsapi.EventEntry, why, errText string) {
	p.log.LogAttrs(context.WithoutCancel(ctx), slog.LevelWarn, "audit event undelivered",
		slog.String("why", why), slog.String("error", errText),
		slog.String("detail_type", e.DetailType), slog.Any("detail", rawJSON(e.Detail)))
}

// rawJSON is a detail written into a log line as a JSON object rather than a quoted string.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

// Wrap returns h wrapped for lambda.Start: after h returns (or panics), p.Flush (bounded by
// AUDIT_TIMEOUT) and then m.Flush run, so every invocation's events and metrics leave before the
// next invocation starts, whether h failed or not. h's result is returned unchanged.
func Wrap[E, R any](h func(context.Context, E) (R, error), p *Publisher, m *metrics.Recorder) func(context.Context, E) (R, error) {
	return func(ctx context.Context, ev E) (R, error) {
		defer func() {
			p.Flush(ctx)
			m.Flush()
		}()
		return h(ctx, ev)
	}
}
