package delivery

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/passwordless-go/cognito/lambdas/otp/phone"
)

var (
	prefixRE = regexp.MustCompile(`^\+[1-9][0-9]{0,5}$`)
	regionRE = regexp.MustCompile(`^[A-Z]{2}$`)
	e164RE   = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// IsE164 reports whether s is an E.164 phone number: + and 7 to 15 digits, no leading zero.
func IsE164(s string) bool { return e164RE.MatchString(s) }

// ParseCountries parses a comma-separated list of ISO 3166 region codes and calling-code
// prefixes such as "GB,DE" or "+44,+1206" (see Settings.SMSAllowedCountries).
func ParseCountries(s string) ([]string, error) {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		out = append(out, strings.TrimSpace(part))
	}
	if err := CheckCountries(out); err != nil {
		return nil, err
	}
	return out, nil
}

// CheckCountries checks a list of countries: 1-300 distinct entries, each an upper-case region
// code with a numbering plan ("GB") or + and 1-6 digits without a leading zero ("+44").
func CheckCountries(l []string) error {
	if len(l) == 0 || len(l) > MaxCountries {
		return fmt.Errorf("%d SMS countries, want 1-%d", len(l), MaxCountries)
	}
	for i, p := range l {
		switch {
		case regionRE.MatchString(p):
			if phone.CountryCodeFor(p) == 0 {
				return fmt.Errorf("SMS country %q is not a region code with a numbering plan", p)
			}
		case !prefixRE.MatchString(p):
			return fmt.Errorf("SMS country %q is neither a region code (GB) nor + and 1-6 digits", Shorten(p))
		}
		if slices.Contains(l[:i], p) {
			return fmt.Errorf("SMS country %q listed twice", p)
		}
	}
	return nil
}

// Refusals of SMSNumber. Their text never includes the number.
var (
	ErrNotPhoneNumber    = errors.New("phone number does not parse as E.164")
	ErrNotMobile         = errors.New("phone number is not a mobile number")
	ErrCountryNotAllowed = errors.New("phone number is not in an allowed country")
)

// SMSNumber returns number in E.164 as libphonenumber formats it ("+4407400123456" becomes
// "+447400123456") if an SMS may be sent to it: it must parse, be of a mobile kind (MOBILE or
// FIXED_LINE_OR_MOBILE: no premium-rate, shared-cost, toll-free, VoIP, pager, personal, UAN or
// unknown numbers) and be in countries (region codes such as "GB" or calling-code prefixes such
// as "+44"). Otherwise it returns ErrNotPhoneNumber, ErrNotMobile (wrapped with the number's
// type) or ErrCountryNotAllowed.
func SMSNumber(number string, countries []string) (string, error) {
	n, err := phone.Parse(number)
	if err != nil {
		return "", ErrNotPhoneNumber
	}
	switch t := n.Type(); t {
	case phone.Mobile, phone.FixedLineOrMobile:
	default:
		return "", fmt.Errorf("%w (%s)", ErrNotMobile, t)
	}
	if !countryAllowed(n, countries) {
		return "", ErrCountryNotAllowed
	}
	return n.E164(), nil
}

// countryAllowed reports whether n's region or E.164 prefix is in countries.
func countryAllowed(n phone.Number, countries []string) bool {
	e164, region := n.E164(), ""
	for _, c := range countries {
		if strings.HasPrefix(c, "+") {
			if len(e164) > len(c) && strings.HasPrefix(e164, c) {
				return true
			}
			continue
		}
		if region == "" {
			region = n.Region()
		}
		if c == region {
			return true
		}
	}
	return false
}
