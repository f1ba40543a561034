package otp

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// Public challenge parameters added by the Issuer (shown to the client).
const (
	PubDeliveryMedium = "deliveryMedium" // "EMAIL" or "SMS"
	PubDestination    = "destination"    // the masked recipient
	// PubResendAfter is the whole number of seconds until another code can be sent to the
	// recipient ("0": now). A resend asked for earlier sends nothing (CodeKept).
	PubResendAfter = "resendAfter"
	// PubCodeStatus is CodeSent, CodeKept or CodeWait.
	PubCodeStatus = "codeStatus"
)

// Values of PubCodeStatus.
const (
	// CodeSent: a new code went out in this round (or, for unknown users and addresses that
	// are not sent to, appears to); a code sent earlier in the sign-in no longer works.
	CodeSent = "sent"
	// CodeKept: no new code went out because the recipient's wait (PubResendAfter) has not
	// passed, or this round repeats one after a wrong answer; the code already sent in this
	// sign-in by this method, if any, keeps working.
	CodeKept = "kept"
	// CodeWait: no new code went out because the recipient's wait (PubResendAfter) has not
	// passed, and no earlier code of this sign-in can be carried on (this is its first round,
	// or the earlier code expired): ask for a resend after PubResendAfter seconds.
	CodeWait = "wait"
)

// Private challenge parameters added by the Issuer (seen only by Verify; never shown to the
// client, never logged).
const (
	PrivSalt    = "otpSalt"    // standard base64 of the salt
	PrivDigest  = "otpDigest"  // standard base64 of Digest(salt, session, generation, recipient, code)
	PrivExpires = "otpExpires" // expiry, Unix seconds
	// PrivAddress is the address the code was sent to (email as stored, phone in E.164): the
	// value Verify writes together with the verified flag.
	PrivAddress = "otpAddress"
	// PrivCodeGeneration is the generation the digest is bound to when a resend could not send
	// and the round carries an earlier code on; absent means the round's own generation.
	PrivCodeGeneration = "otpCodeGeneration"
)

// Delivery media, as published in PubDeliveryMedium.
const (
	MediumEmail = delivery.MediumEmail
	MediumSMS   = delivery.MediumSMS
)

// Store is the part of *store.Store the Issuer uses.
type Store interface {
	// CreateOTP stores r unless the session and generation already have a record; it returns
	// the stored record and whether it was created now.
	CreateOTP(ctx context.Context, r store.OTPRecord) (store.OTPRecord, bool, error)
	// GetOTP returns the record of a session's generation (store.ErrNotFound if none).
	GetOTP(ctx context.Context, sessionID string, generation int) (store.OTPRecord, error)
	// ReadSendSchedule reads a recipient's send schedule; RecordSend records a send if the
	// schedule allows one now, with one conditional write.
	ReadSendSchedule(ctx context.Context, recipientKey string) (store.SendState, error)
	RecordSend(ctx context.Context, recipientKey string, sc store.SendSchedule, st store.SendState) (store.SendDecision, error)
	// AllowSend consumes one unit of every limit under key, atomically, and reports whether
	// all had room (the deployment-wide budget of SMS to unverified numbers).
	AllowSend(ctx context.Context, key string, limits ...store.Limit) (bool, error)
	// CredentialCounts returns how many device keys and passkeys a user (sub) has.
	CredentialCounts(ctx context.Context, owner string) (deviceKeys, passkeys int, err error)
}

var _ Store = (*store.Store)(nil)

// EmailSender sends an email (SES v2 SendEmail; *awsapi.Client).
type EmailSender = delivery.EmailSender

// SMSSender sends an SMS (SNS Publish; *awsapi.Client).
type SMSSender = delivery.SMSSender

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
	// Metrics counts what each new round did (*metrics.Recorder): Sent{Channel, Kind "code"}
	// after SES or SNS took the message, SendRefused{Channel, Reason} when a rule kept it back,
	// SendFailed{Channel} when SES or SNS failed. Unknown users and users without the address
	// count nothing. nil: none.
	Metrics MetricCounter
}

// MetricCounter counts events as CloudWatch metrics (*metrics.Recorder, nil-safe): it is
// metrics.Counter.
type MetricCounter = metrics.Counter

// Issuer is the triggers.CodeIssuer for authflow.EmailOTP and authflow.SMSOTP. Create one with
// NewIssuer; it is safe for concurrent use.
type Issuer struct {
	cfg      Config
	tmpl     *templates
	schedule store.SendSchedule
	store    Store
	email    EmailSender
	sms      SMSSender
	now      func() time.Time
	rand     io.Reader
	log      *slog.Logger
	metrics  MetricCounter // nil: none
	// sendLatency is a moving average (ns) of successful sends per medium, used to pad the
	// answers that send nothing. It starts at PriorEmailLatency / PriorSMSLatency.
	sendLatency [2]delivery.SendLatency
}

var _ triggers.CodeIssuer = (*Issuer)(nil)

// Assumed send latencies that seed the padding of answers that send nothing, so that an
// instance pads from its first request: typical SES SendEmail and SNS Publish call times seen
// from Lambda in the same region (an assumption, not a measurement of this deployment). The
// average moves towards the instance's own sends from the first one (weight 1/8 each).
const (
	PriorEmailLatency = 120 * time.Millisecond
	PriorSMSLatency   = 150 * time.Millisecond
)

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
	is := &Issuer{cfg: cfg, tmpl: t, store: d.Store, email: d.Email, sms: d.SMS,
		metrics: d.Metrics, schedule: store.SendSchedule{Delays: cfg.SendDelays, DailyCap: cfg.SendDailyCap}}
	is.now, is.rand, is.log = delivery.SenderDeps(d.Now, d.Rand, d.Log)
	is.sendLatency[0].Set(PriorEmailLatency)
	is.sendLatency[1].Set(PriorSMSLatency)
	return is, nil
}

// Issue creates a CODE round: it draws a code and a salt, stores the salted digest for the
// round's session and generation, and sends the code, unless
//
//   - the round already has a record (Cognito retried Create, or the previous answer was wrong):
//     the first record's salt, digest and expiry are returned and nothing is sent again;
//   - the recipient's send schedule says to wait (Config.SendDelays, Config.SendDailyCap): a
//     resend then carries the code already sent in the sign-in on, which keeps working;
//   - the user does not exist or has no recipient; the email address is malformed; the phone
//     number does not parse, is not of a mobile kind or not in an allowed country;
//   - the address is not verified and the account has a verified contact (the other of email
//     and phone), a device key or a passkey (a code to an unverified address is only for a
//     fresh sign-up proving it);
//   - the SMS would go to an unverified number and the deployment's budget for those is spent.
//
// Every round, sent or not, takes a step of the recipient's schedule (unknown users and users
// without the attribute under what was typed), and the answer always has the same shape:
// medium, masked destination, PubResendAfter and PubCodeStatus; the reason is logged. Answers
// that send nothing are delayed by about as long as sends take, so that timing does not tell
// real users from unknown ones. A request without the deployment key, and store and SES/SNS
// failures, are errors (Create then fails the sign-in); the record exists by then, so a retried
// Create never sends a second message for the round.
func (is *Issuer) Issue(ctx context.Context, req triggers.IssueRequest) (triggers.Issued, error) {
	if is == nil || is.store == nil {
		return triggers.Issued{}, errors.New("otp: issuer not configured (use NewIssuer)")
	}
	ch := req.Challenge
	m := ch.Method
	if ch.Kind != authflow.KindCode || !m.IsCode() || ch.Generation < 1 || ch.SessionID == "" {
		return triggers.Issued{}, errors.New("otp: not a code round")
	}
	if req.Key == nil {
		return triggers.Issued{}, errors.New("otp: no deployment key in the request")
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

	// The same work for everyone: code, salt, digest, schedule, conditional write.
	recipient, fromAttr := target(req, m)
	address := deliveryAddress(m, recipient)
	pol := is.policy(req, m, recipient, fromAttr)
	r := &round{is: is, sendKey: RecipientKey(req.Key, m, recipient), pol: pol}
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
		Hash:       Digest(salt, ch.SessionID, ch.Generation, bindForm(m, recipient), code),
		Method:     string(m),
		ExpiresAt:  is.now().Add(is.cfg.TTL),
	}

	var (
		rec     store.OTPRecord
		created bool
	)
	if ch.Generation == 1 {
		// Store the record while reading the schedule (and the account's keys); decide once
		// the record is ours, so that a retried Create decides nothing.
		var cerr error
		r.reads(ctx, func() { rec, created, cerr = is.store.CreateOTP(ctx, record) })
		if cerr != nil {
			return triggers.Issued{}, fmt.Errorf("otp: store the code record: %w", cerr)
		}
		if err := r.readErr(); err != nil {
			return triggers.Issued{}, err
		}
		if created {
			if err := r.decide(ctx); err != nil {
				return triggers.Issued{}, err
			}
		}
	} else {
		// A resend decides first whether it can send. If it cannot, the round carries the
		// previous code on, so the code the user already has keeps working, and a retried
		// Create finds the same record.
		var existsErr, prevErr error
		var prev store.OTPRecord
		r.reads(ctx, func() {
			var wg sync.WaitGroup
			wg.Go(func() { _, existsErr = is.store.GetOTP(ctx, ch.SessionID, ch.Generation) })
			prev, prevErr = is.store.GetOTP(ctx, ch.SessionID, ch.Generation-1)
			wg.Wait()
		})
		if existsErr != nil && !errors.Is(existsErr, store.ErrNotFound) {
			return triggers.Issued{}, fmt.Errorf("otp: read the code record: %w", existsErr)
		}
		if err := r.readErr(); err != nil {
			return triggers.Issued{}, err
		}
		if existsErr != nil { // not found: this round is new
			if err := r.decide(ctx); err != nil {
				return triggers.Issued{}, err
			}
			if r.kept {
				switch {
				case prevErr == nil && prev.Method == string(m):
					carried := prev.CodeGeneration
					if carried == 0 {
						carried = prev.Generation
					}
					record = prev
					record.Generation, record.CodeGeneration = ch.Generation, carried
				case prevErr == nil, errors.Is(prevErr, store.ErrNotFound):
					// Nothing to carry on (expired, or not this method): the round gets the
					// new code, unsent.
				default:
					return triggers.Issued{}, fmt.Errorf("otp: read the previous code record: %w", prevErr)
				}
			}
		}
		if rec, created, err = is.store.CreateOTP(ctx, record); err != nil {
			return triggers.Issued{}, fmt.Errorf("otp: store the code record: %w", err)
		}
		if created && !r.decided {
			// The record expired between the read and the write: decide now.
			if err := r.decide(ctx); err != nil {
				return triggers.Issued{}, err
			}
		}
	}
	if rec.Method != string(m) || len(rec.Salt) == 0 || len(rec.Hash) == 0 || rec.ExpiresAt.IsZero() {
		return triggers.Issued{}, errors.New("otp: stored code record does not match the round")
	}

	destination := Mask(m, address)
	if !fromAttr && !looksLikeRecipient(m, recipient) {
		destination = placeholderMask(req.Key, m, req.UserPoolID, req.UserName, is.cfg.SMSAllowedCountries)
	}
	status, wait := CodeSent, r.wait
	if !r.decided {
		// A round that already had its record (a retried Create, or the round after a wrong
		// answer): nothing new goes out; the wait is read, not taken.
		status, wait = CodeKept, r.state.Wait(is.now(), is.schedule)
	} else if r.kept {
		status = CodeKept
		if rec.CodeGeneration == 0 || rec.CodeGeneration == rec.Generation {
			// Nothing carried on: no code of this sign-in works yet.
			status = CodeWait
		}
	}
	out := triggers.Issued{
		Public: map[string]string{
			PubDeliveryMedium: medium,
			PubDestination:    destination,
			PubResendAfter:    strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10),
			PubCodeStatus:     status,
		},
		Private: map[string]string{
			PrivSalt:    base64.StdEncoding.EncodeToString(rec.Salt),
			PrivDigest:  base64.StdEncoding.EncodeToString(rec.Hash),
			PrivExpires: strconv.FormatInt(rec.ExpiresAt.Unix(), 10),
			PrivAddress: address,
		},
	}
	if rec.CodeGeneration != 0 && rec.CodeGeneration != rec.Generation {
		out.Private[PrivCodeGeneration] = strconv.Itoa(rec.CodeGeneration)
	}
	if !created || !r.decided {
		log.DebugContext(ctx, "otp: round already has a code; not sending again")
		return out, nil
	}
	if r.reason != "" {
		log.InfoContext(ctx, "otp: code not sent", "reason", r.reason, "carried", out.Private[PrivCodeGeneration] != "")
		if r.refusal != "" {
			is.count(metrics.SendRefused, metrics.Dims{Channel: channel(m), Reason: r.refusal})
		}
		is.sendLatency[latencySlot(m)].Pad(ctx)
		return out, nil
	}

	start := time.Now()
	tmpl, locale := is.tmpl.forLocale(req.ClientMetadata[delivery.MetaLocale], req.UserAttributes[delivery.AttrLocale])
	if locale != "" {
		log.DebugContext(ctx, "otp: templates of a locale", "locale", locale) // a configured tag, never the raw value
	}
	if m == authflow.SMSOTP {
		err = is.sendSMS(ctx, tmpl, address, code)
	} else {
		err = is.sendEmail(ctx, tmpl, address, code)
	}
	if err != nil {
		log.WarnContext(ctx, "otp: sending the code failed", "err", err)
		is.count(metrics.SendFailed, metrics.Dims{Channel: channel(m)})
		return triggers.Issued{}, err
	}
	is.sendLatency[latencySlot(m)].Observe(time.Since(start))
	log.InfoContext(ctx, "otp: code sent", "medium", medium)
	is.count(metrics.Sent, metrics.Dims{Channel: channel(m), Kind: metrics.KindCode})
	return out, nil
}

// count adds one to a metric when the Issuer has a MetricCounter.
func (is *Issuer) count(name string, d metrics.Dims) {
	if is.metrics != nil {
		is.metrics.Count(name, d)
	}
}

// channel is the metrics channel of a code method.
func channel(m authflow.Method) string {
	if m == authflow.SMSOTP {
		return metrics.ChannelSMS
	}
	return metrics.ChannelEmail
}

// policy is what the request alone says about sending.
type policy struct {
	reason        string // why the code must not be sent ("" if it may be)
	refusal       string // the rule that refused, as a metrics reason ("" for none, or not counted)
	owner         string // the sub whose device keys and passkeys to count ("" : none to count)
	unverifiedSMS bool   // an SMS to a number that is not verified: counts against the budget
}

// policy decides what the request alone decides. It never includes the address in a reason.
func (is *Issuer) policy(req triggers.IssueRequest, m authflow.Method, recipient string, fromAttr bool) policy {
	// Unknown users and users without the attribute are not refused by a rule: nothing is
	// counted for them (no refusal, and certainly no send).
	switch {
	case req.UserNotFound:
		return policy{reason: "unknown user"}
	case !fromAttr && m == authflow.SMSOTP:
		return policy{reason: "user has no phone number"}
	case !fromAttr:
		return policy{reason: "user has no email address"}
	case m == authflow.EmailOTP && !looksLikeEmail(recipient):
		return policy{reason: "email address is malformed", refusal: metrics.Other}
	case m == authflow.SMSOTP:
		if _, err := SMSNumber(recipient, is.cfg.SMSAllowedCountries); err != nil {
			return policy{reason: err.Error(), refusal: numberRefusal(err)}
		}
	}
	attrs := req.UserAttributes
	_, verified := addressAttr(m)
	if attrs[verified] == "true" {
		return policy{}
	}
	// An unverified address: only a fresh sign-up proving it may get a code.
	other := AttrPhoneNumberVerified
	if m == authflow.SMSOTP {
		other = AttrEmailVerified
	}
	switch {
	case attrs[other] == "true":
		return policy{reason: "address not verified, and the account has another verified contact", refusal: metrics.ReasonUnverified}
	case attrs["sub"] == "":
		return policy{reason: "address not verified, and the user has no sub to look up keys", refusal: metrics.ReasonUnverified}
	}
	return policy{owner: attrs["sub"], unverifiedSMS: m == authflow.SMSOTP}
}

// round carries one Issue's reads and decision.
type round struct {
	is      *Issuer
	sendKey string
	pol     policy

	state    store.SendState
	stateErr error
	keys     int // device keys + passkeys of pol.owner
	keysErr  error

	decided bool
	kept    bool          // the schedule refused: nothing sent
	wait    time.Duration // until the next send, after the decision
	reason  string        // why nothing is sent ("" to send)
	refusal string        // the rule that refused, as a metrics reason ("": none, or not counted)
}

// reads runs also together with the round's reads: the schedule, and the account's keys when
// the policy asks for them.
func (r *round) reads(ctx context.Context, also func()) {
	var wg sync.WaitGroup
	wg.Go(func() { r.state, r.stateErr = r.is.store.ReadSendSchedule(ctx, r.sendKey) })
	if r.pol.owner != "" {
		wg.Go(func() {
			d, p, err := r.is.store.CredentialCounts(ctx, r.pol.owner)
			r.keys, r.keysErr = d+p, err
		})
	}
	also()
	wg.Wait()
}

func (r *round) readErr() error {
	if r.stateErr != nil {
		return fmt.Errorf("otp: send schedule: %w", r.stateErr)
	}
	if r.keysErr != nil {
		return fmt.Errorf("otp: count the user's keys: %w", r.keysErr)
	}
	return nil
}

// decide takes a step of the recipient's schedule and, when it allows a send, decides whether
// the code goes out. The schedule step is taken whatever the policy says, so that every round
// looks alike.
func (r *round) decide(ctx context.Context) error {
	d, err := r.is.store.RecordSend(ctx, r.sendKey, r.is.schedule, r.state)
	if err != nil {
		return fmt.Errorf("otp: send schedule: %w", err)
	}
	r.decided, r.wait, r.reason, r.refusal = true, d.Wait, r.pol.reason, r.pol.refusal
	if r.reason == "" && r.pol.owner != "" && r.keys > 0 {
		r.reason, r.refusal = "address not verified, and the account has a device key or passkey", metrics.ReasonUnverified
	}
	if !d.Allowed {
		r.kept = true
		if r.reason == "" {
			r.reason, r.refusal = "the recipient's wait has not passed", metrics.ReasonRateLimit
			if dailyCapped(r.state, r.is.now(), r.is.schedule) {
				r.reason, r.refusal = "the recipient's daily cap is reached", metrics.ReasonDailyCap
			}
		}
		return nil
	}
	if r.reason == "" && r.pol.unverifiedSMS {
		ok, err := r.is.store.AllowSend(ctx, SMSBudgetKey, r.is.cfg.SMSUnverifiedLimits...)
		if err != nil {
			return fmt.Errorf("otp: SMS budget: %w", err)
		}
		if !ok {
			r.reason, r.refusal = "the deployment's budget for SMS to unverified numbers is spent", metrics.ReasonBudget
		}
	}
	return nil
}

// dailyCapped reports whether st, as read before the decision, had reached sc's daily cap for
// the window current at now: the schedule refused because of the cap rather than a delay. (A
// decision taken on a state re-read after a lost race is named from the first read.)
func dailyCapped(st store.SendState, now time.Time, sc store.SendSchedule) bool {
	return st.WindowCount >= int64(sc.DailyCap) && st.WindowStart+int64(store.SendWindow/time.Second) > now.Unix()
}

// numberRefusal names SMSNumber's refusal as a metrics reason: "country" for a number outside
// the SMS allow-list (its country, or its kind: premium-rate, shared-cost, VoIP...), "other" for
// a value that is not a phone number at all.
func numberRefusal(err error) string {
	if errors.Is(err, ErrCountryNotAllowed) || errors.Is(err, ErrNotMobile) {
		return metrics.ReasonCountry
	}
	return metrics.Other
}

// target returns the recipient of the round (trimmed) and whether it comes from the user's
// attribute. Otherwise (unknown user, attribute missing) it is what the user typed as a user
// name, so that the masked destination matches what a real user with that address would see
// and the schedule is the one of that address.
func target(req triggers.IssueRequest, m authflow.Method) (string, bool) {
	attr, _ := addressAttr(m)
	if !req.UserNotFound {
		if a := strings.TrimSpace(req.UserAttributes[attr]); a != "" {
			return a, true
		}
	}
	// Sign-in names are case-insensitive (the construct's pool), so one real account answers to
	// every casing: fold what was typed, or two casings of an unknown name would differ.
	return strings.ToLower(strings.TrimSpace(req.UserName)), false
}

func (is *Issuer) data(code string) TemplateData {
	return TemplateData{Code: code, AppName: is.cfg.AppName, Minutes: is.tmpl.minutes}
}

func (is *Issuer) sendEmail(ctx context.Context, t *templates, to, code string) error {
	d := is.data(code)
	in := is.cfg.Sender().Email(to, d.render(t.subject), d.render(t.text), d.render(t.html))
	if err := is.email.SendEmail(ctx, in); err != nil {
		return newDeliveryError(MediumEmail, err)
	}
	return nil
}

func (is *Issuer) sendSMS(ctx context.Context, t *templates, to, code string) error {
	if err := is.sms.Publish(ctx, is.cfg.Sender().SMS(to, is.data(code).render(t.sms))); err != nil {
		return newDeliveryError(MediumSMS, err)
	}
	return nil
}

// latencySlot is the index in Issuer.sendLatency of the medium of m.
func latencySlot(m authflow.Method) int {
	if m == authflow.SMSOTP {
		return 1
	}
	return 0
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
	return &DeliveryError{Medium: medium, Code: delivery.ErrorCode(err), Err: err}
}

func (e *DeliveryError) Error() string {
	return "otp: sending the " + e.Medium + " code failed: " + e.Code
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// ErrorCode names an AWS error without its message (which can quote an address): the AWS error
// code kept to letters, digits, '.', '-' and '_', or "deadline exceeded", "canceled", "transport"
// (delivery.ErrorCode).
func ErrorCode(err error) string { return delivery.ErrorCode(err) }
