package passwordless

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// NotificationProps configures security notifications (package notify): a message to the
// account's verified email address, or by SMS to its verified phone number when that is its
// only verified contact (and the sms_otp method is on: without it the construct grants no SMS,
// so such an account gets no notice). Messages carry no secret and no sign-in link. They go
// through the sender settings of the codes (Email, AppName, SMS), never delay or fail the action
// that caused them (a failure is logged and counted), and a Cognito retry sends one.
//
// Who sends what: Verify sends account_locked and new_method_signin; the API sends key_added,
// key_removed, passkey_added, passkey_removed and contact_changed (to the old address too).
// Each function gets only the environment and permissions of the kinds it sends.
type NotificationProps struct {
	// Events are the kinds notified (see NotificationKinds), each needing a method that can
	// cause it: KeyAdded and KeyRemoved the DeviceKey method, PasskeyAdded and PasskeyRemoved
	// the Passkey method, ContactChanged a code method (addresses change through the contact
	// routes), AccountLocked a method the lock guards (EmailOTP, SMSOTP, MagicLink),
	// NewMethodSignIn any method. Required, at least one, each at most once.
	Events []NotificationKind
	// Templates override the default messages per kind (a kind of Events), field by field (see
	// NotificationTemplates). Default: none (the default messages of every kind).
	Templates map[NotificationKind]NotificationTemplates
	// Locales are the messages per locale and kind, field by field over Templates (an empty
	// field, or a kind left out, takes Templates' or the default): keys are lower-case language
	// tags ("es", "pt-br"), at most 20, each kind one of Events. A message's locale is the
	// account owner's attribute "locale" only, "es-MX" finding "es": never a locale the request
	// asks for, so whoever causes a notice (perhaps someone holding a stolen session) cannot
	// choose a language the owner does not read. An unknown or malformed locale gets the
	// default-locale messages and never fails a send. Default none.
	Locales map[string]map[NotificationKind]NotificationTemplates
	// Timeout bounds one notification: Verify and the API wait for it before they answer.
	// Default 1 s; range 100 ms - 2 s (MaxNotificationTimeout).
	Timeout time.Duration
	// LockedLimits caps AccountLocked notifications per account, however often a stranger
	// locks it. Default 3 per 24 hours; 1-5 limits with distinct windows of whole seconds up to
	// 31 days. Only with AccountLocked.
	LockedLimits []Limit
	// LockedSMSLimits caps AccountLocked notifications by SMS for the whole deployment (what a
	// stranger can make it pay). Default 20 per hour and 100 per 24 hours; 1-5 limits as
	// LockedLimits. Only with AccountLocked.
	LockedSMSLimits []Limit
}

// MaxNotificationTimeout bounds NotificationProps.Timeout: Verify and the API wait for a
// notification, and with the deployment key read (up to about 1 s on an instance's first
// request) and their own work must answer within their timeout (TriggerTimeoutSeconds,
// APITimeoutSeconds: 4 s, under Cognito's 5 s).
const MaxNotificationTimeout = 2 * time.Second

// Who raises each kind.
var (
	verifyKinds = []notify.Kind{notify.AccountLocked, notify.NewMethodSignIn}
	apiKinds    = []notify.Kind{notify.KeyAdded, notify.KeyRemoved, notify.PasskeyAdded, notify.PasskeyRemoved, notify.ContactChanged}
)

// notifyKinds returns the enabled kinds among of, in notify.Kinds order.
func (p Props) notifyKinds(of []notify.Kind) []notify.Kind {
	if p.Notifications == nil {
		return nil
	}
	var out []notify.Kind
	for _, k := range notify.Kinds {
		if slices.Contains(of, k) && slices.Contains(p.Notifications.Events, NotificationKind(k)) {
			out = append(out, k)
		}
	}
	return out
}

// notifyEnv is the notification environment of a function sending kinds (nil for none):
// package notify's variables and the sender settings it shares with the codes (the SES
// configuration set aside: its name is generated at deploy time).
func (p Props) notifyEnv(kinds []notify.Kind) map[string]string {
	if len(kinds) == 0 {
		return nil
	}
	n := p.Notifications
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	timeout := n.Timeout
	if timeout == 0 {
		timeout = notify.DefaultTimeout
	}
	env := map[string]string{
		notify.EnvEvents:  strings.Join(names, ","),
		notify.EnvTimeout: timeout.String(),
		notify.EnvAppName: orDefaultString(p.AppName, otp.DefaultAppName),
	}
	if p.Email != nil {
		env[notify.EnvEmailFrom] = p.Email.From
	}
	if slices.Contains(p.Methods, SMSOTP) {
		// SMS notices to phone-only accounts, under the settings of the SMS codes.
		env[notify.EnvSMSAllowedCountries] = strings.Join(p.SMS.AllowedCountries, ",")
		if p.SMS.SenderID != "" {
			env[notify.EnvSMSSenderID] = p.SMS.SenderID
		}
		if p.SMS.OriginationNumber != "" {
			env[notify.EnvSMSOriginationNumber] = p.SMS.OriginationNumber
		}
	}
	if slices.Contains(kinds, notify.AccountLocked) {
		env[notify.EnvLockedLimits] = limitsEnv(storeLimits(n.LockedLimits), notify.DefaultLockedLimits)
		env[notify.EnvLockedSMSLimits] = limitsEnv(storeLimits(n.LockedSMSLimits), notify.DefaultLockedSMSLimits)
	}
	if js := templatesJSON(notifyTemplates(n.Templates), kinds); js != "" {
		env[notify.EnvTemplatesJSON] = js
	}
	if js := localesTemplatesJSON(n.Locales, kinds); js != "" {
		env[notify.EnvLocalesJSON] = js
	}
	return env
}

// localesTemplatesJSON is NOTIFY_LOCALES_JSON for kinds: per locale, templatesJSON of its
// templates of those kinds; locales without any left out, "" when none is left.
func localesTemplatesJSON(locales map[string]map[NotificationKind]NotificationTemplates, kinds []notify.Kind) string {
	out := map[string]json.RawMessage{}
	for tag, m := range locales {
		if js := templatesJSON(notifyTemplates(m), kinds); js != "" {
			out[tag] = json.RawMessage(js)
		}
	}
	return localesJSON(out)
}

// limitsEnv writes limits as "<seconds>s:<max>,...", or def (notify's syntax) in that form when
// there are none.
func limitsEnv(limits []store.Limit, def string) string {
	if len(limits) == 0 {
		limits, _ = notify.ParseLimits(def)
	}
	parts := make([]string, len(limits))
	for i, l := range limits {
		w := fmt.Sprintf("%ds", int64(l.Window/time.Second))
		if l.Window%time.Second != 0 {
			w = l.Window.String() // for notify to refuse
		}
		parts[i] = fmt.Sprintf("%s:%d", w, l.Max)
	}
	return strings.Join(parts, ",")
}

// templatesJSON is NOTIFY_TEMPLATES_JSON for kinds: the overrides of those kinds, empty fields
// left out; "" when there are none. Object keys are sorted, so the output is stable.
func templatesJSON(all map[notify.Kind]notify.Templates, kinds []notify.Kind) string {
	out := map[string]map[string]string{}
	for _, k := range kinds {
		t, ok := all[k]
		if !ok {
			continue
		}
		fields := map[string]string{}
		for name, v := range map[string]string{"subject": t.Subject, "text": t.Text, "html": t.HTML, "sms": t.SMS} {
			if v != "" {
				fields[name] = v
			}
		}
		if len(fields) > 0 {
			out[string(k)] = fields
		}
	}
	if len(out) == 0 {
		return ""
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // templates hold HTML; keep them readable in the console
	if err := enc.Encode(out); err != nil {
		panic(err) // maps of strings always encode
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// validateNotifications reports the problems of the notification settings (p has its
// defaults), then checks the environment each sending function gets with notify's own parser.
func (p Props) validateNotifications(bad func(format string, a ...any)) {
	n := p.Notifications
	if n == nil {
		return
	}
	cfg := p.flowConfig()
	guessable := slices.ContainsFunc(p.Methods, func(m Method) bool { return m.flow().Guessable() })
	if len(n.Events) == 0 {
		bad("Notifications.Events is empty: list the kinds to notify (%s), or leave Notifications nil", kindNames(notify.Kinds))
	}
	seen := map[notify.Kind]bool{}
	for _, k := range toNotifyKinds(n.Events) {
		switch {
		case !k.Valid():
			bad("Notifications.Events: unknown event kind %q (kinds: %s)", k, kindNames(notify.Kinds))
			continue
		case seen[k]:
			bad("Notifications.Events: %s listed twice", k)
		}
		seen[k] = true
		switch {
		case (k == notify.KeyAdded || k == notify.KeyRemoved) && !cfg.Enabled(authflow.DeviceKey):
			bad("Notifications.Events: %s needs the device_key method (no device key can be added or removed without it)", k)
		case (k == notify.PasskeyAdded || k == notify.PasskeyRemoved) && !cfg.Enabled(authflow.Passkey):
			bad("Notifications.Events: %s needs the passkey method (the construct's passkeys; native mode's are Cognito's own)", k)
		case k == notify.ContactChanged && !p.codes():
			bad("Notifications.Events: contact_changed needs a code method (email_otp or sms_otp): addresses change only through the contact routes, which send a code")
		case k == notify.AccountLocked && !guessable:
			bad("Notifications.Events: account_locked needs a method the lock guards (email_otp, sms_otp or magic_link)")
		case k == notify.NewMethodSignIn && len(p.Methods) == 0:
			bad("Notifications.Events: new_method_signin needs at least one sign-in method")
		}
	}
	if p.Email == nil && !slices.Contains(p.Methods, SMSOTP) {
		bad("Notifications need a sender: Email (notices by email) and/or the sms_otp method (SMS to accounts whose only verified contact is a phone number)")
	}
	if n.Timeout != 0 && (n.Timeout < notify.MinTimeout || n.Timeout > MaxNotificationTimeout) {
		bad("Notifications.Timeout %v out of range %v-%v: Verify and the API wait for a notification and must answer within %d s",
			n.Timeout, notify.MinTimeout, MaxNotificationTimeout, TriggerTimeoutSeconds)
	}
	for _, k := range sortedKinds(notifyTemplates(n.Templates)) {
		if !seen[k] {
			bad("Notifications.Templates has %q, which is not in Notifications.Events", k)
		}
	}
	tags := slices.Sorted(maps.Keys(n.Locales))
	if err := delivery.CheckLocaleTags(slices.Clone(tags)); err != nil {
		bad("Notifications.Locales: %w", err)
	}
	for _, tag := range tags {
		for _, k := range sortedKinds(notifyTemplates(n.Locales[tag])) {
			if !seen[k] {
				bad("Notifications.Locales[%q] has %q, which is not in Notifications.Events", tag, k)
			}
		}
	}
	if (len(n.LockedLimits) > 0 || len(n.LockedSMSLimits) > 0) && !seen[notify.AccountLocked] {
		bad("Notifications.LockedLimits and LockedSMSLimits cap account_locked, which is not in Notifications.Events")
	}
	// The parser Verify and the API run at start-up, on the variables they will get (codes'
	// settings included: both functions share APP_NAME and the sender settings with them).
	check := func(fn string, env map[string]string) {
		if _, err := notify.ConfigFromEnv(func(k string) string { return env[k] }); err != nil {
			bad("notifications (%s): %w", fn, err)
		}
	}
	for _, f := range []struct {
		name  string
		kinds []notify.Kind
		codes bool
	}{{"verify", verifyKinds, p.codes()}, {"api", apiKinds, p.codes()}} {
		kinds := p.notifyKinds(f.kinds)
		if len(kinds) == 0 {
			continue
		}
		env := map[string]string{}
		if f.codes {
			env = codeEnvStrings(p)
		}
		for k, v := range p.notifyEnv(kinds) {
			env[k] = v
		}
		check(f.name, env)
	}
}

// notificationTemplateBytes is the size of the notification templates in the environment.
func (p Props) notificationTemplateBytes() int {
	if p.Notifications == nil {
		return 0
	}
	return len(templatesJSON(notifyTemplates(p.Notifications.Templates), notify.Kinds)) +
		len(localesTemplatesJSON(p.Notifications.Locales, notify.Kinds))
}

func kindNames(kinds []notify.Kind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

func sortedKinds(m map[notify.Kind]notify.Templates) []notify.Kind {
	out := make([]notify.Kind, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
