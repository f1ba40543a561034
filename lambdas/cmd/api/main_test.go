package main

import (
	"testing"

	"github.com/passwordless-go/cognito/lambdas/internal/deptest"
)

// TestNoSDKServiceClients keeps the full Cognito SDK client out of the API: package awsapi makes
// its GetUser call (the revoked-token check of every mutating route), signed with the SDK core
// DynamoDB links anyway.
func TestNoSDKServiceClients(t *testing.T) {
	deptest.Check(t, deptest.SDKServiceClients(), []string{
		"github.com/passwordless-go/cognito/lambdas/awsapi",
		"github.com/passwordless-go/cognito/lambdas/usertext",
	})
}
