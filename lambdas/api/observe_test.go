package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/audit/audittest"
	"github.com/passwordless-go/cognito/lambdas/internal/testkit"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// --- observation rig: real EMF recorder, real audit publisher, fake EventBridge ---------------

// observed is what one or more invocations emitted: the EMF text, the audit entries and the log.
type observed struct {
	emf     *testkit.Buffer
	rec     *metrics.Recorder
	bus     *audittest.Bus
	pub     *audit.Publisher
	logs    *testkit.Buffer
	flushed string // all EMF text flushed so far
}

const auditBus = "arn:aws:events:eu-west-1:123456789012:event-bus/audit"

func newObserved(t testing.TB) *observed {
	t.Helper()
	o := &observed{emf: &testkit.Buffer{}, bus: &audittest.Bus{}, logs: &testkit.Buffer{}}
	o.rec = metrics.New(o.emf, "Passwordless/Test")
	env := map[string]string{"AUDIT_EVENT_BUS": auditBus}
	pub, err := audit.FromEnv(func(k string) string { return env[k] }, o.bus,
		slog.New(slog.NewJSONHandler(o.logs, nil)), o.rec, "api")
	if err != nil || pub == nil {
		t.Fatalf("audit.FromEnv: %v %v", pub, err)
	}
	o.pub = pub
	return o
}

// observe makes h record into o, with the deployment key of the tests.
func (o *observed) observe(h *api.Handler) {
	h.WithMetrics(o.rec).WithAudit(o.pub, keyed.MustStatic(testSecret), "")
}

// emfTotals parses EMF lines into totals by "Name{Dim=value,...}" (testkit.EMFCounts),
// checking too that every dimension value is allow-listed.
func emfTotals(t testing.TB, text string) map[string]float64 {
	t.Helper()
	out := testkit.EMFCounts(t, []byte(text), "Passwordless/Test")
	for key := range out {
		_, dims, _ := strings.Cut(strings.TrimSuffix(key, "}"), "{")
		for d := range strings.SplitSeq(dims, ",") {
			if name, v, ok := strings.Cut(d, "="); ok && !metrics.Allowed(name, v) {
				t.Errorf("EMF metric %s: %s=%q is not allow-listed", key, name, v)
			}
		}
	}
	return out
}

// auditDetail is the documented detail of an audit event; decoding refuses any other member.
type auditDetail = audittest.Detail

// flush ends an invocation (audit.Wrap's order: audit first, then metrics) and returns the
// metric totals and the audit events of it.
func (o *observed) flush(t testing.TB) (map[string]float64, []auditDetail) {
	t.Helper()
	before := len(o.bus.Entries())
	o.pub.Flush(context.Background())
	o.rec.Flush()
	text := o.emf.String()
	fresh := text[len(o.flushed):]
	o.flushed = text
	var events []auditDetail
	for _, e := range o.bus.Entries()[before:] {
		d, err := audittest.DecodeDetail(e.Detail)
		if err != nil {
			t.Fatalf("audit detail %s: %v", e.Detail, err)
		}
		if e.DetailType != d.Type || e.EventBusName != auditBus || e.Source != "passwordless" || d.Version != audit.SchemaVersion || d.Function != "api" {
			t.Errorf("audit entry %+v", e)
		}
		events = append(events, d)
	}
	return emfTotals(t, fresh), events
}

// userRef is the audit reference of sub in the tests' pool.
func userRef(sub string) string {
	return audit.UserRef(keyed.MustStatic(testSecret).K, "eu-west-1_AbCdEf123", sub)
}

func wantMetrics(t testing.TB, what string, got map[string]float64, want map[string]float64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: metrics %v, want %v", what, got, want)
	}
}

func wantEvents(t testing.TB, what string, got []auditDetail, want ...auditDetail) {
	t.Helper()
	norm := func(l []auditDetail) []string {
		var s []string
		for _, d := range l {
			d.Version, d.Time, d.Function = "", "", ""
			s = append(s, fmt.Sprintf("%+v", d))
		}
		sort.Strings(s)
		return s
	}
	if g, w := norm(got), norm(want); strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("%s: audit events\n%s\nwant\n%s", what, strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
}

const testPool = "eu-west-1_AbCdEf123"

// --- device keys and recovery -------------------------------------------------------------------

// TestDeviceKeyMetricsAndAudit (issue 13): registering a device key counts KeyRegistered
// {Method: device_key} and publishes device_key.added; deleting it counts KeyRevoked and
// publishes device_key.removed; a repeat of the delete (404) records nothing; each event names
// the user by the keyed reference only.
func TestDeviceKeyMetricsAndAudit(t *testing.T) {
	e := newRecoveryEnv(t)
	o := newObserved(t)
	o.observe(e.h)

	k := register(t, e.h, subA, newP256(t), "work phone")
	m, ev := o.flush(t)
	wantMetrics(t, "register", m, map[string]float64{"KeyRegistered{Method=device_key}": 1})
	wantEvents(t, "register", ev, auditDetail{Type: "device_key.added", UserPoolID: testPool, User: userRef(subA), Method: "device_key"})
	if len(ev) == 1 && (ev[0].User == "" || ev[0].User == subA) {
		t.Errorf("user reference %q", ev[0].User)
	}

	if r := revoke(t, e.h, subA, k.KeyID); r.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
	}
	m, ev = o.flush(t)
	wantMetrics(t, "revoke", m, map[string]float64{"KeyRevoked{Method=device_key}": 1})
	wantEvents(t, "revoke", ev, auditDetail{Type: "device_key.removed", UserPoolID: testPool, User: userRef(subA), Method: "device_key"})

	// A retry of the delete finds nothing: nothing is counted or published.
	wantError(t, revoke(t, e.h, subA, k.KeyID), http.StatusNotFound, api.CodeNotFound)
	m, ev = o.flush(t)
	wantMetrics(t, "repeat", m, map[string]float64{})
	wantEvents(t, "repeat", ev)
}

// TestRevokeAllMetricsAndAudit: DELETE /device-keys and DELETE /passkeys count one KeyRevoked
// per credential removed and publish one recovery event with the count; a repeat that finds
// nothing counts nothing and publishes the recovery action without a count; signing out
// everywhere publishes recovery.signed_out_everywhere.
func TestRevokeAllMetricsAndAudit(t *testing.T) {
	e := newRecoveryEnv(t)
	o := newObserved(t)
	o.observe(e.h)
	e.putKeys(t, subA, 3)
	e.putKeys(t, subB, 2)
	e.putPasskeys(t, subA, 2)

	if n := removedCount(t, call(t, e.h, request(api.RouteRevokeAllDeviceKeys, subA, "", ""))); n != 3 {
		t.Fatalf("removed %d", n)
	}
	m, ev := o.flush(t)
	wantMetrics(t, "revoke all keys", m, map[string]float64{"KeyRevoked{Method=device_key}": 3})
	wantEvents(t, "revoke all keys", ev, auditDetail{Type: "recovery.device_keys_revoked", UserPoolID: testPool, User: userRef(subA), Count: 3})

	if n := removedCount(t, call(t, e.h, request(api.RouteRevokeAllPasskeys, subA, "", ""))); n != 2 {
		t.Fatalf("removed %d", n)
	}
	m, ev = o.flush(t)
	wantMetrics(t, "revoke all passkeys", m, map[string]float64{"KeyRevoked{Method=passkey}": 2})
	wantEvents(t, "revoke all passkeys", ev, auditDetail{Type: "recovery.passkeys_revoked", UserPoolID: testPool, User: userRef(subA), Count: 2})

	// Repeats: the recovery action is recorded, nothing is counted as revoked.
	removedCount(t, call(t, e.h, request(api.RouteRevokeAllDeviceKeys, subA, "", "")))
	removedCount(t, call(t, e.h, request(api.RouteRevokeAllPasskeys, subA, "", "")))
	m, ev = o.flush(t)
	wantMetrics(t, "repeat", m, map[string]float64{})
	wantEvents(t, "repeat", ev,
		auditDetail{Type: "recovery.device_keys_revoked", UserPoolID: testPool, User: userRef(subA)},
		auditDetail{Type: "recovery.passkeys_revoked", UserPoolID: testPool, User: userRef(subA)})

	resp := call(t, e.h, request(api.RouteSignOutEverywhere, subA, "", ""))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-out: %d %s", resp.StatusCode, resp.Body)
	}
	m, ev = o.flush(t)
	wantMetrics(t, "sign-out", m, map[string]float64{})
	wantEvents(t, "sign-out", ev, auditDetail{Type: "recovery.signed_out_everywhere", UserPoolID: testPool, User: userRef(subA)})
}

// TestFailedRequestsRecordNothing (issue 13): a request that changes nothing (stale sign-in,
// revoked token, bad input, a store or Cognito failure) counts no metric and publishes no audit
// event.
func TestFailedRequestsRecordNothing(t *testing.T) {
	e := newRecoveryEnv(t)
	o := newObserved(t)
	o.observe(e.h)
	e.putKeys(t, subA, 2)
	stale := withAuthTime(testNow.Add(-10 * time.Minute))

	wantError(t, call(t, e.h, request(api.RouteRegisterDeviceKey, subA, "", registerBody(newP256(t), "x"), stale)), http.StatusForbidden, api.CodeStaleAuth)
	wantError(t, call(t, e.h, request(api.RouteRegisterDeviceKey, subA, "", registerBody("not a key", "x"))), http.StatusBadRequest, api.CodeBadKey)
	wantError(t, call(t, e.h, request(api.RouteRevokeAllDeviceKeys, subA, "", "", stale)), http.StatusForbidden, api.CodeStaleAuth)
	wantError(t, call(t, e.h, request(api.RouteSignOutEverywhere, subA, "", "", stale)), http.StatusForbidden, api.CodeStaleAuth)
	wantError(t, revoke(t, e.h, subA, base64.RawURLEncoding.EncodeToString(make([]byte, 16))), http.StatusNotFound, api.CodeNotFound)
	// Cognito cannot sign the user out.
	e.cog.mu.Lock()
	e.cog.err = errors.New("cognito: 500")
	e.cog.mu.Unlock()
	wantError(t, call(t, e.h, request(api.RouteSignOutEverywhere, subA, "", "")), http.StatusServiceUnavailable, api.CodeUnavailable)
	e.cog.mu.Lock()
	e.cog.err = nil
	e.cog.mu.Unlock()
	// A revoked token.
	e.cog.revoke(subA, subA)
	wantError(t, call(t, e.h, request(api.RouteRevokeAllDeviceKeys, subA, "", "")), http.StatusUnauthorized, api.CodeTokenRevoked)
	m, ev := o.flush(t)
	wantMetrics(t, "refused requests", m, map[string]float64{})
	wantEvents(t, "refused requests", ev)

	// A store that fails every call.
	ms := &memStore{keys: map[string][]store.DeviceKey{}, err: errors.New("dynamodb: throttled")}
	h := api.New(clientID, nil).WithTokenChecker(newFakeCognito().checker()).
		WithDeviceKeys(ms, api.DeviceKeyConfig{Now: nowFn}).
		WithRecovery(api.RecoveryConfig{DeviceKeys: fakeRevoker{err: errors.New("throttled")}, Passkeys: fakeRevoker{err: errors.New("throttled")}, Now: nowFn})
	o.observe(h)
	wantError(t, call(t, h, request(api.RouteRegisterDeviceKey, subA, "", registerBody(newP256(t), "x"))), http.StatusInternalServerError, api.CodeInternal)
	wantError(t, revoke(t, h, subA, base64.RawURLEncoding.EncodeToString(make([]byte, 16))), http.StatusInternalServerError, api.CodeInternal)
	wantError(t, call(t, h, request(api.RouteRevokeAllDeviceKeys, subA, "", "")), http.StatusInternalServerError, api.CodeInternal)
	wantError(t, call(t, h, request(api.RouteRevokeAllPasskeys, subA, "", "")), http.StatusInternalServerError, api.CodeInternal)
	m, ev = o.flush(t)
	wantMetrics(t, "store failures", m, map[string]float64{})
	wantEvents(t, "store failures", ev)
}

// TestPartialRevokeAllIsRecorded: when the store fails after removing some credentials, the
// request answers 500 but the removals happened: they are counted and published (with the
// count), as the owner is notified of them.
func TestPartialRevokeAllIsRecorded(t *testing.T) {
	r := fakeRevoker{n: 2, err: errors.New("dynamodb: throttled")}
	h := api.New(clientID, nil).WithTokenChecker(newFakeCognito().checker()).
		WithRecovery(api.RecoveryConfig{DeviceKeys: r, Passkeys: r, Now: nowFn})
	o := newObserved(t)
	o.observe(h)
	wantError(t, call(t, h, request(api.RouteRevokeAllDeviceKeys, subA, "", "")), http.StatusInternalServerError, api.CodeInternal)
	m, ev := o.flush(t)
	wantMetrics(t, "partial", m, map[string]float64{"KeyRevoked{Method=device_key}": 2})
	wantEvents(t, "partial", ev, auditDetail{Type: "recovery.device_keys_revoked", UserPoolID: testPool, User: userRef(subA), Count: 2})
}

// TestAuditWithoutKey: the deployment key cannot be read, so no user reference can be made and
// the publisher takes none without one: the event is logged (without the user) and counted as
// AuditUndelivered; the response and the other metrics are unchanged.
func TestAuditWithoutKey(t *testing.T) {
	e := newRecoveryEnv(t)
	o := newObserved(t)
	e.h.WithMetrics(o.rec).WithAudit(o.pub, failingKeys{}, "")
	register(t, e.h, subA, newP256(t), "phone")
	m, ev := o.flush(t)
	wantMetrics(t, "no key", m, map[string]float64{"KeyRegistered{Method=device_key}": 1, "AuditUndelivered{}": 1})
	wantEvents(t, "no key", ev)
	if !strings.Contains(e.logs.String(), "audit event undelivered") || !strings.Contains(e.logs.String(), "device_key.added") {
		t.Errorf("lost event not logged: %s", e.logs.String())
	}
}

// --- passkeys -----------------------------------------------------------------------------------

// TestPasskeyMetricsAndAudit: registering a passkey (a real WebAuthn registration with a software
// authenticator) counts KeyRegistered{Method: passkey} and publishes passkey.added; deleting it
// counts KeyRevoked and publishes passkey.removed; a refused registration records nothing.
func TestPasskeyMetricsAndAudit(t *testing.T) {
	e := newPKEnv(t, pkConfig())
	o := newObserved(t)
	o.observe(e.h.Handler)

	// Refused: a registration whose challenge was never issued.
	o.flush(t)
	resp := pcall(t, e.h, request(api.RouteRegisterPasskey, subA, "", `{"credential":{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{}}}`))
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bogus registration: %d %s", resp.StatusCode, resp.Body)
	}
	m, ev := o.flush(t)
	wantMetrics(t, "refused", m, map[string]float64{})
	wantEvents(t, "refused", ev)

	_, p := e.enroll(t, subA, "laptop")
	m, ev = o.flush(t)
	wantMetrics(t, "register", m, map[string]float64{"KeyRegistered{Method=passkey}": 1})
	wantEvents(t, "register", ev, auditDetail{Type: "passkey.added", UserPoolID: testPool, User: userRef(subA), Method: "passkey"})

	if r := pcall(t, e.h, request(api.RouteDeletePasskey, subA, p.ID, "")); r.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
	}
	m, ev = o.flush(t)
	wantMetrics(t, "delete", m, map[string]float64{"KeyRevoked{Method=passkey}": 1})
	wantEvents(t, "delete", ev, auditDetail{Type: "passkey.removed", UserPoolID: testPool, User: userRef(subA), Method: "passkey"})

	if r := pcall(t, e.h, request(api.RouteDeletePasskey, subA, p.ID, "")); r.StatusCode != http.StatusNotFound {
		t.Fatalf("repeat delete: %d %s", r.StatusCode, r.Body)
	}
	m, ev = o.flush(t)
	wantMetrics(t, "repeat delete", m, map[string]float64{})
	wantEvents(t, "repeat delete", ev)
}

// --- nothing personal ---------------------------------------------------------------------------

// TestAttackObservabilityLeaksNothing (issue 13): across a whole scenario (register a device key
// and a passkey, delete each, revoke all, sign out everywhere), no EMF line and no audit entry
// holds the user's name or sub, email address, a key ID, a credential ID (raw or base64url), a
// key or passkey name, a public key or the access token.
func TestAttackObservabilityLeaksNothing(t *testing.T) {
	const sub = "5ec7e7a1-aaaa-4bbb-8ccc-d00d00d00d00"
	e := newRecoveryEnv(t)
	o := newObserved(t)
	o.observe(e.h)
	pub := newP256(t)
	k := register(t, e.h, sub, pub, "Bob's secret phone")
	register(t, e.h, sub, newP256(t), "Bob's other phone")
	revoke(t, e.h, sub, k.KeyID)
	removedCount(t, call(t, e.h, request(api.RouteRevokeAllDeviceKeys, sub, "", "")))
	ids := e.putPasskeys(t, sub, 2)
	removedCount(t, call(t, e.h, request(api.RouteRevokeAllPasskeys, sub, "", "")))
	call(t, e.h, request(api.RouteSignOutEverywhere, sub, "", ""))
	o.flush(t)

	pk := newPKEnv(t, pkConfig())
	o.observe(pk.h.Handler)
	cred, pj := pk.enroll(t, sub, "Bob's yubikey")
	pcall(t, pk.h, request(api.RouteDeletePasskey, sub, pj.ID, ""))
	o.flush(t)

	secrets := []string{sub, "user@example.com", k.KeyID, pub, "Bob's", "secret phone", "yubikey", pj.ID,
		base64.RawURLEncoding.EncodeToString(cred.ID), base64.StdEncoding.EncodeToString(cred.ID), testToken(sub, sub)}
	for _, id := range ids {
		secrets = append(secrets, string(id), base64.RawURLEncoding.EncodeToString(id))
	}
	all := o.bus.Entries()
	entries, _ := json.Marshal(all)
	n := len(all)
	if n < 8 || o.flushed == "" {
		t.Fatalf("the scenario emitted %d audit events and %d bytes of EMF", n, len(o.flushed))
	}
	for what, text := range map[string]string{"EMF": o.flushed, "audit": string(entries), "audit log": o.logs.String()} {
		for _, s := range secrets {
			if strings.Contains(strings.ToLower(text), strings.ToLower(s)) {
				t.Errorf("%s holds %q", what, s)
			}
		}
	}
}
