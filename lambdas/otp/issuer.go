package otp

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// Public challenge parameters added by the Issuer (shown to the client).
const (
	PubDeliveryMedium = "deliveryMedium" // "EMAIL" or "SMS"
	PubDestination    = "destination"    // the masked recipient
)

// Private challenge parameters added by the Issuer (seen only by Verify).
const (
	PrivSalt      = "otpSalt"      // standard base64 of the salt
	PrivDigest    = "otpDigest"    // standard base64 of Digest(salt, session, generation, code)
	PrivExpires   = "otpExpires"   // expiry, Unix seconds
	PrivRecipient = "otpRecipient" // standard base64 of an HMAC (keyed with the salt) of the recipient
	// PrivCodeGeneration is the generation the digest is bound to when a resend could not send
	// and the round carries an earlier code on; absent means the round's own generation.
	PrivCodeGeneration = "otpCodeGeneration"
)

// Delivery media, as published in PubDeliveryMedium.
const (
	MediumEmail = "EMAIL"
	MediumSMS   = "SMS"
)

// SNS message attributes.
const (
	snsSMSType           = "AWS.SNS.SMS.SMSType"
	snsSenderID          = "AWS.SNS.SMS.SenderID"
	snsOriginationNumber = "AWS.MM.SMS.OriginationNumber"
)

// Store is the part of *store.Store the Issuer uses.
type Store interface {
	// CreateOTP stores r unless the session and generation already have a record; it returns
	// the stored record and whether it was created now.
	CreateOTP(ctx context.Context, r store.OTPRecord) (store.OTPRecord, bool, error)
	// GetOTP returns the record of a session's generation (store.ErrNotFound if none).
	GetOTP(ctx context.Context, sessionID string, generation int) (store.OTPRecord, error)
	// AllowSend consumes one send for recipientKey from every limit, atomically, and reports
	// whether all had room.
	AllowSend(ctx context.Context, recipientKey string, limits ...store.Limit) (bool, error)
}

var _ Store = (*store.Store)(nil)

// EmailSender sends an email (SES v2 SendEmail; *awsapi.Client).
type EmailSender interface {
	SendEmail(ctx context.Context, in *awsapi.SendEmailInput) error
}

// SMSSender sends an SMS (SNS Publish; *awsapi.Client).
type SMSSender interface {
	Publish(ctx context.Context, in *awsapi.PublishInput) error
}

var (
	_ EmailSender = (*awsapi.Client)(nil)
	_ SMSSender   = (*awsapi.Client)(nil)
)

// IssuerDeps are the Issuer's dependencies.
type IssuerDeps struct {
	Store Store       // required
	Email EmailSender // nil: email_otp rounds fail (as does an empty Config.EmailFrom)
	SMS   SMSSender   // nil: sms_otp rounds fail
	// Now is the clock for expiry times (nil: time.Now).
	Now func() time.Time
	// Rand is the source of codes and salts (nil: crypto/rand).
	Rand io.Reader
	// Log receives decisions (sent, not sent and why), never an address, code, salt or digest
	// (nil: no logging).
	Log *slog.Logger
}

// Issuer is the triggers.CodeIssuer for authflow.EmailOTP and authflow.SMSOTP. Create one with
// NewIssuer; it is safe for concurrent use.
type Issuer struct {
	cfg   Config
	tmpl  *templates
	store Store
	email EmailSender
	sms   SMSSender
	now   func() time.Time
	rand  io.Reader
	log   *slog.Logger
	// sendLatency is a moving average (ns) of successful sends per medium, used to pad the
	// answers that send nothing.
	sendLatency [2]atomic.Int64
}

var _ triggers.CodeIssuer = (*Issuer)(nil)

// NewIssuer checks cfg (zero fields take their defaults) and returns an Issuer. An email sender
// without Config.EmailFrom is an error.
func NewIssuer(cfg Config, d IssuerDeps) (*Issuer, error) {
	cfg = cfg.withDefaults()
	t, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	if d.Store == nil {
		return nil, errors.New("otp: issuer has no store")
	}
	if d.Email != nil && cfg.EmailFrom == "" {
		return nil, fmt.Errorf("otp: an email sender needs %s", EnvEmailFrom)
	}
	is := &Issuer{cfg: cfg, tmpl: t, store: d.Store, email: d.Email, sms: d.SMS, now: d.Now, rand: d.Rand, log: d.Log}
	if is.now == nil {
		is.now = time.Now
	}
	if is.rand == nil {
		is.rand = crand.Reader
	}
	if is.log == nil {
		is.log = slog.New(slog.DiscardHandler)
	}
	return is, nil
}

// Issue creates a CODE round: it draws a code and a salt, stores the salted digest for the
// round's session and generation, and sends the code, unless
//
//   - the round already has a record (Cognito retried Create, or the previous answer was wrong):
//     the first record's salt, digest and expiry are returned and nothing is sent again;
//   - the user does not exist, has no recipient, or (SMS) has a number that is not E.164, not in
//     an allowed country, or not verified while another attribute is (a user with no verified
//     attribute at all is a fresh sign-up verifying its number with this code);
//   - the recipient's send limit is reached.
//
// In all these cases the answer has the same shape as when a code is sent and no error; the
// reason is logged. Answers that send nothing are delayed by about as long as recent sends took,
// so that timing does not tell real users from unknown ones. Store and SES/SNS failures are
// errors (Create then fails the sign-in); the record exists by then, so a retried Create never
// sends a second message for the round.
func (is *Issuer) Issue(ctx context.Context, req triggers.IssueRequest) (triggers.Issued, error) {
	if is == nil || is.store == nil {
		return triggers.Issued{}, errors.New("otp: issuer not configured (use NewIssuer)")
	}
	ch := req.Challenge
	m := ch.Method
	if ch.Kind != authflow.KindCode || !m.IsCode() || ch.Generation < 1 || ch.SessionID == "" {
		return triggers.Issued{}, errors.New("otp: not a code round")
	}
	medium := MediumEmail
	if m == authflow.SMSOTP {
		medium = MediumSMS
		if is.sms == nil {
			return triggers.Issued{}, errors.New("otp: no SMS sender configured")
		}
	} else if is.email == nil || is.cfg.EmailFrom == "" {
		return triggers.Issued{}, errors.New("otp: no email sender configured")
	}
	log := is.log.With("method", string(m), "generation", ch.Generation)

	// The same work for everyone: code, salt, digest, conditional write.
	recipient, fromAttr := target(req, m)
	code, err := Generate(is.rand, is.cfg.Digits)
	if err != nil {
		return triggers.Issued{}, err
	}
	salt := make([]byte, SaltBytes)
	if _, err := io.ReadFull(is.rand, salt); err != nil {
		return triggers.Issued{}, fmt.Errorf("otp: read salt: %w", err)
	}
	record := store.OTPRecord{
		SessionID:  ch.SessionID,
		Generation: ch.Generation,
		Salt:       salt,
		Hash:       Digest(salt, ch.SessionID, ch.Generation, code),
		Method:     string(m),
		ExpiresAt:  is.now().Add(is.cfg.TTL),
	}
	// A resend decides first whether it can send. If it cannot, the round carries the previous
	// code on, so the code the user already has keeps working, and a retried Create finds the
	// same record.
	refused, decided := "", false
	if ch.Generation > 1 {
		if _, err := is.store.GetOTP(ctx, ch.SessionID, ch.Generation); err == nil {
			decided = true // Cognito retried Create; CreateOTP below returns the record
		} else if !errors.Is(err, store.ErrNotFound) {
			return triggers.Issued{}, fmt.Errorf("otp: read the code record: %w", err)
		}
		if !decided {
			if refused, err = is.refusal(ctx, req, m, recipient, fromAttr); err != nil {
				return triggers.Issued{}, err
			}
			decided = true
			if refused != "" {
				prev, err := is.store.GetOTP(ctx, ch.SessionID, ch.Generation-1)
				switch {
				case err == nil && prev.Method == string(m):
					carried := prev.CodeGeneration
					if carried == 0 {
						carried = prev.Generation
					}
					record = prev
					record.Generation, record.CodeGeneration = ch.Generation, carried
				case err == nil, errors.Is(err, store.ErrNotFound):
					// Nothing to carry on (expired, or not this method): the round gets the
					// new code, unsent.
				default:
					return triggers.Issued{}, fmt.Errorf("otp: read the previous code record: %w", err)
				}
			}
		}
	}
	rec, created, err := is.store.CreateOTP(ctx, record)
	if err != nil {
		return triggers.Issued{}, fmt.Errorf("otp: store the code record: %w", err)
	}
	if rec.Method != string(m) || len(rec.Salt) == 0 || len(rec.Hash) == 0 || rec.ExpiresAt.IsZero() {
		return triggers.Issued{}, errors.New("otp: stored code record does not match the round")
	}
	destination := Mask(m, recipient)
	if !fromAttr && !looksLikeRecipient(m, recipient) {
		destination = placeholderMask(m, req.UserPoolID, req.UserName, is.cfg.SMSAllowedCountries)
	}
	out := triggers.Issued{
		Public: map[string]string{PubDeliveryMedium: medium, PubDestination: destination},
		Private: map[string]string{
			PrivSalt:      base64.StdEncoding.EncodeToString(rec.Salt),
			PrivDigest:    base64.StdEncoding.EncodeToString(rec.Hash),
			PrivExpires:   strconv.FormatInt(rec.ExpiresAt.Unix(), 10),
			PrivRecipient: base64.StdEncoding.EncodeToString(recipientTag(rec.Salt, m, recipient)),
		},
	}
	if rec.CodeGeneration != 0 && rec.CodeGeneration != rec.Generation {
		out.Private[PrivCodeGeneration] = strconv.Itoa(rec.CodeGeneration)
	}
	if !created {
		log.DebugContext(ctx, "otp: round already has a code; not sending again")
		return out, nil
	}
	if !decided {
		if refused, err = is.refusal(ctx, req, m, recipient, fromAttr); err != nil {
			return triggers.Issued{}, err
		}
	}
	if refused != "" {
		log.InfoContext(ctx, "otp: code not sent", "reason", refused, "carried", out.Private[PrivCodeGeneration] != "")
		is.pad(ctx, m)
		return out, nil
	}

	start := time.Now()
	if m == authflow.SMSOTP {
		err = is.sendSMS(ctx, recipient, code)
	} else {
		err = is.sendEmail(ctx, recipient, code)
	}
	if err != nil {
		log.WarnContext(ctx, "otp: sending the code failed", "err", err)
		return triggers.Issued{}, err
	}
	is.observe(m, time.Since(start))
	log.InfoContext(ctx, "otp: code sent", "medium", medium)
	return out, nil
}

// refusal says why the code must not be sent ("" to send). It consumes a unit of the
// recipient's send limits when the rest allows sending; unknown users consume one too (under
// what they typed): the same calls, and probing an address is limited like signing in to it.
func (is *Issuer) refusal(ctx context.Context, req triggers.IssueRequest, m authflow.Method, recipient string, fromAttr bool) (string, error) {
	reason := refusal(req, m, recipient, fromAttr, is.cfg.SMSAllowedCountries)
	if reason == "" || req.UserNotFound {
		allowed, err := is.store.AllowSend(ctx, RecipientKey(m, recipient), is.cfg.SendLimits...)
		if err != nil {
			return "", fmt.Errorf("otp: send limit: %w", err)
		}
		if !allowed && reason == "" {
			reason = "send limit reached for the recipient"
		}
	}
	return reason, nil
}

// target returns the recipient of the round (trimmed; keys and tags lower-case it) and whether
// it comes from the user's attribute. Otherwise (unknown user, attribute missing) it is what the
// user typed as a user name, so that the masked destination matches what a real user with that
// address would see.
func target(req triggers.IssueRequest, m authflow.Method) (string, bool) {
	attr, _ := addressAttr(m)
	if !req.UserNotFound {
		if a := strings.TrimSpace(req.UserAttributes[attr]); a != "" {
			return a, true
		}
	}
	return strings.TrimSpace(req.UserName), false
}

// refusal says why the code must not be sent, or "" if it may be (subject to send limits).
// It never includes the address.
func refusal(req triggers.IssueRequest, m authflow.Method, recipient string, fromAttr bool, countries []string) string {
	switch {
	case req.UserNotFound:
		return "unknown user"
	case !fromAttr && m == authflow.SMSOTP:
		return "user has no phone number"
	case !fromAttr:
		return "user has no email address"
	case m == authflow.EmailOTP && !looksLikeEmail(recipient):
		return "email address is malformed"
	case m == authflow.SMSOTP && !IsE164(recipient):
		return "phone number is not E.164"
	case m == authflow.SMSOTP && !countryAllowed(recipient, countries):
		return "phone number is not in an allowed country"
	case m == authflow.SMSOTP && req.UserAttributes[AttrPhoneNumberVerified] != "true" &&
		req.UserAttributes[AttrEmailVerified] == "true":
		return "phone number is not verified"
	}
	return ""
}

func countryAllowed(phone string, countries []string) bool {
	for _, p := range countries {
		if len(phone) > len(p) && phone[:len(p)] == p {
			return true
		}
	}
	return false
}

func (is *Issuer) data(code string) TemplateData {
	return TemplateData{Code: code, AppName: is.cfg.AppName, Minutes: is.tmpl.minutes}
}

func (is *Issuer) sendEmail(ctx context.Context, to, code string) error {
	d := is.data(code)
	subject, err := is.tmpl.render(is.tmpl.subject, d)
	if err != nil {
		return fmt.Errorf("otp: render email subject: %w", err)
	}
	text, err := is.tmpl.render(is.tmpl.text, d)
	if err != nil {
		return fmt.Errorf("otp: render email text: %w", err)
	}
	html, err := is.tmpl.render(is.tmpl.html, d)
	if err != nil {
		return fmt.Errorf("otp: render email HTML: %w", err)
	}
	in := &awsapi.SendEmailInput{
		From:             is.cfg.EmailFrom,
		To:               []string{to},
		Subject:          subject,
		Text:             text,
		HTML:             html,
		ConfigurationSet: is.cfg.EmailConfigurationSet, // "" sends none
	}
	if err := is.email.SendEmail(ctx, in); err != nil {
		return newDeliveryError(MediumEmail, err)
	}
	return nil
}

func (is *Issuer) sendSMS(ctx context.Context, to, code string) error {
	msg, err := is.tmpl.render(is.tmpl.sms, is.data(code))
	if err != nil {
		return fmt.Errorf("otp: render SMS: %w", err)
	}
	attrs := map[string]awsapi.MessageAttribute{
		snsSMSType: {DataType: "String", StringValue: "Transactional"},
	}
	if is.cfg.SMSSenderID != "" {
		attrs[snsSenderID] = awsapi.MessageAttribute{DataType: "String", StringValue: is.cfg.SMSSenderID}
	}
	if is.cfg.SMSOriginationNumber != "" {
		attrs[snsOriginationNumber] = awsapi.MessageAttribute{DataType: "String", StringValue: is.cfg.SMSOriginationNumber}
	}
	if err := is.sms.Publish(ctx, &awsapi.PublishInput{PhoneNumber: to, Message: msg, MessageAttributes: attrs}); err != nil {
		return newDeliveryError(MediumSMS, err)
	}
	return nil
}

// Timing padding for answers that send nothing.
const (
	maxPad         = 750 * time.Millisecond
	padDeadlineGap = time.Second // always leave this much of the Lambda deadline
)

func latencySlot(m authflow.Method) int {
	if m == authflow.SMSOTP {
		return 1
	}
	return 0
}

// observe folds a successful send's duration into the moving average (weight 1/8).
func (is *Issuer) observe(m authflow.Method, d time.Duration) {
	slot := &is.sendLatency[latencySlot(m)]
	for {
		old := slot.Load()
		next := int64(d)
		if old != 0 {
			next = old + (int64(d)-old)/8
		}
		if slot.CompareAndSwap(old, next) {
			return
		}
	}
}

// pad waits about as long as recent sends of m took (0.8-1.2 times the average, at most
// maxPad, never into the last second before ctx's deadline).
func (is *Issuer) pad(ctx context.Context, m authflow.Method) {
	avg := time.Duration(is.sendLatency[latencySlot(m)].Load())
	if avg <= 0 {
		return
	}
	d := min(time.Duration(float64(avg)*(0.8+0.4*rand.Float64())), maxPad)
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl)-padDeadlineGap)
	}
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// DeliveryError reports a failed SES or SNS call. Its message holds only the medium and the
// AWS error code, never the provider's message (which can quote the address); the original
// error is available through errors.Unwrap / errors.As.
type DeliveryError struct {
	Medium string // MediumEmail or MediumSMS
	Code   string // AWS error code, or "canceled", "deadline exceeded", "transport"
	Err    error
}

func newDeliveryError(medium string, err error) *DeliveryError {
	return &DeliveryError{Medium: medium, Code: errorCode(err), Err: err}
}

func (e *DeliveryError) Error() string {
	return "otp: sending the " + e.Medium + " code failed: " + e.Code
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// apiError is the part of smithy.APIError errorCode reads.
type apiError interface{ ErrorCode() string }

// errorCode names an AWS SDK error without its message.
func errorCode(err error) string {
	var api apiError
	switch {
	case errors.As(err, &api) && api.ErrorCode() != "":
		return sanitizeCode(api.ErrorCode())
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "transport"
}

// sanitizeCode keeps an error code to letters, digits, '.', '-' and '_' (64 at most).
func sanitizeCode(s string) string {
	b := make([]byte, 0, min(len(s), 64))
	for i := 0; i < len(s) && len(b) < 64; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return "unknown"
	}
	return string(b)
}
