//go:build unix

package harness

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/store"
)

func fullTemplate(t *testing.T) map[string]any {
	t.Helper()
	root, err := FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := readTemplate(filepath.Join(root, "constructs/passwordless/testdata/construct-full.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// TestParseTemplate reads the construct's full snapshot: functions, environment references,
// routes, authorizer, pool and client settings, table.
func TestParseTemplate(t *testing.T) {
	s, err := ParseTemplate(fullTemplate(t))
	if err != nil {
		t.Fatal(err)
	}
	secretARN := "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + s.SecretID + "-AbCdEf"
	if err := s.ResolveLocals(Locals{TableName: "tbl", ClientID: "client123", PoolID: "us-east-1_LOCAL0001", SecretARN: secretARN}); err != nil {
		t.Fatal(err)
	}
	create := s.Functions["create"]
	if create.Env["KEY_TABLE_NAME"] != "tbl" || create.Env["EMAIL_CONFIGURATION_SET"] != LocalConfigurationSet || create.Env["SIGN_IN_METHODS"] != "email_otp,sms_otp,device_key,passkey,magic_link" || create.Env["PASSKEY_RP_ID"] != "example.com" {
		t.Fatalf("create env %v", create.Env)
	}
	if s.Functions["api"].Env["APP_CLIENT_ID"] != "client123" || create.Timeout != 4*time.Second || create.MemoryMB != 512 {
		t.Fatalf("api env %v, create timeout %s memory %d", s.Functions["api"].Env, create.Timeout, create.MemoryMB)
	}
	wantRoutes := []string{"DELETE /device-keys", "DELETE /device-keys/{id}", "DELETE /passkeys", "DELETE /passkeys/{id}", "GET /device-keys",
		"GET /me", "GET /passkeys", "PATCH /passkeys/{id}", "POST /device-keys", "POST /me/contact", "POST /me/contact/verify",
		"POST /me/signout-everywhere", "POST /passkeys/authentication/options", "POST /passkeys/registration", "POST /passkeys/registration/options"}
	if !slices.Equal(s.Routes, wantRoutes) || !slices.Equal(s.ResolvedAudience, []string{"client123"}) {
		t.Fatalf("routes %v audience %v", s.Routes, s.ResolvedAudience)
	}
	if !slices.Equal(s.PublicRoutes, []string{"POST /passkeys/authentication/options"}) {
		t.Fatalf("public routes %v", s.PublicRoutes)
	}
	for _, c := range []string{"create", "verify", "api"} {
		if got := s.Functions[c].Env["DEPLOYMENT_SECRET_ARN"]; s.SecretID == "" || got != secretARN {
			t.Fatalf("%s: DEPLOYMENT_SECRET_ARN %q, want %q (secret %q)", c, got, secretARN, s.SecretID)
		}
	}
	if got := s.Functions["api"].Env["USER_POOL_ID"]; got != "us-east-1_LOCAL0001" {
		t.Fatalf("api: USER_POOL_ID %q", got)
	}
	if slices.Contains(s.ClientWriteAttributes, "email") || slices.Contains(s.ClientWriteAttributes, "phone_number") || len(s.ClientWriteAttributes) == 0 {
		t.Fatalf("app client write attributes %v", s.ClientWriteAttributes)
	}
	if !slices.Equal(s.UsernameAttributes, []string{"email", "phone_number"}) || !s.PreventUserExistenceErrors {
		t.Fatalf("pool: %v %v", s.UsernameAttributes, s.PreventUserExistenceErrors)
	}
	if s.AuthSessionValidity != 15*time.Minute || s.AccessTokenValidity != 15*time.Minute || s.RefreshTokenValidity != 7*24*time.Hour {
		t.Fatalf("validities %s %s %s", s.AuthSessionValidity, s.AccessTokenValidity, s.RefreshTokenValidity)
	}
	// The table is the one package store documents.
	want := store.TableDefinition("x")
	if s.Table == nil || s.Table.TTLAttribute != store.TTLAttribute || len(s.Table.GSIs) != len(want.GlobalSecondaryIndexes) ||
		s.Table.GSIs[0].Name != aws.ToString(want.GlobalSecondaryIndexes[0].IndexName) || len(s.Table.KeySchema) != len(want.KeySchema) {
		t.Fatalf("table %+v, store wants %+v", s.Table, want)
	}
}

// TestResolveRefusesUnknownTokens: an environment value the harness cannot resolve is an error
// naming the function, the variable and the token.
func TestResolveRefusesUnknownTokens(t *testing.T) {
	tpl := fullTemplate(t)
	res := tpl["Resources"].(map[string]any)
	for _, r := range res {
		m := r.(map[string]any)
		if m["Type"] == "AWS::Lambda::Function" && m["Properties"].(map[string]any)["Description"] == "passwordless verify" {
			vars := m["Properties"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)
			vars["POOL_ARN"] = map[string]any{"Fn::GetAtt": []any{"PasswordlessUserPool3D3966D4", "Arn"}}
		}
	}
	s, err := ParseTemplate(tpl)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Resolve("tbl", "client")
	if err == nil || !strings.Contains(err.Error(), "verify") || !strings.Contains(err.Error(), "POOL_ARN") || !strings.Contains(err.Error(), "Fn::GetAtt") {
		t.Fatalf("want an error naming verify, POOL_ARN and the token, got %v", err)
	}
}

// withFunctionEnv sets variable k of the function cmd in tpl to v.
func withFunctionEnv(t *testing.T, tpl map[string]any, cmd, k string, v any) {
	t.Helper()
	for _, r := range tpl["Resources"].(map[string]any) {
		m := r.(map[string]any)
		props, _ := m["Properties"].(map[string]any)
		if m["Type"] == "AWS::Lambda::Function" && props["Description"] == "passwordless "+cmd {
			env, _ := props["Environment"].(map[string]any)
			if env == nil {
				env = map[string]any{}
				props["Environment"] = env
			}
			vars, _ := env["Variables"].(map[string]any)
			if vars == nil {
				vars = map[string]any{}
				env["Variables"] = vars
			}
			vars[k] = v
			return
		}
	}
	t.Fatalf("no function %s", cmd)
}

// TestResolveSecretPoolAndClientAttributes: a {"Ref"} of the deployment secret becomes the
// harness's ARN for it, a {"Ref"} of the user pool the local pool ID (the api function's
// USER_POOL_ID), and the app client's ReadAttributes/WriteAttributes are read.
func TestResolveSecretPoolAndClientAttributes(t *testing.T) {
	tpl := fullTemplate(t)
	res := tpl["Resources"].(map[string]any)
	for id, r := range res {
		if r.(map[string]any)["Type"] == "AWS::SecretsManager::Secret" {
			delete(res, id) // whatever the snapshot holds, this test brings its own
		}
	}
	res["PasswordlessDeploymentSecretTEST"] = map[string]any{"Type": "AWS::SecretsManager::Secret", "Properties": map[string]any{
		"GenerateSecretString": map[string]any{"PasswordLength": 64, "ExcludePunctuation": true}}}
	var poolID string
	for id, r := range res {
		m := r.(map[string]any)
		switch m["Type"] {
		case "AWS::Cognito::UserPool":
			poolID = id
		case "AWS::Cognito::UserPoolClient":
			m["Properties"].(map[string]any)["WriteAttributes"] = []any{"name", "locale"}
			delete(m["Properties"].(map[string]any), "ReadAttributes")
		}
	}
	for _, c := range []string{"create", "verify", "api"} {
		withFunctionEnv(t, tpl, c, "DEPLOYMENT_SECRET_ARN", map[string]any{"Ref": "PasswordlessDeploymentSecretTEST"})
	}
	withFunctionEnv(t, tpl, "api", "USER_POOL_ID", map[string]any{"Ref": poolID})
	s, err := ParseTemplate(tpl)
	if err != nil {
		t.Fatal(err)
	}
	if s.SecretID != "PasswordlessDeploymentSecretTEST" || !slices.Equal(s.ClientWriteAttributes, []string{"name", "locale"}) || s.ClientReadAttributes != nil {
		t.Fatalf("secret %q, client write %v read %v", s.SecretID, s.ClientWriteAttributes, s.ClientReadAttributes)
	}
	// Without local values for them, the references are errors naming them.
	if err := s.Resolve("tbl", "client"); err == nil || !strings.Contains(err.Error(), "DEPLOYMENT_SECRET_ARN") || !strings.Contains(err.Error(), "USER_POOL_ID") {
		t.Fatalf("Resolve without the secret and the pool: %v", err)
	}
	arn := "arn:aws:secretsmanager:us-east-1:000000000000:secret:PasswordlessDeploymentSecretTEST-AbCdEf"
	if err := s.ResolveLocals(Locals{TableName: "tbl", ClientID: "client", PoolID: "us-east-1_LOCAL0001", SecretARN: arn}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"create", "verify", "api"} {
		if got := s.Functions[c].Env["DEPLOYMENT_SECRET_ARN"]; got != arn {
			t.Errorf("%s: DEPLOYMENT_SECRET_ARN %q", c, got)
		}
	}
	if got := s.Functions["api"].Env["USER_POOL_ID"]; got != "us-east-1_LOCAL0001" {
		t.Errorf("api: USER_POOL_ID %q", got)
	}

	res["Another"] = map[string]any{"Type": "AWS::SecretsManager::Secret", "Properties": map[string]any{}}
	if _, err := ParseTemplate(tpl); err == nil {
		t.Fatal("two secrets: want an error")
	}
}

// TestSynthesizeBadProps: invalid props are an error, not a panic.
func TestSynthesizeBadProps(t *testing.T) {
	_, err := Synthesize(&passwordless.Props{MaxAttempts: 99})
	if err == nil || !strings.Contains(err.Error(), "invalid props") {
		t.Fatalf("want the construct's validation error, got %v", err)
	}
}

// TestStart starts a harness with one method, signs a user up and starts a sign-in through the
// SDK, fetches the JWKS, and checks that Close stops every function process.
func TestStart(t *testing.T) {
	dynalitetest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	props := &passwordless.Props{Methods: []passwordless.Method{passwordless.DeviceKey}}
	h, err := Start(ctx, Options{Props: props, Env: map[string]map[string]string{"create": {"HARNESS_TEST_VAR": "set"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	t.Logf("started in %s (synth %s, build %s, dynalite %s)", h.Startup.Total, h.Startup.Synth, h.Startup.Build, h.Startup.Dynalite)
	if len(h.Hosts) != len(Commands) || h.Template()["Outputs"] == nil {
		t.Fatalf("hosts %v, template outputs %v", h.Hosts, h.Template()["Outputs"])
	}
	if got := h.Env("create")["SIGN_IN_METHODS"]; got != "device_key" {
		t.Fatalf("create's SIGN_IN_METHODS %q", got)
	}
	if got := h.Env("create")["HARNESS_TEST_VAR"]; got != "set" {
		t.Fatalf("Options.Env did not reach create: %q", got)
	}
	// The deployment secret: the functions that read it get the harness's ARN, and awsmock
	// answers it with a random value (the construct creates the secret; a template without one
	// has no such variable).
	if h.Spec.SecretID != "" {
		if h.SecretARN == "" || len(h.DeploymentSecret()) != 64 {
			t.Fatalf("secret %q: value of %d characters", h.SecretARN, len(h.DeploymentSecret()))
		}
		for _, c := range []string{"create", "verify"} {
			if got := h.Env(c)["DEPLOYMENT_SECRET_ARN"]; got != h.SecretARN {
				t.Fatalf("%s: DEPLOYMENT_SECRET_ARN %q, want %q", c, got, h.SecretARN)
			}
		}
	}
	if !slices.Equal(h.Spec.Routes, []string{"DELETE /device-keys", "DELETE /device-keys/{id}", "GET /device-keys", "GET /me", "POST /device-keys",
		"POST /me/signout-everywhere"}) {
		t.Fatalf("routes %v", h.Spec.Routes)
	}

	c := cip.NewFromConfig(aws.Config{Region: h.Region, Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")},
		func(o *cip.Options) { o.BaseEndpoint = aws.String(h.CognitoURL) })
	if _, err := c.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(h.ClientID), Username: aws.String("start@example.com"),
		Password: aws.String("Aa1!aaaaaaaaaaaaaaaa")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeCustomAuth, ClientId: aws.String(h.ClientID),
		AuthParameters: map[string]string{"USERNAME": "start@example.com"}})
	if err != nil || out.ChallengeParameters["nonce"] == "" || out.ChallengeParameters["methods"] != "device_key" {
		t.Fatalf("InitiateAuth: %v %v", err, out)
	}
	resp, err := http.Get(h.JWKSURL)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(jwks), h.IdP.KeyID()) {
		t.Fatalf("JWKS: %d %s", resp.StatusCode, jwks)
	}
	resp, err = http.Get(h.APIURL + "/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /me without a token: %d", resp.StatusCode)
	}

	var pids []int
	for _, host := range h.Hosts {
		for _, p := range host.Stats().Processes {
			pids = append(pids, p.PID)
		}
	}
	if len(pids) < 3 {
		t.Fatalf("only %d function processes ran", len(pids))
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			if b, _ := os.ReadFile("/proc/" + itoa(pid) + "/status"); !strings.Contains(string(b), "zombie") {
				t.Errorf("process %d still runs after Close", pid)
			}
		}
	}
	if _, err := http.Get(h.CognitoURL); err == nil {
		t.Error("the Cognito endpoint still answers after Close")
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestResolveEventBus: an audit bus of the stack is named to the functions by a {"Ref"} (its
// name) or its ARN ({"Fn::GetAtt"} Arn, or an ARN joined from pseudo parameters); the harness
// resolves each to the local Region and account.
func TestResolveEventBus(t *testing.T) {
	tpl := fullTemplate(t)
	tpl["Resources"].(map[string]any)["AuditBus1234"] = map[string]any{
		"Type": "AWS::Events::EventBus", "Properties": map[string]any{"Name": "audit-bus"},
	}
	withFunctionEnv(t, tpl, "verify", "AUDIT_EVENT_BUS", map[string]any{"Ref": "AuditBus1234"})
	withFunctionEnv(t, tpl, "api", "AUDIT_EVENT_BUS", map[string]any{"Fn::GetAtt": []any{"AuditBus1234", "Arn"}})
	withFunctionEnv(t, tpl, "create", "DEFAULT_BUS_ARN", map[string]any{"Fn::Join": []any{"", []any{
		"arn:", map[string]any{"Ref": "AWS::Partition"}, ":events:", map[string]any{"Ref": "AWS::Region"}, ":",
		map[string]any{"Ref": "AWS::AccountId"}, ":event-bus/default"}}})
	s, err := ParseTemplate(tpl)
	if err != nil {
		t.Fatal(err)
	}
	secretARN := "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + s.SecretID + "-AbCdEf"
	if err := s.ResolveLocals(Locals{TableName: "tbl", ClientID: "client", PoolID: "us-east-1_LOCAL0001", SecretARN: secretARN, Region: "us-east-1", Account: LocalAccount}); err != nil {
		t.Fatal(err)
	}
	if got := s.Functions["verify"].Env["AUDIT_EVENT_BUS"]; got != "audit-bus" {
		t.Errorf("Ref of the bus: %q", got)
	}
	if got := s.Functions["api"].Env["AUDIT_EVENT_BUS"]; got != "arn:aws:events:us-east-1:000000000000:event-bus/audit-bus" {
		t.Errorf("GetAtt Arn of the bus: %q", got)
	}
	if got := s.Functions["create"].Env["DEFAULT_BUS_ARN"]; got != "arn:aws:events:us-east-1:000000000000:event-bus/default" {
		t.Errorf("joined ARN: %q", got)
	}
	// Without a Region, AWS::Region stays an error.
	s2, _ := ParseTemplate(tpl)
	if err := s2.Resolve("tbl", "client"); err == nil || !strings.Contains(err.Error(), "DEFAULT_BUS_ARN") {
		t.Errorf("unresolvable AWS::Region: %v", err)
	}
}
