//go:build unix

// Package e2e tests the whole stack end to end on the local harness: the construct as
// synthesized, the built bootstraps, dynalite, the emulated user pool and the HTTP API. Every test
// talks to it as an app would: the real cognitoidentityprovider SDK client with BaseEndpoint set
// to the harness's Cognito URL, and plain net/http for the API.
//
// One harness serves the whole test binary (TestMain) with the construct's defaults; tests create
// fresh users with unique addresses. A second harness (shortStack) with short SEND_DELAYS, and
// its own deployment secret, starts on first use for the tests that wait a send delay out or
// compare two deployments.
//
// No assertion depends on how fast the machine is: tests wait for events (a message, a send delay
// the answer announced) instead of measuring time, and a sign-in that a busy machine fails
// cleanly (a trigger timeout) is retried by the client where the test is about something else.
//
// Tests that need dynalite skip unless REQUIRE_DYNALITE=1 (then they fail), like
// lambdas/dynalitetest.
package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"regexp"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/infra/local/signin"
	"github.com/passwordless-go/cognito/infra/smoke"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
)

var (
	// H is the harness shared by the test binary (nil when skipped or failed to start).
	H *harness.Harness
	// clock drives the user pool and the authorizer; tests that move it restore it.
	clock    harness.ShiftClock
	startErr error
	skipMsg  string
	// cog is the app's Cognito client; app signs users in with it.
	cog *cip.Client
	app *signin.Client
)

// Limits of the e2e harness (the construct's defaults).
const (
	maxAttempts   = 3 // wrong answers per sign-in
	maxResends    = 2 // new codes per sign-in
	lockoutLimit  = 5 // wrong answers per account per window (FAILURE_LIMIT)
	triggerBudget = 5 * time.Second
	// maxSendDelay is the last (largest) of the default SEND_DELAYS: no answer may announce a
	// longer wait.
	maxSendDelay = 900 * time.Second
)

// e2eEnv raises the deployment-wide budget of SMS to numbers not yet verified (default
// 1h:20,24h:100) so that the tests' many first SMS sign-ins (TestLoad alone has 67) get codes;
// everything else is the construct's default.
var e2eEnv = map[string]string{"SMS_UNVERIFIED_LIMITS": "1h:1000,24h:1000"}

// EnvFunctionsRoot names another checkout of this module to build the functions from (the
// construct, the pool model and the tests stay this checkout's): set it to an older commit's tree
// to see which attack tests its functions fail. Empty: this checkout.
const EnvFunctionsRoot = "E2E_FUNCTIONS_ROOT"

func e2eOptions() *harness.Options {
	return &harness.Options{Props: harness.DefaultProps(), Clock: clock.Now, MaxConcurrency: 8,
		Root: os.Getenv(EnvFunctionsRoot),
		Env:  map[string]map[string]string{"create": e2eEnv, "api": e2eEnv}}
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if _, err := dynalitetest.BinaryPath(); err != nil {
		if os.Getenv(dynalitetest.EnvRequire) == "1" {
			startErr = err
		} else {
			skipMsg = fmt.Sprintf("skipping: %v (set %s=1 to make this a failure)", err, dynalitetest.EnvRequire)
		}
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	H, startErr = harness.Start(ctx, *e2eOptions())
	if startErr != nil {
		H = nil
		return m.Run()
	}
	defer H.Close()
	s := H.Startup
	fmt.Printf("e2e: harness started in %s (synth %s, build %s, dynalite %s)\n",
		s.Total.Round(time.Millisecond), s.Synth.Round(time.Millisecond), s.Build.Round(time.Millisecond), s.Dynalite.Round(time.Millisecond))
	cog = newCognito(H.CognitoURL)
	app = &signin.Client{Cognito: cog, ClientID: H.ClientID}
	defer closeShort()
	return m.Run()
}

// need returns the harness or skips/fails the test.
func need(t testing.TB) *harness.Harness {
	t.Helper()
	switch {
	case skipMsg != "":
		t.Skip(skipMsg)
	case startErr != nil:
		t.Fatalf("harness did not start: %v", startErr)
	}
	return H
}

// newCognito is the app's Cognito client for endpoint.
func newCognito(endpoint string) *cip.Client { return signin.NewCognito(endpoint, "AKIDLOCALE2E") }

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var seq atomic.Int64

// uniqueEmail returns an address no other test uses.
func uniqueEmail(tag string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s@example.com", tag, seq.Add(1), hex.EncodeToString(b))
}

var phoneBase = func() int64 {
	n, _ := rand.Int(rand.Reader, big.NewInt(5_000_000))
	return n.Int64()
}()

// uniquePhone returns an E.164 number no other test uses that the functions send codes to: a
// valid US number (area code 201, exchange 200-799; libphonenumber's FIXED_LINE_OR_MOBILE) in
// the default SMS_ALLOWED_COUNTRIES. (+1 555 ... is no valid area code: it would be refused.)
func uniquePhone() string {
	return fmt.Sprintf("+1201%07d", 2_000_000+phoneBase+seq.Add(1))
}

// user is a signed-up user.
type user struct {
	email, phone string
	sub          string
}

// name is what the user signs in with.
func (u *user) name() string {
	if u.email != "" {
		return u.email
	}
	return u.phone
}

// signUp creates a user with an email address and/or a phone number (the first one given is the
// Username).
func signUp(t testing.TB, email, phone string) *user {
	t.Helper()
	u := &user{email: email, phone: phone}
	out, err := cog.SignUp(ctxT(t, 20*time.Second), signUpInput(u))
	if err != nil {
		t.Fatalf("SignUp %s: %v", u.name(), err)
	}
	if !out.UserConfirmed {
		t.Fatalf("SignUp %s: not confirmed (PreSignUp should auto-confirm)", u.name())
	}
	u.sub = aws.ToString(out.UserSub)
	return u
}

// signUpInput is the SignUp call an app makes: the address or number as Username (the pool sets
// the email or phone_number attribute from it; the app client may not write either), a random
// password meeting the policy (never used), no attributes. A user signs up with one address.
func signUpInput(u *user) *cip.SignUpInput {
	return &cip.SignUpInput{
		ClientId: aws.String(H.ClientID),
		Username: aws.String(u.name()),
		Password: aws.String(smoke.RandomPassword()),
	}
}

func newEmailUser(t testing.TB, tag string) *user { return signUp(t, uniqueEmail(tag), "") }
func newPhoneUser(t testing.TB) *user             { return signUp(t, "", uniquePhone()) }

func method(m string) map[string]string { return map[string]string{"signInMethod": m} }
func resendMeta(m string) map[string]string {
	return map[string]string{"signInMethod": m, "action": "resend"}
}

// recipient is where u's code for method m goes.
func recipient(u *user, m string) string {
	if m == "sms_otp" {
		return u.phone
	}
	return u.email
}

// extract returns the code in a message text ("" if none).
func extract(text string) string {
	c, _ := smoke.ExtractCode(text)
	return c
}

// round is a sign-in in progress: the latest challenge.
type round struct {
	session  *string
	username string // ChallengeParameters.USERNAME
	params   map[string]string
}

func (r *round) next(o *cip.RespondToAuthChallengeOutput) {
	r.session, r.params = o.Session, o.ChallengeParameters
}

// startCode runs InitiateAuth and chooses the code method m; it fails the test unless a CODE
// challenge comes back.
func startCode(t testing.TB, ctx context.Context, name, m string) *round {
	t.Helper()
	init, err := app.Initiate(ctx, name)
	if err != nil {
		t.Fatalf("InitiateAuth %s: %v", name, err)
	}
	r := &round{session: init.Session, username: init.ChallengeParameters["USERNAME"], params: init.ChallengeParameters}
	sel, err := app.Respond(ctx, r.session, r.username, m, method(m))
	if err != nil {
		t.Fatalf("choose %s: %v", m, err)
	}
	if signin.Tokens(sel) || sel.ChallengeName != types.ChallengeNameTypeCustomChallenge || sel.ChallengeParameters["kind"] != "CODE" {
		t.Fatalf("choose %s: want a CODE challenge, got %s %v", m, sel.ChallengeName, sel.ChallengeParameters)
	}
	r.next(sel)
	return r
}

// emailCodeRound signs up an email user tagged tag and starts its email_otp sign-in; it returns
// the user, the sign-in's round and the code sent for it (the user's first message).
func emailCodeRound(t testing.TB, ctx context.Context, tag string) (*user, *round, string) {
	t.Helper()
	u := newEmailUser(t, tag)
	r := startCode(t, ctx, u.email, "email_otp")
	return u, r, codeN(t, u.email, 1)
}

// codeN returns the code in the n-th message to `to`, waiting up to 5 s.
func codeN(t testing.TB, to string, n int) string {
	t.Helper()
	return signin.WaitCode(context.Background(), t, H, to, n, 5*time.Second)
}

func messages(to string) int { return len(H.AWS.MessagesTo(to)) }

// wrongCode returns a code of the right length that differs from c.
func wrongCode(c string) string {
	b := []byte(c)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

// codeRound starts a code sign-in of u with method m on the shared harness and returns the round
// and the code that answers it (see stack.codeRound).
func codeRound(t testing.TB, ctx context.Context, u *user, m string) (*round, string) {
	t.Helper()
	return mainStack(t).codeRound(t, ctx, u, m)
}

// codeSignIn signs u in with code method m on the shared harness and returns the tokens.
func codeSignIn(t testing.TB, u *user, m string) *types.AuthenticationResultType {
	t.Helper()
	return mainStack(t).codeSignIn(t, u, m)
}

// apiCall sends a request to the shared harness's HTTP API with a bearer token and returns the
// status and the JSON body (nil when empty).
func apiCall(t testing.TB, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	return apiJSON(t, H.APIURL, method, path, token, body)
}

// apiJSON is apiRawAt with the answer decoded as a JSON object (nil when empty); it fails the test
// when the answer is not JSON.
func apiJSON(t testing.TB, base, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	status, raw := apiRawAt(t, base, method, path, token, body)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: %d, body not JSON: %q", method, path, status, raw)
		}
	}
	return status, m
}

// apiRaw sends a request to the shared harness's HTTP API (see apiRawAt).
func apiRaw(t testing.TB, method, path, token string, body any) (int, []byte) {
	t.Helper()
	return apiRawAt(t, H.APIURL, method, path, token, body)
}

// apiRawAt sends a request to the HTTP API at base with a bearer token (none when "") and body as
// JSON (none when nil), within 30 s, and returns the status and the raw answer.
func apiRawAt(t testing.TB, base, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	status, raw, err := signin.API(ctx, base, method, path, token, b)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return status, raw
}

// keysOf returns m's keys, sorted.
func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// waitWindow makes sure at least `need` remains in the current fixed window of length w (windows
// are aligned to the Unix epoch, as the functions' limits are), sleeping into the next window
// if not (at most `need`, which callers keep under 5 s).
func waitWindow(t testing.TB, w, need time.Duration) {
	t.Helper()
	now := time.Now()
	left := now.Truncate(w).Add(w).Sub(now)
	if left < need {
		t.Logf("waiting %s for the next %s window", left.Round(time.Millisecond), w)
		time.Sleep(left + 50*time.Millisecond)
	}
}
