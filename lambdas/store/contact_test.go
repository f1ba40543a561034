package store_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
)

func contactChange(id, owner string) store.ContactChange {
	return store.ContactChange{
		ID:        id,
		Owner:     owner,
		Attribute: "email",
		Value:     "new@example.com",
		Salt:      []byte("0123456789abcdef"),
		Digest:    []byte("digest-of-the-code-0123456789abc"),
		ExpiresAt: day0.Add(10*time.Second + 10*time.Minute),
	}
}

func TestContactChangeLifecycle(t *testing.T) {
	e := setup(t)
	c := contactChange("chg1", "alice")
	e.putChange(t, c)
	// The stored item: the layout of the package doc, a TTL after the expiry, no code.
	it := e.Item(t, "CONTACT#chg1", "CHANGE")
	if it == nil {
		t.Fatal("no item at pk=CONTACT#chg1 sk=CHANGE")
	}
	if n := storetest.Num(t, it, store.TTLAttribute); n != c.ExpiresAt.Add(store.ContactGrace).Unix() {
		t.Errorf("ttl %d, want %d", n, c.ExpiresAt.Add(store.ContactGrace).Unix())
	}
	if n := storetest.Num(t, it, "attempts"); n != 0 {
		t.Errorf("attempts %d stored, want 0", n)
	}
	if err := e.s.PutContactChange(ctx(), c); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second put of one ID: %v, want ErrExists", err)
	}

	got, err := e.s.AttemptContactChange(ctx(), "chg1", "alice", 3)
	if err != nil {
		t.Fatal(err)
	}
	want := c
	want.Attempts = 1
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if err := e.s.ConsumeContactChange(ctx(), "chg1", "alice"); err != nil {
		t.Fatal(err)
	}
	if it := e.Item(t, "CONTACT#chg1", "CHANGE"); it != nil {
		t.Fatalf("consumed change still stored: %v", it)
	}
	if err := e.s.ConsumeContactChange(ctx(), "chg1", "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second consume: %v, want ErrNotFound", err)
	}
	if _, err := e.s.AttemptContactChange(ctx(), "chg1", "alice", 3); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("attempt after consume: %v, want ErrNotFound", err)
	}
}

// TestContactChangeOtherOwner: another user's change ID is not found, counts no attempt and
// cannot be consumed.
func TestContactChangeOtherOwner(t *testing.T) {
	e := setup(t)
	e.putChange(t, contactChange("chg", "victim"))
	for range 5 {
		if _, err := e.s.AttemptContactChange(ctx(), "chg", "attacker", 3); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("attempt by another owner: %v, want ErrNotFound", err)
		}
	}
	if err := e.s.ConsumeContactChange(ctx(), "chg", "attacker"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("consume by another owner: %v, want ErrNotFound", err)
	}
	if n := storetest.Num(t, e.Item(t, "CONTACT#chg", "CHANGE"), "attempts"); n != 0 {
		t.Fatalf("another owner's tries counted %d attempts", n)
	}
	if _, err := e.s.AttemptContactChange(ctx(), "chg", "victim", 3); err != nil {
		t.Fatalf("owner's attempt: %v", err)
	}
}

// TestContactChangeAttemptsCapped: the fourth attempt is refused (the change is dead), whatever
// the answer would have been.
func TestContactChangeAttemptsCapped(t *testing.T) {
	e := setup(t)
	e.putChange(t, contactChange("chg", "u"))
	for i := 1; i <= 3; i++ {
		c, err := e.s.AttemptContactChange(ctx(), "chg", "u", 3)
		if err != nil || c.Attempts != i {
			t.Fatalf("attempt %d: %+v, %v", i, c, err)
		}
	}
	if _, err := e.s.AttemptContactChange(ctx(), "chg", "u", 3); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("4th attempt: %v, want ErrNotFound", err)
	}
	if n := storetest.Num(t, e.Item(t, "CONTACT#chg", "CHANGE"), "attempts"); n != 3 {
		t.Fatalf("attempts %d after the cap, want 3", n)
	}
}

func TestContactChangeExpires(t *testing.T) {
	e := setup(t)
	c := contactChange("chg", "u")
	e.putChange(t, c)
	e.clk.Add(10 * time.Minute)
	if _, err := e.s.AttemptContactChange(ctx(), "chg", "u", 3); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("attempt at the expiry: %v, want ErrNotFound", err)
	}
}

// TestContactChangeConcurrentAttempts: answers sent at the same moment never get more than the
// cap checked.
func TestContactChangeConcurrentAttempts(t *testing.T) {
	e := setup(t)
	e.putChange(t, contactChange("chg", "u"))
	ok := wins(t, "attempt", 12, succeeds(func(int) error {
		_, err := e.s.AttemptContactChange(ctx(), "chg", "u", 3)
		return err
	}), store.ErrNotFound)
	if ok != 3 {
		t.Fatalf("%d of 12 concurrent attempts were allowed, want 3", ok)
	}
}

// TestContactChangeConcurrentConsume: a change is used exactly once.
func TestContactChangeConcurrentConsume(t *testing.T) {
	e := setup(t)
	e.putChange(t, contactChange("chg", "u"))
	won := wins(t, "consume", 8, succeeds(func(int) error { return e.s.ConsumeContactChange(ctx(), "chg", "u") }), store.ErrNotFound)
	if won != 1 {
		t.Fatalf("%d of 8 concurrent consumes succeeded, want exactly 1", won)
	}
}

func TestContactChangeValidation(t *testing.T) {
	e := setup(t)
	bad := func(mod func(*store.ContactChange)) store.ContactChange {
		c := contactChange("chg", "u")
		mod(&c)
		return c
	}
	for name, c := range map[string]store.ContactChange{
		"no ID":        bad(func(c *store.ContactChange) { c.ID = "" }),
		"no owner":     bad(func(c *store.ContactChange) { c.Owner = "" }),
		"no attribute": bad(func(c *store.ContactChange) { c.Attribute = "" }),
		"no value":     bad(func(c *store.ContactChange) { c.Value = "" }),
		"no salt":      bad(func(c *store.ContactChange) { c.Salt = nil }),
		"no digest":    bad(func(c *store.ContactChange) { c.Digest = nil }),
		"no expiry":    bad(func(c *store.ContactChange) { c.ExpiresAt = time.Time{} }),
		"bad UTF-8":    bad(func(c *store.ContactChange) { c.Value = "\xff" }),
	} {
		if err := e.s.PutContactChange(ctx(), c); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
	}
	for name, err := range map[string]error{
		"attempt no ID":    func() error { _, err := e.s.AttemptContactChange(ctx(), "", "u", 3); return err }(),
		"attempt no owner": func() error { _, err := e.s.AttemptContactChange(ctx(), "c", "", 3); return err }(),
		"attempt max 0":    func() error { _, err := e.s.AttemptContactChange(ctx(), "c", "u", 0); return err }(),
		"consume no ID":    e.s.ConsumeContactChange(ctx(), "", "u"),
		"consume no owner": e.s.ConsumeContactChange(ctx(), "c", ""),
	} {
		if !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
	}
}
