package awsmock_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/passwordless-go/cognito/infra/local/awsmock"
)

// readEnv is a mock without DynamoDB and an aws.Config of real SDK clients pointed at it with
// static credentials (no timeouts of its own: a busy machine only makes the calls slower).
type readEnv struct {
	srv *awsmock.Server
	cfg aws.Config
}

func startRead(t *testing.T) *readEnv {
	t.Helper()
	srv, err := awsmock.Start(awsmock.Options{
		NoDynamoDB: true,
		Clock:      func() time.Time { return clockTime },
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cfg := aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", ""),
		BaseEndpoint: aws.String(srv.URL()),
		HTTPClient:   &http.Client{},
	}
	return &readEnv{srv: srv, cfg: cfg}
}

// apiCode is the error code of an API error ("" for another error).
func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// A new Server answers as a brand-new account: not bootstrapped, SES and SMS sandboxes, no
// identity, no origination number, no stack.
func TestReadCallsNewAccount(t *testing.T) {
	e := startRead(t)
	ctx := t.Context()

	id, err := sts.NewFromConfig(e.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != awsmock.DefaultAccountID || aws.ToString(id.Arn) != "arn:aws:iam::123456789012:user/local" || aws.ToString(id.UserId) == "" {
		t.Fatalf("GetCallerIdentity = %+v", id)
	}

	_, err = ssm.NewFromConfig(e.cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/cdk-bootstrap/hnb659fds/version")})
	if !errorAs[*ssmtypes.ParameterNotFound](err) {
		t.Fatalf("GetParameter of a missing parameter: %v, want ParameterNotFound", err)
	}

	sesc := sesv2.NewFromConfig(e.cfg)
	acct, err := sesc.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		t.Fatal(err)
	}
	if acct.ProductionAccessEnabled || !acct.SendingEnabled || acct.SendQuota == nil ||
		acct.SendQuota.Max24HourSend != 200 || acct.SendQuota.MaxSendRate != 1 || aws.ToString(acct.EnforcementStatus) != "HEALTHY" || acct.Details != nil {
		t.Fatalf("GetAccount = %+v quota %+v", acct, acct.SendQuota)
	}
	_, err = sesc.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if !errorAs[*sestypes.NotFoundException](err) {
		t.Fatalf("GetEmailIdentity of a missing identity: %v, want NotFoundException", err)
	}

	snsc := sns.NewFromConfig(e.cfg)
	sb, err := snsc.GetSMSSandboxAccountStatus(ctx, &sns.GetSMSSandboxAccountStatusInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !sb.IsInSandbox {
		t.Fatal("a new account is not in the SMS sandbox")
	}
	attrs, err := snsc.GetSMSAttributes(ctx, &sns.GetSMSAttributesInput{Attributes: []string{"MonthlySpendLimit"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(attrs.Attributes) != 0 {
		t.Fatalf("GetSMSAttributes = %v, want none set", attrs.Attributes)
	}
	nums, err := snsc.ListOriginationNumbers(ctx, &sns.ListOriginationNumbersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nums.PhoneNumbers) != 0 || nums.NextToken != nil {
		t.Fatalf("ListOriginationNumbers = %+v", nums)
	}

	cfn := cloudformation.NewFromConfig(e.cfg)
	_, err = cfn.ListStackResources(ctx, &cloudformation.ListStackResourcesInput{StackName: aws.String("Passwordless-prod")})
	if apiCode(err) != "ValidationError" || !strings.Contains(err.Error(), "Stack with id Passwordless-prod does not exist") {
		t.Fatalf("ListStackResources of a missing stack: %v", err)
	}
	_, err = cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("Passwordless-prod")})
	if apiCode(err) != "ValidationError" || !strings.Contains(err.Error(), "Stack with id Passwordless-prod does not exist") {
		t.Fatalf("DescribeStacks of a missing stack: %v", err)
	}

	want := map[string]int{
		"sts.GetCallerIdentity": 1, "ssm.GetParameter": 1, "ses.GetAccount": 1, "ses.GetEmailIdentity": 1,
		"sns.GetSMSSandboxAccountStatus": 1, "sns.GetSMSAttributes": 1, "sns.ListOriginationNumbers": 1,
		"cloudformation.ListStackResources": 1, "cloudformation.DescribeStacks": 1,
	}
	if got := e.srv.Calls(); len(got) != len(want) {
		t.Fatalf("Calls = %v, want %v", got, want)
	} else {
		for k, n := range want {
			if got[k] != n {
				t.Fatalf("Calls = %v, want %v", got, want)
			}
		}
	}
}

func readyAccount() awsmock.Account {
	a := awsmock.NewAccount()
	a.ID = "210987654321"
	a.CallerARN = "arn:aws:sts::210987654321:assumed-role/Deployer/alice"
	a.Parameters = map[string]string{"/cdk-bootstrap/hnb659fds/version": "27"}
	a.SES = awsmock.SESAccount{ProductionAccess: true, SendingEnabled: true, Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 12}
	a.Identities = map[string]awsmock.EmailIdentity{
		"Example.com":             {VerifiedForSending: true, DKIMTokens: []string{"tok1", "tok2", "tok3"}},
		"no-reply@other.example":  {VerifiedForSending: false},
		"pending-dkim.example":    {VerifiedForSending: false, DKIMStatus: "PENDING"},
		"failed.example":          {VerificationStatus: "FAILED"},
		"sender@verified.example": {VerifiedForSending: true},
	}
	a.SMS = awsmock.SMSAccount{
		Sandbox:    false,
		Attributes: map[string]string{"MonthlySpendLimit": "100", "DefaultSMSType": "Transactional"},
		OriginationNumbers: []awsmock.OriginationNumber{
			{PhoneNumber: "+18005550100", Country: "US", Status: "ACTIVE", RouteType: "Transactional", Capabilities: []string{"SMS", "VOICE"}},
			{PhoneNumber: "+15550001111", Country: "US", Status: "PENDING", RouteType: "Transactional", Capabilities: []string{"SMS"}},
			{PhoneNumber: "+447700900000", Country: "GB", Status: "ACTIVE", RouteType: "Promotional", Capabilities: []string{"SMS"},
				CreatedAt: time.Date(2029, 1, 2, 3, 4, 5, 0, time.UTC)},
		},
	}
	a.Stacks = map[string]awsmock.Stack{
		"Passwordless-prod": {Status: "UPDATE_COMPLETE", Resources: []awsmock.StackResource{
			{LogicalID: "PasswordlessEmailIdentity1234", PhysicalID: "example.com", Type: "AWS::SES::EmailIdentity"},
			{LogicalID: "PasswordlessUserPool5678", PhysicalID: "eu-west-1_AbCdEf", Type: "AWS::Cognito::UserPool", Status: "UPDATE_COMPLETE"},
		}},
		"Failed": {Status: "ROLLBACK_COMPLETE"},
	}
	return a
}

// The state a test sets is what the SDK clients read back, field by field.
func TestReadCallsSwitchedState(t *testing.T) {
	e := startRead(t)
	ctx := t.Context()
	e.srv.SetAccount(readyAccount())

	id, err := sts.NewFromConfig(e.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != "210987654321" || aws.ToString(id.Arn) != "arn:aws:sts::210987654321:assumed-role/Deployer/alice" {
		t.Fatalf("GetCallerIdentity = %+v, %v", id, err)
	}
	p, err := ssm.NewFromConfig(e.cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/cdk-bootstrap/hnb659fds/version")})
	if err != nil || aws.ToString(p.Parameter.Value) != "27" || p.Parameter.Type != ssmtypes.ParameterTypeString {
		t.Fatalf("GetParameter = %+v, %v", p, err)
	}

	sesc := sesv2.NewFromConfig(e.cfg)
	acct, err := sesc.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil || !acct.ProductionAccessEnabled || acct.SendQuota.Max24HourSend != 50000 || acct.SendQuota.MaxSendRate != 14 || acct.SendQuota.SentLast24Hours != 12 {
		t.Fatalf("GetAccount = %+v, %v", acct, err)
	}
	for name, want := range map[string]struct {
		typ      sestypes.IdentityType
		verified bool
		status   sestypes.VerificationStatus
		dkim     sestypes.DkimStatus
		tokens   int
	}{
		"example.com":             {sestypes.IdentityTypeDomain, true, sestypes.VerificationStatusSuccess, sestypes.DkimStatusSuccess, 3}, // found case-insensitively
		"no-reply@other.example":  {sestypes.IdentityTypeEmailAddress, false, sestypes.VerificationStatusPending, sestypes.DkimStatusNotStarted, 0},
		"pending-dkim.example":    {sestypes.IdentityTypeDomain, false, sestypes.VerificationStatusPending, sestypes.DkimStatusPending, 0},
		"failed.example":          {sestypes.IdentityTypeDomain, false, sestypes.VerificationStatusFailed, sestypes.DkimStatusFailed, 0},
		"sender@verified.example": {sestypes.IdentityTypeEmailAddress, true, sestypes.VerificationStatusSuccess, sestypes.DkimStatusNotStarted, 0},
	} {
		got, err := sesc.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(name)})
		if err != nil {
			t.Fatalf("GetEmailIdentity(%s): %v", name, err)
		}
		if got.IdentityType != want.typ || got.VerifiedForSendingStatus != want.verified || got.VerificationStatus != want.status ||
			got.DkimAttributes == nil || got.DkimAttributes.Status != want.dkim || len(got.DkimAttributes.Tokens) != want.tokens {
			t.Fatalf("GetEmailIdentity(%s) = %+v dkim %+v, want %+v", name, got, got.DkimAttributes, want)
		}
	}

	snsc := sns.NewFromConfig(e.cfg)
	sb, err := snsc.GetSMSSandboxAccountStatus(ctx, &sns.GetSMSSandboxAccountStatusInput{})
	if err != nil || sb.IsInSandbox {
		t.Fatalf("GetSMSSandboxAccountStatus = %+v, %v", sb, err)
	}
	attrs, err := snsc.GetSMSAttributes(ctx, &sns.GetSMSAttributesInput{Attributes: []string{"MonthlySpendLimit"}})
	if err != nil || len(attrs.Attributes) != 1 || attrs.Attributes["MonthlySpendLimit"] != "100" {
		t.Fatalf("GetSMSAttributes(MonthlySpendLimit) = %v, %v", attrs, err)
	}
	all, err := snsc.GetSMSAttributes(ctx, &sns.GetSMSAttributesInput{})
	if err != nil || len(all.Attributes) != 2 || all.Attributes["DefaultSMSType"] != "Transactional" {
		t.Fatalf("GetSMSAttributes() = %v, %v", all, err)
	}
	// Pages of one, followed with NextToken, as the SDK's paginator does.
	var nums []snstypes.PhoneNumberInformation
	pages := sns.NewListOriginationNumbersPaginator(snsc, &sns.ListOriginationNumbersInput{MaxResults: aws.Int32(1)})
	calls := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		calls++
		nums = append(nums, page.PhoneNumbers...)
	}
	if calls != 3 || len(nums) != 3 {
		t.Fatalf("%d pages, %d numbers: %+v", calls, len(nums), nums)
	}
	n := nums[0]
	if aws.ToString(n.PhoneNumber) != "+18005550100" || aws.ToString(n.Iso2CountryCode) != "US" || aws.ToString(n.Status) != "ACTIVE" ||
		n.RouteType != snstypes.RouteTypeTransactional || len(n.NumberCapabilities) != 2 || n.NumberCapabilities[0] != snstypes.NumberCapabilitySms ||
		!aws.ToTime(n.CreatedAt).Equal(clockTime) {
		t.Fatalf("first number %+v", n)
	}
	if aws.ToString(nums[1].Status) != "PENDING" || !aws.ToTime(nums[2].CreatedAt).Equal(time.Date(2029, 1, 2, 3, 4, 5, 0, time.UTC)) ||
		nums[2].RouteType != snstypes.RouteTypePromotional {
		t.Fatalf("numbers %+v", nums)
	}

	cfn := cloudformation.NewFromConfig(e.cfg)
	stacks, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("Failed")})
	if err != nil || len(stacks.Stacks) != 1 || string(stacks.Stacks[0].StackStatus) != "ROLLBACK_COMPLETE" || aws.ToString(stacks.Stacks[0].StackName) != "Failed" {
		t.Fatalf("DescribeStacks(Failed) = %+v, %v", stacks, err)
	}
	stacks, err = cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{})
	if err != nil || len(stacks.Stacks) != 2 || string(stacks.Stacks[1].StackStatus) != "UPDATE_COMPLETE" {
		t.Fatalf("DescribeStacks() = %+v, %v", stacks, err)
	}
	res, err := cfn.ListStackResources(ctx, &cloudformation.ListStackResourcesInput{StackName: aws.String("Passwordless-prod")})
	if err != nil || len(res.StackResourceSummaries) != 2 {
		t.Fatalf("ListStackResources = %+v, %v", res, err)
	}
	r := res.StackResourceSummaries[0]
	if aws.ToString(r.PhysicalResourceId) != "example.com" || aws.ToString(r.ResourceType) != "AWS::SES::EmailIdentity" ||
		string(r.ResourceStatus) != "CREATE_COMPLETE" || string(res.StackResourceSummaries[1].ResourceStatus) != "UPDATE_COMPLETE" {
		t.Fatalf("resources %+v", res.StackResourceSummaries)
	}

	// Switch one field: DKIM goes from pending to verified.
	e.srv.UpdateAccount(func(a *awsmock.Account) {
		a.Identities["pending-dkim.example"] = awsmock.EmailIdentity{VerifiedForSending: true}
	})
	got, err := sesc.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("pending-dkim.example")})
	if err != nil || !got.VerifiedForSendingStatus || got.DkimAttributes.Status != sestypes.DkimStatusSuccess {
		t.Fatalf("after UpdateAccount: %+v, %v", got, err)
	}
	// Account returns a copy: changing it changes nothing in the server.
	a := e.srv.Account()
	a.Parameters["/cdk-bootstrap/hnb659fds/version"] = "1"
	a.SMS.OriginationNumbers[0].Capabilities[0] = "MMS"
	if b := e.srv.Account(); b.Parameters["/cdk-bootstrap/hnb659fds/version"] != "27" || b.SMS.OriginationNumbers[0].Capabilities[0] != "SMS" {
		t.Fatal("Account shares its maps or slices with the caller")
	}
}

func TestReadCallsCredentialErrors(t *testing.T) {
	e := startRead(t)
	for code, status := range map[string]int{"ExpiredToken": 400, "InvalidClientTokenId": 403} {
		e.srv.UpdateAccount(func(a *awsmock.Account) { a.CredentialsError = code })
		_, err := sts.NewFromConfig(e.cfg).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
		var re interface{ HTTPStatusCode() int }
		if apiCode(err) != code || !errors.As(err, &re) || re.HTTPStatusCode() != status {
			t.Fatalf("GetCallerIdentity with %s: %v", code, err)
		}
	}
}

// AccessDenied faults come back as each service's authorization error, naming the IAM action.
func TestAccessDeniedFault(t *testing.T) {
	e := startRead(t)
	ctx := t.Context()
	for _, svc := range []string{"sts", "ssm", "ses", "sns", "cloudformation"} {
		e.srv.Inject(awsmock.Fault{Service: svc, Kind: awsmock.AccessDenied})
	}
	check := func(name string, err error, code, action string) {
		t.Helper()
		if apiCode(err) != code || !strings.Contains(err.Error(), "is not authorized to perform: "+action) {
			t.Fatalf("%s: %v, want %s naming %s", name, err, code, action)
		}
	}
	_, err := sts.NewFromConfig(e.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	check("sts", err, "AccessDenied", "sts:GetCallerIdentity")
	_, err = ssm.NewFromConfig(e.cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/x")})
	check("ssm", err, "AccessDeniedException", "ssm:GetParameter")
	_, err = sesv2.NewFromConfig(e.cfg).GetAccount(ctx, &sesv2.GetAccountInput{})
	check("ses", err, "AccessDeniedException", "ses:GetAccount")
	_, err = sns.NewFromConfig(e.cfg).GetSMSAttributes(ctx, &sns.GetSMSAttributesInput{})
	check("sns", err, "AuthorizationError", "SNS:GetSMSAttributes")
	_, err = cloudformation.NewFromConfig(e.cfg).ListStackResources(ctx, &cloudformation.ListStackResourcesInput{StackName: aws.String("s")})
	check("cloudformation", err, "AccessDenied", "cloudformation:ListStackResources")
	if c := e.srv.Calls(); c["ses.GetAccount"] != 1 || c["cloudformation.ListStackResources"] != 1 {
		t.Fatalf("faulted calls not counted: %v", c)
	}
}

// Write calls of the same services stay refused: the mock never pretends a change happened.
func TestReadServicesRefuseOtherOperations(t *testing.T) {
	e := startRead(t)
	ctx := t.Context()
	_, err := ssm.NewFromConfig(e.cfg).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/x"), Value: aws.String("1")})
	if err == nil || !strings.Contains(err.Error(), "AmazonSSM.PutParameter") {
		t.Fatalf("PutParameter: %v", err)
	}
	_, err = sesv2.NewFromConfig(e.cfg).CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")})
	if err == nil || !strings.Contains(err.Error(), "/v2/email/identities") {
		t.Fatalf("CreateEmailIdentity: %v", err)
	}
	_, err = sns.NewFromConfig(e.cfg).SetSMSAttributes(ctx, &sns.SetSMSAttributesInput{Attributes: map[string]string{"MonthlySpendLimit": "5"}})
	if apiCode(err) != "InvalidAction" {
		t.Fatalf("SetSMSAttributes: %v", err)
	}
	_, err = sts.NewFromConfig(e.cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/x"), RoleSessionName: aws.String("x")})
	if apiCode(err) != "InvalidAction" {
		t.Fatalf("AssumeRole: %v", err)
	}
	_, err = cloudformation.NewFromConfig(e.cfg).DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String("x")})
	if apiCode(err) != "InvalidAction" {
		t.Fatalf("DeleteStack: %v", err)
	}
	if a := e.srv.Account(); len(a.Parameters) != 0 || len(a.Identities) != 0 || a.SMS.Attributes != nil {
		t.Fatalf("a refused write changed the account: %+v", a)
	}
	// Without DynamoDB, a DynamoDB call is a clear server error.
	_, err = dynamodb.NewFromConfig(e.cfg, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }).ListTables(ctx, &dynamodb.ListTablesInput{})
	if err == nil || !strings.Contains(err.Error(), "without DynamoDB") {
		t.Fatalf("DynamoDB call without a backend: %v", err)
	}
	if _, err := awsmock.Start(awsmock.Options{NoDynamoDB: true, DynamoDB: "http://127.0.0.1:1"}); err == nil {
		t.Fatal("Start with both DynamoDB and NoDynamoDB succeeded")
	}
}
