package notify

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Templates are one kind's message templates. An empty field takes the kind's default; an empty
// HTML is made from Text (escaped, paragraphs kept), so overriding Text alone changes both
// bodies.
type Templates struct {
	// Subject is the email subject (plain text, at most MaxSubjectLength characters rendered).
	Subject string `json:"subject"`
	// Text is the plain-text email body.
	Text string `json:"text"`
	// HTML is the HTML email body; values are HTML-escaped when substituted.
	HTML string `json:"html"`
	// SMS is the text message, sent when the only verified contact is a phone number; rendered,
	// it must be one SMS part (delivery.CheckSMSOnePart: 160 GSM-7 characters, 70 with any other).
	SMS string `json:"sms"`
}

// Default templates. They say what happened and when, and what to do if it was not the owner;
// they hold no secret, no link and no user-chosen text, and show addresses masked.
var DefaultTemplates = map[Kind]Templates{
	KeyAdded: {
		Subject: "A device key was added to your {{.AppName}} account",
		Text: "A device key (biometric sign-in on a phone or computer) was added to your {{.AppName}} account on {{.Time}}. " +
			"It can now sign in to your account.\n\n" +
			"If this was you, there is nothing to do.\n\n" +
			"If it was not you, sign in now, remove any device key you do not recognise, and contact support: " +
			"someone else may have access to your account.\n",
		SMS: "{{.AppName}}: a device key was added to your account. Not you? Sign in, remove it and contact support.",
	},
	KeyRemoved: {
		Subject: "Device key removed from your {{.AppName}} account",
		Text: "Device keys were removed from your {{.AppName}} account on {{.Time}} (number removed: {{.Detail.count}}). " +
			"They can no longer sign in.\n\n" +
			"If this was you, there is nothing to do.\n\n" +
			"If it was not you, sign in, check your device keys and passkeys, and contact support: " +
			"someone else may have access to your account.\n",
		SMS: "{{.AppName}}: device keys were removed from your account. Not you? Sign in and contact support.",
	},
	PasskeyAdded: {
		Subject: "A passkey was added to your {{.AppName}} account",
		Text: "A passkey was added to your {{.AppName}} account on {{.Time}}. It can now sign in to your account.\n\n" +
			"If this was you, there is nothing to do.\n\n" +
			"If it was not you, sign in now, remove any passkey you do not recognise, and contact support: " +
			"someone else may have access to your account.\n",
		SMS: "{{.AppName}}: a passkey was added to your account. Not you? Sign in, remove it and contact support.",
	},
	PasskeyRemoved: {
		Subject: "Passkey removed from your {{.AppName}} account",
		Text: "Passkeys were removed from your {{.AppName}} account on {{.Time}} (number removed: {{.Detail.count}}). " +
			"They can no longer sign in.\n\n" +
			"If this was you, there is nothing to do.\n\n" +
			"If it was not you, sign in, check your device keys and passkeys, and contact support: " +
			"someone else may have access to your account.\n",
		SMS: "{{.AppName}}: passkeys were removed from your account. Not you? Sign in and contact support.",
	},
	AccountLocked: {
		Subject: "Sign-in to your {{.AppName}} account is paused",
		Text: "Sign-in with codes and links to your {{.AppName}} account was paused on {{.Time}} after too many wrong answers. " +
			"It resumes by itself after a short while; device keys and passkeys still work.\n\n" +
			"If this was you, wait a few minutes and try again.\n\n" +
			"If it was not you, someone tried to guess a sign-in code for your account and did not get in. " +
			"There is nothing you need to do, but never tell anyone a code you did not ask for. " +
			"If this keeps happening, contact support.\n",
		SMS: "{{.AppName}}: code sign-in paused after too many wrong codes. Never share a code you did not ask for.",
	},
	ContactChanged: {
		Subject: "The {{.Detail.contact}} of your {{.AppName}} account was changed",
		Text: "The {{.Detail.contact}} of your {{.AppName}} account was changed on {{.Time}}.\n\n" +
			"Old: {{.Detail.oldAddress}}\nNew: {{.Detail.newAddress}}\n\n" +
			"If this was you, there is nothing to do.\n\n" +
			"If it was not you, contact support at once: someone else may have access to your account " +
			"and now receives its sign-in codes.\n",
		SMS: "{{.AppName}}: your {{.Detail.contact}} was changed to {{.Detail.newAddress}}. Not you? Contact support now.",
	},
	NewMethodSignIn: {
		Subject: "New sign-in to your {{.AppName}} account",
		Text: "There was a sign-in to your {{.AppName}} account on {{.Time}} with {{.Detail.method}}, " +
			"a way of signing in not used on this account before.\n\n" +
			"If this was you, there is nothing to do.\n\n" +
			"If it was not you, sign in, remove any device key or passkey you do not recognise, and contact support: " +
			"someone else may have access to your account.\n",
		SMS: "{{.AppName}}: new sign-in with {{.Detail.method}}. Not you? Sign in and contact support.",
	},
}

// DefaultTemplatesNoName are DefaultTemplates without the application name, used when AppName
// is unset or delivery.DefaultAppName ("your app"), so that no message reads "your your app
// account": "your account", and SMS without the leading "AppName: ".
var DefaultTemplatesNoName = func() map[Kind]Templates {
	out := make(map[Kind]Templates, len(DefaultTemplates))
	for k, t := range DefaultTemplates {
		out[k] = Templates{Subject: withoutAppName(t.Subject), Text: withoutAppName(t.Text), HTML: withoutAppName(t.HTML),
			SMS: withoutAppName(t.SMS)}
	}
	return out
}()

// withoutAppName rewrites a default template: "your {{.AppName}} account" becomes "your
// account", and a leading "{{.AppName}}: " goes, the next letter capitalised.
func withoutAppName(s string) string {
	s = strings.ReplaceAll(s, "your {{.AppName}} account", "your account")
	if rest, ok := strings.CutPrefix(s, "{{.AppName}}: "); ok {
		r, n := utf8.DecodeRuneInString(rest)
		s = string(unicode.ToUpper(r)) + rest[n:]
	}
	return s
}
