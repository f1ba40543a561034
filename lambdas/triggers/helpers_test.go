package triggers_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// Values used in the testdata fixtures.
const (
	poolID   = "eu-west-1_Ab12Cd34E"
	userName = "7d9a3c1e-0b6f-4e2a-9c55-3f1e2d4b6a80"
	userSub  = "7d9a3c1e-0b6f-4e2a-9c55-3f1e2d4b6a80"
	clientID = "4f3k2j1h0g9f8e7d6c5b4a3210"
	sid      = "q3Vx-_9aZk0bT1c2D3e4Fg"
)

var allCfg = authflow.Config{Methods: authflow.AllMethods, MaxAttempts: 3, MaxResends: 2}

// testKey is the deployment key of the tests; testKeys hands it out.
var (
	testKeys = keyed.MustStatic("triggers-test-deployment-secret-0123456789")
	testKey  = testKeys.K
)

// fixture reads testdata/name and unmarshals it into a T, as the Lambda runtime does.
func fixture[T any](tb testing.TB, name string) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(fixtureBytes(tb, name), &v); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return v
}

func fixtureBytes(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func header(trigger string) events.CognitoEventUserPoolsHeader {
	return events.CognitoEventUserPoolsHeader{
		Version:       "1",
		TriggerSource: trigger,
		Region:        "eu-west-1",
		UserPoolID:    poolID,
		CallerContext: events.CognitoEventUserPoolsCallerContext{AWSSDKVersion: "aws-sdk-js-3.540.0", ClientID: clientID},
		UserName:      userName,
	}
}

func attrs() map[string]string {
	return map[string]string{"sub": userSub, "email": "alice@example.com", "email_verified": "true", "cognito:user_status": "CONFIRMED"}
}

func nonceMeta(r authflow.Reason) string {
	return authflow.Challenge{Kind: authflow.KindNonce, SessionID: sid, Reason: r}.String()
}

func codeChallenge(r authflow.Reason, m authflow.Method, gen int) authflow.Challenge {
	return authflow.Challenge{Kind: authflow.KindCode, SessionID: sid, Reason: r, Method: m, Generation: gen}
}

func rnd(metadata string, result bool) *events.CognitoEventUserPoolsChallengeResult {
	return &events.CognitoEventUserPoolsChallengeResult{ChallengeName: authflow.ChallengeName, ChallengeResult: result, ChallengeMetadata: metadata}
}

func sess(rs ...*events.CognitoEventUserPoolsChallengeResult) []*events.CognitoEventUserPoolsChallengeResult {
	return rs
}

func cm(m authflow.Method, action string) map[string]string {
	c := map[string]string{authflow.MetaSignInMethod: string(m)}
	if action != "" {
		c[authflow.MetaAction] = action
	}
	return c
}

func defineEvent(session []*events.CognitoEventUserPoolsChallengeResult, meta map[string]string, userNotFound bool) events.CognitoEventUserPoolsDefineAuthChallenge {
	return events.CognitoEventUserPoolsDefineAuthChallenge{
		CognitoEventUserPoolsHeader: header("DefineAuthChallenge_Authentication"),
		Request: events.CognitoEventUserPoolsDefineAuthChallengeRequest{
			UserAttributes: attrs(), Session: session, ClientMetadata: meta, UserNotFound: userNotFound,
		},
	}
}

func createEvent(session []*events.CognitoEventUserPoolsChallengeResult, meta map[string]string, userNotFound bool) events.CognitoEventUserPoolsCreateAuthChallenge {
	return events.CognitoEventUserPoolsCreateAuthChallenge{
		CognitoEventUserPoolsHeader: header("CreateAuthChallenge_Authentication"),
		Request: events.CognitoEventUserPoolsCreateAuthChallengeRequest{
			UserAttributes: attrs(), ChallengeName: authflow.ChallengeName, Session: session, ClientMetadata: meta, UserNotFound: userNotFound,
		},
	}
}

func verifyEvent(private map[string]string, answer any, meta map[string]string, userNotFound bool) events.CognitoEventUserPoolsVerifyAuthChallenge {
	return events.CognitoEventUserPoolsVerifyAuthChallenge{
		CognitoEventUserPoolsHeader: header("VerifyAuthChallengeResponse_Authentication"),
		Request: events.CognitoEventUserPoolsVerifyAuthChallengeRequest{
			UserAttributes: attrs(), PrivateChallengeParameters: private, ChallengeAnswer: answer, ClientMetadata: meta, UserNotFound: userNotFound,
		},
	}
}

// noncePrivate is what Create writes for the first round.
func noncePrivate(nonce string) map[string]string {
	return map[string]string{authflow.PrivKind: string(authflow.KindNonce), authflow.PrivSessionID: sid, authflow.PrivNonce: nonce, authflow.PrivRound: "1"}
}

// codePrivate is what Create writes for a CODE round (plus whatever the issuer adds), in round 2.
func codePrivate(m authflow.Method, gen string) map[string]string {
	return map[string]string{authflow.PrivKind: string(authflow.KindCode), authflow.PrivSessionID: sid, authflow.PrivMethod: string(m),
		authflow.PrivGeneration: gen, authflow.PrivRound: "2"}
}

// fakeIssuer records its requests and returns fixed parameters.
type fakeIssuer struct {
	mu   sync.Mutex
	reqs []triggers.IssueRequest
	out  triggers.Issued
	err  error
}

func (f *fakeIssuer) Issue(_ context.Context, req triggers.IssueRequest) (triggers.Issued, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, req)
	return triggers.Issued{Public: maps.Clone(f.out.Public), Private: maps.Clone(f.out.Private)}, f.err
}

// fakeChecker records its requests and answers ok/err.
type fakeChecker struct {
	mu    sync.Mutex
	calls []triggers.CheckRequest
	ok    bool
	err   error
}

func (f *fakeChecker) Check(_ context.Context, req triggers.CheckRequest) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, req)
	return f.ok, f.err
}

func (f *fakeChecker) n() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// fakeCounter is a FailureCounter with limit slots (0: unlimited) held in memory, recording every
// call.
type fakeCounter struct {
	mu         sync.Mutex
	limit      int
	locked     bool // refuse every reservation
	reserveErr error
	releaseErr error
	slots      map[string]map[string]bool // account -> attempt IDs held
	reserved   []string                   // account/attemptID per Reserve call
	released   []string                   // account/attemptID per Release call
	keys       []*keyed.Key
}

func (f *fakeCounter) Reserve(_ context.Context, k *keyed.Key, account, attemptID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reserved = append(f.reserved, account+"/"+attemptID)
	f.keys = append(f.keys, k)
	if f.reserveErr != nil {
		return false, f.reserveErr
	}
	if f.locked {
		return false, nil
	}
	if f.slots == nil {
		f.slots = map[string]map[string]bool{}
	}
	held := f.slots[account]
	if held == nil {
		held = map[string]bool{}
		f.slots[account] = held
	}
	if !held[attemptID] && f.limit > 0 && len(held) >= f.limit {
		return false, nil
	}
	held[attemptID] = true
	return true, nil
}

func (f *fakeCounter) Release(_ context.Context, k *keyed.Key, account, attemptID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released = append(f.released, account+"/"+attemptID)
	f.keys = append(f.keys, k)
	if f.releaseErr != nil {
		return f.releaseErr
	}
	delete(f.slots[account], attemptID)
	return nil
}

// held returns the number of slots account holds.
func (f *fakeCounter) held(account string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.slots[account])
}

// fakeHook is a SuccessHook recording its requests.
type fakeHook struct {
	mu    sync.Mutex
	calls []triggers.CheckRequest
	err   error
}

func (h *fakeHook) Succeeded(_ context.Context, req triggers.CheckRequest) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, req)
	return h.err
}

func (h *fakeHook) n() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.calls)
}

var errBoom = errors.New("dependency down")

// failingReader yields ok bytes of zeros and then fails.
type failingReader struct{ ok int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.ok <= 0 {
		return 0, errors.New("entropy exhausted")
	}
	n := min(len(p), r.ok)
	clear(p[:n])
	r.ok -= n
	return n, nil
}

// preSignUpEvent builds a PreSignUp event (log_test checks PreSignUp's log lines too).
func preSignUpEvent(source string, a map[string]string) events.CognitoEventUserPoolsPreSignup {
	ev := events.CognitoEventUserPoolsPreSignup{CognitoEventUserPoolsHeader: header(source)}
	ev.Request.UserAttributes = a
	return ev
}
