package awsapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
)

// TestPutEvents: the request is awsJson1.1 AWSEvents.PutEvents signed for "events" with the
// entries as the API reference names them; FailedEntryCount and each entry's result come back.
func TestPutEvents(t *testing.T) {
	c, got := server(t, func(w http.ResponseWriter, _ int) {
		_, _ = w.Write([]byte(`{"FailedEntryCount":1,"Entries":[{"EventId":"11710aed-b79e-4468-a20b-bb3c0c3b4860"},{"ErrorCode":"InternalFailure","ErrorMessage":"boom"}]}`))
	})
	entries := []EventEntry{
		{Source: "passwordless", DetailType: "sign_in.succeeded", Detail: `{"version":"1"}`, EventBusName: "arn:aws:events:eu-west-1:123456789012:event-bus/audit"},
		{Source: "passwordless", DetailType: "sign_in.failed", Detail: `{"version":"1","n":"\"q\""}`},
	}
	failed, err := c.PutEvents(context.Background(), entries)
	if err != nil || failed != 1 {
		t.Fatalf("failed %d, %v", failed, err)
	}
	if len(*got) != 1 {
		t.Fatalf("%d requests", len(*got))
	}
	r := (*got)[0]
	checkSigned(t, r.header, "events")
	if r.method != http.MethodPost || r.path != "/" || r.header.Get("Content-Type") != "application/x-amz-json-1.1" ||
		r.header.Get("X-Amz-Target") != "AWSEvents.PutEvents" {
		t.Errorf("%s %s %v", r.method, r.path, r.header)
	}
	want := `{"Entries":[{"Source":"passwordless","DetailType":"sign_in.succeeded","Detail":"{\"version\":\"1\"}","EventBusName":"arn:aws:events:eu-west-1:123456789012:event-bus/audit"},` +
		`{"Source":"passwordless","DetailType":"sign_in.failed","Detail":"{\"version\":\"1\",\"n\":\"\\\"q\\\"\"}"}]}`
	if string(r.body) != want {
		t.Errorf("body\n%s\nwant\n%s", r.body, want)
	}
	var back struct{ Entries []EventEntry }
	if err := json.Unmarshal(r.body, &back); err != nil || back.Entries[1].Detail != entries[1].Detail {
		t.Errorf("round trip %v %+v", err, back)
	}

	res, err := c.PutEventsResults(context.Background(), entries)
	if err != nil || len(res) != 2 || res[0].EventID == "" || res[0].ErrorCode != "" || res[1].ErrorCode != "InternalFailure" {
		t.Errorf("results %+v %v", res, err)
	}
}

func TestPutEventsEndpoint(t *testing.T) {
	c, err := New(aws.Config{Region: "cn-north-1", Credentials: aws.AnonymousCredentials{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.endpoint("events", "/"); got != "https://events.cn-north-1.amazonaws.com.cn/" {
		t.Errorf("endpoint %s", got)
	}
}

// TestPutEventsAnswers: odd answers never claim delivery EventBridge did not confirm.
func TestPutEventsAnswers(t *testing.T) {
	entries := []EventEntry{{Source: "s", DetailType: "d", Detail: "{}"}, {Source: "s", DetailType: "d", Detail: "{}"}}
	for body, wantFailed := range map[string]int{
		`{"FailedEntryCount":0,"Entries":[{"EventId":"a"},{"EventId":"b"}]}`:                       0,
		`{"FailedEntryCount":0,"Entries":[{"EventId":"a"}]}`:                                       1, // a missing result
		`{"FailedEntryCount":2,"Entries":[{"EventId":"a"},{"EventId":"b"}]}`:                       2, // count disagrees
		`{"FailedEntryCount":1,"Entries":[{"EventId":"a"},{}]}`:                                    1, // no EventId
		`{"FailedEntryCount":2,"Entries":[{"ErrorCode":"ThrottlingException"},{"ErrorCode":"x"}]}`: 2,
	} {
		c, _ := server(t, func(w http.ResponseWriter, _ int) { _, _ = w.Write([]byte(body)) })
		failed, err := c.PutEvents(context.Background(), entries)
		if err != nil || failed != wantFailed {
			t.Errorf("%s: failed %d %v, want %d", body, failed, err, wantFailed)
		}
	}
	c, _ := server(t, func(w http.ResponseWriter, _ int) { _, _ = w.Write([]byte(`not json`)) })
	var de *smithy.DeserializationError
	if _, err := c.PutEvents(context.Background(), entries); !errors.As(err, &de) {
		t.Errorf("unreadable: %v", err)
	}
}

// TestPutEventsErrors: service errors come as *APIError, retried when the retryer says so; bad
// input is refused without a call.
func TestPutEventsErrors(t *testing.T) {
	c, got := server(t, func(w http.ResponseWriter, n int) {
		w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"__type":"AccessDeniedException","message":"User: arn:aws:sts::1:assumed-role/x is not authorized"}`))
	})
	_, err := c.PutEvents(context.Background(), []EventEntry{{Source: "s", DetailType: "d", Detail: "{}"}})
	var api *APIError
	if !errors.As(err, &api) || api.Code != "AccessDeniedException" || api.Service != "events" || api.Operation != "PutEvents" || strings.Contains(err.Error(), "arn:") {
		t.Fatalf("%v", err)
	}
	if len(*got) != 1 {
		t.Errorf("%d calls for a client error", len(*got))
	}

	c, got = server(t, func(w http.ResponseWriter, n int) {
		if n == 1 {
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"__type":"ThrottlingException","message":"Rate exceeded"}`))
			return
		}
		_, _ = w.Write([]byte(`{"FailedEntryCount":0,"Entries":[{"EventId":"a"}]}`))
	})
	if failed, err := c.PutEvents(context.Background(), []EventEntry{{Source: "s", DetailType: "d", Detail: "{}"}}); err != nil || failed != 0 || len(*got) != 2 {
		t.Errorf("throttled then ok: %d %v after %d calls", failed, err, len(*got))
	}

	big := strings.Repeat("x", MaxEventRequestBytes)
	for name, entries := range map[string][]EventEntry{
		"none":     nil,
		"eleven":   make([]EventEntry, 11),
		"empty":    {{Source: "s", DetailType: "d"}},
		"too big":  {{Source: "s", DetailType: "d", Detail: big}},
		"together": {{Source: "s", DetailType: "d", Detail: big[:MaxEventRequestBytes/2]}, {Source: "s", DetailType: "d", Detail: big[:MaxEventRequestBytes/2]}},
	} {
		c, got := server(t, ok)
		if _, err := c.PutEvents(context.Background(), entries); err == nil || len(*got) != 0 {
			t.Errorf("%s: %v after %d calls", name, err, len(*got))
		}
	}
}
