package main

import (
	"testing"

	"github.com/passwordless-go/cognito/lambdas/internal/deptest"
)

// TestNoAWSSDK keeps define free of the AWS SDK: it decides from the event alone, so it can
// neither be slowed by a dependency nor fail open through one, and its binary stays small. It
// imports package triggers/define rather than package triggers, whose Create and Verify reach
// package audit (and through it awsapi and the SDK): the subpackage of triggers it needs is
// required, and audit and awsapi forbidden.
func TestNoAWSSDK(t *testing.T) {
	deptest.Check(t, []string{
		"github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go",
		"github.com/passwordless-go/cognito/lambdas/awsapi",
		"github.com/passwordless-go/cognito/lambdas/audit",
	}, []string{"github.com/passwordless-go/cognito/lambdas/triggers/define"})
}
