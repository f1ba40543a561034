package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoSDKServiceClients keeps the full Cognito (and SES v2 and SNS) SDK clients out of verify:
// package awsapi makes its one Cognito call, signed with the SDK core DynamoDB links anyway,
// for about 1 MB less binary.
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
				t.Errorf("verify depends on %s", d)
			}
		}
		sawAPI = sawAPI || d == "github.com/passwordless-go/cognito/lambdas/awsapi"
	}
	if !sawAPI {
		t.Error("verify does not depend on awsapi: how does it mark addresses verified?")
	}
}
