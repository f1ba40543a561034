// Package callcount counts calls per key for the local emulators (awsmock, apigw), safe for
// concurrent use.
package callcount

import (
	"maps"
	"sync"
)

// Counter counts calls per key. The zero value is ready to use and counts nothing.
type Counter struct {
	mu     sync.Mutex
	counts map[string]int
}

// Add counts one call under key.
func (c *Counter) Add(key string) {
	c.mu.Lock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	c.counts[key]++
	c.mu.Unlock()
}

// Counts returns a copy of the counts per key (an empty map when nothing was counted).
func (c *Counter) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		return map[string]int{}
	}
	return maps.Clone(c.counts)
}

// Reset sets every count back to zero.
func (c *Counter) Reset() {
	c.mu.Lock()
	c.counts = nil
	c.mu.Unlock()
}
