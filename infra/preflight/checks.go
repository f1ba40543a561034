package preflight

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/passwordless-go/cognito/constructs/passwordless"
)

// Defaults and limits.
const (
	// DefaultQualifier is the CDK's default bootstrap qualifier (cdk.json context
	// ContextBootstrapQualifier overrides it).
	DefaultQualifier = "hnb659fds"
	// MinBootstrapVersion is the oldest bootstrap stack the synthesized templates accept: their
	// CheckBootstrapVersion rule reads "CDK bootstrap stack version 6 required".
	MinBootstrapVersion = 6
	// DefaultCallTimeout bounds each AWS call (retries included).
	DefaultCallTimeout = 5 * time.Second
	// LowSpendLimitUSD: a MonthlySpendLimit at or below it is a warning (new accounts get 1 USD).
	LowSpendLimitUSD = 1.0
	// maxPages bounds the pages read from a paginated list.
	maxPages = 50
)

// Doc links printed with the fixes (checked against AWS documentation).
const (
	docBootstrap       = "https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html"
	docSESVerify       = "https://docs.aws.amazon.com/ses/latest/dg/creating-identities.html"
	docSESProduction   = "https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html"
	docSNSSandbox      = "https://docs.aws.amazon.com/sns/latest/dg/sns-sms-sandbox.html"
	docSNSSpend        = "https://docs.aws.amazon.com/sns/latest/dg/channels-sms-awssupport-spend-threshold.html"
	docSMSRegistration = "https://docs.aws.amazon.com/sms-voice/latest/userguide/registrations.html"
	docCognitoPlans    = "https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-sign-in-feature-plans.html"
	docCognitoPricing  = "https://aws.amazon.com/cognito/pricing/"
)

// Target is what to check: one environment of the CDK app in one account and Region.
type Target struct {
	// Env is the environment's name (cdk.json "environments" key).
	Env string
	// StackName is the stack the environment deploys.
	StackName string
	// Account the environment is pinned to, or "" for whichever account the credentials reach.
	Account string
	// Region to check. Required.
	Region string
	// Qualifier of the CDK bootstrap stack. Default DefaultQualifier.
	Qualifier string
	// Props are the construct's props for the environment.
	Props passwordless.Props
}

// Options tune Check.
type Options struct {
	// CallTimeout bounds each AWS call, retries included. Default DefaultCallTimeout.
	CallTimeout time.Duration
}

// checker runs the checks of one Target.
type checker struct {
	t       Target
	p       passwordless.Props // with defaults
	timeout time.Duration
	r       *Report
	account string

	sts *sts.Client
	ssm *ssm.Client
	ses *sesv2.Client
	sns *sns.Client
	cfn *cloudformation.Client
}

// Check runs every check of t with read-only calls through cfg (whose Region is overridden by
// t.Region) and returns the checklist. It never returns an error: a check that cannot run is an
// ERROR line. Without working credentials it stops after the credentials line.
func Check(ctx context.Context, cfg aws.Config, t Target, o Options) *Report {
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if t.Qualifier == "" {
		t.Qualifier = DefaultQualifier
	}
	cfg = cfg.Copy()
	cfg.Region = t.Region
	c := &checker{
		t: t, p: t.Props.WithDefaults(), timeout: o.CallTimeout, r: &Report{},
		sts: sts.NewFromConfig(cfg), ssm: ssm.NewFromConfig(cfg), ses: sesv2.NewFromConfig(cfg),
		sns: sns.NewFromConfig(cfg), cfn: cloudformation.NewFromConfig(cfg),
	}
	c.r.Title = fmt.Sprintf("Preflight of environment %q (stack %s) in region %s: %s", t.Env, t.StackName, t.Region, c.methodsSummary())
	if !c.credentials(ctx) {
		return c.r
	}
	c.r.Title = fmt.Sprintf("Preflight of environment %q (stack %s) in account %s, region %s: %s",
		t.Env, t.StackName, c.account, t.Region, c.methodsSummary())
	c.bootstrap(ctx)
	st := c.stack(ctx)
	c.cognito()
	c.email(ctx, st)
	c.sms(ctx)
	return c.r
}

func (c *checker) methodsSummary() string {
	var ms []string
	for _, m := range c.p.Methods {
		ms = append(ms, string(m))
	}
	if c.p.Mode == passwordless.ModeNative {
		n := c.p.Native
		for _, f := range []struct {
			on   bool
			name string
		}{{n.EmailOTP, "EMAIL_OTP"}, {n.SMSOTP, "SMS_OTP"}, {n.Passkey, "WEB_AUTHN"}} {
			if f.on {
				ms = append(ms, "native "+f.name)
			}
		}
		return "native mode, " + orNone(ms)
	}
	return "methods " + orNone(ms)
}

func orNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

// usesEmail reports whether an enabled method sends email (codes or links).
func (c *checker) usesEmail() bool {
	if c.p.Mode == passwordless.ModeNative && c.p.Native.EmailOTP {
		return true
	}
	return slices.Contains(c.p.Methods, passwordless.EmailOTP) || slices.Contains(c.p.Methods, passwordless.MagicLink)
}

// usesSMS reports whether an enabled method sends SMS.
func (c *checker) usesSMS() bool {
	if c.p.Mode == passwordless.ModeNative && c.p.Native.SMSOTP {
		return true
	}
	return slices.Contains(c.p.Methods, passwordless.SMSOTP)
}

// call runs f with the per-call timeout.
func call[T any](ctx context.Context, c *checker, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return f(ctx)
}

// Error codes by meaning.
var (
	deniedCodes = []string{"AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation", "UnauthorizedException"}
	credsCodes  = []string{"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
		"SignatureDoesNotMatch", "InvalidSignatureException", "IncompleteSignature", "MissingAuthenticationToken"}
)

func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// failed adds the ERROR line of a call to action (an IAM action such as "ses:GetAccount") that
// failed with err.
func (c *checker) failed(check, action string, err error) {
	code := apiCode(err)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		c.r.add(Error, check, fmt.Sprintf("%s: no answer within %s", action, c.timeout),
			"check the network (a proxy: HTTPS_PROXY; an endpoint override: AWS_ENDPOINT_URL) and run again, or give more time with -timeout")
	case errors.Is(err, context.Canceled):
		c.r.add(Error, check, action+": interrupted")
	case slices.Contains(deniedCodes, code):
		c.r.add(Error, check, fmt.Sprintf("%s: permission denied (%s)", action, code),
			"allow "+action+" to these credentials (the preflight's read-only actions: "+strings.Join(Actions, ", ")+")")
	case slices.Contains(credsCodes, code):
		c.r.add(Error, check, fmt.Sprintf("%s: the credentials were refused (%s)", action, code), credentialsFix...)
	default:
		c.r.add(Error, check, fmt.Sprintf("%s failed: %s", action, shortError(err)), "run again; if it persists, check the error with the AWS CLI")
	}
}

// shortError is the API error's code and message, or the error text.
func shortError(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		if m := api.ErrorMessage(); m != "" {
			return api.ErrorCode() + ": " + m
		}
		return api.ErrorCode()
	}
	return err.Error()
}

// Actions are the IAM actions the preflight calls (all read-only).
var Actions = []string{
	"sts:GetCallerIdentity", "ssm:GetParameter", "cloudformation:DescribeStacks", "cloudformation:ListStackResources",
	"ses:GetAccount", "ses:GetEmailIdentity", "sns:GetSMSSandboxAccountStatus", "sns:GetSMSAttributes",
	"sns:ListOriginationNumbers",
}

var credentialsFix = []string{
	"sign in again (aws sso login --profile NAME), or use fresh keys (AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN)",
}

// credentials checks who the credentials are and that they reach the pinned account.
func (c *checker) credentials(ctx context.Context) bool {
	const check = "credentials"
	out, err := call(ctx, c, func(ctx context.Context) (*sts.GetCallerIdentityOutput, error) {
		return c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	})
	if err != nil {
		c.failed(check, "sts:GetCallerIdentity", err)
		return false
	}
	c.account = aws.ToString(out.Account)
	if c.t.Account != "" && c.t.Account != c.account {
		c.r.add(Missing, check, fmt.Sprintf("environment %q is pinned to account %s, but these credentials are for account %s (%s)",
			c.t.Env, c.t.Account, c.account, aws.ToString(out.Arn)),
			"use credentials of account "+c.t.Account+" (AWS_PROFILE=NAME make preflight ENV="+c.t.Env+")")
		return false
	}
	c.r.add(OK, check, fmt.Sprintf("account %s as %s", c.account, aws.ToString(out.Arn)))
	return true
}

// bootstrap checks the CDK bootstrap stack's version parameter.
func (c *checker) bootstrap(ctx context.Context) {
	const check = "cdk bootstrap"
	name := "/cdk-bootstrap/" + c.t.Qualifier + "/version"
	cmd := fmt.Sprintf("make tools && .tools/node_modules/.bin/cdk bootstrap aws://%s/%s", c.account, c.t.Region)
	if c.t.Qualifier != DefaultQualifier {
		cmd += " --qualifier " + c.t.Qualifier
	}
	out, err := call(ctx, c, func(ctx context.Context) (*ssm.GetParameterOutput, error) {
		return c.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	})
	var nf *ssmtypes.ParameterNotFound
	switch {
	case errors.As(err, &nf):
		c.r.add(Missing, check, fmt.Sprintf("not bootstrapped: SSM parameter %s does not exist in %s (cdk deploy needs the bootstrap bucket and roles)", name, c.t.Region),
			cmd, docBootstrap)
		return
	case err != nil:
		c.failed(check, "ssm:GetParameter", err)
		return
	}
	v, err := strconv.Atoi(strings.TrimSpace(aws.ToString(out.Parameter.Value)))
	if err != nil {
		c.r.add(Missing, check, fmt.Sprintf("%s holds %q, not a version number", name, aws.ToString(out.Parameter.Value)),
			cmd+" (bootstraps again, which rewrites the parameter)", docBootstrap)
		return
	}
	if v < MinBootstrapVersion {
		c.r.add(Missing, check, fmt.Sprintf("bootstrap version %d in %s; the stack's templates need %d or later", v, name, MinBootstrapVersion),
			cmd+" (upgrades the bootstrap stack in place)", docBootstrap)
		return
	}
	c.r.add(OK, check, fmt.Sprintf("version %d (%s; the templates need %d or later)", v, name, MinBootstrapVersion))
}

// stackState is what is known of the environment's stack.
type stackState struct {
	known      bool     // the calls answered
	exists     bool     // the stack exists
	identities []string // physical IDs of its AWS::SES::EmailIdentity resources
}

func (s stackState) owns(identity string) bool {
	return slices.ContainsFunc(s.identities, func(id string) bool { return strings.EqualFold(id, identity) })
}

// stack checks whether the stack exists and can be deployed, and reads its SES identities.
func (c *checker) stack(ctx context.Context) stackState {
	const check = "stack"
	name := c.t.StackName
	out, err := call(ctx, c, func(ctx context.Context) (*cloudformation.DescribeStacksOutput, error) {
		return c.cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	})
	if apiCode(err) == "ValidationError" && strings.Contains(shortError(err), "does not exist") {
		c.r.add(Info, check, fmt.Sprintf("%s does not exist yet: the deploy creates it", name))
		return stackState{known: true}
	}
	if err != nil {
		c.failed(check, "cloudformation:DescribeStacks", err)
		return stackState{}
	}
	if len(out.Stacks) == 0 {
		c.r.add(Info, check, fmt.Sprintf("%s does not exist yet: the deploy creates it", name))
		return stackState{known: true}
	}
	status := string(out.Stacks[0].StackStatus)
	region := " --region " + c.t.Region
	switch {
	case status == "ROLLBACK_COMPLETE" || status == "ROLLBACK_FAILED" || status == "DELETE_FAILED":
		c.r.add(Missing, check, fmt.Sprintf("%s is %s (a failed first deploy or delete): CloudFormation can only delete it, not update it", name, status),
			"aws cloudformation delete-stack --stack-name "+name+region+" (resources kept by protect: true stay; check the console), then deploy again")
	case status == "UPDATE_ROLLBACK_FAILED":
		c.r.add(Missing, check, fmt.Sprintf("%s is %s: no update can start", name, status),
			"aws cloudformation continue-update-rollback --stack-name "+name+region)
	case strings.HasSuffix(status, "_IN_PROGRESS"):
		c.r.add(Warn, check, fmt.Sprintf("%s is %s: a deploy now would fail", name, status),
			"wait until it ends: aws cloudformation wait stack-update-complete --stack-name "+name+region+" (or stack-create-complete)")
	default:
		c.r.add(OK, check, fmt.Sprintf("%s exists (%s): the deploy updates it", name, status))
	}
	st := stackState{known: true, exists: true}
	var token *string
	for range maxPages {
		res, err := call(ctx, c, func(ctx context.Context) (*cloudformation.ListStackResourcesOutput, error) {
			return c.cfn.ListStackResources(ctx, &cloudformation.ListStackResourcesInput{StackName: aws.String(name), NextToken: token})
		})
		if err != nil {
			c.failed("stack resources", "cloudformation:ListStackResources", err)
			return stackState{}
		}
		for _, r := range res.StackResourceSummaries {
			if aws.ToString(r.ResourceType) == "AWS::SES::EmailIdentity" && r.PhysicalResourceId != nil {
				st.identities = append(st.identities, *r.PhysicalResourceId)
			}
		}
		if token = res.NextToken; token == nil {
			break
		}
	}
	return st
}

// cognito says what the user pool needs; nothing in Cognito can be checked before the stack
// creates the pool.
func (c *checker) cognito() {
	const check = "cognito plan"
	if c.p.Mode == passwordless.ModeNative {
		c.r.add(Info, check, "native mode puts the user pool on the Essentials feature plan (Cognito's own EMAIL_OTP, SMS_OTP and WEB_AUTHN sign-in need Essentials or Plus): "+
			"every monthly active user is billed at the Essentials price, not Lite's. Nothing to set up before the deploy: the stack creates the pool",
			"compare the prices before going live: "+docCognitoPricing+" ("+docCognitoPlans+")")
		return
	}
	c.r.add(Info, check, "custom mode runs on the Lite feature plan (no plan upgrade, no extra price per user). Nothing to set up before the deploy: the stack creates the pool")
}

// identity is the SES identity the environment sends from.
type identity struct {
	name     string // domain or address
	existing bool   // Email.ExistingIdentity: must exist and be verified
	region   string // from an identity ARN, else ""
}

func (c *checker) identity() identity {
	e := c.p.Email
	if e.ExistingIdentity != "" {
		id := identity{name: e.ExistingIdentity, existing: true}
		if rest, ok := strings.CutPrefix(id.name, "arn:"); ok {
			// arn:PARTITION:ses:REGION:ACCOUNT:identity/NAME
			parts := strings.SplitN(rest, ":", 5)
			if len(parts) == 5 {
				id.region = parts[2]
				id.name = strings.TrimPrefix(parts[4], "identity/")
			}
		}
		return id
	}
	if e.Domain != "" {
		return identity{name: e.Domain}
	}
	return identity{name: e.From}
}

// email checks the SES identity and, when a method sends email, the SES account.
func (c *checker) email(ctx context.Context, st stackState) {
	if c.p.Email == nil {
		if c.usesEmail() {
			c.r.add(Missing, "ses", "an enabled method sends email, but the environment has no sender", "set the sender address (EmailProps.From)")
		} else {
			c.r.add(Info, "ses", "not used: no enabled method sends email")
		}
		return
	}
	if c.p.Mode == passwordless.ModeNative && c.p.Native.EmailOTP && c.p.Email.ExistingIdentity == "" {
		c.r.add(Missing, "ses identity", "native mode: Cognito checks the SES identity when it creates the user pool, so it must exist and be verified before the first deploy",
			"verify "+c.p.Email.From+" (or its domain) in SES in "+c.t.Region+", then set existingSenderIdentity in cdk.json (EmailProps.ExistingIdentity) to it", docSESVerify)
	} else {
		c.sesIdentity(ctx, st)
	}
	if !c.usesEmail() {
		c.r.add(Info, "ses account", "not checked: no enabled method sends email")
		return
	}
	c.sesAccount(ctx)
}

func (c *checker) sesIdentity(ctx context.Context, st stackState) {
	const check = "ses identity"
	id := c.identity()
	if id.region != "" && id.region != c.t.Region {
		c.r.add(Missing, check, fmt.Sprintf("%s is an identity of region %s; the stack deploys to %s and SES sends only through identities of its own region", id.name, id.region, c.t.Region),
			fmt.Sprintf("verify %s in %s too (aws sesv2 create-email-identity --email-identity %s --region %s) and name that one", id.name, c.t.Region, id.name, c.t.Region))
		return
	}
	out, err := call(ctx, c, func(ctx context.Context) (*sesv2.GetEmailIdentityOutput, error) {
		return c.ses.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(id.name)})
	})
	var nf *sestypes.NotFoundException
	notFound := errors.As(err, &nf)
	if err != nil && !notFound {
		c.failed(check, "ses:GetEmailIdentity", err)
		return
	}
	createCmd := fmt.Sprintf("aws sesv2 create-email-identity --email-identity %s --region %s", id.name, c.t.Region)
	switch {
	case notFound && id.existing:
		c.r.add(Missing, check, fmt.Sprintf("%s (the existing identity the environment names) does not exist in %s", id.name, c.t.Region),
			createCmd+", then publish the DKIM records it prints (domain) or click the link SES emails (address)", docSESVerify)
		return
	case notFound:
		c.r.add(OK, check, fmt.Sprintf("%s does not exist yet: the stack creates it", id.name))
		if strings.Contains(id.name, "@") {
			c.r.add(Info, "after the deploy", "SES emails a verification link to "+id.name+": no email leaves until it is clicked",
				"open the link within 24 hours (resend: aws ses verify-email-identity --email-address "+id.name+" --region "+c.t.Region+")")
		} else {
			c.r.add(Info, "after the deploy", "publish the three DKIM CNAME records of "+id.name+" (stack outputs); no email leaves until SES sees them (up to 72 hours)",
				docSESVerify)
		}
		return
	case !id.existing && st.known && !st.owns(id.name):
		where := "outside any stack of this environment (by hand, another stack or another environment in this account)"
		c.r.add(Missing, check, fmt.Sprintf("%s already exists in %s, created %s: the deploy would fail with \"already exists\"", id.name, c.t.Region, where),
			"use it instead of creating it: set existingSenderIdentity in cdk.json (EmailProps.ExistingIdentity) to "+id.name)
		return
	case !id.existing && !st.known:
		c.r.add(Warn, check, fmt.Sprintf("%s already exists in %s; whether this stack created it could not be read (see the stack line): if it did not, the deploy fails with \"already exists\"", id.name, c.t.Region),
			"if another stack or a person created it, set existingSenderIdentity in cdk.json (EmailProps.ExistingIdentity) to "+id.name)
	}
	c.verified(id, out)
}

// verified reports an identity's verification and DKIM status.
func (c *checker) verified(id identity, out *sesv2.GetEmailIdentityOutput) {
	const check = "ses identity"
	domain := out.IdentityType != sestypes.IdentityTypeEmailAddress
	dkim := sestypes.DkimStatusNotStarted
	var tokens []string
	if out.DkimAttributes != nil {
		dkim = out.DkimAttributes.Status
		tokens = out.DkimAttributes.Tokens
	}
	records := func() string {
		var rs []string
		for _, t := range tokens {
			rs = append(rs, t+"._domainkey."+id.name+" CNAME "+t+".dkim.amazonses.com")
		}
		if len(rs) == 0 {
			return "the three DKIM CNAME records (SES console, or the stack outputs)"
		}
		return "these CNAME records: " + strings.Join(rs, "; ")
	}
	if !out.VerifiedForSendingStatus {
		fix := "open the verification link SES emailed to " + id.name + " (resend: aws ses verify-email-identity --email-address " + id.name + " --region " + c.t.Region + ")"
		if domain {
			fix = "publish " + records() + " in the DNS of " + id.name + "; SES checks for up to 72 hours"
		}
		c.r.add(Missing, check, fmt.Sprintf("%s exists but is not verified for sending (verification %s, DKIM %s): SES refuses mail from it",
			id.name, out.VerificationStatus, dkim), fix, docSESVerify)
		return
	}
	kind := "address"
	if domain {
		kind = "domain"
	}
	c.r.add(OK, check, fmt.Sprintf("%s (%s) is verified for sending", id.name, kind))
	if !domain {
		c.r.add(Info, "ses dkim", id.name+" is an address identity: mail is DKIM-signed for amazonses.com, not your domain, so more of it may land in spam",
			"verify the domain as an identity (with Easy DKIM) for better delivery: "+docSESVerify)
		return
	}
	switch dkim {
	case sestypes.DkimStatusSuccess:
		c.r.add(OK, "ses dkim", "DKIM "+string(dkim))
	case sestypes.DkimStatusPending:
		c.r.add(Warn, "ses dkim", "DKIM PENDING: SES has not found the CNAME records yet (it looks for up to 72 hours)", "publish "+records())
	default:
		c.r.add(Warn, "ses dkim", fmt.Sprintf("DKIM %s: mail is not signed for %s and may be rejected or land in spam", dkim, id.name),
			"publish "+records()+", then restart the check in the SES console (or re-create the identity)")
	}
}

// sesAccount checks sending, the sandbox and the quota.
func (c *checker) sesAccount(ctx context.Context) {
	out, err := call(ctx, c, func(ctx context.Context) (*sesv2.GetAccountOutput, error) {
		return c.ses.GetAccount(ctx, &sesv2.GetAccountInput{})
	})
	if err != nil {
		c.failed("ses account", "ses:GetAccount", err)
		return
	}
	region := " --region " + c.t.Region
	enforcement := aws.ToString(out.EnforcementStatus)
	switch {
	case !out.SendingEnabled:
		c.r.add(Missing, "ses sending", fmt.Sprintf("sending is disabled for this account in %s (enforcement status %s): no code or link can be emailed", c.t.Region, orDash(enforcement)),
			"if you paused it: aws sesv2 put-account-sending-attributes --sending-enabled"+region,
			"if AWS paused it (SHUTDOWN or PROBATION): see the SES console's reputation metrics and answer the case AWS opened")
	case enforcement == "PROBATION":
		c.r.add(Warn, "ses sending", "enabled, but the account is on PROBATION (bounces or complaints): AWS may pause sending",
			"see the SES console's reputation metrics")
	default:
		c.r.add(OK, "ses sending", "enabled ("+orDash(enforcement)+")")
	}
	if !out.ProductionAccessEnabled {
		detail := fmt.Sprintf("SES sandbox in %s: mail goes only to verified addresses, at most 200 a day and 1 a second: real users get no codes or links", c.t.Region)
		if out.Details != nil && out.Details.ReviewDetails != nil && out.Details.ReviewDetails.Status != "" {
			detail += fmt.Sprintf(" (production access request %s, case %s)", out.Details.ReviewDetails.Status, orDash(aws.ToString(out.Details.ReviewDetails.CaseId)))
		}
		c.r.add(Warn, "ses production", detail,
			"request production access: aws sesv2 put-account-details --production-access-enabled --mail-type TRANSACTIONAL --website-url https://YOUR-SITE "+
				"--use-case-description \"one-time sign-in codes and links for our app's users\""+region+" (or the SES console: Get set up > Request production access)",
			"to test before then, verify each recipient: aws sesv2 create-email-identity --email-identity you@example.com"+region,
			docSESProduction)
	} else {
		c.r.add(OK, "ses production", "production access: mail goes to any address")
	}
	if q := out.SendQuota; q != nil {
		detail := fmt.Sprintf("%.0f emails per 24 hours (%.0f sent), %.0f per second", q.Max24HourSend, q.SentLast24Hours, q.MaxSendRate)
		if q.Max24HourSend > 0 && q.SentLast24Hours >= q.Max24HourSend {
			c.r.add(Warn, "ses quota", detail+": used up, SES refuses more mail until the window moves on",
				"request a higher sending quota (Service Quotas console, Amazon SES)")
		} else {
			c.r.add(OK, "ses quota", detail)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// sms checks the SNS SMS sandbox, the spend limit and origination numbers.
func (c *checker) sms(ctx context.Context) {
	if !c.usesSMS() {
		c.r.add(Info, "sms", "not used: no enabled method sends SMS")
		return
	}
	region := " --region " + c.t.Region
	sb, err := call(ctx, c, func(ctx context.Context) (*sns.GetSMSSandboxAccountStatusOutput, error) {
		return c.sns.GetSMSSandboxAccountStatus(ctx, &sns.GetSMSSandboxAccountStatusInput{})
	})
	switch {
	case err != nil:
		c.failed("sms sandbox", "sns:GetSMSSandboxAccountStatus", err)
	case sb.IsInSandbox:
		c.r.add(Warn, "sms sandbox", fmt.Sprintf("SNS SMS sandbox in %s: codes go only to at most 10 verified numbers: real users get no SMS", c.t.Region),
			"to test: aws sns create-sms-sandbox-phone-number --phone-number +NUMBER"+region+", then verify it with the code it receives",
			"for real users: SNS console > Text messaging (SMS) > Exit SMS sandbox (a support case) "+docSNSSandbox)
	default:
		c.r.add(OK, "sms sandbox", "out of the SMS sandbox: codes go to any allowed number")
	}

	attrs, err := call(ctx, c, func(ctx context.Context) (*sns.GetSMSAttributesOutput, error) {
		return c.sns.GetSMSAttributes(ctx, &sns.GetSMSAttributesInput{Attributes: []string{"MonthlySpendLimit"}})
	})
	spendFix := []string{
		"ask AWS for a higher SMS spending quota (a support case), then: aws sns set-sms-attributes --attributes MonthlySpendLimit=USD" + region,
		docSNSSpend,
	}
	switch {
	case err != nil:
		c.failed("sms spend limit", "sns:GetSMSAttributes", err)
	default:
		v := strings.TrimSpace(attrs.Attributes["MonthlySpendLimit"])
		limit, perr := strconv.ParseFloat(v, 64)
		switch {
		case v == "":
			c.r.add(Warn, "sms spend limit", "MonthlySpendLimit not set: SNS applies the account's quota, 1 USD a month on a new account (tens of SMS, depending on the country), then stops sending for the month", spendFix...)
		case perr != nil:
			c.r.add(Warn, "sms spend limit", fmt.Sprintf("MonthlySpendLimit %q is not a number", v), spendFix...)
		case limit <= LowSpendLimitUSD:
			c.r.add(Warn, "sms spend limit", fmt.Sprintf("MonthlySpendLimit %s USD: tens of SMS at most, then SNS stops sending for the month", v), spendFix...)
		default:
			c.r.add(OK, "sms spend limit", fmt.Sprintf("MonthlySpendLimit %s USD a month (SNS stops sending SMS when the month's spend reaches it)", v))
		}
	}
	c.origination(ctx)
}

// origination checks the origination number against the account's numbers and the allowed
// countries (the United States and Canada need a registered number).
func (c *checker) origination(ctx context.Context) {
	const check = "sms origination"
	var nums []snstypes.PhoneNumberInformation
	var token *string
	for range maxPages {
		out, err := call(ctx, c, func(ctx context.Context) (*sns.ListOriginationNumbersOutput, error) {
			return c.sns.ListOriginationNumbers(ctx, &sns.ListOriginationNumbersInput{NextToken: token})
		})
		if err != nil {
			c.failed(check, "sns:ListOriginationNumbers", err)
			return
		}
		nums = append(nums, out.PhoneNumbers...)
		if token = out.NextToken; token == nil {
			break
		}
	}
	usable := func(n snstypes.PhoneNumberInformation) bool {
		return strings.EqualFold(aws.ToString(n.Status), "ACTIVE") && slices.Contains(n.NumberCapabilities, snstypes.NumberCapabilitySms)
	}
	describe := func(n snstypes.PhoneNumberInformation) string {
		return fmt.Sprintf("%s (%s, %s, %s)", aws.ToString(n.PhoneNumber), aws.ToString(n.Iso2CountryCode), aws.ToString(n.Status), n.RouteType)
	}
	var candidates []string // usable US/CA numbers
	for _, n := range nums {
		if cc := aws.ToString(n.Iso2CountryCode); usable(n) && (cc == "US" || cc == "CA") {
			candidates = append(candidates, describe(n))
		}
	}

	if c.p.Mode == passwordless.ModeNative {
		detail := fmt.Sprintf("Cognito sends the SMS itself through SNS (origination numbers in %s: %d)", c.t.Region, len(nums))
		c.r.add(Info, check, detail+": numbers in the United States and Canada need a registered toll-free or 10DLC number", docSMSRegistration)
		return
	}

	want := c.p.SMS.OriginationNumber
	var nanp []string
	for _, cc := range c.p.SMS.AllowedCountries {
		if cc == "US" || cc == "CA" || strings.HasPrefix(cc, "+1") {
			nanp = append(nanp, cc)
		}
	}
	register := "register a toll-free or 10DLC number in AWS End User Messaging SMS (registration takes days to weeks) and add a resource policy that lets SNS use it: " + docSMSRegistration
	if want != "" {
		i := slices.IndexFunc(nums, func(n snstypes.PhoneNumberInformation) bool { return aws.ToString(n.PhoneNumber) == want })
		switch {
		case i < 0:
			c.r.add(Missing, check, fmt.Sprintf("SMS.OriginationNumber %s is not an origination number of this account in %s: SNS refuses to send from it", want, c.t.Region),
				register+", or set SMS.OriginationNumber to one of: "+orNone(describeAll(nums, describe)))
		case !strings.EqualFold(aws.ToString(nums[i].Status), "ACTIVE"):
			c.r.add(Missing, check, fmt.Sprintf("SMS.OriginationNumber %s is %s, not ACTIVE: no SMS leaves from it until its registration completes", describe(nums[i]), aws.ToString(nums[i].Status)),
				"finish the registration in the AWS End User Messaging SMS console: "+docSMSRegistration)
		case !slices.Contains(nums[i].NumberCapabilities, snstypes.NumberCapabilitySms):
			c.r.add(Missing, check, fmt.Sprintf("SMS.OriginationNumber %s cannot send SMS (capabilities %v)", describe(nums[i]), nums[i].NumberCapabilities),
				register)
		default:
			c.r.add(OK, check, "SMS.OriginationNumber "+describe(nums[i]))
		}
		return
	}
	if len(nanp) > 0 {
		fix := []string{register + ", then set smsOriginationNumber in cdk.json (SMS.OriginationNumber)", "or remove " + strings.Join(nanp, ", ") + " from smsAllowedCountries"}
		if len(candidates) > 0 {
			fix = append([]string{"set smsOriginationNumber in cdk.json (SMS.OriginationNumber) to one of this account's numbers: " + strings.Join(candidates, ", ")}, fix...)
		}
		c.r.add(Missing, check, fmt.Sprintf("allowed SMS countries include %s: carriers there deliver only from a registered origination number, and none is set", strings.Join(nanp, ", ")), fix...)
		return
	}
	c.r.add(OK, check, fmt.Sprintf("none needed for %s (no US or CA); origination numbers in %s: %d", strings.Join(c.p.SMS.AllowedCountries, ", "), c.t.Region, len(nums)))
}

func describeAll(nums []snstypes.PhoneNumberInformation, f func(snstypes.PhoneNumberInformation) string) []string {
	var out []string
	for _, n := range nums {
		out = append(out, f(n))
	}
	return out
}
