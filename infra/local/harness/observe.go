//go:build unix

package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/passwordless-go/cognito/infra/local/awsmock"
)

// The harness captures what an operator sees of the functions in CloudWatch and on EventBridge:
//
//   - metrics: every line a function writes on stdout that is a CloudWatch embedded metric
//     format (EMF) document [emf] is parsed as CloudWatch Logs would extract it (Metrics,
//     WaitMetric, OnMetric); a line that claims to be one (a JSON object with an "_aws" member)
//     but breaks the specification, so that CloudWatch would extract no metric from it, is
//     recorded in EMFErrors. The lines stay in the function's log (Host.Logs, Options.Log)
//     exactly as written, as they stay in CloudWatch Logs.
//   - audit events: every event the functions put on EventBridge (awsmock's PutEvents) is
//     decoded as the audit trail's detail (AuditEvents, WaitAuditEvent, OnAuditEvent).
//
// [emf] "Specification: Embedded metric format", Amazon CloudWatch User Guide
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
// the log event MUST be a JSON object with no other data before or after it; "_aws" MUST be an
// object with Timestamp (milliseconds since the epoch) and CloudWatchMetrics, an array of
// MetricDirectives, each with Namespace, Dimensions (an array of DimensionSets, arrays of
// dimension keys, at most 30 keys each, MAY be empty) and Metrics (at most 100
// MetricDefinitions, each with a Name and an optional Unit among CloudWatch's units); every
// referenced key MUST be a member of the root; a dimension target MUST be a string, a metric
// target a number or an array of at most 100 numbers. The published JSON schema requires at
// least one DimensionSet per directive (a metric without dimensions is declared with one empty
// set, [[]]) and a 1-255 character Namespace, Name and dimension key.

// Metric is one metric of one EMF line: what CloudWatch would publish once per DimensionSet.
type Metric struct {
	Function  string // the command whose stdout held the line: "create", "verify", "api", ...
	Namespace string
	Name      string
	Unit      string // as declared; "" when the line declares none (CloudWatch's None)
	// Dims are the values of every dimension any of the line's DimensionSets names (so a
	// metric declared with sets [], [Method] and [Reason] has Dims Method and Reason).
	Dims map[string]string
	// DimensionSets are the line's DimensionSets, as declared: CloudWatch publishes the value
	// once per set.
	DimensionSets [][]string
	// Values are the metric's values: one number, or the line's array of them.
	Values []float64
	// Time is the line's _aws.Timestamp.
	Time time.Time
}

// Value is the sum of m's values (the count a Count metric adds).
func (m Metric) Value() float64 {
	var s float64
	for _, v := range m.Values {
		s += v
	}
	return s
}

// String is a one-line summary: "verify SignInFailed{Method=email_otp,Reason=wrong_answer} 1 Count".
func (m Metric) String() string {
	var b strings.Builder
	b.WriteString(m.Function)
	b.WriteByte(' ')
	b.WriteString(m.Name)
	if len(m.Dims) > 0 {
		keys := slices.Sorted(maps.Keys(m.Dims))
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(k + "=" + m.Dims[k])
		}
		b.WriteByte('}')
	}
	if len(m.Values) == 1 {
		fmt.Fprintf(&b, " %g", m.Values[0])
	} else {
		fmt.Fprintf(&b, " %g", m.Values)
	}
	if m.Unit != "" {
		b.WriteString(" " + m.Unit)
	}
	return b.String()
}

// Has reports whether m is the metric name with at least the dimension values dims (nil: any).
func (m Metric) Has(name string, dims map[string]string) bool {
	if m.Name != name {
		return false
	}
	for k, v := range dims {
		if got, ok := m.Dims[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// MetricIs returns a matcher for WaitMetric and SumMetrics: the metric name with at least the
// dimension values dims.
func MetricIs(name string, dims map[string]string) func(Metric) bool {
	return func(m Metric) bool { return m.Has(name, dims) }
}

// SumMetrics adds up the values of the metrics match accepts.
func SumMetrics(ms []Metric, match func(Metric) bool) float64 {
	var s float64
	for _, m := range ms {
		if match(m) {
			s += m.Value()
		}
	}
	return s
}

// EMF limits, from the specification.
const (
	emfMaxDimensionKeys = 30
	emfMaxMetrics       = 100
	emfMaxValues        = 100
	emfMaxName          = 255
	emfMaxDimValue      = 1024
)

// emfUnits are CloudWatch's metric units (MetricDatum.Unit).
var emfUnits = map[string]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true, "Bytes": true, "Kilobytes": true,
	"Megabytes": true, "Gigabytes": true, "Terabytes": true, "Bits": true, "Kilobits": true,
	"Megabits": true, "Gigabits": true, "Terabits": true, "Percent": true, "Count": true,
	"Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true,
	"Gigabytes/Second": true, "Terabytes/Second": true, "Bits/Second": true,
	"Kilobits/Second": true, "Megabits/Second": true, "Gigabits/Second": true,
	"Terabits/Second": true, "Count/Second": true, "None": true,
}

// ParseEMF reads one log line as CloudWatch Logs reads an EMF document. isEMF is false for a line
// that is no EMF document (not a JSON object with an "_aws" member, such as the functions' JSON
// log lines); err is set for a line that is one but that CloudWatch would extract no metric from.
// function is recorded in each Metric.
func ParseEMF(function string, line []byte) (ms []Metric, isEMF bool, err error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' || !bytes.Contains(line, []byte(`"_aws"`)) {
		return nil, false, nil
	}
	var root map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		return nil, true, fmt.Errorf("not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, true, errors.New("data after the JSON object")
	}
	rawAWS, ok := root["_aws"]
	if !ok {
		return nil, false, nil // "_aws" only inside a value
	}
	var meta struct {
		Timestamp         json.RawMessage
		CloudWatchMetrics *[]struct {
			Namespace  *string
			Dimensions *[][]string
			Metrics    *[]struct {
				Name *string
				Unit *string
			}
		}
	}
	if err := json.Unmarshal(rawAWS, &meta); err != nil {
		return nil, true, fmt.Errorf("_aws: %w", err)
	}
	if meta.Timestamp == nil {
		return nil, true, errors.New("_aws.Timestamp is missing")
	}
	var ts int64
	if err := json.Unmarshal(meta.Timestamp, &ts); err != nil || ts < 0 {
		return nil, true, fmt.Errorf("_aws.Timestamp %s is not a number of milliseconds", meta.Timestamp)
	}
	if meta.CloudWatchMetrics == nil {
		return nil, true, errors.New("_aws.CloudWatchMetrics is missing")
	}
	at := time.UnixMilli(ts).UTC()
	for i, d := range *meta.CloudWatchMetrics {
		where := fmt.Sprintf("CloudWatchMetrics[%d]", i)
		if d.Namespace == nil || *d.Namespace == "" || len(*d.Namespace) > emfMaxName {
			return nil, true, fmt.Errorf("%s: Namespace missing, empty or longer than %d", where, emfMaxName)
		}
		if d.Dimensions == nil || len(*d.Dimensions) == 0 {
			return nil, true, fmt.Errorf("%s: no DimensionSet (a metric without dimensions is declared with [[]])", where)
		}
		if d.Metrics == nil {
			return nil, true, fmt.Errorf("%s: Metrics is missing", where)
		}
		if len(*d.Metrics) > emfMaxMetrics {
			return nil, true, fmt.Errorf("%s: %d MetricDefinitions, at most %d", where, len(*d.Metrics), emfMaxMetrics)
		}
		dims := map[string]string{}
		var sets [][]string
		for _, set := range *d.Dimensions {
			if len(set) > emfMaxDimensionKeys {
				return nil, true, fmt.Errorf("%s: a DimensionSet of %d keys, at most %d", where, len(set), emfMaxDimensionKeys)
			}
			for _, k := range set {
				if k == "" || len(k) > emfMaxName {
					return nil, true, fmt.Errorf("%s: dimension key %q empty or too long", where, k)
				}
				raw, ok := root[k]
				if !ok {
					return nil, true, fmt.Errorf("%s: dimension %q is not a member of the root", where, k)
				}
				var v string
				if err := json.Unmarshal(raw, &v); err != nil {
					return nil, true, fmt.Errorf("%s: dimension %q is not a string: %s", where, k, raw)
				}
				if strings.TrimSpace(v) == "" || len(v) > emfMaxDimValue {
					return nil, true, fmt.Errorf("%s: dimension %q value empty or longer than %d", where, k, emfMaxDimValue)
				}
				dims[k] = v
			}
			sets = append(sets, slices.Clone(set))
		}
		for _, md := range *d.Metrics {
			if md.Name == nil || *md.Name == "" || len(*md.Name) > emfMaxName {
				return nil, true, fmt.Errorf("%s: a MetricDefinition without a valid Name", where)
			}
			name := *md.Name
			unit := ""
			if md.Unit != nil {
				unit = *md.Unit
				if !emfUnits[unit] {
					return nil, true, fmt.Errorf("%s: metric %s has unit %q, not a CloudWatch unit", where, name, unit)
				}
			}
			raw, ok := root[name]
			if !ok {
				return nil, true, fmt.Errorf("%s: metric %s is not a member of the root", where, name)
			}
			vals, err := metricValues(raw)
			if err != nil {
				return nil, true, fmt.Errorf("%s: metric %s: %w", where, name, err)
			}
			ms = append(ms, Metric{
				Function: function, Namespace: *d.Namespace, Name: name, Unit: unit,
				Dims: maps.Clone(dims), DimensionSets: cloneSets(sets), Values: vals, Time: at,
			})
		}
	}
	return ms, true, nil
}

func cloneSets(sets [][]string) [][]string {
	out := make([][]string, len(sets))
	for i, s := range sets {
		out[i] = slices.Clone(s)
	}
	return out
}

// metricValues reads a metric target: a number or an array of at most 100 numbers.
func metricValues(raw json.RawMessage) ([]float64, error) {
	var one float64
	if err := json.Unmarshal(raw, &one); err == nil {
		if math.IsNaN(one) || math.IsInf(one, 0) {
			return nil, errors.New("not a finite number")
		}
		return []float64{one}, nil
	}
	var many []float64
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("value %s is neither a number nor an array of numbers", raw)
	}
	if len(many) == 0 || len(many) > emfMaxValues {
		return nil, fmt.Errorf("an array of %d values (1 to %d)", len(many), emfMaxValues)
	}
	return many, nil
}

// observer collects the metrics of every function's stdout.
type observer struct {
	mu       sync.Mutex
	metrics  []Metric
	emfErrs  []string
	sig      chan struct{} // closed and replaced when a metric arrives
	onMetric []func(Metric)
}

func newObserver() *observer { return &observer{sig: make(chan struct{})} }

// tap returns the writer a function's stdout goes to: each line is forwarded to next unchanged
// and read for EMF documents.
func (o *observer) tap(function string, next io.Writer) io.Writer {
	if next == nil {
		next = io.Discard
	}
	return &emfTap{o: o, function: function, next: next}
}

// emfTap splits a function's stdout into lines (lambdarun writes whole lines, but a line over
// 64 KiB arrives in parts) and hands each to the observer.
type emfTap struct {
	o        *observer
	function string
	next     io.Writer
	mu       sync.Mutex
	partial  []byte
}

const maxEMFLine = 1 << 20 // CloudWatch Logs' event size limit; longer partial lines are dropped

func (t *emfTap) Write(p []byte) (int, error) {
	n, err := t.next.Write(p)
	t.mu.Lock()
	t.partial = append(t.partial, p...)
	var lines [][]byte
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, bytes.Clone(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
	if len(t.partial) > maxEMFLine {
		t.partial = nil
	}
	t.partial = slices.Clip(t.partial)
	t.mu.Unlock()
	for _, l := range lines {
		t.o.line(t.function, l)
	}
	return n, err
}

func (o *observer) line(function string, line []byte) {
	ms, isEMF, err := ParseEMF(function, line)
	if !isEMF {
		return
	}
	o.mu.Lock()
	if err != nil {
		o.emfErrs = append(o.emfErrs, fmt.Sprintf("%s: %v: %s", function, err, truncate(line, 512)))
		o.mu.Unlock()
		return
	}
	for _, m := range ms {
		o.metrics = append(o.metrics, cloneMetric(m))
	}
	close(o.sig)
	o.sig = make(chan struct{})
	cbs := o.onMetric
	o.mu.Unlock()
	for _, m := range ms {
		for _, f := range cbs {
			f(cloneMetric(m))
		}
	}
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

func cloneMetric(m Metric) Metric {
	m.Dims = maps.Clone(m.Dims)
	m.DimensionSets = cloneSets(m.DimensionSets)
	m.Values = slices.Clone(m.Values)
	return m
}

// Metrics returns every metric the functions have written so far, in the order their lines
// arrived.
func (h *Harness) Metrics() []Metric {
	o := h.obs
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]Metric, len(o.metrics))
	for i, m := range o.metrics {
		out[i] = cloneMetric(m)
	}
	return out
}

// EMFErrors returns the lines that claimed to be EMF documents but break the specification (so
// CloudWatch would extract no metric from them), each as "<function>: <reason>: <line>".
func (h *Harness) EMFErrors() []string {
	h.obs.mu.Lock()
	defer h.obs.mu.Unlock()
	return slices.Clone(h.obs.emfErrs)
}

// OnMetric registers f to be called with each metric written from now on, in the goroutine that
// reads the function's output. f must not block for long.
func (h *Harness) OnMetric(f func(Metric)) {
	if f == nil {
		return
	}
	h.obs.mu.Lock()
	h.obs.onMetric = append(h.obs.onMetric, f)
	h.obs.mu.Unlock()
}

// WaitMetric returns the first metric at index from or later of Metrics that match accepts,
// waiting for it until ctx is done. A function writes its metrics before it answers, but its
// output is read concurrently: wait rather than read Metrics right after a call.
func (h *Harness) WaitMetric(ctx context.Context, from int, match func(Metric) bool) (Metric, error) {
	o := h.obs
	for {
		o.mu.Lock()
		for i := max(from, 0); i < len(o.metrics); i++ {
			if match(o.metrics[i]) {
				m := cloneMetric(o.metrics[i])
				o.mu.Unlock()
				return m, nil
			}
		}
		have, sig := len(o.metrics), o.sig
		o.mu.Unlock()
		select {
		case <-sig:
		case <-ctx.Done():
			return Metric{}, fmt.Errorf("harness: waiting for a metric (have %d, from %d): %w", have, from, ctx.Err())
		}
	}
}

// AuditEvent is one event the functions put on EventBridge, its detail decoded as the audit
// trail's schema (lambdas/audit): the typed fields are read from the detail's members of the same
// name ("" or 0 when absent or of another type), Detail holds every member.
type AuditEvent struct {
	Bus, Source, DetailType string
	Version, Type, Time     string // "version", "type", "time" (RFC 3339)
	Function                string // "verify", "api"
	UserPoolID, User        string // "userPoolId"; "user", the keyed user reference
	Method, Reason          string
	Attribute               string
	Count                   int
	Detail                  map[string]any
	Raw                     string    // the detail as sent
	At                      time.Time // when awsmock took it
}

// String is a one-line summary: "verify sign_in.succeeded user=0123456789ab method=email_otp".
func (e AuditEvent) String() string {
	var b strings.Builder
	b.WriteString(e.Function)
	if e.Function != "" {
		b.WriteByte(' ')
	}
	b.WriteString(e.DetailType)
	for _, kv := range [][2]string{{"user", e.User}, {"method", e.Method}, {"reason", e.Reason}, {"attribute", e.Attribute}} {
		if kv[1] != "" {
			b.WriteString(" " + kv[0] + "=" + kv[1])
		}
	}
	if e.Count != 0 {
		fmt.Fprintf(&b, " count=%d", e.Count)
	}
	if e.Bus != awsmock.DefaultEventBus {
		b.WriteString(" bus=" + e.Bus)
	}
	return b.String()
}

// ParseAuditEvent decodes an event's detail as the audit trail's schema.
func ParseAuditEvent(ev awsmock.Event) AuditEvent {
	a := AuditEvent{Bus: ev.Bus, Source: ev.Source, DetailType: ev.DetailType, Raw: ev.Detail, At: ev.At}
	d, err := ev.DetailMap()
	if err != nil {
		return a
	}
	a.Detail = d
	s := func(k string) string { v, _ := d[k].(string); return v }
	a.Version, a.Type, a.Time, a.Function = s("version"), s("type"), s("time"), s("function")
	a.UserPoolID, a.User, a.Method, a.Reason, a.Attribute = s("userPoolId"), s("user"), s("method"), s("reason"), s("attribute")
	if n, ok := d["count"].(float64); ok && n == math.Trunc(n) && math.Abs(n) < 1<<31 {
		a.Count = int(n)
	}
	return a
}

// AuditEvents returns every event the functions put on EventBridge, decoded, in order.
func (h *Harness) AuditEvents() []AuditEvent {
	evs := h.AWS.Events()
	out := make([]AuditEvent, len(evs))
	for i, e := range evs {
		out[i] = ParseAuditEvent(e)
	}
	return out
}

// OnAuditEvent registers f to be called with each event put from now on, before PutEvents is
// answered. f must not block for long.
func (h *Harness) OnAuditEvent(f func(AuditEvent)) {
	if f == nil {
		return
	}
	h.AWS.OnEvent(func(ev awsmock.Event) { f(ParseAuditEvent(ev)) })
}

// WaitAuditEvent returns the first event at index from or later of AuditEvents that match
// accepts, waiting for it until ctx is done.
func (h *Harness) WaitAuditEvent(ctx context.Context, from int, match func(AuditEvent) bool) (AuditEvent, error) {
	for n := max(from, 0) + 1; ; n++ {
		ev, err := h.AWS.WaitEvent(ctx, n)
		if err != nil {
			return AuditEvent{}, fmt.Errorf("harness: waiting for an audit event (from %d): %w", from, err)
		}
		if a := ParseAuditEvent(ev); match(a) {
			return a, nil
		}
	}
}

// AuditIs returns a matcher for WaitAuditEvent: the detail-type typ (e.g. "sign_in.succeeded")
// for the keyed user reference user ("" any).
func AuditIs(typ, user string) func(AuditEvent) bool {
	return func(a AuditEvent) bool { return a.DetailType == typ && (user == "" || a.User == user) }
}

// metricNames lists the distinct metric names in ms, sorted (for failure messages).
func metricNames(ms []Metric) []string {
	seen := map[string]bool{}
	for _, m := range ms {
		seen[m.String()] = true
	}
	out := slices.Collect(maps.Keys(seen))
	sort.Strings(out)
	return out
}

// MetricSummary lists the distinct metrics written so far as Metric.String gives them, sorted:
// for test failure messages.
func (h *Harness) MetricSummary() []string { return metricNames(h.Metrics()) }
