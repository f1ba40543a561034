package otp_test

import (
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/otp"
)

// noNameProblems lists what an app-name-free message must not contain.
func noNameProblems(s string) []string {
	var bad []string
	for _, w := range []string{"your your", "Your your", "your app", "{{", "}}"} {
		if strings.Contains(s, w) {
			bad = append(bad, w)
		}
	}
	if strings.HasPrefix(strings.TrimSpace(s), ":") {
		bad = append(bad, "leading colon")
	}
	return bad
}

// Without an app name of its own (unset, or the default "your app"), the default messages read
// naturally; with one, they name it as before; a template of the user's own still prints the
// default name.
func TestDefaultMessagesWithoutAppName(t *testing.T) {
	for _, name := range []string{"", otp.DefaultAppName} {
		e := newEnv(t, otp.Config{AppName: name})
		e.issue(t, issueReq("email_otp", 1, emailAttrs(true)))
		e.issue(t, issueReq("sms_otp", 2, phoneAttrs(phone, true, true)))
		in, sms := e.ses.sent[0], e.sns.sent[0].Message
		for what, s := range map[string]string{"subject": in.Subject, "text": in.Text, "html": in.HTML, "sms": sms} {
			if p := noNameProblems(s); len(p) > 0 {
				t.Errorf("AppName %q: %s has %q:\n%s", name, what, p, s)
			}
		}
		if in.Subject != "Your sign-in code" || !strings.HasPrefix(sms, e.lastSMSCode(t)+" is your sign-in code.") {
			t.Errorf("AppName %q: subject %q, SMS %q", name, in.Subject, sms)
		}
	}
	e := newEnv(t, otp.Config{AppName: "Acme"})
	e.issue(t, issueReq("email_otp", 1, emailAttrs(true)))
	e.issue(t, issueReq("sms_otp", 2, phoneAttrs(phone, true, true)))
	in, sms := e.ses.sent[0], e.sns.sent[0].Message
	if in.Subject != "Your Acme sign-in code" || !strings.Contains(in.Text, "Your Acme sign-in code is") ||
		!strings.Contains(in.HTML, "Your Acme sign-in code is") || !strings.Contains(sms, "is your Acme code") {
		t.Errorf("with AppName Acme: %q / %q / %q / %q", in.Subject, in.Text, in.HTML, sms)
	}
	e = newEnv(t, otp.Config{EmailSubject: "{{.AppName}} code"})
	e.issue(t, issueReq("email_otp", 1, emailAttrs(true)))
	if got := e.ses.sent[0].Subject; got != "your app code" {
		t.Errorf("own template without AppName: subject %q, want the default name as before", got)
	}
}

var spanish = map[string]otp.LocaleTemplates{
	"es": {EmailSubject: "Tu código de {{.AppName}}", EmailText: "Tu código es {{.Code}}", EmailHTML: "<p>Tu código es {{.Code}}</p>",
		SMS: "{{.Code}} es tu código"},
	"pt-br": {EmailSubject: "Seu código"},
}

// The templates of a locale are chosen by ClientMetadata locale, else the attribute locale,
// normalised and trimmed to a configured tag; anything else takes the default, never failing.
func TestLocaleTemplates(t *testing.T) {
	withAttr := func(loc string) map[string]string {
		a := emailAttrs(true)
		if loc != "" {
			a["locale"] = loc
		}
		return a
	}
	for _, c := range []struct {
		name, meta, attr, wantSubject string
	}{
		{"client metadata", "es", "", "Tu código de Acme"},
		{"attribute", "", "es", "Tu código de Acme"},
		{"metadata before attribute", "es", "pt-BR", "Tu código de Acme"},
		{"region falls back to language", "es-MX", "", "Tu código de Acme"},
		{"case and underscore", "ES_mx", "", "Tu código de Acme"},
		{"exact region", "", "pt-BR", "Seu código"},
		{"language only of a region-only locale", "pt", "", "Your Acme sign-in code"},
		{"unknown", "fr", "", "Your Acme sign-in code"},
		{"malformed", "../../etc\npasswd", "", "Your Acme sign-in code"},
		{"malformed metadata, good attribute", "e$", "es", "Tu código de Acme"},
		{"too long", "es-" + strings.Repeat("a", 40), "", "Your Acme sign-in code"},
		{"none", "", "", "Your Acme sign-in code"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, otp.Config{AppName: "Acme", Locales: spanish})
			req := issueReq("email_otp", 1, withAttr(c.attr))
			if c.meta != "" {
				req.ClientMetadata = map[string]string{"locale": c.meta}
			}
			e.issue(t, req)
			in := e.ses.sent[0]
			if in.Subject != c.wantSubject {
				t.Errorf("subject %q, want %q", in.Subject, c.wantSubject)
			}
			code := e.lastEmailCode(t)
			if strings.HasPrefix(c.wantSubject, "Tu") && in.Text != "Tu código es "+code {
				t.Errorf("text %q", in.Text)
			}
			if c.wantSubject == "Seu código" && !strings.Contains(in.Text, "Your Acme sign-in code is "+code) {
				t.Errorf("pt-br text should fall back to the default: %q", in.Text)
			}
		})
	}
	e := newEnv(t, otp.Config{AppName: "Acme", Locales: spanish})
	req := issueReq("sms_otp", 1, phoneAttrs(phone, true, true))
	req.ClientMetadata = map[string]string{"locale": "es-ES"}
	e.issue(t, req)
	if got, code := e.sns.sent[0].Message, e.lastSMSCode(t); got != code+" es tu código" {
		t.Errorf("Spanish SMS %q", got)
	}
}

func TestLocaleConfig(t *testing.T) {
	ok := func(m map[string]otp.LocaleTemplates) error { return otp.Config{Locales: m}.Validate() }
	if err := ok(spanish); err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]map[string]otp.LocaleTemplates{
		"upper-case tag":    {"ES": {EmailSubject: "x"}},
		"underscore tag":    {"pt_br": {EmailSubject: "x"}},
		"bad tag":           {"e": {EmailSubject: "x"}},
		"body without code": {"es": {EmailText: "no code"}},
		"unknown field":     {"es": {SMS: "{{.Nope}} {{.Code}}"}},
		"long SMS":          {"es": {SMS: "{{.Code}} " + strings.Repeat("x", 160)}},
	} {
		if err := ok(m); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), "locale") {
			t.Errorf("%s: error does not name the locale: %v", name, err)
		}
	}
	many := map[string]otp.LocaleTemplates{}
	for i := range 21 {
		many[string(rune('a'+i))+"x"] = otp.LocaleTemplates{EmailSubject: "x"}
	}
	if err := ok(many); err == nil {
		t.Error("21 locales accepted")
	}
	c, err := otp.FromEnv(getenv(map[string]string{otp.EnvLocalesJSON: `{"es": {"emailSubject": "Tu código", "sms": "{{.Code}} es tu código"}}`}))
	if err != nil || c.Locales["es"].EmailSubject != "Tu código" {
		t.Fatalf("FromEnv: %v %+v", err, c.Locales)
	}
	for _, bad := range []string{`{"es": {"subject": "x"}}`, `[1]`, `{"es": {"sms": "no code"}}`, `{"ES": {}}`, `{} {}`} {
		if _, err := otp.FromEnv(getenv(map[string]string{otp.EnvLocalesJSON: bad})); err == nil || !strings.Contains(err.Error(), otp.EnvLocalesJSON) && !strings.Contains(err.Error(), "locale") {
			t.Errorf("%s accepted", bad)
		}
	}
}
