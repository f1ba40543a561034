package store_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
)

// manyKeys is more than two pages of a revocation (store.RevokeAllBatch) and more than the 25
// items of DynamoDB's former transaction limit.
const manyKeys = 30

// TestRevokeAllDeviceKeys (issue 12, recovery): every one of a user's 30 keys goes, page after
// page, with its fingerprint guard; the counter drops to zero; another user's keys stay; a
// retry removes nothing.
func TestRevokeAllDeviceKeys(t *testing.T) {
	e := setup(t)
	for i := range manyKeys {
		e.putKey(t, key("u", fmt.Sprintf("k%02d", i)), 100)
	}
	for i := range 3 {
		e.putKey(t, key("v", fmt.Sprint("other", i)), 100)
	}
	n, err := e.s.RevokeAllDeviceKeys(ctx(), "u")
	if err != nil || n != manyKeys {
		t.Fatalf("RevokeAllDeviceKeys = %d, %v; want %d, nil", n, err, manyKeys)
	}
	if list, err := e.s.ListDeviceKeys(ctx(), "u"); err != nil || len(list) != 0 {
		t.Fatalf("%d keys left (%v)", len(list), err)
	}
	for i := range manyKeys {
		if it := e.Item(t, "USER#u", fmt.Sprintf("DEVICEKEYFP#fp-k%02d", i)); it != nil {
			t.Fatalf("fingerprint guard of k%02d left behind", i)
		}
	}
	if c := storetest.Num(t, e.Item(t, "USER#u", "META"), "deviceKeyCount"); c != 0 {
		t.Fatalf("deviceKeyCount %d after revoking all, want 0", c)
	}
	if list, _ := e.s.ListDeviceKeys(ctx(), "v"); len(list) != 3 {
		t.Fatalf("another user has %d keys left, want 3", len(list))
	}
	// Idempotent: a retry finds nothing and leaves the counter at zero.
	if n, err := e.s.RevokeAllDeviceKeys(ctx(), "u"); err != nil || n != 0 {
		t.Fatalf("repeat = %d, %v; want 0, nil", n, err)
	}
	if c := storetest.Num(t, e.Item(t, "USER#u", "META"), "deviceKeyCount"); c != 0 {
		t.Fatalf("deviceKeyCount %d after a repeat, want 0", c)
	}
	// The guards are gone: the same public keys can be registered again, up to the cap.
	for i := range 2 {
		if err := e.s.PutDeviceKey(ctx(), key("u", fmt.Sprintf("k%02d", i)), 2); err != nil {
			t.Fatalf("re-registering k%02d: %v", i, err)
		}
	}
	if err := e.s.PutDeviceKey(ctx(), key("u", "k-over"), 2); !errors.Is(err, store.ErrLimitReached) {
		t.Fatalf("over the cap after revoke all: %v", err)
	}
}

// TestRevokeAllPasskeys is TestRevokeAllDeviceKeys for passkeys: the global credential guards go
// too, so the credentials could be registered again.
func TestRevokeAllPasskeys(t *testing.T) {
	e := setup(t)
	var mine []store.Passkey
	for range manyKeys {
		p := passkey(t, "u")
		mine = append(mine, p)
		e.putPasskey(t, p, 100)
	}
	theirs := passkey(t, "v")
	e.putPasskey(t, theirs, 100)
	n, err := e.s.RevokeAllPasskeys(ctx(), "u")
	if err != nil || n != manyKeys {
		t.Fatalf("RevokeAllPasskeys = %d, %v; want %d, nil", n, err, manyKeys)
	}
	if list, err := e.s.ListPasskeys(ctx(), "u"); err != nil || len(list) != 0 {
		t.Fatalf("%d passkeys left (%v)", len(list), err)
	}
	for _, p := range mine {
		if it := e.Item(t, "PASSKEYID#"+store.EncodeCredentialID(p.CredentialID), "PASSKEYID"); it != nil {
			t.Fatal("credential guard left behind")
		}
	}
	if c := storetest.Num(t, e.Item(t, "USER#u", "META"), "passkeyCount"); c != 0 {
		t.Fatalf("passkeyCount %d after revoking all, want 0", c)
	}
	if _, err := e.s.GetPasskey(ctx(), "v", theirs.CredentialID); err != nil {
		t.Fatalf("another user's passkey: %v", err)
	}
	if e.Item(t, "PASSKEYID#"+store.EncodeCredentialID(theirs.CredentialID), "PASSKEYID") == nil {
		t.Fatal("another user's credential guard was removed")
	}
	if n, err := e.s.RevokeAllPasskeys(ctx(), "u"); err != nil || n != 0 {
		t.Fatalf("repeat = %d, %v; want 0, nil", n, err)
	}
	// The credential IDs are free again.
	if err := e.s.PutPasskey(ctx(), mine[0], 1); err != nil {
		t.Fatalf("re-registering a revoked passkey: %v", err)
	}
}

// TestRevokeAllConcurrent: revocations of all keys and single revocations at the same moment
// remove each key exactly once between them; the counter ends at zero, never below.
func TestRevokeAllConcurrent(t *testing.T) {
	e := setup(t)
	for i := range manyKeys {
		e.putKey(t, key("u", fmt.Sprintf("k%02d", i)), 100)
	}
	type result struct {
		n   int
		err error
	}
	results := dynalitetest.AtOnce(8, func(i int) result {
		if i%2 == 0 {
			n, err := e.s.RevokeAllDeviceKeys(ctx(), "u")
			return result{n, err}
		}
		// Single revocations of keys on different pages.
		err := e.s.DeleteDeviceKey(ctx(), "u", fmt.Sprintf("k%02d", i*3))
		if errors.Is(err, store.ErrNotFound) {
			return result{0, nil}
		}
		if err != nil {
			return result{0, err}
		}
		return result{1, nil}
	})
	total := 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("call %d: %v", i, r.err)
		}
		total += r.n
	}
	if total != manyKeys {
		t.Fatalf("%d removals reported for %d keys, want each key removed exactly once", total, manyKeys)
	}
	if list, _ := e.s.ListDeviceKeys(ctx(), "u"); len(list) != 0 {
		t.Fatalf("%d keys left", len(list))
	}
	if c := storetest.Num(t, e.Item(t, "USER#u", "META"), "deviceKeyCount"); c != 0 {
		t.Fatalf("deviceKeyCount %d, want 0", c)
	}
}

// TestRevokeAllIgnoresAForeignGuard: a fingerprint guard that names another key (registration
// never leaves one, but a revocation must not stop at it) stays, and the key goes all the same.
func TestRevokeAllIgnoresAForeignGuard(t *testing.T) {
	e := setup(t)
	for _, id := range []string{"k1", "k2"} {
		e.putKey(t, key("u", id), 10)
	}
	e.Put(t, map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "USER#u"}, "sk": &types.AttributeValueMemberS{Value: "DEVICEKEYFP#fp-k1"},
		"keyId": &types.AttributeValueMemberS{Value: "someone-else"},
	})
	if n, err := e.s.RevokeAllDeviceKeys(ctx(), "u"); err != nil || n != 2 {
		t.Fatalf("RevokeAllDeviceKeys = %d, %v; want 2, nil", n, err)
	}
	if list, _ := e.s.ListDeviceKeys(ctx(), "u"); len(list) != 0 {
		t.Fatalf("%d keys left", len(list))
	}
	if e.Item(t, "USER#u", "DEVICEKEYFP#fp-k1") == nil {
		t.Fatal("a guard naming another key was removed")
	}
	if c := storetest.Num(t, e.Item(t, "USER#u", "META"), "deviceKeyCount"); c != 0 {
		t.Fatalf("deviceKeyCount %d, want 0", c)
	}
}

// TestRevokeAllValidates: an empty owner is refused before DynamoDB is called; an owner without
// credentials has none to remove.
func TestRevokeAllValidates(t *testing.T) {
	e := setup(t)
	if _, err := e.s.RevokeAllDeviceKeys(ctx(), ""); !errors.Is(err, store.ErrInvalidArgument) {
		t.Fatalf("empty owner: %v", err)
	}
	if _, err := e.s.RevokeAllPasskeys(ctx(), ""); !errors.Is(err, store.ErrInvalidArgument) {
		t.Fatalf("empty owner: %v", err)
	}
	if n, err := e.s.RevokeAllPasskeys(ctx(), "nobody"); err != nil || n != 0 {
		t.Fatalf("owner without passkeys: %d, %v", n, err)
	}
}
