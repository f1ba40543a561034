package metrics

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// signed returns a POST to url with body, signed by the SDK's SigV4 signer for service.
func signed(t *testing.T, ctx context.Context, url, service, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", SessionToken: "token"}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, "eu-west-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

// answer is what the test server sends.
type answer struct {
	status int
	header map[string]string
	body   string
}

func testServer(t *testing.T, a answer) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// recorded flushes r and returns, per metric, the members of its lines.
func recorded(t *testing.T, r *Recorder, buf *bytes.Buffer) map[string][]map[string]any {
	t.Helper()
	r.Flush()
	out := map[string][]map[string]any{}
	for _, l := range parseLines(t, buf.String()) {
		out[l.name] = append(out[l.name], l.members)
	}
	buf.Reset()
	return out
}

// TestTransportServices: each service's calls are timed under its Dependency, from the credential
// scope of a request signed by the SDK's signer.
func TestTransportServices(t *testing.T) {
	srv := testServer(t, answer{status: 200, body: `{"ok":true}`})
	for service, want := range map[string]string{
		"dynamodb": DependencyDynamoDB, "ses": DependencySES, "email": DependencySES, "sns": DependencySNS,
		"cognito-idp": DependencyCognito, "secretsmanager": DependencySecretsManager, "events": DependencyEvents,
		"s3": Other,
	} {
		r, buf := newTest(t)
		c := r.Transport(srv.Client())
		resp, err := c.Do(signed(t, context.Background(), srv.URL, service, `{}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != `{"ok":true}` {
			t.Errorf("body %q", b)
		}
		got := recorded(t, r, buf)
		lat := got[DependencyLatency]
		if len(lat) != 1 || lat[0]["Dependency"] != want || len(lat[0][DependencyLatency].([]any)) != 1 {
			t.Errorf("%s: latency %v", service, lat)
		}
		if len(got[DependencyErrors]) != 0 {
			t.Errorf("%s: errors %v", service, got[DependencyErrors])
		}
	}
	// Unsigned: other.
	r, buf := newTest(t)
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	resp, err := r.Transport(srv.Client()).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if lat := recorded(t, r, buf)[DependencyLatency]; len(lat) != 1 || lat[0]["Dependency"] != Other {
		t.Errorf("unsigned: %v", lat)
	}
}

// TestTransportErrors: what counts as a dependency error and with which reason; the caller gets the
// same response (and body) or error.
func TestTransportErrors(t *testing.T) {
	const dynamoThrottle = `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"Rate of requests exceeds the allowed throughput."}`
	const conditional = `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed","Item":{"email":{"S":"alice@example.com"}}}`
	long := `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","Item":"` + strings.Repeat("x", 5000) + `"}`
	cases := []struct {
		name    string
		service string
		a       answer
		reason  string // "" no error counted
	}{
		{"ok", "dynamodb", answer{status: 200, body: `{}`}, ""},
		{"5xx", "dynamodb", answer{status: 500, body: `{"__type":"InternalServerError"}`}, ReasonFault},
		{"503", "ses", answer{status: 503}, ReasonFault},
		{"429", "ses", answer{status: 429, header: map[string]string{"X-Amzn-Errortype": "TooManyRequestsException"}, body: `{"message":"Too many requests"}`}, ReasonThrottle},
		{"429 no header", "events", answer{status: 429}, ReasonThrottle},
		{"400 x-amzn-errortype", "cognito-idp", answer{status: 400, header: map[string]string{"X-Amzn-Errortype": "TooManyRequestsException:http://internal.amazon.com/"}, body: `{}`}, ReasonThrottle},
		{"400 ThrottlingException", "events", answer{status: 400, header: map[string]string{"X-Amzn-Errortype": "ThrottlingException"}}, ReasonThrottle},
		{"400 query error", "sns", answer{status: 400, header: map[string]string{"X-Amzn-Query-Error": "Throttling;Sender"}, body: `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code></Error></ErrorResponse>`}, ReasonThrottle},
		{"400 body type", "dynamodb", answer{status: 400, body: dynamoThrottle}, ReasonThrottle},
		{"400 conditional", "dynamodb", answer{status: 400, body: conditional}, ""},
		{"400 long body", "dynamodb", answer{status: 400, body: long}, ""},
		{"400 other header", "sns", answer{status: 400, header: map[string]string{"X-Amzn-Query-Error": "InvalidParameter;Sender"}}, ""},
		{"403", "secretsmanager", answer{status: 403, body: `{"__type":"AccessDeniedException"}`}, ""},
		{"404", "cognito-idp", answer{status: 404}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := testServer(t, c.a)
			r, buf := newTest(t)
			resp, err := r.Transport(srv.Client()).Do(signed(t, context.Background(), srv.URL, c.service, `{"x":1}`))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil || string(body) != c.a.body || resp.StatusCode != c.a.status {
				t.Fatalf("caller got %d %q %v, want %d %q", resp.StatusCode, body, err, c.a.status, c.a.body)
			}
			if err := resp.Body.Close(); err != nil {
				t.Fatal(err)
			}
			got := recorded(t, r, buf)
			if len(got[DependencyLatency]) != 1 {
				t.Errorf("latency %v", got[DependencyLatency])
			}
			errs := got[DependencyErrors]
			switch {
			case c.reason == "" && len(errs) != 0:
				t.Errorf("counted %v", errs)
			case c.reason != "" && (len(errs) != 1 || errs[0]["Reason"] != c.reason || errs[0][DependencyErrors].(interface{ String() string }).String() != "1"):
				t.Errorf("errors %v, want reason %s", errs, c.reason)
			}
		})
	}
}

// trapBody fails the test when read: a successful body is not the Transport's business.
type trapBody struct {
	t      *testing.T
	closed bool
}

func (b *trapBody) Read([]byte) (int, error) {
	b.t.Error("the Transport read a body")
	return 0, io.EOF
}
func (b *trapBody) Close() error { b.closed = true; return nil }

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// TestTransportUnchanged: the inner response and error are returned as they are, and a body is
// never read unless a 400 names no error type in its headers.
func TestTransportUnchanged(t *testing.T) {
	for _, status := range []int{200, 201, 204, 404, 429, 500, 503} {
		body := &trapBody{t: t}
		want := &http.Response{StatusCode: status, Header: http.Header{}, Body: body}
		r, buf := newTest(t)
		resp, err := r.Transport(doerFunc(func(*http.Request) (*http.Response, error) { return want, nil })).
			Do(signed(t, context.Background(), "http://127.0.0.1/", "dynamodb", ""))
		if resp != want || err != nil || resp.Body != body {
			t.Errorf("%d: got %p %v", status, resp, err)
		}
		recorded(t, r, buf)
	}
	// A 400 with an error-type header: the body is not read either.
	body := &trapBody{t: t}
	want := &http.Response{StatusCode: 400, Header: http.Header{"X-Amzn-Errortype": {"ValidationException"}}, Body: body}
	r, buf := newTest(t)
	resp, _ := r.Transport(doerFunc(func(*http.Request) (*http.Response, error) { return want, nil })).
		Do(signed(t, context.Background(), "http://127.0.0.1/", "dynamodb", ""))
	if resp != want || resp.Body != body {
		t.Error("400 with header: response changed")
	}
	if errs := recorded(t, r, buf)[DependencyErrors]; len(errs) != 0 {
		t.Errorf("ValidationException counted: %v", errs)
	}

	// A 400 without: the caller reads the same bytes and Close reaches the original body.
	orig := &closeRecorder{Reader: strings.NewReader(`{"__type":"ThrottlingException"}` + strings.Repeat(" ", 3000) + "end")}
	want = &http.Response{StatusCode: 400, Header: http.Header{}, Body: orig}
	resp, _ = r.Transport(doerFunc(func(*http.Request) (*http.Response, error) { return want, nil })).
		Do(signed(t, context.Background(), "http://127.0.0.1/", "dynamodb", ""))
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp != want || !strings.HasPrefix(string(b), `{"__type":"ThrottlingException"}`) || !strings.HasSuffix(string(b), "end") || len(b) != 32+3000+3 || !orig.closed {
		t.Errorf("peeked body: %d bytes, closed %v", len(b), orig.closed)
	}
	if errs := recorded(t, r, buf)[DependencyErrors]; len(errs) != 1 || errs[0]["Reason"] != ReasonThrottle {
		t.Errorf("errors %v", errs)
	}

	// Errors are returned as they are.
	sentinel := errors.New("dial tcp: connection refused")
	resp, err := r.Transport(doerFunc(func(*http.Request) (*http.Response, error) { return nil, sentinel })).
		Do(signed(t, context.Background(), "http://127.0.0.1/", "sns", ""))
	if resp != nil || err != sentinel {
		t.Errorf("error changed: %v", err)
	}
	if errs := recorded(t, r, buf)[DependencyErrors]; len(errs) != 1 || errs[0]["Reason"] != ReasonFault || errs[0]["Dependency"] != DependencySNS {
		t.Errorf("errors %v", errs)
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

// TestTransportTimeouts: deadlines and network timeouts are "timeout", without measuring time.
func TestTransportTimeouts(t *testing.T) {
	srv := testServer(t, answer{status: 200})
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancel()
	r, buf := newTest(t)
	_, err := r.Transport(srv.Client()).Do(signed(t, ctx, srv.URL, "dynamodb", ""))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if errs := recorded(t, r, buf)[DependencyErrors]; len(errs) != 1 || errs[0]["Reason"] != ReasonTimeout {
		t.Errorf("deadline: %v", errs)
	}
	_, err = r.Transport(doerFunc(func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}
	})).Do(signed(t, context.Background(), "http://127.0.0.1/", "ses", ""))
	if err == nil {
		t.Fatal("no error")
	}
	if errs := recorded(t, r, buf)[DependencyErrors]; len(errs) != 1 || errs[0]["Reason"] != ReasonTimeout || errs[0]["Dependency"] != DependencySES {
		t.Errorf("net timeout: %v", errs)
	}
	// A closed server: a transport fault.
	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()
	if _, err := r.Transport(http.DefaultClient).Do(signed(t, context.Background(), url, "cognito-idp", "")); err == nil {
		t.Fatal("no error from a closed server")
	}
	if errs := recorded(t, r, buf)[DependencyErrors]; len(errs) != 1 || errs[0]["Reason"] != ReasonFault {
		t.Errorf("refused: %v", errs)
	}
}

func TestTransportNil(t *testing.T) {
	var r *Recorder
	inner := http.DefaultClient
	if got := r.Transport(inner); got != inner {
		t.Error("a nil Recorder wrapped the client")
	}
}

// BenchmarkTransport: the cost the wrapper adds to one call (inner answers at once).
func BenchmarkTransport(b *testing.B) {
	r, _ := newTest(b)
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody}
	c := r.Transport(doerFunc(func(*http.Request) (*http.Response, error) { return resp, nil }))
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250304/eu-west-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, _ = c.Do(req)
		if i++; i%50 == 0 {
			r.Flush()
		}
	}
}
