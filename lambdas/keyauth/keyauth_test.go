package keyauth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/keyauth"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

type reqT = triggers.CheckRequest

func withNotFound(r reqT) reqT {
	r.UserNotFound = true
	return r
}

func TestCheckAcceptsRightSignature(t *testing.T) {
	for _, s := range allSigners(t) {
		t.Run(s.name, func(t *testing.T) {
			m, id, c, nonce := aliceChecker(t, s, keyauth.WithClock(clock))
			sig := s.signAlice(t, nonce)
			ok, err := c.Check(context.Background(), request(nameAlice, subAlice, nonce, answer(id, sig)))
			if err != nil || !ok {
				t.Fatalf("Check = %v, %v; want true, nil", ok, err)
			}
			k, _ := m.get(subAlice, id)
			if !k.LastUsedAt.Equal(fixedNow) {
				t.Errorf("lastUsedAt = %v, want %v", k.LastUsedAt, fixedNow)
			}
			if m.gets != 1 || m.touches != 1 {
				t.Errorf("store calls: %d gets, %d touches; want 1 and 1", m.gets, m.touches)
			}
		})
	}
}

func TestCheckRefuses(t *testing.T) {
	testKeys(t)
	for _, s := range allSigners(t) {
		t.Run(s.name, func(t *testing.T) {
			m := newMemStore()
			id := m.register(t, subAlice, s)
			other := rsaSigner(t, rsaKey2, false)
			bobID := m.register(t, subBob, other)
			c := keyauth.New(m, keyauth.WithClock(clock))
			nonce := newNonce(t)
			good := s.signAlice(t, nonce)

			cases := []struct {
				name string
				user string
				sub  string
				ans  string
			}{
				{"signature from another session (other nonce)", nameAlice, subAlice,
					answer(id, s.signAlice(t, newNonce(t)))},
				{"client-chosen payload: a timestamp", nameAlice, subAlice,
					answer(id, s.sign(t, []byte(strconv.FormatInt(fixedNow.Unix(), 10))))},
				{"client-chosen payload: the bare nonce", nameAlice, subAlice,
					answer(id, s.sign(t, []byte(nonce)))},
				{"message for another user pool", nameAlice, subAlice,
					answer(id, s.sign(t, message(t, "eu-west-1_Other", testClient, nameAlice, nonce)))},
				{"message for another app client", nameAlice, subAlice,
					answer(id, s.sign(t, message(t, testPool, "otherclient", nameAlice, nonce)))},
				{"message for another username", nameAlice, subAlice,
					answer(id, s.sign(t, message(t, testPool, testClient, nameBob, nonce)))},
				{"message with a trailing newline", nameAlice, subAlice,
					answer(id, s.sign(t, append(message(t, testPool, testClient, nameAlice, nonce), '\n')))},
				{"another user's key ID with that user's valid signature", nameAlice, subAlice,
					answer(bobID, other.signAlice(t, nonce))},
				{"own signature under another user's key ID", nameAlice, subAlice, answer(bobID, good)},
				{"own key used to sign in as another user", nameBob, subBob,
					answer(id, s.sign(t, message(t, testPool, testClient, nameBob, nonce)))},
				{"unknown key ID", nameAlice, subAlice, answer(newKeyID(t), good)},
				{"truncated signature", nameAlice, subAlice, answer(id, good[:len(good)-4])},
				{"signature cut in half", nameAlice, subAlice, answer(id, good[:len(good)/2])},
				{"bit-flipped signature", nameAlice, subAlice, answer(id, flipBit(t, good, 9))},
				{"bit-flipped last byte", nameAlice, subAlice, answer(id, flipBit(t, good, -1))},
				{"signature not base64", nameAlice, subAlice, answer(id, "!!"+good[2:])},
				{"empty-ish signature", nameAlice, subAlice, answer(id, "AAAA")},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					ok, err := c.Check(context.Background(), request(tc.user, tc.sub, nonce, tc.ans))
					if ok || err != nil {
						t.Fatalf("Check = %v, %v; want false, nil", ok, err)
					}
					for _, kid := range []string{id, bobID} {
						for _, owner := range []string{subAlice, subBob} {
							if k, ok := m.get(owner, kid); ok && !k.LastUsedAt.IsZero() {
								t.Errorf("key of %s touched after a refused answer", owner)
							}
						}
					}
				})
			}
			// The right answer still works afterwards (nothing above disturbed the key).
			ok, err := c.Check(context.Background(), request(nameAlice, subAlice, nonce, answer(id, good)))
			if !ok || err != nil {
				t.Fatalf("right answer after refusals: Check = %v, %v", ok, err)
			}
		})
	}
}

// flipBit flips one bit of the decoded signature at byte i (negative: from the end).
func flipBit(t *testing.T, sigB64 string, i int) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(sigB64)
		if err != nil {
			t.Fatal(err)
		}
	}
	if i < 0 {
		i += len(raw)
	}
	raw[i] ^= 0x01
	return base64.StdEncoding.EncodeToString(raw)
}

func TestCheckRevokedKey(t *testing.T) {
	testKeys(t)
	s := ecSigner(t, ecKey, false, false)
	m := newMemStore()
	id := m.register(t, subAlice, s)
	c := keyauth.New(m, keyauth.WithClock(clock))

	t.Run("revoked before sign-in", func(t *testing.T) {
		nonce := newNonce(t)
		sig := s.signAlice(t, nonce)
		m.delete(subAlice, id)
		defer m.register(t, subAlice, s) // fresh ID for the next subtest
		ok, err := c.Check(context.Background(), request(nameAlice, subAlice, nonce, answer(id, sig)))
		if ok || err != nil {
			t.Fatalf("Check = %v, %v; want false, nil", ok, err)
		}
	})
	t.Run("revoked between read and last-use update", func(t *testing.T) {
		m := newMemStore()
		id := m.register(t, subAlice, s)
		m.beforeTouch = func() { m.delete(subAlice, id) }
		c := keyauth.New(m, keyauth.WithClock(clock))
		nonce := newNonce(t)
		sig := s.signAlice(t, nonce)
		ok, err := c.Check(context.Background(), request(nameAlice, subAlice, nonce, answer(id, sig)))
		if ok || err != nil {
			t.Fatalf("Check = %v, %v; want false, nil", ok, err)
		}
	})
}

func TestCheckMalformedAnswers(t *testing.T) {
	s := aliceRSA(t)
	m, id, c, nonce := aliceChecker(t, s)
	sig := s.signAlice(t, nonce)
	for _, ans := range []string{
		"",
		" ",
		"null",
		"[]",
		`"` + sig + `"`,
		sig,
		"{}",
		`{"keyId":"` + id + `"}`,
		`{"signature":"` + sig + `"}`,
		`{"keyId":"` + id + `","signature":""}`,
		`{"keyId":"","signature":"` + sig + `"}`,
		`{"keyId":"` + id + `","signature":"` + sig + `","extra":1}`,
		`{"keyId":"` + id + `","signature":"` + sig + `","nonce":"` + nonce + `"}`,
		`{"KeyId":"` + id + `","signature":"` + sig + `"}`,
		`{"keyId":"` + id + `","keyId":"` + id + `","signature":"` + sig + `"}`,
		`{"keyId":"` + id + `","signature":"` + sig + `"}{}`,
		`{"keyId":"` + id + `","signature":"` + sig + `"} x`,
		`{"keyId":"` + id + `","signature":"` + sig + `"`,
		`{"keyId":"` + id + `","signature":` + `["` + sig + `"]}`,
		`{"keyId":1,"signature":"` + sig + `"}`,
		`{"keyId":"` + id + `x","signature":"` + sig + `"}`,
		`{"keyId":"` + id[:21] + `B","signature":"` + sig + `"}`,
		`{"keyId":"../../etc/passwd/aaaaaaa","signature":"` + sig + `"}`,
		`{"keyId":"` + id + `","signature":"` + sig + "\xff" + `"}`,
		`{"keyId":"` + id + `","signature":"` + strings.Repeat("A", keyauth.MaxAnswerBytes) + `"}`,
		strings.Repeat("[", 100000),
	} {
		ok, err := c.Check(context.Background(), request(nameAlice, subAlice, nonce, ans))
		if ok || err != nil {
			t.Errorf("answer %.60q: Check = %v, %v; want false, nil", ans, ok, err)
		}
	}
	if m.gets != 0 || m.touches != 0 {
		t.Errorf("malformed answers reached the store: %d gets, %d touches", m.gets, m.touches)
	}
	// Whitespace around and inside the object is fine.
	ok, err := c.Check(context.Background(), request(nameAlice, subAlice, nonce, "\n { \"signature\" : \""+sig+"\" ,\t\"keyId\":\""+id+"\" }\r\n"))
	if !ok || err != nil {
		t.Fatalf("well-formed answer with whitespace: Check = %v, %v", ok, err)
	}
}

func TestCheckProtocolGuards(t *testing.T) {
	s := aliceRSA(t)
	_, id, c, nonce := aliceChecker(t, s)
	ans := answer(id, s.signAlice(t, nonce))

	cases := map[string]func(r *reqT){
		"missing nonce":        func(r *reqT) { delete(r.Private, authflow.PrivNonce) },
		"empty nonce":          func(r *reqT) { r.Private[authflow.PrivNonce] = "" },
		"nil private params":   func(r *reqT) { r.Private = nil },
		"wrong method":         func(r *reqT) { r.Method = authflow.Passkey },
		"code round":           func(r *reqT) { r.Challenge.Kind = authflow.KindCode },
		"username with a pipe": func(r *reqT) { r.UserName = nameAlice + "|x" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			r := request(nameAlice, subAlice, nonce, ans)
			mutate(&r)
			ok, err := c.Check(context.Background(), r)
			if ok || err != nil {
				t.Fatalf("Check = %v, %v; want false, nil", ok, err)
			}
		})
	}
	var nilChecker *keyauth.Checker
	if ok, err := nilChecker.Check(context.Background(), request(nameAlice, subAlice, nonce, ans)); ok || err == nil {
		t.Errorf("nil checker: Check = %v, %v; want false and an error", ok, err)
	}
}

func TestCheckUnknownUser(t *testing.T) {
	s := aliceRSA(t)
	m, id, c, nonce := aliceChecker(t, s)
	sig := s.signAlice(t, nonce)

	for name, r := range map[string]reqT{
		"userNotFound":             withNotFound(request(nameAlice, subAlice, nonce, answer(id, sig))),
		"userNotFound, no sub":     withNotFound(request("ghost@example.com", "", nonce, answer(id, sig))),
		"no sub attribute":         request(nameAlice, "", nonce, answer(id, sig)),
		"userNotFound, P-256 size": withNotFound(request("ghost@example.com", "", nonce, answer(id, ecSigner(t, ecKey, false, false).sign(t, []byte("x"))))),
	} {
		t.Run(name, func(t *testing.T) {
			before := m.gets
			ok, err := c.Check(context.Background(), r)
			if ok || err != nil {
				t.Fatalf("Check = %v, %v; want false, nil", ok, err)
			}
			if m.gets != before+1 {
				t.Errorf("unknown user: %d key reads, want 1 (same work as a real user)", m.gets-before)
			}
		})
	}
	t.Run("store failure is reported as for a real user", func(t *testing.T) {
		m := newMemStore()
		m.getErr = errors.New("throttled")
		c := keyauth.New(m)
		ok, err := c.Check(context.Background(), withNotFound(request("ghost@example.com", "", nonce, answer(id, sig))))
		if ok || err == nil {
			t.Fatalf("Check = %v, %v; want false and an error", ok, err)
		}
	})
	if k, _ := m.get(subAlice, id); !k.LastUsedAt.IsZero() {
		t.Error("a real user's key was touched by an unknown-user sign-in")
	}
}

// TestCheckUnknownUserTiming compares the time to refuse an unknown user with the time to refuse
// a real user's wrong signature and a real user's unknown key ID. The bound is loose (the point
// is "the same work", not a benchmark), so it does not flake on a busy machine.
func TestCheckUnknownUserTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	testKeys(t)
	for _, s := range []signer{rsaSigner(t, rsaKey, false), ecSigner(t, ecKey, false, false)} {
		t.Run(s.name, func(t *testing.T) {
			_, id, c, nonce := aliceChecker(t, s)
			wrong := s.signAlice(t, newNonce(t))
			reqs := map[string]reqT{
				"real user, wrong signature": request(nameAlice, subAlice, nonce, answer(id, wrong)),
				"real user, unknown key":     request(nameAlice, subAlice, nonce, answer(newKeyID(t), wrong)),
				"unknown user":               withNotFound(request("ghost@example.com", "", nonce, answer(id, wrong))),
			}
			// The fastest of several interleaved rounds is the least disturbed by other load.
			const n, rounds = 40, 8
			times := map[string]time.Duration{}
			for round := 0; round < rounds; round++ {
				for name, r := range reqs {
					start := time.Now()
					for i := 0; i < n; i++ {
						if ok, _ := c.Check(context.Background(), r); ok {
							t.Fatal("accepted")
						}
					}
					if d := time.Since(start); times[name] == 0 || d < times[name] {
						times[name] = d
					}
				}
			}
			base := times["real user, wrong signature"]
			for name, d := range times {
				ratio := float64(d) / float64(base)
				t.Logf("%-28s %8.1f µs/check (x%.2f)", name, float64(d.Microseconds())/float64(n), ratio)
				if ratio < 0.2 || ratio > 5 {
					t.Errorf("%s takes x%.2f the time of a wrong signature", name, ratio)
				}
			}
		})
	}
}

func TestCheckStoreFailures(t *testing.T) {
	s := aliceRSA(t)
	nonce := newNonce(t)
	sig := s.signAlice(t, nonce)
	boom := errors.New("ProvisionedThroughputExceededException")

	for _, tc := range []struct {
		name  string
		spoil func(m *memStore, id string)
		want  error // from Check, by errors.Is; nil: none
	}{
		{"read fails", func(m *memStore, _ string) { m.getErr = boom }, boom},
		{"last-use update fails", func(m *memStore, _ string) { m.touchErr = boom }, boom},
		{"read fails with not found", func(m *memStore, _ string) { m.getErr = errors.Join(errors.New("get"), store.ErrNotFound) }, nil},
		{"corrupted stored key", func(m *memStore, id string) {
			k, _ := m.get(subAlice, id)
			k.PublicKey = k.PublicKey[:len(k.PublicKey)-1]
			m.keys[subAlice+"/"+id] = k
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemStore()
			id := m.register(t, subAlice, s)
			tc.spoil(m, id)
			ok, err := keyauth.New(m).Check(context.Background(), request(nameAlice, subAlice, nonce, answer(id, sig)))
			if ok || !errors.Is(err, tc.want) {
				t.Fatalf("Check = %v, %v; want false, %v", ok, err, tc.want)
			}
		})
	}
	t.Run("no store", func(t *testing.T) {
		ok, err := keyauth.New(nil).Check(context.Background(), request(nameAlice, subAlice, nonce, answer(newKeyID(t), sig)))
		if ok || err == nil {
			t.Fatalf("Check = %v, %v; want false and an error", ok, err)
		}
	})
}

func TestValidKeyID(t *testing.T) {
	for id, want := range map[string]bool{
		newKeyID(t):               true,
		"AAAAAAAAAAAAAAAAAAAAAA":  true,
		"____________________-w":  true,
		"AAAAAAAAAAAAAAAAAAAAAB":  false, // stray bits
		"AAAAAAAAAAAAAAAAAAAAA":   false,
		"AAAAAAAAAAAAAAAAAAAAAAA": false,
		"AAAAAAAAAAAAAAAAAAAA+A":  false,
		"AAAAAAAAAAAAAAAAAAAA=A":  false,
		"":                        false,
	} {
		if got := keyauth.ValidKeyID(id); got != want {
			t.Errorf("ValidKeyID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestDecodeAnswer(t *testing.T) {
	id := newKeyID(t)
	a, err := keyauth.DecodeAnswer(`{"keyId":"` + id + `","signature":"c2ln"}`)
	if err != nil || a.KeyID != id || a.Signature != "c2ln" {
		t.Fatalf("DecodeAnswer = %+v, %v", a, err)
	}
	if _, err := keyauth.DecodeAnswer(`{"keyId":"` + id + `"}`); !errors.Is(err, keyauth.ErrBadAnswer) {
		t.Errorf("missing signature: err = %v, want ErrBadAnswer", err)
	}
}
