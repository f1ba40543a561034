package passwordless

import (
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/passkey"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// This file holds the construct's own types for settings that the Lambda packages also model
// (sign-in methods, lockout, passkeys, send limits, notifications), so that a user configures
// the construct by importing this package alone; the construct translates them to the Lambda
// packages' types (the unexported methods below). TestAPIOwnTypes keeps it that way.

// Method is a sign-in method of ModeCustom: its value is the name a client sends as
// ClientMetadata signInMethod and the name in the SIGN_IN_METHODS list the triggers read.
type Method string

// The sign-in methods.
const (
	// EmailOTP: a one-time code emailed through the SES sender (needs Props.Email and the email
	// alias).
	EmailOTP Method = "email_otp"
	// SMSOTP: a one-time code sent by SMS (needs the phone alias; see SMSProps). SMS is a
	// restricted authenticator (NIST SP 800-63B): offer a key method beside it.
	SMSOTP Method = "sms_otp"
	// DeviceKey: a signature over a server-issued nonce by a key pair the app keeps behind the
	// device's biometrics, registered through the HTTP API (see DeviceKeyProps). The only
	// method that also runs in ModeNative (through CUSTOM_AUTH beside USER_AUTH).
	DeviceKey Method = "device_key"
	// Passkey: a WebAuthn assertion over a server-issued nonce (needs Props.Passkeys.RPID; see
	// PasskeyProps).
	Passkey Method = "passkey"
	// MagicLink: a sign-in link emailed to the account's verified address (needs Props.Email,
	// the email alias and Props.MagicLink; see MagicLinkProps).
	MagicLink Method = "magic_link"
)

// Methods lists every Method, in a fixed order.
var Methods = []Method{EmailOTP, SMSOTP, DeviceKey, Passkey, MagicLink}

// flow is m as package authflow's Method.
func (m Method) flow() authflow.Method { return authflow.Method(m) }

// flowMethods converts ms to package authflow's Methods.
func flowMethods(ms []Method) []authflow.Method {
	if ms == nil {
		return nil
	}
	out := make([]authflow.Method, len(ms))
	for i, m := range ms {
		out[i] = m.flow()
	}
	return out
}

// flowConfig is the authflow.Config the triggers read from the environment New writes.
func (p Props) flowConfig() authflow.Config {
	return authflow.Config{Methods: flowMethods(p.Methods), MaxAttempts: p.MaxAttempts, MaxResends: p.MaxResends}
}

// LockoutProps is the per-account limit of wrong answers to guessable challenges (one-time
// codes and magic links), shared by every method: once Limit wrong answers fall in one window,
// even the right answer is refused until the window ends. Device-key and passkey answers are
// never refused by the lock and never counted. Windows are fixed and aligned to the Unix epoch,
// so a burst across a window boundary can reach up to 2 x Limit. Zero values take the defaults.
type LockoutProps struct {
	// Limit is the number of wrong answers in one window that locks the account. Default 5
	// (DefaultLockoutLimit); range 1-1000.
	Limit int
	// Window is the length of the counting window, whole seconds. Default 15 minutes
	// (DefaultLockoutWindow); range 1 minute - 24 hours.
	Window time.Duration
}

// Lockout defaults.
const (
	DefaultLockoutLimit  = 5
	DefaultLockoutWindow = 15 * time.Minute
)

// config is l as package lockout's Config (zero fields stay zero: lockout fills them).
func (l LockoutProps) config() lockout.Config {
	return lockout.Config{Limit: l.Limit, Window: l.Window}
}

// PasskeyProps is the relying party's passkey (WebAuthn) policy for the passkey method.
// Zero values take the defaults.
type PasskeyProps struct {
	// RPID is the WebAuthn relying party ID: a domain, e.g. "example.com". Required with the
	// passkey method, refused without it.
	RPID string
	// RPName is shown by authenticators when a passkey is created. Default: RPID.
	RPName string
	// Origins lists the accepted origins: web origins "https://host[:port]" whose host is RPID or
	// a subdomain of it ("http://localhost[:port]" when RPID is "localhost"), and Android app
	// origins "android:apk-key-hash:<unpadded base64url SHA-256 of the signing certificate>". At
	// least one web origin is required. Default: "https://<RPID>".
	Origins []string
	// UserVerification is "required", "preferred" or "discouraged". With "required" every
	// registration and sign-in must carry the user-verified flag. Default "required".
	UserVerification string
	// ResidentKey is "required", "preferred" or "discouraged". Passkey sign-in with
	// AllowCredentials "none" (the default) and usernameless sign-in need discoverable
	// credentials: with "preferred" or "discouraged" an authenticator may create a credential
	// that signs in only when its ID is listed ("list"). Default "required".
	ResidentKey string
	// Attestation is "none", "indirect" or "direct". Default "none".
	Attestation string
	// Attachment is "platform", "cross-platform" or "" (any authenticator). Default "".
	Attachment string
	// Timeout is the ceremony timeout sent to the client, the lifetime of stored challenges and
	// the longest a nonce round may be answered after it was issued. Default 120 seconds;
	// range 30-600 seconds.
	Timeout time.Duration
	// MaxPerUser caps the passkeys one user may register. Default 10; range 1-100.
	MaxPerUser int
	// AllowCredentials is what the nonce round's request options list: "none" (no credential
	// IDs, so passkey sign-in uses discoverable credentials) or "list" (the user's credential
	// IDs, which lets anyone tell that an email address and a phone number belong to one
	// account). Default "none".
	AllowCredentials string
}

// config is k as package passkey's Config (zero fields stay zero: passkey fills them).
func (k PasskeyProps) config() passkey.Config {
	return passkey.Config{
		RPID: k.RPID, RPName: k.RPName, Origins: k.Origins, UserVerification: k.UserVerification,
		ResidentKey: k.ResidentKey, Attestation: k.Attestation, Attachment: k.Attachment,
		Timeout: k.Timeout, MaxPerUser: k.MaxPerUser, AllowCredentials: k.AllowCredentials,
	}
}

// Limit is a send limit: at most Max sends per fixed Window (windows aligned to the Unix
// epoch). A list of limits must have distinct windows.
type Limit struct {
	// Window is the window length, whole seconds. No default: required.
	Window time.Duration
	// Max is the number of sends allowed per window; at least 1. No default: required.
	Max int
}

// storeLimits converts ls to package store's Limits (nil for none).
func storeLimits(ls []Limit) []store.Limit {
	if ls == nil {
		return nil
	}
	out := make([]store.Limit, len(ls))
	for i, l := range ls {
		out[i] = store.Limit{Window: l.Window, Max: l.Max}
	}
	return out
}

// NotificationKind is a kind of security event NotificationProps can tell account owners about.
type NotificationKind string

// The notification kinds.
const (
	// KeyAdded: a device key was registered (needs the device_key method; sent by the API).
	KeyAdded NotificationKind = "key_added"
	// KeyRemoved: one or more device keys were revoked (needs device_key; sent by the API).
	KeyRemoved NotificationKind = "key_removed"
	// PasskeyAdded: a passkey was registered (needs the passkey method; sent by the API).
	PasskeyAdded NotificationKind = "passkey_added"
	// PasskeyRemoved: one or more passkeys were removed (needs passkey; sent by the API).
	PasskeyRemoved NotificationKind = "passkey_removed"
	// AccountLocked: code and link sign-in were locked by wrong answers (needs email_otp,
	// sms_otp or magic_link; sent by Verify).
	AccountLocked NotificationKind = "account_locked"
	// ContactChanged: the email address or phone number changed, told to the old address too
	// (needs email_otp or sms_otp; sent by the API).
	ContactChanged NotificationKind = "contact_changed"
	// NewMethodSignIn: a sign-in with a method (or device key) the account had not used before
	// (needs any method; sent by Verify).
	NewMethodSignIn NotificationKind = "new_method_signin"
)

// NotificationKinds lists every NotificationKind, in a fixed order.
var NotificationKinds = []NotificationKind{KeyAdded, KeyRemoved, PasskeyAdded, PasskeyRemoved, AccountLocked, ContactChanged, NewMethodSignIn}

// NotificationTemplates are one kind's message templates, written as Go templates with the
// placeholders {{.AppName}}, {{.Time}} ("2006-01-02 15:04 UTC"), {{.Detail.method}} (the
// sign-in method in words, e.g. "a code sent by email"), {{.Detail.keyName}} (the device key's
// or passkey's user-chosen name, at most 40 characters shown; chosen by whoever added the key),
// {{.Detail.count}} (keys removed), {{.Detail.oldAddress}} and {{.Detail.newAddress}} (masked)
// and {{.Detail.contact}} ("email address" or "phone number"); anything else between {{ and }}
// is refused at synth. An empty field takes the kind's default; an empty HTML is made from Text
// (escaped, paragraphs kept), so overriding Text alone changes both bodies. Defaults: messages
// that say what happened and when, and what to do if it was not the owner, with no secret, no
// link and addresses masked.
type NotificationTemplates struct {
	// Subject is the email subject (plain text, at most 200 characters rendered).
	Subject string
	// Text is the plain-text email body.
	Text string
	// HTML is the HTML email body; values are HTML-escaped when substituted.
	HTML string
	// SMS is the text message, sent when the only verified contact is a phone number; at most
	// 160 characters rendered (one GSM-7 segment).
	SMS string
}

// toNotifyKinds converts ks to package notify's Kinds.
func toNotifyKinds(ks []NotificationKind) []notify.Kind {
	if ks == nil {
		return nil
	}
	out := make([]notify.Kind, len(ks))
	for i, k := range ks {
		out[i] = notify.Kind(k)
	}
	return out
}

// notifyTemplates converts m to package notify's templates (nil for none).
func notifyTemplates(m map[NotificationKind]NotificationTemplates) map[notify.Kind]notify.Templates {
	if m == nil {
		return nil
	}
	out := make(map[notify.Kind]notify.Templates, len(m))
	for k, t := range m {
		out[notify.Kind(k)] = notify.Templates{Subject: t.Subject, Text: t.Text, HTML: t.HTML, SMS: t.SMS}
	}
	return out
}
