package otp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/passwordless-go/cognito/lambdas/authflow"
)

// Cognito user attributes the package reads and writes.
const (
	AttrEmail               = "email"
	AttrEmailVerified       = "email_verified"
	AttrPhoneNumber         = "phone_number"
	AttrPhoneNumberVerified = "phone_number_verified"
)

// addressAttr returns the attribute holding m's recipient and the one saying it is verified.
func addressAttr(m authflow.Method) (addr, verified string) {
	if m == authflow.SMSOTP {
		return AttrPhoneNumber, AttrPhoneNumberVerified
	}
	return AttrEmail, AttrEmailVerified
}

// normalize returns the canonical form of a recipient: trimmed and lower-cased.
func normalize(recipient string) string { return strings.ToLower(strings.TrimSpace(recipient)) }

// RecipientKey is the send-limit key for a recipient: hex SHA-256 of method + "|" + the
// lower-cased, trimmed recipient. The table never holds the address itself.
func RecipientKey(m authflow.Method, recipient string) string {
	h := sha256.Sum256([]byte(string(m) + "|" + normalize(recipient)))
	return hex.EncodeToString(h[:])
}

// recipientTag binds a round to the address it was issued for, so that Verify only marks the
// attribute verified if it still holds that address. Keyed with the round's salt.
func recipientTag(salt []byte, m authflow.Method, recipient string) []byte {
	h := hmac.New(sha256.New, salt)
	h.Write([]byte("recipient|" + string(m) + "|" + normalize(recipient)))
	return h.Sum(nil)
}

// looksLikeEmail is a shape check, not a full RFC 5322 parse: one '@' with text on both sides,
// a dot in the domain, no spaces or control characters, at most 254 bytes.
func looksLikeEmail(s string) bool {
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

// looksLikeRecipient reports whether s has the shape of m's recipient.
func looksLikeRecipient(m authflow.Method, s string) bool {
	if m == authflow.SMSOTP {
		return IsE164(s)
	}
	return looksLikeEmail(s)
}

// Mask returns what the client is shown of a recipient: "j***@e***.com" for an email address,
// "+44*******123" for a phone number (the method decides which).
func Mask(m authflow.Method, recipient string) string {
	if m == authflow.SMSOTP {
		return maskPhone(recipient)
	}
	return maskEmail(recipient)
}

func firstRune(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r) {
		return "*"
	}
	return string(r)
}

func maskEmail(s string) string {
	s = normalize(s)
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

func maskPhone(s string) string {
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

// placeholderMask is the destination shown when the user name says nothing about the recipient
// (an unknown user who typed a plain user name, or a user without the attribute): a plausible,
// deterministic mask derived from the pool and user name, so that asking twice gives the same
// answer. Someone who knows this code can still tell it from a real one; sign-in by email
// address or phone number as the user name avoids the case.
func placeholderMask(m authflow.Method, userPoolID, userName string, countries []string) string {
	h := sha256.Sum256([]byte("otp-placeholder|" + string(m) + "|" + userPoolID + "|" + userName))
	if m != authflow.SMSOTP {
		return string(rune('a'+h[0]%26)) + "***@" + string(rune('a'+h[1]%26)) + "***.com"
	}
	prefix := "+44"
	if len(countries) > 0 {
		prefix = countries[int(h[0])%len(countries)]
	}
	total := 12
	if strings.HasPrefix(prefix, "+1") {
		total = 11
	}
	digits := []byte(prefix[1:])
	for i := 2; len(digits) < total; i++ {
		digits = append(digits, '0'+h[i%len(h)]%10)
	}
	return maskPhone(string(digits))
}
