//go:build unix

package main

import (
	"regexp"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/infra/local/awsmock"
	"github.com/passwordless-go/cognito/infra/local/harness"
)

// TestLines: each metric and audit event is printed as one short line.
func TestLines(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.Local)
	m := harness.Metric{Function: "verify", Name: "SignInFailed", Unit: "Count", Time: at,
		Dims: map[string]string{"Reason": "wrong_answer", "Method": "email_otp"}, Values: []float64{1}}
	if got, want := metricLine(m), "[03:04:05] metric verify SignInFailed{Method=email_otp,Reason=wrong_answer} 1 Count"; got != want {
		t.Errorf("metricLine = %q, want %q", got, want)
	}
	a := harness.ParseAuditEvent(awsmock.Event{Bus: "default", Source: "passwordless", DetailType: "sign_in.succeeded", At: at,
		Detail: `{"version":"1","type":"sign_in.succeeded","function":"verify","user":"3f9a0c51d2e7","method":"email_otp"}`})
	if got, want := auditLine(a), "[03:04:05] audit  verify sign_in.succeeded user=3f9a0c51d2e7 method=email_otp"; got != want {
		t.Errorf("auditLine = %q, want %q", got, want)
	}
	for _, l := range []string{metricLine(m), auditLine(a)} {
		if !regexp.MustCompile(`^[^\n]{1,200}$`).MatchString(l) {
			t.Errorf("not one short line: %q", l)
		}
	}
}
