package magiclink_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/magiclink"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// withEmail returns a copy of attrs with email set to addr (deleted when "") and email_verified
// set to verified (deleted when "").
func withEmail(attrs map[string]string, addr, verified string) map[string]string {
	out := maps.Clone(attrs)
	for k, v := range map[string]string{"email": addr, "email_verified": verified} {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// TestLinkBoundToAddress (attack): a link goes out to the account's address; the address then
// changes (the user moved to a new mailbox because the old one is compromised, an admin changed
// it, or whoever took the account over did). The link waiting in the OLD mailbox must no longer
// sign in, on another device or in the session that asked; a fresh link to the new address does.
func TestLinkBoundToAddress(t *testing.T) {
	e := newEnv(t, func(c *magiclink.Config) { c.TTL = time.Hour })
	s := e.request(t, users[alice])
	_, old := e.mail.lastLink(t)

	moved := withEmail(users[alice].attrs, "alice.new@example.net", "true")
	e.setAttrs(alice, moved)
	if e.complete(t, old) {
		t.Fatal("the link sent to the old address signed in after the account's address changed")
	}
	// The sign-in that asked for the link answers its LINK round with the secret: Verify sees the
	// account as it is now.
	s.u.attrs = moved
	if err := s.respond(t, old.Secret, meta()); err != nil || s.tokens {
		t.Fatalf("the asking session's LINK round answered with the old address's secret: err %v, signed in %v", err, s.tokens)
	}

	e.clk.Add(time.Minute)
	e.request(t, user{name: alice, attrs: moved})
	if to := e.mail.Emails()[e.mail.Len()-1].To; !slices.Equal(to, []string{"alice.new@example.net"}) {
		t.Fatalf("the new link went to %v", to)
	}
	_, fresh := e.mail.lastLink(t)
	if !e.complete(t, fresh) {
		t.Fatal("a fresh link to the new address did not sign in")
	}
}

// TestLinkNeedsAddressStillVerified (attack): after the link went out, the address stops being
// verified (an admin cleared email_verified, or the address was replaced by one not yet proven)
// or is removed: the link is refused. Once the same address is verified again, the link (still
// unused and unexpired) works: it signs in exactly whom a new link to that address would.
func TestLinkNeedsAddressStillVerified(t *testing.T) {
	e := newEnv(t, func(c *magiclink.Config) { c.TTL = time.Hour })
	e.request(t, users[alice])
	_, l := e.mail.lastLink(t)
	for name, attrs := range map[string]map[string]string{
		"email_verified false":   withEmail(users[alice].attrs, "Alice@Example.com", "false"),
		"email_verified missing": withEmail(users[alice].attrs, "Alice@Example.com", ""),
		"email removed":          withEmail(users[alice].attrs, "", ""),
		"unverified new address": withEmail(users[alice].attrs, "alice.new@example.net", "false"),
	} {
		e.setAttrs(alice, attrs)
		if e.complete(t, l) {
			t.Fatalf("%s: the link signed in", name)
		}
	}
	e.setAttrs(alice, users[alice].attrs)
	if !e.complete(t, l) {
		t.Fatal("the link did not sign in once its address was verified again")
	}
}

// TestLinkAddressChangedAndBack: the address changes to another and back (verified again) before
// the link expires: the link works again, since the account trusts that mailbox again and a new
// request would send a link to it anyway. Writing the same address in another case is the same
// address (as codes compare it).
func TestLinkAddressChangedAndBack(t *testing.T) {
	e := newEnv(t, func(c *magiclink.Config) { c.TTL = time.Hour })
	e.request(t, users[alice])
	_, l := e.mail.lastLink(t)
	e.setAttrs(alice, withEmail(users[alice].attrs, "mallory@example.org", "true"))
	if e.complete(t, l) {
		t.Fatal("the link signed in while the account's address was another")
	}
	e.setAttrs(alice, withEmail(users[alice].attrs, "alice@EXAMPLE.com", "true"))
	if !e.complete(t, l) {
		t.Fatal("the link did not sign in once the account's address was its own again")
	}
}

// TestCheckPresentsCurrentAddress: the Checker presents the keyed hash of the account's email
// address as the request shows it now (trimmed and lower-cased) only when the address is there,
// well-formed and verified and the user exists; otherwise no address (which matches no link),
// after the same single store call.
func TestCheckPresentsCurrentAddress(t *testing.T) {
	want := magiclink.AddressHash(testKey, poolID, alice, "alice@example.com")
	if slices.Equal(want, magiclink.AddressHash(testKey, poolID, bob, "alice@example.com")) {
		t.Fatal("one address hashes the same for two users")
	}
	if slices.Equal(want, magiclink.AddressHash(keyed.MustStatic("another-deployment-secret-0123456789abcdef").K, poolID, alice, "alice@example.com")) {
		t.Fatal("one address hashes the same under two deployment secrets")
	}
	for _, c := range []struct {
		name     string
		attrs    map[string]string
		notFound bool
		match    bool
	}{
		{"verified", map[string]string{"email": "Alice@Example.com", "email_verified": "true"}, false, true},
		{"verified, spaces", map[string]string{"email": " alice@example.COM", "email_verified": "true"}, false, true},
		{"unverified", map[string]string{"email": "alice@example.com", "email_verified": "false"}, false, false},
		{"verified flag missing", map[string]string{"email": "alice@example.com"}, false, false},
		{"verified flag True", map[string]string{"email": "alice@example.com", "email_verified": "True"}, false, false},
		{"no email", map[string]string{"phone_number": "+447400123456", "phone_number_verified": "true"}, false, false},
		{"malformed", map[string]string{"email": "alice", "email_verified": "true"}, false, false},
		{"unknown user", map[string]string{"email": "alice@example.com", "email_verified": "true"}, true, false},
	} {
		st := &countingStore{}
		ch, err := magiclink.NewChecker(st, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := ch.Check(context.Background(), triggers.CheckRequest{
			Challenge: authflow.Challenge{Kind: authflow.KindNonce, SessionID: "q3Vx-_9aZk0bT1c2D3e4Fg"},
			Method:    authflow.MagicLink,
			Private:   map[string]string{authflow.PrivRound: "1"},
			Answer:    strings.Repeat("A", 42) + "Q",
			Caller: triggers.Caller{
				UserPoolID:     poolID,
				UserName:       alice,
				UserAttributes: c.attrs,
				UserNotFound:   c.notFound,
				Key:            testKey,
				ClientMetadata: meta(authflow.MetaAction, authflow.ActionComplete),
			},
		})
		if ok || err != nil || st.calls.Load() != 1 {
			t.Fatalf("%s: %v, %v after %d store calls", c.name, ok, err, st.calls.Load())
		}
		got := *st.addressHash.Load()
		switch {
		case c.match && !slices.Equal(got, want):
			t.Errorf("%s: address hash %x, want %x", c.name, got, want)
		case !c.match && got != nil:
			t.Errorf("%s: address hash %x presented, want none", c.name, got)
		}
	}
}
