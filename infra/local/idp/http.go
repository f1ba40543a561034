package idp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// TargetPrefix is the X-Amz-Target prefix of the Cognito Identity Provider API.
const TargetPrefix = "AWSCognitoIdentityProviderService."

const maxBody = 1 << 20

// APIError is an error the API returns: Cognito's exception name and message. The HTTP status is
// 400 for every client error, as Cognito sends it.
type APIError struct {
	Type    string // e.g. "NotAuthorizedException"
	Message string
	Status  int // 0 means 400
}

func (e *APIError) Error() string { return e.Type + ": " + e.Message }

func apiErr(typ, format string, args ...any) *APIError {
	return &APIError{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// Cognito's exception names used here.
const (
	errNotAuthorized           = "NotAuthorizedException"
	errInvalidParameter        = "InvalidParameterException"
	errResourceNotFound        = "ResourceNotFoundException"
	errUserNotFound            = "UserNotFoundException"
	errUserNotConfirmed        = "UserNotConfirmedException"
	errUsernameExists          = "UsernameExistsException"
	errAliasExists             = "AliasExistsException"
	errInvalidPassword         = "InvalidPasswordException"
	errUserLambdaValidation    = "UserLambdaValidationException"
	errUnexpectedLambda        = "UnexpectedLambdaException"
	errInvalidLambdaResponse   = "InvalidLambdaResponseException"
	errUnsupportedUserState    = "UnsupportedUserStateException"
	errUnsupportedTokenType    = "UnsupportedTokenTypeException"
	errUnknownOperation        = "UnknownOperationException"
	errSerialization           = "SerializationException"
	errInternal                = "InternalErrorException"
	errIncorrectCredentials    = "Incorrect username or password."
	errInvalidSession          = "Invalid session for the user."
	errExpiredSession          = "Invalid session for the user, session is expired."
	errUserDoesNotExist        = "User does not exist."
	errUserDisabled            = "User is disabled."
	errInvalidAccessToken      = "Invalid Access Token"
	errAccessTokenExpired      = "Access Token has expired"
	errAccessTokenRevoked      = "Access Token has been revoked"
	errInvalidRefreshToken     = "Invalid Refresh Token"
	errRefreshTokenExpired     = "Refresh Token has expired"
	errRefreshTokenRevoked     = "Refresh Token has been revoked"
	errCustomAuthNotConfigured = "Custom auth lambda trigger is not configured for the user pool."
)

// call carries what an operation needs to know about the request.
type call struct {
	ctx        context.Context
	sdkVersion string // callerContext.awsSdkVersion
}

type operation func(p *Pool, c call, body []byte) (any, error)

var operations = map[string]operation{
	"SignUp":                    op((*Pool).signUp),
	"InitiateAuth":              op((*Pool).initiateAuth),
	"GetTokensFromRefreshToken": op((*Pool).getTokensFromRefreshToken),
	"RespondToAuthChallenge":    op((*Pool).respondToAuthChallenge),
	"GetUser":                   op((*Pool).getUser),
	"UpdateUserAttributes":      op((*Pool).updateUserAttributes),
	"RevokeToken":               op((*Pool).revokeToken),
	"GlobalSignOut":             op((*Pool).globalSignOut),
	"AdminGetUser":              op((*Pool).adminGetUser),
	"AdminCreateUser":           op((*Pool).adminCreateUser),
	"AdminDeleteUser":           op((*Pool).adminDeleteUser),
	"AdminUpdateUserAttributes": op((*Pool).adminUpdateUserAttributes),
	"AdminSetUserPassword":      op((*Pool).adminSetUserPassword),
	"AdminConfirmSignUp":        op((*Pool).adminConfirmSignUp),
	"AdminDisableUser":          op((*Pool).adminDisableUser),
	"AdminEnableUser":           op((*Pool).adminEnableUser),
	"AdminUserGlobalSignOut":    op((*Pool).adminUserGlobalSignOut),
	"ListUsers":                 op((*Pool).listUsers),
}

// op adapts a typed operation: it decodes the request JSON into In.
func op[In any](f func(p *Pool, c call, in *In) (any, error)) operation {
	return func(p *Pool, c call, body []byte) (any, error) {
		in := new(In)
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, in); err != nil {
				return nil, apiErr(errSerialization, "Unable to parse the request: %v", err)
			}
		}
		return f(p, c, in)
	}
}

// ServeHTTP serves the Cognito Identity Provider JSON API (POST with X-Amz-Target, and the CORS
// preflight OPTIONS browsers send before it), the JWKS at GET /{PoolID}/.well-known/jwks.json
// and the OpenID configuration at GET /{PoolID}/.well-known/openid-configuration.
func (p *Pool) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		p.serveWellKnown(w, r)
		return
	case http.MethodOptions:
		servePreflight(w, r)
		return
	}
	w.Header().Set("x-amzn-RequestId", newUUID())
	allowCORS(w)
	if r.Method != http.MethodPost {
		writeError(w, &APIError{Type: errUnknownOperation, Message: "Only POST is supported", Status: http.StatusMethodNotAllowed})
		return
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, TargetPrefix)
	f := operations[name]
	if !ok || f == nil {
		writeError(w, apiErr(errUnknownOperation, "Unknown operation %q", target))
		return
	}
	p.count(func(s *Stats) map[string]int { return s.Calls }, name)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeError(w, apiErr(errSerialization, "Unable to read the request"))
		return
	}
	if len(body) > maxBody {
		writeError(w, &APIError{Type: errSerialization, Message: "Request too large", Status: http.StatusRequestEntityTooLarge})
		return
	}
	// Cognito finishes what it started even if the caller goes away.
	c := call{ctx: context.WithoutCancel(r.Context()), sdkVersion: sdkVersion(r.Header.Get("User-Agent"))}
	out, err := f(p, c, body)
	if err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			p.cfg.Log.Error("idp: internal error", "op", name, "err", err)
			ae = &APIError{Type: errInternal, Message: "Internal error", Status: http.StatusInternalServerError}
		}
		writeError(w, ae)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeError(w, &APIError{Type: errInternal, Message: "Internal error", Status: http.StatusInternalServerError})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

func writeError(w http.ResponseWriter, e *APIError) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	b, _ := json.Marshal(map[string]string{"__type": e.Type, "message": e.Message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-ErrorType", e.Type)
	w.Header().Set("x-amzn-ErrorMessage", e.Message)
	w.WriteHeader(status)
	w.Write(b)
}

func (p *Pool) serveWellKnown(w http.ResponseWriter, r *http.Request) {
	base := "/" + p.cfg.PoolID + "/.well-known/"
	var body []byte
	switch r.URL.Path {
	case base + "jwks.json":
		body = p.jwks
	case base + "openid-configuration":
		body, _ = json.Marshal(map[string]any{
			"issuer":                                p.Issuer(),
			"jwks_uri":                              p.Issuer() + "/.well-known/jwks.json",
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"subject_types_supported":               []string{"public"},
			"response_types_supported":              []string{"code", "token"},
		})
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(body)
}

// sdkVersion turns a User-Agent such as "aws-sdk-go-v2/1.47.7 os/linux ..." into Cognito's
// callerContext.awsSdkVersion form, "aws-sdk-go-v2-1.47.7".
func sdkVersion(ua string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(ua), " ")
	if !strings.HasPrefix(first, "aws-sdk-") || len(first) > 64 {
		return "aws-sdk-unknown-unknown"
	}
	return strings.ReplaceAll(first, "/", "-")
}
