package smoke

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/passwordless-go/cognito/lambdas/devicekey"
)

// A cdk deploy --outputs-file of the repository's stack: construct-path prefix, hash suffix,
// IdentityPoolId beside UserPoolId.
const outputsJSON = `{
  "Passwordless-dev": {
    "PasswordlessApiUrlF81AA3A5": "https://abc123.execute-api.eu-west-1.amazonaws.com/",
    "PasswordlessIdentityPoolIdC1239481": "eu-west-1:1111",
    "PasswordlessRegion35E99876": "eu-west-1",
    "PasswordlessUserPoolClientId4E427F14": "client123",
    "PasswordlessUserPoolId70CCC4DD": "eu-west-1_AbC"
  },
  "Other": {"Foo": "bar"}
}`

func TestParseOutputs(t *testing.T) {
	got, err := ParseOutputs([]byte(outputsJSON), "Passwordless-dev")
	if err != nil {
		t.Fatal(err)
	}
	want := Outputs{UserPoolID: "eu-west-1_AbC", ClientID: "client123", APIURL: "https://abc123.execute-api.eu-west-1.amazonaws.com/", Region: "eu-west-1"}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for _, tc := range []struct{ stack, errPart string }{
		{"", "pick one with --stack"},
		{"Nope", `no stack "Nope"`},
		{"Other", "no UserPoolId output"},
	} {
		if _, err := ParseOutputs([]byte(outputsJSON), tc.stack); err == nil || !strings.Contains(err.Error(), tc.errPart) {
			t.Errorf("stack %q: want an error containing %q, got %v", tc.stack, tc.errPart, err)
		}
	}
	// Unprefixed keys (a construct at the stack's root with another ID) work too; duplicates fail.
	if _, err := ParseOutputs([]byte(`{"S":{"UserPoolId":"a","UserPoolClientId":"b","ApiUrl":"c","Region":"d"}}`), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseOutputs([]byte(`{"S":{"AUserPoolId12345678":"a","BUserPoolId12345678":"x","UserPoolClientId":"b","ApiUrl":"c","Region":"d"}}`), ""); err == nil || !strings.Contains(err.Error(), "several") {
		t.Fatalf("duplicate outputs: %v", err)
	}
}

func TestExtractCode(t *testing.T) {
	for text, want := range map[string]string{
		"Your your app sign-in code is 123456\n\nIt expires in 3 minutes.": "123456",
		"0123456789 is your code. It expires in 5 minutes.":                "0123456789",
		"  042917  ":                      "042917",
		"no code in 12345 or 12345678901": "",
	} {
		got, ok := ExtractCode(text)
		if got != want || ok != (want != "") {
			t.Errorf("ExtractCode(%q) = %q, %v; want %q", text, got, ok, want)
		}
	}
}

func TestRandomPassword(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		p := RandomPassword()
		var up, low, dig, sym bool
		for _, r := range p {
			switch {
			case unicode.IsUpper(r):
				up = true
			case unicode.IsLower(r):
				low = true
			case unicode.IsDigit(r):
				dig = true
			default:
				sym = true
			}
		}
		if len(p) != 24 || !up || !low || !dig || !sym || seen[p] {
			t.Fatalf("password %q does not meet the policy (or repeats)", p)
		}
		seen[p] = true
	}
}

func TestPrompt(t *testing.T) {
	var out bytes.Buffer
	code, err := Prompt{In: strings.NewReader(" 123 456\nrest"), Out: &out}.Code(context.Background(), "a@example.com")
	if err == nil {
		t.Fatalf("a split code was accepted as %q", code)
	}
	code, err = Prompt{In: strings.NewReader("654321\n"), Out: &out}.Code(context.Background(), "a@example.com")
	if err != nil || code != "654321" || !strings.Contains(out.String(), "enter the code sent to a@example.com: ") {
		t.Fatalf("code %q err %v prompt %q", code, err, out.String())
	}
}

func TestSignAnswer(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ans, err := SignAnswer(k, "kid", "eu-west-1_AbC", "client", "user-1", "nonce-1")
	if err != nil {
		t.Fatal(err)
	}
	var a struct{ KeyID, Signature string }
	if err := json.Unmarshal([]byte(ans), &a); err != nil || a.KeyID != "kid" {
		t.Fatalf("answer %s: %v", ans, err)
	}
	msg, _ := devicekey.Message("eu-west-1_AbC", "client", "user-1", "nonce-1")
	sig, _ := base64.StdEncoding.DecodeString(a.Signature)
	sum := sha256.Sum256([]byte(msg))
	if !ecdsa.VerifyASN1(&k.PublicKey, sum[:], sig) {
		t.Fatal("signature does not verify over devicekey.Message")
	}
}
