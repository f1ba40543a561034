package testkit

import "github.com/passwordless-go/cognito/infra/local/syncbuf"

// Buffer is a bytes.Buffer safe for concurrent writers (a slog handler or a metrics.Recorder
// used from several goroutines): the local emulators' syncbuf.Buffer, one implementation for
// both. The zero Buffer is empty and ready to use.
type Buffer = syncbuf.Buffer
