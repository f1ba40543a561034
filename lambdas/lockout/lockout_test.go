package lockout_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/lockout"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		want   lockout.Config
		errSub string
	}{
		{name: "defaults", env: nil, want: lockout.Config{Limit: 5, Window: 15 * time.Minute}},
		{name: "empty is default", env: map[string]string{lockout.EnvLimit: " ", lockout.EnvWindowSeconds: ""}, want: lockout.Config{Limit: 5, Window: 15 * time.Minute}},
		{name: "set", env: map[string]string{lockout.EnvLimit: "10", lockout.EnvWindowSeconds: "3600"}, want: lockout.Config{Limit: 10, Window: time.Hour}},
		{name: "bounds", env: map[string]string{lockout.EnvLimit: "1", lockout.EnvWindowSeconds: "60"}, want: lockout.Config{Limit: 1, Window: time.Minute}},
		{name: "upper bounds", env: map[string]string{lockout.EnvLimit: "1000", lockout.EnvWindowSeconds: "86400"}, want: lockout.Config{Limit: 1000, Window: 24 * time.Hour}},
		{name: "limit not a number", env: map[string]string{lockout.EnvLimit: "five"}, errSub: lockout.EnvLimit},
		{name: "limit zero", env: map[string]string{lockout.EnvLimit: "0"}, errSub: lockout.EnvLimit},
		{name: "limit negative", env: map[string]string{lockout.EnvLimit: "-3"}, errSub: lockout.EnvLimit},
		{name: "limit too big", env: map[string]string{lockout.EnvLimit: "1001"}, errSub: lockout.EnvLimit},
		{name: "window fraction", env: map[string]string{lockout.EnvWindowSeconds: "90.5"}, errSub: lockout.EnvWindowSeconds},
		{name: "window duration syntax", env: map[string]string{lockout.EnvWindowSeconds: "15m"}, errSub: lockout.EnvWindowSeconds},
		{name: "window too short", env: map[string]string{lockout.EnvWindowSeconds: "59"}, errSub: lockout.EnvWindowSeconds},
		{name: "window too long", env: map[string]string{lockout.EnvWindowSeconds: "86401"}, errSub: lockout.EnvWindowSeconds},
		{name: "window huge", env: map[string]string{lockout.EnvWindowSeconds: "99999999999999999999"}, errSub: lockout.EnvWindowSeconds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lockout.FromEnv(env(tt.env))
			if tt.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSub) {
					t.Fatalf("FromEnv = %+v, %v; want error mentioning %s", got, err, tt.errSub)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("FromEnv = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := lockout.New(nil, lockout.Config{}); err == nil {
		t.Error("New(nil store) succeeded")
	}
	for _, cfg := range []lockout.Config{
		{Limit: -1},
		{Limit: 1001},
		{Window: time.Second},
		{Window: 90*time.Second + time.Millisecond},
		{Window: 25 * time.Hour},
		{Window: -time.Minute},
	} {
		if _, err := lockout.New(newFake(), cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
	c, err := lockout.New(newFake(), lockout.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Config(); got.Limit != lockout.DefaultLimit || got.Window != lockout.DefaultWindow {
		t.Errorf("zero Config gave %+v, want defaults", got)
	}
	var zero lockout.Counter
	if _, err := zero.Reserve(context.Background(), testKey, "sub:x", "a/1/x"); err == nil {
		t.Error("zero Counter Reserve succeeded")
	}
	if err := zero.Release(context.Background(), testKey, "sub:x", "a/1/x"); err == nil {
		t.Error("zero Counter Release succeeded")
	}
	if _, err := c.Reserve(context.Background(), testKey, "", "a/1/x"); err == nil {
		t.Error("Reserve(empty account) succeeded")
	}
}

var (
	testKey  = keyed.MustStatic("lockout-test-deployment-secret-0123456789").K
	otherKey = keyed.MustStatic("another-deployment-secret-0123456789abcdef").K
)

// TestKeyIsKeyed (attack 9): the table key is an HMAC under the deployment secret, not an unkeyed
// hash anyone can recompute from a guessed email address or phone number.
func TestKeyIsKeyed(t *testing.T) {
	for _, account := range []string{"sub:3f1c2a9e-0000-4000-8000-00000000a11c", "name:eu-west-1_Ab/alice@example.com", "name:eu-west-1_Ab/+447911123456"} {
		k := lockout.Key(testKey, account)
		if k != lockout.Key(testKey, account) {
			t.Fatal("Key is not deterministic")
		}
		if len(k) != 32 || strings.Trim(k, "0123456789abcdef") != "" {
			t.Errorf("Key(%q) = %q, want 32 hex digits", account, k)
		}
		for _, part := range []string{account, "alice", "example.com", "447911123456", "3f1c2a9e"} {
			if strings.Contains(k, part) {
				t.Errorf("Key(%q) = %q contains %q", account, k, part)
			}
		}
		unkeyed := sha256.Sum256([]byte(account))
		if strings.Contains(hex.EncodeToString(unkeyed[:]), k) {
			t.Errorf("Key(%q) is an unkeyed hash of the account", account)
		}
		if lockout.Key(otherKey, account) == k {
			t.Errorf("Key(%q) is the same under another deployment secret", account)
		}
	}
	if lockout.Key(testKey, "sub:a") == lockout.Key(testKey, "sub:b") {
		t.Error("different accounts share a key")
	}
	if lockout.Key(nil, "sub:a") != "" {
		t.Error("Key without a deployment key is not empty")
	}
}

// fakeStore is an in-memory Store with one window.
type fakeStore struct {
	mu      sync.Mutex
	slots   map[string]map[string]bool
	limits  []int
	windows []time.Duration
	err     error
}

func newFake() *fakeStore { return &fakeStore{slots: map[string]map[string]bool{}} }

func (f *fakeStore) ReserveAttempt(_ context.Context, account, attemptID string, limit int, window time.Duration) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.windows, f.limits = append(f.windows, window), append(f.limits, limit)
	if f.err != nil {
		return false, f.err
	}
	held := f.slots[account]
	if held == nil {
		held = map[string]bool{}
		f.slots[account] = held
	}
	if !held[attemptID] && len(held) >= limit {
		return false, nil
	}
	held[attemptID] = true
	return true, nil
}

func (f *fakeStore) ReleaseAttempt(_ context.Context, account, attemptID string, window time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.windows = append(f.windows, window)
	if f.err != nil {
		return f.err
	}
	delete(f.slots[account], attemptID)
	return nil
}

func TestReserveAtLimit(t *testing.T) {
	ctx := context.Background()
	st := newFake()
	c, err := lockout.New(st, lockout.Config{Limit: 3, Window: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	const account = "sub:alice"
	for i := range 3 {
		ok, err := c.Reserve(ctx, testKey, account, fmt.Sprintf("s/%d/x", i))
		if err != nil || !ok {
			t.Fatalf("slot %d: Reserve = %v, %v; want granted", i, ok, err)
		}
	}
	if ok, err := c.Reserve(ctx, testKey, account, "s/9/x"); err != nil || ok {
		t.Fatalf("4th slot: Reserve = %v, %v; want refused", ok, err)
	}
	if ok, _ := c.Reserve(ctx, testKey, account, "s/0/x"); !ok {
		t.Error("a held attempt is refused on retry")
	}
	if ok, _ := c.Reserve(ctx, testKey, "sub:bob", "s/0/x"); !ok {
		t.Error("another account is locked too")
	}
	if err := c.Release(ctx, testKey, account, "s/1/x"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Reserve(ctx, testKey, account, "s/9/x"); !ok {
		t.Error("a released slot is not free again")
	}
	if _, ok := st.slots[account]; ok {
		t.Error("the store saw the plain account")
	}
	if len(st.slots[lockout.Key(testKey, account)]) != 3 {
		t.Errorf("store slots = %v", st.slots)
	}
	for _, w := range st.windows {
		if w != 10*time.Minute {
			t.Fatalf("store got window %s, want 10m", w)
		}
	}
	for _, l := range st.limits {
		if l != 3 {
			t.Fatalf("store got limit %d, want 3", l)
		}
	}
}

func TestStoreErrorsFailClosed(t *testing.T) {
	ctx := context.Background()
	st := newFake()
	st.err = errors.New("throttled")
	c, _ := lockout.New(st, lockout.Config{})
	ok, err := c.Reserve(ctx, testKey, "sub:alice", "s/2/x")
	if ok || !errors.Is(err, st.err) {
		t.Errorf("Reserve = %v, %v; want the store error", ok, err)
	}
	if err := c.Release(ctx, testKey, "sub:alice", "s/2/x"); !errors.Is(err, st.err) {
		t.Errorf("Release = %v; want the store error", err)
	}
}

// TestNoKeyFailsClosed: without the deployment key nothing reaches the store.
func TestNoKeyFailsClosed(t *testing.T) {
	st := newFake()
	c, _ := lockout.New(st, lockout.Config{})
	if ok, err := c.Reserve(context.Background(), nil, "sub:alice", "s/2/x"); ok || err == nil {
		t.Errorf("Reserve without a key = %v, %v; want an error", ok, err)
	}
	if err := c.Release(context.Background(), nil, "sub:alice", "s/2/x"); err == nil {
		t.Error("Release without a key succeeded")
	}
	if len(st.windows) != 0 {
		t.Error("the store was called without a key")
	}
}
