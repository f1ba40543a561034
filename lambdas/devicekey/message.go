package devicekey

import (
	"fmt"
	"strings"
)

// MessagePrefix is the first field of every [Message]; it names the
// protocol and its version.
const MessagePrefix = "passwordless-device-key-v1"

// Message returns the exact bytes (ASCII) a device signs to sign in:
//
//	passwordless-device-key-v1|<userPoolID>|<clientID>|<username>|<nonce>
//
// for example
//
//	passwordless-device-key-v1|eu-west-1_AbCdEf123|1example23456789|alice|q8v7...
//
// Fields are joined with '|' and nothing else: no trailing newline, no
// normalisation (no trimming, case folding or Unicode processing), so the
// device must use byte-identical values. The server must build the message
// from values it trusts (its own user pool and client IDs, the username
// Cognito resolved, the nonce it issued), never from a message sent by the
// client.
//
// Every field must be non-empty and consist only of printable ASCII
// (0x20 to 0x7E) other than '|'. Otherwise Message returns "" and an error
// wrapping [ErrInvalidMessage]. There is no length limit beyond that.
func Message(userPoolID, clientID, username, nonce string) (string, error) {
	fields := [...]struct{ name, value string }{
		{"userPoolID", userPoolID},
		{"clientID", clientID},
		{"username", username},
		{"nonce", nonce},
	}
	n := len(MessagePrefix)
	for _, f := range fields {
		if err := checkField(f.name, f.value); err != nil {
			return "", err
		}
		n += 1 + len(f.value)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(MessagePrefix)
	for _, f := range fields {
		b.WriteByte('|')
		b.WriteString(f.value)
	}
	return b.String(), nil
}

func checkField(name, v string) error {
	if v == "" {
		return fmt.Errorf("%w: %s is empty", ErrInvalidMessage, name)
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '|':
			return fmt.Errorf("%w: %s contains '|' at byte %d", ErrInvalidMessage, name, i)
		case c < 0x20 || c > 0x7e:
			return fmt.Errorf("%w: %s contains byte 0x%02x at byte %d, only printable ASCII is allowed", ErrInvalidMessage, name, c, i)
		}
	}
	return nil
}
