package notify_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/store"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

// dynaliteSender uses a fixed clock, so that no window of the caps ends during a test.
func dynaliteSender(t *testing.T) (*notify.Sender, *fakeAWS, *dynamodb.Client, string) {
	t.Helper()
	srv := dynalitetest.Shared(t)
	db := srv.Client()
	table := dynalitetest.NewTable(t, db, store.TableDefinition("notify"))
	aws := &fakeAWS{}
	s, err := notify.New(notify.Config{Events: notify.Kinds, EmailFrom: "no-reply@example.com", Timeout: 4 * time.Second},
		notify.Deps{Store: store.New(db, table, store.WithClock(func() time.Time { return fixedNow })), Email: aws, SMS: aws, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s, aws, db, table
}

// Cognito retries a trigger, and a retry can overlap the first attempt: however many calls
// notify one event at the same moment, one message goes out (one conditional write decides).
func TestDynaliteConcurrentRetriesSendOnce(t *testing.T) {
	s, fake, db, table := dynaliteSender(t)
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
	dump := scan(t, db, table)
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
	s, fake, db, table := dynaliteSender(t)
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
	dump := scan(t, db, table)
	if !strings.Contains(dump, "pk=RATE#notify-locked-sms") {
		t.Fatalf("no deployment budget item:\n%s", dump)
	}
	for _, secret := range []string{userName, "user-1", email, phoneNo} {
		if strings.Contains(dump, secret) {
			t.Fatalf("table holds %q", secret)
		}
	}
}

// scan returns the table's items as "name=value" text, one item per line.
func scan(t *testing.T, db *dynamodb.Client, table string) string {
	t.Helper()
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, item := range out.Items {
		for k, v := range item {
			switch v := v.(type) {
			case *types.AttributeValueMemberS:
				fmt.Fprintf(&b, "%s=%s ", k, v.Value)
			case *types.AttributeValueMemberN:
				fmt.Fprintf(&b, "%s=%s ", k, v.Value)
			default:
				fmt.Fprintf(&b, "%s=? ", k)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
