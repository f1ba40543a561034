package contact_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/contact"
	"github.com/passwordless-go/cognito/lambdas/internal/testkit"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
)

const (
	poolID = "eu-west-1_AbCdEfGhI"
	sender = "no-reply@example.com"
	// The users of the tests. Their subs are also their user names.
	attackerSub = "a1a1a1a1-0000-4000-8000-000000000001"
	victimSub   = "b2b2b2b2-0000-4000-8000-000000000002"
)

var t0 = time.Date(2030, 1, 2, 12, 0, 0, 0, time.UTC)

// inbox records what the senders were asked to send.
type inbox struct{ testkit.Mailbox }

var codeRE = regexp.MustCompile(`\b[0-9]{6,10}\b`)

// lastCode is the code of the last message to addr (an email address or phone number): what only
// the owner of addr can read.
func (b *inbox) lastCode(t *testing.T, addr string) string {
	t.Helper()
	var text string
	if m := b.EmailsTo(addr); len(m) > 0 {
		text = m[len(m)-1].Text
	} else if s := b.SMSTo(addr); len(s) > 0 {
		text = s[len(s)-1].Message
	}
	code := codeRE.FindString(text)
	if code == "" {
		t.Fatalf("no code was sent to the address")
	}
	return code
}

// cognito records AdminUpdateUserAttributes calls.
type cognito struct {
	mu    sync.Mutex
	calls []awsapi.AdminUpdateUserAttributesInput
	err   error
}

func (c *cognito) AdminUpdateUserAttributes(_ context.Context, in *awsapi.AdminUpdateUserAttributesInput) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, *in)
	return c.err
}

func (c *cognito) updates() []awsapi.AdminUpdateUserAttributesInput {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]awsapi.AdminUpdateUserAttributesInput(nil), c.calls...)
}

func (c *cognito) setErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
}

// fakeStore implements contact.Store with the conditional semantics of *store.Store (one lock
// stands in for DynamoDB's conditional writes).
type fakeStore struct {
	mu      sync.Mutex
	changes map[string]store.ContactChange
	sends   map[string]int // by key and window
	now     func() time.Time
	err     error // returned by every call when set
}

func newFakeStore(now func() time.Time) *fakeStore {
	return &fakeStore{changes: map[string]store.ContactChange{}, sends: map[string]int{}, now: now}
}

func (f *fakeStore) PutContactChange(_ context.Context, c store.ContactChange) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if _, ok := f.changes[c.ID]; ok {
		return store.ErrExists
	}
	c.Attempts = 0
	c.Salt, c.Digest = bytes.Clone(c.Salt), bytes.Clone(c.Digest)
	f.changes[c.ID] = c
	return nil
}

func (f *fakeStore) AttemptContactChange(_ context.Context, id, owner string, maxAttempts int) (store.ContactChange, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return store.ContactChange{}, f.err
	}
	c, ok := f.changes[id]
	if !ok || c.Owner != owner || !f.now().Before(c.ExpiresAt) || c.Attempts >= maxAttempts {
		return store.ContactChange{}, store.ErrNotFound
	}
	c.Attempts++
	f.changes[id] = c
	return c, nil
}

func (f *fakeStore) ConsumeContactChange(_ context.Context, id, owner string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	c, ok := f.changes[id]
	if !ok || c.Owner != owner {
		return store.ErrNotFound
	}
	delete(f.changes, id)
	return nil
}

func (f *fakeStore) AllowSend(_ context.Context, key string, limits ...store.Limit) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return false, f.err
	}
	if len(limits) == 0 {
		return false, store.ErrInvalidArgument
	}
	now := f.now().Unix()
	for _, l := range limits {
		w := int64(l.Window / time.Second)
		if f.sends[key+"|"+window(w, now)] >= l.Max {
			return false, nil
		}
	}
	for _, l := range limits {
		w := int64(l.Window / time.Second)
		f.sends[key+"|"+window(w, now)]++
	}
	return true, nil
}

func window(secs, now int64) string {
	return strconv.FormatInt(secs, 10) + "#" + strconv.FormatInt(now-now%secs, 10)
}

func (f *fakeStore) pending() []store.ContactChange {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.ContactChange
	for _, c := range f.changes {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// env is a Service with fakes around it.
type env struct {
	svc  *contact.Service
	st   contact.Store
	fake *fakeStore // nil when st is a real store
	box  *inbox
	idp  *cognito
	clk  *storetest.Clock
	logs *testkit.Buffer
}

// config is the Config of the tests: both attributes, defaults otherwise.
func config() contact.Config {
	return contact.Config{
		UserPoolID: poolID,
		Email:      true,
		Phone:      true,
		Code:       otp.Config{EmailFrom: sender, AppName: "Example"},
	}
}

func newEnv(t *testing.T, cfg contact.Config, opts ...func(*contact.Deps)) *env {
	t.Helper()
	clk := storetest.NewClock(t0)
	f := newFakeStore(clk.Now)
	e := newEnvWith(t, cfg, f, clk, opts...)
	e.fake = f
	return e
}

func newEnvWith(t *testing.T, cfg contact.Config, st contact.Store, clk *storetest.Clock, opts ...func(*contact.Deps)) *env {
	t.Helper()
	e := &env{st: st, box: &inbox{}, idp: &cognito{}, clk: clk, logs: &testkit.Buffer{}}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	deps := contact.Deps{
		Store: st,
		Keys:  keyed.MustStatic(testSecret),
		Users: e.idp,
		Email: e.box,
		SMS:   e.box,
		Now:   clk.Now,
		Log:   log,
	}
	for _, o := range opts {
		o(&deps)
	}
	svc, err := contact.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

func (e *env) logText() string { return e.logs.String() }

// caller is a user who signed in a minute ago with attrs.
func (e *env) caller(sub string, attrs map[string]string) contact.Caller {
	if attrs == nil {
		attrs = map[string]string{}
	}
	return contact.Caller{Sub: sub, Username: sub, AuthTime: e.clk.Now().Add(-time.Minute), Attributes: attrs}
}

// reply is a decoded answer.
type reply struct {
	status int
	body   map[string]any
}

func (r reply) str(name string) string {
	s, _ := r.body[name].(string)
	return s
}

func decode(t *testing.T, r contact.Reply) reply {
	t.Helper()
	b, err := json.Marshal(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := reply{status: r.Status}
	if err := json.Unmarshal(b, &out.body); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
	return out
}

func (e *env) start(t *testing.T, c contact.Caller, body string) reply {
	t.Helper()
	return decode(t, e.svc.Start(context.Background(), c, []byte(body)))
}

func (e *env) verify(t *testing.T, c contact.Caller, changeID, code string) reply {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"changeId": changeID, "code": code})
	return decode(t, e.svc.Verify(context.Background(), c, b))
}

// startOK starts a change and requires 202.
func (e *env) startOK(t *testing.T, c contact.Caller, body string) reply {
	t.Helper()
	r := e.start(t, c, body)
	if r.status != 202 {
		t.Fatalf("start %s: %d %v", body, r.status, r.body)
	}
	return r
}

// wrongCode returns a code of the right length other than code.
func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

// apiErr is an AWS service error with a code, as awsapi returns them.
func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: "the service's message quoting victim@example.com"}
}

var errBoom = errors.New("boom")

const testSecret = "test deployment secret, 32 bytes or more"
