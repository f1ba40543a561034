package awsmock_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/passwordless-go/cognito/infra/local/awsmock"
	"github.com/passwordless-go/cognito/infra/local/syncbuf"
	"github.com/passwordless-go/cognito/lambdas/awsconfig"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

var clockTime = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)

type env struct {
	srv  *awsmock.Server
	cfg  aws.Config
	ddb  *dynalitetest.Server
	logs *syncbuf.Buffer
}

// start runs a mock in front of the shared dynalite and builds the functions' aws.Config
// (lambdas/awsconfig) pointed at it.
func start(t *testing.T) *env {
	t.Helper()
	d := dynalitetest.Shared(t)
	logs := &syncbuf.Buffer{}
	srv, err := awsmock.Start(awsmock.Options{
		DynamoDB: d.Endpoint,
		Clock:    func() time.Time { return clockTime },
		Log:      slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %q not on loopback", srv.URL())
	}
	vars := map[string]string{
		"AWS_REGION":            "eu-west-1",
		"AWS_ACCESS_KEY_ID":     "AKIDLOCAL",
		"AWS_SECRET_ACCESS_KEY": "secret",
		awsconfig.EnvEndpoint:   srv.URL(),
	}
	cfg, err := awsconfig.New(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, cfg: cfg, ddb: d, logs: logs}
}

func (e *env) ses() *sesv2.Client       { return sesv2.NewFromConfig(e.cfg) }
func (e *env) sns() *sns.Client         { return sns.NewFromConfig(e.cfg) }
func (e *env) dynamo() *dynamodb.Client { return dynamodb.NewFromConfig(e.cfg) }
func (e *env) cognito() *cip.Client     { return cip.NewFromConfig(e.cfg) }
func ctxT(t *testing.T) context.Context { return t.Context() }

func table(t *testing.T, e *env) string {
	t.Helper()
	return dynalitetest.NewTable(t, e.ddb.Client(), &dynamodb.CreateTableInput{
		TableName:            aws.String("awsmock"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
}

const secretCode = "SECRET-493817"

func emailInput(to ...string) *sesv2.SendEmailInput {
	return &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("no-reply@example.com"),
		Destination:      &sestypes.Destination{ToAddresses: to},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("Your sign-in code"), Charset: aws.String("UTF-8")},
			Body: &sestypes.Body{
				Text: &sestypes.Content{Data: aws.String("Your code is " + secretCode + " ✓"), Charset: aws.String("UTF-8")},
				Html: &sestypes.Content{Data: aws.String("<p>Your code is <b>" + secretCode + "</b> &amp; ✓</p>"), Charset: aws.String("UTF-8")},
			},
		}},
		ConfigurationSetName: aws.String("local-configuration-set"),
	}
}

func publishInput(to string) *sns.PublishInput {
	return &sns.PublishInput{
		PhoneNumber: aws.String(to),
		Message:     aws.String("Your code is " + secretCode + " & <ok>"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"AWS.SNS.SMS.SMSType":          {DataType: aws.String("String"), StringValue: aws.String("Transactional")},
			"AWS.SNS.SMS.SenderID":         {DataType: aws.String("String"), StringValue: aws.String("MyApp")},
			"AWS.MM.SMS.OriginationNumber": {DataType: aws.String("String"), StringValue: aws.String("+15550001111")},
		},
	}
}

func TestSendEmailCaptured(t *testing.T) {
	e := start(t)
	var seen []awsmock.Message
	var mu sync.Mutex
	e.srv.OnMessage(func(m awsmock.Message) { mu.Lock(); seen = append(seen, m); mu.Unlock() })
	out, err := e.ses().SendEmail(ctxT(t), emailInput("Alice@Example.com", "bob@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.MessageId) == "" {
		t.Fatal("no MessageId")
	}
	msgs := e.srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("captured %d messages, want 2 (one per recipient)", len(msgs))
	}
	want := awsmock.Message{
		Medium:           "EMAIL",
		To:               "Alice@Example.com",
		From:             "no-reply@example.com",
		Subject:          "Your sign-in code",
		Text:             "Your code is " + secretCode + " ✓",
		HTML:             "<p>Your code is <b>" + secretCode + "</b> &amp; ✓</p>",
		ConfigurationSet: "local-configuration-set",
		At:               clockTime,
		MessageID:        aws.ToString(out.MessageId),
	}
	if got := msgs[0]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("message\n got %+v\nwant %+v", got, want)
	}
	if msgs[1].To != "bob@example.com" {
		t.Fatalf("second recipient %q", msgs[1].To)
	}
	if got := e.srv.MessagesTo("alice@example.COM"); len(got) != 1 || got[0].To != "Alice@Example.com" {
		t.Fatalf("MessagesTo is not case-insensitive: %+v", got)
	}
	if got := e.srv.MessagesTo("carol@example.com"); len(got) != 0 {
		t.Fatalf("MessagesTo(other) = %+v", got)
	}
	mu.Lock()
	if len(seen) != 2 || seen[0].Text != want.Text {
		t.Fatalf("OnMessage saw %+v", seen)
	}
	mu.Unlock()
	if c := e.srv.Calls(); c["ses.SendEmail"] != 1 || len(c) != 1 {
		t.Fatalf("Calls = %v", c)
	}
	if strings.Contains(e.logs.String(), secretCode) {
		t.Fatalf("log holds the message body: %s", e.logs.String())
	}

	// A malformed request is refused like SES does, and nothing is captured.
	_, err = e.ses().SendEmail(ctxT(t), &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("no-reply@example.com"),
		Content:          emailInput().Content,
	})
	if !errorAs[*sestypes.BadRequestException](err) {
		t.Fatalf("SendEmail without destination: %v, want BadRequestException", err)
	}
	if n := len(e.srv.Messages()); n != 2 {
		t.Fatalf("%d messages after a refused send", n)
	}
}

func TestPublishCaptured(t *testing.T) {
	e := start(t)
	out, err := e.sns().Publish(ctxT(t), publishInput("+447700900123"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.srv.MessagesTo("+447700900123")
	if len(msgs) != 1 {
		t.Fatalf("captured %v", e.srv.Messages())
	}
	want := awsmock.Message{
		Medium: "SMS",
		To:     "+447700900123",
		Text:   "Your code is " + secretCode + " & <ok>",
		Attributes: map[string]string{
			"AWS.SNS.SMS.SMSType":          "Transactional",
			"AWS.SNS.SMS.SenderID":         "MyApp",
			"AWS.MM.SMS.OriginationNumber": "+15550001111",
		},
		At:        clockTime,
		MessageID: aws.ToString(out.MessageId),
	}
	if got := msgs[0]; fmt.Sprint(got) != fmt.Sprint(want) || want.MessageID == "" {
		t.Fatalf("message\n got %+v\nwant %+v", got, want)
	}
	// The returned slices are copies.
	msgs[0].Attributes["AWS.SNS.SMS.SMSType"] = "Promotional"
	if e.srv.Messages()[0].Attributes["AWS.SNS.SMS.SMSType"] != "Transactional" {
		t.Fatal("Messages shares its maps with the caller")
	}

	// SNS's own validation: a number that is not E.164.
	_, err = e.sns().Publish(ctxT(t), publishInput("07700 900123"))
	if !errorAs[*snstypes.InvalidParameterException](err) {
		t.Fatalf("Publish to a bad number: %v, want InvalidParameterException", err)
	}
	// An action that is not emulated: a clear error, not a silent success.
	_, err = e.sns().CreateTopic(ctxT(t), &sns.CreateTopicInput{Name: aws.String("t")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidAction" || !strings.Contains(api.ErrorMessage(), "CreateTopic") {
		t.Fatalf("CreateTopic: %v", err)
	}
	if c := e.srv.Calls(); c["sns.Publish"] != 2 || c["sns.CreateTopic"] != 1 {
		t.Fatalf("Calls = %v", c)
	}
	if n := len(e.srv.Messages()); n != 1 {
		t.Fatalf("%d messages", n)
	}
	e.srv.ResetCalls()
	if c := e.srv.Calls(); len(c) != 0 {
		t.Fatalf("Calls after ResetCalls = %v", c)
	}
}

func TestWaitMessage(t *testing.T) {
	e := start(t)
	to := "+15550002222"
	go func() {
		time.Sleep(150 * time.Millisecond)
		_, _ = e.sns().Publish(context.Background(), publishInput(to))
		time.Sleep(50 * time.Millisecond)
		in := publishInput(to)
		in.Message = aws.String("second")
		_, _ = e.sns().Publish(context.Background(), in)
	}()
	ctx, cancel := context.WithTimeout(ctxT(t), 5*time.Second)
	defer cancel()
	begin := time.Now()
	m, err := e.srv.WaitMessage(ctx, to, 2)
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "second" || time.Since(begin) < 150*time.Millisecond {
		t.Fatalf("WaitMessage returned %+v after %v", m, time.Since(begin))
	}
	m, err = e.srv.WaitMessage(ctx, to, 1)
	if err != nil || !strings.Contains(m.Text, secretCode) {
		t.Fatalf("first message: %+v, %v", m, err)
	}

	short, cancel2 := context.WithTimeout(ctxT(t), 200*time.Millisecond)
	defer cancel2()
	begin = time.Now()
	_, err = e.srv.WaitMessage(short, to, 3)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(begin) < 190*time.Millisecond {
		t.Fatalf("WaitMessage for a third message: %v after %v", err, time.Since(begin))
	}
	if _, err := e.srv.WaitMessage(ctx, to, 0); err == nil {
		t.Fatal("WaitMessage(n=0) did not fail")
	}
	// Close releases waiters.
	done := make(chan error, 1)
	go func() { _, err := e.srv.WaitMessage(ctx, "nobody@example.com", 1); done <- err }()
	time.Sleep(50 * time.Millisecond)
	_ = e.srv.Close()
	select {
	case err := <-done:
		if !errors.Is(err, awsmock.ErrClosed) {
			t.Fatalf("after Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not release WaitMessage")
	}
}

func TestDynamoDBProxy(t *testing.T) {
	e := start(t)
	tbl := table(t, e)
	c := e.dynamo()
	_, err := c.PutItem(ctxT(t), &dynamodb.PutItemInput{TableName: aws.String(tbl), Item: map[string]ddbtypes.AttributeValue{
		"pk":  &ddbtypes.AttributeValueMemberS{Value: "k1"},
		"val": &ddbtypes.AttributeValueMemberN{Value: "42"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.GetItem(ctxT(t), &dynamodb.GetItemInput{TableName: aws.String(tbl), Key: map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "k1"},
	}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := out.Item["val"].(*ddbtypes.AttributeValueMemberN); !ok || v.Value != "42" {
		t.Fatalf("GetItem through the proxy: %#v", out.Item)
	}
	// Errors of the backend come back as the backend's errors.
	_, err = c.GetItem(ctxT(t), &dynamodb.GetItemInput{TableName: aws.String("no-such-table"), Key: map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "k1"},
	}})
	if !errorAs[*ddbtypes.ResourceNotFoundException](err) {
		t.Fatalf("GetItem on a missing table: %v", err)
	}
	if got := e.srv.Calls(); got["dynamodb.PutItem"] != 1 || got["dynamodb.GetItem"] != 2 {
		t.Fatalf("Calls = %v", got)
	}
}

// cognitoStub answers every Cognito call with an empty JSON object.
func cognitoStub(calls *int, mu *sync.Mutex) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*calls++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if strings.HasSuffix(r.URL.Path, "/jwks.json") {
			_, _ = io.WriteString(w, `{"keys":[]}`)
			return
		}
		_, _ = io.WriteString(w, `{"Username":"u1","UserAttributes":[]}`)
	})
}

// call makes one call of service through the SDK.
func call(t *testing.T, e *env, service, table string) error {
	ctx := context.Background()
	var err error
	switch service {
	case "dynamodb":
		_, err = e.dynamo().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "x"},
		}})
	case "ses":
		_, err = e.ses().SendEmail(ctx, emailInput("alice@example.com"))
	case "sns":
		_, err = e.sns().Publish(ctx, publishInput("+15550003333"))
	case "cognito":
		_, err = e.cognito().GetUser(ctx, &cip.GetUserInput{AccessToken: aws.String("token")})
	default:
		t.Fatalf("no service %q", service)
	}
	return err
}

var ops = map[string]string{"dynamodb": "GetItem", "ses": "SendEmail", "sns": "Publish", "cognito": "GetUser"}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// errorAs reports whether err is (or wraps) a T.
func errorAs[T error](err error) bool {
	var x T
	return errors.As(err, &x)
}

func TestFaults(t *testing.T) {
	type check func(t *testing.T, err error)
	isA := func(target func(error) bool, what string, status int) check {
		return func(t *testing.T, err error) {
			t.Helper()
			if err == nil || !target(err) {
				t.Fatalf("error %v (%T), want %s", err, err, what)
			}
			if got := httpStatus(err); got != status {
				t.Fatalf("HTTP status %d, want %d (%v)", got, status, err)
			}
		}
	}
	code := func(c string) func(error) bool {
		return func(err error) bool {
			var api smithy.APIError
			return errors.As(err, &api) && api.ErrorCode() == c
		}
	}
	cases := []struct {
		service string
		kind    awsmock.FaultKind
		check   check
	}{
		{"dynamodb", awsmock.Throttle, isA(errorAs[*ddbtypes.ProvisionedThroughputExceededException], "ProvisionedThroughputExceededException", 400)},
		{"dynamodb", awsmock.ServerError, isA(errorAs[*ddbtypes.InternalServerError], "InternalServerError", 500)},
		{"ses", awsmock.Throttle, isA(errorAs[*sestypes.TooManyRequestsException], "TooManyRequestsException", 429)},
		{"ses", awsmock.ServerError, isA(code("InternalFailure"), "InternalFailure", 500)},
		{"sns", awsmock.Throttle, isA(code("Throttling"), "Throttling", 400)},
		{"sns", awsmock.ServerError, isA(errorAs[*snstypes.InternalErrorException], "InternalErrorException", 500)},
		{"cognito", awsmock.Throttle, isA(errorAs[*ciptypes.TooManyRequestsException], "TooManyRequestsException", 400)},
		{"cognito", awsmock.ServerError, isA(errorAs[*ciptypes.InternalErrorException], "InternalErrorException", 500)},
	}
	for _, svc := range []string{"dynamodb", "ses", "sns", "cognito"} {
		cases = append(cases,
			struct {
				service string
				kind    awsmock.FaultKind
				check   check
			}{svc, awsmock.Hang, nil},
			struct {
				service string
				kind    awsmock.FaultKind
				check   check
			}{svc, awsmock.Latency, nil})
	}
	for _, tc := range cases {
		t.Run(tc.service+"/"+tc.kind.String(), func(t *testing.T) {
			t.Parallel()
			e := start(t)
			var stubCalls int
			var mu sync.Mutex
			e.srv.SetCognito(cognitoStub(&stubCalls, &mu))
			tbl := ""
			if tc.service == "dynamodb" {
				tbl = table(t, e)
			}
			// Without a fault, the call succeeds.
			if err := call(t, e, tc.service, tbl); err != nil {
				t.Fatalf("call without a fault: %v", err)
			}
			e.srv.ResetCalls()
			key := tc.service + "." + ops[tc.service]
			e.srv.Inject(awsmock.Fault{Service: tc.service, Kind: tc.kind, Delay: 400 * time.Millisecond})
			begin := time.Now()
			err := call(t, e, tc.service, tbl)
			took := time.Since(begin)
			switch tc.kind {
			case awsmock.Hang:
				if err == nil {
					t.Fatal("call succeeded through a Hang")
				}
				var api smithy.APIError
				if errors.As(err, &api) {
					t.Fatalf("Hang gave an API error (an answer): %v", err)
				}
				budget := time.Duration(awsconfig.MaxAttempts)*awsconfig.AttemptTimeout + awsconfig.MaxBackoff + 500*time.Millisecond
				if took < awsconfig.AttemptTimeout || took > budget {
					t.Fatalf("Hang failed after %v, want between %v and %v", took, awsconfig.AttemptTimeout, budget)
				}
			case awsmock.Latency:
				if err != nil {
					t.Fatalf("Latency: %v", err)
				}
				if took < 400*time.Millisecond {
					t.Fatalf("Latency fault of 400ms: call took %v", took)
				}
			default:
				tc.check(t, err)
			}
			// Faulted calls are counted, retries included.
			wantCalls := awsconfig.MaxAttempts
			if tc.kind == awsmock.Latency {
				wantCalls = 1
			}
			if got := e.srv.Calls()[key]; got < 1 || (tc.kind != awsmock.Hang && got != wantCalls) {
				t.Fatalf("Calls[%s] = %d, want %d (%v)", key, got, wantCalls, e.srv.Calls())
			}
			mu.Lock()
			if tc.service == "cognito" && tc.kind != awsmock.Latency && stubCalls != 1 {
				t.Fatalf("the Cognito handler saw %d calls; faulted calls must not reach it", stubCalls)
			}
			mu.Unlock()
			// Once cleared, calls succeed again.
			e.srv.ClearFaults()
			if err := call(t, e, tc.service, tbl); err != nil {
				t.Fatalf("after ClearFaults: %v", err)
			}
		})
	}
}

func TestFaultCountAndOperation(t *testing.T) {
	e := start(t)
	tbl := table(t, e)
	c := e.dynamo()
	put := func(pk string) error {
		_, err := c.PutItem(ctxT(t), &dynamodb.PutItemInput{TableName: aws.String(tbl), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: pk},
		}})
		return err
	}
	get := func(pk string) error {
		_, err := c.GetItem(ctxT(t), &dynamodb.GetItemInput{TableName: aws.String(tbl), Key: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: pk},
		}})
		return err
	}
	// A fault on GetItem leaves PutItem alone.
	e.srv.Inject(awsmock.Fault{Service: "dynamodb", Operation: "GetItem", Kind: awsmock.ServerError})
	if err := put("a"); err != nil {
		t.Fatalf("PutItem under a GetItem fault: %v", err)
	}
	if err := get("a"); err == nil {
		t.Fatal("GetItem under a GetItem fault succeeded")
	}
	e.srv.ClearFaults()
	e.srv.ResetCalls()

	// Count 1: the first attempt is throttled, the SDK's retry gets through.
	e.srv.Inject(awsmock.Fault{Service: "dynamodb", Operation: "PutItem", Kind: awsmock.Throttle, Count: 1})
	if err := put("b"); err != nil {
		t.Fatalf("PutItem with a one-shot throttle: %v", err)
	}
	if got := e.srv.Calls()["dynamodb.PutItem"]; got != 2 {
		t.Fatalf("PutItem calls = %d, want 2 (throttled + retried)", got)
	}
	// Count 2: both attempts are throttled; the fault is then used up.
	e.srv.Inject(awsmock.Fault{Service: "dynamodb", Operation: "PutItem", Kind: awsmock.Throttle, Count: 2})
	var pte *ddbtypes.ProvisionedThroughputExceededException
	if err := put("c"); !errors.As(err, &pte) {
		t.Fatalf("PutItem with a two-shot throttle: %v", err)
	}
	if err := put("d"); err != nil {
		t.Fatalf("PutItem after the fault was used up: %v", err)
	}
	if got := e.srv.Calls()["dynamodb.PutItem"]; got != 5 {
		t.Fatalf("PutItem calls = %d, want 5", got)
	}
	// Count 0 lasts until cleared.
	e.srv.Inject(awsmock.Fault{Service: "dynamodb", Kind: awsmock.ServerError})
	for i := range 3 {
		if err := put(fmt.Sprint("e", i)); err == nil {
			t.Fatalf("call %d under a permanent fault succeeded", i)
		}
	}
	e.srv.ClearFaults()
	if err := put("f"); err != nil {
		t.Fatal(err)
	}
}

// rawPost posts body to url with the Content-Type ctype and, unless target is "", the
// X-Amz-Target target, and returns the answer with its body read.
func rawPost(t *testing.T, url, target, ctype, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestUnknownRequests(t *testing.T) {
	e := start(t)
	post := func(path, target, ctype, body string) (*http.Response, string) {
		return rawPost(t, e.srv.URL()+path, target, ctype, body)
	}
	resp, body := post("/", "AmazonSQS.SendMessage", "application/x-amz-json-1.0", `{"MessageBody":"`+secretCode+`"}`)
	if resp.StatusCode != 400 || !strings.Contains(body, "AmazonSQS.SendMessage") {
		t.Fatalf("unknown target: %d %s", resp.StatusCode, body)
	}
	resp, body = post("/v2/email/contact-lists", "", "application/json", `{}`)
	if resp.StatusCode != 400 || !strings.Contains(body, "/v2/email/contact-lists") {
		t.Fatalf("unknown SES path: %d %s", resp.StatusCode, body)
	}
	// Cognito without a handler.
	_, err := e.cognito().GetUser(ctxT(t), &cip.GetUserInput{AccessToken: aws.String("x")})
	if err == nil || !strings.Contains(err.Error(), "no Cognito handler") {
		t.Fatalf("Cognito call without a handler: %v", err)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "AmazonSQS.SendMessage") || !strings.Contains(logs, "contact-lists") {
		t.Fatalf("unknown requests not logged: %s", logs)
	}
	if strings.Contains(logs, secretCode) {
		t.Fatalf("a request body was logged: %s", logs)
	}
	if c := e.srv.Calls(); c["unknown"] != 1 || c["ses.Unsupported"] != 1 || c["cognito.GetUser"] != 1 {
		t.Fatalf("Calls = %v", c)
	}
}

func TestConcurrentSends(t *testing.T) {
	e := start(t)
	snsc, sesc := e.sns(), e.ses()
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := snsc.Publish(context.Background(), publishInput(fmt.Sprintf("+1555000%04d", i)))
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := sesc.SendEmail(context.Background(), emailInput(fmt.Sprintf("user%d@example.com", i)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := len(e.srv.Messages()); got != 2*n {
		t.Fatalf("%d messages, want %d", got, 2*n)
	}
	if c := e.srv.Calls(); c["sns.Publish"] != n || c["ses.SendEmail"] != n {
		t.Fatalf("Calls = %v", c)
	}
}

func TestStartNeedsDynamoDB(t *testing.T) {
	if _, err := awsmock.Start(awsmock.Options{}); err == nil {
		t.Fatal("Start without Options.DynamoDB succeeded")
	}
	if _, err := awsmock.Start(awsmock.Options{DynamoDB: "not a url"}); err == nil {
		t.Fatal("Start with a bad DynamoDB URL succeeded")
	}
}
