package awsapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
)

// EventEntry is one event for EventBridge PutEvents.
type EventEntry struct {
	Source       string // the event's source; must not start with "aws."
	DetailType   string // the detail-type rules match on
	Detail       string // a JSON object
	EventBusName string // a bus name or ARN; "" is the account's default bus
}

// EventResult is EventBridge's answer about one entry: EventID when it took the event, else
// ErrorCode (such as InternalFailure or ThrottlingException).
type EventResult struct {
	EventID   string
	ErrorCode string
}

// MaxEventEntries is the most entries one PutEvents call takes.
const MaxEventEntries = 10

// MaxEventRequestBytes bounds the total size of a PutEvents call's entries as EventBridge counts
// it (14 bytes for the time plus the UTF-8 bytes of Source, DetailType, Detail and resources):
// 256 KB.
const MaxEventRequestBytes = 256 * 1024

// PutEvents calls EventBridge PutEvents (awsJson1.1, X-Amz-Target AWSEvents.PutEvents, signed for
// "events", endpoint events.<region>.<suffix>) and returns how many entries EventBridge did not
// take (FailedEntryCount). A failed entry is not an error: the caller decides what to do with it
// (PutEventsResults says which). It sends 1 to MaxEventEntries entries whose total size is at
// most MaxEventRequestBytes, else it returns an error without calling.
func (c *Client) PutEvents(ctx context.Context, entries []EventEntry) (failed int, err error) {
	res, err := c.PutEventsResults(ctx, entries)
	if err != nil {
		return 0, err
	}
	for _, r := range res {
		if r.ErrorCode != "" {
			failed++
		}
	}
	return failed, nil
}

type putEventsEntry struct {
	Source       string `json:"Source"`
	DetailType   string `json:"DetailType"`
	Detail       string `json:"Detail"`
	EventBusName string `json:"EventBusName,omitempty"`
}

// PutEventsResults is PutEvents returning one result per entry, in the order of entries.
func (c *Client) PutEventsResults(ctx context.Context, entries []EventEntry) ([]EventResult, error) {
	if len(entries) == 0 || len(entries) > MaxEventEntries {
		return nil, fmt.Errorf("awsapi: events PutEvents: %d entries, want 1 to %d", len(entries), MaxEventEntries)
	}
	size := 0
	in := make([]putEventsEntry, len(entries))
	for i, e := range entries {
		if e.Source == "" || e.DetailType == "" || e.Detail == "" {
			return nil, fmt.Errorf("awsapi: events PutEvents: entry %d has no Source, DetailType or Detail", i)
		}
		size += 14 + len(e.Source) + len(e.DetailType) + len(e.Detail)
		in[i] = putEventsEntry(e)
	}
	if size > MaxEventRequestBytes {
		return nil, fmt.Errorf("awsapi: events PutEvents: entries total %d bytes, more than %d", size, MaxEventRequestBytes)
	}
	out, err := c.json11(ctx, "events", "AWSEvents", "PutEvents", struct {
		Entries []putEventsEntry `json:"Entries"`
	}{in})
	if err != nil {
		return nil, err
	}
	var v struct {
		FailedEntryCount int `json:"FailedEntryCount"`
		Entries          []struct {
			EventID   string `json:"EventId"`
			ErrorCode string `json:"ErrorCode"`
		} `json:"Entries"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, &smithy.DeserializationError{Err: errors.New("awsapi: events PutEvents: unreadable response")}
	}
	res := make([]EventResult, len(entries))
	failed := 0
	for i := range res {
		switch {
		case i >= len(v.Entries):
			// EventBridge answers one result per entry; a missing one was not taken.
			res[i].ErrorCode = "MissingResult"
		case v.Entries[i].ErrorCode != "" || v.Entries[i].EventID == "":
			res[i].ErrorCode = sanitizeType(v.Entries[i].ErrorCode)
			if res[i].ErrorCode == "" {
				res[i].ErrorCode = "NoEventId"
			}
		default:
			res[i].EventID = v.Entries[i].EventID
		}
		if res[i].ErrorCode != "" {
			failed++
		}
	}
	if failed < v.FailedEntryCount {
		// The count and the entries disagree: trust neither entry and report all as failed
		// rather than claim delivery EventBridge denied.
		for i := range res {
			if res[i].ErrorCode == "" {
				res[i] = EventResult{ErrorCode: "FailedEntryCount"}
			}
		}
	}
	return res, nil
}
