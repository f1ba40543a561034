package delivery

import (
	"crypto/rand"
	"io"
	"log/slog"
	"time"
)

// SenderDeps returns a sender's clock, source of secrets and logger with the defaults of the
// nil ones: time.Now, crypto/rand.Reader and a logger that discards everything. The senders of
// secrets (otp, magiclink, contact) take these three from their Deps.
func SenderDeps(now func() time.Time, rnd io.Reader, log *slog.Logger) (func() time.Time, io.Reader, *slog.Logger) {
	if now == nil {
		now = time.Now
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return now, rnd, log
}
