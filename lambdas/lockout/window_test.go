package lockout_test

import (
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// WindowStart names the same fixed window the store counts in: aligned to the Unix epoch, so
// every instance and every refusal within one window agree on it (the account_locked
// notification is de-duplicated by it).
func TestWindowStart(t *testing.T) {
	c, err := lockout.New(&store.Store{}, lockout.Config{Window: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1_800_000_000, 0).Truncate(15 * time.Minute)
	for _, d := range []time.Duration{0, time.Second, 14*time.Minute + 59*time.Second + 999*time.Millisecond} {
		if got := c.WindowStart(start.Add(d)); !got.Equal(start) {
			t.Errorf("WindowStart(start+%s) = %v, want %v", d, got, start)
		}
	}
	if got := c.WindowStart(start.Add(15 * time.Minute)); !got.Equal(start.Add(15 * time.Minute)) {
		t.Errorf("next window starts at %v", got)
	}
	if got := c.WindowStart(time.Unix(-1, 0)); !got.Equal(time.Unix(-900, 0)) {
		t.Errorf("before the epoch: %v", got)
	}
}
