package passkeyconf_test

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/passkey/passkeyconf"
)

// androidOrigin is an Android app origin (a made-up certificate hash).
var androidOrigin = func() string {
	h := sha256.Sum256([]byte("test signing certificate"))
	return passkeyconf.AndroidOriginPrefix + base64.RawURLEncoding.EncodeToString(h[:])
}()

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnvDefaults(t *testing.T) {
	c, err := passkeyconf.ConfigFromEnv(env(map[string]string{passkeyconf.EnvRPID: "Example.COM"}))
	if err != nil {
		t.Fatal(err)
	}
	want := passkeyconf.Config{
		RPID: "example.com", RPName: "example.com", Origins: []string{"https://example.com"},
		UserVerification: "required", ResidentKey: "required",
		Attestation: "none", Attachment: "", Timeout: 120 * time.Second, MaxPerUser: 10, AllowCredentials: "none",
	}
	if c.RPID != want.RPID || c.RPName != want.RPName || strings.Join(c.Origins, ",") != "https://example.com" ||
		c.UserVerification != want.UserVerification || c.ResidentKey != want.ResidentKey || c.Attestation != want.Attestation ||
		c.Attachment != "" || c.Timeout != want.Timeout || c.MaxPerUser != want.MaxPerUser || c.AllowCredentials != want.AllowCredentials {
		t.Errorf("defaults %+v, want %+v", c, want)
	}
}

func TestConfigFromEnvAllSet(t *testing.T) {
	c, err := passkeyconf.ConfigFromEnv(env(map[string]string{
		passkeyconf.EnvRPID:             "example.com",
		passkeyconf.EnvRPName:           "Example Inc.",
		passkeyconf.EnvOrigins:          " https://example.com, https://app.example.com:8443 ," + androidOrigin,
		passkeyconf.EnvUserVerification: "preferred",
		passkeyconf.EnvResidentKey:      "preferred",
		passkeyconf.EnvAllowCredentials: "list",
		passkeyconf.EnvAttestation:      "direct",
		passkeyconf.EnvAttachment:       "platform",
		passkeyconf.EnvTimeoutSeconds:   "600",
		passkeyconf.EnvMaxPerUser:       "3",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.RPName != "Example Inc." || len(c.Origins) != 3 || c.Origins[2] != androidOrigin || c.UserVerification != "preferred" ||
		c.ResidentKey != "preferred" || c.AllowCredentials != "list" || c.Attestation != "direct" || c.Attachment != "platform" || c.Timeout != 10*time.Minute || c.MaxPerUser != 3 {
		t.Errorf("got %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestConfigFromEnvRefuses(t *testing.T) {
	base := map[string]string{passkeyconf.EnvRPID: "example.com"}
	for name, kv := range map[string][2]string{
		"no RP ID":                 {passkeyconf.EnvRPID, ""},
		"RP ID is a URL":           {passkeyconf.EnvRPID, "https://example.com"},
		"RP ID is an IP":           {passkeyconf.EnvRPID, "192.0.2.1"},
		"RP ID with port":          {passkeyconf.EnvRPID, "example.com:443"},
		"http origin":              {passkeyconf.EnvOrigins, "http://example.com"},
		"origin with path":         {passkeyconf.EnvOrigins, "https://example.com/login"},
		"origin of another domain": {passkeyconf.EnvOrigins, "https://example.net"},
		"origin suffix trick":      {passkeyconf.EnvOrigins, "https://evilexample.com"},
		"only commas":              {passkeyconf.EnvOrigins, " , ,"},
		"only an app origin":       {passkeyconf.EnvOrigins, androidOrigin},
		"app origin with bad hash": {passkeyconf.EnvOrigins, "https://example.com,android:apk-key-hash:abc"},
		"iOS origin":               {passkeyconf.EnvOrigins, "https://example.com,ios:bundle-id:com.example"},
		"UV":                       {passkeyconf.EnvUserVerification, "always"},
		"resident key":             {passkeyconf.EnvResidentKey, "yes"},
		"allow credentials":        {passkeyconf.EnvAllowCredentials, "all"},
		"allow credentials case":   {passkeyconf.EnvAllowCredentials, "LIST"},
		"attestation enterprise":   {passkeyconf.EnvAttestation, "enterprise"},
		"attachment":               {passkeyconf.EnvAttachment, "usb"},
		"timeout too long":         {passkeyconf.EnvTimeoutSeconds, "601"},
		"timeout too short":        {passkeyconf.EnvTimeoutSeconds, "5"},
		"timeout not a number":     {passkeyconf.EnvTimeoutSeconds, "2m"},
		"max per user 0":           {passkeyconf.EnvMaxPerUser, "0"},
		"max per user 101":         {passkeyconf.EnvMaxPerUser, "101"},
	} {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		m[kv[0]] = kv[1]
		if c, err := passkeyconf.ConfigFromEnv(env(m)); err == nil {
			t.Errorf("%s: accepted as %+v", name, c)
		}
	}
	// localhost development.
	if _, err := passkeyconf.ConfigFromEnv(env(map[string]string{passkeyconf.EnvRPID: "localhost", passkeyconf.EnvOrigins: "http://localhost:3000"})); err != nil {
		t.Errorf("localhost: %v", err)
	}
	// Every problem at once.
	_, err := passkeyconf.ConfigFromEnv(env(map[string]string{passkeyconf.EnvRPID: "example.com", passkeyconf.EnvUserVerification: "x", passkeyconf.EnvAttachment: "y"}))
	if err == nil || !strings.Contains(err.Error(), "user verification") || !strings.Contains(err.Error(), "attachment") {
		t.Errorf("combined error: %v", err)
	}
}

func TestValidateAllowedValues(t *testing.T) {
	base := passkeyconf.Config{RPID: "example.com"}.WithDefaults()
	for _, c := range []func(*passkeyconf.Config){
		func(c *passkeyconf.Config) { c.UserVerification = "required" },
		func(c *passkeyconf.Config) { c.UserVerification = "preferred" },
		func(c *passkeyconf.Config) { c.UserVerification = "discouraged" },
		func(c *passkeyconf.Config) { c.ResidentKey = "required" },
		func(c *passkeyconf.Config) { c.ResidentKey = "discouraged" },
		func(c *passkeyconf.Config) { c.Attestation = "indirect" },
		func(c *passkeyconf.Config) { c.Attestation = "direct" },
		func(c *passkeyconf.Config) { c.Attachment = "platform" },
		func(c *passkeyconf.Config) { c.Attachment = "cross-platform" },
		func(c *passkeyconf.Config) { c.Timeout, c.MaxPerUser = passkeyconf.MinTimeout, 1 },
		func(c *passkeyconf.Config) {
			c.Timeout, c.MaxPerUser = passkeyconf.MaxTimeout, passkeyconf.MaxMaxPerUser
		},
	} {
		cfg := base
		c(&cfg)
		if err := cfg.Validate(); err != nil {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
	for _, c := range []func(*passkeyconf.Config){
		func(c *passkeyconf.Config) { c.UserVerification = "Required" },
		func(c *passkeyconf.Config) { c.ResidentKey = "" },
		func(c *passkeyconf.Config) { c.Attestation = "enterprise" },
		func(c *passkeyconf.Config) { c.Attachment = "any" },
		func(c *passkeyconf.Config) { c.Timeout = passkeyconf.MinTimeout + time.Millisecond },
		func(c *passkeyconf.Config) { c.RPID = "Example.com" },
		func(c *passkeyconf.Config) { c.RPID = "example" },
		func(c *passkeyconf.Config) { c.RPName = strings.Repeat("n", 129) },
	} {
		cfg := base
		c(&cfg)
		if err := cfg.Validate(); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
