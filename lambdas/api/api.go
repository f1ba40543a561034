// Package api is the HTTP API handler behind API Gateway's JWT authorizer. The authorizer checks
// the token's signature, issuer, expiry and audience; this package adds what the authorizer cannot:
// only access tokens of this app client are accepted (an ID token carries aud = the client ID and
// would pass the authorizer), routes read the caller only from the verified claims, and every
// route whose method is not GET first confirms the token with Cognito (GetUser, see TokenChecker),
// so a token revoked by a sign-out changes nothing even before it expires.
package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/keyed"
)

// Environment variables the construct sets on the API function.
const (
	EnvClientID = "APP_CLIENT_ID"
)

// Error codes returned in {"code": ..., "message": ...} bodies. They are stable: clients may branch
// on them.
const (
	CodeUnauthorized = "unauthorized"
	CodeForbidden    = "forbidden"
	CodeNotFound     = "not_found"
	CodeInternal     = "internal"
)

// Caller is the authenticated user of a request, read from verified JWT claims.
type Caller struct {
	Sub      string
	Username string
	AuthTime time.Time
	// UserPoolID is the pool that issued the token: the last path segment of its iss claim,
	// which the JWT authorizer checked ("" when the claim is not a Cognito issuer URL).
	UserPoolID string
	// Attributes are the user's attributes as Cognito's GetUser returned them for this request's
	// access token (e.g. "email", "email_verified", "phone_number"): set on every route whose
	// method is not GET, where the token is checked with Cognito; nil on GET routes.
	Attributes map[string]string
}

// Route handles one route for an authenticated caller.
type Route func(ctx context.Context, c Caller, req events.APIGatewayV2HTTPRequest) Response

// Response is a route's answer: a status and a JSON-encodable body.
type Response struct {
	Status int
	Body   any
}

// Error builds an error response with a stable code and a human message.
func Error(status int, code, message string) Response {
	return Response{Status: status, Body: map[string]string{"code": code, "message": message}}
}

// Handler routes API Gateway HTTP API (payload 2.0) requests.
type Handler struct {
	ClientID string           // the app client whose access tokens are accepted (required)
	Routes   map[string]Route // by route key, e.g. "GET /me"
	Log      *slog.Logger     // nil: no logging
	// Tokens checks the access token of every route whose method is not GET (see TokenChecker).
	// nil: such routes answer 503 unavailable, they never run unchecked.
	Tokens TokenChecker
	// Notifier is told about security events (see WithNotifier); nil: nobody is told.
	Notifier Notifier
	// NotifyKeys gives the deployment key the Notifier needs (see WithNotifier).
	NotifyKeys keyed.Source
	// UserPoolID names the pool in notifications and audit events; "" takes it from each
	// token's issuer.
	UserPoolID string
	// Metrics counts the routes' metrics (see WithMetrics); nil: none.
	Metrics Counter
	// Audit receives the routes' audit events (see WithAudit); nil: none.
	Audit Auditor
	// AuditKeys gives the deployment key of the audit events' user reference (see WithAudit).
	AuditKeys keyed.Source
}

// logger is h.Log, or a logger that discards everything.
func (h *Handler) logger() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.New(slog.DiscardHandler)
}

// New returns a Handler for clientID with the built-in routes.
func New(clientID string, log *slog.Logger) *Handler {
	h := &Handler{ClientID: clientID, Log: log, Routes: map[string]Route{}}
	h.Routes["GET /me"] = me
	return h
}

// Handle answers one request. It never panics on bad input and never answers 2xx to a caller whose
// token is not an access token of ClientID.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	log := h.logger()
	route, ok := h.Routes[req.RouteKey]
	if !ok {
		return respond(Error(http.StatusNotFound, CodeNotFound, "no such route")), nil
	}
	caller, resp, ok := h.authenticate(req)
	if ok && mutating(req.RouteKey) {
		// The authorizer lets revoked tokens through until they expire: ask Cognito.
		resp, ok = h.checkToken(ctx, &caller, req.Headers)
	}
	if !ok {
		log.InfoContext(ctx, "api: refused", "route", req.RouteKey, "status", resp.Status, "code", errorCode(resp))
		return respond(resp), nil
	}
	out := route(ctx, caller, req)
	log.InfoContext(ctx, "api", "route", req.RouteKey, "status", out.Status)
	return respond(out), nil
}

func (h *Handler) authenticate(req events.APIGatewayV2HTTPRequest) (Caller, Response, bool) {
	if req.RequestContext.Authorizer == nil || req.RequestContext.Authorizer.JWT == nil {
		return Caller{}, Error(http.StatusUnauthorized, CodeUnauthorized, "a bearer access token is required"), false
	}
	claims := req.RequestContext.Authorizer.JWT.Claims
	if claims["token_use"] != "access" {
		return Caller{}, Error(http.StatusUnauthorized, CodeUnauthorized, "an access token is required (ID tokens are not accepted)"), false
	}
	if h.ClientID == "" || claims["client_id"] != h.ClientID {
		return Caller{}, Error(http.StatusForbidden, CodeForbidden, "token was issued to another app client"), false
	}
	c := Caller{Sub: claims["sub"], Username: claims["username"], UserPoolID: poolFromIssuer(claims["iss"])}
	if c.Sub == "" {
		return Caller{}, Error(http.StatusUnauthorized, CodeUnauthorized, "token has no subject"), false
	}
	if at, err := strconv.ParseInt(claims["auth_time"], 10, 64); err == nil && at > 0 {
		c.AuthTime = time.Unix(at, 0).UTC()
	}
	return c, Response{}, true
}

func me(_ context.Context, c Caller, _ events.APIGatewayV2HTTPRequest) Response {
	body := map[string]any{"sub": c.Sub, "username": c.Username}
	if !c.AuthTime.IsZero() {
		body["authTime"] = c.AuthTime.Format(time.RFC3339)
	}
	return Response{Status: http.StatusOK, Body: body}
}

// errorCode is the stable code of an error response ("" for others).
func errorCode(r Response) string {
	if m, ok := r.Body.(map[string]string); ok {
		return m["code"]
	}
	return ""
}

func respond(r Response) events.APIGatewayV2HTTPResponse {
	headers := map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"}
	if r.Status == http.StatusNoContent || r.Body == nil {
		return events.APIGatewayV2HTTPResponse{StatusCode: r.Status, Headers: headers}
	}
	b, err := json.Marshal(r.Body)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"code": CodeInternal, "message": "response could not be encoded"})
		r.Status = http.StatusInternalServerError
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: r.Status, Headers: headers, Body: string(b)}
}
