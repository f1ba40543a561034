//go:build unix

package perf_test

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/infra/local/perf"
)

// TestEnvMatchesConstruct synthesizes the construct with perf.DefaultProps and checks that every
// function's environment in the template, references resolved, is perf.ConstructEnv's.
func TestEnvMatchesConstruct(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes the construct (jsii)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("the CDK needs node (jsii)")
	}
	names := perf.Names{Table: "perf-table", ClientID: perf.ClientID, ConfigurationSet: perf.ConfigurationSet}
	want, err := perf.ConstructEnv(perf.DefaultProps(), names)
	if err != nil {
		t.Fatal(err)
	}
	props := perf.DefaultProps()
	got := synthEnv(t, &props, names)
	for _, f := range perf.Functions {
		if !maps.Equal(got[f], want[f]) {
			t.Errorf("%s: construct's environment\n\t%v\nperf.ConstructEnv\n\t%v", f, got[f], want[f])
		}
	}
}

// synthEnv synthesizes the construct (bundling skipped) and returns each function's environment
// with the Refs of the table, the app client and the configuration set resolved to names.
func synthEnv(t *testing.T, props *passwordless.Props, names perf.Names) map[string]map[string]string {
	t.Helper()
	dir := t.TempDir()
	ctx := map[string]any{"aws:cdk:version-reporting": false, "aws:cdk:bundling-stacks": []string{}}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir), Context: &ctx})
	stack := awscdk.NewStack(app, jsii.String("PerfEnv"), nil)
	passwordless.New(stack, jsii.String("Passwordless"), props)
	out := *app.Synth(nil).Directory()
	b, err := os.ReadFile(filepath.Join(out, "PerfEnv.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	refs := map[string]string{}
	for id, r := range tpl.Resources {
		switch r.Type {
		case "AWS::DynamoDB::Table":
			refs[id] = names.Table
		case "AWS::Cognito::UserPoolClient":
			refs[id] = names.ClientID
		case "AWS::SES::ConfigurationSet":
			refs[id] = names.ConfigurationSet
		}
	}
	env := map[string]map[string]string{}
	for id, r := range tpl.Resources {
		desc, _ := r.Properties["Description"].(string)
		cmd, ok := strings.CutPrefix(desc, "passwordless ")
		if r.Type != "AWS::Lambda::Function" || !ok {
			continue
		}
		vars, _ := r.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
		env[cmd] = map[string]string{}
		for k, v := range vars {
			switch v := v.(type) {
			case string:
				env[cmd][k] = v
			case map[string]any:
				ref, _ := v["Ref"].(string)
				val, ok := refs[ref]
				if !ok || len(v) != 1 {
					t.Fatalf("%s (%s): variable %s is %v, not a string or a Ref of the table, app client or configuration set", cmd, id, k, v)
				}
				env[cmd][k] = val
			default:
				t.Fatalf("%s (%s): variable %s is %T", cmd, id, k, v)
			}
		}
	}
	return env
}
