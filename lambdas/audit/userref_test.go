package audit_test

import (
	"testing"

	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// TestUserRefMatchesLogs: audit.UserRef equals the reference in the functions' log lines, so an
// audit event joins them.
func TestUserRefMatchesLogs(t *testing.T) {
	k := keyed.MustStatic("0123456789abcdef0123456789abcdef-test").K
	if a, b := audit.UserRef(k, "eu-west-1_AbC123", "alice"), triggers.UserRef(k, "eu-west-1_AbC123", "alice"); a != b || a == "" {
		t.Errorf("audit %q, triggers %q", a, b)
	}
}
