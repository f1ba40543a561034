package store_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
)

func credID(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func passkey(t *testing.T, owner string) store.Passkey {
	t.Helper()
	return store.Passkey{
		Owner:             owner,
		CredentialID:      credID(t, 32),
		UserHandle:        []byte("handle-" + owner),
		PublicKey:         []byte{0xa5, 0x01, 0x02},
		SignCount:         7,
		UserVerified:      true,
		BackupEligible:    true,
		AAGUID:            bytes.Repeat([]byte{0xad}, 16),
		Transports:        []string{"hybrid", "internal"},
		AttestationType:   "none",
		AttestationFormat: "none",
		Name:              "Laptop",
	}
}

func TestPasskeyLifecycle(t *testing.T) {
	e := setup(t)
	p := passkey(t, "alice")
	e.putPasskey(t, p, 3)
	got, err := e.s.GetPasskey(ctx(), "alice", p.CredentialID)
	if err != nil {
		t.Fatal(err)
	}
	want := p
	want.CreatedAt = e.clk.Now()
	if !bytes.Equal(got.CredentialID, want.CredentialID) || !bytes.Equal(got.UserHandle, want.UserHandle) ||
		!bytes.Equal(got.PublicKey, want.PublicKey) || got.SignCount != 7 || !got.UserVerified || !got.BackupEligible ||
		got.BackupState || !bytes.Equal(got.AAGUID, want.AAGUID) || len(got.Transports) != 2 || got.Transports[1] != "internal" ||
		got.AttestationFormat != "none" || got.Name != "Laptop" || !got.CreatedAt.Equal(want.CreatedAt) || !got.LastUsedAt.IsZero() {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	// Listed for its owner only; found through the GSI.
	if l, err := e.s.ListPasskeys(ctx(), "alice"); err != nil || len(l) != 1 {
		t.Fatalf("list = %v, %v", l, err)
	}
	if l, err := e.s.ListPasskeys(ctx(), "bob"); err != nil || len(l) != 0 || l == nil {
		t.Fatalf("bob's list = %#v, %v", l, err)
	}
	f, err := e.s.FindPasskey(ctx(), p.CredentialID)
	if err != nil || f.Owner != "alice" || !bytes.Equal(f.PublicKey, p.PublicKey) {
		t.Fatalf("find = %+v, %v", f, err)
	}
	item := e.Item(t, "USER#alice", "PASSKEY#"+store.EncodeCredentialID(p.CredentialID))
	if v, ok := item[store.CredentialIDAttribute].(*types.AttributeValueMemberS); !ok || v.Value != "PASSKEY#"+store.EncodeCredentialID(p.CredentialID) {
		t.Errorf("credentialId attribute for the GSI = %#v", item[store.CredentialIDAttribute])
	}
	if _, err := e.s.FindPasskey(ctx(), credID(t, 16)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("find unknown: %v", err)
	}
	// Rename: own only.
	if _, err := e.s.RenamePasskey(ctx(), "bob", p.CredentialID, "Mine now"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob renames alice's: %v", err)
	}
	r, err := e.s.RenamePasskey(ctx(), "alice", p.CredentialID, "Work laptop")
	if err != nil || r.Name != "Work laptop" || r.SignCount != 7 {
		t.Fatalf("rename = %+v, %v", r, err)
	}
	// Delete: own only, then gone everywhere, and the counter is back.
	if err := e.s.DeletePasskey(ctx(), "bob", p.CredentialID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob deletes alice's: %v", err)
	}
	if _, err := e.s.GetPasskey(ctx(), "alice", p.CredentialID); err != nil {
		t.Fatalf("alice's passkey gone after bob's delete: %v", err)
	}
	if err := e.s.DeletePasskey(ctx(), "alice", p.CredentialID); err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeletePasskey(ctx(), "alice", p.CredentialID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := e.s.GetPasskey(ctx(), "alice", p.CredentialID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get after delete: %v", err)
	}
	if n := storetest.Num(t, e.Item(t, "USER#alice", "META"), "passkeyCount"); n != 0 {
		t.Errorf("passkeyCount = %d after delete", n)
	}
	// The same credential can be registered again (e.g. by bob) once deleted.
	p.Owner = "bob"
	if err := e.s.PutPasskey(ctx(), p, 3); err != nil {
		t.Fatalf("re-register after delete: %v", err)
	}
}

func TestPasskeyCapAndDuplicates(t *testing.T) {
	e := setup(t)
	first := passkey(t, "alice")
	e.putPasskey(t, first, 2)
	// Same credential ID: for the same user or another user.
	dup := first
	if err := e.s.PutPasskey(ctx(), dup, 2); !errors.Is(err, store.ErrExists) {
		t.Errorf("same user duplicate: %v", err)
	}
	dup.Owner = "bob"
	if err := e.s.PutPasskey(ctx(), dup, 2); !errors.Is(err, store.ErrExists) {
		t.Errorf("other user duplicate: %v", err)
	}
	e.putPasskey(t, passkey(t, "alice"), 2)
	if err := e.s.PutPasskey(ctx(), passkey(t, "alice"), 2); !errors.Is(err, store.ErrLimitReached) {
		t.Errorf("third passkey with cap 2: %v", err)
	}
	// Device keys have their own counter.
	if err := e.s.PutDeviceKey(ctx(), key("alice", "AAAAAAAAAAAAAAAAAAAAAA"), 1); err != nil {
		t.Errorf("device key next to passkeys: %v", err)
	}
	if l, _ := e.s.ListPasskeys(ctx(), "alice"); len(l) != 2 {
		t.Errorf("%d passkeys listed, want 2", len(l))
	}
}

func TestPasskeyCapConcurrent(t *testing.T) {
	e := setup(t)
	ok := wins(t, "register", 6, succeeds(func(int) error { return e.s.PutPasskey(ctx(), passkey(t, "alice"), 3) }), store.ErrLimitReached)
	if ok != 3 {
		t.Errorf("%d concurrent registrations succeeded with cap 3", ok)
	}
}

func TestUsePasskey(t *testing.T) {
	e := setup(t)
	p := passkey(t, "alice")
	p.SignCount = 5
	e.putPasskey(t, p, 3)
	at := e.clk.Now().Add(time.Minute)
	use := func(count uint32, challenge string) error {
		return e.s.UsePasskey(ctx(), "alice", p.CredentialID, store.PasskeyUse{SignCount: count, Challenge: challenge, At: at, BackupState: true})
	}
	if err := use(5, "c1"); !errors.Is(err, store.ErrReplay) {
		t.Errorf("same count: %v", err)
	}
	if err := use(4, "c1"); !errors.Is(err, store.ErrReplay) {
		t.Errorf("lower count: %v", err)
	}
	if err := use(0, "c1"); !errors.Is(err, store.ErrReplay) {
		t.Errorf("zero after non-zero: %v", err)
	}
	if err := use(6, "c1"); err != nil {
		t.Fatalf("rising count: %v", err)
	}
	got, _ := e.s.GetPasskey(ctx(), "alice", p.CredentialID)
	if got.SignCount != 6 || !got.LastUsedAt.Equal(at) || !got.BackupState {
		t.Errorf("after use: %+v", got)
	}
	if err := use(7, "c1"); !errors.Is(err, store.ErrReplay) {
		t.Errorf("same challenge again with a higher count: %v", err)
	}
	if err := e.s.UsePasskey(ctx(), "bob", p.CredentialID, store.PasskeyUse{SignCount: 9, Challenge: "c9", At: at}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other owner: %v", err)
	}

	// A counterless authenticator: zero stays zero, but a challenge is good once.
	z := passkey(t, "alice")
	z.SignCount = 0
	e.putPasskey(t, z, 3)
	useZ := func(challenge string) error {
		return e.s.UsePasskey(ctx(), "alice", z.CredentialID, store.PasskeyUse{Challenge: challenge, At: at})
	}
	if err := useZ("n1"); err != nil {
		t.Fatal(err)
	}
	if err := useZ("n1"); !errors.Is(err, store.ErrReplay) {
		t.Errorf("zero counter, same challenge: %v", err)
	}
	if err := useZ("n2"); err != nil {
		t.Errorf("zero counter, new challenge: %v", err)
	}

	// Concurrent submissions of one assertion: exactly one wins.
	if won := wins(t, "use", 8, succeeds(func(int) error { return useZ("n3") }), store.ErrReplay); won != 1 {
		t.Errorf("%d concurrent uses of one challenge won", won)
	}
}

func TestPasskeyChallenges(t *testing.T) {
	e := setup(t)
	exp := e.clk.Now().Add(2 * time.Minute)
	reg := store.PasskeyChallenge{Kind: store.RegistrationChallenge, Owner: "alice", Challenge: "Y2hhbGxlbmdlLWNoYWxsZW5nZQ", UserHandle: []byte("alice"), ExpiresAt: exp}
	if err := e.s.PutPasskeyChallenge(ctx(), reg); err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutPasskeyChallenge(ctx(), reg); !errors.Is(err, store.ErrExists) {
		t.Errorf("same challenge twice: %v", err)
	}
	// Bob cannot consume Alice's registration challenge.
	if _, err := e.s.ConsumePasskeyChallenge(ctx(), store.PasskeyChallenge{Kind: store.RegistrationChallenge, Owner: "bob", Challenge: reg.Challenge}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob consumes alice's: %v", err)
	}
	got, err := e.s.ConsumePasskeyChallenge(ctx(), store.PasskeyChallenge{Kind: store.RegistrationChallenge, Owner: "alice", Challenge: reg.Challenge})
	if err != nil || got.Challenge != reg.Challenge || !bytes.Equal(got.UserHandle, reg.UserHandle) || !got.ExpiresAt.Equal(exp) {
		t.Fatalf("consume = %+v, %v", got, err)
	}
	if _, err := e.s.ConsumePasskeyChallenge(ctx(), store.PasskeyChallenge{Kind: store.RegistrationChallenge, Owner: "alice", Challenge: reg.Challenge}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second consume: %v", err)
	}
	item := e.Item(t, "USER#alice", "PKREG#"+reg.Challenge)
	if ttl := storetest.Num(t, item, store.TTLAttribute); ttl != exp.Add(store.PasskeyChallengeGrace).Unix() {
		t.Errorf("TTL %d, want %d", ttl, exp.Add(store.PasskeyChallengeGrace).Unix())
	}

	// Authentication challenges: by ID, expire, and are consumed once under concurrency.
	auth := store.PasskeyChallenge{Kind: store.AuthenticationChallenge, ID: "aWRpZGlkaWRpZGlkaWRpZA", Challenge: "YXV0aGNoYWxsZW5nZWF1dGhjaGFsbGVuZ2U", ExpiresAt: exp}
	if err := e.s.PutPasskeyChallenge(ctx(), auth); err != nil {
		t.Fatal(err)
	}
	won := wins(t, "consume", 8, func(int) (bool, error) {
		c, err := e.s.ConsumePasskeyChallenge(ctx(), store.PasskeyChallenge{Kind: store.AuthenticationChallenge, ID: auth.ID})
		if err == nil && c.Challenge != auth.Challenge {
			return false, fmt.Errorf("got %+v", c)
		}
		return err == nil, err
	}, store.ErrNotFound)
	if won != 1 {
		t.Errorf("%d concurrent consumers got the challenge", won)
	}
	late := auth
	late.ID = "bGF0ZWxhdGVsYXRlbGF0ZQ"
	if err := e.s.PutPasskeyChallenge(ctx(), late); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(2*time.Minute + time.Millisecond)
	if _, err := e.s.ConsumePasskeyChallenge(ctx(), store.PasskeyChallenge{Kind: store.AuthenticationChallenge, ID: late.ID}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired challenge: %v", err)
	}
	if err := e.s.PutPasskeyChallenge(ctx(), store.PasskeyChallenge{Kind: 9, ID: "x", Challenge: "y", ExpiresAt: exp}); !errors.Is(err, store.ErrInvalidArgument) {
		t.Errorf("bad kind: %v", err)
	}
}

func TestPasskeyInvalidArguments(t *testing.T) {
	e := setup(t)
	p := passkey(t, "alice")
	for name, mut := range map[string]func(*store.Passkey){
		"no owner":         func(p *store.Passkey) { p.Owner = "" },
		"no credential ID": func(p *store.Passkey) { p.CredentialID = nil },
		"long ID":          func(p *store.Passkey) { p.CredentialID = make([]byte, store.MaxCredentialIDBytes+1) },
		"no user handle":   func(p *store.Passkey) { p.UserHandle = nil },
		"long user handle": func(p *store.Passkey) { p.UserHandle = make([]byte, 65) },
		"no public key":    func(p *store.Passkey) { p.PublicKey = nil },
		"short AAGUID":     func(p *store.Passkey) { p.AAGUID = []byte{1} },
	} {
		q := p
		mut(&q)
		if err := e.s.PutPasskey(ctx(), q, 3); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := e.s.UsePasskey(ctx(), "alice", p.CredentialID, store.PasskeyUse{SignCount: 1, At: time.Now()}); !errors.Is(err, store.ErrInvalidArgument) {
		t.Errorf("use without challenge: %v", err)
	}
}
