// Package passwordless is a CDK construct that provisions passwordless sign-in on Amazon Cognito:
// a user pool with custom-auth triggers written in Go, an app client without a secret, an identity
// pool, a DynamoDB key table, an SES sender and an HTTP API behind a JWT authorizer.
//
//	auth := passwordless.New(stack, jsii.String("Auth"), &passwordless.Props{
//		Methods: []passwordless.Method{passwordless.EmailOTP},
//		Email:   &passwordless.EmailProps{From: "no-reply@example.com"},
//	})
//
// Every setting is a type of this package (Method, PasskeyProps, LockoutProps, Limit,
// NotificationKind, ...) or of aws-cdk-go; the construct translates them for its Lambda
// functions, so an app imports no package of the functions. The examples show a minimal
// setup, every feature on, Cognito's native passwordless mode and an existing user pool.
//
// Construct IDs are fixed, so logical IDs are stable; nothing random or time-dependent is synthesized.
package passwordless

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognitoidentitypool"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/contact"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/logging"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/passkey"
	"github.com/passwordless-go/cognito/lambdas/signup"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// Passwordless is the construct. Its fields are the resources it made, for callers to extend
// (e.g. add statements to AuthenticatedRole) or to reference.
type Passwordless struct {
	constructs.Construct
	UserPool          awscognito.IUserPool
	Client            awscognito.UserPoolClient
	IdentityPool      awscognitoidentitypool.IdentityPool
	AuthenticatedRole awsiam.IRole
	Table             awsdynamodb.Table
	API               awsapigatewayv2.HttpApi
	APIURL            *string
	// EmailIdentity is the SES identity the construct created: nil without Props.Email or with
	// Email.ExistingIdentity.
	EmailIdentity awsses.EmailIdentity
	// EmailIdentityARN is the identity codes are sent through, created or existing; nil without
	// Props.Email.
	EmailIdentityARN *string
	ConfigurationSet awsses.ConfigurationSet // nil without Props.Email
	// DeploymentSecret keys every derived identifier (Props.DeploymentSecret or the construct's own).
	DeploymentSecret awssecretsmanager.ISecret
	Functions        Functions
	// MetricsNamespace is the CloudWatch namespace of the functions' metrics (package metrics);
	// nil with Observability.MetricsDisabled.
	MetricsNamespace *string
	// Alarms are the construct's alarms, in a fixed order (see AlarmProps); nil with
	// Observability.Alarms.Disabled.
	Alarms []awscloudwatch.Alarm
	// Dashboard is the construct's CloudWatch dashboard; nil with Observability.DashboardDisabled.
	Dashboard awscloudwatch.Dashboard
}

// Functions are the construct's Lambda functions.
type Functions struct {
	Define, Create, Verify, PreSignUp, API awslambda.Function
	// PostConfirmation replaces a native-mode sign-up's password (see package postconfirm); nil
	// in custom mode.
	PostConfirmation awslambda.Function
}

// Function timeouts: under Cognito's 5 s trigger limit. Verify and the API budget them as up to
// about 1 s to read the deployment key (an instance's first request), their own work, and a
// notification (NotificationProps.Timeout, at most MaxNotificationTimeout).
const (
	TriggerTimeoutSeconds = 4
	APITimeoutSeconds     = 4
)

// New creates the construct. It panics with Props.Validate's error on bad props, and with
// checkScope's when the props do not fit the stack (the CDK way: the synth fails with the
// message).
func New(scope constructs.Construct, id *string, props *Props) *Passwordless {
	if props == nil {
		props = &Props{}
	}
	if err := props.Validate(); err != nil {
		panic(fmt.Errorf("passwordless: invalid props: %w", err))
	}
	p := props.WithDefaults()
	if err := checkScope(awscdk.Stack_Of(scope), p); err != nil {
		panic(fmt.Errorf("passwordless: %w", err))
	}
	c := constructs.NewConstruct(scope, id)
	pl := &Passwordless{Construct: c}
	removal := awscdk.RemovalPolicy_DESTROY
	if p.Protect {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	cfg := p.flowConfig()

	// Key table.
	pl.Table = awsdynamodb.NewTable(c, jsii.String("KeyTable"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String(store.PartitionKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:             &awsdynamodb.Attribute{Name: jsii.String(store.SortKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String(store.TTLAttribute),
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		DeletionProtection: jsii.Bool(p.Protect),
		RemovalPolicy:      removal,
	})
	pl.Table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(store.CredentialIndex),
		PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(store.CredentialIDAttribute), Type: awsdynamodb.AttributeType_STRING},
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})
	pl.DeploymentSecret = deploymentSecret(c, p, removal)

	// Email sender.
	if p.Email != nil {
		pl.ConfigurationSet = awsses.NewConfigurationSet(c, jsii.String("ConfigurationSet"), &awsses.ConfigurationSetProps{
			ReputationMetrics:  jsii.Bool(true),
			SendingEnabled:     jsii.Bool(true),
			TlsPolicy:          awsses.ConfigurationSetTlsPolicy_REQUIRE,
			SuppressionReasons: awsses.SuppressionReasons_BOUNCES_AND_COMPLAINTS,
		})
		pl.EmailIdentity, pl.EmailIdentityARN = emailIdentity(c, p.Email, pl.ConfigurationSet)
	}

	// Functions.
	triggerEnv := map[string]*string{
		authflow.EnvMethods:     jsii.String(cfg.MethodList()),
		authflow.EnvMaxAttempts: jsii.String(strconv.Itoa(cfg.MaxAttempts)),
		authflow.EnvMaxResends:  jsii.String(strconv.Itoa(cfg.MaxResends)),
		logging.EnvLevel:        jsii.String("info"),
	}
	aliases := []string{}
	if p.Aliases.Email {
		aliases = append(aliases, "email")
	}
	if p.Aliases.Phone {
		aliases = append(aliases, "phone")
	}
	pl.Functions.Define = newFunction(c, "DefineAuthChallenge", "define", TriggerTimeoutSeconds, p, triggerEnv)
	if len(p.Methods) > 0 {
		// Define needs no table and no code settings: it decides from the session alone.
		triggerEnv = withEnv(triggerEnv, store.EnvTableName, pl.Table.TableName())
		for k, v := range lockoutEnv(p) {
			triggerEnv = withEnv(triggerEnv, k, v)
		}
	}
	if p.codes() {
		for k, v := range codeEnv(p, pl.ConfigurationSet) {
			triggerEnv = withEnv(triggerEnv, k, v)
		}
	}
	if cfg.Enabled(authflow.Passkey) {
		for k, v := range passkeyEnv(p) {
			triggerEnv = withEnv(triggerEnv, k, v)
		}
	}
	// Create sends links (the link settings and, without a code method, the sender settings and
	// schedule links share with email codes); Verify uses them (the same-device setting) and
	// sends the notifications of locks and new sign-in methods.
	createEnv, verifyEnv := triggerEnv, triggerEnv
	if p.links() {
		createEnv = mergeEnv(createEnv, withSet(p.createLinkEnv(), pl.ConfigurationSet))
		verifyEnv = mergeEnv(verifyEnv, withSet(p.verifyLinkEnv(), nil))
	}
	verifyNotices := p.notifyKinds(verifyKinds)
	if len(verifyNotices) > 0 {
		verifyEnv = mergeEnv(verifyEnv, withSet(p.notifyEnv(verifyNotices), pl.ConfigurationSet))
	}
	pl.Functions.Create = newFunction(c, "CreateAuthChallenge", "create", TriggerTimeoutSeconds, p, createEnv)
	pl.Functions.Verify = newFunction(c, "VerifyAuthChallengeResponse", "verify", TriggerTimeoutSeconds, p, verifyEnv)
	pl.Functions.PreSignUp = newFunction(c, "PreSignUp", "presignup", TriggerTimeoutSeconds, p, map[string]*string{
		signup.EnvSignInAliases: jsii.String(strings.Join(aliases, ",")),
		logging.EnvLevel:        jsii.String("info"),
	})
	if p.Mode == ModeNative {
		// Cognito requires PASSWORD among native mode's first factors and the sign-up password is
		// the client's: on confirmation this replaces it with a random one nobody knows and signs
		// the user out everywhere. It needs the event alone: no table, no secret, no pool ID.
		pl.Functions.PostConfirmation = newFunction(c, "PostConfirmation", "postconfirm", TriggerTimeoutSeconds, p, map[string]*string{
			logging.EnvLevel: jsii.String("info"),
		})
	}
	createAccess, verifyAccess, apiAccess := tableAccess(p)
	grantTableAccess(pl.Functions.Create, pl.Table, createAccess)
	grantTableAccess(pl.Functions.Verify, pl.Table, verifyAccess)
	grantReadSecret(pl.Functions.Create, pl.DeploymentSecret)
	grantReadSecret(pl.Functions.Verify, pl.DeploymentSecret)
	senders := grants{}
	if cfg.Enabled(authflow.EmailOTP) || p.links() {
		senders.email(pl, p, pl.Functions.Create)
	}
	if cfg.Enabled(authflow.SMSOTP) {
		senders.sms(pl.Functions.Create)
	}
	if len(verifyNotices) > 0 {
		// Notices go by email, or by SMS to phone-only accounts when SMS codes are on.
		senders.email(pl, p, pl.Functions.Verify)
		if cfg.Enabled(authflow.SMSOTP) {
			senders.sms(pl.Functions.Verify)
		}
	}

	// User pool.
	var pool awscognito.UserPool
	if p.UserPool != nil {
		pool = p.UserPool
	} else {
		pool = newUserPool(c, p, removal, pl.ConfigurationSet, pl.EmailIdentityARN)
	}
	pool.AddTrigger(awscognito.UserPoolOperation_DEFINE_AUTH_CHALLENGE(), pl.Functions.Define, awscognito.LambdaVersion_V1_0)
	pool.AddTrigger(awscognito.UserPoolOperation_CREATE_AUTH_CHALLENGE(), pl.Functions.Create, awscognito.LambdaVersion_V1_0)
	pool.AddTrigger(awscognito.UserPoolOperation_VERIFY_AUTH_CHALLENGE_RESPONSE(), pl.Functions.Verify, awscognito.LambdaVersion_V1_0)
	if p.Mode == ModeCustom {
		// Native mode confirms sign-ups with Cognito's own code, which also verifies the address
		// that EMAIL_OTP and SMS_OTP then send to.
		pool.AddTrigger(awscognito.UserPoolOperation_PRE_SIGN_UP(), pl.Functions.PreSignUp, awscognito.LambdaVersion_V1_0)
	}
	if fn := pl.Functions.PostConfirmation; fn != nil {
		pool.AddTrigger(awscognito.UserPoolOperation_POST_CONFIRMATION(), fn, awscognito.LambdaVersion_V1_0)
		// A separate policy, as Verify's: the pool depends on the function (trigger), so the
		// function must not depend on a policy that names the pool.
		awsiam.NewPolicy(c, jsii.String("PostConfirmationReplacesPassword"), &awsiam.PolicyProps{
			Roles: &[]awsiam.IRole{fn.Role()},
			Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReplaceSignUpPassword"),
				Actions:   jsii.Strings("cognito-idp:AdminSetUserPassword", "cognito-idp:AdminUserGlobalSignOut"),
				Resources: &[]*string{pool.UserPoolArn()},
			})},
		})
	}
	pl.UserPool = pool
	if p.codes() {
		// A separate policy, not the role's default one: the pool depends on the function, so the
		// function must not depend on a policy that names the pool.
		awsiam.NewPolicy(c, jsii.String("VerifyMarksAddressesVerified"), &awsiam.PolicyProps{
			Roles: &[]awsiam.IRole{pl.Functions.Verify.Role()},
			Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("MarkVerifiedAfterCode"),
				Actions:   jsii.Strings("cognito-idp:AdminUpdateUserAttributes"),
				Resources: &[]*string{pool.UserPoolArn()},
			})},
		})
	}

	flows := &awscognito.AuthFlow{Custom: jsii.Bool(true)}
	if p.Mode == ModeNative {
		// USER_AUTH for Cognito's passwordless factors; CUSTOM_AUTH only for device keys.
		flows = &awscognito.AuthFlow{User: jsii.Bool(true), Custom: jsii.Bool(cfg.Enabled(authflow.DeviceKey))}
	}
	pl.Client = pool.AddClient(jsii.String("AppClient"), &awscognito.UserPoolClientOptions{
		GenerateSecret: jsii.Bool(false),
		// The client reads every standard attribute (Cognito's default) but cannot write email,
		// phone_number or their verified flags: an address is set only by sign-up (the username
		// itself) and by the contact-change routes, together with its verified flag after a code.
		WriteAttributes:            clientWriteAttributes(),
		AuthFlows:                  flows,
		PreventUserExistenceErrors: jsii.Bool(true),
		EnableTokenRevocation:      jsii.Bool(true),
		DisableOAuth:               jsii.Bool(true),
		AuthSessionValidity:        awscdk.Duration_Seconds(jsii.Number(p.AuthSessionValidity.Seconds())),
		AccessTokenValidity:        awscdk.Duration_Minutes(jsii.Number(p.AccessTokenValidity.Minutes())),
		IdTokenValidity:            awscdk.Duration_Minutes(jsii.Number(p.IDTokenValidity.Minutes())),
		RefreshTokenValidity:       awscdk.Duration_Minutes(jsii.Number(p.RefreshTokenValidity.Minutes())),
	})

	// Identity pool.
	pl.IdentityPool = awscognitoidentitypool.NewIdentityPool(c, jsii.String("IdentityPool"), &awscognitoidentitypool.IdentityPoolProps{
		AllowUnauthenticatedIdentities: jsii.Bool(p.AllowUnauthenticatedIdentities),
		AuthenticationProviders: &awscognitoidentitypool.IdentityPoolAuthenticationProviders{
			UserPools: &[]awscognitoidentitypool.IUserPoolAuthenticationProvider{
				awscognitoidentitypool.NewUserPoolAuthenticationProvider(&awscognitoidentitypool.UserPoolAuthenticationProviderProps{
					UserPool:       pool,
					UserPoolClient: pl.Client,
				}),
			},
		},
	})
	pl.AuthenticatedRole = pl.IdentityPool.AuthenticatedRole()

	// HTTP API.
	apiEnv := map[string]*string{
		api.EnvClientID:  pl.Client.UserPoolClientId(),
		logging.EnvLevel: jsii.String("info"),
	}
	routes := []route{
		{awsapigatewayv2.HttpMethod_GET, "/me", false},
		// Recovery: Cognito GlobalSignOut with the caller's own access token (no IAM).
		{awsapigatewayv2.HttpMethod_POST, "/me/signout-everywhere", false},
	}
	changes := p.codes()
	if cfg.Enabled(authflow.DeviceKey) || cfg.Enabled(authflow.Passkey) || changes {
		apiEnv[store.EnvTableName] = pl.Table.TableName()
		// The device-key freshness window also applies to passkey registration and to starting a
		// contact change.
		apiEnv[api.EnvDeviceKeyMaxPerUser] = jsii.String(strconv.Itoa(p.DeviceKeys.MaxPerUser))
		apiEnv[api.EnvDeviceKeyMaxAuthAge] = jsii.String(strconv.Itoa(int(p.DeviceKeys.MaxAuthAge.Seconds())))
	}
	if cfg.Enabled(authflow.DeviceKey) {
		routes = append(routes,
			route{awsapigatewayv2.HttpMethod_POST, "/device-keys", false},
			route{awsapigatewayv2.HttpMethod_GET, "/device-keys", false},
			route{awsapigatewayv2.HttpMethod_DELETE, "/device-keys/{id}", false},
			// Recovery from a lost device: revoke every device key at once.
			route{awsapigatewayv2.HttpMethod_DELETE, "/device-keys", false},
		)
	}
	if changes {
		// Adding or changing an email or phone: a code to the new address, then the value and its
		// verified flag in one AdminUpdateUserAttributes. An address can be changed when its code
		// method is on (the API sends the code the same way Create does).
		apiEnv[contact.EnvUserPoolID] = pool.UserPoolId()
		apiEnv[contact.EnvSignInAliases] = jsii.String(strings.Join(contactAliases(cfg), ","))
		for k, v := range codeEnv(p, pl.ConfigurationSet) {
			apiEnv[k] = v
		}
		routes = append(routes,
			route{awsapigatewayv2.HttpMethod_POST, "/me/contact", false},
			route{awsapigatewayv2.HttpMethod_POST, "/me/contact/verify", false},
		)
	}
	if cfg.Enabled(authflow.Passkey) {
		for k, v := range passkeyEnv(p) {
			apiEnv[k] = v
		}
		routes = append(routes,
			route{awsapigatewayv2.HttpMethod_POST, "/passkeys/registration/options", false},
			route{awsapigatewayv2.HttpMethod_POST, "/passkeys/registration", false},
			route{awsapigatewayv2.HttpMethod_GET, "/passkeys", false},
			route{awsapigatewayv2.HttpMethod_PATCH, "/passkeys/{id}", false},
			route{awsapigatewayv2.HttpMethod_DELETE, "/passkeys/{id}", false},
			// Recovery from a lost device: remove every passkey at once.
			route{awsapigatewayv2.HttpMethod_DELETE, "/passkeys", false},
			// Usernameless sign-in starts before there is a token: public, throttled on its own.
			route{awsapigatewayv2.HttpMethod_POST, "/passkeys/authentication/options", true},
		)
	}
	// Notifications of key, passkey and contact changes (the API has the key table for them:
	// each of these kinds needs a method that gives it one). USER_POOL_ID is not needed: the
	// API names the pool from the token's issuer.
	apiNotices := p.notifyKinds(apiKinds)
	if len(apiNotices) > 0 {
		apiEnv = mergeEnv(apiEnv, withSet(p.notifyEnv(apiNotices), pl.ConfigurationSet))
	}
	pl.Functions.API = newFunction(c, "Api", "api", APITimeoutSeconds, p, apiEnv)
	grantTableAccess(pl.Functions.API, pl.Table, apiAccess)
	grantReadSecret(pl.Functions.API, pl.DeploymentSecret)
	if len(apiNotices) > 0 {
		senders.email(pl, p, pl.Functions.API)
		if cfg.Enabled(authflow.SMSOTP) {
			senders.sms(pl.Functions.API)
		}
	}
	if changes {
		if cfg.Enabled(authflow.EmailOTP) {
			senders.email(pl, p, pl.Functions.API)
		}
		if cfg.Enabled(authflow.SMSOTP) {
			senders.sms(pl.Functions.API)
		}
		// The pool does not depend on the API function, so its default policy may name the pool.
		pl.Functions.API.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("SetContactAfterCode"),
			Actions:   jsii.Strings("cognito-idp:AdminUpdateUserAttributes"),
			Resources: &[]*string{pool.UserPoolArn()},
		}))
	}
	pl.API, pl.APIURL = newHTTPAPI(c, p, pool, pl.Client, pl.Functions.API, routes)

	out := func(id, desc string, v *string) {
		awscdk.NewCfnOutput(c, jsii.String(id), &awscdk.CfnOutputProps{Value: v, Description: jsii.String(desc)})
	}
	out("UserPoolId", "Cognito user pool ID", pool.UserPoolId())
	out("UserPoolClientId", "App client ID (no secret; CUSTOM_AUTH and refresh only)", pl.Client.UserPoolClientId())
	out("IdentityPoolId", "Cognito identity pool ID", pl.IdentityPool.IdentityPoolId())
	out("ApiUrl", "HTTP API base URL", pl.APIURL)
	out("Region", "AWS Region of the stack", awscdk.Stack_Of(c).Region())
	if pl.EmailIdentity != nil && p.Email.Domain != "" {
		// SES sends from a new domain identity once these CNAME records are published.
		for i, r := range *pl.EmailIdentity.DkimRecords() {
			n := strconv.Itoa(i + 1)
			out("DkimRecord"+n+"Name", "DKIM CNAME record "+n+" of "+p.Email.Domain+": name (publish it in DNS)", r.Name)
			out("DkimRecord"+n+"Value", "DKIM CNAME record "+n+" of "+p.Email.Domain+": value", r.Value)
		}
	}
	if err := pl.observe(c, p); err != nil {
		panic(fmt.Errorf("passwordless: %w", err))
	}
	addSuppressions(c, p)
	return pl
}

func newUserPool(c constructs.Construct, p Props, removal awscdk.RemovalPolicy, set awsses.ConfigurationSet, identityARN *string) awscognito.UserPool {
	props := &awscognito.UserPoolProps{
		UserPoolName:      optional(p.UserPoolName),
		SelfSignUpEnabled: jsii.Bool(true),
		SignInAliases: &awscognito.SignInAliases{
			Email: jsii.Bool(p.Aliases.Email),
			Phone: jsii.Bool(p.Aliases.Phone),
		},
		SignInCaseSensitive: jsii.Bool(false),
		// Verification comes from the first code sign-in, not from Cognito's own messages, so
		// Cognito never sends SMS itself and needs no SNS role (it would be sns:Publish on "*").
		EnableSmsRole: jsii.Bool(false),
		AutoVerify:    &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(false), Phone: jsii.Bool(false)},
		StandardAttributes: &awscognito.StandardAttributes{
			Email:       &awscognito.StandardAttribute{Required: jsii.Bool(false), Mutable: jsii.Bool(true)},
			PhoneNumber: &awscognito.StandardAttribute{Required: jsii.Bool(false), Mutable: jsii.Bool(true)},
		},
		// Users never use a password; SignUp still needs one, so the app sends a long random one
		// that must meet this policy (and nobody can sign in with it: no password flow is enabled).
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength:        jsii.Number(16),
			RequireLowercase: jsii.Bool(true),
			RequireUppercase: jsii.Bool(true),
			RequireDigits:    jsii.Bool(true),
			RequireSymbols:   jsii.Bool(true),
		},
		FeaturePlan:        awscognito.FeaturePlan_LITE,
		AccountRecovery:    awscognito.AccountRecovery_NONE,
		Mfa:                awscognito.Mfa_OFF,
		DeletionProtection: jsii.Bool(p.Protect),
		RemovalPolicy:      removal,
	}
	if p.Mode == ModeNative {
		n := p.Native
		// Cognito's passwordless factors need the Essentials plan. Cognito confirms sign-ups
		// with a code it sends (which verifies the address), and sends the sign-in codes itself:
		// email through the construct's SES identity, SMS through its own SNS role.
		props.FeaturePlan = awscognito.FeaturePlan_ESSENTIALS
		props.SignInPolicy = &awscognito.SignInPolicy{AllowedFirstAuthFactors: &awscognito.AllowedFirstAuthFactors{
			Password: jsii.Bool(true), // Cognito requires it; no password flow is on the client
			EmailOtp: jsii.Bool(n.EmailOTP),
			SmsOtp:   jsii.Bool(n.SMSOTP),
			Passkey:  jsii.Bool(n.Passkey),
		}}
		props.AutoVerify = &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(p.Aliases.Email), Phone: jsii.Bool(p.Aliases.Phone)}
		props.EnableSmsRole = jsii.Bool(n.SMSOTP)
		if n.Passkey {
			props.PasskeyRelyingPartyId = jsii.String(n.RelyingPartyID)
			props.PasskeyUserVerification = awscognito.PasskeyUserVerification_REQUIRED
			if n.UserVerificationPreferred {
				props.PasskeyUserVerification = awscognito.PasskeyUserVerification_PREFERRED
			}
		}
		if n.EmailOTP {
			// Validate made sure the identity exists already (Email.ExistingIdentity): Cognito
			// checks it is verified when it creates the pool.
			ses := &awscognito.UserPoolSESOptions{
				FromEmail:            jsii.String(p.Email.From),
				ConfigurationSetName: set.ConfigurationSetName(),
				SesRegion:            awscdk.Stack_Of(c).Region(),
			}
			if id, _ := parseIdentity(p.Email.ExistingIdentity); id.isDomain() {
				ses.SesVerifiedDomain = jsii.String(id.name)
			}
			props.Email = awscognito.UserPoolEmail_WithSES(ses)
		}
	}
	pool := awscognito.NewUserPool(c, jsii.String("UserPool"), props)
	if props.Email != nil {
		// The identity's own ARN (as given, or built in the stack's partition, region and
		// account), the same the functions are granted.
		pool.Node().DefaultChild().(awscognito.CfnUserPool).AddPropertyOverride(jsii.String("EmailConfiguration.SourceArn"), identityARN)
	}
	return pool
}

// newFunction builds lambdas/cmd/<command> as an arm64 provided.al2023 function with its own log
// group and a role that may only write to that log group.
func newFunction(c constructs.Construct, id, command string, timeoutSeconds int, p Props, env map[string]*string) awslambda.Function {
	logGroup := awslogs.NewLogGroup(c, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     retention(p.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(c, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Runs the " + command + " function; writes only to its own log group"),
	})
	logGroup.GrantWrite(role)
	fn := awslambda.NewFunction(c, jsii.String(id), &awslambda.FunctionProps{
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          functionCode(command),
		MemorySize:    jsii.Number(float64(p.MemorySize)),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(float64(timeoutSeconds))),
		Environment:   &env,
		LogGroup:      logGroup,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		Role:          role,
		Description:   jsii.String("passwordless " + command),
	})
	fn.Node().AddValidation(&envSizeCheck{fn: fn})
	return fn
}

// grantSendEmail lets fn send through SES v2 only from the identity, with the configuration set,
// and only as the From address.
func grantSendEmail(fn awslambda.Function, identityARN *string, set awsses.ConfigurationSet, from string) {
	stack := awscdk.Stack_Of(fn)
	setArn := stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("ses"),
		Resource:     jsii.String("configuration-set"),
		ResourceName: set.ConfigurationSetName(),
	})
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("SendFromIdentityOnly"),
		Actions:   jsii.Strings("ses:SendEmail"),
		Resources: &[]*string{identityARN, setArn},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"ses:FromAddress": from},
		},
	}))
}

func newHTTPAPI(c constructs.Construct, p Props, pool awscognito.IUserPool, client awscognito.UserPoolClient, fn awslambda.Function, routes []route) (awsapigatewayv2.HttpApi, *string) {
	// The issuer of the pool's tokens in the stack's partition (CDK's HttpUserPoolAuthorizer
	// writes amazonaws.com); the pool is in this stack (checkScope), so in its region too.
	issuer := awscdk.Fn_Sub(jsii.String("https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${PoolId}"),
		&map[string]*string{"PoolId": pool.UserPoolId()})
	authorizer := awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("JwtAuthorizer"), issuer, &awsapigatewayv2authorizers.HttpJwtAuthorizerProps{
		JwtAudience:    &[]*string{client.UserPoolClientId()},
		IdentitySource: jsii.Strings("$request.header.Authorization"),
	})
	var cors *awsapigatewayv2.CorsPreflightOptions
	if len(p.AllowedOrigins) > 0 {
		cors = &awsapigatewayv2.CorsPreflightOptions{
			AllowOrigins: jsii.Strings(p.AllowedOrigins...),
			AllowMethods: &[]awsapigatewayv2.CorsHttpMethod{
				awsapigatewayv2.CorsHttpMethod_GET, awsapigatewayv2.CorsHttpMethod_POST,
				awsapigatewayv2.CorsHttpMethod_PATCH, awsapigatewayv2.CorsHttpMethod_DELETE,
			},
			AllowHeaders: jsii.Strings("authorization", "content-type"),
			MaxAge:       awscdk.Duration_Minutes(jsii.Number(10)),
		}
	}
	httpAPI := awsapigatewayv2.NewHttpApi(c, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		Description:        jsii.String("Passwordless sign-in API (JWT: access tokens of the app client)"),
		CorsPreflight:      cors,
		CreateDefaultStage: jsii.Bool(false),
		DefaultAuthorizer:  authorizer,
	})
	accessLogs := awslogs.NewLogGroup(c, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		LogGroupName:  accessLogGroupName(c),
		Retention:     retention(p.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	stage := httpAPI.AddStage(jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageOptions{
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(p.Throttle.RateLimit),
			BurstLimit: jsii.Number(float64(p.Throttle.BurstLimit)),
		},
	})
	cfnStage := stage.Node().DefaultChild().(awsapigatewayv2.CfnStage)
	cfnStage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format:         jsii.String(accessLogFormat),
	})
	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("ApiIntegration"), fn, nil)
	publicSettings := map[string]any{}
	for _, r := range routes {
		opts := &awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.path),
			Methods:     &[]awsapigatewayv2.HttpMethod{r.method},
			Integration: integration,
		}
		if r.public {
			opts.Authorizer = awsapigatewayv2.NewHttpNoneAuthorizer()
		}
		added := httpAPI.AddRoutes(opts)
		if r.public {
			for _, rt := range *added {
				cfnStage.Node().AddDependency(rt) // route settings need the route to exist
			}
			publicSettings[string(r.method)+" "+r.path] = map[string]any{
				"ThrottlingRateLimit":  p.PublicThrottle.RateLimit,
				"ThrottlingBurstLimit": p.PublicThrottle.BurstLimit,
			}
		}
	}
	if len(publicSettings) > 0 {
		cfnStage.SetRouteSettings(publicSettings)
	}
	return httpAPI, stage.Url()
}

// route is one HTTP API route, behind the JWT authorizer unless public.
type route struct {
	method awsapigatewayv2.HttpMethod
	path   string
	public bool
}

// passkeyEnv is the passkey environment of Create, Verify and the API (package passkey's
// variables), from the defaults-filled passkey.Config.
func passkeyEnv(p Props) map[string]*string {
	c := p.Passkeys.config().WithDefaults()
	return map[string]*string{
		passkey.EnvRPID:             jsii.String(c.RPID),
		passkey.EnvRPName:           jsii.String(c.RPName),
		passkey.EnvOrigins:          jsii.String(strings.Join(c.Origins, ",")),
		passkey.EnvUserVerification: jsii.String(string(c.UserVerification)),
		passkey.EnvResidentKey:      jsii.String(string(c.ResidentKey)),
		passkey.EnvAttestation:      jsii.String(string(c.Attestation)),
		passkey.EnvAttachment:       jsii.String(string(c.Attachment)),
		passkey.EnvTimeoutSeconds:   jsii.String(strconv.Itoa(int(c.Timeout.Seconds()))),
		passkey.EnvMaxPerUser:       jsii.String(strconv.Itoa(c.MaxPerUser)),
		passkey.EnvAllowCredentials: jsii.String(c.AllowCredentials),
	}
}

// grantSendSMS lets fn publish SMS to phone numbers. A direct SMS has no resource ARN, so the
// allow is on "*"; publishing to any topic is denied, and the country allow-list, the send limits
// and an SNS spend limit bound the rest.
func grantSendSMS(fn awslambda.Function) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(smsStatementID),
		Actions:   jsii.Strings("sns:Publish"),
		Resources: jsii.Strings("*"),
	}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("NoTopicPublish"),
		Effect:    awsiam.Effect_DENY,
		Actions:   jsii.Strings("sns:Publish"),
		Resources: &[]*string{awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:sns:*:*:*"), nil)},
	}))
}

// smsStatementID names the one statement allowed a "*" resource.
const smsStatementID = "SendSmsToPhoneNumbers"

// sharedSendEnv is what links share with email codes (package otp's variables): the sender
// address, the app name and the send schedule. The SES configuration set is added by New (its
// name is generated at deploy time).
func sharedSendEnv(p Props) map[string]string {
	c := p.otpConfig()
	env := map[string]string{
		otp.EnvSendDelays:   otp.DefaultSendDelays,
		otp.EnvSendDailyCap: strconv.Itoa(orDefault(c.SendDailyCap, otp.DefaultSendDailyCap)),
		otp.EnvAppName:      orDefaultString(c.AppName, otp.DefaultAppName),
	}
	if len(c.SendDelays) > 0 {
		parts := make([]string, len(c.SendDelays))
		for i, d := range c.SendDelays {
			parts[i] = fmt.Sprintf("%ds", int(d.Seconds()))
		}
		env[otp.EnvSendDelays] = strings.Join(parts, ",")
	}
	if c.EmailFrom != "" {
		env[otp.EnvEmailFrom] = c.EmailFrom
	}
	return env
}

// codeEnvStrings is the environment of Create and Verify for code methods (package otp's
// variables), the SES configuration set aside.
func codeEnvStrings(p Props) map[string]string {
	c := p.otpConfig()
	env := sharedSendEnv(p)
	env[otp.EnvDigits] = strconv.Itoa(orDefault(c.Digits, otp.DefaultDigits))
	env[otp.EnvTTLSeconds] = strconv.Itoa(int(c.TTL.Seconds()))
	if slices.Contains(p.Methods, SMSOTP) {
		env[otp.EnvSMSUnverifiedLimits] = otp.DefaultSMSUnverifiedLimits
		if len(c.SMSUnverifiedLimits) > 0 {
			parts := make([]string, len(c.SMSUnverifiedLimits))
			for i, l := range c.SMSUnverifiedLimits {
				parts[i] = fmt.Sprintf("%ds:%d", int(l.Window.Seconds()), l.Max)
			}
			env[otp.EnvSMSUnverifiedLimits] = strings.Join(parts, ",")
		}
	}
	optional := map[string]string{
		otp.EnvEmailSubject:         c.EmailSubject,
		otp.EnvEmailTextTemplate:    c.EmailTextTemplate,
		otp.EnvEmailHTMLTemplate:    c.EmailHTMLTemplate,
		otp.EnvSMSTemplate:          c.SMSTemplate,
		otp.EnvLocalesJSON:          localesJSON(c.Locales),
		otp.EnvSMSAllowedCountries:  strings.Join(c.SMSAllowedCountries, ","),
		otp.EnvSMSSenderID:          c.SMSSenderID,
		otp.EnvSMSOriginationNumber: c.SMSOriginationNumber,
	}
	for k, v := range optional {
		if v != "" {
			env[k] = v
		}
	}
	return env
}

// codeEnv is codeEnvStrings with the SES configuration set.
func codeEnv(p Props, set awsses.ConfigurationSet) map[string]*string {
	return withSet(codeEnvStrings(p), set)
}

// withSet converts env for a function and adds the SES configuration set's name (when set is
// not nil).
func withSet(env map[string]string, set awsses.ConfigurationSet) map[string]*string {
	out := make(map[string]*string, len(env)+1)
	for k, v := range env {
		out[k] = jsii.String(v)
	}
	if set != nil {
		out[otp.EnvEmailConfigurationSet] = set.ConfigurationSetName()
	}
	return out
}

// lockoutEnv is Verify's failure-limit environment (package lockout's variables).
func lockoutEnv(p Props) map[string]*string {
	limit := orDefault(p.Lockout.Limit, lockout.DefaultLimit)
	window := p.Lockout.Window
	if window == 0 {
		window = lockout.DefaultWindow
	}
	return map[string]*string{
		lockout.EnvLimit:         jsii.String(strconv.Itoa(limit)),
		lockout.EnvWindowSeconds: jsii.String(strconv.Itoa(int(window.Seconds()))),
	}
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orDefaultString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// mergeEnv returns a copy of env with every variable of more set.
func mergeEnv(env, more map[string]*string) map[string]*string {
	out := make(map[string]*string, len(env)+len(more))
	for k, v := range env {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

// grants remembers which functions may already send email or SMS, so that a function that sends
// for several reasons (codes, notifications) gets each statement once.
type grants map[string]bool

// email lets fn send through the construct's SES identity (nothing without Props.Email).
func (g grants) email(pl *Passwordless, p Props, fn awslambda.Function) {
	if pl.EmailIdentityARN == nil || g["email "+*fn.Node().Path()] {
		return
	}
	g["email "+*fn.Node().Path()] = true
	grantSendEmail(fn, pl.EmailIdentityARN, pl.ConfigurationSet, p.Email.From)
}

// sms lets fn publish SMS to phone numbers.
func (g grants) sms(fn awslambda.Function) {
	if g["sms "+*fn.Node().Path()] {
		return
	}
	g["sms "+*fn.Node().Path()] = true
	grantSendSMS(fn)
}

// withEnv returns a copy of env with k set to v.
func withEnv(env map[string]*string, k string, v *string) map[string]*string {
	out := make(map[string]*string, len(env)+1)
	for key, val := range env {
		out[key] = val
	}
	out[k] = v
	return out
}

// accessLogFormat is one JSON line per request; no headers, no bodies, no tokens.
const accessLogFormat = `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",` +
	`"requestTime":"$context.requestTime","routeKey":"$context.routeKey","status":"$context.status",` +
	`"responseLength":"$context.responseLength","integrationError":"$context.integrationErrorMessage",` +
	`"authorizerError":"$context.authorizer.error"}`

func retention(days int) awslogs.RetentionDays {
	return retentionDays[days]
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return jsii.String(s)
}
