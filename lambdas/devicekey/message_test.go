package devicekey_test

import (
	"testing"

	"github.com/passwordless-go/cognito/lambdas/devicekey"
)

func TestMessage(t *testing.T) {
	got, err := devicekey.Message("us-east-1_Ab12Cd34E", "1h57kf5cpq17m0eml12EXAMPLE", "alice@example.com", "q8v7_Zk-2Q")
	if err != nil {
		t.Fatal(err)
	}
	const want = "passwordless-device-key-v1|us-east-1_Ab12Cd34E|1h57kf5cpq17m0eml12EXAMPLE|alice@example.com|q8v7_Zk-2Q"
	if got != want {
		t.Fatalf("Message = %q, want %q", got, want)
	}
	// Printable ASCII, including space and '~', is allowed.
	if got, err := devicekey.Message("p", "c", "a b~!", " "); err != nil || got != "passwordless-device-key-v1|p|c|a b~!| " {
		t.Fatalf("Message = %q, %v", got, err)
	}
}

func TestMessageRejects(t *testing.T) {
	bad := map[string]string{
		"pipe":          "a|b",
		"only pipe":     "|",
		"empty":         "",
		"non-ASCII":     "al\u00efce",
		"NUL":           "a\x00",
		"newline":       "nonce\n",
		"tab":           "a\tb",
		"DEL":           "a\x7f",
		"invalid UTF-8": "a\xff",
	}
	for name, v := range bad {
		for field := 0; field < 4; field++ {
			args := []string{"pool", "client", "user", "nonce"}
			args[field] = v
			got, err := devicekey.Message(args[0], args[1], args[2], args[3])
			if got != "" {
				t.Errorf("%s in field %d: got message %q", name, field, got)
			}
			assertSentinel(t, err, devicekey.ErrInvalidMessage)
		}
	}
}
