//go:build unix

package apigw_test

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/infra/local/apigw"
	"github.com/passwordless-go/cognito/infra/local/lambdarun"
)

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// TestRealAPIFunction puts the router in front of the built api function (lambdas/cmd/api).
func TestRealAPIFunction(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the api function")
	}
	bin, err := lambdarun.Build(moduleRoot(t), "api", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	host, err := lambdarun.Start(context.Background(), lambdarun.Function{
		Path: bin,
		Env:  map[string]string{"APP_CLIENT_ID": clientID}, // no KEY_TABLE_NAME: built-in routes only
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Close() })

	key, _ := testKeys(t)
	router, err := apigw.New(apigw.Config{
		Routes:   []string{"GET /me"},
		Issuer:   issuer,
		Audience: []string{clientID, "second-client"},
		JWKS:     func() []byte { return jwks(map[string]*rsa.PublicKey{kid: &key.PublicKey}) },
		Clock:    func() time.Time { return now },
	}, host)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(router)
	t.Cleanup(srv.Close)

	get := func(tok string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatalf("answer %d is not JSON: %q\nfunction logs:\n%s", resp.StatusCode, b, host.Logs())
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		return resp.StatusCode, body
	}

	status, body := get(sign(key, rs256(), accessClaims()))
	if status != 200 || body["sub"] != sub || body["username"] != sub || body["authTime"] != now.Add(-time.Minute).Format(time.RFC3339) {
		t.Fatalf("GET /me with an access token: %d %v\nfunction logs:\n%s", status, body, host.Logs())
	}

	// An ID token passes the authorizer (aud = the client) and is refused by the function.
	status, body = get(sign(key, rs256(), idClaims()))
	if status != 401 || body["code"] != "unauthorized" {
		t.Fatalf("GET /me with an ID token: %d %v", status, body)
	}

	// An access token of another client the authorizer accepts: the function says 403.
	other := accessClaims()
	other["client_id"] = "second-client"
	status, body = get(sign(key, rs256(), other))
	if status != 403 || body["code"] != "forbidden" {
		t.Fatalf("GET /me with another client's access token: %d %v", status, body)
	}

	// A token the authorizer refuses never reaches the function.
	before := host.Stats().Invocations
	expired := accessClaims()
	expired["exp"] = now.Add(-time.Second).Unix()
	status, body = get(sign(key, rs256(), expired))
	if status != 401 || body["message"] != "Unauthorized" || host.Stats().Invocations != before {
		t.Fatalf("expired token: %d %v (invocations %d -> %d)", status, body, before, host.Stats().Invocations)
	}
	if c := router.Calls(); c["GET /me"] != 3 || c["unauthorized"] != 1 {
		t.Fatalf("Calls = %v", c)
	}
}
