//go:build unix

package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/infra/local/lambdarun"
)

// TestPackaging: the harness runs the built bootstraps (each function ran in its own processes),
// and a bootstrap started without a variable it requires dies at init with a CrashError naming
// it, as it would on Lambda.
func TestPackaging(t *testing.T) {
	h := need(t)
	for _, c := range []string{"define", "create", "verify", "presignup", "api"} {
		if h.Bootstraps[c] == "" {
			t.Fatalf("no bootstrap for %s", c)
		}
	}
	for _, tc := range []struct{ command, drop string }{
		{"api", "APP_CLIENT_ID"},
		{"verify", "KEY_TABLE_NAME"},
		{"create", "EMAIL_FROM"},
	} {
		t.Run(tc.command+" without "+tc.drop, func(t *testing.T) {
			env := h.Env(tc.command)
			if _, ok := env[tc.drop]; !ok {
				t.Fatalf("%s has no %s in the template", tc.command, tc.drop)
			}
			delete(env, tc.drop)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			host, err := lambdarun.Start(ctx, lambdarun.Function{Path: h.Bootstraps[tc.command], Env: env, MaxConcurrency: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer host.Close()
			_, err = host.Invoke(ctx, []byte(`{}`))
			var ce *lambdarun.CrashError
			if !errors.As(err, &ce) {
				t.Fatalf("want a *lambdarun.CrashError, got %T %v", err, err)
			}
			if !strings.Contains(ce.Error(), tc.drop) {
				t.Fatalf("crash does not name %s: %v", tc.drop, ce)
			}
			t.Logf("%v", ce)
		})
	}
}
