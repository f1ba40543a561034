package passwordless

import (
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/lambdas/metrics"
)

// Dimension names of package metrics' EMF lines.
const (
	dimMethod     = "Method"
	dimReason     = "Reason"
	dimChannel    = "Channel"
	dimKind       = "Kind"
	dimDependency = "Dependency"
)

// signInReasons are the reasons of SignInFailed; sendReasons the reasons of SendRefused per
// channel as the functions write them (email has no country or SMS budget rule; unverified is an
// unverified address, the sign-up-first signal; other is an address or number that does not
// parse).
var (
	signInReasons = []string{metrics.ReasonWrongAnswer, metrics.ReasonExpired, metrics.ReasonLocked, metrics.ReasonLimit, metrics.ReasonDependency}
	sendReasons   = map[string][]string{
		metrics.ChannelEmail: {metrics.ReasonRateLimit, metrics.ReasonDailyCap, metrics.ReasonUnverified, metrics.Other},
		metrics.ChannelSMS:   {metrics.ReasonRateLimit, metrics.ReasonDailyCap, metrics.ReasonCountry, metrics.ReasonUnverified, metrics.ReasonBudget, metrics.Other},
	}
)

// channels are the channels the construct's functions send on.
func (p Props) channels() []string {
	var out []string
	if p.emailChannel() {
		out = append(out, metrics.ChannelEmail)
	}
	if p.smsChannel() {
		out = append(out, metrics.ChannelSMS)
	}
	return out
}

// dependencies are the AWS services the functions call (DependencyLatency's values): the
// deployment secret and Cognito always (the API's /me routes), the key table with a method,
// SES and SNS with their channels, EventBridge with the audit trail.
func (p Props) dependencies(audit bool) []string {
	deps := []string{}
	if len(p.Methods) > 0 {
		deps = append(deps, metrics.DependencyDynamoDB)
	}
	if p.emailChannel() {
		deps = append(deps, metrics.DependencySES)
	}
	if p.smsChannel() {
		deps = append(deps, metrics.DependencySNS)
	}
	deps = append(deps, metrics.DependencyCognito, metrics.DependencySecretsManager)
	if audit {
		deps = append(deps, metrics.DependencyEvents)
	}
	return deps
}

// newDashboard builds the construct's dashboard: sign-ins by method and outcome, failures by
// reason and lockouts, trigger latency, errors, sends and refusals by channel, dependency
// latency, SES reputation, SMS spend, keys, and the alarms' states. Widgets on the construct's
// own metrics appear only with metrics on.
func (pl *Passwordless) newDashboard(c constructs.Construct, p Props, o ObservabilityProps) awscloudwatch.Dashboard {
	own := pl.MetricsNamespace != nil
	var widgets []awscloudwatch.IWidget
	graph := func(title string, left []awscloudwatch.IMetric, ann ...*awscloudwatch.HorizontalAnnotation) {
		props := &awscloudwatch.GraphWidgetProps{
			Title:  jsii.String(title),
			Left:   &left,
			Width:  jsii.Number(12),
			Height: jsii.Number(6),
		}
		if len(ann) > 0 {
			props.LeftAnnotations = &ann
		}
		widgets = append(widgets, awscloudwatch.NewGraphWidget(props))
	}
	sum := func(name, label string, dims map[string]string) awscloudwatch.IMetric {
		return pl.metric(name, "Sum", fiveMinutes(), label, dims)
	}

	if own && len(p.Methods) > 0 {
		left := []awscloudwatch.IMetric{sum(metrics.SignInStarted, "started", nil)}
		for _, m := range p.Methods {
			left = append(left,
				sum(metrics.SignInSucceeded, string(m)+" succeeded", map[string]string{dimMethod: string(m)}),
				sum(metrics.SignInFailed, string(m)+" failed", map[string]string{dimMethod: string(m)}))
		}
		graph("Sign-ins by method and outcome", left)
		left = nil
		for _, r := range signInReasons {
			left = append(left, sum(metrics.SignInFailed, "failed: "+r, map[string]string{dimReason: r}))
		}
		left = append(left, sum(metrics.Lockouts, "lockouts (answers refused: account locked)", nil))
		graph("Failed sign-ins by reason, and lockouts", left)
	}

	var latency []awscloudwatch.IMetric
	for _, fn := range pl.triggerFunctions(p) {
		id := *fn.Node().Id()
		for _, stat := range []string{"p50", "p99"} {
			latency = append(latency, fn.MetricDuration(&awscloudwatch.MetricOptions{
				Period: fiveMinutes(), Statistic: jsii.String(stat), Label: jsii.String(id + " " + stat),
			}))
		}
	}
	limit := o.Alarms.DurationFraction * TriggerTimeoutSeconds * 1000
	graph("Trigger latency (Lambda Duration p50, p99, ms)", latency, &awscloudwatch.HorizontalAnnotation{
		Value: jsii.Number(limit), Label: jsii.String(fmt.Sprintf("alarm: %.0f %% of the %d s timeout", o.Alarms.DurationFraction*100, TriggerTimeoutSeconds)),
	})

	var errs []awscloudwatch.IMetric
	for _, fn := range pl.allFunctions() {
		id := *fn.Node().Id()
		errs = append(errs,
			fn.MetricErrors(&awscloudwatch.MetricOptions{Period: fiveMinutes(), Statistic: jsii.String("Sum"), Label: jsii.String(id + " errors")}),
			fn.MetricThrottles(&awscloudwatch.MetricOptions{Period: fiveMinutes(), Statistic: jsii.String("Sum"), Label: jsii.String(id + " throttles")}))
	}
	errs = append(errs, pl.api5xx(fiveMinutes(), "HTTP API 5xx"))
	if own {
		for _, d := range p.dependencies(!o.AuditDisabled) {
			errs = append(errs, sum(metrics.DependencyErrors, d+" call errors", map[string]string{dimDependency: d}))
		}
		if p.Notifications != nil {
			errs = append(errs, sum(metrics.NotificationFailed, "notifications failed", nil))
		}
		if !o.AuditDisabled {
			errs = append(errs, sum(metrics.AuditUndelivered, "audit events undelivered (logged)", nil))
		}
	}
	graph("Errors", errs)

	if chans := p.channels(); own && len(chans) > 0 {
		var sent, refused []awscloudwatch.IMetric
		for _, ch := range chans {
			sent = append(sent,
				sum(metrics.Sent, ch+" sent", map[string]string{dimChannel: ch}),
				sum(metrics.SendFailed, ch+" failed", map[string]string{dimChannel: ch}))
			for _, r := range sendReasons[ch] {
				refused = append(refused, sum(metrics.SendRefused, ch+" refused: "+r, map[string]string{dimChannel: ch, dimReason: r}))
			}
		}
		graph("Sends by channel (codes, links, notices)", sent)
		graph("Send refusals by channel and rule", refused)
	}

	if own {
		var deps []awscloudwatch.IMetric
		for _, d := range p.dependencies(!o.AuditDisabled) {
			for _, stat := range []string{"p50", "p99"} {
				deps = append(deps, pl.metric(metrics.DependencyLatency, stat, fiveMinutes(), d+" "+stat, map[string]string{dimDependency: d}))
			}
		}
		graph("Dependency latency (AWS calls, ms)", deps)
	}

	if pl.ConfigurationSet != nil {
		set := pl.ConfigurationSet.ConfigurationSetName()
		rate := func(name, label string) awscloudwatch.IMetric {
			return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace: jsii.String(sesNamespace), MetricName: jsii.String(name),
				DimensionsMap: &map[string]*string{sesConfigurationSetDim: set},
				Statistic:     jsii.String("Maximum"), Period: oneHour(), Label: jsii.String(label),
			})
		}
		graph("SES reputation of the configuration set (rate, 0-1)",
			[]awscloudwatch.IMetric{rate(sesBounceRate, "bounce rate"), rate(sesComplaintRate, "complaint rate")},
			&awscloudwatch.HorizontalAnnotation{Value: jsii.Number(SESReviewBounceRate), Label: jsii.String("SES reviews: bounce 5 %")},
			&awscloudwatch.HorizontalAnnotation{Value: jsii.Number(SESReviewComplaintRate), Label: jsii.String("SES reviews: complaint 0.1 %")})
	}

	if p.sms() {
		graph("SMS month-to-date spend (USD, whole account in this Region)",
			[]awscloudwatch.IMetric{awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace: jsii.String(snsNamespace), MetricName: jsii.String(snsSMSMonthToDateSpent),
				Statistic: jsii.String("Maximum"), Period: oneHour(), Label: jsii.String("spent this month"),
			})},
			&awscloudwatch.HorizontalAnnotation{Value: jsii.Number(o.SMSMonthlyBudgetUSD), Label: jsii.String("budget")},
			&awscloudwatch.HorizontalAnnotation{Value: jsii.Number(o.SMSMonthlyBudgetUSD * o.Alarms.SMSBudgetFraction), Label: jsii.String("alarm")})
	}

	keyMethods := []Method{}
	for _, m := range []Method{DeviceKey, Passkey} {
		if slices.Contains(p.Methods, m) {
			keyMethods = append(keyMethods, m)
		}
	}
	if own && len(keyMethods) > 0 {
		var keys []awscloudwatch.IMetric
		for _, m := range keyMethods {
			keys = append(keys,
				sum(metrics.KeyRegistered, string(m)+" registered", map[string]string{dimMethod: string(m)}),
				sum(metrics.KeyRevoked, string(m)+" revoked", map[string]string{dimMethod: string(m)}))
		}
		graph("Device keys and passkeys registered and revoked", keys)
	}

	// The alarms' states on top, then two graphs a row.
	var rows []*[]awscloudwatch.IWidget
	if len(pl.Alarms) > 0 {
		alarms := make([]interfacesawscloudwatch.IAlarmRef, len(pl.Alarms))
		for i, a := range pl.Alarms {
			alarms[i] = a
		}
		rows = append(rows, &[]awscloudwatch.IWidget{awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
			Title: jsii.String("Alarms"), Alarms: &alarms, Width: jsii.Number(24), Height: jsii.Number(4),
		})})
	}
	for i := 0; i < len(widgets); i += 2 {
		row := widgets[i:min(i+2, len(widgets))]
		rows = append(rows, &row)
	}
	return awscloudwatch.NewDashboard(c, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: stackScopedName(c, "-", "", dashboardNameChars, "_", 255),
		Widgets:       &rows,
	})
}
