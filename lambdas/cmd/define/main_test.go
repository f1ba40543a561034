package main

import (
	"testing"

	"github.com/passwordless-go/cognito/lambdas/internal/deptest"
)

// TestNoAWSSDK keeps define free of the AWS SDK: it decides from the event alone, so it can
// neither be slowed by a dependency nor fail open through one, and its binary stays small.
func TestNoAWSSDK(t *testing.T) {
	deptest.Check(t, []string{"github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go"}, nil)
}
