// Package signin holds the sign-in flows and set-up that the tests of the local stack share
// (infra/local/e2e, infra/local/browser, infra/local/amplify): the app's Cognito calls of a
// CUSTOM_AUTH sign-in (InitiateAuth, RespondToAuthChallenge), reading a sent code from the
// harness's captured messages, calls to the local HTTP API with a bearer token, decoding a JWT's
// claims, starting a harness for one test, and reading a code block from README.md between
// markers.
//
// It is for tests and the local harness only: every call goes to the local emulators started
// by package harness, never to AWS.
package signin

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/infra/smoke"
)

// NewCognito returns the app's cognitoidentityprovider client for the harness's Cognito URL
// (BaseEndpoint), region us-east-1, with static credentials named by keyID (the emulator
// accepts any).
func NewCognito(endpoint, keyID string) *cip.Client {
	return cip.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(keyID, keyID+"-secret", ""),
	}, func(o *cip.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// Client is an app signing users in: its Cognito client and its app client ID.
type Client struct {
	Cognito  *cip.Client
	ClientID string
}

// Initiate starts a CUSTOM_AUTH sign-in of username (InitiateAuth).
func (c *Client) Initiate(ctx context.Context, username string) (*cip.InitiateAuthOutput, error) {
	return c.Cognito.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeCustomAuth,
		ClientId:       aws.String(c.ClientID),
		AuthParameters: map[string]string{"USERNAME": username},
	})
}

// Respond answers the custom challenge of session for username with answer and the client
// metadata meta (RespondToAuthChallenge).
func (c *Client) Respond(ctx context.Context, session *string, username, answer string, meta map[string]string) (*cip.RespondToAuthChallengeOutput, error) {
	return c.Cognito.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
		ClientId:           aws.String(c.ClientID),
		ChallengeName:      types.ChallengeNameTypeCustomChallenge,
		Session:            session,
		ChallengeResponses: map[string]string{"USERNAME": username, "ANSWER": answer},
		ClientMetadata:     meta,
	})
}

// Tokens reports whether a RespondToAuthChallenge answer signed the user in.
func Tokens(o *cip.RespondToAuthChallengeOutput) bool {
	return o != nil && o.AuthenticationResult != nil
}

// IsNotAuthorized reports whether err is Cognito's NotAuthorizedException.
func IsNotAuthorized(err error) bool {
	var na *types.NotAuthorizedException
	return errors.As(err, &na)
}

// WaitCode returns the code in the n-th message (from 1) the harness sent to `to`, waiting for it
// up to wait; it fails the test when no such message comes or it holds no code.
func WaitCode(ctx context.Context, t testing.TB, h *harness.Harness, to string, n int, wait time.Duration) string {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	msg, err := h.AWS.WaitMessage(wctx, to, n)
	if err != nil {
		t.Fatalf("message %d to %s: %v", n, to, err)
	}
	code, ok := smoke.ExtractCode(msg.Text)
	if !ok {
		t.Fatalf("no code in message %d to %s: %q", n, to, msg.Text)
	}
	return code
}

// apiClient sends the tests' requests to the local HTTP API (timeout 30 s).
var apiClient = &http.Client{Timeout: 30 * time.Second}

// API sends a request to the HTTP API at baseURL (the harness's APIURL) with a bearer token
// (none when token is "") and a JSON body (none when body is nil), and returns the status and the
// raw answer body.
func API(ctx context.Context, baseURL, method, path, token string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, baseURL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, raw, fmt.Errorf("%s %s: reading the body: %w", method, path, err)
	}
	return resp.StatusCode, raw, nil
}

// JWTClaims decodes a JWT's payload without checking its signature; it fails the test when tok
// is not a JWT with a JSON payload.
func JWTClaims(t testing.TB, tok string) map[string]any {
	t.Helper()
	parts := bytes.Split([]byte(tok), []byte("."))
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(string(parts[1]))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
