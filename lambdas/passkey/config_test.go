package passkey_test

import (
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/passwordless-go/cognito/lambdas/passkey"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnvDefaults(t *testing.T) {
	c, err := passkey.ConfigFromEnv(env(map[string]string{passkey.EnvRPID: "Example.COM"}))
	if err != nil {
		t.Fatal(err)
	}
	want := passkey.Config{
		RPID: "example.com", RPName: "example.com", Origins: []string{"https://example.com"},
		UserVerification: protocol.VerificationRequired, ResidentKey: protocol.ResidentKeyRequirementPreferred,
		Attestation: protocol.PreferNoAttestation, Attachment: "", Timeout: 120 * time.Second, MaxPerUser: 10,
	}
	if c.RPID != want.RPID || c.RPName != want.RPName || strings.Join(c.Origins, ",") != "https://example.com" ||
		c.UserVerification != want.UserVerification || c.ResidentKey != want.ResidentKey || c.Attestation != want.Attestation ||
		c.Attachment != "" || c.Timeout != want.Timeout || c.MaxPerUser != want.MaxPerUser {
		t.Errorf("defaults %+v, want %+v", c, want)
	}
}

func TestConfigFromEnvAllSet(t *testing.T) {
	c, err := passkey.ConfigFromEnv(env(map[string]string{
		passkey.EnvRPID:             "example.com",
		passkey.EnvRPName:           "Example Inc.",
		passkey.EnvOrigins:          " https://example.com, https://app.example.com:8443 ," + androidOrigin,
		passkey.EnvUserVerification: "preferred",
		passkey.EnvResidentKey:      "required",
		passkey.EnvAttestation:      "direct",
		passkey.EnvAttachment:       "platform",
		passkey.EnvTimeoutSeconds:   "600",
		passkey.EnvMaxPerUser:       "3",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.RPName != "Example Inc." || len(c.Origins) != 3 || c.Origins[2] != androidOrigin || c.UserVerification != "preferred" ||
		c.ResidentKey != "required" || c.Attestation != "direct" || c.Attachment != "platform" || c.Timeout != 10*time.Minute || c.MaxPerUser != 3 {
		t.Errorf("got %+v", c)
	}
	if _, err := passkey.NewRP(c); err != nil {
		t.Errorf("NewRP: %v", err)
	}
}

func TestConfigFromEnvRefuses(t *testing.T) {
	base := map[string]string{passkey.EnvRPID: "example.com"}
	for name, kv := range map[string][2]string{
		"no RP ID":                 {passkey.EnvRPID, ""},
		"RP ID is a URL":           {passkey.EnvRPID, "https://example.com"},
		"RP ID is an IP":           {passkey.EnvRPID, "192.0.2.1"},
		"RP ID with port":          {passkey.EnvRPID, "example.com:443"},
		"http origin":              {passkey.EnvOrigins, "http://example.com"},
		"origin with path":         {passkey.EnvOrigins, "https://example.com/login"},
		"origin of another domain": {passkey.EnvOrigins, "https://example.net"},
		"origin suffix trick":      {passkey.EnvOrigins, "https://evilexample.com"},
		"only commas":              {passkey.EnvOrigins, " , ,"},
		"only an app origin":       {passkey.EnvOrigins, androidOrigin},
		"app origin with bad hash": {passkey.EnvOrigins, "https://example.com,android:apk-key-hash:abc"},
		"iOS origin":               {passkey.EnvOrigins, "https://example.com,ios:bundle-id:com.example"},
		"UV":                       {passkey.EnvUserVerification, "always"},
		"resident key":             {passkey.EnvResidentKey, "yes"},
		"attestation enterprise":   {passkey.EnvAttestation, "enterprise"},
		"attachment":               {passkey.EnvAttachment, "usb"},
		"timeout too long":         {passkey.EnvTimeoutSeconds, "601"},
		"timeout too short":        {passkey.EnvTimeoutSeconds, "5"},
		"timeout not a number":     {passkey.EnvTimeoutSeconds, "2m"},
		"max per user 0":           {passkey.EnvMaxPerUser, "0"},
		"max per user 101":         {passkey.EnvMaxPerUser, "101"},
	} {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		m[kv[0]] = kv[1]
		if c, err := passkey.ConfigFromEnv(env(m)); err == nil {
			t.Errorf("%s: accepted as %+v", name, c)
		}
	}
	// localhost development.
	if _, err := passkey.ConfigFromEnv(env(map[string]string{passkey.EnvRPID: "localhost", passkey.EnvOrigins: "http://localhost:3000"})); err != nil {
		t.Errorf("localhost: %v", err)
	}
	// Every problem at once.
	_, err := passkey.ConfigFromEnv(env(map[string]string{passkey.EnvRPID: "example.com", passkey.EnvUserVerification: "x", passkey.EnvAttachment: "y"}))
	if err == nil || !strings.Contains(err.Error(), "user verification") || !strings.Contains(err.Error(), "attachment") {
		t.Errorf("combined error: %v", err)
	}
}

func TestUserHandle(t *testing.T) {
	if h, err := passkey.UserHandle(userAlice); err != nil || string(h) != userAlice {
		t.Errorf("UserHandle = %q, %v", h, err)
	}
	for _, bad := range []string{"", strings.Repeat("a", 65), "\xff"} {
		if _, err := passkey.UserHandle(bad); err == nil {
			t.Errorf("UserHandle(%q) accepted", bad)
		}
	}
}
