package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoWebAuthn keeps create free of go-webauthn and what it pulls in (TPM attestation, CBOR,
// JWT...): create only publishes passkey request options (package passkeynonce), which it encodes
// itself, while Verify and the API verify what the authenticator signed. The library would add
// about 2 MB to the binary and to every cold start.
func TestNoWebAuthn(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("implausible dependency list: %v", deps)
	}
	var sawNonce bool
	for _, d := range deps {
		for _, banned := range []string{"github.com/go-webauthn/", "github.com/google/go-tpm", "github.com/fxamacker/cbor"} {
			if strings.HasPrefix(d, banned) {
				t.Errorf("create depends on %s", d)
			}
		}
		sawNonce = sawNonce || d == "github.com/passwordless-go/cognito/lambdas/passkey/passkeynonce"
	}
	if !sawNonce {
		t.Error("create does not depend on passkeynonce: is the passkey hook still wired?")
	}
}

// TestNoSDKServiceClients keeps the full SES v2 and SNS (and Cognito) SDK clients out of create:
// package awsapi makes its one call to each, signed with the SDK core DynamoDB links anyway,
// for about 1.6 MB less binary.
func TestNoSDKServiceClients(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var sawAPI bool
	for _, d := range strings.Fields(string(out)) {
		for _, banned := range []string{"sesv2", "sns", "cognitoidentityprovider"} {
			p := "github.com/aws/aws-sdk-go-v2/service/" + banned
			if d == p || strings.HasPrefix(d, p+"/") {
				t.Errorf("create depends on %s", d)
			}
		}
		sawAPI = sawAPI || d == "github.com/passwordless-go/cognito/lambdas/awsapi"
	}
	if !sawAPI {
		t.Error("create does not depend on awsapi: how does it send codes?")
	}
}
