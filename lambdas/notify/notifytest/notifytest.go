// Package notifytest is a stand-in for a *notify.Sender in the tests of what sends
// notifications: it records what it is asked to send.
package notifytest

import (
	"context"
	"sync"

	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/notify"
)

// Recorder has the Notify method of *notify.Sender: it records every event and the key it came
// with, and sends nothing. It is safe for concurrent use; the zero Recorder is ready to use.
type Recorder struct {
	// Panics makes every Notify panic after recording (a failing notifier). Default false.
	Panics bool

	mu     sync.Mutex
	events []notify.Event
	keys   []*keyed.Key
}

// Notify records ev and k (and then panics when r.Panics).
func (r *Recorder) Notify(_ context.Context, k *keyed.Key, ev notify.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.keys = append(r.keys, k)
	r.mu.Unlock()
	if r.Panics {
		panic("notifytest: notifier failed")
	}
}

// Events returns a copy of the events recorded so far, oldest first.
func (r *Recorder) Events() []notify.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Event(nil), r.events...)
}

// Keys returns a copy of the keys the events came with, in the same order.
func (r *Recorder) Keys() []*keyed.Key {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*keyed.Key(nil), r.keys...)
}

// Len returns how many events were recorded.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}
