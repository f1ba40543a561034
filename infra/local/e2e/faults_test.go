//go:build unix

package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/infra/local/awsmock"
	"github.com/passwordless-go/cognito/infra/local/idp"
	"github.com/passwordless-go/cognito/infra/local/signin"
)

// inject sets a fault until the test ends (or ClearFaults).
func inject(t *testing.T, f awsmock.Fault) {
	t.Helper()
	H.AWS.Inject(f)
	t.Cleanup(H.AWS.ClearFaults)
}

// isLambdaFailure reports whether err is how Cognito reports a failed trigger.
func isLambdaFailure(err error) bool {
	var uv *types.UserLambdaValidationException
	var ul *types.UnexpectedLambdaException
	return errors.As(err, &uv) || errors.As(err, &ul)
}

// TestFaultDynamoThrottleDuringVerify: with DynamoDB throttling every call, Verify fails the
// sign-in cleanly (an SDK error, no tokens) for a device key and for a code; once DynamoDB
// recovers, signing in again works.
func TestFaultDynamoThrottleDuringVerify(t *testing.T) {
	need(t)
	ctx := ctxT(t, 60*time.Second)

	t.Run("device key", func(t *testing.T) {
		u := newEmailUser(t, "throttle-key")
		k := enrol(t, u, newP256)
		r := keyRound(t, ctx, u.email)
		H.AWS.ResetCalls()
		inject(t, awsmock.Fault{Service: awsmock.ServiceDynamoDB, Kind: awsmock.Throttle})
		out, err := app.Respond(ctx, r.session, r.username, answerFor(t, k.priv, k.id, r.username, r.params["nonce"]), method("device_key"))
		if signin.Tokens(out) || !isLambdaFailure(err) {
			t.Fatalf("throttled Verify: tokens=%v err=%v, want a Lambda failure", signin.Tokens(out), err)
		}
		t.Logf("throttled: %v; calls %v", err, H.AWS.Calls())
		H.AWS.ClearFaults()
		r = keyRound(t, ctx, u.email)
		out, err = app.Respond(ctx, r.session, r.username, answerFor(t, k.priv, k.id, r.username, r.params["nonce"]), method("device_key"))
		if err != nil || !signin.Tokens(out) {
			t.Fatalf("after recovery: tokens=%v err=%v", signin.Tokens(out), err)
		}
	})
	t.Run("email code", func(t *testing.T) {
		// On the second harness: the failed sign-in started the address's send delay (2 s there,
		// 60 s by default), which the new sign-in waits out.
		s := shortStack(t)
		u := s.signUp(t, uniqueEmail("throttle-code"))
		r, code := s.codeRound(t, ctx, u, "email_otp")
		s.h.AWS.Inject(awsmock.Fault{Service: awsmock.ServiceDynamoDB, Kind: awsmock.Throttle})
		t.Cleanup(s.h.AWS.ClearFaults)
		out, err := s.respond(ctx, r, code, method("email_otp"))
		if signin.Tokens(out) || !isLambdaFailure(err) {
			t.Fatalf("throttled Verify: tokens=%v err=%v, want a Lambda failure", signin.Tokens(out), err)
		}
		s.h.AWS.ClearFaults()
		s.codeSignIn(t, u, "email_otp") // a new sign-in works
	})
}

// TestFaultSESFailure: when SES fails, the sign-in fails without tokens and nothing is sent; a
// retried sign-in then works. When Cognito retries CreateAuthChallenge (its answer was lost after
// it sent the code), the code is not sent twice and still signs in.
func TestFaultSESFailure(t *testing.T) {
	need(t)
	ctx := ctxT(t, 2*time.Minute)
	// On the second harness: the failed send may start the address's send delay (2 s there, 60 s
	// by default), which the retried sign-in waits out.
	s := shortStack(t)
	u := s.signUp(t, uniqueEmail("ses"))
	init, err := s.Initiate(ctx, u.email)
	if err != nil {
		t.Fatal(err)
	}
	s.h.AWS.ResetCalls()
	s.h.AWS.Inject(awsmock.Fault{Service: awsmock.ServiceSES, Kind: awsmock.ServerError})
	t.Cleanup(s.h.AWS.ClearFaults)
	r := &round{session: init.Session, username: init.ChallengeParameters["USERNAME"]}
	out, err := s.respond(ctx, r, "email_otp", method("email_otp"))
	if signin.Tokens(out) || !isLambdaFailure(err) {
		t.Fatalf("SES failing: tokens=%v err=%v, want a Lambda failure", signin.Tokens(out), err)
	}
	if n := s.messages(u.email); n != 0 {
		t.Fatalf("%d messages captured while SES failed", n)
	}
	t.Logf("SES failing: %v; SendEmail calls %d", err, s.h.AWS.Calls()["ses.SendEmail"])
	s.h.AWS.ClearFaults()
	s.codeSignIn(t, u, "email_otp") // a retried sign-in gets a code and signs in

	// Cognito retries Create when the answer is lost: one message, and the code works.
	v := newEmailUser(t, "ses-retry")
	init, err = app.Initiate(ctx, v.email)
	if err != nil {
		t.Fatal(err)
	}
	before := H.IdP.Stats()
	H.DropResponses("create", 1)
	sel, err := app.Respond(ctx, init.Session, init.ChallengeParameters["USERNAME"], "email_otp", method("email_otp"))
	if err != nil || sel.ChallengeParameters["kind"] != "CODE" {
		t.Fatalf("choose email_otp with a lost Create answer: %v", err)
	}
	after := H.IdP.Stats()
	if d := after.Retries[idp.TriggerCreate] - before.Retries[idp.TriggerCreate]; d != 1 {
		t.Fatalf("CreateAuthChallenge retried %d times, want 1", d)
	}
	time.Sleep(100 * time.Millisecond)
	if n := messages(v.email); n != 1 {
		t.Fatalf("%d messages after a retried Create, want exactly 1", n)
	}
	res, err := app.Respond(ctx, sel.Session, init.ChallengeParameters["USERNAME"], codeN(t, v.email, 1), method("email_otp"))
	if err != nil || !signin.Tokens(res) {
		t.Fatalf("code of a retried Create: tokens=%v err=%v", signin.Tokens(res), err)
	}
}

// TestFaultDynamoHang: with DynamoDB not answering, Create and Verify fail the sign-in cleanly,
// without tokens and without sending anything (how long it takes is logged).
func TestFaultDynamoHang(t *testing.T) {
	need(t)
	ctx := ctxT(t, 60*time.Second)
	u := newEmailUser(t, "hang")
	k := enrol(t, u, newP256)

	check := func(t *testing.T, what string, f func(context.Context) (bool, error)) {
		t.Helper()
		inject(t, awsmock.Fault{Service: awsmock.ServiceDynamoDB, Kind: awsmock.Hang})
		start := time.Now()
		gotTokens, err := f(ctx)
		took := time.Since(start)
		H.AWS.ClearFaults()
		t.Logf("%s with DynamoDB hanging: failed after %s: %v", what, took.Round(time.Millisecond), err)
		if gotTokens || !isLambdaFailure(err) {
			t.Fatalf("%s: tokens=%v err=%v, want a Lambda failure", what, gotTokens, err)
		}
		// Reported, not asserted (issue 11): a busy machine can take longer than the budget, and
		// the pool then fails the trigger itself, which the check above accepts. make bench
		// measures every trigger against Cognito's budget with latency injected.
		if took >= triggerBudget {
			t.Logf("%s took %s, over Cognito's %s (machine busy?)", what, took, triggerBudget)
		}
	}
	t.Run("Verify", func(t *testing.T) {
		r := keyRound(t, ctx, u.email)
		check(t, "device-key Verify", func(ctx context.Context) (bool, error) {
			out, err := app.Respond(ctx, r.session, r.username, answerFor(t, k.priv, k.id, r.username, r.params["nonce"]), method("device_key"))
			return signin.Tokens(out), err
		})
	})
	t.Run("Create", func(t *testing.T) {
		v := newEmailUser(t, "hang-create")
		init, err := app.Initiate(ctx, v.email)
		if err != nil {
			t.Fatal(err)
		}
		check(t, "email-code Create", func(ctx context.Context) (bool, error) {
			out, err := app.Respond(ctx, init.Session, init.ChallengeParameters["USERNAME"], "email_otp", method("email_otp"))
			return signin.Tokens(out), err
		})
		if n := messages(v.email); n != 0 {
			t.Fatalf("%d messages sent while DynamoDB hung", n)
		}
	})
}
