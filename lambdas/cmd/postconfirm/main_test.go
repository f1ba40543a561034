package main

import (
	"testing"

	"github.com/passwordless-go/cognito/lambdas/internal/deptest"
)

// TestNoSDKServiceClients keeps postconfirm to the SDK core: its two Cognito calls go through
// package awsapi, and it reaches no table, secret, mail or SMS service.
func TestNoSDKServiceClients(t *testing.T) {
	deptest.Check(t, []string{
		"github.com/aws/aws-sdk-go-v2/service",
		"github.com/aws/aws-sdk-go-v2/config",
		"github.com/passwordless-go/cognito/lambdas/store",
		"github.com/passwordless-go/cognito/lambdas/keyed",
		"github.com/passwordless-go/cognito/lambdas/otp",
	}, []string{
		"github.com/passwordless-go/cognito/lambdas/awsapi",
		"github.com/passwordless-go/cognito/lambdas/postconfirm",
	})
}
