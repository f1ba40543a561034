package notify_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/passwordless-go/cognito/lambdas/notify"
)

const shownTime = "2030-05-06 07:08 UTC"

// Every kind renders with the defaults: subject, text, HTML and SMS say what happened and when
// (SMS: what), name the app, carry no link, no user name and no full address.
func TestEachKindRendersWithDefaults(t *testing.T) {
	r := newRig(t, nil)
	detail := map[string]string{notify.DetailOldAddress: oldEmail, notify.DetailMethod: "device_key", notify.DetailCount: "2", notify.DetailKeyName: "Mallory's key"}
	for i, k := range notify.Kinds {
		attrs := verifiedEmail()
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: k, UserPoolID: pool, UserName: userName, Attributes: attrs, Detail: detail, ID: "e" + string(rune('a'+i))})
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: k, UserPoolID: pool, UserName: userName, Attributes: verifiedPhone(), ID: "s" + string(rune('a'+i))})
	}
	emails, sms := r.aws.sent()
	// contact_changed also mails the old address.
	if len(emails) != len(notify.Kinds)+1 || len(sms) != len(notify.Kinds) {
		t.Fatalf("%d emails, %d SMS", len(emails), len(sms))
	}
	seenSubjects := map[string]bool{}
	for _, m := range emails {
		if m.From != "Example <no-reply@example.com>" || len(m.To) != 1 {
			t.Errorf("from %q to %v", m.From, m.To)
		}
		if seenSubjects[m.Subject] && !strings.Contains(m.Subject, "email address") {
			t.Errorf("subject %q used twice", m.Subject)
		}
		seenSubjects[m.Subject] = true
		for name, body := range map[string]string{"subject": m.Subject, "text": m.Text, "html": m.HTML} {
			if !strings.Contains(body, "Example") {
				t.Errorf("%s %q does not name the app", name, body)
			}
			if name != "subject" && !strings.Contains(body, shownTime) {
				t.Errorf("%s %q does not say when", name, body)
			}
			if name != "subject" && !strings.Contains(body, "not you") && !strings.Contains(body, "If it was not you") {
				t.Errorf("%s %q does not say what to do if it was not the owner", name, body)
			}
			checkClean(t, name, body)
		}
		if !strings.HasPrefix(m.HTML, "<!DOCTYPE html>") || !strings.Contains(m.HTML, "<p>") {
			t.Errorf("html body %q", m.HTML)
		}
	}
	for _, m := range sms {
		if utf8.RuneCountInString(m.Message) > notify.MaxSMSLength || !strings.Contains(m.Message, "Example") {
			t.Errorf("SMS %q", m.Message)
		}
		if m.MessageAttributes["AWS.SNS.SMS.SMSType"].StringValue != "Transactional" {
			t.Errorf("SMS attributes %v", m.MessageAttributes)
		}
		checkClean(t, "sms", m.Message)
	}
}

// checkClean fails when body holds a link, the user name, a full address or a user-chosen name.
func checkClean(t *testing.T, name, body string) {
	t.Helper()
	for _, bad := range []string{"http", "://", "www.", userName, email, oldEmail, phoneNo, "Mallory", "{{", "}}"} {
		if strings.Contains(body, bad) {
			t.Errorf("%s holds %q: %q", name, bad, body)
		}
	}
}

// contact_changed tells both the new and the old address, with both addresses masked.
func TestContactChangedToOldAddressMasked(t *testing.T) {
	r := newRig(t, nil)
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.ContactChanged, UserPoolID: pool, UserName: userName,
		Attributes: verifiedEmail(), Detail: map[string]string{notify.DetailOldAddress: oldEmail, notify.DetailAttribute: "email"}, ID: "1"})
	emails, _ := r.aws.sent()
	if len(emails) != 2 {
		t.Fatalf("%d emails, want 2", len(emails))
	}
	to := map[string]bool{}
	for _, m := range emails {
		to[m.To[0]] = true
		if !strings.Contains(m.Text, "Old: o***@e***.net") || !strings.Contains(m.Text, "New: a***@e***.org") {
			t.Errorf("text does not show both masked addresses:\n%s", m.Text)
		}
		if !strings.Contains(m.Subject, "email address") {
			t.Errorf("subject %q", m.Subject)
		}
		checkClean(t, "text", m.Text)
		checkClean(t, "html", m.HTML)
	}
	if !to[email] || !to[oldEmail] {
		t.Fatalf("sent to %v, want the new and the old address", to)
	}
	// A phone number changed on an account whose contact is its email: the email account
	// address and the old phone by SMS.
	attrs := verifiedEmail()
	attrs["phone_number"], attrs["phone_number_verified"] = phoneNo, "true"
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.ContactChanged, UserPoolID: pool, UserName: userName,
		Attributes: attrs, Detail: map[string]string{notify.DetailOldAddress: oldPhoneNo}, ID: "2"})
	emails, sms := r.aws.sent()
	if len(emails) != 3 || len(sms) != 1 || sms[0].PhoneNumber != oldPhoneNo {
		t.Fatalf("%d emails, SMS %v", len(emails), sms)
	}
	if want := "your phone number was changed to +44*******456"; !strings.Contains(sms[0].Message, want) {
		t.Errorf("SMS %q, want %q", sms[0].Message, want)
	}
	if !strings.Contains(emails[2].Text, "Old: +44*******321") {
		t.Errorf("email text %q", emails[2].Text)
	}
}

// Overrides replace the default field by field; a text override alone also makes the HTML body;
// values are HTML-escaped in the HTML body only.
func TestTemplateOverrides(t *testing.T) {
	r := newRig(t, func(c *notify.Config) {
		c.AppName = "Tom & Jerry"
		c.Templates = map[notify.Kind]notify.Templates{
			notify.KeyAdded:        {Subject: "[{{.AppName}}] key added", Text: "Added at {{ .Time }}.\n\nKey: {{.Detail.keyName}}\n", SMS: "{{.AppName}} key {{.Detail.keyName}}"},
			notify.NewMethodSignIn: {HTML: "<b>{{.Detail.method}}</b> {{.AppName}}"},
		}
	})
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName,
		Attributes: verifiedEmail(), Detail: map[string]string{notify.DetailKeyName: "Work <laptop>"}, ID: "1"})
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName,
		Attributes: verifiedEmail(), Detail: map[string]string{notify.DetailKeyName: "Bob's phone & tablet " + strings.Repeat("x", 50)}, ID: "2"})
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.NewMethodSignIn, UserPoolID: pool, UserName: userName,
		Attributes: verifiedEmail(), Detail: map[string]string{notify.DetailMethod: "sms_otp"}, ID: "3"})
	r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.KeyAdded, UserPoolID: pool, UserName: userName,
		Attributes: verifiedPhone(), Detail: map[string]string{notify.DetailKeyName: "Pixel"}, ID: "4"})
	emails, sms := r.aws.sent()
	if len(emails) != 3 || len(sms) != 1 {
		t.Fatalf("%d emails %d SMS", len(emails), len(sms))
	}
	a, b, c := emails[0], emails[1], emails[2]
	if a.Subject != "[Tom & Jerry] key added" {
		t.Errorf("subject %q", a.Subject)
	}
	// "<" is not allowed in key names (usertext): the name is not shown.
	if a.Text != "Added at "+shownTime+".\n\nKey: (unnamed)\n" {
		t.Errorf("text %q", a.Text)
	}
	if !strings.Contains(a.HTML, "<p>Added at "+shownTime+".</p>\n<p>Key: (unnamed)</p>") {
		t.Errorf("html from text %q", a.HTML)
	}
	if want := "Key: Bob&#39;s phone &amp; tablet " + strings.Repeat("x", 19) + "...</p>"; !strings.Contains(b.HTML, want) {
		t.Errorf("html %q, want it to contain %q", b.HTML, want)
	}
	if want := "Key: Bob's phone & tablet " + strings.Repeat("x", 19) + "...\n"; !strings.HasSuffix(b.Text, want) {
		t.Errorf("text %q, want suffix %q", b.Text, want)
	}
	if c.HTML != "<b>a code sent by SMS</b> Tom &amp; Jerry" {
		t.Errorf("html override %q", c.HTML)
	}
	if !strings.Contains(c.Text, "with a code sent by SMS, a way") {
		t.Errorf("default text kept: %q", c.Text)
	}
	if sms[0].Message != "Tom & Jerry key Pixel" {
		t.Errorf("SMS %q", sms[0].Message)
	}
}
