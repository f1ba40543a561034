package magiclink_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/magiclink"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

func FuzzParseFragment(f *testing.F) {
	good := magiclink.Link{UserName: alice, Secret: strings.Repeat("A", 42) + "Q", Expires: time.Unix(1_800_000_900, 0)}
	for _, s := range []string{good.Fragment(), "#" + good.Fragment(), good.URL(appURL), "", "ml=", "ml=e30", "#ml=bnVsbA", "ml=W10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := magiclink.ParseFragment(s)
		if err != nil {
			if l != (magiclink.Link{}) {
				t.Fatalf("error %v with a non-zero link %+v", err, l)
			}
			return
		}
		if !magiclink.ValidSecret(l.Secret) || l.UserName == "" || !utf8.ValidString(l.UserName) || l.Expires.Unix() <= 0 {
			t.Fatalf("accepted a bad link %+v from %q", l, s)
		}
		again, err := magiclink.ParseFragment(l.Fragment())
		if err != nil || again != l {
			t.Fatalf("round trip of %+v: %+v, %v", l, again, err)
		}
	})
}

func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{appURL, "HTTPS://App.Example.com:443/a?b", "http://localhost:5173", "javascript:alert(1)", "https://a.b/#x", "http://127.0.0.1/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := magiclink.NormalizeURL(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(n, "https://") && !strings.HasPrefix(n, "http://localhost/") && !strings.HasPrefix(n, "http://localhost:") {
			t.Fatalf("NormalizeURL(%q) = %q: not https or http://localhost", s, n)
		}
		if strings.ContainsAny(n, "#\\ \t\r\n@") {
			t.Fatalf("NormalizeURL(%q) = %q holds a fragment, backslash, space or user info", s, n)
		}
		if again, err := magiclink.NormalizeURL(n); err != nil || again != n {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, n, again, err)
		}
	})
}

// countingStore is a CheckerStore that never has a link, counts its calls and keeps the last
// address hash it was given.
type countingStore struct {
	calls       atomic.Int64
	addressHash atomic.Pointer[[]byte]
}

func (c *countingStore) ConsumeMagicLink(_ context.Context, userKey string, hash, addressHash []byte, deviceHash string, requireDevice bool, attempt string) (bool, error) {
	c.calls.Add(1)
	c.addressHash.Store(&addressHash)
	return false, nil
}

// FuzzCheck: whatever the answer and metadata, Check never panics, never says yes without a
// link, and makes exactly one store call (malformed answers and unknown users do the same work).
func FuzzCheck(f *testing.F) {
	f.Add("", "", "", "", "", false, false)
	f.Add(strings.Repeat("A", 43), "complete", "", "a@example.com", "true", true, false)
	f.Add("ml=abc", "", "dev", "not an address", "true", false, true)
	f.Fuzz(func(t *testing.T, answer, action, deviceSecret, email, emailVerified string, userNotFound, sameDevice bool) {
		st := &countingStore{}
		c, err := magiclink.NewChecker(st, sameDevice, nil)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := c.Check(context.Background(), triggers.CheckRequest{
			Challenge: authflow.Challenge{Kind: authflow.KindNonce, SessionID: "q3Vx-_9aZk0bT1c2D3e4Fg"},
			Method:    authflow.MagicLink,
			Answer:    answer,
			Caller: triggers.Caller{
				UserPoolID:     poolID,
				UserName:       alice,
				UserNotFound:   userNotFound,
				Key:            testKey,
				ClientMetadata: map[string]string{authflow.MetaAction: action, magiclink.MetaDeviceSecret: deviceSecret},
				UserAttributes: map[string]string{"email": email, "email_verified": emailVerified},
			},
		})
		if ok || err != nil || st.calls.Load() != 1 {
			t.Fatalf("Check(%q) = %v, %v after %d store calls", answer, ok, err, st.calls.Load())
		}
	})
}
