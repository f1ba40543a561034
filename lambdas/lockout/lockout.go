// Package lockout counts wrong sign-in answers per account: it is the triggers.FailureCounter the
// Verify trigger uses. Cognito has no lockout for custom auth, so without it an attacker could
// start sign-in after sign-in and guess codes forever (each sign-in only allows a few attempts).
//
// An account is locked while its number of wrong answers in the current window is at least
// Config.Limit; it unlocks when the window ends. Windows are fixed and aligned to the Unix epoch
// (store.Store's failure windows), so a burst straddling a window boundary can reach up to
// 2 x Limit wrong answers before the lock holds. Counting is one atomic DynamoDB update per wrong
// answer, so concurrent wrong answers are all counted.
//
// The account key (triggers.Account: the user's sub, or pool and user name for unknown users) is
// hashed with SHA-256 before it reaches the table, so no email address or phone number typed as a
// user name is stored in plain text.
//
// A lock is also a denial of service: anyone who knows a user name can lock that account for up
// to one window by answering wrongly. Keep the window short (the default is 15 minutes) and the
// limit well above what a real user mistypes.
//
// Permissions (VerifyAuthChallengeResponse): dynamodb:UpdateItem (RecordFailure) and
// dynamodb:GetItem (Locked) on the key table.
package lockout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

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
	// RecordFailure counts one failure for account in the current window and returns the
	// window's new count (one atomic update).
	RecordFailure(ctx context.Context, account string, window time.Duration) (int, error)
	// Failures returns account's count in the current window (strongly consistent read).
	Failures(ctx context.Context, account string, window time.Duration) (int, error)
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

// Key returns the table key for account: "acct:" and the hex SHA-256 of account. Deterministic,
// so every function instance counts an account under the same key.
func Key(account string) string {
	h := sha256.Sum256([]byte(account))
	return "acct:" + hex.EncodeToString(h[:])
}

// Locked reports whether account has Limit or more wrong answers in the current window. A store
// failure is an error (Verify then fails the sign-in: closed, never open).
func (c *Counter) Locked(ctx context.Context, account string) (bool, error) {
	if err := c.ready(account); err != nil {
		return false, err
	}
	n, err := c.store.Failures(ctx, Key(account), c.cfg.Window)
	if err != nil {
		return false, fmt.Errorf("lockout: read failures: %w", err)
	}
	return n >= c.cfg.Limit, nil
}

// RecordFailure counts one wrong answer for account (one atomic update).
func (c *Counter) RecordFailure(ctx context.Context, account string) error {
	if err := c.ready(account); err != nil {
		return err
	}
	if _, err := c.store.RecordFailure(ctx, Key(account), c.cfg.Window); err != nil {
		return fmt.Errorf("lockout: record failure: %w", err)
	}
	return nil
}

func (c *Counter) ready(account string) error {
	switch {
	case c == nil || c.store == nil:
		return errors.New("lockout: counter has no store (use New)")
	case account == "":
		return errors.New("lockout: empty account")
	}
	return nil
}
