package main

import (
	"testing"

	"github.com/passwordless-go/cognito/lambdas/internal/deptest"
)

// TestNoSDKServiceClients keeps the full Cognito (and SES v2 and SNS) SDK clients out of verify:
// package awsapi makes its one Cognito call, signed with the SDK core DynamoDB links anyway,
// for about 1 MB less binary.
func TestNoSDKServiceClients(t *testing.T) {
	deptest.Check(t, []string{
		"github.com/aws/aws-sdk-go-v2/service/sesv2",
		"github.com/aws/aws-sdk-go-v2/service/sns",
		"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider",
	}, []string{"github.com/passwordless-go/cognito/lambdas/awsapi"})
}
