//go:build unix

package perf

import (
	"fmt"
	"maps"

	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/infra/local/harness"
)

// Names are what the construct's references resolve to once deployed: the key table's name, the
// app client's ID, the SES configuration set's name, the user pool's ID and the deployment
// secret's ARN.
type Names struct {
	Table, ClientID, ConfigurationSet string
	PoolID, SecretARN                 string
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
		Methods: []passwordless.Method{passwordless.EmailOTP, passwordless.SMSOTP, passwordless.DeviceKey},
		Aliases: passwordless.Aliases{Email: true, Phone: true},
		Email:   &passwordless.EmailProps{From: EmailFrom},
	}
}

// ConstructEnv is the environment passwordless.New gives each function (by command) for props,
// with the references resolved to names: it synthesizes the construct (harness.Synthesize, which
// needs node for jsii) and reads the environment from the template (harness.ParseTemplate), so it
// is the construct's by construction.
func ConstructEnv(props passwordless.Props, names Names) (map[string]map[string]string, error) {
	if err := props.Validate(); err != nil {
		return nil, fmt.Errorf("perf: %w", err)
	}
	tpl, err := harness.Synthesize(&props)
	if err != nil {
		return nil, fmt.Errorf("perf: %w", err)
	}
	spec, err := harness.ParseTemplate(tpl)
	if err != nil {
		return nil, fmt.Errorf("perf: %w", err)
	}
	if err := spec.ResolveLocals(harness.Locals{TableName: names.Table, ClientID: names.ClientID, PoolID: names.PoolID,
		SecretARN: names.SecretARN, ConfigurationSet: names.ConfigurationSet}); err != nil {
		return nil, fmt.Errorf("perf: %w", err)
	}
	env := map[string]map[string]string{}
	for _, c := range Functions {
		f := spec.Functions[c]
		if f == nil {
			return nil, fmt.Errorf("perf: the template has no %s function", c)
		}
		env[c] = maps.Clone(f.Env)
	}
	return env, nil
}
