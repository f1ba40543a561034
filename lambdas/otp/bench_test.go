package otp_test

import (
	"context"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// benchStore always creates and always allows, without keeping state.
type benchStore struct{}

func (benchStore) ReadSendSchedule(context.Context, string) (store.SendState, error) {
	return store.SendState{}, nil
}

func (benchStore) RecordSend(context.Context, string, store.SendSchedule, store.SendState) (store.SendDecision, error) {
	return store.SendDecision{Allowed: true, Wait: time.Minute}, nil
}

func (benchStore) CredentialCounts(context.Context, string) (int, int, error) { return 0, 0, nil }

func (benchStore) CreateOTP(_ context.Context, r store.OTPRecord) (store.OTPRecord, bool, error) {
	return r, true, nil
}

func (benchStore) GetOTP(context.Context, string, int) (store.OTPRecord, error) {
	return store.OTPRecord{}, store.ErrNotFound
}

func (benchStore) AllowSend(context.Context, string, ...store.Limit) (bool, error) { return true, nil }

func BenchmarkIssue(b *testing.B) {
	for _, m := range []authflow.Method{authflow.EmailOTP, authflow.SMSOTP} {
		b.Run(string(m), func(b *testing.B) {
			iss, err := otp.NewIssuer(otp.Config{EmailFrom: sender}, otp.IssuerDeps{Store: benchStore{}, Email: nopSES{}, SMS: nopSNS{}})
			if err != nil {
				b.Fatal(err)
			}
			req := issueReq(m, 1, phoneAttrs(phone, true, true))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := iss.Issue(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	e := newEnv(b, otp.Config{})
	req, out, code := e.issueEmail(b, true)
	ctx := context.Background()
	for _, bc := range []struct {
		name   string
		answer string
		want   bool
	}{{"right", code, true}, {"wrong", otherCode(code), false}} {
		b.Run(bc.name, func(b *testing.B) {
			cr := checkReq(req, out, bc.answer)
			b.ReportAllocs()
			for b.Loop() {
				ok, err := e.chk.Check(ctx, cr)
				if err != nil || ok != bc.want {
					b.Fatalf("Check = %v, %v", ok, err)
				}
			}
		})
	}
}

type nopSES struct{}

func (nopSES) SendEmail(context.Context, *awsapi.SendEmailInput) error { return nil }

type nopSNS struct{}

func (nopSNS) Publish(context.Context, *awsapi.PublishInput) error { return nil }
