package delivery

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/passwordless-go/cognito/lambdas/usertext"
)

// LooksLikeEmail is a shape check, not a full RFC 5322 parse: one '@' with text on both sides,
// a dot in the domain, no spaces, control characters or address syntax (<>()[]\,;:"), at most
// 254 bytes.
func LooksLikeEmail(s string) bool {
	if len(s) < 5 || len(s) > 254 || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`<>()[]\,;:"`, r)
	}) {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 || strings.Contains(domain, "@") {
		return false
	}
	dot := strings.LastIndexByte(domain, '.')
	return dot > 0 && dot < len(domain)-1
}

// MaskEmail shows what may be shown of an email address: the first character of the local part
// and of the domain, and a plausible top-level domain, "j***@e***.com" ("***@***" without an
// '@'). A first character that is not printable text (usertext.Allowed: control and format
// characters such as a right-to-left override, '<', '>') or a space shows as '*'.
func MaskEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "***@***"
	}
	local, domain := s[:at], s[at+1:]
	out := firstRune(local) + "***@" + firstRune(domain) + "***"
	if dot := strings.LastIndexByte(domain, '.'); dot > 0 && dot < len(domain)-1 && isTLD(domain[dot+1:]) {
		out += domain[dot:]
	}
	return out
}

func firstRune(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || !usertext.Allowed(r) || unicode.IsSpace(r) {
		return "*"
	}
	return string(r)
}

func isTLD(s string) bool {
	if len(s) > 24 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// MaskPhone shows the first two and the last three digits of a phone number, "+44*******456";
// "+**********" when it does not have 7 to 15 digits.
func MaskPhone(s string) string {
	var d []byte
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			d = append(d, s[i])
		}
	}
	if len(d) < 7 || len(d) > 15 {
		return "+" + strings.Repeat("*", 10)
	}
	return "+" + string(d[:2]) + strings.Repeat("*", len(d)-5) + string(d[len(d)-3:])
}
