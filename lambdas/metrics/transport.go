package metrics

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
)

// doer is an HTTP client: *http.Client and aws.HTTPClient satisfy it.
type doer = interface {
	Do(*http.Request) (*http.Response, error)
}

// Transport returns inner wrapped so that every call records DependencyLatency (the time until
// the response headers arrived) and, when the call failed, DependencyErrors, both with the
// Dependency named by the service of the request's SigV4 credential scope (dynamodb; ses or email
// → ses; sns; cognito-idp → cognito; secretsmanager; events; anything else → other). A failure
// is a transport error (Reason timeout for deadlines and timeouts, else fault), an HTTP 5xx
// (fault), an HTTP 429 or a 400 whose error code names throttling (throttle); other 4xx answers
// are the caller's business and not counted. The error code is taken from the X-Amzn-ErrorType or
// x-amzn-query-error header; only a 400 with neither has its first 1 KiB peeked for the JSON
// "__type"/"code" member, and those bytes are put back, so the caller reads the same body. A
// successful body is never read. The inner response and error are returned unchanged. A nil
// Recorder returns inner itself.
func (r *Recorder) Transport(inner interface {
	Do(*http.Request) (*http.Response, error)
}) interface {
	Do(*http.Request) (*http.Response, error)
} {
	if r == nil || inner == nil {
		return inner
	}
	return &transport{r: r, inner: inner}
}

type transport struct {
	r     *Recorder
	inner doer
}

func (t *transport) Do(req *http.Request) (*http.Response, error) {
	start := t.r.now()
	resp, err := t.inner.Do(req)
	elapsed := t.r.now().Sub(start)
	d := Dims{Dependency: dependency(req)}
	t.r.Observe(DependencyLatency, d, elapsed)
	if reason := classify(resp, err); reason != "" {
		d.Reason = reason
		t.r.Count(DependencyErrors, d)
	}
	return resp, err
}

// dependency names the service a request is for, from the SigV4 Authorization header
// ("AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, ...") or, for a request
// signed in the query string, X-Amz-Credential.
func dependency(req *http.Request) string {
	if req == nil {
		return Other
	}
	scope := ""
	if a := req.Header.Get("Authorization"); a != "" {
		if i := strings.Index(a, "Credential="); i >= 0 {
			scope = a[i+len("Credential="):]
			if j := strings.IndexAny(scope, ", "); j >= 0 {
				scope = scope[:j]
			}
		}
	} else if req.URL != nil {
		scope = req.URL.Query().Get("X-Amz-Credential")
	}
	// AKID/date/region/service/aws4_request
	service := ""
	for i := 0; i < 3; i++ {
		j := strings.IndexByte(scope, '/')
		if j < 0 {
			return Other
		}
		scope = scope[j+1:]
	}
	if j := strings.IndexByte(scope, '/'); j >= 0 && scope[j+1:] == "aws4_request" {
		service = scope[:j]
	}
	switch service {
	case "dynamodb":
		return DependencyDynamoDB
	case "ses", "email":
		return DependencySES
	case "sns":
		return DependencySNS
	case "cognito-idp":
		return DependencyCognito
	case "secretsmanager":
		return DependencySecretsManager
	case "events":
		return DependencyEvents
	}
	return Other
}

// classify returns the DependencyErrors reason of a call's outcome, or "" for a call that did not
// fail in a way counted as a dependency error.
func classify(resp *http.Response, err error) string {
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return ReasonTimeout
		}
		return ReasonFault
	}
	if resp == nil {
		return ReasonFault
	}
	switch {
	case resp.StatusCode >= 500:
		return ReasonFault
	case resp.StatusCode == http.StatusTooManyRequests:
		return ReasonThrottle
	case resp.StatusCode == http.StatusBadRequest:
		if throttling(errorCode(resp)) {
			return ReasonThrottle
		}
	}
	return ""
}

// peekLimit bounds what is read of a 400 body that has no error-type header.
const peekLimit = 1024

// errorCode returns the error code of an error response: the X-Amzn-ErrorType header, else the
// code of x-amzn-query-error ("Code;Sender"), else the "__type" or "code" member at the start of
// the body (which is then put back in place).
func errorCode(resp *http.Response) string {
	if c := resp.Header.Get("X-Amzn-Errortype"); c != "" {
		return c
	}
	if c := resp.Header.Get("X-Amzn-Query-Error"); c != "" {
		if i := strings.IndexByte(c, ';'); i >= 0 {
			c = c[:i]
		}
		return c
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		return ""
	}
	head := make([]byte, peekLimit)
	n, err := io.ReadFull(resp.Body, head)
	head = head[:n]
	var rest io.Reader = resp.Body
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		rest = errReader{err}
	}
	resp.Body = &replayBody{Reader: io.MultiReader(bytes.NewReader(head), rest), closer: resp.Body}
	for _, name := range []string{`"__type"`, `"code"`, `"Code"`} {
		if v := jsonMember(head, name); v != "" {
			return v
		}
	}
	return ""
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// replayBody serves the peeked bytes and then the rest of the original body; Close closes the
// original.
type replayBody struct {
	io.Reader
	closer io.Closer
}

func (b *replayBody) Close() error { return b.closer.Close() }

// jsonMember returns the string value following the member name in b ("" if none): a shallow
// scan, enough for the flat error objects of the AWS JSON protocols.
func jsonMember(b []byte, name string) string {
	i := bytes.Index(b, []byte(name))
	if i < 0 {
		return ""
	}
	b = bytes.TrimLeft(b[i+len(name):], " \t\r\n")
	if len(b) == 0 || b[0] != ':' {
		return ""
	}
	b = bytes.TrimLeft(b[1:], " \t\r\n")
	if len(b) == 0 || b[0] != '"' {
		return ""
	}
	b = b[1:]
	j := bytes.IndexByte(b, '"')
	if j < 0 {
		return ""
	}
	return string(b[:j])
}

// throttling reports whether an AWS error code (possibly "ns#Code:uri") names throttling.
func throttling(code string) bool {
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	code = strings.TrimSpace(code)
	if strings.Contains(code, "Throttl") {
		return true
	}
	switch code {
	case "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
		"ThrottledException", "SlowDown", "PriorRequestNotComplete":
		return true
	}
	return false
}
