package notify

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/usertext"
)

// Cognito user attributes read from Event.Attributes.
const (
	AttrEmail               = "email"
	AttrEmailVerified       = "email_verified"
	AttrPhoneNumber         = "phone_number"
	AttrPhoneNumberVerified = "phone_number_verified"
)

const (
	maxKeyNameRunes = 40
	maxCountDigits  = 6
	noName          = "(unnamed)"
	noAddress       = "none"
	timeLayout      = "2006-01-02 15:04 UTC"
)

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

var methodLabels = map[authflow.Method]string{
	authflow.EmailOTP:  "a code sent by email",
	authflow.SMSOTP:    "a code sent by SMS",
	authflow.DeviceKey: "a device key",
	authflow.Passkey:   "a passkey",
	"magic_link":       "a sign-in link sent by email",
}

// methodLabel says in words how the user signed in.
func methodLabel(m string) string {
	if l, ok := methodLabels[authflow.Method(m)]; ok {
		return l
	}
	return "another method"
}

func longestMethodLabel() string {
	longest := methodLabel("")
	for _, l := range methodLabels {
		if len(l) > len(longest) {
			longest = l
		}
	}
	return longest
}

// contactLabel names a changed attribute.
func contactLabel(attr string) string {
	switch attr {
	case AttrEmail:
		return "email address"
	case AttrPhoneNumber:
		return "phone number"
	}
	return "contact details"
}

// keyNameField is the user-chosen name as shown: printable text only (usertext), at most 40
// characters (longer ones cut and marked "...").
func keyNameField(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || !usertext.Valid(s) {
		return noName
	}
	if utf8.RuneCountInString(s) > maxKeyNameRunes {
		r := []rune(s)
		s = string(r[:maxKeyNameRunes]) + "..."
	}
	return s
}

// countField is a decimal count of at most 6 digits, "1" when absent or malformed.
func countField(s string) string {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && len(s) <= maxCountDigits && strconv.Itoa(n) == s {
		return s
	}
	return "1"
}

// maskAddress masks an email address or a phone number; "none" when empty.
func maskAddress(s string) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return noAddress
	case strings.HasPrefix(s, "+"):
		return maskPhone(s)
	}
	return maskEmail(s)
}

// maskEmail shows the first character of the local part and of the domain, and a plausible
// top-level domain: "j***@e***.com". (The same mask as the sign-in codes' destination.)
func maskEmail(s string) string {
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

// maskPhone shows the first two and last three digits: "+44*******456".
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
