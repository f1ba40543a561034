//go:build unix

package perf

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/logging"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/signup"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// Names are what the construct's references resolve to once deployed: the key table's name, the
// app client's ID and the SES configuration set's name.
type Names struct {
	Table, ClientID, ConfigurationSet string
}

// Local values of Names.
const (
	// ClientID is the app client ID the api function accepts tokens of (APP_CLIENT_ID).
	ClientID = "perf0client0id0abcdefghijk"
	// ConfigurationSet is EMAIL_CONFIGURATION_SET.
	ConfigurationSet = "perf-configuration-set"
	// EmailFrom is the SES sender of DefaultProps.
	EmailFrom = "no-reply@example.com"
)

// DefaultProps are the construct props the functions are measured with: custom mode with every
// method the construct wires today (email_otp, sms_otp, device_key), so create builds the SES and
// SNS clients and verify the Cognito client at init; email and phone aliases; an SES sender.
// Everything else is the construct's default.
func DefaultProps() passwordless.Props {
	return passwordless.Props{
		Methods: []authflow.Method{authflow.EmailOTP, authflow.SMSOTP, authflow.DeviceKey},
		Aliases: passwordless.Aliases{Email: true, Phone: true},
		Email:   &passwordless.EmailProps{From: EmailFrom},
	}
}

// ConstructEnv is the environment passwordless.New gives each function (by command) for props,
// with the references resolved to names. It follows passwordless.New (triggerEnv, lockoutEnv,
// codeEnv and apiEnv); TestEnvMatchesConstruct checks it against a synthesized template, and the
// start-up test fails if a function needs a variable this table lacks.
func ConstructEnv(props passwordless.Props, names Names) (map[string]map[string]string, error) {
	if err := props.Validate(); err != nil {
		return nil, fmt.Errorf("perf: %w", err)
	}
	p := props.WithDefaults()
	cfg := authflow.Config{Methods: p.Methods, MaxAttempts: p.MaxAttempts, MaxResends: p.MaxResends}
	trigger := map[string]string{
		authflow.EnvMethods:     cfg.MethodList(),
		authflow.EnvMaxAttempts: strconv.Itoa(cfg.MaxAttempts),
		authflow.EnvMaxResends:  strconv.Itoa(cfg.MaxResends),
		logging.EnvLevel:        "info",
	}
	env := map[string]map[string]string{"define": maps.Clone(trigger)}
	if len(p.Methods) > 0 {
		limit := p.Lockout.Limit
		if limit == 0 {
			limit = lockout.DefaultLimit
		}
		window := p.Lockout.Window
		if window == 0 {
			window = lockout.DefaultWindow
		}
		trigger[store.EnvTableName] = names.Table
		trigger[lockout.EnvLimit] = strconv.Itoa(limit)
		trigger[lockout.EnvWindowSeconds] = strconv.Itoa(int(window.Seconds()))
	}
	codes := false
	for _, m := range p.Methods {
		codes = codes || m.IsCode()
	}
	if codes {
		digits := p.Codes.Digits
		if digits == 0 {
			digits = otp.DefaultDigits
		}
		appName := p.AppName
		if appName == "" {
			appName = otp.DefaultAppName
		}
		trigger[otp.EnvDigits] = strconv.Itoa(digits)
		trigger[otp.EnvTTLSeconds] = strconv.Itoa(int(p.Codes.TTL.Seconds()))
		trigger[otp.EnvSendLimits] = otp.DefaultSendLimits
		trigger[otp.EnvAppName] = appName
		if len(p.Codes.SendLimits) > 0 {
			parts := make([]string, len(p.Codes.SendLimits))
			for i, l := range p.Codes.SendLimits {
				parts[i] = fmt.Sprintf("%ds:%d", int(l.Window.Seconds()), l.Max)
			}
			trigger[otp.EnvSendLimits] = strings.Join(parts, ",")
		}
		from := ""
		if p.Email != nil {
			from = p.Email.From
			trigger[otp.EnvEmailConfigurationSet] = names.ConfigurationSet
		}
		for k, v := range map[string]string{
			otp.EnvEmailFrom:            from,
			otp.EnvEmailSubject:         p.Codes.EmailSubject,
			otp.EnvEmailTextTemplate:    p.Codes.EmailText,
			otp.EnvEmailHTMLTemplate:    p.Codes.EmailHTML,
			otp.EnvSMSTemplate:          p.Codes.SMSText,
			otp.EnvSMSAllowedCountries:  strings.Join(p.SMS.AllowedCountries, ","),
			otp.EnvSMSSenderID:          p.SMS.SenderID,
			otp.EnvSMSOriginationNumber: p.SMS.OriginationNumber,
		} {
			if v != "" {
				trigger[k] = v
			}
		}
	}
	env["create"] = maps.Clone(trigger)
	env["verify"] = maps.Clone(trigger)

	var aliases []string
	if p.Aliases.Email {
		aliases = append(aliases, "email")
	}
	if p.Aliases.Phone {
		aliases = append(aliases, "phone")
	}
	env["presignup"] = map[string]string{
		signup.EnvSignInAliases: strings.Join(aliases, ","),
		logging.EnvLevel:        "info",
	}

	apiEnv := map[string]string{
		api.EnvClientID:  names.ClientID,
		logging.EnvLevel: "info",
	}
	if cfg.Enabled(authflow.DeviceKey) {
		apiEnv[store.EnvTableName] = names.Table
		apiEnv[api.EnvDeviceKeyMaxPerUser] = strconv.Itoa(p.DeviceKeys.MaxPerUser)
		apiEnv[api.EnvDeviceKeyMaxAuthAge] = strconv.Itoa(int(p.DeviceKeys.MaxAuthAge.Seconds()))
	}
	env["api"] = apiEnv
	return env, nil
}
