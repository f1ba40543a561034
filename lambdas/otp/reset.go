package otp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// ResetStore is the part of *store.Store SendReset uses.
type ResetStore interface {
	// ResetSends starts the send schedules of the keys afresh.
	ResetSends(ctx context.Context, recipientKeys ...string) error
}

var _ ResetStore = (*store.Store)(nil)

// SendReset is a triggers.SuccessHook: when Verify accepts an answer (any method), the user has
// signed in, so the growing send delays of the user's email address and phone number start
// again (the next code goes at once). Only addresses the user has proven are reset: verified
// ones, and the one whose code was just answered; an unverified address on the account (which
// is never sent to while the account has a verified contact or a key) keeps its schedule, so
// that holding it does not let anyone reset another person's delays. Create one with
// NewSendReset; it is safe for concurrent use.
type SendReset struct {
	store ResetStore
	log   *slog.Logger
}

var _ triggers.SuccessHook = (*SendReset)(nil)

// NewSendReset returns a SendReset over s. log receives nothing personal (nil: no logging).
func NewSendReset(s ResetStore, log *slog.Logger) *SendReset {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &SendReset{store: s, log: log}
}

// Succeeded resets the schedules of the user's proven email address and phone number (keyed
// with req.Key and normalised as RecipientKey does; one conditional UpdateItem each, run
// concurrently). A request without the
// deployment key, or a store failure, is an error (Verify logs it; the sign-in goes on).
func (r *SendReset) Succeeded(ctx context.Context, req triggers.CheckRequest) error {
	if r == nil || r.store == nil {
		return errors.New("otp: send reset not configured (use NewSendReset)")
	}
	if req.Key == nil {
		return errors.New("otp: no deployment key in the request")
	}
	if req.UserNotFound {
		return nil
	}
	var keys []string
	for _, m := range []authflow.Method{authflow.EmailOTP, authflow.SMSOTP} {
		attr, verified := addressAttr(m)
		a := strings.TrimSpace(req.UserAttributes[attr])
		if a == "" || req.UserAttributes[verified] != "true" && req.Method != m {
			continue
		}
		keys = append(keys, RecipientKey(req.Key, m, a))
	}
	if len(keys) == 0 {
		return nil
	}
	if err := r.store.ResetSends(ctx, keys...); err != nil {
		return fmt.Errorf("otp: reset the send delays: %w", err)
	}
	r.log.DebugContext(ctx, "otp: send delays reset", "addresses", len(keys))
	return nil
}
