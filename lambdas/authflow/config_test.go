package authflow_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/authflow"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigFromEnvDefaults(t *testing.T) {
	c, err := authflow.ConfigFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Methods) != 0 || c.MaxAttempts != authflow.DefaultMaxAttempts || c.MaxResends != authflow.DefaultMaxResends {
		t.Errorf("defaults = %+v", c)
	}
	if authflow.DefaultMaxAttempts != 3 || authflow.DefaultMaxResends != 2 {
		t.Errorf("documented defaults changed: %d, %d", authflow.DefaultMaxAttempts, authflow.DefaultMaxResends)
	}
	for _, m := range authflow.AllMethods {
		if c.Enabled(m) {
			t.Errorf("%q enabled by default", m)
		}
	}
	if c.MaxRounds() != 2+3+2 {
		t.Errorf("MaxRounds = %d, want 7", c.MaxRounds())
	}
	if c.MethodList() != "" {
		t.Errorf("MethodList = %q, want empty", c.MethodList())
	}
}

func TestConfigFromEnvValues(t *testing.T) {
	for _, tc := range []struct {
		env         map[string]string
		methods     []authflow.Method
		list        string
		att, resend int
	}{
		{map[string]string{authflow.EnvMethods: "email_otp"}, []authflow.Method{authflow.EmailOTP}, "email_otp", 3, 2},
		{map[string]string{authflow.EnvMethods: " passkey , device_key,email_otp,sms_otp "}, []authflow.Method{authflow.Passkey, authflow.DeviceKey, authflow.EmailOTP, authflow.SMSOTP}, "passkey,device_key,email_otp,sms_otp", 3, 2},
		{map[string]string{authflow.EnvMethods: "   "}, nil, "", 3, 2},
		{map[string]string{authflow.EnvMethods: "sms_otp", authflow.EnvMaxAttempts: "1", authflow.EnvMaxResends: "0"}, []authflow.Method{authflow.SMSOTP}, "sms_otp", 1, 0},
		{map[string]string{authflow.EnvMaxAttempts: "10", authflow.EnvMaxResends: "5"}, nil, "", 10, 5},
	} {
		c, err := authflow.ConfigFromEnv(env(tc.env))
		if err != nil {
			t.Errorf("%v: %v", tc.env, err)
			continue
		}
		if !slices.Equal(c.Methods, tc.methods) || c.MaxAttempts != tc.att || c.MaxResends != tc.resend || c.MethodList() != tc.list {
			t.Errorf("%v: got %+v (list %q)", tc.env, c, c.MethodList())
		}
		if c.MaxRounds() != 2+tc.att+tc.resend {
			t.Errorf("%v: MaxRounds %d", tc.env, c.MaxRounds())
		}
		for _, m := range authflow.AllMethods {
			if c.Enabled(m) != slices.Contains(tc.methods, m) {
				t.Errorf("%v: Enabled(%q) = %v", tc.env, m, c.Enabled(m))
			}
		}
	}
}

func TestConfigFromEnvRejects(t *testing.T) {
	for _, e := range []map[string]string{
		{authflow.EnvMethods: "password"},
		{authflow.EnvMethods: "email_otp,password"},
		{authflow.EnvMethods: "EMAIL_OTP"},
		{authflow.EnvMethods: "email_otp,,sms_otp"},
		{authflow.EnvMethods: "email_otp,"},
		{authflow.EnvMethods: "email_otp;sms_otp"},
		{authflow.EnvMethods: "email_otp,email_otp"},
		{authflow.EnvMethods: "passkey,device_key, passkey"},
		{authflow.EnvMaxAttempts: "three"},
		{authflow.EnvMaxAttempts: "3.0"},
		{authflow.EnvMaxAttempts: " 3"},
		{authflow.EnvMaxAttempts: "0"},
		{authflow.EnvMaxAttempts: "-1"},
		{authflow.EnvMaxAttempts: "11"},
		{authflow.EnvMaxAttempts: "99999999999999999999"},
		{authflow.EnvMaxResends: "-1"},
		{authflow.EnvMaxResends: "6"},
		{authflow.EnvMaxResends: "2x"},
		{authflow.EnvMethods: "email_otp", authflow.EnvMaxResends: "0x2"},
	} {
		c, err := authflow.ConfigFromEnv(env(e))
		if err == nil {
			t.Errorf("%v: accepted as %+v", e, c)
			continue
		}
		if c.MaxAttempts != 0 || c.Methods != nil {
			t.Errorf("%v: error %v with a non-zero config %+v", e, err, c)
		}
	}
	// The error names the variable, so a misconfiguration is easy to find.
	_, err := authflow.ConfigFromEnv(env(map[string]string{authflow.EnvMaxResends: "many"}))
	if err == nil || !strings.Contains(err.Error(), authflow.EnvMaxResends) {
		t.Errorf("error %v does not name %s", err, authflow.EnvMaxResends)
	}
	_, err = authflow.ConfigFromEnv(env(map[string]string{authflow.EnvMethods: "magic"}))
	if err == nil || !strings.Contains(err.Error(), authflow.EnvMethods) {
		t.Errorf("error %v does not name %s", err, authflow.EnvMethods)
	}
}

func TestConfigFromEnvUsesOSEnvironment(t *testing.T) {
	t.Setenv(authflow.EnvMethods, "device_key")
	t.Setenv(authflow.EnvMaxAttempts, "5")
	t.Setenv(authflow.EnvMaxResends, "")
	c, err := authflow.ConfigFromEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Methods, []authflow.Method{authflow.DeviceKey}) || c.MaxAttempts != 5 || c.MaxResends != 2 {
		t.Errorf("got %+v", c)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := allCfg.Validate(); err != nil {
		t.Errorf("allCfg: %v", err)
	}
	for _, c := range []authflow.Config{
		{},
		{MaxAttempts: 0, MaxResends: 0},
		{MaxAttempts: 11, MaxResends: 0},
		{MaxAttempts: 3, MaxResends: -1},
		{MaxAttempts: 3, MaxResends: 6},
		{Methods: []authflow.Method{"magic"}, MaxAttempts: 3},
		{Methods: []authflow.Method{authflow.SMSOTP, authflow.SMSOTP}, MaxAttempts: 3},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
}
