package testkit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/internal/testkit"
)

// TestMailbox: sends are kept as copies and found by recipient; SetErr fails and keeps nothing
// until cleared.
func TestMailbox(t *testing.T) {
	var m testkit.Mailbox
	ctx := context.Background()
	in := &awsapi.SendEmailInput{To: []string{"a@example.com"}, Subject: "one"}
	if err := m.SendEmail(ctx, in); err != nil {
		t.Fatal(err)
	}
	in.Subject = "changed after sending"
	if err := m.Publish(ctx, &awsapi.PublishInput{PhoneNumber: "+447400123456", Message: "code"}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("throttled")
	m.SetErr(boom)
	if err := m.SendEmail(ctx, &awsapi.SendEmailInput{To: []string{"b@example.com"}}); !errors.Is(err, boom) {
		t.Fatalf("SendEmail with SetErr: %v", err)
	}
	if err := m.Publish(ctx, &awsapi.PublishInput{PhoneNumber: "+447400123456"}); !errors.Is(err, boom) {
		t.Fatalf("Publish with SetErr: %v", err)
	}
	m.SetErr(nil)
	if m.Len() != 2 || m.Emails()[0].Subject != "one" || len(m.EmailsTo("a@example.com")) != 1 || len(m.EmailsTo("b@example.com")) != 0 ||
		len(m.SMS()) != 1 || len(m.SMSTo("+447400123456")) != 1 || len(m.SMSTo("+15550100")) != 0 {
		t.Errorf("kept %d: emails %+v, SMS %+v", m.Len(), m.Emails(), m.SMS())
	}
}
