//go:build unix

package browser

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/infra/smoke"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
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

// needDynalite skips the test when dynalite is not installed, or fails it when REQUIRE_DYNALITE=1.
func needDynalite(t testing.TB) {
	t.Helper()
	if _, err := dynalitetest.BinaryPath(); err != nil {
		if os.Getenv(dynalitetest.EnvRequire) == "1" {
			t.Fatalf("dynalite: %v (%s=1)", err, dynalitetest.EnvRequire)
		}
		t.Skipf("skipping: %v (set %s=1 to make this a failure)", err, dynalitetest.EnvRequire)
	}
}

// syncBuffer is an io.Writer safe for the harness's concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// tail returns the last n lines.
func (b *syncBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(b.buf.String(), "\n"), "\n") {
		if !strings.Contains(l, "dbus/") { // Chromium's noise without a D-Bus
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// stack is the harness and the app's Cognito client.
type stack struct {
	h   *harness.Harness
	cog *cip.Client
}

func newCognito(endpoint string) *cip.Client {
	return cip.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCALBROWSER", "local-browser-secret", ""),
	}, func(o *cip.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

func uniqueEmail(tag string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%s@example.com", tag, hex.EncodeToString(b))
}

// signUp creates a user whose Username is the email address and returns its sub.
func (s *stack) signUp(ctx context.Context, t testing.TB, email string) string {
	t.Helper()
	out, err := s.cog.SignUp(ctx, &cip.SignUpInput{
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

func (s *stack) initiate(ctx context.Context, username string) (*cip.InitiateAuthOutput, error) {
	return s.cog.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeCustomAuth,
		ClientId:       aws.String(s.h.ClientID),
		AuthParameters: map[string]string{"USERNAME": username},
	})
}

func (s *stack) respond(ctx context.Context, session *string, username, answer string, meta map[string]string) (*cip.RespondToAuthChallengeOutput, error) {
	return s.cog.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
		ClientId:           aws.String(s.h.ClientID),
		ChallengeName:      types.ChallengeNameTypeCustomChallenge,
		Session:            session,
		ChallengeResponses: map[string]string{"USERNAME": username, "ANSWER": answer},
		ClientMetadata:     meta,
	})
}

func tokens(o *cip.RespondToAuthChallengeOutput) bool {
	return o != nil && o.AuthenticationResult != nil
}

func isNotAuthorized(err error) bool {
	var na *types.NotAuthorizedException
	return errors.As(err, &na)
}

// emailCodeSignIn signs email in with an emailed code (the n-th message to it) and returns the
// tokens, as an app does: InitiateAuth, choose email_otp, answer the code.
func (s *stack) emailCodeSignIn(ctx context.Context, t testing.TB, email string, n int) *types.AuthenticationResultType {
	t.Helper()
	init, err := s.initiate(ctx, email)
	if err != nil {
		t.Fatalf("InitiateAuth %s: %v", email, err)
	}
	username := init.ChallengeParameters["USERNAME"]
	meta := map[string]string{"signInMethod": "email_otp"}
	sel, err := s.respond(ctx, init.Session, username, "email_otp", meta)
	if err != nil {
		t.Fatalf("choose email_otp: %v", err)
	}
	if tokens(sel) || sel.ChallengeParameters["kind"] != "CODE" {
		t.Fatalf("choose email_otp: want a CODE challenge, got %s %v", sel.ChallengeName, sel.ChallengeParameters)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msg, err := s.h.AWS.WaitMessage(wctx, email, n)
	if err != nil {
		t.Fatalf("message %d to %s: %v", n, email, err)
	}
	code, ok := smoke.ExtractCode(msg.Text)
	if !ok {
		t.Fatalf("no code in the message to %s: %q", email, msg.Text)
	}
	out, err := s.respond(ctx, sel.Session, username, code, meta)
	if err != nil || !tokens(out) {
		t.Fatalf("answer the email code: tokens=%v err=%v", tokens(out), err)
	}
	return out.AuthenticationResult
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// api sends a request to the local HTTP API (with a bearer token unless token is "") and returns
// the status and the raw body.
func (s *stack) api(ctx context.Context, t testing.TB, method, path, token string, body []byte) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.h.APIURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp.StatusCode, raw
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

// jwtClaims decodes a JWT's payload without checking it.
func jwtClaims(t testing.TB, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// jsString quotes s as a JavaScript string literal (JSON strings are JavaScript strings; Go's
// encoder escapes U+2028 and U+2029 too).
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
