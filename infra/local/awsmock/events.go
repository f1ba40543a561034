package awsmock

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// EventBridge PutEvents (awsJson1.1, X-Amz-Target AWSEvents.PutEvents, SigV4 service "events")
// is answered here and every event it takes is captured (Events, WaitEvent, OnEvent). The
// request is checked as the Amazon EventBridge API Reference describes it [putevents]
// [requestentry] [resultentry] [size]:
//
//   - Entries: 1 to MaxPutEventsEntries entries, else the whole request fails with 400
//     ValidationException; so does a request whose entries' total size (Time 14 bytes, Source,
//     DetailType, Detail and each Resources entry in UTF-8 bytes) exceeds MaxPutEventsBytes
//     ("Total size of the entries in the request is over the limit.", the message EventBridge
//     sends: awslabs/aws-service-catalog-puppet issue 563), and one in which no entry has all of
//     Source, DetailType and Detail.
//   - Each entry needs Source, DetailType and Detail, else it fails with ErrorCode
//     "InvalidArgument" ("Parameter X is not valid. Reason: X is a required argument."); a
//     DetailType over 128 characters fails likewise; a Detail that is not a JSON object fails
//     with "MalformedDetail"; a Source starting with "aws." (reserved for AWS services) with
//     "NotAuthorizedForSourceException". Other entries are taken: EventBridge goes on with the
//     rest of a request when one entry fails [putevents-guide].
//   - The answer has one result per entry, in order: {"EventId"} for a taken entry,
//     {"ErrorCode","ErrorMessage"} for a failed one, and FailedEntryCount.
//
// EventBusName may be a name or an ARN; it is recorded as sent ("default" when omitted) and not
// checked against any list of buses. Calls are counted as "events.PutEvents"; faults use Service
// "events": Throttle answers 400 ThrottlingException, ServerError 500 InternalException,
// AccessDenied 400 AccessDeniedException, FailEntries answers 200 with every entry failed
// ("InternalFailure", a retryable per-entry error), and Hang and Latency hold the request as for
// any service. Other AWSEvents operations are answered 400 and logged.
//
// Sources (Amazon EventBridge API Reference and User Guide):
//
//   - [putevents] API Reference, PutEvents
//     (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html): Entries
//     "Array Members: Minimum number of 1 item. Maximum number of 10 items"; "the total entry size
//     must be less than 256KB"; Errors: InternalException (HTTP 500).
//   - [requestentry] API Reference, PutEventsRequestEntry: Detail "A valid JSON object";
//     DetailType "Free-form string, with a maximum of 128 characters"; "Detail, DetailType, and
//     Source are required for EventBridge to successfully send an event to an event bus. If you
//     include event entries in a request that do not include each of those properties,
//     EventBridge fails that entry. If you submit a request in which none of the entries have
//     each of these properties, EventBridge fails the entire request." EventBusName: "The name or
//     ARN of the event bus to receive the event ... If you omit this, the default event bus is
//     used."
//   - [resultentry] API Reference, PutEventsResultEntry: ErrorCode values InternalFailure and
//     ThrottlingException (retryable), AccessDeniedException, InvalidAccountIdException,
//     InvalidArgument, MalformedDetail, RedactionFailure, NotAuthorizedForSourceException,
//     NotAuthorizedForDetailTypeException (not retryable).
//   - [size] User Guide, "Calculating PutEvents event entry size"
//     (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html).
//   - [putevents-guide] User Guide, "Sending events with PutEvents": "if an individual entry
//     within a request fails, EventBridge continues processing the rest of the entries"; "The
//     response Entries array always includes the same number of entries as the request array."

// ServiceEvents is EventBridge's name in Fault.Service and the keys of Calls.
const ServiceEvents = "events"

const opPutEvents = "PutEvents"

// EventBridge limits, as the API Reference gives them.
const (
	// MaxPutEventsEntries is the most entries one PutEvents request may carry.
	MaxPutEventsEntries = 10
	// MaxPutEventsBytes is the most the entries of one request may add up to (256 KB), counted
	// as the User Guide's "Calculating PutEvents event entry size" counts.
	MaxPutEventsBytes = 256 * 1024
	// MaxDetailTypeLength is the longest DetailType, in characters.
	MaxDetailTypeLength = 128
)

// DefaultEventBus is the bus an entry without EventBusName goes to.
const DefaultEventBus = "default"

// Event is one event EventBridge took (an entry of a PutEvents request that did not fail).
type Event struct {
	Bus        string    // EventBusName as sent (a name or an ARN); DefaultEventBus when omitted
	Source     string    // e.g. "passwordless"
	DetailType string    // e.g. "sign_in.succeeded"
	Detail     string    // the JSON object, as sent
	Resources  []string  // as sent
	Time       time.Time // the entry's Time; when omitted, the server's clock at the call
	At         time.Time // when the mock took it (Options.Clock)
	EventID    string    // the EventId returned to the caller
}

func (e Event) clone() Event {
	e.Resources = slices.Clone(e.Resources)
	return e
}

// DetailMap decodes e.Detail (always a JSON object for a taken event).
func (e Event) DetailMap() (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(e.Detail), &m); err != nil {
		return nil, fmt.Errorf("awsmock: event detail: %w", err)
	}
	return m, nil
}

// Events returns every event taken, in order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneEach(s.events, Event.clone)
}

// ClearEvents forgets every event taken (WaitEvent counts from zero again).
func (s *Server) ClearEvents() {
	s.mu.Lock()
	s.events = nil
	s.mu.Unlock()
}

// WaitEvent returns the n-th (1-based) event taken, waiting for it until ctx is done or the
// server closes.
func (s *Server) WaitEvent(ctx context.Context, n int) (Event, error) {
	if n < 1 {
		return Event{}, fmt.Errorf("awsmock: WaitEvent: n must be at least 1, got %d", n)
	}
	for {
		s.mu.Lock()
		have := len(s.events)
		var ev Event
		if have >= n {
			ev = s.events[n-1].clone()
		}
		sig := s.eventSignal()
		s.mu.Unlock()
		if have >= n {
			return ev, nil
		}
		select {
		case <-sig:
		case <-ctx.Done():
			return Event{}, fmt.Errorf("awsmock: waiting for event %d (have %d): %w", n, have, ctx.Err())
		case <-s.closing:
			return Event{}, fmt.Errorf("awsmock: waiting for event %d (have %d): %w", n, have, ErrClosed)
		}
	}
}

// OnEvent registers f to be called with each event taken from now on, in the goroutine of the
// request that carried it, before the request is answered. Callbacks run in order; f must not
// block for long.
func (s *Server) OnEvent(f func(Event)) {
	if f == nil {
		return
	}
	s.mu.Lock()
	s.onEvent = append(s.onEvent, f)
	s.mu.Unlock()
}

// eventSignal returns the channel closed at the next capture; s.mu is held.
func (s *Server) eventSignal() chan struct{} {
	if s.evSig == nil {
		s.evSig = make(chan struct{})
	}
	return s.evSig
}

func (s *Server) captureEvents(evs []Event) {
	if len(evs) == 0 {
		return
	}
	record(&s.mu, &s.events, &s.evSig, &s.onEvent, evs, Event.clone)
}

// putEventsEntry is one PutEventsRequestEntry. Time is an awsJson1.1 timestamp (epoch seconds).
type putEventsEntry struct {
	Source       *string
	DetailType   *string
	Detail       *string
	EventBusName *string
	Resources    []string
	Time         *json.Number
	TraceHeader  *string
}

func (e *putEventsEntry) size() int {
	n := len(str(e.Source)) + len(str(e.DetailType)) + len(str(e.Detail))
	if e.Time != nil {
		n += 14
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

func (e *putEventsEntry) complete() bool {
	return str(e.Source) != "" && str(e.DetailType) != "" && str(e.Detail) != ""
}

type putEventsResult struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

const eventsContentType = "application/x-amz-json-1.1"

// errInternalFailure is the per-entry message of a FailEntries fault (the API Reference's words
// for InternalFailure).
const errInternalFailure = "The request processing has failed because of an unknown error, exception or failure."

func (s *Server) putEvents(w http.ResponseWriter, body []byte, failAll bool) {
	var in struct {
		Entries    []putEventsEntry
		EndpointId *string
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		writeJSONError(w, eventsContentType, http.StatusBadRequest, "SerializationException", "awsmock: PutEvents body is not valid JSON")
		return
	}
	invalid := func(msg string) {
		writeJSONError(w, eventsContentType, http.StatusBadRequest, "ValidationException", msg)
	}
	switch n := len(in.Entries); {
	case in.Entries == nil:
		invalid("1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null")
		return
	case n == 0:
		invalid("1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1")
		return
	case n > MaxPutEventsEntries:
		invalid(fmt.Sprintf("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to %d", MaxPutEventsEntries))
		return
	}
	total, anyComplete := 0, false
	for i := range in.Entries {
		total += in.Entries[i].size()
		anyComplete = anyComplete || in.Entries[i].complete()
	}
	if total > MaxPutEventsBytes {
		invalid("Total size of the entries in the request is over the limit.")
		return
	}
	if !anyComplete {
		invalid("awsmock: no entry has all of Source, DetailType and Detail, which EventBridge requires; the entire request fails")
		return
	}
	now := s.clock()
	results := make([]putEventsResult, len(in.Entries))
	var taken []Event
	failed := 0
	for i := range in.Entries {
		e := &in.Entries[i]
		code, msg := checkEntry(e)
		if code == "" && failAll {
			code, msg = "InternalFailure", errInternalFailure
		}
		if code != "" {
			results[i] = putEventsResult{ErrorCode: code, ErrorMessage: msg}
			failed++
			continue
		}
		ev := Event{
			Bus:        str(e.EventBusName),
			Source:     str(e.Source),
			DetailType: str(e.DetailType),
			Detail:     str(e.Detail),
			Resources:  slices.Clone(e.Resources),
			Time:       now,
			At:         now,
			EventID:    newID(),
		}
		if ev.Bus == "" {
			ev.Bus = DefaultEventBus
		}
		if e.Time != nil {
			if f, err := e.Time.Float64(); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				sec, frac := math.Modf(f)
				ev.Time = time.Unix(int64(sec), int64(frac*1e9)).UTC()
			}
		}
		results[i] = putEventsResult{EventID: ev.EventID}
		taken = append(taken, ev)
	}
	s.captureEvents(taken)
	writeJSON(w, eventsContentType, map[string]any{"FailedEntryCount": failed, "Entries": results})
}

// checkEntry returns the ErrorCode and ErrorMessage an entry fails with, or "" when EventBridge
// takes it.
func checkEntry(e *putEventsEntry) (code, msg string) {
	required := func(name string) (string, string) {
		return "InvalidArgument", "Parameter " + name + " is not valid. Reason: " + name + " is a required argument."
	}
	switch {
	case str(e.Source) == "":
		return required("Source")
	case str(e.DetailType) == "":
		return required("DetailType")
	case str(e.Detail) == "":
		return required("Detail")
	case len([]rune(str(e.DetailType))) > MaxDetailTypeLength:
		return "InvalidArgument", fmt.Sprintf("Parameter DetailType is not valid. Reason: DetailType is longer than %d characters.", MaxDetailTypeLength)
	case strings.HasPrefix(str(e.Source), "aws."):
		return "NotAuthorizedForSourceException", "Not authorized for the source."
	case !isJSONObject(str(e.Detail)):
		return "MalformedDetail", "Detail is malformed."
	}
	return "", ""
}

// isJSONObject reports whether s is one valid JSON object (and nothing after it).
func isJSONObject(s string) bool {
	if !json.Valid([]byte(s)) {
		return false
	}
	t := strings.TrimLeft(s, " \t\r\n")
	return strings.HasPrefix(t, "{")
}
