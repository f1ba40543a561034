// Package logging builds the JSON logger every function writes to CloudWatch Logs. Handlers log
// decisions and references, never codes, nonces, answers, keys or tokens.
package logging

import (
	"io"
	"log/slog"
	"os"
	"strings"
)

// EnvLevel selects the level: debug, info (default), warn or error.
const EnvLevel = "LOG_LEVEL"

// New returns a JSON logger writing to w (os.Stdout when nil) at the level named by LOG_LEVEL.
func New(w io.Writer, getenv func(string) string) *slog.Logger {
	if w == nil {
		w = os.Stdout
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	level := slog.LevelInfo
	switch strings.ToLower(getenv(EnvLevel)) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
