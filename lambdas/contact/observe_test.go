package contact_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/audit/audittest"
	"github.com/passwordless-go/cognito/lambdas/contact"
	"github.com/passwordless-go/cognito/lambdas/internal/testkit"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// obs is a real EMF recorder and a real audit publisher in front of a fake EventBridge.
type obs struct {
	emf     testkit.Buffer
	bus     audittest.Bus
	rec     *metrics.Recorder
	pub     *audit.Publisher
	flushed string
	seen    int
}

func newObs(t *testing.T) *obs {
	t.Helper()
	o := &obs{}
	o.rec = metrics.New(&o.emf, "Passwordless/Test")
	pub, err := audit.FromEnv(func(k string) string {
		return map[string]string{"AUDIT_EVENT_BUS": "audit"}[k]
	}, &o.bus, slog.New(slog.DiscardHandler), o.rec, "api")
	if err != nil || pub == nil {
		t.Fatal(pub, err)
	}
	o.pub = pub
	return o
}

// deps makes a Service record into o.
func (o *obs) deps(d *contact.Deps) { d.Metrics, d.Audit = o.rec, o.pub }

// flush ends an invocation and returns its metric totals ("Name Dim=value ...") and audit
// details.
func (o *obs) flush(t *testing.T) (map[string]float64, []map[string]any) {
	t.Helper()
	o.pub.Flush(context.Background())
	o.rec.Flush()
	text := o.emf.String()
	fresh := text[len(o.flushed):]
	o.flushed = text
	all := o.bus.Entries()
	entries := all[o.seen:]
	o.seen = len(all)
	totals := testkit.EMFCounts(t, []byte(fresh), "Passwordless/Test")
	var events []map[string]any
	for _, e := range entries {
		var d map[string]any
		if err := json.Unmarshal([]byte(e.Detail), &d); err != nil {
			t.Fatal(err)
		}
		delete(d, "time")
		delete(d, "version")
		events = append(events, d)
	}
	return totals, events
}

func wantTotals(t *testing.T, what string, got, want map[string]float64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: metrics %v, want %v", what, got, want)
	}
}

func wantAudit(t *testing.T, what string, got []map[string]any, want ...map[string]any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: audit %v, want %v", what, got, want)
	}
}

func ref(sub string) string { return audit.UserRef(keyed.MustStatic(testSecret).K, poolID, sub) }

// TestContactChangeMetricsAndAudit (issue 13): a code sent counts Sent{Channel, Kind: code}; a
// verified change publishes contact.changed with the attribute and the keyed user reference, and
// its notice to the replaced address counts Sent{Kind: notice}; a wrong code records nothing.
func TestContactChangeMetricsAndAudit(t *testing.T) {
	o := newObs(t)
	e := newEnv(t, config(), o.deps)
	c := e.caller(victimSub, map[string]string{"email": "old@example.com", "email_verified": "true"})

	r := e.startOK(t, c, `{"email": "new@example.org"}`)
	m, ev := o.flush(t)
	wantTotals(t, "start", m, map[string]float64{"Sent{Channel=email,Kind=code}": 1})
	wantAudit(t, "start", ev)

	code := e.box.lastCode(t, "new@example.org")
	if v := e.verify(t, c, r.str("changeId"), wrongCode(code)); v.status != 400 {
		t.Fatalf("wrong code: %d", v.status)
	}
	m, ev = o.flush(t)
	wantTotals(t, "wrong code", m, map[string]float64{})
	wantAudit(t, "wrong code", ev)

	if v := e.verify(t, c, r.str("changeId"), code); v.status != 200 {
		t.Fatalf("verify: %d %v", v.status, v.body)
	}
	m, ev = o.flush(t)
	wantTotals(t, "verify", m, map[string]float64{"Sent{Channel=email,Kind=notice}": 1})
	wantAudit(t, "verify", ev, map[string]any{"type": "contact.changed", "function": "api", "userPoolId": poolID,
		"user": ref(victimSub), "attribute": "email"})

	// A phone number: the code goes by SMS.
	c = e.caller(victimSub, map[string]string{"email": "new@example.org", "email_verified": "true"})
	r = e.startOK(t, c, `{"phoneNumber": "+447400123456"}`)
	if v := e.verify(t, c, r.str("changeId"), e.box.lastCode(t, "+447400123456")); v.status != 200 {
		t.Fatalf("verify phone: %d %v", v.status, v.body)
	}
	m, ev = o.flush(t)
	wantTotals(t, "phone", m, map[string]float64{"Sent{Channel=sms,Kind=code}": 1, "Sent{Channel=email,Kind=notice}": 1})
	wantAudit(t, "phone", ev, map[string]any{"type": "contact.changed", "function": "api", "userPoolId": poolID,
		"user": ref(victimSub), "attribute": "phone_number"})
}

// TestContactSendRefusedByRule: each refusal rule counts SendRefused{Channel, Reason} and sends
// nothing: the caller's limit and the address's limit (rate_limit), the deployment's SMS budget
// (budget), a country SMS is not sent to (country).
func TestContactSendRefusedByRule(t *testing.T) {
	o := newObs(t)
	cfg := config()
	cfg.Code.SMSUnverifiedLimits = []store.Limit{{Window: time.Hour, Max: 1}}
	e := newEnv(t, cfg, o.deps)
	c := e.caller(victimSub, nil)
	for i := range 5 {
		e.startOK(t, c, `{"email": "a`+fmt.Sprint(i)+`@example.com"}`)
	}
	o.flush(t)
	if r := e.start(t, c, `{"email": "a9@example.com"}`); r.status != 429 {
		t.Fatalf("user limit: %d", r.status)
	}
	m, _ := o.flush(t)
	wantTotals(t, "user limit", m, map[string]float64{"SendRefused{Channel=email,Reason=rate_limit}": 1})

	if r := e.start(t, e.caller(attackerSub, nil), `{"email": "a0@example.com"}`); r.status != 429 {
		t.Fatalf("address limit: %d", r.status)
	}
	m, _ = o.flush(t)
	wantTotals(t, "address limit", m, map[string]float64{"SendRefused{Channel=email,Reason=rate_limit}": 1})

	e.startOK(t, e.caller("user-1", nil), `{"phoneNumber": "+447400123451"}`)
	o.flush(t)
	if r := e.start(t, e.caller("user-2", nil), `{"phoneNumber": "+447400123452"}`); r.status != 429 {
		t.Fatalf("budget: %d", r.status)
	}
	m, _ = o.flush(t)
	wantTotals(t, "SMS budget", m, map[string]float64{"SendRefused{Channel=sms,Reason=budget}": 1})

	if r := e.start(t, e.caller("user-3", nil), `{"phoneNumber": "+8613800138000"}`); r.status != 400 {
		t.Fatalf("country: %d", r.status)
	}
	m, _ = o.flush(t)
	wantTotals(t, "country", m, map[string]float64{"SendRefused{Channel=sms,Reason=country}": 1})

	// Malformed input is no refusal by a rule: nothing is counted.
	for _, body := range []string{`{"phoneNumber": "07700900123"}`, `{"email": "nope"}`, `{}`} {
		e.start(t, e.caller("user-4", nil), body)
	}
	m, _ = o.flush(t)
	wantTotals(t, "malformed", m, map[string]float64{})
}

// TestContactSendFailed: SES failing the code counts SendFailed{Channel} (and no Sent); a notice
// that cannot be sent counts NotificationFailed{Channel}; Cognito refusing the update publishes no
// contact.changed.
func TestContactSendFailed(t *testing.T) {
	o := newObs(t)
	e := newEnv(t, config(), o.deps)
	c := e.caller(victimSub, map[string]string{"email": "old@example.com", "email_verified": "true"})
	e.box.SetErr(apiErr("Throttling"))
	if r := e.start(t, c, `{"email": "new@example.org"}`); r.status != 500 {
		t.Fatalf("send failure: %d", r.status)
	}
	m, ev := o.flush(t)
	wantTotals(t, "send failed", m, map[string]float64{"SendFailed{Channel=email}": 1})
	wantAudit(t, "send failed", ev)

	e.box.SetErr(nil)
	e.clk.Add(time.Minute)
	r := e.startOK(t, c, `{"email": "new@example.org"}`)
	code := e.box.lastCode(t, "new@example.org")
	o.flush(t)
	e.box.SetErr(apiErr("MessageRejected"))
	if v := e.verify(t, c, r.str("changeId"), code); v.status != 200 {
		t.Fatalf("verify: %d %v", v.status, v.body)
	}
	m, ev = o.flush(t)
	wantTotals(t, "notice failed", m, map[string]float64{"NotificationFailed{Channel=email}": 1})
	if len(ev) != 1 {
		t.Errorf("the change stands: audit %v", ev)
	}

	e.box.SetErr(nil)
	e.clk.Add(time.Minute)
	r = e.startOK(t, c, `{"email": "taken@example.org"}`)
	code = e.box.lastCode(t, "taken@example.org")
	o.flush(t)
	e.idp.setErr(apiErr("AliasExistsException"))
	if v := e.verify(t, c, r.str("changeId"), code); v.status != 409 {
		t.Fatalf("alias exists: %d", v.status)
	}
	m, ev = o.flush(t)
	wantTotals(t, "address in use", m, map[string]float64{})
	wantAudit(t, "address in use", ev)
}

// TestAttackContactObservabilityLeaksNothing (issue 13): no EMF line and no audit entry of a
// scenario with email and phone changes, refusals and failures holds an address, a phone number
// (or its digits), a code, a change ID or the user's sub.
func TestAttackContactObservabilityLeaksNothing(t *testing.T) {
	o := newObs(t)
	e := newEnv(t, config(), o.deps)
	c := e.caller(victimSub, map[string]string{"email": "alice.old@example.com", "email_verified": "true"})
	var secrets []string
	r := e.startOK(t, c, `{"email": "alice.new@example.org"}`)
	code := e.box.lastCode(t, "alice.new@example.org")
	secrets = append(secrets, r.str("changeId"), code)
	e.verify(t, c, r.str("changeId"), wrongCode(code))
	e.verify(t, c, r.str("changeId"), code)
	c = e.caller(victimSub, map[string]string{"email": "alice.new@example.org", "email_verified": "true"})
	r = e.startOK(t, c, `{"phoneNumber": "+447400123456"}`)
	code = e.box.lastCode(t, "+447400123456")
	secrets = append(secrets, r.str("changeId"), code)
	e.verify(t, c, r.str("changeId"), code)
	e.start(t, c, `{"phoneNumber": "+8613800138000"}`)
	o.flush(t)

	all := o.bus.Entries()
	entries, _ := json.Marshal(all)
	emf := o.emf.String()
	if len(all) != 2 || emf == "" {
		t.Fatalf("%d audit entries, %d bytes of EMF", len(all), len(emf))
	}
	secrets = append(secrets, victimSub, "alice", "example.com", "example.org", "+447400123456", "7400123456", "8613800138000")
	for what, text := range map[string]string{"EMF": emf, "audit": string(entries)} {
		for _, s := range secrets {
			if holds(text, s) {
				t.Errorf("%s holds %q", what, s)
			}
		}
	}
}

// holds reports whether text contains s, case-insensitively; a string of digits (a code, a
// number) only when no digit touches it, so that a timestamp that happens to contain the same
// digits does not count.
func holds(text, s string) bool {
	if strings.Trim(s, "0123456789") != "" {
		return strings.Contains(strings.ToLower(text), strings.ToLower(s))
	}
	return regexp.MustCompile(`(^|[^0-9])` + s + `([^0-9]|$)`).MatchString(text)
}
