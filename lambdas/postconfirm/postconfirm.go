// Package postconfirm is the PostConfirmation trigger of native mode (Cognito's own passwordless
// sign-in, choice-based USER_AUTH). It closes one way into an account there (issue 10, attack 16).
//
// # Why
//
// In native mode Cognito requires PASSWORD among the pool's allowed first factors, and the
// password of a self sign-up is whatever the client sent with SignUp. An attacker can sign up
// first with the victim's email address and a password they know. Cognito emails the victim a
// confirmation code; the victim's own sign-up gets UsernameExistsException (which apps treat as
// success, so both cases look alike), the victim confirms the account with that code, and the
// attacker's password would then open the victim's account through USER_AUTH.
//
// # What it does
//
// Cognito runs this trigger just after it confirms a sign-up (ConfirmSignUp and
// AdminConfirmSignUp, trigger source PostConfirmation_ConfirmSignUp). The trigger then:
//
//  1. replaces the password with 64 characters from crypto/rand that meet the pool's policy
//     (AdminSetUserPassword, Permanent=true); the value is never logged, stored or returned, so
//     nobody knows the password of any account confirmed here;
//  2. signs the user out everywhere (AdminUserGlobalSignOut): the account became usable with the
//     sign-up password the moment Cognito confirmed it, so tokens someone obtained with that
//     password before step 1 stop refreshing, and Cognito refuses their access tokens (the API's
//     mutating routes check them with GetUser). The owner, who is just confirming, has no tokens
//     yet.
//
// A failure of either step fails the trigger: Cognito then answers ConfirmSignUp with an error
// (UserLambdaValidationException). Cognito runs the trigger after confirming the user and does not
// document undoing that, so the account must be assumed confirmed with its sign-up password;
// the error is logged at level ERROR with Cognito's error code (and without the user).
//
// A password reset (PostConfirmation_ConfirmForgotPassword) is left alone: ForgotPassword sends
// its code only to a verified address of the account, so whoever set that password holds one (and
// the construct's pool allows no self-service reset at all: account recovery is admin only). Any
// other trigger source is treated as a sign-up.
package postconfirm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
)

// Admin is the part of Cognito's administrator API the trigger calls (awsapi.Client has it).
type Admin interface {
	AdminSetUserPassword(ctx context.Context, in *awsapi.AdminSetUserPasswordInput) error
	AdminUserGlobalSignOut(ctx context.Context, in *awsapi.AdminUserGlobalSignOutInput) error
}

// Handler is the PostConfirmation trigger. Build it with New.
type Handler struct {
	admin Admin
	log   *slog.Logger
}

// New returns the trigger calling admin; a nil log discards the log lines.
func New(admin Admin, log *slog.Logger) (*Handler, error) {
	if admin == nil {
		return nil, errors.New("postconfirm: no Cognito client")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{admin: admin, log: log}, nil
}

// Trigger sources of the PostConfirmation trigger.
const (
	SourceConfirmSignUp         = "PostConfirmation_ConfirmSignUp"
	SourceConfirmForgotPassword = "PostConfirmation_ConfirmForgotPassword"
)

// Handle answers one PostConfirmation event: it returns the event unchanged (Cognito expects no
// response fields) once the sign-up password is replaced and the user signed out, or an error.
func (h *Handler) Handle(ctx context.Context, ev events.CognitoEventUserPoolsPostConfirmation) (events.CognitoEventUserPoolsPostConfirmation, error) {
	log := h.log.With("source", ev.TriggerSource)
	if ev.TriggerSource == SourceConfirmForgotPassword {
		log.InfoContext(ctx, "postconfirm: password reset kept (set by the holder of a verified address)")
		return ev, nil
	}
	if !validPoolID(ev.UserPoolID) || !validUsername(ev.UserName) {
		log.ErrorContext(ctx, "postconfirm: malformed event; password NOT replaced")
		return ev, errors.New("postconfirm: malformed event")
	}
	err := h.admin.AdminSetUserPassword(ctx, &awsapi.AdminSetUserPasswordInput{
		UserPoolID: ev.UserPoolID,
		Username:   ev.UserName,
		Password:   NewPassword(),
		Permanent:  true,
	})
	if err != nil {
		log.ErrorContext(ctx, "postconfirm: sign-up password NOT replaced", "error", err.Error())
		return ev, fmt.Errorf("postconfirm: could not secure the new account: %w", err)
	}
	err = h.admin.AdminUserGlobalSignOut(ctx, &awsapi.AdminUserGlobalSignOutInput{UserPoolID: ev.UserPoolID, Username: ev.UserName})
	if err != nil {
		log.ErrorContext(ctx, "postconfirm: sign-up password replaced; global sign-out FAILED", "error", err.Error())
		return ev, fmt.Errorf("postconfirm: could not secure the new account: %w", err)
	}
	log.InfoContext(ctx, "postconfirm: sign-up password replaced, user signed out everywhere")
	return ev, nil
}

// validPoolID accepts Cognito's user pool ID shape: <region>_<id>, at most 55 characters of
// letters, digits, '-' and one '_'.
func validPoolID(s string) bool {
	region, id, ok := strings.Cut(s, "_")
	if !ok || region == "" || id == "" || len(s) > 55 {
		return false
	}
	for _, r := range region + id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// validUsername accepts a Cognito user name: 1-128 characters, no control characters or spaces.
func validUsername(s string) bool {
	if s == "" || len(s) > 128*4 || len([]rune(s)) > 128 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '\uFFFD' {
			return false
		}
	}
	return true
}

// PasswordLength is the length of the passwords NewPassword draws: well above the 16 of the
// construct's pool policy (native mode always uses the construct's own pool), far below
// Cognito's 256-character limit.
const PasswordLength = 64

// Symbols are the special characters Cognito's password policy counts (its list, without the
// space, which may not lead or trail a password).
const Symbols = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-"

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" + Symbols

// NewPassword returns PasswordLength characters drawn uniformly from upper and lower case
// letters, digits and Symbols with crypto/rand, redrawn until every class is present (about 1
// draw in 1,300 lacks one, nearly always a digit): a uniform choice among the passwords of that
// length that meet the construct's policy, about 419 bits.
func NewPassword() string {
	for {
		if p := draw(); CheckPassword(p) == nil {
			return p
		}
	}
}

// draw is PasswordLength characters of alphabet, each uniform (rejection sampling of bytes).
func draw() string {
	const limit = 256 - 256%len(alphabet) // bytes at or above it would bias the draw
	out := make([]byte, 0, PasswordLength)
	buf := make([]byte, 2*PasswordLength)
	for len(out) < PasswordLength {
		rand.Read(buf) // never fails (Go 1.24+: it crashes the program rather than return less)
		for _, b := range buf {
			if int(b) < limit && len(out) < PasswordLength {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// CheckPassword reports whether p meets the construct's pool policy: at least 16 characters with
// an upper-case letter, a lower-case letter, a digit and one of Symbols, nothing else. The
// message never quotes p.
func CheckPassword(p string) error {
	var upper, lower, digit, symbol bool
	for _, r := range p {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune(Symbols, r):
			symbol = true
		default:
			return errors.New("postconfirm: password has a character outside letters, digits and Cognito's symbols")
		}
	}
	switch {
	case len(p) < 16:
		return fmt.Errorf("postconfirm: password of %d characters, the policy needs 16", len(p))
	case !upper || !lower || !digit || !symbol:
		return fmt.Errorf("postconfirm: password lacks a class (upper %v, lower %v, digit %v, symbol %v)", upper, lower, digit, symbol)
	}
	return nil
}
