package awsapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

type captured struct {
	method, path string
	header       http.Header
	body         []byte
}

// server answers with handler and records every request.
func server(t *testing.T, handler func(w http.ResponseWriter, n int)) (*Client, *[]captured) {
	t.Helper()
	var got []captured
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, captured{r.Method, r.URL.Path, r.Header.Clone(), b})
		handler(w, int(n.Add(1)))
	}))
	t.Cleanup(srv.Close)
	c, err := New(aws.Config{
		Region: "eu-west-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET", SessionToken: "TOKEN"}, nil
		}),
		HTTPClient:   srv.Client(),
		BaseEndpoint: aws.String(srv.URL),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 2; o.MaxBackoff = time.Millisecond })
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, &got
}

func checkSigned(t *testing.T, h http.Header, service string) {
	t.Helper()
	auth := h.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKID/") || !strings.Contains(auth, "/eu-west-1/"+service+"/aws4_request") {
		t.Errorf("Authorization %q", auth)
	}
	if h.Get("X-Amz-Date") == "" || h.Get("X-Amz-Security-Token") != "TOKEN" {
		t.Errorf("date %q token %q", h.Get("X-Amz-Date"), h.Get("X-Amz-Security-Token"))
	}
}

// checkCognitoCall checks that r is a signed Cognito user pools JSON call of the operation op.
func checkCognitoCall(t *testing.T, r captured, op string) {
	t.Helper()
	if r.method != http.MethodPost || r.path != "/" || r.header.Get("Content-Type") != "application/x-amz-json-1.1" ||
		r.header.Get("X-Amz-Target") != "AWSCognitoIdentityProviderService."+op {
		t.Errorf("%s %s %v", r.method, r.path, r.header)
	}
	checkSigned(t, r.header, "cognito-idp")
}

func ok(w http.ResponseWriter, _ int) { _, _ = w.Write([]byte(`{}`)) }

func TestSendEmail(t *testing.T) {
	c, got := server(t, ok)
	err := c.SendEmail(context.Background(), &SendEmailInput{From: "A <a@example.com>", To: []string{"b@example.com"},
		Subject: "S", Text: "T", HTML: "<p>H</p>", ConfigurationSet: "set"})
	if err != nil || len(*got) != 1 {
		t.Fatalf("%v, %d requests", err, len(*got))
	}
	r := (*got)[0]
	if r.method != http.MethodPost || r.path != "/v2/email/outbound-emails" || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("%s %s %q", r.method, r.path, r.header.Get("Content-Type"))
	}
	checkSigned(t, r.header, "ses")
	var b sesRequest
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatal(err)
	}
	s := b.Content.Simple
	if b.FromEmailAddress != "A <a@example.com>" || len(b.Destination.ToAddresses) != 1 || b.Destination.ToAddresses[0] != "b@example.com" ||
		b.ConfigurationSetName != "set" || s.Subject != (sesContent{"S", "UTF-8"}) || s.Body.Text != (sesContent{"T", "UTF-8"}) ||
		s.Body.HTML != (sesContent{"<p>H</p>", "UTF-8"}) {
		t.Errorf("body %s", r.body)
	}
	// No configuration set: none sent.
	if err := c.SendEmail(context.Background(), &SendEmailInput{From: "a@example.com", To: []string{"b@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string((*got)[1].body), "ConfigurationSetName") {
		t.Errorf("body %s", (*got)[1].body)
	}
}

func TestPublish(t *testing.T) {
	c, got := server(t, func(w http.ResponseWriter, _ int) {
		_, _ = w.Write([]byte(`<PublishResponse><PublishResult><MessageId>m</MessageId></PublishResult></PublishResponse>`))
	})
	err := c.Publish(context.Background(), &PublishInput{PhoneNumber: "+447911123456", Message: "123456 is your code",
		MessageAttributes: map[string]MessageAttribute{
			"AWS.SNS.SMS.SMSType":  {DataType: "String", StringValue: "Transactional"},
			"AWS.SNS.SMS.SenderID": {DataType: "String", StringValue: "Acme"},
		}})
	if err != nil || len(*got) != 1 {
		t.Fatalf("%v, %d requests", err, len(*got))
	}
	r := (*got)[0]
	if r.method != http.MethodPost || r.path != "/" || r.header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("%s %s %q", r.method, r.path, r.header.Get("Content-Type"))
	}
	checkSigned(t, r.header, "sns")
	f, err := url.ParseQuery(string(r.body))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Action": "Publish", "Version": "2010-03-31", "PhoneNumber": "+447911123456", "Message": "123456 is your code",
		"MessageAttributes.entry.1.Name": "AWS.SNS.SMS.SMSType", "MessageAttributes.entry.1.Value.DataType": "String",
		"MessageAttributes.entry.1.Value.StringValue": "Transactional",
		"MessageAttributes.entry.2.Name":              "AWS.SNS.SMS.SenderID", "MessageAttributes.entry.2.Value.DataType": "String",
		"MessageAttributes.entry.2.Value.StringValue": "Acme",
	}
	if len(f) != len(want) {
		t.Errorf("form %v", f)
	}
	for k, v := range want {
		if f.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, f.Get(k), v)
		}
	}
}

func TestAdminUpdateUserAttributes(t *testing.T) {
	c, got := server(t, ok)
	err := c.AdminUpdateUserAttributes(context.Background(), &AdminUpdateUserAttributesInput{UserPoolID: "eu-west-1_X", Username: "u",
		UserAttributes: []Attribute{{Name: "email_verified", Value: "true"}}})
	if err != nil || len(*got) != 1 {
		t.Fatalf("%v, %d requests", err, len(*got))
	}
	r := (*got)[0]
	checkCognitoCall(t, r, "AdminUpdateUserAttributes")
	if string(r.body) != `{"UserPoolId":"eu-west-1_X","Username":"u","UserAttributes":[{"Name":"email_verified","Value":"true"}]}` {
		t.Errorf("body %s", r.body)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		call    func(*Client) error
		code    string
		msg     string
		fault   smithy.ErrorFault
		retried bool
	}{
		{"ses header", 400, map[string]string{"x-amzn-ErrorType": "MessageRejected:http://internal.amazon.com/"},
			`{"message":"Email address is not verified: a@example.com"}`,
			func(c *Client) error { return c.SendEmail(ctx, &SendEmailInput{}) }, "MessageRejected", "Email address is not verified: a@example.com", smithy.FaultClient, false},
		{"ses body", 400, nil, `{"code":"BadRequestException","message":"bad input"}`,
			func(c *Client) error { return c.SendEmail(ctx, &SendEmailInput{}) }, "BadRequestException", "bad input", smithy.FaultClient, false},
		{"ses throttled", 429, map[string]string{"x-amzn-ErrorType": "TooManyRequestsException"}, `{"message":"slow down"}`,
			func(c *Client) error { return c.SendEmail(ctx, &SendEmailInput{}) }, "TooManyRequestsException", "slow down", smithy.FaultClient, true},
		{"sns", 400, nil, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: PhoneNumber &lt;+1&gt; &amp; &#39;x&#x27;</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
			func(c *Client) error { return c.Publish(ctx, &PublishInput{}) }, "InvalidParameter", "Invalid parameter: PhoneNumber <+1> & 'x'", smithy.FaultClient, false},
		{"sns server", 500, nil, `<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>oops</Message></Error></ErrorResponse>`,
			func(c *Client) error { return c.Publish(ctx, &PublishInput{}) }, "InternalError", "oops", smithy.FaultServer, true},
		{"cognito", 400, nil, `{"__type":"com.amazonaws.cognito#UserNotFoundException","message":"User does not exist."}`,
			func(c *Client) error { return c.AdminUpdateUserAttributes(ctx, &AdminUpdateUserAttributesInput{}) }, "UserNotFoundException", "User does not exist.", smithy.FaultClient, false},
		{"cognito throttled", 400, nil, `{"__type":"TooManyRequestsException","message":"Rate exceeded"}`,
			func(c *Client) error { return c.AdminUpdateUserAttributes(ctx, &AdminUpdateUserAttributesInput{}) }, "TooManyRequestsException", "Rate exceeded", smithy.FaultClient, true},
		{"no body", 503, nil, ``,
			func(c *Client) error { return c.AdminUpdateUserAttributes(ctx, &AdminUpdateUserAttributesInput{}) }, "HTTP503", "", smithy.FaultServer, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, got := server(t, func(w http.ResponseWriter, _ int) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			err := tt.call(c)
			var api smithy.APIError
			if !errors.As(err, &api) {
				t.Fatalf("%T %v is not an APIError", err, err)
			}
			if api.ErrorCode() != tt.code || api.ErrorMessage() != tt.msg || api.ErrorFault() != tt.fault {
				t.Errorf("code %q message %q fault %v", api.ErrorCode(), api.ErrorMessage(), api.ErrorFault())
			}
			if tt.msg != "" && strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error text %q holds the message", err)
			}
			if want := map[bool]int{false: 1, true: 2}[tt.retried]; len(*got) != want {
				t.Errorf("%d attempts, want %d", len(*got), want)
			}
		})
	}
}

func TestRetryThenSuccess(t *testing.T) {
	c, got := server(t, func(w http.ResponseWriter, n int) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(`{}`))
	})
	if err := c.SendEmail(context.Background(), &SendEmailInput{}); err != nil || len(*got) != 2 {
		t.Fatalf("%v after %d attempts", err, len(*got))
	}
	// Each attempt is signed afresh.
	if (*got)[1].header.Get("Authorization") == "" {
		t.Error("retry not signed")
	}
}

func TestContextCanceled(t *testing.T) {
	c, got := server(t, func(w http.ResponseWriter, _ int) { w.WriteHeader(http.StatusServiceUnavailable) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.Publish(ctx, &PublishInput{})
	if !errors.Is(err, context.Canceled) || len(*got) != 0 {
		t.Fatalf("%v after %d attempts", err, len(*got))
	}
}

func TestEndpoints(t *testing.T) {
	c, err := New(aws.Config{Region: "us-east-2", Credentials: aws.AnonymousCredentials{}})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{
		"email": "https://email.us-east-2.amazonaws.com/v2/email/outbound-emails", "sns": "https://sns.us-east-2.amazonaws.com/",
		"cognito-idp": "https://cognito-idp.us-east-2.amazonaws.com/",
	} {
		path := "/"
		if host == "email" {
			path = "/v2/email/outbound-emails"
		}
		if got := c.endpoint(host, path); got != want {
			t.Errorf("%s: %s", host, got)
		}
	}
	c, err = New(aws.Config{Region: "us-east-2", Credentials: aws.AnonymousCredentials{}, BaseEndpoint: aws.String("http://127.0.0.1:4566/base/")})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.endpoint("email", "/v2/email/outbound-emails"); got != "http://127.0.0.1:4566/base/v2/email/outbound-emails" {
		t.Errorf("base endpoint: %s", got)
	}
	for _, cfg := range []aws.Config{{Credentials: aws.AnonymousCredentials{}}, {Region: "r"}, {Region: "r", Credentials: aws.AnonymousCredentials{}, BaseEndpoint: aws.String("nohost")}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestGetSecretValue(t *testing.T) {
	c, got := server(t, func(w http.ResponseWriter, _ int) {
		_, _ = w.Write([]byte(`{"ARN":"arn:x","Name":"s","SecretString":"0123456789abcdef0123456789abcdef","VersionId":"v1"}`))
	})
	v, err := c.GetSecretValue(context.Background(), "arn:aws:secretsmanager:eu-west-1:1:secret:s")
	if err != nil || v != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("%q, %v", v, err)
	}
	r := (*got)[0]
	if r.header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || r.header.Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Errorf("headers %v", r.header)
	}
	checkSigned(t, r.header, "secretsmanager")
	if string(r.body) != `{"SecretId":"arn:aws:secretsmanager:eu-west-1:1:secret:s"}` {
		t.Errorf("body %s", r.body)
	}

	binary, _ := server(t, func(w http.ResponseWriter, _ int) { _, _ = w.Write([]byte(`{"SecretBinary":"AAAA"}`)) })
	if _, err := binary.GetSecretValue(context.Background(), "s"); err == nil {
		t.Error("a secret without SecretString was accepted")
	}
	denied, _ := server(t, func(w http.ResponseWriter, _ int) {
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"__type":"AccessDeniedException","message":"secret value 0123456789abcdef0123456789abcdef"}`))
	})
	_, err = denied.GetSecretValue(context.Background(), "s")
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" || strings.Contains(err.Error(), "0123456789abcdef") {
		t.Errorf("error %v", err)
	}
}

func TestGetUser(t *testing.T) {
	c, got := server(t, func(w http.ResponseWriter, _ int) {
		_, _ = w.Write([]byte(`{"Username":"u-1","UserAttributes":[{"Name":"sub","Value":"s-1"},{"Name":"email","Value":"a@example.com"}],"MFAOptions":[]}`))
	})
	out, err := c.GetUser(context.Background(), "access.token.value")
	if err != nil || out.Username != "u-1" || len(out.UserAttributes) != 2 || out.UserAttributes[1] != (Attribute{"email", "a@example.com"}) {
		t.Fatalf("%+v, %v", out, err)
	}
	r := (*got)[0]
	checkCognitoCall(t, r, "GetUser")
	if string(r.body) != `{"AccessToken":"access.token.value"}` {
		t.Errorf("body %s", r.body)
	}

	// A revoked token: NotAuthorizedException, not retried, the token in no error text.
	revoked, calls := server(t, func(w http.ResponseWriter, _ int) {
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"__type":"NotAuthorizedException","message":"Access Token has been revoked"}`))
	})
	_, err = revoked.GetUser(context.Background(), "access.token.value")
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "NotAuthorizedException" || strings.Contains(err.Error(), "access.token.value") || len(*calls) != 1 {
		t.Errorf("error %v after %d calls", err, len(*calls))
	}
	for _, body := range []string{`not json`, `{}`, `{"Username":""}`} {
		bad, _ := server(t, func(w http.ResponseWriter, _ int) { _, _ = w.Write([]byte(body)) })
		if _, err := bad.GetUser(context.Background(), "t"); err == nil {
			t.Errorf("answer %s accepted", body)
		}
	}
}

func TestAdminSetUserPassword(t *testing.T) {
	c, got := server(t, ok)
	const password = `Aa1!"<>&\` + "`x"
	err := c.AdminSetUserPassword(context.Background(), &AdminSetUserPasswordInput{UserPoolID: "eu-west-1_X", Username: "u-1",
		Password: password, Permanent: true})
	if err != nil || len(*got) != 1 {
		t.Fatalf("%v, %d requests", err, len(*got))
	}
	r := (*got)[0]
	checkCognitoCall(t, r, "AdminSetUserPassword")
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	want := map[string]any{"UserPoolId": "eu-west-1_X", "Username": "u-1", "Password": password, "Permanent": true}
	if len(body) != len(want) {
		t.Errorf("body %s, want exactly %v", r.body, want)
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("body %s: %s=%v, want %v", r.body, k, body[k], v)
		}
	}
	// Permanent=false is sent as false, not left out (Cognito's default is false either way).
	c2, got2 := server(t, ok)
	if err := c2.AdminSetUserPassword(context.Background(), &AdminSetUserPasswordInput{UserPoolID: "p", Username: "u", Password: "x"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string((*got2)[0].body), `"Permanent":false`) {
		t.Errorf("body %s", (*got2)[0].body)
	}

	// A refused password: the code is kept, the password is in no error text, nothing retried.
	bad, calls := server(t, func(w http.ResponseWriter, _ int) {
		msg, _ := json.Marshal("Password does not conform to policy: " + password)
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"__type":"InvalidPasswordException","message":` + string(msg) + `}`))
	})
	err = bad.AdminSetUserPassword(context.Background(), &AdminSetUserPasswordInput{UserPoolID: "p", Username: "u", Password: password, Permanent: true})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidPasswordException" || strings.Contains(err.Error(), password) || len(*calls) != 1 {
		t.Errorf("error %v after %d calls", err, len(*calls))
	}
}

func TestAdminUserGlobalSignOut(t *testing.T) {
	c, got := server(t, ok)
	if err := c.AdminUserGlobalSignOut(context.Background(), &AdminUserGlobalSignOutInput{UserPoolID: "eu-west-1_X", Username: "u-1"}); err != nil || len(*got) != 1 {
		t.Fatalf("%v, %d requests", err, len(*got))
	}
	r := (*got)[0]
	checkCognitoCall(t, r, "AdminUserGlobalSignOut")
	if string(r.body) != `{"UserPoolId":"eu-west-1_X","Username":"u-1"}` {
		t.Errorf("body %s", r.body)
	}
	// Throttling is retried.
	throttled, calls := server(t, func(w http.ResponseWriter, n int) {
		if n == 1 {
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"__type":"TooManyRequestsException","message":"Rate exceeded"}`))
			return
		}
		ok(w, n)
	})
	if err := throttled.AdminUserGlobalSignOut(context.Background(), &AdminUserGlobalSignOutInput{UserPoolID: "p", Username: "u"}); err != nil || len(*calls) != 2 {
		t.Errorf("%v after %d calls, want success on the retry", err, len(*calls))
	}
}
