package passwordless_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/constructs/cdktest"
	"github.com/passwordless-go/cognito/constructs/passwordless"
)

// Issue 11, deploy blockers: what the synthesized template must hold so that the first
// `cdk deploy` in a real account does not fail.

// synthStack synthesizes the construct with props in a stack of env (nil: environment-agnostic)
// and returns the template, or the error New or the synth panicked with.
func synthStack(t *testing.T, env *awscdk.Environment, props func(awscdk.Stack) *passwordless.Props) (map[string]any, error) {
	t.Helper()
	app := cdktest.NewApp(t, cdktest.Options{Validate: true})
	stack := awscdk.NewStack(app, jsii.String("Test"), &awscdk.StackProps{Env: env})
	var tpl map[string]any
	err := cdktest.Catch(func() {
		passwordless.New(stack, jsii.String("Passwordless"), props(stack))
		asm := cdktest.Assembly{Dir: *app.Synth(nil).Directory()}
		tpl = asm.Template(t, "Test")
	})
	return tpl, err
}

// accessLogGroupName returns the name of the log group the HTTP API stage writes access logs to.
func accessLogGroupName(t *testing.T, tpl map[string]any) any {
	t.Helper()
	_, stage := cdktest.One(t, tpl, "AWS::ApiGatewayV2::Stage")
	als, _ := stage["AccessLogSettings"].(map[string]any)
	lg := cdktest.Resources(tpl, "AWS::Logs::LogGroup")[getAttTarget(als["DestinationArn"])]
	if lg == nil {
		t.Fatalf("access logs go to %v, not a log group of the template", als["DestinationArn"])
	}
	if lg["RetentionInDays"] == nil {
		t.Error("access log group without retention")
	}
	return lg["LogGroupName"]
}

// checkAccessLogGroup: API Gateway's access logs are vended logs; AWS advises naming their log
// group under /aws/vendedlogs/ so that CloudWatch Logs needs no resource policy per log group
// (whose 5,120-character limit a few stacks exhaust). The name is fixed at synth: no random part.
func checkAccessLogGroup(t *testing.T, tpl map[string]any, wantName string) {
	t.Helper()
	name := accessLogGroupName(t, tpl)
	s, ok := name.(string)
	if !ok {
		b, _ := json.Marshal(name)
		t.Fatalf("access log group name %s is not a literal string", b)
	}
	if !strings.HasPrefix(s, "/aws/vendedlogs/") {
		t.Errorf("access log group %q is not under /aws/vendedlogs/", s)
	}
	if wantName != "" && s != wantName {
		t.Errorf("access log group %q, want %q", s, wantName)
	}
}

func TestAccessLogGroupVended(t *testing.T) {
	tpl, err := synthStack(t, nil, func(awscdk.Stack) *passwordless.Props { return nil })
	if err != nil {
		t.Fatal(err)
	}
	checkAccessLogGroup(t, tpl, "/aws/vendedlogs/apigateway/Test/Passwordless/access")
}

// checkIssuer: the JWT authorizer's issuer is the pool's, in the stack's partition:
// https://cognito-idp.<region>.<URL suffix>/<pool ID>, never a hard-coded amazonaws.com.
func checkIssuer(t *testing.T, tpl map[string]any) {
	t.Helper()
	_, a := cdktest.One(t, tpl, "AWS::ApiGatewayV2::Authorizer")
	var poolID string
	for id := range cdktest.Resources(tpl, "AWS::Cognito::UserPool") {
		poolID = id
	}
	jc, _ := a["JwtConfiguration"].(map[string]any)
	b, _ := json.Marshal(jc["Issuer"])
	issuer := string(b)
	if strings.Contains(issuer, "amazonaws.com") || !strings.Contains(issuer, "AWS::URLSuffix") ||
		!strings.Contains(issuer, "https://cognito-idp.") || !strings.Contains(issuer, poolID) {
		t.Errorf("issuer %s, want https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/ and the pool %s", issuer, poolID)
	}
}

// hardCodedPartition lists the template's strings that name the aws partition or its domain
// outside the places where AWS wants exactly that (service principals and the identity pool's
// condition keys, which are the same in every partition).
func hardCodedPartition(tpl map[string]any) []string {
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(path+"/"+k, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case string:
			principal := strings.HasSuffix(path, "/Service") || strings.HasSuffix(path, "/Federated") ||
				strings.HasSuffix(path, "/Principal") || strings.Contains(path, "/Service[")
			if strings.Contains(x, "arn:aws:") || strings.Contains(x, "amazonaws.com") && !principal {
				out = append(out, path+" = "+x)
			}
		}
	}
	walk("", tpl["Resources"])
	walk("", tpl["Outputs"])
	return out
}

// TestPartition: issue 11 item 8. Every ARN and every service domain in the template comes from
// the pseudo parameters (AWS::Partition, AWS::URLSuffix), so no part of it assumes amazonaws.com,
// whether the stack's region is known or not.
func TestPartition(t *testing.T) {
	for _, c := range []struct {
		name string
		env  *awscdk.Environment
	}{
		{"environment-agnostic", nil},
		{"eu-west-1", &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tpl, err := synthStack(t, c.env, propSets[1].props)
			if err != nil {
				t.Fatal(err)
			}
			checkIssuer(t, tpl)
			for _, s := range hardCodedPartition(tpl) {
				t.Errorf("hard-coded partition: %s", s)
			}
		})
	}
}

// TestChinaRefused: Cognito user pools are not available in the China Regions (aws-cn), so a
// stack there could never deploy; the synth says so instead of CloudFormation failing later.
func TestChinaRefused(t *testing.T) {
	_, err := synthStack(t, &awscdk.Environment{Region: jsii.String("cn-north-1")}, func(awscdk.Stack) *passwordless.Props { return nil })
	if err == nil || !strings.Contains(err.Error(), "China") || !strings.Contains(err.Error(), "user pools") {
		t.Fatalf("a stack in cn-north-1 synthesized (err %v); want a clear refusal", err)
	}
}

// importedPool stands for a UserPool value that is not a pool of this app (a pool imported with
// UserPool_FromUserPoolId is an IUserPool, which the Props type keeps out at compile time; a
// wrapper like this one is how such a value would still arrive).
type importedPool struct {
	awscognito.UserPool
	node constructs.Node
}

func (p importedPool) Node() constructs.Node { return p.node }

// TestUserPoolScope: issue 11 item 9. Props.UserPool must be a pool created in the construct's
// own stack: a pool of another stack makes a reference cycle (the pool's triggers point at this
// stack's functions, which point back at the pool), and an imported pool cannot take triggers.
// Both are refused by New with an error that says what to do; the same-stack pool still works.
func TestUserPoolScope(t *testing.T) {
	newPool := func(scope constructs.Construct) awscognito.UserPool {
		return awscognito.NewUserPool(scope, jsii.String("Pool"), &awscognito.UserPoolProps{
			SignInAliases: &awscognito.SignInAliases{Email: jsii.Bool(true)},
		})
	}
	t.Run("another stack", func(t *testing.T) {
		app := cdktest.NewApp(t, cdktest.Options{})
		other := awscdk.NewStack(app, jsii.String("Other"), nil)
		stack := awscdk.NewStack(app, jsii.String("Test"), nil)
		pool := newPool(other)
		err := cdktest.Catch(func() {
			passwordless.New(stack, jsii.String("Passwordless"), &passwordless.Props{UserPool: pool})
		})
		if err == nil || !strings.Contains(err.Error(), "same stack") || !strings.Contains(err.Error(), "Other") {
			t.Fatalf("a pool of another stack was accepted by New (err %v); want a clear error naming both stacks", err)
		}
	})
	t.Run("imported", func(t *testing.T) {
		app := cdktest.NewApp(t, cdktest.Options{})
		stack := awscdk.NewStack(app, jsii.String("Test"), nil)
		imported := awscognito.UserPool_FromUserPoolId(stack, jsii.String("Imported"), jsii.String("eu-west-1_abcdefghi"))
		err := cdktest.Catch(func() {
			passwordless.New(stack, jsii.String("Passwordless"), &passwordless.Props{UserPool: importedPool{node: imported.Node()}})
		})
		if err == nil || !strings.Contains(err.Error(), "imported") {
			t.Fatalf("an imported pool was accepted (err %v); want a clear error", err)
		}
	})
	t.Run("same stack", func(t *testing.T) {
		tpl, err := synthStack(t, nil, func(stack awscdk.Stack) *passwordless.Props {
			return &passwordless.Props{UserPool: newPool(stack)}
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range cdktest.Resources(tpl, "AWS::Cognito::UserPool") {
			lc, _ := p["LambdaConfig"].(map[string]any)
			if lc["DefineAuthChallenge"] == nil {
				t.Error("same-stack pool without the construct's triggers")
			}
		}
	})
}

// TestSMSCountriesExplicit: the functions get SMS_ALLOWED_COUNTRIES from the construct, never the
// Lambda-side default (which lists US and CA, unusable without an origination number).
func TestSMSCountriesExplicit(t *testing.T) {
	tpl, err := synthStack(t, nil, func(awscdk.Stack) *passwordless.Props {
		return &passwordless.Props{Aliases: passwordless.Aliases{Phone: true}, Methods: []passwordless.Method{passwordless.SMSOTP}}
	})
	if err != nil {
		t.Fatal(err)
	}
	fns := functionsByCommand(t, tpl)
	for _, cmd := range []string{"create", "verify", "api"} {
		env, _ := fns[cmd].props["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if vars["SMS_ALLOWED_COUNTRIES"] != "GB,DE,FR,AU,IE" {
			t.Errorf("%s: SMS_ALLOWED_COUNTRIES=%v, want the construct's default GB,DE,FR,AU,IE", cmd, vars["SMS_ALLOWED_COUNTRIES"])
		}
	}
}

// checkDKIMOutputs: when the construct creates a domain identity, the stack outputs the three
// DKIM CNAME records (name and value of each) that must be published before SES sends; with an
// address identity, an existing identity or no email there are none.
func checkDKIMOutputs(t *testing.T, tpl map[string]any, domain bool) {
	t.Helper()
	outputs, _ := tpl["Outputs"].(map[string]any)
	var identity string
	for id := range cdktest.Resources(tpl, "AWS::SES::EmailIdentity") {
		identity = id
	}
	found := 0
	for id, o := range outputs {
		if !strings.Contains(id, "Dkim") {
			continue
		}
		found++
		v, _ := json.Marshal(o.(map[string]any)["Value"])
		if !strings.Contains(string(v), `"Fn::GetAtt":["`+identity+`","DkimDNSToken`) {
			t.Errorf("output %s = %s, want a DKIM token attribute of the identity %s", id, v, identity)
		}
	}
	want := 0
	if domain {
		want = 6
	}
	if found != want {
		t.Errorf("%d DKIM outputs, want %d (name and value of 3 CNAME records)", found, want)
	}
}

func TestDKIMOutputs(t *testing.T) {
	for _, c := range []struct {
		set    int
		domain bool
	}{{0, false}, {1, true}} {
		t.Run(propSets[c.set].name, func(t *testing.T) {
			tpl, _ := synthSet(t, propSets[c.set])
			checkDKIMOutputs(t, tpl, c.domain)
		})
	}
}

// sendEmailResources returns the resources of each ses:SendEmail statement of cmd's role.
func sendEmailResources(t *testing.T, tpl map[string]any, cmd string) []string {
	t.Helper()
	fns := functionsByCommand(t, tpl)
	var out []string
	for _, s := range roleStatements(tpl)[fns[cmd].role] {
		if allows(s, "ses:SendEmail") {
			b, _ := json.Marshal(s["Resource"])
			out = append(out, string(b))
		}
	}
	return out
}

// TestExistingIdentity: issue 11 items 1 and 2. With Email.ExistingIdentity the stack creates no
// SES identity (one that exists already would fail the stack) and grants ses:SendEmail on the
// named identity's ARN, built in the stack's partition, region and account, or as given; its own
// configuration set (a name CloudFormation generates, so it cannot collide) stays. Native mode
// points the pool's EmailConfiguration at that identity. An identity ARN of another region or
// account than the stack's is refused: the functions send through SES in their own.
func TestExistingIdentity(t *testing.T) {
	const nameARN = `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ses:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":identity/example.com"]]}`
	custom := func(identity string) func(awscdk.Stack) *passwordless.Props {
		return func(awscdk.Stack) *passwordless.Props {
			return &passwordless.Props{
				Methods: []passwordless.Method{passwordless.EmailOTP},
				Email:   &passwordless.EmailProps{From: "no-reply@example.com", ExistingIdentity: identity},
			}
		}
	}
	check := func(t *testing.T, tpl map[string]any, wantARN string) {
		t.Helper()
		if n := len(cdktest.Resources(tpl, "AWS::SES::EmailIdentity")); n != 0 {
			t.Errorf("%d SES identities created beside the existing one", n)
		}
		if n := len(cdktest.Resources(tpl, "AWS::SES::ConfigurationSet")); n != 1 {
			t.Errorf("%d configuration sets, want the construct's own", n)
		}
		for _, set := range cdktest.Resources(tpl, "AWS::SES::ConfigurationSet") {
			if set["Name"] != nil {
				t.Errorf("configuration set named %v: a fixed name can collide with one that exists", set["Name"])
			}
		}
		for _, cmd := range []string{"create", "api"} {
			res := sendEmailResources(t, tpl, cmd)
			if len(res) != 1 || !strings.HasPrefix(res[0], "["+wantARN+",") {
				t.Errorf("%s: ses:SendEmail on %v, want the existing identity %s and the configuration set", cmd, res, wantARN)
			}
		}
		checkDKIMOutputs(t, tpl, false)
	}
	t.Run("domain", func(t *testing.T) {
		tpl, err := synthStack(t, nil, custom("example.com"))
		if err != nil {
			t.Fatal(err)
		}
		check(t, tpl, nameARN)
	})
	t.Run("arn", func(t *testing.T) {
		const arn = "arn:aws:ses:eu-west-1:111111111111:identity/example.com"
		tpl, err := synthStack(t, &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")}, custom(arn))
		if err != nil {
			t.Fatal(err)
		}
		check(t, tpl, `"`+arn+`"`)
	})
	t.Run("arn of another region", func(t *testing.T) {
		_, err := synthStack(t, &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")},
			custom("arn:aws:ses:us-east-1:111111111111:identity/example.com"))
		if err == nil || !strings.Contains(err.Error(), "us-east-1") {
			t.Fatalf("an identity of another region was accepted (err %v)", err)
		}
	})
	t.Run("native", func(t *testing.T) {
		tpl, _ := synthSet(t, propSets[2])
		if n := len(cdktest.Resources(tpl, "AWS::SES::EmailIdentity")); n != 0 {
			t.Errorf("native mode created %d SES identities: Cognito checks the identity when it creates the pool, before a new one could be verified", n)
		}
		for _, p := range cdktest.Resources(tpl, "AWS::Cognito::UserPool") {
			ec, _ := p["EmailConfiguration"].(map[string]any)
			src, _ := json.Marshal(ec["SourceArn"])
			if ec["EmailSendingAccount"] != "DEVELOPER" || string(src) != nameARN {
				t.Errorf("EmailConfiguration %v with SourceArn %s, want DEVELOPER through %s", ec["EmailSendingAccount"], src, nameARN)
			}
		}
	})
}
