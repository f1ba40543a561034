// Package cdktest synthesizes CDK stacks in tests and reads what came out: the template, cdk-nag's
// findings, the CloudFormation validation report, and golden snapshots with asset hashes masked.
package cdktest

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/passwordless-go/cognito/constructs/cfn"
)

// Update rewrites golden files instead of comparing: `go test ./... -update`.
var Update = flag.Bool("update", false, "rewrite golden snapshot files")

// Options tune NewApp.
type Options struct {
	// Bundle runs the real go build of every function (slow); default false: bundling skipped, as
	// users' snapshot tests do.
	Bundle bool
	// Validate turns CloudFormation template validation into errors (cdk.json does the same).
	Validate bool
	// Context is added to the app's context.
	Context map[string]any
}

// NewApp returns an App writing to a fresh temporary directory, with cdk-nag's AwsSolutions pack
// applied and version reporting off, so templates are the same on every machine.
func NewApp(t testing.TB, o Options) awscdk.App {
	t.Helper()
	ctx := map[string]any{"aws:cdk:version-reporting": false}
	if !o.Bundle {
		ctx["aws:cdk:bundling-stacks"] = []string{}
	}
	if o.Validate {
		ctx["@aws-cdk/core:validateAgainstDefaultRules"] = true
	}
	for k, v := range o.Context {
		ctx[k] = v
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &ctx})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Reports: jsii.Bool(true)}), nil)
	return app
}

// Assembly is a synthesized cloud assembly on disk.
type Assembly struct {
	Dir string
}

// Synth synthesizes app; a panic (a construct's validation, a failed bundling, a template
// validation error) becomes a test failure with its message.
func Synth(t testing.TB, app awscdk.App) (asm Assembly) {
	t.Helper()
	err := Catch(func() { asm.Dir = *app.Synth(nil).Directory() })
	if err != nil {
		t.Fatalf("synth failed: %v", err)
	}
	return asm
}

// Main runs the package's tests, then closes the jsii runtime (the node process the CDK calls
// run in) and exits with the tests' code; a package's TestMain calls it.
func Main(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// Catch runs f and returns a panic as an error, so one failing jsii call or assertion does not
// take the rest of the package's tests down with it.
func Catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	f()
	return nil
}

// Template reads a stack's template as generic JSON.
func (a Assembly) Template(t testing.TB, stackName string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(a.Dir, stackName+".template.json"))
	if err != nil {
		t.Fatalf("read template: %v", err)
	}
	var tpl map[string]any
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatalf("parse template: %v", err)
	}
	return tpl
}

// NagFinding is one row of cdk-nag's AwsSolutions report.
type NagFinding struct {
	Rule, Resource, Compliance, Reason, Level string
}

// NagFindings reads the stack's cdk-nag report and returns the rows with the given compliance
// ("Non-Compliant" for unsuppressed findings, "Suppressed" for accepted ones).
func (a Assembly) NagFindings(t testing.TB, stackName, compliance string) []NagFinding {
	t.Helper()
	f, err := os.Open(filepath.Join(a.Dir, "AwsSolutions-"+stackName+"-NagReport.csv"))
	if err != nil {
		t.Fatalf("cdk-nag report missing (is the AwsSolutions pack applied?): %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read cdk-nag report: %v", err)
	}
	var out []NagFinding
	for _, r := range rows[1:] {
		if len(r) >= 5 && r[2] == compliance {
			out = append(out, NagFinding{Rule: r[0], Resource: r[1], Compliance: r[2], Reason: r[3], Level: r[4]})
		}
	}
	return out
}

// ValidationViolations returns the violations in validation-report.json (none when the report
// lists no failing rule). The report must exist.
func (a Assembly) ValidationViolations(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(a.Dir, "validation-report.json"))
	if err != nil {
		t.Fatalf("validation report missing: %v", err)
	}
	var rep struct {
		PluginReports []struct {
			PluginName string `json:"pluginName"`
			Violations []struct {
				RuleName    string `json:"ruleName"`
				Description string `json:"description"`
			} `json:"violations"`
		} `json:"pluginReports"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("parse validation report: %v", err)
	}
	var out []string
	for _, p := range rep.PluginReports {
		for _, v := range p.Violations {
			out = append(out, p.PluginName+": "+v.RuleName+": "+v.Description)
		}
	}
	return out
}

var assetHash = regexp.MustCompile(`[0-9a-f]{64}`)

// Mask replaces asset hashes in a template with a placeholder, so a change to a Lambda's source
// does not churn every snapshot.
func Mask(tpl map[string]any) []byte {
	b, err := json.MarshalIndent(tpl, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(assetHash.ReplaceAll(b, []byte("ASSET_HASH")), '\n')
}

// Golden compares got with testdata/<name>, or rewrites it under -update. A mismatch fails with a
// line diff of the first differences.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s missing (run `make snapshot-update` and review the diff): %v", path, err)
	}
	if string(want) != string(got) {
		t.Errorf("%s changed; if intended, run `make snapshot-update` and review the diff:\n%s", path, Diff(string(want), string(got)))
	}
}

// Diff is a short line diff: up to 40 lines that differ, with line numbers.
func Diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  - %s\n  + %s\n", i+1, wl, gl)
			if shown++; shown == 40 {
				b.WriteString("  ...\n")
				break
			}
		}
	}
	return b.String()
}

// Resources returns the Properties of the template's resources of a type, by logical ID
// (cfn.Resources).
func Resources(tpl map[string]any, typ string) map[string]map[string]any {
	return cfn.Resources(tpl, typ)
}

// One returns the logical ID and Properties of the template's only resource of a type, and fails
// the test when there is none or more than one.
func One(t testing.TB, tpl map[string]any, typ string) (id string, props map[string]any) {
	t.Helper()
	all := Resources(tpl, typ)
	if len(all) != 1 {
		t.Fatalf("want 1 %s, got %d", typ, len(all))
	}
	for id, props = range all {
	}
	return id, props
}

// SortedKeys returns m's keys in order.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
