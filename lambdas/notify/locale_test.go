package notify_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/notify"
)

// sendAll sends every kind to an email user and a phone user and returns what went out.
func sendAll(r *rig) (emails []string, subjects []string, sms []string) {
	for i, k := range notify.Kinds {
		detail := map[string]string{notify.DetailMethod: "device_key", notify.DetailCount: "1"}
		if k == notify.ContactChanged {
			detail = map[string]string{notify.DetailOldAddress: oldEmail, notify.DetailAttribute: "email"}
		}
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: k, UserPoolID: pool, UserName: userName, Attributes: verifiedEmail(), Detail: detail, ID: fmt.Sprint("e", i)})
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: k, UserPoolID: pool, UserName: "phone-user", Attributes: verifiedPhone(), Detail: detail, ID: fmt.Sprint("s", i)})
	}
	em, sm := r.aws.sent()
	for _, m := range em {
		emails = append(emails, m.Text, m.HTML)
		subjects = append(subjects, m.Subject)
	}
	for _, m := range sm {
		sms = append(sms, m.Message)
	}
	return emails, subjects, sms
}

// Without an app name of its own, every default notification reads naturally ("your account",
// no "AppName: " before an SMS); with one, the name appears where it always did.
func TestDefaultNotificationsWithoutAppName(t *testing.T) {
	for _, name := range []string{"", delivery.DefaultAppName} {
		r := newRig(t, func(c *notify.Config) { c.AppName = name })
		emails, subjects, sms := sendAll(r)
		if len(subjects) < len(notify.Kinds) || len(sms) != len(notify.Kinds) {
			t.Fatalf("sent %d emails and %d SMS for %d kinds", len(subjects), len(sms), len(notify.Kinds))
		}
		for _, s := range append(append(emails, subjects...), sms...) {
			for _, w := range []string{"your your", "Your your", "your app", "{{", "}}", "  "} {
				if strings.Contains(s, w) {
					t.Errorf("AppName %q: %q in\n%s", name, w, s)
				}
			}
		}
		for _, s := range sms {
			if strings.HasPrefix(s, ":") || s[0] < 'A' || s[0] > 'Z' {
				t.Errorf("AppName %q: SMS does not start with a capital: %q", name, s)
			}
		}
	}
	r := newRig(t, func(c *notify.Config) { c.AppName = "Acme" })
	emails, subjects, sms := sendAll(r)
	for _, s := range append(emails, subjects...) {
		if !strings.Contains(s, "your Acme account") {
			t.Errorf("with Acme: %q", s)
		}
	}
	for _, s := range sms {
		if !strings.HasPrefix(s, "Acme: ") {
			t.Errorf("with Acme: SMS %q", s)
		}
	}
	for k, d := range notify.DefaultTemplatesNoName {
		if strings.Contains(d.Subject+d.Text+d.HTML+d.SMS, "AppName") {
			t.Errorf("%s: DefaultTemplatesNoName still prints the app name", k)
		}
	}
}

var esNotify = map[string]map[notify.Kind]notify.Templates{
	"es": {
		notify.PasskeyAdded: {Subject: "Se añadió una passkey a tu cuenta de {{.AppName}}", Text: "Se añadió una passkey el {{.Time}}.",
			SMS: "{{.AppName}}: se añadió una passkey."},
	},
}

// The templates of a locale are chosen by the user's own attribute locale only (an Event has no
// locale a request could set); "es-MX" finds "es"; unknown or malformed values take the default;
// a kind the locale leaves out takes the default.
func TestNotificationLocales(t *testing.T) {
	for _, c := range []struct{ name, attr, want string }{
		{"attribute", "es", "Se añadió una passkey a tu cuenta de Example"},
		{"es-MX to es", "es-MX", "Se añadió una passkey a tu cuenta de Example"},
		{"unknown", "fr", "A passkey was added to your Example account"},
		{"malformed", "es\x00", "A passkey was added to your Example account"},
		{"malformed attribute", "--", "A passkey was added to your Example account"},
		{"no attribute", "", "A passkey was added to your Example account"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, func(cf *notify.Config) { cf.Locales = esNotify })
			attrs := verifiedEmail()
			phone := verifiedPhone()
			if c.attr != "" {
				attrs["locale"], phone["locale"] = c.attr, c.attr
			}
			r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.PasskeyAdded, UserPoolID: pool, UserName: userName, Attributes: attrs, ID: "1"})
			r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.PasskeyAdded, UserPoolID: pool, UserName: "p", Attributes: phone, ID: "2"})
			r.s.Notify(context.Background(), testKey, notify.Event{Kind: notify.PasskeyRemoved, UserPoolID: pool, UserName: userName, Attributes: attrs, ID: "3",
				Detail: map[string]string{notify.DetailCount: "1"}})
			em, sm := r.aws.sent()
			if len(em) != 2 || len(sm) != 1 {
				t.Fatalf("sent %d emails, %d SMS", len(em), len(sm))
			}
			if em[0].Subject != c.want {
				t.Errorf("subject %q, want %q", em[0].Subject, c.want)
			}
			spanish := strings.HasPrefix(c.want, "Se")
			if spanish && (!strings.HasPrefix(em[0].Text, "Se añadió una passkey el 2030-") || !strings.Contains(em[0].HTML, "<p>Se añadió una passkey el") ||
				sm[0].Message != "Example: se añadió una passkey.") {
				t.Errorf("Spanish bodies: %q / %q / %q", em[0].Text, em[0].HTML, sm[0].Message)
			}
			if !strings.HasPrefix(em[1].Subject, "Passkey removed from your Example account") {
				t.Errorf("a kind without Spanish templates: %q", em[1].Subject)
			}
			if strings.Contains(r.logs.String(), "\\u0000") || strings.Contains(r.logs.String(), `"--"`) {
				t.Errorf("raw locale in the log:\n%s", r.logs.String())
			}
		})
	}
}

func TestNotificationLocaleConfig(t *testing.T) {
	base := notify.Config{Events: notify.Kinds, Settings: delivery.Settings{EmailFrom: "Example <no-reply@example.com>"}}
	for name, l := range map[string]map[string]map[notify.Kind]notify.Templates{
		"bad tag":      {"Es": {notify.KeyAdded: {Subject: "x"}}},
		"unknown kind": {"es": {"nope": {Subject: "x"}}},
		"bad field":    {"es": {notify.KeyAdded: {Subject: "{{.Code}}"}}},
		"long SMS":     {"es": {notify.KeyAdded: {SMS: strings.Repeat("x", 161)}}},
	} {
		c := base
		c.Locales = l
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "locale") {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := notify.New(c, notify.Deps{}); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	getenv := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := notify.ConfigFromEnv(getenv(map[string]string{notify.EnvLocalesJSON: `{"es": {"passkey_added": {"subject": "Passkey nueva"}}}`}))
	if err != nil || c.Locales["es"][notify.PasskeyAdded].Subject != "Passkey nueva" {
		t.Fatalf("ConfigFromEnv: %v %+v", err, c.Locales)
	}
	for _, bad := range []string{`{"es": {"nope": {}}}`, `{"es": {"passkey_added": {"code": "x"}}}`, `{"ES": {}}`, `[]`} {
		if _, err := notify.ConfigFromEnv(getenv(map[string]string{notify.EnvLocalesJSON: bad})); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
