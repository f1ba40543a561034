package api

// Revoked access tokens. API Gateway's JWT authorizer checks a token's signature, issuer,
// audience and expiry only: a token revoked by GlobalSignOut, AdminUserGlobalSignOut or
// RevokeToken (or of a deleted or disabled user) still passes it until it expires, up to an hour
// later. Every route that changes something therefore asks Cognito first: GetUser with the
// caller's access token is refused for such tokens.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
)

// Error codes of the token check (see also api.go).
const (
	// CodeTokenRevoked (401): Cognito refused the access token (signed out, revoked, expired, or
	// its user is gone). Sign in again.
	CodeTokenRevoked = "token_revoked"
	// CodeUnavailable (503): the token could not be checked (Cognito failed or is not
	// configured). Nothing was changed; try again later.
	CodeUnavailable = "unavailable"
)

// ErrTokenRevoked is what a TokenChecker returns (wrapped or not) when Cognito refuses a token.
var ErrTokenRevoked = errors.New("api: access token refused by Cognito")

// TokenUser is what Cognito says about the holder of a valid access token.
type TokenUser struct {
	Username   string
	Attributes map[string]string
}

// TokenChecker asks the identity provider whether an access token is still good. Check returns
// an error wrapping ErrTokenRevoked when the provider refuses the token, and any other error when
// it could not answer (the request then fails closed with 503).
type TokenChecker interface {
	Check(ctx context.Context, accessToken string) (TokenUser, error)
}

// GetUserAPI is the Cognito operation CognitoTokens calls; *awsapi.Client implements it.
type GetUserAPI interface {
	GetUser(ctx context.Context, accessToken string) (*awsapi.GetUserOutput, error)
}

var _ GetUserAPI = (*awsapi.Client)(nil)

// CognitoTokens is the TokenChecker backed by Cognito's GetUser, which is authorized by the access
// token itself (it needs no IAM permission; the request is signed with the function's credentials
// all the same, which is harmless).
type CognitoTokens struct {
	Client GetUserAPI
}

var _ TokenChecker = CognitoTokens{}

// revokedCodes are the GetUser errors that mean the token will never be accepted again:
// NotAuthorizedException (revoked, signed out, expired, malformed, disabled user) and
// UserNotFoundException (the user was deleted). Retrying cannot help, so they are 401, not 503.
var revokedCodes = map[string]bool{"NotAuthorizedException": true, "UserNotFoundException": true}

// Check calls GetUser with accessToken.
func (c CognitoTokens) Check(ctx context.Context, accessToken string) (TokenUser, error) {
	if c.Client == nil {
		return TokenUser{}, errors.New("api: no Cognito client to check tokens with")
	}
	out, err := c.Client.GetUser(ctx, accessToken)
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && revokedCodes[ae.ErrorCode()] {
			return TokenUser{}, fmt.Errorf("%w (%s)", ErrTokenRevoked, ae.ErrorCode())
		}
		return TokenUser{}, fmt.Errorf("api: checking the access token: %w", err)
	}
	u := TokenUser{Username: out.Username, Attributes: make(map[string]string, len(out.UserAttributes))}
	for _, a := range out.UserAttributes {
		u.Attributes[a.Name] = a.Value
	}
	return u, nil
}

// WithTokenChecker sets the checker of mutating routes and returns h.
func (h *Handler) WithTokenChecker(tc TokenChecker) *Handler {
	h.Tokens = tc
	return h
}

// mutating reports whether a route key's method changes something: every method but GET.
func mutating(routeKey string) bool {
	method, _, _ := strings.Cut(routeKey, " ")
	return method != http.MethodGet
}

// bearerToken returns the access token of the request's Authorization header, with or without
// the "Bearer " prefix (API Gateway's JWT authorizer accepts both).
func bearerToken(headers map[string]string) string {
	v, ok := headers["authorization"] // API Gateway lower-cases header names in payload 2.0
	if !ok {
		for k, hv := range headers {
			if strings.EqualFold(k, "authorization") {
				v = hv
				break
			}
		}
	}
	v = strings.TrimSpace(v)
	if len(v) >= 6 && strings.EqualFold(v[:6], "bearer") && (len(v) == 6 || v[6] == ' ') {
		v = strings.TrimSpace(v[6:])
	}
	return v
}

// checkToken confirms c's access token with h.Tokens and fills in c.Attributes. The answer when
// it refuses: 401 unauthorized without a token or when Cognito's user is not the token's,
// 401 token_revoked when Cognito refuses the token, 503 unavailable when it could not answer.
func (h *Handler) checkToken(ctx context.Context, c *Caller, headers map[string]string) (Response, bool) {
	if h.Tokens == nil {
		h.logError(ctx, "api: no token checker configured: refusing a mutating route", nil)
		return Error(http.StatusServiceUnavailable, CodeUnavailable, "the request could not be completed, try again later"), false
	}
	token := bearerToken(headers)
	if token == "" {
		return Error(http.StatusUnauthorized, CodeUnauthorized, "a bearer access token is required"), false
	}
	u, err := h.Tokens.Check(ctx, token)
	switch {
	case errors.Is(err, ErrTokenRevoked):
		return Error(http.StatusUnauthorized, CodeTokenRevoked, "the access token is no longer valid (signed out or revoked): sign in again"), false
	case err != nil:
		h.logError(ctx, "api: token check failed", err)
		return Error(http.StatusServiceUnavailable, CodeUnavailable, "the request could not be completed, try again later"), false
	}
	if u.Username == "" || u.Username != c.Username || (u.Attributes["sub"] != "" && u.Attributes["sub"] != c.Sub) {
		h.logError(ctx, "api: Cognito's user for the access token differs from the token's claims", nil)
		return Error(http.StatusUnauthorized, CodeUnauthorized, "the access token does not match its user"), false
	}
	if u.Attributes == nil {
		u.Attributes = map[string]string{}
	}
	c.Attributes = u.Attributes
	return Response{}, true
}

func (h *Handler) logError(ctx context.Context, msg string, err error) {
	if h.Log == nil {
		return
	}
	if err != nil {
		h.Log.ErrorContext(ctx, msg, "err", err)
		return
	}
	h.Log.ErrorContext(ctx, msg)
}
