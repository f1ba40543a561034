package passwordless

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/metrics"
)

// ObservabilityProps configures the construct's metrics, audit trail, alarms and dashboard.
// Props.Observability nil means every default below: metrics, audit events, alarms and one
// dashboard, all on. Each part switches off on its own, and a part that is off leaves nothing
// in the template (no environment variable, no IAM statement, no alarm, no dashboard), so it
// costs nothing.
//
// # What the defaults cost
//
// Prices of us-east-1, from https://aws.amazon.com/cloudwatch/pricing/ (other Regions differ):
// custom metrics $0.30 per metric per month (a metric is one name and one set of dimension
// values in a namespace, prorated by the hours in which it is written), standard-resolution
// alarms $0.10 per alarm metric per month (the failed-sign-in ratio alarm reads two metrics, so
// it counts twice), dashboards $3 per month each beyond the three an account has free. The
// account's free tier (10 custom metrics, 10 alarm metrics, 3 dashboards) is shared by
// everything in it, so the figures below are without it.
//
// A typical deployment (custom mode, email_otp and device_key, an SES sender, no SMS, no
// notifications, the HTTP API):
//   - alarms: 4 triggers x (Errors, Throttles, Duration p99) = 12, plus failed-sign-in ratio
//     (2 alarm metrics), lockouts, send failures, SES bounce rate, SES complaint rate and HTTP
//     API 5xx = 18 alarms, 19 alarm metrics: $1.90 a month;
//   - dashboard: $3.00 a month (nothing if it is among the account's first three);
//   - custom metrics (metric x dimension values the functions write, see package metrics):
//     SignInStarted 1; SignInSucceeded 3 ([] + Method email_otp, device_key); SignInFailed 8
//     ([] + 2 Methods + 5 Reasons); Sent 3 ([], Channel email, Channel+Kind email/code);
//     SendRefused 5 ([] + email rate_limit, daily_cap, unverified, other); SendFailed 2; Lockouts 1;
//     KeyRegistered 1 and KeyRevoked 1 (device_key); DependencyLatency 5 (dynamodb, ses,
//     cognito, secretsmanager, events); DependencyErrors 6 ([] + the 5); AuditUndelivered 1:
//     37 metrics, at most $11.10 a month. Error and refusal metrics exist only in the hours in
//     which something failed or was refused, so a healthy deployment with sign-ins every hour
//     pays for about 20 of them: about $6 a month;
//   - together: at most $16.00 a month ($1.90 + $3.00 + up to $11.10), about $11 in a
//     healthy month with a paid dashboard, about $8 with a free one. The metric lines are log lines too (CloudWatch
//     Logs ingestion, $0.50 per GB: a few hundred bytes per invocation), and audit events are
//     EventBridge custom events ($1.00 per million on the default bus: about one per sign-in
//     attempt and one per key, contact or recovery change).
//
// Adding sms_otp adds the SMS spend alarm (1 alarm metric) and about 12 metrics (Channel sms
// values, the sns dependency); each more method adds 2 to 4 metrics; notifications add
// NotificationFailed (2) and Kind notice values.
type ObservabilityProps struct {
	// MetricsDisabled turns the construct's own metrics off: no function gets METRICS_NAMESPACE
	// (package metrics then writes nothing), and the alarms and dashboard widgets that read
	// those metrics are left out. Alarms and widgets on AWS's own metrics (Lambda, API Gateway,
	// SES, SNS) stay. Default false: every function writes CloudWatch Embedded Metric Format
	// lines to its log (no PutMetricData call, no IAM permission).
	MetricsDisabled bool
	// Namespace of the construct's metrics: 1-255 characters among letters, digits and
	// . - _ / # : and space, not starting with "AWS/". Default
	// "Passwordless/<stack name>/<construct id>", unique per construct in an account and Region
	// (characters CloudWatch does not allow in the construct ID become "_" and a short hash of
	// the ID is appended; an ID too long for 255 characters is cut before the hash).
	Namespace string
	// AuditDisabled turns the audit trail off: Verify and the API get no AUDIT_EVENT_BUS and no
	// events:PutEvents. Default false: Verify and the API publish security events (sign-in
	// succeeded or failed, account locked, keys and passkeys added or removed, contact changed,
	// recovery actions) to EventBus, best effort with a bounded timeout (package audit).
	AuditDisabled bool
	// EventBus receives the audit events. Default: the account's default event bus ("default")
	// in the stack's Region. A bus of another account (an imported ARN) is named to the
	// functions by its ARN (its resource policy must let this account put events); a bus in
	// another Region is refused (the functions call EventBridge in their own Region).
	EventBus awsevents.IEventBus
	// AuditSource is the events' source field, for rules to match. Default "passwordless";
	// 1-256 letters, digits, '.', '-' and '_', not starting with "aws." (reserved for AWS
	// services).
	AuditSource string
	// Alarms configures the alarms; see AlarmProps for each one and its default.
	Alarms AlarmProps
	// AlarmTopic receives every alarm's ALARM and OK notifications. Default none: the alarms
	// change state in CloudWatch (and on the dashboard) but notify nobody.
	AlarmTopic awssns.ITopic
	// DashboardDisabled leaves the construct's CloudWatch dashboard out. Default false: one
	// dashboard per construct, named "<stack name>-<construct path>".
	DashboardDisabled bool
	// SMSMonthlyBudgetUSD is the monthly SMS spend the deployment expects, in US dollars: the
	// SMS spend alarm fires at Alarms.SMSBudgetFraction of it and the dashboard draws it.
	// Default 1, the spending quota SNS gives every new account ("We set the spending quota for
	// all new accounts at $1.00 (USD) per month",
	// https://docs.aws.amazon.com/sns/latest/dg/channels-sms-awssupport-spend-threshold.html);
	// set it to the quota you asked SNS for. Range 0.01-1000000. Only with SMS (sms_otp, or
	// native mode's SMSOTP).
	SMSMonthlyBudgetUSD float64
}

// AlarmProps configures the alarms. Zero values take the defaults. Every alarm is standard
// resolution, named "<stack name>/<construct path>/<alarm>" (stable, unique per construct in an
// account and Region), and treats missing data as not breaching: no invocation, no sign-in and
// no email in a period are normal.
//
// The alarms (each only when what it watches exists):
//   - per trigger function (Define, Create, Verify, PreSignUp in custom mode, PostConfirmation
//     in native mode): Errors > 0 and Throttles > 0 in 5 minutes; Duration p99 above
//     DurationFraction of the function timeout in 2 of 3 periods of 5 minutes;
//   - FailedSignIns: SignInFailed / (SignInFailed + SignInSucceeded) over 15 minutes above
//     FailedSignInRatio, once at least FailedSignInMinimum answers came in (a sign-in method
//     is enabled; metrics on);
//   - Lockouts: at least Lockouts answers refused because the account is locked, in 15
//     minutes (a code or link method; metrics on);
//   - SendFailures: at least SendFailures sends SES or SNS refused or failed, in 15 minutes
//     (the construct sends email or SMS; metrics on);
//   - SESBounceRate and SESComplaintRate: the configuration set's reputation metrics (Email
//     set) at BounceRate and ComplaintRate;
//   - SMSSpend: AWS/SNS SMSMonthToDateSpentUSD, the account's spend in the stack's Region, at
//     SMSBudgetFraction of ObservabilityProps.SMSMonthlyBudgetUSD (SMS on);
//   - Api5xx: at least Api5xx server errors of the HTTP API's $default stage in 5 minutes.
type AlarmProps struct {
	// Disabled leaves every alarm out. Default false.
	Disabled bool
	// FailedSignInRatio: the share of refused answers above which FailedSignIns fires. Default
	// 0.5 (range 0.01-0.99).
	FailedSignInRatio float64
	// FailedSignInMinimum: the answers (refused plus accepted) FailedSignIns needs in 15
	// minutes before it judges the ratio, so one wrong code out of one does not page. Default
	// 10 (range 1-100000).
	FailedSignInMinimum int
	// Lockouts: refused answers to locked accounts in 15 minutes that fire Lockouts. Default 10
	// (range 1-100000).
	Lockouts int
	// SendFailures: failed sends in 15 minutes that fire SendFailures. Default 3 (range
	// 1-100000).
	SendFailures int
	// BounceRate fires SESBounceRate (a fraction: 0.02 is 2 %). Default 0.02, well below the 5 %
	// at which SES reviews an account (it may pause sending at 10 %); range 0.001-0.049.
	BounceRate float64
	// ComplaintRate fires SESComplaintRate (a fraction). Default 0.0005 (0.05 %), half the 0.1 %
	// at which SES reviews an account (it may pause sending at 0.5 %); range 0.0001-0.0009.
	ComplaintRate float64
	// SMSBudgetFraction of SMSMonthlyBudgetUSD fires SMSSpend. Default 0.8 (range 0.1-1): SNS
	// stops sending SMS within minutes once the account's quota is spent.
	SMSBudgetFraction float64
	// Api5xx: HTTP API 5xx answers in 5 minutes that fire Api5xx. Default 5 (range 1-100000).
	Api5xx int
	// DurationFraction of a trigger's timeout that its Duration p99 must stay under. Default
	// 0.8 (range 0.1-1): Cognito gives a trigger 5 s, the functions' timeout is 4 s, so 3.2 s.
	DurationFraction float64
}

// Observability defaults.
const (
	DefaultAuditSource         = audit.DefaultSource
	DefaultAuditEventBus       = "default"
	DefaultMetricsPrefix       = "Passwordless/"
	DefaultSMSMonthlyBudgetUSD = 1.0
	DefaultFailedSignInRatio   = 0.5
	DefaultFailedSignInMinimum = 10
	DefaultLockoutAlarm        = 10
	DefaultSendFailureAlarm    = 3
	// DefaultBounceRateAlarm and DefaultComplaintRateAlarm sit well below the rates at which SES
	// places an account under review (bounce 5 %, complaint 0.1 %) and may pause its sending
	// (bounce 10 %, complaint 0.5 %): "Reputation metrics messages",
	// https://docs.aws.amazon.com/ses/latest/dg/reputationdashboardmessages.html.
	DefaultBounceRateAlarm    = 0.02
	DefaultComplaintRateAlarm = 0.0005
	DefaultSMSBudgetFraction  = 0.8
	DefaultAPI5xxAlarm        = 5
	DefaultDurationFraction   = 0.8

	// SESReviewBounceRate and SESReviewComplaintRate: SES reviews an account at these rates;
	// the alarm thresholds must stay below them.
	SESReviewBounceRate    = 0.05
	SESReviewComplaintRate = 0.001
)

// Environment variables of package audit, set on Verify and the API when the audit trail is on.
const (
	EnvAuditEventBus = audit.EnvEventBus
	EnvAuditSource   = audit.EnvSource
)

// auditSourceChars are the characters package audit refuses in a source.
var auditSourceChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// withDefaults returns a copy of o (nil: the zero value) with every zero field set.
func (o *ObservabilityProps) withDefaults() ObservabilityProps {
	var v ObservabilityProps
	if o != nil {
		v = *o
	}
	if v.AuditSource == "" {
		v.AuditSource = DefaultAuditSource
	}
	if v.SMSMonthlyBudgetUSD == 0 {
		v.SMSMonthlyBudgetUSD = DefaultSMSMonthlyBudgetUSD
	}
	a := &v.Alarms
	setF := func(f *float64, def float64) {
		if *f == 0 {
			*f = def
		}
	}
	setI := func(i *int, def int) {
		if *i == 0 {
			*i = def
		}
	}
	setF(&a.FailedSignInRatio, DefaultFailedSignInRatio)
	setI(&a.FailedSignInMinimum, DefaultFailedSignInMinimum)
	setI(&a.Lockouts, DefaultLockoutAlarm)
	setI(&a.SendFailures, DefaultSendFailureAlarm)
	setF(&a.BounceRate, DefaultBounceRateAlarm)
	setF(&a.ComplaintRate, DefaultComplaintRateAlarm)
	setF(&a.SMSBudgetFraction, DefaultSMSBudgetFraction)
	setI(&a.Api5xx, DefaultAPI5xxAlarm)
	setF(&a.DurationFraction, DefaultDurationFraction)
	return v
}

// validateObservability reports the problems of p.Observability (after defaults).
func (p Props) validateObservability(bad func(string, ...any)) {
	o := p.Observability.withDefaults()
	if o.Namespace != "" {
		if err := metrics.ValidNamespace(o.Namespace); err != nil {
			bad("Observability.Namespace %q: %w", o.Namespace, err)
		}
	}
	if o.MetricsDisabled && o.Namespace != "" {
		bad("Observability.Namespace is set but MetricsDisabled is true")
	}
	if len(o.AuditSource) > 256 {
		bad("Observability.AuditSource has %d characters; EventBridge allows 256", len(o.AuditSource))
	}
	if auditSourceChars.MatchString(o.AuditSource) {
		bad("Observability.AuditSource %q may hold only letters, digits, '.', '-' and '_' (package audit's rule)", o.AuditSource)
	}
	if strings.HasPrefix(strings.ToLower(o.AuditSource), "aws.") {
		bad("Observability.AuditSource %q starts with \"aws.\", which EventBridge reserves for AWS services", o.AuditSource)
	}
	if o.AuditDisabled && (o.EventBus != nil || o.AuditSource != DefaultAuditSource) {
		bad("Observability.EventBus or AuditSource is set but AuditDisabled is true")
	}
	a := o.Alarms
	inF := func(name string, v, lo, hi float64) {
		if math.IsNaN(v) || v < lo || v > hi {
			bad("Observability.Alarms.%s %v out of range %v-%v", name, v, lo, hi)
		}
	}
	inI := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			bad("Observability.Alarms.%s %d out of range %d-%d", name, v, lo, hi)
		}
	}
	inF("FailedSignInRatio", a.FailedSignInRatio, 0.01, 0.99)
	inI("FailedSignInMinimum", a.FailedSignInMinimum, 1, 100000)
	inI("Lockouts", a.Lockouts, 1, 100000)
	inI("SendFailures", a.SendFailures, 1, 100000)
	// Below the rates at which SES reviews the account: an alarm at or above them comes too late.
	inF("BounceRate", a.BounceRate, 0.001, 0.049)
	inF("ComplaintRate", a.ComplaintRate, 0.0001, 0.0009)
	inF("SMSBudgetFraction", a.SMSBudgetFraction, 0.1, 1)
	inI("Api5xx", a.Api5xx, 1, 100000)
	inF("DurationFraction", a.DurationFraction, 0.1, 1)
	if b := o.SMSMonthlyBudgetUSD; math.IsNaN(b) || b < 0.01 || b > 1000000 {
		bad("Observability.SMSMonthlyBudgetUSD %v out of range 0.01-1000000", b)
	}
	if p.Observability != nil && p.Observability.SMSMonthlyBudgetUSD != 0 && !p.sms() {
		bad("Observability.SMSMonthlyBudgetUSD is set but SMS is off (sms_otp, or Native.SMSOTP)")
	}
}

// sms reports whether the deployment sends SMS: the custom sms_otp method, or Cognito's own
// SMS_OTP in native mode.
func (p Props) sms() bool {
	return p.Mode != ModeNative && slices.Contains(p.Methods, SMSOTP) || p.Mode == ModeNative && p.Native.SMSOTP
}

// emailChannel reports whether the construct's functions send email: codes, links or
// notifications through the SES identity.
func (p Props) emailChannel() bool {
	if p.Email == nil {
		return false // native mode's EMAIL_OTP is Cognito's own
	}
	return slices.Contains(p.Methods, EmailOTP) || p.links() || p.Notifications != nil
}

// smsChannel reports whether the construct's functions send SMS (codes and notices).
func (p Props) smsChannel() bool {
	return p.Mode != ModeNative && slices.Contains(p.Methods, SMSOTP)
}

// namespaceChars are the characters CloudWatch does not allow in a namespace.
var namespaceChars = regexp.MustCompile(`[^0-9A-Za-z.\-_/#: ]`)

// metricsNamespace is o.Namespace, or the default "Passwordless/<stack name>/<construct id>".
func metricsNamespace(c constructs.Construct, o ObservabilityProps) *string {
	if o.Namespace != "" {
		return jsii.String(o.Namespace)
	}
	stack := awscdk.Stack_Of(c)
	id := *c.Node().Id()
	clean := namespaceChars.ReplaceAllString(id, "_")
	name := known(stack.StackName())
	if name == "" {
		name = "${AWS::StackName}" // a nested stack's name is known at deploy time only
	}
	if len(DefaultMetricsPrefix)+len(name)+1+len(clean) > 255 || clean != id {
		sum := sha256.Sum256([]byte(id))
		suffix := "-" + hex.EncodeToString(sum[:4])
		if room := 255 - len(DefaultMetricsPrefix) - len(name) - 1 - len(suffix); len(clean) > room {
			clean = clean[:max(room, 0)]
		}
		clean += suffix
	}
	ns := DefaultMetricsPrefix + name + "/" + clean
	if strings.Contains(ns, "${") {
		return awscdk.Fn_Sub(jsii.String(ns), nil)
	}
	return jsii.String(ns)
}

// stackScopedName is "<stack name><sep><construct path in the stack><sep><suffix>" with every
// character outside keep replaced by repl, at most maxLen long (a long path is replaced by a
// hash), for names that must be unique in an account and Region (stack names are).
func stackScopedName(c constructs.Construct, sep string, suffix string, keep *regexp.Regexp, repl string, maxLen int) *string {
	stack := awscdk.Stack_Of(c)
	rel := strings.TrimPrefix(strings.TrimPrefix(*c.Node().Path(), *stack.Node().Path()), "/")
	clean := keep.ReplaceAllString(strings.ReplaceAll(rel, "/", sep), repl)
	name := known(stack.StackName())
	if name == "" {
		name = "${AWS::StackName}"
	}
	full := name + sep + clean
	if suffix != "" {
		full += sep + suffix
	}
	if len(full) > maxLen {
		sum := sha256.Sum256([]byte(rel))
		full = name + sep + hex.EncodeToString(sum[:8])
		if suffix != "" {
			full += sep + suffix
		}
	}
	if strings.Contains(full, "${") {
		return awscdk.Fn_Sub(jsii.String(full), nil)
	}
	return jsii.String(full)
}

// alarmNameChars: CloudWatch takes any UTF-8 in an alarm name but control characters.
var alarmNameChars = regexp.MustCompile(`[\x00-\x1f\x7f]`)

// dashboardNameChars: a dashboard name holds letters, digits, "-" and "_" only.
var dashboardNameChars = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// triggerFunctions are the functions Cognito calls as triggers, by construct ID, in a fixed
// order: they get the per-function alarms.
func (pl *Passwordless) triggerFunctions(p Props) []awslambda.Function {
	fns := []awslambda.Function{pl.Functions.Define, pl.Functions.Create, pl.Functions.Verify}
	if p.Mode == ModeCustom {
		fns = append(fns, pl.Functions.PreSignUp)
	}
	if pl.Functions.PostConfirmation != nil {
		fns = append(fns, pl.Functions.PostConfirmation)
	}
	return fns
}

// allFunctions are every function of the construct.
func (pl *Passwordless) allFunctions() []awslambda.Function {
	fns := []awslambda.Function{pl.Functions.Define, pl.Functions.Create, pl.Functions.Verify, pl.Functions.PreSignUp, pl.Functions.API}
	if pl.Functions.PostConfirmation != nil {
		fns = append(fns, pl.Functions.PostConfirmation)
	}
	return fns
}

// observe wires metrics, the audit trail, the alarms and the dashboard (New calls it last).
func (pl *Passwordless) observe(c constructs.Construct, p Props) error {
	o := p.Observability.withDefaults()
	if !o.MetricsDisabled {
		pl.MetricsNamespace = metricsNamespace(c, o)
		for _, fn := range pl.allFunctions() {
			fn.AddEnvironment(jsii.String(metrics.EnvNamespace), pl.MetricsNamespace, nil)
		}
	}
	if !o.AuditDisabled {
		name, arn, err := auditBus(c, o.EventBus)
		if err != nil {
			return err
		}
		for _, fn := range []awslambda.Function{pl.Functions.Verify, pl.Functions.API} {
			fn.AddEnvironment(jsii.String(EnvAuditEventBus), name, nil)
			fn.AddEnvironment(jsii.String(EnvAuditSource), jsii.String(o.AuditSource), nil)
			fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("PublishAuditEvents"),
				Actions:   jsii.Strings("events:PutEvents"),
				Resources: &[]*string{arn},
			}))
		}
	}
	if !o.Alarms.Disabled {
		pl.Alarms = pl.newAlarms(c, p, o)
	}
	if !o.DashboardDisabled {
		pl.Dashboard = pl.newDashboard(c, p, o)
	}
	return nil
}

// auditBus returns the name (or, for another account's bus, the ARN) the functions put events
// to, and the ARN they are allowed to put to: the default bus of the stack's account and Region
// when bus is nil.
func auditBus(c constructs.Construct, bus awsevents.IEventBus) (name, arn *string, err error) {
	stack := awscdk.Stack_Of(c)
	if bus == nil {
		return jsii.String(DefaultAuditEventBus), stack.FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("events"),
			Resource:     jsii.String("event-bus"),
			ResourceName: jsii.String(DefaultAuditEventBus),
		}), nil
	}
	env := bus.Env()
	busRegion, busAccount := known(env.Region), known(env.Account)
	region, account := known(stack.Region()), known(stack.Account())
	if busRegion != "" && region != "" && busRegion != region {
		return nil, nil, fmt.Errorf("Observability.EventBus %s is in %s but the stack in %s: the functions put "+
			"audit events to EventBridge in their own Region; use a bus of %s (a rule there can forward events)",
			*bus.Node().Path(), busRegion, region, region)
	}
	if busAccount != "" && busAccount != account {
		// PutEvents names another account's bus by its ARN.
		return bus.EventBusArn(), bus.EventBusArn(), nil
	}
	return bus.EventBusName(), bus.EventBusArn(), nil
}

// metric is one of the construct's own metrics (package metrics' names) with dims.
func (pl *Passwordless) metric(name, stat string, period awscdk.Duration, label string, dims map[string]string) awscloudwatch.Metric {
	var dm *map[string]*string
	if len(dims) > 0 {
		m := map[string]*string{}
		for k, v := range dims {
			m[k] = jsii.String(v)
		}
		dm = &m
	}
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     pl.MetricsNamespace,
		MetricName:    jsii.String(name),
		DimensionsMap: dm,
		Statistic:     jsii.String(stat),
		Period:        period,
		Label:         optional(label),
	})
}
