package otp

import (
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// Helpers for other senders to the user's email address (package magiclink), so that they pick
// the recipient, mask it and count its sends exactly as email codes do.

// EmailRecipient returns the address an email to the user goes to: the email attribute (trimmed)
// and true; or, for an unknown user or one without the attribute, what was typed as the user name
// (trimmed and lower-cased: sign-in names are case-insensitive) and false. The second form is the
// recipient whose send schedule the round still takes a step of, and the masked destination shows.
func EmailRecipient(userName string, attrs map[string]string, userNotFound bool) (string, bool) {
	return target(triggers.IssueRequest{Caller: triggers.Caller{UserName: userName, UserAttributes: attrs, UserNotFound: userNotFound}}, authflow.EmailOTP)
}

// EmailDestination is the masked destination an email round publishes for recipient (as returned
// by EmailRecipient): Mask for an address, or, when what was typed says nothing about an address
// (fromAttr false and not shaped like one), a placeholder derived from the pool and user name under
// the deployment key, the same one email_otp shows for that name.
func EmailDestination(k *keyed.Key, userPoolID, userName, recipient string, fromAttr bool) string {
	if !fromAttr && !looksLikeEmail(recipient) {
		return placeholderMask(k, authflow.EmailOTP, userPoolID, userName, nil)
	}
	return Mask(authflow.EmailOTP, deliveryAddress(authflow.EmailOTP, recipient))
}

// LooksLikeEmail reports whether s has the shape of an email address the Issuer sends to: one
// '@' with text on both sides, a dot in the domain, no spaces, control characters or address
// syntax (<>()[]\,;:"), at most 254 bytes.
func LooksLikeEmail(s string) bool { return looksLikeEmail(s) }
