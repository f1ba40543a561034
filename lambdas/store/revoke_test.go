package store_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// oneWinner checks that exactly one of errs is nil and every other one is ErrNotFound.
func oneWinner(t *testing.T, what string, errs []error) {
	t.Helper()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("%s %d: %v", what, i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%s: %d of %d concurrent deletes of one credential succeeded, want exactly 1", what, won, len(errs))
	}
}

// TestDeviceKeyRevokeConcurrent (issue 10, attack 15): many simultaneous revokes of one device
// key: exactly one succeeds, the counter drops by exactly one, and the cap still holds after.
func TestDeviceKeyRevokeConcurrent(t *testing.T) {
	e := setup(t)
	const limit = 3
	for i := range limit {
		if err := e.s.PutDeviceKey(ctx(), key("u", fmt.Sprint("k", i)), limit); err != nil {
			t.Fatal(err)
		}
	}
	errs := dynalitetest.AtOnce(8, func(int) error { return e.s.DeleteDeviceKey(ctx(), "u", "k0") })
	oneWinner(t, "revoke device key", errs)
	if n := numAttr(t, e.raw(t, "USER#u", "META"), "deviceKeyCount"); n != limit-1 {
		t.Fatalf("deviceKeyCount %d after one revoke of %d keys, want %d", n, limit, limit-1)
	}
	// One free slot: exactly one more registration fits.
	if err := e.s.PutDeviceKey(ctx(), key("u", "k-new"), limit); err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutDeviceKey(ctx(), key("u", "k-over"), limit); !errors.Is(err, store.ErrLimitReached) {
		t.Fatalf("registration over the cap: %v", err)
	}
	if list, _ := e.s.ListDeviceKeys(ctx(), "u"); len(list) != limit {
		t.Fatalf("%d keys stored, cap %d", len(list), limit)
	}
}

// TestPasskeyDeleteConcurrent (issue 10, attack 15) is TestDeviceKeyRevokeConcurrent for passkeys.
func TestPasskeyDeleteConcurrent(t *testing.T) {
	e := setup(t)
	const limit = 3
	var first store.Passkey
	for i := range limit {
		p := passkey(t, "u")
		if i == 0 {
			first = p
		}
		if err := e.s.PutPasskey(ctx(), p, limit); err != nil {
			t.Fatal(err)
		}
	}
	errs := dynalitetest.AtOnce(8, func(int) error { return e.s.DeletePasskey(ctx(), "u", first.CredentialID) })
	oneWinner(t, "delete passkey", errs)
	if n := numAttr(t, e.raw(t, "USER#u", "META"), "passkeyCount"); n != limit-1 {
		t.Fatalf("passkeyCount %d after one delete of %d passkeys, want %d", n, limit, limit-1)
	}
	if err := e.s.PutPasskey(ctx(), passkey(t, "u"), limit); err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutPasskey(ctx(), passkey(t, "u"), limit); !errors.Is(err, store.ErrLimitReached) {
		t.Fatalf("registration over the cap: %v", err)
	}
	if list, _ := e.s.ListPasskeys(ctx(), "u"); len(list) != limit {
		t.Fatalf("%d passkeys stored, cap %d", len(list), limit)
	}
}

// TestDeleteKeepsCounterWithoutItem: a delete of a credential that does not exist leaves the
// counter alone (the decrement is part of the conditional transaction).
func TestDeleteKeepsCounterWithoutItem(t *testing.T) {
	e := setup(t)
	if err := e.s.PutDeviceKey(ctx(), key("u", "k0"), 3); err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutPasskey(ctx(), passkey(t, "u"), 3); err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteDeviceKey(ctx(), "u", "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete missing device key: %v", err)
	}
	if err := e.s.DeletePasskey(ctx(), "u", credID(t, 16)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete missing passkey: %v", err)
	}
	meta := e.raw(t, "USER#u", "META")
	if a, b := numAttr(t, meta, "deviceKeyCount"), numAttr(t, meta, "passkeyCount"); a != 1 || b != 1 {
		t.Fatalf("counters %d, %d after deletes of missing items, want 1, 1", a, b)
	}
}
