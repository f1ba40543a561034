package notify

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/usertext"
)

// Cognito user attributes read from Event.Attributes.
const (
	AttrEmail               = delivery.AttrEmail
	AttrEmailVerified       = delivery.AttrEmailVerified
	AttrPhoneNumber         = delivery.AttrPhoneNumber
	AttrPhoneNumberVerified = delivery.AttrPhoneNumberVerified
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

// maskAddress masks an email address or a phone number (delivery.MaskEmail, delivery.MaskPhone:
// the same masks as the sign-in codes' destination); "none" when empty.
func maskAddress(s string) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return noAddress
	case strings.HasPrefix(s, "+"):
		return delivery.MaskPhone(s)
	}
	return delivery.MaskEmail(s)
}
