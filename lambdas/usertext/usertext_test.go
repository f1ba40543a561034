package usertext_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/passwordless-go/cognito/lambdas/usertext"
)

func TestNameAccepts(t *testing.T) {
	for in, want := range map[string]string{
		"Alice's Pixel":            "Alice's Pixel",
		"  MacBook Pro  ":          "MacBook Pro",
		"Tom & Jerry \"work\" key": "Tom & Jerry \"work\" key",
		"Téléphone de Zoë":         "Téléphone de Zoë",
		"东京のiPhone":                "东京のiPhone",
		"مفتاح العمل":              "مفتاح العمل",
		"हिन्दी":                   "हिन्दी",     // combining marks
		"📱 phone ❤️":               "📱 phone ❤️", // emoji, variation selector (a mark)
		"a+b=c; 100% (ok) [x] {y}": "a+b=c; 100% (ok) [x] {y}",
		strings.Repeat("é", 64):    strings.Repeat("é", 64),
	} {
		got, err := usertext.Name(in, 64)
		if err != nil || got != want {
			t.Errorf("Name(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestNameRefuses covers issue 10, attack 14: terminal escapes, header or log injection, bidi
// spoofing and markup in names.
func TestNameRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"CRLF":                          "phone\r\nSet-Cookie: x=1",
		"LF":                            "a\nb",
		"CR":                            "a\rb",
		"ESC (terminal sequence)":       "\x1b[31mred\x1b[0m",
		"NUL":                           "a\x00b",
		"TAB":                           "a\tb",
		"DEL":                           "a\x7fb",
		"C1 NEL":                        "a\u0085b",
		"U+202E right-to-left override": "invoice\u202Efdp.exe",
		"U+2066 isolate":                "a\u2066b",
		"U+200B zero-width space":       "a\u200Bb",
		"U+200D zero-width joiner":      "👨\u200D👩",
		"U+FEFF BOM":                    "\uFEFFname",
		"U+00AD soft hyphen":            "a\u00ADb",
		"U+2028 line separator":         "a\u2028b",
		"U+2029 paragraph separator":    "a\u2029b",
		"U+00A0 no-break space":         "a\u00A0b",
		"U+3000 ideographic space":      "a\u3000b",
		"private use":                   "a\uE000b",
		"replacement character":         "a\uFFFDb",
		"invalid UTF-8":                 "a\xffb",
		"markup":                        "<script>alert(1)</script>",
		"lone <":                        "a < b",
		"lone >":                        "a > b",
	} {
		if got, err := usertext.Name(in, 64); !errors.Is(err, usertext.ErrCharacters) {
			t.Errorf("%s: Name(%q) = %q, %v; want ErrCharacters", name, in, got, err)
		}
		if usertext.Valid(in) {
			t.Errorf("%s: Valid(%q)", name, in)
		}
	}
}

func TestNameLength(t *testing.T) {
	for _, in := range []string{"", "   "} {
		if _, err := usertext.Name(in, 64); !errors.Is(err, usertext.ErrEmpty) {
			t.Errorf("Name(%q): %v", in, err)
		}
	}
	if _, err := usertext.Name(strings.Repeat("é", 65), 64); !errors.Is(err, usertext.ErrTooLong) {
		t.Errorf("65 characters: %v", err)
	}
	if _, err := usertext.Name(strings.Repeat("x", 1000), 0); err != nil {
		t.Errorf("no cap: %v", err)
	}
	if !usertext.Valid("") {
		t.Error("empty string is not Valid")
	}
}

// TestAllowedMatchesCategories checks Allowed against the Unicode categories for every code point.
func TestAllowedMatchesCategories(t *testing.T) {
	for r := rune(0); r <= utf8.MaxRune; r++ {
		want := r == ' ' || (r != '<' && r != '>' && r != utf8.RuneError && isLMNPS(r))
		if got := usertext.Allowed(r); got != want {
			t.Fatalf("Allowed(%U) = %v, want %v", r, got, want)
		}
	}
}

// isLMNPS spells out the categories with the category tables rather than unicode.IsPrint, which
// Allowed uses.
func isLMNPS(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}

func FuzzName(f *testing.F) {
	for _, s := range []string{"ok", "a\r\nb", "\u202e", "<b>", "  x  ", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := usertext.Name(s, 64)
		if err != nil {
			return
		}
		if !usertext.Valid(got) || got == "" || utf8.RuneCountInString(got) > 64 || strings.ContainsAny(got, "\r\n\x1b<>") ||
			strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") {
			t.Fatalf("Name(%q) = %q", s, got)
		}
	})
}
