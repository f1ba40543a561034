package idp_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// exposed is what the real endpoint answers in Access-Control-Expose-Headers (see doc.go).
const exposed = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"

// browserPost sends a JSON API call the way a browser's fetch does from another origin.
func browserPost(t *testing.T, e *env, origin, target, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestCORSPreflight: a browser's preflight for the JSON API gets what the real endpoint answers
// (doc.go, "CORS"): any origin, POST, the requested headers echoed, the AWS
// response headers exposed, cached two days; no operation runs.
func TestCORSPreflight(t *testing.T) {
	e := newEnv(t, nil)
	requested := "content-type,x-amz-target,x-amz-user-agent"
	req, err := http.NewRequest(http.MethodOptions, e.srv.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", "http://localhost:5173")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", requested)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	h := resp.Header
	want := map[string]string{
		"Access-Control-Allow-Origin":   "*",
		"Access-Control-Allow-Methods":  "POST",
		"Access-Control-Allow-Headers":  requested,
		"Access-Control-Expose-Headers": exposed,
		"Access-Control-Max-Age":        "172800",
	}
	if resp.StatusCode != http.StatusOK || len(b) != 0 {
		t.Errorf("preflight: %d %q, want 200 and no body", resp.StatusCode, b)
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("preflight %s: %q, want %q", k, got, v)
		}
	}
	if h.Get("X-Amzn-Requestid") == "" {
		t.Error("preflight without x-amzn-RequestId")
	}
	if n := len(e.pool.Stats().Calls); n != 0 {
		t.Errorf("a preflight ran operations: %v", e.pool.Stats().Calls)
	}
}

// TestCORSResponses: the JSON API's answers, successes and errors alike, carry
// Access-Control-Allow-Origin and expose the error headers, so a page's script can read them.
func TestCORSResponses(t *testing.T) {
	e := newEnv(t, nil)
	origin := "http://localhost:5173"
	for name, tc := range map[string]struct {
		target, body string
		status       int
	}{
		"success": {"AWSCognitoIdentityProviderService.InitiateAuth",
			`{"AuthFlow":"CUSTOM_AUTH","ClientId":"` + e.pool.ClientID() + `","AuthParameters":{"USERNAME":"x@example.com"}}`, 200},
		"client error": {"AWSCognitoIdentityProviderService.RespondToAuthChallenge",
			`{"ClientId":"` + e.pool.ClientID() + `","ChallengeName":"CUSTOM_CHALLENGE","Session":"bogus","ChallengeResponses":{"USERNAME":"x","ANSWER":"y"}}`, 400},
		"unknown operation": {"AWSCognitoIdentityProviderService.Nope", `{}`, 400},
	} {
		resp := browserPost(t, e, origin, tc.target, tc.body)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", name, resp.StatusCode, tc.status)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("%s: Access-Control-Allow-Origin %q, want *", name, got)
		}
		if got := resp.Header.Get("Access-Control-Expose-Headers"); got != exposed {
			t.Errorf("%s: Access-Control-Expose-Headers %q, want %q", name, got, exposed)
		}
	}
}
