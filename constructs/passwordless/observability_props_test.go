package passwordless

import (
	"math"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/metrics"
)

// TestValidateObservability: what Validate refuses in ObservabilityProps, each with a message
// that names the field.
func TestValidateObservability(t *testing.T) {
	sms := Props{Aliases: Aliases{Phone: true}, Methods: []Method{SMSOTP}}
	obs := func(o ObservabilityProps) Props { return sms.with(func(p *Props) { p.Observability = &o }) }
	alarms := func(a AlarmProps) Props { return obs(ObservabilityProps{Alarms: a}) }
	for _, c := range []struct {
		name  string
		props Props
		want  string
	}{
		{"defaults", sms, ""},
		{"all off", obs(ObservabilityProps{MetricsDisabled: true, AuditDisabled: true, Alarms: AlarmProps{Disabled: true}, DashboardDisabled: true}), ""},
		{"namespace", obs(ObservabilityProps{Namespace: "Acme/Sign-in #1: eu"}), ""},
		{"namespace of AWS", obs(ObservabilityProps{Namespace: "AWS/Lambda"}), "Observability.Namespace"},
		{"namespace with a bad character", obs(ObservabilityProps{Namespace: "Acme/sign-in!"}), "Observability.Namespace"},
		{"namespace too long", obs(ObservabilityProps{Namespace: strings.Repeat("a", 256)}), "Observability.Namespace"},
		{"namespace with metrics off", obs(ObservabilityProps{Namespace: "Acme", MetricsDisabled: true}), "MetricsDisabled"},
		{"source of AWS", obs(ObservabilityProps{AuditSource: "aws.cognito"}), `starts with "aws."`},
		{"source of AWS, upper case", obs(ObservabilityProps{AuditSource: "AWS.events"}), `starts with "aws."`},
		{"source with a space", obs(ObservabilityProps{AuditSource: "acme auth"}), "only letters"},
		{"source with a slash", obs(ObservabilityProps{AuditSource: "acme/auth"}), "only letters"},
		{"source", obs(ObservabilityProps{AuditSource: "com.acme-auth_1"}), ""},
		{"source too long", obs(ObservabilityProps{AuditSource: strings.Repeat("s", 257)}), "256"},
		{"source with audit off", obs(ObservabilityProps{AuditSource: "acme", AuditDisabled: true}), "AuditDisabled"},
		{"bounce alarm at the review rate", alarms(AlarmProps{BounceRate: 0.05}), "BounceRate"},
		{"complaint alarm at the review rate", alarms(AlarmProps{ComplaintRate: 0.001}), "ComplaintRate"},
		{"bounce alarm below", alarms(AlarmProps{BounceRate: 0.04, ComplaintRate: 0.0008}), ""},
		{"ratio above 1", alarms(AlarmProps{FailedSignInRatio: 1.5}), "FailedSignInRatio"},
		{"ratio NaN", alarms(AlarmProps{FailedSignInRatio: math.NaN()}), "FailedSignInRatio"},
		{"negative minimum", alarms(AlarmProps{FailedSignInMinimum: -1}), "FailedSignInMinimum"},
		{"negative lockouts", alarms(AlarmProps{Lockouts: -3}), "Lockouts"},
		{"negative send failures", alarms(AlarmProps{SendFailures: -3}), "SendFailures"},
		{"negative 5xx", alarms(AlarmProps{Api5xx: -1}), "Api5xx"},
		{"duration above the timeout", alarms(AlarmProps{DurationFraction: 1.2}), "DurationFraction"},
		{"budget fraction above 1", alarms(AlarmProps{SMSBudgetFraction: 2}), "SMSBudgetFraction"},
		{"negative budget", obs(ObservabilityProps{SMSMonthlyBudgetUSD: -5}), "SMSMonthlyBudgetUSD"},
		{"budget", obs(ObservabilityProps{SMSMonthlyBudgetUSD: 250}), ""},
		{"budget without SMS", Props{Observability: &ObservabilityProps{SMSMonthlyBudgetUSD: 5}}, "SMS is off"},
	} {
		t.Run(c.name, func(t *testing.T) { checkValidate(t, c.props, c.want) })
	}
}

// TestObservabilityDefaults pins the documented defaults.
func TestObservabilityDefaults(t *testing.T) {
	o := (*ObservabilityProps)(nil).withDefaults()
	a := o.Alarms
	if o.MetricsDisabled || o.AuditDisabled || a.Disabled || o.DashboardDisabled {
		t.Errorf("a part is off by default: %+v", o)
	}
	if o.AuditSource != "passwordless" || o.SMSMonthlyBudgetUSD != 1 || a.FailedSignInRatio != 0.5 || a.FailedSignInMinimum != 10 ||
		a.Lockouts != 10 || a.SendFailures != 3 || a.BounceRate != 0.02 || a.ComplaintRate != 0.0005 || a.SMSBudgetFraction != 0.8 ||
		a.Api5xx != 5 || a.DurationFraction != 0.8 {
		t.Errorf("defaults %+v", o)
	}
	// Well below SES's review thresholds.
	if a.BounceRate >= SESReviewBounceRate/2 || a.ComplaintRate > SESReviewComplaintRate/2 {
		t.Errorf("SES alarms at %v / %v are not well below review at %v / %v", a.BounceRate, a.ComplaintRate, SESReviewBounceRate, SESReviewComplaintRate)
	}
}

// TestDashboardDimensionsAllowed: every dimension name and value the alarms and the dashboard
// read is one package metrics writes; a value outside its allow-lists would be recorded as
// "other" and the graph would stay empty.
func TestDashboardDimensionsAllowed(t *testing.T) {
	check := func(key string, values ...string) {
		for _, v := range values {
			if !metrics.Allowed(key, v) || metrics.Canonical(key, v) != v {
				t.Errorf("%s=%s is not a value package metrics writes", key, v)
			}
		}
	}
	check(dimReason, signInReasons...)
	for ch, reasons := range sendReasons {
		check(dimChannel, ch)
		check(dimReason, reasons...)
	}
	for _, m := range []Method{EmailOTP, SMSOTP, DeviceKey, Passkey, MagicLink} {
		check(dimMethod, string(m))
	}
	full := Props{Aliases: Aliases{Email: true, Phone: true}, Email: &EmailProps{From: "a@example.com"},
		Methods: []Method{EmailOTP, SMSOTP}}
	check(dimDependency, full.dependencies(true)...)
	check(dimChannel, full.channels()...)
	check(dimKind, metrics.KindCode, metrics.KindLink, metrics.KindNotice)
}
