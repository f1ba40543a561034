// Package apigw is a local stand-in for an API Gateway HTTP API (payload format 2.0) whose routes
// all use a JWT authorizer, in front of one function.
//
// The authorizer follows API Gateway's documented JWT validation: the token is the Authorization
// header (a "Bearer " prefix is stripped); its header must say alg RS256 and name a kid present in
// the JWKS; the RS256 signature must verify with that key; exp must be after the clock, nbf (if
// present) and iat (if present) not after it; iss must equal Config.Issuer exactly; and if the
// token has aud, one of its values must be in Config.Audience, else its client_id must be. Any
// failure answers 401 {"message":"Unauthorized"} without invoking the function. Tokens are parsed
// and verified with github.com/golang-jwt/jwt/v5 (RS256 only, strict unpadded base64url, no
// leeway; exp, nbf and iat are compared at whole-second precision); the JWKS is read by this
// package (RSA keys of at least 2048 bits).
//
// Requests are matched to routes the way HTTP APIs do (most specific route wins: literal segments
// over {param} over {greedy+}; an exact method over ANY; "$default" last); an unmatched request
// answers 404 {"message":"Not Found"} before any authorization, as API Gateway does. The event is
// an events.APIGatewayV2HTTPRequest filled as API Gateway fills it, and the function's answer is
// read as payload format 2.0 (a JSON object with statusCode, or any other JSON value, which is
// sent as a 200 application/json body). A function error answers 500
// {"message":"Internal Server Error"}; an integration that takes longer than Config.Timeout
// answers 503 {"message":"Service Unavailable"}.
//
// With a CORS configuration (Config.CORS: the template's CorsConfiguration, ParseCORS), the
// gateway does what the HTTP API documentation says [cors]: it "automatically sends a response to
// preflight OPTIONS requests, even if there isn't an OPTIONS route configured" (a preflight is
// OPTIONS with an Origin and an Access-Control-Request-Method header; it is answered for any
// path, before routing and authorization, and counted in Calls under "preflight"), it adds the
// configured CORS headers to the answers of requests with an allowed Origin, and it "ignores CORS
// headers returned from your backend integration". Where the documentation is silent the emulator
// chooses: a preflight is answered 204 with no body (as other emulators of HTTP APIs answer),
// with Access-Control-Allow-Origin (the request's origin, or "*" when "*" is configured),
// -Allow-Methods, -Allow-Headers (the configured lists, comma-separated, whatever the request
// asked: the browser checks), -Allow-Credentials and -Max-Age, and with no CORS header at all for
// an origin not allowed; the gateway's own answers (401, 404, 413, 500, 503) carry the CORS
// headers too, like the integration's. Without a configuration nothing changes: an OPTIONS
// request is routed like any other and the integration's headers pass through.
//
// Tokens and bodies are never logged.
//
//   - [cors] "Configure CORS for HTTP APIs in API Gateway",
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html: "If you
//     configure CORS for an API, API Gateway automatically sends a response to preflight OPTIONS
//     requests, even if there isn't an OPTIONS route configured for your API. For a CORS request,
//     API Gateway adds the configured CORS headers to the response from an integration." "If you
//     configure CORS for an API, API Gateway ignores CORS headers returned from your backend
//     integration." "To return CORS headers, your request must contain an origin header. For the
//     OPTIONS method, your request must contain an origin header and an
//     Access-Control-Request-Method header." The allowOrigins forms "*", "https://*" and
//     "http://*" are that page's examples; "allow-credentials is not supported if 'allow-origin'
//     is *" is API Gateway's BadRequestException quoted in aws/aws-cdk issue 9076.
package apigw

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/passwordless-go/cognito/infra/local/callcount"
)

// Limits, as API Gateway applies them.
const (
	// DefaultTimeout is the HTTP API integration timeout (30 s).
	DefaultTimeout = 30 * time.Second
	// MaxBodyBytes is the HTTP API payload limit (10 MB).
	MaxBodyBytes = 10 << 20
	// DefaultAPIID is Config.APIID when empty.
	DefaultAPIID = "localapi"
	// AccountID is requestContext.accountId.
	AccountID = "123456789012"
)

// CallsUnauthorized is the key of Router.Calls counting requests refused by the authorizer.
const CallsUnauthorized = "unauthorized"

// Invoker runs the function with a JSON event and returns its JSON response. *lambdarun.Host
// satisfies it.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Config configures a Router.
type Config struct {
	Routes   []string         // route keys as in the template: "GET /me", "POST /device-keys", "DELETE /device-keys/{id}"
	Issuer   string           // exact iss
	Audience []string         // the app client ID(s)
	JWKS     func() []byte    // the IdP's JWKS document, read on each request (parsed again when it changes)
	Clock    func() time.Time // for exp/nbf/iat and requestContext.time (default time.Now)
	APIID    string           // default "localapi"
	// Timeout is the integration timeout (default DefaultTimeout, 30 s).
	Timeout time.Duration
	// Public lists route keys (a subset of Routes) without an authorizer (AuthorizationType
	// NONE): no token is checked and the event carries no authorizer context.
	Public []string
	// CORS is the API's CORS configuration (the template's CorsConfiguration; ParseCORS reads
	// it). Default nil: no CORS, as an HTTP API without one (Router.SetCORS may set it later).
	CORS *CORS
}

// Router is the HTTP API, an http.Handler. Create it with New; it is safe for concurrent use.
type Router struct {
	cfg    Config
	fn     Invoker
	routes []route
	aud    map[string]bool
	keys   keySet

	cors atomic.Pointer[CORS]

	calls callcount.Counter
}

// New checks cfg and returns a Router invoking fn.
func New(cfg Config, fn Invoker) (*Router, error) {
	if fn == nil {
		return nil, errors.New("apigw: no function (Invoker)")
	}
	if cfg.Issuer == "" {
		return nil, errors.New("apigw: Config.Issuer is required")
	}
	if cfg.JWKS == nil {
		return nil, errors.New("apigw: Config.JWKS is required")
	}
	r := &Router{cfg: cfg, fn: fn, aud: map[string]bool{}}
	for _, a := range cfg.Audience {
		if a != "" {
			r.aud[a] = true
		}
	}
	if len(r.aud) == 0 {
		return nil, errors.New("apigw: Config.Audience is empty")
	}
	if len(cfg.Routes) == 0 {
		return nil, errors.New("apigw: Config.Routes is empty")
	}
	seen := map[string]bool{}
	for _, k := range cfg.Routes {
		rt, err := parseRoute(k)
		if err != nil {
			return nil, err
		}
		if seen[rt.key] {
			return nil, fmt.Errorf("apigw: route %q listed twice", k)
		}
		seen[rt.key] = true
		r.routes = append(r.routes, rt)
	}
	if r.cfg.Clock == nil {
		r.cfg.Clock = time.Now
	}
	if r.cfg.APIID == "" {
		r.cfg.APIID = DefaultAPIID
	}
	if r.cfg.Timeout <= 0 {
		r.cfg.Timeout = DefaultTimeout
	}
	if err := r.SetCORS(cfg.CORS); err != nil {
		return nil, err
	}
	return r, nil
}

// Calls returns, per route key, how many requests passed the authorizer and reached the function,
// and under "unauthorized" how many the authorizer refused.
func (r *Router) Calls() map[string]int { return r.calls.Counts() }

// ResetCalls sets every count back to zero.
func (r *Router) ResetCalls() { r.calls.Reset() }

func (r *Router) count(key string) { r.calls.Add(key) }

// ServeHTTP answers one request.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := r.cfg.Clock()
	reqID := requestID()
	w.Header().Set("Apigw-Requestid", reqID)

	cors := r.cors.Load()
	if cors != nil {
		if isPreflight(req) {
			r.count(CallsPreflight)
			cors.preflight(w, req.Header.Get("Origin"))
			return
		}
		cors.allow(w.Header(), req.Header.Get("Origin"))
	}

	rt, params, ok := r.match(req.Method, req.URL.EscapedPath())
	if !ok {
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxBodyBytes+1))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > MaxBodyBytes {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}

	var claims map[string]string
	if !slices.Contains(r.cfg.Public, rt.key) {
		claims, err = r.verify(bearer(req.Header.Get("Authorization")), now)
	}
	if err != nil {
		r.count(CallsUnauthorized)
		w.Header().Set("Www-Authenticate", `Bearer scope="" error="invalid_token" error_description="the token is not valid"`)
		writeMessage(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	r.count(rt.key)

	ev := r.event(req, rt, params, body, claims, reqID, now)
	payload, err := encodeEvent(ev)
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), r.cfg.Timeout)
	defer cancel()
	out, err := r.fn.Invoke(ctx, payload)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && req.Context().Err() == nil {
			writeMessage(w, http.StatusServiceUnavailable, "Service Unavailable")
			return
		}
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	writeFunctionResponse(w, out, cors != nil)
}

// bearer returns the token of an Authorization header, without a "Bearer " prefix.
func bearer(h string) string {
	h = strings.TrimSpace(h)
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return h
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// hopByHop headers a function may not set.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Transfer-Encoding": true,
	"Upgrade": true, "Te": true, "Trailer": true, "Content-Length": true,
}

// writeFunctionResponse maps a payload 2.0 response to HTTP. With a CORS configuration
// (ownCORS) the function's own Access-Control-* headers are dropped, as API Gateway ignores them.
func writeFunctionResponse(w http.ResponseWriter, out []byte, ownCORS bool) {
	if !json.Valid(out) {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(out, &probe); err != nil || probe["statusCode"] == nil {
		// Not the structured format: API Gateway sends the whole answer as a JSON body.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
		return
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode < 100 || resp.StatusCode > 599 {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
		body = b
	}
	h := w.Header()
	skip := func(ck string) bool { return hopByHop[ck] || ownCORS && strings.HasPrefix(ck, "Access-Control-") }
	for k, vs := range resp.MultiValueHeaders {
		ck := http.CanonicalHeaderKey(k)
		if !skip(ck) && len(vs) > 0 {
			h.Set(ck, strings.Join(vs, ","))
		}
	}
	for k, v := range resp.Headers {
		ck := http.CanonicalHeaderKey(k)
		if !skip(ck) {
			h.Set(ck, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" {
		h["Content-Type"] = nil // no sniffing: API Gateway sends none either
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

func requestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return strings.TrimSuffix(base64.StdEncoding.EncodeToString(b[:]), "=")
}

// event builds the payload 2.0 event API Gateway sends.
func (r *Router) event(req *http.Request, rt route, params map[string]string, body []byte, claims map[string]string, reqID string, now time.Time) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	names := make([]string, 0, len(req.Header))
	for k := range req.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			continue
		}
		v := strings.Join(req.Header[k], ",")
		if old, ok := headers[lk]; ok {
			v = old + "," + v
		}
		headers[lk] = v
	}
	host := req.Host
	headers["host"] = host
	sourceIP, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		sourceIP = req.RemoteAddr
	}
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	proto, port := "http", "80"
	if req.TLS != nil {
		proto, port = "https", "443"
	}
	if _, p, err := net.SplitHostPort(host); err == nil {
		port = p
	}
	headers["x-forwarded-proto"] = proto
	headers["x-forwarded-port"] = port
	if len(body) > 0 || req.ContentLength > 0 {
		headers["content-length"] = strconv.Itoa(len(body))
	}
	if headers["x-amzn-trace-id"] == "" {
		headers["x-amzn-trace-id"] = traceID(now)
	}

	var cookies []string
	for _, c := range req.Header.Values("Cookie") {
		for _, part := range strings.Split(c, ";") {
			if part = strings.TrimSpace(part); part != "" {
				cookies = append(cookies, part)
			}
		}
	}

	var query map[string]string
	if q, err := url.ParseQuery(req.URL.RawQuery); err == nil && len(q) > 0 {
		query = make(map[string]string, len(q))
		for k, vs := range q {
			query[k] = strings.Join(vs, ",")
		}
	}

	domain := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		domain = h
	}
	prefix, _, _ := strings.Cut(domain, ".")

	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              rt.key,
		RawPath:               req.URL.EscapedPath(),
		RawQueryString:        req.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     rt.key,
			AccountID:    AccountID,
			Stage:        "$default",
			RequestID:    reqID,
			APIID:        r.cfg.APIID,
			DomainName:   domain,
			DomainPrefix: prefix,
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    req.Method,
				Path:      req.URL.EscapedPath(),
				Protocol:  req.Proto,
				SourceIP:  sourceIP,
				UserAgent: req.UserAgent(),
			},
		},
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	if len(body) > 0 {
		if isText(req.Header.Get("Content-Type")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// encodeEvent marshals ev without requestContext.authentication, which aws-lambda-go always
// writes (an empty clientCert) but API Gateway sends only with mutual TLS.
func encodeEvent(ev events.APIGatewayV2HTTPRequest) ([]byte, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, err
	}
	var rc map[string]json.RawMessage
	if err := json.Unmarshal(top["requestContext"], &rc); err != nil {
		return nil, err
	}
	delete(rc, "authentication")
	if top["requestContext"], err = json.Marshal(rc); err != nil {
		return nil, err
	}
	return json.Marshal(top)
}

// isText reports whether API Gateway passes a body of this content type as text.
func isText(ct string) bool {
	ct = strings.ToLower(strings.TrimSpace(ct))
	ct, _, _ = strings.Cut(ct, ";")
	ct = strings.TrimSpace(ct)
	switch {
	case ct == "":
		return false
	case strings.HasPrefix(ct, "text/"):
		return true
	case ct == "application/json", ct == "application/xml", ct == "application/javascript",
		ct == "application/x-www-form-urlencoded", ct == "application/graphql":
		return true
	case strings.HasSuffix(ct, "+json"), strings.HasSuffix(ct, "+xml"):
		return true
	}
	return false
}

func traceID(now time.Time) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%x", now.Unix(), b)
}
