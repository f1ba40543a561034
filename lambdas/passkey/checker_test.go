package passkey_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/internal/testkit"
	"github.com/passwordless-go/cognito/lambdas/passkey"
	"github.com/passwordless-go/cognito/lambdas/passkey/softauthn"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

type fixture struct {
	rp    *passkey.RP
	m     *memStore
	a     *softauthn.Authenticator
	alice *softauthn.Credential
	bob   *softauthn.Credential
	logs  *testkit.Buffer // the checker's log lines
	c     *passkey.Checker
}

func newFixture(t testing.TB, cfg passkey.Config, a *softauthn.Authenticator) *fixture {
	t.Helper()
	f := &fixture{rp: newRP(t, cfg), m: newMemStore(), a: a, logs: &testkit.Buffer{}}
	f.alice = enroll(t, f.rp, f.m, a, subAlice, userAlice)
	f.bob = enroll(t, f.rp, f.m, a, subBob, userBob)
	f.c = passkey.NewChecker(f.rp, f.m, passkey.WithClock(clock), passkey.WithLogger(slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	return f
}

func (f *fixture) check(t *testing.T, req reqT) bool {
	t.Helper()
	ok, err := f.c.Check(context.Background(), req)
	if err != nil {
		t.Fatalf("Check: unexpected error %v", err)
	}
	return ok
}

type reqT = triggers.CheckRequest

func TestCheckAcceptsRightAssertion(t *testing.T) {
	for _, counter := range []bool{false, true} {
		a := authenticator()
		a.Counter = counter
		f := newFixture(t, testConfig(), a)
		nonce := newNonce(t)
		ans := mustAssert(t, a, f.alice, nonce, softauthn.Tweak{})
		if !f.check(t, checkReq(userAlice, subAlice, nonce, 10*time.Second, ans)) {
			t.Fatalf("counter=%v: right assertion refused; log: %s", counter, f.logs)
		}
		p, _ := f.m.get(subAlice, f.alice.ID)
		if p.SignCount != f.alice.SignCount || !p.LastUsedAt.Equal(fixedNow) || !p.BackupState {
			t.Errorf("counter=%v: stored after use: count %d (authenticator %d), lastUsed %v", counter, p.SignCount, f.alice.SignCount, p.LastUsedAt)
		}
		if counter && p.SignCount != 1 {
			t.Errorf("sign count not updated: %d", p.SignCount)
		}
		if f.m.gets != 1 || f.m.uses != 1 || f.m.consumes != 0 {
			t.Errorf("store calls: %d gets, %d uses, %d consumes", f.m.gets, f.m.uses, f.m.consumes)
		}
		// A second sign-in (new session, new nonce) works too.
		nonce2 := newNonce(t)
		if !f.check(t, checkReq(userAlice, subAlice, nonce2, time.Second, mustAssert(t, a, f.alice, nonce2, softauthn.Tweak{}))) {
			t.Errorf("counter=%v: second sign-in refused; log: %s", counter, f.logs)
		}
	}
}

func u32(v uint32) *uint32 { return &v }

func TestCheckRefuses(t *testing.T) {
	a := authenticator()
	a.Counter = true
	f := newFixture(t, testConfig(), a)
	nonce := newNonce(t)
	other := newNonce(t)
	stranger := authenticator()
	strangerCred, _, err := stranger.Register(newNonce(t), []byte(userAlice), softauthn.Tweak{})
	if err != nil {
		t.Fatal(err)
	}
	good := func() []byte { return mustAssert(t, a, f.alice, nonce, softauthn.Tweak{}) }
	sig := func(js []byte, mutate func([]byte) []byte) []byte {
		var v map[string]any
		if err := json.Unmarshal(js, &v); err != nil {
			t.Fatal(err)
		}
		r := v["response"].(map[string]any)
		raw, _ := base64.RawURLEncoding.DecodeString(r["signature"].(string))
		r["signature"] = base64.RawURLEncoding.EncodeToString(mutate(raw))
		out, _ := json.Marshal(v)
		return out
	}
	cases := []struct {
		name     string
		user     string
		sub      string
		issued   time.Duration
		ans      []byte
		wantLog  string
		metadata map[string]string
	}{
		{"another session's nonce", userAlice, subAlice, time.Second, mustAssert(t, a, f.alice, other, softauthn.Tweak{}), "validating challenge", nil},
		{"challenge tweaked to this nonce but signed over another", userAlice, subAlice, time.Second,
			mustAssert(t, a, f.alice, other, softauthn.Tweak{Challenge: other + "A"}), "does not verify", nil},
		{"bob's credential signing in as alice", userAlice, subAlice, time.Second, mustAssert(t, a, f.bob, nonce, softauthn.Tweak{}), "no such passkey", nil},
		{"alice's credential signing in as bob", userBob, subBob, time.Second, mustAssert(t, a, f.alice, nonce, softauthn.Tweak{}), "no such passkey", nil},
		{"alice's credential with bob's user handle", userAlice, subAlice, time.Second,
			mustAssert(t, a, f.alice, nonce, softauthn.Tweak{UserHandle: []byte(userBob)}), "does not verify", nil},
		{"unknown credential", userAlice, subAlice, time.Second, mustAssert(t, stranger, strangerCred, nonce, softauthn.Tweak{}), "no such passkey", nil},
		{"wrong origin", userAlice, subAlice, time.Second, mustAssert(t, a, f.alice, nonce, softauthn.Tweak{Origin: "https://evil.example.net"}), "origin", nil},
		{"sibling origin not listed", userAlice, subAlice, time.Second, mustAssert(t, a, f.alice, nonce, softauthn.Tweak{Origin: "https://other.example.com"}), "origin", nil},
		{"unlisted android app", userAlice, subAlice, time.Second,
			mustAssert(t, a, f.alice, nonce, softauthn.Tweak{Origin: passkey.AndroidOriginPrefix + strings.Repeat("A", 43)}), "origin", nil},
		{"wrong rpIdHash", userAlice, subAlice, time.Second, mustAssert(t, a, f.alice, nonce, softauthn.Tweak{RPID: "evil.example"}), "RP Hash mismatch", nil},
		{"UP missing", userAlice, subAlice, time.Second, mustAssert(t, a, f.alice, nonce, softauthn.Tweak{NoUP: true}), "User presence required", nil},
		{"UV missing when required", userAlice, subAlice, time.Second, mustAssert(t, a, f.alice, nonce, softauthn.Tweak{NoUV: true}), "User verification required", nil},
		{"BE changed since registration", userAlice, subAlice, time.Second, mustAssert(t, a, f.alice, nonce, softauthn.Tweak{NoBE: true}), "Backup Eligible", nil},
		{"type webauthn.create", userAlice, subAlice, time.Second, mustAssert(t, a, f.alice, nonce, softauthn.Tweak{Type: "webauthn.create"}), "ceremony type", nil},
		{"cross-origin iframe", userAlice, subAlice, time.Second, mustAssert(t, a, f.alice, nonce, softauthn.Tweak{CrossOrigin: true}), "cross origin", nil},
		{"bit-flipped signature", userAlice, subAlice, time.Second, mustAssert(t, a, f.alice, nonce, softauthn.Tweak{BadSignature: true}), "signature", nil},
		{"truncated signature", userAlice, subAlice, time.Second, sig(good(), func(b []byte) []byte { return b[:len(b)-3] }), "signature", nil},
		{"empty signature", userAlice, subAlice, time.Second, sig(good(), func([]byte) []byte { return nil }), "", nil},
		{"signature of another assertion", userAlice, subAlice, time.Second,
			sig(good(), func([]byte) []byte {
				var v map[string]any
				_ = json.Unmarshal(mustAssert(t, a, f.alice, other, softauthn.Tweak{}), &v)
				s, _ := base64.RawURLEncoding.DecodeString(v["response"].(map[string]any)["signature"].(string))
				return s
			}), "signature", nil},
		{"login timeout: nonce round too old", userAlice, subAlice, passkey.DefaultTimeout + time.Second, good(), "login timeout", nil},
		{"issue time in the future", userAlice, subAlice, -time.Minute, good(), "login timeout", nil},
		{"extra member", userAlice, subAlice, time.Second, mustAssert(t, a, f.alice, nonce, softauthn.Tweak{ExtraJSON: `,"x":1`}), "malformed", nil},
		{"duplicate member", userAlice, subAlice, time.Second, mustAssert(t, a, f.alice, nonce, softauthn.Tweak{ExtraJSON: `,"type":"public-key"`}), "malformed", nil},
		{"challenge ID of nothing", userAlice, subAlice, time.Second, good(), "usernameless", map[string]string{passkey.MetaChallengeID: randB64(t, 16)}},
		{"malformed challenge ID", userAlice, subAlice, time.Second, good(), "challenge ID", map[string]string{passkey.MetaChallengeID: "x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.logs.String())
			req := checkReq(tc.user, tc.sub, nonce, tc.issued, tc.ans)
			for k, v := range tc.metadata {
				req.ClientMetadata[k] = v
			}
			if f.check(t, req) {
				t.Fatal("accepted")
			}
			if logged := f.logs.String()[before:]; tc.wantLog != "" && !strings.Contains(logged, tc.wantLog) {
				t.Errorf("log %q does not mention %q", logged, tc.wantLog)
			}
			for _, c := range []struct {
				sub string
				id  []byte
			}{{subAlice, f.alice.ID}, {subBob, f.bob.ID}} {
				if p, _ := f.m.get(c.sub, c.id); !p.LastUsedAt.IsZero() {
					t.Error("a passkey was recorded as used after a refused answer")
				}
			}
		})
	}
	// The right answer still works afterwards.
	if !f.check(t, checkReq(userAlice, subAlice, nonce, time.Second, good())) {
		t.Fatalf("right answer after refusals refused; log: %s", f.logs)
	}
	for _, secret := range []string{nonce, other, base64.RawURLEncoding.EncodeToString(f.alice.ID), userAlice} {
		if strings.Contains(f.logs.String(), secret) {
			t.Errorf("%q was logged", secret)
		}
	}
}

func TestCheckMalformedAnswers(t *testing.T) {
	f := newFixture(t, testConfig(), authenticator())
	nonce := newNonce(t)
	good := string(mustAssert(t, f.a, f.alice, nonce, softauthn.Tweak{}))
	for _, ans := range []string{
		"", "null", "[]", "{}", `""`, "{", good + "{}", good[:len(good)-1], "\xff" + good,
		strings.Replace(good, `"type":"public-key"`, `"type":"password"`, 1),
		strings.Replace(good, `"rawId":"`, `"rawId":"AA`, 1),
		strings.Replace(good, `"clientDataJSON":"`, `"clientDataJSON":"!`, 1),
		strings.Replace(good, `"authenticatorData":"`, `"authenticatorData":"AAAA`, 1),
		strings.Replace(good, `"response":{`, `"response":{"clientDataJSON":"e30",`, 1),
		strings.Repeat(" ", passkey.MaxAssertionBytes) + good,
		`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":""}}`,
		`{"id":"AA","rawId":"AA","type":"public-key","response":[]}`,
		strings.Repeat("[", 100),
	} {
		if f.check(t, checkReq(userAlice, subAlice, nonce, time.Second, []byte(ans))) {
			t.Errorf("accepted %.80q", ans)
		}
	}
	if f.m.gets != 0 {
		t.Errorf("%d store reads for malformed answers", f.m.gets)
	}
	if !f.check(t, checkReq(userAlice, subAlice, nonce, time.Second, []byte(good))) {
		t.Fatal("right answer refused")
	}
}

func TestCheckReplayIsLoggedAsClone(t *testing.T) {
	for _, counter := range []bool{true, false} {
		a := authenticator()
		a.Counter = counter
		f := newFixture(t, testConfig(), a)
		nonce := newNonce(t)
		ans := mustAssert(t, a, f.alice, nonce, softauthn.Tweak{})
		req := checkReq(userAlice, subAlice, nonce, time.Second, ans)
		if !f.check(t, req) {
			t.Fatalf("first use refused: %s", f.logs)
		}
		if f.check(t, req) {
			t.Fatalf("counter=%v: replayed assertion accepted", counter)
		}
		if !strings.Contains(f.logs.String(), "possible cloned authenticator") {
			t.Errorf("counter=%v: replay not logged as a possible clone: %s", counter, f.logs)
		}
	}
	// A lower counter from a second device with a copied key.
	a := authenticator()
	a.Counter = true
	f := newFixture(t, testConfig(), a)
	for range 3 {
		n := newNonce(t)
		if !f.check(t, checkReq(userAlice, subAlice, n, time.Second, mustAssert(t, a, f.alice, n, softauthn.Tweak{}))) {
			t.Fatal("use refused")
		}
	}
	n := newNonce(t)
	if f.check(t, checkReq(userAlice, subAlice, n, time.Second, mustAssert(t, a, f.alice, n, softauthn.Tweak{SignCount: u32(2)}))) {
		t.Fatal("lower sign count accepted")
	}
	if !strings.Contains(f.logs.String(), `"stored":3`) || !strings.Contains(f.logs.String(), "possible cloned") {
		t.Errorf("clone not logged with the counts: %s", f.logs)
	}
}

func TestCheckConcurrentReplay(t *testing.T) {
	f := newFixture(t, testConfig(), authenticator()) // counterless: only the challenge guard stops it
	nonce := newNonce(t)
	req := checkReq(userAlice, subAlice, nonce, time.Second, mustAssert(t, f.a, f.alice, nonce, softauthn.Tweak{}))
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := f.c.Check(context.Background(), req)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent submissions of one assertion succeeded", wins.Load())
	}
}

func TestCheckAndroidOrigin(t *testing.T) {
	a := authenticator()
	a.Origin = androidOrigin
	f := newFixture(t, testConfig(), a)
	nonce := newNonce(t)
	if !f.check(t, checkReq(userAlice, subAlice, nonce, time.Second, mustAssert(t, a, f.alice, nonce, softauthn.Tweak{}))) {
		t.Fatalf("listed android:apk-key-hash origin refused: %s", f.logs)
	}
	// Not listed: web-only configuration.
	cfg := testConfig()
	cfg.Origins = []string{webOrigin}
	g := newFixture(t, cfg, authenticator())
	nonce = newNonce(t)
	if g.check(t, checkReq(userAlice, subAlice, nonce, time.Second, mustAssert(t, g.a, g.alice, nonce, softauthn.Tweak{Origin: androidOrigin}))) {
		t.Fatal("unlisted android origin accepted")
	}
}

func TestCheckUserVerificationPolicy(t *testing.T) {
	cfg := testConfig()
	cfg.UserVerification = "preferred"
	f := newFixture(t, cfg, authenticator())
	nonce := newNonce(t)
	if !f.check(t, checkReq(userAlice, subAlice, nonce, time.Second, mustAssert(t, f.a, f.alice, nonce, softauthn.Tweak{NoUV: true}))) {
		t.Fatalf("UV missing with preferred refused: %s", f.logs)
	}
	nonce = newNonce(t)
	if f.check(t, checkReq(userAlice, subAlice, nonce, time.Second, mustAssert(t, f.a, f.alice, nonce, softauthn.Tweak{NoUP: true}))) {
		t.Fatal("UP missing accepted with preferred")
	}
}

func TestCheckBackupStateWithoutEligibility(t *testing.T) {
	a := authenticator()
	a.BackupEligible, a.BackupState = false, false
	f := newFixture(t, testConfig(), a)
	nonce := newNonce(t)
	if f.check(t, checkReq(userAlice, subAlice, nonce, time.Second, mustAssert(t, a, f.alice, nonce, softauthn.Tweak{SetBS: true}))) {
		t.Fatal("BS without BE accepted")
	}
	nonce = newNonce(t)
	if !f.check(t, checkReq(userAlice, subAlice, nonce, time.Second, mustAssert(t, a, f.alice, nonce, softauthn.Tweak{}))) {
		t.Fatalf("device-bound passkey refused: %s", f.logs)
	}
}

func TestCheckNotAPasskeyRound(t *testing.T) {
	f := newFixture(t, testConfig(), authenticator())
	nonce := newNonce(t)
	ans := mustAssert(t, f.a, f.alice, nonce, softauthn.Tweak{})
	r := checkReq(userAlice, subAlice, nonce, time.Second, ans)
	r.Method = authflow.DeviceKey
	if f.check(t, r) {
		t.Error("device_key method accepted")
	}
	r = checkReq(userAlice, subAlice, nonce, time.Second, ans)
	r.Challenge.Kind = authflow.KindCode
	if f.check(t, r) {
		t.Error("code round accepted")
	}
	r = checkReq(userAlice, subAlice, "", time.Second, ans)
	if f.check(t, r) {
		t.Error("round without nonce accepted")
	}
	r = checkReq(userAlice, subAlice, nonce, time.Second, ans)
	delete(r.Private, passkey.PrivIssuedAt)
	if f.check(t, r) {
		t.Error("round without issue time accepted")
	}
	if f.m.gets != 0 {
		t.Errorf("%d store reads", f.m.gets)
	}
}

func TestCheckUnknownUser(t *testing.T) {
	f := newFixture(t, testConfig(), authenticator())
	nonce := newNonce(t)
	ans := mustAssert(t, f.a, f.alice, nonce, softauthn.Tweak{})
	// Alice's valid assertion, for a user Cognito does not know: false, one read, no use.
	r := checkReq("ghost@example.com", "", nonce, time.Second, ans)
	r.UserNotFound = true
	if f.check(t, r) {
		t.Fatal("unknown user accepted")
	}
	// Even if Cognito passed a sub with userNotFound.
	r = checkReq("ghost@example.com", subAlice, nonce, time.Second, ans)
	r.UserNotFound = true
	if f.check(t, r) {
		t.Fatal("unknown user with a sub accepted")
	}
	if f.m.gets != 2 || f.m.uses != 0 {
		t.Errorf("store calls: %d gets, %d uses; want 2 gets (like a known user) and no use", f.m.gets, f.m.uses)
	}
	if p, _ := f.m.get(subAlice, f.alice.ID); !p.LastUsedAt.IsZero() {
		t.Error("alice's passkey recorded as used")
	}
}

// TestCheckUnknownUserTiming: refusing an unknown user costs about what refusing a wrong
// signature by a real passkey costs (both verify one P-256 signature).
func TestCheckUnknownUserTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	f := newFixture(t, testConfig(), authenticator())
	nonce := newNonce(t)
	bad := checkReq(userAlice, subAlice, nonce, time.Second, mustAssert(t, f.a, f.alice, nonce, softauthn.Tweak{BadSignature: true}))
	unknown := checkReq("ghost@example.com", "", nonce, time.Second, mustAssert(t, f.a, f.alice, nonce, softauthn.Tweak{}))
	unknown.UserNotFound = true
	measure := func(r reqT) time.Duration {
		start := time.Now()
		for range 20 {
			if f.check(t, r) {
				t.Fatal("accepted")
			}
		}
		return time.Since(start) / 20
	}
	var known, ghost []time.Duration
	for range 15 {
		known = append(known, measure(bad))
		ghost = append(ghost, measure(unknown))
	}
	med := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	k, g := med(known), med(ghost)
	ratio := float64(g) / float64(k)
	t.Logf("unknown user %s, wrong signature %s (ratio %.2f)", g, k, ratio)
	// Both paths verify one P-256 signature; skipping it would make the unknown user about ten
	// times faster. The bounds are wide because the test machine is shared and busy: the ratio
	// of medians has been seen at 0.5 with the same code.
	if ratio < 0.25 || ratio > 4 {
		t.Fatalf("unknown user refused in %s, wrong signature of a real user in %s (ratio %.2f)", g, k, ratio)
	}
}

func TestCheckStoreFailures(t *testing.T) {
	f := newFixture(t, testConfig(), authenticator())
	nonce := newNonce(t)
	ans := mustAssert(t, f.a, f.alice, nonce, softauthn.Tweak{})
	for name, set := range map[string]func(){
		"get":     func() { f.m.getErr = errDown },
		"use":     func() { f.m.useErr = errDown },
		"consume": func() { f.m.consumeErr = errDown },
	} {
		t.Run(name, func(t *testing.T) {
			f.m.getErr, f.m.useErr, f.m.consumeErr = nil, nil, nil
			set()
			r := checkReq(userAlice, subAlice, nonce, time.Second, ans)
			if name == "consume" {
				r.ClientMetadata[passkey.MetaChallengeID] = randB64(t, 16)
			}
			ok, err := f.c.Check(context.Background(), r)
			if ok || !errors.Is(err, errDown) {
				t.Fatalf("Check = %v, %v; want false and the store error", ok, err)
			}
		})
	}
	f.m.getErr, f.m.useErr, f.m.consumeErr = nil, nil, nil
	// Deleted between read and use: false, no error.
	f.m.useErr = nil
	nonce = newNonce(t)
	r := checkReq(userAlice, subAlice, nonce, time.Second, mustAssert(t, f.a, f.alice, nonce, softauthn.Tweak{}))
	f.m.useErr = store.ErrNotFound
	if ok, err := f.c.Check(context.Background(), r); ok || err != nil {
		t.Fatalf("deleted during sign-in: %v, %v", ok, err)
	}
	var nilChecker *passkey.Checker
	if ok, err := nilChecker.Check(context.Background(), r); ok || err == nil {
		t.Fatal("nil checker did not fail closed")
	}
}

func TestCheckUsernameless(t *testing.T) {
	f := newFixture(t, testConfig(), authenticator())
	opts, challenge, err := f.rp.DiscoverableOptions()
	if err != nil {
		t.Fatal(err)
	}
	if len(opts.Response.AllowedCredentials) != 0 || opts.Response.Challenge.String() != challenge {
		t.Fatalf("discoverable options %+v", opts.Response)
	}
	id := f.m.addChallenge(t, challenge, passkey.DefaultTimeout)
	ans := mustAssert(t, f.a, f.alice, challenge, softauthn.Tweak{})
	// The client read the user handle from the assertion and used it as USERNAME.
	handle := userHandle(ans)
	if string(handle) != userAlice {
		t.Fatalf("user handle %q, want the username %q", handle, userAlice)
	}
	req := func(ans []byte, id string) reqT {
		r := checkReq(string(handle), subAlice, newNonce(t), time.Second, ans)
		r.ClientMetadata[passkey.MetaChallengeID] = id
		return r
	}
	if !f.check(t, req(ans, id)) {
		t.Fatalf("usernameless sign-in refused: %s", f.logs)
	}
	if f.check(t, req(ans, id)) {
		t.Fatal("the same challenge worked twice")
	}
	// A fresh challenge, but the assertion omits the user handle: refused (and consumed).
	challenge2 := newNonce(t)
	id2 := f.m.addChallenge(t, challenge2, passkey.DefaultTimeout)
	if f.check(t, req(mustAssert(t, f.a, f.alice, challenge2, softauthn.Tweak{NoUserHandle: true}), id2)) {
		t.Fatal("discoverable assertion without user handle accepted")
	}
	if f.check(t, req(mustAssert(t, f.a, f.alice, challenge2, softauthn.Tweak{}), id2)) {
		t.Fatal("consumed challenge accepted after a failure")
	}
	// The stored challenge, not the session nonce, is what must be signed.
	challenge3 := newNonce(t)
	id3 := f.m.addChallenge(t, challenge3, passkey.DefaultTimeout)
	r := req(nil, id3)
	r.Answer = string(mustAssert(t, f.a, f.alice, r.Private[authflow.PrivNonce], softauthn.Tweak{}))
	if f.check(t, r) {
		t.Fatal("assertion over the session nonce accepted with a challenge ID")
	}
	// Bob's discoverable credential cannot sign in as Alice.
	challenge4 := newNonce(t)
	id4 := f.m.addChallenge(t, challenge4, passkey.DefaultTimeout)
	if f.check(t, req(mustAssert(t, f.a, f.bob, challenge4, softauthn.Tweak{}), id4)) {
		t.Fatal("bob's passkey signed in as alice")
	}
	// Expired challenge.
	challenge5 := newNonce(t)
	id5 := f.m.addChallenge(t, challenge5, -time.Second)
	if f.check(t, req(mustAssert(t, f.a, f.alice, challenge5, softauthn.Tweak{}), id5)) {
		t.Fatal("expired challenge accepted")
	}
}
