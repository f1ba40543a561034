package otp

import (
	"strconv"

	"github.com/passwordless-go/cognito/lambdas/delivery"
)

// templateFields are the placeholders of the code templates: {{.Code}}, {{.AppName}} and
// {{.Minutes}} (spaces inside the braces allowed); nothing else may stand between {{ and }}.
var templateFields = []string{"Code", "AppName", "Minutes"}

// parseTemplate parses src; htmlBody escapes the substituted values for HTML.
func parseTemplate(name, src string, htmlBody bool) (*delivery.Template, error) {
	return delivery.ParseTemplate(name, src, htmlBody, templateFields...)
}

// render returns t with d's values.
func (d TemplateData) render(t *delivery.Template) string { return t.Render(d.value) }

// value is the value of a placeholder.
func (d TemplateData) value(field string) string {
	switch field {
	case "AppName":
		return d.AppName
	case "Minutes":
		return strconv.Itoa(d.Minutes)
	}
	return d.Code
}
