package passwordless

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// Issue 11, deploy blockers 4 and 7: what Validate must refuse or accept before a first deploy.

// TestValidateSessionValidity: Cognito accepts an AuthSessionValidity of 3 to 15 whole minutes;
// codes still live at most 10 minutes, so their default lifetime is the shorter of the two.
func TestValidateSessionValidity(t *testing.T) {
	email := &EmailProps{From: "no-reply@example.com"}
	codes := []Method{EmailOTP}
	for _, c := range []struct {
		name  string
		props Props
		want  string
	}{
		{"15 minutes", Props{AuthSessionValidity: 15 * time.Minute}, ""},
		{"15 minutes with codes", Props{AuthSessionValidity: 15 * time.Minute, Methods: codes, Email: email}, ""},
		{"8 minutes with codes", Props{AuthSessionValidity: 8 * time.Minute, Methods: codes, Email: email}, ""},
		{"16 minutes", Props{AuthSessionValidity: 16 * time.Minute}, "AuthSessionValidity"},
		{"2 minutes", Props{AuthSessionValidity: 2 * time.Minute}, "AuthSessionValidity"},
		{"not whole minutes", Props{AuthSessionValidity: 210 * time.Second}, "whole minutes"},
		{"code TTL beyond 10 minutes", Props{AuthSessionValidity: 15 * time.Minute, Methods: codes, Email: email, Codes: CodeProps{TTL: 12 * time.Minute}}, "codes"},
	} {
		t.Run(c.name, func(t *testing.T) { checkValidate(t, c.props, c.want) })
	}
	for _, c := range []struct {
		session, ttl time.Duration
	}{{3 * time.Minute, 3 * time.Minute}, {8 * time.Minute, 8 * time.Minute}, {15 * time.Minute, 10 * time.Minute}} {
		p := Props{AuthSessionValidity: c.session, Methods: codes, Email: email}.WithDefaults()
		if p.Codes.TTL != c.ttl {
			t.Errorf("session %v: default code TTL %v, want %v", c.session, p.Codes.TTL, c.ttl)
		}
	}
}

// TestValidateSMSOrigination: SMS to +1 numbers (US, Canada) needs a registered origination
// number, so sms_otp with them and no SMS.OriginationNumber fails the synth; the construct's
// default countries leave them out, so a zero-config sms_otp synthesizes. A dedicated number
// sends only within its own country, so every listed country must be the number's.
func TestValidateSMSOrigination(t *testing.T) {
	sms := func(s SMSProps) Props {
		return Props{Methods: []Method{SMSOTP}, Aliases: Aliases{Phone: true}, SMS: s}
	}
	for _, c := range []struct {
		name  string
		props Props
		want  string
	}{
		{"zero config", sms(SMSProps{}), ""},
		{"US without number", sms(SMSProps{AllowedCountries: []string{"GB", "US"}}), "SMS.OriginationNumber"},
		{"CA without number", sms(SMSProps{AllowedCountries: []string{"CA"}}), "SMS.OriginationNumber"},
		{"+1 prefix without number", sms(SMSProps{AllowedCountries: []string{"+1206"}}), "SMS.OriginationNumber"},
		{"error names the fix", sms(SMSProps{AllowedCountries: []string{"US"}}), "toll-free or 10DLC"},
		{"error links the docs", sms(SMSProps{AllowedCountries: []string{"US"}}), "https://docs.aws.amazon.com/sms-voice/"},
		{"error offers to drop US", sms(SMSProps{AllowedCountries: []string{"US"}}), "remove US, CA and +1 entries"},
		{"US with number", sms(SMSProps{AllowedCountries: []string{"US"}, OriginationNumber: "+18885550100"}), ""},
		{"US area code with number", sms(SMSProps{AllowedCountries: []string{"+1206"}, OriginationNumber: "+18885550100"}), ""},
		{"number not E.164", sms(SMSProps{AllowedCountries: []string{"US"}, OriginationNumber: "8885550100"}), "origination"},
		{"number outside the listed countries", sms(SMSProps{AllowedCountries: []string{"US", "GB"}, OriginationNumber: "+18885550100"}), "GB"},
		{"one number for US and CA", sms(SMSProps{AllowedCountries: []string{"US", "CA"}, OriginationNumber: "+18885550100"}), "Canada"},
		{"one number for all of +1", sms(SMSProps{AllowedCountries: []string{"+1"}, OriginationNumber: "+18885550100"}), "Canada"},
		{"GB number for GB", sms(SMSProps{AllowedCountries: []string{"GB"}, OriginationNumber: "+447700900123"}), ""},
		{"GB number for +44", sms(SMSProps{AllowedCountries: []string{"+44"}, OriginationNumber: "+447700900123"}), ""},
	} {
		t.Run(c.name, func(t *testing.T) { checkValidate(t, c.props, c.want) })
	}
	p := sms(SMSProps{}).WithDefaults()
	if DefaultSMSAllowedCountries != "GB,DE,FR,AU,IE" {
		t.Errorf("DefaultSMSAllowedCountries %q", DefaultSMSAllowedCountries)
	}
	if got := strings.Join(p.SMS.AllowedCountries, ","); got != "GB,DE,FR,AU,IE" {
		t.Errorf("default SMS countries %q, want %q (no +1 country without an origination number)", got, "GB,DE,FR,AU,IE")
	}
	for _, c := range p.SMS.AllowedCountries {
		if slices.Contains([]string{"US", "CA"}, c) {
			t.Errorf("default SMS countries list %s", c)
		}
	}
	if q := (Props{}).WithDefaults(); len(q.SMS.AllowedCountries) != 0 {
		t.Errorf("SMS countries %v filled in without sms_otp (Validate refuses SMS settings then)", q.SMS.AllowedCountries)
	}
}

func checkValidate(t *testing.T, p Props, want string) {
	t.Helper()
	err := p.Validate()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	}
}

// TestValidateExistingIdentity: issue 11 items 1 and 2. An SES identity that already exists is
// named (domain, address or ARN) instead of created; From must be in it. Native mode's EmailOTP
// must use one: Cognito checks the identity when it creates the pool, and one created in the
// same stack is never verified by then.
func TestValidateExistingIdentity(t *testing.T) {
	native := func(e *EmailProps) Props {
		return Props{Mode: ModeNative, Native: NativeProps{EmailOTP: true}, Email: e}
	}
	custom := func(e *EmailProps) Props {
		return Props{Methods: []Method{EmailOTP}, Email: e}
	}
	for _, c := range []struct {
		name  string
		props Props
		want  string
	}{
		{"native creates address identity", native(&EmailProps{From: "no-reply@example.com"}), "Email.ExistingIdentity"},
		{"native creates domain identity", native(&EmailProps{From: "no-reply@example.com", Domain: "example.com"}), "must already exist and be verified"},
		{"native existing domain", native(&EmailProps{From: "no-reply@example.com", ExistingIdentity: "example.com"}), ""},
		{"native existing address", native(&EmailProps{From: "no-reply@example.com", ExistingIdentity: "no-reply@example.com"}), ""},
		{"native existing arn", native(&EmailProps{From: "no-reply@example.com", ExistingIdentity: "arn:aws:ses:eu-west-1:123456789012:identity/example.com"}), ""},
		{"custom existing domain", custom(&EmailProps{From: "no-reply@example.com", ExistingIdentity: "example.com"}), ""},
		{"custom existing address, other case", custom(&EmailProps{From: "No-Reply@example.com", ExistingIdentity: "no-reply@example.com"}), ""},
		{"domain and existing", custom(&EmailProps{From: "no-reply@example.com", Domain: "example.com", ExistingIdentity: "example.com"}), "not both"},
		{"from outside existing domain", custom(&EmailProps{From: "no-reply@other.com", ExistingIdentity: "example.com"}), "not in the existing identity"},
		{"from a subdomain", custom(&EmailProps{From: "no-reply@mail.example.com", ExistingIdentity: "example.com"}), "not in the existing identity"},
		{"from other address", custom(&EmailProps{From: "sign-in@example.com", ExistingIdentity: "no-reply@example.com"}), "not in the existing identity"},
		{"not an identity", custom(&EmailProps{From: "no-reply@example.com", ExistingIdentity: "example"}), "neither a domain name nor an email address"},
		{"not an ses arn", custom(&EmailProps{From: "no-reply@example.com", ExistingIdentity: "arn:aws:sns:eu-west-1:123456789012:identity/example.com"}), "not an SES identity ARN"},
		{"arn of another domain", custom(&EmailProps{From: "no-reply@example.com", ExistingIdentity: "arn:aws:ses:eu-west-1:123456789012:identity/other.com"}), "not in the existing identity"},
	} {
		t.Run(c.name, func(t *testing.T) { checkValidate(t, c.props, c.want) })
	}
}
