package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoAWSSDK keeps define free of the AWS SDK: it decides from the event alone, so it can
// neither be slowed by a dependency nor fail open through one, and its binary stays small.
func TestNoAWSSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("implausible dependency list: %v", deps)
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/aws/aws-sdk-go-v2") || strings.HasPrefix(d, "github.com/aws/smithy-go") {
			t.Errorf("define depends on %s", d)
		}
	}
}
