//go:build unix

package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/infra/local/signin"
	"github.com/passwordless-go/cognito/infra/smoke"
	"maps"
)

// shortSendDelays are the second harness's SEND_DELAYS: short enough to wait out, so tests can
// see a recipient get codes again after the announced wait.
const shortSendDelays = "2s,3s,4s"

// shortMaxDelay is the last of shortSendDelays.
const shortMaxDelay = 4 * time.Second

// stack is one running harness and the app signing users in on it (signin.Client: Cognito,
// Initiate, Respond).
type stack struct {
	h *harness.Harness
	signin.Client
}

// newStack is h with a Cognito client of its own.
func newStack(h *harness.Harness) *stack {
	return &stack{h: h, Client: signin.Client{Cognito: newCognito(h.CognitoURL), ClientID: h.ClientID}}
}

var (
	shortOnce sync.Once
	short     *stack
	shortErr  error
)

// shortStack returns the second harness (construct defaults, SEND_DELAYS=shortSendDelays on the
// functions that send codes, its own deployment secret), starting it on first use.
func shortStack(t testing.TB) *stack {
	t.Helper()
	need(t)
	shortOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		env := map[string]string{"SEND_DELAYS": shortSendDelays}
		for k, v := range e2eEnv {
			env[k] = v
		}
		h, err := harness.Start(ctx, harness.Options{
			Props:          harness.DefaultProps(),
			Root:           os.Getenv(EnvFunctionsRoot),
			MaxConcurrency: 4,
			Env:            map[string]map[string]string{"create": env, "api": env},
		})
		if err != nil {
			shortErr = err
			return
		}
		short = newStack(h)
	})
	if shortErr != nil {
		t.Fatalf("second harness did not start: %v", shortErr)
	}
	return short
}

// startShortDelayStack starts a harness of its own for t, closed when t ends: props with the
// e2e environment and SEND_DELAYS=shortSendDelays on the functions that send codes, the
// user pool on clock; it fails the test (naming the harness what) when it does not start.
func startShortDelayStack(t *testing.T, what string, props *passwordless.Props, clock func() time.Time) *stack {
	t.Helper()
	need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env := map[string]string{"SEND_DELAYS": shortSendDelays}
	maps.Copy(env, e2eEnv)
	h, err := harness.Start(ctx, harness.Options{
		Props:          props,
		Root:           os.Getenv(EnvFunctionsRoot),
		Clock:          clock,
		MaxConcurrency: 4,
		Env:            map[string]map[string]string{"create": env, "api": env},
	})
	if err != nil {
		t.Fatalf("the %s did not start: %v", what, err)
	}
	t.Cleanup(func() { h.Close() })
	t.Logf("%s started in %s", what, h.Startup.Total.Round(time.Millisecond))
	return newStack(h)
}

func closeShort() {
	if short != nil {
		short.h.Close()
	}
}

// mainStack is the shared harness as a stack.
func mainStack(t testing.TB) *stack {
	t.Helper()
	h := need(t)
	return &stack{h: h, Client: signin.Client{Cognito: cog, ClientID: h.ClientID}}
}

func (s *stack) signUp(t testing.TB, name string) *user {
	t.Helper()
	u := &user{}
	if name[0] == '+' {
		u.phone = name
	} else {
		u.email = name
	}
	out, err := s.Cognito.SignUp(ctxT(t, 20*time.Second), &cip.SignUpInput{
		ClientId: aws.String(s.h.ClientID), Username: aws.String(name), Password: aws.String(smoke.RandomPassword()),
	})
	if err != nil {
		t.Fatalf("SignUp %s: %v", name, err)
	}
	u.sub = aws.ToString(out.UserSub)
	return u
}

// respond answers round r's challenge.
func (s *stack) respond(ctx context.Context, r *round, answer string, meta map[string]string) (*cip.RespondToAuthChallengeOutput, error) {
	return s.Respond(ctx, r.session, r.username, answer, meta)
}

// chooseCode runs InitiateAuth for name and chooses the code method m; it returns the CODE round
// or an error (a busy machine may fail a trigger: callers that do not test that retry).
func (s *stack) chooseCode(ctx context.Context, name, m string) (*round, error) {
	init, err := s.Initiate(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("InitiateAuth %s: %w", name, err)
	}
	r := &round{session: init.Session, username: init.ChallengeParameters["USERNAME"], params: init.ChallengeParameters}
	sel, err := s.respond(ctx, r, m, method(m))
	if err != nil {
		return nil, fmt.Errorf("choose %s: %w", m, err)
	}
	if signin.Tokens(sel) || sel.ChallengeParameters["kind"] != "CODE" {
		return nil, fmt.Errorf("choose %s: want a CODE challenge, got %s %v", m, sel.ChallengeName, sel.ChallengeParameters)
	}
	r.next(sel)
	return r, nil
}

// startCode is chooseCode that fails the test on error.
func (s *stack) startCode(t testing.TB, ctx context.Context, name, m string) *round {
	t.Helper()
	r, err := s.chooseCode(ctx, name, m)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// messages is how many messages went to `to`.
func (s *stack) messages(to string) int { return len(s.h.AWS.MessagesTo(to)) }

// code returns the code of the n-th message to `to`, waiting up to 10 s for it.
func (s *stack) code(t testing.TB, to string, n int) string {
	t.Helper()
	return signin.WaitCode(context.Background(), t, s.h, to, n, 10*time.Second)
}

// resendAfter reads a CODE round's resendAfter (whole seconds); it fails the test when it is
// missing or not a number in [0, limit].
func resendAfter(t testing.TB, p map[string]string, limit time.Duration) time.Duration {
	t.Helper()
	v, ok := p["resendAfter"]
	if !ok {
		t.Fatalf("CODE round without resendAfter: %v", p)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || time.Duration(n)*time.Second > limit {
		t.Fatalf("resendAfter %q: want whole seconds in [0, %s]", v, limit)
	}
	return time.Duration(n) * time.Second
}

// codeStatus reads a CODE round's codeStatus; it fails the test unless it is "sent" (a code went
// out), "kept" (none went out; the code sent earlier in this sign-in still works) or "wait"
// (none went out and this sign-in has none: ask for a resend after resendAfter).
func codeStatus(t testing.TB, p map[string]string) string {
	t.Helper()
	v := p["codeStatus"]
	if v != "sent" && v != "kept" && v != "wait" {
		t.Fatalf("codeStatus %q, want \"sent\", \"kept\" or \"wait\" (%v)", v, p)
	}
	return v
}

// noCode reports whether a codeStatus says that no code went out in the round.
func noCode(status string) bool { return status == "kept" || status == "wait" }

// codeRound starts a code sign-in of u with method m and returns the round and the code that
// answers it: the new message's, or, when the recipient's send delay had not passed (codeStatus
// "wait" or "kept": no code went out, and none was sent earlier in this sign-in), the code of a
// resend asked for after waiting the announced resendAfter. Waiting is the only way to get a code
// then; the wait is at most the first send delay (60 s by default, 2 s on shortStack).
func (s *stack) codeRound(t testing.TB, ctx context.Context, u *user, m string) (*round, string) {
	t.Helper()
	to := recipient(u, m)
	before := s.messages(to)
	r := s.startCode(t, ctx, u.name(), m)
	if noCode(r.params["codeStatus"]) {
		wait := resendAfter(t, r.params, maxSendDelay)
		t.Logf("%s: no code sent (send delay); waiting %s to ask for a new one", to, wait)
		time.Sleep(wait + time.Second)
		out, err := s.respond(ctx, r, "resend", resendMeta(m))
		if err != nil || signin.Tokens(out) || out.ChallengeParameters["kind"] != "CODE" {
			t.Fatalf("resend after the wait: tokens=%v err=%v", signin.Tokens(out), err)
		}
		r.next(out)
		if st := codeStatus(t, r.params); st != "sent" {
			t.Fatalf("resend after waiting resendAfter: codeStatus %q, want sent", st)
		}
	}
	return r, signin.WaitCode(ctx, t, s.h, to, before+1, 10*time.Second)
}

// codeSignIn signs u in with code method m and returns the tokens.
func (s *stack) codeSignIn(t testing.TB, u *user, m string) *types.AuthenticationResultType {
	t.Helper()
	ctx := ctxT(t, 2*time.Minute)
	r, code := s.codeRound(t, ctx, u, m)
	out, err := s.respond(ctx, r, code, method(m))
	if err != nil || !signin.Tokens(out) {
		t.Fatalf("answer the %s code: tokens=%v err=%v", m, signin.Tokens(out), err)
	}
	return out.AuthenticationResult
}
