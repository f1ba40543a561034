package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
)

func hash32(b byte) []byte { return bytes.Repeat([]byte{b}, store.MagicLinkHashBytes) }

var attempts atomic.Int64

// nextAttempt names a new answer (a distinct sign-in round).
func nextAttempt() string { return fmt.Sprint("attempt-", attempts.Add(1)) }

const devHash = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// addr is the address hash of the links link stores.
var addr = hash32(0xad)

func link(e env, userKey string, h byte, sid string, gen int) store.MagicLink {
	return store.MagicLink{UserKey: userKey, Hash: hash32(h), AddressHash: addr, ExpiresAt: e.clk.Now().Add(15 * time.Minute), SessionID: sid, Generation: gen}
}

// A link is stored under MAGIC#<user key> with only its hash, expiry and round; a retried Create
// of the same round does not replace it (and so sends nothing); another round replaces it.
func TestPutMagicLinkOncePerRound(t *testing.T) {
	e := setup(t)
	ok, err := e.s.PutMagicLink(ctx(), link(e, "u1", 1, "s1", 1))
	if err != nil || !ok {
		t.Fatalf("first put = %v, %v", ok, err)
	}
	item := e.Item(t, "MAGIC#u1", "LINK")
	if b, _ := item["h"].(*types.AttributeValueMemberB); b == nil || !bytes.Equal(b.Value, hash32(1)) {
		t.Fatalf("stored hash %v", item["h"])
	}
	if got, want := storetest.Num(t, item, store.TTLAttribute), e.clk.Now().Add(15*time.Minute).Unix(); got != want {
		t.Errorf("expiresAt = %d, want %d", got, want)
	}
	if _, ok := item["dh"]; ok {
		t.Error("a device hash stored for a link without one")
	}
	// Cognito retries Create: same session and generation, new secret drawn: not stored.
	ok, err = e.s.PutMagicLink(ctx(), link(e, "u1", 2, "s1", 1))
	if err != nil || ok {
		t.Fatalf("retried round = %v, %v; want false", ok, err)
	}
	if got, _ := e.s.ConsumeMagicLink(ctx(), "u1", hash32(2), addr, "", false, nextAttempt()); got {
		t.Fatal("the retry's secret works")
	}
	// A resend (generation 2) replaces the link: the old secret dies.
	if ok, err := e.s.PutMagicLink(ctx(), link(e, "u1", 3, "s1", 2)); err != nil || !ok {
		t.Fatalf("resend = %v, %v", ok, err)
	}
	if got, _ := e.s.ConsumeMagicLink(ctx(), "u1", hash32(1), addr, "", false, nextAttempt()); got {
		t.Fatal("the replaced link still works")
	}
	// Another sign-in's request replaces it too.
	if ok, err := e.s.PutMagicLink(ctx(), link(e, "u1", 4, "s2", 1)); err != nil || !ok {
		t.Fatalf("other session = %v, %v", ok, err)
	}
	if got, _ := e.s.ConsumeMagicLink(ctx(), "u1", hash32(3), addr, "", false, nextAttempt()); got {
		t.Fatal("the link of the earlier sign-in still works")
	}
	if got, err := e.s.ConsumeMagicLink(ctx(), "u1", hash32(4), addr, "", false, nextAttempt()); err != nil || !got {
		t.Fatalf("current link = %v, %v", got, err)
	}
}

// Single use, expiry, binding to the user and to the device.
func TestConsumeMagicLink(t *testing.T) {
	e := setup(t)
	put := func(l store.MagicLink) {
		t.Helper()
		if ok, err := e.s.PutMagicLink(ctx(), l); err != nil || !ok {
			t.Fatalf("put = %v, %v", ok, err)
		}
	}
	put(link(e, "alice", 1, "s1", 1))
	if got, _ := e.s.ConsumeMagicLink(ctx(), "bob", hash32(1), addr, "", false, nextAttempt()); got {
		t.Fatal("alice's link signs bob in")
	}
	if got, _ := e.s.ConsumeMagicLink(ctx(), "alice", hash32(9), addr, "", false, nextAttempt()); got {
		t.Fatal("a wrong hash works")
	}
	if got, _ := e.s.ConsumeMagicLink(ctx(), "alice", hash32(1)[:31], addr, "", false, nextAttempt()); got {
		t.Fatal("a short hash works")
	}
	used := nextAttempt()
	if got, err := e.s.ConsumeMagicLink(ctx(), "alice", hash32(1), addr, "", false, used); err != nil || !got {
		t.Fatalf("right link = %v, %v", got, err)
	}
	if got, err := e.s.ConsumeMagicLink(ctx(), "alice", hash32(1), addr, "", false, nextAttempt()); err != nil || got {
		t.Fatalf("reused link = %v, %v; want false", got, err)
	}
	// Cognito retries the Verify that used it: the same answer is told yes again, and only it.
	if got, err := e.s.ConsumeMagicLink(ctx(), "alice", hash32(1), addr, "", false, used); err != nil || !got {
		t.Fatalf("retry of the answer that used the link = %v, %v; want true", got, err)
	}
	if got, err := e.s.ConsumeMagicLink(ctx(), "alice", hash32(9), addr, "", false, used); err != nil || !got {
		t.Fatalf("retry tag with another hash = %v, %v", got, err)
	}
	if got, err := e.s.ConsumeMagicLink(ctx(), "bob", hash32(1), addr, "", false, used); err != nil || got {
		t.Fatalf("another user's link with the tag = %v, %v; want false", got, err)
	}
	item := e.Item(t, "MAGIC#alice", "LINK")
	if _, ok := item["h"]; ok {
		t.Error("the hash of a used link is still stored")
	}

	// Expired: refused even before DynamoDB deletes the item.
	put(link(e, "carol", 1, "s1", 1))
	e.clk.Add(15*time.Minute + time.Second)
	if got, err := e.s.ConsumeMagicLink(ctx(), "carol", hash32(1), addr, "", false, nextAttempt()); err != nil || got {
		t.Fatalf("expired link = %v, %v; want false", got, err)
	}
	if got, err := e.s.ConsumeMagicLink(ctx(), "alice", hash32(1), addr, "", false, used); err != nil || got {
		t.Fatalf("a retry after the link's expiry = %v, %v; want false", got, err)
	}

	// Same device: the device hash must match; missing or wrong fails; a link stored without one
	// never passes a same-device check.
	l := link(e, "dave", 1, "s1", 1)
	l.DeviceHash = devHash
	put(l)
	for _, dh := range []string{"", "-", strings.Replace(devHash, "A", "B", 1)} {
		if got, err := e.s.ConsumeMagicLink(ctx(), "dave", hash32(1), addr, dh, true, nextAttempt()); err != nil || got {
			t.Fatalf("device hash %q = %v, %v; want false", dh, got, err)
		}
	}
	if got, err := e.s.ConsumeMagicLink(ctx(), "dave", hash32(1), addr, devHash, true, nextAttempt()); err != nil || !got {
		t.Fatalf("right device = %v, %v", got, err)
	}
	put(link(e, "erin", 1, "s1", 1))
	if got, _ := e.s.ConsumeMagicLink(ctx(), "erin", hash32(1), addr, devHash, true, nextAttempt()); got {
		t.Fatal("a link without a device hash passes a same-device check")
	}
}

// TestConsumeMagicLinkAddress: a link is used only with the address hash it was stored with (the
// account's current verified address must be the one it was sent to); a missing, short or other
// address hash fails after the same single call and leaves the link usable; a retry of the answer
// that used the link needs the same address; a link stored without an address hash (by an
// earlier version) is never used.
func TestConsumeMagicLinkAddress(t *testing.T) {
	e := setup(t)
	if ok, err := e.s.PutMagicLink(ctx(), link(e, "alice", 1, "s1", 1)); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if b, _ := e.Item(t, "MAGIC#alice", "LINK")["ah"].(*types.AttributeValueMemberB); b == nil || !bytes.Equal(b.Value, addr) {
		t.Fatalf("stored address hash %v", b)
	}
	for name, ah := range map[string][]byte{"other address": hash32(0xbe), "none": nil, "short": addr[:31], "long": append(bytes.Clone(addr), 0)} {
		if got, err := e.s.ConsumeMagicLink(ctx(), "alice", hash32(1), ah, "", false, nextAttempt()); err != nil || got {
			t.Fatalf("%s: %v, %v; want false", name, got, err)
		}
	}
	used := nextAttempt()
	if got, err := e.s.ConsumeMagicLink(ctx(), "alice", hash32(1), addr, "", false, used); err != nil || !got {
		t.Fatalf("right secret and address after refusals = %v, %v", got, err)
	}
	if got, err := e.s.ConsumeMagicLink(ctx(), "alice", hash32(1), hash32(0xbe), "", false, used); err != nil || got {
		t.Fatalf("retry of the used answer with another address = %v, %v; want false", got, err)
	}
	if got, err := e.s.ConsumeMagicLink(ctx(), "alice", hash32(1), addr, "", false, used); err != nil || !got {
		t.Fatalf("retry of the used answer = %v, %v; want true", got, err)
	}

	// An item as the previous version wrote it: no ah.
	legacy := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "MAGIC#bob"}, "sk": &types.AttributeValueMemberS{Value: "LINK"},
		"h": &types.AttributeValueMemberB{Value: hash32(1)}, "sid": &types.AttributeValueMemberS{Value: "s1"},
		"gen":              &types.AttributeValueMemberN{Value: "1"},
		store.TTLAttribute: &types.AttributeValueMemberN{Value: fmt.Sprint(e.clk.Now().Add(10 * time.Minute).Unix())},
	}
	e.Put(t, legacy)
	for name, ah := range map[string][]byte{"some address": addr, "none": nil} {
		if got, err := e.s.ConsumeMagicLink(ctx(), "bob", hash32(1), ah, "", false, nextAttempt()); err != nil || got {
			t.Fatalf("legacy link, %s: %v, %v; want false", name, got, err)
		}
	}
}

// TestConsumeMagicLinkRace: 30 completions of one link at once: exactly one signs in.
func TestConsumeMagicLinkRace(t *testing.T) {
	e := setup(t)
	if ok, err := e.s.PutMagicLink(ctx(), link(e, "u", 7, "s1", 1)); err != nil || !ok {
		t.Fatal(ok, err)
	}
	// Any error fails the test in wins.
	n := wins(t, "completion", 30, func(int) (bool, error) {
		return e.s.ConsumeMagicLink(ctx(), "u", hash32(7), addr, "", false, nextAttempt())
	})
	if n != 1 {
		t.Fatalf("30 concurrent completions: %d succeeded; want exactly 1", n)
	}
}

func TestMagicLinkValidation(t *testing.T) {
	e := setup(t)
	good := link(e, "u", 1, "s", 1)
	for name, mutate := range map[string]func(*store.MagicLink){
		"no user":            func(l *store.MagicLink) { l.UserKey = "" },
		"short hash":         func(l *store.MagicLink) { l.Hash = hash32(1)[:16] },
		"no address hash":    func(l *store.MagicLink) { l.AddressHash = nil },
		"short address hash": func(l *store.MagicLink) { l.AddressHash = addr[:31] },
		"expired":            func(l *store.MagicLink) { l.ExpiresAt = e.clk.Now() },
		"too long":           func(l *store.MagicLink) { l.ExpiresAt = e.clk.Now().Add(61 * time.Minute) },
		"no session":         func(l *store.MagicLink) { l.SessionID = "" },
		"gen 0":              func(l *store.MagicLink) { l.Generation = 0 },
		"placeholder":        func(l *store.MagicLink) { l.DeviceHash = "-" },
		"long device":        func(l *store.MagicLink) { l.DeviceHash = strings.Repeat("a", 129) },
		"long user":          func(l *store.MagicLink) { l.UserKey = strings.Repeat("u", 600) },
		"invalid utf8":       func(l *store.MagicLink) { l.UserKey = "\xff" },
	} {
		l := good
		mutate(&l)
		if ok, err := e.s.PutMagicLink(ctx(), l); !errors.Is(err, store.ErrInvalidArgument) || ok {
			t.Errorf("%s: %v, %v; want ErrInvalidArgument", name, ok, err)
		}
	}
	if ok, err := e.s.PutMagicLink(ctx(), good); err != nil || !ok {
		t.Fatalf("the unchanged link = %v, %v; want stored", ok, err)
	}
	if _, err := e.s.ConsumeMagicLink(ctx(), "", hash32(1), addr, "", false, nextAttempt()); !errors.Is(err, store.ErrInvalidArgument) {
		t.Errorf("empty user key: %v", err)
	}
	for _, a := range []string{"", strings.Repeat("a", 129)} {
		if _, err := e.s.ConsumeMagicLink(ctx(), "u", hash32(1), addr, "", false, a); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("attempt %q: %v", a, err)
		}
	}
}

// A user's seen set: the first sign-in is added but not returning; a new method afterwards is
// added and returning; a method seen before is not added. 20 concurrent sign-ins with one new
// method: exactly one reports it.
func TestMarkSignIn(t *testing.T) {
	e := setup(t)
	step := func(entry string, wantAdded, wantReturning bool) {
		t.Helper()
		added, returning, err := e.s.MarkSignIn(ctx(), "sub-1", entry)
		if err != nil || added != wantAdded || returning != wantReturning {
			t.Fatalf("MarkSignIn(%q) = %v, %v, %v; want %v, %v", entry, added, returning, err, wantAdded, wantReturning)
		}
	}
	step("email_otp", true, false)
	step("email_otp", false, false)
	step("magic_link", true, true)
	step("device_key:k1", true, true)
	step("magic_link", false, false)

	// The counters on the same item are untouched.
	if d, p, err := e.s.CredentialCounts(ctx(), "sub-1"); err != nil || d != 0 || p != 0 {
		t.Fatalf("counts %d %d %v", d, p, err)
	}

	results := dynalitetest.AtOnce(20, func(int) [2]bool {
		a, r, err := e.s.MarkSignIn(ctx(), "sub-1", "passkey")
		if err != nil {
			t.Error(err)
		}
		return [2]bool{a, r}
	})
	n := 0
	for _, r := range results {
		if r[0] {
			n++
			if !r[1] {
				t.Error("the new method is not reported as returning")
			}
		}
	}
	if n != 1 {
		t.Fatalf("20 concurrent sign-ins with a new method: %d reported it, want 1", n)
	}

	// The set is capped.
	for i := range store.MaxSignInEntries {
		if _, _, err := e.s.MarkSignIn(ctx(), "sub-2", fmt.Sprint("device_key:", i)); err != nil {
			t.Fatal(err)
		}
	}
	if added, _, err := e.s.MarkSignIn(ctx(), "sub-2", "passkey"); err != nil || added {
		t.Fatalf("entry beyond the cap = %v, %v; want false", added, err)
	}
	for name, args := range map[string][2]string{"no owner": {"", "x"}, "no entry": {"o", ""}, "long entry": {"o", strings.Repeat("e", 129)}} {
		if _, _, err := e.s.MarkSignIn(ctx(), args[0], args[1]); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Every prefix is listed once, ends with '#', and is the one the store writes (checked for the
// prefixes whose writers are in this file's reach).
func TestPrefixes(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range store.Prefixes {
		if seen[p] || !strings.HasSuffix(p, "#") || strings.ToUpper(p) != p {
			t.Errorf("prefix %q duplicated or malformed", p)
		}
		seen[p] = true
	}
	if len(store.Prefixes) != 10 {
		t.Errorf("%d prefixes, want 10", len(store.Prefixes))
	}
	e := setup(t)
	if _, err := e.s.PutMagicLink(ctx(), link(e, "u", 1, "s", 1)); err != nil {
		t.Fatal(err)
	}
	if e.Item(t, store.PrefixMagic+"u", "LINK") == nil {
		t.Error("PrefixMagic is not where links are stored")
	}
	if _, err := e.s.ClaimNotification(ctx(), "n1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if e.Item(t, store.PrefixNotify+"n1", "NOTIFY") == nil {
		t.Error("PrefixNotify is not where notification claims are stored")
	}
	if _, _, err := e.s.MarkSignIn(ctx(), "o", "email_otp"); err != nil {
		t.Fatal(err)
	}
	if e.Item(t, store.PrefixUser+"o", "META") == nil {
		t.Error("PrefixUser is not where the seen set is stored")
	}
}
