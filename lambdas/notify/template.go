package notify

import (
	"strings"

	"github.com/passwordless-go/cognito/lambdas/delivery"
)

// Detail keys callers put in Event.Detail. Values are never secrets; addresses are shown masked.
const (
	// DetailMethod is the sign-in method (authflow method name: email_otp, sms_otp, magic_link,
	// device_key, passkey); shown as words ("a code sent by email").
	DetailMethod = "method"
	// DetailKeyName is the user-chosen name of the device key or passkey (at most 40 characters
	// are shown). Not in the default templates: an intruder chooses the name of the key they add.
	DetailKeyName = "keyName"
	// DetailCount is how many keys or passkeys one action removed (decimal; default "1").
	DetailCount = "count"
	// DetailOldAddress is the email address or phone number before a contact_changed (it also
	// receives the notification); shown masked, "none" when empty.
	DetailOldAddress = "oldAddress"
	// DetailAttribute is the attribute a contact_changed changed, "email" or "phone_number"
	// (optional: else guessed from DetailOldAddress).
	DetailAttribute = "attribute"
)

// Fields computed by the package and offered to templates as {{.Detail.<name>}} besides the
// Detail keys above.
const (
	// FieldNewAddress is the changed attribute's new value (from Event.Attributes), masked.
	FieldNewAddress = "newAddress"
	// FieldContact names the changed attribute: "email address", "phone number" or "contact
	// details".
	FieldContact = "contact"
)

// fieldNames are the placeholders a template may use, without braces and dot.
var fieldNames = []string{"AppName", "Time",
	"Detail." + DetailMethod, "Detail." + DetailKeyName, "Detail." + DetailCount,
	"Detail." + DetailOldAddress, "Detail." + FieldNewAddress, "Detail." + FieldContact,
}

// TemplateFields lists the placeholders a template may use ("{{.AppName}}", "{{.Time}}",
// "{{.Detail.method}}", ...). Anything else between {{ and }} is an error when the configuration
// is read.
var TemplateFields = func() []string {
	out := make([]string, len(fieldNames))
	for i, f := range fieldNames {
		out[i] = "{{." + f + "}}"
	}
	return out
}()

// data is what a template sees: every value already safe to show (masked, sanitised).
type data struct {
	AppName string
	Time    string
	Detail  map[string]string
}

// parseTemplate parses src, a message with placeholders written as in Go templates
// ({{.AppName}}, {{.Time}}, {{.Detail.<field>}}; delivery.Template, as the sign-in codes'):
// text/template would keep every exported method of every type in the binary. htmlBody escapes
// the values it substitutes.
func parseTemplate(name, src string, htmlBody bool) (*delivery.Template, error) {
	return delivery.ParseTemplate(name, src, htmlBody, fieldNames...)
}

// render returns t filled with d.
func (d data) render(t *delivery.Template) string { return t.Render(d.value) }

// value is the value of a placeholder.
func (d data) value(field string) string {
	switch field {
	case "AppName":
		return d.AppName
	case "Time":
		return d.Time
	}
	return d.Detail[strings.TrimPrefix(field, "Detail.")]
}
