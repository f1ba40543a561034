package delivery

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Timing padding for answers that send nothing.
const (
	maxPad         = 750 * time.Millisecond
	padDeadlineGap = time.Second // always leave this much of the Lambda deadline
)

// SendLatency is a moving average of how long successful sends took, used to pad answers that
// send nothing so that they take about as long as answers that send. The zero value holds no
// average and pads nothing; it is safe for concurrent use.
type SendLatency struct{ avg atomic.Int64 }

// Set replaces the average with d (a prior, before any send was observed).
func (l *SendLatency) Set(d time.Duration) { l.avg.Store(int64(d)) }

// Observe folds a successful send's duration into the average (weight 1/8; the first
// observation into an empty average is taken as it is).
func (l *SendLatency) Observe(d time.Duration) {
	for {
		old := l.avg.Load()
		next := int64(d)
		if old != 0 {
			next = old + (int64(d)-old)/8
		}
		if l.avg.CompareAndSwap(old, next) {
			return
		}
	}
}

// Pad waits about as long as recent sends took (0.8-1.2 times the average, at most 750 ms,
// never into the last second before ctx's deadline), or until ctx is done.
func (l *SendLatency) Pad(ctx context.Context) {
	avg := time.Duration(l.avg.Load())
	if avg <= 0 {
		return
	}
	d := min(time.Duration(float64(avg)*(0.8+0.4*rand.Float64())), maxPad)
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl)-padDeadlineGap)
	}
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
