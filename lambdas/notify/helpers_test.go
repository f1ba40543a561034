package notify_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/internal/testkit"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/store"
)

var testKey = keyed.MustStatic("notify-test-secret-0123456789abcdef").K

const (
	pool       = "eu-west-1_Test"
	userName   = "3f1c6a2e-8a2b-4c5d-9e0f-1a2b3c4d5e6f"
	email      = "alice.smith@example.org"
	oldEmail   = "old.alice@example.net"
	phoneNo    = "+447400123456"
	oldPhoneNo = "+447400654321"
)

// verifiedEmail are the attributes of a user with a verified email address only.
func verifiedEmail() map[string]string {
	return map[string]string{"sub": userName, "email": email, "email_verified": "true"}
}

// verifiedPhone are the attributes of a user with a verified phone number only.
func verifiedPhone() map[string]string {
	return map[string]string{"sub": userName, "phone_number": phoneNo, "phone_number_verified": "true"}
}

// fakeStore is an in-memory notify.Store with optional failures.
type fakeStore struct {
	mu       sync.Mutex
	claimed  map[string]bool
	counts   map[string]int
	claimErr error
	allowErr error
	claims   int
}

func newFakeStore() *fakeStore {
	return &fakeStore{claimed: map[string]bool{}, counts: map[string]int{}}
}

func (f *fakeStore) ClaimNotification(_ context.Context, id string, ttl time.Duration) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.claims++
	if f.claimErr != nil {
		return false, f.claimErr
	}
	if ttl <= 0 || id == "" {
		return false, store.ErrInvalidArgument
	}
	if f.claimed[id] {
		return false, nil
	}
	f.claimed[id] = true
	return true, nil
}

// AllowSend counts per key and allows while the count is within the smallest Max.
func (f *fakeStore) AllowSend(_ context.Context, key string, limits ...store.Limit) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.allowErr != nil {
		return false, f.allowErr
	}
	m := limits[0].Max
	for _, l := range limits {
		m = min(m, l.Max)
	}
	if f.counts[key] >= m {
		return false, nil
	}
	f.counts[key]++
	return true, nil
}

// fakeAWS records emails and SMS (testkit.Mailbox: SetErr fails every call); block (when not
// nil) makes every call wait for it to be closed, ignoring the context; honour makes calls wait
// for the context.
type fakeAWS struct {
	testkit.Mailbox
	mu      sync.Mutex
	block   chan struct{}
	honour  bool
	started chan struct{} // receives once per call, if not nil
	ctxs    []context.Context
}

func (f *fakeAWS) wait(ctx context.Context) error {
	f.mu.Lock()
	f.ctxs = append(f.ctxs, ctx)
	block, honour, started := f.block, f.honour, f.started
	f.mu.Unlock()
	if started != nil {
		started <- struct{}{}
	}
	if block != nil {
		<-block
	}
	if honour {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// SendEmail waits as told, then records in (or fails, testkit.Mailbox).
func (f *fakeAWS) SendEmail(ctx context.Context, in *awsapi.SendEmailInput) error {
	if err := f.wait(ctx); err != nil {
		return err
	}
	return f.Mailbox.SendEmail(ctx, in)
}

// Publish waits as told, then records in (or fails, testkit.Mailbox).
func (f *fakeAWS) Publish(ctx context.Context, in *awsapi.PublishInput) error {
	if err := f.wait(ctx); err != nil {
		return err
	}
	return f.Mailbox.Publish(ctx, in)
}

func (f *fakeAWS) sent() (emails []awsapi.SendEmailInput, sms []awsapi.PublishInput) {
	return f.Emails(), f.SMS()
}

// rejected is an SES error whose message quotes the address, as SES does.
var rejected = &smithy.GenericAPIError{Code: "MessageRejected", Message: "Email address is not verified. The following identities failed the check: " + email}

var errDynamo = errors.New("dynamodb unavailable: " + email)

var fixedNow = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)

type rig struct {
	s    *notify.Sender
	st   *fakeStore
	aws  *fakeAWS
	logs *testkit.Buffer
	cfg  notify.Config
	deps notify.Deps
}

// newRig returns a Sender with every kind enabled, an email sender, fakes and a debug log.
func newRig(t *testing.T, mod func(*notify.Config)) *rig {
	t.Helper()
	r := &rig{st: newFakeStore(), aws: &fakeAWS{}, logs: &testkit.Buffer{}}
	r.cfg = notify.Config{Events: notify.Kinds, Settings: delivery.Settings{EmailFrom: "Example <no-reply@example.com>", AppName: "Example"}}
	if mod != nil {
		mod(&r.cfg)
	}
	r.deps = notify.Deps{
		Store: r.st, Email: r.aws, SMS: r.aws,
		Log: slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now: func() time.Time { return fixedNow },
	}
	s, err := notify.New(r.cfg, r.deps)
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	return r
}
