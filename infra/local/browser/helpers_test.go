//go:build unix

package browser

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/infra/local/signin"
	"github.com/passwordless-go/cognito/infra/smoke"
	"net"
	"net/http"
	"net/http/httptest"
)

// Environment of the test.
const (
	EnvChromiumBin     = "CHROMIUM_BIN"     // explicit path to Chromium
	EnvRequireChromium = "REQUIRE_CHROMIUM" // "1": a missing Chromium fails the test
)

// findChromium returns the Chromium to run: $CHROMIUM_BIN if set, else /usr/bin/chromium, else
// chromium or chromium-browser on PATH. It skips the test when there is none, or fails it when
// REQUIRE_CHROMIUM=1.
func findChromium(t testing.TB) string {
	t.Helper()
	var tried []string
	usable := func(p string) bool {
		st, err := os.Stat(p)
		return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
	}
	if p := os.Getenv(EnvChromiumBin); p != "" {
		if usable(p) {
			return p
		}
		tried = append(tried, EnvChromiumBin+"="+p)
	} else {
		if usable("/usr/bin/chromium") {
			return "/usr/bin/chromium"
		}
		tried = append(tried, "/usr/bin/chromium")
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				return p
			}
			tried = append(tried, name+" on PATH")
		}
	}
	msg := skipChromiumMessage(tried)
	if os.Getenv(EnvRequireChromium) == "1" {
		t.Fatalf("%s (%s=1 makes a missing Chromium a failure)", msg, EnvRequireChromium)
	}
	t.Skip(msg)
	return ""
}

// skipChromiumMessage is the one line a run without Chromium reports: what was skipped, where
// Chromium was looked for and how to install it. go test shows a skip only with -v (in package
// list mode a passing package's output is hidden, os.Stderr included), so the line that `make
// test` must show has to come from outside go test (the Makefile).
func skipChromiumMessage(tried []string) string {
	return "SKIPPED the browser tests of passkeys and magic links (infra/local/browser): Chromium not found (tried " + strings.Join(tried, ", ") +
		"); install it with `apt-get install chromium` (Debian/Ubuntu) or set " + EnvChromiumBin + ", and set " + EnvRequireChromium + "=1 to make its absence a failure"
}

// stack is the harness and the app signing users in (signin.Client: Initiate, Respond).
type stack struct {
	h *harness.Harness
	signin.Client
}

// newStack is h with the app's Cognito client.
func newStack(h *harness.Harness) *stack {
	return &stack{h: h, Client: signin.Client{Cognito: signin.NewCognito(h.CognitoURL, "AKIDLOCALBROWSER"), ClientID: h.ClientID}}
}

func uniqueEmail(tag string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%s@example.com", tag, hex.EncodeToString(b))
}

// signUp creates a user whose Username is the email address and returns its sub.
func (s *stack) signUp(ctx context.Context, t testing.TB, email string) string {
	t.Helper()
	out, err := s.Cognito.SignUp(ctx, &cip.SignUpInput{
		ClientId: aws.String(s.h.ClientID),
		Username: aws.String(email),
		Password: aws.String(smoke.RandomPassword()),
		// No email attribute: the pool sets it from the Username; the app client may not write it.
	})
	if err != nil {
		t.Fatalf("SignUp %s: %v", email, err)
	}
	if !out.UserConfirmed {
		t.Fatalf("SignUp %s: not confirmed (PreSignUp should auto-confirm)", email)
	}
	return aws.ToString(out.UserSub)
}

// emailCodeSignIn signs email in with an emailed code (the n-th message to it) and returns the
// tokens, as an app does: InitiateAuth, choose email_otp, answer the code.
func (s *stack) emailCodeSignIn(ctx context.Context, t testing.TB, email string, n int) *types.AuthenticationResultType {
	t.Helper()
	init, err := s.Initiate(ctx, email)
	if err != nil {
		t.Fatalf("InitiateAuth %s: %v", email, err)
	}
	username := init.ChallengeParameters["USERNAME"]
	meta := map[string]string{"signInMethod": "email_otp"}
	sel, err := s.Respond(ctx, init.Session, username, "email_otp", meta)
	if err != nil {
		t.Fatalf("choose email_otp: %v", err)
	}
	if signin.Tokens(sel) || sel.ChallengeParameters["kind"] != "CODE" {
		t.Fatalf("choose email_otp: want a CODE challenge, got %s %v", sel.ChallengeName, sel.ChallengeParameters)
	}
	code := signin.WaitCode(ctx, t, s.h, email, n, 10*time.Second)
	out, err := s.Respond(ctx, sel.Session, username, code, meta)
	if err != nil || !signin.Tokens(out) {
		t.Fatalf("answer the email code: tokens=%v err=%v", signin.Tokens(out), err)
	}
	return out.AuthenticationResult
}

// api sends a request to the local HTTP API (with a bearer token unless token is "") and returns
// the status and the raw body.
func (s *stack) api(ctx context.Context, t testing.TB, method, path, token string, body []byte) (int, []byte) {
	t.Helper()
	status, raw, err := signin.API(ctx, s.h.APIURL, method, path, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return status, raw
}

// apiJSON is api with a JSON answer decoded into out; it fails the test unless the status is want.
func (s *stack) apiJSON(ctx context.Context, t testing.TB, method, path, token string, body []byte, want int, out any) []byte {
	t.Helper()
	status, raw := s.api(ctx, t, method, path, token, body)
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, raw, err)
		}
	}
	return raw
}

// route is what a test page server answers at one path: the content type and the body.
type route struct {
	contentType string
	body        func() []byte
}

// testPageJS is the script every test page loads from /testpage.js: its log and pageInfo, what
// the Go side calls.
//
//go:embed testpage.js
var testPageJS []byte

// serveLocalhost serves routes on 127.0.0.1 until t ends (never cached; /testpage.js is
// testPageJS, /favicon.ico is 204 No Content, any other path 404) and returns the origin as the
// browser sees it, http://localhost:<port>.
func serveLocalhost(t *testing.T, routes map[string]route) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		rt, ok := routes[r.URL.Path]
		switch {
		case ok:
			w.Header().Set("Content-Type", rt.contentType)
			_, _ = w.Write(rt.body())
		case r.URL.Path == "/testpage.js":
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			_, _ = w.Write(testPageJS)
		case r.URL.Path == "/favicon.ico":
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return fmt.Sprintf("http://localhost:%d", srv.Listener.Addr().(*net.TCPAddr).Port)
}

// jsString quotes s as a JavaScript string literal (JSON strings are JavaScript strings; Go's
// encoder escapes U+2028 and U+2029 too).
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
