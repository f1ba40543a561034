package magiclink

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// Environment variables read by FromEnv (unset or empty means the default). The sender settings
// and the send schedule are package otp's (EMAIL_FROM, EMAIL_CONFIGURATION_SET, APP_NAME,
// SEND_DELAYS, SEND_DAILY_CAP), so links and email codes to one address share one schedule.
const (
	EnvURLs         = "MAGIC_LINK_URLS"          // comma list of redirect URLs; required
	EnvTTL          = "MAGIC_LINK_TTL"           // Go duration; default 15m, range 1m-60m
	EnvSameDevice   = "MAGIC_LINK_SAME_DEVICE"   // "true" or "false"; default false
	EnvEmailSubject = "MAGIC_LINK_EMAIL_SUBJECT" // template; default DefaultEmailSubject
	EnvEmailText    = "MAGIC_LINK_EMAIL_TEXT"    // template; default DefaultEmailText
	EnvEmailHTML    = "MAGIC_LINK_EMAIL_HTML"    // template; default DefaultEmailHTML
	EnvLocalesJSON  = "MAGIC_LINK_LOCALES_JSON"  // default none: {"es": {"subject", "text", "html"}}
)

// Defaults and bounds.
const (
	DefaultTTL = 15 * time.Minute
	MinTTL     = time.Minute
	MaxTTL     = 60 * time.Minute
	// MaxURLs caps MAGIC_LINK_URLS.
	MaxURLs = 20
	// MaxSubjectLength caps the rendered subject, in characters.
	MaxSubjectLength = 200

	DefaultEmailSubject = "Your {{.AppName}} sign-in link"
	DefaultEmailText    = "Open this link to sign in to {{.AppName}}:\n\n{{.Link}}\n\n" +
		"The link works once and expires in {{.Minutes}} minutes. If you did not ask to sign in, ignore this email:\n" +
		"nobody can sign in without the link. Never forward this email.\n"
	DefaultEmailHTML = `<!DOCTYPE html>
<html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#222">
<p><a href="{{.Link}}" style="font-size:18px;font-weight:bold">Sign in to {{.AppName}}</a></p>
<p>The link works once and expires in {{.Minutes}} minutes. If you did not ask to sign in, ignore this email:
nobody can sign in without the link. Never forward this email.</p>
<p style="font-size:12px;color:#666;word-break:break-all">{{.Link}}</p>
</body></html>
`

	// The defaults without an application name, used when AppName is unset or
	// otp.DefaultAppName ("your app"), so that no email reads "Your your app sign-in link".
	DefaultEmailSubjectNoName = "Your sign-in link"
	DefaultEmailTextNoName    = "Open this link to sign in:\n\n{{.Link}}\n\n" +
		"The link works once and expires in {{.Minutes}} minutes. If you did not ask to sign in, ignore this email:\n" +
		"nobody can sign in without the link. Never forward this email.\n"
	DefaultEmailHTMLNoName = `<!DOCTYPE html>
<html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#222">
<p><a href="{{.Link}}" style="font-size:18px;font-weight:bold">Sign in</a></p>
<p>The link works once and expires in {{.Minutes}} minutes. If you did not ask to sign in, ignore this email:
nobody can sign in without the link. Never forward this email.</p>
<p style="font-size:12px;color:#666;word-break:break-all">{{.Link}}</p>
</body></html>
`
)

// Config configures the Issuer (and, for SameDevice, the Checker). Build it with FromEnv, or fill
// it and let NewIssuer check it; the zero value of a field means its default where it has one.
type Config struct {
	// URLs are the redirect URLs a link may point to (NormalizeURL's rules; stored normalised).
	// A request names one in ClientMetadata redirectUrl, which must equal one of them after
	// normalisation; without it the link points to the first. Required, 1-20.
	URLs []string
	// TTL is how long a link works. Default 15 minutes; 1-60 minutes, whole seconds.
	TTL time.Duration
	// SameDevice binds each link to the device that asked for it: the request must carry
	// ClientMetadata deviceHash (DeviceHash of a secret the device keeps) and the completion
	// deviceSecret. Default false (the link works on any device, as users expect).
	SameDevice bool

	// EmailFrom, EmailConfigurationSet and AppName are the sender settings of package otp
	// (EmailFrom is required to send).
	EmailFrom             string
	EmailConfigurationSet string
	AppName               string
	// SendDelays and SendDailyCap are the send schedule of package otp (the same defaults), kept
	// per recipient under the key of email_otp: links and email codes share it.
	SendDelays   []time.Duration
	SendDailyCap int

	// EmailSubject, EmailText and EmailHTML are the email's templates (TemplateData). The
	// subject may not print {{.Link}} (subjects show on lock screens); both bodies must. HTML
	// values are escaped.
	EmailSubject string
	EmailText    string
	EmailHTML    string
	// Locales are the email's templates per locale (lower-case language tags such as "es" or
	// "pt-br", at most delivery.MaxLocales), chosen by the ClientMetadata key "locale" of the
	// request, else the user's attribute "locale", normalised ("es-MX" finds "es"); an unknown or
	// malformed locale takes the templates above, as does an empty field. Default none.
	Locales map[string]LocaleTemplates
}

// LocaleTemplates are the link email's templates of one locale (see Config.Locales).
type LocaleTemplates struct {
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text,omitempty"`
	HTML    string `json:"html,omitempty"`
}

// ParseLocalesJSON parses MAGIC_LINK_LOCALES_JSON: an object whose members are locale tags,
// each an object of LocaleTemplates fields. Unknown fields are errors.
func ParseLocalesJSON(s string) (map[string]LocaleTemplates, error) {
	var out map[string]LocaleTemplates
	if err := delivery.DecodeLocalesJSON(s, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c Config) withDefaults() Config {
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	shared := otp.DefaultConfig()
	if c.SendDelays == nil {
		c.SendDelays = shared.SendDelays
	}
	if c.SendDailyCap == 0 {
		c.SendDailyCap = shared.SendDailyCap
	}
	named := otp.HasAppName(c.AppName)
	if c.EmailSubject == "" {
		c.EmailSubject = pick(named, DefaultEmailSubject, DefaultEmailSubjectNoName)
	}
	if c.EmailText == "" {
		c.EmailText = pick(named, DefaultEmailText, DefaultEmailTextNoName)
	}
	if c.EmailHTML == "" {
		c.EmailHTML = pick(named, DefaultEmailHTML, DefaultEmailHTMLNoName)
	}
	if c.AppName == "" {
		c.AppName = shared.AppName
	}
	return c
}

// FromEnv reads the Config through getenv (os.Getenv when nil): the variables above, and the
// sender settings and send schedule through otp.FromEnv (which checks all of package otp's
// variables too). Every bad value is an error, so a misconfigured function fails at start-up.
func FromEnv(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	shared, err := otp.FromEnv(getenv)
	if err != nil {
		return Config{}, fmt.Errorf("magiclink: %w", err)
	}
	c := Config{
		EmailFrom:             shared.EmailFrom,
		EmailConfigurationSet: shared.EmailConfigurationSet,
		AppName:               shared.AppName,
		SendDelays:            shared.SendDelays,
		SendDailyCap:          shared.SendDailyCap,
		EmailSubject:          getenv(EnvEmailSubject),
		EmailText:             getenv(EnvEmailText),
		EmailHTML:             getenv(EnvEmailHTML),
	}
	var errs []error
	if c.URLs, err = ParseURLs(getenv(EnvURLs)); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvURLs, err))
	}
	if s := strings.TrimSpace(getenv(EnvTTL)); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < MinTTL || d > MaxTTL || d%time.Second != 0 {
			errs = append(errs, fmt.Errorf("%s=%q is not a duration of whole seconds in range %s-%s", EnvTTL, s, MinTTL, MaxTTL))
		}
		c.TTL = d
	}
	if c.SameDevice, err = SameDeviceFromEnv(getenv); err != nil {
		errs = append(errs, err)
	}
	if s := strings.TrimSpace(getenv(EnvLocalesJSON)); s != "" {
		if c.Locales, err = ParseLocalesJSON(s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvLocalesJSON, err))
		}
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("magiclink: %w", errors.Join(errs...))
	}
	c = c.withDefaults()
	if _, err := c.compile(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func pick(named bool, withName, noName string) string {
	if named {
		return withName
	}
	return noName
}

// SameDeviceFromEnv reads MAGIC_LINK_SAME_DEVICE: "true", "false", or unset/empty (false).
// Anything else is an error. The Checker needs only this.
func SameDeviceFromEnv(getenv func(string) string) (bool, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	switch s := strings.TrimSpace(getenv(EnvSameDevice)); s {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, fmt.Errorf("%s=%q is neither true nor false", EnvSameDevice, s)
	}
}

// ParseURLs parses a comma-separated list of redirect URLs (NormalizeURL), returning them
// normalised. Empty entries, duplicates (after normalisation) and more than MaxURLs are errors.
func ParseURLs(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("no redirect URL")
	}
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		u, err := NormalizeURL(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("redirect URL %q: %w", shorten(part), err)
		}
		out = append(out, u)
	}
	if err := checkURLs(out); err != nil {
		return nil, err
	}
	return out, nil
}

func checkURLs(l []string) error {
	if len(l) == 0 || len(l) > MaxURLs {
		return fmt.Errorf("%d redirect URLs, want 1-%d", len(l), MaxURLs)
	}
	seen := map[string]bool{}
	for _, u := range l {
		n, err := NormalizeURL(u)
		if err != nil {
			return fmt.Errorf("redirect URL %q: %w", shorten(u), err)
		}
		if n != u {
			return fmt.Errorf("redirect URL %q is not normalised (%q)", shorten(u), shorten(n))
		}
		if seen[u] {
			return fmt.Errorf("redirect URL %q listed twice", shorten(u))
		}
		seen[u] = true
	}
	return nil
}

// Validate checks c (after filling defaults): URLs, TTL, sender, schedule and templates.
func (c Config) Validate() error {
	_, err := c.withDefaults().compile()
	return err
}

// compiled are a Config's templates.
type compiled struct {
	subject, text, html *delivery.Template
	minutes             int
	// locales are the templates per locale tag.
	locales map[string]*compiled
}

// forLocale returns the templates of the first candidate locale configured
// (delivery.PickLocale), else t, and the tag chosen ("" for the default).
func (t *compiled) forLocale(candidates ...string) (*compiled, string) {
	return delivery.ForLocale(t.locales, t, candidates...)
}

func (c Config) compile() (*compiled, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := checkURLs(c.URLs); err != nil {
		bad("%v", err)
	}
	if c.TTL < MinTTL || c.TTL > MaxTTL || c.TTL%time.Second != 0 {
		bad("link lifetime %s is not whole seconds in range %s-%s", c.TTL, MinTTL, MaxTTL)
	}
	if err := (store.SendSchedule{Delays: c.SendDelays, DailyCap: c.SendDailyCap}).Check(); err != nil {
		bad("%v", err)
	}
	// The sender settings are otp's: let it judge them.
	sh := otp.Config{EmailFrom: c.EmailFrom, EmailConfigurationSet: c.EmailConfigurationSet, AppName: c.AppName}
	if err := sh.Validate(); err != nil {
		bad("%v", err)
	}
	t := &compiled{minutes: max(1, int(c.TTL/time.Minute))}
	var err error
	if t.subject, err = parseTemplate("link email subject", c.EmailSubject, false); err != nil {
		errs = append(errs, err)
	}
	if t.text, err = parseTemplate("link email text", c.EmailText, false); err != nil {
		errs = append(errs, err)
	}
	if t.html, err = parseTemplate("link email HTML", c.EmailHTML, true); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		switch {
		case t.subject.Uses("Link"):
			bad("link email subject prints {{.Link}}: the link is a secret, and subjects show on lock screens")
		case !t.text.Uses("Link"):
			bad("link email text does not print {{.Link}}")
		case !t.html.Uses("Link"):
			bad("link email HTML does not print {{.Link}}")
		}
		subject := TemplateData{Link: "https://x.example/#ml=x", AppName: c.AppName, Minutes: t.minutes}.render(t.subject)
		if strings.TrimSpace(subject) == "" {
			bad("link email subject renders empty")
		} else if err := delivery.CheckPlainText("link email subject", subject, MaxSubjectLength); err != nil {
			bad("%v", err)
		}
	}
	if len(c.Locales) > 0 && errors.Join(errs...) == nil {
		errs = append(errs, c.compileLocales(t))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("magiclink: config: %w", err)
	}
	return t, nil
}

// compileLocales compiles and checks the templates of every locale into t.locales: each
// locale's empty fields take the configured template.
func (c Config) compileLocales(t *compiled) error {
	var err error
	t.locales, err = delivery.CompileLocales(c.Locales, func(l LocaleTemplates) (*compiled, error) {
		lc := c
		lc.Locales = nil
		lc.EmailSubject = cmp.Or(l.Subject, c.EmailSubject)
		lc.EmailText = cmp.Or(l.Text, c.EmailText)
		lc.EmailHTML = cmp.Or(l.HTML, c.EmailHTML)
		return lc.compile()
	})
	return err
}

// shorten cuts s to 64 bytes for an error message.
func shorten(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= 64 {
		return s
	}
	n := 64
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
