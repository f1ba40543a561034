package passwordless

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/passwordless-go/cognito/lambdas/magiclink"
)

// MagicLinkProps configures the magic_link method (package magiclink): a sign-in link emailed
// to the account's verified email address (never to an unverified one), whose secret rides in
// the URL fragment. Links go only to verified addresses, so users need a way to verify theirs
// first: email_otp beside magic_link (the first code sign-in verifies the address), or users
// created with email_verified true. Zero values take the defaults.
type MagicLinkProps struct {
	// RedirectURLs are the pages a link may open: the app's landing page, which reads the
	// secret from the fragment and completes the sign-in. https://host[:port][/path][?query]
	// with a DNS host name, or http://localhost[:port][/path][?query] for development; no
	// fragment, user info, IP address, wildcard or comma. A request picks one with
	// ClientMetadata redirectUrl (compared after normalisation; default the first): the link's
	// target is never taken from the client unchecked. Required, 1-20.
	RedirectURLs []string
	// TTL is how long a link works. Default 15 minutes; range 1-60
	// minutes, whole seconds.
	TTL time.Duration
	// SameDevice binds each link to the device that asked for it: the request carries the hash
	// of a device-held secret that the completion must present, so a forwarded or intercepted
	// email alone cannot sign in; the link then also fails in another browser or app on the same
	// phone (a mail app opening links in its own browser is the common case). Default false.
	SameDevice bool
	// Templates of the email, with the placeholders {{.Link}}, {{.AppName}} and {{.Minutes}}:
	// the subject must not print {{.Link}} (subjects show on lock screens), both bodies must.
	// Defaults: magiclink.DefaultEmailSubject, DefaultEmailText, DefaultEmailHTML (values
	// HTML-escaped) with an AppName, their *NoName forms without one.
	Templates EmailTemplates
	// Locales are the email's templates per locale: keys are lower-case language tags ("es",
	// "pt-br"), at most 20, chosen as CodeProps.Locales are (ClientMetadata "locale" of the link
	// request, else the user's attribute "locale", "es-MX" finding "es", anything else the
	// templates above). An empty field takes Templates' (or the default). Default none.
	Locales map[string]EmailTemplates
}

// linkLocales converts Locales to package magiclink's (nil for none).
func (m MagicLinkProps) linkLocales() map[string]magiclink.LocaleTemplates {
	if len(m.Locales) == 0 {
		return nil
	}
	out := make(map[string]magiclink.LocaleTemplates, len(m.Locales))
	for tag, t := range m.Locales {
		out[tag] = magiclink.LocaleTemplates{Subject: t.Subject, Text: t.Text, HTML: t.HTML}
	}
	return out
}

// EmailTemplates are an email's subject, plain-text body and HTML body. Empty fields take the
// defaults.
type EmailTemplates struct {
	Subject, Text, HTML string
}

// links reports whether the magic_link method is enabled.
func (p Props) links() bool { return slices.Contains(p.Methods, MagicLink) }

// sends reports whether a method that sends something (a code or a link) is enabled: Create
// then needs the sender settings and send schedule, and Verify resets the schedule on success.
func (p Props) sends() bool { return p.codes() || p.links() }

// magicLinkEnv is Create's magic-link environment (package magiclink's variables): the
// redirect URLs normalised as magiclink stores them (a URL it refuses is written as given, for
// Validate to report), the lifetime, the same-device setting and the templates set.
func (p Props) magicLinkEnv() map[string]string {
	m := MagicLinkProps{}
	if p.MagicLink != nil {
		m = *p.MagicLink
	}
	urls := make([]string, len(m.RedirectURLs))
	for i, u := range m.RedirectURLs {
		urls[i] = u
		if n, err := magiclink.NormalizeURL(u); err == nil {
			urls[i] = n
		}
	}
	ttl := m.TTL
	if ttl == 0 {
		ttl = magiclink.DefaultTTL
	}
	ttlText := ttl.String() // not whole seconds: written as is, for magiclink to refuse
	if ttl%time.Second == 0 {
		ttlText = fmt.Sprintf("%ds", int64(ttl/time.Second))
	}
	env := map[string]string{
		magiclink.EnvURLs:       strings.Join(urls, ","),
		magiclink.EnvTTL:        ttlText,
		magiclink.EnvSameDevice: strconv.FormatBool(m.SameDevice),
	}
	for k, v := range map[string]string{
		magiclink.EnvEmailSubject: m.Templates.Subject,
		magiclink.EnvEmailText:    m.Templates.Text,
		magiclink.EnvEmailHTML:    m.Templates.HTML,
		magiclink.EnvLocalesJSON:  localesJSON(m.linkLocales()),
	} {
		if v != "" {
			env[k] = v
		}
	}
	return env
}

// verifyLinkEnv is Verify's magic-link environment: the Checker reads the same-device setting
// alone.
func (p Props) verifyLinkEnv() map[string]string {
	return map[string]string{magiclink.EnvSameDevice: p.magicLinkEnv()[magiclink.EnvSameDevice]}
}

// createLinkEnv is every variable magiclink.FromEnv reads in Create, as the construct writes them
// (the SES configuration set aside: its name is generated at deploy time): the code settings
// when a code method is on too (otp.FromEnv checks them all), else only the sender settings and
// send schedule that links share with email codes; then the magic-link variables.
func (p Props) createLinkEnv() map[string]string {
	env := sharedSendEnv(p)
	if p.codes() {
		env = codeEnvStrings(p)
	}
	for k, v := range p.magicLinkEnv() {
		env[k] = v
	}
	return env
}

// validateMagicLink reports the problems of the magic_link settings (p has its defaults).
func (p Props) validateMagicLink(bad func(format string, a ...any)) {
	if !p.links() {
		if p.MagicLink != nil {
			bad("MagicLink is set but the magic_link method is not enabled")
		}
		return
	}
	if p.Email == nil {
		bad("method magic_link needs Email (an SES sender): links go by email")
	}
	if !p.Aliases.Email {
		bad("method magic_link needs the email alias")
	}
	if p.MagicLink == nil || len(p.MagicLink.RedirectURLs) == 0 {
		bad("method magic_link needs MagicLink.RedirectURLs (the pages a link may open)")
		return
	}
	comma := false
	for _, u := range p.MagicLink.RedirectURLs {
		if strings.Contains(u, ",") {
			comma = true
			bad("MagicLink.RedirectURLs: %q contains a comma (%s is a comma-separated list)", u, magiclink.EnvURLs)
		}
	}
	if comma || p.Email == nil {
		return
	}
	// The same parser Create runs at start-up, on the environment it will get.
	env := p.createLinkEnv()
	if _, err := magiclink.FromEnv(func(k string) string { return env[k] }); err != nil {
		bad("magic link: %w", err)
	}
}
