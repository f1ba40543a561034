package callcount_test

import (
	"maps"
	"sync"
	"testing"

	"github.com/passwordless-go/cognito/infra/local/callcount"
)

// TestCounter: Add counts per key (also from several goroutines), Counts is a copy, Reset
// empties it.
func TestCounter(t *testing.T) {
	var c callcount.Counter
	if got := c.Counts(); got == nil || len(got) != 0 {
		t.Fatalf("zero Counter: %v, want an empty map", got)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			c.Add("a")
		})
	}
	wg.Wait()
	c.Add("b")
	got := c.Counts()
	if want := map[string]int{"a": 10, "b": 1}; !maps.Equal(got, want) {
		t.Fatalf("Counts %v, want %v", got, want)
	}
	got["a"] = 99
	if n := c.Counts()["a"]; n != 10 {
		t.Fatalf("changing the returned map changed the count to %d", n)
	}
	c.Reset()
	if got := c.Counts(); len(got) != 0 {
		t.Fatalf("after Reset: %v, want empty", got)
	}
	c.Add("a")
	if got := c.Counts(); !maps.Equal(got, map[string]int{"a": 1}) {
		t.Fatalf("after Reset and Add: %v", got)
	}
}
