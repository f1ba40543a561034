package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/passwordless-go/cognito/lambdas/awsapi"
)

// Environment variables of the sender settings, read by SettingsFromEnv. Unset or empty means
// the default.
const (
	EnvAppName               = "APP_NAME"                // default "your app"
	EnvEmailFrom             = "EMAIL_FROM"              // no default: empty sends no email
	EnvEmailConfigurationSet = "EMAIL_CONFIGURATION_SET" // optional SES configuration set
	EnvSMSSenderID           = "SMS_SENDER_ID"           // optional AWS.SNS.SMS.SenderID
	EnvSMSOriginationNumber  = "SMS_ORIGINATION_NUMBER"  // optional AWS.MM.SMS.OriginationNumber
	EnvSMSAllowedCountries   = "SMS_ALLOWED_COUNTRIES"   // default DefaultSMSAllowedCountries
)

// Defaults and bounds of the sender settings and of messages.
const (
	DefaultAppName = "your app"
	// DefaultSMSAllowedCountries is deliberately short (see Settings.SMSAllowedCountries):
	// region codes, so that "GB" leaves out Guernsey, Jersey and the Isle of Man (GG, JE, IM)
	// that share +44. The United States and Canada are not in it: carriers there drop SMS
	// without a registered origination number (10DLC or toll-free), and +1 also reaches the
	// Caribbean countries that are frequent SMS-pumping targets.
	DefaultSMSAllowedCountries = "GB,DE,FR,AU,IE"

	// MaxAppNameLength caps APP_NAME, in characters.
	MaxAppNameLength = 64
	// MaxSubjectLength caps a rendered email subject, in characters.
	MaxSubjectLength = 200
	// MaxSMSLength is one SMS part in GSM-7 characters. A rendered SMS must be one part as
	// carriers count it (CheckSMSOnePart): 160 GSM-7 characters, or 70 once one character is
	// outside GSM-7 (UCS-2); longer messages are split and billed per part.
	MaxSMSLength = 160
	// MaxTemplateBytes caps each template's source.
	MaxTemplateBytes = 32 << 10
	// MaxCountries caps the entries of SMS_ALLOWED_COUNTRIES.
	MaxCountries = 300
)

// Delivery media, as published to clients and logged.
const (
	MediumEmail = "EMAIL"
	MediumSMS   = "SMS"
)

// Cognito user attributes holding a user's contact addresses.
const (
	AttrEmail               = "email"
	AttrEmailVerified       = "email_verified"
	AttrPhoneNumber         = "phone_number"
	AttrPhoneNumberVerified = "phone_number_verified"
)

// EmailSender sends an email (SES v2 SendEmail; *awsapi.Client).
type EmailSender interface {
	SendEmail(ctx context.Context, in *awsapi.SendEmailInput) error
}

// SMSSender sends an SMS (SNS Publish; *awsapi.Client).
type SMSSender interface {
	Publish(ctx context.Context, in *awsapi.PublishInput) error
}

var (
	_ EmailSender = (*awsapi.Client)(nil)
	_ SMSSender   = (*awsapi.Client)(nil)
)

// Settings are the sender settings every message to a user goes with. The zero value of a field
// means its default (see WithDefaults).
type Settings struct {
	// AppName names the application in messages. Default "your app" (DefaultAppName), which
	// the default templates leave out (see HasAppName); 1-64 characters, no control characters.
	AppName string
	// EmailFrom is the SES sender, "no-reply@example.com" or "Example <no-reply@example.com>",
	// an SES verified identity. No default: empty sends no email.
	EmailFrom string
	// EmailConfigurationSet is the SES configuration set to send with (optional; 1-64 letters,
	// digits, - or _).
	EmailConfigurationSet string
	// SMSSenderID is the optional alphanumeric sender ID (1-11 letters or digits, at least one
	// letter), sent as AWS.SNS.SMS.SenderID where the destination country supports it.
	SMSSenderID string
	// SMSOriginationNumber is the optional E.164 origination number, sent as
	// AWS.MM.SMS.OriginationNumber (required by carriers in the US and Canada).
	SMSOriginationNumber string
	// SMSAllowedCountries lists where SMS may be sent: ISO 3166 region codes ("GB", the region
	// of the number's numbering plan, as libphonenumber gives it) and/or calling-code prefixes
	// of the E.164 form ("+44", or narrower such as "+1206"). Default DefaultSMSAllowedCountries
	// ("GB,DE,FR,AU,IE"); 1-300 distinct entries. Whatever the list, only numbers of a mobile
	// kind are sent to (see SMSNumber).
	//
	// SMS pumping (artificially inflated traffic): attackers start sign-ins for numbers they
	// control at premium-rate or colluding carriers and are paid per message delivered, at your
	// expense. Every entry widens that attack surface; list only the countries your users are
	// in. A prefix "+1" is the whole North American Numbering Plan, with Caribbean countries
	// that are frequent pumping targets; the region codes "US,CA" are not.
	SMSAllowedCountries []string
}

// HasAppName reports whether name is an application name of its own: not empty and not
// DefaultAppName. Without one the default templates leave the name out, so that no message
// reads "Your your app sign-in code"; a template of the user's own prints DefaultAppName.
func HasAppName(name string) bool { return name != "" && name != DefaultAppName }

// SettingsFromEnv reads the Settings through getenv (os.Getenv when nil), trimmed, without
// defaults. A malformed SMS_ALLOWED_COUNTRIES is an error naming the variable; everything else
// is checked by Check.
func SettingsFromEnv(getenv func(string) string) (Settings, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	s := Settings{
		AppName:               strings.TrimSpace(getenv(EnvAppName)),
		EmailFrom:             strings.TrimSpace(getenv(EnvEmailFrom)),
		EmailConfigurationSet: strings.TrimSpace(getenv(EnvEmailConfigurationSet)),
		SMSSenderID:           strings.TrimSpace(getenv(EnvSMSSenderID)),
		SMSOriginationNumber:  strings.TrimSpace(getenv(EnvSMSOriginationNumber)),
	}
	if v := strings.TrimSpace(getenv(EnvSMSAllowedCountries)); v != "" {
		l, err := ParseCountries(v)
		if err != nil {
			return s, fmt.Errorf("%s: %w", EnvSMSAllowedCountries, err)
		}
		s.SMSAllowedCountries = l
	}
	return s, nil
}

// WithDefaults returns s with the defaults of AppName and SMSAllowedCountries filled in.
func (s Settings) WithDefaults() Settings {
	if s.AppName == "" {
		s.AppName = DefaultAppName
	}
	if s.SMSAllowedCountries == nil {
		s.SMSAllowedCountries, _ = ParseCountries(DefaultSMSAllowedCountries)
	}
	return s
}

var (
	senderIDRE = regexp.MustCompile(`^[A-Za-z0-9]{1,11}$`)
	confSetRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// Check checks every field as it is (call WithDefaults first: an empty AppName or
// SMSAllowedCountries is an error) and returns all problems joined, or nil.
func (s Settings) Check() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := CheckCountries(s.SMSAllowedCountries); err != nil {
		errs = append(errs, err)
	}
	if s.EmailFrom != "" {
		if strings.ContainsAny(s.EmailFrom, "\r\n") {
			bad("email sender contains a line break")
		} else if _, err := mail.ParseAddress(s.EmailFrom); err != nil {
			bad("email sender is not an address: %v", err)
		}
	}
	if s.EmailConfigurationSet != "" && !confSetRE.MatchString(s.EmailConfigurationSet) {
		bad("email configuration set name %q is not 1-64 letters, digits, - or _", s.EmailConfigurationSet)
	}
	if err := CheckPlainText("app name", s.AppName, MaxAppNameLength); err != nil {
		errs = append(errs, err)
	}
	if s.SMSSenderID != "" && (!senderIDRE.MatchString(s.SMSSenderID) || !strings.ContainsFunc(s.SMSSenderID, unicode.IsLetter)) {
		bad("SMS sender ID %q is not 1-11 letters or digits with at least one letter", s.SMSSenderID)
	}
	if s.SMSOriginationNumber != "" && !IsE164(s.SMSOriginationNumber) {
		bad("SMS origination number is not E.164")
	}
	return errors.Join(errs...)
}

// Email returns the SES SendEmail request of a message to one address, from EmailFrom, with the
// configuration set when there is one.
func (s Settings) Email(to, subject, text, html string) *awsapi.SendEmailInput {
	return &awsapi.SendEmailInput{
		From:             s.EmailFrom,
		To:               []string{to},
		Subject:          subject,
		Text:             text,
		HTML:             html,
		ConfigurationSet: s.EmailConfigurationSet, // "" sends none
	}
}

// SNS message attributes of an SMS.
const (
	SNSSMSType           = "AWS.SNS.SMS.SMSType"
	SNSSenderID          = "AWS.SNS.SMS.SenderID"
	SNSOriginationNumber = "AWS.MM.SMS.OriginationNumber"
)

// SMS returns the SNS Publish request of a transactional SMS to number (E.164), with
// SMSSenderID and SMSOriginationNumber when they are set (never an empty attribute).
func (s Settings) SMS(number, message string) *awsapi.PublishInput {
	attrs := map[string]awsapi.MessageAttribute{
		SNSSMSType: {DataType: "String", StringValue: "Transactional"},
	}
	if s.SMSSenderID != "" {
		attrs[SNSSenderID] = awsapi.MessageAttribute{DataType: "String", StringValue: s.SMSSenderID}
	}
	if s.SMSOriginationNumber != "" {
		attrs[SNSOriginationNumber] = awsapi.MessageAttribute{DataType: "String", StringValue: s.SMSOriginationNumber}
	}
	return &awsapi.PublishInput{PhoneNumber: number, Message: message, MessageAttributes: attrs}
}

// CheckPlainText accepts 1 to maxLen characters of valid UTF-8 without control characters (an
// application name, a rendered subject); name names the value in the error.
func CheckPlainText(name, s string, maxLen int) error {
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

// Shorten cuts s to 32 bytes (at a character boundary, marked "...") for an error message.
func Shorten(s string) string {
	if len(s) <= 32 {
		return s
	}
	n := 32
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}
