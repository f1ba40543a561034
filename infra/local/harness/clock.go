package harness

import (
	"sync/atomic"
	"time"
)

// ShiftClock is real time plus an adjustable offset, for Options.Clock: a test moves the user
// pool's and the authorizer's time (sessions, token times) while the functions keep real time.
// The zero value is real time. It is safe for concurrent use.
type ShiftClock struct{ offset atomic.Int64 }

// Now returns time.Now() plus the offset.
func (c *ShiftClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Set sets the offset.
func (c *ShiftClock) Set(d time.Duration) { c.offset.Store(int64(d)) }

// Advance adds d to the offset.
func (c *ShiftClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// Offset returns the offset.
func (c *ShiftClock) Offset() time.Duration { return time.Duration(c.offset.Load()) }
