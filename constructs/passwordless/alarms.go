package passwordless

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/lambdas/metrics"
)

// Alarm periods: functions, not package variables, so importing the package starts no jsii
// process (a package-level awscdk call runs at init, before any of the importer's code).
func fiveMinutes() awscdk.Duration    { return awscdk.Duration_Minutes(jsii.Number(5)) }
func fifteenMinutes() awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(15)) }
func oneHour() awscdk.Duration        { return awscdk.Duration_Hours(jsii.Number(1)) }

// SES reputation metrics of a configuration set (AWS/SES, published when the set's
// ReputationOptions.ReputationMetricsEnabled is on, which the construct sets): decimal rates
// between 0 and 1 ("Creating reputation monitoring alarms using CloudWatch",
// https://docs.aws.amazon.com/ses/latest/dg/reputationdashboard-cloudwatch-alarm.html), per set
// under the dimension ses:configuration-set (UpdateConfigurationSetReputationMetricsEnabled,
// https://docs.aws.amazon.com/ses/latest/APIReference/API_UpdateConfigurationSetReputationMetricsEnabled.html).
const (
	sesNamespace            = "AWS/SES"
	sesBounceRate           = "Reputation.BounceRate"
	sesComplaintRate        = "Reputation.ComplaintRate"
	sesConfigurationSetDim  = "ses:configuration-set"
	snsNamespace            = "AWS/SNS"
	snsSMSMonthToDateSpent  = "SMSMonthToDateSpentUSD" // account-wide per Region; valid statistic Maximum
	apiGatewayNamespace     = "AWS/ApiGateway"
	apiGateway5xx           = "5xx" // HTTP APIs: dimensions ApiId and Stage
	apiStageName            = "$default"
	failedSignInsExpression = "IF(FILL(failed,0)+FILL(succeeded,0) >= %d, FILL(failed,0)/(FILL(failed,0)+FILL(succeeded,0)), 0)"
)

// alarmSpec is one alarm the construct makes.
type alarmSpec struct {
	id          string // construct ID and the name's last part
	description string // what it means and what to do first
	metric      awscloudwatch.IMetric
	threshold   float64
	op          awscloudwatch.ComparisonOperator
	periods     float64 // evaluation periods (default 1)
	datapoints  float64 // datapoints to alarm (default periods)
	// level marks a metric that is a level, not a count (month-to-date spend, a reputation
	// rate): a period without a datapoint says nothing about it, so missing data keeps the
	// alarm's state (ignore) instead of returning it to OK while the spend or rate stays high.
	level bool
}

// newAlarms creates the alarms of AlarmProps for what the construct has, in a fixed order.
func (pl *Passwordless) newAlarms(c constructs.Construct, p Props, o ObservabilityProps) []awscloudwatch.Alarm {
	a := o.Alarms
	var specs []alarmSpec
	for _, fn := range pl.triggerFunctions(p) {
		id := *fn.Node().Id()
		specs = append(specs,
			alarmSpec{
				id: id + "Errors",
				description: fmt.Sprintf("The %s trigger failed (Lambda Errors > 0 in 5 minutes): Cognito refuses the sign-in "+
					"step it was called for. Read the function's log group for the error line; a dependency fault "+
					"(DependencyErrors) or a bad deployment is the usual cause.", id),
				metric:    fn.MetricErrors(&awscloudwatch.MetricOptions{Period: fiveMinutes(), Statistic: jsii.String("Sum")}),
				threshold: 0,
				op:        awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			},
			alarmSpec{
				id: id + "Throttles",
				description: fmt.Sprintf("The %s trigger was throttled (Lambda Throttles > 0 in 5 minutes): Cognito "+
					"refuses those sign-ins. Check the account's Lambda concurrency (other functions may use it up) "+
					"and raise it, or reserve concurrency for the triggers.", id),
				metric:    fn.MetricThrottles(&awscloudwatch.MetricOptions{Period: fiveMinutes(), Statistic: jsii.String("Sum")}),
				threshold: 0,
				op:        awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			},
			alarmSpec{
				id: id + "Duration",
				description: fmt.Sprintf("The %s trigger's p99 duration is above %.0f %% of its timeout in 2 of 3 periods of "+
					"5 minutes: Cognito gives a trigger 5 s. Look at DependencyLatency on the dashboard (DynamoDB, SES, "+
					"SNS, Secrets Manager) and at cold starts.", id, a.DurationFraction*100),
				metric:     fn.MetricDuration(&awscloudwatch.MetricOptions{Period: fiveMinutes(), Statistic: jsii.String("p99")}),
				threshold:  a.DurationFraction * float64(timeoutSeconds(p, fn)) * 1000,
				op:         awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
				periods:    3,
				datapoints: 2,
			},
		)
	}
	if pl.MetricsNamespace != nil {
		if len(p.Methods) > 0 {
			expr := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
				Expression: jsii.String(fmt.Sprintf(failedSignInsExpression, a.FailedSignInMinimum)),
				UsingMetrics: &map[string]awscloudwatch.IMetric{
					"failed":    pl.metric(metrics.SignInFailed, "Sum", fifteenMinutes(), "", nil),
					"succeeded": pl.metric(metrics.SignInSucceeded, "Sum", fifteenMinutes(), "", nil),
				},
				Period: fifteenMinutes(),
				Label:  jsii.String("failed sign-in ratio"),
			})
			specs = append(specs, alarmSpec{
				id: "FailedSignIns",
				description: fmt.Sprintf("More than %.0f %% of sign-in answers were refused in 15 minutes (with at least %d "+
					"answers): guessing, a broken client release, or codes arriving late. Compare SignInFailed by Reason and "+
					"by Method on the dashboard: wrong_answer from many accounts is an attack or a client bug, expired is "+
					"slow delivery, dependency is an AWS fault.", a.FailedSignInRatio*100, a.FailedSignInMinimum),
				metric:    expr,
				threshold: a.FailedSignInRatio,
				op:        awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			})
		}
		if p.codes() || p.links() {
			specs = append(specs, alarmSpec{
				id: "Lockouts",
				description: fmt.Sprintf("At least %d answers were refused in 15 minutes because the account is locked: "+
					"someone is guessing codes or links, or locking users out. Look for one account (the log lines' user "+
					"reference) or many; the audit trail has account.locked events.", a.Lockouts),
				metric:    pl.metric(metrics.Lockouts, "Sum", fifteenMinutes(), "", nil),
				threshold: float64(a.Lockouts),
				op:        awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			})
		}
		if p.emailChannel() || p.smsChannel() {
			specs = append(specs, alarmSpec{
				id: "SendFailures",
				description: fmt.Sprintf("At least %d codes, links or notices could not be sent in 15 minutes (SES or SNS "+
					"refused or failed): users wait for messages that do not come. Check SendFailed by Channel, the SES "+
					"account (sandbox, quota, paused sending) and the SNS SMS spend limit.", a.SendFailures),
				metric:    pl.metric(metrics.SendFailed, "Sum", fifteenMinutes(), "", nil),
				threshold: float64(a.SendFailures),
				op:        awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			})
		}
	}
	if pl.ConfigurationSet != nil {
		set := pl.ConfigurationSet.ConfigurationSetName()
		rep := func(name string) awscloudwatch.IMetric {
			return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace:     jsii.String(sesNamespace),
				MetricName:    jsii.String(name),
				DimensionsMap: &map[string]*string{sesConfigurationSetDim: set},
				Statistic:     jsii.String("Maximum"),
				Period:        oneHour(),
			})
		}
		specs = append(specs,
			alarmSpec{
				id:    "SESBounceRate",
				level: true,
				description: fmt.Sprintf("The bounce rate of the construct's SES configuration set reached %.1f %%. SES reviews "+
					"an account at 5 %% and may pause its sending at 10 %%. Look at who the bounces were (SES suppression "+
					"list): sign-ups with mistyped or made-up addresses, or a stranger requesting codes for addresses that "+
					"do not exist.", a.BounceRate*100),
				metric:    rep(sesBounceRate),
				threshold: a.BounceRate,
				op:        awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			},
			alarmSpec{
				id:    "SESComplaintRate",
				level: true,
				description: fmt.Sprintf("The complaint rate of the construct's SES configuration set reached %.2f %%. SES "+
					"reviews an account at 0.1 %% and may pause its sending at 0.5 %%. Unrequested codes (someone signing "+
					"up with other people's addresses) are the usual cause: check SendRefused and the sign-up rate.",
					a.ComplaintRate*100),
				metric:    rep(sesComplaintRate),
				threshold: a.ComplaintRate,
				op:        awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			},
		)
	}
	if p.sms() {
		budget := o.SMSMonthlyBudgetUSD
		specs = append(specs, alarmSpec{
			id:    "SMSSpend",
			level: true,
			description: fmt.Sprintf("The account's SMS spend this month in this Region reached %.0f %% of the budget of $%.2f "+
				"(AWS/SNS SMSMonthToDateSpentUSD; every sender in the account counts). SNS stops sending SMS within "+
				"minutes once the account's spending quota is spent. Check Sent and SendRefused by Channel for SMS "+
				"pumping, then raise the quota or lower the SMS limits.", a.SMSBudgetFraction*100, budget),
			metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace:  jsii.String(snsNamespace),
				MetricName: jsii.String(snsSMSMonthToDateSpent),
				Statistic:  jsii.String("Maximum"),
				Period:     fiveMinutes(),
			}),
			threshold: a.SMSBudgetFraction * budget,
			op:        awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		})
	}
	specs = append(specs, alarmSpec{
		id: "Api5xx",
		description: fmt.Sprintf("The HTTP API answered at least %d server errors (5xx) in 5 minutes: the API function failed, "+
			"timed out or was throttled. Read the API's access log (integrationError) and the Api function's log group.",
			a.Api5xx),
		metric:    pl.api5xx(fiveMinutes(), ""),
		threshold: float64(a.Api5xx),
		op:        awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
	})

	scope := constructs.NewConstruct(c, jsii.String("Alarms"))
	out := make([]awscloudwatch.Alarm, 0, len(specs))
	for _, s := range specs {
		periods, datapoints := s.periods, s.datapoints
		if periods == 0 {
			periods = 1
		}
		if datapoints == 0 {
			datapoints = periods
		}
		missing := awscloudwatch.TreatMissingData_NOT_BREACHING
		if s.level {
			missing = awscloudwatch.TreatMissingData_IGNORE
		}
		alarm := awscloudwatch.NewAlarm(scope, jsii.String(s.id), &awscloudwatch.AlarmProps{
			AlarmName:          stackScopedName(c, "/", s.id, alarmNameChars, "_", 255),
			AlarmDescription:   jsii.String(s.description),
			Metric:             s.metric,
			Threshold:          jsii.Number(s.threshold),
			ComparisonOperator: s.op,
			EvaluationPeriods:  jsii.Number(periods),
			DatapointsToAlarm:  jsii.Number(datapoints),
			TreatMissingData:   missing,
		})
		if o.AlarmTopic != nil {
			action := awscloudwatchactions.NewSnsAction(o.AlarmTopic)
			alarm.AddAlarmAction(action)
			alarm.AddOkAction(action)
		}
		out = append(out, alarm)
	}
	return out
}

// api5xx is the HTTP API's 5xx count on its $default stage.
// An alarm's metric has no label: CloudWatch would then need the metric-query form.
func (pl *Passwordless) api5xx(period awscdk.Duration, label string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:  jsii.String(apiGatewayNamespace),
		MetricName: jsii.String(apiGateway5xx),
		DimensionsMap: &map[string]*string{
			"ApiId": pl.API.ApiId(),
			"Stage": jsii.String(apiStageName),
		},
		Statistic: jsii.String("Sum"),
		Period:    period,
		Label:     optional(label),
	})
}

// timeoutSeconds is fn's timeout (the API's or a trigger's).
func timeoutSeconds(_ Props, fn awslambda.Function) int {
	if fn.Node().Id() != nil && *fn.Node().Id() == "Api" {
		return APITimeoutSeconds
	}
	return TriggerTimeoutSeconds
}
