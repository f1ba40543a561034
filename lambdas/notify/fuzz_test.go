package notify_test

import (
	"context"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/notify"
)

// Any event, however malformed, is handled without a panic and without its values in the log.
func FuzzNotify(f *testing.F) {
	f.Add("contact_changed", email, "true", phoneNo, "true", oldEmail, "passkey", "Bob's key", "3", "email")
	f.Add("key_added", "x@y", "true", "+1", "true", "+", "", "\xff\x00", "-1", "phone_number")
	f.Add("account_locked", "", "", "+447400123456", "true", "", "magic_link", "", "99999999999", "")
	f.Add("new_method_signin", "a@b.c", "TRUE", "+4474001234567890123", "true", "@", "email_otp", "<b>", "1e3", "sub")
	f.Fuzz(func(t *testing.T, kind, em, emv, ph, phv, old, method, keyName, count, attr string) {
		r := newRig(t, nil)
		ev := notify.Event{
			Kind: notify.Kind(kind), UserPoolID: pool, UserName: "fuzz-user-name",
			Attributes: map[string]string{"email": em, "email_verified": emv, "phone_number": ph, "phone_number_verified": phv},
			Detail: map[string]string{notify.DetailOldAddress: old, notify.DetailMethod: method, notify.DetailKeyName: keyName,
				notify.DetailCount: count, notify.DetailAttribute: attr},
			ID: "fuzz-event-id",
		}
		r.s.Notify(context.Background(), testKey, ev)
		r.s.Notify(context.Background(), testKey, ev)
		emails, sms := r.aws.sent()
		if n := uint64(len(emails) + len(sms)); n != r.s.Sent() || n > 2 {
			t.Fatalf("%d messages, Sent %d", n, r.s.Sent())
		}
		logs := r.logs.String()
		for _, v := range []string{"fuzz-user-name", "fuzz-event-id"} {
			if strings.Contains(logs, v) {
				t.Fatalf("log holds %q", v)
			}
		}
		for _, m := range emails {
			if strings.ContainsAny(m.Subject, "\r\n") {
				t.Fatalf("subject %q", m.Subject)
			}
		}
	})
}

func FuzzParseTemplatesJSON(f *testing.F) {
	f.Add(`{"key_added": {"subject": "{{.AppName}}", "text": "t", "html": "<p>{{.Time}}</p>", "sms": "s"}}`)
	f.Add(`{"key_added": {"text": "{{.Detail.}}"}}`)
	f.Add(`{"": {}}`)
	f.Fuzz(func(t *testing.T, s string) {
		m, err := notify.ParseTemplatesJSON(s)
		if err != nil {
			return
		}
		_ = notify.Config{Templates: m}.Validate()
	})
}
