package contact_test

import (
	"testing"
)

// TestSMSCarriesSenderSettings: the contact-change code SMS goes with the configured sender ID
// and origination number, as the sign-in codes do (an SMS without the registered origination
// number is refused by carriers in countries that require one, e.g. US 10DLC / toll-free).
func TestSMSCarriesSenderSettings(t *testing.T) {
	cfg := config()
	cfg.Code.SMSSenderID = "Example"
	cfg.Code.SMSOriginationNumber = "+447400000001"
	e := newEnv(t, cfg)
	// The code goes to the new number; the built-in notice to the old, verified one.
	c := e.caller(victimSub, map[string]string{"phone_number": "+447400111222", "phone_number_verified": "true"})
	id := e.startOK(t, c, `{"phoneNumber": "+447400123456"}`).str("changeId")
	if r := e.verify(t, c, id, e.box.lastCode(t, "+447400123456")); r.status != 200 {
		t.Fatalf("verify: %d %v", r.status, r.body)
	}
	for _, to := range []string{"+447400123456", "+447400111222"} {
		sms := e.box.SMSTo(to)
		if len(sms) != 1 {
			t.Fatalf("%d SMS to %s", len(sms), to)
		}
		attrs := sms[0].MessageAttributes
		for name, want := range map[string]string{
			"AWS.SNS.SMS.SMSType":          "Transactional",
			"AWS.SNS.SMS.SenderID":         "Example",
			"AWS.MM.SMS.OriginationNumber": "+447400000001",
		} {
			if got := attrs[name]; got.DataType != "String" || got.StringValue != want {
				t.Errorf("SMS to %s: %s = %+v, want String %q", to, name, got, want)
			}
		}
	}

	// Not configured: neither attribute is sent (SNS would refuse an empty value).
	e = newEnv(t, config())
	e.startOK(t, e.caller(victimSub, nil), `{"phoneNumber": "+447400123456"}`)
	attrs := e.box.SMSTo("+447400123456")[0].MessageAttributes
	if _, ok := attrs["AWS.SNS.SMS.SenderID"]; ok {
		t.Error("sender ID sent without one configured")
	}
	if _, ok := attrs["AWS.MM.SMS.OriginationNumber"]; ok {
		t.Error("origination number sent without one configured")
	}
	if len(attrs) != 1 {
		t.Errorf("attributes %v", attrs)
	}
}
