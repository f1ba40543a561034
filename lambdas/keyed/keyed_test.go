package keyed

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testSecret = "0123456789abcdef0123456789abcdef-test"

func TestNewRefusesShortSecret(t *testing.T) {
	if _, err := New([]byte("short")); err == nil {
		t.Fatal("a 5-byte secret was accepted")
	}
}

func TestSumSeparatesFieldsAndKeys(t *testing.T) {
	k := MustStatic(testSecret).K
	other := MustStatic(testSecret + "x").K
	if k.ID("rate", "ab", "c") == k.ID("rate", "a", "bc") {
		t.Error("field boundaries are not part of the message")
	}
	if k.ID("rate", "a") == k.ID("lockout", "a") {
		t.Error("purpose is not part of the message")
	}
	if k.ID("rate", "a") == other.ID("rate", "a") {
		t.Error("two secrets give the same identifier")
	}
	if k.ID("rate", "a") != k.ID("rate", "a") {
		t.Error("not deterministic")
	}
	if len(k.ID("rate", "a")) != 32 || len(k.Ref("u", "a")) != 12 || len(k.Derive("d")) != 32 {
		t.Error("unexpected lengths")
	}
	if strings.Contains(k.ID("rate", "+447700900123"), "447700900123") {
		t.Error("identifier contains its input")
	}
}

type getter struct {
	calls atomic.Int32
	fail  atomic.Bool
	value string
}

func (g *getter) GetSecretValue(context.Context, string) (string, error) {
	g.calls.Add(1)
	time.Sleep(time.Millisecond)
	if g.fail.Load() {
		return "", errors.New("throttled")
	}
	return g.value, nil
}

func TestSecretsManagerCachesAndRefreshes(t *testing.T) {
	g := &getter{value: testSecret}
	s, err := NewSecretsManager(g, "arn")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_000_000, 0)
	s.now = func() time.Time { return now }

	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Key(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if g.calls.Load() != 1 {
		t.Fatalf("%d reads for 20 concurrent first requests, want 1", g.calls.Load())
	}
	now = now.Add(MaxAge + time.Second)
	g.fail.Store(true)
	if _, err := s.Key(context.Background()); err != nil {
		t.Fatalf("a failed refresh with a recent key failed the request: %v", err)
	}
	now = now.Add(MaxAge)
	if _, err := s.Key(context.Background()); err == nil {
		t.Fatal("a key older than 2 x MaxAge was used when the secret could not be read")
	}
	g.fail.Store(false)
	if _, err := s.Key(context.Background()); err != nil {
		t.Fatalf("the read after a failure was not retried: %v", err)
	}
}

func TestSecretsManagerFailsClosed(t *testing.T) {
	g := &getter{value: testSecret}
	g.fail.Store(true)
	s, _ := NewSecretsManager(g, "arn")
	if _, err := s.Key(context.Background()); err == nil {
		t.Fatal("no error without a secret")
	}
	short, _ := NewSecretsManager(&getter{value: "short"}, "arn")
	if _, err := short.Key(context.Background()); err == nil {
		t.Fatal("a short secret was accepted")
	}
	if _, err := FromEnv(func(string) string { return "" }, g); err == nil {
		t.Fatal("FromEnv without the variable succeeded")
	}
}
