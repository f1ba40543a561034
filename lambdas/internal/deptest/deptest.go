// Package deptest checks what a Lambda command links, from its tests: `go list -deps` with the
// build tags the construct uses.
package deptest

import (
	"os/exec"
	"strings"
	"testing"
)

// Check lists the dependencies of the package in the test's working directory and fails the test
// for each one at or below a forbidden path (e.g. "github.com/aws/aws-sdk-go-v2/service/sns"
// matches that package and its subpackages), and for each required package that is missing.
func Check(t *testing.T, forbidden, required []string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("implausible dependency list: %v", deps)
	}
	seen := map[string]bool{}
	for _, d := range deps {
		seen[d] = true
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, strings.TrimSuffix(f, "/")+"/") {
				t.Errorf("depends on %s (forbidden: %s)", d, f)
			}
		}
	}
	for _, r := range required {
		if !seen[r] {
			t.Errorf("does not depend on %s", r)
		}
	}
}

// SDKServiceClients returns, as a new slice, the AWS SDK service clients a Lambda command must not
// link when it reaches SES v2, SNS or Cognito through package awsapi instead (one signed call
// each, with the SDK core DynamoDB links anyway): sesv2, sns and cognitoidentityprovider.
func SDKServiceClients() []string {
	return []string{
		"github.com/aws/aws-sdk-go-v2/service/sesv2",
		"github.com/aws/aws-sdk-go-v2/service/sns",
		"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider",
	}
}
