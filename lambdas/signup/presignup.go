// Package signup holds the PreSignUp trigger. It is its own package so that the custom-auth
// triggers do not link what it needs (regexp, net/mail).
//
// # The sign-up rule
//
// A self sign-up (trigger source PreSignUp_SignUp, and any source other than
// PreSignUp_AdminCreateUser) carries at most one contact attribute, the email address or the
// phone number the user will sign in with (usually none: the Username is the address and Cognito
// fills the attribute from it, since the app client may not write it), and nothing that marks an address verified (no
// attribute whose name ends in "_verified"). A sign-up with both an email address and a phone
// number is refused with "sign up with one address; add another after signing in": otherwise an
// attacker could sign up with the victim's email address beside their own phone number, sign in
// by SMS, and be waiting in the account the victim's email sign-in later lands in (issue 10,
// attack 1a). The one address is proven by the first code sign-in, which marks it verified;
// further addresses are added after signing in, through the API's POST /me/contact, which sends
// a code to the new address and writes the address together with its verified flag only once
// that code is answered.
//
// A user created by an administrator (PreSignUp_AdminCreateUser) may carry both addresses and
// verified flags: the administrator is trusted. Their addresses are still checked for shape and
// against the pool's sign-in aliases.
package signup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"regexp"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// EnvSignInAliases names the user attributes users sign in with: "email", "phone" or "email,phone".
const EnvSignInAliases = "SIGN_IN_ALIASES"

// PreSignUp is the PreSignUp trigger. It auto-confirms every user it accepts, so nobody is ever
// left unconfirmed ("limbo"): the email address or phone number is marked verified only by the
// first successful code sign-in, not here. A self sign-up must carry exactly one attribute the
// pool signs in with, well formed, and no "_verified" attribute (see the package doc); anything
// else is refused with a clear message.
type PreSignUp struct {
	Email bool         // users may sign in with an email address
	Phone bool         // users may sign in with a phone number
	Log   *slog.Logger // nil: no logging
}

// FromEnv reads SIGN_IN_ALIASES.
func FromEnv(getenv func(string) string, log *slog.Logger) (*PreSignUp, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	p := &PreSignUp{Log: log}
	for _, a := range strings.Split(getenv(EnvSignInAliases), ",") {
		switch strings.TrimSpace(a) {
		case "email":
			p.Email = true
		case "phone":
			p.Phone = true
		case "":
		default:
			return nil, fmt.Errorf("%s: unknown alias %q", EnvSignInAliases, a)
		}
	}
	if !p.Email && !p.Phone {
		return nil, fmt.Errorf("%s: need email, phone or both", EnvSignInAliases)
	}
	return p, nil
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// Handle answers one PreSignUp event.
func (p *PreSignUp) Handle(ctx context.Context, ev events.CognitoEventUserPoolsPreSignup) (events.CognitoEventUserPoolsPreSignup, error) {
	ev.Response = events.CognitoEventUserPoolsPreSignupResponse{}
	if err := p.check(ev.TriggerSource, ev.Request.UserAttributes); err != nil {
		p.logger().InfoContext(ctx, "presignup: refused", "source", ev.TriggerSource, "reason", err.Error())
		return ev, err
	}
	ev.Response.AutoConfirmUser = true
	p.logger().InfoContext(ctx, "presignup: confirmed", "source", ev.TriggerSource)
	return ev, nil
}

// Messages of the sign-up rule (see the package doc).
const (
	msgOneAddress = "sign up with one address; add another after signing in"
	msgVerified   = "a sign-up cannot mark an address verified: the first code sign-in verifies it"
)

// adminCreateUser is the trigger source of AdminCreateUser: the administrator is trusted.
const adminCreateUser = "PreSignUp_AdminCreateUser"

func (p *PreSignUp) check(source string, attrs map[string]string) error {
	email, hasEmail := attrs["email"]
	phone, hasPhone := attrs["phone_number"]
	if source != adminCreateUser {
		for name := range attrs {
			if strings.HasSuffix(name, "_verified") {
				return errors.New(msgVerified)
			}
		}
	}
	if hasEmail {
		if !p.Email {
			return errors.New("this app does not sign in with an email address")
		}
		if err := validEmail(email); err != nil {
			return err
		}
	}
	if hasPhone {
		if !p.Phone {
			return errors.New("this app does not sign in with a phone number")
		}
		if !e164.MatchString(phone) {
			return errors.New("phone number must be in E.164 form, e.g. +447700900123")
		}
	}
	// No address attribute at all is accepted: in a pool whose users sign in with an email
	// address or phone number (the construct's), the SignUp Username is the address and Cognito
	// fills the attribute from it ("the user pool automatically populates the email attribute of
	// the user with the username value", Cognito Developer Guide, user pool attributes). Whether
	// the trigger sees that attribute is not documented, and the app client may not write the
	// attribute itself, so requiring it here could refuse every sign-up.
	if hasEmail && hasPhone && source != adminCreateUser {
		return errors.New(msgOneAddress)
	}
	return nil
}

func validEmail(s string) error {
	if len(s) > 254 {
		return errors.New("email address too long")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return errors.New("email address is not valid")
	}
	return nil
}

func (p *PreSignUp) logger() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}
