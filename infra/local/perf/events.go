//go:build unix

package perf

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/infra/local/lambdarun"
	"github.com/passwordless-go/cognito/lambdas/api"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/devicekey"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// Values in the events.
const (
	PoolID   = "us-east-1_PerfPool1"
	UserSub  = "6b1d4c2e-3f5a-4b7c-9d8e-0f1a2b3c4d5e"
	UserName = UserSub
)

// coldEvent is a cold-start event and the check of its answer. None of them makes an AWS call:
// define and presignup never call AWS, create's nonce round sends nothing, verify's answer to a
// nonce round that chooses a code method is not an attempt (nothing is read), GET /me reads only
// the token's claims.
type coldEvent struct {
	event func() []byte
	check func([]byte) error
}

var coldEvents = map[string]coldEvent{
	"define":    {defineTwoRounds, want(`"issueTokens":true`)},
	"create":    {func() []byte { return createNonce("") }, want(`"kind":"NONCE"`)},
	"verify":    {verifyChoice, want(`"answerCorrect":false`)},
	"presignup": {func() []byte { return preSignUp("alice@example.com") }, want(`"autoConfirmUser":true`)},
	"api":       {getMe, want(`"statusCode":200`)},
}

// want checks that an answer contains s.
func want(s string) func([]byte) error {
	return func(out []byte) error {
		if !bytes.Contains(out, []byte(s)) {
			if len(out) > 512 {
				out = out[:512]
			}
			return fmt.Errorf("answer lacks %s: %s", s, out)
		}
		return nil
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func randomB64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionID is a fresh session ID as Create draws it (16 bytes, 22 characters).
func sessionID() string { return randomB64(16) }

func header(trigger string) events.CognitoEventUserPoolsHeader {
	return events.CognitoEventUserPoolsHeader{
		Version:       "1",
		TriggerSource: trigger,
		Region:        Region,
		UserPoolID:    PoolID,
		CallerContext: events.CognitoEventUserPoolsCallerContext{AWSSDKVersion: "aws-sdk-unknown-unknown", ClientID: ClientID},
		UserName:      UserName,
	}
}

func userAttrs(email string) map[string]string {
	return map[string]string{
		"sub": UserSub, "email": email, "email_verified": "true",
		"cognito:user_status": "CONFIRMED",
	}
}

func round(c authflow.Challenge, result bool) *events.CognitoEventUserPoolsChallengeResult {
	return &events.CognitoEventUserPoolsChallengeResult{ChallengeName: authflow.ChallengeName, ChallengeResult: result, ChallengeMetadata: c.String()}
}

// defineTwoRounds is Define after a nonce round and a right email code: tokens are issued.
func defineTwoRounds() []byte {
	sid := sessionID()
	return mustJSON(events.CognitoEventUserPoolsDefineAuthChallenge{
		CognitoEventUserPoolsHeader: header("DefineAuthChallenge_Authentication"),
		Request: events.CognitoEventUserPoolsDefineAuthChallengeRequest{
			UserAttributes: userAttrs("alice@example.com"),
			Session: []*events.CognitoEventUserPoolsChallengeResult{
				round(authflow.Challenge{Kind: authflow.KindNonce, SessionID: sid, Reason: authflow.ReasonStart}, false),
				round(authflow.Challenge{Kind: authflow.KindCode, SessionID: sid, Reason: authflow.ReasonSelect, Method: authflow.EmailOTP, Generation: 1}, true),
			},
			ClientMetadata: map[string]string{authflow.MetaSignInMethod: string(authflow.EmailOTP)},
		},
	})
}

// createNonce is Create's first round (a fresh nonce, nothing sent). email "" is alice's.
func createNonce(email string) []byte {
	if email == "" {
		email = "alice@example.com"
	}
	return mustJSON(events.CognitoEventUserPoolsCreateAuthChallenge{
		CognitoEventUserPoolsHeader: header("CreateAuthChallenge_Authentication"),
		Request: events.CognitoEventUserPoolsCreateAuthChallengeRequest{
			UserAttributes: userAttrs(email),
			ChallengeName:  authflow.ChallengeName,
		},
	})
}

// createCode is Create's second round after the client chose email_otp: a code is stored and
// sent to email through SES.
func createCode(email, sid string) []byte {
	return mustJSON(events.CognitoEventUserPoolsCreateAuthChallenge{
		CognitoEventUserPoolsHeader: header("CreateAuthChallenge_Authentication"),
		Request: events.CognitoEventUserPoolsCreateAuthChallengeRequest{
			UserAttributes: userAttrs(email),
			ChallengeName:  authflow.ChallengeName,
			Session: []*events.CognitoEventUserPoolsChallengeResult{
				round(authflow.Challenge{Kind: authflow.KindNonce, SessionID: sid, Reason: authflow.ReasonStart}, false),
			},
			ClientMetadata: map[string]string{authflow.MetaSignInMethod: string(authflow.EmailOTP)},
		},
	})
}

func verifyEvent(private map[string]string, answer string, method authflow.Method, email string) []byte {
	return mustJSON(events.CognitoEventUserPoolsVerifyAuthChallenge{
		CognitoEventUserPoolsHeader: header("VerifyAuthChallengeResponse_Authentication"),
		Request: events.CognitoEventUserPoolsVerifyAuthChallengeRequest{
			UserAttributes:             userAttrs(email),
			PrivateChallengeParameters: private,
			ChallengeAnswer:            answer,
			ClientMetadata:             map[string]string{authflow.MetaSignInMethod: string(method)},
		},
	})
}

func noncePrivate(sid, nonce string) map[string]string {
	return map[string]string{authflow.PrivKind: string(authflow.KindNonce), authflow.PrivSessionID: sid, authflow.PrivNonce: nonce}
}

// verifyChoice is Verify for the nonce round when the client chose email_otp: not an attempt.
func verifyChoice() []byte {
	return verifyEvent(noncePrivate(sessionID(), randomB64(32)), "email_otp", authflow.EmailOTP, "alice@example.com")
}

func preSignUp(email string) []byte {
	return mustJSON(events.CognitoEventUserPoolsPreSignup{
		CognitoEventUserPoolsHeader: header("PreSignUp_SignUp"),
		Request: events.CognitoEventUserPoolsPreSignupRequest{
			UserAttributes: map[string]string{"email": email},
		},
	})
}

// getMe is GET /me as API Gateway passes it after its JWT authorizer accepted an access token.
func getMe() []byte {
	now := time.Now().Unix()
	claims := map[string]string{
		"sub": UserSub, "username": UserName, "client_id": ClientID, "token_use": "access",
		"scope":     "aws.cognito.signin.user.admin",
		"auth_time": strconv.FormatInt(now-60, 10), "iat": strconv.FormatInt(now-60, 10),
		"exp": strconv.FormatInt(now+3540, 10), "iss": "https://cognito-idp." + Region + ".amazonaws.com/" + PoolID,
		"jti": "0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d", "origin_jti": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
		"event_id": "5f0e7c2a-1b3d-4e5f-8a9b-0c1d2e3f4a5b",
	}
	return mustJSON(events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "GET /me",
		RawPath:  "/me",
		Headers: map[string]string{
			"accept": "application/json", "authorization": "Bearer eyJraWQiOiJrMSIsImFsZyI6IlJTMjU2In0.e30.c2ln",
			"host": "abc123defg.execute-api.us-east-1.amazonaws.com", "user-agent": "okhttp/4.12.0",
			"x-forwarded-for": "203.0.113.7", "x-forwarded-port": "443", "x-forwarded-proto": "https",
		},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID: "123456789012", APIID: "abc123defg", RouteKey: "GET /me", Stage: "$default",
			DomainName: "abc123defg.execute-api.us-east-1.amazonaws.com", DomainPrefix: "abc123defg",
			RequestID: "WqgVVhV5joEEMTA=", TimeEpoch: now * 1000,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: http.MethodGet, Path: "/me", Protocol: "HTTP/1.1", SourceIP: "203.0.113.7", UserAgent: "okhttp/4.12.0",
			},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
			},
		},
	})
}

// Invocation is one warm event and the check of its answer.
type Invocation struct {
	Event []byte
	Check func([]byte) error
}

// Workload returns the i-th warm event (i from 0).
type Workload func(i int) Invocation

// Workload returns the warm workload of one of Functions, setting up what it needs first:
//
//   - define: a 2-round session (nonce round, then a right email code): tokens are issued.
//   - create: alternately a nonce round and an email code round (a code stored with its send
//     limits in DynamoDB and sent through SES to awsmock), each code to a new recipient so the
//     send limits never refuse.
//   - verify: alternately a device-key answer (P-256 signature over the nonce message, checked
//     against a key registered in the table; the key's last use is recorded) and an email code
//     answer (the code create sent to awsmock, checked against the round create wrote). Both are
//     right; the code answer also reserves and gives back a lockout attempt slot.
//   - presignup: a self sign-up with an email address, auto-confirmed.
//   - api: GET /me with an access token's claims.
func (r *Rig) Workload(ctx context.Context, name string) (Workload, error) {
	switch name {
	case "define":
		ev := defineTwoRounds()
		return func(int) Invocation { return Invocation{ev, want(`"issueTokens":true`)} }, nil
	case "create":
		nonce := createNonce("")
		return func(i int) Invocation {
			if i%2 == 0 {
				return Invocation{nonce, want(`"kind":"NONCE"`)}
			}
			email := fmt.Sprintf("user%d@example.com", r.next())
			return Invocation{createCode(email, sessionID()), want(`"deliveryMedium":"EMAIL"`)}
		}, nil
	case "verify":
		key, err := r.deviceKeyAnswer(ctx)
		if err != nil {
			return nil, err
		}
		code, err := r.emailCodeAnswer(ctx)
		if err != nil {
			return nil, err
		}
		return func(i int) Invocation {
			if i%2 == 0 {
				return Invocation{key, want(`"answerCorrect":true`)}
			}
			return Invocation{code, want(`"answerCorrect":true`)}
		}, nil
	case "presignup":
		return func(i int) Invocation {
			return Invocation{preSignUp(fmt.Sprintf("user%d@example.com", i)), want(`"autoConfirmUser":true`)}
		}, nil
	case "api":
		ev := getMe()
		return func(int) Invocation { return Invocation{ev, want(`"statusCode":200`)} }, nil
	}
	return nil, fmt.Errorf("perf: no workload for %q", name)
}

// deviceKeyAnswer registers a fresh P-256 device key for the user in the table and returns a
// Verify event answering a nonce round with a signature by it.
func (r *Rig) deviceKeyAnswer(ctx context.Context) ([]byte, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	pub, err := devicekey.ParsePublicKey(base64.StdEncoding.EncodeToString(der))
	if err != nil {
		return nil, err
	}
	// A key ID as the API issues them: 16 random bytes, unpadded base64url.
	keyID := randomB64(16)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.Store.PutDeviceKey(ctx, store.DeviceKey{
		Owner: UserSub, ID: keyID, Name: "perf", Algorithm: string(pub.Algorithm()),
		Fingerprint: pub.Fingerprint(), PublicKey: pub.SPKI(),
	}, api.DefaultDeviceKeyMaxPerUser*100); err != nil {
		return nil, fmt.Errorf("perf: registering a device key: %w", err)
	}
	nonce := randomB64(32)
	msg, err := devicekey.Message(PoolID, ClientID, UserName, nonce)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256([]byte(msg))
	sig, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	if err != nil {
		return nil, err
	}
	answer := mustJSON(map[string]string{"keyId": keyID, "signature": base64.StdEncoding.EncodeToString(sig)})
	return verifyEvent(noncePrivate(sessionID(), nonce), string(answer), authflow.DeviceKey, "alice@example.com"), nil
}

// emailCodeAnswer runs the create function once for an email code round, reads the code from the
// email awsmock captured and returns a Verify event answering that round with it. The code stays
// valid for the construct's code TTL (OTP_TTL_SECONDS).
func (r *Rig) emailCodeAnswer(ctx context.Context) ([]byte, error) {
	fn, err := r.Function("create")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	h, err := lambdarun.Start(ctx, fn)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	email := fmt.Sprintf("verify%d@example.com", r.next())
	out, err := h.Invoke(ctx, createCode(email, sessionID()))
	if err != nil {
		return nil, fmt.Errorf("perf: issuing a code for verify: %w%s", err, logTail(h))
	}
	var ev events.CognitoEventUserPoolsCreateAuthChallenge
	if err := json.Unmarshal(out, &ev); err != nil {
		return nil, fmt.Errorf("perf: create's answer: %w", err)
	}
	msg, err := r.AWS.WaitMessage(ctx, email, 1)
	if err != nil {
		return nil, err
	}
	digits, err := strconv.Atoi(fn.Env[otp.EnvDigits])
	if err != nil {
		return nil, fmt.Errorf("perf: %s: %w", otp.EnvDigits, err)
	}
	code := regexp.MustCompile(`\b[0-9]{` + strconv.Itoa(digits) + `}\b`).FindString(msg.Text)
	if code == "" {
		return nil, errors.New("perf: no code in the email create sent")
	}
	return verifyEvent(ev.Response.PrivateChallengeParameters, code, authflow.EmailOTP, email), nil
}
