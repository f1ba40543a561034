package otp_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// TestSendResetKeys: a sign-in resets the schedules of the user's proven addresses (verified,
// or the one whose code was just answered), normalised and keyed like the Issuer's.
func TestSendResetKeys(t *testing.T) {
	emailKey := otp.RecipientKey(testKey, authflow.EmailOTP, "alice.liddell+x@example.com")
	phoneKey := otp.RecipientKey(testKey, authflow.SMSOTP, "+4407400123456")
	for _, tc := range []struct {
		name   string
		method authflow.Method
		attrs  map[string]string
		want   []string
	}{
		{"both verified, device key", authflow.DeviceKey, phoneAttrs(phone, true, true), []string{emailKey, phoneKey}},
		{"email verified, phone not", authflow.Passkey, phoneAttrs(phone, false, true), []string{emailKey}},
		{"phone just verified by its code", authflow.SMSOTP, phoneAttrs(phone, false, false), []string{phoneKey}},
		{"email just verified by its code", authflow.EmailOTP, phoneAttrs(phone, false, false), []string{emailKey}},
		{"nothing verified, key sign-in", authflow.DeviceKey, phoneAttrs(phone, false, false), nil},
		{"no addresses", authflow.DeviceKey, map[string]string{"sub": userName}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore(nil)
			req := triggers.CheckRequest{Method: tc.method, Caller: triggers.Caller{UserPoolID: poolID, UserName: userName, UserAttributes: tc.attrs, Key: testKey}}
			if err := otp.NewSendReset(st, nil).Succeeded(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			var got []string
			if len(st.resets) > 0 {
				got = st.resets[0]
			}
			if len(st.resets) > 1 || !slices.Equal(got, tc.want) {
				t.Fatalf("resets %v, want %v", st.resets, tc.want)
			}
		})
	}
}

func TestSendResetFailures(t *testing.T) {
	st := newMemStore(nil)
	req := triggers.CheckRequest{Method: authflow.EmailOTP, Caller: triggers.Caller{UserName: userName, UserAttributes: emailAttrs(true), Key: testKey}}
	st.resetErr = errDown
	if err := otp.NewSendReset(st, nil).Succeeded(context.Background(), req); !errors.Is(err, errDown) {
		t.Fatalf("store failure: %v", err)
	}
	st.resetErr = nil
	req.Key = nil
	if err := otp.NewSendReset(st, nil).Succeeded(context.Background(), req); err == nil {
		t.Fatal("no key: no error")
	}
	req.Key, req.UserNotFound = testKey, true
	if err := otp.NewSendReset(st, nil).Succeeded(context.Background(), req); err != nil || len(st.resets) != 1 {
		t.Fatalf("unknown user: %v, %d resets", err, len(st.resets))
	}
	var zero *otp.SendReset
	if err := zero.Succeeded(context.Background(), req); err == nil {
		t.Fatal("nil SendReset: no error")
	}
}

// TestSendResetIsAHook: Verify calls it after an accepted answer, so the next code goes at once.
func TestSendResetIsAHook(t *testing.T) {
	e := newEnv(t, otp.Config{})
	f := newFlow(t, e.iss, e.chk, nil, nil)
	f.verify.OnSuccess = []triggers.SuccessHook{otp.NewSendReset(e.store, nil)}
	f.userName, f.attrs = userName, emailAttrs(true)
	f.start()
	f.respond("", selectMethod(authflow.EmailOTP))
	if got := f.respond(e.lastEmailCode(t), selectMethod(authflow.EmailOTP)); got != tokens {
		t.Fatalf("sign-in: %v", got)
	}
	f.start()
	f.respond("", selectMethod(authflow.EmailOTP))
	if e.ses.count() != 2 || f.round.PublicChallengeParameters[otp.PubCodeStatus] != "sent" {
		t.Fatalf("after signing in: %d emails, %v", e.ses.count(), f.round.PublicChallengeParameters)
	}
}
