package passwordless

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	email := &EmailProps{From: "no-reply@example.com"}
	cases := []struct {
		name  string
		props Props
		want  string // substring of the error; "" means valid
	}{
		{"zero value", Props{}, ""},
		{"email otp with sender", Props{Methods: []Method{EmailOTP}, Email: email}, ""},
		{"email otp without sender", Props{Methods: []Method{EmailOTP}}, "email_otp needs Email"},
		{"email otp without email alias", Props{Methods: []Method{EmailOTP}, Email: email, Aliases: Aliases{Phone: true}}, "needs the email alias"},
		{"sms otp without phone alias", Props{Methods: []Method{SMSOTP}}, "needs the phone alias"},
		{"unknown method", Props{Methods: []Method{"password"}}, "unknown sign-in method"},
		{"duplicate method", Props{Methods: []Method{DeviceKey, DeviceKey}}, "listed twice"},
		{"sender not an address", Props{Email: &EmailProps{From: "Sign in <a@example.com>"}}, "not a bare email address"},
		{"sender outside domain", Props{Email: &EmailProps{From: "a@other.com", Domain: "example.com"}}, "is not in Domain"},
		{"bad domain", Props{Email: &EmailProps{From: "a@example", Domain: "example"}}, "not a domain name"},
		{"origin with path", Props{AllowedOrigins: []string{"https://app.example.com/login"}}, "scheme://host[:port] only"},
		{"origin trailing slash", Props{AllowedOrigins: []string{"https://app.example.com/"}}, "scheme://host[:port] only"},
		{"origin http", Props{AllowedOrigins: []string{"http://app.example.com"}}, "must be https"},
		{"origin wildcard", Props{AllowedOrigins: []string{"https://*.example.com"}}, "origin"},
		{"origin star", Props{AllowedOrigins: []string{"*"}}, "origin"},
		{"origin localhost", Props{AllowedOrigins: []string{"http://localhost:3000", "https://app.example.com:8443"}}, ""},
		{"session too short", Props{AuthSessionValidity: time.Minute}, "AuthSessionValidity"},
		{"session too long", Props{AuthSessionValidity: 16 * time.Minute}, "AuthSessionValidity"},
		{"access token too long", Props{AccessTokenValidity: 48 * time.Hour}, "AccessTokenValidity"},
		{"refresh shorter than access", Props{AccessTokenValidity: 2 * time.Hour, RefreshTokenValidity: time.Hour}, "at least the access"},
		{"retention not allowed", Props{LogRetentionDays: 10}, "LogRetentionDays 10"},
		{"memory too small", Props{MemorySize: 64}, "MemorySize"},
		{"attempts out of range", Props{MaxAttempts: 50}, "max attempts"},
		{"negative throttle", Props{Throttle: Throttle{RateLimit: -1}}, "throttle"},
		{"codes with defaults", Props{Methods: []Method{EmailOTP}, Email: email}, ""},
		{"code TTL beyond session", Props{Methods: []Method{EmailOTP}, Email: email, Codes: CodeProps{TTL: 4 * time.Minute}}, "longer than AuthSessionValidity"},
		{"code too short", Props{Methods: []Method{EmailOTP}, Email: email, Codes: CodeProps{Digits: 4}}, "digits 4"},
		{"template without code", Props{Methods: []Method{EmailOTP}, Email: email, Codes: CodeProps{EmailText: "Hello from {{.AppName}}"}}, "does not print {{.Code}}"},
		{"unknown placeholder", Props{Methods: []Method{EmailOTP}, Email: email, Codes: CodeProps{SMSText: "{{.Code}} {{.User}}"}}, "unknown placeholder"},
		{"templates beyond 4 KB env", Props{Methods: []Method{EmailOTP}, Email: email, Codes: CodeProps{EmailHTML: strings.Repeat("x", 3000) + "{{.Code}}"}}, "4 KB"},
		{"country not a prefix", Props{Methods: []Method{SMSOTP}, Aliases: Aliases{Phone: true}, SMS: SMSProps{AllowedCountries: []string{"44"}}}, "codes"},
		{"lockout limit", Props{Lockout: LockoutProps{Limit: 5000}}, "lockout"},
		{"country region codes", Props{Methods: []Method{SMSOTP}, Aliases: Aliases{Phone: true}, SMS: SMSProps{AllowedCountries: []string{"GB", "IE", "+49"}}}, ""},
		{"country unknown region", Props{Methods: []Method{SMSOTP}, Aliases: Aliases{Phone: true}, SMS: SMSProps{AllowedCountries: []string{"XX"}}}, "XX"},
		{"sms settings without sms_otp", Props{SMS: SMSProps{AllowedCountries: []string{"GB"}}}, "sms_otp method is not enabled"},
		{"sms budget without sms_otp", Props{Methods: []Method{EmailOTP}, Email: email, SMS: SMSProps{UnverifiedLimits: []Limit{{Window: time.Hour, Max: 5}}}}, "sms_otp method is not enabled"},
		{"sms budget", Props{Methods: []Method{SMSOTP}, Aliases: Aliases{Phone: true}, SMS: SMSProps{UnverifiedLimits: []Limit{{Window: time.Hour, Max: 5}, {Window: 24 * time.Hour, Max: 20}}}}, ""},
		{"sms budget window not whole seconds", Props{Methods: []Method{SMSOTP}, Aliases: Aliases{Phone: true}, SMS: SMSProps{UnverifiedLimits: []Limit{{Window: 1500 * time.Millisecond, Max: 5}}}}, "SMS unverified limits"},
		{"sms budget zero max", Props{Methods: []Method{SMSOTP}, Aliases: Aliases{Phone: true}, SMS: SMSProps{UnverifiedLimits: []Limit{{Window: time.Hour}}}}, "SMS unverified limits"},
		{"send delays", Props{Methods: []Method{EmailOTP}, Email: email, Codes: CodeProps{SendDelays: []time.Duration{30 * time.Second, 5 * time.Minute}, DailyCap: 20}}, ""},
		{"send delay zero", Props{Methods: []Method{EmailOTP}, Email: email, Codes: CodeProps{SendDelays: []time.Duration{0}}}, "codes"},
		{"send delay beyond a day", Props{Methods: []Method{EmailOTP}, Email: email, Codes: CodeProps{SendDelays: []time.Duration{25 * time.Hour}}}, "codes"},
		{"daily cap negative", Props{Methods: []Method{EmailOTP}, Email: email, Codes: CodeProps{DailyCap: -1}}, "codes"},
		{"native email", Props{Mode: ModeNative, Native: NativeProps{EmailOTP: true}, Email: &EmailProps{From: "no-reply@example.com", ExistingIdentity: "example.com"}}, ""},
		{"native passkey and device keys", Props{Mode: ModeNative, Methods: []Method{DeviceKey}, Native: NativeProps{Passkey: true, RelyingPartyID: "example.com"}}, ""},
		{"native without factors", Props{Mode: ModeNative}, "at least one of"},
		{"native email without sender", Props{Mode: ModeNative, Native: NativeProps{EmailOTP: true}}, "EmailOTP needs Email"},
		{"native sms without phone", Props{Mode: ModeNative, Native: NativeProps{SMSOTP: true}}, "SMSOTP needs the phone alias"},
		{"native passkey without rp", Props{Mode: ModeNative, Native: NativeProps{Passkey: true}}, "RelyingPartyID"},
		{"native with custom code method", Props{Mode: ModeNative, Methods: []Method{EmailOTP}, Email: email, Native: NativeProps{EmailOTP: true}}, "runs in Cognito"},
		{"native props in custom mode", Props{Native: NativeProps{EmailOTP: true}}, "set Mode: ModeNative"},
		{"unknown mode", Props{Mode: "hybrid"}, "unknown Mode"},
		{"passkey credential lists", Props{Methods: []Method{Passkey}, Passkeys: PasskeyProps{RPID: "example.com", AllowCredentials: "list"}}, ""},
		{"passkey credential lists unknown", Props{Methods: []Method{Passkey}, Passkeys: PasskeyProps{RPID: "example.com", AllowCredentials: "all"}}, "allow credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.props.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.want != "" && err == nil:
				t.Fatalf("no error, want one containing %q", c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Fatalf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	err := Props{MemorySize: 1, LogRetentionDays: 2, AllowedOrigins: []string{"ftp://x"}}.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"MemorySize", "LogRetentionDays", "ftp://x"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q misses %s", err, want)
		}
	}
}

func TestWithDefaults(t *testing.T) {
	p := Props{}.WithDefaults()
	if !p.Aliases.Email || p.Aliases.Phone || p.MaxAttempts != 3 || p.MaxResends != 2 ||
		p.AuthSessionValidity != 3*time.Minute || p.MemorySize != DefaultMemorySize || p.LogRetentionDays != 30 ||
		p.Throttle.RateLimit != 10 || p.Throttle.BurstLimit != 20 || p.RefreshTokenValidity != 30*24*time.Hour {
		t.Errorf("defaults: %+v", p)
	}
	q := Props{MemorySize: 1024, Aliases: Aliases{Phone: true}}.WithDefaults()
	if q.MemorySize != 1024 || q.Aliases.Email || !q.Aliases.Phone {
		t.Errorf("explicit values overwritten: %+v", q)
	}
}
