package notify

import (
	"fmt"
	"strings"

	"github.com/passwordless-go/cognito/lambdas/delivery"
)

// Kind is the kind of event a notification reports; its value is the name used in NOTIFY_EVENTS
// and NOTIFY_TEMPLATES_JSON.
type Kind string

// Event kinds.
const (
	KeyAdded        Kind = "key_added"         // a device key was registered
	KeyRemoved      Kind = "key_removed"       // one or more device keys were revoked
	PasskeyAdded    Kind = "passkey_added"     // a passkey was registered
	PasskeyRemoved  Kind = "passkey_removed"   // one or more passkeys were removed
	AccountLocked   Kind = "account_locked"    // code and link sign-in locked by wrong answers
	ContactChanged  Kind = "contact_changed"   // the email address or phone number changed
	NewMethodSignIn Kind = "new_method_signin" // a sign-in with a method (or device key) not used before
)

// Kinds lists every kind, in a fixed order.
var Kinds = []Kind{KeyAdded, KeyRemoved, PasskeyAdded, PasskeyRemoved, AccountLocked, ContactChanged, NewMethodSignIn}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// ParseKinds parses a comma-separated list of kinds ("key_added,account_locked"). Empty (or only
// spaces) is an empty list; an unknown or repeated kind is an error.
func ParseKinds(s string) ([]Kind, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []Kind
	seen := map[Kind]bool{}
	for part := range strings.SplitSeq(s, ",") {
		k := Kind(strings.TrimSpace(part))
		if !k.Valid() {
			return nil, fmt.Errorf("unknown event kind %q (kinds: %s)", delivery.Shorten(string(k)), kindList())
		}
		if seen[k] {
			return nil, fmt.Errorf("event kind %q listed twice", k)
		}
		seen[k] = true
		out = append(out, k)
	}
	return out, nil
}

func kindList() string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
