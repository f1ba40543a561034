//go:build unix

package perf_test

import (
	"os/exec"
	"testing"

	"github.com/passwordless-go/cognito/infra/local/perf"
)

// TestConstructEnv: ConstructEnv reads every function's environment from the synthesized
// construct, with the references resolved to the given names (the table, the app client, the
// configuration set, the user pool and the deployment secret).
func TestConstructEnv(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes the construct (jsii)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("the CDK needs node (jsii)")
	}
	names := perf.Names{Table: "perf-table", ClientID: perf.ClientID, ConfigurationSet: perf.ConfigurationSet,
		PoolID: perf.PoolID, SecretARN: "arn:aws:secretsmanager:us-east-1:000000000000:secret:perf-AbCdEf"}
	env, err := perf.ConstructEnv(perf.DefaultProps(), names)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range perf.Functions {
		if env[f] == nil {
			t.Fatalf("no environment for %s", f)
		}
	}
	if env["create"]["KEY_TABLE_NAME"] != names.Table || env["create"]["EMAIL_CONFIGURATION_SET"] != names.ConfigurationSet ||
		env["api"]["APP_CLIENT_ID"] != names.ClientID {
		t.Fatalf("references not resolved to names: create %v, api %v", env["create"], env["api"])
	}
	for _, f := range []string{"create", "verify", "api"} {
		if got := env[f]["DEPLOYMENT_SECRET_ARN"]; got != names.SecretARN {
			t.Errorf("%s: DEPLOYMENT_SECRET_ARN %q, want %q", f, got, names.SecretARN)
		}
	}
	if got, ok := env["api"]["USER_POOL_ID"]; ok && got != names.PoolID {
		t.Errorf("api: USER_POOL_ID %q, want %q", got, names.PoolID)
	}
	// Invalid props are an error, not a panic.
	bad := perf.DefaultProps()
	bad.MaxAttempts = 99
	if _, err := perf.ConstructEnv(bad, names); err == nil {
		t.Fatal("invalid props: want an error")
	}
}
