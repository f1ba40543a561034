package metrics

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EnvNamespace names the CloudWatch namespace in a function's environment; unset or empty turns
// metrics off.
const EnvNamespace = "METRICS_NAMESPACE"

// MaxValues is the most values one metric carries in one EMF line (the specification's limit);
// more observations are split over several lines.
const MaxValues = 100

// MaxSeries bounds the number of distinct CloudWatch metrics (name and dimension values) the
// package can create in one namespace, counting every allow-listed combination of every set.
const MaxSeries = 125

// Dims are the dimensions of one recording. Every field is optional and each metric uses only
// the fields listed on its name constant. A value outside the field's allow-list (the constants
// in names.go) is recorded as Other, so no address, phone number, key ID or user can become a
// dimension.
type Dims struct {
	Method, Reason, Channel, Kind, Dependency string
}

// key identifies one aggregate: a metric and the allow-list positions of its fields.
type key struct {
	m int8
	v [numFields]uint8
}

// Counter counts metrics: what the functions' packages need of a *Recorder (whose methods are
// no-ops on a nil pointer). Names are the package's metric constants; dimension values outside
// the allow-lists are recorded as Other.
type Counter interface {
	Count(name string, d Dims)
}

var _ Counter = (*Recorder)(nil)

// Recorder aggregates the metrics of one invocation and writes them as EMF lines on Flush. It is
// safe for concurrent use. Every method of a nil *Recorder is a no-op, so a function with metrics
// off pays nothing.
type Recorder struct {
	w   io.Writer
	ns  string
	now func() time.Time

	mu     sync.Mutex
	counts map[key]int64
	obs    map[key][]float64
	keys   []key  // reused by Flush
	buf    []byte // reused by Flush
}

// New returns a Recorder writing EMF lines for namespace to w (os.Stdout when nil). An empty
// namespace returns nil (metrics off). The namespace is not validated here; FromEnv does.
func New(w io.Writer, namespace string) *Recorder {
	if namespace == "" {
		return nil
	}
	if w == nil {
		w = os.Stdout
	}
	return &Recorder{
		w: w, ns: namespace, now: time.Now,
		counts: make(map[key]int64), obs: make(map[key][]float64),
	}
}

// FromEnv returns a Recorder for the namespace in METRICS_NAMESPACE writing to w (os.Stdout when
// nil), reading the environment with getenv (os.Getenv when nil). Unset or empty returns nil, nil
// (metrics off). A namespace CloudWatch would refuse is an error: 1 to 255 characters among
// A-Z a-z 0-9 . - _ / # : and space, at least one not a space, not starting with ':' or "AWS/".
func FromEnv(getenv func(string) string, w io.Writer) (*Recorder, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	ns := getenv(EnvNamespace)
	if ns == "" {
		return nil, nil
	}
	if err := ValidNamespace(ns); err != nil {
		return nil, err
	}
	return New(w, ns), nil
}

// ValidNamespace returns an error when CloudWatch would refuse ns as a custom namespace.
func ValidNamespace(ns string) error {
	if len(ns) == 0 || len(ns) > 255 {
		return fmt.Errorf("metrics: %s must have 1 to 255 characters, has %d", EnvNamespace, len(ns))
	}
	if strings.HasPrefix(ns, "AWS/") {
		return errors.New("metrics: " + EnvNamespace + " must not start with \"AWS/\" (reserved for AWS services)")
	}
	if ns[0] == ':' {
		return errors.New("metrics: " + EnvNamespace + " must not start with ':'")
	}
	blank := true
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '.', c == '-', c == '_', c == '/', c == '#', c == ':':
			blank = false
		case c == ' ':
		default:
			return fmt.Errorf("metrics: %s has a character CloudWatch does not allow at position %d", EnvNamespace, i)
		}
	}
	if blank {
		return errors.New("metrics: " + EnvNamespace + " is blank")
	}
	return nil
}

// makeKey normalizes d for metric m: fields the metric does not use are dropped, values outside
// the allow-lists become Other, and an empty field that every dimension set of the metric needs
// becomes Other.
func makeKey(m int, d *Dims) key {
	k := key{m: int8(m)}
	vals := [numFields]string{d.Method, d.Reason, d.Channel, d.Kind, d.Dependency}
	for _, f := range defs[m].fields {
		i := index(f, vals[f])
		if i == 0 && required[m][f] {
			i = uint8(len(allowed[f]) - 1)
		}
		k.v[f] = i
	}
	return k
}

// required[m][f]: every dimension set of metric m contains field f.
var required = func() (r [len(defs)][numFields]bool) {
	for m, d := range defs {
		for _, f := range d.fields {
			all := true
			for _, s := range d.sets {
				if !slices.Contains(s, f) {
					all = false
				}
			}
			r[m][f] = all
		}
	}
	return r
}()

// Count adds 1 to the Count metric name with dimensions d. An unknown name, or a name whose unit
// is not Count, is dropped.
func (r *Recorder) Count(name string, d Dims) {
	if r == nil {
		return
	}
	m := lookup(name)
	if m < 0 || defs[m].unit != unitCount {
		return
	}
	k := makeKey(m, &d)
	r.mu.Lock()
	r.counts[k]++
	r.mu.Unlock()
}

// Observe records v, in milliseconds with microsecond precision (negative as 0), for the
// Milliseconds metric name (DependencyLatency) with dimensions d. An unknown name, or a name whose
// unit is not Milliseconds, is dropped.
func (r *Recorder) Observe(name string, d Dims, v time.Duration) {
	if r == nil {
		return
	}
	m := lookup(name)
	if m < 0 || defs[m].unit != unitMilliseconds {
		return
	}
	k := makeKey(m, &d)
	ms := float64(max(v, 0).Microseconds()) / 1000
	r.mu.Lock()
	r.obs[k] = append(r.obs[k], ms)
	r.mu.Unlock()
}

// Flush writes what was recorded since the last Flush as EMF lines, one line (one Write) per
// metric and distinct dimension values: counts summed, durations as an array of at most
// MaxValues values (more are split over several lines). Then it resets. Write errors are
// ignored: metrics never fail an invocation.
func (r *Recorder) Flush() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = r.keys[:0]
	for k, n := range r.counts {
		if n != 0 {
			r.keys = append(r.keys, k)
		}
	}
	for k, v := range r.obs {
		if len(v) != 0 {
			r.keys = append(r.keys, k)
		}
	}
	if len(r.keys) == 0 {
		return
	}
	slices.SortFunc(r.keys, func(a, b key) int {
		if c := cmp.Compare(a.m, b.m); c != 0 {
			return c
		}
		return slices.Compare(a.v[:], b.v[:])
	})
	ts := r.now().UnixMilli()
	for _, k := range r.keys {
		if defs[k.m].unit == unitCount {
			r.buf = r.appendLine(r.buf[:0], ts, k, r.counts[k], nil)
			_, _ = r.w.Write(r.buf)
			r.counts[k] = 0
			continue
		}
		vals := r.obs[k]
		for len(vals) > 0 {
			n := min(len(vals), MaxValues)
			r.buf = r.appendLine(r.buf[:0], ts, k, 0, vals[:n])
			_, _ = r.w.Write(r.buf)
			vals = vals[n:]
		}
		r.obs[k] = r.obs[k][:0]
	}
}

// appendLine appends one EMF document and a newline to b: the metric of k with the count n, or
// with the values vals when vals is not nil.
func (r *Recorder) appendLine(b []byte, ts int64, k key, n int64, vals []float64) []byte {
	d := &defs[k.m]
	b = append(b, `{"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"CloudWatchMetrics":[{"Namespace":`...)
	b = AppendJSONString(b, r.ns, false)
	b = append(b, `,"Dimensions":[`...)
	first := true
	for _, s := range d.sets {
		if !complete(s, k) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '[')
		for i, f := range s {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, fieldNames[f]...)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	b = append(b, `],"Metrics":[{"Name":"`...)
	b = append(b, d.name...)
	b = append(b, `","Unit":"`...)
	b = append(b, unitNames[d.unit]...)
	b = append(b, `"}]}]}`...)
	for _, f := range d.fields {
		if k.v[f] == 0 {
			continue
		}
		b = append(b, `,"`...)
		b = append(b, fieldNames[f]...)
		b = append(b, `":"`...)
		b = append(b, allowed[f][k.v[f]]...)
		b = append(b, '"')
	}
	b = append(b, `,"`...)
	b = append(b, d.name...)
	b = append(b, `":`...)
	if vals == nil {
		b = strconv.AppendInt(b, n, 10)
	} else {
		b = append(b, '[')
		for i, v := range vals {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendFloat(b, v, 'f', -1, 64)
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...)
}

// complete reports whether every field of the dimension set s has a value in k.
func complete(s []field, k key) bool {
	for _, f := range s {
		if k.v[f] == 0 {
			return false
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s to b as a JSON string: quotes and backslashes are escaped with a
// backslash and control characters (bytes below 0x20) as \u00XX; with asciiOnly, so is every
// byte from 0x7f up, one by one (for values already validated as ASCII, where the escaping is a
// second line of defence: the output is then ASCII whatever s holds). It allocates only when b
// must grow.
func AppendJSONString(b []byte, s string, asciiOnly bool) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || asciiOnly && c >= 0x7f:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
