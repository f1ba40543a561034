package otp_test

import (
	"testing"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/otp"
)

// TestDefaultCountriesLeaveOutNANP: the default SMS countries are GB, DE, FR, AU and IE. US and
// Canadian numbers need a registered origination number (10DLC, toll-free), so an unconfigured
// deployment sends them nothing rather than messages carriers drop (and SMS pumping has no +1
// target by default).
func TestDefaultCountriesLeaveOutNANP(t *testing.T) {
	if otp.DefaultSMSAllowedCountries != "GB,DE,FR,AU,IE" {
		t.Errorf("DefaultSMSAllowedCountries = %q", otp.DefaultSMSAllowedCountries)
	}
	for number, send := range map[string]bool{
		"+12015550123":  false, // US
		"+14165550123":  false, // Canada
		"+447400123456": true,  // GB
	} {
		e := newEnv(t, otp.Config{})
		e.issueQuick(t, issueReq(authflow.SMSOTP, 1, phoneAttrs(number, true, true)))
		if sent := e.sns.count() == 1; sent != send {
			t.Errorf("%s: sent %v, want %v", number, sent, send)
		}
	}
}

// TestMaskHidesFormatCharacters: the masked destination the client shows never starts with an
// invisible or direction-changing character taken from the address (a right-to-left override
// would reverse what follows it on screen).
func TestMaskHidesFormatCharacters(t *testing.T) {
	for in, want := range map[string]string{
		"\u202eevil@example.com":  "****@e***.com",
		"\u200bzero@example.com":  "****@e***.com",
		"alice@\u2066example.com": "a***@****.com",
		"<x@example.com":          "****@e***.com",
	} {
		if got := otp.Mask(authflow.EmailOTP, in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}
