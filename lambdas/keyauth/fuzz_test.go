package keyauth_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/keyauth"
)

func FuzzDecodeAnswer(f *testing.F) {
	id := "AAAAAAAAAAAAAAAAAAAAAA"
	for _, s := range []string{
		`{"keyId":"` + id + `","signature":"c2lnbmF0dXJl"}`,
		` {"signature":"c2ln","keyId":"` + id + `"} `,
		`{"keyId":"` + id + `","signature":"c2ln","x":1}`,
		`{"keyId":"` + id + `","keyId":"` + id + `","signature":"c2ln"}`,
		`{"keyId":"` + id + `","signature":"c2ln"}{}`,
		`{"keyId":"` + id + `","signature":"\u0000"}`,
		`{"keyId":"` + id + `" "signature":"c2ln"}`,
		`{"keyId":"` + id + `":"signature","c2ln"}`,
		`{"keyId":["` + id + `"],"signature":"c2ln"}`,
		`[]`, `null`, `""`, `{`, `}`, "", "\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := keyauth.DecodeAnswer(s)
		if err != nil {
			if a != (keyauth.Answer{}) {
				t.Fatalf("error %v with a non-zero answer", err)
			}
			return
		}
		if !json.Valid([]byte(s)) {
			t.Fatalf("accepted invalid JSON %q", s)
		}
		if !keyauth.ValidKeyID(a.KeyID) || a.Signature == "" || len(s) > keyauth.MaxAnswerBytes {
			t.Fatalf("accepted %q as %+v", s, a)
		}
		var std map[string]any
		if err := json.Unmarshal([]byte(s), &std); err != nil || len(std) != 2 || std["keyId"] != a.KeyID || std["signature"] != a.Signature {
			t.Fatalf("DecodeAnswer(%q) = %+v, encoding/json reads %v (%v)", s, a, std, err)
		}
		b, _ := json.Marshal(a)
		if again, err := keyauth.DecodeAnswer(string(b)); err != nil || again != a {
			t.Fatalf("round trip of %+v: %+v, %v", a, again, err)
		}
	})
}

// FuzzCheck feeds arbitrary answers to a Checker holding a real key: none may sign in, panic or
// produce an error (the store works).
func FuzzCheck(f *testing.F) {
	testKeys(f)
	s := rsaSigner(f, rsaKey, false)
	_, id, c, nonce := aliceChecker(f, s)
	oldSig := s.signAlice(f, newNonce(f))
	f.Add(answer(id, oldSig))
	f.Add(answer(id, s.sign(f, []byte(nonce))))
	f.Add(answer(id, "AAAA"))
	f.Add(`{"keyId":"` + id + `","signature":"` + oldSig[:10] + `"}`)
	f.Fuzz(func(t *testing.T, ans string) {
		ok, err := c.Check(context.Background(), request(nameAlice, subAlice, nonce, ans))
		if ok || err != nil {
			t.Fatalf("Check(%q) = %v, %v", ans, ok, err)
		}
	})
}
