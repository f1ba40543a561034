package otp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Code length bounds.
const (
	MinDigits = 6
	MaxDigits = 10
)

// SaltBytes is the length of the random salt (the HMAC key) drawn for every code.
const SaltBytes = 16

// maxReads bounds how often Generate reads from r. With a uniform source a read is rejected
// wholesale with probability below 1e-15, so hitting the bound means the source is broken.
const maxReads = 8

// acceptBelow is the largest multiple of 10 not above 256: bytes at or above it are rejected, so
// every digit comes from exactly 25 byte values and is equally likely (no modulo bias).
const acceptBelow = 250

// Generate returns a code of digits decimal digits (MinDigits to MaxDigits), each drawn uniformly
// from r by rejection sampling: a byte b < 250 gives the digit b % 10, larger bytes are dropped.
// r nil means crypto/rand. A reader that fails or keeps giving rejected bytes is an error.
func Generate(r io.Reader, digits int) (string, error) {
	if digits < MinDigits || digits > MaxDigits {
		return "", fmt.Errorf("otp: %d digits out of range %d-%d", digits, MinDigits, MaxDigits)
	}
	if r == nil {
		r = rand.Reader
	}
	var out [MaxDigits]byte
	var buf [MaxDigits + 4]byte
	n := 0
	for reads := 0; n < digits; reads++ {
		if reads == maxReads {
			return "", errors.New("otp: random source keeps giving rejected bytes")
		}
		want := buf[:digits-n+4] // a few spare bytes make another read unlikely
		if _, err := io.ReadFull(r, want); err != nil {
			return "", fmt.Errorf("otp: read random bytes: %w", err)
		}
		for _, b := range want {
			if b < acceptBelow && n < digits {
				out[n] = '0' + b%10
				n++
			}
		}
		clear(want)
	}
	return string(out[:digits]), nil
}

// Digest returns HMAC-SHA256 keyed with salt over sessionID + "|" + generation + "|" +
// len(recipient) + ":" + recipient + "|" + code: what is stored and handed to Verify instead of
// the code. Binding the session and generation makes a code useless in any other sign-in and
// after a resend; binding the recipient (the normalised address the code was sent to) makes it
// useless for any other address, also when a later round carries the code on.
func Digest(salt []byte, sessionID string, generation int, recipient, code string) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(sessionID))
	m.Write([]byte{'|'})
	m.Write(strconv.AppendInt(nil, int64(generation), 10))
	m.Write([]byte{'|'})
	m.Write(strconv.AppendInt(nil, int64(len(recipient)), 10))
	m.Write([]byte{':'})
	m.Write([]byte(recipient))
	m.Write([]byte{'|'})
	m.Write([]byte(code))
	return m.Sum(nil)
}

// Verify reports whether code is the code behind digest, in constant time (hmac.Equal) with
// respect to the digest's contents.
func Verify(salt, digest []byte, sessionID string, generation int, recipient, code string) bool {
	return hmac.Equal(Digest(salt, sessionID, generation, recipient, code), digest)
}
