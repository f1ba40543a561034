//go:build unix

package perf

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/passwordless-go/cognito/infra/local/awsmock"
	"github.com/passwordless-go/cognito/infra/local/lambdarun"
)

// Target is something to cold-start: a function, an event that makes no AWS call and a check of
// the answer.
type Target struct {
	Name     string
	Function lambdarun.Function
	// Event is delivered at the first GET /next. It makes no AWS call, so every awsmock call
	// counted across the start came from init.
	Event []byte
	// Check returns an error unless out is the expected answer to Event.
	Check func(out []byte) error
}

// Target returns the cold-start Target of one of Functions.
func (r *Rig) Target(name string) (Target, error) {
	fn, err := r.Function(name)
	if err != nil {
		return Target{}, err
	}
	ev, ok := coldEvents[name]
	if !ok {
		return Target{}, fmt.Errorf("perf: no cold-start event for %q", name)
	}
	return Target{Name: name, Function: fn, Event: ev.event(), Check: ev.check}, nil
}

// Cold is one cold start.
type Cold struct {
	// ColdStart is exec to the first GET /runtime/invocation/next (lambdarun's measure).
	ColdStart time.Duration
	// InitCalls is the number of awsmock calls while the process started and answered an event
	// that makes none, the deployment secret's read aside: calls made at init. It must be 0.
	InitCalls int
	// SecretCalls are the Secrets Manager calls of the same start: the deployment secret, read on
	// an instance's first request (create, verify and api read it when the event needs the key).
	SecretCalls int
	// PeakRSS is the process's VmHWM after the one invocation, in bytes (0 where unreadable).
	PeakRSS int64
}

// startTimeout bounds one cold start: Lambda's init limit, the invocation and the shutdown.
const startTimeout = lambdarun.DefaultInitTimeout + lambdarun.DefaultTimeout + 5*time.Second

// ColdStart starts t's function once in a fresh process on its own Host, hands it t.Event, checks
// the answer and stops the process. Nothing else may call awsmock meanwhile.
func (r *Rig) ColdStart(ctx context.Context, t Target) (Cold, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	fn := t.Function
	fn.MaxConcurrency = 1
	before, secretsBefore := r.Calls(), r.secretCalls()
	h, err := lambdarun.Start(ctx, fn)
	if err != nil {
		return Cold{}, fmt.Errorf("perf: %s: %w", t.Name, err)
	}
	defer h.Close()
	out, err := h.Invoke(ctx, t.Event)
	if err != nil {
		return Cold{}, fmt.Errorf("perf: %s: cold start: %w%s", t.Name, err, logTail(h))
	}
	if err := t.Check(out); err != nil {
		return Cold{}, fmt.Errorf("perf: %s: cold-start answer: %w", t.Name, err)
	}
	s := h.Stats()
	if s.ColdStarts != 1 || len(s.ColdStartDurations) != 1 {
		return Cold{}, fmt.Errorf("perf: %s: want one process reaching GET /next, got %d started and %d cold-start durations", t.Name, s.ColdStarts, len(s.ColdStartDurations))
	}
	peak := h.PeakRSS()
	h.Close()
	secrets := r.secretCalls() - secretsBefore
	return Cold{ColdStart: s.ColdStartDurations[0], InitCalls: r.Calls() - before - secrets, SecretCalls: secrets, PeakRSS: peak}, nil
}

// secretCalls is the number of Secrets Manager calls awsmock has received so far.
func (r *Rig) secretCalls() int {
	n := 0
	for k, c := range r.AWS.Calls() {
		if strings.HasPrefix(k, awsmock.ServiceSecretsManager+".") {
			n += c
		}
	}
	return n
}

// ColdStarts cold-starts each target n times, round-robin (so drift on a shared machine spreads
// over all of them), and returns the starts by target name. It stops at the first error.
func (r *Rig) ColdStarts(ctx context.Context, targets []Target, n int) (map[string][]Cold, error) {
	out := map[string][]Cold{}
	for i := 0; i < n; i++ {
		for _, t := range targets {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			s, err := r.ColdStart(ctx, t)
			if err != nil {
				return out, err
			}
			out[t.Name] = append(out[t.Name], s)
		}
	}
	return out, nil
}

// Summary summarizes durations with nearest-rank percentiles.
type Summary struct {
	N                  int
	P50, P90, Min, Max time.Duration
}

// Summarize returns the Summary of ds (zero for none).
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return Summary{N: len(s), P50: Percentile(s, 50), P90: Percentile(s, 90), Min: s[0], Max: s[len(s)-1]}
}

// Percentile is the nearest-rank p-th percentile of sorted (ascending, non-empty).
func Percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// ColdStartDurations returns the ColdStart of each start.
func ColdStartDurations(starts []Cold) []time.Duration {
	ds := make([]time.Duration, len(starts))
	for i, s := range starts {
		ds[i] = s.ColdStart
	}
	return ds
}

// InitCalls sums InitCalls over starts.
func InitCalls(starts []Cold) int {
	n := 0
	for _, s := range starts {
		n += s.InitCalls
	}
	return n
}

// Ms is d in milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
