package otp

import (
	"crypto/sha256"
	"strconv"
	"strings"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/otp/phone"
)

// Cognito user attributes the package reads and writes.
const (
	AttrEmail               = delivery.AttrEmail
	AttrEmailVerified       = delivery.AttrEmailVerified
	AttrPhoneNumber         = delivery.AttrPhoneNumber
	AttrPhoneNumberVerified = delivery.AttrPhoneNumberVerified
)

// addressAttr returns the attribute holding m's recipient and the one saying it is verified.
func addressAttr(m authflow.Method) (addr, verified string) {
	if m == authflow.SMSOTP {
		return AttrPhoneNumber, AttrPhoneNumberVerified
	}
	return AttrEmail, AttrEmailVerified
}

// looksLikeEmail is delivery.LooksLikeEmail: one '@' with text on both sides, a dot in the
// domain, no spaces, control characters or address syntax, at most 254 bytes.
func looksLikeEmail(s string) bool { return delivery.LooksLikeEmail(s) }

// looksLikeRecipient reports whether s has the shape of m's recipient.
func looksLikeRecipient(m authflow.Method, s string) bool {
	if m == authflow.SMSOTP {
		_, err := phone.Parse(s)
		return err == nil
	}
	return looksLikeEmail(s)
}

// Mask returns what the client is shown of a recipient: "j***@e***.com" for an email address,
// "+44*******123" for a phone number (the method decides which; delivery.MaskEmail and
// delivery.MaskPhone).
func Mask(m authflow.Method, recipient string) string {
	if m == authflow.SMSOTP {
		return delivery.MaskPhone(recipient)
	}
	return delivery.MaskEmail(recipient)
}

// placeholderMask is the destination shown when the user name says nothing about the recipient
// (an unknown user who typed a plain user name or, for SMS, an email address; a user without the
// attribute): a plausible mask derived from the pool and user name under the deployment key, so
// that asking twice gives the same answer and nobody without the key can compute it (and so
// tell it from a real user's). For SMS it is the mask of a mobile number of one of the allowed
// countries that passes that country's numbering plan.
func placeholderMask(k *keyed.Key, m authflow.Method, userPoolID, userName string, countries []string) string {
	seed := k.Sum(purposePlaceholder, string(m), userPoolID, strings.ToLower(strings.TrimSpace(userName)))
	if m != authflow.SMSOTP {
		return string(rune('a'+seed[0]%26)) + "***@" + string(rune('a'+seed[1]%26)) + "***.com"
	}
	entry := "GB"
	if len(countries) > 0 {
		entry = countries[int(seed[0])%len(countries)]
	}
	region, lead := entry, ""
	if strings.HasPrefix(entry, "+") {
		region, lead = regionOfPrefix(entry)
	}
	return delivery.MaskPhone(plausibleMobile(seed, region, lead))
}

// regionOfPrefix returns the main region of a calling-code prefix ("+44" gives GB, "+1206" US)
// and the national digits the prefix fixes ("206").
func regionOfPrefix(prefix string) (region, lead string) {
	d := prefix[1:]
	for i := 1; i <= 3 && i <= len(d); i++ {
		cc, err := strconv.Atoi(d[:i])
		if err != nil {
			break
		}
		if r := phone.MainRegion(cc); r != "" && r != phone.NonGeographic {
			return r, d[i:]
		}
	}
	return "GB", ""
}

// maxPlausibleTries bounds the search for a valid-looking number.
const maxPlausibleTries = 2000

// plausibleMobile returns a mobile number of region in E.164 that starts with lead after the
// country code and passes the region's mobile pattern, drawn deterministically from seed (the
// length of the region's example mobile number). If no draw passes, the example number with
// its last four digits from seed.
func plausibleMobile(seed [32]byte, region, lead string) string {
	cc, ex := phone.CountryCodeFor(region), phone.ExampleMobile(region)
	if cc == 0 || ex == "" {
		cc, ex, region = 44, "7400123456", "GB"
	}
	prefix := "+" + strconv.Itoa(cc)
	stream := digitStream(seed)
	n := max(len(ex), len(lead)+4)
	buf := make([]byte, 0, n)
	for range maxPlausibleTries {
		buf = append(buf[:0], lead...)
		for len(buf) < n {
			buf = append(buf, stream())
		}
		if phone.IsType(region, string(buf), phone.Mobile) {
			return prefix + string(buf)
		}
	}
	buf = append(buf[:0], ex...)
	if len(lead) <= len(ex)-4 {
		copy(buf, lead)
	}
	for i := len(buf) - 4; i < len(buf); i++ {
		buf[i] = stream()
	}
	return prefix + string(buf)
}

// digitStream returns uniform decimal digits expanded from seed (itself keyed): SHA-256 of the
// seed and a counter, bytes below 250 taken modulo 10.
func digitStream(seed [32]byte) func() byte {
	var block [sha256.Size]byte
	used, counter := len(block), uint32(0)
	return func() byte {
		for {
			if used == len(block) {
				h := sha256.New()
				h.Write(seed[:])
				h.Write([]byte{byte(counter >> 24), byte(counter >> 16), byte(counter >> 8), byte(counter)})
				h.Sum(block[:0])
				counter++
				used = 0
			}
			b := block[used]
			used++
			if b < acceptBelow {
				return '0' + b%10
			}
		}
	}
}
