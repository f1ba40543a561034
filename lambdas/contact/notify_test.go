package contact_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/contact"
	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/notify/notifytest"
)

// newNotifyEnv is newEnv with n as Deps.Notify.
func newNotifyEnv(t *testing.T, n contact.Notifier) *env {
	t.Helper()
	e := newEnv(t, config())
	svc, err := contact.New(config(), contact.Deps{
		Store: e.st, Keys: keyed.MustStatic("test deployment secret, 32 bytes or more"),
		Users: e.idp, Email: e.box, SMS: e.box, Now: e.clk.Now, Notify: n,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

// change runs a whole change for victimSub with attrs and returns the right code's answer.
func (e *env) change(t *testing.T, attrs map[string]string, body, newTo string) reply {
	t.Helper()
	c := e.caller(victimSub, attrs)
	id := e.startOK(t, c, body).str("changeId")
	return e.verify(t, c, id, e.box.lastCode(t, newTo))
}

// TestContactChangedEvent (issue 12): with a notifier, a completed change is one contact_changed
// event instead of the built-in notice: the attributes as they are after the change, the
// attribute and the old verified address in Detail. When no verified address of that kind was
// replaced, the new one is passed unverified, so that the notification goes to the account's
// previously verified contact and not (only) to the address the caller just added.
func TestContactChangedEvent(t *testing.T) {
	for _, tc := range []struct {
		name      string
		attrs     map[string]string
		body      string
		newTo     string
		wantAttrs map[string]string
		wantOld   string
	}{
		{"email changed", map[string]string{"email": "old@example.com", "email_verified": "true"},
			`{"email": "new@example.org"}`, "new@example.org",
			map[string]string{"email": "new@example.org", "email_verified": "true"}, "old@example.com"},
		{"phone changed", map[string]string{"phone_number": "+447400111222", "phone_number_verified": "true", "email": "me@example.com", "email_verified": "true"},
			`{"phoneNumber": "+447400123456"}`, "+447400123456",
			map[string]string{"phone_number": "+447400123456", "phone_number_verified": "true", "email": "me@example.com", "email_verified": "true"}, "+447400111222"},
		{"email added", map[string]string{"phone_number": "+447400111222", "phone_number_verified": "true"},
			`{"email": "new@example.org"}`, "new@example.org",
			map[string]string{"email": "new@example.org", "email_verified": "false", "phone_number": "+447400111222", "phone_number_verified": "true"}, ""},
		{"unverified email replaced", map[string]string{"email": "old@example.com", "email_verified": "false", "phone_number": "+447400111222", "phone_number_verified": "true"},
			`{"email": "new@example.org"}`, "new@example.org",
			map[string]string{"email": "new@example.org", "email_verified": "false", "phone_number": "+447400111222", "phone_number_verified": "true"}, ""},
	} {
		n := &notifytest.Recorder{}
		e := newNotifyEnv(t, n)
		if r := e.change(t, tc.attrs, tc.body, tc.newTo); r.status != 200 {
			t.Fatalf("%s: %d %v", tc.name, r.status, r.body)
		}
		if c := e.box.Len(); c != 1 {
			t.Errorf("%s: %d messages sent by the service, want only the code (the notifier tells the owner)", tc.name, c)
		}
		ev := n.Events()
		if len(ev) != 1 {
			t.Fatalf("%s: %d events", tc.name, len(ev))
		}
		x := ev[0]
		attr := "email"
		if strings.Contains(tc.body, "phoneNumber") {
			attr = "phone_number"
		}
		if x.Kind != notify.ContactChanged || x.UserPoolID != poolID || x.UserName != victimSub || len(x.ID) < 20 ||
			x.Detail[notify.DetailAttribute] != attr || x.Detail[notify.DetailOldAddress] != tc.wantOld || n.Keys()[0] == nil {
			t.Errorf("%s: event %+v", tc.name, x)
		}
		for k, v := range tc.wantAttrs {
			if x.Attributes[k] != v {
				t.Errorf("%s: attribute %s = %q, want %q", tc.name, k, x.Attributes[k], v)
			}
		}
	}

	// Each change is its own event.
	n := &notifytest.Recorder{}
	e := newNotifyEnv(t, n)
	e.change(t, map[string]string{"email": "a@example.com", "email_verified": "true"}, `{"email": "b@example.org"}`, "b@example.org")
	e.clk.Add(2 * time.Minute)
	e.change(t, map[string]string{"email": "b@example.org", "email_verified": "true"}, `{"email": "c@example.org"}`, "c@example.org")
	if ev := n.Events(); len(ev) != 2 || ev[0].ID == ev[1].ID {
		t.Fatalf("events %+v", ev)
	}
}

// TestContactNotifierFailureKeepsTheChange: a notifier that panics changes nothing of the answer
// or the change; a refused change tells nobody.
func TestContactNotifierFailureKeepsTheChange(t *testing.T) {
	n := &notifytest.Recorder{Panics: true}
	e := newNotifyEnv(t, n)
	r := e.change(t, map[string]string{"email": "old@example.com", "email_verified": "true"}, `{"email": "new@example.org"}`, "new@example.org")
	if r.status != 200 || r.str("email") != "new@example.org" || len(e.idp.updates()) != 1 || len(n.Events()) != 1 {
		t.Fatalf("%d %v, %d Cognito calls, %d events", r.status, r.body, len(e.idp.updates()), len(n.Events()))
	}
	// A wrong code: no event.
	n2 := &notifytest.Recorder{}
	e2 := newNotifyEnv(t, n2)
	c := e2.caller(victimSub, map[string]string{"email": "old@example.com", "email_verified": "true"})
	id := e2.startOK(t, c, `{"email": "new@example.org"}`).str("changeId")
	if r := e2.verify(t, c, id, wrongCode(e2.box.lastCode(t, "new@example.org"))); r.status != 400 || len(n2.Events()) != 0 {
		t.Fatalf("wrong code: %d, %d events", r.status, len(n2.Events()))
	}
}

// claimStore adds the notification claim to fakeStore, so the real notify.Sender can run on it.
type claimStore struct {
	*fakeStore
	mu      sync.Mutex
	claimed map[string]bool
}

func (c *claimStore) ClaimNotification(_ context.Context, id string, _ time.Duration) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.claimed[id] {
		return false, nil
	}
	c.claimed[id] = true
	return true, nil
}

// TestContactChangedReachesTheOldContact runs the real notify.Sender behind the service: the
// notice reaches the replaced address, or, when an address was added, the account's previously
// verified contact; never only the address the caller just added.
func TestContactChangedReachesTheOldContact(t *testing.T) {
	for _, tc := range []struct {
		name       string
		attrs      map[string]string
		body       string
		newTo      string
		toldEmails []string
		toldSMS    []string
	}{
		{"email changed", map[string]string{"email": "old@example.com", "email_verified": "true"},
			`{"email": "new@example.org"}`, "new@example.org", []string{"old@example.com", "new@example.org"}, nil},
		{"email added to a phone account", map[string]string{"phone_number": "+447400111222", "phone_number_verified": "true"},
			`{"email": "new@example.org"}`, "new@example.org", nil, []string{"+447400111222"}},
		{"phone added to an email account", map[string]string{"email": "me@example.com", "email_verified": "true"},
			`{"phoneNumber": "+447400123456"}`, "+447400123456", []string{"me@example.com"}, nil},
		{"phone changed", map[string]string{"phone_number": "+447400111222", "phone_number_verified": "true", "email": "me@example.com", "email_verified": "true"},
			`{"phoneNumber": "+447400123456"}`, "+447400123456", []string{"me@example.com"}, []string{"+447400111222"}},
	} {
		e := newEnv(t, config())
		st := &claimStore{fakeStore: e.fake, claimed: map[string]bool{}}
		sender, err := notify.New(notify.Config{Events: []notify.Kind{notify.ContactChanged}, Settings: delivery.Settings{EmailFrom: sender, AppName: "Example"}},
			notify.Deps{Store: st, Email: e.box, SMS: e.box, Now: e.clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := contact.New(config(), contact.Deps{Store: e.st, Keys: keyed.MustStatic("test deployment secret, 32 bytes or more"),
			Users: e.idp, Email: e.box, SMS: e.box, Now: e.clk.Now, Notify: sender})
		if err != nil {
			t.Fatal(err)
		}
		e.svc = svc
		if r := e.change(t, tc.attrs, tc.body, tc.newTo); r.status != 200 {
			t.Fatalf("%s: %d %v", tc.name, r.status, r.body)
		}
		notices := 0
		for _, to := range tc.toldEmails {
			got := 0
			for _, m := range e.box.EmailsTo(to) {
				if strings.Contains(m.Subject, "changed") {
					got++
				}
			}
			if got != 1 {
				t.Errorf("%s: %d notices to %s, want 1", tc.name, got, to)
			}
			notices += got
		}
		for _, to := range tc.toldSMS {
			if got := len(e.box.SMSTo(to)); got != 1 {
				t.Errorf("%s: %d SMS to %s, want 1", tc.name, got, to)
			}
			notices++
		}
		if all := e.box.Len(); all != 1+notices {
			t.Errorf("%s: %d messages in all, want the code and %d notices", tc.name, all, notices)
		}
		if sender.Failures() != 0 {
			t.Errorf("%s: %d notification failures", tc.name, sender.Failures())
		}
	}
}
