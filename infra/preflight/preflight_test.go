package preflight_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/infra/local/awsmock"
	"github.com/passwordless-go/cognito/infra/preflight"
)

const (
	region  = "eu-west-1"
	account = awsmock.DefaultAccountID
	// patient is the per-call timeout of every test but the hang test: a busy machine only
	// makes the mock slower, never wrong.
	patient = time.Minute
)

// isolate clears the AWS settings of the machine running the test, so that only what the test
// passes reaches the SDK (and nothing ever calls the instance metadata service).
func isolate(t *testing.T) {
	t.Helper()
	for _, k := range []string{
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
	} {
		t.Setenv(k, "")
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func startMock(t *testing.T) *awsmock.Server {
	t.Helper()
	srv, err := awsmock.Start(awsmock.Options{NoDynamoDB: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// mockOptions point the default chain at the mock with static credentials.
func mockOptions(srv *awsmock.Server) []func(*config.LoadOptions) error {
	return []func(*config.LoadOptions) error{
		config.WithBaseEndpoint(srv.URL()),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDPREFLIGHT", "secret", "")),
		config.WithEC2IMDSClientEnableState(imds.ClientDisabled),
	}
}

// cfgFor is an aws.Config of real SDK clients pointed at the mock.
func cfgFor(srv *awsmock.Server) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDPREFLIGHT", "secret", ""),
		BaseEndpoint: aws.String(srv.URL()),
		HTTPClient:   &http.Client{},
	}
}

// readyAccount is an account prepared for the prod-like environment: bootstrapped, SES out of
// the sandbox with a verified domain and DKIM, SMS out of the sandbox with a spend limit.
func readyAccount() awsmock.Account {
	a := awsmock.NewAccount()
	a.Parameters = map[string]string{"/cdk-bootstrap/hnb659fds/version": "27"}
	a.SES = awsmock.SESAccount{ProductionAccess: true, SendingEnabled: true, Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 3}
	a.Identities = map[string]awsmock.EmailIdentity{
		"example.com": {VerifiedForSending: true, DKIMTokens: []string{"tok1", "tok2", "tok3"}},
	}
	a.SMS = awsmock.SMSAccount{
		Attributes: map[string]string{"MonthlySpendLimit": "100"},
		OriginationNumbers: []awsmock.OriginationNumber{
			{PhoneNumber: "+18005550100", Country: "US", Status: "ACTIVE", RouteType: "Transactional", Capabilities: []string{"SMS"}},
		},
	}
	return a
}

// prodProps are the construct props of a prod-like environment using an existing identity.
func prodProps() passwordless.Props {
	return passwordless.Props{
		Aliases: passwordless.Aliases{Email: true, Phone: true},
		Methods: []passwordless.Method{passwordless.EmailOTP, passwordless.SMSOTP, passwordless.DeviceKey},
		Email:   &passwordless.EmailProps{From: "no-reply@example.com", ExistingIdentity: "example.com"},
		SMS:     passwordless.SMSProps{AllowedCountries: []string{"GB", "IE"}},
	}
}

func target(p passwordless.Props) preflight.Target {
	return preflight.Target{Env: "prod", StackName: "Passwordless-prod", Region: region, Props: p}
}

func check(t *testing.T, srv *awsmock.Server, tg preflight.Target) *preflight.Report {
	t.Helper()
	r := preflight.Check(t.Context(), cfgFor(srv), tg, preflight.Options{CallTimeout: patient})
	var b bytes.Buffer
	_, _ = r.WriteTo(&b)
	t.Logf("checklist:\n%s", b.String())
	return r
}

// checkAccount runs the checks for props against a mock holding readyAccount() changed by edit,
// asserts each of lines ({status, check, part...}, as for want) and that the exit code is code.
func checkAccount(t *testing.T, edit func(a *awsmock.Account), props passwordless.Props, code int, lines [][]string) {
	t.Helper()
	srv := startMock(t)
	a := readyAccount()
	edit(&a)
	srv.SetAccount(a)
	r := check(t, srv, target(props))
	for _, l := range lines {
		want(t, r, preflight.Status(l[0]), l[1], l[2:]...)
	}
	if r.Code() != code {
		t.Fatalf("code %d, want %d", r.Code(), code)
	}
}

// want asserts that the report has a line for check with status st whose detail (or fix, for
// parts starting with "fix:") holds every part.
func want(t *testing.T, r *preflight.Report, st preflight.Status, check string, parts ...string) {
	t.Helper()
	for _, l := range r.Lines {
		if l.Check != check {
			continue
		}
		if l.Status != st {
			t.Errorf("%s: status %s (%s), want %s", check, l.Status, l.Detail, st)
			return
		}
		fix := strings.Join(l.Fix, "\n")
		for _, p := range parts {
			if f, ok := strings.CutPrefix(p, "fix:"); ok {
				if !strings.Contains(fix, f) {
					t.Errorf("%s: fix %q lacks %q", check, fix, f)
				}
			} else if !strings.Contains(l.Detail, p) {
				t.Errorf("%s: detail %q lacks %q", check, l.Detail, p)
			}
		}
		return
	}
	t.Errorf("no %q line in %+v", check, r.Lines)
}

func noLine(t *testing.T, r *preflight.Report, check string) {
	t.Helper()
	for _, l := range r.Lines {
		if l.Check == check {
			t.Errorf("unexpected %q line: %+v", check, l)
		}
	}
}

func TestReadyAccount(t *testing.T) {
	srv := startMock(t)
	srv.SetAccount(readyAccount())
	r := check(t, srv, target(prodProps()))
	if r.Code() != preflight.ExitReady || r.Count(preflight.Warn) != 0 {
		t.Fatalf("code %d, %d warnings; want a ready account", r.Code(), r.Count(preflight.Warn))
	}
	want(t, r, preflight.OK, "credentials", "account 123456789012", "arn:aws:iam::123456789012:user/local")
	want(t, r, preflight.OK, "cdk bootstrap", "version 27", "/cdk-bootstrap/hnb659fds/version")
	want(t, r, preflight.Info, "stack", "Passwordless-prod does not exist yet")
	want(t, r, preflight.Info, "cognito plan", "Lite")
	want(t, r, preflight.OK, "ses identity", "example.com (domain) is verified")
	want(t, r, preflight.OK, "ses dkim", "SUCCESS")
	want(t, r, preflight.OK, "ses sending", "enabled")
	want(t, r, preflight.OK, "ses production", "production access")
	want(t, r, preflight.OK, "ses quota", "50000 emails per 24 hours (3 sent), 14 per second")
	want(t, r, preflight.OK, "sms sandbox", "out of the SMS sandbox")
	want(t, r, preflight.OK, "sms spend limit", "100 USD")
	want(t, r, preflight.OK, "sms origination", "none needed for GB, IE", "origination numbers in eu-west-1: 1")
	if !strings.Contains(r.Verdict(), "READY to deploy.") {
		t.Fatalf("verdict %q", r.Verdict())
	}
}

// A brand-new account: nothing is set up.
func TestNewAccount(t *testing.T) {
	srv := startMock(t)
	r := check(t, srv, target(prodProps()))
	if r.Code() != preflight.ExitBlocked {
		t.Fatalf("code %d, want %d", r.Code(), preflight.ExitBlocked)
	}
	want(t, r, preflight.Missing, "cdk bootstrap", "not bootstrapped", "fix:cdk bootstrap aws://123456789012/eu-west-1")
	want(t, r, preflight.Missing, "ses identity", "example.com (the existing identity the environment names) does not exist in eu-west-1",
		"fix:aws sesv2 create-email-identity --email-identity example.com --region eu-west-1")
	noLine(t, r, "ses dkim")
	want(t, r, preflight.Warn, "ses production", "SES sandbox in eu-west-1", "200 a day", "fix:put-account-details --production-access-enabled")
	want(t, r, preflight.OK, "ses quota", "200 emails per 24 hours (0 sent), 1 per second")
	want(t, r, preflight.Warn, "sms sandbox", "at most 10 verified numbers", "fix:create-sms-sandbox-phone-number")
	want(t, r, preflight.Warn, "sms spend limit", "MonthlySpendLimit not set", "1 USD", "fix:MonthlySpendLimit=USD")
	want(t, r, preflight.OK, "sms origination", "none needed")
	if v := r.Verdict(); !strings.HasPrefix(v, "NOT READY: 2 blocking (MISSING), 3 warnings") {
		t.Fatalf("verdict %q", v)
	}
}

func TestBootstrapVersions(t *testing.T) {
	for _, tc := range []struct {
		name, qualifier string
		params          map[string]string
		status          preflight.Status
		parts           []string
	}{
		{"absent", "", nil, preflight.Missing, []string{"SSM parameter /cdk-bootstrap/hnb659fds/version does not exist", "fix:.tools/node_modules/.bin/cdk bootstrap aws://123456789012/eu-west-1"}},
		{"old", "", map[string]string{"/cdk-bootstrap/hnb659fds/version": "5"}, preflight.Missing, []string{"bootstrap version 5", "need 6 or later", "fix:upgrades the bootstrap stack"}},
		{"garbage", "", map[string]string{"/cdk-bootstrap/hnb659fds/version": "v21"}, preflight.Missing, []string{`holds "v21"`}},
		{"oldest accepted", "", map[string]string{"/cdk-bootstrap/hnb659fds/version": "6"}, preflight.OK, []string{"version 6"}},
		{"other qualifier only", "custom1", map[string]string{"/cdk-bootstrap/hnb659fds/version": "27"}, preflight.Missing, []string{"/cdk-bootstrap/custom1/version does not exist", "fix:--qualifier custom1"}},
		{"custom qualifier", "custom1", map[string]string{"/cdk-bootstrap/custom1/version": "30"}, preflight.OK, []string{"version 30 (/cdk-bootstrap/custom1/version"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startMock(t)
			a := readyAccount()
			a.Parameters = tc.params
			srv.SetAccount(a)
			tg := target(prodProps())
			tg.Qualifier = tc.qualifier
			r := check(t, srv, tg)
			want(t, r, tc.status, "cdk bootstrap", tc.parts...)
			if wantCode := map[preflight.Status]int{preflight.OK: 0, preflight.Missing: 1}[tc.status]; r.Code() != wantCode {
				t.Fatalf("code %d, want %d", r.Code(), wantCode)
			}
		})
	}
}

func TestSESIdentity(t *testing.T) {
	existing := func(name string) passwordless.Props {
		p := prodProps()
		p.Email.ExistingIdentity = name
		return p
	}
	created := func(from, domain string) passwordless.Props {
		p := prodProps()
		p.Email = &passwordless.EmailProps{From: from, Domain: domain}
		return p
	}
	owned := map[string]awsmock.Stack{"Passwordless-prod": {Resources: []awsmock.StackResource{
		{LogicalID: "EmailIdentityA1", PhysicalID: "example.com", Type: "AWS::SES::EmailIdentity"},
	}}}
	for _, tc := range []struct {
		name       string
		props      passwordless.Props
		identities map[string]awsmock.EmailIdentity
		stacks     map[string]awsmock.Stack
		code       int
		lines      [][]string // status, check, parts...
	}{
		{
			name: "existing domain, DKIM pending", props: existing("example.com"),
			identities: map[string]awsmock.EmailIdentity{"example.com": {VerifiedForSending: true, DKIMStatus: "PENDING", DKIMTokens: []string{"abc"}}},
			code:       0,
			lines:      [][]string{{"OK", "ses identity", "verified"}, {"WARN", "ses dkim", "DKIM PENDING", "fix:abc._domainkey.example.com CNAME abc.dkim.amazonses.com"}},
		},
		{
			name: "existing domain not verified", props: existing("example.com"),
			identities: map[string]awsmock.EmailIdentity{"example.com": {DKIMTokens: []string{"t1", "t2", "t3"}}},
			code:       1,
			lines: [][]string{{"MISSING", "ses identity", "not verified for sending (verification PENDING, DKIM PENDING)",
				"fix:t1._domainkey.example.com CNAME t1.dkim.amazonses.com; t2._domainkey.example.com CNAME t2.dkim.amazonses.com"}},
		},
		{
			name: "existing domain DKIM failed", props: existing("example.com"),
			identities: map[string]awsmock.EmailIdentity{"example.com": {VerifiedForSending: true, DKIMStatus: "FAILED"}},
			code:       0,
			lines:      [][]string{{"OK", "ses identity", "verified"}, {"WARN", "ses dkim", "DKIM FAILED"}},
		},
		{
			name: "existing address", props: existing("no-reply@example.com"),
			identities: map[string]awsmock.EmailIdentity{"no-reply@example.com": {VerifiedForSending: true}},
			code:       0,
			lines:      [][]string{{"OK", "ses identity", "no-reply@example.com (address) is verified"}, {"INFO", "ses dkim", "address identity"}},
		},
		{
			name: "existing address not clicked", props: existing("no-reply@example.com"),
			identities: map[string]awsmock.EmailIdentity{"no-reply@example.com": {}},
			code:       1,
			lines:      [][]string{{"MISSING", "ses identity", "not verified", "fix:verification link SES emailed to no-reply@example.com"}},
		},
		{
			name: "existing ARN", props: existing("arn:aws:ses:eu-west-1:123456789012:identity/example.com"),
			identities: map[string]awsmock.EmailIdentity{"example.com": {VerifiedForSending: true, DKIMStatus: "SUCCESS"}},
			code:       0,
			lines:      [][]string{{"OK", "ses identity", "example.com (domain) is verified"}},
		},
		{
			name: "existing ARN of another region", props: existing("arn:aws:ses:us-east-1:123456789012:identity/example.com"),
			identities: map[string]awsmock.EmailIdentity{"example.com": {VerifiedForSending: true}},
			code:       1,
			lines:      [][]string{{"MISSING", "ses identity", "identity of region us-east-1", "fix:--region eu-west-1"}},
		},
		{
			name: "created domain, first deploy", props: created("no-reply@example.com", "example.com"),
			code:  0,
			lines: [][]string{{"OK", "ses identity", "example.com does not exist yet: the stack creates it"}, {"INFO", "after the deploy", "DKIM CNAME records of example.com"}},
		},
		{
			name: "created address, first deploy", props: created("no-reply@example.com", ""),
			code:  0,
			lines: [][]string{{"OK", "ses identity", "no-reply@example.com does not exist yet"}, {"INFO", "after the deploy", "verification link to no-reply@example.com"}},
		},
		{
			name: "created domain that already exists", props: created("no-reply@example.com", "example.com"),
			identities: map[string]awsmock.EmailIdentity{"example.com": {VerifiedForSending: true}},
			code:       1,
			lines:      [][]string{{"MISSING", "ses identity", `already exists in eu-west-1`, `"already exists"`, "fix:existingSenderIdentity in cdk.json (EmailProps.ExistingIdentity) to example.com"}},
		},
		{
			name: "created domain of this stack", props: created("no-reply@example.com", "example.com"),
			identities: map[string]awsmock.EmailIdentity{"example.com": {VerifiedForSending: true}}, stacks: owned,
			code:  0,
			lines: [][]string{{"OK", "stack", "Passwordless-prod exists (CREATE_COMPLETE)"}, {"OK", "ses identity", "verified"}, {"OK", "ses dkim", "SUCCESS"}},
		},
		{
			name: "created domain of this stack, DNS not published", props: created("no-reply@example.com", "example.com"),
			identities: map[string]awsmock.EmailIdentity{"example.com": {DKIMTokens: []string{"q"}}}, stacks: owned,
			code:  1,
			lines: [][]string{{"MISSING", "ses identity", "not verified", "fix:q._domainkey.example.com"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkAccount(t, func(a *awsmock.Account) { a.Identities, a.Stacks = tc.identities, tc.stacks }, tc.props, tc.code, tc.lines)
		})
	}
}

// Native mode needs the Essentials plan (a price) and an identity verified before the deploy.
func TestNativeMode(t *testing.T) {
	srv := startMock(t)
	srv.SetAccount(readyAccount())
	p := passwordless.Props{
		Mode:    passwordless.ModeNative,
		Aliases: passwordless.Aliases{Email: true, Phone: true},
		Native:  passwordless.NativeProps{EmailOTP: true, SMSOTP: true},
		Email:   &passwordless.EmailProps{From: "no-reply@example.com"},
	}
	r := check(t, srv, target(p))
	want(t, r, preflight.Info, "cognito plan", "Essentials", "monthly active user", "fix:https://aws.amazon.com/cognito/pricing/")
	want(t, r, preflight.Missing, "ses identity", "native mode", "before the first deploy", "fix:EmailProps.ExistingIdentity")
	want(t, r, preflight.Info, "sms origination", "Cognito sends the SMS itself")
	if !strings.Contains(r.Title, "native mode, native EMAIL_OTP, native SMS_OTP") {
		t.Fatalf("title %q", r.Title)
	}
	p.Email.ExistingIdentity = "example.com"
	r = check(t, srv, target(p))
	want(t, r, preflight.OK, "ses identity", "example.com (domain) is verified")
	if r.Code() != preflight.ExitReady {
		t.Fatalf("code %d", r.Code())
	}
}

func TestSESAccount(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ses   awsmock.SESAccount
		code  int
		lines [][]string
	}{
		{"sending disabled", awsmock.SESAccount{ProductionAccess: true, SendingEnabled: false, EnforcementStatus: "SHUTDOWN", Max24HourSend: 50000, MaxSendRate: 14}, 1,
			[][]string{{"MISSING", "ses sending", "sending is disabled", "SHUTDOWN", "fix:put-account-sending-attributes --sending-enabled --region eu-west-1"}}},
		{"probation", awsmock.SESAccount{ProductionAccess: true, SendingEnabled: true, EnforcementStatus: "PROBATION", Max24HourSend: 50000, MaxSendRate: 14}, 0,
			[][]string{{"WARN", "ses sending", "PROBATION"}}},
		{"sandbox with a request pending", awsmock.SESAccount{SendingEnabled: true, ReviewStatus: "PENDING", Max24HourSend: 200, MaxSendRate: 1}, 0,
			[][]string{{"WARN", "ses production", "SES sandbox", "production access request PENDING, case local-case"}}},
		{"quota used up", awsmock.SESAccount{ProductionAccess: true, SendingEnabled: true, Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: 200}, 0,
			[][]string{{"WARN", "ses quota", "used up"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkAccount(t, func(a *awsmock.Account) { a.SES = tc.ses }, prodProps(), tc.code, tc.lines)
		})
	}
}

func TestSMS(t *testing.T) {
	us := func(num string) passwordless.Props {
		p := prodProps()
		p.SMS = passwordless.SMSProps{AllowedCountries: []string{"US", "GB"}, OriginationNumber: num}
		return p
	}
	numbers := []awsmock.OriginationNumber{
		{PhoneNumber: "+18005550100", Country: "US", Status: "ACTIVE", RouteType: "Transactional", Capabilities: []string{"SMS", "VOICE"}},
		{PhoneNumber: "+18005550199", Country: "US", Status: "PENDING", RouteType: "Transactional", Capabilities: []string{"SMS"}},
		{PhoneNumber: "+18005550111", Country: "US", Status: "ACTIVE", RouteType: "Transactional", Capabilities: []string{"VOICE"}},
	}
	for _, tc := range []struct {
		name  string
		props passwordless.Props
		sms   awsmock.SMSAccount
		code  int
		lines [][]string
	}{
		{"spend limit 1 USD", prodProps(), awsmock.SMSAccount{Attributes: map[string]string{"MonthlySpendLimit": "1"}}, 0,
			[][]string{{"WARN", "sms spend limit", "MonthlySpendLimit 1 USD"}, {"OK", "sms sandbox", "out of the SMS sandbox"}}},
		{"sandbox", prodProps(), awsmock.SMSAccount{Sandbox: true, Attributes: map[string]string{"MonthlySpendLimit": "50"}}, 0,
			[][]string{{"WARN", "sms sandbox", "10 verified numbers"}, {"OK", "sms spend limit", "50 USD"}}},
		{"US without a number, one available", us(""), awsmock.SMSAccount{Attributes: map[string]string{"MonthlySpendLimit": "50"}, OriginationNumbers: numbers}, 1,
			[][]string{{"MISSING", "sms origination", "include US", "fix:set smsOriginationNumber in cdk.json (SMS.OriginationNumber) to one of this account's numbers: +18005550100 (US, ACTIVE, Transactional)", "fix:or remove US"}}},
		{"US without any number", us(""), awsmock.SMSAccount{Attributes: map[string]string{"MonthlySpendLimit": "50"}}, 1,
			[][]string{{"MISSING", "sms origination", "include US", "fix:register a toll-free or 10DLC number"}}},
		{"US with an active number", us("+18005550100"), awsmock.SMSAccount{Attributes: map[string]string{"MonthlySpendLimit": "50"}, OriginationNumbers: numbers}, 0,
			[][]string{{"OK", "sms origination", "+18005550100 (US, ACTIVE, Transactional)"}}},
		{"US with a pending number", us("+18005550199"), awsmock.SMSAccount{Attributes: map[string]string{"MonthlySpendLimit": "50"}, OriginationNumbers: numbers}, 1,
			[][]string{{"MISSING", "sms origination", "is PENDING, not ACTIVE"}}},
		{"US with a voice-only number", us("+18005550111"), awsmock.SMSAccount{Attributes: map[string]string{"MonthlySpendLimit": "50"}, OriginationNumbers: numbers}, 1,
			[][]string{{"MISSING", "sms origination", "cannot send SMS"}}},
		{"number of another account", us("+18005550777"), awsmock.SMSAccount{Attributes: map[string]string{"MonthlySpendLimit": "50"}, OriginationNumbers: numbers}, 1,
			[][]string{{"MISSING", "sms origination", "+18005550777 is not an origination number of this account in eu-west-1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkAccount(t, func(a *awsmock.Account) { a.SMS = tc.sms }, tc.props, tc.code, tc.lines)
		})
	}
}

// Origination numbers are read page by page.
func TestOriginationNumbersPaged(t *testing.T) {
	srv := startMock(t)
	a := readyAccount()
	a.SMS.OriginationNumbers = nil
	for i := range 65 {
		a.SMS.OriginationNumbers = append(a.SMS.OriginationNumbers, awsmock.OriginationNumber{
			PhoneNumber: fmt.Sprintf("+1800555%04d", i), Country: "US", Status: "ACTIVE", RouteType: "Transactional", Capabilities: []string{"SMS"}})
	}
	srv.SetAccount(a)
	p := prodProps()
	p.SMS = passwordless.SMSProps{AllowedCountries: []string{"US"}, OriginationNumber: "+18005550064"} // on the third page
	r := check(t, srv, target(p))
	want(t, r, preflight.OK, "sms origination", "+18005550064")
	if n := srv.Calls()["sns.ListOriginationNumbers"]; n != 3 {
		t.Fatalf("%d ListOriginationNumbers calls, want 3 pages", n)
	}
}

func TestStackStates(t *testing.T) {
	for _, tc := range []struct {
		status string
		st     preflight.Status
		parts  []string
	}{
		{"ROLLBACK_COMPLETE", preflight.Missing, []string{"can only delete it", "fix:aws cloudformation delete-stack --stack-name Passwordless-prod --region eu-west-1"}},
		{"UPDATE_ROLLBACK_FAILED", preflight.Missing, []string{"fix:continue-update-rollback"}},
		{"UPDATE_IN_PROGRESS", preflight.Warn, []string{"a deploy now would fail"}},
		{"UPDATE_COMPLETE", preflight.OK, []string{"the deploy updates it"}},
	} {
		t.Run(tc.status, func(t *testing.T) {
			srv := startMock(t)
			a := readyAccount()
			a.Stacks = map[string]awsmock.Stack{"Passwordless-prod": {Status: tc.status}}
			srv.SetAccount(a)
			r := check(t, srv, target(prodProps()))
			want(t, r, tc.st, "stack", append([]string{tc.status}, tc.parts...)...)
		})
	}
}

func TestCredentialProblems(t *testing.T) {
	t.Run("pinned to another account", func(t *testing.T) {
		srv := startMock(t)
		srv.SetAccount(readyAccount())
		tg := target(prodProps())
		tg.Account = "999999999999"
		r := check(t, srv, tg)
		want(t, r, preflight.Missing, "credentials", "pinned to account 999999999999", "for account 123456789012")
		if r.Code() != preflight.ExitBlocked || len(r.Lines) != 1 {
			t.Fatalf("code %d, lines %+v: want one blocking line and no further checks", r.Code(), r.Lines)
		}
	})
	t.Run("expired", func(t *testing.T) {
		srv := startMock(t)
		srv.UpdateAccount(func(a *awsmock.Account) { a.CredentialsError = "ExpiredToken" })
		r := check(t, srv, target(prodProps()))
		want(t, r, preflight.Error, "credentials", "refused (ExpiredToken)", "fix:aws sso login")
		if r.Code() != preflight.ExitUnchecked || len(r.Lines) != 1 {
			t.Fatalf("code %d, lines %+v", r.Code(), r.Lines)
		}
		if c := srv.Calls(); len(c) != 1 || c["sts.GetCallerIdentity"] != 1 {
			t.Fatalf("calls after refused credentials: %v", c)
		}
	})
}

// A missing permission is an ERROR naming the IAM action; the other checks still run.
func TestPermissionDenied(t *testing.T) {
	srv := startMock(t)
	srv.SetAccount(readyAccount())
	srv.Inject(awsmock.Fault{Service: "ses", Operation: "GetAccount", Kind: awsmock.AccessDenied})
	r := check(t, srv, target(prodProps()))
	want(t, r, preflight.Error, "ses account", "ses:GetAccount: permission denied (AccessDeniedException)", "fix:allow ses:GetAccount", "fix:sns:ListOriginationNumbers")
	want(t, r, preflight.OK, "sms origination")
	if r.Code() != preflight.ExitUnchecked || !strings.HasPrefix(r.Verdict(), "UNKNOWN: 1 check could not run") {
		t.Fatalf("code %d, verdict %q", r.Code(), r.Verdict())
	}
}

// A call that never answers ends as an ERROR line after the call timeout. The hung call is the
// only one the run makes (without credentials nothing else is checked), so a busy machine
// cannot make another call time out.
func TestHungCall(t *testing.T) {
	srv := startMock(t)
	srv.Inject(awsmock.Fault{Service: "sts", Kind: awsmock.Hang})
	r := preflight.Check(t.Context(), cfgFor(srv), target(prodProps()), preflight.Options{CallTimeout: 500 * time.Millisecond})
	want(t, r, preflight.Error, "credentials", "sts:GetCallerIdentity: no answer within 500ms", "fix:-timeout")
	if r.Code() != preflight.ExitUnchecked || len(r.Lines) != 1 {
		t.Fatalf("code %d, lines %+v", r.Code(), r.Lines)
	}
}

// Methods that send nothing need neither SES nor SNS.
func TestKeyMethodsOnly(t *testing.T) {
	srv := startMock(t)
	srv.SetAccount(readyAccount())
	r := check(t, srv, target(passwordless.Props{Methods: []passwordless.Method{passwordless.DeviceKey, passwordless.Passkey}}))
	want(t, r, preflight.Info, "ses", "not used")
	want(t, r, preflight.Info, "sms", "not used")
	if c := srv.Calls(); c["ses.GetAccount"]+c["ses.GetEmailIdentity"]+c["sns.GetSMSAttributes"] != 0 {
		t.Fatalf("SES or SNS called for key methods: %v", c)
	}
	// A sender configured but no email method: the identity is still created by the stack, so
	// it is checked; the account is not.
	p := prodProps()
	p.Methods = []passwordless.Method{passwordless.DeviceKey}
	r = check(t, srv, target(p))
	want(t, r, preflight.OK, "ses identity", "verified")
	want(t, r, preflight.Info, "ses account", "not checked")
	// magic_link sends email.
	p.Methods = []passwordless.Method{passwordless.MagicLink}
	r = check(t, srv, target(p))
	want(t, r, preflight.OK, "ses production")
}

// cdkJSON writes a cdk.json with environments (and optional extra context) and returns its path.
func cdkJSON(t *testing.T, envs map[string]any, extra map[string]any) string {
	t.Helper()
	ctx := map[string]any{"environments": envs}
	for k, v := range extra {
		ctx[k] = v
	}
	b, err := json.Marshal(map[string]any{"app": "go run ./infra", "context": ctx})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cdk.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var prodEnv = map[string]any{
	"region":              region,
	"signInAliases":       []string{"email", "phone"},
	"senderAddress":       "no-reply@example.com",
	"senderDomain":        "example.com",
	"methods":             []string{"email_otp", "sms_otp", "device_key"},
	"smsAllowedCountries": []string{"GB", "IE"},
	"protect":             true,
}

func run(t *testing.T, srv *awsmock.Server, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	var load []func(*config.LoadOptions) error
	if srv != nil {
		load = mockOptions(srv)
	}
	code := preflight.Run(t.Context(), &out, args, load...)
	t.Logf("exit %d, output:\n%s", code, out.String())
	return out.String(), code
}

// The command's main path: flags, cdk.json through infra/stacks, the default credential chain
// (here static credentials and the mock's endpoint), the checklist and the exit code.
func TestRun(t *testing.T) {
	isolate(t)
	srv := startMock(t)
	path := cdkJSON(t, map[string]any{"prod": prodEnv, "dev": map[string]any{"methods": []string{"device_key"}}}, nil)

	// A brand-new account: blocked.
	out, code := run(t, srv, "-env", "prod", "-cdk-json", path, "-timeout", patient.String())
	if code != preflight.ExitBlocked {
		t.Fatalf("exit %d, want %d", code, preflight.ExitBlocked)
	}
	for _, s := range []string{
		`Preflight of environment "prod" (stack Passwordless-prod) in account 123456789012, region eu-west-1: methods email_otp, sms_otp, device_key`,
		"MISSING  cdk bootstrap      not bootstrapped",
		"fix: make tools && .tools/node_modules/.bin/cdk bootstrap aws://123456789012/eu-west-1",
		"OK       ses identity       example.com does not exist yet: the stack creates it",
		"WARN     ses production     SES sandbox in eu-west-1",
		"WARN     sms sandbox",
		"NOT READY: 1 blocking (MISSING), 3 warnings.",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q", s)
		}
	}

	// Prepared: ready, exit 0.
	a := readyAccount()
	a.Identities = nil // the stack creates example.com
	srv.SetAccount(a)
	out, code = run(t, srv, "-env", "prod", "-cdk-json", path, "-timeout", patient.String())
	if code != preflight.ExitReady || !strings.Contains(out, "READY to deploy.") {
		t.Fatalf("exit %d for a ready account", code)
	}

	// The dev environment pins no region: the SDK's region (AWS_REGION) is used, or -region.
	t.Setenv("AWS_REGION", "us-west-2")
	out, code = run(t, srv, "-env", "dev", "-cdk-json", path, "-timeout", patient.String())
	if code != preflight.ExitReady || !strings.Contains(out, "region us-west-2") || !strings.Contains(out, "INFO     ses                not used") {
		t.Fatalf("dev with AWS_REGION: exit %d", code)
	}
	out, _ = run(t, srv, "-env", "dev", "-cdk-json", path, "-region", "ap-southeast-2", "-timeout", patient.String())
	if !strings.Contains(out, "region ap-southeast-2") {
		t.Fatal("-region ignored")
	}
	// A region flag that contradicts the environment's pinned region is refused.
	out, code = run(t, srv, "-env", "prod", "-cdk-json", path, "-region", "us-east-1")
	if code != preflight.ExitUnchecked || !strings.Contains(out, "deploys to eu-west-1") {
		t.Fatalf("conflicting -region: exit %d", code)
	}
}

// The cdk.json settings of an existing identity and an origination number reach the checks.
func TestRunExistingIdentityAndOriginationNumber(t *testing.T) {
	isolate(t)
	srv := startMock(t)
	env := map[string]any{
		"region":                 region,
		"signInAliases":          []string{"email", "phone"},
		"senderAddress":          "no-reply@example.com",
		"existingSenderIdentity": "example.com",
		"methods":                []string{"email_otp", "sms_otp"},
		"smsAllowedCountries":    []string{"US"},
		"smsOriginationNumber":   "+18005550100",
	}
	path := cdkJSON(t, map[string]any{"prod": env}, nil)
	srv.SetAccount(readyAccount())
	out, code := run(t, srv, "-env", "prod", "-cdk-json", path, "-timeout", patient.String())
	if code != preflight.ExitReady || !strings.Contains(out, "example.com (domain) is verified for sending") ||
		!strings.Contains(out, "SMS.OriginationNumber +18005550100 (US, ACTIVE, Transactional)") {
		t.Fatalf("exit %d", code)
	}
	// The same settings in an account that is not ready: the identity is unverified and the
	// number is still being registered.
	a := readyAccount()
	a.Identities = map[string]awsmock.EmailIdentity{"example.com": {DKIMTokens: []string{"t1", "t2", "t3"}}}
	a.SMS.OriginationNumbers[0].Status = "PENDING"
	srv.SetAccount(a)
	out, code = run(t, srv, "-env", "prod", "-cdk-json", path, "-timeout", patient.String())
	if code != preflight.ExitBlocked || !strings.Contains(out, "MISSING  ses identity       example.com exists but is not verified") ||
		!strings.Contains(out, "t1._domainkey.example.com CNAME t1.dkim.amazonses.com") || !strings.Contains(out, "is PENDING, not ACTIVE") {
		t.Fatalf("exit %d", code)
	}
}

func TestRunQualifierFromCDKJSON(t *testing.T) {
	isolate(t)
	srv := startMock(t)
	a := readyAccount()
	a.Identities = nil
	a.Parameters = map[string]string{"/cdk-bootstrap/team42/version": "28"}
	srv.SetAccount(a)
	path := cdkJSON(t, map[string]any{"prod": prodEnv}, map[string]any{"@aws-cdk/core:bootstrapQualifier": "team42"})
	out, code := run(t, srv, "-env", "prod", "-cdk-json", path, "-timeout", patient.String())
	if code != preflight.ExitReady || !strings.Contains(out, "version 28 (/cdk-bootstrap/team42/version") {
		t.Fatalf("exit %d", code)
	}
	bad := cdkJSON(t, map[string]any{"prod": prodEnv}, map[string]any{"@aws-cdk/core:bootstrapQualifier": "a/b"})
	if out, code := run(t, srv, "-env", "prod", "-cdk-json", bad); code != preflight.ExitUnchecked || !strings.Contains(out, "not a bootstrap qualifier") {
		t.Fatalf("bad qualifier: exit %d", code)
	}
}

// Without credentials the command says so plainly and calls nothing.
func TestRunWithoutCredentials(t *testing.T) {
	isolate(t)
	srv := startMock(t)
	path := cdkJSON(t, map[string]any{"prod": prodEnv}, nil)
	var out bytes.Buffer
	code := preflight.Run(t.Context(), &out, []string{"-env", "prod", "-cdk-json", path},
		config.WithBaseEndpoint(srv.URL()), config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	t.Logf("output:\n%s", out.String())
	if code != preflight.ExitUnchecked {
		t.Fatalf("exit %d, want %d", code, preflight.ExitUnchecked)
	}
	for _, s := range []string{"no usable AWS credentials", "aws configure sso", "AWS_ACCESS_KEY_ID", "sts:GetCallerIdentity"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q", s)
		}
	}
	if c := srv.Calls(); len(c) != 0 {
		t.Fatalf("AWS called without credentials: %v", c)
	}
}

func TestRunBadInput(t *testing.T) {
	isolate(t)
	path := cdkJSON(t, map[string]any{"prod": prodEnv}, nil)
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"unknown environment", []string{"-env", "staging", "-cdk-json", path}, `unknown environment "staging" (known: prod)`},
		{"missing cdk.json", []string{"-cdk-json", filepath.Join(t.TempDir(), "none.json")}, "reading"},
		{"bad flag", []string{"-nope"}, "flag provided but not defined"},
		{"stray argument", []string{"-cdk-json", path, "prod"}, "unexpected arguments"},
		{"no region", []string{"-env", "dev", "-cdk-json", cdkJSON(t, map[string]any{"dev": map[string]any{"methods": []string{"device_key"}}}, nil)}, "no region"},
		{"invalid settings", []string{"-env", "prod", "-cdk-json", cdkJSON(t, map[string]any{"prod": map[string]any{"methods": []string{"carrier_pigeon"}}}, nil)}, "carrier_pigeon"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := run(t, nil, tc.args...)
			if code != preflight.ExitUnchecked || !strings.Contains(out, tc.msg) {
				t.Fatalf("exit %d, output lacks %q", code, tc.msg)
			}
		})
	}
	if _, code := run(t, nil, "-h"); code != preflight.ExitReady {
		t.Fatalf("-h exit %d", code)
	}
}

// The repository's own cdk.json loads through infra/stacks.
func TestRepositoryCDKJSON(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		tg, err := preflight.LoadTarget("../../cdk.json", env)
		if err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		if tg.StackName != "Passwordless-"+env || tg.Qualifier != preflight.DefaultQualifier {
			t.Fatalf("%s: %+v", env, tg)
		}
	}
}
