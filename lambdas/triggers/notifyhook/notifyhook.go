// Package notifyhook tells account owners, through package notify, what the Verify trigger saw:
// Locked is a triggers.LockHook that notifies account_locked, NewMethod a triggers.SuccessHook that
// notifies new_method_signin. It lives apart from package triggers so that Define, which links
// triggers, links neither notify nor the AWS SDK.
//
// Both only ever add a notification: the sign-in's outcome is decided before they run and nothing
// they do changes it. Notify gives up after its own bounded timeout (notify.Config.Timeout,
// default 1 s) and reports nothing back, so a notification can delay an answer by at most that.
package notifyhook

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/keyauth"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// Notifier sends a notification (*notify.Sender). It never fails and returns within a bounded
// time.
type Notifier = notify.Notifier

// Window names the lock window containing a time (*lockout.Counter).
type Window interface {
	WindowStart(t time.Time) time.Time
}

var _ Window = (*lockout.Counter)(nil)

// maxRemembered bounds the lock windows a Locked remembers having notified.
const maxRemembered = 4096

// Locked is the triggers.LockHook that notifies account_locked: once per account and lock
// window. The event ID is the window's start, so notify's de-duplication (one message per ID,
// kind and user, across instances and Cognito retries) sends one message for a whole burst of
// refused answers; each instance also remembers the windows it has notified, so the refusals
// after the first make no call at all. Create one with NewLocked; it is safe for concurrent use.
type Locked struct {
	n   Notifier
	w   Window
	now func() time.Time

	mu   sync.Mutex
	done map[string]bool // keyed account and window start
}

var _ triggers.LockHook = (*Locked)(nil)

// NewLocked returns a Locked sending through n, with lock windows from w. now is the clock
// (nil: time.Now).
func NewLocked(n Notifier, w Window, now func() time.Time) (*Locked, error) {
	if n == nil || w == nil {
		return nil, errors.New("notifyhook: Locked needs a notifier and the lock windows")
	}
	if now == nil {
		now = time.Now
	}
	return &Locked{n: n, w: w, now: now, done: map[string]bool{}}, nil
}

// Locked notifies account_locked for req's account, unless this instance already did for the
// current window (or the request has no deployment key or is for an unknown user).
func (l *Locked) Locked(ctx context.Context, req triggers.CheckRequest) {
	if l == nil || req.Key == nil || req.UserNotFound {
		return
	}
	start := l.w.WindowStart(l.now()).Unix()
	mark := lockout.Key(req.Key, triggers.Account(req.UserPoolID, req.UserName, req.UserAttributes)) + "/" + strconv.FormatInt(start, 10)
	l.mu.Lock()
	if l.done[mark] {
		l.mu.Unlock()
		return
	}
	if len(l.done) >= maxRemembered {
		clear(l.done)
	}
	l.done[mark] = true
	l.mu.Unlock()
	l.n.Notify(ctx, req.Key, event(notify.AccountLocked, req, "window:"+strconv.FormatInt(start, 10)))
}

// SeenStore records the methods a user signed in with (*store.Store).
type SeenStore interface {
	// MarkSignIn adds entry to owner's set with one conditional write: added when it was not
	// there, returning when the set held something before.
	MarkSignIn(ctx context.Context, owner, entry string) (added, returning bool, err error)
}

var _ SeenStore = (*store.Store)(nil)

// NewMethod is the triggers.SuccessHook that notifies new_method_signin: a sign-in with a method
// the user has not signed in with before (for device keys: a key not used before), by a user who
// has signed in before with something else (a first sign-in ever is not news). One conditional
// write per accepted answer records the entry (store.MarkSignIn); the event ID is the sign-in's
// session ID, so a Cognito retry of Verify sends one message. Create one with NewNewMethod; it is
// safe for concurrent use.
type NewMethod struct {
	n  Notifier
	st SeenStore
}

var _ triggers.SuccessHook = (*NewMethod)(nil)

// NewNewMethod returns a NewMethod recording in st and sending through n.
func NewNewMethod(n Notifier, st SeenStore) (*NewMethod, error) {
	if n == nil || st == nil {
		return nil, errors.New("notifyhook: NewMethod needs a notifier and a store")
	}
	return &NewMethod{n: n, st: st}, nil
}

// Entry is what the seen set records for an accepted answer: the method, or for a device key
// "device_key:<key ID>" (the ID from the answer, which Verify has just accepted).
func Entry(req triggers.CheckRequest) string {
	if req.Method == authflow.DeviceKey {
		if a, err := keyauth.DecodeAnswer(req.Answer); err == nil {
			return string(authflow.DeviceKey) + ":" + a.KeyID
		}
	}
	return string(req.Method)
}

// Succeeded records the sign-in's entry for the user (by sub) and notifies when it is new for a
// returning user. A user without a sub is skipped; a store failure is an error (Verify logs it;
// the sign-in stands, and nothing is notified).
func (h *NewMethod) Succeeded(ctx context.Context, req triggers.CheckRequest) error {
	if h == nil || req.UserNotFound || req.Key == nil {
		return nil
	}
	owner := req.UserAttributes["sub"]
	if owner == "" {
		return nil
	}
	added, returning, err := h.st.MarkSignIn(ctx, owner, Entry(req))
	if err != nil {
		return fmt.Errorf("notifyhook: record the sign-in method: %w", err)
	}
	if !added || !returning {
		return nil
	}
	h.n.Notify(ctx, req.Key, event(notify.NewMethodSignIn, req, req.Challenge.SessionID))
	return nil
}

// event is the notification of kind k about req's user and method, with the event ID id.
func event(k notify.Kind, req triggers.CheckRequest, id string) notify.Event {
	return notify.Event{
		Kind:       k,
		UserPoolID: req.UserPoolID,
		UserName:   req.UserName,
		Attributes: req.UserAttributes,
		Detail:     map[string]string{notify.DetailMethod: string(req.Method)},
		ID:         id,
	}
}
