// Package lockout limits wrong answers to guessable challenges per account: it is the
// triggers.FailureCounter the Verify trigger uses. Cognito has no lockout for custom auth, so
// without it an attacker could start sign-in after sign-in and guess codes forever (each sign-in
// only allows a few attempts).
//
// Before Verify checks a one-time code (or a magic link's secret) it reserves an attempt slot for the account (Reserve): one
// conditional DynamoDB update adds the attempt to the set of the account's current window only
// while that set holds fewer than Config.Limit attempts. A refused reservation means the account
// is locked: the answer is wrong without being checked, right or not. A right answer gives its
// slot back (Release); a wrong one keeps it. So however many answers arrive at the same moment in
// separate sign-ins, at most Limit wrong answers per window are ever checked, and once they are
// the right answer is refused until the window ends. A reservation is idempotent: a Cognito retry
// of the same Verify names the same attempt and holds the same slot, so it counts once.
//
// Windows are fixed and aligned to the Unix epoch (store.Store's failure windows), so a burst
// straddling a window boundary can reach up to 2 x Limit wrong answers before the lock holds.
//
// The account (triggers.Account: the user's sub, or pool and user name for unknown users) is
// keyed with the deployment secret before it reaches the table (Key: HMAC-SHA256, purpose
// "lockout"), so no email address or phone number typed as a user name is stored, and nobody
// without the secret can tell whose counter an item is.
//
// A lock is also a denial of service: anyone who knows a user name can lock that account's code
// and link sign-in for up to one window by answering codes wrongly. Only guessable methods
// (email_otp, sms_otp, magic_link) are gated and counted: device_key and passkey answers, which
// cannot be guessed, are never refused by a lock and never counted, so strangers' garbage proofs
// cannot keep a user out of key sign-in. Keep the window short (the default is 15 minutes) and the limit well above what
// a real user mistypes.
//
// Item: pk=FAILS#<Key>, sk=W#<window start>, a string set of attempt IDs and a time to live.
// Permissions (VerifyAuthChallengeResponse): dynamodb:UpdateItem on the key table, items with
// partition keys starting FAILS#.
package lockout

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// Environment variables read by FromEnv.
const (
	// EnvLimit is the number of wrong answers per window that locks an account (default 5).
	EnvLimit = "FAILURE_LIMIT"
	// EnvWindowSeconds is the window length in whole seconds (default 900).
	EnvWindowSeconds = "FAILURE_WINDOW_SECONDS"
)

// Defaults and bounds of Config.
const (
	DefaultLimit  = 5
	DefaultWindow = 15 * time.Minute
	MinLimit      = 1
	MaxLimit      = 1000
	MinWindow     = time.Minute
	MaxWindow     = 24 * time.Hour
)

// Store is the part of *store.Store the Counter uses.
type Store interface {
	// ReserveAttempt takes one of limit slots of account's current window for attemptID with one
	// conditional update (idempotent per attemptID) and reports whether it was granted.
	ReserveAttempt(ctx context.Context, account, attemptID string, limit int, window time.Duration) (bool, error)
	// ReleaseAttempt gives back the slot of attemptID.
	ReleaseAttempt(ctx context.Context, account, attemptID string, window time.Duration) error
}

var _ Store = (*store.Store)(nil)

// Config sets the lockout policy. The zero value of a field means its default.
type Config struct {
	// Limit is the number of wrong answers in one window that locks the account.
	// Default 5, range 1-1000.
	Limit int
	// Window is the length of the fixed counting window, whole seconds.
	// Default 15 minutes, range 1 minute - 24 hours.
	Window time.Duration
}

// withDefaults fills zero fields with the defaults.
func (c Config) withDefaults() Config {
	if c.Limit == 0 {
		c.Limit = DefaultLimit
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	return c
}

// Validate checks c after filling defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Limit < MinLimit || c.Limit > MaxLimit {
		return fmt.Errorf("lockout: limit %d out of range %d-%d", c.Limit, MinLimit, MaxLimit)
	}
	if c.Window < MinWindow || c.Window > MaxWindow || c.Window%time.Second != 0 {
		return fmt.Errorf("lockout: window %s is not whole seconds in range %s-%s", c.Window, MinWindow, MaxWindow)
	}
	return nil
}

// FromEnv reads the Config from FAILURE_LIMIT and FAILURE_WINDOW_SECONDS through getenv
// (os.Getenv when nil). Unset or empty variables take the defaults; anything that is not an
// integer in range is an error, so a misconfigured function fails at start-up.
func FromEnv(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := Config{Limit: DefaultLimit, Window: DefaultWindow}
	if s := strings.TrimSpace(getenv(EnvLimit)); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < MinLimit || n > MaxLimit {
			return Config{}, fmt.Errorf("lockout: %s=%q is not an integer in range %d-%d", EnvLimit, s, MinLimit, MaxLimit)
		}
		c.Limit = n
	}
	if s := strings.TrimSpace(getenv(EnvWindowSeconds)); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		lo, hi := int64(MinWindow/time.Second), int64(MaxWindow/time.Second)
		if err != nil || n < lo || n > hi {
			return Config{}, fmt.Errorf("lockout: %s=%q is not an integer in range %d-%d", EnvWindowSeconds, s, lo, hi)
		}
		c.Window = time.Duration(n) * time.Second
	}
	return c, c.Validate()
}

// Counter is the triggers.FailureCounter over a Store. Create one with New; it is safe for
// concurrent use.
type Counter struct {
	store Store
	cfg   Config
}

var _ triggers.FailureCounter = (*Counter)(nil)

// New returns a Counter with cfg (zero fields take their defaults) over st.
func New(st Store, cfg Config) (*Counter, error) {
	if st == nil {
		return nil, errors.New("lockout: no store")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Counter{store: st, cfg: cfg.withDefaults()}, nil
}

// Config returns the policy in force (defaults filled in).
func (c *Counter) Config() Config { return c.cfg }

// WindowStart returns the start of the counting window containing t: windows are fixed, of
// Config.Window, aligned to the Unix epoch (as store.Store's failure windows). A lock noticed at t
// lasts at most until WindowStart(t) + Window.
func (c *Counter) WindowStart(t time.Time) time.Time {
	secs := int64(c.cfg.Window / time.Second)
	u := t.Unix()
	m := u % secs
	if m < 0 {
		m += secs
	}
	return time.Unix(u-m, 0)
}

// Key returns the table key for account: 32 hex digits of HMAC-SHA256 under the deployment key
// (keyed.Key.ID, purpose "lockout"). Deterministic, so every function instance counts an account
// under the same key; "" when k is nil (the store refuses an empty key).
func Key(k *keyed.Key, account string) string {
	if k == nil {
		return ""
	}
	return k.ID("lockout", account)
}

// Reserve takes one attempt slot of account for attemptID (see the package documentation) and
// reports whether it was granted; false means the account is locked. A store failure is an error
// (Verify then fails the sign-in: closed, never open).
func (c *Counter) Reserve(ctx context.Context, k *keyed.Key, account, attemptID string) (bool, error) {
	if err := c.ready(k, account); err != nil {
		return false, err
	}
	ok, err := c.store.ReserveAttempt(ctx, Key(k, account), attemptID, c.cfg.Limit, c.cfg.Window)
	if err != nil {
		return false, fmt.Errorf("lockout: reserve attempt: %w", err)
	}
	return ok, nil
}

// Release gives back account's slot for attemptID (the answer was right).
func (c *Counter) Release(ctx context.Context, k *keyed.Key, account, attemptID string) error {
	if err := c.ready(k, account); err != nil {
		return err
	}
	if err := c.store.ReleaseAttempt(ctx, Key(k, account), attemptID, c.cfg.Window); err != nil {
		return fmt.Errorf("lockout: release attempt: %w", err)
	}
	return nil
}

func (c *Counter) ready(k *keyed.Key, account string) error {
	switch {
	case c == nil || c.store == nil:
		return errors.New("lockout: counter has no store (use New)")
	case k == nil:
		return errors.New("lockout: no deployment key")
	case account == "":
		return errors.New("lockout: empty account")
	}
	return nil
}
