package metrics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var fixedNow = time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.UTC)

// newTest returns a Recorder on a buffer with a fixed clock.
func newTest(t testing.TB) (*Recorder, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	r := New(&buf, "Passwordless/test")
	r.now = func() time.Time { return fixedNow }
	return r, &buf
}

// line is one parsed EMF line.
type line struct {
	raw        string
	ns         string
	timestamp  int64
	dimensions [][]string
	name, unit string
	members    map[string]any
}

// parseLines checks every line of out against the EMF specification and the package's own rules
// (every dimension value and every string member allow-listed) and returns them.
func parseLines(t testing.TB, out string) []line {
	t.Helper()
	if out == "" {
		return nil
	}
	if !strings.HasSuffix(out, "\n") {
		t.Fatalf("output does not end in a newline: %q", out)
	}
	var lines []line
	for _, raw := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		lines = append(lines, parseLine(t, raw))
	}
	return lines
}

func parseLine(t testing.TB, raw string) line {
	t.Helper()
	// The specification: one JSON object, nothing before or after.
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("not JSON: %v: %s", err, raw)
	}
	if dec.More() {
		t.Fatalf("data after the object: %s", raw)
	}
	var doc struct {
		AWS struct {
			Timestamp         *int64 `json:"Timestamp"`
			CloudWatchMetrics []struct {
				Namespace  string     `json:"Namespace"`
				Dimensions [][]string `json:"Dimensions"`
				Metrics    []struct {
					Name string `json:"Name"`
					Unit string `json:"Unit"`
				} `json:"Metrics"`
			} `json:"CloudWatchMetrics"`
		} `json:"_aws"`
	}
	strict := json.NewDecoder(strings.NewReader(raw))
	if err := strict.Decode(&doc); err != nil {
		t.Fatalf("bad _aws: %v: %s", err, raw)
	}
	if doc.AWS.Timestamp == nil {
		t.Fatalf("no _aws.Timestamp: %s", raw)
	}
	if len(doc.AWS.CloudWatchMetrics) != 1 {
		t.Fatalf("want one MetricDirective: %s", raw)
	}
	d := doc.AWS.CloudWatchMetrics[0]
	if d.Namespace == "" || len(d.Namespace) > 255 {
		t.Fatalf("namespace %q", d.Namespace)
	}
	if len(d.Dimensions) == 0 {
		t.Fatalf("Dimensions needs at least one DimensionSet: %s", raw)
	}
	for _, set := range d.Dimensions {
		if len(set) > 9 {
			t.Fatalf("DimensionSet longer than 9: %s", raw)
		}
		for _, k := range set {
			v, ok := root[k].(string)
			if !ok {
				t.Fatalf("dimension %q is not a string member of the root: %s", k, raw)
			}
			if !Allowed(k, v) {
				t.Fatalf("dimension %s=%q is not allow-listed: %s", k, v, raw)
			}
		}
	}
	if len(d.Metrics) != 1 {
		t.Fatalf("want one MetricDefinition: %s", raw)
	}
	m := d.Metrics[0]
	if m.Unit != "Count" && m.Unit != "Milliseconds" {
		t.Fatalf("unit %q", m.Unit)
	}
	switch v := root[m.Name].(type) {
	case json.Number:
	case []any:
		if len(v) == 0 || len(v) > MaxValues {
			t.Fatalf("%d values: %s", len(v), raw)
		}
		for _, x := range v {
			if _, ok := x.(json.Number); !ok {
				t.Fatalf("value %v not a number: %s", x, raw)
			}
		}
	default:
		t.Fatalf("metric target %q is %T: %s", m.Name, root[m.Name], raw)
	}
	if lookup(m.Name) < 0 {
		t.Fatalf("metric %q not in the table", m.Name)
	}
	// Every other member is an allow-listed field.
	for k, v := range root {
		if k == "_aws" || k == m.Name {
			continue
		}
		s, ok := v.(string)
		if !ok || !Allowed(k, s) {
			t.Fatalf("member %s=%v is not allow-listed: %s", k, v, raw)
		}
	}
	delete(root, "_aws")
	return line{raw: raw, ns: d.Namespace, timestamp: *doc.AWS.Timestamp, dimensions: d.Dimensions, name: m.Name, unit: m.Unit, members: root}
}

func TestEMFLine(t *testing.T) {
	r, buf := newTest(t)
	r.Count(SignInFailed, Dims{Method: MethodPasskey, Reason: ReasonWrongAnswer})
	r.Count(SignInFailed, Dims{Method: MethodPasskey, Reason: ReasonWrongAnswer})
	r.Flush()
	want := `{"_aws":{"Timestamp":1741064767890,"CloudWatchMetrics":[{"Namespace":"Passwordless/test","Dimensions":[[],["Method"],["Reason"]],"Metrics":[{"Name":"SignInFailed","Unit":"Count"}]}]},"Method":"passkey","Reason":"wrong_answer","SignInFailed":2}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf, want)
	}
	l := parseLines(t, buf.String())[0]
	if l.timestamp != fixedNow.UnixMilli() {
		t.Errorf("timestamp %d", l.timestamp)
	}
}

// TestAggregation: one line per metric and distinct dimension values, counts summed, durations as
// a value array, and Flush resets.
func TestAggregation(t *testing.T) {
	r, buf := newTest(t)
	for range 3 {
		r.Count(Sent, Dims{Channel: ChannelEmail, Kind: KindCode})
	}
	r.Count(Sent, Dims{Channel: ChannelSMS, Kind: KindCode})
	r.Count(Sent, Dims{Channel: ChannelEmail, Kind: KindCode, Method: MethodPasskey}) // Method is not a field of Sent
	r.Observe(DependencyLatency, Dims{Dependency: DependencyDynamoDB}, 12*time.Millisecond+345*time.Microsecond)
	r.Observe(DependencyLatency, Dims{Dependency: DependencyDynamoDB}, 7*time.Millisecond)
	r.Observe(DependencyLatency, Dims{Dependency: DependencySES}, -time.Second)
	r.Flush()
	lines := parseLines(t, buf.String())
	type got struct {
		name string
		dims string
		val  string
	}
	var gs []got
	for _, l := range lines {
		v, _ := json.Marshal(l.members[l.name])
		delete(l.members, l.name)
		d, _ := json.Marshal(l.members)
		gs = append(gs, got{l.name, string(d), string(v)})
	}
	want := []got{
		{Sent, `{"Channel":"email","Kind":"code"}`, `4`},
		{Sent, `{"Channel":"sms","Kind":"code"}`, `1`},
		{DependencyLatency, `{"Dependency":"dynamodb"}`, `[12.345,7]`},
		{DependencyLatency, `{"Dependency":"ses"}`, `[0]`},
	}
	if !slices.Equal(gs, want) {
		t.Fatalf("got  %v\nwant %v", gs, want)
	}
	buf.Reset()
	r.Flush()
	if buf.Len() != 0 {
		t.Fatalf("a second Flush wrote %s", buf)
	}
	r.Count(Lockouts, Dims{})
	r.Flush()
	if l := parseLines(t, buf.String()); len(l) != 1 || l[0].name != Lockouts || fmt.Sprint(l[0].members[Lockouts]) != "1" {
		t.Fatalf("after reset: %s", buf)
	}
}

// TestSplit: at most MaxValues values per metric per line.
func TestSplit(t *testing.T) {
	r, buf := newTest(t)
	for i := range 250 {
		r.Observe(DependencyLatency, Dims{Dependency: DependencySNS}, time.Duration(i)*time.Millisecond)
	}
	r.Flush()
	lines := parseLines(t, buf.String())
	var sizes []int
	n := 0
	for _, l := range lines {
		vals := l.members[DependencyLatency].([]any)
		for _, v := range vals {
			if v.(json.Number).String() != fmt.Sprint(n) {
				t.Fatalf("value %v, want %d", v, n)
			}
			n++
		}
		sizes = append(sizes, len(vals))
	}
	if !slices.Equal(sizes, []int{100, 100, 50}) {
		t.Fatalf("line sizes %v", sizes)
	}
}

// TestDimensionSets: each metric's sets, and how a missing field is handled.
func TestDimensionSets(t *testing.T) {
	full := Dims{Method: MethodSMSOTP, Reason: ReasonThrottle, Channel: ChannelSMS, Kind: KindLink, Dependency: DependencySNS}
	cases := []struct {
		name    string
		d       Dims
		sets    string
		members string
	}{
		{SignInStarted, full, `[[]]`, `{}`},
		{SignInSucceeded, full, `[[],["Method"]]`, `{"Method":"sms_otp"}`},
		{SignInSucceeded, Dims{}, `[[]]`, `{}`},
		{SignInFailed, full, `[[],["Method"],["Reason"]]`, `{"Method":"sms_otp","Reason":"throttle"}`},
		{SignInFailed, Dims{Reason: ReasonExpired}, `[[],["Reason"]]`, `{"Reason":"expired"}`},
		{Sent, full, `[[],["Channel"],["Channel","Kind"]]`, `{"Channel":"sms","Kind":"link"}`},
		{Sent, Dims{Channel: ChannelEmail}, `[[],["Channel"]]`, `{"Channel":"email"}`},
		{Sent, Dims{Kind: KindNotice}, `[[]]`, `{"Kind":"notice"}`},
		{SendRefused, full, `[[],["Channel","Reason"]]`, `{"Channel":"sms","Reason":"throttle"}`},
		{SendFailed, full, `[[],["Channel"]]`, `{"Channel":"sms"}`},
		{Lockouts, full, `[[]]`, `{}`},
		{KeyRegistered, full, `[["Method"]]`, `{"Method":"sms_otp"}`},
		{KeyRegistered, Dims{}, `[["Method"]]`, `{"Method":"other"}`},
		{KeyRevoked, Dims{Method: MethodPasskey}, `[["Method"]]`, `{"Method":"passkey"}`},
		{NotificationFailed, full, `[[],["Channel"]]`, `{"Channel":"sms"}`},
		{DependencyErrors, full, `[[],["Dependency"]]`, `{"Dependency":"sns","Reason":"throttle"}`},
		{AuditUndelivered, full, `[[]]`, `{}`},
		{DependencyLatency, full, `[["Dependency"]]`, `{"Dependency":"sns"}`},
		{DependencyLatency, Dims{}, `[["Dependency"]]`, `{"Dependency":"other"}`},
	}
	for _, c := range cases {
		r, buf := newTest(t)
		if c.name == DependencyLatency {
			r.Observe(c.name, c.d, time.Millisecond)
		} else {
			r.Count(c.name, c.d)
		}
		r.Flush()
		lines := parseLines(t, buf.String())
		if len(lines) != 1 {
			t.Fatalf("%s: %d lines", c.name, len(lines))
		}
		l := lines[0]
		sets, _ := json.Marshal(l.dimensions)
		delete(l.members, l.name)
		members, _ := json.Marshal(l.members)
		if string(sets) != c.sets || string(members) != c.members {
			t.Errorf("%s %+v: sets %s members %s, want %s %s", c.name, c.d, sets, members, c.sets, c.members)
		}
	}
	// Every metric of the contract is covered.
	for _, n := range Names() {
		if !slices.ContainsFunc(cases, func(c struct {
			name    string
			d       Dims
			sets    string
			members string
		}) bool {
			return c.name == n
		}) {
			t.Errorf("%s untested", n)
		}
	}
}

// Values an attacker controls and that must never become a dimension.
var hostile = []string{
	"alice@example.com",
	"+447700900123",
	"123456",
	"0f1e2d3c4b5a69788796a5b4c3d2e1f0",
	"a1b2c3d4e5f6",
	`x","Method":"alice@example.com`,
	"email_otp ", "EMAIL_OTP", "other\x00", "\u2028",
}

// TestHostileDimensions (attack): whatever the callers pass in a Dims field, every dimension and
// member of every line is allow-listed; an address, phone number, code or key ID becomes "other".
func TestHostileDimensions(t *testing.T) {
	r, buf := newTest(t)
	for _, h := range hostile {
		for _, n := range Names() {
			d := Dims{Method: h, Reason: h, Channel: h, Kind: h, Dependency: h}
			r.Count(n, d)
			r.Observe(n, d, time.Millisecond)
		}
	}
	r.Flush()
	lines := parseLines(t, buf.String()) // fails on any value outside the allow-lists
	if len(lines) != len(Names()) {
		t.Errorf("%d lines for %d metrics", len(lines), len(Names()))
	}
	for _, h := range hostile[:5] {
		if strings.Contains(buf.String(), h) {
			t.Errorf("output contains %q", h)
		}
	}
	for _, l := range lines {
		for k, v := range l.members {
			if k != l.name && v != Other {
				t.Errorf("%s: %s=%v, want other", l.name, k, v)
			}
		}
	}
	// Legitimate values of one field are not accepted in another.
	r.Count(SendRefused, Dims{Channel: MethodEmailOTP, Reason: ChannelSMS})
	buf.Reset()
	r.Flush()
	if !strings.Contains(buf.String(), `"Channel":"other","Reason":"other"`) {
		t.Errorf("cross-field values: %s", buf)
	}
}

// TestUnknownMetricDropped (attack): a name not in the table writes no line, and a unit mismatch
// is dropped too.
func TestUnknownMetricDropped(t *testing.T) {
	r, buf := newTest(t)
	r.Count("alice@example.com", Dims{})
	r.Count("signinstarted", Dims{})
	r.Observe("Latency", Dims{Dependency: DependencySES}, time.Second)
	r.Observe(SignInStarted, Dims{}, time.Second)
	r.Count(DependencyLatency, Dims{Dependency: DependencySES})
	r.Flush()
	if buf.Len() != 0 {
		t.Fatalf("wrote %s", buf)
	}
}

// FuzzDims: no input makes a line with a value outside the allow-lists.
func FuzzDims(f *testing.F) {
	for _, h := range hostile {
		f.Add(h, h, h, h, h, 0)
	}
	f.Add(MethodPasskey, ReasonLocked, ChannelSMS, KindCode, DependencySES, 3)
	f.Fuzz(func(t *testing.T, m, r, c, k, d string, which int) {
		rec, buf := newTest(t)
		names := Names()
		name := names[(which%len(names)+len(names))%len(names)]
		rec.Count(name, Dims{m, r, c, k, d})
		rec.Observe(name, Dims{m, r, c, k, d}, time.Millisecond)
		rec.Flush()
		if len(parseLines(t, buf.String())) != 1 {
			t.Fatalf("want one line: %s", buf)
		}
	})
}

func TestNilRecorder(t *testing.T) {
	var r *Recorder
	r.Count(SignInStarted, Dims{})
	r.Observe(DependencyLatency, Dims{}, time.Second)
	r.Flush()
	if New(nil, "") != nil {
		t.Error("empty namespace gave a Recorder")
	}
}

func TestFromEnv(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvNamespace {
				return v
			}
			return ""
		}
	}
	if r, err := FromEnv(env(""), nil); r != nil || err != nil {
		t.Errorf("unset: %v %v", r, err)
	}
	var buf bytes.Buffer
	r, err := FromEnv(env("Passwordless/prod-1 #a:b_c.d"), &buf)
	if err != nil || r == nil || r.ns != "Passwordless/prod-1 #a:b_c.d" || r.w != &buf {
		t.Fatalf("valid: %v %v", r, err)
	}
	for _, bad := range []string{"AWS/Lambda", ":x", "   ", "a\"b", "a\nb", "é", "a$b", strings.Repeat("a", 256)} {
		if r, err := FromEnv(env(bad), nil); err == nil || r != nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := FromEnv(env(strings.Repeat("a", 255)), nil); err != nil {
		t.Errorf("255 characters: %v", err)
	}
}

// TestConcurrent: goroutines of one invocation record concurrently; nothing is lost (-race).
func TestConcurrent(t *testing.T) {
	r, buf := newTest(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				r.Count(SignInSucceeded, Dims{Method: MethodPasskey})
				r.Observe(DependencyLatency, Dims{Dependency: DependencyDynamoDB}, time.Duration(g*i))
				if i%100 == 0 {
					r.Flush() // concurrent flushes split the totals over lines, never lose them
				}
			}
		})
	}
	wg.Wait()
	r.Flush()
	var count int64
	values := 0
	for _, l := range parseLines(t, buf.String()) {
		switch v := l.members[l.name].(type) {
		case json.Number:
			n, _ := v.Int64()
			count += n
		case []any:
			values += len(v)
		}
	}
	if count != 8*500 || values != 8*500 {
		t.Fatalf("count %d values %d, want %d each", count, values, 8*500)
	}
}

// TestNoSDK: the package links no AWS SDK (Define, which has no other AWS client, links it).
func TestNoSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Skipf("go list: %v %s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "aws") || strings.Contains(dep, "smithy") {
			t.Errorf("links %s", dep)
		}
	}
}

func TestCanonical(t *testing.T) {
	for _, c := range [][3]string{
		{"Method", "passkey", "passkey"}, {"Method", "", ""}, {"Method", "x@y.z", "other"},
		{"Reason", "budget", "budget"}, {"Kind", "notice", "notice"}, {"Nope", "passkey", "other"},
	} {
		if got := Canonical(c[0], c[1]); got != c[2] {
			t.Errorf("Canonical(%q, %q) = %q", c[0], c[1], got)
		}
	}
	if Allowed("Method", "") || !Allowed("Method", Other) || Allowed("Nope", Other) {
		t.Error("Allowed")
	}
}

// typical records what one Verify invocation records: 3 counts and 4 latencies.
func typical(r *Recorder, i int) {
	r.Count(SignInSucceeded, Dims{Method: MethodPasskey})
	r.Count(SendRefused, Dims{Channel: ChannelSMS, Reason: ReasonRateLimit})
	r.Count(Lockouts, Dims{})
	for j := range 4 {
		r.Observe(DependencyLatency, Dims{Dependency: DependencyDynamoDB}, time.Duration(i+j)*time.Microsecond*731)
	}
}

func BenchmarkCount(b *testing.B) {
	r, _ := newTest(b)
	d := Dims{Method: MethodPasskey, Reason: ReasonWrongAnswer}
	b.ReportAllocs()
	for b.Loop() {
		r.Count(SignInFailed, d)
	}
}

func BenchmarkObserve(b *testing.B) {
	r, _ := newTest(b)
	d := Dims{Dependency: DependencyDynamoDB}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.Observe(DependencyLatency, d, time.Millisecond)
		if i++; i%100 == 0 {
			r.Flush()
		}
	}
}

type countingWriter struct{ n, lines int }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); w.lines++; return len(p), nil }

// BenchmarkFlush: a typical Verify invocation (3 counts, 4 latencies) recorded and flushed.
func BenchmarkFlush(b *testing.B) {
	var w countingWriter
	r := New(&w, "Passwordless/prod")
	r.now = func() time.Time { return fixedNow }
	i := recordAndFlush(b, r)
	b.ReportMetric(float64(w.n)/float64(w.lines), "bytes/line")
	b.ReportMetric(float64(w.n)/float64(i), "bytes/invocation")
}

// BenchmarkOff: the same with metrics off (nil Recorder).
func BenchmarkOff(b *testing.B) {
	recordAndFlush(b, nil)
}

// recordAndFlush reports allocations and records and flushes a typical invocation (typical) on r
// once per benchmark iteration; it returns the number of iterations.
func recordAndFlush(b *testing.B, r *Recorder) int {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		typical(r, i)
		r.Flush()
		i++
	}
	return i
}

// TestMaxSeries: the dimension sets and allow-lists create at most MaxSeries CloudWatch metrics.
func TestMaxSeries(t *testing.T) {
	n := 0
	for _, d := range defs {
		for _, s := range d.sets {
			c := 1
			for _, f := range s {
				c *= len(allowed[f]) - 1 // every value and "other"
			}
			n += c
		}
	}
	if n != MaxSeries {
		t.Errorf("%d series, MaxSeries is %d", n, MaxSeries)
	}
}

// TestAppendJSONString: quotes, backslashes and control characters are escaped in both modes;
// bytes from 0x7f up only with asciiOnly; the result is appended to what b holds.
func TestAppendJSONString(t *testing.T) {
	for _, tc := range []struct {
		s         string
		asciiOnly bool
		want      string
	}{
		{`plain-1.x`, false, `"plain-1.x"`},
		{"q\"b\\n\n\x00\x1f", false, `"q\"b\\n\u000a\u0000\u001f"`},
		{"q\"b\\n\n\x00\x1f", true, `"q\"b\\n\u000a\u0000\u001f"`},
		{"é\x7f~", false, "\"é\x7f~\""},
		{"é\x7f~", true, `"\u00c3\u00a9\u007f~"`},
	} {
		got := string(AppendJSONString([]byte("x:"), tc.s, tc.asciiOnly))
		if got != "x:"+tc.want {
			t.Errorf("AppendJSONString(%q, %v) = %s, want x:%s", tc.s, tc.asciiOnly, got, tc.want)
		}
	}
}
