package api

// Request handling shared by the device-key and passkey routes.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/passwordless-go/cognito/lambdas/strictjson"
)

// prepareRoutes gives h a route map if it has none and sets the defaults the device-key and
// passkey configurations share: a sign-in freshness of DefaultDeviceKeyMaxAuthAge, time.Now and
// crypto/rand.
func (h *Handler) prepareRoutes(maxAuthAge *time.Duration, now *func() time.Time, random *io.Reader) {
	if *maxAuthAge <= 0 {
		*maxAuthAge = DefaultDeviceKeyMaxAuthAge
	}
	if *now == nil {
		*now = time.Now
	}
	if *random == nil {
		*random = rand.Reader
	}
	if h.Routes == nil {
		h.Routes = map[string]Route{}
	}
}

// requestError is a client mistake with its HTTP status and stable code.
type requestError struct {
	status        int
	code, message string
}

func (e *requestError) Error() string { return e.code + ": " + e.message }

func (e *requestError) response() Response { return Error(e.status, e.code, e.message) }

func badRequest(code, format string, args ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// badBody is the answer to a body that is not the JSON the route wants; want describes it
// ("a JSON object {...}").
func badBody(want string, err error) *requestError {
	return badRequest(CodeBadJSON, "body must be %s: %v", want, err)
}

// readBody applies the size cap limit and undoes API Gateway's base64 encoding.
func readBody(body string, isBase64 bool, limit int) ([]byte, *requestError) {
	tooLarge := &requestError{status: http.StatusRequestEntityTooLarge, code: CodeTooLarge,
		message: fmt.Sprintf("request body is larger than %d bytes", limit)}
	if !isBase64 {
		if len(body) > limit {
			return nil, tooLarge
		}
		return []byte(body), nil
	}
	if len(body) > base64.StdEncoding.EncodedLen(limit) {
		return nil, tooLarge
	}
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, badRequest(CodeBadJSON, "request body is not valid base64")
	}
	if len(raw) > limit {
		return nil, tooLarge
	}
	return raw, nil
}

// recentSignIn reports whether c signed in at most maxAge before now (and not more than
// authTimeSkew after it). When not, it also returns the 403 stale_auth answer, which says that
// action (e.g. "registering a passkey") needs a sign-in within the last maxAge.
func recentSignIn(c Caller, now time.Time, maxAge time.Duration, action string) (Response, bool) {
	if !c.AuthTime.IsZero() {
		age := now.Sub(c.AuthTime)
		if age <= maxAge && age >= -authTimeSkew {
			return Response{}, true
		}
	}
	return Error(http.StatusForbidden, CodeStaleAuth,
		fmt.Sprintf("%s needs a sign-in within the last %d seconds: sign in again", action, int(maxAge/time.Second))), false
}

// internalError logs err with msg (when log is not nil) and returns the 500 answer, which tells
// the client nothing about the cause.
func internalError(ctx context.Context, log *slog.Logger, msg string, err error) Response {
	if log != nil {
		log.ErrorContext(ctx, msg, "err", err)
	}
	return Error(http.StatusInternalServerError, CodeInternal, "the request could not be completed, try again later")
}

// decodeID decodes s as unpadded, strict base64url of minBytes to maxBytes bytes (path parameters,
// challenges); ok is false for anything else.
func decodeID(s string, minBytes, maxBytes int) (b []byte, ok bool) {
	if len(s) > base64.RawURLEncoding.EncodedLen(maxBytes) {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) < minBytes || len(b) > maxBytes {
		return nil, false
	}
	return b, true
}

// decodeStringObject is strictjson.Strings for a request body: an empty body and one that is not
// UTF-8 are refused first, in the words the API has always used.
func decodeStringObject(data []byte, names ...string) (map[string]string, error) {
	if err := checkJSONBody(data); err != nil {
		return nil, err
	}
	return strictjson.Strings(data, names...)
}

// decodeMembers is strictjson.Members for a request body, refusing what checkJSONBody refuses.
func decodeMembers(data []byte, allowed map[string]bool) (map[string]json.RawMessage, error) {
	if err := checkJSONBody(data); err != nil {
		return nil, err
	}
	return strictjson.Members(data, allowed)
}

func checkJSONBody(data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("body is empty")
	}
	if !utf8.Valid(data) {
		return errors.New("body is not valid UTF-8")
	}
	return nil
}
