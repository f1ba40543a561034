package passkey_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/passkey"
	"github.com/passwordless-go/cognito/lambdas/passkey/softauthn"
)

// FuzzAssertion feeds arbitrary answers to a Checker holding real passkeys: it must never panic,
// never report an error (the store works) and never accept anything but the one valid answer.
func FuzzAssertion(f *testing.F) {
	a := authenticator()
	a.Counter = true
	fx := newFixture(f, testConfig(), a)
	fx.m.lenient = true // the sign count and challenge guards would hide signature bugs
	nonce := newNonce(f)
	valid := mustAssert(f, a, fx.alice, nonce, softauthn.Tweak{})
	f.Add(string(valid))
	f.Add(string(mustAssert(f, a, fx.alice, newNonce(f), softauthn.Tweak{})))
	f.Add(string(mustAssert(f, a, fx.bob, nonce, softauthn.Tweak{})))
	f.Add(string(mustAssert(f, a, fx.alice, nonce, softauthn.Tweak{Type: "webauthn.create"})))
	f.Add(string(mustAssert(f, a, fx.alice, nonce, softauthn.Tweak{NoUserHandle: true, BadSignature: true})))
	f.Add(strings.Replace(string(valid), `"response":{`, `"response":{"x":{"y":[[[]]]},`, 1))
	f.Add(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AAAA","signature":"AA"}}`)
	f.Add("")
	f.Add("{}")
	f.Fuzz(func(t *testing.T, ans string) {
		// Parsing alone never panics and returns nothing on error.
		if p, err := passkey.DecodeAssertion(ans); err != nil && p != nil {
			t.Fatal("error with a result")
		}
		ok, err := fx.c.Check(context.Background(), checkReq(userAlice, subAlice, nonce, time.Second, []byte(ans)))
		if err != nil {
			t.Fatalf("Check(%q): error %v", ans, err)
		}
		if ok && !sameAssertion(ans, valid) {
			t.Fatalf("Check(%q) accepted something other than the valid answer", ans)
		}
	})
}

// sameAssertion: the signed parts (authenticatorData, clientDataJSON, signature and the credential
// ID) are those of the valid answer; only unsigned presentation may differ.
func sameAssertion(ans string, valid []byte) bool {
	type resp struct {
		ClientDataJSON    string `json:"clientDataJSON"`
		AuthenticatorData string `json:"authenticatorData"`
		Signature         string `json:"signature"`
	}
	var a, b struct {
		RawID    string `json:"rawId"`
		Response resp   `json:"response"`
	}
	if json.Unmarshal([]byte(ans), &a) != nil || json.Unmarshal(valid, &b) != nil {
		return false
	}
	return a.RawID == b.RawID && a.Response == b.Response
}

// FuzzAttestation feeds arbitrary registration responses to DecodeAttestation and
// FinishRegistration: they must never panic, and a credential is only ever returned for a
// response whose attested credential ID is the one it reports.
func FuzzAttestation(f *testing.F) {
	rp := newRP(f, testConfig())
	handle := []byte(userAlice)
	_, challenge, err := rp.BeginRegistration(passkey.Registration{UserHandle: handle})
	if err != nil {
		f.Fatal(err)
	}
	for _, att := range []string{"none", "packed"} {
		a := authenticator()
		a.Attestation = att
		_, js, err := a.Register(challenge, handle, softauthn.Tweak{})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(js)
		_, js, _ = a.Register(challenge, handle, softauthn.Tweak{BadSignature: true, Origin: "https://evil.example"})
		f.Add(js)
	}
	f.Add([]byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		parsed, err := passkey.DecodeAttestation(data)
		if err != nil {
			if parsed != nil {
				t.Fatal("error with a result")
			}
			return
		}
		cred, err := rp.FinishRegistration(handle, challenge, parsed)
		if err != nil {
			return
		}
		if !bytes.Equal(cred.ID, parsed.RawID) || len(cred.PublicKey) == 0 {
			t.Fatalf("credential %x does not match the reported ID %x", cred.ID, parsed.RawID)
		}
	})
}
