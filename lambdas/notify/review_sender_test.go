package notify_test

import (
	"context"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/notify"
)

// TestDefaultCountriesLeaveOutNANP: notifications use the sign-in codes' default SMS countries,
// GB, DE, FR, AU and IE: a verified US or Canadian number gets no SMS unless listed.
func TestDefaultCountriesLeaveOutNANP(t *testing.T) {
	if notify.DefaultSMSAllowedCountries != "GB,DE,FR,AU,IE" {
		t.Errorf("DefaultSMSAllowedCountries = %q", notify.DefaultSMSAllowedCountries)
	}
	for number, send := range map[string]bool{"+12015550123": false, "+14165550123": false, phoneNo: true} {
		r := newRig(t, nil)
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.PasskeyAdded, UserPoolID: pool, UserName: userName,
			Attributes: map[string]string{"phone_number": number, "phone_number_verified": "true"}, ID: "1"})
		if _, sms := r.aws.sent(); (len(sms) == 1) != send {
			t.Errorf("%s: %d SMS, want sent=%v", number, len(sms), send)
		}
	}
}
