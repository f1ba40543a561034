package contact

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/otp"
)

// TestSMSFitOneSegment renders every SMS with the longest values the configuration allows (an
// APP_NAME of 64 characters, 10 digits, 10 minutes, the longest masks) and requires at most 160
// characters.
func TestSMSFitOneSegment(t *testing.T) {
	longEmailMask := otp.Mask(authflow.EmailOTP, "a@b."+strings.Repeat("x", 24))
	longPhoneMask := otp.Mask(authflow.SMSOTP, "+123456789012345")
	for _, app := range []string{"A", strings.Repeat("W", otp.MaxAppNameLength), strings.Repeat("é", otp.MaxAppNameLength)} {
		for _, d := range []messageData{
			{Code: "0123456789", AppName: app, Minutes: 10, What: phoneKind.what},
			{AppName: app, What: phoneKind.what, Destination: longPhoneMask},
			{AppName: app, What: emailKind.what, Destination: longEmailMask},
		} {
			for _, m := range []string{
				render(codeSMS, d, false),
				renderSMS(changedSMS, changedSMSShort, d),
				renderSMS(addedSMS, addedSMSShort, d),
			} {
				if n := utf8.RuneCountInString(m); n > maxSMSLength {
					t.Errorf("%d characters: %q", n, m)
				}
				if strings.Contains(m, "{{") {
					t.Errorf("placeholder left: %q", m)
				}
			}
		}
	}
	// The code SMS always names the app and prints the code.
	m := render(codeSMS, messageData{Code: "0123456789", AppName: strings.Repeat("W", 64), Minutes: 10}, false)
	if !strings.Contains(m, "0123456789") || !strings.Contains(m, strings.Repeat("W", 64)) {
		t.Errorf("code SMS %q", m)
	}
}

func TestEmailsEscapeAndPrint(t *testing.T) {
	d := messageData{Code: "123456", AppName: `Tom & <Jerry> "{{.Code}}"`, Minutes: 5, What: emailKind.what, Destination: "n***@e***.org"}
	e := renderEmail(codeEmailSubject, codeEmailText, codeEmailHTML, d)
	if !strings.Contains(e.text, "123456") || !strings.Contains(e.html, "123456") {
		t.Errorf("the code is missing:\n%s\n%s", e.text, e.html)
	}
	if strings.Contains(e.html, "<Jerry>") || !strings.Contains(e.html, "Tom &amp; &lt;Jerry&gt;") {
		t.Errorf("HTML body does not escape the app name:\n%s", e.html)
	}
	if !strings.Contains(e.text, `Tom & <Jerry> "{{.Code}}"`) || strings.Count(e.text, "123456") != 1 {
		t.Errorf("text body: a value was expanded again or changed:\n%s", e.text)
	}
	if strings.Contains(e.subject, "123456") {
		t.Errorf("the subject shows the code on lock screens: %q", e.subject)
	}
	for _, n := range []email{
		renderEmail(changedEmailSubject, changedEmailText, changedEmailHTML, d),
		renderEmail(addedEmailSubject, addedEmailText, addedEmailHTML, d),
	} {
		for _, s := range []string{n.subject, n.text, n.html} {
			if strings.Contains(s, "{{.What}}") || strings.Contains(s, "{{.Destination}}") || strings.Contains(s, "{{.AppName}}") {
				t.Errorf("placeholder left: %q", s)
			}
		}
		if !strings.Contains(n.text, "n***@e***.org") || !strings.Contains(n.html, "n***@e***.org") {
			t.Errorf("notice lacks the masked address:\n%s", n.text)
		}
	}
}
