package contact

import (
	"strings"
	"testing"
)

// TestMessagesWithoutAppName: with no app name configured (empty or the default "your app") no
// message reads "your your app", "a your app account" or leaves a placeholder; with a name, the
// name appears as before.
func TestMessagesWithoutAppName(t *testing.T) {
	all := [][3]string{
		{codeEmailSubject, codeEmailText, codeEmailHTML},
		{changedEmailSubject, changedEmailText, changedEmailHTML},
		{addedEmailSubject, addedEmailText, addedEmailHTML},
	}
	sms := []string{codeSMS, changedSMS, changedSMSShort, addedSMS, addedSMSShort}
	for _, name := range []string{"", "your app"} {
		d := messageData{Code: "123456", AppName: name, Minutes: 5, What: "email address", Destination: "j***@e***.com"}
		var out []string
		for _, m := range all {
			e := renderEmail(m[0], m[1], m[2], d)
			out = append(out, e.subject, e.text, e.html)
		}
		for _, m := range sms {
			out = append(out, render(m, d, false))
		}
		for _, o := range out {
			low := strings.ToLower(o)
			if strings.Contains(low, "your app") || strings.Contains(o, "{{") || strings.Contains(o, "  ") {
				t.Errorf("app name %q: %q", name, o)
			}
		}
	}
	d := messageData{Code: "123456", AppName: "Acme", Minutes: 5, What: "email address"}
	if e := renderEmail(changedEmailSubject, changedEmailText, changedEmailHTML, d); e.subject != "Your Acme email address was changed" {
		t.Errorf("with a name: %q", e.subject)
	}
}
