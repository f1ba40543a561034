package passwordless

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/magiclink"
)

// Issue 12: what Validate must refuse before a synth, for magic links and notifications. Every
// refusal is a configuration the functions would refuse at start-up (so a deploy would leave
// sign-in broken) or one that would silently do nothing a security setting promises.

// TestValidateMagicLink: magic_link needs an SES sender, the email alias and redirect URLs that
// package magiclink accepts; its lifetime, URLs and templates are checked by magiclink's own
// parser on the environment the construct writes.
func TestValidateMagicLink(t *testing.T) {
	email := &EmailProps{From: "no-reply@example.com"}
	link := func(ml *MagicLinkProps, more ...Method) Props {
		return Props{Methods: append([]Method{MagicLink}, more...), Email: email, MagicLink: ml}
	}
	urls := func(u ...string) *MagicLinkProps { return &MagicLinkProps{RedirectURLs: u} }
	const app = "https://app.example.com/signin"
	many := make([]string, 21)
	for i := range many {
		many[i] = fmt.Sprintf("https://app%d.example.com/", i)
	}
	for _, c := range []struct {
		name  string
		props Props
		want  string
	}{
		{"link with codes", link(urls(app, "http://localhost:3000/signin"), EmailOTP), ""},
		{"link alone", link(urls(app)), ""},
		{"all settings", link(&MagicLinkProps{RedirectURLs: []string{app}, TTL: 60 * time.Minute, SameDevice: true,
			Templates: EmailTemplates{Subject: "Sign in to {{.AppName}}", Text: "{{.Link}}", HTML: "<a href=\"{{.Link}}\">in</a>"}}), ""},
		{"no MagicLink", link(nil), "MagicLink.RedirectURLs"},
		{"no URLs", link(&MagicLinkProps{}), "MagicLink.RedirectURLs"},
		{"no sender", Props{Methods: []Method{MagicLink}, MagicLink: urls(app)}, "magic_link needs Email"},
		{"no email alias", Props{Methods: []Method{MagicLink}, Email: email, MagicLink: urls(app), Aliases: Aliases{Phone: true}}, "magic_link needs the email alias"},
		{"TTL too long", link(&MagicLinkProps{RedirectURLs: []string{app}, TTL: 61 * time.Minute}), "TTL"},
		{"TTL too short", link(&MagicLinkProps{RedirectURLs: []string{app}, TTL: 30 * time.Second}), "TTL"},
		{"TTL not whole seconds", link(&MagicLinkProps{RedirectURLs: []string{app}, TTL: 90*time.Second + time.Millisecond}), "TTL"},
		{"http outside localhost", link(urls("http://app.example.com/signin")), "https"},
		{"fragment", link(urls("https://app.example.com/signin#x")), "fragment"},
		{"IP address", link(urls("https://10.0.0.1/signin")), "domain name"},
		{"wildcard", link(urls("https://*.example.com/signin")), "domain name"},
		{"user info", link(urls("https://u:p@app.example.com/signin")), "user info"},
		{"javascript", link(urls("javascript:alert(1)")), "redirect URL"},
		{"comma", link(urls("https://app.example.com/signin?a=1,2")), "comma"},
		{"twice after normalisation", link(urls(app, "https://APP.example.com:443/signin")), "twice"},
		{"more than 20", link(urls(many...)), "redirect URLs"},
		{"subject prints the link", link(&MagicLinkProps{RedirectURLs: []string{app}, Templates: EmailTemplates{Subject: "{{.Link}}"}}), "subject prints"},
		{"text without the link", link(&MagicLinkProps{RedirectURLs: []string{app}, Templates: EmailTemplates{Text: "Hello"}}), "does not print {{.Link}}"},
		{"unknown placeholder", link(&MagicLinkProps{RedirectURLs: []string{app}, Templates: EmailTemplates{Text: "{{.Link}} {{.Code}}"}}), "Code"},
		{"templates beyond 4 KB env", link(&MagicLinkProps{RedirectURLs: []string{app}, Templates: EmailTemplates{HTML: strings.Repeat("x", 3000) + "{{.Link}}"}}), "4 KB"},
		{"MagicLink without the method", Props{Methods: []Method{EmailOTP}, Email: email, MagicLink: urls(app)}, "magic_link method is not enabled"},
		{"shared schedule checked", link(urls(app)).with(func(p *Props) { p.Codes.SendDelays = []time.Duration{0} }), "magic link"},
	} {
		t.Run(c.name, func(t *testing.T) { checkValidate(t, c.props, c.want) })
	}
}

func (p Props) with(f func(*Props)) Props {
	f(&p)
	return p
}

// TestValidateNotifications: notifications need at least one kind, kinds that can happen with
// the methods enabled (a promised notice that can never be sent is a silent failure), a sender,
// a timeout that leaves the triggers time within Cognito's 5 s, and templates package notify
// accepts.
func TestValidateNotifications(t *testing.T) {
	email := &EmailProps{From: "no-reply@example.com"}
	base := func(n *NotificationProps, methods ...Method) Props {
		if len(methods) == 0 {
			methods = []Method{EmailOTP, DeviceKey}
		}
		return Props{Methods: methods, Email: email, Notifications: n}
	}
	kinds := func(k ...NotificationKind) *NotificationProps { return &NotificationProps{Events: k} }
	for _, c := range []struct {
		name  string
		props Props
		want  string
	}{
		{"key and lock", base(kinds(KeyAdded, AccountLocked)), ""},
		{"every kind", Props{Methods: []Method{EmailOTP, DeviceKey, Passkey}, Email: email,
			Passkeys: passkeyConfig(), Notifications: kinds(NotificationKinds...)}, ""},
		{"SMS only", Props{Methods: []Method{SMSOTP}, Aliases: Aliases{Phone: true}, Notifications: kinds(AccountLocked)}, ""},
		{"no events", base(&NotificationProps{}), "Notifications.Events"},
		{"unknown kind", base(kinds("key_lost")), "unknown event kind"},
		{"kind twice", base(kinds(KeyAdded, KeyAdded)), "twice"},
		{"key_added without device keys", base(kinds(KeyAdded), EmailOTP), "key_added needs the device_key method"},
		{"key_removed without device keys", base(kinds(KeyRemoved), EmailOTP), "key_removed needs the device_key method"},
		{"passkey_added without passkeys", base(kinds(PasskeyAdded)), "passkey_added needs the passkey method"},
		{"passkey_removed without passkeys", base(kinds(PasskeyRemoved)), "passkey_removed needs the passkey method"},
		{"contact_changed without codes", base(kinds(ContactChanged), DeviceKey), "contact_changed needs"},
		{"account_locked without a guessable method", base(kinds(AccountLocked), DeviceKey), "account_locked needs"},
		{"account_locked with links", Props{Methods: []Method{MagicLink}, Email: email,
			MagicLink: &MagicLinkProps{RedirectURLs: []string{"https://app.example.com/"}}, Notifications: kinds(AccountLocked)}, ""},
		{"new_method_signin without methods", Props{Email: email, Notifications: kinds(NewMethodSignIn)}, "new_method_signin needs"},
		{"no sender", Props{Methods: []Method{DeviceKey}, Notifications: kinds(KeyAdded)}, "Notifications need a sender"},
		{"timeout too long", base(&NotificationProps{Events: []NotificationKind{KeyAdded}, Timeout: 3 * time.Second}), "Notifications.Timeout"},
		{"timeout too short", base(&NotificationProps{Events: []NotificationKind{KeyAdded}, Timeout: 50 * time.Millisecond}), "Notifications.Timeout"},
		{"timeout 2s", base(&NotificationProps{Events: []NotificationKind{KeyAdded}, Timeout: 2 * time.Second}), ""},
		{"template override", base(&NotificationProps{Events: []NotificationKind{KeyAdded},
			Templates: map[NotificationKind]NotificationTemplates{KeyAdded: {Subject: "New key on {{.AppName}}"}}}), ""},
		{"template placeholder unknown", base(&NotificationProps{Events: []NotificationKind{KeyAdded},
			Templates: map[NotificationKind]NotificationTemplates{KeyAdded: {Subject: "{{.Code}}"}}}), "key_added"},
		{"template for a kind not notified", base(&NotificationProps{Events: []NotificationKind{KeyAdded},
			Templates: map[NotificationKind]NotificationTemplates{AccountLocked: {Subject: "Locked"}}}), "not in Notifications.Events"},
		{"sms template too long", base(&NotificationProps{Events: []NotificationKind{KeyAdded},
			Templates: map[NotificationKind]NotificationTemplates{KeyAdded: {SMS: strings.Repeat("x", 170)}}}), "sms renders"},
		{"templates beyond 4 KB env", base(&NotificationProps{Events: []NotificationKind{KeyAdded},
			Templates: map[NotificationKind]NotificationTemplates{KeyAdded: {Text: strings.Repeat("x", 3000)}}}), "4 KB"},
		{"locked limits", base(&NotificationProps{Events: []NotificationKind{AccountLocked},
			LockedLimits: []Limit{{Window: time.Hour, Max: 2}}, LockedSMSLimits: []Limit{{Window: time.Hour, Max: 5}}}), ""},
		{"locked limits bad window", base(&NotificationProps{Events: []NotificationKind{AccountLocked},
			LockedLimits: []Limit{{Window: 0, Max: 2}}}), "limit"},
		{"locked limits without account_locked", base(&NotificationProps{Events: []NotificationKind{KeyAdded},
			LockedLimits: []Limit{{Window: time.Hour, Max: 2}}}), "account_locked"},
		{"app name too long for notices", Props{Methods: []Method{DeviceKey}, Email: email,
			AppName: strings.Repeat("a", 70), Notifications: kinds(KeyAdded)}, "app name"},
	} {
		t.Run(c.name, func(t *testing.T) { checkValidate(t, c.props, c.want) })
	}
}

// TestMagicLinkEnvParses: the environment the construct writes for Create is what
// magiclink.FromEnv reads back, normalised URLs and all.
func TestMagicLinkEnvParses(t *testing.T) {
	p := Props{Methods: []Method{MagicLink}, Email: &EmailProps{From: "no-reply@example.com"},
		MagicLink: &MagicLinkProps{RedirectURLs: []string{"https://APP.example.com:443", "http://localhost:3000/signin"},
			TTL: 10 * time.Minute, SameDevice: true}}.WithDefaults()
	env := p.createLinkEnv()
	cfg, err := magiclink.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.URLs, ","); got != "https://app.example.com/,http://localhost:3000/signin" || env[magiclink.EnvURLs] != got {
		t.Errorf("URLs %q (env %q)", got, env[magiclink.EnvURLs])
	}
	if cfg.TTL != 10*time.Minute || !cfg.SameDevice || cfg.EmailFrom != "no-reply@example.com" {
		t.Errorf("config %+v", cfg)
	}
}

func passkeyConfig() PasskeyProps { return PasskeyProps{RPID: "example.com"} }
