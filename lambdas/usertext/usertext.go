// Package usertext is the one check every user-chosen string passes before it is stored or shown
// back (device-key and passkey names, the user.name and user.displayName of passkey registration
// options): such strings end up in apps' UIs, logs and admin consoles, so they may hold printable
// text only.
//
// Allowed are Unicode letters (L), marks (M), numbers (N), punctuation (P) and symbols (S), and
// the ASCII space, except '<' and '>': names are shown in web pages, and no device or passkey name
// needs markup brackets. Everything else is refused: control characters (C0, DEL, C1: CR, LF,
// TAB, ESC, NUL), format characters (Cf: bidirectional overrides and isolates such as U+202E,
// zero-width joiners and spaces, soft hyphens), line and paragraph separators (U+2028, U+2029),
// white space other than the ASCII space (no-break and ideographic spaces), private-use,
// surrogate and unassigned code points, and invalid UTF-8. Emoji written as a single code point
// (with or without a variation selector, which is a mark) are fine; emoji sequences joined with
// U+200D (ZWJ) are refused with the other format characters.
//
// Nothing is normalised or silently removed: a string either passes unchanged (Name only trims
// surrounding ASCII spaces) or is refused with a message safe to show to the client.
package usertext

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Allowed reports whether r may appear in user text: a letter, mark, number, punctuation or
// symbol other than '<' and '>', or the ASCII space.
func Allowed(r rune) bool {
	switch r {
	case ' ':
		return true
	case '<', '>', utf8.RuneError:
		return false
	}
	// unicode.IsPrint is exactly L, M, N, P, S and the ASCII space.
	return unicode.IsPrint(r)
}

// Valid reports whether s is valid UTF-8 made only of Allowed characters. The empty string is
// valid (callers decide whether a value is required).
func Valid(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !Allowed(r) {
			return false
		}
	}
	return true
}

// ErrEmpty, ErrTooLong and ErrCharacters are the reasons Name refuses a string (test with
// errors.Is); their messages are safe to show to the client.
var (
	ErrEmpty      = errors.New("name is empty")
	ErrTooLong    = errors.New("name is too long")
	ErrCharacters = errors.New("name may only contain letters, marks, numbers, punctuation, symbols and spaces (no control or formatting characters, line breaks, tabs, '<' or '>')")
)

// Name trims surrounding ASCII spaces from s and returns it when it is 1 to maxRunes characters
// (code points), all Allowed. maxRunes <= 0 means no length cap.
func Name(s string, maxRunes int) (string, error) {
	s = strings.Trim(s, " ")
	if !Valid(s) {
		return "", ErrCharacters
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return "", ErrEmpty
	case maxRunes > 0 && n > maxRunes:
		return "", fmt.Errorf("%w: %d characters, the limit is %d", ErrTooLong, n, maxRunes)
	}
	return s, nil
}
