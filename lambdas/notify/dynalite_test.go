package notify_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

// dynaliteSender uses a fixed clock, so that no window of the caps ends during a test.
func dynaliteSender(t *testing.T) (*notify.Sender, *fakeAWS, *storetest.Table) {
	t.Helper()
	tb := storetest.New(t, "notify", store.WithClock(func() time.Time { return fixedNow }))
	aws := &fakeAWS{}
	s, err := notify.New(notify.Config{Events: notify.Kinds, Settings: delivery.Settings{EmailFrom: "no-reply@example.com"}, Timeout: 4 * time.Second},
		notify.Deps{Store: tb.Store, Email: aws, SMS: aws, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s, aws, tb
}

// Cognito retries a trigger, and a retry can overlap the first attempt: however many calls
// notify one event at the same moment, one message goes out (one conditional write decides).
func TestDynaliteConcurrentRetriesSendOnce(t *testing.T) {
	s, fake, tb := dynaliteSender(t)
	ev := notify.Event{Kind: notify.NewMethodSignIn, UserPoolID: pool, UserName: userName, Attributes: verifiedEmail(),
		Detail: map[string]string{notify.DetailMethod: "device_key"}, ID: "session-abc"}
	dynalitetest.AtOnce(20, func(int) struct{} {
		s.Notify(context.Background(), testKey, ev)
		return struct{}{}
	})
	s.Notify(context.Background(), testKey, ev) // a late retry
	if emails, _ := fake.sent(); len(emails) != 1 {
		t.Fatalf("21 notifications of one event sent %d emails, want 1", len(emails))
	}
	if s.Failures() != 0 {
		t.Fatalf("Failures = %d", s.Failures())
	}
	ev.ID = "session-def"
	s.Notify(context.Background(), testKey, ev)
	if emails, _ := fake.sent(); len(emails) != 2 {
		t.Fatalf("another event: %d emails in all, want 2", len(emails))
	}
	// The table holds keyed IDs only: no user name, address or event ID.
	dump := tb.Text(t)
	for _, secret := range []string{userName, email, "session-abc", "session-def", pool} {
		if strings.Contains(dump, secret) {
			t.Fatalf("table holds %q:\n%s", secret, dump)
		}
	}
	if strings.Count(dump, "pk=NOTIFY#") != 2 {
		t.Fatalf("want 2 NOTIFY# items:\n%s", dump)
	}
}

// A stranger locks one account over and over, and many phone-only accounts: the caps hold with
// the real store.
func TestDynaliteLockedCaps(t *testing.T) {
	s, fake, tb := dynaliteSender(t)
	for i := range 6 {
		s.Notify(context.Background(), testKey, notify.Event{Kind: notify.AccountLocked, UserPoolID: pool, UserName: userName,
			Attributes: verifiedEmail(), ID: fmt.Sprint("window-", i)})
	}
	if emails, _ := fake.sent(); len(emails) != 3 {
		t.Fatalf("6 locks of one account sent %d emails, want 3", len(emails))
	}
	// One after another: AllowSend's own concurrency is store's to test.
	for i := range 25 {
		s.Notify(context.Background(), testKey, notify.Event{Kind: notify.AccountLocked, UserPoolID: pool, UserName: fmt.Sprint("user-", i),
			Attributes: verifiedPhone(), ID: "w"})
	}
	if _, sms := fake.sent(); len(sms) != 20 {
		t.Fatalf("25 locked phone-only accounts sent %d SMS, want 20 (deployment budget per hour)", len(sms))
	}
	if s.Failures() != 0 {
		t.Fatalf("Failures = %d", s.Failures())
	}
	dump := tb.Text(t)
	if !strings.Contains(dump, "pk=RATE#notify-locked-sms") {
		t.Fatalf("no deployment budget item:\n%s", dump)
	}
	for _, secret := range []string{userName, "user-1", email, phoneNo} {
		if strings.Contains(dump, secret) {
			t.Fatalf("table holds %q", secret)
		}
	}
}
