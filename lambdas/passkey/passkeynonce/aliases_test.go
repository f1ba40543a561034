package passkeynonce_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/passkey/passkeyconf"
	"github.com/passwordless-go/cognito/lambdas/passkey/passkeynonce"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

var testKey = keyed.MustStatic("deployment secret number one, 32+ bytes").K

// withoutChallenge is the options JSON with its challenge blanked out.
func withoutChallenge(t *testing.T, options, challenge string) string {
	t.Helper()
	if !strings.Contains(options, `"challenge":"`+challenge+`"`) {
		t.Fatalf("options %s do not carry the challenge %s", options, challenge)
	}
	return strings.Replace(options, challenge, "-", 1)
}

func nonceN(i byte) string {
	b := make([]byte, 32)
	for j := range b {
		b[j] = i
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// aliasRequests are nonce rounds anyone can start: the email and the phone number of one real
// account that has passkeys, and a name nobody has.
func aliasRequests() map[string]triggers.NonceRequest {
	email := nonceReq("alice@example.com", "sub-a", nonceN(1), false)
	phone := nonceReq("+447700900123", "sub-a", nonceN(2), false)
	phone.UserAttributes = map[string]string{"sub": "sub-a", "phone_number": "+447700900123"}
	unknown := nonceReq("ghost@example.com", "", nonceN(3), true)
	for _, r := range []*triggers.NonceRequest{&email, &phone, &unknown} {
		r.Key = testKey
	}
	return map[string]triggers.NonceRequest{"email alias": email, "phone alias": phone, "unknown name": unknown}
}

// TestOptionsDoNotLinkAliases (issue 10, attack 7): by default the options of the nonce round are
// the same, byte for byte apart from the challenge, for every alias of a real account and for an
// unknown name, so nobody can link an email and a phone number to one account, or tell either
// from a name nobody has.
func TestOptionsDoNotLinkAliases(t *testing.T) {
	s := goldenStore()
	o := passkeynonce.NewOptions(passkeyconf.Config{RPID: "example.com"}, s, passkeynonce.WithClock(clock))
	seen := map[string]string{}
	for name, req := range aliasRequests() {
		out, err := o.Extra(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		seen[name] = withoutChallenge(t, out.Public[passkeynonce.PubOptions], req.Nonce)
	}
	want := `{"challenge":"-","timeout":120000,"rpId":"example.com","userVerification":"required"}`
	for name, got := range seen {
		if got != want {
			t.Errorf("%s: %s\nwant %s (the same for everyone)", name, got, want)
		}
	}
	if s.lists != 0 {
		t.Errorf("%d passkey listings: nothing in the options depends on the user", s.lists)
	}
	// Without a key (none is needed) it still works.
	req := aliasRequests()["email alias"]
	req.Key = nil
	if _, err := o.Extra(context.Background(), req); err != nil {
		t.Errorf("without a key: %v", err)
	}
}

// TestListModeDecoysAreKeyed: with AllowCredentials "list" (documented as linkable) real users
// get their credential IDs and unknown users decoys derived from the deployment key: stable for
// one key, different under another, never computable without it.
func TestListModeDecoysAreKeyed(t *testing.T) {
	cfg := passkeyconf.Config{RPID: "example.com", AllowCredentials: passkeyconf.AllowCredentialsList}
	o := passkeynonce.NewOptions(cfg, goldenStore(), passkeynonce.WithClock(clock))
	other := keyed.MustStatic("deployment secret number two, 32+ bytes").K
	decoys := func(k *keyed.Key, user string) string {
		t.Helper()
		req := nonceReq(user, "", goldenNonce, true)
		req.Key = k
		out, err := o.Extra(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		var ro struct {
			AllowCredentials json.RawMessage `json:"allowCredentials"`
		}
		if err := json.Unmarshal([]byte(out.Public[passkeynonce.PubOptions]), &ro); err != nil {
			t.Fatal(err)
		}
		return string(ro.AllowCredentials)
	}
	differ, nonEmpty := 0, 0
	for i := range 50 {
		user := "user" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@example.com"
		a, b := decoys(testKey, user), decoys(other, user)
		if a != decoys(testKey, user) {
			t.Fatalf("decoys of %s not stable under one key", user)
		}
		if a != "" {
			nonEmpty++
		}
		if a != b {
			differ++
		}
	}
	if nonEmpty < 20 || differ < nonEmpty {
		t.Errorf("%d of 50 unknown users have decoys, %d differ between two deployment keys", nonEmpty, differ)
	}
	// The real account lists its passkeys for each alias.
	for name, req := range aliasRequests() {
		if name == "unknown name" {
			continue
		}
		out, err := o.Extra(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out.Public[passkeynonce.PubOptions], `"type":"public-key"`); n != 3 {
			t.Errorf("%s: %d credentials listed, want alice's 3", name, n)
		}
	}
	// No key: the round fails rather than publishing unkeyed decoys.
	req := nonceReq("ghost", "", goldenNonce, true)
	req.Key = nil
	if _, err := o.Extra(context.Background(), req); err == nil {
		t.Error("list mode without a deployment key did not fail")
	}
}
