package otp

import "github.com/passwordless-go/cognito/lambdas/delivery"

// templateFields are the placeholders of the code templates: {{.Code}}, {{.AppName}} and
// {{.Minutes}} (spaces inside the braces allowed); nothing else may stand between {{ and }}.
var templateFields = delivery.SecretMessage{SecretField: "Code"}.Fields()

// parseTemplate parses src; htmlBody escapes the substituted values for HTML.
func parseTemplate(name, src string, htmlBody bool) (*delivery.Template, error) {
	return delivery.ParseTemplate(name, src, htmlBody, templateFields...)
}

// render returns t with d's values.
func (d TemplateData) render(t *delivery.Template) string {
	return delivery.SecretMessage{SecretField: "Code", Secret: d.Code, AppName: d.AppName, Minutes: d.Minutes}.Render(t)
}
