// Package stacks builds this repository's CDK app: one stack per environment, each holding one
// passwordless construct configured from the "environments" object in cdk.json's context.
package stacks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/lambdas/authflow"
)

// Context keys read from cdk.json or `cdk -c KEY=VALUE`.
const (
	ContextEnv          = "env"          // which environment to synthesize; default DefaultEnv
	ContextEnvironments = "environments" // the settings of every environment
	DefaultEnv          = "dev"
)

// Settings are one environment's settings, as written in cdk.json. Unknown keys are errors.
type Settings struct {
	Account       string   `json:"account,omitempty"` // optional: pin the stack to an account
	Region        string   `json:"region,omitempty"`  // optional: pin the stack to a region
	StackName     string   `json:"stackName,omitempty"`
	SignInAliases []string `json:"signInAliases,omitempty"` // "email", "phone"; default email
	Methods       []string `json:"methods,omitempty"`       // email_otp, sms_otp, device_key, passkey, magic_link
	SenderAddress string   `json:"senderAddress,omitempty"`
	SenderDomain  string   `json:"senderDomain,omitempty"` // a domain identity the stack creates
	// ExistingSenderIdentity is an SES identity (domain, address or ARN) that already exists: the
	// stack then creates none (EmailProps.ExistingIdentity).
	ExistingSenderIdentity string   `json:"existingSenderIdentity,omitempty"`
	AllowedOrigins         []string `json:"allowedOrigins,omitempty"`
	Protect                bool     `json:"protect,omitempty"` // deletion protection + RETAIN
	ThrottleRate           float64  `json:"throttleRate,omitempty"`
	ThrottleBurst          int      `json:"throttleBurst,omitempty"`
	LogRetention           int      `json:"logRetentionDays,omitempty"`
	MemorySize             int      `json:"memorySize,omitempty"`
	SessionMinutes         int      `json:"authSessionMinutes,omitempty"`
	AppName                string   `json:"appName,omitempty"`             // names the app in messages
	SMSCountries           []string `json:"smsAllowedCountries,omitempty"` // region codes ("GB") or calling-code prefixes ("+44")
	// SMSOriginationNumber is a registered origination number (E.164), required for US or CA.
	SMSOriginationNumber string `json:"smsOriginationNumber,omitempty"`
	// MagicLinkURLs are the pages a magic link may open (MagicLinkProps.RedirectURLs); required
	// with the magic_link method.
	MagicLinkURLs []string `json:"magicLinkUrls,omitempty"`
	// MagicLinkMinutes is how long a magic link works; default 15 (range 1-60).
	MagicLinkMinutes int `json:"magicLinkMinutes,omitempty"`
	// MagicLinkSameDevice binds each link to the device that asked for it; default false.
	MagicLinkSameDevice bool `json:"magicLinkSameDevice,omitempty"`
	// NotifyEvents are the security notifications sent (NotificationProps.Events: key_added,
	// key_removed, passkey_added, passkey_removed, account_locked, contact_changed,
	// new_method_signin); default none.
	NotifyEvents []string `json:"notifyEvents,omitempty"`

	// Observability (issue 13): metrics, the audit trail to the default event bus, alarms and a
	// dashboard are on by default (passwordless.ObservabilityProps); these switch parts off.
	MetricsDisabled   bool `json:"metricsDisabled,omitempty"`
	AuditDisabled     bool `json:"auditDisabled,omitempty"`
	AlarmsDisabled    bool `json:"alarmsDisabled,omitempty"`
	DashboardDisabled bool `json:"dashboardDisabled,omitempty"`
	// AlarmTopicARN is an existing SNS topic (same account and Region as the stack) that gets
	// every alarm's ALARM and OK notifications; default none.
	AlarmTopicARN string `json:"alarmTopicArn,omitempty"`
	// SMSMonthlyBudgetUSD is the account's SNS SMS spending quota in USD (the SMS spend alarm
	// fires at 80 % of it); default 1, a new account's quota. Only with SMS.
	SMSMonthlyBudgetUSD float64 `json:"smsMonthlyBudgetUsd,omitempty"`
}

var (
	accountRe = regexp.MustCompile(`^[0-9]{12}$`)
	regionRe  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	stackRe   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	envNameRe = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	topicRe   = regexp.MustCompile(`^arn:aws[a-z-]*:sns:([a-z]{2}(-[a-z]+)+-[0-9]):([0-9]{12}):[A-Za-z0-9_-]{1,256}$`)
)

// Load picks environment name out of the raw "environments" context value (a JSON object, or the
// map jsii hands back) and validates it. An unknown name lists the known ones.
func Load(environments any, name string) (Settings, error) {
	if name == "" {
		name = DefaultEnv
	}
	raw, err := json.Marshal(environments)
	if err != nil || environments == nil {
		return Settings{}, fmt.Errorf("context %q is missing or not an object", ContextEnvironments)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return Settings{}, fmt.Errorf("context %q is not an object: %w", ContextEnvironments, err)
	}
	entry, ok := all[name]
	if !ok {
		known := make([]string, 0, len(all))
		for k := range all {
			known = append(known, k)
		}
		sort.Strings(known)
		return Settings{}, fmt.Errorf("unknown environment %q (known: %s)", name, strings.Join(known, ", "))
	}
	var s Settings
	dec := json.NewDecoder(bytes.NewReader(entry))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Settings{}, fmt.Errorf("environment %q: %w", name, err)
	}
	if s.StackName == "" {
		s.StackName = "Passwordless-" + name
	}
	if err := s.validate(name); err != nil {
		return Settings{}, err
	}
	return s, nil
}

func (s Settings) validate(name string) error {
	var errs []error
	if !envNameRe.MatchString(name) {
		errs = append(errs, fmt.Errorf("environment name %q must be lower-case letters, digits and dashes", name))
	}
	if s.Account != "" && !accountRe.MatchString(s.Account) {
		errs = append(errs, fmt.Errorf("account %q is not a 12-digit AWS account ID", s.Account))
	}
	if s.Region != "" && !regionRe.MatchString(s.Region) {
		errs = append(errs, fmt.Errorf("region %q is not an AWS Region name", s.Region))
	}
	if !stackRe.MatchString(s.StackName) {
		errs = append(errs, fmt.Errorf("stackName %q is not a valid CloudFormation stack name", s.StackName))
	}
	if s.AlarmTopicARN != "" {
		m := topicRe.FindStringSubmatch(s.AlarmTopicARN)
		switch {
		case m == nil:
			errs = append(errs, fmt.Errorf("alarmTopicArn %q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", s.AlarmTopicARN))
		case s.AlarmsDisabled:
			errs = append(errs, errors.New("alarmTopicArn is set but alarmsDisabled is true"))
		case s.Region != "" && m[1] != s.Region || s.Account != "" && m[3] != s.Account:
			// CloudWatch alarms notify topics of their own Region.
			errs = append(errs, fmt.Errorf("alarmTopicArn %s is not in the stack's account and Region (%s/%s)", s.AlarmTopicARN,
				orAny(s.Account), orAny(s.Region)))
		}
	}
	if _, err := s.Props(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("environment %q: %w", name, err)
	}
	return nil
}

// Props turns the settings into construct props and validates them.
func (s Settings) Props() (*passwordless.Props, error) {
	p := &passwordless.Props{
		AllowedOrigins:      s.AllowedOrigins,
		Protect:             s.Protect,
		Throttle:            passwordless.Throttle{RateLimit: s.ThrottleRate, BurstLimit: s.ThrottleBurst},
		LogRetentionDays:    s.LogRetention,
		MemorySize:          s.MemorySize,
		AuthSessionValidity: time.Duration(s.SessionMinutes) * time.Minute,
		AppName:             s.AppName,
		SMS:                 passwordless.SMSProps{AllowedCountries: s.SMSCountries, OriginationNumber: s.SMSOriginationNumber},
	}
	for _, a := range s.SignInAliases {
		switch a {
		case "email":
			p.Aliases.Email = true
		case "phone":
			p.Aliases.Phone = true
		default:
			return nil, fmt.Errorf("signInAliases: unknown alias %q (email, phone)", a)
		}
	}
	for _, m := range s.Methods {
		method, err := authflow.ParseMethod(m)
		if err != nil {
			return nil, fmt.Errorf("methods: %w", err)
		}
		p.Methods = append(p.Methods, passwordless.Method(method))
	}
	if s.SenderAddress != "" || s.SenderDomain != "" || s.ExistingSenderIdentity != "" {
		p.Email = &passwordless.EmailProps{From: s.SenderAddress, Domain: s.SenderDomain, ExistingIdentity: s.ExistingSenderIdentity}
	}
	if len(s.MagicLinkURLs) > 0 || s.MagicLinkMinutes != 0 || s.MagicLinkSameDevice {
		p.MagicLink = &passwordless.MagicLinkProps{
			RedirectURLs: s.MagicLinkURLs,
			TTL:          time.Duration(s.MagicLinkMinutes) * time.Minute,
			SameDevice:   s.MagicLinkSameDevice,
		}
	}
	if len(s.NotifyEvents) > 0 {
		p.Notifications = &passwordless.NotificationProps{}
		for _, k := range s.NotifyEvents {
			p.Notifications.Events = append(p.Notifications.Events, passwordless.NotificationKind(k))
		}
	}
	if s.MetricsDisabled || s.AuditDisabled || s.AlarmsDisabled || s.DashboardDisabled || s.SMSMonthlyBudgetUSD != 0 {
		p.Observability = &passwordless.ObservabilityProps{
			MetricsDisabled:     s.MetricsDisabled,
			AuditDisabled:       s.AuditDisabled,
			Alarms:              passwordless.AlarmProps{Disabled: s.AlarmsDisabled},
			DashboardDisabled:   s.DashboardDisabled,
			SMSMonthlyBudgetUSD: s.SMSMonthlyBudgetUSD,
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func orAny(s string) string {
	if s == "" {
		return "any"
	}
	return s
}
