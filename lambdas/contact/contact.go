package contact

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/smithy-go"
	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/otp/phone"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/strictjson"
)

// Cognito attributes the routes change.
const (
	AttrEmail               = "email"
	AttrEmailVerified       = "email_verified"
	AttrPhoneNumber         = "phone_number"
	AttrPhoneNumberVerified = "phone_number_verified"
)

// Members of the request and response bodies.
const (
	FieldEmail          = "email"
	FieldPhoneNumber    = "phoneNumber"
	FieldChangeID       = "changeId"
	FieldCode           = "code"
	FieldDeliveryMedium = "deliveryMedium"
	FieldDestination    = "destination"
	FieldExpiresAt      = "expiresAt"
	FieldAttemptsLeft   = "attemptsLeft"
	FieldVerified       = "verified"
)

// Error codes, in {"code": ..., "message": ...} bodies. They are stable: clients may branch on them.
const (
	CodeBadJSON      = "bad_json"       // 400: the body is not the JSON object the route wants
	CodeBadAddress   = "bad_address"    // 400: not an email address / E.164 number, or a country SMS is not sent to
	CodeUnsupported  = "unsupported"    // 400: this app does not let users set that attribute
	CodeUnchanged    = "unchanged"      // 400: the address is already the account's verified one
	CodeBadCode      = "bad_code"       // 400: the code is not Digits digits (no attempt used)
	CodeWrongCode    = "wrong_code"     // 400: wrong code; attemptsLeft says how many remain
	CodeStaleAuth    = "stale_auth"     // 403: the sign-in is older than MaxAuthAge: sign in again
	CodeNotFound     = "not_found"      // 404: no such pending change of the caller (expired, used up, unknown)
	CodeAddressInUse = "address_in_use" // 409: the address belongs to another account
	CodeRateLimited  = "rate_limited"   // 429: too many changes or codes; try again later
	CodeUnauthorized = "unauthorized"   // 401: no caller
	CodeInternal     = "internal"       // 500: nothing to say to the client; the cause is logged
)

// changeIDBytes is the length of a change ID before base64url encoding (128 bits).
const changeIDBytes = 16

// timeFormat is RFC 3339 in UTC with milliseconds, as the API's other times.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// authTimeSkew is how far in the future an auth_time may be (clock skew) and still count.
const authTimeSkew = time.Minute

// Store is the part of *store.Store the routes use.
type Store interface {
	PutContactChange(ctx context.Context, c store.ContactChange) error
	AttemptContactChange(ctx context.Context, id, owner string, maxAttempts int) (store.ContactChange, error)
	ConsumeContactChange(ctx context.Context, id, owner string) error
	AllowSend(ctx context.Context, recipientKey string, limits ...store.Limit) (bool, error)
}

var _ Store = (*store.Store)(nil)

// EmailSender sends an email (SES v2 SendEmail; *awsapi.Client): delivery.EmailSender.
type EmailSender = delivery.EmailSender

// SMSSender sends an SMS (SNS Publish; *awsapi.Client): delivery.SMSSender.
type SMSSender = delivery.SMSSender

// UserUpdater writes user attributes (Cognito AdminUpdateUserAttributes; *awsapi.Client).
type UserUpdater interface {
	AdminUpdateUserAttributes(ctx context.Context, in *awsapi.AdminUpdateUserAttributesInput) error
}

var _ UserUpdater = (*awsapi.Client)(nil)

// Deps are the Service's dependencies.
type Deps struct {
	Store Store        // required
	Keys  keyed.Source // required: keys the rate-limit identifiers
	Users UserUpdater  // required
	Email EmailSender  // required when Config.Email is set
	SMS   SMSSender    // required when Config.Phone is set
	Now   func() time.Time
	Rand  io.Reader    // change IDs, codes and salts; nil: crypto/rand
	Log   *slog.Logger // decisions and failures, never an address or a code; nil: no logging
	// Metrics, when set, counts the codes sent (Sent{Channel, Kind: code}), refused by a rule
	// (SendRefused{Channel, Reason}) and failed (SendFailed{Channel}), and the built-in notices
	// (Sent{Channel, Kind: notice}, NotificationFailed{Channel}); *metrics.Recorder implements it.
	Metrics Counter
	// Audit, when set, is given a contact.changed event for every completed change (with the
	// keyed user reference of Keys; *audit.Publisher implements it).
	Audit Auditor
	// Notify, when set, is told about every completed change (a contact_changed event, see
	// Service.Verify) instead of the built-in notice. Set it only when it sends contact_changed
	// (*notify.Sender with the kind in NOTIFY_EVENTS): nil keeps the built-in notice.
	Notify Notifier
}

// Counter counts metrics; *metrics.Recorder implements it.
type Counter = metrics.Counter

// Auditor buffers audit events (no I/O, never fails); *audit.Publisher implements it.
type Auditor = audit.Auditor

// Notifier is told about security events; *notify.Sender implements it. Notify must return
// promptly and never fail the caller.
type Notifier = notify.Notifier

// Caller is the authenticated user of a request: the verified claims of the access token and
// the user's attributes as Cognito's GetUser returned them for this request.
type Caller struct {
	Sub        string
	Username   string
	AuthTime   time.Time
	Attributes map[string]string
}

// Reply is a route's answer: an HTTP status and a JSON-encodable body.
type Reply struct {
	Status int
	Body   any
}

func errorReply(status int, code, message string) Reply {
	return Reply{Status: status, Body: map[string]string{"code": code, "message": message}}
}

// Service answers POST /me/contact (Start) and POST /me/contact/verify (Verify). Create it with
// New; it is safe for concurrent use.
type Service struct {
	cfg   Config
	store Store
	keys  keyed.Source
	users UserUpdater
	email EmailSender
	sms   SMSSender
	now   func() time.Time
	rand  io.Reader
	log   *slog.Logger
	notif Notifier
	// metrics and auditor are Deps.Metrics and Deps.Audit (nil: off).
	metrics Counter
	auditor Auditor
}

// New checks cfg (zero fields take their defaults) and d.
func New(cfg Config, d Deps) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var errs []error
	if d.Store == nil {
		errs = append(errs, errors.New("no store"))
	}
	if d.Keys == nil {
		errs = append(errs, errors.New("no key source"))
	}
	if d.Users == nil {
		errs = append(errs, errors.New("no Cognito client"))
	}
	if cfg.Email && d.Email == nil {
		errs = append(errs, errors.New("email addresses may be changed but there is no email sender"))
	}
	if cfg.Phone && d.SMS == nil {
		errs = append(errs, errors.New("phone numbers may be changed but there is no SMS sender"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("contact: %w", err)
	}
	s := &Service{cfg: cfg, store: d.Store, keys: d.Keys, users: d.Users, email: d.Email, sms: d.SMS, notif: d.Notify,
		metrics: d.Metrics, auditor: d.Audit}
	s.now, s.rand, s.log = delivery.SenderDeps(d.Now, d.Rand, d.Log)
	return s, nil
}

// kind describes one changeable attribute.
type kind struct {
	attr, verified string // Cognito attributes
	field          string // request and response member
	what           string // in messages
	medium         string // otp.MediumEmail or otp.MediumSMS
	method         authflow.Method
	channel        string // metrics.ChannelEmail or metrics.ChannelSMS
}

var (
	emailKind = kind{AttrEmail, AttrEmailVerified, FieldEmail, "email address", otp.MediumEmail, authflow.EmailOTP, metrics.ChannelEmail}
	phoneKind = kind{AttrPhoneNumber, AttrPhoneNumberVerified, FieldPhoneNumber, "phone number", otp.MediumSMS, authflow.SMSOTP, metrics.ChannelSMS}
)

func kindOf(attr string) (kind, bool) {
	switch attr {
	case AttrEmail:
		return emailKind, true
	case AttrPhoneNumber:
		return phoneKind, true
	}
	return kind{}, false
}

func (k kind) other() kind {
	if k.attr == AttrEmail {
		return phoneKind
	}
	return emailKind
}

func (s *Service) enabled(k kind) bool {
	if k.attr == AttrEmail {
		return s.cfg.Email
	}
	return s.cfg.Phone
}

// Start begins a change of the caller's email address or phone number. The body is
// {"email": "..."} or {"phoneNumber": "+E.164"} (exactly one). The caller must have signed in
// within MaxAuthAge. A code goes to the new address; the answer is 202
// {"changeId", "deliveryMedium", "destination" (masked), "expiresAt" (RFC 3339)}. Nothing about
// the account changes until Verify gets the code.
func (s *Service) Start(ctx context.Context, c Caller, body []byte) Reply {
	if c.Sub == "" {
		return errorReply(http.StatusUnauthorized, CodeUnauthorized, "no authenticated caller")
	}
	now := s.now()
	if !recent(c.AuthTime, now, s.cfg.MaxAuthAge) {
		return errorReply(http.StatusForbidden, CodeStaleAuth, fmt.Sprintf(
			"changing an email address or phone number needs a sign-in within the last %d seconds: sign in again",
			int(s.cfg.MaxAuthAge/time.Second)))
	}
	if c.Attributes == nil {
		return s.internal(ctx, "the caller's attributes were not read from Cognito", errors.New("nil attributes"))
	}
	k, value, rep, ok := s.decodeStart(body)
	if !ok {
		return rep
	}
	if c.Attributes[k.verified] == "true" && sameAddress(k, c.Attributes[k.attr], value) {
		return errorReply(http.StatusBadRequest, CodeUnchanged, "this is already your verified "+k.what)
	}
	key, err := s.keys.Key(ctx)
	if err != nil {
		return s.internal(ctx, "deployment key unavailable", err)
	}
	log := s.log.With("attribute", k.attr)
	// Per user first, so that one account cannot use up an address's budget beyond its own.
	switch ok, err := s.store.AllowSend(ctx, key.ID("contact-user", c.Sub), s.cfg.UserLimits...); {
	case err != nil:
		return s.internal(ctx, "user limit", err)
	case !ok:
		s.count(metrics.SendRefused, metrics.Dims{Channel: k.channel, Reason: metrics.ReasonRateLimit})
		log.InfoContext(ctx, "contact: refused", "reason", "user limit reached")
		return errorReply(http.StatusTooManyRequests, CodeRateLimited, "too many address changes: try again later")
	}
	switch ok, err := s.store.AllowSend(ctx, key.ID("contact-rate", otp.LimitForm(k.method, value)), s.cfg.RecipientLimits...); {
	case err != nil:
		return s.internal(ctx, "recipient limit", err)
	case !ok:
		s.count(metrics.SendRefused, metrics.Dims{Channel: k.channel, Reason: metrics.ReasonRateLimit})
		log.InfoContext(ctx, "contact: refused", "reason", "recipient limit reached")
		return errorReply(http.StatusTooManyRequests, CodeRateLimited, "too many codes were sent to this "+k.what+": try again later")
	}
	if k.attr == AttrPhoneNumber {
		// The new number is not verified: the code counts against the deployment's budget of SMS
		// to unverified numbers, which the sign-in codes of fresh sign-ups share.
		switch ok, err := s.store.AllowSend(ctx, otp.SMSBudgetKey, s.cfg.Code.SMSUnverifiedLimits...); {
		case err != nil:
			return s.internal(ctx, "SMS budget", err)
		case !ok:
			s.count(metrics.SendRefused, metrics.Dims{Channel: k.channel, Reason: metrics.ReasonBudget})
			log.WarnContext(ctx, "contact: refused", "reason", "deployment budget of SMS to unverified numbers spent")
			return errorReply(http.StatusTooManyRequests, CodeRateLimited, "text messages cannot be sent right now: try again later")
		}
	}

	idBytes := make([]byte, changeIDBytes)
	if _, err := io.ReadFull(s.rand, idBytes); err != nil {
		return s.internal(ctx, "random source failed", err)
	}
	id := base64.RawURLEncoding.EncodeToString(idBytes)
	code, err := otp.Generate(s.rand, s.cfg.Code.Digits)
	if err != nil {
		return s.internal(ctx, "random source failed", err)
	}
	salt := make([]byte, otp.SaltBytes)
	if _, err := io.ReadFull(s.rand, salt); err != nil {
		return s.internal(ctx, "random source failed", err)
	}
	ch := store.ContactChange{
		ID:        id,
		Owner:     c.Sub,
		Attribute: k.attr,
		Value:     value,
		Salt:      salt,
		ExpiresAt: now.Add(s.cfg.Code.TTL).UTC().Truncate(time.Millisecond),
	}
	ch.Digest = digest(ch, code)
	if err := s.store.PutContactChange(ctx, ch); err != nil {
		return s.internal(ctx, "store the change", err)
	}
	d := messageData{Code: code, AppName: s.cfg.Code.AppName, What: k.what, Minutes: s.minutes()}
	var sendErr error
	if k.attr == AttrEmail {
		sendErr = s.sendEmail(ctx, value, renderEmail(codeEmailSubject, codeEmailText, codeEmailHTML, d))
	} else {
		sendErr = s.sendSMS(ctx, value, renderSMS(codeSMS, codeSMSShort, d))
	}
	if sendErr != nil {
		s.count(metrics.SendFailed, metrics.Dims{Channel: k.channel})
		return s.internal(ctx, "sending the code failed", sendErr)
	}
	s.count(metrics.Sent, metrics.Dims{Channel: k.channel, Kind: metrics.KindCode})
	log.InfoContext(ctx, "contact: code sent", "medium", k.medium)
	return Reply{Status: http.StatusAccepted, Body: map[string]string{
		FieldChangeID:       id,
		FieldDeliveryMedium: k.medium,
		FieldDestination:    otp.Mask(k.method, value),
		FieldExpiresAt:      ch.ExpiresAt.Format(timeFormat),
	}}
}

// Verify completes a change: the body is {"changeId", "code"}. Each call on a change uses one of
// its MaxAttempts answers (one conditional update) before the code is checked. A right code
// consumes the change (a conditional delete: single use) and sets the attribute together with its
// verified flag in one AdminUpdateUserAttributes call; the account's previous verified address
// (or, when the attribute is new, its other verified address) is then told, without a code or a
// link. Answers: 200 {"email" | "phoneNumber": the new value, "verified": true}; 400 wrong_code
// with attemptsLeft; 404 not_found for an unknown, expired, used-up or another user's change
// (the same answer for all); 409 address_in_use when Cognito finds the address on another
// account (the caller proved control of it first, so this tells strangers nothing).
func (s *Service) Verify(ctx context.Context, c Caller, body []byte) Reply {
	if c.Sub == "" {
		return errorReply(http.StatusUnauthorized, CodeUnauthorized, "no authenticated caller")
	}
	notFound := errorReply(http.StatusNotFound, CodeNotFound, "no such pending change: it expired, was used up or does not exist")
	fields, err := decodeObject(body, func() (map[string]string, error) {
		return strictjson.Strings(body, FieldChangeID, FieldCode)
	})
	if err != nil {
		return errorReply(http.StatusBadRequest, CodeBadJSON, `body must be a JSON object {"changeId": string, "code": string}: `+err.Error())
	}
	id, code := fields[FieldChangeID], strings.TrimSpace(fields[FieldCode])
	if !delivery.IsDigits(code, s.cfg.Code.Digits) {
		return errorReply(http.StatusBadRequest, CodeBadCode, fmt.Sprintf("the code is %d digits", s.cfg.Code.Digits))
	}
	if !validID(id) {
		return notFound
	}
	if c.Attributes == nil {
		return s.internal(ctx, "the caller's attributes were not read from Cognito", errors.New("nil attributes"))
	}
	ch, err := s.store.AttemptContactChange(ctx, id, c.Sub, s.cfg.MaxAttempts)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalidArgument):
		s.log.InfoContext(ctx, "contact: refused", "reason", "no such change of the caller")
		return notFound
	case err != nil:
		return s.internal(ctx, "use an attempt", err)
	}
	k, ok := kindOf(ch.Attribute)
	if !ok || ch.Owner != c.Sub || ch.ID != id {
		return s.internal(ctx, "stored change does not match the request", errors.New("malformed change"))
	}
	log := s.log.With("attribute", k.attr)
	if !otp.Verify(ch.Salt, ch.Digest, bindingOf(ch), 0, ch.Value, code) {
		left := max(0, s.cfg.MaxAttempts-ch.Attempts)
		log.InfoContext(ctx, "contact: refused", "reason", "wrong code", "attemptsLeft", left)
		msg := fmt.Sprintf("wrong code: %d attempts left", left)
		if left == 0 {
			msg = "wrong code: no attempts left, start a new change"
		}
		return Reply{Status: http.StatusBadRequest, Body: map[string]any{"code": CodeWrongCode, "message": msg, FieldAttemptsLeft: left}}
	}
	if !s.enabled(k) {
		return errorReply(http.StatusBadRequest, CodeUnsupported, "this app does not let you set a "+k.what)
	}
	// Single use: of concurrent right answers only the one that deletes the change goes on.
	switch err := s.store.ConsumeContactChange(ctx, id, c.Sub); {
	case errors.Is(err, store.ErrNotFound):
		log.InfoContext(ctx, "contact: refused", "reason", "change used concurrently")
		return notFound
	case err != nil:
		return s.internal(ctx, "consume the change", err)
	}
	username := c.Username
	if username == "" {
		username = c.Sub
	}
	err = s.users.AdminUpdateUserAttributes(ctx, &awsapi.AdminUpdateUserAttributesInput{
		UserPoolID: s.cfg.UserPoolID,
		Username:   username,
		UserAttributes: []awsapi.Attribute{
			{Name: k.attr, Value: ch.Value},
			{Name: k.verified, Value: "true"},
		},
	})
	if err != nil {
		if code := otp.ErrorCode(err); code == "AliasExistsException" || code == "UsernameExistsException" {
			log.InfoContext(ctx, "contact: refused", "reason", "address belongs to another account")
			return errorReply(http.StatusConflict, CodeAddressInUse, "this "+k.what+" belongs to another account")
		}
		return s.internal(ctx, "update the user's attributes", err)
	}
	log.InfoContext(ctx, "contact: changed", "medium", k.medium)
	s.audit(ctx, username, k)
	if s.notif != nil {
		s.notifyEvent(ctx, c, username, k, ch.Value)
	} else {
		s.notify(ctx, c.Attributes, k, ch.Value)
	}
	return Reply{Status: http.StatusOK, Body: map[string]any{k.field: ch.Value, FieldVerified: true}}
}

// notify tells the account's previous verified address of k that it was replaced by value, or,
// when k had no verified address, the other verified address that value was added. No code, no
// link. A failure is logged and does not undo the change.
func (s *Service) notify(ctx context.Context, attrs map[string]string, k kind, value string) {
	d := messageData{AppName: s.cfg.Code.AppName, What: k.what, Destination: otp.Mask(k.method, value)}
	to, via := "", k
	changed := false
	if old := strings.TrimSpace(attrs[k.attr]); old != "" && attrs[k.verified] == "true" && !sameAddress(k, old, value) {
		to, changed = old, true
	} else if o := k.other(); strings.TrimSpace(attrs[o.attr]) != "" && attrs[o.verified] == "true" {
		to, via = strings.TrimSpace(attrs[o.attr]), o
	}
	if to == "" {
		return
	}
	var err error
	switch {
	case via.attr == AttrEmail && s.email == nil, via.attr == AttrPhoneNumber && s.sms == nil:
		err = errors.New("no sender for the notice")
	case via.attr == AttrEmail && changed:
		err = s.sendEmail(ctx, to, renderEmail(changedEmailSubject, changedEmailText, changedEmailHTML, d))
	case via.attr == AttrEmail:
		err = s.sendEmail(ctx, to, renderEmail(addedEmailSubject, addedEmailText, addedEmailHTML, d))
	case changed:
		err = s.sendSMS(ctx, to, renderSMS(changedSMS, changedSMSShort, d))
	default:
		err = s.sendSMS(ctx, to, renderSMS(addedSMS, addedSMSShort, d))
	}
	if err != nil {
		s.count(metrics.NotificationFailed, metrics.Dims{Channel: via.channel})
		s.log.WarnContext(ctx, "contact: the notice to the account's other address failed", "medium", via.medium, "err", err)
		return
	}
	s.count(metrics.Sent, metrics.Dims{Channel: via.channel, Kind: metrics.KindNotice})
	s.log.InfoContext(ctx, "contact: notice sent", "medium", via.medium, "changed", changed)
}

// notifyEvent hands the completed change to the notifier as a contact_changed event:
// Detail "attribute" (email or phone_number) and, when a verified address of that kind was
// replaced, "oldAddress" (the notifier writes to it too); Attributes as they are after the
// change. When no verified address of that kind was replaced (one was added, or an unverified
// one replaced), the new value is passed with its verified flag "false", so that the notifier
// writes to the account's previously verified contact rather than (only) to the address the
// caller has just added: whoever made the change controls that one. Each change is its own
// event (a fresh random ID). A failure (no deployment key, a panicking notifier) is logged and
// does not undo the change.
func (s *Service) notifyEvent(ctx context.Context, c Caller, username string, k kind, value string) {
	defer func() {
		if r := recover(); r != nil {
			s.log.ErrorContext(ctx, "contact: notification failed", "reason", "notifier panicked")
		}
	}()
	attrs := make(map[string]string, len(c.Attributes)+2)
	for n, v := range c.Attributes {
		attrs[n] = v
	}
	detail := map[string]string{notify.DetailAttribute: k.attr}
	if old := strings.TrimSpace(c.Attributes[k.attr]); old != "" && c.Attributes[k.verified] == "true" && !sameAddress(k, old, value) {
		detail[notify.DetailOldAddress] = old
		attrs[k.attr], attrs[k.verified] = value, "true"
	} else {
		attrs[k.attr], attrs[k.verified] = value, "false"
	}
	kctx, cancel := context.WithTimeout(ctx, time.Second) // the key is cached; this bounds a slow Secrets Manager
	key, err := s.keys.Key(kctx)
	cancel()
	if err != nil {
		// The notifier is still called: it counts and logs the failure.
		key = nil
		s.log.ErrorContext(ctx, "contact: notification without the deployment key", "err", safeError(err))
	}
	s.notif.Notify(ctx, key, notify.Event{
		Kind:       notify.ContactChanged,
		UserPoolID: s.cfg.UserPoolID,
		UserName:   username,
		Attributes: attrs,
		Detail:     detail,
		ID:         rand.Text(), // 128 bits from crypto/rand
	})
}

// decodeStart reads {"email": ...} or {"phoneNumber": ...} and checks the address.
func (s *Service) decodeStart(body []byte) (kind, string, Reply, bool) {
	const want = `body must be a JSON object {"email": string} or {"phoneNumber": string}`
	members, err := decodeObject(body, func() (map[string]json.RawMessage, error) {
		return strictjson.Members(body, map[string]bool{FieldEmail: false, FieldPhoneNumber: false})
	})
	if err == nil && len(members) != 1 {
		err = errors.New("give exactly one of email and phoneNumber")
	}
	if err != nil {
		return kind{}, "", errorReply(http.StatusBadRequest, CodeBadJSON, want+": "+err.Error()), false
	}
	k, raw := emailKind, members[FieldEmail]
	if raw == nil {
		k, raw = phoneKind, members[FieldPhoneNumber]
	}
	var value string
	if t := strings.TrimSpace(string(raw)); !strings.HasPrefix(t, `"`) || json.Unmarshal(raw, &value) != nil {
		return kind{}, "", errorReply(http.StatusBadRequest, CodeBadJSON, want+": "+k.field+" is not a string"), false
	}
	if !s.enabled(k) {
		return kind{}, "", errorReply(http.StatusBadRequest, CodeUnsupported, "this app does not let you set a "+k.what), false
	}
	value = strings.TrimSpace(value)
	if k.attr == AttrEmail {
		if !validEmail(value) {
			return kind{}, "", errorReply(http.StatusBadRequest, CodeBadAddress, "not a valid email address"), false
		}
		return k, value, Reply{}, true
	}
	e164, problem := checkPhone(value, s.cfg.Code.SMSAllowedCountries)
	if problem == problemCountry {
		s.count(metrics.SendRefused, metrics.Dims{Channel: k.channel, Reason: metrics.ReasonCountry})
	}
	if problem != "" {
		return kind{}, "", errorReply(http.StatusBadRequest, CodeBadAddress, problem), false
	}
	return k, e164, Reply{}, true
}

// decodeObject refuses an empty or non-UTF-8 body before decode runs.
func decodeObject[T any](body []byte, decode func() (T, error)) (T, error) {
	var zero T
	switch {
	case len(strings.TrimSpace(string(body))) == 0:
		return zero, errors.New("body is empty")
	case !utf8.Valid(body):
		return zero, errors.New("body is not valid UTF-8")
	}
	return decode()
}

// problemCountry is checkPhone's answer for a number of a country SMS_ALLOWED_COUNTRIES leaves out.
const problemCountry = "this app does not send text messages to that country"

// checkPhone returns s in E.164 as libphonenumber parses it ("+4407700900123" becomes
// "+447700900123"), or why no code may be sent to it (a message for the client): the otp
// package's rules for sign-in codes (otp.SMSNumber) on a number written in E.164.
func checkPhone(s string, countries []string) (string, string) {
	if !otp.IsE164(s) {
		return "", "phone number must be in E.164 form, e.g. +447700900123"
	}
	e164, err := otp.SMSNumber(s, countries)
	switch {
	case err == nil:
		return e164, ""
	case errors.Is(err, otp.ErrNotMobile):
		return "", "codes are sent to mobile numbers only"
	case errors.Is(err, otp.ErrCountryNotAllowed):
		return "", problemCountry
	}
	return "", "not a valid phone number"
}

// validEmail accepts what the PreSignUp trigger accepts: a bare address (no display name,
// comments or angle brackets) of at most 254 bytes, without control characters or spaces.
func validEmail(s string) bool {
	if len(s) > 254 || s == "" || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	local, domain, _ := strings.Cut(s, "@")
	return local != "" && strings.Contains(domain, ".") && !strings.HasPrefix(domain, "[")
}

// sameAddress compares two addresses of kind k: email addresses without regard to case, phone
// numbers in E.164 as libphonenumber parses them.
func sameAddress(k kind, a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if k.attr == AttrEmail {
		return strings.EqualFold(a, b)
	}
	return e164Of(a) == e164Of(b)
}

func e164Of(s string) string {
	if n, err := phone.Parse(s); err == nil {
		return n.E164()
	}
	return s
}

// bindingOf is what a change's digest binds the code to besides the salt and the new value (the
// digest's recipient): the change, its owner and the attribute. A digest copied onto another
// change, user or value does not match.
func bindingOf(c store.ContactChange) string {
	return "contact|" + c.ID + "|" + c.Owner + "|" + c.Attribute
}

func digest(c store.ContactChange, code string) []byte {
	return otp.Digest(c.Salt, bindingOf(c), 0, c.Value, code)
}

func validID(id string) bool {
	if len(id) != base64.RawURLEncoding.EncodedLen(changeIDBytes) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(id)
	return err == nil && len(b) == changeIDBytes
}

// recent reports whether authTime is at most maxAge before now (and at most authTimeSkew after).
func recent(authTime, now time.Time, maxAge time.Duration) bool {
	if authTime.IsZero() {
		return false
	}
	age := now.Sub(authTime)
	return age <= maxAge && age >= -authTimeSkew
}

func (s *Service) minutes() int { return max(1, int(s.cfg.Code.TTL/time.Minute)) }

func (s *Service) sendEmail(ctx context.Context, to string, m email) error {
	if err := s.email.SendEmail(ctx, s.cfg.Code.Sender().Email(to, m.subject, m.text, m.html)); err != nil {
		return &DeliveryError{Medium: otp.MediumEmail, Code: otp.ErrorCode(err), Err: err}
	}
	return nil
}

func (s *Service) sendSMS(ctx context.Context, to, msg string) error {
	if _, problem := checkPhone(to, s.cfg.Code.SMSAllowedCountries); problem != "" {
		return &DeliveryError{Medium: otp.MediumSMS, Code: "number refused", Err: errors.New("contact: " + problem)}
	}
	// The code's sender settings: sender ID and origination number as for sign-in codes.
	if err := s.sms.Publish(ctx, s.cfg.Code.Sender().SMS(to, msg)); err != nil {
		return &DeliveryError{Medium: otp.MediumSMS, Code: otp.ErrorCode(err), Err: err}
	}
	return nil
}

// internal logs err (never an address or code: errors here come from the store, the key source,
// SES, SNS or Cognito, whose messages awsapi and store keep free of them) and answers 500.
func (s *Service) internal(ctx context.Context, what string, err error) Reply {
	s.log.ErrorContext(ctx, "contact: "+what, "err", safeError(err))
	return errorReply(http.StatusInternalServerError, CodeInternal, "the request could not be completed, try again later")
}

// DeliveryError reports a failed SES or SNS call. Its message holds only the medium and the AWS
// error code, never the provider's message (which can quote the address).
type DeliveryError struct {
	Medium string // otp.MediumEmail or otp.MediumSMS
	Code   string // AWS error code, or "canceled", "deadline exceeded", "transport"
	Err    error
}

func (e *DeliveryError) Error() string {
	return "contact: sending the " + e.Medium + " failed: " + e.Code
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// safeError is what is logged of err: the AWS error code of a service error (whose message could
// quote an address), the text of anything else.
func safeError(err error) string {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Error()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return "aws error " + otp.ErrorCode(err)
	}
	return err.Error()
}

// count adds 1 to the metric name with dimensions d (nothing when metrics are off).
func (s *Service) count(name string, d metrics.Dims) {
	if s.metrics != nil {
		s.metrics.Count(name, d)
	}
}

// audit publishes contact.changed for username's completed change of k, with the keyed user
// reference. The deployment key is cached (read for the rate limits of Start); when it cannot
// be read, no reference can be made and the publisher takes none without one: the event is
// logged (without the user) and counted as AuditUndelivered. It never fails the change.
func (s *Service) audit(ctx context.Context, username string, k kind) {
	if s.auditor == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.ErrorContext(ctx, "contact: audit event undelivered", "type", string(audit.ContactChanged), "reason", "publisher panicked")
		}
	}()
	kctx, cancel := context.WithTimeout(ctx, time.Second)
	key, err := s.keys.Key(kctx)
	cancel()
	if err != nil || key == nil {
		s.count(metrics.AuditUndelivered, metrics.Dims{})
		s.log.ErrorContext(ctx, "contact: audit event undelivered", "type", string(audit.ContactChanged), "attribute", k.attr, "reason", "key source failed")
		return
	}
	s.auditor.Add(audit.Event{
		Type:       audit.ContactChanged,
		User:       audit.UserRef(key, s.cfg.UserPoolID, username),
		UserPoolID: s.cfg.UserPoolID,
		Attribute:  k.attr,
	})
}
