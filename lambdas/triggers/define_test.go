package triggers_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

type defineWant int

const (
	wantChallenge defineWant = iota
	wantTokens
	wantFail
)

func (w defineWant) String() string {
	return [...]string{"challenge", "tokens", "fail"}[w]
}

// checkDefine asserts that exactly one of the three decisions is set, and that it is want.
func checkDefine(t *testing.T, r events.CognitoEventUserPoolsDefineAuthChallengeResponse, want defineWant) {
	t.Helper()
	set := 0
	if r.ChallengeName != "" {
		set++
		if r.ChallengeName != authflow.ChallengeName {
			t.Errorf("ChallengeName = %q, want %q", r.ChallengeName, authflow.ChallengeName)
		}
	}
	if r.IssueTokens {
		set++
	}
	if r.FailAuthentication {
		set++
	}
	if set != 1 {
		t.Fatalf("response %+v sets %d decisions, want exactly 1", r, set)
	}
	var got defineWant
	switch {
	case r.IssueTokens:
		got = wantTokens
	case r.FailAuthentication:
		got = wantFail
	default:
		got = wantChallenge
	}
	if got != want {
		t.Fatalf("response %+v means %v, want %v", r, got, want)
	}
}

func TestDefine(t *testing.T) {
	emailOnly := authflow.Config{Methods: []authflow.Method{authflow.EmailOTP}, MaxAttempts: 3, MaxResends: 2}
	start, retry := nonceMeta(authflow.ReasonStart), nonceMeta(authflow.ReasonRetry)
	e1 := codeChallenge(authflow.ReasonSelect, authflow.EmailOTP, 1).String()
	e1r := codeChallenge(authflow.ReasonRetry, authflow.EmailOTP, 1).String()
	e2 := codeChallenge(authflow.ReasonResend, authflow.EmailOTP, 2).String()
	e3 := codeChallenge(authflow.ReasonResend, authflow.EmailOTP, 3).String()
	for _, tc := range []struct {
		name         string
		session      []*events.CognitoEventUserPoolsChallengeResult
		meta         map[string]string
		userNotFound bool
		cfg          *authflow.Config
		want         defineWant
	}{
		{"first call", nil, nil, false, nil, wantChallenge},
		{"first call, unknown user", nil, nil, true, nil, wantChallenge},
		{"key proof true", sess(rnd(start, true)), cm(authflow.DeviceKey, ""), false, nil, wantTokens},
		{"passkey proof true", sess(rnd(start, true)), cm(authflow.Passkey, ""), false, nil, wantTokens},
		{"key proof false", sess(rnd(start, false)), cm(authflow.DeviceKey, ""), false, nil, wantChallenge},
		{"third key proof false", sess(rnd(start, false), rnd(retry, false), rnd(retry, false)), cm(authflow.DeviceKey, ""), false, nil, wantFail},
		{"select email", sess(rnd(start, false)), cm(authflow.EmailOTP, ""), false, nil, wantChallenge},
		{"right code", sess(rnd(start, false), rnd(e1, true)), cm(authflow.EmailOTP, ""), false, nil, wantTokens},
		{"wrong code", sess(rnd(start, false), rnd(e1, false)), cm(authflow.EmailOTP, ""), false, nil, wantChallenge},
		{"third wrong code", sess(rnd(start, false), rnd(e1, false), rnd(e1r, false), rnd(e1r, false)), cm(authflow.EmailOTP, ""), false, nil, wantFail},
		{"resend", sess(rnd(start, false), rnd(e1, false)), cm(authflow.EmailOTP, authflow.ActionResend), false, nil, wantChallenge},
		{"third resend", sess(rnd(start, false), rnd(e1, false), rnd(e2, false), rnd(e3, false)), cm(authflow.EmailOTP, authflow.ActionResend), false, nil, wantFail},
		{"selection answered true", sess(rnd(start, true)), cm(authflow.EmailOTP, ""), false, nil, wantFail},
		{"unknown user, true", sess(rnd(start, true)), cm(authflow.DeviceKey, ""), true, nil, wantFail},
		{"unknown user, right code", sess(rnd(start, false), rnd(e1, true)), cm(authflow.EmailOTP, ""), true, nil, wantFail},
		{"unknown user, wrong proof", sess(rnd(start, false)), cm(authflow.DeviceKey, ""), true, nil, wantChallenge},
		{"disabled method", sess(rnd(start, true)), cm(authflow.DeviceKey, ""), false, &emailOnly, wantFail},
		{"unknown method", sess(rnd(start, false)), map[string]string{"signInMethod": "magic"}, false, nil, wantFail},
		{"no client metadata", sess(rnd(start, false)), nil, false, nil, wantFail},
		{"method switch in code round", sess(rnd(start, false), rnd(e1, false)), cm(authflow.SMSOTP, ""), false, nil, wantFail},
		{"resend in nonce round", sess(rnd(start, false)), cm(authflow.EmailOTP, authflow.ActionResend), false, nil, wantFail},
		{"SRP_A", sess(&events.CognitoEventUserPoolsChallengeResult{ChallengeName: "SRP_A", ChallengeResult: true}), nil, false, nil, wantFail},
		{"garbled metadata", sess(rnd("NONCE;sid=short;r=start", true)), cm(authflow.DeviceKey, ""), false, nil, wantFail},
		{"earlier round true", sess(rnd(start, true), rnd(e1, false)), cm(authflow.EmailOTP, ""), false, nil, wantFail},
		{"nil entry", sess(rnd(start, false), nil), cm(authflow.EmailOTP, ""), false, nil, wantFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := allCfg
			if tc.cfg != nil {
				cfg = *tc.cfg
			}
			h := &triggers.Define{Config: cfg}
			ev := defineEvent(tc.session, tc.meta, tc.userNotFound)
			// A stale response in the input must not leak through.
			ev.Response = events.CognitoEventUserPoolsDefineAuthChallengeResponse{ChallengeName: "X", IssueTokens: true, FailAuthentication: true}
			out, err := h.Handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("Define returned an error: %v", err)
			}
			checkDefine(t, out.Response, tc.want)
			if out.UserName != userName || out.UserPoolID != poolID || len(out.Request.Session) != len(tc.session) {
				t.Errorf("event header or request changed: %+v", out.CognitoEventUserPoolsHeader)
			}
		})
	}
}

// The fixtures go through the Lambda runtime's JSON handling, as Cognito's events do.
func TestDefineFixturesThroughLambdaHandler(t *testing.T) {
	h := lambda.NewHandler((&triggers.Define{Config: allCfg}).Handle)
	for _, tc := range []struct {
		file string
		want defineWant
	}{
		{"define_first.json", wantChallenge},
		{"define_select.json", wantChallenge},
		{"define_code_correct.json", wantTokens},
		{"define_srp.json", wantFail},
	} {
		t.Run(tc.file, func(t *testing.T) {
			// The fixture unmarshals into the real event type.
			ev := fixture[events.CognitoEventUserPoolsDefineAuthChallenge](t, tc.file)
			if ev.UserPoolID != poolID || ev.CallerContext.ClientID != clientID {
				t.Fatalf("fixture header not read: %+v", ev.CognitoEventUserPoolsHeader)
			}
			b, err := h.Invoke(context.Background(), fixtureBytes(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(b, &raw); err != nil {
				t.Fatal(err)
			}
			var resp map[string]any
			if err := json.Unmarshal(raw["response"], &resp); err != nil {
				t.Fatalf("response %s: %v", raw["response"], err)
			}
			for _, k := range []string{"challengeName", "issueTokens", "failAuthentication"} {
				if _, ok := resp[k]; !ok {
					t.Errorf("response JSON lacks %q: %s", k, raw["response"])
				}
			}
			var out events.CognitoEventUserPoolsDefineAuthChallenge
			if err := json.Unmarshal(b, &out); err != nil {
				t.Fatal(err)
			}
			checkDefine(t, out.Response, tc.want)
		})
	}
}
