package passwordless

import (
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/magiclink"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/otp"
)

// localeProps has every kind of locale set: codes, magic links and notifications.
func localeProps() Props {
	return Props{
		Methods: []Method{EmailOTP, MagicLink, DeviceKey},
		Email:   &EmailProps{From: "no-reply@example.com"},
		Codes: CodeProps{Locales: map[string]CodeTemplates{
			"es":    {EmailSubject: "Tu código", EmailText: "Tu código es {{.Code}}", EmailHTML: "<b>{{.Code}}</b>"},
			"pt-br": {EmailSubject: "Seu código"},
		}},
		MagicLink: &MagicLinkProps{RedirectURLs: []string{"https://app.example.com/signin"},
			Locales: map[string]EmailTemplates{"es": {Subject: "Tu enlace", Text: "Abre {{.Link}}"}}},
		Notifications: &NotificationProps{Events: []NotificationKind{KeyAdded, NewMethodSignIn},
			Locales: map[string]map[NotificationKind]NotificationTemplates{
				"es": {KeyAdded: {Subject: "Llave añadida a tu cuenta"}, NewMethodSignIn: {SMS: "Nuevo inicio de sesión."}},
			}},
	}
}

// The locales reach each function as its *_LOCALES_JSON variable, which the function's own parser
// reads back to the same templates; a function gets only the notification kinds it sends.
func TestLocaleEnvironment(t *testing.T) {
	p := localeProps().WithDefaults()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	env := codeEnvStrings(p)
	c, err := otp.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Locales["es"].EmailText != "Tu código es {{.Code}}" || c.Locales["pt-br"].EmailSubject != "Seu código" || len(c.Locales) != 2 {
		t.Errorf("code locales %+v", c.Locales)
	}
	if got := env[otp.EnvLocalesJSON]; !strings.Contains(got, `"emailHtml":"<b>{{.Code}}</b>"`) {
		t.Errorf("%s=%s (HTML should stay readable)", otp.EnvLocalesJSON, got)
	}
	link := p.createLinkEnv()
	lc, err := magiclink.FromEnv(func(k string) string { return link[k] })
	if err != nil || lc.Locales["es"].Subject != "Tu enlace" {
		t.Errorf("link locales %v %+v", err, lc.Locales)
	}
	verify, api := p.notifyEnv(p.notifyKinds(verifyKinds)), p.notifyEnv(p.notifyKinds(apiKinds))
	if got := verify[notify.EnvLocalesJSON]; got != `{"es":{"new_method_signin":{"sms":"Nuevo inicio de sesión."}}}` {
		t.Errorf("verify: %s=%s", notify.EnvLocalesJSON, got)
	}
	if got := api[notify.EnvLocalesJSON]; got != `{"es":{"key_added":{"subject":"Llave añadida a tu cuenta"}}}` {
		t.Errorf("api: %s=%s", notify.EnvLocalesJSON, got)
	}
	nc, err := notify.ConfigFromEnv(func(k string) string { return api[k] })
	if err != nil || nc.Locales["es"][notify.KeyAdded].Subject != "Llave añadida a tu cuenta" {
		t.Errorf("api notify locales %v %+v", err, nc.Locales)
	}
	// Without locales nothing is written, so default deployments synthesize as before.
	q := Props{Methods: []Method{EmailOTP, MagicLink}, Email: p.Email, MagicLink: &MagicLinkProps{RedirectURLs: p.MagicLink.RedirectURLs},
		Notifications: &NotificationProps{Events: []NotificationKind{NewMethodSignIn}}}.WithDefaults()
	for _, e := range []map[string]string{codeEnvStrings(q), q.createLinkEnv(), q.notifyEnv(q.notifyKinds(verifyKinds))} {
		for k := range e {
			if strings.Contains(k, "LOCALES") {
				t.Errorf("%s set without locales", k)
			}
		}
	}
}

// Validate refuses, before a synth, locales the functions would refuse at start-up.
func TestValidateLocales(t *testing.T) {
	for _, c := range []struct {
		name string
		mod  func(*Props)
		want string
	}{
		{"valid", func(*Props) {}, ""},
		{"code tag upper case", func(p *Props) { p.Codes.Locales["ES"] = CodeTemplates{EmailSubject: "x"} }, "locale"},
		{"code tag malformed", func(p *Props) { p.Codes.Locales["e-s"] = CodeTemplates{EmailSubject: "x"} }, "locale"},
		{"code body without code", func(p *Props) { p.Codes.Locales["fr"] = CodeTemplates{EmailText: "pas de code"} }, "locale fr"},
		{"code unknown placeholder", func(p *Props) { p.Codes.Locales["fr"] = CodeTemplates{SMSText: "{{.Link}} {{.Code}}"} }, "locale fr"},
		{"code locales without code method", func(p *Props) { p.Methods = []Method{MagicLink, DeviceKey} }, "Codes.Locales is set"},
		{"link tag", func(p *Props) { p.MagicLink.Locales["es_MX"] = EmailTemplates{Subject: "x"} }, "locale"},
		{"link subject prints link", func(p *Props) { p.MagicLink.Locales["fr"] = EmailTemplates{Subject: "{{.Link}}"} }, "locale fr"},
		{"notify tag", func(p *Props) {
			p.Notifications.Locales["Es-MX"] = map[NotificationKind]NotificationTemplates{KeyAdded: {Subject: "x"}}
		}, "Notifications.Locales"},
		{"notify kind not in events", func(p *Props) {
			p.Notifications.Locales["fr"] = map[NotificationKind]NotificationTemplates{PasskeyAdded: {Subject: "x"}}
		}, `Notifications.Locales["fr"] has "passkey_added"`},
		{"notify long SMS", func(p *Props) {
			p.Notifications.Locales["fr"] = map[NotificationKind]NotificationTemplates{KeyAdded: {SMS: strings.Repeat("x", 161)}}
		}, "locale fr"},
		{"too many locales", func(p *Props) {
			for i := range 20 {
				p.Codes.Locales[string(rune('a'+i))+"z"] = CodeTemplates{EmailSubject: "x"}
			}
		}, "locales, at most 20"},
		{"locales over the environment budget", func(p *Props) {
			for _, tag := range []string{"de", "fr", "it", "nl", "sv"} {
				p.Codes.Locales[tag] = CodeTemplates{EmailText: strings.Repeat("x", 500) + " {{.Code}}"}
			}
		}, "templates per locale count too"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := localeProps()
			c.mod(&p)
			err := p.WithDefaults().Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}
