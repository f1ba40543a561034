package lockout_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

// windowStart is the start of a window of length d.
func windowStart(d time.Duration) time.Time { return time.Unix(1_800_000_000, 0).Truncate(d) }

// TestTableHoldsKeyedAccount (attack 9): the table holds the account only as an HMAC under the
// deployment secret; a window's slots end with the window.
func TestTableHoldsKeyedAccount(t *testing.T) {
	window := 15 * time.Minute
	c := storetest.NewClock(windowStart(window).Add(time.Minute))
	tb := storetest.New(t, "lockout", store.WithClock(c.Now))
	st := tb.Store
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
	dump := tb.Text(t)
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
	c.Add(window)
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
	c := storetest.NewClock(windowStart(window).Add(10 * time.Second))
	st := storetest.New(t, "lockout", store.WithClock(c.Now)).Store
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
	c.Set(windowStart(window).Add(window))
	if !answer(authflow.EmailOTP, "right") {
		t.Fatal("right code refused in a new window")
	}
}
