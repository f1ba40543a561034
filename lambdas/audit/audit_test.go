package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/passwordless-go/cognito/lambdas/audit/audittest"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/metrics"
)

const bus = "arn:aws:events:eu-west-1:123456789012:event-bus/audit"

var testKey = keyed.MustStatic("0123456789abcdef0123456789abcdef-test").K

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// countPutter reports only a count (the Putter contract).
type countPutter func(ctx context.Context, entries []awsapi.EventEntry) (int, error)

func (f countPutter) PutEvents(ctx context.Context, entries []awsapi.EventEntry) (int, error) {
	return f(ctx, entries)
}

// resultsPutter also says which entries failed, as awsapi.Client does.
type resultsPutter func(ctx context.Context, entries []awsapi.EventEntry) ([]awsapi.EventResult, error)

func (f resultsPutter) PutEvents(ctx context.Context, entries []awsapi.EventEntry) (int, error) {
	res, err := f(ctx, entries)
	n := 0
	for _, r := range res {
		if r.ErrorCode != "" {
			n++
		}
	}
	return n, err
}

func (f resultsPutter) PutEventsResults(ctx context.Context, entries []awsapi.EventEntry) ([]awsapi.EventResult, error) {
	return f(ctx, entries)
}

// sink records what a Putter was given.
type sink struct {
	mu    sync.Mutex
	calls [][]awsapi.EventEntry
}

func (s *sink) put(_ context.Context, entries []awsapi.EventEntry) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, append([]awsapi.EventEntry(nil), entries...))
	return 0, nil
}

func (s *sink) entries() []awsapi.EventEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []awsapi.EventEntry
	for _, c := range s.calls {
		out = append(out, c...)
	}
	return out
}

// harness is a Publisher with a captured log and metrics.
type harness struct {
	p       *Publisher
	log     bytes.Buffer
	metrics bytes.Buffer
	m       *metrics.Recorder
}

func newHarness(t *testing.T, put Putter, vars map[string]string) *harness {
	t.Helper()
	h := &harness{}
	if vars == nil {
		vars = map[string]string{}
	}
	if vars[EnvEventBus] == "" {
		vars[EnvEventBus] = bus
	}
	h.m = metrics.New(&h.metrics, "Test")
	p, err := FromEnv(env(vars), put, slog.New(slog.NewJSONHandler(&h.log, nil)), h.m, "verify")
	if err != nil || p == nil {
		t.Fatalf("FromEnv: %v", err)
	}
	p.now = func() time.Time { return time.Date(2025, 3, 4, 5, 6, 7, 891_234_567, time.FixedZone("x", 3600)) }
	h.p = p
	return h
}

// logLines parses the JSON log.
func (h *harness) logLines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(h.log.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// undelivered returns the AuditUndelivered total the Recorder wrote.
func (h *harness) undelivered(t *testing.T) int {
	t.Helper()
	h.m.Flush()
	total := 0
	for _, l := range strings.Split(strings.TrimSpace(h.metrics.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if v, ok := m[metrics.AuditUndelivered].(float64); ok {
			total += int(v)
		}
	}
	h.metrics.Reset()
	return total
}

func ref(user string) string { return UserRef(testKey, "eu-west-1_AbC123", user) }

func TestUserRef(t *testing.T) {
	if got, want := ref("alice"), testKey.Ref("userref", "eu-west-1_AbC123", "alice"); got != want || !isUserRef(got) {
		t.Errorf("%q, want %q", got, want)
	}
	if UserRef(nil, "p", "u") != "" {
		t.Error("nil key")
	}
}

func TestFromEnv(t *testing.T) {
	put := countPutter(func(context.Context, []awsapi.EventEntry) (int, error) { return 0, nil })
	if p, err := FromEnv(env(nil), put, nil, nil, "verify"); p != nil || err != nil {
		t.Errorf("off: %v %v", p, err)
	}
	p, err := FromEnv(env(map[string]string{EnvEventBus: "audit-bus"}), put, nil, nil, "api")
	if err != nil || p.source != DefaultSource || p.timeout != DefaultTimeout || p.bus != "audit-bus" || p.function != "api" || p.log == nil {
		t.Fatalf("defaults: %+v %v", p, err)
	}
	p, err = FromEnv(env(map[string]string{EnvEventBus: bus, EnvSource: "com.example.auth", EnvTimeout: "2s"}), put, nil, nil, "verify")
	if err != nil || p.source != "com.example.auth" || p.timeout != 2*time.Second || p.bus != bus {
		t.Fatalf("set: %+v %v", p, err)
	}
	for name, c := range map[string]struct {
		vars     map[string]string
		put      Putter
		function string
	}{
		"bus chars":      {map[string]string{EnvEventBus: "a b"}, put, "verify"},
		"bus arn":        {map[string]string{EnvEventBus: "arn:aws:sns:eu-west-1:123456789012:event-bus/x"}, put, "verify"},
		"bus account":    {map[string]string{EnvEventBus: "arn:aws:events:eu-west-1:12345:event-bus/x"}, put, "verify"},
		"bus resource":   {map[string]string{EnvEventBus: "arn:aws:events:eu-west-1:123456789012:rule/x"}, put, "verify"},
		"source aws.":    {map[string]string{EnvEventBus: "b", EnvSource: "aws.cognito"}, put, "verify"},
		"source chars":   {map[string]string{EnvEventBus: "b", EnvSource: "a/b"}, put, "verify"},
		"timeout parse":  {map[string]string{EnvEventBus: "b", EnvTimeout: "300"}, put, "verify"},
		"timeout short":  {map[string]string{EnvEventBus: "b", EnvTimeout: "9ms"}, put, "verify"},
		"timeout long":   {map[string]string{EnvEventBus: "b", EnvTimeout: "2001ms"}, put, "verify"},
		"function":       {map[string]string{EnvEventBus: "b"}, put, "Verify!"},
		"function empty": {map[string]string{EnvEventBus: "b"}, put, ""},
		"no putter":      {map[string]string{EnvEventBus: "b"}, nil, "verify"},
	} {
		if p, err := FromEnv(env(c.vars), c.put, nil, nil, c.function); err == nil || p != nil {
			t.Errorf("%s accepted", name)
		}
	}
	for _, d := range []string{"10ms", "2s", "300ms"} {
		if _, err := FromEnv(env(map[string]string{EnvEventBus: "b", EnvTimeout: d}), put, nil, nil, "verify"); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
}

// TestDetail: the entry and the detail schema, member by member.
func TestDetail(t *testing.T) {
	var s sink
	h := newHarness(t, countPutter(s.put), map[string]string{EnvSource: "com.example.auth"})
	user := ref("alice")
	h.p.Add(Event{Type: SignInFailed, User: user, UserPoolID: "eu-west-1_AbC123", Method: metrics.MethodSMSOTP, Reason: metrics.ReasonWrongAnswer})
	h.p.Add(Event{Type: DeviceKeysRevoked, User: user, Count: 3})
	h.p.Add(Event{Type: ContactChanged, User: user, Attribute: AttributePhone, Count: -1})
	h.p.Flush(context.Background())
	got := s.entries()
	want := []awsapi.EventEntry{
		{Source: "com.example.auth", DetailType: "sign_in.failed", EventBusName: bus,
			Detail: `{"version":"1","type":"sign_in.failed","time":"2025-03-04T04:06:07.891Z","function":"verify","userPoolId":"eu-west-1_AbC123","user":"` + user + `","method":"sms_otp","reason":"wrong_answer"}`},
		{Source: "com.example.auth", DetailType: "recovery.device_keys_revoked", EventBusName: bus,
			Detail: `{"version":"1","type":"recovery.device_keys_revoked","time":"2025-03-04T04:06:07.891Z","function":"verify","user":"` + user + `","count":3}`},
		{Source: "com.example.auth", DetailType: "contact.changed", EventBusName: bus,
			Detail: `{"version":"1","type":"contact.changed","time":"2025-03-04T04:06:07.891Z","function":"verify","user":"` + user + `","attribute":"phone_number"}`},
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries", len(got))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d\n got %+v\nwant %+v", i, got[i], want[i])
		}
		// The schema, strictly: no other member, the right types.
		d, err := audittest.DecodeDetail(got[i].Detail)
		if err != nil {
			t.Errorf("entry %d: %v", i, err)
		}
		if _, err := time.Parse(time.RFC3339, d.Time); err != nil || d.Version != SchemaVersion {
			t.Errorf("entry %d: time %q version %q", i, d.Time, d.Version)
		}
	}
	for _, ty := range Types() {
		h.p.Add(Event{Type: ty, User: user})
	}
	h.p.Flush(context.Background())
	if n := len(s.entries()); n != 3+len(Types()) {
		t.Errorf("%d entries after adding every type", n)
	}
}

// Values that identify a person and must never reach the bus.
var pii = []string{"alice@example.com", "+447700900123", "123456", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "Alice Example"}

// TestHostileEvent (attack): an address, phone number, code or key in Method, Reason, Attribute
// or UserPoolID is recorded as "other" (or left out); a User that is not a keyed reference drops
// the event, and the log line of the drop does not hold the value.
func TestHostileEvent(t *testing.T) {
	var s sink
	h := newHarness(t, countPutter(s.put), nil)
	for _, v := range pii {
		h.p.Add(Event{Type: ContactChanged, User: ref("alice"), UserPoolID: v, Method: v, Reason: v, Attribute: v})
		h.p.Add(Event{Type: SignInFailed, User: v, Method: metrics.MethodEmailOTP})
		h.p.Add(Event{Type: Type(v), User: ref("alice")})
	}
	h.p.Add(Event{Type: SignInSucceeded, User: strings.ToUpper(ref("alice"))})
	h.p.Add(Event{Type: SignInSucceeded, User: ref("alice") + "0"})
	h.p.Flush(context.Background())
	got := s.entries()
	if len(got) != len(pii) {
		t.Errorf("%d entries, want %d (the others dropped)", len(got), len(pii))
	}
	for _, e := range got {
		for _, v := range pii {
			if strings.Contains(e.Detail, v) || strings.Contains(e.DetailType, v) {
				t.Errorf("%q reached the bus: %s", v, e.Detail)
			}
		}
		if !strings.Contains(e.Detail, `"method":"other","reason":"other","attribute":"other"`) || strings.Contains(e.Detail, "userPoolId") {
			t.Errorf("detail %s", e.Detail)
		}
	}
	lines := h.logLines(t)
	if len(lines) != 2*len(pii)+2 {
		t.Errorf("%d drop lines, want %d", len(lines), 2*len(pii)+2)
	}
	for _, l := range lines {
		if l["msg"] != "audit event dropped" {
			t.Errorf("log %v", l)
		}
	}
	for _, v := range pii {
		if strings.Contains(h.log.String(), v) {
			t.Errorf("the log holds %q", v)
		}
	}
}

// TestHungPutter: a Putter that blocks until its context ends is cut off by AUDIT_TIMEOUT (the
// context it is given carries that deadline), and every event is logged and counted.
func TestHungPutter(t *testing.T) {
	type seen struct {
		deadline time.Time
		hasDL    bool
		err      error
	}
	seenc := make(chan seen, 1)
	put := countPutter(func(ctx context.Context, entries []awsapi.EventEntry) (int, error) {
		dl, ok := ctx.Deadline()
		<-ctx.Done()
		seenc <- seen{dl, ok, ctx.Err()}
		return 0, ctx.Err()
	})
	h := newHarness(t, put, map[string]string{EnvTimeout: "20ms"})
	h.p.Add(Event{Type: SignInSucceeded, User: ref("a")})
	h.p.Add(Event{Type: AccountLocked, User: ref("b")})
	before := time.Now()
	h.p.Flush(context.Background())
	after := time.Now()
	s := <-seenc
	// Flush set the deadline to its start plus AUDIT_TIMEOUT (bounds from the clock, not a
	// measured duration).
	if !s.hasDL || s.deadline.Before(before.Add(20*time.Millisecond)) || s.deadline.After(after.Add(20*time.Millisecond)) {
		t.Errorf("the Putter's context deadline %v (flush from %v to %v)", s.deadline, before, after)
	}
	if !errors.Is(s.err, context.DeadlineExceeded) {
		t.Errorf("the Putter ended with %v, not the deadline", s.err)
	}
	checkUndelivered(t, h, 2, "timeout")
}

// TestHungPutterReturnsBeforeFlush: a context-aware Putter that records something as it
// returns after the deadline (as the metrics Transport records a dependency's latency) has
// returned before Flush does, so what it records belongs to this invocation's metrics.
func TestHungPutterReturnsBeforeFlush(t *testing.T) {
	var returned atomic.Bool
	put := countPutter(func(ctx context.Context, entries []awsapi.EventEntry) (int, error) {
		<-ctx.Done()
		returned.Store(true)
		return 0, ctx.Err()
	})
	h := newHarness(t, put, map[string]string{EnvTimeout: "10ms"})
	h.p.Add(Event{Type: SignInSucceeded, User: ref("a")})
	h.p.Flush(context.Background())
	if !returned.Load() {
		t.Error("Flush returned before the Putter did: what it records lands in the next invocation")
	}
	checkUndelivered(t, h, 1, "timeout")
}

// TestIgnoringPutter: a Putter that ignores its context entirely does not hold Flush.
func TestIgnoringPutter(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	put := countPutter(func(context.Context, []awsapi.EventEntry) (int, error) {
		<-release
		return 0, nil
	})
	h := newHarness(t, put, map[string]string{EnvTimeout: "10ms"})
	h.p.Add(Event{Type: SignInSucceeded, User: ref("a")})
	h.p.Flush(context.Background()) // returns: the test would hang otherwise
	checkUndelivered(t, h, 1, "timeout")
}

func checkUndelivered(t *testing.T, h *harness, n int, why string) {
	t.Helper()
	lines := h.logLines(t)
	if len(lines) != n {
		t.Fatalf("%d log lines, want %d: %s", len(lines), n, h.log.String())
	}
	for _, l := range lines {
		d, ok := l["detail"].(map[string]any)
		if l["msg"] != "audit event undelivered" || l["why"] != why || !ok || d["version"] != SchemaVersion || !isUserRef(fmt.Sprint(d["user"])) || l["detail_type"] != d["type"] {
			t.Errorf("log line %v", l)
		}
	}
	if got := h.undelivered(t); got != n {
		t.Errorf("AuditUndelivered %d, want %d", got, n)
	}
}

// TestFailingPutter: an error leaves every event of the call in the log, counted.
func TestFailingPutter(t *testing.T) {
	var calls int
	put := countPutter(func(context.Context, []awsapi.EventEntry) (int, error) {
		calls++
		return 0, errors.New("awsapi: events PutEvents: HTTP 400 AccessDeniedException")
	})
	h := newHarness(t, put, nil)
	for i := range 12 {
		h.p.Add(Event{Type: PasskeyAdded, User: ref(fmt.Sprint(i))})
	}
	h.p.Flush(context.Background())
	if calls != 2 {
		t.Errorf("%d calls", calls)
	}
	checkUndelivered(t, h, 12, "error")
}

// TestPartialFailure: with per-entry results only the refused entries are logged; with a count
// only, every entry of the call is logged and the count is what is counted.
func TestPartialFailure(t *testing.T) {
	put := resultsPutter(func(_ context.Context, entries []awsapi.EventEntry) ([]awsapi.EventResult, error) {
		res := make([]awsapi.EventResult, len(entries))
		for i := range res {
			res[i].EventID = "id"
			if strings.Contains(entries[i].Detail, ref("bad")) {
				res[i] = awsapi.EventResult{ErrorCode: "InternalFailure"}
			}
		}
		return res, nil
	})
	h := newHarness(t, put, nil)
	h.p.Add(Event{Type: SignInSucceeded, User: ref("ok1")})
	h.p.Add(Event{Type: SignInFailed, User: ref("bad")})
	h.p.Add(Event{Type: SignInSucceeded, User: ref("ok2")})
	h.p.Flush(context.Background())
	checkUndelivered(t, h, 1, "refused")
	if l := h.logLines(t)[0]; l["error"] != "InternalFailure" || l["detail"].(map[string]any)["user"] != ref("bad") {
		t.Errorf("logged %v", l)
	}

	counted := countPutter(func(context.Context, []awsapi.EventEntry) (int, error) { return 1, nil })
	h = newHarness(t, counted, nil)
	for _, u := range []string{"a", "b", "c"} {
		h.p.Add(Event{Type: SignInSucceeded, User: ref(u)})
	}
	h.p.Flush(context.Background())
	if n := len(h.logLines(t)); n != 3 {
		t.Errorf("%d lines, want all 3", n)
	}
	if got := h.undelivered(t); got != 1 {
		t.Errorf("AuditUndelivered %d, want 1", got)
	}
}

// TestBatches: more than 10 events go out 10 at a time, in order, once each.
func TestBatches(t *testing.T) {
	var s sink
	h := newHarness(t, countPutter(s.put), nil)
	for i := range 25 {
		h.p.Add(Event{Type: DeviceKeyAdded, User: ref(fmt.Sprint(i)), Count: i + 1})
	}
	h.p.Flush(context.Background())
	var sizes []int
	for _, c := range s.calls {
		sizes = append(sizes, len(c))
	}
	if fmt.Sprint(sizes) != "[10 10 5]" {
		t.Fatalf("batches %v", sizes)
	}
	for i, e := range s.entries() {
		if !strings.Contains(e.Detail, fmt.Sprintf(`"count":%d}`, i+1)) {
			t.Errorf("entry %d: %s", i, e.Detail)
		}
	}
	h.p.Flush(context.Background())
	if len(s.calls) != 3 {
		t.Error("a second Flush sent again")
	}
}

// TestAddDuringFlush: an Add while Flush is sending goes to the next Flush, not lost or doubled.
func TestAddDuringFlush(t *testing.T) {
	var s sink
	var p *Publisher
	first := true
	h := newHarness(t, countPutter(func(ctx context.Context, entries []awsapi.EventEntry) (int, error) {
		if first {
			first = false
			p.Add(Event{Type: PasskeyRemoved, User: ref("late")})
		}
		return s.put(ctx, entries)
	}), nil)
	p = h.p
	p.Add(Event{Type: PasskeyAdded, User: ref("early")})
	p.Flush(context.Background())
	if got := s.entries(); len(got) != 1 || got[0].DetailType != string(PasskeyAdded) {
		t.Fatalf("first flush %v", got)
	}
	p.Flush(context.Background())
	if got := s.entries(); len(got) != 2 || got[1].DetailType != string(PasskeyRemoved) {
		t.Fatalf("second flush %v", got)
	}
}

// TestConcurrentAdd: Adds from many goroutines, with Flushes between, deliver each event once.
func TestConcurrentAdd(t *testing.T) {
	var s sink
	h := newHarness(t, countPutter(s.put), nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				h.p.Add(Event{Type: SignInSucceeded, User: ref(fmt.Sprint(g, "/", i))})
				if i%30 == 0 {
					h.p.Flush(context.Background())
				}
			}
		})
	}
	wg.Wait()
	h.p.Flush(context.Background())
	seen := map[string]bool{}
	for _, e := range s.entries() {
		if seen[e.Detail] {
			t.Fatalf("sent twice: %s", e.Detail)
		}
		seen[e.Detail] = true
	}
	if len(seen) != 800 {
		t.Fatalf("%d events delivered, want 800", len(seen))
	}
	for _, c := range s.calls {
		if len(c) > awsapi.MaxEventEntries {
			t.Fatalf("a call of %d", len(c))
		}
	}
}

func TestNilPublisher(t *testing.T) {
	var p *Publisher
	p.Add(Event{Type: SignInSucceeded, User: ref("a")})
	p.Flush(context.Background())
	h := Wrap(func(context.Context, int) (int, error) { return 7, nil }, nil, nil)
	if v, err := h(context.Background(), 1); v != 7 || err != nil {
		t.Error(v, err)
	}
}

// TestWrap: events and metrics are flushed after the handler, also when it fails or panics, and
// its result is returned unchanged.
func TestWrap(t *testing.T) {
	var s sink
	h := newHarness(t, countPutter(s.put), nil)
	boom := errors.New("boom")
	handler := Wrap(func(ctx context.Context, in string) (string, error) {
		h.p.Add(Event{Type: SignInFailed, User: ref(in)})
		h.m.Count(metrics.SignInFailed, metrics.Dims{})
		if in == "panic" {
			panic("handler panic")
		}
		if len(s.entries()) != 0 || h.metrics.Len() != 0 {
			t.Error("flushed before the handler returned")
		}
		return "out:" + in, boom
	}, h.p, h.m)
	out, err := handler(context.Background(), "x")
	if out != "out:x" || err != boom {
		t.Errorf("%q %v", out, err)
	}
	if len(s.entries()) != 1 || !strings.Contains(h.metrics.String(), `"SignInFailed":1`) {
		t.Errorf("not flushed after an error: %d events, metrics %q", len(s.entries()), h.metrics.String())
	}
	h.metrics.Reset()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic was swallowed")
			}
		}()
		_, _ = handler(context.Background(), "panic")
	}()
	if len(s.entries()) != 2 || !strings.Contains(h.metrics.String(), `"SignInFailed":1`) {
		t.Errorf("not flushed after a panic: %d events", len(s.entries()))
	}
}

// TestCanceledContext: a handler context already done still leaves every event in the log.
func TestCanceledContext(t *testing.T) {
	var calls int
	h := newHarness(t, countPutter(func(context.Context, []awsapi.EventEntry) (int, error) { calls++; return 0, nil }), nil)
	h.p.Add(Event{Type: SignInSucceeded, User: ref("a")})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h.p.Flush(ctx)
	if calls != 0 {
		t.Errorf("%d calls with a canceled context", calls)
	}
	checkUndelivered(t, h, 1, "timeout")
}

// BenchmarkPublisherAdd: the cost of one Add on the sign-in path.
func BenchmarkPublisherAdd(b *testing.B) {
	p, err := FromEnv(env(map[string]string{EnvEventBus: bus}), countPutter(func(context.Context, []awsapi.EventEntry) (int, error) { return 0, nil }), slog.New(slog.DiscardHandler), nil, "verify")
	if err != nil {
		b.Fatal(err)
	}
	ev := Event{Type: SignInSucceeded, User: UserRef(testKey, "eu-west-1_AbC123", "alice"), UserPoolID: "eu-west-1_AbC123", Method: metrics.MethodPasskey}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Add(ev)
		if i++; i%10 == 0 {
			p.mu.Lock()
			p.pending = p.pending[:0]
			p.mu.Unlock()
		}
	}
}

// BenchmarkPublisherFlush: Add and Flush of the events of a typical invocation (one) to a Putter
// that answers at once.
func BenchmarkPublisherFlush(b *testing.B) {
	p, err := FromEnv(env(map[string]string{EnvEventBus: bus}), countPutter(func(context.Context, []awsapi.EventEntry) (int, error) { return 0, nil }), slog.New(slog.DiscardHandler), nil, "verify")
	if err != nil {
		b.Fatal(err)
	}
	ev := Event{Type: SignInSucceeded, User: UserRef(testKey, "eu-west-1_AbC123", "alice"), Method: metrics.MethodPasskey}
	b.ReportAllocs()
	for b.Loop() {
		p.Add(ev)
		p.Flush(context.Background())
	}
}

// TestWithAWSAPI: the Publisher through the real awsapi client and a metrics Transport against an
// EventBridge stand-in: a partial failure logs exactly the refused entry, and a server that never
// answers is cut off by AUDIT_TIMEOUT (the client's request context ends, which the server sees).
func TestWithAWSAPI(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	hang := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		if r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" || !strings.Contains(r.Header.Get("Authorization"), "/events/aws4_request") {
			t.Errorf("request %v", r.Header)
		}
		if strings.Contains(string(b), "hang") {
			<-r.Context().Done() // the client gave up
			hang <- struct{}{}
			return
		}
		_, _ = w.Write([]byte(`{"FailedEntryCount":1,"Entries":[{"EventId":"e1"},{"ErrorCode":"InternalFailure","ErrorMessage":"x"}]}`))
	}))
	defer srv.Close()
	h := &harness{}
	h.m = metrics.New(&h.metrics, "Test")
	client, err := awsapi.New(aws.Config{
		Region: "eu-west-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient:   h.m.Transport(srv.Client()),
		BaseEndpoint: aws.String(srv.URL),
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := FromEnv(env(map[string]string{EnvEventBus: bus, EnvTimeout: "50ms"}), client, slog.New(slog.NewJSONHandler(&h.log, nil)), h.m, "api")
	if err != nil {
		t.Fatal(err)
	}
	h.p = p
	p.Add(Event{Type: PasskeyAdded, User: ref("a"), Method: metrics.MethodPasskey})
	p.Add(Event{Type: PasskeyRemoved, User: ref("b"), Method: metrics.MethodPasskey})
	p.Flush(context.Background())
	lines := h.logLines(t)
	if len(lines) != 1 || lines[0]["detail_type"] != string(PasskeyRemoved) || lines[0]["error"] != "InternalFailure" {
		t.Fatalf("log %v", lines)
	}
	if len(bodies) != 1 || !strings.Contains(bodies[0], `"EventBusName":"`+bus+`"`) || !strings.Contains(bodies[0], `"DetailType":"passkey.added"`) {
		t.Errorf("request %v", bodies)
	}
	h.log.Reset()
	h.m.Flush()
	if !strings.Contains(h.metrics.String(), `"Dependency":"events","DependencyLatency":[`) || !strings.Contains(h.metrics.String(), `"AuditUndelivered":1`) {
		t.Errorf("metrics %s", h.metrics.String())
	}
	h.metrics.Reset()

	// UserPoolID carries the marker the server hangs on; it is a valid pool ID.
	p.Add(Event{Type: SignInSucceeded, User: ref("c"), UserPoolID: "eu-west-1_hang"})
	p.Flush(context.Background())
	<-hang // the server saw the request end: the deadline reached the transport
	checkUndelivered(t, h, 1, "timeout")
}

// TestFlushLeavesRoomBeforeTheDeadline: Lambda ends an invocation at its deadline, so Flush
// (after the handler answered) gives the Putter a deadline at least deadlineReserve before the
// invocation's, whatever AUDIT_TIMEOUT says; a sign-in answered near its deadline is never
// turned into a timeout by publishing. Bounds come from the clock, nothing is timed.
func TestFlushLeavesRoomBeforeTheDeadline(t *testing.T) {
	got := make(chan time.Time, 1)
	put := countPutter(func(ctx context.Context, entries []awsapi.EventEntry) (int, error) {
		dl, _ := ctx.Deadline()
		got <- dl
		return 0, nil
	})
	h := newHarness(t, put, map[string]string{EnvTimeout: "2s"})
	h.p.Add(Event{Type: SignInSucceeded, User: ref("a")})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	invocation, _ := ctx.Deadline()
	h.p.Flush(ctx)
	if dl := <-got; dl.After(invocation.Add(-deadlineReserve)) {
		t.Errorf("the Putter's deadline %v is within %v of the invocation's %v", dl, deadlineReserve, invocation)
	}
}

// TestFlushWithNoTimeLeft: an invocation whose deadline is closer than deadlineReserve makes no
// PutEvents call at all; its events are logged and counted as undelivered.
func TestFlushWithNoTimeLeft(t *testing.T) {
	put := countPutter(func(context.Context, []awsapi.EventEntry) (int, error) {
		t.Error("PutEvents called with no time left before the deadline")
		return 0, nil
	})
	h := newHarness(t, put, nil)
	h.p.Add(Event{Type: SignInSucceeded, User: ref("a")})
	h.p.Add(Event{Type: AccountLocked, User: ref("b")})
	ctx, cancel := context.WithTimeout(context.Background(), deadlineReserve/2)
	defer cancel()
	h.p.Flush(ctx)
	checkUndelivered(t, h, 2, "timeout")
}

// TestPanickingPutter: a panic in the PutEvents client (the signer, the timing transport) is
// recovered: Wrap returns the handler's answer and the events are logged as undelivered.
func TestPanickingPutter(t *testing.T) {
	put := countPutter(func(context.Context, []awsapi.EventEntry) (int, error) { panic("client bug") })
	h := newHarness(t, put, nil)
	handler := func(ctx context.Context, _ string) (string, error) {
		h.p.Add(Event{Type: SignInSucceeded, User: ref("a")})
		return "answer", nil
	}
	out, err := Wrap(handler, h.p, nil)(context.Background(), "ev")
	if out != "answer" || err != nil {
		t.Fatalf("Wrap returned %q, %v", out, err)
	}
	checkUndelivered(t, h, 1, "error")
	if strings.Contains(h.log.String(), "client bug") {
		t.Error("the panic value reached the log")
	}
}
