package lockout_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
			case *types.AttributeValueMemberSS:
				b.WriteString(strings.Join(v.Value, ","))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// TestTableHoldsKeyedAccount (attack 9): the table holds the account only as an HMAC under the
// deployment secret; a window's slots end with the window.
func TestTableHoldsKeyedAccount(t *testing.T) {
	window := 15 * time.Minute
	c := newClock(windowStart(window).Add(time.Minute))
	st, db, table := dynaliteStore(t, c)
	counter, err := lockout.New(st, lockout.Config{Limit: 5, Window: window})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	account := triggers.Account("eu-west-1_Ab12Cd34E", "+447911123456", nil)
	for i := range 7 {
		ok, err := counter.Reserve(ctx, testKey, account, fmt.Sprintf("s%021d/2/x", i))
		if err != nil || ok != (i < 5) {
			t.Fatalf("slot %d: Reserve = %v, %v", i, ok, err)
		}
	}
	dump := scanAll(t, db, table)
	unkeyed := sha256.Sum256([]byte(account))
	for _, plain := range []string{account, "447911123456", "7911123456", hex.EncodeToString(unkeyed[:8])} {
		if strings.Contains(dump, plain) {
			t.Fatalf("table holds %q:\n%s", plain, dump)
		}
	}
	if !strings.Contains(dump, "FAILS#"+lockout.Key(testKey, account)) {
		t.Fatalf("table does not hold the keyed account:\n%s", dump)
	}
	// The next window starts unlocked.
	c.add(window)
	if ok, err := counter.Reserve(ctx, testKey, account, "next/2/x"); err != nil || !ok {
		t.Fatalf("next window: Reserve = %v, %v; want granted", ok, err)
	}
	if n, _ := st.Attempts(ctx, lockout.Key(testKey, account), window); n != 1 {
		t.Fatalf("next window: %d slots, want 1", n)
	}
}

// TestVerifyLockoutDynalite drives the real Verify trigger: after Limit wrong codes even the
// right code is refused, until the window ends; right codes give their slots back; a key proof
// signs in while codes are locked.
func TestVerifyLockoutDynalite(t *testing.T) {
	window := 5 * time.Minute
	c := newClock(windowStart(window).Add(10 * time.Second))
	st, _, _ := dynaliteStore(t, c)
	counter, err := lockout.New(st, lockout.Config{Limit: 3, Window: window})
	if err != nil {
		t.Fatal(err)
	}
	chk := &countingChecker{}
	v := newVerify(counter, chk)
	ctx := context.Background()
	session := 0
	answer := func(m authflow.Method, a string) bool {
		t.Helper()
		session++
		ev := codeEvent(session, a)
		if m.IsKey() {
			ev = keyEvent(session, m, a)
		}
		out, err := v.Handle(ctx, ev)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		return out.Response.AnswerCorrect
	}
	// Right codes never use up the limit.
	for range 5 {
		if !answer(authflow.EmailOTP, "right") {
			t.Fatal("right code refused before any failure")
		}
	}
	for i := range 3 {
		if answer(authflow.EmailOTP, fmt.Sprintf("wrong-%d", i)) {
			t.Fatal("wrong code accepted")
		}
	}
	checked := chk.total()
	if answer(authflow.EmailOTP, "right") || answer(authflow.SMSOTP, "right") {
		t.Fatal("right code accepted while the account is locked")
	}
	if chk.total() != checked {
		t.Fatal("a code was checked while the account is locked")
	}
	if !answer(authflow.DeviceKey, "right") || !answer(authflow.Passkey, "right") {
		t.Fatal("a valid key proof was refused while codes are locked")
	}
	c.set(windowStart(window).Add(window))
	if !answer(authflow.EmailOTP, "right") {
		t.Fatal("right code refused in a new window")
	}
}
