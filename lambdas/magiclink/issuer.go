package magiclink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// ClientMetadata keys a link request and a completion send with RespondToAuthChallenge.
const (
	// MetaRedirectURL names the redirect URL of the link (one of Config.URLs after
	// normalisation; default the first). Request only.
	MetaRedirectURL = "redirectUrl"
	// MetaDeviceHash is DeviceHash of the requesting device's secret (Config.SameDevice).
	// Request only.
	MetaDeviceHash = "deviceHash"
	// MetaDeviceSecret is that device secret, presented with the completion (Config.SameDevice).
	MetaDeviceSecret = "deviceSecret"
)

// Public challenge parameters of a LINK round (besides kind and methods).
const (
	PubDeliveryMedium = otp.PubDeliveryMedium // always "EMAIL"
	PubDestination    = otp.PubDestination    // the masked email address
	PubResendAfter    = otp.PubResendAfter    // whole seconds until another link can be sent to the address
	PubCodeStatus     = otp.PubCodeStatus     // otp.CodeSent or otp.CodeKept
	// PubExpiresIn is the lifetime of a link sent now, in whole seconds (Config.TTL).
	PubExpiresIn = "expiresIn"
)

// Errors Issue returns for a request it refuses before doing anything (the round fails and
// nothing is sent).
var (
	ErrRedirectNotAllowed = errors.New("magiclink: redirect URL not allowed")
	ErrNoDeviceHash       = errors.New("magiclink: same-device links need a deviceHash")
)

// IssuerStore is the part of *store.Store the Issuer uses.
type IssuerStore interface {
	ReadSendSchedule(ctx context.Context, recipientKey string) (store.SendState, error)
	RecordSend(ctx context.Context, recipientKey string, sc store.SendSchedule, st store.SendState) (store.SendDecision, error)
	PutMagicLink(ctx context.Context, l store.MagicLink) (bool, error)
}

var _ IssuerStore = (*store.Store)(nil)

// IssuerDeps are the Issuer's dependencies.
type IssuerDeps struct {
	Store IssuerStore     // required
	Email otp.EmailSender // required (SES v2 SendEmail; *awsapi.Client)
	// Now is the clock for expiry times (nil: time.Now).
	Now func() time.Time
	// Rand is the source of secrets (nil: crypto/rand).
	Rand io.Reader
	// Log receives decisions (sent, not sent and why), never an address, link or secret (nil:
	// no logging).
	Log *slog.Logger
	// Metrics counts what happened to each request (nil: off; *metrics.Recorder implements it):
	// metrics.Sent{Channel: email, Kind: link} once SES accepted a link; metrics.SendRefused
	// {Channel: email, Reason} when a rule refused one: rate_limit (the send schedule's delay),
	// daily_cap (the address's daily cap), unverified (the user exists but has no verified,
	// well-formed email address); metrics.SendFailed{Channel: email} when SES failed. A request
	// for an unknown user counts nothing (its answer pretends a link went out; nothing is sent,
	// nothing is counted as sent), and neither does a request refused for its redirectUrl or
	// deviceHash, or a Cognito retry of a round whose link is out once the send delay has passed
	// (within the delay the schedule refuses the retry first: it counts as rate_limit, since
	// Create cannot tell it from a second request without another read).
	Metrics Counter
}

// Counter counts metrics; it is metrics.Counter, which *metrics.Recorder implements (a nil
// *metrics.Recorder counts nothing).
type Counter = metrics.Counter

// Issuer is the triggers.CodeIssuer of authflow.MagicLink: it creates LINK rounds. Create one
// with NewIssuer; it is safe for concurrent use.
type Issuer struct {
	cfg      Config
	tmpl     *compiled
	schedule store.SendSchedule
	store    IssuerStore
	email    otp.EmailSender
	now      func() time.Time
	rand     io.Reader
	log      *slog.Logger
	metrics  Counter // nil: off
	// sendLatency is a moving average (ns) of the store write and SES call of a sent link, used
	// to pad the answers that send nothing. It starts at otp.PriorEmailLatency.
	sendLatency delivery.SendLatency
}

var _ triggers.CodeIssuer = (*Issuer)(nil)

// NewIssuer checks cfg (zero fields take their defaults) and returns an Issuer. Config.EmailFrom
// is required.
func NewIssuer(cfg Config, d IssuerDeps) (*Issuer, error) {
	cfg = cfg.withDefaults()
	t, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	switch {
	case d.Store == nil:
		return nil, errors.New("magiclink: issuer has no store")
	case d.Email == nil || cfg.EmailFrom == "":
		return nil, fmt.Errorf("magiclink: an email sender and %s are required", otp.EnvEmailFrom)
	}
	is := &Issuer{cfg: cfg, tmpl: t, store: d.Store, email: d.Email, metrics: d.Metrics,
		schedule: store.SendSchedule{Delays: cfg.SendDelays, DailyCap: cfg.SendDailyCap}}
	is.now, is.rand, is.log = delivery.SenderDeps(d.Now, d.Rand, d.Log)
	is.sendLatency.Set(otp.PriorEmailLatency)
	return is, nil
}

// Issue creates a LINK round. It refuses (an error: the round fails, nothing is sent) a
// redirectUrl that is not one of Config.URLs, and with Config.SameDevice a missing or malformed
// deviceHash; both are checked before anything else, for everyone. Then, for every request:
// it takes a step of the send schedule of the recipient (the email address, shared with email
// codes; an unknown user, or one without an email address, under what was typed), and if the
// schedule allows a send and the user exists and has a verified, well-formed email address, it
// draws a secret (SecretBytes from crypto/rand), stores the link (store.PutMagicLink: it replaces
// the user's earlier link) and emails it. Nothing is sent when
//
//   - the schedule says to wait (codeStatus "kept": the link sent earlier, if any and unexpired,
//     still works);
//   - the user does not exist, has no email address, or it is not verified or malformed
//     (codeStatus "sent": the answer looks as if a link went out);
//   - the round already stored its link (Cognito retried Create: codeStatus "kept").
//
// The answer always has the same public parameters: PubDeliveryMedium, PubDestination,
// PubResendAfter, PubCodeStatus and PubExpiresIn; answers that send nothing wait about as long as
// sending takes. A store or SES failure is an error (Create fails the round); a retried Create
// then finds the link stored and sends nothing more.
func (is *Issuer) Issue(ctx context.Context, req triggers.IssueRequest) (triggers.Issued, error) {
	if is == nil || is.store == nil {
		return triggers.Issued{}, errors.New("magiclink: issuer not configured (use NewIssuer)")
	}
	ch := req.Challenge
	if ch.Kind != authflow.KindLink || ch.Method != authflow.MagicLink || ch.Generation < 1 || ch.SessionID == "" {
		return triggers.Issued{}, errors.New("magiclink: not a link round")
	}
	if req.Key == nil {
		return triggers.Issued{}, errors.New("magiclink: no deployment key in the request")
	}
	redirect, ok := is.redirect(req.ClientMetadata[MetaRedirectURL])
	if !ok {
		return triggers.Issued{}, ErrRedirectNotAllowed
	}
	deviceHash := ""
	if is.cfg.SameDevice {
		deviceHash = req.ClientMetadata[MetaDeviceHash]
		if !ValidDeviceHash(deviceHash) {
			return triggers.Issued{}, ErrNoDeviceHash
		}
	}
	log := is.log.With("generation", ch.Generation)

	recipient, fromAttr := otp.EmailRecipient(req.UserName, req.UserAttributes, req.UserNotFound)
	reason := policy(req, recipient, fromAttr)
	sendKey := otp.RecipientKey(req.Key, authflow.EmailOTP, recipient)
	state, err := is.store.ReadSendSchedule(ctx, sendKey)
	if err != nil {
		return triggers.Issued{}, fmt.Errorf("magiclink: send schedule: %w", err)
	}
	d, err := is.store.RecordSend(ctx, sendKey, is.schedule, state)
	if err != nil {
		return triggers.Issued{}, fmt.Errorf("magiclink: send schedule: %w", err)
	}
	out := triggers.Issued{
		Public: map[string]string{
			PubDeliveryMedium: otp.MediumEmail,
			PubDestination:    otp.EmailDestination(req.Key, req.UserPoolID, req.UserName, recipient, fromAttr),
			PubResendAfter:    strconv.FormatInt(int64((d.Wait+time.Second-1)/time.Second), 10),
			PubCodeStatus:     otp.CodeSent,
			PubExpiresIn:      strconv.FormatInt(int64(is.cfg.TTL/time.Second), 10),
		},
		Private: map[string]string{},
	}
	switch {
	case !d.Allowed:
		out.Public[PubCodeStatus] = otp.CodeKept
		why, refusal := "the recipient's wait has not passed", metrics.ReasonRateLimit
		if is.capped(state) {
			why, refusal = "the recipient's daily cap is reached", metrics.ReasonDailyCap
		}
		log.InfoContext(ctx, "magiclink: link not sent", "reason", why)
		if !req.UserNotFound {
			is.count(metrics.SendRefused, metrics.Dims{Channel: metrics.ChannelEmail, Reason: refusal})
		}
		is.sendLatency.Pad(ctx)
		return out, nil
	case reason != "":
		log.InfoContext(ctx, "magiclink: link not sent", "reason", reason)
		if !req.UserNotFound {
			is.count(metrics.SendRefused, metrics.Dims{Channel: metrics.ChannelEmail, Reason: metrics.ReasonUnverified})
		}
		is.sendLatency.Pad(ctx)
		return out, nil
	}

	start := time.Now()
	secret, err := NewSecret(is.rand)
	if err != nil {
		return triggers.Issued{}, err
	}
	link := Link{UserName: req.UserName, Secret: secret, Expires: is.now().Add(is.cfg.TTL).Truncate(time.Second)}
	stored, err := is.store.PutMagicLink(ctx, store.MagicLink{
		UserKey:     UserKey(req.Key, req.UserPoolID, req.UserName),
		Hash:        SecretHash(req.Key, req.UserPoolID, req.UserName, secret),
		AddressHash: AddressHash(req.Key, req.UserPoolID, req.UserName, recipient),
		ExpiresAt:   link.Expires,
		DeviceHash:  deviceHash,
		SessionID:   ch.SessionID,
		Generation:  ch.Generation,
	})
	if err != nil {
		return triggers.Issued{}, fmt.Errorf("magiclink: store the link: %w", err)
	}
	if !stored {
		out.Public[PubCodeStatus] = otp.CodeKept
		log.InfoContext(ctx, "magiclink: round already sent its link; not sending again")
		return out, nil
	}
	tmpl, locale := is.tmpl.forLocale(req.ClientMetadata[delivery.MetaLocale], req.UserAttributes[delivery.AttrLocale])
	if locale != "" {
		log.DebugContext(ctx, "magiclink: templates of a locale", "locale", locale) // a configured tag, never the raw value
	}
	if err := is.send(ctx, tmpl, recipient, link.URL(redirect)); err != nil {
		log.WarnContext(ctx, "magiclink: sending the link failed", "err", err)
		is.count(metrics.SendFailed, metrics.Dims{Channel: metrics.ChannelEmail})
		return triggers.Issued{}, err
	}
	is.sendLatency.Observe(time.Since(start))
	log.InfoContext(ctx, "magiclink: link sent")
	is.count(metrics.Sent, metrics.Dims{Channel: metrics.ChannelEmail, Kind: metrics.KindLink})
	return out, nil
}

// capped reports whether st, the schedule read before a refused send, had reached the daily cap
// of its current 24-hour window (else the refusal was the delay after the last send). Only the
// metric's reason depends on it.
func (is *Issuer) capped(st store.SendState) bool {
	now := is.now().Unix()
	return st.WindowCount >= int64(is.schedule.DailyCap) && st.WindowStart+int64(store.SendWindow/time.Second) > now
}

func (is *Issuer) count(name string, d metrics.Dims) {
	if is.metrics != nil {
		is.metrics.Count(name, d)
	}
}

// redirect returns the configured URL the request names (normalised), or the first.
func (is *Issuer) redirect(asked string) (string, bool) {
	if asked == "" {
		return is.cfg.URLs[0], true
	}
	n, err := NormalizeURL(asked)
	if err != nil {
		return "", false
	}
	for _, u := range is.cfg.URLs {
		if u == n {
			return u, true
		}
	}
	return "", false
}

// policy says why no link may go to the user ("" if one may). Links go only to a verified
// address: unlike a code, a link to an address nobody has proven would sign in whoever holds it
// (for example an account someone else signed up with your address).
func policy(req triggers.IssueRequest, recipient string, fromAttr bool) string {
	switch {
	case req.UserNotFound:
		return "unknown user"
	case !fromAttr:
		return "user has no email address"
	case req.UserAttributes[otp.AttrEmailVerified] != "true":
		return "email address not verified"
	case !otp.LooksLikeEmail(recipient):
		return "email address is malformed"
	}
	return ""
}

func (is *Issuer) send(ctx context.Context, t *compiled, to, link string) error {
	d := TemplateData{Link: link, AppName: is.cfg.AppName, Minutes: t.minutes}
	in := &awsapi.SendEmailInput{
		From:             is.cfg.EmailFrom,
		To:               []string{to},
		Subject:          d.render(t.subject),
		Text:             d.render(t.text),
		HTML:             d.render(t.html),
		ConfigurationSet: is.cfg.EmailConfigurationSet, // "" sends none
	}
	if err := is.email.SendEmail(ctx, in); err != nil {
		return &DeliveryError{Code: otp.ErrorCode(err), Err: err}
	}
	return nil
}

// DeliveryError reports a failed SES call. Its message holds only the AWS error code, never the
// provider's message (which can quote the address); the original error is available through
// errors.Unwrap / errors.As.
type DeliveryError struct {
	Code string // AWS error code, or "canceled", "deadline exceeded", "transport"
	Err  error
}

func (e *DeliveryError) Error() string { return "magiclink: sending the link failed: " + e.Code }

func (e *DeliveryError) Unwrap() error { return e.Err }
