package otp_test

import (
	"context"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// TestReviewResetPumpsSMSToVerifiedNumber: SMS pumping with one's own account. An attacker signs
// up with a number they control, proves it once (one SMS of the unverified budget) and registers
// a device key. From then on every device-key sign-in runs the SendReset hook, which wipes the
// number's schedule, daily cap included, so "ask for an SMS code, abandon, sign in with the key"
// can be repeated as fast as Cognito takes calls: each loop is one paid SMS, bounded by no
// per-recipient cap and by no deployment-wide budget (verified numbers are exempt).
//
// Runs against the real store over dynalite (store.Store.RecordSend / ResetSends).
func TestReviewResetPumpsSMSToVerifiedNumber(t *testing.T) {
	d := newDynEnv(t)
	attrs := phoneAttrs(phone, true, true) // the attacker's own, verified, number
	reset := otp.NewSendReset(d.st, nil)
	cap := otp.DefaultConfig().SendDailyCap
	const loops = 250
	for i := range loops {
		req := issueReq(authflow.SMSOTP, 1, attrs)
		req.Challenge.SessionID = session(i)
		d.issueQuick(t, req) // sign-in i asks for an SMS code and is abandoned
		// sign-in i' answers with a valid device key: Verify runs the success hooks
		err := reset.Succeeded(context.Background(), triggers.CheckRequest{
			Method: authflow.DeviceKey,
			Caller: triggers.Caller{
				UserPoolID:     poolID,
				UserName:       userName,
				UserAttributes: attrs,
				Key:            testKey,
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		d.clock.Add(2 * time.Second)
	}
	elapsed := time.Duration(loops) * 2 * time.Second
	if n := d.sns.count(); n > cap {
		t.Fatalf("%d SMS to one number in %s (daily cap %d, no deployment budget for verified numbers): "+
			"key sign-ins reset the schedule and its daily cap, so one account pumps SMS without bound", n, elapsed, cap)
	}
}
