package otp_test

import (
	"context"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// TestNoSendIsPadded: answers that send nothing take about as long as recent sends did, so an
// unknown user is not told apart by a fast answer; the padding never eats the Lambda deadline.
func TestNoSendIsPadded(t *testing.T) {
	const sendTime = 80 * time.Millisecond
	e := newEnv(t, otp.Config{})
	e.ses.delay = sendTime
	start := time.Now()
	e.issue(t, issueReq(authflow.EmailOTP, 1, emailAttrs(true)))
	if took := time.Since(start); took < sendTime {
		t.Fatalf("real send took %s", took)
	}
	unknown := triggers.IssueRequest{Challenge: challenge(sid2, authflow.EmailOTP, 1, authflow.ReasonSelect), Caller: triggers.Caller{UserPoolID: poolID, UserName: "bob@example.com", UserNotFound: true, Key: testKey}}
	start = time.Now()
	e.issue(t, unknown)
	if took := time.Since(start); took < sendTime*7/10 || took > sendTime*3 {
		t.Fatalf("unknown user answered in %s, real send took about %s", took, sendTime)
	}
	if e.ses.count() != 1 {
		t.Fatal("sent to the unknown user")
	}
	// Close to the deadline, no padding.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second+5*time.Millisecond)
	defer cancel()
	unknown.Challenge.Generation = 2
	start = time.Now()
	if _, err := e.iss.Issue(ctx, unknown); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > sendTime*4/10 {
		t.Fatalf("padding ran into the deadline margin: %s", took)
	}
}
