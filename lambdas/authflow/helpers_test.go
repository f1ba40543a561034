package authflow_test

import (
	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
)

// Session IDs shaped like the ones Create draws (16 random bytes, base64url, 22 characters).
const (
	sid      = "q3Vx-_9aZk0bT1c2D3e4Fg"
	otherSID = "ZZZZZZZZZZZZZZZZZZZZZZ"
)

// allCfg enables every method with the default caps (MaxRounds = 7).
var allCfg = authflow.Config{Methods: authflow.AllMethods, MaxAttempts: 3, MaxResends: 2}

func nonceCh(r authflow.Reason) authflow.Challenge {
	return authflow.Challenge{Kind: authflow.KindNonce, SessionID: sid, Reason: r}
}

func codeCh(r authflow.Reason, m authflow.Method, gen int) authflow.Challenge {
	return authflow.Challenge{Kind: authflow.KindCode, SessionID: sid, Reason: r, Method: m, Generation: gen}
}

// rnd is one session entry as Cognito passes it to Define and Create.
func rnd(metadata string, result bool) *events.CognitoEventUserPoolsChallengeResult {
	return &events.CognitoEventUserPoolsChallengeResult{
		ChallengeName:     authflow.ChallengeName,
		ChallengeResult:   result,
		ChallengeMetadata: metadata,
	}
}

func named(name, metadata string, result bool) *events.CognitoEventUserPoolsChallengeResult {
	return &events.CognitoEventUserPoolsChallengeResult{ChallengeName: name, ChallengeResult: result, ChallengeMetadata: metadata}
}

func sess(rs ...*events.CognitoEventUserPoolsChallengeResult) []*events.CognitoEventUserPoolsChallengeResult {
	return rs
}

// cm is the ClientMetadata sent with RespondToAuthChallenge.
func cm(method authflow.Method, action string) map[string]string {
	m := map[string]string{authflow.MetaSignInMethod: string(method)}
	if action != "" {
		m[authflow.MetaAction] = action
	}
	return m
}

// Metadata strings of common rounds.
var (
	mStart      = nonceCh(authflow.ReasonStart).String()
	mNonceRetry = nonceCh(authflow.ReasonRetry).String()
	mEmail1     = codeCh(authflow.ReasonSelect, authflow.EmailOTP, 1).String()
	mEmailRetry = codeCh(authflow.ReasonRetry, authflow.EmailOTP, 1).String()
	mEmail2     = codeCh(authflow.ReasonResend, authflow.EmailOTP, 2).String()
	mEmail3     = codeCh(authflow.ReasonResend, authflow.EmailOTP, 3).String()
	mSMS1       = codeCh(authflow.ReasonSelect, authflow.SMSOTP, 1).String()
)
