//go:build unix

package e2e

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/infra/smoke"
)

// TestSmoke runs the smoke test users run after deploying, against the harness, with the codes
// read from the captured messages.
func TestSmoke(t *testing.T) {
	h := need(t)
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := smoke.Run(ctx, smoke.Config{
		Outputs:  smoke.Outputs{UserPoolID: h.PoolID, ClientID: h.ClientID, APIURL: h.APIURL + "/", Region: h.Region},
		Endpoint: h.CognitoURL,
		Email:    uniqueEmail("smoke"),
		Codes:    &smoke.Mailbox{AWS: h.AWS},
		Out:      &out,
	})
	t.Logf("smoke output:\n%s", out.String())
	// 8 steps: the last, the unknown-user check, warns (the emulator's version-3 USERNAME for
	// unknown users, as Cognito's) without failing.
	if err != nil || rep.Failed() || len(rep.Steps) != 8 {
		t.Fatalf("smoke: %v", err)
	}
}
