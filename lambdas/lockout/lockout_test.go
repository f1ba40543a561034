package lockout_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

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
	if _, err := zero.Locked(context.Background(), "sub:x"); err == nil {
		t.Error("zero Counter Locked succeeded")
	}
	if err := zero.RecordFailure(context.Background(), "sub:x"); err == nil {
		t.Error("zero Counter RecordFailure succeeded")
	}
	if _, err := c.Locked(context.Background(), ""); err == nil {
		t.Error("Locked(empty account) succeeded")
	}
}

func TestKeyHashesAccount(t *testing.T) {
	for _, account := range []string{"sub:3f1c2a9e-0000-4000-8000-00000000a11c", "name:eu-west-1_Ab/alice@example.com", "name:eu-west-1_Ab/+447911123456"} {
		k := lockout.Key(account)
		if k != lockout.Key(account) {
			t.Fatal("Key is not deterministic")
		}
		if !strings.HasPrefix(k, "acct:") || len(k) != len("acct:")+64 {
			t.Errorf("Key(%q) = %q, want acct: + 64 hex digits", account, k)
		}
		for _, part := range []string{account, "alice", "example.com", "447911123456", "3f1c2a9e"} {
			if strings.Contains(k, part) {
				t.Errorf("Key(%q) = %q contains %q", account, k, part)
			}
		}
	}
	if lockout.Key("sub:a") == lockout.Key("sub:b") {
		t.Error("different accounts share a key")
	}
}

// fakeStore is an in-memory Store with one window.
type fakeStore struct {
	mu      sync.Mutex
	counts  map[string]int
	windows []time.Duration
	err     error
}

func newFake() *fakeStore { return &fakeStore{counts: map[string]int{}} }

func (f *fakeStore) RecordFailure(_ context.Context, account string, window time.Duration) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.windows = append(f.windows, window)
	if f.err != nil {
		return 0, f.err
	}
	f.counts[account]++
	return f.counts[account], nil
}

func (f *fakeStore) Failures(_ context.Context, account string, window time.Duration) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.windows = append(f.windows, window)
	if f.err != nil {
		return 0, f.err
	}
	return f.counts[account], nil
}

func TestLockedAtLimit(t *testing.T) {
	ctx := context.Background()
	st := newFake()
	c, err := lockout.New(st, lockout.Config{Limit: 3, Window: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	const account = "sub:alice"
	for i := range 3 {
		locked, err := c.Locked(ctx, account)
		if err != nil || locked {
			t.Fatalf("after %d failures Locked = %v, %v; want false", i, locked, err)
		}
		if err := c.RecordFailure(ctx, account); err != nil {
			t.Fatal(err)
		}
	}
	if locked, err := c.Locked(ctx, account); err != nil || !locked {
		t.Fatalf("after 3 failures Locked = %v, %v; want true", locked, err)
	}
	if locked, _ := c.Locked(ctx, "sub:bob"); locked {
		t.Error("another account is locked too")
	}
	if _, ok := st.counts[account]; ok {
		t.Error("the store saw the plain account")
	}
	if st.counts[lockout.Key(account)] != 3 {
		t.Errorf("store counts = %v", st.counts)
	}
	for _, w := range st.windows {
		if w != 10*time.Minute {
			t.Fatalf("store got window %s, want 10m", w)
		}
	}
}

func TestStoreErrorsFailClosed(t *testing.T) {
	ctx := context.Background()
	st := newFake()
	st.err = errors.New("throttled")
	c, _ := lockout.New(st, lockout.Config{})
	locked, err := c.Locked(ctx, "sub:alice")
	if err == nil || !errors.Is(err, st.err) {
		t.Errorf("Locked = %v, %v; want the store error", locked, err)
	}
	if err := c.RecordFailure(ctx, "sub:alice"); err == nil || !errors.Is(err, st.err) {
		t.Errorf("RecordFailure = %v; want the store error", err)
	}
}
