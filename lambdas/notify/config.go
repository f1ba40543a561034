package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/passwordless-go/cognito/lambdas/otp/phone"
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
	// EnvTimeout bounds one Notify call, a Go duration (default 1s, range 100ms-4s).
	EnvTimeout = "NOTIFY_TIMEOUT"
	// EnvLockedLimits caps account_locked notifications per account, "window:max,..."
	// (default DefaultLockedLimits).
	EnvLockedLimits = "NOTIFY_LOCKED_LIMITS"
	// EnvLockedSMSLimits is the deployment-wide budget of account_locked notifications by SMS,
	// "window:max,..." (default DefaultLockedSMSLimits).
	EnvLockedSMSLimits = "NOTIFY_LOCKED_SMS_LIMITS"

	// The sender settings are those of the sign-in codes (package otp's names and meaning).
	EnvAppName               = "APP_NAME"                // default "your app"
	EnvEmailFrom             = "EMAIL_FROM"              // empty: no email notifications
	EnvEmailConfigurationSet = "EMAIL_CONFIGURATION_SET" // optional
	EnvSMSSenderID           = "SMS_SENDER_ID"           // optional
	EnvSMSOriginationNumber  = "SMS_ORIGINATION_NUMBER"  // optional
	EnvSMSAllowedCountries   = "SMS_ALLOWED_COUNTRIES"   // default DefaultSMSAllowedCountries
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

	DefaultAppName             = "your app"
	DefaultSMSAllowedCountries = "US,CA,GB,DE,FR,AU,IE" // as package otp

	// DedupeTTL is how long a notified event is remembered (Cognito retries come within seconds).
	DedupeTTL = 24 * time.Hour

	MaxAppNameLength = 64        // characters
	MaxSubjectLength = 200       // characters, rendered
	MaxSMSLength     = 160       // characters, rendered: one GSM-7 segment
	MaxTemplateBytes = 32 << 10  // each template's source
	maxTemplatesJSON = 256 << 10 // NOTIFY_TEMPLATES_JSON
	maxLimits        = 5
	maxLimitWindow   = 31 * 24 * time.Hour
	maxLimitMax      = 100000
	maxCountries     = 300
)

// Config configures a Sender. The zero value of a field means its default.
type Config struct {
	// Events are the kinds to notify; empty turns notifications off.
	Events []Kind
	// Templates override DefaultTemplates per kind, field by field.
	Templates map[Kind]Templates
	// Timeout bounds one Notify call. Default 1 s, range 100 ms-4 s.
	Timeout time.Duration
	// LockedLimits caps account_locked notifications per account. Default 3 per 24 h.
	LockedLimits []store.Limit
	// LockedSMSLimits caps account_locked notifications by SMS for the whole deployment.
	// Default 20 per hour and 100 per 24 h.
	LockedSMSLimits []store.Limit

	// AppName names the application in messages. Default "your app"; at most 64 characters.
	AppName string
	// EmailFrom is the SES sender; empty sends no email (accounts with a verified phone number
	// get an SMS instead).
	EmailFrom string
	// EmailConfigurationSet is the SES configuration set (optional).
	EmailConfigurationSet string
	// SMSSenderID and SMSOriginationNumber are sent with every SMS, as for codes (optional).
	SMSSenderID          string
	SMSOriginationNumber string
	// SMSAllowedCountries limits SMS to these ISO 3166 region codes and calling-code prefixes,
	// as for codes. Default "US,CA,GB,DE,FR,AU,IE". Only numbers of a mobile kind get an SMS.
	SMSAllowedCountries []string
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
	if c.AppName == "" {
		c.AppName = DefaultAppName
	}
	if c.SMSAllowedCountries == nil {
		c.SMSAllowedCountries, _ = ParseCountries(DefaultSMSAllowedCountries)
	}
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
	if s := strings.TrimSpace(getenv(EnvTimeout)); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < MinTimeout || d > MaxTimeout {
			errs = append(errs, fmt.Errorf("%s=%q is not a duration in range %s-%s", EnvTimeout, shorten(s), MinTimeout, MaxTimeout))
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
	if s := strings.TrimSpace(getenv(EnvSMSAllowedCountries)); s != "" {
		if c.SMSAllowedCountries, err = ParseCountries(s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvSMSAllowedCountries, err))
		}
	}
	c.AppName = strings.TrimSpace(getenv(EnvAppName))
	c.EmailFrom = strings.TrimSpace(getenv(EnvEmailFrom))
	c.EmailConfigurationSet = strings.TrimSpace(getenv(EnvEmailConfigurationSet))
	c.SMSSenderID = strings.TrimSpace(getenv(EnvSMSSenderID))
	c.SMSOriginationNumber = strings.TrimSpace(getenv(EnvSMSOriginationNumber))
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

// ParseLimits parses "window:max,..." such as "1h:20,24h:100" (windows in Go duration syntax,
// whole seconds up to 31 days, distinct; 1-5 limits; max 1-100000).
func ParseLimits(s string) ([]store.Limit, error) {
	var out []store.Limit
	for part := range strings.SplitSeq(s, ",") {
		w, m, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return nil, fmt.Errorf("limit %q is not window:max", shorten(part))
		}
		d, err := time.ParseDuration(strings.TrimSpace(w))
		if err != nil {
			return nil, fmt.Errorf("limit %q: bad window", shorten(part))
		}
		n, err := strconv.Atoi(strings.TrimSpace(m))
		if err != nil {
			return nil, fmt.Errorf("limit %q: bad max", shorten(part))
		}
		out = append(out, store.Limit{Window: d, Max: n})
	}
	if err := checkLimits(out); err != nil {
		return nil, err
	}
	return out, nil
}

func checkLimits(l []store.Limit) error {
	if len(l) == 0 || len(l) > maxLimits {
		return fmt.Errorf("%d limits, want 1-%d", len(l), maxLimits)
	}
	seen := map[time.Duration]bool{}
	for _, x := range l {
		if x.Window < time.Second || x.Window > maxLimitWindow || x.Window%time.Second != 0 {
			return fmt.Errorf("limit window %s is not whole seconds in range 1s-%s", x.Window, maxLimitWindow)
		}
		if x.Max < 1 || x.Max > maxLimitMax {
			return fmt.Errorf("limit max %d out of range 1-%d", x.Max, maxLimitMax)
		}
		if seen[x.Window] {
			return fmt.Errorf("two limits with window %s", x.Window)
		}
		seen[x.Window] = true
	}
	return nil
}

var (
	countryRE  = regexp.MustCompile(`^\+[1-9][0-9]{0,5}$`)
	regionRE   = regexp.MustCompile(`^[A-Z]{2}$`)
	e164RE     = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	senderIDRE = regexp.MustCompile(`^[A-Za-z0-9]{1,11}$`)
	confSetRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// ParseCountries parses SMS_ALLOWED_COUNTRIES as package otp does: ISO 3166 region codes and
// calling-code prefixes, "US,CA,GB" or "+44,+1206".
func ParseCountries(s string) ([]string, error) {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		out = append(out, strings.TrimSpace(part))
	}
	if err := checkCountries(out); err != nil {
		return nil, err
	}
	return out, nil
}

func checkCountries(l []string) error {
	if len(l) == 0 || len(l) > maxCountries {
		return fmt.Errorf("%d SMS countries, want 1-%d", len(l), maxCountries)
	}
	for i, p := range l {
		switch {
		case regionRE.MatchString(p):
			if phone.CountryCodeFor(p) == 0 {
				return fmt.Errorf("SMS country %q is not a region code with a numbering plan", p)
			}
		case !countryRE.MatchString(p):
			return fmt.Errorf("SMS country %q is neither a region code (GB) nor + and 1-6 digits", shorten(p))
		}
		if slices.Contains(l[:i], p) {
			return fmt.Errorf("SMS country %q listed twice", p)
		}
	}
	return nil
}

// compiled are one kind's parsed templates.
type compiled struct {
	subject, text, html, sms *template
}

// Validate checks every field (after filling defaults), parses every template and renders it
// with sample values.
func (c Config) Validate() error {
	_, err := c.withDefaults().compile()
	return err
}

func (c Config) compile() (map[Kind]*compiled, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	seen := map[Kind]bool{}
	for _, k := range c.Events {
		if !k.Valid() {
			bad("unknown event kind %q", shorten(string(k)))
		} else if seen[k] {
			bad("event kind %q listed twice", k)
		}
		seen[k] = true
	}
	if c.Timeout < MinTimeout || c.Timeout > MaxTimeout {
		bad("timeout %s out of range %s-%s", c.Timeout, MinTimeout, MaxTimeout)
	}
	if err := checkLimits(c.LockedLimits); err != nil {
		bad("account_locked limits: %v", err)
	}
	if err := checkLimits(c.LockedSMSLimits); err != nil {
		bad("account_locked SMS limits: %v", err)
	}
	if err := checkCountries(c.SMSAllowedCountries); err != nil {
		bad("%v", err)
	}
	if c.EmailFrom != "" {
		if strings.ContainsAny(c.EmailFrom, "\r\n") {
			bad("email sender contains a line break")
		} else if _, err := mail.ParseAddress(c.EmailFrom); err != nil {
			bad("email sender is not an address")
		}
	}
	if c.EmailConfigurationSet != "" && !confSetRE.MatchString(c.EmailConfigurationSet) {
		bad("email configuration set name is not 1-64 letters, digits, - or _")
	}
	if c.SMSSenderID != "" && (!senderIDRE.MatchString(c.SMSSenderID) || !strings.ContainsFunc(c.SMSSenderID, unicode.IsLetter)) {
		bad("SMS sender ID is not 1-11 letters or digits with at least one letter")
	}
	if c.SMSOriginationNumber != "" && !e164RE.MatchString(c.SMSOriginationNumber) {
		bad("SMS origination number is not E.164")
	}
	if err := checkPlainText("app name", c.AppName, MaxAppNameLength); err != nil {
		errs = append(errs, err)
	}
	for k := range c.Templates {
		if !k.Valid() {
			bad("templates for unknown event kind %q", shorten(string(k)))
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
	if ct.sms, err = parseTemplate("sms", pick(over.SMS, def.SMS), false); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if ct.html == nil {
		ct.html = htmlFromText(ct.text)
	}
	for _, d := range sampleData(c.AppName) {
		subject := ct.subject.render(d)
		if strings.TrimSpace(subject) == "" {
			return nil, errors.New("subject renders empty")
		}
		if err := checkPlainText("subject", subject, MaxSubjectLength); err != nil {
			return nil, err
		}
		if strings.TrimSpace(ct.text.render(d)) == "" {
			return nil, errors.New("text renders empty")
		}
		if strings.TrimSpace(ct.html.render(d)) == "" {
			return nil, errors.New("html renders empty")
		}
		sms := ct.sms.render(d)
		if strings.TrimSpace(sms) == "" {
			return nil, errors.New("sms renders empty")
		}
		if n := utf8.RuneCountInString(sms); n > MaxSMSLength {
			return nil, fmt.Errorf("sms renders %d characters, more than %d", n, MaxSMSLength)
		}
	}
	return ct, nil
}

// sampleData are values to test-render with: the longest each field can render to, and the
// shortest.
func sampleData(appName string) []data {
	long := data{AppName: appName, Time: formatTime(time.Date(2030, 12, 31, 23, 59, 0, 0, time.UTC)), Detail: map[string]string{
		DetailMethod:     longestMethodLabel(),
		DetailKeyName:    strings.Repeat("W", maxKeyNameRunes) + "...",
		DetailCount:      strings.Repeat("9", maxCountDigits),
		DetailOldAddress: maskEmail("averyveryverylongname@example-domain.museum"),
		FieldNewAddress:  maskEmail("averyveryverylongname@example-domain.museum"),
		FieldContact:     contactLabel(""),
	}}
	short := data{AppName: appName, Time: formatTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)), Detail: map[string]string{
		DetailMethod: methodLabel("passkey"), DetailKeyName: noName, DetailCount: "1",
		DetailOldAddress: noAddress, FieldNewAddress: maskPhone("+447400123456"), FieldContact: contactLabel("phone_number"),
	}}
	return []data{long, short}
}

// checkPlainText accepts 1 to maxLen characters of valid UTF-8 without control characters.
func checkPlainText(name, s string, maxLen int) error {
	switch {
	case s == "":
		return fmt.Errorf("%s is empty", name)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", name)
	case utf8.RuneCountInString(s) > maxLen:
		return fmt.Errorf("%s is longer than %d characters", name, maxLen)
	case strings.ContainsFunc(s, unicode.IsControl):
		return fmt.Errorf("%s contains control characters", name)
	}
	return nil
}
