//go:build unix

package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/infra/local/awsmock"
	"github.com/passwordless-go/cognito/infra/local/syncbuf"
)

// emfLine is an EMF document as lambdas/metrics writes it.
func emfLine(name, unit string, sets string, members string) string {
	return `{"_aws":{"Timestamp":1900000000123,"CloudWatchMetrics":[{"Namespace":"Passwordless","Dimensions":` + sets +
		`,"Metrics":[{"Name":"` + name + `","Unit":"` + unit + `"}]}]}` + members + "}\n"
}

// TestParseEMF: documents are read as CloudWatch reads them: every dimension the sets name with
// its value, the sets as declared, one value or an array, the timestamp; log lines that are not
// EMF are not metrics.
func TestParseEMF(t *testing.T) {
	ms, ok, err := ParseEMF("verify", []byte(emfLine("SignInFailed", "Count", `[[],["Method"],["Reason"]]`,
		`,"Method":"email_otp","Reason":"wrong_answer","SignInFailed":2`)))
	if !ok || err != nil || len(ms) != 1 {
		t.Fatalf("ParseEMF: %v %v %v", ms, ok, err)
	}
	m := ms[0]
	if m.Function != "verify" || m.Namespace != "Passwordless" || m.Name != "SignInFailed" || m.Unit != "Count" ||
		m.Dims["Method"] != "email_otp" || m.Dims["Reason"] != "wrong_answer" || len(m.Dims) != 2 ||
		len(m.DimensionSets) != 3 || len(m.DimensionSets[0]) != 0 || m.DimensionSets[2][0] != "Reason" ||
		m.Value() != 2 || !m.Time.Equal(time.UnixMilli(1900000000123)) {
		t.Fatalf("metric %+v", m)
	}
	if got := m.String(); got != "verify SignInFailed{Method=email_otp,Reason=wrong_answer} 2 Count" {
		t.Errorf("String() = %q", got)
	}
	if !m.Has("SignInFailed", map[string]string{"Method": "email_otp"}) || m.Has("SignInFailed", map[string]string{"Method": "sms_otp"}) ||
		m.Has("SignInFailed", map[string]string{"Channel": "email"}) || m.Has("SignInSucceeded", nil) {
		t.Error("Has matched wrongly")
	}

	// An array of values (durations), and a directive with several metrics.
	ms, ok, err = ParseEMF("create", []byte(`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Dependency"]],"Metrics":[{"Name":"DependencyLatency","Unit":"Milliseconds"},{"Name":"Other"}]}]},"Dependency":"dynamodb","DependencyLatency":[3.5,4,10],"Other":1,"requestId":"x"}`))
	if !ok || err != nil || len(ms) != 2 || ms[0].Value() != 17.5 || len(ms[0].Values) != 3 || ms[1].Unit != "" || ms[1].Dims["Dependency"] != "dynamodb" {
		t.Fatalf("array values: %+v %v %v", ms, ok, err)
	}

	for _, line := range []string{
		`{"time":"2030-01-01T00:00:00Z","level":"INFO","msg":"sign-in started","user":"ab12"}`,
		`{"level":"INFO","msg":"the text \"_aws\" inside a value"}`,
		`time=2030-01-01 level=INFO msg=plain`,
		``,
		`not json "_aws"`,
	} {
		if ms, ok, err := ParseEMF("api", []byte(line)); ok || err != nil || ms != nil {
			t.Errorf("%q read as EMF: %v %v %v", line, ms, ok, err)
		}
	}
}

// TestParseEMFInvalid: a line that claims to be EMF but that CloudWatch would extract no metric
// from is an error, so a test sees an emitter's mistake instead of a metric silently missing in
// production.
func TestParseEMFInvalid(t *testing.T) {
	long := strings.Repeat("k", 256)
	var tooMany []string
	for i := range 31 {
		tooMany = append(tooMany, fmt.Sprintf(`"d%d"`, i))
	}
	var manyVals []string
	for range 101 {
		manyVals = append(manyVals, "1")
	}
	cases := map[string]string{
		"truncated JSON":            `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[`,
		"data after the object":     emfLine("A", "Count", `[[]]`, `,"A":1`)[:len(emfLine("A", "Count", `[[]]`, `,"A":1`))-1] + ` trailing`,
		"no timestamp":              `{"_aws":{"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"A"}]}]},"A":1}`,
		"timestamp in seconds text": `{"_aws":{"Timestamp":"1","CloudWatchMetrics":[]},"A":1}`,
		"no directives":             `{"_aws":{"Timestamp":1},"A":1}`,
		"no namespace":              `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Dimensions":[[]],"Metrics":[{"Name":"A"}]}]},"A":1}`,
		"no dimension set":          emfLine("A", "Count", `[]`, `,"A":1`),
		"dimension not in the root": emfLine("A", "Count", `[["Method"]]`, `,"A":1`),
		"dimension not a string":    emfLine("A", "Count", `[["Method"]]`, `,"Method":3,"A":1`),
		"dimension value empty":     emfLine("A", "Count", `[["Method"]]`, `,"Method":"","A":1`),
		"31 dimension keys":         emfLine("A", "Count", `[[`+strings.Join(tooMany, ",")+`]]`, `,"A":1`),
		"dimension key too long":    emfLine("A", "Count", `[["`+long+`"]]`, `,"`+long+`":"v","A":1`),
		"metric not in the root":    emfLine("A", "Count", `[[]]`, ``),
		"metric a string":           emfLine("A", "Count", `[[]]`, `,"A":"1"`),
		"metric an empty array":     emfLine("A", "Count", `[[]]`, `,"A":[]`),
		"101 values":                emfLine("A", "Count", `[[]]`, `,"A":[`+strings.Join(manyVals, ",")+`]`),
		"unknown unit":              emfLine("A", "Counts", `[[]]`, `,"A":1`),
		"metric without a name":     `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Unit":"Count"}]}]}}`,
	}
	for name, line := range cases {
		t.Run(name, func(t *testing.T) {
			ms, ok, err := ParseEMF("verify", []byte(line))
			if !ok || err == nil || ms != nil {
				t.Fatalf("ParseEMF(%q) = %v, isEMF %v, err %v; want an EMF error", line, ms, ok, err)
			}
		})
	}
}

// TestTapCapturesMetrics: the writer a function's stdout goes to forwards every byte unchanged
// (the function's log stays as written) and turns each EMF line into Metrics, whether a write
// holds several lines or a line arrives in parts; OnMetric and WaitMetric see them; invalid EMF
// lines are kept in EMFErrors.
func TestTapCapturesMetrics(t *testing.T) {
	h := &Harness{obs: newObserver()}
	log := &syncbuf.Buffer{}
	var pushed []string
	var mu sync.Mutex
	h.OnMetric(func(m Metric) { mu.Lock(); pushed = append(pushed, m.String()); mu.Unlock() })
	w := h.obs.tap("verify", log)

	logLine := `{"level":"INFO","msg":"sign-in succeeded"}` + "\n"
	started := emfLine("SignInStarted", "Count", `[[]]`, `,"SignInStarted":1`)
	succeeded := emfLine("SignInSucceeded", "Count", `[[],["Method"]]`, `,"Method":"email_otp","SignInSucceeded":1`)
	bad := emfLine("Lockouts", "Count", `[]`, `,"Lockouts":1`)
	input := logLine + started + succeeded + bad
	// One write with two lines, then the rest in pieces that split lines.
	chunks := []string{logLine + started, succeeded[:10], succeeded[10:40], succeeded[40:] + bad[:5], bad[5:]}
	for _, c := range chunks {
		if n, err := w.Write([]byte(c)); n != len(c) || err != nil {
			t.Fatalf("Write: %d %v", n, err)
		}
	}
	if got := log.String(); got != input {
		t.Fatalf("the function log changed:\n%q\nwant\n%q", got, input)
	}
	ms := h.Metrics()
	if len(ms) != 2 || ms[0].Name != "SignInStarted" || ms[1].String() != "verify SignInSucceeded{Method=email_otp} 1 Count" {
		t.Fatalf("metrics %v", ms)
	}
	if errs := h.EMFErrors(); len(errs) != 1 || !strings.HasPrefix(errs[0], "verify: ") || !strings.Contains(errs[0], "Lockouts") {
		t.Fatalf("EMF errors %q", errs)
	}
	mu.Lock()
	if len(pushed) != 2 {
		t.Errorf("OnMetric saw %v", pushed)
	}
	mu.Unlock()
	if SumMetrics(ms, MetricIs("SignInSucceeded", map[string]string{"Method": "email_otp"})) != 1 {
		t.Error("SumMetrics")
	}

	// WaitMetric finds a metric already there, and waits for a later one.
	if m, err := h.WaitMetric(t.Context(), 0, MetricIs("SignInSucceeded", nil)); err != nil || m.Name != "SignInSucceeded" {
		t.Fatalf("WaitMetric: %v %v", m, err)
	}
	got := make(chan Metric, 1)
	go func() {
		m, err := h.WaitMetric(context.Background(), 2, MetricIs("SignInSucceeded", nil))
		if err != nil {
			t.Error(err)
		}
		got <- m
	}()
	w2 := h.obs.tap("create", nil) // nil: forwards nowhere, still captures
	w2.Write([]byte(emfLine("SignInSucceeded", "Count", `[[],["Method"]]`, `,"Method":"sms_otp","SignInSucceeded":1`)))
	if m := <-got; m.Function != "create" || m.Dims["Method"] != "sms_otp" {
		t.Errorf("WaitMetric after index 2: %v", m)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.WaitMetric(ctx, 0, MetricIs("Lockouts", nil)); err == nil {
		t.Error("WaitMetric returned a metric that never came")
	}
}

// TestTapConcurrentWriters: the processes of several functions write at once; every line is
// counted once.
func TestTapConcurrentWriters(t *testing.T) {
	h := &Harness{obs: newObserver()}
	const writers, lines = 8, 200
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := h.obs.tap(fmt.Sprintf("f%d", i), nil)
			for range lines {
				w.Write([]byte(emfLine("Sent", "Count", `[[],["Channel"]]`, `,"Channel":"email","Sent":1`)))
			}
		}()
	}
	wg.Wait()
	if got := SumMetrics(h.Metrics(), MetricIs("Sent", map[string]string{"Channel": "email"})); got != writers*lines {
		t.Fatalf("sum %v, want %d", got, writers*lines)
	}
}

// TestAuditEvents: events put on EventBridge are decoded as the audit trail's detail.
func TestAuditEvents(t *testing.T) {
	srv, err := awsmock.Start(awsmock.Options{NoDynamoDB: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	h := &Harness{AWS: srv, obs: newObserver()}
	var pushed []AuditEvent
	var mu sync.Mutex
	h.OnAuditEvent(func(a AuditEvent) { mu.Lock(); pushed = append(pushed, a); mu.Unlock() })

	ev := awsmock.Event{Bus: "default", Source: "passwordless", DetailType: "recovery.device_keys_revoked",
		Detail: `{"version":"1","type":"recovery.device_keys_revoked","time":"2030-01-01T00:00:00Z","function":"api","userPoolId":"us-east-1_X","user":"0123456789ab","method":"device_key","count":3,"extra":true}`}
	a := ParseAuditEvent(ev)
	if a.Version != "1" || a.Type != "recovery.device_keys_revoked" || a.Function != "api" || a.UserPoolID != "us-east-1_X" ||
		a.User != "0123456789ab" || a.Method != "device_key" || a.Count != 3 || a.Detail["extra"] != true || a.Raw != ev.Detail {
		t.Fatalf("ParseAuditEvent: %+v", a)
	}
	if got := a.String(); got != "api recovery.device_keys_revoked user=0123456789ab method=device_key count=3" {
		t.Errorf("String() = %q", got)
	}

	// Through awsmock: WaitAuditEvent skips events that do not match.
	put := func(detailType, user string) {
		t.Helper()
		detail, _ := json.Marshal(map[string]string{"version": "1", "type": detailType, "user": user})
		body, _ := json.Marshal(map[string]any{"Entries": []map[string]string{{
			"Source": "passwordless", "DetailType": detailType, "Detail": string(detail), "EventBusName": "audit"}}})
		req, _ := newPutEvents(t, srv.URL(), string(body))
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("PutEvents %d", resp.StatusCode)
		}
	}
	put("sign_in.failed", "aaaaaaaaaaaa")
	put("sign_in.succeeded", "bbbbbbbbbbbb")
	got, err := h.WaitAuditEvent(t.Context(), 0, AuditIs("sign_in.succeeded", "bbbbbbbbbbbb"))
	if err != nil || got.User != "bbbbbbbbbbbb" || got.Bus != "audit" || got.Version != "1" {
		t.Fatalf("WaitAuditEvent: %+v %v", got, err)
	}
	if all := h.AuditEvents(); len(all) != 2 || all[0].Type != "sign_in.failed" {
		t.Fatalf("AuditEvents %+v", all)
	}
	mu.Lock()
	if len(pushed) != 2 || pushed[1].DetailType != "sign_in.succeeded" {
		t.Errorf("OnAuditEvent saw %+v", pushed)
	}
	mu.Unlock()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.WaitAuditEvent(ctx, 2, AuditIs("sign_in.succeeded", "")); err == nil {
		t.Error("WaitAuditEvent from index 2 returned an event that never came")
	}
}

var httpClient = http.DefaultClient

// newPutEvents is a PutEvents request as lambdas/awsapi sends it.
func newPutEvents(t *testing.T, url, body string) (*http.Request, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Amz-Target", "AWSEvents.PutEvents")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	return req, nil
}
