package lockout_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

const (
	racePool = "eu-west-1_Ab12Cd34E"
	raceSub  = "7d9a3c1e-0b6f-4e2a-9c55-3f1e2d4b6a80"
)

var raceAccount = triggers.Account(racePool, raceSub, map[string]string{"sub": raceSub})

// countingChecker accepts exactly "right" and counts the answers it checked.
type countingChecker struct {
	mu           sync.Mutex
	right, wrong int
}

func (c *countingChecker) Check(_ context.Context, req triggers.CheckRequest) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if req.Answer == "right" {
		c.right++
		return true, nil
	}
	c.wrong++
	return false, nil
}

func (c *countingChecker) counts() (right, wrong int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.right, c.wrong
}

func (c *countingChecker) total() int {
	r, w := c.counts()
	return r + w
}

func newVerify(counter triggers.FailureCounter, chk triggers.Checker) *triggers.Verify {
	all := map[authflow.Method]triggers.Checker{}
	for _, m := range authflow.AllMethods {
		all[m] = chk
	}
	return &triggers.Verify{
		Config:   authflow.Config{Methods: authflow.AllMethods, MaxAttempts: 3, MaxResends: 2},
		Checkers: all,
		Failures: counter,
		Keys:     keyed.Static{K: testKey},
	}
}

func sessionID(i int) string { return fmt.Sprintf("s%021d", i) }

// codeEvent answers the first code round (round 2) of sign-in number i with answer.
func codeEvent(i int, answer string) events.CognitoEventUserPoolsVerifyAuthChallenge {
	ev := baseEvent(answer, authflow.EmailOTP)
	ev.Request.PrivateChallengeParameters = map[string]string{
		authflow.PrivKind: string(authflow.KindCode), authflow.PrivSessionID: sessionID(i), authflow.PrivMethod: string(authflow.EmailOTP),
		authflow.PrivGeneration: "1", authflow.PrivRound: "2",
	}
	return ev
}

// keyEvent answers the nonce round of sign-in number i with a key proof for m.
func keyEvent(i int, m authflow.Method, answer string) events.CognitoEventUserPoolsVerifyAuthChallenge {
	ev := baseEvent(answer, m)
	ev.Request.PrivateChallengeParameters = map[string]string{
		authflow.PrivKind: string(authflow.KindNonce), authflow.PrivSessionID: sessionID(i), authflow.PrivNonce: "Yc1d9mQ2v0xkz7rPp8Wn3LbT5hJf6GsA4eUoRiNwKyE",
		authflow.PrivRound: "1",
	}
	return ev
}

func baseEvent(answer string, m authflow.Method) events.CognitoEventUserPoolsVerifyAuthChallenge {
	return events.CognitoEventUserPoolsVerifyAuthChallenge{
		CognitoEventUserPoolsHeader: events.CognitoEventUserPoolsHeader{UserPoolID: racePool, UserName: raceSub},
		Request: events.CognitoEventUserPoolsVerifyAuthChallengeRequest{
			UserAttributes:  map[string]string{"sub": raceSub},
			ChallengeAnswer: answer,
			ClientMetadata:  map[string]string{authflow.MetaSignInMethod: string(m)},
		},
	}
}

// burst sends every event to Verify at the same moment and returns how many were accepted.
func burst(t *testing.T, v *triggers.Verify, evs []events.CognitoEventUserPoolsVerifyAuthChallenge) (accepted []int) {
	t.Helper()
	start := make(chan struct{})
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for i, ev := range evs {
		wg.Go(func() {
			<-start
			out, err := v.Handle(context.Background(), ev)
			if err != nil {
				t.Errorf("answer %d: %v", i, err)
			}
			if out.Response.AnswerCorrect {
				mu.Lock()
				accepted = append(accepted, i)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	return accepted
}

// raceStore is a store over dynalite, with every call delayed by delay plus a jitter of up to
// delay, so that concurrent calls reach the server in shuffled order (0: no delay), and a Verify
// trigger whose lockout counter (limit 5 per 15 minutes) uses it, checking answers with chk.
func raceStore(t *testing.T, delay time.Duration) (*store.Store, *countingChecker, *triggers.Verify) {
	t.Helper()
	window := 15 * time.Minute
	c := storetest.NewClock(windowStart(window).Add(time.Minute))
	tb := storetest.New(t, "race", store.WithClock(c.Now))
	st := tb.Store
	if delay > 0 {
		st = tb.StoreOver(storetest.SlowDB{DB: tb.DB, Delay: delay, Jitter: delay}, store.WithClock(c.Now))
	}
	counter, err := lockout.New(st, lockout.Config{Limit: 5, Window: window})
	if err != nil {
		t.Fatal(err)
	}
	chk := &countingChecker{}
	return st, chk, newVerify(counter, chk)
}

// codeEvents returns n code answers, each in its own sign-in numbered from first; answer(i) is
// the i-th one's code.
func codeEvents(first, n int, answer func(i int) string) []events.CognitoEventUserPoolsVerifyAuthChallenge {
	evs := make([]events.CognitoEventUserPoolsVerifyAuthChallenge, n)
	for i := range n {
		evs[i] = codeEvent(first+i, answer(i))
	}
	return evs
}

func held(t *testing.T, st *store.Store) int {
	t.Helper()
	n, err := st.Attempts(context.Background(), lockout.Key(testKey, raceAccount), 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// testConcurrentAnswers is attack 4: N wrong codes sent at the same moment in separate sign-ins
// never get more than the limit checked, and after the limit the right code is refused.
func testConcurrentAnswers(t *testing.T, delay time.Duration) {
	t.Run("31 wrong codes", func(t *testing.T) {
		st, chk, v := raceStore(t, delay)
		evs := codeEvents(0, 31, func(int) string { return "wrong" })
		if got := burst(t, v, evs); len(got) != 0 {
			t.Fatalf("wrong codes accepted: %v", got)
		}
		if _, wrong := chk.counts(); wrong != 5 || held(t, st) != 5 {
			t.Fatalf("31 concurrent wrong codes, limit 5: %d checked, %d slots held; want 5 and 5", wrong, held(t, st))
		}
		// After the limit: right and wrong codes at once, none checked, none accepted.
		evs = codeEvents(100, 20, func(i int) string {
			if i%2 == 0 {
				return "right"
			}
			return "wrong"
		})
		if got := burst(t, v, evs); len(got) != 0 {
			t.Fatalf("answers accepted on a locked account: %v", got)
		}
		if chk.total() != 5 {
			t.Fatalf("%d answers checked on a locked account", chk.total()-5)
		}
	})
	t.Run("the right code inside the burst", func(t *testing.T) {
		st, chk, v := raceStore(t, delay)
		evs := codeEvents(0, 31, func(i int) string {
			if i == 15 {
				return "right"
			}
			return "wrong"
		})
		accepted := burst(t, v, evs)
		right, wrong := chk.counts()
		// The right code is accepted only if it got a slot before the limit was used, and then it
		// gives the slot back: wrong codes never have more than 5 checked in all.
		if wrong > 5 || len(accepted) != right || (len(accepted) == 1 && accepted[0] != 15) {
			t.Fatalf("checked %d right and %d wrong, accepted %v", right, wrong, accepted)
		}
		if held(t, st) != wrong {
			t.Fatalf("%d slots held after %d wrong codes", held(t, st), wrong)
		}
		t.Logf("right code accepted: %v; wrong codes checked: %d", len(accepted) == 1, wrong)
	})
}

func TestConcurrentWrongAnswersDynalite(t *testing.T) { testConcurrentAnswers(t, 0) }

// TestConcurrentWrongAnswersSlowStore: the same with every DynamoDB call delayed 20-40 ms, so
// that reservations of concurrent answers overlap for long.
func TestConcurrentWrongAnswersSlowStore(t *testing.T) {
	testConcurrentAnswers(t, 20*time.Millisecond)
}

// TestCognitoRetryCountsOnce: Cognito delivering the same Verify again (same private parameters,
// round included, same answer) holds one slot, not two.
func TestCognitoRetryCountsOnce(t *testing.T) {
	st, _, v := raceStore(t, 0)
	ev := codeEvent(1, "wrong")
	for range 3 {
		if out, err := v.Handle(context.Background(), ev); err != nil || out.Response.AnswerCorrect {
			t.Fatalf("Verify = %v, %v", out.Response.AnswerCorrect, err)
		}
	}
	if held(t, st) != 1 {
		t.Fatalf("one wrong code delivered 3 times holds %d slots, want 1", held(t, st))
	}
	// The next round of the same sign-in (same session and code generation) is another attempt.
	next := codeEvent(1, "wrong")
	next.Request.PrivateChallengeParameters[authflow.PrivRound] = "3"
	if _, err := v.Handle(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	if held(t, st) != 2 {
		t.Fatalf("two rounds hold %d slots, want 2", held(t, st))
	}
	// Retried at the same time, too.
	evs := []events.CognitoEventUserPoolsVerifyAuthChallenge{}
	for range 10 {
		evs = append(evs, codeEvent(2, "wrong"))
	}
	burst(t, v, evs)
	if held(t, st) != 3 {
		t.Fatalf("10 concurrent deliveries of one answer: %d slots held, want 3", held(t, st))
	}
}

// TestKeyProofsNeverLockedDynalite is attack 10: garbage device-key and passkey answers neither
// count nor get refused; a locked account (by wrong codes) still signs in with a key.
func TestKeyProofsNeverLockedDynalite(t *testing.T) {
	st, _, v := raceStore(t, 0)
	var evs []events.CognitoEventUserPoolsVerifyAuthChallenge
	for i := range 20 {
		m := authflow.DeviceKey
		if i%2 == 1 {
			m = authflow.Passkey
		}
		evs = append(evs, keyEvent(i, m, fmt.Sprint("garbage-", i)))
	}
	burst(t, v, evs)
	if held(t, st) != 0 {
		t.Fatalf("20 garbage key proofs hold %d slots", held(t, st))
	}
	for _, m := range []authflow.Method{authflow.DeviceKey, authflow.Passkey} {
		if out, err := v.Handle(context.Background(), keyEvent(50, m, "right")); err != nil || !out.Response.AnswerCorrect {
			t.Fatalf("valid %s proof after garbage: %v, %v", m, out.Response.AnswerCorrect, err)
		}
	}
	// Lock the account with wrong codes; key proofs still work.
	for i := range 6 {
		_, _ = v.Handle(context.Background(), codeEvent(60+i, "wrong"))
	}
	if out, _ := v.Handle(context.Background(), codeEvent(70, "right")); out.Response.AnswerCorrect {
		t.Fatal("the account is not locked for codes")
	}
	for _, m := range []authflow.Method{authflow.DeviceKey, authflow.Passkey} {
		if out, err := v.Handle(context.Background(), keyEvent(80, m, "right")); err != nil || !out.Response.AnswerCorrect {
			t.Fatalf("valid %s proof on a locked account: %v, %v", m, out.Response.AnswerCorrect, err)
		}
	}
}
