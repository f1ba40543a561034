package passwordless_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/constructs/passwordless"
)

// The examples synthesize with bundling skipped (the "aws:cdk:bundling-stacks" context, as
// snapshot tests do), so they run in seconds without building the functions; cdk synth and
// cdk deploy build them. Each reads the template as a test of your own stack would, through the
// small helpers at the end of this file.

// An app whose users sign in with a code emailed to them: the smallest useful setup.
func ExampleNew() {
	stack := newStack() // an App with one Stack "Auth"; see the end of this file

	auth := passwordless.New(stack, jsii.String("Passwordless"), &passwordless.Props{
		Methods: []passwordless.Method{passwordless.EmailOTP},
		Email:   &passwordless.EmailProps{From: "no-reply@example.com"},
		AppName: "Example",
	})
	awscdk.NewCfnOutput(stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{Value: auth.APIURL})
	awscdk.NewCfnOutput(stack, jsii.String("ClientId"), &awscdk.CfnOutputProps{Value: auth.Client.UserPoolClientId()})

	tpl := synth(stack)
	fmt.Println("functions:", tpl.count("AWS::Lambda::Function"))
	pool := tpl.of(auth.UserPool)
	fmt.Println("triggers:", slices.Sorted(maps.Keys(pool.Properties["LambdaConfig"].(map[string]any))))
	client := tpl.of(auth.Client)
	fmt.Println("auth flows:", client.Properties["ExplicitAuthFlows"])
	// Output:
	// functions: 5
	// triggers: [CreateAuthChallenge DefineAuthChallenge PreSignUp VerifyAuthChallengeResponse]
	// auth flows: [ALLOW_CUSTOM_AUTH ALLOW_REFRESH_TOKEN_AUTH]
}

// Every sign-in method, magic links bound to the device that asked, security notifications to
// account owners, and alarms that notify an SNS topic.
func ExampleNew_everything() {
	stack := newStack() // an App with one Stack "Auth"; see the end of this file
	oncall := awssns.NewTopic(stack, jsii.String("OnCall"), nil)

	auth := passwordless.New(stack, jsii.String("Passwordless"), &passwordless.Props{
		Aliases: passwordless.Aliases{Email: true, Phone: true},
		Methods: []passwordless.Method{
			passwordless.EmailOTP, passwordless.SMSOTP, passwordless.DeviceKey, passwordless.Passkey, passwordless.MagicLink,
		},
		Email:    &passwordless.EmailProps{From: "no-reply@example.com", Domain: "example.com"},
		SMS:      passwordless.SMSProps{AllowedCountries: []string{"GB", "IE"}},
		Passkeys: passwordless.PasskeyProps{RPID: "example.com", Origins: []string{"https://app.example.com"}},
		MagicLink: &passwordless.MagicLinkProps{
			RedirectURLs: []string{"https://app.example.com/signin"},
			SameDevice:   true,
		},
		Lockout: passwordless.LockoutProps{Limit: 10, Window: 30 * time.Minute},
		Notifications: &passwordless.NotificationProps{
			Events: passwordless.NotificationKinds,
			Templates: map[passwordless.NotificationKind]passwordless.NotificationTemplates{
				passwordless.NewMethodSignIn: {Subject: "New sign-in to your {{.AppName}} account"},
			},
		},
		Observability:  &passwordless.ObservabilityProps{AlarmTopic: oncall, SMSMonthlyBudgetUSD: 50},
		AllowedOrigins: []string{"https://app.example.com"},
		AppName:        "Example",
		Protect:        true,
	})

	tpl := synth(stack)
	notifying := 0
	for _, r := range tpl.Resources {
		if r.Type == "AWS::CloudWatch::Alarm" && r.Properties["AlarmActions"] != nil && r.Properties["OKActions"] != nil {
			notifying++
		}
	}
	fmt.Println("functions:", tpl.count("AWS::Lambda::Function"))
	fmt.Printf("alarms: %d, %d of them notify the topic\n", tpl.count("AWS::CloudWatch::Alarm"), notifying)
	fmt.Println("dashboards:", tpl.count("AWS::CloudWatch::Dashboard"))
	verify := tpl.of(auth.Functions.Verify)
	env := verify.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	fmt.Println("Verify:", env["SIGN_IN_METHODS"], env["FAILURE_LIMIT"], env["FAILURE_WINDOW_SECONDS"], env["NOTIFY_EVENTS"])
	// Output:
	// functions: 5
	// alarms: 19, 19 of them notify the topic
	// dashboards: 1
	// Verify: email_otp,sms_otp,device_key,passkey,magic_link 10 1800 account_locked,new_method_signin
}

// Cognito's own passwordless sign-in (the Essentials feature plan): Cognito sends the email
// codes and runs passkeys, while device keys keep running through the construct's triggers.
func ExampleNew_native() {
	stack := newStack() // an App with one Stack "Auth"; see the end of this file

	auth := passwordless.New(stack, jsii.String("Passwordless"), &passwordless.Props{
		Mode:    passwordless.ModeNative,
		Methods: []passwordless.Method{passwordless.DeviceKey},
		Native:  passwordless.NativeProps{EmailOTP: true, Passkey: true, RelyingPartyID: "example.com"},
		// Cognito checks the SES identity when it creates the pool: verify it in SES first.
		Email: &passwordless.EmailProps{From: "no-reply@example.com", ExistingIdentity: "example.com"},
	})

	tpl := synth(stack)
	pool := tpl.of(auth.UserPool)
	fmt.Println("feature plan:", pool.Properties["UserPoolTier"])
	fmt.Println("first factors:", pool.Properties["Policies"].(map[string]any)["SignInPolicy"].(map[string]any)["AllowedFirstAuthFactors"])
	fmt.Println("triggers:", slices.Sorted(maps.Keys(pool.Properties["LambdaConfig"].(map[string]any))))
	client := tpl.of(auth.Client)
	fmt.Println("auth flows:", client.Properties["ExplicitAuthFlows"])
	// Output:
	// feature plan: ESSENTIALS
	// first factors: [PASSWORD EMAIL_OTP WEB_AUTHN]
	// triggers: [CreateAuthChallenge DefineAuthChallenge PostConfirmation VerifyAuthChallengeResponse]
	// auth flows: [ALLOW_CUSTOM_AUTH ALLOW_USER_AUTH ALLOW_REFRESH_TOKEN_AUTH]
}

// A user pool the app already has: the construct adds its triggers to it and creates its own
// app client beside the app's others.
func ExampleNew_existingPool() {
	stack := newStack() // an App with one Stack "Auth"; see the end of this file
	pool := awscognito.NewUserPool(stack, jsii.String("Users"), &awscognito.UserPoolProps{
		SelfSignUpEnabled: jsii.Bool(true),
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
	})
	pool.AddClient(jsii.String("Web"), nil)

	auth := passwordless.New(stack, jsii.String("Passwordless"), &passwordless.Props{
		UserPool: pool,
		Methods:  []passwordless.Method{passwordless.EmailOTP, passwordless.DeviceKey},
		Email:    &passwordless.EmailProps{From: "no-reply@example.com"},
	})

	tpl := synth(stack)
	fmt.Println("user pools:", tpl.count("AWS::Cognito::UserPool"), "app clients:", tpl.count("AWS::Cognito::UserPoolClient"))
	users := tpl.of(pool)
	fmt.Println("triggers on the app's pool:", slices.Sorted(maps.Keys(users.Properties["LambdaConfig"].(map[string]any))))
	client := tpl.of(auth.Client)
	fmt.Println("construct's client:", client.Properties["ExplicitAuthFlows"])
	// Output:
	// user pools: 1 app clients: 2
	// triggers on the app's pool: [CreateAuthChallenge DefineAuthChallenge PreSignUp VerifyAuthChallengeResponse]
	// construct's client: [ALLOW_CUSTOM_AUTH ALLOW_REFRESH_TOKEN_AUTH]
}

// newStack returns the stack "Auth" of a new App that skips bundling (see the top of this file).
// In an app of your own: awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Auth"), nil).
func newStack() awscdk.Stack {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []string{}}})
	return awscdk.NewStack(app, jsii.String("Auth"), nil)
}

// template is the part of a synthesized CloudFormation template the examples read.
type template struct {
	stack     awscdk.Stack
	Resources map[string]resource
}

// resource is one resource of a template.
type resource struct {
	Type       string
	Properties map[string]any
}

// synth synthesizes stack and decodes its template.
func synth(stack awscdk.Stack) template {
	tpl := template{stack: stack}
	b, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err == nil {
		err = json.Unmarshal(b, &tpl)
	}
	if err != nil {
		panic(err)
	}
	return tpl
}

// count returns how many resources of the CloudFormation type typ the template holds.
func (t template) count(typ string) int {
	n := 0
	for _, r := range t.Resources {
		if r.Type == typ {
			n++
		}
	}
	return n
}

// of returns the template's resource for construct c (its default child, e.g. the
// AWS::Cognito::UserPool of an awscognito.UserPool).
func (t template) of(c constructs.IConstruct) resource {
	return t.Resources[*t.stack.GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))]
}
