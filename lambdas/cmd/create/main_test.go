package main

import (
	"testing"

	"github.com/passwordless-go/cognito/lambdas/internal/deptest"
)

// TestNoWebAuthn keeps create free of go-webauthn and what it pulls in (TPM attestation, CBOR,
// JWT...): create only publishes passkey request options (package passkeynonce), which it encodes
// itself, while Verify and the API verify what the authenticator signed. The library would add
// about 2 MB to the binary and to every cold start.
func TestNoWebAuthn(t *testing.T) {
	deptest.Check(t,
		[]string{"github.com/go-webauthn/", "github.com/google/go-tpm", "github.com/fxamacker/cbor"},
		[]string{"github.com/passwordless-go/cognito/lambdas/passkey/passkeynonce"})
}

// TestNoSDKServiceClients keeps the full SES v2 and SNS (and Cognito) SDK clients out of create:
// package awsapi makes its one call to each, signed with the SDK core DynamoDB links anyway,
// for about 1.6 MB less binary.
func TestNoSDKServiceClients(t *testing.T) {
	deptest.Check(t, deptest.SDKServiceClients(), []string{"github.com/passwordless-go/cognito/lambdas/awsapi"})
}

// TestLinksMetrics: create counts sign-ins and sends (package metrics, standard library only) and
// flushes them through audit.Wrap, which needs no service client the binary does not have.
func TestLinksMetrics(t *testing.T) {
	deptest.Check(t, nil, []string{
		"github.com/passwordless-go/cognito/lambdas/metrics",
		"github.com/passwordless-go/cognito/lambdas/audit",
	})
}
