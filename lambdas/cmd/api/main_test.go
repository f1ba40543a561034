package main

import (
	"testing"

	"github.com/passwordless-go/cognito/lambdas/internal/deptest"
)

// TestNoSDKServiceClients keeps the full Cognito SDK client out of the API: package awsapi makes
// its GetUser call (the revoked-token check of every mutating route), signed with the SDK core
// DynamoDB links anyway.
func TestNoSDKServiceClients(t *testing.T) {
	deptest.Check(t, []string{
		"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider",
		"github.com/aws/aws-sdk-go-v2/service/sesv2",
		"github.com/aws/aws-sdk-go-v2/service/sns",
	}, []string{
		"github.com/passwordless-go/cognito/lambdas/awsapi",
		"github.com/passwordless-go/cognito/lambdas/usertext",
	})
}
