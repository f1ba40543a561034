package passwordless

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/otp/phone"
)

// sesIdentity is an SES identity named by EmailProps.ExistingIdentity.
type sesIdentity struct {
	name string // the domain or address
	// arn, region and account are set when the identity was given as an ARN.
	arn, region, account string
}

var identityARN = regexp.MustCompile(`^arn:aws[a-z-]*:ses:([a-z0-9-]+):([0-9]{12}):identity/(.+)$`)

// parseIdentity reads a domain, an address or an SES identity ARN.
func parseIdentity(s string) (sesIdentity, error) {
	var id sesIdentity
	id.name = s
	if strings.HasPrefix(s, "arn:") {
		m := identityARN.FindStringSubmatch(s)
		if m == nil {
			return id, fmt.Errorf("%q is not an SES identity ARN (arn:PARTITION:ses:REGION:ACCOUNT:identity/NAME)", s)
		}
		id.arn, id.region, id.account, id.name = s, m[1], m[2], m[3]
	}
	if strings.Contains(id.name, "@") {
		a, err := mail.ParseAddress(id.name)
		if err != nil || a.Address != id.name {
			return id, fmt.Errorf("%q is not an email address", id.name)
		}
	} else if !validDomain(id.name) {
		return id, fmt.Errorf("%q is neither a domain name nor an email address", id.name)
	}
	return id, nil
}

// covers reports whether SES lets from be sent through the identity: any address of a domain
// identity, exactly the address of an address identity.
func (id sesIdentity) covers(from string) bool {
	if strings.Contains(id.name, "@") {
		return strings.EqualFold(from, id.name)
	}
	return strings.HasSuffix(strings.ToLower(from), "@"+strings.ToLower(id.name))
}

// isDomain reports whether the identity is a domain (not an address).
func (id sesIdentity) isDomain() bool { return !strings.Contains(id.name, "@") }

// originationProblems checks that SMS codes can leave for every allowed country (after
// defaults): the United States and Canada deliver application SMS only from a registered
// origination number, and a dedicated number sends only within its own country, while the
// functions send every code from SMS.OriginationNumber when it is set.
func (s SMSProps) originationProblems() []error {
	var nanp []string
	for _, c := range s.AllowedCountries {
		if c == "US" || c == "CA" || strings.HasPrefix(c, "+1") {
			nanp = append(nanp, c)
		}
	}
	if s.OriginationNumber == "" {
		if len(nanp) == 0 {
			return nil
		}
		return []error{fmt.Errorf("AllowedCountries list %s: carriers in the United States and Canada deliver SMS only "+
			"from a registered origination number. Register a toll-free or 10DLC number in AWS End User Messaging SMS "+
			"(%s) in the stack's account and region and set SMS.OriginationNumber to it, or remove US, CA and +1 "+
			"entries from AllowedCountries (the default, %s, has none)", strings.Join(nanp, ", "), smsRegistrationDocs, DefaultSMSAllowedCountries)}
	}
	if !otp.IsE164(s.OriginationNumber) {
		return nil // the code settings' validation reports it
	}
	n, err := phone.Parse(s.OriginationNumber)
	if err != nil {
		return []error{fmt.Errorf("OriginationNumber %q: %w", s.OriginationNumber, err)}
	}
	cc := strconv.Itoa(n.CountryCode)
	region := n.Region()
	var outside []string
	var errs []error
	for _, c := range s.AllowedCountries {
		switch {
		case c == "+1" && n.CountryCode == 1:
			errs = append(errs, errors.New(`AllowedCountries entry "+1" covers both the United States and Canada, but `+
				"one origination number cannot serve both (each country needs its own registered number): list the "+
				"number's country only"))
		case strings.HasPrefix(c, "+"):
			if !strings.HasPrefix(c, "+"+cc) {
				outside = append(outside, c)
			}
		case n.CountryCode == 1 && (c == "US" || c == "CA"):
			// A toll-free number (the same 8XX ranges in both countries) may be either's.
			if n.Type() != phone.TollFree && region != "" && c != region {
				outside = append(outside, c)
			}
		case n.CountryCode == 1:
			if c != region {
				outside = append(outside, c)
			}
		default:
			if strconv.Itoa(phone.CountryCodeFor(c)) != cc {
				outside = append(outside, c)
			}
		}
	}
	if len(outside) > 0 {
		errs = append(errs, fmt.Errorf("OriginationNumber %s is a +%s number: a dedicated number sends only within its "+
			"own country and every code goes out from it, so AllowedCountries %s could never get one; list only the "+
			"number's country", s.OriginationNumber, cc, strings.Join(outside, ", ")))
	}
	if slices.Contains(s.AllowedCountries, "US") && slices.Contains(s.AllowedCountries, "CA") {
		errs = append(errs, errors.New("AllowedCountries list both US and Canada (CA), but one origination number "+
			"cannot serve both (each country needs its own registered number): list the number's country only"))
	}
	return errs
}
