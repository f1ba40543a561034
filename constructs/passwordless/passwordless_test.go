package passwordless_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/passwordless-go/cognito/constructs/cdktest"
	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/lambdas/store"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

// propSet is one configuration the construct is snapshot-tested and checked under.
type propSet struct {
	name  string
	props func(stack awscdk.Stack) *passwordless.Props
}

var propSets = []propSet{
	{"minimal", func(awscdk.Stack) *passwordless.Props { return nil }},
	{"full", func(awscdk.Stack) *passwordless.Props {
		return &passwordless.Props{
			UserPoolName: "full-pool",
			Aliases:      passwordless.Aliases{Email: true, Phone: true},
			Methods:      []passwordless.Method{passwordless.EmailOTP, passwordless.SMSOTP, passwordless.DeviceKey, passwordless.Passkey, passwordless.MagicLink},
			Passkeys: passwordless.PasskeyProps{RPID: "example.com", Origins: []string{"https://app.example.com",
				"android:apk-key-hash:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
			MaxAttempts: 5,
			MaxResends:  1,
			Codes:       passwordless.CodeProps{SendDelays: []time.Duration{30 * time.Second, 90 * time.Second, 10 * time.Minute}, DailyCap: 50},
			SMS: passwordless.SMSProps{AllowedCountries: []string{"GB", "IE", "+49"},
				UnverifiedLimits: []passwordless.Limit{{Window: time.Hour, Max: 10}, {Window: 24 * time.Hour, Max: 50}}},
			Email:                &passwordless.EmailProps{From: "sign-in@example.com", Domain: "example.com"},
			AllowedOrigins:       []string{"https://app.example.com", "http://localhost:8081"},
			AuthSessionValidity:  15 * time.Minute,
			AccessTokenValidity:  15 * time.Minute,
			IDTokenValidity:      15 * time.Minute,
			RefreshTokenValidity: 7 * 24 * time.Hour,
			Throttle:             passwordless.Throttle{RateLimit: 100, BurstLimit: 200},
			LogRetentionDays:     90,
			MemorySize:           512,
			Protect:              true,
			MagicLink: &passwordless.MagicLinkProps{
				RedirectURLs: []string{"https://app.example.com/signin", "http://localhost:8081/signin"},
				TTL:          20 * time.Minute,
				SameDevice:   true,
				Templates:    passwordless.EmailTemplates{Subject: "Your {{.AppName}} link"},
			},
			Notifications: &passwordless.NotificationProps{
				Events: passwordless.NotificationKinds,
				Templates: map[passwordless.NotificationKind]passwordless.NotificationTemplates{
					passwordless.KeyAdded:      {Subject: "New device key on {{.AppName}}"},
					passwordless.AccountLocked: {SMS: "{{.AppName}}: sign-in paused."},
				},
				Timeout:      1500 * time.Millisecond,
				LockedLimits: []passwordless.Limit{{Window: 24 * time.Hour, Max: 2}},
			},
		}
	}},
	{"native", func(awscdk.Stack) *passwordless.Props {
		return &passwordless.Props{
			Mode:    passwordless.ModeNative,
			Aliases: passwordless.Aliases{Email: true, Phone: true},
			Methods: []passwordless.Method{passwordless.DeviceKey},
			Native: passwordless.NativeProps{EmailOTP: true, SMSOTP: true, Passkey: true,
				RelyingPartyID: "example.com"},
			Email: &passwordless.EmailProps{From: "sign-in@example.com", ExistingIdentity: "example.com"},
		}
	}},
	{"existing-pool", func(stack awscdk.Stack) *passwordless.Props {
		pool := awscognito.NewUserPool(stack, jsii.String("ExistingPool"), &awscognito.UserPoolProps{
			SelfSignUpEnabled: jsii.Bool(true),
			SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
			FeaturePlan:       awscognito.FeaturePlan_LITE,
			Mfa:               awscognito.Mfa_OFF,
			PasswordPolicy: &awscognito.PasswordPolicy{MinLength: jsii.Number(16), RequireDigits: jsii.Bool(true),
				RequireLowercase: jsii.Bool(true), RequireUppercase: jsii.Bool(true), RequireSymbols: jsii.Bool(true)},
		})
		cdknag.NagSuppressions_AddResourceSuppressions(pool, &[]*cdknag.NagPackSuppression{
			{Id: jsii.String("AwsSolutions-COG2"), Reason: jsii.String("test fixture standing for a caller's own pool")},
			{Id: jsii.String("AwsSolutions-COG3"), Reason: jsii.String("test fixture standing for a caller's own pool")},
		}, jsii.Bool(true))
		secret := awssecretsmanager.NewSecret(stack, jsii.String("SharedSecret"), &awssecretsmanager.SecretProps{
			GenerateSecretString: &awssecretsmanager.SecretStringGenerator{PasswordLength: jsii.Number(64), ExcludePunctuation: jsii.Bool(true)},
			RemovalPolicy:        awscdk.RemovalPolicy_DESTROY,
		})
		cdknag.NagSuppressions_AddResourceSuppressions(secret, &[]*cdknag.NagPackSuppression{
			{Id: jsii.String("AwsSolutions-SMG4"), Reason: jsii.String("test fixture standing for a caller's own secret")},
		}, jsii.Bool(true))
		return &passwordless.Props{UserPool: pool, DeploymentSecret: secret}
	}},
}

// synthSet synthesizes one prop set with template validation on and cdk-nag applied.
func synthSet(t *testing.T, ps propSet) (map[string]any, cdktest.Assembly) {
	t.Helper()
	app := cdktest.NewApp(t, cdktest.Options{Validate: true})
	stack := awscdk.NewStack(app, jsii.String("Test"), nil)
	if err := cdktest.Catch(func() { passwordless.New(stack, jsii.String("Passwordless"), ps.props(stack)) }); err != nil {
		t.Fatalf("New: %v", err)
	}
	asm := cdktest.Synth(t, app)
	return asm.Template(t, "Test"), asm
}

func TestPropSets(t *testing.T) {
	for _, ps := range propSets {
		t.Run(ps.name, func(t *testing.T) {
			tpl, asm := synthSet(t, ps)
			cdktest.Golden(t, "construct-"+ps.name+".template.json", cdktest.Mask(tpl))
			if v := asm.ValidationViolations(t); len(v) > 0 {
				t.Errorf("CloudFormation validation violations:\n%s", strings.Join(v, "\n"))
			}
			for _, f := range asm.NagFindings(t, "Test", "Non-Compliant") {
				t.Errorf("unsuppressed cdk-nag finding %s (%s) on %s", f.Rule, f.Level, f.Resource)
			}
			checkInvariants(t, ps.name, tpl)
		})
	}
}

// checkInvariants asserts the security properties every configuration must have.
func checkInvariants(t *testing.T, name string, tpl map[string]any) {
	t.Helper()
	clientID, c := cdktest.One(t, tpl, "AWS::Cognito::UserPoolClient")
	if c["GenerateSecret"] == true {
		t.Error("app client has a secret")
	}
	want := "[ALLOW_CUSTOM_AUTH ALLOW_REFRESH_TOKEN_AUTH]"
	if name == "native" {
		want = "[ALLOW_CUSTOM_AUTH ALLOW_USER_AUTH ALLOW_REFRESH_TOKEN_AUTH]"
	}
	if got := fmt.Sprint(c["ExplicitAuthFlows"]); got != want {
		t.Errorf("auth flows = %s, want %s (never a password flow)", got, want)
	}
	if c["PreventUserExistenceErrors"] != "ENABLED" {
		t.Errorf("PreventUserExistenceErrors = %v", c["PreventUserExistenceErrors"])
	}
	if v, _ := c["AuthSessionValidity"].(float64); v < 3 || v > 15 {
		t.Errorf("AuthSessionValidity = %v minutes, want 3-15", c["AuthSessionValidity"])
	}

	functions := cdktest.Resources(tpl, "AWS::Lambda::Function")
	wantFunctions := 5
	if name == "native" {
		wantFunctions = 6 // and postconfirm
	}
	if len(functions) != wantFunctions {
		t.Errorf("want %d functions, got %d", wantFunctions, len(functions))
	}
	for id, f := range functions {
		if f["Runtime"] != "provided.al2023" || fmt.Sprint(f["Architectures"]) != "[arm64]" || f["Handler"] != "bootstrap" {
			t.Errorf("%s: runtime %v %v handler %v", id, f["Runtime"], f["Architectures"], f["Handler"])
		}
		if to, _ := f["Timeout"].(float64); to <= 0 || to >= 5 {
			t.Errorf("%s: timeout %v, want under 5 s", id, f["Timeout"])
		}
		lc, _ := f["LoggingConfig"].(map[string]any)
		if lc == nil || lc["LogGroup"] == nil {
			t.Errorf("%s: no log group of its own", id)
		}
	}
	for id, lg := range cdktest.Resources(tpl, "AWS::Logs::LogGroup") {
		if lg["RetentionInDays"] == nil {
			t.Errorf("%s: no log retention", id)
		}
	}

	// Triggers wired to the right function: the function's description names its command.
	poolID, p := cdktest.One(t, tpl, "AWS::Cognito::UserPool")
	lc, _ := p["LambdaConfig"].(map[string]any)
	wired := map[string]string{
		"DefineAuthChallenge":         "define",
		"CreateAuthChallenge":         "create",
		"VerifyAuthChallengeResponse": "verify",
		"PreSignUp":                   "presignup",
	}
	if name == "native" {
		delete(wired, "PreSignUp") // Cognito confirms sign-ups itself
		if lc["PreSignUp"] != nil {
			t.Error("native mode wires PreSignUp")
		}
		wired["PostConfirmation"] = "postconfirm" // replaces the sign-up password
	}
	for trigger, command := range wired {
		fn := getAttTarget(lc[trigger])
		if fn == "" || functions[fn] == nil {
			t.Errorf("trigger %s not wired to a function of the template: %v", trigger, lc[trigger])
			continue
		}
		if functions[fn]["Description"] != "passwordless "+command {
			t.Errorf("trigger %s wired to %s (%v)", trigger, fn, functions[fn]["Description"])
		}
	}
	if name == "full" {
		if p["DeletionProtection"] != "ACTIVE" {
			t.Error("protected pool without deletion protection")
		}
	}
	switch name {
	case "native":
		if p["UserPoolTier"] != "ESSENTIALS" {
			t.Errorf("feature plan %v, want ESSENTIALS", p["UserPoolTier"])
		}
		policy, _ := json.Marshal(p["Policies"])
		for _, want := range []string{`"AllowedFirstAuthFactors":["PASSWORD","EMAIL_OTP","SMS_OTP","WEB_AUTHN"]`} {
			if !strings.Contains(string(policy), want) {
				t.Errorf("sign-in policy %s lacks %s", policy, want)
			}
		}
		if p["WebAuthnRelyingPartyID"] != "example.com" || p["WebAuthnUserVerification"] != "required" {
			t.Errorf("passkey settings %v %v", p["WebAuthnRelyingPartyID"], p["WebAuthnUserVerification"])
		}
	case "existing-pool":
	default:
		if p["UserPoolTier"] != "LITE" {
			t.Errorf("feature plan %v, want LITE", p["UserPoolTier"])
		}
	}

	// JWT authorizer: issuer is the pool, audience the client; every route uses it.
	authorizerID, a := cdktest.One(t, tpl, "AWS::ApiGatewayV2::Authorizer")
	jc, _ := a["JwtConfiguration"].(map[string]any)
	if a["AuthorizerType"] != "JWT" || jc == nil {
		t.Fatalf("authorizer %v is not JWT", a["AuthorizerType"])
	}
	issuer, _ := json.Marshal(jc["Issuer"])
	if !strings.Contains(string(issuer), `"https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${PoolId}"`) || !strings.Contains(string(issuer), `{"Ref":"`+poolID+`"}`) {
		t.Errorf("issuer %s is not the user pool %s", issuer, poolID)
	}
	aud, _ := json.Marshal(jc["Audience"])
	if string(aud) != `[{"Ref":"`+clientID+`"}]` {
		t.Errorf("audience %s, want only the app client %s", aud, clientID)
	}
	routes := cdktest.Resources(tpl, "AWS::ApiGatewayV2::Route")
	if len(routes) == 0 {
		t.Error("no routes")
	}
	public := map[string]bool{}
	for id, r := range routes {
		if r["RouteKey"] == publicRoute && r["AuthorizationType"] == "NONE" {
			public[publicRoute] = true // the one deliberate public route (checked below)
			continue
		}
		ref, _ := r["AuthorizerId"].(map[string]any)
		if r["AuthorizationType"] != "JWT" || ref["Ref"] != authorizerID {
			t.Errorf("route %s (%v) is not behind the JWT authorizer", id, r["RouteKey"])
		}
	}
	for id, s := range cdktest.Resources(tpl, "AWS::ApiGatewayV2::Stage") {
		rs, _ := s["DefaultRouteSettings"].(map[string]any)
		if rs["ThrottlingRateLimit"] == nil || rs["ThrottlingBurstLimit"] == nil {
			t.Errorf("stage %s not throttled", id)
		}
		if s["AccessLogSettings"] == nil {
			t.Errorf("stage %s has no access logs", id)
		}
		settings, _ := s["RouteSettings"].(map[string]any)
		if public[publicRoute] {
			rs, _ := settings[publicRoute].(map[string]any)
			if rs["ThrottlingRateLimit"] == nil || rs["ThrottlingBurstLimit"] == nil {
				t.Errorf("public route %s has no throttle of its own: %v", publicRoute, settings)
			}
		}
	}

	// Key table: the schema the store uses, PITR, TTL, encryption.
	tableID, tb := cdktest.One(t, tpl, "AWS::DynamoDB::Table")
	def := store.TableDefinition("x")
	if ks, _ := json.Marshal(tb["KeySchema"]); string(ks) != fmt.Sprintf(`[{"AttributeName":%q,"KeyType":"HASH"},{"AttributeName":%q,"KeyType":"RANGE"}]`, *def.KeySchema[0].AttributeName, *def.KeySchema[1].AttributeName) {
		t.Errorf("%s key schema %s differs from the store's", tableID, ks)
	}
	gsi, _ := json.Marshal(tb["GlobalSecondaryIndexes"])
	if !strings.Contains(string(gsi), *def.GlobalSecondaryIndexes[0].IndexName) {
		t.Errorf("%s lacks the store's index %s", tableID, *def.GlobalSecondaryIndexes[0].IndexName)
	}
	pitr, _ := tb["PointInTimeRecoverySpecification"].(map[string]any)
	if pitr["PointInTimeRecoveryEnabled"] != true {
		t.Errorf("%s: PITR off", tableID)
	}
	ttl, _ := tb["TimeToLiveSpecification"].(map[string]any)
	if ttl["AttributeName"] != store.TTLAttribute || ttl["Enabled"] != true {
		t.Errorf("%s: TTL %v", tableID, ttl)
	}
	sse, _ := tb["SSESpecification"].(map[string]any)
	if sse["SSEEnabled"] != true {
		t.Errorf("%s: encryption %v", tableID, sse)
	}

	for id, ip := range cdktest.Resources(tpl, "AWS::Cognito::IdentityPool") {
		if ip["AllowUnauthenticatedIdentities"] != false {
			t.Errorf("%s allows unauthenticated identities", id)
		}
	}

	// IAM: no statement on "*" and no managed policies.
	for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::Role"} {
		for id, p := range cdktest.Resources(tpl, typ) {
			if p["ManagedPolicyArns"] != nil {
				t.Errorf("%s uses managed policies %v", id, p["ManagedPolicyArns"])
			}
			for _, stmt := range statements(p) {
				if actions := fmt.Sprint(stmt["Action"]); strings.Contains(actions, "dynamodb:") {
					if ref, _ := json.Marshal(stmt["Resource"]); string(ref) != `{"Fn::GetAtt":["`+tableID+`","Arn"]}` {
						t.Errorf("%s: DynamoDB statement %s on %s, want exactly the key table", id, actions, ref)
					}
				}
				res := stmt["Resource"]
				list, ok := res.([]any)
				if !ok {
					list = []any{res}
				}
				for _, r := range list {
					if r == "*" && stmt["Action"] == "sns:Publish" &&
						(stmt["Sid"] == "SendSmsToPhoneNumbers" || name == "native" && strings.HasPrefix(id, "PasswordlessUserPoolsmsRole")) {
						continue // SMS to a phone number has no ARN (suppression listed)
					}
					if stmt["Effect"] == "Deny" {
						continue
					}
					if s, ok := r.(string); ok && strings.Contains(s, "*") {
						t.Errorf("%s: statement %v on wildcard resource %q", id, stmt["Action"], s)
					}
				}
			}
		}
	}

	outputs, _ := tpl["Outputs"].(map[string]any)
	for _, want := range []string{"UserPoolId", "UserPoolClientId", "IdentityPoolId", "ApiUrl", "Region"} {
		found := false
		for k := range outputs {
			found = found || strings.Contains(k, want)
		}
		if !found {
			t.Errorf("output %s missing", want)
		}
	}
	checkSecurity(t, name, tpl)
	checkIssue12(t, name, tpl)
	checkNativePassword(t, name, tpl)
	checkObservability(t, name, tpl)

	// Issue 11: nothing that fails a first deploy in a real account.
	checkIssuer(t, tpl)
	for _, s := range hardCodedPartition(tpl) {
		t.Errorf("hard-coded partition: %s", s)
	}
	checkAccessLogGroup(t, tpl, "/aws/vendedlogs/apigateway/Test/Passwordless/access")
	checkDKIMOutputs(t, tpl, name == "full")
}

// publicRoute is the only route allowed without the JWT authorizer.
const publicRoute = "POST /passkeys/authentication/options"

func getAttTarget(v any) string {
	m, _ := v.(map[string]any)
	ga, _ := m["Fn::GetAtt"].([]any)
	if len(ga) != 2 || ga[1] != "Arn" {
		return ""
	}
	s, _ := ga[0].(string)
	return s
}

func statements(props map[string]any) []map[string]any {
	var docs []any
	if d := props["PolicyDocument"]; d != nil {
		docs = append(docs, d)
	}
	if ps, ok := props["Policies"].([]any); ok {
		for _, p := range ps {
			if m, ok := p.(map[string]any); ok {
				docs = append(docs, m["PolicyDocument"])
			}
		}
	}
	var out []map[string]any
	for _, d := range docs {
		m, _ := d.(map[string]any)
		list, _ := m["Statement"].([]any)
		for _, s := range list {
			if sm, ok := s.(map[string]any); ok {
				out = append(out, sm)
			}
		}
	}
	return out
}

// TestSuppressionsListed pins the cdk-nag suppressions: a new or changed one fails here and shows
// up in review with its reason.
func TestSuppressionsListed(t *testing.T) {
	var b strings.Builder
	for _, s := range passwordless.Suppressions {
		if len(s.Reason) < 40 {
			t.Errorf("%s on %s: reason too thin: %q", s.Rule, s.Resource, s.Reason)
		}
		fmt.Fprintf(&b, "%s on %s %v (when %q):\n  %s\n", s.Rule, s.Resource, s.AppliesTo, s.When, s.Reason)
	}
	cdktest.Golden(t, "nag-suppressions.txt", []byte(b.String()))
}

// TestSuppressionsApplied checks that each suppression is used on the resource it names, with its
// reason, in the configurations that need it, and nowhere else.
func TestSuppressionsApplied(t *testing.T) {
	for _, c := range []struct {
		set  propSet
		when map[string]bool
	}{
		{propSets[0], map[string]bool{"": true, "own-secret": true}},
		{propSets[1], map[string]bool{"": true, "sms_otp": true, "passkey": true, "own-secret": true, "sms-notify": true}},
		{propSets[2], map[string]bool{"": true, "native-sms": true, "own-secret": true}},
	} {
		t.Run(c.set.name, func(t *testing.T) {
			_, asm := synthSet(t, c.set)
			got := map[string]string{}
			for _, f := range asm.NagFindings(t, "Test", "Suppressed") {
				got[f.Rule+" "+f.Resource] = f.Reason
			}
			for _, s := range passwordless.Suppressions {
				key := s.Rule + " Test/Passwordless/" + s.Resource + "/Resource"
				want := s.Reason
				if len(s.AppliesTo) > 0 {
					want = "[" + strings.Join(s.AppliesTo, ",") + "] " + s.Reason
				}
				switch {
				case c.when[s.When] && got[key] != want:
					t.Errorf("suppression %s not applied with its reason (report has %q)", key, got[key])
				case !c.when[s.When] && got[key] != "":
					t.Errorf("suppression %s applied where it is not needed", key)
				}
			}
		})
	}
}

// TestValidationIsOn proves the validation the other tests rely on would catch a bad template.
func TestValidationIsOn(t *testing.T) {
	app := cdktest.NewApp(t, cdktest.Options{Validate: true})
	stack := awscdk.NewStack(app, jsii.String("Bad"), nil)
	pl := passwordless.New(stack, jsii.String("Passwordless"), nil)
	pl.Table.Node().DefaultChild().(awscdk.CfnResource).AddPropertyOverride(jsii.String("NoSuchProperty"), true)
	err := cdktest.Catch(func() { app.Synth(nil) })
	if err == nil || !strings.Contains(err.Error(), "Validation failed") {
		t.Fatalf("a template with an unknown property synthesized: %v", err)
	}
}
