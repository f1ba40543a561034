package otp

import (
	"strings"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/otp/phone"
)

// Purposes of the keyed values the package derives (keyed.Key.Sum).
const (
	purposeSend        = "otp-send"        // send schedule keys
	purposePlaceholder = "otp-placeholder" // masked destinations for unknown users
)

// SMSBudgetKey is the store.Store.AllowSend key (item pk=RATE#sms-unverified) of the
// deployment-wide budget of SMS to unverified numbers (Config.SMSUnverifiedLimits): a fixed
// name, no personal data. Other senders of codes to unverified numbers should share it.
const SMSBudgetKey = "sms-unverified"

// RecipientKey is the send-schedule key of a recipient: a keyed hash (keyed.Key.ID under the
// deployment secret) of the method and LimitForm(m, recipient), so the table never holds the
// address and nobody without the secret can tell whose schedule an item is.
func RecipientKey(k *keyed.Key, m authflow.Method, recipient string) string {
	return k.ID(purposeSend, string(m), LimitForm(m, recipient))
}

// LimitForm is the form of a recipient that send limits count under, so that one inbox or one
// phone has one schedule however it is written:
//
//   - email: trimmed and lower-cased, without a "+tag" in the local part; for gmail.com and
//     googlemail.com (one mailbox) without dots in the local part and with the domain
//     gmail.com. "V.ictim+news@GoogleMail.com" counts as "victim@gmail.com".
//   - phone: E.164 as libphonenumber parses it, so "+4407400123456" counts as
//     "+447400123456"; trimmed as is when it does not parse.
//
// Only the limits use this form: messages go to the address as stored.
func LimitForm(m authflow.Method, recipient string) string {
	r := strings.TrimSpace(recipient)
	if m == authflow.SMSOTP {
		if n, err := phone.Parse(r); err == nil {
			return n.E164()
		}
		return r
	}
	r = strings.ToLower(r)
	at := strings.LastIndexByte(r, '@')
	if at <= 0 {
		return r
	}
	local, domain := r[:at], r[at+1:]
	if plus := strings.IndexByte(local, '+'); plus > 0 {
		local = local[:plus]
	}
	if domain == "gmail.com" || domain == "googlemail.com" {
		local, domain = strings.ReplaceAll(local, ".", ""), "gmail.com"
	}
	return local + "@" + domain
}

// bindForm is the form of a recipient a code is bound to (Digest) and compared in (Checker):
// email trimmed and lower-cased; phone E.164 when it parses, else trimmed.
func bindForm(m authflow.Method, recipient string) string {
	r := strings.TrimSpace(recipient)
	if m == authflow.SMSOTP {
		if n, err := phone.Parse(r); err == nil {
			return n.E164()
		}
		return r
	}
	return strings.ToLower(r)
}

// deliveryAddress is where a code to recipient goes: an email address as stored (trimmed), a
// phone number in E.164 (as stored when it does not parse; such a number is never sent to).
func deliveryAddress(m authflow.Method, recipient string) string {
	if m == authflow.SMSOTP {
		return bindForm(m, recipient)
	}
	return strings.TrimSpace(recipient)
}

// Refusals of SMSNumber (delivery's). Their text never includes the number.
var (
	ErrNotPhoneNumber    = delivery.ErrNotPhoneNumber
	ErrNotMobile         = delivery.ErrNotMobile
	ErrCountryNotAllowed = delivery.ErrCountryNotAllowed
)

// SMSNumber returns number in E.164 as libphonenumber formats it ("+4407400123456" becomes
// "+447400123456") if a code may be sent to it: it must parse, be of a mobile kind (MOBILE or
// FIXED_LINE_OR_MOBILE: no premium-rate, shared-cost, toll-free, VoIP, pager or unknown
// numbers) and be in countries (region codes such as "GB" or calling-code prefixes such as
// "+44"). Otherwise it returns ErrNotPhoneNumber, ErrNotMobile (wrapped with the number's type)
// or ErrCountryNotAllowed. (delivery.SMSNumber.)
func SMSNumber(number string, countries []string) (string, error) {
	return delivery.SMSNumber(number, countries)
}
