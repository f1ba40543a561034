package store_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
)

// oneWinner runs 8 calls of del at once and checks that exactly one returns nil and every other
// one ErrNotFound.
func oneWinner(t *testing.T, what string, del func(int) error) {
	t.Helper()
	const n = 8
	if won := wins(t, what, n, succeeds(del), store.ErrNotFound); won != 1 {
		t.Fatalf("%s: %d of %d concurrent deletes of one credential succeeded, want exactly 1", what, won, n)
	}
}

// TestDeviceKeyRevokeConcurrent (issue 10, attack 15): many simultaneous revokes of one device
// key: exactly one succeeds, the counter drops by exactly one, and the cap still holds after.
func TestDeviceKeyRevokeConcurrent(t *testing.T) {
	e := setup(t)
	const limit = 3
	for i := range limit {
		e.putKey(t, key("u", fmt.Sprint("k", i)), limit)
	}
	oneWinner(t, "revoke device key", func(int) error { return e.s.DeleteDeviceKey(ctx(), "u", "k0") })
	if n := storetest.Num(t, e.Item(t, "USER#u", "META"), "deviceKeyCount"); n != limit-1 {
		t.Fatalf("deviceKeyCount %d after one revoke of %d keys, want %d", n, limit, limit-1)
	}
	// One free slot: exactly one more registration fits.
	e.putKey(t, key("u", "k-new"), limit)
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
		e.putPasskey(t, p, limit)
	}
	oneWinner(t, "delete passkey", func(int) error { return e.s.DeletePasskey(ctx(), "u", first.CredentialID) })
	if n := storetest.Num(t, e.Item(t, "USER#u", "META"), "passkeyCount"); n != limit-1 {
		t.Fatalf("passkeyCount %d after one delete of %d passkeys, want %d", n, limit, limit-1)
	}
	e.putPasskey(t, passkey(t, "u"), limit)
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
	e.putKey(t, key("u", "k0"), 3)
	e.putPasskey(t, passkey(t, "u"), 3)
	if err := e.s.DeleteDeviceKey(ctx(), "u", "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete missing device key: %v", err)
	}
	if err := e.s.DeletePasskey(ctx(), "u", credID(t, 16)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete missing passkey: %v", err)
	}
	meta := e.Item(t, "USER#u", "META")
	if a, b := storetest.Num(t, meta, "deviceKeyCount"), storetest.Num(t, meta, "passkeyCount"); a != 1 || b != 1 {
		t.Fatalf("counters %d, %d after deletes of missing items, want 1, 1", a, b)
	}
}
