package lockout_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

// clock is a settable clock for store.WithClock.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *clock) now() time.Time             { return time.Unix(0, c.ns.Load()) }
func (c *clock) add(d time.Duration)        { c.ns.Add(int64(d)) }
func (c *clock) set(t time.Time)            { c.ns.Store(t.UnixNano()) }
func windowStart(d time.Duration) time.Time { return time.Unix(1_800_000_000, 0).Truncate(d) }

func dynaliteStore(t *testing.T, c *clock) (*store.Store, *dynamodb.Client, string) {
	t.Helper()
	srv := dynalitetest.Shared(t)
	db := srv.Client()
	table := dynalitetest.NewTable(t, db, store.TableDefinition("lockout"))
	return store.New(db, table, store.WithClock(c.now)), db, table
}

// scanAll returns every attribute value in the table as text.
func scanAll(t *testing.T, db *dynamodb.Client, table string) string {
	t.Helper()
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, item := range out.Items {
		for k, v := range item {
			b.WriteString(k + "=")
			switch v := v.(type) {
			case *types.AttributeValueMemberS:
				b.WriteString(v.Value)
			case *types.AttributeValueMemberN:
				b.WriteString(v.Value)
			case *types.AttributeValueMemberB:
				b.Write(v.Value)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func TestConcurrentFailuresDynalite(t *testing.T) {
	window := 15 * time.Minute
	c := newClock(windowStart(window).Add(time.Minute))
	st, db, table := dynaliteStore(t, c)
	counter, err := lockout.New(st, lockout.Config{Limit: 5, Window: window})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	account := triggers.Account("eu-west-1_Ab12Cd34E", "alice@example.com", nil)

	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- counter.RecordFailure(ctx, account)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("RecordFailure: %v", err)
		}
	}
	got, err := st.Failures(ctx, lockout.Key(account), window)
	if err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("after %d concurrent failures the count is %d", n, got)
	}
	if locked, err := counter.Locked(ctx, account); err != nil || !locked {
		t.Fatalf("Locked = %v, %v; want true", locked, err)
	}
	other := triggers.Account("eu-west-1_Ab12Cd34E", "bob@example.com", nil)
	if locked, err := counter.Locked(ctx, other); err != nil || locked {
		t.Fatalf("other account Locked = %v, %v; want false", locked, err)
	}

	dump := scanAll(t, db, table)
	for _, plain := range []string{account, "alice", "example.com"} {
		if strings.Contains(dump, plain) {
			t.Fatalf("table holds %q in plain text:\n%s", plain, dump)
		}
	}
	if !strings.Contains(dump, lockout.Key(account)) {
		t.Fatalf("table does not hold the hashed key:\n%s", dump)
	}

	// The next window starts unlocked.
	c.add(window)
	if locked, err := counter.Locked(ctx, account); err != nil || locked {
		t.Fatalf("next window: Locked = %v, %v; want false", locked, err)
	}
	if got, _ := st.Failures(ctx, lockout.Key(account), window); got != 0 {
		t.Fatalf("next window: count %d, want 0", got)
	}
}

// verifyEvent is a VerifyAuthChallengeResponse event answering a device-key nonce round.
func verifyEvent(answer string) events.CognitoEventUserPoolsVerifyAuthChallenge {
	return events.CognitoEventUserPoolsVerifyAuthChallenge{
		CognitoEventUserPoolsHeader: events.CognitoEventUserPoolsHeader{
			UserPoolID: "eu-west-1_Ab12Cd34E",
			UserName:   "7d9a3c1e-0b6f-4e2a-9c55-3f1e2d4b6a80",
		},
		Request: events.CognitoEventUserPoolsVerifyAuthChallengeRequest{
			UserAttributes: map[string]string{"sub": "7d9a3c1e-0b6f-4e2a-9c55-3f1e2d4b6a80"},
			PrivateChallengeParameters: map[string]string{
				authflow.PrivKind: string(authflow.KindNonce), authflow.PrivSessionID: "q3Vx-_9aZk0bT1c2D3e4Fg", authflow.PrivNonce: "n",
			},
			ChallengeAnswer: answer,
			ClientMetadata:  map[string]string{authflow.MetaSignInMethod: string(authflow.DeviceKey)},
		},
	}
}

// answerChecker accepts exactly "right".
type answerChecker struct{}

func (answerChecker) Check(_ context.Context, req triggers.CheckRequest) (bool, error) {
	return req.Answer == "right", nil
}

// TestVerifyLockoutDynalite drives the real Verify trigger: after Limit wrong answers even the
// right answer is refused, until the window ends.
func TestVerifyLockoutDynalite(t *testing.T) {
	window := 5 * time.Minute
	c := newClock(windowStart(window).Add(10 * time.Second))
	st, _, _ := dynaliteStore(t, c)
	counter, err := lockout.New(st, lockout.Config{Limit: 3, Window: window})
	if err != nil {
		t.Fatal(err)
	}
	v := &triggers.Verify{
		Config:   authflow.Config{Methods: []authflow.Method{authflow.DeviceKey}, MaxAttempts: 3, MaxResends: 0},
		Checkers: map[authflow.Method]triggers.Checker{authflow.DeviceKey: answerChecker{}},
		Failures: counter,
	}
	ctx := context.Background()
	answer := func(a string) bool {
		t.Helper()
		out, err := v.Handle(ctx, verifyEvent(a))
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		return out.Response.AnswerCorrect
	}
	if !answer("right") {
		t.Fatal("right answer refused before any failure")
	}
	for i := range 3 {
		if answer(fmt.Sprintf("wrong-%d", i)) {
			t.Fatal("wrong answer accepted")
		}
	}
	if answer("right") {
		t.Fatal("right answer accepted while the account is locked")
	}
	c.set(windowStart(window).Add(window))
	if !answer("right") {
		t.Fatal("right answer refused in a new window")
	}
}
