package notify

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/strictjson"
)

// Environment variables read by ConfigFromEnv. Unset or empty means the default.
const (
	// EnvEvents lists the kinds to notify, comma-separated (default empty: notifications off).
	EnvEvents = "NOTIFY_EVENTS"
	// EnvTemplatesJSON overrides templates: {"<kind>": {"subject", "text", "html", "sms"}}, every
	// member optional (default none).
	EnvTemplatesJSON = "NOTIFY_TEMPLATES_JSON"
	// EnvLocalesJSON holds templates per locale: {"<locale>": {"<kind>": {"subject", "text",
	// "html", "sms"}}} (see Config.Locales). Default none.
	EnvLocalesJSON = "NOTIFY_LOCALES_JSON"
	// EnvTimeout bounds one Notify call, a Go duration (default 1s, range 100ms-4s).
	EnvTimeout = "NOTIFY_TIMEOUT"
	// EnvLockedLimits caps account_locked notifications per account, "window:max,..."
	// (default DefaultLockedLimits).
	EnvLockedLimits = "NOTIFY_LOCKED_LIMITS"
	// EnvLockedSMSLimits is the deployment-wide budget of account_locked notifications by SMS,
	// "window:max,..." (default DefaultLockedSMSLimits).
	EnvLockedSMSLimits = "NOTIFY_LOCKED_SMS_LIMITS"

	// The sender settings are those of the sign-in codes (package delivery's names and meaning).
	EnvAppName               = delivery.EnvAppName               // default "your app"
	EnvEmailFrom             = delivery.EnvEmailFrom             // empty: no email notifications
	EnvEmailConfigurationSet = delivery.EnvEmailConfigurationSet // optional
	EnvSMSSenderID           = delivery.EnvSMSSenderID           // optional
	EnvSMSOriginationNumber  = delivery.EnvSMSOriginationNumber  // optional
	EnvSMSAllowedCountries   = delivery.EnvSMSAllowedCountries   // default DefaultSMSAllowedCountries
)

// Defaults and bounds.
const (
	DefaultTimeout = time.Second
	MinTimeout     = 100 * time.Millisecond
	// MaxTimeout leaves a Cognito trigger (5 s) time for its own work.
	MaxTimeout = 4 * time.Second

	// DefaultLockedLimits: at most 3 account_locked notifications per account per 24 hours
	// (fixed windows), however often a stranger locks it.
	DefaultLockedLimits = "24h:3"
	// DefaultLockedSMSLimits: at most 20 account_locked SMS an hour and 100 a day for the whole
	// deployment.
	DefaultLockedSMSLimits = "1h:20,24h:100"

	DefaultAppName             = delivery.DefaultAppName
	DefaultSMSAllowedCountries = delivery.DefaultSMSAllowedCountries // "GB,DE,FR,AU,IE", as the sign-in codes

	// DedupeTTL is how long a notified event is remembered (Cognito retries come within seconds).
	DedupeTTL = 24 * time.Hour

	MaxAppNameLength = delivery.MaxAppNameLength // characters
	MaxSubjectLength = delivery.MaxSubjectLength // characters, rendered
	MaxSMSLength     = delivery.MaxSMSLength     // GSM-7 characters, rendered: one SMS part (70 if UCS-2)
	MaxTemplateBytes = delivery.MaxTemplateBytes // each template's source
	maxTemplatesJSON = 256 << 10                 // NOTIFY_TEMPLATES_JSON
	maxLimitMax      = 100000                    // each limit of LockedLimits and LockedSMSLimits
)

// Config configures a Sender. The zero value of a field means its default.
type Config struct {
	// Events are the kinds to notify; empty turns notifications off.
	Events []Kind
	// Templates override DefaultTemplates per kind, field by field. Without an application
	// name of its own (AppName unset or "your app") the defaults are DefaultTemplatesNoName.
	Templates map[Kind]Templates
	// Locales are templates per locale (lower-case language tags such as "es" or "pt-br", at
	// most delivery.MaxLocales) and kind, field by field over Templates (an empty field or a
	// kind left out takes Templates, then the default). The locale of a message is the user's
	// own attribute "locale", normalised ("es-MX" finds "es"), never one a request asks for
	// (whoever causes the event, possibly an attacker, must not pick a language the owner does
	// not read); an unknown, malformed or missing locale takes Templates. Default none.
	Locales map[string]map[Kind]Templates
	// Timeout bounds one Notify call. Default 1 s, range 100 ms-4 s.
	Timeout time.Duration
	// LockedLimits caps account_locked notifications per account. Default 3 per 24 h.
	LockedLimits []store.Limit
	// LockedSMSLimits caps account_locked notifications by SMS for the whole deployment.
	// Default 20 per hour and 100 per 24 h.
	LockedSMSLimits []store.Limit

	// Settings are the sender settings, as for codes (see delivery.Settings for each field's
	// default and checks): AppName (default "your app"), EmailFrom (empty sends no email:
	// accounts with a verified phone number get an SMS instead), EmailConfigurationSet,
	// SMSSenderID, SMSOriginationNumber and SMSAllowedCountries (default "GB,DE,FR,AU,IE"; only
	// numbers of a mobile kind get an SMS).
	delivery.Settings
}

func (c Config) withDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.LockedLimits == nil {
		c.LockedLimits, _ = ParseLimits(DefaultLockedLimits)
	}
	if c.LockedSMSLimits == nil {
		c.LockedSMSLimits, _ = ParseLimits(DefaultLockedSMSLimits)
	}
	c.Settings = c.Settings.WithDefaults()
	return c
}

// ConfigFromEnv reads the Config through getenv (os.Getenv when nil); see the Env constants. Any
// bad value is an error, so a misconfigured function fails at start-up.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var c Config
	var errs []error
	var err error
	if c.Events, err = ParseKinds(getenv(EnvEvents)); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvEvents, err))
	}
	if s := strings.TrimSpace(getenv(EnvTemplatesJSON)); s != "" {
		if c.Templates, err = ParseTemplatesJSON(s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvTemplatesJSON, err))
		}
	}
	if s := strings.TrimSpace(getenv(EnvLocalesJSON)); s != "" {
		if c.Locales, err = ParseLocalesJSON(s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvLocalesJSON, err))
		}
	}
	if s := strings.TrimSpace(getenv(EnvTimeout)); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < MinTimeout || d > MaxTimeout {
			errs = append(errs, fmt.Errorf("%s=%q is not a duration in range %s-%s", EnvTimeout, delivery.Shorten(s), MinTimeout, MaxTimeout))
		}
		c.Timeout = d
	}
	for _, x := range []struct {
		env string
		dst *[]store.Limit
	}{{EnvLockedLimits, &c.LockedLimits}, {EnvLockedSMSLimits, &c.LockedSMSLimits}} {
		if s := strings.TrimSpace(getenv(x.env)); s != "" {
			if *x.dst, err = ParseLimits(s); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", x.env, err))
			}
		}
	}
	sender, err := delivery.SettingsFromEnv(getenv)
	if err != nil {
		errs = append(errs, err)
	}
	c.Settings = sender
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("notify: %w", errors.Join(errs...))
	}
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// ParseTemplatesJSON parses NOTIFY_TEMPLATES_JSON: an object whose members are kinds, each an
// object with optional string members subject, text, html and sms. Unknown kinds or members,
// duplicates and non-string values are errors.
func ParseTemplatesJSON(s string) (map[Kind]Templates, error) {
	if len(s) > maxTemplatesJSON {
		return nil, fmt.Errorf("longer than %d bytes", maxTemplatesJSON)
	}
	allowed := map[string]bool{}
	for _, k := range Kinds {
		allowed[string(k)] = false
	}
	top, err := strictjson.Members([]byte(s), allowed)
	if err != nil {
		return nil, err
	}
	out := map[Kind]Templates{}
	fields := map[string]bool{"subject": false, "text": false, "html": false, "sms": false}
	for name, raw := range top {
		m, err := strictjson.Members(raw, fields)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		var t Templates
		for f, v := range m {
			var str string
			if err := json.Unmarshal(v, &str); err != nil {
				return nil, fmt.Errorf("%s: field %q must be a string", name, f)
			}
			switch f {
			case "subject":
				t.Subject = str
			case "text":
				t.Text = str
			case "html":
				t.HTML = str
			case "sms":
				t.SMS = str
			}
		}
		out[Kind(name)] = t
	}
	return out, nil
}

// ParseLocalesJSON parses NOTIFY_LOCALES_JSON: an object whose members are locale tags, each
// an object as NOTIFY_TEMPLATES_JSON. The tags are checked by Validate.
func ParseLocalesJSON(s string) (map[string]map[Kind]Templates, error) {
	var raw map[string]json.RawMessage
	if err := delivery.DecodeLocalesJSON(s, &raw); err != nil {
		return nil, err
	}
	out := make(map[string]map[Kind]Templates, len(raw))
	for tag, r := range raw {
		t, err := ParseTemplatesJSON(string(r))
		if err != nil {
			return nil, fmt.Errorf("locale %q: %w", delivery.Shorten(tag), err)
		}
		out[tag] = t
	}
	return out, nil
}

// ParseLimits parses "window:max,..." such as "1h:20,24h:100" (windows in Go duration syntax,
// whole seconds up to 31 days, distinct; 1-5 limits; max 1-100000).
func ParseLimits(s string) ([]store.Limit, error) { return delivery.ParseLimits(s, maxLimitMax) }

// compiled are one kind's parsed templates.
type compiled struct {
	subject, text, html, sms *delivery.Template
}

// Validate checks every field (after filling defaults), parses every template and renders it
// with sample values.
func (c Config) Validate() error {
	c = c.withDefaults()
	if _, err := c.compile(); err != nil {
		return err
	}
	_, err := c.compileLocales()
	return err
}

// compileLocales compiles every locale's templates of every kind (Config.Locales); nil for
// none.
func (c Config) compileLocales() (map[string]map[Kind]*compiled, error) {
	if len(c.Locales) == 0 {
		return nil, nil
	}
	tags := slices.Collect(maps.Keys(c.Locales))
	if err := delivery.CheckLocaleTags(tags); err != nil {
		return nil, fmt.Errorf("notify: config: %w", err)
	}
	var errs []error
	out := make(map[string]map[Kind]*compiled, len(tags))
	for _, tag := range tags { // sorted by CheckLocaleTags
		lc := c
		lc.Locales = nil
		lc.Templates = make(map[Kind]Templates, len(Kinds))
		for k, l := range c.Locales[tag] {
			if !k.Valid() {
				errs = append(errs, fmt.Errorf("locale %s: templates for unknown event kind %q", tag, delivery.Shorten(string(k))))
				continue
			}
			base := c.Templates[k]
			html := l.HTML
			if html == "" && l.Text == "" {
				html = base.HTML // a locale's own Text makes its HTML, as for Templates
			}
			lc.Templates[k] = Templates{Subject: cmp.Or(l.Subject, base.Subject), Text: cmp.Or(l.Text, base.Text),
				HTML: html, SMS: cmp.Or(l.SMS, base.SMS)}
		}
		for k, base := range c.Templates {
			if _, ok := lc.Templates[k]; !ok {
				lc.Templates[k] = base
			}
		}
		m, err := lc.compile()
		if err != nil {
			errs = append(errs, fmt.Errorf("locale %s: %w", tag, errors.Unwrap(err)))
			continue
		}
		out[tag] = m
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("notify: config: %w", errors.Join(errs...))
	}
	return out, nil
}

func (c Config) compile() (map[Kind]*compiled, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	seen := map[Kind]bool{}
	for _, k := range c.Events {
		if !k.Valid() {
			bad("unknown event kind %q", delivery.Shorten(string(k)))
		} else if seen[k] {
			bad("event kind %q listed twice", k)
		}
		seen[k] = true
	}
	if c.Timeout < MinTimeout || c.Timeout > MaxTimeout {
		bad("timeout %s out of range %s-%s", c.Timeout, MinTimeout, MaxTimeout)
	}
	if err := delivery.CheckLimits(c.LockedLimits, maxLimitMax); err != nil {
		bad("account_locked limits: %v", err)
	}
	if err := delivery.CheckLimits(c.LockedSMSLimits, maxLimitMax); err != nil {
		bad("account_locked SMS limits: %v", err)
	}
	if err := c.Settings.Check(); err != nil {
		errs = append(errs, err)
	}
	for k := range c.Templates {
		if !k.Valid() {
			bad("templates for unknown event kind %q", delivery.Shorten(string(k)))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("notify: config: %w", errors.Join(errs...))
	}
	out := make(map[Kind]*compiled, len(Kinds))
	for _, k := range Kinds {
		ct, err := c.compileKind(k)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
			continue
		}
		out[k] = ct
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("notify: config: %w", errors.Join(errs...))
	}
	return out, nil
}

// compileKind parses kind k's templates (overrides over defaults) and renders them with the
// longest sample values each field can take.
func (c Config) compileKind(k Kind) (*compiled, error) {
	def, over := DefaultTemplates[k], c.Templates[k]
	if !delivery.HasAppName(c.AppName) {
		def = DefaultTemplatesNoName[k]
	}
	pick := func(o, d string) string {
		if o != "" {
			return o
		}
		return d
	}
	var errs []error
	ct := &compiled{}
	var err error
	if ct.subject, err = parseTemplate("subject", pick(over.Subject, def.Subject), false); err != nil {
		errs = append(errs, err)
	}
	if ct.text, err = parseTemplate("text", pick(over.Text, def.Text), false); err != nil {
		errs = append(errs, err)
	}
	if over.HTML != "" {
		ct.html, err = parseTemplate("html", over.HTML, true)
		if err != nil {
			errs = append(errs, err)
		}
	}
	smsSrc := over.SMS
	if smsSrc == "" {
		smsSrc = c.defaultSMS(k, def.SMS)
	}
	if ct.sms, err = parseTemplate("sms", smsSrc, false); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if ct.html == nil {
		ct.html = ct.text.HTMLFromText()
	}
	for _, d := range sampleData(c.AppName) {
		subject := d.render(ct.subject)
		if strings.TrimSpace(subject) == "" {
			return nil, errors.New("subject renders empty")
		}
		if err := delivery.CheckPlainText("subject", subject, MaxSubjectLength); err != nil {
			return nil, err
		}
		if strings.TrimSpace(d.render(ct.text)) == "" {
			return nil, errors.New("text renders empty")
		}
		if strings.TrimSpace(d.render(ct.html)) == "" {
			return nil, errors.New("html renders empty")
		}
		sms := d.render(ct.sms)
		if strings.TrimSpace(sms) == "" {
			return nil, errors.New("sms renders empty")
		}
		if err := delivery.CheckSMSOnePart("the rendered sms", sms); err != nil {
			return nil, fmt.Errorf("sms renders more than one SMS: %w", err)
		}
	}
	return ct, nil
}

// defaultSMS is kind k's default SMS, def: DefaultTemplates' when it renders, with c.AppName
// and the longest sample values, as one SMS part (delivery.CountSMS), else
// DefaultTemplatesNoName's. An app name with a character outside GSM-7 makes the SMS UCS-2, 70
// characters in one part: a longer name is left out rather than have every notification
// billed as two or three parts.
func (c Config) defaultSMS(k Kind, def string) string {
	if !delivery.HasAppName(c.AppName) {
		return def
	}
	t, err := parseTemplate("sms", def, false)
	if err != nil {
		return def // reported by the caller
	}
	for _, d := range sampleData(c.AppName) {
		if delivery.SMSParts(d.render(t)) > 1 {
			return DefaultTemplatesNoName[k].SMS
		}
	}
	return def
}

// sampleData are values to test-render with: the longest each field can render to, and the
// shortest.
func sampleData(appName string) []data {
	long := data{AppName: appName, Time: formatTime(time.Date(2030, 12, 31, 23, 59, 0, 0, time.UTC)), Detail: map[string]string{
		DetailMethod:  longestMethodLabel(),
		DetailKeyName: strings.Repeat("W", maxKeyNameRunes) + "...",
		DetailCount:   strings.Repeat("9", maxCountDigits),
		// The longest mask: MaskEmail keeps a top-level domain of up to 24 characters.
		DetailOldAddress: delivery.MaskEmail("averyveryverylongname@example-domain.xn--vermgensberatung-pwb"),
		FieldNewAddress:  delivery.MaskEmail("averyveryverylongname@example-domain.xn--vermgensberatung-pwb"),
		FieldContact:     contactLabel(""),
	}}
	short := data{AppName: appName, Time: formatTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)), Detail: map[string]string{
		DetailMethod: methodLabel("passkey"), DetailKeyName: noName, DetailCount: "1",
		DetailOldAddress: noAddress, FieldNewAddress: delivery.MaskPhone("+447400123456"), FieldContact: contactLabel("phone_number"),
	}}
	return []data{long, short}
}
