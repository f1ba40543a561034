//go:build unix

package smoke

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
)

// The local harness (built functions, emulated pool, dynalite) is started once, by the first test
// that needs it; tests that need dynalite skip unless REQUIRE_DYNALITE=1 (then they fail).
var (
	harnessOnce sync.Once
	localH      *harness.Harness
	localErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if localH != nil {
		_ = localH.Close()
	}
	os.Exit(code)
}

func local(t *testing.T) *harness.Harness {
	t.Helper()
	dynalitetest.Require(t)
	harnessOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		localH, localErr = harness.Start(ctx, harness.Options{})
	})
	if localErr != nil {
		t.Fatalf("harness did not start: %v", localErr)
	}
	return localH
}

// runLocal runs the whole smoke test against the harness through cog (nil: the plain client).
func runLocal(t *testing.T, wrap func(CognitoAPI) CognitoAPI) (*Report, string, error) {
	h := local(t)
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cog := CognitoAPI(NewCognitoClient(h.Region, h.CognitoURL))
	if wrap != nil {
		cog = wrap(cog)
	}
	rep, err := Run(ctx, Config{
		Outputs:  Outputs{UserPoolID: h.PoolID, ClientID: h.ClientID, APIURL: h.APIURL + "/", Region: h.Region},
		Endpoint: h.CognitoURL,
		Email:    "smoke-" + randomHex(6) + "@example.com",
		Codes:    &Mailbox{AWS: h.AWS},
		Out:      &out,
		Cognito:  cog,
	})
	t.Logf("smoke output:\n%s", out.String())
	return rep, out.String(), err
}

func lastStep(t *testing.T, rep *Report) Step {
	t.Helper()
	if rep == nil || len(rep.Steps) != 8 || rep.Steps[7].Name != "unknown user" {
		t.Fatalf("report %+v: want 8 steps ending with the unknown-user check", rep)
	}
	return rep.Steps[7]
}

// Against the emulator, which shows an unknown address a version-3 USERNAME as Cognito did in
// aws/aws-sdk-go issue 3134: the run passes and warns that the deployment leaks existence.
func TestLocalUnknownUserWarnsOnUsernameVersion(t *testing.T) {
	rep, out, err := runLocal(t, nil)
	if err != nil || rep.Failed() {
		t.Fatalf("smoke failed: %v", err)
	}
	st := lastStep(t, rep)
	if !rep.Warned() || !strings.Contains(st.Warning, "version-4 UUID for a real user and a version-3 UUID for an unknown address") {
		t.Fatalf("warning %q", st.Warning)
	}
	for _, want := range []string{"\nWARN unknown user ", "\nWARN this deployment leaks which addresses have an account.", "nothing sent to it", "with a warning"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// sameName is a Cognito whose USERNAME for an unknown address is a version-4 UUID like a real
// user's: the fake rewrites the emulator's version digit on the way out and back in.
type sameName struct {
	CognitoAPI
	mu    sync.Mutex
	shown map[string]string // shown name -> the emulator's
}

func (c *sameName) InitiateAuth(ctx context.Context, in *cip.InitiateAuthInput, o ...func(*cip.Options)) (*cip.InitiateAuthOutput, error) {
	out, err := c.CognitoAPI.InitiateAuth(ctx, in, o...)
	if err == nil {
		c.rewrite(out.ChallengeParameters)
	}
	return out, err
}

func (c *sameName) RespondToAuthChallenge(ctx context.Context, in *cip.RespondToAuthChallengeInput, o ...func(*cip.Options)) (*cip.RespondToAuthChallengeOutput, error) {
	c.mu.Lock()
	if orig, ok := c.shown[in.ChallengeResponses["USERNAME"]]; ok {
		in.ChallengeResponses = clone(in.ChallengeResponses)
		in.ChallengeResponses["USERNAME"] = orig
	}
	c.mu.Unlock()
	out, err := c.CognitoAPI.RespondToAuthChallenge(ctx, in, o...)
	if err == nil {
		c.rewrite(out.ChallengeParameters)
	}
	return out, err
}

func (c *sameName) rewrite(p map[string]string) {
	u := p["USERNAME"]
	if len(u) != 36 || u[14] != '3' {
		return
	}
	v4 := u[:14] + "4" + u[15:]
	c.mu.Lock()
	c.shown[v4] = u
	c.mu.Unlock()
	p["USERNAME"] = v4
}

// With a Cognito that shows both the same kind of USERNAME, the check is plainly ok.
func TestLocalUnknownUserOKWhenNamesMatch(t *testing.T) {
	rep, out, err := runLocal(t, func(c CognitoAPI) CognitoAPI { return &sameName{CognitoAPI: c, shown: map[string]string{}} })
	if err != nil || rep.Failed() {
		t.Fatalf("smoke failed: %v", err)
	}
	st := lastStep(t, rep)
	if rep.Warned() || st.Warning != "" || strings.Contains(out, "WARN") || !strings.Contains(out, "\nok   unknown user ") ||
		!strings.Contains(out, "USERNAME version-4 UUID for both") {
		t.Fatalf("warning %q", st.Warning)
	}
}

// extraKey adds a parameter to the code round of unknown addresses only, as a toolkit bug that
// published "this user does not exist" would.
type extraKey struct {
	CognitoAPI
	mu      sync.Mutex
	unknown map[string]bool // USERNAMEs shown to names starting "nobody-"
}

func (c *extraKey) InitiateAuth(ctx context.Context, in *cip.InitiateAuthInput, o ...func(*cip.Options)) (*cip.InitiateAuthOutput, error) {
	out, err := c.CognitoAPI.InitiateAuth(ctx, in, o...)
	if err == nil && strings.HasPrefix(in.AuthParameters["USERNAME"], "nobody-") {
		c.mu.Lock()
		c.unknown[out.ChallengeParameters["USERNAME"]] = true
		c.mu.Unlock()
	}
	return out, err
}

func (c *extraKey) RespondToAuthChallenge(ctx context.Context, in *cip.RespondToAuthChallengeInput, o ...func(*cip.Options)) (*cip.RespondToAuthChallengeOutput, error) {
	out, err := c.CognitoAPI.RespondToAuthChallenge(ctx, in, o...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil && c.unknown[in.ChallengeResponses["USERNAME"]] && out.ChallengeParameters["kind"] == "CODE" {
		out.ChallengeParameters["userNotFound"] = "true"
	}
	return out, err
}

// A difference the toolkit controls (a parameter only unknown addresses get) fails the run.
func TestLocalUnknownUserFailsWhenKeysDiffer(t *testing.T) {
	rep, out, err := runLocal(t, func(c CognitoAPI) CognitoAPI { return &extraKey{CognitoAPI: c, unknown: map[string]bool{}} })
	if err == nil || !rep.Failed() {
		t.Fatal("the run passed")
	}
	st := lastStep(t, rep)
	if st.Err == nil || !strings.Contains(st.Err.Error(), "round 2 (email_otp) parameter keys differ") || !strings.Contains(st.Err.Error(), "userNotFound") ||
		!strings.Contains(out, "\nFAIL unknown user ") {
		t.Fatalf("step error %v", st.Err)
	}
	// The USERNAME version difference is still reported alongside.
	if !strings.Contains(out, "\nWARN this deployment leaks") {
		t.Error("warning missing from a failed check")
	}
}
