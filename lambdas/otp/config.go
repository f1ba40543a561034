package otp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/passwordless-go/cognito/lambdas/store"
)

// Environment variables read by FromEnv. Unset or empty means the default.
const (
	EnvDigits                = "OTP_DIGITS"              // default 6, range 6-10
	EnvTTLSeconds            = "OTP_TTL_SECONDS"         // default 300, range 60-600
	EnvSendLimits            = "SEND_LIMITS"             // default "60s:1,24h:10"
	EnvEmailFrom             = "EMAIL_FROM"              // required for email_otp
	EnvEmailConfigurationSet = "EMAIL_CONFIGURATION_SET" // optional SES configuration set
	EnvAppName               = "APP_NAME"                // default "your app"
	EnvEmailSubject          = "EMAIL_SUBJECT"           // default DefaultEmailSubject
	EnvEmailTextTemplate     = "EMAIL_TEXT_TEMPLATE"     // default DefaultEmailTextTemplate
	EnvEmailHTMLTemplate     = "EMAIL_HTML_TEMPLATE"     // default DefaultEmailHTMLTemplate
	EnvSMSTemplate           = "SMS_TEMPLATE"            // default DefaultSMSTemplate
	EnvSMSAllowedCountries   = "SMS_ALLOWED_COUNTRIES"   // default DefaultSMSAllowedCountries
	EnvSMSSenderID           = "SMS_SENDER_ID"           // optional AWS.SNS.SMS.SenderID
	EnvSMSOriginationNumber  = "SMS_ORIGINATION_NUMBER"  // optional AWS.MM.SMS.OriginationNumber
)

// Defaults and bounds.
const (
	DefaultDigits = 6
	DefaultTTL    = 5 * time.Minute
	MinTTL        = time.Minute
	// MaxTTL is the longest a code may live: never more than 10 minutes.
	MaxTTL = 10 * time.Minute

	DefaultSendLimits = "60s:1,24h:10"
	DefaultAppName    = "your app"

	DefaultEmailSubject      = "Your {{.AppName}} sign-in code"
	DefaultEmailTextTemplate = "Your {{.AppName}} sign-in code is {{.Code}}\n\n" +
		"It expires in {{.Minutes}} minutes. If you did not try to sign in, ignore this email.\n" +
		"Never share this code with anyone.\n"
	DefaultEmailHTMLTemplate = `<!DOCTYPE html>
<html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#222">
<p>Your {{.AppName}} sign-in code is</p>
<p style="font-size:28px;font-weight:bold;letter-spacing:4px">{{.Code}}</p>
<p>It expires in {{.Minutes}} minutes. If you did not try to sign in, ignore this email.<br>
Never share this code with anyone.</p>
</body></html>
`
	DefaultSMSTemplate = "{{.Code}} is your {{.AppName}} code. It expires in {{.Minutes}} minutes."

	// DefaultSMSAllowedCountries is deliberately short; see Config.SMSAllowedCountries.
	DefaultSMSAllowedCountries = "+1,+44,+49,+33,+61,+353"

	// MaxSMSLength caps the rendered SMS (with the longest code) at one GSM-7 segment. Longer
	// messages are split and billed per segment.
	MaxSMSLength = 160
	// MaxAppNameLength caps APP_NAME, in characters.
	MaxAppNameLength = 64
	// MaxSubjectLength caps the rendered subject, in characters.
	MaxSubjectLength = 200
	// MaxTemplateBytes caps each template's source.
	MaxTemplateBytes = 32 << 10

	maxSendLimits = 5
	maxSendWindow = 31 * 24 * time.Hour
	maxSendMax    = 1000
)

// TemplateData is what the subject, email and SMS templates see.
type TemplateData struct {
	Code    string // the one-time code
	AppName string // Config.AppName
	Minutes int    // Config.TTL in whole minutes (at least 1)
}

// Config configures the Issuer and the Checker. The zero value of a field means its default, so
// Config{} is valid (but sends no email: EmailFrom has no default).
type Config struct {
	// Digits is the code length. Default 6, range 6-10.
	Digits int
	// TTL is how long a code is valid. Default 5 minutes, range 1-10 minutes, whole seconds.
	TTL time.Duration
	// SendLimits caps the codes sent to one recipient (email address or phone number) per fixed
	// window, across sign-ins. Default: 1 per 60 s and 10 per 24 h. At most 5 limits with
	// distinct windows of whole seconds up to 31 days; Max 1-1000.
	SendLimits []store.Limit

	// EmailFrom is the SES sender, "no-reply@example.com" or "Example <no-reply@example.com>".
	// Required for email_otp; it must be an SES verified identity.
	EmailFrom string
	// EmailConfigurationSet is the SES configuration set to send with (optional).
	EmailConfigurationSet string
	// AppName names the application in messages. Default "your app"; at most 64 characters,
	// no control characters.
	AppName string
	// EmailSubject is a text/template for the subject (fields of TemplateData). It is shown in
	// notifications; putting .Code in it exposes the code on lock screens.
	EmailSubject string
	// EmailTextTemplate and EmailHTMLTemplate are the bodies: text/template and html/template
	// (autoescaped). Each must print .Code.
	EmailTextTemplate string
	EmailHTMLTemplate string
	// SMSTemplate is a text/template for the SMS text. It must print .Code and render to at most
	// MaxSMSLength characters.
	SMSTemplate string

	// SMSAllowedCountries lists the calling-code prefixes ("+44", or narrower such as "+1206")
	// that SMS codes may be sent to. Default "+1,+44,+49,+33,+61,+353".
	//
	// SMS pumping (artificially inflated traffic): attackers start sign-ins for phone numbers
	// they control at premium-rate or colluding carriers and are paid per message delivered, at
	// your expense. Every prefix widens that attack surface; list only the countries your users
	// are in, and prefer narrow prefixes. Note that "+1" is the whole North American Numbering
	// Plan, which includes Caribbean countries that are frequent pumping targets; list "+1" only
	// if you need it (or narrow it to area codes). Set an SNS monthly spend limit as well.
	SMSAllowedCountries []string
	// SMSSenderID is the optional alphanumeric sender ID (1-11 letters or digits, at least one
	// letter), sent as AWS.SNS.SMS.SenderID where the destination country supports it.
	SMSSenderID string
	// SMSOriginationNumber is the optional E.164 origination number, sent as
	// AWS.MM.SMS.OriginationNumber.
	SMSOriginationNumber string
}

// DefaultConfig returns the defaults (EmailFrom empty).
func DefaultConfig() Config { return Config{}.withDefaults() }

func (c Config) withDefaults() Config {
	if c.Digits == 0 {
		c.Digits = DefaultDigits
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.SendLimits == nil {
		c.SendLimits, _ = ParseSendLimits(DefaultSendLimits)
	}
	if c.AppName == "" {
		c.AppName = DefaultAppName
	}
	if c.EmailSubject == "" {
		c.EmailSubject = DefaultEmailSubject
	}
	if c.EmailTextTemplate == "" {
		c.EmailTextTemplate = DefaultEmailTextTemplate
	}
	if c.EmailHTMLTemplate == "" {
		c.EmailHTMLTemplate = DefaultEmailHTMLTemplate
	}
	if c.SMSTemplate == "" {
		c.SMSTemplate = DefaultSMSTemplate
	}
	if c.SMSAllowedCountries == nil {
		c.SMSAllowedCountries, _ = ParseCountries(DefaultSMSAllowedCountries)
	}
	return c
}

// FromEnv reads the Config from the environment through getenv (os.Getenv when nil); see the
// Env constants. Unset or empty variables take their defaults (filled in the result); any bad
// value is an error, so a misconfigured function fails at start-up rather than at the first
// sign-in.
func FromEnv(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var c Config
	var errs []error
	if s := strings.TrimSpace(getenv(EnvDigits)); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < MinDigits || n > MaxDigits {
			errs = append(errs, fmt.Errorf("%s=%q is not an integer in range %d-%d", EnvDigits, s, MinDigits, MaxDigits))
		}
		c.Digits = n
	}
	if s := strings.TrimSpace(getenv(EnvTTLSeconds)); s != "" {
		n, err := strconv.Atoi(s)
		lo, hi := int(MinTTL/time.Second), int(MaxTTL/time.Second)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%s=%q is not an integer in range %d-%d", EnvTTLSeconds, s, lo, hi))
		}
		c.TTL = time.Duration(n) * time.Second
	}
	if s := strings.TrimSpace(getenv(EnvSendLimits)); s != "" {
		l, err := ParseSendLimits(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvSendLimits, err))
		}
		c.SendLimits = l
	}
	if s := strings.TrimSpace(getenv(EnvSMSAllowedCountries)); s != "" {
		l, err := ParseCountries(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvSMSAllowedCountries, err))
		}
		c.SMSAllowedCountries = l
	}
	c.EmailFrom = strings.TrimSpace(getenv(EnvEmailFrom))
	c.EmailConfigurationSet = strings.TrimSpace(getenv(EnvEmailConfigurationSet))
	c.AppName = strings.TrimSpace(getenv(EnvAppName))
	c.EmailSubject = getenv(EnvEmailSubject)
	c.EmailTextTemplate = getenv(EnvEmailTextTemplate)
	c.EmailHTMLTemplate = getenv(EnvEmailHTMLTemplate)
	c.SMSTemplate = getenv(EnvSMSTemplate)
	c.SMSSenderID = strings.TrimSpace(getenv(EnvSMSSenderID))
	c.SMSOriginationNumber = strings.TrimSpace(getenv(EnvSMSOriginationNumber))
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("otp: %w", errors.Join(errs...))
	}
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// ParseSendLimits parses "window:max,..." such as "60s:1,24h:10" (windows in Go duration syntax).
func ParseSendLimits(s string) ([]store.Limit, error) {
	var out []store.Limit
	for part := range strings.SplitSeq(s, ",") {
		w, m, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return nil, fmt.Errorf("send limit %q is not window:max", part)
		}
		d, err := time.ParseDuration(strings.TrimSpace(w))
		if err != nil {
			return nil, fmt.Errorf("send limit %q: bad window: %v", part, err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(m))
		if err != nil {
			return nil, fmt.Errorf("send limit %q: bad max", part)
		}
		out = append(out, store.Limit{Window: d, Max: n})
	}
	if err := checkSendLimits(out); err != nil {
		return nil, err
	}
	return out, nil
}

func checkSendLimits(l []store.Limit) error {
	if len(l) == 0 || len(l) > maxSendLimits {
		return fmt.Errorf("%d send limits, want 1-%d", len(l), maxSendLimits)
	}
	seen := map[time.Duration]bool{}
	for _, x := range l {
		if x.Window < time.Second || x.Window > maxSendWindow || x.Window%time.Second != 0 {
			return fmt.Errorf("send limit window %s is not whole seconds in range 1s-%s", x.Window, maxSendWindow)
		}
		if x.Max < 1 || x.Max > maxSendMax {
			return fmt.Errorf("send limit max %d out of range 1-%d", x.Max, maxSendMax)
		}
		if seen[x.Window] {
			return fmt.Errorf("two send limits with window %s", x.Window)
		}
		seen[x.Window] = true
	}
	return nil
}

var (
	countryRE  = regexp.MustCompile(`^\+[1-9][0-9]{0,5}$`)
	e164RE     = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	senderIDRE = regexp.MustCompile(`^[A-Za-z0-9]{1,11}$`)
	confSetRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// ParseCountries parses a comma-separated list of calling-code prefixes such as "+1,+44".
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
	if len(l) == 0 {
		return errors.New("no SMS country prefixes")
	}
	seen := map[string]bool{}
	for _, p := range l {
		if !countryRE.MatchString(p) {
			return fmt.Errorf("SMS country prefix %q is not + and 1-6 digits", p)
		}
		if seen[p] {
			return fmt.Errorf("SMS country prefix %q listed twice", p)
		}
		seen[p] = true
	}
	return nil
}

// IsE164 reports whether s is an E.164 phone number: + and 7 to 15 digits, no leading zero.
func IsE164(s string) bool { return e164RE.MatchString(s) }

// templates are a Config's compiled templates.
type templates struct {
	subject *template
	text    *template
	html    *template
	sms     *template
	minutes int
}

// Validate checks every field (after filling defaults) and compiles and test-renders the
// templates: each body must print .Code.
func (c Config) Validate() error {
	_, err := c.withDefaults().compile()
	return err
}

func (c Config) compile() (*templates, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Digits < MinDigits || c.Digits > MaxDigits {
		bad("digits %d out of range %d-%d", c.Digits, MinDigits, MaxDigits)
	}
	if c.TTL < MinTTL || c.TTL > MaxTTL || c.TTL%time.Second != 0 {
		bad("code lifetime %s is not whole seconds in range %s-%s", c.TTL, MinTTL, MaxTTL)
	}
	if err := checkSendLimits(c.SendLimits); err != nil {
		bad("%v", err)
	}
	if err := checkCountries(c.SMSAllowedCountries); err != nil {
		bad("%v", err)
	}
	if c.EmailFrom != "" {
		if strings.ContainsAny(c.EmailFrom, "\r\n") {
			bad("email sender contains a line break")
		} else if _, err := mail.ParseAddress(c.EmailFrom); err != nil {
			bad("email sender is not an address: %v", err)
		}
	}
	if c.EmailConfigurationSet != "" && !confSetRE.MatchString(c.EmailConfigurationSet) {
		bad("email configuration set name %q is not 1-64 letters, digits, - or _", c.EmailConfigurationSet)
	}
	if err := checkPlainText("app name", c.AppName, MaxAppNameLength); err != nil {
		bad("%v", err)
	}
	if c.SMSSenderID != "" && (!senderIDRE.MatchString(c.SMSSenderID) || !strings.ContainsFunc(c.SMSSenderID, unicode.IsLetter)) {
		bad("SMS sender ID %q is not 1-11 letters or digits with at least one letter", c.SMSSenderID)
	}
	if c.SMSOriginationNumber != "" && !IsE164(c.SMSOriginationNumber) {
		bad("SMS origination number is not E.164")
	}
	t := &templates{minutes: max(1, int(c.TTL/time.Minute))}
	var err error
	if t.subject, err = parseText("email subject", c.EmailSubject); err != nil {
		errs = append(errs, err)
	}
	if t.text, err = parseText("email text template", c.EmailTextTemplate); err != nil {
		errs = append(errs, err)
	}
	if t.html, err = parseHTML("email HTML template", c.EmailHTMLTemplate); err != nil {
		errs = append(errs, err)
	}
	if t.sms, err = parseText("SMS template", c.SMSTemplate); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		errs = append(errs, t.check(c))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("otp: config: %w", err)
	}
	return t, nil
}

// check renders every template with sample codes of the configured length.
func (t *templates) check(c Config) error {
	var errs []error
	for _, code := range []string{"0123456789"[:c.Digits], "9876543210"[:c.Digits]} {
		d := TemplateData{Code: code, AppName: c.AppName, Minutes: t.minutes}
		subject, err := t.render(t.subject, d)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("email subject: %w", err))
		case strings.TrimSpace(subject) == "":
			errs = append(errs, errors.New("email subject renders empty"))
		default:
			if err := checkPlainText("email subject", subject, MaxSubjectLength); err != nil {
				errs = append(errs, err)
			}
		}
		for _, x := range []struct {
			name string
			tmpl interface {
				Execute(w io.Writer, data any) error
			}
		}{{"email text template", t.text}, {"email HTML template", t.html}, {"SMS template", t.sms}} {
			out, err := t.render(x.tmpl, d)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", x.name, err))
				continue
			}
			if !strings.Contains(out, code) {
				errs = append(errs, fmt.Errorf("%s does not print {{.Code}}", x.name))
			}
			if x.name == "SMS template" && utf8.RuneCountInString(out) > MaxSMSLength {
				errs = append(errs, fmt.Errorf("SMS template renders %d characters, more than %d", utf8.RuneCountInString(out), MaxSMSLength))
			}
		}
		if len(errs) > 0 {
			break
		}
	}
	return errors.Join(errs...)
}

func (t *templates) render(tmpl interface {
	Execute(w io.Writer, data any) error
}, d TemplateData) (string, error) {
	var b bytes.Buffer
	if err := tmpl.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

func parseText(name, src string) (*template, error) { return parseTemplate(name, src, false) }

func parseHTML(name, src string) (*template, error) { return parseTemplate(name, src, true) }

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
