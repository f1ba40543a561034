package notify

import (
	"strings"

	"github.com/passwordless-go/cognito/lambdas/delivery"
)

// Media a notification goes by.
const (
	MediumEmail = delivery.MediumEmail
	MediumSMS   = delivery.MediumSMS
)

// recipient is one address a notification goes to.
type recipient struct {
	medium  string
	address string // email address as stored, phone number in E.164
	role    string // "account" (the account's contact) or "old" (the replaced address), for logs
}

// recipients chooses who is told about ev: the account's verified email address when email can
// be sent; else its verified phone number; for contact_changed also the old address. Each
// address once; nothing unverified, malformed or (SMS) outside the allowed countries. why says
// what was skipped and why, without addresses, for the log.
func (s *Sender) recipients(ev Event) (out []recipient, why []string) {
	a := ev.Attributes
	email, phoneNo := strings.TrimSpace(a[AttrEmail]), strings.TrimSpace(a[AttrPhoneNumber])
	emailOK := a[AttrEmailVerified] == "true" && delivery.LooksLikeEmail(email)
	phoneOK := a[AttrPhoneNumberVerified] == "true" && phoneNo != ""
	switch {
	case emailOK && s.cfg.EmailFrom != "":
		out = append(out, recipient{MediumEmail, email, "account"})
	case emailOK && !phoneOK:
		why = append(why, "verified email but no EMAIL_FROM")
	case phoneOK:
		if n, reason := s.smsNumber(phoneNo); reason == "" {
			out = append(out, recipient{MediumSMS, n, "account"})
		} else {
			why = append(why, "account phone: "+reason)
		}
	default:
		why = append(why, "no verified contact")
	}
	if ev.Kind == ContactChanged {
		if old := strings.TrimSpace(ev.Detail[DetailOldAddress]); old != "" {
			switch {
			case strings.HasPrefix(old, "+"):
				if n, reason := s.smsNumber(old); reason != "" {
					why = append(why, "old phone: "+reason)
				} else if !has(out, n) {
					out = append(out, recipient{MediumSMS, n, "old"})
				}
			case !delivery.LooksLikeEmail(old):
				why = append(why, "old address malformed")
			case s.cfg.EmailFrom == "":
				why = append(why, "old email but no EMAIL_FROM")
			case !has(out, old):
				out = append(out, recipient{MediumEmail, old, "old"})
			}
		}
	}
	return out, why
}

func has(l []recipient, address string) bool {
	for _, r := range l {
		if strings.EqualFold(r.address, address) {
			return true
		}
	}
	return false
}

// smsNumber returns number in E.164 if an SMS may go to it (delivery.SMSNumber: a mobile number
// of an allowed country, as for codes), else why not (never the number).
func (s *Sender) smsNumber(number string) (string, string) {
	n, err := delivery.SMSNumber(number, s.cfg.SMSAllowedCountries)
	if err != nil {
		return "", err.Error()
	}
	return n, ""
}
