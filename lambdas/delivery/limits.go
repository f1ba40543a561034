package delivery

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/passwordless-go/cognito/lambdas/store"
)

// Bounds of a list of limits (ParseLimits, CheckLimits).
const (
	MaxLimits      = 5                   // limits in one list
	MaxLimitWindow = 31 * 24 * time.Hour // the longest window
)

// ParseLimits parses "window:max,..." such as "1h:20,24h:100": windows in Go duration syntax,
// whole seconds from 1 s to 31 days, distinct; 1-5 limits; each max 1-maxPerWindow.
func ParseLimits(s string, maxPerWindow int) ([]store.Limit, error) {
	var out []store.Limit
	for part := range strings.SplitSeq(s, ",") {
		w, m, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return nil, fmt.Errorf("limit %q is not window:max", Shorten(part))
		}
		d, err := time.ParseDuration(strings.TrimSpace(w))
		if err != nil {
			return nil, fmt.Errorf("limit %q: bad window", Shorten(part))
		}
		n, err := strconv.Atoi(strings.TrimSpace(m))
		if err != nil {
			return nil, fmt.Errorf("limit %q: bad max", Shorten(part))
		}
		out = append(out, store.Limit{Window: d, Max: n})
	}
	if err := CheckLimits(out, maxPerWindow); err != nil {
		return nil, err
	}
	return out, nil
}

// CheckLimits checks a list of limits against the bounds ParseLimits applies.
func CheckLimits(l []store.Limit, maxPerWindow int) error {
	if len(l) == 0 || len(l) > MaxLimits {
		return fmt.Errorf("%d limits, want 1-%d", len(l), MaxLimits)
	}
	seen := map[time.Duration]bool{}
	for _, x := range l {
		if x.Window < time.Second || x.Window > MaxLimitWindow || x.Window%time.Second != 0 {
			return fmt.Errorf("limit window %s is not whole seconds in range 1s-%s", x.Window, MaxLimitWindow)
		}
		if x.Max < 1 || x.Max > maxPerWindow {
			return fmt.Errorf("limit max %d out of range 1-%d", x.Max, maxPerWindow)
		}
		if seen[x.Window] {
			return fmt.Errorf("two limits with window %s", x.Window)
		}
		seen[x.Window] = true
	}
	return nil
}
