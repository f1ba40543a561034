package syncbuf_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/passwordless-go/cognito/infra/local/syncbuf"
)

// TestBuffer: every write from concurrent writers is kept whole.
func TestBuffer(t *testing.T) {
	var b syncbuf.Buffer
	if b.String() != "" {
		t.Fatalf("zero Buffer holds %q", b.String())
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if n, err := b.Write([]byte("line\n")); n != 5 || err != nil {
					t.Errorf("Write: %d, %v", n, err)
				}
			}
		})
	}
	wg.Wait()
	if got, want := b.String(), strings.Repeat("line\n", 800); got != want {
		t.Fatalf("got %d bytes, want %d lines of \"line\\n\"", len(got), 800)
	}
}

// TestBytesIsACopy: changing what Bytes returned does not change the Buffer.
func TestBytesIsACopy(t *testing.T) {
	var b syncbuf.Buffer
	b.Write([]byte("abc"))
	got := b.Bytes()
	got[0] = 'x'
	if string(got) != "xbc" || b.String() != "abc" {
		t.Errorf("Bytes %q, String %q: want a copy", got, b.String())
	}
}
