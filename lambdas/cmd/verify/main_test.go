package main

import (
	"testing"

	"github.com/passwordless-go/cognito/lambdas/internal/deptest"
)

// TestNoSDKServiceClients keeps the full Cognito (and SES v2 and SNS) SDK clients out of verify:
// package awsapi makes its one Cognito call, signed with the SDK core DynamoDB links anyway,
// for about 1 MB less binary.
func TestNoSDKServiceClients(t *testing.T) {
	deptest.Check(t, deptest.SDKServiceClients(), []string{"github.com/passwordless-go/cognito/lambdas/awsapi"})
}

// TestLinksMetricsAndAudit: verify counts outcomes (package metrics) and publishes audit events
// through awsapi's PutEvents (package audit), without the SDK's EventBridge client.
func TestLinksMetricsAndAudit(t *testing.T) {
	deptest.Check(t, []string{"github.com/aws/aws-sdk-go-v2/service/eventbridge"}, []string{
		"github.com/passwordless-go/cognito/lambdas/metrics",
		"github.com/passwordless-go/cognito/lambdas/audit",
	})
}
