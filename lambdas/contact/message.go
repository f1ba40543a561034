package contact

import (
	"html"
	"strconv"
	"strings"

	"github.com/passwordless-go/cognito/lambdas/delivery"
)

// The messages of the contact routes. They are fixed (not configurable); APP_NAME names the
// application in them. Placeholders are written as in Go templates but rendered by render, a
// plain replacement (text/template would make the binary megabytes larger, see BENCHMARKS.md):
//
//	{{.Code}}         the code (code messages only)
//	{{.AppName}}      Config.Code.AppName
//	{{.Minutes}}      the code's lifetime in whole minutes
//	{{.What}}         "email address" or "phone number"
//	{{.Destination}}  the new address, masked as the API shows it (notices only)
const (
	codeEmailSubject = "Confirm your {{.What}} for {{.AppName}}"
	codeEmailText    = "Your code to confirm this {{.What}} for {{.AppName}} is {{.Code}}\n\n" +
		"It expires in {{.Minutes}} minutes. If you did not ask to add this address to a {{.AppName}} account, " +
		"ignore this email: nothing changes without the code.\n" +
		"Never share this code with anyone.\n"
	codeEmailHTML = `<!DOCTYPE html>
<html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#222">
<p>Your code to confirm this {{.What}} for {{.AppName}} is</p>
<p style="font-size:28px;font-weight:bold;letter-spacing:4px">{{.Code}}</p>
<p>It expires in {{.Minutes}} minutes. If you did not ask to add this address to a {{.AppName}} account,
ignore this email: nothing changes without the code.<br>
Never share this code with anyone.</p>
</body></html>
`
	codeSMS      = "{{.Code}} is your {{.AppName}} code to confirm this number. It expires in {{.Minutes}} min."
	codeSMSShort = "{{.Code}} is your code to confirm this number. It expires in {{.Minutes}} min."

	changedEmailSubject = "Your {{.AppName}} {{.What}} was changed"
	changedEmailText    = "The {{.What}} of your {{.AppName}} account was changed to {{.Destination}}.\n\n" + noticeTail
	changedEmailHTML    = noticeHTMLHead + "<p>The {{.What}} of your {{.AppName}} account was changed to {{.Destination}}.</p>\n" + noticeHTMLTail
	changedSMS          = "Your {{.AppName}} {{.What}} was changed to {{.Destination}}. Not you? Contact us."
	changedSMSShort     = "Your {{.What}} was changed to {{.Destination}}. Not you? Contact us."

	addedEmailSubject = "A {{.What}} was added to your {{.AppName}} account"
	addedEmailText    = "The {{.What}} {{.Destination}} was added to your {{.AppName}} account.\n\n" + noticeTail
	addedEmailHTML    = noticeHTMLHead + "<p>The {{.What}} {{.Destination}} was added to your {{.AppName}} account.</p>\n" + noticeHTMLTail
	addedSMS          = "New {{.What}} {{.Destination}} added to your {{.AppName}} account. Not you? Contact us."
	addedSMSShort     = "New {{.What}} {{.Destination}} added to your account. Not you? Contact us."

	noticeTail = "If you made this change, there is nothing to do. If you did not, someone who could sign in " +
		"to your account made it: contact {{.AppName}} support.\n"
	noticeHTMLHead = `<!DOCTYPE html>
<html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#222">
`
	noticeHTMLTail = `<p>If you made this change, there is nothing to do. If you did not, someone who could sign in
to your account made it: contact {{.AppName}} support.</p>
</body></html>
`
)

// noName rewrites the fixed messages for a deployment without an app name (delivery.HasAppName
// false): "Your {{.AppName}} email address" becomes "Your email address", "a {{.AppName}}
// account" "an account", and so on; a test renders every message both ways.
var noName = strings.NewReplacer(
	"Your {{.AppName}} ", "Your ",
	"your {{.AppName}} ", "your ",
	"a {{.AppName}} account", "an account",
	" for {{.AppName}}", "",
	"contact {{.AppName}} support", "contact support",
)

// maxSMSLength is the longest SMS sent in GSM-7, in characters (otp.MaxSMSLength); renderSMS
// keeps every SMS to one part as carriers count it (delivery.CountSMS), which is 70 characters
// when one character is outside GSM-7.
const maxSMSLength = 160

// messageData are the values of the placeholders.
type messageData struct {
	Code, AppName, What, Destination string
	Minutes                          int
}

// render replaces the placeholders of src with d's values, HTML-escaped when escapeHTML is set.
// Values are inserted in one pass: a value that looks like a placeholder stays as it is.
func render(src string, d messageData, escapeHTML bool) string {
	esc := func(s string) string {
		if escapeHTML {
			return html.EscapeString(s)
		}
		return s
	}
	if !delivery.HasAppName(d.AppName) {
		// No app name configured: the messages leave it out rather than read "your your app".
		src = noName.Replace(src)
	}
	return strings.NewReplacer(
		"{{.Code}}", esc(d.Code),
		"{{.AppName}}", esc(d.AppName),
		"{{.Minutes}}", strconv.Itoa(d.Minutes),
		"{{.What}}", esc(d.What),
		"{{.Destination}}", esc(d.Destination),
	).Replace(src)
}

// renderSMS renders src, or short (the same without the application's name) when src comes out
// as more than one SMS part (delivery.CountSMS: an app name outside GSM-7 makes the SMS UCS-2, 70
// characters in one part), and when short does too, short with every character of the
// destination that is not in GSM-7 shown as '*' (a masked address starting "ó***@..."): one
// part, 160 GSM-7 characters, always.
func renderSMS(src, short string, d messageData) string {
	if out := render(src, d, false); delivery.SMSParts(out) <= 1 {
		return out
	}
	if out := render(short, d, false); delivery.SMSParts(out) <= 1 {
		return out
	}
	d.Destination = delivery.GSM7Only(d.Destination)
	return render(short, d, false)
}

// email is a rendered email.
type email struct{ subject, text, html string }

func renderEmail(subject, text, htmlBody string, d messageData) email {
	return email{subject: render(subject, d, false), text: render(text, d, false), html: render(htmlBody, d, true)}
}
