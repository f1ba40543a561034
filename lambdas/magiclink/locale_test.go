package magiclink_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/magiclink"
	"github.com/passwordless-go/cognito/lambdas/otp"
)

// Without an app name of its own the default link email reads naturally; with one it names it.
func TestDefaultLinkEmailWithoutAppName(t *testing.T) {
	for _, name := range []string{"", otp.DefaultAppName, "Acme"} {
		e := newEnv(t, func(c *magiclink.Config) { c.AppName = name })
		e.request(t, users[alice])
		in := e.mail.Emails()[0]
		for what, s := range map[string]string{"subject": in.Subject, "text": in.Text, "html": in.HTML} {
			for _, w := range []string{"your your", "Your your", "your app", "{{", "}}", "to :", "in to\n"} {
				if strings.Contains(s, w) {
					t.Errorf("AppName %q: %s has %q:\n%s", name, what, w, s)
				}
			}
		}
		switch name {
		case "Acme":
			if in.Subject != "Your Acme sign-in link" || !strings.Contains(in.Text, "sign in to Acme:") || !strings.Contains(in.HTML, "Sign in to Acme</a>") {
				t.Errorf("with Acme: %q\n%s\n%s", in.Subject, in.Text, in.HTML)
			}
		default:
			if in.Subject != "Your sign-in link" || !strings.HasPrefix(in.Text, "Open this link to sign in:\n") {
				t.Errorf("AppName %q: %q\n%s", name, in.Subject, in.Text)
			}
		}
	}
}

// A locale's templates are chosen by ClientMetadata locale, else the attribute locale, with the
// region dropped when only the language is configured; unknown and malformed values take the
// default and never fail the request.
func TestLinkLocales(t *testing.T) {
	es := map[string]magiclink.LocaleTemplates{"es": {Subject: "Tu enlace de {{.AppName}}", Text: "Abre {{.Link}}",
		HTML: `<a href="{{.Link}}">Entrar</a>`}}
	for _, c := range []struct{ name, meta, attr, want string }{
		{"client metadata", "es", "", "Tu enlace de Example"},
		{"attribute", "", "es", "Tu enlace de Example"},
		{"es-MX to es", "es-MX", "", "Tu enlace de Example"},
		{"unknown", "de", "", "Your Example sign-in link"},
		{"malformed", "<script>", "", "Your Example sign-in link"},
		{"malformed attribute", "", "español!!", "Your Example sign-in link"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, func(cf *magiclink.Config) { cf.Locales = es })
			u := users[alice]
			if c.attr != "" {
				u.attrs = maps.Clone(u.attrs)
				u.attrs["locale"] = c.attr
			}
			var kv []string
			if c.meta != "" {
				kv = []string{"locale", c.meta}
			}
			e.request(t, u, kv...)
			in := e.mail.Emails()[0]
			if in.Subject != c.want {
				t.Errorf("subject %q, want %q", in.Subject, c.want)
			}
			if strings.HasPrefix(c.want, "Tu") && (!strings.HasPrefix(in.Text, "Abre https://") || !strings.Contains(in.HTML, ">Entrar</a>")) {
				t.Errorf("bodies %q / %q", in.Text, in.HTML)
			}
			e.mail.lastLink(t) // the link is in the body whatever the locale
			if strings.Contains(e.logs.String(), "script") || strings.Contains(e.logs.String(), "español") {
				t.Errorf("the raw locale reached the log:\n%s", e.logs.String())
			}
		})
	}
}

func TestLinkLocaleConfig(t *testing.T) {
	base := magiclink.Config{URLs: []string{appURL}, EmailFrom: sender}
	for name, l := range map[string]map[string]magiclink.LocaleTemplates{
		"bad tag":           {"ES": {Subject: "x"}},
		"subject with link": {"es": {Subject: "{{.Link}}"}},
		"text without link": {"es": {Text: "no link"}},
		"unknown field":     {"es": {HTML: "{{.Code}} {{.Link}}"}},
	} {
		c := base
		c.Locales = l
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "locale") {
			t.Errorf("%s: %v", name, err)
		}
	}
	c, err := magiclink.FromEnv(envOf(map[string]string{magiclink.EnvURLs: appURL, "EMAIL_FROM": sender,
		magiclink.EnvLocalesJSON: `{"es": {"subject": "Tu enlace", "text": "Abre {{.Link}}"}}`}))
	if err != nil || c.Locales["es"].Text != "Abre {{.Link}}" {
		t.Fatalf("FromEnv: %v %+v", err, c.Locales)
	}
	for _, bad := range []string{`{"es": {"sms": "x"}}`, `{"es": {"text": "no link"}}`, `{"e": {}}`} {
		if _, err := magiclink.FromEnv(envOf(map[string]string{magiclink.EnvURLs: appURL, magiclink.EnvLocalesJSON: bad})); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
