package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
)

// A notification ID is claimed once: a retry of the same event (Cognito retries a trigger) finds
// the claim and sends nothing.
func TestClaimNotificationOnce(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	first, err := e.s.ClaimNotification(ctx, "abc", time.Hour)
	if err != nil || !first {
		t.Fatalf("first claim = %v, %v; want true, nil", first, err)
	}
	again, err := e.s.ClaimNotification(ctx, "abc", time.Hour)
	if err != nil || again {
		t.Fatalf("second claim = %v, %v; want false, nil", again, err)
	}
	other, err := e.s.ClaimNotification(ctx, "abd", time.Hour)
	if err != nil || !other {
		t.Fatalf("other ID = %v, %v; want true, nil", other, err)
	}
	item := e.Item(t, "NOTIFY#abc", "NOTIFY")
	if got, want := storetest.Num(t, item, store.TTLAttribute), e.clk.Now().Add(time.Hour).Unix(); got != want {
		t.Fatalf("expiresAt = %d, want %d", got, want)
	}
}

// A claim whose time to live has passed but that DynamoDB has not deleted yet (TTL deletion lags
// by up to two days) no longer counts.
func TestClaimNotificationAfterExpiry(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	if ok, err := e.s.ClaimNotification(ctx, "x", time.Minute); err != nil || !ok {
		t.Fatalf("claim = %v, %v", ok, err)
	}
	e.clk.Add(time.Minute + time.Second)
	if ok, err := e.s.ClaimNotification(ctx, "x", time.Minute); err != nil || !ok {
		t.Fatalf("claim after expiry = %v, %v; want true", ok, err)
	}
}

// Thirty concurrent claims of one ID: exactly one wins (one conditional write, no read first).
func TestClaimNotificationConcurrent(t *testing.T) {
	e := setup(t)
	won := wins(t, "claim", 30, func(int) (bool, error) {
		return e.s.ClaimNotification(context.Background(), "same", time.Hour)
	})
	if won != 1 {
		t.Fatalf("%d claims won, want 1", won)
	}
}

func TestClaimNotificationInvalid(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	for name, f := range map[string]func() (bool, error){
		"empty id":     func() (bool, error) { return e.s.ClaimNotification(ctx, "", time.Hour) },
		"zero ttl":     func() (bool, error) { return e.s.ClaimNotification(ctx, "a", 0) },
		"negative ttl": func() (bool, error) { return e.s.ClaimNotification(ctx, "a", -time.Second) },
		"long id":      func() (bool, error) { return e.s.ClaimNotification(ctx, string(make([]byte, 600)), time.Hour) },
		"bad utf8":     func() (bool, error) { return e.s.ClaimNotification(ctx, "\xff", time.Hour) },
	} {
		if ok, err := f(); ok || !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("%s: %v, %v; want false, ErrInvalidArgument", name, ok, err)
		}
	}
	var nilStore *store.Store
	if ok, err := nilStore.ClaimNotification(ctx, "a", time.Hour); ok || err == nil {
		t.Errorf("nil store: %v, %v", ok, err)
	}
}
