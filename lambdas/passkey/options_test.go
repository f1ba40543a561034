package passkey_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/passkey"
	"github.com/passwordless-go/cognito/lambdas/passkey/passkeynonce"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// requestOptions is PublicKeyCredentialRequestOptionsJSON as a client reads it.
type requestOptions struct {
	Challenge        string `json:"challenge"`
	Timeout          int    `json:"timeout"`
	RPID             string `json:"rpId"`
	UserVerification string `json:"userVerification"`
	AllowCredentials []struct {
		Type       string   `json:"type"`
		ID         string   `json:"id"`
		Transports []string `json:"transports"`
	} `json:"allowCredentials"`
}

func nonceReqB(user, sub, nonce string) triggers.NonceRequest {
	return nonceReq(user, sub, nonce, false)
}

// testKey is the deployment key of these tests; otherKey another deployment's.
var (
	testKey  = keyed.MustStatic("passkey test deployment secret, 32+ bytes").K
	otherKey = keyed.MustStatic("another deployment's secret, 32+ bytes!!").K
)

// listConfig is testConfig in list mode (allowCredentials published).
func listConfig() passkey.Config {
	c := testConfig()
	c.AllowCredentials = passkey.AllowCredentialsList
	return c
}

func nonceReq(user, sub, nonce string, notFound bool) triggers.NonceRequest {
	attrs := map[string]string{"email": user}
	if sub != "" {
		attrs["sub"] = sub
	}
	return triggers.NonceRequest{
		Challenge: authflow.Challenge{Kind: authflow.KindNonce, SessionID: sessionID, Reason: authflow.ReasonStart},
		Nonce:     nonce,
		Caller: triggers.Caller{
			Key:            testKey,
			UserPoolID:     testPool,
			ClientID:       testClient,
			UserName:       user,
			UserAttributes: attrs,
			UserNotFound:   notFound,
		},
	}
}

// hook is the nonce-round hook (package passkeynonce, which does not link go-webauthn) built from
// rp's configuration, as the Create function builds it, with rp to compare its JSON against.
type hook struct {
	*passkeynonce.Options
	rp *passkey.RP
}

func newHook(rp *passkey.RP, s passkeynonce.OptionsStore, opts ...passkeynonce.Option) hook {
	return hook{passkeynonce.NewOptions(rp.Config(), s, opts...), rp}
}

func extra(t *testing.T, o hook, r triggers.NonceRequest) (triggers.Issued, requestOptions) {
	t.Helper()
	out, err := o.Extra(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	var ro requestOptions
	if err := json.Unmarshal([]byte(out.Public[passkey.PubOptions]), &ro); err != nil {
		t.Fatalf("passkeyOptions %q: %v", out.Public[passkey.PubOptions], err)
	}
	if err := sameAsGoWebAuthn(o.rp, out.Public[passkey.PubOptions]); err != nil {
		t.Fatal(err)
	}
	return out, ro
}

// sameAsGoWebAuthn checks that options JSON is byte for byte what go-webauthn encodes for the
// same challenge and allowCredentials with rp's configuration (what the hook produced when it
// used the library).
func sameAsGoWebAuthn(rp *passkey.RP, options string) error {
	var parsed protocol.PublicKeyCredentialRequestOptions
	if err := json.Unmarshal([]byte(options), &parsed); err != nil {
		return fmt.Errorf("go-webauthn cannot read %s: %w", options, err)
	}
	a, err := rp.RequestOptions(parsed.Challenge, parsed.AllowedCredentials)
	if err != nil {
		return err
	}
	want, err := json.Marshal(a.Response)
	if err != nil {
		return err
	}
	if string(want) != options {
		return fmt.Errorf("options differ from go-webauthn's:\n got %s\nwant %s", options, want)
	}
	return nil
}

func TestOptionsKnownUser(t *testing.T) {
	f := newFixture(t, listConfig(), authenticator())
	second := enroll(t, f.rp, f.m, f.a, subAlice, userAlice)
	o := newHook(f.rp, f.m, passkeynonce.WithClock(clock))
	nonce := newNonce(t)
	out, ro := extra(t, o, nonceReq(userAlice, subAlice, nonce, false))
	if got := slices.Sorted(maps.Keys(out.Public)); !slices.Equal(got, []string{passkey.PubOptions}) {
		t.Errorf("public keys %v", got)
	}
	if got := out.Private[passkey.PrivIssuedAt]; got != strconv.FormatInt(fixedNow.UnixMilli(), 10) || len(out.Private) != 1 {
		t.Errorf("private %v", out.Private)
	}
	if ro.Challenge != nonce {
		t.Errorf("challenge %q, want the nonce %q", ro.Challenge, nonce)
	}
	if ro.RPID != rpID || ro.UserVerification != "required" || ro.Timeout != 120000 {
		t.Errorf("options %+v", ro)
	}
	want := []string{base64.RawURLEncoding.EncodeToString(f.alice.ID), base64.RawURLEncoding.EncodeToString(second.ID)}
	slices.Sort(want)
	var got []string
	for _, c := range ro.AllowCredentials {
		got = append(got, c.ID)
		if c.Type != "public-key" || !slices.Equal(c.Transports, []string{"hybrid", "internal"}) {
			t.Errorf("descriptor %+v", c)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("allowCredentials %v, want alice's %v (and not bob's)", got, want)
	}
	// The client decodes the challenge to the nonce's bytes; clientDataJSON then carries the nonce.
	raw, err := base64.RawURLEncoding.DecodeString(ro.Challenge)
	if err != nil || len(raw) != 32 || base64.RawURLEncoding.EncodeToString(raw) != nonce {
		t.Errorf("challenge does not round-trip: %v", err)
	}
	// A user without passkeys gets no allowCredentials (the member is omitted: an empty list).
	_, ro = extra(t, o, nonceReq("carol", "3f1c2a9e-0000-4000-8000-0000000ca201", newNonce(t), false))
	if len(ro.AllowCredentials) != 0 {
		t.Errorf("carol's allowCredentials %v", ro.AllowCredentials)
	}
}

func TestOptionsUnknownUserDecoys(t *testing.T) {
	f := newFixture(t, listConfig(), authenticator())
	o := newHook(f.rp, f.m, passkeynonce.WithClock(clock))
	f.m.lists = 0
	known, _ := extra(t, o, nonceReq(userAlice, subAlice, newNonce(t), false))
	unknown, ro1 := extra(t, o, nonceReq("ghost@example.com", "", newNonce(t), true))
	if f.m.lists != 2 {
		t.Errorf("%d list calls for one known and one unknown user, want 2", f.m.lists)
	}
	if !slices.Equal(slices.Sorted(maps.Keys(known.Public)), slices.Sorted(maps.Keys(unknown.Public))) ||
		!slices.Equal(slices.Sorted(maps.Keys(known.Private)), slices.Sorted(maps.Keys(unknown.Private))) {
		t.Errorf("parameter shapes differ: %v/%v vs %v/%v", known.Public, known.Private, unknown.Public, unknown.Private)
	}
	// Deterministic per username (case-insensitively), like a real user's list.
	_, ro2 := extra(t, o, nonceReq("Ghost@Example.com", "", newNonce(t), true))
	if a, b := ids(ro1), ids(ro2); !slices.Equal(a, b) {
		t.Errorf("decoys differ between two sign-ins: %v vs %v", a, b)
	}
	// A fresh Options (another Lambda instance) with the same deployment key gives the same decoys.
	o2 := newHook(f.rp, f.m)
	_, ro3 := extra(t, o2, nonceReq("ghost@example.com", "", newNonce(t), true))
	if !slices.Equal(ids(ro1), ids(ro3)) {
		t.Error("decoys differ between instances")
	}
	// Another deployment key gives other decoys.
	other := nonceReq("ghost@example.com", "", newNonce(t), true)
	other.Key = otherKey
	if _, ro4 := extra(t, o, other); len(ids(ro1)) > 0 && slices.Equal(ids(ro1), ids(ro4)) {
		t.Error("decoys do not depend on the deployment key")
	}
	// The distribution matches the table.
	counts := map[int]int{}
	lengths := map[int]int{}
	for i := range 2000 {
		_, ro := extra(t, o, nonceReq("user"+strconv.Itoa(i)+"@example.com", "", newNonce(t), true))
		counts[len(ro.AllowCredentials)]++
		for _, c := range ro.AllowCredentials {
			b, err := base64.RawURLEncoding.DecodeString(c.ID)
			if err != nil {
				t.Fatal(err)
			}
			lengths[len(b)]++
			if c.Type != "public-key" || len(c.Transports) == 0 {
				t.Fatalf("decoy shape %+v", c)
			}
		}
		if !slices.IsSortedFunc(ids(ro), func(a, b string) int { return compare(a, b) }) {
			t.Fatal("decoys not ordered like real passkeys")
		}
	}
	for n, want := range map[int]float64{0: 112.0 / 256, 1: 88.0 / 256, 2: 36.0 / 256} {
		if got := float64(counts[n]) / 2000; got < want-0.05 || got > want+0.05 {
			t.Errorf("%d decoys for %.3f of unknown users, want about %.3f", n, got, want)
		}
	}
	for l := range lengths {
		if l != 16 && l != 20 && l != 32 && l != 64 {
			t.Errorf("decoy credential ID of %d bytes", l)
		}
	}
	if counts[0] == 2000 {
		t.Error("no decoys at all")
	}
}

func TestOptionsDecoysCapped(t *testing.T) {
	cfg := listConfig()
	cfg.MaxPerUser = 1
	rp := newRP(t, cfg)
	m := newMemStore()
	o := newHook(rp, m)
	for i := range 300 {
		_, ro := extra(t, o, nonceReq("u"+strconv.Itoa(i), "", newNonce(t), true))
		if len(ro.AllowCredentials) > 1 {
			t.Fatalf("%d decoys with a cap of 1", len(ro.AllowCredentials))
		}
	}
}

func TestOptionsFailures(t *testing.T) {
	f := newFixture(t, listConfig(), authenticator())
	o := newHook(f.rp, f.m)
	if _, err := o.Extra(context.Background(), nonceReq(userAlice, subAlice, "short", false)); err == nil {
		t.Error("short nonce accepted")
	}
	f.m.listErr = errDown
	if _, err := o.Extra(context.Background(), nonceReq(userAlice, subAlice, newNonce(t), false)); !errors.Is(err, errDown) {
		t.Errorf("list failure: %v", err)
	}
	// Through Create: the round fails closed.
	create := &triggers.Create{Config: authflow.Config{Methods: []authflow.Method{authflow.Passkey}, MaxAttempts: 3, MaxResends: 2},
		Keys: keyed.Static{K: testKey}, NonceExtras: newHook(f.rp, f.m).Options}
	var ev events.CognitoEventUserPoolsCreateAuthChallenge
	ev.UserPoolID, ev.UserName = testPool, userAlice
	ev.Request.ChallengeName = authflow.ChallengeName
	ev.Request.UserAttributes = map[string]string{"sub": subAlice}
	if _, err := create.Handle(context.Background(), ev); !errors.Is(err, triggers.ErrUnavailable) {
		t.Errorf("create with failing passkey store: %v", err)
	}
	f.m.listErr = nil
	if _, err := create.Handle(context.Background(), ev); err != nil {
		t.Errorf("create with the store back: %v", err)
	}
	var nilOpts *passkeynonce.Options
	if _, err := nilOpts.Extra(context.Background(), nonceReq(userAlice, subAlice, newNonce(t), false)); err == nil {
		t.Error("nil options did not fail")
	}
}

func ids(ro requestOptions) []string {
	out := []string{}
	for _, c := range ro.AllowCredentials {
		out = append(out, c.ID)
	}
	return out
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestOptionsMatchGoWebAuthn covers every user verification setting and timeout bound: the JSON
// must stay what go-webauthn produced (extra compares each answer).
func TestOptionsMatchGoWebAuthn(t *testing.T) {
	for _, uv := range []string{"required", "preferred", "discouraged"} {
		for _, timeout := range []time.Duration{passkey.MinTimeout, passkey.DefaultTimeout, passkey.MaxTimeout} {
			for mode, listed := range map[string]int{passkey.AllowCredentialsNone: 0, passkey.AllowCredentialsList: 1} {
				cfg := testConfig()
				cfg.UserVerification, cfg.Timeout, cfg.AllowCredentials = uv, timeout, mode
				matchGoWebAuthn(t, cfg, listed)
			}
		}
	}
}

// matchGoWebAuthn checks the options of a real user (listed credentials expected), a user
// without passkeys and unknown users against go-webauthn (extra compares each answer).
func matchGoWebAuthn(t *testing.T, cfg passkey.Config, listed int) {
	t.Helper()
	f := newFixture(t, cfg, authenticator())
	o := newHook(f.rp, f.m, passkeynonce.WithClock(clock))
	_, ro := extra(t, o, nonceReq(userAlice, subAlice, newNonce(t), false))
	if ro.UserVerification != cfg.UserVerification || ro.Timeout != int(cfg.Timeout/time.Millisecond) || len(ro.AllowCredentials) != listed {
		t.Errorf("%s/%s/%s: %+v", cfg.UserVerification, cfg.Timeout, cfg.AllowCredentials, ro)
	}
	extra(t, o, nonceReq("bob", "3f1c2a9e-0000-4000-8000-0000000ca201", newNonce(t), false))
	for i := range 50 {
		extra(t, o, nonceReq("ghost"+strconv.Itoa(i), "", newNonce(t), true))
	}
}
