package contact_test

import (
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/contact"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/signup"
	"github.com/passwordless-go/cognito/lambdas/store"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnv(t *testing.T) {
	if contact.EnvSignInAliases != signup.EnvSignInAliases {
		t.Fatalf("contact reads %s, the PreSignUp function %s", contact.EnvSignInAliases, signup.EnvSignInAliases)
	}
	cfg, err := contact.FromEnv(envOf(map[string]string{
		contact.EnvUserPoolID:    " " + poolID + " ",
		contact.EnvSignInAliases: "email,phone",
		otp.EnvEmailFrom:         sender,
		otp.EnvTTLSeconds:        "600",
		otp.EnvDigits:            "8",
		otp.EnvAppName:           "Example",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.UserPoolID != poolID || !cfg.Email || !cfg.Phone || cfg.Code.TTL != 10*time.Minute || cfg.Code.Digits != 8 ||
		cfg.Code.EmailFrom != sender || cfg.Code.AppName != "Example" || cfg.MaxAuthAge != contact.DefaultMaxAuthAge ||
		cfg.MaxAttempts != 3 || len(cfg.RecipientLimits) != 2 || len(cfg.UserLimits) != 2 {
		t.Fatalf("config %+v", cfg)
	}
	want := []store.Limit{{Window: time.Minute, Max: 1}, {Window: 24 * time.Hour, Max: 10}}
	for i, l := range cfg.RecipientLimits {
		if l != want[i] {
			t.Errorf("recipient limit %d: %+v, want %+v", i, l, want[i])
		}
	}
	cfg, err = contact.FromEnv(envOf(map[string]string{contact.EnvUserPoolID: poolID, contact.EnvSignInAliases: "phone"}))
	if err != nil || cfg.Email || !cfg.Phone {
		t.Fatalf("phone only: %+v, %v", cfg, err)
	}

	for name, m := range map[string]map[string]string{
		"no pool":           {contact.EnvSignInAliases: "email", otp.EnvEmailFrom: sender},
		"no aliases":        {contact.EnvUserPoolID: poolID, otp.EnvEmailFrom: sender},
		"unknown alias":     {contact.EnvUserPoolID: poolID, contact.EnvSignInAliases: "email,username", otp.EnvEmailFrom: sender},
		"email, no sender":  {contact.EnvUserPoolID: poolID, contact.EnvSignInAliases: "email"},
		"bad otp variable":  {contact.EnvUserPoolID: poolID, contact.EnvSignInAliases: "phone", otp.EnvTTLSeconds: "601"},
		"bad digits":        {contact.EnvUserPoolID: poolID, contact.EnvSignInAliases: "phone", otp.EnvDigits: "5"},
		"bad email from":    {contact.EnvUserPoolID: poolID, contact.EnvSignInAliases: "email", otp.EnvEmailFrom: "a\r\nb"},
		"bad SMS sender ID": {contact.EnvUserPoolID: poolID, contact.EnvSignInAliases: "phone", otp.EnvSMSSenderID: "!!"},
	} {
		if _, err := contact.FromEnv(envOf(m)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := contact.FromEnv(envOf(map[string]string{contact.EnvSignInAliases: "email"})); err == nil ||
		!strings.Contains(err.Error(), contact.EnvUserPoolID) {
		t.Errorf("missing pool: error %v does not name %s", err, contact.EnvUserPoolID)
	}
}

func TestParseLimits(t *testing.T) {
	l, err := contact.ParseLimits(" 1h:5 , 24h:10")
	if err != nil || len(l) != 2 || l[0] != (store.Limit{Window: time.Hour, Max: 5}) || l[1] != (store.Limit{Window: 24 * time.Hour, Max: 10}) {
		t.Fatalf("%+v, %v", l, err)
	}
	for _, s := range []string{"", "1h", "1h:0", "1h:1001", "1h:x", "0s:1", "1500ms:1", "1h:1,60m:2", "800h:1", "1s:1,2s:1,3s:1,4s:1,5s:1,6s:1"} {
		if _, err := contact.ParseLimits(s); err == nil {
			t.Errorf("%q: accepted", s)
		}
	}
}
