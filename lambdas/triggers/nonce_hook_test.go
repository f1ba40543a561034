package triggers_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// fakeExtra records what Create passes and returns fixed parameters.
type fakeExtra struct {
	calls []triggers.NonceRequest
	out   triggers.Issued
	err   error
}

func (f *fakeExtra) Extra(_ context.Context, r triggers.NonceRequest) (triggers.Issued, error) {
	f.calls = append(f.calls, r)
	return f.out, f.err
}

func firstRound(notFound bool) events.CognitoEventUserPoolsCreateAuthChallenge {
	var ev events.CognitoEventUserPoolsCreateAuthChallenge
	ev.CognitoEventUserPoolsHeader = header("CreateAuthChallenge_Authentication")
	ev.Request.ChallengeName = authflow.ChallengeName
	ev.Request.UserAttributes = attrs()
	ev.Request.UserNotFound = notFound
	ev.Request.ClientMetadata = map[string]string{"x": "y"}
	return ev
}

func TestNonceExtraIsMerged(t *testing.T) {
	x := &fakeExtra{out: triggers.Issued{
		Public:  map[string]string{"passkeyOptions": `{"challenge":"..."}`},
		Private: map[string]string{"passkeyIssuedAt": "1700000000000"},
	}}
	h := &triggers.Create{Keys: testKeys, Config: allCfg, NonceExtras: x}
	for _, notFound := range []bool{false, true} {
		x.calls = nil
		out, err := h.Handle(context.Background(), firstRound(notFound))
		if err != nil {
			t.Fatal(err)
		}
		r := out.Response
		if len(x.calls) != 1 {
			t.Fatalf("extra called %d times", len(x.calls))
		}
		c := x.calls[0]
		if c.Nonce == "" || c.Nonce != r.PublicChallengeParameters[authflow.PubNonce] || c.Nonce != r.PrivateChallengeParameters[authflow.PrivNonce] {
			t.Errorf("extra got nonce %q, round has %q", c.Nonce, r.PublicChallengeParameters[authflow.PubNonce])
		}
		if c.Challenge.Kind != authflow.KindNonce || c.Challenge.SessionID != r.PrivateChallengeParameters[authflow.PrivSessionID] ||
			c.UserPoolID != poolID || c.ClientID != clientID || c.UserName != userName || c.UserAttributes["sub"] != userSub ||
			c.ClientMetadata["x"] != "y" || c.UserNotFound != notFound {
			t.Errorf("extra request %+v", c)
		}
		if r.PublicChallengeParameters["passkeyOptions"] == "" || r.PrivateChallengeParameters["passkeyIssuedAt"] != "1700000000000" {
			t.Errorf("extra parameters not merged: %v / %v", r.PublicChallengeParameters, r.PrivateChallengeParameters)
		}
		if _, leaked := r.PublicChallengeParameters["passkeyIssuedAt"]; leaked {
			t.Error("private parameter published")
		}
		if len(r.PublicChallengeParameters) != 4 || len(r.PrivateChallengeParameters) != 5 {
			t.Errorf("parameters %v / %v", r.PublicChallengeParameters, r.PrivateChallengeParameters)
		}
	}
}

func TestNonceExtraFailsClosed(t *testing.T) {
	for name, out := range map[string]triggers.Issued{
		"public nonce":   {Public: map[string]string{authflow.PubNonce: "mine"}},
		"public kind":    {Public: map[string]string{authflow.PubKind: "CODE"}},
		"public methods": {Public: map[string]string{authflow.PubMethods: "email_otp"}},
		"private nonce":  {Private: map[string]string{authflow.PrivNonce: "mine"}},
		"private sid":    {Private: map[string]string{authflow.PrivSessionID: "x"}},
		"private kind":   {Private: map[string]string{authflow.PrivKind: "CODE"}},
		"private method": {Private: map[string]string{authflow.PrivMethod: "passkey"}},
		"private gen":    {Private: map[string]string{authflow.PrivGeneration: "1"}},
		"private round":  {Private: map[string]string{authflow.PrivRound: "1"}},
	} {
		h := &triggers.Create{Keys: testKeys, Config: allCfg, NonceExtras: &fakeExtra{out: out}}
		if _, err := h.Handle(context.Background(), firstRound(false)); !errors.Is(err, triggers.ErrUnavailable) {
			t.Errorf("%s: %v", name, err)
		}
	}
	h := &triggers.Create{Keys: testKeys, Config: allCfg, NonceExtras: &fakeExtra{err: errors.New("dynamodb down")}}
	if _, err := h.Handle(context.Background(), firstRound(false)); !errors.Is(err, triggers.ErrUnavailable) {
		t.Errorf("failing extra: %v", err)
	}
}

func TestNonceExtraOnlyInNonceRounds(t *testing.T) {
	x := &fakeExtra{out: triggers.Issued{Public: map[string]string{"passkeyOptions": "{}"}}}
	iss := &fakeIssuerForHook{}
	h := &triggers.Create{Keys: testKeys, Config: allCfg, NonceExtras: x, Issuers: map[authflow.Method]triggers.CodeIssuer{authflow.EmailOTP: iss}}
	ev := firstRound(false)
	ev.Request.Session = sess(rnd(nonceMeta(authflow.ReasonStart), false))
	ev.Request.ClientMetadata = cm(authflow.EmailOTP, "")
	out, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(x.calls) != 0 || out.Response.PublicChallengeParameters["passkeyOptions"] != "" {
		t.Errorf("extra called for a code round: %d calls", len(x.calls))
	}
	// A wrong key answer gives a new nonce round: the extra runs again.
	ev.Request.ClientMetadata = cm(authflow.Passkey, "")
	if _, err := h.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if len(x.calls) != 1 || x.calls[0].Challenge.Reason != authflow.ReasonRetry {
		t.Errorf("retry nonce round: %+v", x.calls)
	}
	// Without an extra, nothing changes.
	out, err = (&triggers.Create{Keys: testKeys, Config: allCfg}).Handle(context.Background(), firstRound(false))
	if err != nil || len(out.Response.PublicChallengeParameters) != 3 {
		t.Fatalf("no extra: %v %v", out.Response.PublicChallengeParameters, err)
	}
}

type fakeIssuerForHook struct{}

func (fakeIssuerForHook) Issue(context.Context, triggers.IssueRequest) (triggers.Issued, error) {
	return triggers.Issued{Public: map[string]string{"deliveryMedium": "EMAIL"}}, nil
}
