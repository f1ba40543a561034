// Package signup holds the PreSignUp trigger. It is its own package so that the custom-auth
// triggers do not link what it needs (regexp, net/mail).
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
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// EnvSignInAliases names the user attributes users sign in with: "email", "phone" or "email,phone".
const EnvSignInAliases = "SIGN_IN_ALIASES"

// PreSignUp is the PreSignUp trigger. It auto-confirms every user it accepts, so nobody is ever
// left unconfirmed ("limbo"): the email address or phone number is marked verified only by the
// first successful code sign-in, not here. A self sign-up must carry at least one attribute the pool
// signs in with, well formed; anything else is refused with a clear message.
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
	if err := p.check(ev.Request.UserAttributes); err != nil {
		p.logger().InfoContext(ctx, "presignup: refused", "source", ev.TriggerSource, "reason", err.Error())
		return ev, err
	}
	ev.Response.AutoConfirmUser = true
	p.logger().InfoContext(ctx, "presignup: confirmed", "source", ev.TriggerSource, "user", triggers.UserRef(ev.UserPoolID, ev.UserName))
	return ev, nil
}

func (p *PreSignUp) check(attrs map[string]string) error {
	email, hasEmail := attrs["email"]
	phone, hasPhone := attrs["phone_number"]
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
	if !hasEmail && !hasPhone {
		return errors.New("an email address or phone number is required")
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
