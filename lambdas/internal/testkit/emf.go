// Package testkit holds test helpers that several lambdas packages share. It imports
// "testing", so only test code may import it.
package testkit

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// EMFCounts parses the CloudWatch embedded-metric-format lines in b, as package metrics writes
// them (one metric a line), and sums each metric by name and dimensions, keyed
// "Name{Dim=value,...}" with the dimensions (the line's string members) sorted:
// "SendRefused{Channel=sms,Reason=country}". It fails tb on a line that is not JSON (a blank one
// too), has no timestamp, has not exactly one CloudWatchMetrics entry holding exactly one
// metric, is of a namespace other than ns, names in Dimensions a dimension the line gives no
// string value, or whose metric is not a Count with a numeric value.
func EMFCounts(tb testing.TB, b []byte, ns string) map[string]float64 {
	tb.Helper()
	out := map[string]float64{}
	for line := range strings.Lines(string(b)) {
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			tb.Fatalf("metric line is not JSON: %v\n%s", err, line)
		}
		var meta struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		}
		if err := json.Unmarshal(doc["_aws"], &meta); err != nil || meta.Timestamp == 0 || len(meta.CloudWatchMetrics) != 1 ||
			len(meta.CloudWatchMetrics[0].Metrics) != 1 {
			tb.Fatalf("not an EMF document with one metric (%v): %s", err, line)
		}
		d := meta.CloudWatchMetrics[0]
		if d.Namespace != ns {
			tb.Fatalf("namespace %q, want %q", d.Namespace, ns)
		}
		var dims []string
		for k, v := range doc {
			var s string
			if k != "_aws" && json.Unmarshal(v, &s) == nil {
				dims = append(dims, k+"="+s)
			}
		}
		for _, set := range d.Dimensions {
			for _, k := range set {
				var s string
				if json.Unmarshal(doc[k], &s) != nil {
					tb.Fatalf("dimension %s has no value: %s", k, line)
				}
			}
		}
		slices.Sort(dims)
		m := d.Metrics[0]
		var v float64
		if err := json.Unmarshal(doc[m.Name], &v); err != nil || m.Unit != "Count" {
			tb.Fatalf("metric %s: unit %s, value %v: %s", m.Name, m.Unit, err, line)
		}
		out[m.Name+"{"+strings.Join(dims, ",")+"}"] += v
	}
	return out
}

// WantCounts fails tb (Errorf, the test goes on) unless got and want hold the same keys with
// the same values, as EMFCounts returns them; a nil or empty want is "no metric at all". The
// message names what (omitted when empty) and lists both maps sorted, "[Name{Dim=v}=2 ...]".
func WantCounts(tb testing.TB, what string, got, want map[string]float64) {
	tb.Helper()
	if maps.Equal(got, want) {
		return
	}
	if what != "" {
		what += ": "
	}
	tb.Errorf("%smetrics %s, want %s", what, formatCounts(got), formatCounts(want))
}

// formatCounts lists m sorted by key: "[A{X=y}=1 B{}=2]".
func formatCounts(m map[string]float64) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%g", k, m[k]))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
