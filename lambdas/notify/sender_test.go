package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/otp/phone"
	"github.com/passwordless-go/cognito/lambdas/store"
)

func TestTestNumbersAreMobiles(t *testing.T) {
	for s, region := range map[string]string{phoneNo: "GB", oldPhoneNo: "GB", "+34612345678": "ES"} {
		n, err := phone.Parse(s)
		if err != nil || n.Type() != phone.Mobile || n.Region() != region {
			t.Fatalf("%s: %v %v %v", s, err, n.Type(), n.Region())
		}
	}
	if n, _ := phone.Parse("+449098790123"); n.Type() != phone.PremiumRate {
		t.Fatal("+449098790123 is not premium rate")
	}
}

func TestNilSenderIsNoOp(t *testing.T) {
	var s *notify.Sender
	s.Notify(context.Background(), testKey, notify.Event{Kind: notify.KeyAdded, Attributes: verifiedEmail(), ID: "x"})
	if s.Enabled(notify.KeyAdded) || s.Sent() != 0 || s.Failures() != 0 {
		t.Fatal("nil sender is not inert")
	}
}

func TestDisabledOrUnknownKindIsNoOp(t *testing.T) {
	r := newRig(t, func(c *notify.Config) { c.Events = []notify.Kind{notify.KeyAdded} })
	for _, k := range []notify.Kind{notify.AccountLocked, notify.PasskeyAdded, "bogus", ""} {
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: k, UserPoolID: pool, UserName: userName, Attributes: verifiedEmail(), ID: "1"})
	}
	emails, sms := r.aws.sent()
	if len(emails)+len(sms) != 0 || r.st.claims != 0 {
		t.Fatalf("sent %d emails, %d SMS, %d claims for disabled kinds", len(emails), len(sms), r.st.claims)
	}
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName, Attributes: verifiedEmail(), ID: "1"})
	if emails, _ := r.aws.sent(); len(emails) != 1 {
		t.Fatalf("enabled kind sent %d emails", len(emails))
	}
}

// A Cognito retry of the trigger notifies the same event again: one message goes out.
func TestRetrySendsOnce(t *testing.T) {
	r := newRig(t, nil)
	ev := notify.Event{Kind: notify.NewMethodSignIn, UserPoolID: pool, UserName: userName, Attributes: verifiedEmail(),
		Detail: map[string]string{notify.DetailMethod: "passkey"}, ID: "session-1"}
	for range 3 {
		r.s.Notify(context.Background(), testKey, ev)
	}
	if emails, _ := r.aws.sent(); len(emails) != 1 {
		t.Fatalf("3 notifications of one event sent %d emails, want 1", len(emails))
	}
	ev.ID = "session-2"
	r.s.Notify(context.Background(), testKey, ev)
	ev.Kind = notify.KeyAdded // same ID, another kind: another event
	r.s.Notify(context.Background(), testKey, ev)
	if emails, _ := r.aws.sent(); len(emails) != 3 {
		t.Fatalf("sent %d emails, want 3", len(emails))
	}
	if r.s.Sent() != 3 || r.s.Failures() != 0 {
		t.Fatalf("Sent %d Failures %d", r.s.Sent(), r.s.Failures())
	}
}

// The de-duplication write fails (DynamoDB down): the notice goes out anyway, the failure is
// counted.
func TestDedupeFailureSendsAnyway(t *testing.T) {
	r := newRig(t, nil)
	r.st.claimErr = errDynamo
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.ContactChanged, UserPoolID: pool, UserName: userName,
		Attributes: verifiedEmail(), Detail: map[string]string{notify.DetailOldAddress: oldEmail}, ID: "a"})
	if emails, _ := r.aws.sent(); len(emails) != 2 {
		t.Fatalf("sent %d emails, want 2 (new and old address)", len(emails))
	}
	if r.s.Failures() != 1 {
		t.Fatalf("Failures = %d, want 1", r.s.Failures())
	}
}

// SES and SNS refuse: logged and counted, no error, no panic, the next notification works.
func TestSendFailureCounted(t *testing.T) {
	r := newRig(t, nil)
	r.aws.SetErr(rejected)
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName, Attributes: verifiedEmail(), ID: "1"})
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName, Attributes: verifiedPhone(), ID: "2"})
	if r.s.Failures() != 2 || r.s.Sent() != 0 {
		t.Fatalf("Failures %d Sent %d, want 2 and 0", r.s.Failures(), r.s.Sent())
	}
	if !strings.Contains(r.logs.String(), `"error":"MessageRejected"`) {
		t.Fatalf("log does not name the error code:\n%s", r.logs)
	}
	r.aws.SetErr(nil)
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName, Attributes: verifiedEmail(), ID: "3"})
	if r.s.Sent() != 1 {
		t.Fatalf("Sent %d after recovery, want 1", r.s.Sent())
	}
}

// A dependency that ignores its context and never returns: Notify still returns, with the
// timeout it set on the context, and counts one failure.
func TestTimeoutBoundedWhenDependencyHangs(t *testing.T) {
	r := newRig(t, func(c *notify.Config) { c.Timeout = 150 * time.Millisecond })
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	r.aws.block = release
	before := time.Now()
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName, Attributes: verifiedEmail(), ID: "1"})
	after := time.Now()
	// Reaching this line is the assertion that Notify returned while the send still hangs.
	r.aws.mu.Lock()
	ctxs := r.aws.ctxs
	r.aws.mu.Unlock()
	if len(ctxs) != 1 {
		t.Fatalf("%d sends started, want 1", len(ctxs))
	}
	dl, ok := ctxs[0].Deadline()
	// The deadline was set during the call: the timeout after some instant between before and after.
	if !ok || dl.Before(before.Add(150*time.Millisecond)) || dl.After(after.Add(150*time.Millisecond)) {
		t.Fatalf("send context deadline %v %v, want 150ms after an instant of the call [%v, %v]", ok, dl, before, after)
	}
	if r.s.Failures() != 1 || r.s.Sent() != 0 {
		t.Fatalf("Failures %d Sent %d, want 1 and 0", r.s.Failures(), r.s.Sent())
	}
	if !strings.Contains(r.logs.String(), "notification timed out") {
		t.Fatalf("timeout not logged:\n%s", r.logs)
	}
}

// A dependency that honours its context: the same bound, one failure.
func TestTimeoutBoundedWhenDependencyWaitsForContext(t *testing.T) {
	r := newRig(t, func(c *notify.Config) { c.Timeout = 100 * time.Millisecond })
	r.aws.honour = true
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName, Attributes: verifiedEmail(), ID: "1"})
	if r.s.Failures() != 1 || r.s.Sent() != 0 {
		t.Fatalf("Failures %d Sent %d, want 1 and 0", r.s.Failures(), r.s.Sent())
	}
}

// The caller's context is already cancelled (its Lambda deadline passed): nothing blocks.
func TestCancelledCallerContext(t *testing.T) {
	r := newRig(t, nil)
	r.aws.honour = true
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.s.Notify(ctx, testKey, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName, Attributes: verifiedEmail(), ID: "1"})
	if r.s.Sent() != 0 || r.s.Failures() != 1 {
		t.Fatalf("Failures %d Sent %d, want 1 and 0", r.s.Failures(), r.s.Sent())
	}
}

func TestNilKeySendsNothing(t *testing.T) {
	r := newRig(t, nil)
	r.s.Notify(context.Background(), nil, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName, Attributes: verifiedEmail(), ID: "1"})
	if emails, _ := r.aws.sent(); len(emails) != 0 || r.s.Failures() != 1 {
		t.Fatalf("nil key: %d emails, %d failures", len(emails), r.s.Failures())
	}
}

// A stranger locks an account again and again: its owner hears of it at most 3 times a day.
// Locks of phone-only accounts are SMS: the deployment's budget caps them whatever the account.
// Kinds that need the account itself are not capped.
func TestAccountLockedCaps(t *testing.T) {
	r := newRig(t, func(c *notify.Config) {
		c.LockedSMSLimits = []store.Limit{{Window: time.Hour, Max: 2}}
	})
	for i := range 10 {
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.AccountLocked, UserPoolID: pool, UserName: userName,
			Attributes: verifiedEmail(), ID: "window-" + string(rune('a'+i))})
	}
	if emails, _ := r.aws.sent(); len(emails) != 3 {
		t.Fatalf("10 locks sent %d emails, want 3", len(emails))
	}
	for i := range 5 {
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.AccountLocked, UserPoolID: pool, UserName: "user-" + string(rune('a'+i)),
			Attributes: verifiedPhone(), ID: "w"})
	}
	if _, sms := r.aws.sent(); len(sms) != 2 {
		t.Fatalf("5 locked phone-only accounts sent %d SMS, want 2 (deployment budget)", len(sms))
	}
	for i := range 5 {
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.ContactChanged, UserPoolID: pool, UserName: "user-" + string(rune('a'+i)),
			Attributes: verifiedPhone(), ID: "c"})
	}
	if _, sms := r.aws.sent(); len(sms) != 7 {
		t.Fatalf("contact_changed after the budget was spent: %d SMS in all, want 7", len(sms))
	}
	if r.s.Failures() != 0 {
		t.Fatalf("Failures = %d", r.s.Failures())
	}
}

// The caps cannot be read: the notice goes out (during an outage nobody is being locked).
func TestCapFailureSendsAnyway(t *testing.T) {
	r := newRig(t, nil)
	r.st.allowErr = errDynamo
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.AccountLocked, UserPoolID: pool, UserName: userName, Attributes: verifiedPhone(), ID: "1"})
	if _, sms := r.aws.sent(); len(sms) != 1 || r.s.Failures() != 2 {
		t.Fatalf("%d SMS, %d failures; want 1 and 2 (both caps unreadable)", len(sms), r.s.Failures())
	}
}

// No address, user name, event ID or detail value reaches the log, whatever happens.
func TestLogsHoldNoPersonalData(t *testing.T) {
	r := newRig(t, nil)
	detail := map[string]string{notify.DetailOldAddress: oldEmail, notify.DetailKeyName: "Alice's iPhone", notify.DetailMethod: "passkey"}
	both := map[string]string{"email": email, "email_verified": "true", "phone_number": phoneNo, "phone_number_verified": "true"}
	for i, k := range notify.Kinds {
		id := "secret-session-" + string(rune('a'+i))
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: k, UserPoolID: pool, UserName: userName, Attributes: both, Detail: detail, ID: id})
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: k, UserPoolID: pool, UserName: userName, Attributes: both, Detail: detail, ID: id})
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: k, UserPoolID: pool, UserName: userName, Attributes: verifiedPhone(),
			Detail: map[string]string{notify.DetailOldAddress: oldPhoneNo}, ID: id + "p"})
	}
	r.aws.SetErr(rejected)
	r.st.claimErr = errDynamo
	r.st.allowErr = errDynamo
	for _, k := range notify.Kinds {
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: k, UserPoolID: pool, UserName: userName, Attributes: both, Detail: detail, ID: "x"})
	}
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName,
		Attributes: map[string]string{"email": email, "email_verified": "false", "phone_number": "+33999", "phone_number_verified": "true"}})
	logs := r.logs.String()
	if !strings.Contains(logs, "notification sent") || !strings.Contains(logs, "notification failed") {
		t.Fatalf("log is missing decisions:\n%s", logs)
	}
	for _, secret := range []string{email, "alice.smith", oldEmail, "old.alice", phoneNo, "7400123456", oldPhoneNo, "7400654321",
		userName, "secret-session", "Alice's", "iPhone", "+33999"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log holds %q:\n%s", secret, logs)
		}
	}
}

// TestSMSDetailStaysGSM7: a key name or an address the user chose, outside GSM-7, would make the
// SMS UCS-2 (70 characters a part) and bill two or three parts; the SMS shows those characters as
// '*' and stays one part. The email keeps them.
func TestSMSDetailStaysGSM7(t *testing.T) {
	r := newRig(t, func(c *notify.Config) {
		c.Templates = map[notify.Kind]notify.Templates{notify.KeyAdded: {
			Text: "Key {{.Detail.keyName}} added to {{.AppName}}.",
			SMS:  "{{.AppName}}: key {{.Detail.keyName}} added. Not you? Sign in and remove it.",
		}}
	})
	name := "验证密钥 de María \U0001F600"
	detail := map[string]string{notify.DetailKeyName: name}
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName,
		Attributes: verifiedPhone(), Detail: detail, ID: "1"})
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName,
		Attributes: map[string]string{"email": email, "email_verified": "true"}, Detail: detail, ID: "2"})
	emails, sms := r.aws.sent()
	if len(sms) != 1 || len(emails) != 1 {
		t.Fatalf("%d SMS, %d emails", len(sms), len(emails))
	}
	if m := sms[0].Message; delivery.SMSParts(m) != 1 || !strings.Contains(m, "**** de Mar*a *") {
		t.Errorf("SMS is %d parts: %q", delivery.SMSParts(m), m)
	}
	if !strings.Contains(emails[0].Text, name) {
		t.Errorf("email lost the key's name: %q", emails[0].Text)
	}
}

// TestSMSLongestValuesOnePart (found by review): the one-part check at start-up samples each
// detail at its longest; a value longer in septets than the sample made an SMS two parts. A key
// name of 40 euro signs (two septets each) and an old address with a 24-character top-level
// domain (MaskEmail keeps it) as the new address of a contact change, each with a 64-character
// app name, stay one part.
func TestSMSLongestValuesOnePart(t *testing.T) {
	app := strings.Repeat("W", 64)
	r := newRig(t, func(c *notify.Config) {
		c.AppName = app
		c.Templates = map[notify.Kind]notify.Templates{notify.KeyAdded: {
			SMS: "{{.AppName}}: key {{.Detail.keyName}} added. Not you? Sign in and remove it.",
		}}
	})
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName,
		Attributes: verifiedPhone(), Detail: map[string]string{notify.DetailKeyName: strings.Repeat("€", 40)}, ID: "1"})
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.ContactChanged, UserPoolID: pool, UserName: userName,
		Attributes: map[string]string{"phone_number": phoneNo, "phone_number_verified": "true", "email": "{x@b.xn--vermgensberatung-pwb"},
		Detail:     map[string]string{notify.DetailOldAddress: oldEmail}, ID: "2"})
	_, sms := r.aws.sent()
	if len(sms) != 2 {
		t.Fatalf("%d SMS, want 2", len(sms))
	}
	for _, m := range sms {
		if c := delivery.CountSMS(m.Message); c.Parts != 1 {
			t.Errorf("SMS is %d parts (%+v): %q", c.Parts, c, m.Message)
		}
	}
}
