package magiclink

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/strictjson"
)

// Sizes of the secrets.
const (
	// SecretBytes is the entropy of a link's secret: 256 bits from crypto/rand, written as 43
	// unpadded base64url characters (SecretLength).
	SecretBytes  = 32
	SecretLength = 43
	// DeviceHashLength is the length of a device hash: SHA-256, unpadded base64url.
	DeviceHashLength = 43
	// MinDeviceSecretLength and MaxDeviceSecretLength bound the device secret a same-device
	// completion presents (base64url characters: at least 128 bits).
	MinDeviceSecretLength = 22
	MaxDeviceSecretLength = 128
	// MaxUserNameLength is Cognito's limit on a user name.
	MaxUserNameLength = 128
	// MaxFragmentLength caps what ParseFragment reads.
	MaxFragmentLength = 1024
)

// FragmentParam names the link's parameter in the URL fragment: <redirect URL>#ml=<token>.
const FragmentParam = "ml"

// Link is what a sign-in link carries in its URL fragment, which browsers never send to a server.
type Link struct {
	// UserName is the Cognito user name to pass as USERNAME to InitiateAuth (the event's
	// userName: the user's sub in a pool that signs in with email or phone). Never the address.
	UserName string
	// Secret is the answer to the sign-in's nonce round (with ClientMetadata action=complete).
	Secret string
	// Expires is when the link stops working (whole seconds): a page can say "expired" without
	// asking the server.
	Expires time.Time
}

// wireLink is the JSON inside the token: {"u":"<user name>","s":"<secret>","e":<unix seconds>}.
type wireLink struct {
	U string `json:"u"`
	S string `json:"s"`
	E int64  `json:"e"`
}

// Token returns the fragment parameter's value: base64url (unpadded) of
// {"u":"<user name>","s":"<secret>","e":<expiry, unix seconds>}.
func (l Link) Token() string {
	b, _ := json.Marshal(wireLink{U: l.UserName, S: l.Secret, E: l.Expires.Unix()})
	return base64.RawURLEncoding.EncodeToString(b)
}

// Fragment returns "ml=<Token>", the URL fragment of the link (without '#').
func (l Link) Fragment() string { return FragmentParam + "=" + l.Token() }

// URL returns the link: redirect (a normalised redirect URL, which has no fragment) + "#" +
// Fragment.
func (l Link) URL(redirect string) string { return redirect + "#" + l.Fragment() }

// ErrBadLink is wrapped by every error ParseFragment returns.
var ErrBadLink = errors.New("magiclink: not a sign-in link")

// ParseFragment reads a link's URL fragment, with or without the leading '#', or a whole link
// (everything up to the first '#' is ignored). The fragment must be exactly "ml=<token>" with a
// token that decodes (strict unpadded base64url) to a JSON object with exactly the members u (a
// user name of 1-128 characters without control characters), s (a well-formed secret) and e (a
// positive integer). Nothing else is accepted; it never panics.
func ParseFragment(s string) (Link, error) {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > MaxFragmentLength {
		return Link{}, fmt.Errorf("%w: too long", ErrBadLink)
	}
	tok, ok := strings.CutPrefix(s, FragmentParam+"=")
	if !ok {
		return Link{}, fmt.Errorf("%w: no %s parameter", ErrBadLink, FragmentParam)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil {
		return Link{}, fmt.Errorf("%w: token is not base64url", ErrBadLink)
	}
	members, err := strictjson.Members(raw, map[string]bool{"u": true, "s": true, "e": true})
	if err != nil {
		return Link{}, fmt.Errorf("%w: %v", ErrBadLink, err)
	}
	var w wireLink
	if len(members) != 3 || json.Unmarshal(members["u"], &w.U) != nil || json.Unmarshal(members["s"], &w.S) != nil {
		return Link{}, fmt.Errorf("%w: u, s and e must be given, u and s as strings", ErrBadLink)
	}
	e := string(members["e"])
	n, err := strconv.ParseInt(e, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != e {
		return Link{}, fmt.Errorf("%w: e is not a positive integer", ErrBadLink)
	}
	if !validUserName(w.U) {
		return Link{}, fmt.Errorf("%w: u is not a user name", ErrBadLink)
	}
	if !ValidSecret(w.S) {
		return Link{}, fmt.Errorf("%w: s is not a link secret", ErrBadLink)
	}
	return Link{UserName: w.U, Secret: w.S, Expires: time.Unix(n, 0)}, nil
}

func validUserName(s string) bool {
	return s != "" && utf8.ValidString(s) && utf8.RuneCountInString(s) <= MaxUserNameLength &&
		!strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// NewSecret draws a link secret: SecretBytes from r (crypto/rand in production), base64url.
func NewSecret(r io.Reader) (string, error) {
	b := make([]byte, SecretBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("magiclink: read %d random bytes: %w", SecretBytes, err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ValidSecret reports whether s has the form of a link secret: SecretLength characters of
// strict unpadded base64url (SecretBytes bytes).
func ValidSecret(s string) bool {
	if len(s) != SecretLength {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == SecretBytes
}

// DeviceHash is what a same-device request sends as ClientMetadata deviceHash for the device
// secret it keeps: unpadded base64url of SHA-256 over the secret's bytes. The completion presents
// the secret itself (ClientMetadata deviceSecret).
func DeviceHash(deviceSecret string) string {
	sum := sha256.Sum256([]byte(deviceSecret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ValidDeviceSecret reports whether s is a device secret a completion may present:
// MinDeviceSecretLength to MaxDeviceSecretLength base64url characters.
func ValidDeviceSecret(s string) bool {
	return len(s) >= MinDeviceSecretLength && len(s) <= MaxDeviceSecretLength && isBase64URL(s)
}

// ValidDeviceHash reports whether s has the form of a DeviceHash.
func ValidDeviceHash(s string) bool {
	if len(s) != DeviceHashLength {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Keyed-value purposes (keyed.Key).
const (
	purposeUser    = "magic-link-user"    // the table key of a user's link
	purposeSecret  = "magic-link-secret"  // the stored hash of a secret
	purposeAttempt = "magic-link-attempt" // the tag of the answer that used a link
	purposeAddress = "magic-link-address" // the address a link was sent to
)

// UserKey is the table key of a user's outstanding link: a keyed hash (keyed.Key.ID) of the pool
// and the user name, so the table holds no name and nobody without the deployment secret can tell
// whose link an item is.
func UserKey(k *keyed.Key, userPoolID, userName string) string {
	return k.ID(purposeUser, userPoolID, userName)
}

// SecretHash is what the table stores of a secret: HMAC-SHA256 under the deployment key of the
// pool, the user name and the secret. It binds the secret to the user (the same secret is worth
// nothing for anyone else) and cannot be reversed or checked without the deployment secret.
func SecretHash(k *keyed.Key, userPoolID, userName, secret string) []byte {
	h := k.Sum(purposeSecret, userPoolID, userName, secret)
	return h[:]
}

// AddressHash is what the table stores of the address a link was sent to, and what a completion
// presents of the account's current verified address: HMAC-SHA256 under the deployment key of
// the pool, the user name and the address trimmed and lower-cased (the form email codes are bound
// in, so "Alice@Example.com" and "alice@example.com" are one address). A link works only while
// the account's verified address hashes the same, so a link waiting in a mailbox the account has
// left stops working. The user name in the hash keeps one address's hashes unrelated across
// accounts.
func AddressHash(k *keyed.Key, userPoolID, userName, address string) []byte {
	h := k.Sum(purposeAddress, userPoolID, userName, strings.ToLower(strings.TrimSpace(address)))
	return h[:]
}
