package magiclink

import "github.com/passwordless-go/cognito/lambdas/delivery"

// TemplateData is what the link email's templates see.
type TemplateData struct {
	Link    string // the sign-in link (a secret: never in the subject)
	AppName string // APP_NAME
	Minutes int    // the link's lifetime in whole minutes (at least 1)
}

// templateFields are the placeholders of the link templates: {{.Link}}, {{.AppName}} and
// {{.Minutes}} (spaces inside the braces allowed); nothing else may stand between {{ and }},
// like package otp's (and for the same reason: text/template would make the binary much larger).
var templateFields = delivery.SecretMessage{SecretField: "Link"}.Fields()

// MaxTemplateBytes caps each template's source: 32 KiB.
const MaxTemplateBytes = delivery.MaxTemplateBytes

// parseTemplate parses src; htmlBody escapes the substituted values for HTML.
func parseTemplate(name, src string, htmlBody bool) (*delivery.Template, error) {
	return delivery.ParseTemplate(name, src, htmlBody, templateFields...)
}

// render returns t with d's values.
func (d TemplateData) render(t *delivery.Template) string {
	return delivery.SecretMessage{SecretField: "Link", Secret: d.Link, AppName: d.AppName, Minutes: d.Minutes}.Render(t)
}
