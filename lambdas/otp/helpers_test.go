package otp_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

const (
	poolID    = "eu-west-1_Ab12Cd34E"
	clientID  = "4f3k2j1h0g9f8e7d6c5b4a3210"
	userName  = "7d9a3c1e-0b6f-4e2a-9c55-3f1e2d4b6a80"
	sid       = "q3Vx-_9aZk0bT1c2D3e4Fg"
	sid2      = "Zz9y8X7w6V5u4T3s2R1q0P"
	email     = "Alice.Liddell@Example.com"
	emailNorm = "alice.liddell@example.com"
	phone     = "+447400123456" // a GB mobile
	sender    = "Example <no-reply@example.com>"
)

// Deployment keys of the tests: testKey by default, otherKey for a second deployment.
var (
	testKey  = keyed.MustStatic("test deployment secret, 32 bytes or more!").K
	otherKey = keyed.MustStatic("another deployment's secret, 32+ bytes!!").K
)

// t0 is the start of a 24 h send window, so tests do not cross window boundaries by accident.
var t0 = time.Unix(1_800_000_000, 0).Truncate(24 * time.Hour).Add(time.Hour)

// memStore is an in-memory otp.Store with the same semantics as store.Store (fixed windows
// aligned to the epoch, conditional create, send schedules).
type memStore struct {
	mu        sync.Mutex
	now       func() time.Time
	otps      map[string]store.OTPRecord
	counts    map[string]int
	keys      []string // AllowSend keys, in call order
	createErr error
	allowErr  error
	allowAll  bool
	creates   int

	schedules map[string]*memSchedule
	sendKeys  []string // RecordSend keys, in call order
	reads     int      // ReadSendSchedule calls
	resets    [][]string
	sendErr   error
	creds     map[string][2]int // owner -> device keys, passkeys
	credReads []string
	credErr   error
	resetErr  error
	unlimited bool // RecordSend always allows (benchmarks)
}

type memSchedule struct{ n, last, day, dn int64 }

func newMemStore(now func() time.Time) *memStore {
	return &memStore{now: now, otps: map[string]store.OTPRecord{}, counts: map[string]int{},
		schedules: map[string]*memSchedule{}, creds: map[string][2]int{}}
}

// state returns the schedule of key as store.Store.ReadSendSchedule would.
func (s *memStore) state(key string) store.SendState {
	st, ok := s.schedules[key]
	if !ok || st.last+int64(store.SendWindow/time.Second) <= s.now().Unix() {
		return store.SendState{Exists: ok}
	}
	return store.SendState{Exists: true, Count: st.n, Last: st.last, WindowStart: st.day, WindowCount: st.dn}
}

func (s *memStore) ReadSendSchedule(_ context.Context, key string) (store.SendState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.sendErr != nil {
		return store.SendState{}, s.sendErr
	}
	return s.state(key), nil
}

// RecordSend mirrors store.Store.RecordSend. It decides on the current schedule, whatever the
// state passed (as the store does after losing a race).
func (s *memStore) RecordSend(_ context.Context, key string, sc store.SendSchedule, _ store.SendState) (store.SendDecision, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sendKeys = append(s.sendKeys, key)
	if s.sendErr != nil {
		return store.SendDecision{}, s.sendErr
	}
	if err := sc.Check(); err != nil || key == "" {
		return store.SendDecision{}, store.ErrInvalidArgument
	}
	if s.unlimited {
		return store.SendDecision{Allowed: true}, nil
	}
	now := s.now()
	st := s.state(key)
	if w := st.Wait(now, sc); w > 0 {
		return store.SendDecision{Wait: w}, nil
	}
	const window = int64(store.SendWindow / time.Second)
	n := &memSchedule{n: st.Count + 1, last: now.Unix(), day: st.WindowStart, dn: st.WindowCount + 1}
	if st.Count == 0 || st.WindowStart+window <= now.Unix() {
		n.day, n.dn = now.Unix(), 1
	}
	s.schedules[key] = n
	ns := store.SendState{Exists: true, Count: n.n, Last: n.last, WindowStart: n.day, WindowCount: n.dn}
	return store.SendDecision{Allowed: true, Wait: ns.Wait(now, sc)}, nil
}

func (s *memStore) ResetSends(_ context.Context, keys ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resets = append(s.resets, keys)
	if s.resetErr != nil {
		return s.resetErr
	}
	for _, k := range keys {
		delete(s.schedules, k)
	}
	return nil
}

func (s *memStore) CredentialCounts(_ context.Context, owner string) (int, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.credReads = append(s.credReads, owner)
	if s.credErr != nil {
		return 0, 0, s.credErr
	}
	c := s.creds[owner]
	return c[0], c[1], nil
}

func (s *memStore) CreateOTP(_ context.Context, r store.OTPRecord) (store.OTPRecord, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creates++
	if s.createErr != nil {
		return store.OTPRecord{}, false, s.createErr
	}
	if r.SessionID == "" || len(r.Salt) == 0 || len(r.Hash) == 0 || r.Method == "" || r.ExpiresAt.IsZero() {
		return store.OTPRecord{}, false, store.ErrInvalidArgument
	}
	k := r.SessionID + "#" + strconv.Itoa(r.Generation)
	if old, ok := s.otps[k]; ok {
		return old, false, nil
	}
	r.ExpiresAt = time.UnixMilli(r.ExpiresAt.UnixMilli()).UTC()
	s.otps[k] = r
	return r, true, nil
}

func (s *memStore) GetOTP(_ context.Context, sessionID string, generation int) (store.OTPRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.otps[sessionID+"#"+strconv.Itoa(generation)]
	if !ok {
		return store.OTPRecord{}, store.ErrNotFound
	}
	return r, nil
}

func (s *memStore) AllowSend(_ context.Context, key string, limits ...store.Limit) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, key)
	if s.allowErr != nil {
		return false, s.allowErr
	}
	if s.allowAll {
		return true, nil
	}
	if len(limits) == 0 {
		return false, store.ErrInvalidArgument
	}
	now := s.now().Unix()
	var ks []string
	for _, l := range limits {
		secs := int64(l.Window / time.Second)
		k := fmt.Sprintf("%s|%d|%d", key, secs, now-now%secs)
		if s.counts[k] >= l.Max {
			return false, nil
		}
		ks = append(ks, k)
	}
	for _, k := range ks {
		s.counts[k]++
	}
	return true, nil
}

// recorder captures the inputs of one fake AWS call and answers them all with err, after delay.
type recorder[T any] struct {
	mu    sync.Mutex
	sent  []T
	err   error
	delay time.Duration
}

func (r *recorder[T]) record(in T) error {
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, in)
	return r.err
}

func (r *recorder[T]) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

// last returns the last input recorded, failing tb with "no <what> sent" when there is none.
func (r *recorder[T]) last(tb testing.TB, what string) T {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.sent) == 0 {
		tb.Fatalf("no %s sent", what)
	}
	return r.sent[len(r.sent)-1]
}

// fakeSES captures emails.
type fakeSES struct {
	recorder[*awsapi.SendEmailInput]
}

func (f *fakeSES) SendEmail(_ context.Context, in *awsapi.SendEmailInput) error {
	return f.record(in)
}

// fakeSNS captures SMS.
type fakeSNS struct {
	recorder[*awsapi.PublishInput]
}

func (f *fakeSNS) Publish(_ context.Context, in *awsapi.PublishInput) error { return f.record(in) }

// fakeCognito captures AdminUpdateUserAttributes calls.
type fakeCognito struct {
	recorder[*awsapi.AdminUpdateUserAttributesInput]
}

func (f *fakeCognito) AdminUpdateUserAttributes(_ context.Context, in *awsapi.AdminUpdateUserAttributesInput) error {
	return f.record(in)
}

// testAPIError has the methods of smithy.APIError, with a message that quotes the address, as
// SES and SNS messages can.
type testAPIError struct{ code, msg string }

func (e *testAPIError) Error() string        { return "api error " + e.code + ": " + e.msg }
func (e *testAPIError) ErrorCode() string    { return e.code }
func (e *testAPIError) ErrorMessage() string { return e.msg }

func apiError(code, msg string) error { return &testAPIError{code: code, msg: msg} }

// env is a fake environment.
type env struct {
	clock *storetest.Clock
	store *memStore
	ses   *fakeSES
	sns   *fakeSNS
	cog   *fakeCognito
	iss   *otp.Issuer
	chk   *otp.Checker
}

func newEnv(tb testing.TB, cfg otp.Config) *env {
	tb.Helper()
	e := &env{clock: storetest.NewClock(t0), ses: &fakeSES{}, sns: &fakeSNS{}, cog: &fakeCognito{}}
	e.store = newMemStore(e.clock.Now)
	if cfg.EmailFrom == "" {
		cfg.EmailFrom = sender
	}
	var err error
	e.iss, err = otp.NewIssuer(cfg, otp.IssuerDeps{Store: e.store, Email: e.ses, SMS: e.sns, Now: e.clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	e.chk, err = otp.NewChecker(cfg, otp.CheckerDeps{Verifier: e.cog, Now: e.clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func emailAttrs(verified bool) map[string]string {
	return map[string]string{"sub": userName, "email": email, "email_verified": strconv.FormatBool(verified)}
}

func phoneAttrs(number string, phoneVerified, emailVerified bool) map[string]string {
	return map[string]string{
		"sub": userName, "email": email, "email_verified": strconv.FormatBool(emailVerified),
		"phone_number": number, "phone_number_verified": strconv.FormatBool(phoneVerified),
	}
}

func challenge(session string, m authflow.Method, gen int, r authflow.Reason) authflow.Challenge {
	return authflow.Challenge{Kind: authflow.KindCode, SessionID: session, Reason: r, Method: m, Generation: gen}
}

func issueReq(m authflow.Method, gen int, attrs map[string]string) triggers.IssueRequest {
	return triggers.IssueRequest{
		Challenge: challenge(sid, m, gen, authflow.ReasonSelect),
		Caller: triggers.Caller{
			UserPoolID:     poolID,
			ClientID:       clientID,
			UserName:       userName,
			UserAttributes: attrs,
			Key:            testKey,
		},
	}
}

// checkReq answers the round issued by req with answer.
func checkReq(req triggers.IssueRequest, issued triggers.Issued, answer string) triggers.CheckRequest {
	private := req.Challenge.Private()
	maps.Copy(private, issued.Private)
	return triggers.CheckRequest{
		Challenge: req.Challenge,
		Method:    req.Challenge.Method,
		Private:   private,
		Answer:    answer,
		Caller: triggers.Caller{
			UserPoolID:     req.UserPoolID,
			ClientID:       req.ClientID,
			UserName:       req.UserName,
			UserAttributes: maps.Clone(req.UserAttributes),
			UserNotFound:   req.UserNotFound,
			Key:            req.Key,
		},
	}
}

var codeRE = regexp.MustCompile(`\b[0-9]{6,10}\b`)

// lastEmailCode returns the code in the last email's text and HTML bodies (which must agree).
func (e *env) lastEmailCode(tb testing.TB) string {
	tb.Helper()
	in := e.ses.last(tb, "email")
	text := codeRE.FindString(in.Text)
	html := codeRE.FindString(in.HTML)
	if text == "" || text != html {
		tb.Fatalf("email bodies carry codes %q and %q", text, html)
	}
	return text
}

func (e *env) lastSMSCode(tb testing.TB) string {
	tb.Helper()
	code := codeRE.FindString(e.sns.last(tb, "SMS").Message)
	if code == "" {
		tb.Fatal("SMS carries no code")
	}
	return code
}

func (e *env) issue(tb testing.TB, req triggers.IssueRequest) triggers.Issued {
	tb.Helper()
	out, err := e.iss.Issue(context.Background(), req)
	if err != nil {
		tb.Fatalf("Issue: %v", err)
	}
	return out
}

// issueEmail issues round 1 of an email-code sign-in for a user whose address is verified or
// not, and returns the request, the round and the code the email carried.
func (e *env) issueEmail(tb testing.TB, verified bool) (triggers.IssueRequest, triggers.Issued, string) {
	tb.Helper()
	req := issueReq(authflow.EmailOTP, 1, emailAttrs(verified))
	out := e.issue(tb, req)
	return req, out, e.lastEmailCode(tb)
}

// issueQuick is issue with a context whose deadline leaves no room for the padding of answers
// that send nothing (the Issuer never pads into the last second before the deadline), for
// tests that issue many rounds.
func (e *env) issueQuick(tb testing.TB, req triggers.IssueRequest) triggers.Issued {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	out, err := e.iss.Issue(ctx, req)
	if err != nil {
		tb.Fatalf("Issue: %v", err)
	}
	return out
}

func (e *env) check(tb testing.TB, req triggers.CheckRequest) bool {
	tb.Helper()
	ok, err := e.chk.Check(context.Background(), req)
	if err != nil {
		tb.Fatalf("Check: %v", err)
	}
	return ok
}

// otherCode returns a well-formed code different from code.
func otherCode(code string) string {
	b := []byte(code)
	b[len(b)-1] = '0' + (b[len(b)-1]-'0'+1)%10
	return string(b)
}

// seeded returns a deterministic random reader.
func seeded(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

var errDown = errors.New("service unavailable")
