package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/logging"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// Event is something that happened to an account.
type Event struct {
	Kind       Kind
	UserPoolID string
	UserName   string
	// Attributes are the user's attributes (email, phone_number, their *_verified flags, sub),
	// as they are after the event.
	Attributes map[string]string
	// Detail describes the event (DetailMethod, DetailKeyName, DetailCount, DetailOldAddress,
	// DetailAttribute); never a secret. Other keys are ignored.
	Detail map[string]string
	// ID makes the notification idempotent: one ID (with the same kind and user) is sent at most
	// once (a Cognito retry of the trigger). Empty: not de-duplicated.
	ID string
}

// Store is the part of *store.Store the Sender uses.
type Store interface {
	// ClaimNotification claims an event ID with one conditional write; false: already claimed.
	ClaimNotification(ctx context.Context, id string, ttl time.Duration) (bool, error)
	// AllowSend consumes one unit of every limit under key, atomically.
	AllowSend(ctx context.Context, key string, limits ...store.Limit) (bool, error)
}

// EmailSender sends an email (SES v2 SendEmail; *awsapi.Client).
type EmailSender = delivery.EmailSender

// SMSSender sends an SMS (SNS Publish; *awsapi.Client).
type SMSSender = delivery.SMSSender

var _ Store = (*store.Store)(nil)

// Deps are a Sender's dependencies. Store, Email and SMS are required when Config.Events is not
// empty.
type Deps struct {
	Store Store
	Email EmailSender
	SMS   SMSSender
	// Log receives one line per decision, never an address, user name or detail value (nil: no
	// logging).
	Log *slog.Logger
	// Now is the clock for the time shown in messages (nil: time.Now).
	Now func() time.Time
	// Metrics counts the notices sent and the failures (see Sender.SetMetrics; nil: none).
	Metrics Counter
}

// Counter counts metrics; *metrics.Recorder implements it.
type Counter = metrics.Counter

// Notifier is what the packages that raise security events need of a *Sender: Notify never
// fails the caller and returns within a bounded time (Config.Timeout, default 1 s).
type Notifier interface {
	Notify(ctx context.Context, k *keyed.Key, ev Event)
}

var _ Notifier = (*Sender)(nil)

// Sender sends notifications. A nil *Sender sends nothing. It is safe for concurrent use.
type Sender struct {
	cfg      Config
	on       map[Kind]bool
	tmpl     map[Kind]*compiled
	locales  map[string]map[Kind]*compiled
	store    Store
	email    EmailSender
	sms      SMSSender
	log      *slog.Logger
	now      func() time.Time
	sent     atomic.Uint64
	failures atomic.Uint64
	metrics  Counter
}

// New returns a Sender for cfg (defaults filled in, then validated).
func New(cfg Config, d Deps) (*Sender, error) {
	cfg = cfg.withDefaults()
	tmpl, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	locales, err := cfg.compileLocales()
	if err != nil {
		return nil, err
	}
	if len(cfg.Events) > 0 && (d.Store == nil || d.Email == nil || d.SMS == nil) {
		return nil, errors.New("notify: events are enabled but the store, email or SMS sender is missing")
	}
	s := &Sender{cfg: cfg, on: map[Kind]bool{}, tmpl: tmpl, locales: locales, store: d.Store, email: d.Email, sms: d.SMS, log: d.Log, now: d.Now,
		metrics: d.Metrics}
	for _, k := range cfg.Events {
		s.on[k] = true
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// FromEnv reads the Config from the environment through getenv (os.Getenv when nil) and returns
// a Sender that sends with aws (SES and SNS), de-duplicates and caps with st, and logs JSON to
// standard output at LOG_LEVEL. With NOTIFY_EVENTS empty it returns a Sender that sends nothing
// (aws and st may then be nil); the other variables are checked all the same.
func FromEnv(getenv func(string) string, aws *awsapi.Client, st *store.Store) (*Sender, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	d := Deps{Log: logging.New(nil, getenv)}
	if len(cfg.Events) > 0 {
		if aws == nil || st == nil {
			return nil, fmt.Errorf("notify: %s is set but the AWS client or the key table is missing", EnvEvents)
		}
		d.Store, d.Email, d.SMS = st, aws, aws
	}
	return New(cfg, d)
}

// SetMetrics makes s count its notices in m (nil: none), as Deps.Metrics does for New: every
// message sent is Sent{Channel: email|sms, Kind: notice}; every failure Failures counts is one
// NotificationFailed, with the Channel of the recipient when it is one send that failed, without
// one otherwise (no deployment key, a timeout, a de-duplication or cap write that failed). Call it
// before the Sender is used (it is not synchronised with Notify); a nil s ignores it.
func (s *Sender) SetMetrics(m Counter) {
	if s != nil {
		s.metrics = m
	}
}

// Enabled reports whether notifications of kind k are sent (false for a nil Sender).
func (s *Sender) Enabled(k Kind) bool { return s != nil && s.on[k] }

// Sent returns the number of messages sent so far.
func (s *Sender) Sent() uint64 {
	if s == nil {
		return 0
	}
	return s.sent.Load()
}

// Failures returns the number of failures so far: messages that could not be rendered or sent
// (one per recipient), Notify calls that timed out, and de-duplication or cap writes that failed
// (the notification is then sent anyway).
func (s *Sender) Failures() uint64 {
	if s == nil {
		return 0
	}
	return s.failures.Load()
}

// Notify tells the account's owner about ev, if ev.Kind is enabled. It never returns an error,
// never panics and returns within Config.Timeout even when a dependency ignores its context (the
// work left is then abandoned and counted as one failure). k is the deployment key (required:
// without it nothing is sent and a failure is counted).
func (s *Sender) Notify(ctx context.Context, k *keyed.Key, ev Event) {
	if !s.Enabled(ev.Kind) {
		return
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if k == nil {
		s.fail(1, "")
		s.log.ErrorContext(ctx, "notification not sent", "kind", ev.Kind, "reason", "no deployment key")
		return
	}
	ev.Attributes, ev.Detail = maps.Clone(ev.Attributes), maps.Clone(ev.Detail)
	t := &tally{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				t.fail("")
				s.log.ErrorContext(ctx, "notification panicked", "kind", ev.Kind, "user", userRef(k, ev))
			}
		}()
		s.run(ctx, k, ev, t)
	}()
	select {
	case <-done:
		s.settle(t)
	case <-ctx.Done():
		// Whatever the work does from now on is not counted: one failure stands for it.
		s.fail(1, "")
		s.log.WarnContext(ctx, "notification timed out", "kind", ev.Kind, "user", userRef(k, ev), "timeout", s.cfg.Timeout.String())
	}
}

// tally counts one Notify call's outcomes, by channel, until it is added to the Sender's
// counters and metrics (only when the call finished in time).
type tally struct {
	sent   [numChannels]atomic.Uint64
	failed [numChannels]atomic.Uint64
}

// Channels of the tally: the metrics channel of a medium, or none (a failure not of one send).
const (
	chanNone = iota
	chanEmail
	chanSMS
	numChannels
)

var channelNames = [numChannels]string{chanNone: "", chanEmail: metrics.ChannelEmail, chanSMS: metrics.ChannelSMS}

func channelOf(medium string) int {
	switch medium {
	case MediumEmail:
		return chanEmail
	case MediumSMS:
		return chanSMS
	}
	return chanNone
}

func (t *tally) ok(medium string)   { t.sent[channelOf(medium)].Add(1) }
func (t *tally) fail(medium string) { t.failed[channelOf(medium)].Add(1) }

// settle adds a finished call's tally to the counters and the metrics.
func (s *Sender) settle(t *tally) {
	for c := range numChannels {
		n := t.sent[c].Load()
		s.sent.Add(n)
		for range n {
			s.count(metrics.Sent, metrics.Dims{Channel: channelNames[c], Kind: metrics.KindNotice})
		}
		s.fail(t.failed[c].Load(), channelNames[c])
	}
}

// fail counts n failures (NotificationFailed with channel, "" for none).
func (s *Sender) fail(n uint64, channel string) {
	s.failures.Add(n)
	for range n {
		s.count(metrics.NotificationFailed, metrics.Dims{Channel: channel})
	}
}

func (s *Sender) count(name string, d metrics.Dims) {
	if s.metrics != nil {
		s.metrics.Count(name, d)
	}
}

// userRef is the log reference of the user: the same keyed reference as the triggers log.
func userRef(k *keyed.Key, ev Event) string { return k.Ref("userref", ev.UserPoolID, ev.UserName) }

// Keyed-ID purposes and the fixed key of the deployment-wide SMS budget (RATE# items).
const (
	purposeDedupe    = "notify"
	purposeLocked    = "notify-locked"
	lockedSMSRateKey = "notify-locked-sms"
)

func (s *Sender) run(ctx context.Context, k *keyed.Key, ev Event, t *tally) {
	ref := userRef(k, ev)
	log := s.log.With("kind", string(ev.Kind), "user", ref)
	rcpts, why := s.recipients(ev)
	for _, w := range why {
		log.InfoContext(ctx, "notification recipient skipped", "reason", w)
	}
	if len(rcpts) == 0 {
		return
	}
	if ev.ID == "" {
		log.WarnContext(ctx, "notification without event ID: not de-duplicated")
	} else {
		id := k.ID(purposeDedupe, string(ev.Kind), ev.UserPoolID, ev.UserName, ev.ID)
		first, err := s.store.ClaimNotification(ctx, id, DedupeTTL)
		switch {
		case err != nil:
			// A duplicate notice is harmless, a missing one is not: send anyway.
			t.fail("")
			log.WarnContext(ctx, "notification de-duplication failed, sending anyway", "error", delivery.ErrorCode(err))
		case !first:
			log.InfoContext(ctx, "notification already sent for this event")
			return
		}
	}
	if ev.Kind == AccountLocked {
		if !s.allow(ctx, log, t, k.ID(purposeLocked, ev.UserPoolID, ev.UserName), "account", s.cfg.LockedLimits) {
			return
		}
		kept := rcpts[:0]
		for _, r := range rcpts {
			if r.medium != MediumSMS || s.allow(ctx, log, t, lockedSMSRateKey, "deployment SMS", s.cfg.LockedSMSLimits) {
				kept = append(kept, r)
			}
		}
		rcpts = kept
	}
	d := s.data(ev)
	tmpl := s.tmpl[ev.Kind]
	// Only the owner's own attribute chooses the language: never a request's ClientMetadata,
	// which whoever causes the event (possibly an attacker) controls. The tag chosen is a
	// configured one, never the raw value, so it is safe to log.
	if set, tag := delivery.ForLocale(s.locales, nil, ev.Attributes[delivery.AttrLocale]); tag != "" {
		tmpl = set[ev.Kind]
		log.DebugContext(ctx, "notification templates of a locale", "locale", tag)
	}
	var wg sync.WaitGroup
	for _, r := range rcpts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					t.fail(r.medium)
					log.ErrorContext(ctx, "notification send panicked", "medium", r.medium, "to", r.role)
				}
			}()
			err := s.send(ctx, tmpl, d, r)
			if err != nil {
				t.fail(r.medium)
				log.WarnContext(ctx, "notification failed", "medium", r.medium, "to", r.role, "error", delivery.ErrorCode(err))
				return
			}
			t.ok(r.medium)
			log.InfoContext(ctx, "notification sent", "medium", r.medium, "to", r.role)
		}()
	}
	wg.Wait()
}

// allow applies a cap; a cap that cannot be read lets the notification through (and counts a
// failure): during a DynamoDB outage no account is locked, so nothing a stranger causes gets by.
func (s *Sender) allow(ctx context.Context, log *slog.Logger, t *tally, key, what string, limits []store.Limit) bool {
	ok, err := s.store.AllowSend(ctx, key, limits...)
	switch {
	case err != nil:
		t.fail("")
		log.WarnContext(ctx, "notification cap unavailable, sending anyway", "cap", what, "error", delivery.ErrorCode(err))
		return true
	case !ok:
		log.InfoContext(ctx, "notification capped", "cap", what)
		return false
	}
	return true
}

// data is what the templates see for ev.
func (s *Sender) data(ev Event) data {
	det := ev.Detail
	attr := det[DetailAttribute]
	if attr != AttrEmail && attr != AttrPhoneNumber {
		attr = ""
		if old := det[DetailOldAddress]; old != "" {
			attr = AttrEmail
			if old[0] == '+' {
				attr = AttrPhoneNumber
			}
		}
	}
	newAddress := noAddress
	if attr != "" {
		newAddress = maskAddress(ev.Attributes[attr])
	}
	return data{
		AppName: s.cfg.AppName,
		Time:    formatTime(s.now()),
		Detail: map[string]string{
			DetailMethod:     methodLabel(det[DetailMethod]),
			DetailKeyName:    keyNameField(det[DetailKeyName]),
			DetailCount:      countField(det[DetailCount]),
			DetailOldAddress: maskAddress(det[DetailOldAddress]),
			FieldNewAddress:  newAddress,
			FieldContact:     contactLabel(attr),
		},
	}
}

func (s *Sender) send(ctx context.Context, t *compiled, d data, r recipient) error {
	if r.medium == MediumEmail {
		return s.email.SendEmail(ctx, s.cfg.Settings.Email(r.address, d.render(t.subject), d.render(t.text), d.render(t.html)))
	}
	return s.sms.Publish(ctx, s.cfg.Settings.SMS(r.address, d.gsm7().render(t.sms)))
}

// gsm7 returns d with every detail value in GSM-7 only (delivery.GSM7Only): a key's name and an
// address are chosen by the user (or by whoever holds the session), and one character outside
// GSM-7 would make the SMS UCS-2, 70 characters a part, two or three billed parts instead of one.
func (d data) gsm7() data {
	det := make(map[string]string, len(d.Detail))
	for k, v := range d.Detail {
		det[k] = delivery.GSM7Only(v)
	}
	d.Detail = det
	return d
}
