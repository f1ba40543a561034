package passwordless_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/constructs/cdktest"
	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/metrics"
)

// Issue 13: metrics, the audit trail, alarms and the dashboard, as the synthesized template must
// hold them. checkObservability runs for every prop set (defaults: everything on) from
// checkInvariants; the tests below synthesize the switches and the props the prop sets do not
// cover.

const testNamespace = "Passwordless/Test/Passwordless"

// triggerAlarms are the three alarms of each trigger function.
func triggerAlarms(fns ...string) []string {
	var out []string
	for _, f := range fns {
		out = append(out, f+"Errors", f+"Throttles", f+"Duration")
	}
	return out
}

// defaultAlarms are the alarms each prop set gets with the default Observability.
var defaultAlarms = map[string][]string{
	// No method, no email: the triggers and the API only.
	"minimal": append(triggerAlarms("DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse", "PreSignUp"), "Api5xx"),
	"full": append(triggerAlarms("DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse", "PreSignUp"),
		"FailedSignIns", "Lockouts", "SendFailures", "SESBounceRate", "SESComplaintRate", "SMSSpend", "Api5xx"),
	// Native: PostConfirmation is a trigger, PreSignUp is not; device_key only (nothing to lock,
	// nothing the functions send); Cognito sends through the configuration set and by SMS.
	"native": append(triggerAlarms("DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse", "PostConfirmation"),
		"FailedSignIns", "SESBounceRate", "SESComplaintRate", "SMSSpend", "Api5xx"),
	"existing-pool": append(triggerAlarms("DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse", "PreSignUp"), "Api5xx"),
}

// alarmsByName returns the template's alarms by the last part of their name, failing on a name
// outside the construct's "<stack>/<path>/" scheme or a duplicate.
func alarmsByName(t *testing.T, tpl map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, a := range cdktest.Resources(tpl, "AWS::CloudWatch::Alarm") {
		name, ok := a["AlarmName"].(string)
		if !ok || !strings.HasPrefix(name, "Test/Passwordless/") {
			t.Errorf("alarm %s named %v, want Test/Passwordless/<alarm>", id, a["AlarmName"])
			continue
		}
		short := strings.TrimPrefix(name, "Test/Passwordless/")
		if out[short] != nil {
			t.Errorf("two alarms named %s", name)
		}
		out[short] = a
	}
	return out
}

// dimensions returns an alarm's (or metric stat's) dimensions as name -> JSON of the value.
func dimensions(m map[string]any) map[string]string {
	out := map[string]string{}
	ds, _ := m["Dimensions"].([]any)
	for _, d := range ds {
		dm, _ := d.(map[string]any)
		v, _ := json.Marshal(dm["Value"])
		out[fmt.Sprint(dm["Name"])] = string(v)
	}
	return out
}

// auditStatements returns, by role logical ID, the statements allowing any events: action.
func auditStatements(tpl map[string]any) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for role, stmts := range roleStatements(tpl) {
		for _, s := range stmts {
			for _, a := range actionList(s) {
				if strings.HasPrefix(a, "events:") || a == "*" {
					out[role] = append(out[role], s)
					break
				}
			}
		}
	}
	return out
}

// defaultBusARN is the ARN of the default event bus in the stack's partition, Region and account.
const defaultBusARN = `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":events:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":event-bus/default"]]}`

// checkObservability asserts the defaults of issue 13 on one prop set's template.
func checkObservability(t *testing.T, name string, tpl map[string]any) {
	t.Helper()
	fns := cdktest.Resources(tpl, "AWS::Lambda::Function")
	byCmd := functionsByCommand(t, tpl)
	for id, f := range fns {
		env, _ := f["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if vars[metrics.EnvNamespace] != testNamespace {
			t.Errorf("%s: %s = %v, want %s", id, metrics.EnvNamespace, vars[metrics.EnvNamespace], testNamespace)
		}
		cmd := strings.TrimPrefix(fmt.Sprint(f["Description"]), "passwordless ")
		audits := cmd == "verify" || cmd == "api"
		if got := vars[passwordless.EnvAuditEventBus]; audits && got != "default" || !audits && got != nil {
			t.Errorf("%s: %s = %v", cmd, passwordless.EnvAuditEventBus, got)
		}
		if got := vars[passwordless.EnvAuditSource]; audits && got != "passwordless" || !audits && got != nil {
			t.Errorf("%s: %s = %v", cmd, passwordless.EnvAuditSource, got)
		}
	}
	// events:PutEvents on the default bus's ARN, for Verify and the API only.
	audit := auditStatements(tpl)
	for role, stmts := range audit {
		if role != byCmd["verify"].role && role != byCmd["api"].role {
			t.Errorf("role %s may call %v", role, actionList(stmts[0]))
		}
		for _, s := range stmts {
			res, _ := json.Marshal(s["Resource"])
			if fmt.Sprint(actionList(s)) != "[events:PutEvents]" || string(res) != defaultBusARN || s["Condition"] != nil && s["Effect"] != "Allow" {
				t.Errorf("role %s: audit statement %v on %s, want events:PutEvents on %s", role, actionList(s), res, defaultBusARN)
			}
		}
	}
	for _, cmd := range []string{"verify", "api"} {
		if len(audit[byCmd[cmd].role]) != 1 {
			t.Errorf("%s: %d audit statements, want 1", cmd, len(audit[byCmd[cmd].role]))
		}
	}

	alarms := alarmsByName(t, tpl)
	got := slices.Sorted(func(yield func(string) bool) {
		for k := range alarms {
			if !yield(k) {
				return
			}
		}
	})
	want := slices.Clone(defaultAlarms[name])
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("alarms %v, want %v", got, want)
	}
	for n, a := range alarms {
		// Counts: an empty period is a quiet one. Levels (month-to-date spend, reputation
		// rates): an empty period says nothing, the alarm keeps its state.
		wantMissing := "notBreaching"
		if n == "SMSSpend" || n == "SESBounceRate" || n == "SESComplaintRate" {
			wantMissing = "ignore"
		}
		if a["TreatMissingData"] != wantMissing {
			t.Errorf("alarm %s: TreatMissingData %v, want %s", n, a["TreatMissingData"], wantMissing)
		}
		if a["AlarmActions"] != nil || a["OKActions"] != nil {
			t.Errorf("alarm %s has actions without an AlarmTopic", n)
		}
		if d, _ := a["AlarmDescription"].(string); len(d) < 80 {
			t.Errorf("alarm %s: description too thin to act on: %q", n, d)
		}
	}
	if n := len(cdktest.Resources(tpl, "AWS::CloudWatch::Dashboard")); n != 1 {
		t.Errorf("%d dashboards, want 1", n)
	}
}

// TestAlarmProperties pins what each alarm of the full prop set watches and when it fires.
func TestAlarmProperties(t *testing.T) {
	tpl, _ := synthSet(t, propSets[1])
	alarms := alarmsByName(t, tpl)
	fns := functionsByCommand(t, tpl)
	var set, api string
	for id := range cdktest.Resources(tpl, "AWS::SES::ConfigurationSet") {
		set = id
	}
	for id := range cdktest.Resources(tpl, "AWS::ApiGatewayV2::Api") {
		api = id
	}
	type want struct {
		ns, metric, stat, op string
		period, threshold    float64
		periods, datapoints  float64
		dims                 map[string]string
	}
	fn := func(cmd string) map[string]string {
		return map[string]string{"FunctionName": `{"Ref":"` + fns[cmd].id + `"}`}
	}
	checks := map[string]want{
		"DefineAuthChallengeErrors":           {"AWS/Lambda", "Errors", "Sum", "GreaterThanThreshold", 300, 0, 1, 1, fn("define")},
		"CreateAuthChallengeThrottles":        {"AWS/Lambda", "Throttles", "Sum", "GreaterThanThreshold", 300, 0, 1, 1, fn("create")},
		"VerifyAuthChallengeResponseDuration": {"AWS/Lambda", "Duration", "p99", "GreaterThanThreshold", 300, 3200, 3, 2, fn("verify")},
		"PreSignUpErrors":                     {"AWS/Lambda", "Errors", "Sum", "GreaterThanThreshold", 300, 0, 1, 1, fn("presignup")},
		"Lockouts":                            {testNamespace, metrics.Lockouts, "Sum", "GreaterThanOrEqualToThreshold", 900, 10, 1, 1, map[string]string{}},
		"SendFailures":                        {testNamespace, metrics.SendFailed, "Sum", "GreaterThanOrEqualToThreshold", 900, 3, 1, 1, map[string]string{}},
		"SESBounceRate": {"AWS/SES", "Reputation.BounceRate", "Maximum", "GreaterThanOrEqualToThreshold", 3600, 0.02, 1, 1,
			map[string]string{"ses:configuration-set": `{"Ref":"` + set + `"}`}},
		"SESComplaintRate": {"AWS/SES", "Reputation.ComplaintRate", "Maximum", "GreaterThanOrEqualToThreshold", 3600, 0.0005, 1, 1,
			map[string]string{"ses:configuration-set": `{"Ref":"` + set + `"}`}},
		"SMSSpend": {"AWS/SNS", "SMSMonthToDateSpentUSD", "Maximum", "GreaterThanOrEqualToThreshold", 300, 0.8, 1, 1, map[string]string{}},
		"Api5xx": {"AWS/ApiGateway", "5xx", "Sum", "GreaterThanOrEqualToThreshold", 300, 5, 1, 1,
			map[string]string{"ApiId": `{"Ref":"` + api + `"}`, "Stage": `"$default"`}},
	}
	for n, w := range checks {
		a := alarms[n]
		if a == nil {
			t.Errorf("no alarm %s", n)
			continue
		}
		stat := a["Statistic"]
		if stat == nil {
			stat = a["ExtendedStatistic"]
		}
		if a["Namespace"] != w.ns || a["MetricName"] != w.metric || stat != w.stat || a["ComparisonOperator"] != w.op ||
			a["Period"] != w.period || a["Threshold"] != w.threshold || a["EvaluationPeriods"] != w.periods || a["DatapointsToAlarm"] != w.datapoints {
			t.Errorf("alarm %s: %v %v %v %v period %v threshold %v periods %v/%v; want %+v", n, a["Namespace"], a["MetricName"], stat,
				a["ComparisonOperator"], a["Period"], a["Threshold"], a["DatapointsToAlarm"], a["EvaluationPeriods"], w)
		}
		if got := dimensions(a); fmt.Sprint(got) != fmt.Sprint(w.dims) {
			t.Errorf("alarm %s: dimensions %v, want %v", n, got, w.dims)
		}
	}

	// The failed-sign-in ratio: metric math over the two sign-in counts (no dimension), with a
	// minimum volume so one wrong answer out of one does not page.
	ratio := alarms["FailedSignIns"]
	if ratio["Threshold"] != 0.5 || ratio["ComparisonOperator"] != "GreaterThanThreshold" || ratio["EvaluationPeriods"] != 1.0 {
		t.Errorf("FailedSignIns: threshold %v %v periods %v", ratio["Threshold"], ratio["ComparisonOperator"], ratio["EvaluationPeriods"])
	}
	ms, _ := ratio["Metrics"].([]any)
	stats := map[string]string{}
	var expr string
	for _, m := range ms {
		q, _ := m.(map[string]any)
		if e, ok := q["Expression"].(string); ok {
			expr = e
			if q["ReturnData"] == false {
				t.Error("FailedSignIns: the expression is not what the alarm evaluates")
			}
			continue
		}
		st, _ := q["MetricStat"].(map[string]any)
		mt, _ := st["Metric"].(map[string]any)
		if mt["Namespace"] != testNamespace || st["Stat"] != "Sum" || st["Period"] != 900.0 || len(dimensions(mt)) != 0 || q["ReturnData"] != false {
			t.Errorf("FailedSignIns input %v: %v %v %v dims %v", q["Id"], mt["Namespace"], st["Stat"], st["Period"], dimensions(mt))
		}
		stats[fmt.Sprint(q["Id"])] = fmt.Sprint(mt["MetricName"])
	}
	if stats["failed"] != metrics.SignInFailed || stats["succeeded"] != metrics.SignInSucceeded {
		t.Errorf("FailedSignIns reads %v", stats)
	}
	if expr != "IF(FILL(failed,0)+FILL(succeeded,0) >= 10, FILL(failed,0)/(FILL(failed,0)+FILL(succeeded,0)), 0)" {
		t.Errorf("FailedSignIns expression %q", expr)
	}
}

// synthObservability synthesizes the construct with o on top of props, cdk-nag applied and
// checked, and returns the template.
func synthObservability(t *testing.T, props func(awscdk.Stack) *passwordless.Props, o func(awscdk.Stack) *passwordless.ObservabilityProps) map[string]any {
	t.Helper()
	app := cdktest.NewApp(t, cdktest.Options{Validate: true})
	stack := awscdk.NewStack(app, jsii.String("Test"), nil)
	if err := cdktest.Catch(func() {
		p := props(stack)
		p.Observability = o(stack)
		passwordless.New(stack, jsii.String("Passwordless"), p)
	}); err != nil {
		t.Fatalf("New: %v", err)
	}
	asm := cdktest.Synth(t, app)
	for _, f := range asm.NagFindings(t, "Test", "Non-Compliant") {
		t.Errorf("unsuppressed cdk-nag finding %s (%s) on %s", f.Rule, f.Level, f.Resource)
	}
	if v := asm.ValidationViolations(t); len(v) > 0 {
		t.Errorf("CloudFormation validation violations:\n%s", strings.Join(v, "\n"))
	}
	return asm.Template(t, "Test")
}

// fullProps is the full prop set's props.
func fullProps(stack awscdk.Stack) *passwordless.Props { return propSets[1].props(stack) }

// TestAlarmTopic: with an AlarmTopic every alarm notifies it on ALARM and on OK; nothing else.
func TestAlarmTopic(t *testing.T) {
	const topicARN = "arn:aws:sns:eu-west-1:123456789012:oncall"
	tpl := synthObservability(t, fullProps, func(stack awscdk.Stack) *passwordless.ObservabilityProps {
		return &passwordless.ObservabilityProps{AlarmTopic: awssns.Topic_FromTopicArn(stack, jsii.String("OnCall"), jsii.String(topicARN))}
	})
	alarms := alarmsByName(t, tpl)
	if len(alarms) != len(defaultAlarms["full"]) {
		t.Errorf("%d alarms, want %d", len(alarms), len(defaultAlarms["full"]))
	}
	for n, a := range alarms {
		for _, k := range []string{"AlarmActions", "OKActions"} {
			if got, _ := json.Marshal(a[k]); string(got) != `["`+topicARN+`"]` {
				t.Errorf("alarm %s: %s %s, want [%s]", n, k, got, topicARN)
			}
		}
		if a["InsufficientDataActions"] != nil {
			t.Errorf("alarm %s notifies on INSUFFICIENT_DATA", n)
		}
	}
}

// TestObservabilityOff: each part switched off leaves nothing of it in the template, and all of
// them off leave no trace of issue 13 at all (no variable, no statement, no alarm, no dashboard).
func TestObservabilityOff(t *testing.T) {
	cases := []struct {
		name                      string
		o                         passwordless.ObservabilityProps
		metrics, audit, dashboard bool
		alarms                    int
		ownAlarms                 bool
	}{
		{"all off", passwordless.ObservabilityProps{MetricsDisabled: true, AuditDisabled: true,
			Alarms: passwordless.AlarmProps{Disabled: true}, DashboardDisabled: true}, false, false, false, 0, false},
		{"metrics off", passwordless.ObservabilityProps{MetricsDisabled: true}, false, true, true, len(defaultAlarms["full"]) - 3, false},
		{"audit off", passwordless.ObservabilityProps{AuditDisabled: true}, true, false, true, len(defaultAlarms["full"]), true},
		{"alarms off", passwordless.ObservabilityProps{Alarms: passwordless.AlarmProps{Disabled: true}}, true, true, true, 0, false},
		{"dashboard off", passwordless.ObservabilityProps{DashboardDisabled: true}, true, true, false, len(defaultAlarms["full"]), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tpl := synthObservability(t, fullProps, func(awscdk.Stack) *passwordless.ObservabilityProps { o := c.o; return &o })
			raw, _ := json.Marshal(tpl)
			for _, k := range []string{metrics.EnvNamespace, testNamespace} {
				if strings.Contains(string(raw), k) != c.metrics {
					t.Errorf("%s in the template: %v, want %v", k, !c.metrics, c.metrics)
				}
			}
			for _, k := range []string{passwordless.EnvAuditEventBus, passwordless.EnvAuditSource, "events:PutEvents"} {
				if strings.Contains(string(raw), k) != c.audit {
					t.Errorf("%s in the template: %v, want %v", k, !c.audit, c.audit)
				}
			}
			if len(auditStatements(tpl)) > 0 != c.audit {
				t.Errorf("audit statements %v", auditStatements(tpl))
			}
			alarms := alarmsByName(t, tpl)
			if len(alarms) != c.alarms {
				t.Errorf("%d alarms, want %d", len(alarms), c.alarms)
			}
			_, own := alarms["FailedSignIns"]
			if own != c.ownAlarms {
				t.Errorf("alarms on the construct's own metrics: %v, want %v", own, c.ownAlarms)
			}
			if n := len(cdktest.Resources(tpl, "AWS::CloudWatch::Dashboard")); (n == 1) != c.dashboard || n > 1 {
				t.Errorf("%d dashboards", n)
			}
			if c.name == "all off" {
				for _, typ := range []string{"AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard", "AWS::CloudWatch::CompositeAlarm"} {
					if n := len(cdktest.Resources(tpl, typ)); n != 0 {
						t.Errorf("%d %s with everything off", n, typ)
					}
				}
			}
		})
	}
}

// TestAuditEventBus: a bus of the stack is named and granted exactly; another account's bus is
// named by its ARN (PutEvents needs it); a bus of another Region is refused; the source must not
// be one of AWS's.
func TestAuditEventBus(t *testing.T) {
	t.Run("bus of the stack", func(t *testing.T) {
		tpl := synthObservability(t, fullProps, func(stack awscdk.Stack) *passwordless.ObservabilityProps {
			return &passwordless.ObservabilityProps{
				EventBus:    awsevents.NewEventBus(stack, jsii.String("AuditBus"), &awsevents.EventBusProps{EventBusName: jsii.String("audit")}),
				AuditSource: "com.example.auth",
			}
		})
		var bus string
		for id := range cdktest.Resources(tpl, "AWS::Events::EventBus") {
			bus = id
		}
		fns := functionsByCommand(t, tpl)
		for _, cmd := range []string{"verify", "api"} {
			vars := envOf(fns, cmd)
			if got, _ := json.Marshal(vars[passwordless.EnvAuditEventBus]); string(got) != `{"Ref":"`+bus+`"}` {
				t.Errorf("%s: %s %s, want the bus's name", cmd, passwordless.EnvAuditEventBus, got)
			}
			if vars[passwordless.EnvAuditSource] != "com.example.auth" {
				t.Errorf("%s: %s %v", cmd, passwordless.EnvAuditSource, vars[passwordless.EnvAuditSource])
			}
		}
		for role, stmts := range auditStatements(tpl) {
			for _, s := range stmts {
				if res, _ := json.Marshal(s["Resource"]); string(res) != `{"Fn::GetAtt":["`+bus+`","Arn"]}` {
					t.Errorf("role %s: events:PutEvents on %s, want the bus only", role, res)
				}
			}
		}
	})
	t.Run("bus of another account", func(t *testing.T) {
		const arn = "arn:aws:events:eu-west-1:210987654321:event-bus/security"
		tpl, err := synthStack(t, &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")},
			func(stack awscdk.Stack) *passwordless.Props {
				p := fullProps(stack)
				p.Observability = &passwordless.ObservabilityProps{EventBus: awsevents.EventBus_FromEventBusArn(stack, jsii.String("Bus"), jsii.String(arn))}
				return p
			})
		if err != nil {
			t.Fatal(err)
		}
		fns := functionsByCommand(t, tpl)
		if got := envOf(fns, "verify")[passwordless.EnvAuditEventBus]; got != arn {
			t.Errorf("%s %v, want the ARN %s", passwordless.EnvAuditEventBus, got, arn)
		}
		for role, stmts := range auditStatements(tpl) {
			for _, s := range stmts {
				if s["Resource"] != arn {
					t.Errorf("role %s: events:PutEvents on %v, want %s", role, s["Resource"], arn)
				}
			}
		}
	})
	t.Run("bus of another Region", func(t *testing.T) {
		_, err := synthStack(t, &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")},
			func(stack awscdk.Stack) *passwordless.Props {
				p := fullProps(stack)
				p.Observability = &passwordless.ObservabilityProps{EventBus: awsevents.EventBus_FromEventBusArn(stack, jsii.String("Bus"),
					jsii.String("arn:aws:events:us-east-1:123456789012:event-bus/security"))}
				return p
			})
		if err == nil || !strings.Contains(err.Error(), "us-east-1") {
			t.Fatalf("a bus of another Region was accepted: %v", err)
		}
	})
}

// TestMetricsNamespace: the default namespace is per construct and CloudWatch-valid whatever the
// construct ID; a given one is used as it is, everywhere (functions, alarms, dashboard).
func TestMetricsNamespace(t *testing.T) {
	for _, c := range []struct{ id, want string }{
		{"Passwordless", testNamespace},
		{"Auth (eu)", "Passwordless/Test/Auth _eu_-"},
		{strings.Repeat("A", 300), "Passwordless/Test/AAAA"},
	} {
		t.Run(c.id[:min(len(c.id), 12)], func(t *testing.T) {
			app := cdktest.NewApp(t, cdktest.Options{})
			stack := awscdk.NewStack(app, jsii.String("Test"), nil)
			var pl *passwordless.Passwordless
			if err := cdktest.Catch(func() { pl = passwordless.New(stack, jsii.String(c.id), nil) }); err != nil {
				t.Fatal(err)
			}
			if pl.MetricsNamespace == nil {
				t.Fatal("no metrics namespace with the defaults")
			}
			ns := *pl.MetricsNamespace
			if !strings.HasPrefix(ns, c.want) || metrics.ValidNamespace(ns) != nil {
				t.Errorf("namespace %q (%v), want %q...", ns, metrics.ValidNamespace(ns), c.want)
			}
		})
	}
	tpl := synthObservability(t, fullProps, func(awscdk.Stack) *passwordless.ObservabilityProps {
		return &passwordless.ObservabilityProps{Namespace: "Acme/SignIn"}
	})
	raw, _ := json.Marshal(tpl)
	if strings.Contains(string(raw), testNamespace) || strings.Count(string(raw), "Acme/SignIn") < 8 {
		t.Errorf("the given namespace is not used everywhere (%d uses)", strings.Count(string(raw), "Acme/SignIn"))
	}
}

// dashboardBody returns the dashboard's body as JSON, each token (a reference resolved at
// deploy time) replaced by "TOKEN".
func dashboardBody(t *testing.T, tpl map[string]any) (name string, body map[string]any) {
	t.Helper()
	_, d := cdktest.One(t, tpl, "AWS::CloudWatch::Dashboard")
	name = fmt.Sprint(d["DashboardName"])
	var b strings.Builder
	switch v := d["DashboardBody"].(type) {
	case string:
		b.WriteString(v)
	case map[string]any:
		join, _ := v["Fn::Join"].([]any)
		parts, _ := join[1].([]any)
		for _, p := range parts {
			if s, ok := p.(string); ok {
				b.WriteString(s)
			} else {
				b.WriteString("TOKEN")
			}
		}
	}
	if err := json.Unmarshal([]byte(b.String()), &body); err != nil {
		t.Fatalf("dashboard body is not JSON: %v\n%s", err, b.String())
	}
	return name, body
}

// TestDashboard: one dashboard per construct with the widgets issue 13 lists, reading the
// metric names and dimension values package metrics writes.
func TestDashboard(t *testing.T) {
	tpl, _ := synthSet(t, propSets[1])
	name, body := dashboardBody(t, tpl)
	if name != "Test-Passwordless" {
		t.Errorf("dashboard name %q", name)
	}
	titles := map[string][]any{}
	var alarmWidget bool
	widgets, _ := body["widgets"].([]any)
	for _, w := range widgets {
		wm, _ := w.(map[string]any)
		props, _ := wm["properties"].(map[string]any)
		if wm["type"] == "alarm" {
			alarmWidget = true
			if as, _ := props["alarms"].([]any); len(as) != len(defaultAlarms["full"]) {
				t.Errorf("alarm widget shows %d alarms", len(as))
			}
			continue
		}
		ms, _ := props["metrics"].([]any)
		titles[fmt.Sprint(props["title"])] = ms
	}
	if !alarmWidget {
		t.Error("no alarm status widget")
	}
	// metricLines renders a widget's metrics as "namespace name dim=value ...".
	metricLines := func(title string) []string {
		var out []string
		for _, m := range titles[title] {
			row, _ := m.([]any)
			var parts []string
			ns := ""
			for i, x := range row {
				s, ok := x.(string)
				if !ok {
					break
				}
				if i == 0 {
					ns = s
				}
				parts = append(parts, s)
			}
			_ = ns
			out = append(out, strings.Join(parts, " "))
		}
		return out
	}
	for title, want := range map[string][]string{
		"Sign-ins by method and outcome": {
			testNamespace + " SignInStarted",
			testNamespace + " SignInSucceeded Method email_otp", testNamespace + " SignInFailed Method email_otp",
			testNamespace + " SignInSucceeded Method passkey", testNamespace + " SignInFailed Method magic_link",
		},
		"Failed sign-ins by reason, and lockouts": {
			testNamespace + " SignInFailed Reason wrong_answer", testNamespace + " SignInFailed Reason dependency", testNamespace + " Lockouts",
		},
		"Trigger latency (Lambda Duration p50, p99, ms)": {"AWS/Lambda Duration FunctionName TOKEN"},
		"Errors": {"AWS/Lambda Errors FunctionName TOKEN", "AWS/Lambda Throttles FunctionName TOKEN", "AWS/ApiGateway 5xx",
			testNamespace + " DependencyErrors Dependency dynamodb", testNamespace + " DependencyErrors Dependency sns",
			testNamespace + " NotificationFailed", testNamespace + " AuditUndelivered"},
		"Sends by channel (codes, links, notices)": {testNamespace + " Sent Channel email", testNamespace + " SendFailed Channel sms"},
		"Send refusals by channel and rule": {testNamespace + " SendRefused Channel email Reason rate_limit",
			testNamespace + " SendRefused Channel sms Reason country", testNamespace + " SendRefused Channel sms Reason budget"},
		"Dependency latency (AWS calls, ms)":                          {testNamespace + " DependencyLatency Dependency ses", testNamespace + " DependencyLatency Dependency events"},
		"SES reputation of the configuration set (rate, 0-1)":         {"AWS/SES Reputation.BounceRate ses:configuration-set TOKEN", "AWS/SES Reputation.ComplaintRate ses:configuration-set TOKEN"},
		"SMS month-to-date spend (USD, whole account in this Region)": {"AWS/SNS SMSMonthToDateSpentUSD"},
		"Device keys and passkeys registered and revoked":             {testNamespace + " KeyRegistered Method device_key", testNamespace + " KeyRevoked Method passkey"},
	} {
		lines := metricLines(title)
		if lines == nil {
			t.Errorf("no widget %q (have %v)", title, slices.Collect(func(yield func(string) bool) {
				for k := range titles {
					if !yield(k) {
						return
					}
				}
			}))
			continue
		}
		for _, w := range want {
			found := slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, w) })
			if !found {
				t.Errorf("widget %q lacks %q: %v", title, w, lines)
			}
		}
	}
	// Every metric of the construct's namespace is one package metrics writes, with dimension
	// values it writes (anything else would be an empty graph).
	for title, ms := range titles {
		for _, m := range ms {
			row, _ := m.([]any)
			if len(row) < 2 || row[0] != testNamespace {
				continue
			}
			if !slices.Contains(metrics.Names(), fmt.Sprint(row[1])) {
				t.Errorf("widget %q reads %v, not a metric of package metrics", title, row[1])
			}
			for i := 2; i+1 < len(row); i += 2 {
				k, ok1 := row[i].(string)
				v, ok2 := row[i+1].(string)
				if ok1 && ok2 && !metrics.Allowed(k, v) {
					t.Errorf("widget %q: dimension %s=%s is not one package metrics writes", title, k, v)
				}
			}
		}
	}
}

// TestDashboardWithoutSMSOrEmail: the minimal construct's dashboard has no SES, SMS, send or
// sign-in widget (nothing would ever be drawn), and still its errors and latency.
func TestDashboardWithoutSMSOrEmail(t *testing.T) {
	tpl, _ := synthSet(t, propSets[0])
	_, body := dashboardBody(t, tpl)
	raw, _ := json.Marshal(body)
	for _, absent := range []string{"AWS/SES", "AWS/SNS", "Sends by channel", "Sign-ins by method", "DependencyLatency\",\"Dependency\",\"dynamodb"} {
		if strings.Contains(string(raw), absent) {
			t.Errorf("minimal dashboard has %s", absent)
		}
	}
	for _, present := range []string{"Trigger latency", "\"Errors\"", "AWS/ApiGateway"} {
		if !strings.Contains(string(raw), present) {
			t.Errorf("minimal dashboard lacks %s", present)
		}
	}
}

// TestObservabilityEnvFits: the metric and audit variables keep every function inside Lambda's
// 4 KB environment in the full prop set (the largest).
func TestObservabilityEnvFits(t *testing.T) {
	tpl, _ := synthSet(t, propSets[1])
	fns := functionsByCommand(t, tpl)
	for _, cmd := range commands {
		if n := envBytes(envOf(fns, cmd)); n > 3500 {
			t.Errorf("%s environment is %d bytes, too close to Lambda's 4 KB", cmd, n)
		}
	}
}

// TestSMSOnlyWithSMS: without SMS there is no spend alarm or widget, and a budget is refused.
func TestSMSOnlyWithSMS(t *testing.T) {
	email := func(awscdk.Stack) *passwordless.Props {
		return &passwordless.Props{Methods: []passwordless.Method{passwordless.EmailOTP},
			Email: &passwordless.EmailProps{From: "no-reply@example.com"}}
	}
	tpl := synthObservability(t, email, func(awscdk.Stack) *passwordless.ObservabilityProps { return nil })
	raw, _ := json.Marshal(tpl)
	if strings.Contains(string(raw), "SMSMonthToDateSpentUSD") {
		t.Error("SMS spend watched without SMS")
	}
	if _, ok := alarmsByName(t, tpl)["SMSSpend"]; ok {
		t.Error("SMSSpend alarm without SMS")
	}
	p := email(nil)
	p.Observability = &passwordless.ObservabilityProps{SMSMonthlyBudgetUSD: 50}
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "SMS is off") {
		t.Errorf("budget without SMS: %v", err)
	}
}

// nopPutter stands in for EventBridge.
type nopPutter struct{}

func (nopPutter) PutEvents(context.Context, []awsapi.EventEntry) (int, error) { return 0, nil }

// TestObservabilityEnvParses: what the construct writes, the functions read: every function's
// METRICS_NAMESPACE passes metrics.FromEnv, and Verify's and the API's audit variables pass
// audit.FromEnv, for the defaults and for a bus and source given in props.
func TestObservabilityEnvParses(t *testing.T) {
	check := func(t *testing.T, tpl map[string]any) {
		fns := functionsByCommand(t, tpl)
		for _, cmd := range commands {
			vars := envOf(fns, cmd)
			r, err := metrics.FromEnv(getenv(vars), io.Discard)
			if err != nil || r == nil {
				t.Errorf("%s: metrics.FromEnv: %v %v", cmd, r, err)
			}
			p, err := audit.FromEnv(getenv(vars), nopPutter{}, nil, nil, cmd)
			if audits := cmd == "verify" || cmd == "api"; err != nil || (p != nil) != audits {
				t.Errorf("%s: audit.FromEnv: publisher %v, error %v", cmd, p != nil, err)
			}
		}
	}
	t.Run("defaults", func(t *testing.T) {
		tpl, _ := synthSet(t, propSets[1])
		check(t, tpl)
	})
	t.Run("given", func(t *testing.T) {
		check(t, synthObservability(t, fullProps, func(stack awscdk.Stack) *passwordless.ObservabilityProps {
			return &passwordless.ObservabilityProps{Namespace: "Acme/Sign-in #1: eu", AuditSource: "com.acme-auth_1",
				EventBus: awsevents.EventBus_FromEventBusArn(stack, jsii.String("Bus"), jsii.String("arn:aws:events:eu-west-1:210987654321:event-bus/security"))}
		}))
	})
	if passwordless.EnvAuditEventBus != audit.EnvEventBus || passwordless.EnvAuditSource != audit.EnvSource || passwordless.DefaultAuditSource != audit.DefaultSource {
		t.Error("the construct's audit variables differ from package audit's")
	}
}
