package awsmock_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/infra/local/awsmock"
	"github.com/passwordless-go/cognito/infra/local/syncbuf"
)

// entry is a PutEventsRequestEntry as the SDKs marshal it (awsJson1.1: absent members omitted,
// Time in epoch seconds).
type entry struct {
	Source       string   `json:"Source,omitempty"`
	DetailType   string   `json:"DetailType,omitempty"`
	Detail       string   `json:"Detail,omitempty"`
	EventBusName string   `json:"EventBusName,omitempty"`
	Resources    []string `json:"Resources,omitempty"`
	Time         *float64 `json:"Time,omitempty"`
}

type putEventsOut struct {
	FailedEntryCount int
	Entries          []struct{ EventId, ErrorCode, ErrorMessage string }
	Type             string `json:"__type"`
	Message          string `json:"message"`
}

func goodEntry(detail string) entry {
	return entry{Source: "passwordless", DetailType: "sign_in.succeeded", Detail: detail}
}

// putEvents sends a signed-looking PutEvents request (the mock checks no signature) and returns
// the status and the decoded answer.
func putEvents(t *testing.T, ctx context.Context, url string, body any) (int, putEventsOut, error) {
	t.Helper()
	b, ok := body.(string) // a raw body
	if !ok {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		b = string(raw)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/", strings.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "AWSEvents.PutEvents")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20300506/eu-west-1/events/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, putEventsOut{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out putEventsOut
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("PutEvents answer not JSON (%d): %q", resp.StatusCode, raw)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Errorf("Content-Type %q, want application/x-amz-json-1.1", ct)
	}
	return resp.StatusCode, out, nil
}

func mustPut(t *testing.T, url string, entries ...entry) (int, putEventsOut) {
	t.Helper()
	status, out, err := putEvents(t, t.Context(), url, map[string]any{"Entries": entries})
	if err != nil {
		t.Fatal(err)
	}
	return status, out
}

// TestPutEventsCaptured: entries EventBridge takes are answered with an EventId each, in order,
// and captured with their bus (default when omitted), source, detail-type, detail, resources and
// time; WaitEvent and OnEvent see them.
func TestPutEventsCaptured(t *testing.T) {
	e := startRead(t)
	var mu sync.Mutex
	var pushed []awsmock.Event
	e.srv.OnEvent(func(ev awsmock.Event) { mu.Lock(); pushed = append(pushed, ev); mu.Unlock() })

	at := float64(clockTime.Add(-time.Minute).Unix()) + 0.5
	busARN := "arn:aws:events:eu-west-1:123456789012:event-bus/audit"
	status, out := mustPut(t, e.srv.URL(),
		goodEntry(`{"version":"1","type":"sign_in.succeeded"}`),
		entry{Source: "passwordless", DetailType: "account.locked", Detail: ` {"version":"1"}`, EventBusName: busARN,
			Resources: []string{"arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_x"}, Time: &at})
	if status != http.StatusOK || out.FailedEntryCount != 0 || len(out.Entries) != 2 {
		t.Fatalf("PutEvents: %d %+v", status, out)
	}
	evs := e.srv.Events()
	if len(evs) != 2 {
		t.Fatalf("captured %d events, want 2", len(evs))
	}
	a, b := evs[0], evs[1]
	if a.Bus != "default" || a.Source != "passwordless" || a.DetailType != "sign_in.succeeded" ||
		a.Detail != `{"version":"1","type":"sign_in.succeeded"}` || !a.Time.Equal(clockTime) || !a.At.Equal(clockTime) ||
		a.EventID != out.Entries[0].EventId || a.EventID == "" {
		t.Errorf("first event %+v (answer %+v)", a, out.Entries[0])
	}
	if b.Bus != busARN || b.DetailType != "account.locked" || len(b.Resources) != 1 ||
		!b.Time.Equal(clockTime.Add(-time.Minute).Add(500*time.Millisecond)) || b.EventID != out.Entries[1].EventId {
		t.Errorf("second event %+v", b)
	}
	if d, err := a.DetailMap(); err != nil || d["type"] != "sign_in.succeeded" {
		t.Errorf("DetailMap %v %v", d, err)
	}
	if got := e.srv.Calls()["events.PutEvents"]; got != 1 {
		t.Errorf("calls %v", e.srv.Calls())
	}
	mu.Lock()
	if len(pushed) != 2 || pushed[1].EventID != b.EventID {
		t.Errorf("OnEvent saw %+v", pushed)
	}
	mu.Unlock()

	// WaitEvent returns a captured event at once and waits for a later one.
	if ev, err := e.srv.WaitEvent(t.Context(), 2); err != nil || ev.EventID != b.EventID {
		t.Fatalf("WaitEvent(2): %+v %v", ev, err)
	}
	got := make(chan awsmock.Event, 1)
	go func() {
		ev, err := e.srv.WaitEvent(context.Background(), 3)
		if err != nil {
			t.Error(err)
		}
		got <- ev
	}()
	mustPut(t, e.srv.URL(), goodEntry(`{"n":3}`))
	if ev := <-got; ev.Detail != `{"n":3}` {
		t.Errorf("WaitEvent(3) = %+v", ev)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := e.srv.WaitEvent(ctx, 4); err == nil {
		t.Error("WaitEvent(4) returned without a fourth event")
	}
	e.srv.ClearEvents()
	if n := len(e.srv.Events()); n != 0 {
		t.Errorf("after ClearEvents: %d events", n)
	}
}

// TestPutEventsEntryValidation: each entry is checked as EventBridge checks it; a failing entry
// gets ErrorCode and ErrorMessage and is not captured, the others in the request are taken.
func TestPutEventsEntryValidation(t *testing.T) {
	e := startRead(t)
	long := strings.Repeat("x", awsmock.MaxDetailTypeLength+1)
	cases := []struct {
		name string
		bad  entry
		code string
	}{
		{"no source", entry{DetailType: "t", Detail: `{}`}, "InvalidArgument"},
		{"no detail-type", entry{Source: "s", Detail: `{}`}, "InvalidArgument"},
		{"no detail", entry{Source: "s", DetailType: "t"}, "InvalidArgument"},
		{"detail-type over 128 characters", entry{Source: "s", DetailType: long, Detail: `{}`}, "InvalidArgument"},
		{"detail not JSON", entry{Source: "s", DetailType: "t", Detail: `{"a":`}, "MalformedDetail"},
		{"detail an array", entry{Source: "s", DetailType: "t", Detail: `[{"a":1}]`}, "MalformedDetail"},
		{"detail a string", entry{Source: "s", DetailType: "t", Detail: `"x"`}, "MalformedDetail"},
		{"detail with trailing data", entry{Source: "s", DetailType: "t", Detail: `{} {}`}, "MalformedDetail"},
		{"aws. source", entry{Source: "aws.cognito", DetailType: "t", Detail: `{}`}, "NotAuthorizedForSourceException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.srv.ClearEvents()
			status, out := mustPut(t, e.srv.URL(), goodEntry(`{"i":0}`), tc.bad, goodEntry(`{"i":2}`))
			if status != http.StatusOK || out.FailedEntryCount != 1 || len(out.Entries) != 3 {
				t.Fatalf("PutEvents: %d %+v", status, out)
			}
			if r := out.Entries[1]; r.ErrorCode != tc.code || r.ErrorMessage == "" || r.EventId != "" {
				t.Errorf("bad entry's result %+v, want ErrorCode %s", r, tc.code)
			}
			if out.Entries[0].EventId == "" || out.Entries[2].EventId == "" {
				t.Errorf("good entries' results %+v", out.Entries)
			}
			evs := e.srv.Events()
			if len(evs) != 2 || evs[0].Detail != `{"i":0}` || evs[1].Detail != `{"i":2}` {
				t.Errorf("captured %+v, want the two good entries", evs)
			}
		})
	}
	// A DetailType of exactly 128 characters (multi-byte ones count as one) is taken.
	status, out := mustPut(t, e.srv.URL(), entry{Source: "s", DetailType: strings.Repeat("é", awsmock.MaxDetailTypeLength), Detail: `{}`})
	if status != http.StatusOK || out.FailedEntryCount != 0 {
		t.Errorf("128-character detail-type: %d %+v", status, out)
	}
}

// TestPutEventsRequestValidation: requests EventBridge refuses as a whole (400
// ValidationException) capture nothing; the limits themselves are accepted.
func TestPutEventsRequestValidation(t *testing.T) {
	e := startRead(t)
	many := func(n int) []entry {
		out := make([]entry, n)
		for i := range out {
			out[i] = goodEntry(`{}`)
		}
		return out
	}
	// Two entries whose sizes add up to exactly n bytes (Source, DetailType and Detail counted
	// in UTF-8 bytes, Time as 14; "ü" is two bytes).
	sized := func(n int) []entry {
		at := 1.0
		b := entry{Source: "s", DetailType: "t", Detail: `{"p":"` + strings.Repeat("ü", 1000) + `"}`}
		a := entry{Source: "s", DetailType: "t", Time: &at}
		pad := n - size([]entry{a, b}) - len(`{"p":""}`)
		a.Detail = `{"p":"` + strings.Repeat("a", pad) + `"}`
		return []entry{a, b}
	}
	if got := sized(awsmock.MaxPutEventsBytes); size(got) != awsmock.MaxPutEventsBytes {
		t.Fatalf("test helper: sized(%d) is %d bytes", awsmock.MaxPutEventsBytes, size(got))
	}
	cases := []struct {
		name   string
		body   any
		status int
		typ    string
	}{
		{"no entries member", map[string]any{}, 400, "ValidationException"},
		{"zero entries", map[string]any{"Entries": []entry{}}, 400, "ValidationException"},
		{"eleven entries", map[string]any{"Entries": many(11)}, 400, "ValidationException"},
		{"over 256 KB", map[string]any{"Entries": sized(awsmock.MaxPutEventsBytes + 1)}, 400, "ValidationException"},
		{"no complete entry", map[string]any{"Entries": []entry{{Source: "s"}, {DetailType: "t", Detail: `{}`}}}, 400, "ValidationException"},
		{"not JSON", "{", 400, "SerializationException"},
		{"ten entries", map[string]any{"Entries": many(10)}, 200, ""},
		{"exactly 256 KB", map[string]any{"Entries": sized(awsmock.MaxPutEventsBytes)}, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.srv.ClearEvents()
			status, out, err := putEvents(t, t.Context(), e.srv.URL(), tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if status != tc.status || out.Type != tc.typ {
				t.Fatalf("status %d type %q (%s), want %d %q", status, out.Type, out.Message, tc.status, tc.typ)
			}
			if tc.status != 200 && len(e.srv.Events()) != 0 {
				t.Errorf("a refused request captured %d events", len(e.srv.Events()))
			}
			if tc.status == 200 && (out.FailedEntryCount != 0 || len(e.srv.Events()) != len(out.Entries)) {
				t.Errorf("accepted request: %+v, captured %d", out, len(e.srv.Events()))
			}
		})
	}
}

func size(es []entry) int {
	n := 0
	for _, e := range es {
		n += len(e.Source) + len(e.DetailType) + len(e.Detail)
		if e.Time != nil {
			n += 14
		}
		for _, r := range e.Resources {
			n += len(r)
		}
	}
	return n
}

// TestPutEventsFaults: the faults a test injects to prove that a slow or failing EventBridge
// never blocks a sign-in: errors as EventBridge sends them, failed entries, and a hang that only
// the client's own timeout ends. Nothing faulted is captured; every call is counted.
func TestPutEventsFaults(t *testing.T) {
	e := startRead(t)
	url := e.srv.URL()
	for _, tc := range []struct {
		kind   awsmock.FaultKind
		status int
		typ    string
	}{
		{awsmock.Throttle, 400, "ThrottlingException"},
		{awsmock.ServerError, 500, "InternalException"},
		{awsmock.AccessDenied, 400, "AccessDeniedException"},
	} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			e.srv.Inject(awsmock.Fault{Service: awsmock.ServiceEvents, Operation: "PutEvents", Kind: tc.kind, Count: 1})
			status, out := mustPut(t, url, goodEntry(`{}`))
			if status != tc.status || out.Type != tc.typ {
				t.Fatalf("%d %q %q, want %d %s", status, out.Type, out.Message, tc.status, tc.typ)
			}
			if tc.kind == awsmock.AccessDenied && !strings.Contains(out.Message, "events:PutEvents") {
				t.Errorf("AccessDenied message %q does not name events:PutEvents", out.Message)
			}
			if n := len(e.srv.Events()); n != 0 {
				t.Errorf("captured %d events", n)
			}
			// Count 1: the next call is served.
			if status, out := mustPut(t, url, goodEntry(`{}`)); status != 200 || out.FailedEntryCount != 0 {
				t.Errorf("after the fault: %d %+v", status, out)
			}
			e.srv.ClearEvents()
		})
	}

	t.Run("FailEntries", func(t *testing.T) {
		e.srv.Inject(awsmock.Fault{Service: "events", Kind: awsmock.FailEntries, Count: 1})
		status, out := mustPut(t, url, goodEntry(`{}`), goodEntry(`{}`), entry{Source: "s"})
		if status != 200 || out.FailedEntryCount != 3 || len(out.Entries) != 3 {
			t.Fatalf("%d %+v", status, out)
		}
		for i, r := range out.Entries[:2] {
			if r.ErrorCode != "InternalFailure" || r.EventId != "" {
				t.Errorf("entry %d: %+v", i, r)
			}
		}
		if out.Entries[2].ErrorCode != "InvalidArgument" {
			t.Errorf("an invalid entry stays InvalidArgument: %+v", out.Entries[2])
		}
		if n := len(e.srv.Events()); n != 0 {
			t.Errorf("captured %d events", n)
		}
	})

	t.Run("FailEntries on another service is a server error", func(t *testing.T) {
		e.srv.Inject(awsmock.Fault{Service: "sts", Kind: awsmock.FailEntries, Count: 1})
		resp, _ := rawPost(t, url+"/", "", "application/x-www-form-urlencoded", "Action=GetCallerIdentity&Version=2011-06-15")
		if resp.StatusCode != 500 {
			t.Errorf("status %d, want 500", resp.StatusCode)
		}
	})

	t.Run("Hang", func(t *testing.T) {
		e.srv.Inject(awsmock.Fault{Service: "events", Kind: awsmock.Hang, Count: 1})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		if _, _, err := putEvents(t, ctx, url, map[string]any{"Entries": []entry{goodEntry(`{}`)}}); err == nil {
			t.Fatal("a hung PutEvents answered")
		}
		if n := len(e.srv.Events()); n != 0 {
			t.Errorf("captured %d events", n)
		}
	})

	t.Run("Latency", func(t *testing.T) {
		e.srv.Inject(awsmock.Fault{Service: "events", Kind: awsmock.Latency, Delay: 10 * time.Millisecond, Count: 1})
		if status, out := mustPut(t, url, goodEntry(`{}`)); status != 200 || out.FailedEntryCount != 0 || len(e.srv.Events()) != 1 {
			t.Fatalf("%d %+v", status, out)
		}
	})
	if got := e.srv.Calls()["events.PutEvents"]; got != 9 {
		t.Errorf("events.PutEvents counted %d times, want 9 (3 errors and 3 calls after them, FailEntries, Hang, Latency)", got)
	}
}

// TestEventsOtherOperations: EventBridge operations other than PutEvents are refused and logged.
func TestEventsOtherOperations(t *testing.T) {
	logs := &syncbuf.Buffer{}
	srv, err := awsmock.Start(awsmock.Options{NoDynamoDB: true, Log: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	resp, _ := rawPost(t, srv.URL()+"/", "AWSEvents.PutRule", "application/x-amz-json-1.1", `{"Name":"r"}`)
	if resp.StatusCode != 400 || srv.Calls()["events.PutRule"] != 1 || !strings.Contains(logs.String(), "AWSEvents.PutRule") {
		t.Fatalf("PutRule: %d, calls %v, log %q", resp.StatusCode, srv.Calls(), logs.String())
	}
}
