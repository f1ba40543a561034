// Package syncbuf holds Buffer, a bytes.Buffer safe for concurrent writers: the log sink the
// local emulators' tests hand to code that logs from several goroutines.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer is an io.Writer that keeps everything written to it; its methods may be called from
// several goroutines. The zero value is an empty Buffer ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p; it never fails.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Bytes returns a copy of everything written so far.
func (s *Buffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}
