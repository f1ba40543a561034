package contact

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// Environment variables FromEnv reads besides the otp package's (see otp.FromEnv: OTP_DIGITS,
// OTP_TTL_SECONDS, EMAIL_FROM, EMAIL_CONFIGURATION_SET, APP_NAME, SMS_ALLOWED_COUNTRIES,
// SMS_SENDER_ID, SMS_ORIGINATION_NUMBER, ...).
const (
	// EnvUserPoolID names the user pool whose users' attributes the API changes (required).
	EnvUserPoolID = "USER_POOL_ID"
	// EnvSignInAliases says which addresses users may add or change: "email", "phone" or
	// "email,phone" (required). It is the same variable, with the same value, as the PreSignUp
	// function's (signup.EnvSignInAliases).
	EnvSignInAliases = "SIGN_IN_ALIASES"
)

// Defaults.
const (
	// DefaultMaxAuthAge is how recent the caller's sign-in must be to start a change: the same
	// default as device-key registration (api.DefaultDeviceKeyMaxAuthAge). The API function
	// passes its DEVICE_KEY_MAX_AUTH_AGE_SECONDS setting here.
	DefaultMaxAuthAge = 5 * time.Minute
	// DefaultMaxAttempts is how many answers a change gets; after that it is dead.
	DefaultMaxAttempts = 3
	// DefaultRecipientLimits caps the codes sent to one new address (across all users): one a
	// minute and 10 a day, in fixed windows.
	DefaultRecipientLimits = "60s:1,24h:10"
	// DefaultUserLimits caps the changes one user may start: 5 an hour and 10 a day.
	DefaultUserLimits = "1h:5,24h:10"
	// MaxBody caps request bodies of both routes, in bytes (after base64 decoding).
	MaxBody = 1 << 10
	// maxAuthAgeLimit bounds MaxAuthAge (as the device-key setting is bounded).
	maxAuthAgeLimit = 24 * time.Hour
)

// Config configures the contact-change routes. Zero values take the defaults, except UserPoolID
// and the attributes (Email, Phone), which have none.
type Config struct {
	// UserPoolID is the pool whose users' attributes are changed. Required.
	UserPoolID string
	// Email and Phone say which attributes may be added or changed: "email" and "phone_number".
	// At least one is required.
	Email, Phone bool
	// Code configures the codes and their delivery: Digits, TTL (at most 10 minutes), EmailFrom,
	// EmailConfigurationSet, AppName, SMSSenderID, SMSOriginationNumber and
	// SMSAllowedCountries. Its message templates are not used: the contact routes send their own
	// messages (see the package doc).
	Code otp.Config
	// MaxAuthAge is how recent the caller's sign-in (the token's auth_time) must be to start a
	// change. Default DefaultMaxAuthAge; at most 24 hours.
	MaxAuthAge time.Duration
	// MaxAttempts is the number of answers one change gets. Default 3, at most 10.
	MaxAttempts int
	// RecipientLimits cap the codes sent to one new address, per fixed window. Default
	// DefaultRecipientLimits.
	RecipientLimits []store.Limit
	// UserLimits cap the changes one user may start, per fixed window. Default DefaultUserLimits.
	UserLimits []store.Limit
}

func (c Config) withDefaults() Config {
	if c.MaxAuthAge == 0 {
		c.MaxAuthAge = DefaultMaxAuthAge
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.RecipientLimits == nil {
		c.RecipientLimits, _ = ParseLimits(DefaultRecipientLimits)
	}
	if c.UserLimits == nil {
		c.UserLimits, _ = ParseLimits(DefaultUserLimits)
	}
	d := otp.DefaultConfig()
	if c.Code.TTL == 0 {
		c.Code.TTL = d.TTL
	}
	if c.Code.Digits == 0 {
		c.Code.Digits = d.Digits
	}
	if c.Code.AppName == "" {
		c.Code.AppName = d.AppName
	}
	if c.Code.SMSAllowedCountries == nil {
		c.Code.SMSAllowedCountries = d.SMSAllowedCountries
	}
	if c.Code.SMSUnverifiedLimits == nil {
		c.Code.SMSUnverifiedLimits = d.SMSUnverifiedLimits
	}
	return c
}

// Validate checks c after filling in the defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.UserPoolID == "" {
		errs = append(errs, errors.New("no user pool ID"))
	}
	if !c.Email && !c.Phone {
		errs = append(errs, errors.New("neither email addresses nor phone numbers may be changed"))
	}
	if c.MaxAuthAge < 0 || c.MaxAuthAge > maxAuthAgeLimit {
		errs = append(errs, fmt.Errorf("max auth age %s out of range 1s-%s", c.MaxAuthAge, maxAuthAgeLimit))
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 10 {
		errs = append(errs, fmt.Errorf("max attempts %d out of range 1-10", c.MaxAttempts))
	}
	if err := checkLimits(c.RecipientLimits); err != nil {
		errs = append(errs, fmt.Errorf("recipient limits: %w", err))
	}
	if err := checkLimits(c.UserLimits); err != nil {
		errs = append(errs, fmt.Errorf("user limits: %w", err))
	}
	if c.Code.TTL > otp.MaxTTL {
		errs = append(errs, fmt.Errorf("code lifetime %s is longer than %s", c.Code.TTL, otp.MaxTTL))
	}
	if err := c.Code.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Email && c.Code.EmailFrom == "" {
		errs = append(errs, fmt.Errorf("email addresses may be changed but %s is not set", otp.EnvEmailFrom))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("contact: config: %w", err)
	}
	return nil
}

// FromEnv reads the Config through getenv (os.Getenv when nil): USER_POOL_ID, SIGN_IN_ALIASES
// and the otp package's variables (otp.FromEnv). MaxAuthAge is left at its default: the API
// function sets it from its device-key setting (api.DeviceKeyConfigFromEnv), so that both
// routes that need a recent sign-in need the same.
func FromEnv(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var c Config
	var errs []error
	c.UserPoolID = strings.TrimSpace(getenv(EnvUserPoolID))
	if c.UserPoolID == "" {
		errs = append(errs, fmt.Errorf("%s is not set", EnvUserPoolID))
	}
	for a := range strings.SplitSeq(getenv(EnvSignInAliases), ",") {
		switch strings.TrimSpace(a) {
		case "email":
			c.Email = true
		case "phone":
			c.Phone = true
		case "":
		default:
			errs = append(errs, fmt.Errorf("%s: unknown alias %q", EnvSignInAliases, a))
		}
	}
	if !c.Email && !c.Phone {
		errs = append(errs, fmt.Errorf("%s: need email, phone or both", EnvSignInAliases))
	}
	code, err := otp.FromEnv(getenv)
	if err != nil {
		errs = append(errs, err)
	}
	c.Code = code
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("contact: %w", err)
	}
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// maxLimitMax caps the max of one limit (RecipientLimits, UserLimits).
const maxLimitMax = 1000

// ParseLimits parses "window:max,..." such as "60s:1,24h:10" (windows in Go duration syntax,
// whole seconds from 1s to 31 days; max 1-1000; at most 5 limits with distinct windows):
// delivery.ParseLimits with a max of 1000.
func ParseLimits(s string) ([]store.Limit, error) { return delivery.ParseLimits(s, maxLimitMax) }

func checkLimits(l []store.Limit) error { return delivery.CheckLimits(l, maxLimitMax) }
