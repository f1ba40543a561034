// Package passkeynonce publishes passkey request options in the NONCE round of the custom-auth
// flow: Options is the triggers.NonceExtra the CreateAuthChallenge trigger runs when passkeys are
// enabled. It builds the PublicKeyCredentialRequestOptions JSON itself and does not depend on the
// WebAuthn library (package passkey verifies the answers), which keeps the Create function small.
package passkeynonce

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/passwordless-go/cognito/lambdas/passkey/passkeyconf"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// Challenge parameters of the nonce round (the passkey package's Checker reads them).
const (
	// PubOptions is the public challenge parameter of the nonce round holding the
	// PublicKeyCredentialRequestOptions JSON for navigator.credentials.get.
	PubOptions = "passkeyOptions"
	// PrivIssuedAt is the private challenge parameter with the nonce round's issue time (Unix
	// milliseconds); Verify refuses answers given more than Config.Timeout after it.
	PrivIssuedAt = "passkeyIssuedAt"
)

// minChallengeBytes is WebAuthn's shortest challenge (go-webauthn's protocol.MinimumChallengeLength).
const minChallengeBytes = 16

// unknownOwner is the owner looked up for unknown users in list mode, so that they cost one read
// like real users. Cognito subs are UUIDs, so it never names a real user.
const unknownOwner = "passkey:unknown-user"

// DecoyPurpose is the keyed.Key.Derive purpose of the decoy seed (list mode).
const DecoyPurpose = "passkey-decoy"

// OptionsStore is the part of *store.Store the nonce-round hook uses (in list mode only).
type OptionsStore interface {
	// ListPasskeys returns owner's passkeys (strongly consistent).
	ListPasskeys(ctx context.Context, owner string) ([]store.Passkey, error)
}

var _ OptionsStore = (*store.Store)(nil)

// Option configures an Options.
type Option func(*Options)

// WithClock sets the clock (default time.Now; nil keeps it).
func WithClock(now func() time.Time) Option {
	return func(o *Options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithLogger sets the logger (default: none). Nothing secret is logged: no nonce, challenge,
// credential ID, key or answer.
func WithLogger(l *slog.Logger) Option {
	return func(o *Options) {
		if l != nil {
			o.log = l
		}
	}
}

// Options is the triggers.NonceExtra that publishes passkey request options in every nonce round
// (set it as triggers.Create.NonceExtras when passkeys are enabled). Create one with NewOptions.
//
// Public parameter PubOptions is the PublicKeyCredentialRequestOptions JSON. With
// Config.AllowCredentials "none" (the default) it is the same for every user, real or unknown,
// apart from the challenge, and nothing is read to build it:
//
//	{"challenge":"<nonce>","timeout":120000,"rpId":"example.com","userVerification":"required"}
//
// The client then asks for a discoverable credential (the authenticator offers the passkeys it
// holds for the RP ID); Verify finds the one used by its credential ID among the user's passkeys.
// Nobody can tell from these options whether a user exists, has passkeys, or shares an account
// with another email address or phone number.
//
// With "list" it also carries allowCredentials: the user's passkeys (the member is omitted when
// there are none), and for an unknown user decoys (see decoys) derived from the deployment key
// (triggers.NonceRequest.Key, Derive(DecoyPurpose)), so that unknown users look like real ones
// to anyone without the key. A real account returns one list for all its aliases while decoys
// are derived from the name typed, so an email and a phone number that give the same non-empty
// list are one account: list mode lets anyone link aliases, and is only for deployments that
// need non-discoverable credentials.
//
// The challenge is the nonce itself: Create draws 32 random bytes and publishes them as unpadded
// base64url, which is exactly the base64url form WebAuthn uses for the challenge, so the client
// decodes options.challenge to the 32 bytes and clientDataJSON.challenge comes back equal to the
// nonce string. Private parameter PrivIssuedAt records the issue time for the login timeout.
type Options struct {
	cfg    passkeyconf.Config // with defaults
	cfgErr error              // from cfg.Validate: every round fails with it
	store  OptionsStore
	now    func() time.Time
	log    *slog.Logger // WithLogger; errors go back to triggers.Create, which logs them
}

var _ triggers.NonceExtra = (*Options)(nil)

// NewOptions returns the nonce-round hook for the relying party cfg (after WithDefaults; it uses
// the RP ID, user verification, timeout, passkey cap and AllowCredentials) reading passkeys from
// s, which list mode needs and "none" never calls. An invalid cfg makes every round fail: build
// it with passkeyconf.ConfigFromEnv, which fails at start-up.
func NewOptions(cfg passkeyconf.Config, s OptionsStore, opts ...Option) *Options {
	cfg = cfg.WithDefaults()
	o := &Options{cfg: cfg, cfgErr: cfg.Validate(), store: s, now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	return o
}

// requestOptions is PublicKeyCredentialRequestOptionsJSON, member for member as go-webauthn's
// protocol.PublicKeyCredentialRequestOptions encodes it for these options (no hints, no
// extensions), so the JSON is byte for byte what the library would produce.
type requestOptions struct {
	Challenge        string       `json:"challenge"`
	Timeout          int          `json:"timeout,omitempty"`
	RPID             string       `json:"rpId,omitempty"`
	AllowCredentials []descriptor `json:"allowCredentials,omitempty"`
	UserVerification string       `json:"userVerification,omitempty"`
}

// descriptor is PublicKeyCredentialDescriptorJSON.
type descriptor struct {
	Type       string   `json:"type"`
	ID         string   `json:"id"` // unpadded base64url
	Transports []string `json:"transports,omitempty"`
}

// newDescriptor describes a credential with the known WebAuthn transports among transports.
func newDescriptor(id []byte, transports []string) descriptor {
	d := descriptor{Type: "public-key", ID: base64.RawURLEncoding.EncodeToString(id)}
	if t := store.Transports(transports); len(t) > 0 {
		d.Transports = t
	}
	return d
}

// Extra returns the passkey parameters of one nonce round. Real and unknown users cost the same:
// nothing in "none" mode; one passkey query (for a placeholder owner when unknown) and one decoy
// derivation in list mode.
func (o *Options) Extra(ctx context.Context, req triggers.NonceRequest) (triggers.Issued, error) {
	if o == nil {
		return triggers.Issued{}, errors.New("passkey: options hook is nil")
	}
	if o.cfgErr != nil {
		return triggers.Issued{}, o.cfgErr
	}
	challenge, err := base64.RawURLEncoding.Strict().DecodeString(req.Nonce)
	if err != nil || len(challenge) < minChallengeBytes {
		return triggers.Issued{}, errors.New("passkey: the nonce is not base64url of at least 16 bytes")
	}
	var allow []descriptor
	if o.cfg.AllowCredentials == passkeyconf.AllowCredentialsList {
		if allow, err = o.allowList(ctx, req); err != nil {
			return triggers.Issued{}, err
		}
	}
	b, err := json.Marshal(requestOptions{
		Challenge:        base64.RawURLEncoding.EncodeToString(challenge),
		Timeout:          int(o.cfg.Timeout.Milliseconds()),
		RPID:             o.cfg.RPID,
		AllowCredentials: allow,
		UserVerification: o.cfg.UserVerification,
	})
	if err != nil {
		return triggers.Issued{}, fmt.Errorf("passkey: encoding options: %w", err)
	}
	return triggers.Issued{
		Public:  map[string]string{PubOptions: string(b)},
		Private: map[string]string{PrivIssuedAt: strconv.FormatInt(o.now().UnixMilli(), 10)},
	}, nil
}

// allowList is list mode's allowCredentials: the user's passkeys, or keyed decoys.
func (o *Options) allowList(ctx context.Context, req triggers.NonceRequest) ([]descriptor, error) {
	if o.store == nil {
		return nil, errors.New("passkey: options hook in list mode has no store")
	}
	if req.Key == nil {
		return nil, errors.New("passkey: options hook in list mode needs the deployment key (NonceRequest.Key)")
	}
	owner := req.UserAttributes["sub"]
	known := !req.UserNotFound && owner != ""
	if !known {
		owner = unknownOwner
	}
	list, err := o.store.ListPasskeys(ctx, owner)
	if err != nil {
		return nil, err
	}
	decoy := decoys(req.Key.Derive(DecoyPurpose), req.UserPoolID, req.UserName, o.cfg.MaxPerUser)
	if !known {
		return decoy, nil
	}
	allow := make([]descriptor, 0, len(list))
	for _, p := range list {
		if p.Owner == owner {
			allow = append(allow, newDescriptor(p.CredentialID, p.Transports))
		}
	}
	return allow, nil
}

// Decoy shape: how many passkeys an unknown user appears to have, and what they look like. The
// count follows a fixed distribution (per 256: 0 -> 112, 1 -> 88, 2 -> 36, 3 -> 12, 4 -> 5, 5 ->
// 3), capped at MaxPerUser; each decoy credential ID has one of the lengths common authenticators
// use (16, 20, 32 or 64 bytes) with the transports such authenticators report.
var (
	decoyCounts = []int{112, 88, 36, 12, 5, 3} // weights out of 256 for 0..5 passkeys
	decoyKinds  = []struct {
		weight     int
		idLen      int
		transports []string
	}{
		{90, 16, []string{"hybrid", "internal"}}, // synced platform passkeys
		{70, 20, []string{"hybrid", "internal"}},
		{56, 32, []string{"internal"}},
		{40, 64, []string{"nfc", "usb"}}, // security keys
	}
)

// decoys derives the fake allowCredentials of an unknown user deterministically from secret (the
// deployment key's decoy seed), the pool and the username (lower-cased, as Cognito usernames and aliases
// are case-insensitive by default), so that asking twice gives the same answer, as for a real
// user, and nobody without the secret can tell decoys from real credential IDs.
func decoys(secret []byte, pool, username string, maxPerUser int) []descriptor {
	prf := func(label string, i int) []byte {
		m := hmac.New(sha256.New, secret)
		fmt.Fprintf(m, "passkey-decoy-v1\x00%s\x00%s\x00%s\x00%d", pool, strings.ToLower(username), label, i)
		return m.Sum(nil)
	}
	seed := prf("count", 0)
	n := pick(seed[0], decoyCounts)
	n = min(n, maxPerUser)
	out := make([]descriptor, 0, n)
	for i := range n {
		h := prf("kind", i)
		kinds := make([]int, len(decoyKinds))
		for j, k := range decoyKinds {
			kinds[j] = k.weight
		}
		k := decoyKinds[pick(h[0], kinds)]
		id := make([]byte, 0, k.idLen)
		for block := 0; len(id) < k.idLen; block++ {
			id = append(id, prf("id"+strconv.Itoa(i), block)...)
		}
		out = append(out, newDescriptor(id[:k.idLen], k.transports))
	}
	// Real passkeys come back ordered by encoded credential ID; so do decoys.
	slices.SortFunc(out, func(a, b descriptor) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// pick maps a byte to an index with the given weights (summing to 256).
func pick(b byte, weights []int) int {
	v := int(b)
	for i, w := range weights {
		if v < w {
			return i
		}
		v -= w
	}
	return len(weights) - 1
}
