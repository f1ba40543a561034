// Package awsmock is one loopback HTTP server standing in for the AWS services the functions call,
// so that the functions' AWS_ENDPOINT_URL (lambdas/awsconfig.EnvEndpoint) can point at it:
//
//   - DynamoDB (awsJson1.0, X-Amz-Target DynamoDB_20120810.*) is reverse-proxied unchanged to
//     Options.DynamoDB (a dynalite from lambdas/dynalitetest).
//   - Cognito (X-Amz-Target AWSCognitoIdentityProviderService.*, and GET /{pool}/.well-known/...)
//     goes to Options.Cognito or the handler set with SetCognito (the infra/local/idp emulator).
//   - SES v2 SendEmail (restJson1, POST /v2/email/outbound-emails) is answered here and the
//     message captured.
//   - SNS Publish is answered here and the message captured. The SNS SDK (v1.47.9) speaks the
//     awsQuery protocol: POST / with an application/x-www-form-urlencoded body holding
//     Action=Publish&Version=2010-03-31, message attributes as
//     MessageAttributes.entry.N.{Name,Value.DataType,Value.StringValue,Value.BinaryValue}, and it
//     expects an XML <PublishResponse> or <ErrorResponse> back.
//   - Secrets Manager GetSecretValue (awsJson1.1, X-Amz-Target secretsmanager.GetSecretValue) is
//     answered for the secrets registered with PutSecret (see secrets.go).
//   - EventBridge PutEvents (awsJson1.1, X-Amz-Target AWSEvents.PutEvents) is checked as
//     EventBridge checks it and the events it takes are captured (see events.go).
//   - The read calls of an account check (infra/preflight) are answered from a switchable
//     Account (see account.go): STS GetCallerIdentity, SSM GetParameter, SES v2 GetAccount and
//     GetEmailIdentity, SNS GetSMSSandboxAccountStatus, GetSMSAttributes and
//     ListOriginationNumbers, CloudFormation DescribeStacks and ListStackResources.
//
// Captured messages are read with Messages, MessagesTo and WaitMessage, or pushed to OnMessage
// callbacks; captured events likewise with Events, WaitEvent and OnEvent. Faults (throttling,
// server errors, hangs, latency, failed event entries) are injected per service and operation
// with Inject; every call is counted, faulted or not (Calls).
//
// Anything else is answered 400 with an error naming the request, and logged (method, path,
// target and content type only). The server never logs request or message bodies. It checks no
// SigV4 signature.
package awsmock

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/passwordless-go/cognito/infra/local/callcount"
)

// Service names, as used in Fault.Service and the keys of Calls.
const (
	ServiceDynamoDB = "dynamodb"
	ServiceSES      = "ses"
	ServiceSNS      = "sns"
	ServiceCognito  = "cognito"
	// ServiceSecretsManager is declared in secrets.go.
)

// Limits.
const (
	// MaxRequestBytes is the largest request body accepted (larger: 413).
	MaxRequestBytes = 16 << 20
	// MaxHang bounds how long a Hang fault holds a request whose client never gives up; the
	// connection is then dropped without an answer.
	MaxHang = 30 * time.Second
)

// Options configure a Server.
type Options struct {
	// DynamoDB is the base URL DynamoDB calls are forwarded to (dynalitetest.Server.Endpoint).
	// Required unless NoDynamoDB.
	DynamoDB string
	// NoDynamoDB runs the server without a DynamoDB backend (for tests that need no table, such
	// as an account check): DynamoDB calls are then answered 500 InternalServerError and logged.
	NoDynamoDB bool
	// Cognito receives AWSCognitoIdentityProviderService.* calls and GET /{pool}/.well-known/...
	// May be nil (such calls are then refused with 400) and set later with SetCognito.
	Cognito http.Handler
	// Clock stamps captured messages (Message.At). Default time.Now.
	Clock func() time.Time
	// Log receives one line per unknown request and per failure to reach DynamoDB, never a body.
	// Default slog.Default().
	Log *slog.Logger
}

// Server is the mock. Create it with Start; it is safe for concurrent use.
type Server struct {
	clock    func() time.Time
	log      *slog.Logger
	url      string
	httpSrv  *http.Server
	proxy    *httputil.ReverseProxy
	tr       *http.Transport
	closing  chan struct{}
	noDynamo bool

	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex
	cognito http.Handler
	calls   callcount.Counter
	faults  []*Fault
	msgs    []Message
	msgSig  chan struct{} // closed and replaced when a message is captured
	onMsg   []func(Message)
	secrets map[string]*secret // by full ARN
	events  []Event            // taken by PutEvents (events.go)
	evSig   chan struct{}      // closed and replaced when an event is taken
	onEvent []func(Event)
	account Account // answers the read calls (account.go)
}

// Start listens on 127.0.0.1 on a free port and serves until Close.
func Start(opts Options) (*Server, error) {
	var target *url.URL
	switch {
	case opts.NoDynamoDB && opts.DynamoDB != "":
		return nil, errors.New("awsmock: Options.DynamoDB and Options.NoDynamoDB are both set")
	case opts.NoDynamoDB:
	case opts.DynamoDB == "":
		return nil, errors.New("awsmock: Options.DynamoDB (the DynamoDB endpoint to forward to) is required")
	default:
		var err error
		target, err = url.Parse(opts.DynamoDB)
		if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
			return nil, fmt.Errorf("awsmock: Options.DynamoDB %q is not an http(s) base URL", opts.DynamoDB)
		}
	}
	s := &Server{
		noDynamo: opts.NoDynamoDB,
		account:  NewAccount(),
		clock:    opts.Clock,
		log:      opts.Log,
		cognito:  opts.Cognito,
		msgSig:   make(chan struct{}),
		closing:  make(chan struct{}),
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.tr = &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		DisableCompression:  true,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	s.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			if target != nil {
				pr.SetURL(target)
			}
		},
		Transport: s.tr,
		ErrorLog:  nil,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return // the client gave up; nobody reads an answer
			}
			s.log.Warn("awsmock: forwarding to DynamoDB failed", "target", r.Header.Get("X-Amz-Target"), "err", err)
			writeDynamoError(w, http.StatusInternalServerError, "InternalServerError", "awsmock: DynamoDB backend unreachable: "+err.Error())
		},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("awsmock: listen: %w", err)
	}
	s.url = "http://" + ln.Addr().String()
	s.httpSrv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
	}
	go func() { _ = s.httpSrv.Serve(ln) }()
	return s, nil
}

// URL is the server's base URL, http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.url }

// Close stops the server: it closes the listener and every connection, releases requests held
// by Hang or Latency faults and makes pending WaitMessage calls return. It is safe to call more
// than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.closeErr = s.httpSrv.Close()
		s.tr.CloseIdleConnections()
	})
	return s.closeErr
}

// SetCognito sets (or replaces) the handler of Cognito calls.
func (s *Server) SetCognito(h http.Handler) {
	s.mu.Lock()
	s.cognito = h
	s.mu.Unlock()
}

// Calls returns how many requests each operation received, faulted ones included, keyed
// "<service>.<Operation>" ("dynamodb.GetItem", "ses.SendEmail", "sns.Publish",
// "cognito.InitiateAuth", "cognito.JWKS" for GET .../jwks.json, "cognito.WellKnown" for other
// .well-known documents, "secretsmanager.GetSecretValue", "events.PutEvents", and the read calls
// of account.go such as "sts.GetCallerIdentity", "ssm.GetParameter", "ses.GetAccount"). Requests
// no service claims are counted under "unknown".
func (s *Server) Calls() map[string]int { return s.calls.Counts() }

// ResetCalls sets every count back to zero.
func (s *Server) ResetCalls() { s.calls.Reset() }

// ServeHTTP dispatches one request. It is exported so that the Server can also be mounted in
// another mux; Start already serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Read the whole body first: the service is told from it for SNS, and only a fully read
	// body lets net/http notice that a held (Hang) client went away.
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBytes+1))
	if err != nil {
		http.Error(w, "awsmock: reading the request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > MaxRequestBytes {
		http.Error(w, "awsmock: request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	svc, op, form := classify(r, body)
	if svc == "" {
		s.count("unknown")
		s.unknown(w, r, "no emulated service handles this request")
		return
	}
	s.count(svc + "." + op)
	failEntries := false
	if f, ok := s.takeFault(svc, op); ok {
		if f.Kind == FailEntries && svc == ServiceEvents {
			failEntries = true
		} else if !s.applyFault(w, r, f, svc, op) {
			return
		}
	}
	switch svc {
	case ServiceDynamoDB:
		if s.noDynamo {
			s.log.Warn("awsmock: DynamoDB call but the server runs without DynamoDB", "operation", op)
			writeDynamoError(w, http.StatusInternalServerError, "InternalServerError", "awsmock: this server runs without DynamoDB (Options.NoDynamoDB)")
			return
		}
		s.proxy.ServeHTTP(w, r)
	case ServiceCognito:
		s.mu.Lock()
		h := s.cognito
		s.mu.Unlock()
		if h == nil {
			s.log.Warn("awsmock: Cognito call but no Cognito handler is set", "operation", op)
			writeJSONError(w, "application/x-amz-json-1.1", http.StatusBadRequest, "UnknownOperationException",
				"awsmock: no Cognito handler is set (Options.Cognito / SetCognito)")
			return
		}
		h.ServeHTTP(w, r)
	case ServiceSES:
		switch op {
		case opSendEmail:
			s.sendEmail(w, body)
		case opGetAccount:
			s.sesGetAccount(w)
		case opGetEmailIdentity:
			s.sesGetEmailIdentity(w, sesIdentityName(r))
		default:
			s.unknown(w, r, "SES v2 operation not emulated (only SendEmail, GetAccount, GetEmailIdentity)")
		}
	case ServiceSNS:
		switch op {
		case opPublish:
			s.publish(w, form)
		case opGetSMSSandboxAccountStatus, opGetSMSAttributes, opListOriginationNumbers:
			s.snsRead(w, op, form)
		default:
			s.log.Warn("awsmock: SNS action not emulated", "action", op)
			writeSNSError(w, http.StatusBadRequest, "Sender", "InvalidAction",
				"awsmock: SNS action "+op+" is not emulated (only Publish, GetSMSSandboxAccountStatus, GetSMSAttributes, ListOriginationNumbers)")
		}
	case ServiceSTS:
		if op != opGetCallerIdentity {
			s.log.Warn("awsmock: STS action not emulated", "action", op)
			writeQueryError(w, nsSTS, http.StatusBadRequest, "Sender", "InvalidAction",
				"awsmock: STS action "+op+" is not emulated (only GetCallerIdentity)")
			return
		}
		s.getCallerIdentity(w)
	case ServiceCloudFormation:
		switch op {
		case opListStackResources:
			s.listStackResources(w, form)
		case opDescribeStacks:
			s.describeStacks(w, form)
		default:
			s.log.Warn("awsmock: CloudFormation action not emulated", "action", op)
			writeQueryError(w, nsCFN, http.StatusBadRequest, "Sender", "InvalidAction",
				"awsmock: CloudFormation action "+op+" is not emulated (only DescribeStacks, ListStackResources)")
		}
	case ServiceSSM:
		if op != opGetParameter {
			s.unknown(w, r, "SSM operation not emulated (only GetParameter)")
			return
		}
		s.getParameter(w, body)
	case ServiceSecretsManager:
		if op != opGetSecretValue {
			s.unknown(w, r, "Secrets Manager operation not emulated (only GetSecretValue)")
			return
		}
		s.getSecretValue(w, body)
	case ServiceEvents:
		if op != opPutEvents {
			s.unknown(w, r, "EventBridge operation not emulated (only PutEvents)")
			return
		}
		s.putEvents(w, body, failEntries)
	}
}

func (s *Server) count(key string) { s.calls.Add(key) }

// unknown answers a request nothing emulates with 400 and logs it (never its body).
func (s *Server) unknown(w http.ResponseWriter, r *http.Request, why string) {
	target := r.Header.Get("X-Amz-Target")
	s.log.Warn("awsmock: unknown request", "why", why, "method", r.Method, "path", r.URL.Path,
		"target", target, "contentType", r.Header.Get("Content-Type"), "service", scopeService(r))
	desc := r.Method + " " + r.URL.Path
	if target != "" {
		desc += " (X-Amz-Target " + target + ")"
	}
	writeJSONError(w, "application/json", http.StatusBadRequest, "UnknownOperationException",
		"awsmock: "+why+": "+desc)
}

const (
	opSendEmail = "SendEmail"
	opPublish   = "Publish"
)

// classify tells which service and operation a request is for; svc is "" when none. For SNS it
// also returns the parsed form.
func classify(r *http.Request, body []byte) (svc, op string, form url.Values) {
	target := r.Header.Get("X-Amz-Target")
	switch {
	case strings.HasPrefix(target, "DynamoDB_20120810."):
		return ServiceDynamoDB, strings.TrimPrefix(target, "DynamoDB_20120810."), nil
	case strings.HasPrefix(target, "AWSCognitoIdentityProviderService."):
		return ServiceCognito, strings.TrimPrefix(target, "AWSCognitoIdentityProviderService."), nil
	case strings.HasPrefix(target, "secretsmanager."):
		return ServiceSecretsManager, strings.TrimPrefix(target, "secretsmanager."), nil
	case strings.HasPrefix(target, "AmazonSSM."):
		return ServiceSSM, strings.TrimPrefix(target, "AmazonSSM."), nil
	case strings.HasPrefix(target, "AWSEvents."):
		return ServiceEvents, strings.TrimPrefix(target, "AWSEvents."), nil
	case target != "":
		return "", "", nil
	}
	p := r.URL.Path
	if strings.HasPrefix(p, "/v2/email/") {
		switch {
		case r.Method == http.MethodPost && strings.TrimSuffix(p, "/") == "/v2/email/outbound-emails":
			return ServiceSES, opSendEmail, nil
		case r.Method == http.MethodGet && strings.TrimSuffix(p, "/") == "/v2/email/account":
			return ServiceSES, opGetAccount, nil
		case r.Method == http.MethodGet && sesIdentityName(r) != "":
			return ServiceSES, opGetEmailIdentity, nil
		}
		return ServiceSES, "Unsupported", nil
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.Contains(p, "/.well-known/") {
		if strings.HasSuffix(p, "/jwks.json") {
			return ServiceCognito, "JWKS", nil
		}
		return ServiceCognito, "WellKnown", nil
	}
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	if r.Method == http.MethodPost && strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		form, err := url.ParseQuery(string(body))
		if err != nil || form.Get("Action") == "" {
			return "", "", nil
		}
		sc, v := scopeService(r), form.Get("Version")
		switch {
		case (sc == "" || sc == "sns") && (v == "" || v == "2010-03-31"):
			return ServiceSNS, form.Get("Action"), form
		case (sc == "" || sc == "sts") && v == "2011-06-15":
			return ServiceSTS, form.Get("Action"), form
		case (sc == "" || sc == "cloudformation") && v == "2010-05-15":
			return ServiceCloudFormation, form.Get("Action"), form
		}
	}
	return "", "", nil
}

// sesIdentityName is the {EmailIdentity} of GET /v2/email/identities/{EmailIdentity}, or "".
func sesIdentityName(r *http.Request) string {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2/email/identities/")
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return ""
	}
	return rest
}

// scopeService is the service named in the SigV4 credential scope of the Authorization header
// (AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sns/aws4_request, ...), or "".
func scopeService(r *http.Request) string {
	a := r.Header.Get("Authorization")
	_, cred, ok := strings.Cut(a, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[len(parts)-2]
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// wait sleeps for d, or until the client gives up or the server closes; it reports whether the
// whole delay passed.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}
