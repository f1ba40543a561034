package stacks_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/constructs/cdktest"
	"github.com/passwordless-go/cognito/infra/stacks"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

// cdkContext reads the context of the repository's cdk.json, the one `cdk synth` uses.
func cdkContext(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	return cfg.Context
}

// TestEnvironments synthesizes every environment of cdk.json as `make synth ENV=...` does (bundling
// skipped): golden template, no CloudFormation validation violation, no unsuppressed cdk-nag finding.
func TestEnvironments(t *testing.T) {
	ctx := cdkContext(t)
	if ctx["@aws-cdk/core:validateAgainstDefaultRules"] != true {
		t.Error("cdk.json must turn template validation findings into errors")
	}
	// Cognito user pools, SES and SNS SMS are not available in the China Regions (aws-cn): the
	// app claims only the partitions it can deploy to.
	if got, _ := json.Marshal(ctx["@aws-cdk/core:target-partitions"]); string(got) != `["aws"]` {
		t.Errorf("cdk.json target partitions %s, want [\"aws\"]", got)
	}
	envs, _ := ctx[stacks.ContextEnvironments].(map[string]any)
	for _, want := range []string{"dev", "prod"} {
		if envs[want] == nil {
			t.Errorf("cdk.json has no %s environment", want)
		}
	}
	for _, name := range cdktest.SortedKeys(envs) {
		t.Run(name, func(t *testing.T) {
			settings, err := stacks.Load(envs, name)
			if err != nil {
				t.Fatal(err)
			}
			app := cdktest.NewApp(t, cdktest.Options{Validate: true, Context: ctx})
			if err := cdktest.Catch(func() { stacks.New(app, name, settings) }); err != nil {
				t.Fatal(err)
			}
			asm := cdktest.Synth(t, app)
			cdktest.Golden(t, "stack-"+name+".template.json", cdktest.Mask(asm.Template(t, settings.StackName)))
			if v := asm.ValidationViolations(t); len(v) > 0 {
				t.Errorf("CloudFormation validation violations:\n%s", strings.Join(v, "\n"))
			}
			for _, f := range asm.NagFindings(t, settings.StackName, "Non-Compliant") {
				t.Errorf("unsuppressed cdk-nag finding %s (%s) on %s", f.Rule, f.Level, f.Resource)
			}
			tpl := asm.Template(t, settings.StackName)
			retained := 0
			for _, r := range tpl["Resources"].(map[string]any) {
				if r.(map[string]any)["DeletionPolicy"] == "Retain" {
					retained++
				}
			}
			if settings.Protect != (retained == 3) {
				t.Errorf("protect=%v but %d resources retained (want the pool, the table and the deployment secret)", settings.Protect, retained)
			}
			checkObservability(t, name, settings, tpl)
		})
	}
}

func TestLoad(t *testing.T) {
	envs := map[string]any{
		"dev":  map[string]any{"senderAddress": "a@example.com"},
		"prod": map[string]any{"account": "123456789012", "region": "eu-west-1", "protect": true},
	}
	s, err := stacks.Load(envs, "")
	if err != nil || s.StackName != "Passwordless-dev" || s.SenderAddress != "a@example.com" {
		t.Fatalf("default env: %+v %v", s, err)
	}
	p, err := stacks.Load(envs, "prod")
	if err != nil || p.Account != "123456789012" || !p.Protect {
		t.Fatalf("prod: %+v %v", p, err)
	}
	// An existing SES identity and an origination number reach the construct.
	more := map[string]any{"dev": map[string]any{
		"senderAddress": "a@example.com", "existingSenderIdentity": "example.com",
		"signInAliases": []string{"email", "phone"}, "methods": []string{"email_otp", "sms_otp"},
		"smsAllowedCountries": []string{"US"}, "smsOriginationNumber": "+18885550100",
	}}
	m, err := stacks.Load(more, "dev")
	if err != nil {
		t.Fatal(err)
	}
	props, err := m.Props()
	if err != nil || props.Email == nil || props.Email.ExistingIdentity != "example.com" || props.SMS.OriginationNumber != "+18885550100" {
		t.Fatalf("props %+v %v: existing identity and origination number not passed on", props, err)
	}
	// Magic links and notifications reach the construct.
	links := map[string]any{"dev": map[string]any{
		"senderAddress": "a@example.com", "methods": []string{"email_otp", "device_key", "magic_link"},
		"magicLinkUrls": []string{"http://localhost:3000/signin"}, "magicLinkMinutes": 10, "magicLinkSameDevice": true,
		"notifyEvents": []string{"key_added", "account_locked"},
	}}
	l, err := stacks.Load(links, "dev")
	if err != nil {
		t.Fatal(err)
	}
	lp, err := l.Props()
	if err != nil || lp.MagicLink == nil || lp.MagicLink.RedirectURLs[0] != "http://localhost:3000/signin" || lp.MagicLink.TTL != 10*time.Minute ||
		!lp.MagicLink.SameDevice || lp.Notifications == nil || fmt.Sprint(lp.Notifications.Events) != "[key_added account_locked]" {
		t.Fatalf("props %+v %v: magic link or notification settings not passed on", lp, err)
	}
	// Observability switches and the SMS budget reach the construct.
	obs := map[string]any{"dev": map[string]any{
		"signInAliases": []string{"phone"}, "methods": []string{"sms_otp"},
		"metricsDisabled": true, "auditDisabled": true, "alarmsDisabled": true, "dashboardDisabled": true, "smsMonthlyBudgetUsd": 25,
	}}
	o, err := stacks.Load(obs, "dev")
	if err != nil {
		t.Fatal(err)
	}
	op, err := o.Props()
	if err != nil || op.Observability == nil || !op.Observability.MetricsDisabled || !op.Observability.AuditDisabled ||
		!op.Observability.Alarms.Disabled || !op.Observability.DashboardDisabled || op.Observability.SMSMonthlyBudgetUSD != 25 {
		t.Fatalf("props %+v %v: observability settings not passed on", op, err)
	}
	if p, _ := s.Props(); p.Observability != nil {
		t.Errorf("observability %+v without settings, want nil (every default on)", p.Observability)
	}
	cases := []struct {
		name string
		envs any
		env  string
		want string
	}{
		{"unknown environment", envs, "staging", `unknown environment "staging" (known: dev, prod)`},
		{"missing context", nil, "dev", "missing"},
		{"not an object", "dev", "dev", "not an object"},
		{"unknown key", map[string]any{"dev": map[string]any{"senderAdress": "a@example.com"}}, "dev", `unknown field "senderAdress"`},
		{"bad account", map[string]any{"dev": map[string]any{"account": "12345"}}, "dev", "12-digit"},
		{"bad region", map[string]any{"dev": map[string]any{"region": "Europe"}}, "dev", "Region name"},
		{"bad stack name", map[string]any{"dev": map[string]any{"stackName": "1 stack"}}, "dev", "stack name"},
		{"bad alias", map[string]any{"dev": map[string]any{"signInAliases": []string{"username"}}}, "dev", "unknown alias"},
		{"bad method", map[string]any{"dev": map[string]any{"methods": []string{"password"}}}, "dev", "unknown sign-in method"},
		{"email otp without sender", map[string]any{"dev": map[string]any{"methods": []string{"email_otp"}}}, "dev", "needs Email"},
		{"bad origin", map[string]any{"dev": map[string]any{"allowedOrigins": []string{"https://app.example.com/"}}}, "dev", "allowed origin"},
		{"bad retention", map[string]any{"dev": map[string]any{"logRetentionDays": 8}}, "dev", "LogRetentionDays"},
		{"wrong type", map[string]any{"dev": map[string]any{"protect": "yes"}}, "dev", "protect"},
		{"bad env name", map[string]any{"Dev_1": map[string]any{}}, "Dev_1", "environment name"},
		{"sms to US without origination number", map[string]any{"dev": map[string]any{"signInAliases": []string{"phone"},
			"methods": []string{"sms_otp"}, "smsAllowedCountries": []string{"US"}}}, "dev", "SMS.OriginationNumber"},
		{"existing identity outside sender", map[string]any{"dev": map[string]any{"senderAddress": "a@other.com",
			"existingSenderIdentity": "example.com"}}, "dev", "not in the existing identity"},
		{"magic link without URLs", map[string]any{"dev": map[string]any{"senderAddress": "a@example.com",
			"methods": []string{"magic_link"}}}, "dev", "MagicLink.RedirectURLs"},
		{"magic link too long", map[string]any{"dev": map[string]any{"senderAddress": "a@example.com", "methods": []string{"magic_link"},
			"magicLinkUrls": []string{"https://app.example.com/"}, "magicLinkMinutes": 90}}, "dev", "MAGIC_LINK_TTL"},
		{"magic link URL over http", map[string]any{"dev": map[string]any{"senderAddress": "a@example.com", "methods": []string{"magic_link"},
			"magicLinkUrls": []string{"http://app.example.com/"}}}, "dev", "https"},
		{"magic link settings without the method", map[string]any{"dev": map[string]any{"senderAddress": "a@example.com",
			"methods": []string{"email_otp"}, "magicLinkUrls": []string{"https://app.example.com/"}}}, "dev", "magic_link method is not enabled"},
		{"unknown notification", map[string]any{"dev": map[string]any{"senderAddress": "a@example.com", "methods": []string{"email_otp"},
			"notifyEvents": []string{"password_changed"}}}, "dev", "unknown event kind"},
		{"notification its methods cannot cause", map[string]any{"dev": map[string]any{"senderAddress": "a@example.com",
			"methods": []string{"email_otp"}, "notifyEvents": []string{"passkey_added"}}}, "dev", "needs the passkey method"},
		{"alarm topic not an ARN", map[string]any{"dev": map[string]any{"alarmTopicArn": "oncall"}}, "dev", "not an SNS topic ARN"},
		{"alarm topic in another Region", map[string]any{"dev": map[string]any{"region": "eu-west-1",
			"alarmTopicArn": "arn:aws:sns:us-east-1:123456789012:oncall"}}, "dev", "not in the stack's account and Region"},
		{"alarm topic with alarms off", map[string]any{"dev": map[string]any{"alarmsDisabled": true,
			"alarmTopicArn": "arn:aws:sns:us-east-1:123456789012:oncall"}}, "dev", "alarmsDisabled"},
		{"SMS budget without SMS", map[string]any{"dev": map[string]any{"smsMonthlyBudgetUsd": 10}}, "dev", "SMS is off"},
		{"negative SMS budget", map[string]any{"dev": map[string]any{"signInAliases": []string{"phone"}, "methods": []string{"sms_otp"},
			"smsMonthlyBudgetUsd": -1}}, "dev", "SMSMonthlyBudgetUSD"},
		{"existing identity and sender domain", map[string]any{"dev": map[string]any{"senderAddress": "a@example.com",
			"senderDomain": "example.com", "existingSenderIdentity": "example.com"}}, "dev", "not both"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := stacks.Load(c.envs, c.env)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// checkObservability: issue 13 in the repository's environments. Metrics, the audit trail,
// alarms and the dashboard are on (the defaults); prod's SMS spend alarm uses its budget.
func checkObservability(t *testing.T, env string, s stacks.Settings, tpl map[string]any) {
	t.Helper()
	ns := "Passwordless/" + s.StackName + "/Passwordless"
	for id, f := range cdktest.Resources(tpl, "AWS::Lambda::Function") {
		e, _ := f["Environment"].(map[string]any)
		vars, _ := e["Variables"].(map[string]any)
		if vars["METRICS_NAMESPACE"] != ns {
			t.Errorf("%s: METRICS_NAMESPACE %v, want %s", id, vars["METRICS_NAMESPACE"], ns)
		}
		cmd := fmt.Sprint(f["Description"])
		if audits := cmd == "passwordless verify" || cmd == "passwordless api"; audits != (vars["AUDIT_EVENT_BUS"] == "default") {
			t.Errorf("%s: AUDIT_EVENT_BUS %v", cmd, vars["AUDIT_EVENT_BUS"])
		}
	}
	alarms := map[string]map[string]any{}
	for _, a := range cdktest.Resources(tpl, "AWS::CloudWatch::Alarm") {
		alarms[strings.TrimPrefix(fmt.Sprint(a["AlarmName"]), s.StackName+"/Passwordless/")] = a
	}
	for _, want := range []string{"VerifyAuthChallengeResponseErrors", "FailedSignIns", "Lockouts", "SendFailures", "SESBounceRate", "Api5xx"} {
		if alarms[want] == nil {
			t.Errorf("%s: no alarm %s (have %d)", env, want, len(alarms))
		}
	}
	if sms := alarms["SMSSpend"]; (sms != nil) != (env == "prod") || sms != nil && sms["Threshold"] != 40.0 {
		t.Errorf("%s: SMS spend alarm %v, want only in prod at 80 %% of its 50 USD budget", env, sms)
	}
	if n := len(cdktest.Resources(tpl, "AWS::CloudWatch::Dashboard")); n != 1 {
		t.Errorf("%s: %d dashboards", env, n)
	}
}

// TestAlarmTopic: an alarmTopicArn setting makes every alarm notify that topic.
func TestAlarmTopic(t *testing.T) {
	const topic = "arn:aws:sns:eu-west-1:123456789012:oncall"
	envs := map[string]any{"dev": map[string]any{"senderAddress": "a@example.com", "methods": []string{"email_otp"},
		"account": "123456789012", "region": "eu-west-1", "alarmTopicArn": topic}}
	settings, err := stacks.Load(envs, "dev")
	if err != nil {
		t.Fatal(err)
	}
	app := cdktest.NewApp(t, cdktest.Options{Validate: true})
	if err := cdktest.Catch(func() { stacks.New(app, "dev", settings) }); err != nil {
		t.Fatal(err)
	}
	asm := cdktest.Synth(t, app)
	alarms := cdktest.Resources(asm.Template(t, settings.StackName), "AWS::CloudWatch::Alarm")
	if len(alarms) == 0 {
		t.Fatal("no alarms")
	}
	for id, a := range alarms {
		for _, k := range []string{"AlarmActions", "OKActions"} {
			if got, _ := json.Marshal(a[k]); string(got) != `["`+topic+`"]` {
				t.Errorf("%s: %s %s", id, k, got)
			}
		}
	}
}
