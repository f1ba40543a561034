package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/internal/testkit"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/notify"
)

// emf is a metrics.Recorder writing EMF lines to a buffer.
type emf struct {
	buf     testkit.Buffer
	rec     *metrics.Recorder
	flushed int
}

func newEMF() *emf {
	e := &emf{}
	e.rec = metrics.New(&e.buf, "Passwordless/Test")
	return e
}

// totals flushes and returns the totals of the new lines by "Name{Dim=value,...}"
// (testkit.EMFCounts).
func (e *emf) totals(t *testing.T) map[string]float64 {
	t.Helper()
	e.rec.Flush()
	text := e.buf.String()
	fresh := text[e.flushed:]
	e.flushed = len(text)
	return testkit.EMFCounts(t, []byte(fresh), "Passwordless/Test")
}

// TestNoticeMetrics (issue 13): every notice sent counts Sent{Channel, Kind: notice}; every
// failure the Sender counts (Failures) also counts NotificationFailed, with the channel when it
// is one recipient's send: a refused send, no deployment key, a de-duplication or cap write that
// failed (the notice then goes anyway), a timeout. Disabled kinds and de-duplicated repeats
// count nothing.
func TestNoticeMetrics(t *testing.T) {
	ev := func(id string, attrs map[string]string) notify.Event {
		return notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName, Attributes: attrs, ID: id}
	}
	r := newRig(t, nil)
	m := newEMF()
	r.s.SetMetrics(m.rec)

	r.s.Notify(context.Background(), testKey, ev("1", verifiedEmail()))
	r.s.Notify(context.Background(), testKey, ev("1", verifiedEmail())) // a retry: de-duplicated
	r.s.Notify(context.Background(), testKey, ev("2", verifiedPhone()))
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.ContactChanged, UserPoolID: pool, UserName: userName,
		Attributes: verifiedEmail(), Detail: map[string]string{notify.DetailOldAddress: oldEmail}, ID: "3"})
	testkit.WantCounts(t, "sent", m.totals(t), map[string]float64{"Sent{Channel=email,Kind=notice}": 3, "Sent{Channel=sms,Kind=notice}": 1})

	r.aws.SetErr(rejected)
	r.s.Notify(context.Background(), testKey, ev("4", verifiedEmail()))
	r.s.Notify(context.Background(), testKey, ev("5", verifiedPhone()))
	testkit.WantCounts(t, "refused", m.totals(t), map[string]float64{"NotificationFailed{Channel=email}": 1, "NotificationFailed{Channel=sms}": 1})
	r.aws.SetErr(nil)

	r.s.Notify(context.Background(), nil, ev("6", verifiedEmail()))
	testkit.WantCounts(t, "no key", m.totals(t), map[string]float64{"NotificationFailed{}": 1})

	r.st.mu.Lock()
	r.st.claimErr = errDynamo
	r.st.mu.Unlock()
	r.s.Notify(context.Background(), testKey, ev("7", verifiedEmail()))
	testkit.WantCounts(t, "dedupe failed", m.totals(t), map[string]float64{"NotificationFailed{}": 1, "Sent{Channel=email,Kind=notice}": 1})
	r.st.mu.Lock()
	r.st.claimErr = nil
	r.st.allowErr = errDynamo
	r.st.mu.Unlock()
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.AccountLocked, UserPoolID: pool, UserName: userName, Attributes: verifiedPhone(), ID: "8"})
	testkit.WantCounts(t, "caps failed", m.totals(t), map[string]float64{"NotificationFailed{}": 2, "Sent{Channel=sms,Kind=notice}": 1})

	if got, want := r.s.Failures(), uint64(1+1+1+1+2); got != want {
		t.Errorf("Failures %d, want %d: the metric and the counter disagree", got, want)
	}

	// Disabled kinds: nothing.
	d := newRig(t, func(c *notify.Config) { c.Events = nil })
	d.s.SetMetrics(m.rec)
	d.s.Notify(context.Background(), testKey, ev("9", verifiedEmail()))
	testkit.WantCounts(t, "disabled", m.totals(t), map[string]float64{})
}

// TestNoticeMetricsTimeout: a send that hangs past the timeout counts one NotificationFailed
// (no channel: the work is abandoned), and what the abandoned work does later is never counted.
func TestNoticeMetricsTimeout(t *testing.T) {
	r := newRig(t, func(c *notify.Config) { c.Timeout = 100 * time.Millisecond })
	m := newEMF()
	r.s.SetMetrics(m.rec)
	release := make(chan struct{})
	r.aws.block = release
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName, Attributes: verifiedEmail(), ID: "1"})
	testkit.WantCounts(t, "timeout", m.totals(t), map[string]float64{"NotificationFailed{}": 1})
	close(release)
	// Wait (without a time limit of our own) for the abandoned send to finish.
	for {
		if emails, _ := r.aws.sent(); len(emails) == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	testkit.WantCounts(t, "after the timeout", m.totals(t), map[string]float64{})
}

// TestNoticeMetricsFromDeps: Deps.Metrics is the same as SetMetrics; a nil Sender's SetMetrics
// is a no-op.
func TestNoticeMetricsFromDeps(t *testing.T) {
	m := newEMF()
	r := newRig(t, nil)
	d := r.deps
	d.Metrics = m.rec
	s, err := notify.New(r.cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	s.Notify(context.Background(), testKey, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName, Attributes: verifiedEmail(), ID: "1"})
	testkit.WantCounts(t, "deps", m.totals(t), map[string]float64{"Sent{Channel=email,Kind=notice}": 1})
	var nilSender *notify.Sender
	nilSender.SetMetrics(m.rec)
}

// TestAttackNoticeMetricsHoldNoPersonalData (issue 13): whatever happens, the EMF lines hold no
// address, phone number, user name, event ID or detail value.
func TestAttackNoticeMetricsHoldNoPersonalData(t *testing.T) {
	r := newRig(t, nil)
	m := newEMF()
	r.s.SetMetrics(m.rec)
	detail := map[string]string{notify.DetailOldAddress: oldEmail, notify.DetailKeyName: "Alice's iPhone", notify.DetailMethod: "passkey"}
	both := map[string]string{"email": email, "email_verified": "true", "phone_number": phoneNo, "phone_number_verified": "true"}
	for i, k := range notify.Kinds {
		id := "secret-session-" + string(rune('a'+i))
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: k, UserPoolID: pool, UserName: userName, Attributes: both, Detail: detail, ID: id})
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: k, UserPoolID: pool, UserName: userName, Attributes: verifiedPhone(),
			Detail: map[string]string{notify.DetailOldAddress: oldPhoneNo}, ID: id + "p"})
	}
	r.aws.SetErr(rejected)
	r.st.mu.Lock()
	r.st.claimErr, r.st.allowErr = errDynamo, errDynamo
	r.st.mu.Unlock()
	for _, k := range notify.Kinds {
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: k, UserPoolID: pool, UserName: userName, Attributes: both, Detail: detail, ID: "x"})
	}
	m.rec.Flush()
	text := m.buf.String()
	if !strings.Contains(text, `"Sent"`) || !strings.Contains(text, `"NotificationFailed"`) {
		t.Fatalf("metrics missing:\n%s", text)
	}
	for _, secret := range []string{email, "alice", oldEmail, phoneNo, "+447400", oldPhoneNo, userName, "secret-session", "iPhone", pool} {
		if strings.Contains(strings.ToLower(text), strings.ToLower(secret)) {
			t.Errorf("EMF holds %q", secret)
		}
	}
}
