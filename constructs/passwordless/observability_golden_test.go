package passwordless_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// goldenTemplates are synthesized goldens with every dashboard widget and alarm.
var goldenTemplates = []string{
	"testdata/construct-full.template.json",
	"../../infra/stacks/testdata/stack-prod.template.json",
}

func goldenResources(t *testing.T, path string) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Resources map[string]map[string]any
	}
	if err := json.Unmarshal(b, &tmpl); err != nil {
		t.Fatal(err)
	}
	return tmpl.Resources
}

// goldenDashboard flattens a dashboard body (an Fn::Join of strings and references) to its JSON.
func goldenDashboard(t *testing.T, res map[string]map[string]any) string {
	t.Helper()
	for _, r := range res {
		if r["Type"] != "AWS::CloudWatch::Dashboard" {
			continue
		}
		body := r["Properties"].(map[string]any)["DashboardBody"].(map[string]any)["Fn::Join"].([]any)[1].([]any)
		var sb strings.Builder
		for _, p := range body {
			if s, ok := p.(string); ok {
				sb.WriteString(s)
			} else {
				sb.WriteString("REF")
			}
		}
		return sb.String()
	}
	t.Fatal("no dashboard")
	return ""
}

// TestDashboardGraphsEveryRefusal: the functions write SendRefused{Channel=email,
// Reason=unverified} (otp: an unverified address of an account with a verified contact or a key,
// the sign-up-first attack; magiclink: no verified address) and Reason=other (malformed email,
// unparsable number); the dashboard's "Send refusals by channel and rule" must graph them, or
// they are paid for as custom metrics and never shown.
func TestDashboardGraphsEveryRefusal(t *testing.T) {
	for _, path := range goldenTemplates {
		s := goldenDashboard(t, goldenResources(t, path))
		for _, want := range []string{
			`"SendRefused","Channel","email","Reason","unverified"`,
			`"SendRefused","Channel","email","Reason","other"`,
			`"SendRefused","Channel","sms","Reason","other"`,
		} {
			if !strings.Contains(s, want) {
				t.Errorf("%s: the dashboard does not graph %s, which the functions emit", path, want)
			}
		}
	}
}

// TestLevelAlarmsKeepStateWithoutData: SMSMonthToDateSpentUSD is a month-to-date
// gauge and the SES reputation rates are running rates; a period without a datapoint does not
// mean the spend or the rate went down. With TreatMissingData notBreaching the alarm would return
// to OK (and notify the alarm topic "OK") on the next empty period while the spend is still over
// budget; "ignore" keeps the state.
func TestLevelAlarmsKeepStateWithoutData(t *testing.T) {
	for _, path := range goldenTemplates {
		for id, r := range goldenResources(t, path) {
			if r["Type"] != "AWS::CloudWatch::Alarm" {
				continue
			}
			p := r["Properties"].(map[string]any)
			switch p["MetricName"] {
			case "SMSMonthToDateSpentUSD", "Reputation.BounceRate", "Reputation.ComplaintRate":
				if p["TreatMissingData"] == "notBreaching" {
					t.Errorf("%s: %s (%v) treats missing data as not breaching: an empty period turns it OK while the spend or rate is unchanged",
						path, id, p["MetricName"])
				}
			}
		}
	}
}
