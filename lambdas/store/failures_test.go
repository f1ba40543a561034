package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
)

// TestReserveAttemptConcurrent: many concurrent reservations for distinct attempts never hold
// more than the limit between them (one conditional write each, no read before it).
func TestReserveAttemptConcurrent(t *testing.T) {
	e := setup(t)
	const n, limit = 40, 5
	window := 15 * time.Minute
	granted := wins(t, "ReserveAttempt", n, func(i int) (bool, error) {
		return e.s.ReserveAttempt(ctx(), "acct", fmt.Sprintf("sid-%d/2", i), limit, window)
	})
	if granted != limit {
		t.Fatalf("%d concurrent reservations, limit %d: %d granted", n, limit, granted)
	}
	if got, err := e.s.Attempts(ctx(), "acct", window); err != nil || got != limit {
		t.Fatalf("Attempts = %d, %v; want %d", got, err, limit)
	}
}

func TestReserveAttemptSemantics(t *testing.T) {
	e := setup(t)
	window := 10 * time.Minute
	reserve := func(id string) bool {
		t.Helper()
		ok, err := e.s.ReserveAttempt(ctx(), "acct", id, 2, window)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	attempts := func() int {
		t.Helper()
		n, err := e.s.Attempts(ctx(), "acct", window)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if attempts() != 0 {
		t.Fatal("fresh account has attempts")
	}
	if !reserve("a/2") || !reserve("a/2") || attempts() != 1 {
		t.Fatalf("a retried reservation took a second slot: %d", attempts())
	}
	if !reserve("b/2") || attempts() != 2 {
		t.Fatal("second slot refused")
	}
	if reserve("c/2") {
		t.Fatal("third slot granted with limit 2")
	}
	// A retry of a granted attempt is still granted when the limit is reached.
	if !reserve("a/2") || attempts() != 2 {
		t.Fatal("retry of a held slot refused at the limit")
	}
	// Releasing frees a slot; releasing twice, or a slot never held, changes nothing.
	for range 2 {
		if err := e.s.ReleaseAttempt(ctx(), "acct", "b/2", window); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.s.ReleaseAttempt(ctx(), "acct", "never/1", window); err != nil {
		t.Fatal(err)
	}
	if attempts() != 1 || !reserve("c/2") || reserve("d/2") {
		t.Fatal("release did not free exactly one slot")
	}
	// Releasing the last slots leaves no slots; a release on an account with no item creates none.
	for _, id := range []string{"a/2", "c/2"} {
		if err := e.s.ReleaseAttempt(ctx(), "acct", id, window); err != nil {
			t.Fatal(err)
		}
	}
	if attempts() != 0 || !reserve("e/2") {
		t.Fatal("emptied set does not start over")
	}
	if err := e.s.ReleaseAttempt(ctx(), "other", "x/1", window); err != nil {
		t.Fatal(err)
	}
	windowSK := fmt.Sprintf("W#%d", day0.Unix())
	if item := e.Item(t, "FAILS#other", windowSK); item != nil {
		t.Fatalf("release on an account without slots wrote %v", item)
	}
	// The item carries a TTL of window end + one window.
	item := e.Item(t, "FAILS#acct", windowSK)
	if ttl, ok := item[store.TTLAttribute].(*types.AttributeValueMemberN); !ok || ttl.Value != fmt.Sprint(day0.Unix()+1200) {
		t.Fatalf("item %v: want expiresAt %d", item, day0.Unix()+1200)
	}
	// The next window starts empty.
	e.clk.Add(window)
	if attempts() != 0 || !reserve("c/2") || !reserve("d/2") || reserve("f/2") {
		t.Fatal("next window does not start empty")
	}
}

func TestReserveAttemptValidation(t *testing.T) {
	e := setup(t)
	w := time.Minute
	long := make([]byte, store.MaxAttemptIDBytes+1)
	for i := range long {
		long[i] = 'a'
	}
	for name, err := range map[string]error{
		"no account": func() error { _, err := e.s.ReserveAttempt(ctx(), "", "a/1", 5, w); return err }(),
		"no id":      func() error { _, err := e.s.ReserveAttempt(ctx(), "acct", "", 5, w); return err }(),
		"long id":    func() error { _, err := e.s.ReserveAttempt(ctx(), "acct", string(long), 5, w); return err }(),
		"bad utf-8":  func() error { _, err := e.s.ReserveAttempt(ctx(), "acct", "\xff", 5, w); return err }(),
		"limit 0":    func() error { _, err := e.s.ReserveAttempt(ctx(), "acct", "a/1", 0, w); return err }(),
		"limit big": func() error {
			_, err := e.s.ReserveAttempt(ctx(), "acct", "a/1", store.MaxAttemptLimit+1, w)
			return err
		}(),
		"window":       func() error { _, err := e.s.ReserveAttempt(ctx(), "acct", "a/1", 5, time.Millisecond); return err }(),
		"release id":   e.s.ReleaseAttempt(ctx(), "acct", "", w),
		"release acct": e.s.ReleaseAttempt(ctx(), "", "a/1", w),
		"count window": func() error { _, err := e.s.Attempts(ctx(), "acct", 0); return err }(),
		"count acct":   func() error { _, err := e.s.Attempts(ctx(), "", w); return err }(),
	} {
		if !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", name, err)
		}
	}
	var nilCtx context.Context
	if _, err := e.s.ReserveAttempt(nilCtx, "acct", "a/1", 5, w); err == nil {
		t.Error("nil context accepted")
	}
}

// TestReserveAttemptStoreDown: a failing table is an error, never a grant.
func TestReserveAttemptStoreDown(t *testing.T) {
	s := storetest.NoTable(t)
	ok, err := s.ReserveAttempt(ctx(), "acct", "a/1", 5, time.Minute)
	if err == nil || ok {
		t.Fatalf("ReserveAttempt on a missing table = %v, %v; want an error", ok, err)
	}
	if err := s.ReleaseAttempt(ctx(), "acct", "a/1", time.Minute); err == nil {
		t.Fatal("ReleaseAttempt on a missing table succeeded")
	}
	if _, err := s.Attempts(ctx(), "acct", time.Minute); err == nil {
		t.Fatal("Attempts on a missing table succeeded")
	}
}
