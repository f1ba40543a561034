package contact

import (
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/otp"
)

// TestSMSOnePart renders every contact SMS with app names and addresses outside GSM-7 (which
// make an SMS UCS-2: 70 characters in one part, 3GPP TS 23.038) and requires one SMS part as
// carriers count it. With the old check (at most 160 characters) "Your Ópera phone number was
// changed to ..." went out as two parts.
func TestSMSOnePart(t *testing.T) {
	masks := []string{
		otp.Mask(authflow.SMSOTP, "+123456789012345"),
		otp.Mask(authflow.EmailOTP, "a@b."+strings.Repeat("x", 24)),
		otp.Mask(authflow.EmailOTP, "óscar@xn--ea.museum"),
		otp.Mask(authflow.EmailOTP, "验证@例子.公司"),
		otp.Mask(authflow.EmailOTP, "\U0001F600@\U0001F600.museum"),
	}
	for _, app := range []string{"A", "Ópera", "Müller & Söhne", strings.Repeat("W", otp.MaxAppNameLength), strings.Repeat("验", otp.MaxAppNameLength), strings.Repeat("\U0001F600", otp.MaxAppNameLength)} {
		for _, minutes := range []int{1, 10} {
			d := messageData{Code: "0123456789", AppName: app, Minutes: minutes, What: phoneKind.what}
			if m := renderSMS(codeSMS, codeSMSShort, d); delivery.SMSParts(m) != 1 || !strings.Contains(m, "0123456789") {
				t.Errorf("code SMS, app %q: %d parts: %q", app, delivery.SMSParts(m), m)
			}
		}
		for _, what := range []string{phoneKind.what, emailKind.what} {
			for _, mask := range masks {
				d := messageData{AppName: app, What: what, Destination: mask}
				for _, m := range []string{renderSMS(changedSMS, changedSMSShort, d), renderSMS(addedSMS, addedSMSShort, d)} {
					if n := delivery.SMSParts(m); n != 1 {
						t.Errorf("app %q, %s %q: %d parts: %q", app, what, mask, n, m)
					}
					if strings.Contains(m, "{{") {
						t.Errorf("placeholder left: %q", m)
					}
				}
			}
		}
	}
	// GSM-7 names and addresses are kept: the name when it fits, the address always.
	d := messageData{AppName: "Müller & Söhne", What: emailKind.what, Destination: "ø***@e***.com"}
	if m := renderSMS(changedSMS, changedSMSShort, d); !strings.Contains(m, "Müller & Söhne") || !strings.Contains(m, "ø***@e***.com") {
		t.Errorf("GSM-7 notice %q", m)
	}
	// A UCS-2 name that fits keeps it.
	if m := renderSMS(codeSMS, codeSMSShort, messageData{Code: "123456", AppName: "Ópera", Minutes: 5}); m != "123456 is your Ópera code to confirm this number. It expires in 5 min." {
		t.Errorf("code SMS %q", m)
	}
}
