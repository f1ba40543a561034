package authflow

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Environment variables the construct sets on the trigger functions.
const (
	EnvMethods     = "SIGN_IN_METHODS" // comma-separated Methods; empty means none enabled
	EnvMaxAttempts = "MAX_ATTEMPTS"    // wrong answers per sign-in; default DefaultMaxAttempts
	EnvMaxResends  = "MAX_RESENDS"     // new codes per sign-in; default DefaultMaxResends
)

// Defaults for Config.
const (
	DefaultMaxAttempts = 3
	DefaultMaxResends  = 2
)

// Config is what the state machine needs to know about the deployment.
type Config struct {
	// Methods enabled for this user pool. A method not listed is refused. Default: none.
	Methods []Method
	// MaxAttempts is how many wrong answers one sign-in may give before it fails. Default 3.
	MaxAttempts int
	// MaxResends is how many times one sign-in may ask for a new code. Default 2.
	MaxResends int
}

// Enabled reports whether m is enabled.
func (c Config) Enabled(m Method) bool {
	for _, e := range c.Methods {
		if e == m {
			return true
		}
	}
	return false
}

// MaxRounds is the hard cap on rounds in one sign-in: the nonce round, the first code round, one
// round per allowed wrong answer and one per allowed resend.
func (c Config) MaxRounds() int { return 2 + c.MaxAttempts + c.MaxResends }

// MethodList returns the enabled methods comma-separated, as published to the client.
func (c Config) MethodList() string {
	s := make([]string, len(c.Methods))
	for i, m := range c.Methods {
		s[i] = string(m)
	}
	return strings.Join(s, ",")
}

// Validate checks that the values are in range.
func (c Config) Validate() error {
	if c.MaxAttempts < 1 || c.MaxAttempts > 10 {
		return fmt.Errorf("authflow: max attempts %d out of range 1-10", c.MaxAttempts)
	}
	if c.MaxResends < 0 || c.MaxResends > 5 {
		return fmt.Errorf("authflow: max resends %d out of range 0-5", c.MaxResends)
	}
	seen := map[Method]bool{}
	for _, m := range c.Methods {
		if _, err := ParseMethod(string(m)); err != nil {
			return err
		}
		if seen[m] {
			return fmt.Errorf("authflow: method %q listed twice", m)
		}
		seen[m] = true
	}
	return nil
}

// ConfigFromEnv reads the Config from the environment through getenv (os.Getenv when nil).
// Unset numbers take their defaults; bad values are errors, so a misconfigured function fails at
// start-up instead of signing anyone in.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := Config{MaxAttempts: DefaultMaxAttempts, MaxResends: DefaultMaxResends}
	if s := strings.TrimSpace(getenv(EnvMethods)); s != "" {
		for _, part := range strings.Split(s, ",") {
			m, err := ParseMethod(strings.TrimSpace(part))
			if err != nil {
				return Config{}, fmt.Errorf("%s: %w", EnvMethods, err)
			}
			c.Methods = append(c.Methods, m)
		}
	}
	for _, v := range []struct {
		env string
		dst *int
	}{{EnvMaxAttempts, &c.MaxAttempts}, {EnvMaxResends, &c.MaxResends}} {
		if s := getenv(v.env); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return Config{}, fmt.Errorf("%s: %q is not a number", v.env, s)
			}
			*v.dst = n
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
