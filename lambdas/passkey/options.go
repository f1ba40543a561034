package passkey

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// OptionsStore is the part of *store.Store the nonce-round hook uses.
type OptionsStore interface {
	// ListPasskeys returns owner's passkeys (strongly consistent).
	ListPasskeys(ctx context.Context, owner string) ([]store.Passkey, error)
	// PasskeyDecoySecret returns the deployment's decoy secret, creating it on first use.
	PasskeyDecoySecret(ctx context.Context, newSecret func() ([]byte, error)) ([]byte, error)
}

var _ OptionsStore = (*store.Store)(nil)

// Options is the triggers.NonceExtra that publishes passkey request options in every nonce round
// (set it as triggers.Create.NonceExtras when passkeys are enabled). Create one with NewOptions.
//
// Public parameter PubOptions is the PublicKeyCredentialRequestOptions JSON:
//
//	{"challenge":"<nonce>","timeout":120000,"rpId":"example.com",
//	 "allowCredentials":[{"type":"public-key","id":"<base64url>","transports":["internal"]}],
//	 "userVerification":"required"}
//
// The challenge is the nonce itself: Create draws 32 random bytes and publishes them as unpadded
// base64url, which is exactly the base64url form WebAuthn uses for the challenge, so the client
// decodes options.challenge to the 32 bytes and clientDataJSON.challenge comes back equal to the
// nonce string. allowCredentials lists the user's passkeys (the member is omitted when there are
// none); for an unknown user it lists decoys (see decoys) so the answer does not reveal whether
// the user exists. Private parameter PrivIssuedAt records the issue time for the login timeout.
type Options struct {
	common
	rp    *RP
	store OptionsStore

	mu     sync.Mutex
	secret []byte // cached decoy secret
}

var _ triggers.NonceExtra = (*Options)(nil)

// NewOptions returns the nonce-round hook for rp reading passkeys from s.
func NewOptions(rp *RP, s OptionsStore, opts ...Option) *Options {
	return &Options{common: newCommon(opts), rp: rp, store: s}
}

// Extra returns the passkey parameters of one nonce round. Real and unknown users cost the same:
// one passkey query (for a placeholder owner when unknown) and one decoy derivation.
func (o *Options) Extra(ctx context.Context, req triggers.NonceRequest) (triggers.Issued, error) {
	if o == nil || o.store == nil || o.rp == nil {
		return triggers.Issued{}, errors.New("passkey: options hook has no store or relying party")
	}
	challenge, err := base64.RawURLEncoding.Strict().DecodeString(req.Nonce)
	if err != nil || len(challenge) < protocol.MinimumChallengeLength {
		return triggers.Issued{}, errors.New("passkey: the nonce is not base64url of at least 16 bytes")
	}
	secret, err := o.decoySecret(ctx)
	if err != nil {
		return triggers.Issued{}, err
	}
	owner := req.UserAttributes["sub"]
	known := !req.UserNotFound && owner != ""
	if !known {
		owner = unknownOwner
	}
	list, err := o.store.ListPasskeys(ctx, owner)
	if err != nil {
		return triggers.Issued{}, err
	}
	decoy := decoys(secret, req.UserPoolID, req.UserName, o.rp.cfg.MaxPerUser)
	allow := decoy
	if known {
		allow = make([]protocol.CredentialDescriptor, 0, len(list))
		for _, p := range list {
			if p.Owner == owner {
				allow = append(allow, descriptor(p.CredentialID, p.Transports))
			}
		}
	}
	opts, err := o.rp.RequestOptions(challenge, allow)
	if err != nil {
		return triggers.Issued{}, err
	}
	b, err := json.Marshal(opts.Response)
	if err != nil {
		return triggers.Issued{}, fmt.Errorf("passkey: encoding options: %w", err)
	}
	return triggers.Issued{
		Public:  map[string]string{PubOptions: string(b)},
		Private: map[string]string{PrivIssuedAt: strconv.FormatInt(o.now().UnixMilli(), 10)},
	}, nil
}

func (o *Options) decoySecret(ctx context.Context) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.secret != nil {
		return o.secret, nil
	}
	s, err := o.store.PasskeyDecoySecret(ctx, func() ([]byte, error) {
		b := make([]byte, store.DecoySecretBytes)
		_, err := rand.Read(b)
		return b, err
	})
	if err != nil {
		return nil, err
	}
	o.secret = s
	return s, nil
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

// decoys derives the fake allowCredentials of an unknown user deterministically from the
// deployment's secret, the pool and the username (lower-cased, as Cognito usernames and aliases
// are case-insensitive by default), so that asking twice gives the same answer, as for a real
// user, and nobody without the secret can tell decoys from real credential IDs.
func decoys(secret []byte, pool, username string, maxPerUser int) []protocol.CredentialDescriptor {
	prf := func(label string, i int) []byte {
		m := hmac.New(sha256.New, secret)
		fmt.Fprintf(m, "passkey-decoy-v1\x00%s\x00%s\x00%s\x00%d", pool, strings.ToLower(username), label, i)
		return m.Sum(nil)
	}
	seed := prf("count", 0)
	n := pick(seed[0], decoyCounts)
	n = min(n, maxPerUser)
	out := make([]protocol.CredentialDescriptor, 0, n)
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
		out = append(out, descriptor(id[:k.idLen], k.transports))
	}
	// Real passkeys come back ordered by encoded credential ID; so do decoys.
	slices.SortFunc(out, func(a, b protocol.CredentialDescriptor) int {
		return strings.Compare(a.CredentialID.String(), b.CredentialID.String())
	})
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
