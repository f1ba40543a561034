package store_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
)

var defaultSchedule = store.SendSchedule{
	Delays:   []time.Duration{60 * time.Second, 120 * time.Second, 240 * time.Second, 480 * time.Second, 900 * time.Second},
	DailyCap: 100,
}

func trySend(t *testing.T, e env, rk string, sc store.SendSchedule) store.SendDecision {
	t.Helper()
	d, err := e.s.TrySend(ctx(), rk, sc)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestTrySendGrowingDelays: the first send goes at once, then each needs the next delay after
// the previous send; the last delay repeats.
func TestTrySendGrowingDelays(t *testing.T) {
	e := setup(t)
	for i, wait := range []time.Duration{60, 120, 240, 480, 900, 900, 900} {
		wait *= time.Second
		d := trySend(t, e, "r1", defaultSchedule)
		if !d.Allowed || d.Wait != wait {
			t.Fatalf("send %d: %+v, want allowed, wait %s", i+1, d, wait)
		}
		e.clk.Add(wait - time.Second)
		if d := trySend(t, e, "r1", defaultSchedule); d.Allowed || d.Wait != time.Second {
			t.Fatalf("send %d + %s: %+v, want refused with 1s to wait", i+1, wait-time.Second, d)
		}
		e.clk.Add(time.Second)
	}
	if n := storetest.Num(t, e.Item(t, "SEND#r1", "SEND"), "n"); n != 7 {
		t.Fatalf("count %d", n)
	}
	// Another recipient is not affected.
	if d := trySend(t, e, "r2", defaultSchedule); !d.Allowed {
		t.Fatal("another recipient was refused")
	}
}

// TestTrySendDefaultsNeverCloseTheDay: someone who sends whenever the default schedule allows
// gets 99 sends in 24 hours, below the cap of 100, and the wait is never above 15 minutes.
func TestTrySendDefaultsNeverCloseTheDay(t *testing.T) {
	e := setup(t)
	start := e.clk.Now()
	sent := 0
	for e.clk.Now().Sub(start) < 24*time.Hour {
		d := trySend(t, e, "victim", defaultSchedule)
		if d.Wait > 15*time.Minute {
			t.Fatalf("after %d sends the wait is %s", sent, d.Wait)
		}
		if d.Allowed {
			sent++
		}
		e.clk.Add(max(d.Wait, time.Second))
	}
	if sent != 99 {
		t.Fatalf("%d sends in 24 h, want 99", sent)
	}
}

func TestTrySendDailyCap(t *testing.T) {
	e := setup(t)
	sc := store.SendSchedule{Delays: []time.Duration{time.Second}, DailyCap: 3}
	for i := range 3 {
		d := trySend(t, e, "r", sc)
		if !d.Allowed {
			t.Fatalf("send %d refused", i+1)
		}
		if i == 2 && d.Wait != 24*time.Hour-2*time.Second {
			t.Fatalf("after the cap the wait is %s, want until the window ends", d.Wait)
		}
		e.clk.Add(time.Second)
	}
	if d := trySend(t, e, "r", sc); d.Allowed || d.Wait != 24*time.Hour-3*time.Second {
		t.Fatalf("over the cap: %+v", d)
	}
	e.clk.Add(24*time.Hour - 3*time.Second)
	if d := trySend(t, e, "r", sc); !d.Allowed {
		t.Fatalf("a new window: %+v", d)
	}
}

// TestTrySendForgets: 24 h after the last send the schedule starts afresh (the item's TTL has
// passed; it counts as absent even before DynamoDB deletes it).
func TestTrySendForgets(t *testing.T) {
	e := setup(t)
	for range 4 {
		d := trySend(t, e, "r", defaultSchedule)
		e.clk.Add(d.Wait)
	}
	e.clk.Add(24 * time.Hour)
	if d := trySend(t, e, "r", defaultSchedule); !d.Allowed || d.Wait != time.Minute {
		t.Fatalf("after a quiet day: %+v, want a fresh schedule", d)
	}
}

func TestTrySendConcurrent(t *testing.T) {
	e := setup(t)
	allowed := wins(t, "send", 20, func(int) (bool, error) {
		d, err := e.s.TrySend(ctx(), "burst", defaultSchedule)
		return d.Allowed, err
	})
	if allowed != 1 {
		t.Fatalf("%d of 20 concurrent sends allowed", allowed)
	}
	if n := storetest.Num(t, e.Item(t, "SEND#burst", "SEND"), "n"); n != 1 {
		t.Fatalf("count %d", n)
	}
}

func TestResetSends(t *testing.T) {
	e := setup(t)
	for _, rk := range []string{"a", "b", "c"} {
		trySend(t, e, rk, defaultSchedule)
		trySend(t, e, rk, defaultSchedule)
	}
	if err := e.s.ResetSends(ctx(), "a", "b", "a", "never-sent"); err != nil {
		t.Fatal(err)
	}
	for rk, allowed := range map[string]bool{"a": true, "b": true, "c": false} {
		if d := trySend(t, e, rk, defaultSchedule); d.Allowed != allowed {
			t.Errorf("%s after the reset: %+v", rk, d)
		}
	}
	if err := e.s.ResetSends(ctx()); err != nil {
		t.Fatalf("no keys: %v", err)
	}
	if it := e.Item(t, "SEND#never-sent", "SEND"); it != nil {
		t.Fatalf("a reset created an item: %v", it)
	}
	// Sends racing resets are decided again on the new state: no error, and no more sends
	// allowed than one per schedule (the one before the resets plus one after each reset).
	// Only resets and allowed sends write, at most 3 + 4 writes here, so no send runs out of
	// attempts.
	if err := e.s.ResetSends(ctx(), "a"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := range 10 {
		wg.Go(func() {
			d, err := e.s.TrySend(ctx(), "a", defaultSchedule)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			if d.Allowed {
				allowed++
			}
			mu.Unlock()
		})
		if i < 3 {
			wg.Go(func() {
				if err := e.s.ResetSends(ctx(), "a"); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	if allowed < 1 || allowed > 4 {
		t.Fatalf("%d sends allowed around 3 resets", allowed)
	}
}

func TestTrySendInvalid(t *testing.T) {
	e := setup(t)
	for name, sc := range map[string]store.SendSchedule{
		"no delays":        {DailyCap: 1},
		"zero delay":       {Delays: []time.Duration{0}, DailyCap: 1},
		"fractional delay": {Delays: []time.Duration{1500 * time.Millisecond}, DailyCap: 1},
		"delay over a day": {Delays: []time.Duration{25 * time.Hour}, DailyCap: 1},
		"zero cap":         {Delays: []time.Duration{time.Second}},
	} {
		if _, err := e.s.TrySend(ctx(), "r", sc); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := e.s.TrySend(ctx(), "", defaultSchedule); !errors.Is(err, store.ErrInvalidArgument) {
		t.Errorf("empty key: %v", err)
	}
	if err := e.s.ResetSends(ctx(), strings.Repeat("x", 600)); !errors.Is(err, store.ErrInvalidArgument) {
		t.Errorf("long key: %v", err)
	}
}

func TestCredentialCounts(t *testing.T) {
	e := setup(t)
	if d, p, err := e.s.CredentialCounts(ctx(), "owner-1"); err != nil || d != 0 || p != 0 {
		t.Fatalf("no META item: %d %d %v", d, p, err)
	}
	e.putKey(t, key("owner-1", "k1"), 10)
	if d, p, err := e.s.CredentialCounts(ctx(), "owner-1"); err != nil || d != 1 || p != 0 {
		t.Fatalf("one device key: %d %d %v", d, p, err)
	}
	e.Put(t, map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "USER#owner-2"}, "sk": &types.AttributeValueMemberS{Value: "META"},
		"passkeyCount": &types.AttributeValueMemberN{Value: "2"}, "deviceKeyCount": &types.AttributeValueMemberN{Value: "-1"},
	})
	if d, p, err := e.s.CredentialCounts(ctx(), "owner-2"); err != nil || d != 0 || p != 2 {
		t.Fatalf("passkeys: %d %d %v", d, p, err)
	}
	if _, _, err := e.s.CredentialCounts(ctx(), ""); !errors.Is(err, store.ErrInvalidArgument) {
		t.Fatalf("empty owner: %v", err)
	}
}

// TestRecordSendOnAStaleRead: a decision made on a read that another send has overtaken is
// made again on a fresh read, so the second send is refused.
func TestRecordSendOnAStaleRead(t *testing.T) {
	e := setup(t)
	stale, err := e.s.ReadSendSchedule(ctx(), "r")
	if err != nil {
		t.Fatal(err)
	}
	if w := stale.Wait(e.clk.Now(), defaultSchedule); w != 0 || stale.Exists {
		t.Fatalf("fresh schedule: %+v, wait %s", stale, w)
	}
	if d := trySend(t, e, "r", defaultSchedule); !d.Allowed {
		t.Fatal("first send refused")
	}
	d, err := e.s.RecordSend(ctx(), "r", defaultSchedule, stale)
	if err != nil || d.Allowed || d.Wait != time.Minute {
		t.Fatalf("send on a stale read: %+v, %v", d, err)
	}
	st, err := e.s.ReadSendSchedule(ctx(), "r")
	if err != nil || !st.Exists || st.Count != 1 || st.Version != 1 || st.Wait(e.clk.Now(), defaultSchedule) != time.Minute {
		t.Fatalf("read %+v, %v", st, err)
	}
	e.clk.Add(time.Minute)
	if d, err := e.s.RecordSend(ctx(), "r", defaultSchedule, st); err != nil || !d.Allowed || d.Wait != 2*time.Minute {
		t.Fatalf("send on a current read: %+v, %v", d, err)
	}
}
