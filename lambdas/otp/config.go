package otp

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// Environment variables read by FromEnv. Unset or empty means the default.
const (
	EnvDigits              = "OTP_DIGITS"            // default 6, range 6-10
	EnvTTLSeconds          = "OTP_TTL_SECONDS"       // default 300, range 60-600
	EnvSendDelays          = "SEND_DELAYS"           // default DefaultSendDelays
	EnvSendDailyCap        = "SEND_DAILY_CAP"        // default 100
	EnvSMSUnverifiedLimits = "SMS_UNVERIFIED_LIMITS" // default DefaultSMSUnverifiedLimits
	EnvEmailSubject        = "EMAIL_SUBJECT"         // default DefaultEmailSubject
	EnvEmailTextTemplate   = "EMAIL_TEXT_TEMPLATE"   // default DefaultEmailTextTemplate
	EnvEmailHTMLTemplate   = "EMAIL_HTML_TEMPLATE"   // default DefaultEmailHTMLTemplate
	EnvSMSTemplate         = "SMS_TEMPLATE"          // default DefaultSMSTemplate
	EnvLocalesJSON         = "OTP_LOCALES_JSON"      // default none: {"es": {"emailSubject", "emailText", "emailHtml", "sms"}}

	// The sender settings, shared with every other sender (package delivery).
	EnvEmailFrom             = delivery.EnvEmailFrom             // required for email_otp
	EnvEmailConfigurationSet = delivery.EnvEmailConfigurationSet // optional SES configuration set
	EnvAppName               = delivery.EnvAppName               // default "your app"
	EnvSMSAllowedCountries   = delivery.EnvSMSAllowedCountries   // default DefaultSMSAllowedCountries
	EnvSMSSenderID           = delivery.EnvSMSSenderID           // optional AWS.SNS.SMS.SenderID
	EnvSMSOriginationNumber  = delivery.EnvSMSOriginationNumber  // optional AWS.MM.SMS.OriginationNumber

	// EnvSendLimits (SEND_LIMITS) is no longer read: SEND_DELAYS and SEND_DAILY_CAP replace it.
	//
	// Deprecated: kept until the construct stops setting it; FromEnv ignores it.
	EnvSendLimits = "SEND_LIMITS"
)

// Defaults and bounds.
const (
	DefaultDigits = 6
	DefaultTTL    = 5 * time.Minute
	MinTTL        = time.Minute
	// MaxTTL is the longest a code may live: never more than 10 minutes.
	MaxTTL = 10 * time.Minute

	// DefaultSendDelays are the waits before the 2nd, 3rd, 4th, 5th and every later code to one
	// recipient, after the previous one: a stranger can delay a user's next code by at most
	// the last (15 minutes).
	DefaultSendDelays = "60s,120s,240s,480s,900s"
	// DefaultSendDailyCap caps the codes to one recipient per 24 hours. The default delays
	// allow at most 99 in 24 hours, so only a user's own sign-ins (which reset the delays) can
	// reach it.
	DefaultSendDailyCap = 100
	// DefaultSMSUnverifiedLimits is the deployment-wide budget of SMS codes to numbers not yet
	// verified (fresh sign-ups): 20 an hour and 100 a day (fixed windows).
	DefaultSMSUnverifiedLimits = "1h:20,24h:100"
	DefaultAppName             = delivery.DefaultAppName

	// DefaultSendLimits was the default of SEND_LIMITS.
	//
	// Deprecated: see EnvSendLimits.
	DefaultSendLimits = "60s:1,24h:10"

	DefaultEmailSubject      = "Your {{.AppName}} sign-in code"
	DefaultEmailTextTemplate = "Your {{.AppName}} sign-in code is {{.Code}}\n\n" +
		"It expires in {{.Minutes}} minutes. If you did not try to sign in, ignore this email.\n" +
		"Never share this code with anyone.\n"
	DefaultEmailHTMLTemplate = delivery.HTMLHead + `<p>Your {{.AppName}} sign-in code is</p>
<p style="font-size:28px;font-weight:bold;letter-spacing:4px">{{.Code}}</p>
<p>It expires in {{.Minutes}} minutes. If you did not try to sign in, ignore this email.<br>
Never share this code with anyone.</p>
</body></html>
`
	DefaultSMSTemplate = "{{.Code}} is your {{.AppName}} code. It expires in {{.Minutes}} minutes."

	// The defaults without an application name, used when AppName is unset or
	// DefaultAppName ("your app"), so that no message reads "Your your app sign-in code".
	DefaultEmailSubjectNoName      = "Your sign-in code"
	DefaultEmailTextTemplateNoName = "Your sign-in code is {{.Code}}\n\n" +
		"It expires in {{.Minutes}} minutes. If you did not try to sign in, ignore this email.\n" +
		"Never share this code with anyone.\n"
	DefaultEmailHTMLTemplateNoName = delivery.HTMLHead + `<p>Your sign-in code is</p>
<p style="font-size:28px;font-weight:bold;letter-spacing:4px">{{.Code}}</p>
<p>It expires in {{.Minutes}} minutes. If you did not try to sign in, ignore this email.<br>
Never share this code with anyone.</p>
</body></html>
`
	DefaultSMSTemplateNoName = "{{.Code}} is your sign-in code. It expires in {{.Minutes}} minutes."

	// DefaultSMSAllowedCountries is deliberately short; see Config.SMSAllowedCountries: GB,
	// DE, FR, AU and IE, region codes, so that "GB" leaves out Guernsey, Jersey and the Isle of
	// Man (GG, JE, IM) that share +44. The United States and Canada need a registered
	// origination number (SMSOriginationNumber): list "US,CA" (not "+1", which takes in the
	// Caribbean) once you have one.
	DefaultSMSAllowedCountries = delivery.DefaultSMSAllowedCountries

	// MaxSMSLength is the characters of one SMS part in GSM-7. The rendered SMS template (with
	// the longest code) must be one SMS part as carriers count it (delivery.CountSMS): 160
	// GSM-7 characters (€ { } [ ] ~ \ | ^ count twice), or 70 as soon as one character is outside
	// GSM-7 (most accented letters, non-Latin scripts, emoji) and the SMS goes as UCS-2. Longer
	// messages are split and billed per part.
	MaxSMSLength = delivery.MaxSMSLength
	// MaxAppNameLength caps APP_NAME, in characters.
	MaxAppNameLength = delivery.MaxAppNameLength
	// MaxSubjectLength caps the rendered subject, in characters.
	MaxSubjectLength = delivery.MaxSubjectLength
	// MaxTemplateBytes caps each template's source.
	MaxTemplateBytes = delivery.MaxTemplateBytes

	// maxSendMax caps each limit of SMSUnverifiedLimits.
	maxSendMax = 1000
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
	// SendDelays are the minimum waits between codes to one recipient (email address or phone
	// number, normalised: see RecipientKey), across sign-ins: SendDelays[0] before the 2nd
	// code, SendDelays[1] before the 3rd, ..., the last one repeating. The first code goes at
	// once. The delays start again when the user signs in (SendReset) or after 24 hours
	// without a code. Default 60s, 120s, 240s, 480s, 900s; 1-20 delays of whole seconds, each
	// 1 s to 24 h.
	SendDelays []time.Duration
	// SendDailyCap caps the codes to one recipient in 24 hours (from the first of them; reset
	// with the delays). Default 100, range 1-10000.
	SendDailyCap int
	// SMSUnverifiedLimits is the deployment-wide budget of SMS codes to numbers that are not
	// verified yet (fresh sign-ups proving their number), per fixed window aligned to the Unix
	// epoch. Codes to verified numbers do not count and are sent when it is spent. Default
	// 20 per hour and 100 per 24 h; 1-5 limits with distinct windows of whole seconds up to 31
	// days, Max 1-1000.
	SMSUnverifiedLimits []store.Limit

	// SendLimits is ignored.
	//
	// Deprecated: replaced by SendDelays and SendDailyCap.
	SendLimits []store.Limit

	// EmailFrom is the SES sender, "no-reply@example.com" or "Example <no-reply@example.com>".
	// Required for email_otp; it must be an SES verified identity.
	EmailFrom string
	// EmailConfigurationSet is the SES configuration set to send with (optional).
	EmailConfigurationSet string
	// AppName names the application in messages. Default "your app" (DefaultAppName), which the
	// default templates leave out (the *NoName templates); at most 64 characters, no control
	// characters.
	AppName string
	// EmailSubject is a text/template for the subject (fields of TemplateData). It is shown in
	// notifications; putting .Code in it exposes the code on lock screens.
	EmailSubject string
	// EmailTextTemplate and EmailHTMLTemplate are the bodies: text/template and html/template
	// (autoescaped). Each must print .Code.
	EmailTextTemplate string
	EmailHTMLTemplate string
	// SMSTemplate is a text/template for the SMS text. It must print .Code and render, with the
	// longest code, to one SMS part: 160 GSM-7 characters, or 70 if any character is outside
	// GSM-7 (see MaxSMSLength).
	SMSTemplate string
	// Locales are templates per locale (lower-case language tags such as "es" or "pt-br", at
	// most delivery.MaxLocales). The locale of a message is the ClientMetadata key "locale" of
	// the round, else the user's attribute "locale", normalised ("es-MX" and "es_mx" find "es");
	// an unknown or malformed locale takes the templates above. An empty field of a locale takes
	// the template above. Default none.
	Locales map[string]LocaleTemplates

	// SMSAllowedCountries lists where SMS codes may be sent: ISO 3166 region codes ("GB", the
	// region of the number's numbering plan, as libphonenumber gives it) and/or calling-code
	// prefixes of the E.164 form ("+44", or narrower such as "+1206"). Default
	// "GB,DE,FR,AU,IE" (US and Canadian carriers drop SMS without a registered origination
	// number: add "US,CA" with SMSOriginationNumber). Whatever the list, only numbers of a mobile kind are sent to
	// (libphonenumber type MOBILE or FIXED_LINE_OR_MOBILE): premium-rate, shared-cost,
	// toll-free, VoIP, pager, personal, UAN and unknown numbers are refused.
	//
	// SMS pumping (artificially inflated traffic): attackers start sign-ins for phone numbers
	// they control at premium-rate or colluding carriers and are paid per message delivered, at
	// your expense. Every entry widens that attack surface; list only the countries your users
	// are in. A prefix "+1" is the whole North American Numbering Plan, with Caribbean
	// countries that are frequent pumping targets; the region codes "US,CA" are not. Set an SNS
	// monthly spend limit as well; SMSUnverifiedLimits bounds what fresh sign-ups can cost.
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
	if c.SendDelays == nil {
		c.SendDelays, _ = ParseDelays(DefaultSendDelays)
	}
	if c.SendDailyCap == 0 {
		c.SendDailyCap = DefaultSendDailyCap
	}
	if c.SMSUnverifiedLimits == nil {
		c.SMSUnverifiedLimits, _ = ParseLimits(DefaultSMSUnverifiedLimits)
	}
	named := HasAppName(c.AppName)
	c.setSender(c.Sender().WithDefaults())
	if c.EmailSubject == "" {
		c.EmailSubject = pick(named, DefaultEmailSubject, DefaultEmailSubjectNoName)
	}
	if c.EmailTextTemplate == "" {
		c.EmailTextTemplate = pick(named, DefaultEmailTextTemplate, DefaultEmailTextTemplateNoName)
	}
	if c.EmailHTMLTemplate == "" {
		c.EmailHTMLTemplate = pick(named, DefaultEmailHTMLTemplate, DefaultEmailHTMLTemplateNoName)
	}
	if c.SMSTemplate == "" {
		c.SMSTemplate = defaultSMS(c.AppName)
	}
	return c
}

// HasAppName reports whether name is an application name of its own: not empty and not
// DefaultAppName. Without one the default templates leave the name out.
func HasAppName(name string) bool { return delivery.HasAppName(name) }

// defaultSMS is the default SMS template for appName: DefaultSMSTemplate when the app has a
// name and, with that name, the longest code (10 digits) and lifetime (10 minutes), it renders
// as one SMS part; else DefaultSMSTemplateNoName. A name with a character outside GSM-7 makes
// the SMS UCS-2, 70 characters in one part: a longer name is left out rather than have every
// code billed as two or three parts.
func defaultSMS(appName string) string {
	if !HasAppName(appName) {
		return DefaultSMSTemplateNoName
	}
	out := strings.NewReplacer("{{.Code}}", "0123456789", "{{.AppName}}", appName, "{{.Minutes}}", "10").Replace(DefaultSMSTemplate)
	if delivery.SMSParts(out) > 1 {
		return DefaultSMSTemplateNoName
	}
	return DefaultSMSTemplate
}

func pick(named bool, withName, noName string) string {
	if named {
		return withName
	}
	return noName
}

// LocaleTemplates are the templates of one locale (see Config.Locales); an empty field takes
// the Config's template.
type LocaleTemplates struct {
	EmailSubject string `json:"emailSubject,omitempty"`
	EmailText    string `json:"emailText,omitempty"`
	EmailHTML    string `json:"emailHtml,omitempty"`
	SMS          string `json:"sms,omitempty"`
}

// ParseLocalesJSON parses OTP_LOCALES_JSON: an object whose members are locale tags, each an
// object of LocaleTemplates fields. Unknown fields are errors.
func ParseLocalesJSON(s string) (map[string]LocaleTemplates, error) {
	var out map[string]LocaleTemplates
	if err := delivery.DecodeLocalesJSON(s, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Sender returns c's sender settings (AppName, EmailFrom, EmailConfigurationSet, the SMS
// settings), as the other senders to the user's addresses share them.
func (c Config) Sender() delivery.Settings {
	return delivery.Settings{AppName: c.AppName, EmailFrom: c.EmailFrom, EmailConfigurationSet: c.EmailConfigurationSet,
		SMSSenderID: c.SMSSenderID, SMSOriginationNumber: c.SMSOriginationNumber, SMSAllowedCountries: c.SMSAllowedCountries}
}

func (c *Config) setSender(s delivery.Settings) {
	c.AppName, c.EmailFrom, c.EmailConfigurationSet = s.AppName, s.EmailFrom, s.EmailConfigurationSet
	c.SMSSenderID, c.SMSOriginationNumber, c.SMSAllowedCountries = s.SMSSenderID, s.SMSOriginationNumber, s.SMSAllowedCountries
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
	if s := strings.TrimSpace(getenv(EnvSendDelays)); s != "" {
		l, err := ParseDelays(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvSendDelays, err))
		}
		c.SendDelays = l
	}
	if s := strings.TrimSpace(getenv(EnvSendDailyCap)); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > store.MaxSendDailyCap {
			errs = append(errs, fmt.Errorf("%s=%q is not an integer in range 1-%d", EnvSendDailyCap, s, store.MaxSendDailyCap))
		}
		c.SendDailyCap = n
	}
	if s := strings.TrimSpace(getenv(EnvSMSUnverifiedLimits)); s != "" {
		l, err := ParseLimits(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvSMSUnverifiedLimits, err))
		}
		c.SMSUnverifiedLimits = l
	}
	sender, err := delivery.SettingsFromEnv(getenv)
	if err != nil {
		errs = append(errs, err)
	}
	c.setSender(sender)
	c.EmailSubject = getenv(EnvEmailSubject)
	c.EmailTextTemplate = getenv(EnvEmailTextTemplate)
	c.EmailHTMLTemplate = getenv(EnvEmailHTMLTemplate)
	c.SMSTemplate = getenv(EnvSMSTemplate)
	if s := strings.TrimSpace(getenv(EnvLocalesJSON)); s != "" {
		l, err := ParseLocalesJSON(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvLocalesJSON, err))
		}
		c.Locales = l
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("otp: %w", errors.Join(errs...))
	}
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// ParseDelays parses a comma-separated list of durations in Go syntax, "60s,2m,1h".
func ParseDelays(s string) ([]time.Duration, error) {
	var out []time.Duration
	for part := range strings.SplitSeq(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("send delay %q: %v", part, err)
		}
		out = append(out, d)
	}
	if err := checkDelays(out); err != nil {
		return nil, err
	}
	return out, nil
}

func checkDelays(l []time.Duration) error {
	return (store.SendSchedule{Delays: l, DailyCap: 1}).Check()
}

// ParseLimits parses "window:max,..." such as "1h:20,24h:100" (windows in Go duration syntax,
// whole seconds up to 31 days, distinct; 1-5 limits; max 1-1000).
func ParseLimits(s string) ([]store.Limit, error) { return delivery.ParseLimits(s, maxSendMax) }

// ParseCountries parses a comma-separated list of ISO 3166 region codes and calling-code
// prefixes such as "GB,DE" or "+44,+1206".
func ParseCountries(s string) ([]string, error) { return delivery.ParseCountries(s) }

// IsE164 reports whether s is an E.164 phone number: + and 7 to 15 digits, no leading zero.
func IsE164(s string) bool { return delivery.IsE164(s) }

// templates are a Config's compiled templates.
type templates struct {
	subject *delivery.Template
	text    *delivery.Template
	html    *delivery.Template
	sms     *delivery.Template
	minutes int
	// locales are the templates per locale tag.
	locales map[string]*templates
}

// forLocale returns the templates of the first of the candidate locales (ClientMetadata, then
// attribute) that is configured (delivery.PickLocale), else t, and the locale chosen ("" for
// the default).
func (t *templates) forLocale(candidates ...string) (*templates, string) {
	return delivery.ForLocale(t.locales, t, candidates...)
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
	if err := (store.SendSchedule{Delays: c.SendDelays, DailyCap: c.SendDailyCap}).Check(); err != nil {
		bad("%v", err)
	}
	if err := delivery.CheckLimits(c.SMSUnverifiedLimits, maxSendMax); err != nil {
		bad("SMS unverified limits: %v", err)
	}
	if err := c.Sender().Check(); err != nil {
		errs = append(errs, err)
	}
	t := &templates{minutes: max(1, int(c.TTL/time.Minute))}
	var err error
	if t.subject, err = parseTemplate("email subject", c.EmailSubject, false); err != nil {
		errs = append(errs, err)
	}
	if t.text, err = parseTemplate("email text template", c.EmailTextTemplate, false); err != nil {
		errs = append(errs, err)
	}
	if t.html, err = parseTemplate("email HTML template", c.EmailHTMLTemplate, true); err != nil {
		errs = append(errs, err)
	}
	if t.sms, err = parseTemplate("SMS template", c.SMSTemplate, false); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		errs = append(errs, t.check(c))
	}
	if len(c.Locales) > 0 && errors.Join(errs...) == nil {
		errs = append(errs, c.compileLocales(t))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("otp: config: %w", err)
	}
	return t, nil
}

// compileLocales compiles and checks the templates of every locale into t.locales: each
// locale's empty fields take the configured template.
func (c Config) compileLocales(t *templates) error {
	var err error
	t.locales, err = delivery.CompileLocales(c.Locales, func(l LocaleTemplates) (*templates, error) {
		lc := c
		lc.Locales = nil
		lc.EmailSubject = cmp.Or(l.EmailSubject, c.EmailSubject)
		lc.EmailTextTemplate = cmp.Or(l.EmailText, c.EmailTextTemplate)
		lc.EmailHTMLTemplate = cmp.Or(l.EmailHTML, c.EmailHTMLTemplate)
		lc.SMSTemplate = cmp.Or(l.SMS, c.SMSTemplate)
		return lc.compile()
	})
	return err
}

// check renders every template with sample codes of the configured length.
func (t *templates) check(c Config) error {
	var errs []error
	for _, code := range []string{"0123456789"[:c.Digits], "9876543210"[:c.Digits]} {
		d := TemplateData{Code: code, AppName: c.AppName, Minutes: t.minutes}
		subject := d.render(t.subject)
		if strings.TrimSpace(subject) == "" {
			errs = append(errs, errors.New("email subject renders empty"))
		} else if err := delivery.CheckPlainText("email subject", subject, MaxSubjectLength); err != nil {
			errs = append(errs, err)
		}
		for _, x := range []struct {
			name string
			tmpl *delivery.Template
		}{{"email text template", t.text}, {"email HTML template", t.html}, {"SMS template", t.sms}} {
			out := d.render(x.tmpl)
			if !strings.Contains(out, code) {
				errs = append(errs, fmt.Errorf("%s does not print {{.Code}}", x.name))
			}
			if x.name == "SMS template" {
				if err := delivery.CheckSMSOnePart("SMS template", out); err != nil {
					errs = append(errs, err)
				}
			}
		}
		if len(errs) > 0 {
			break
		}
	}
	return errors.Join(errs...)
}
