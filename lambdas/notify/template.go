package notify

import (
	"fmt"
	"html"
	"regexp"
	"strings"
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

// TemplateFields lists the placeholders a template may use. Anything else between {{ and }} is
// an error when the configuration is read.
var TemplateFields = []string{
	"{{.AppName}}", "{{.Time}}",
	"{{.Detail." + DetailMethod + "}}", "{{.Detail." + DetailKeyName + "}}", "{{.Detail." + DetailCount + "}}",
	"{{.Detail." + DetailOldAddress + "}}", "{{.Detail." + FieldNewAddress + "}}", "{{.Detail." + FieldContact + "}}",
}

var detailFields = map[string]bool{
	DetailMethod: true, DetailKeyName: true, DetailCount: true,
	DetailOldAddress: true, FieldNewAddress: true, FieldContact: true,
}

// data is what a template sees: every value already safe to show (masked, sanitised).
type data struct {
	AppName string
	Time    string
	Detail  map[string]string
}

// template is a message with placeholders written as in Go templates: {{.AppName}}, {{.Time}}
// and {{.Detail.<field>}} (spaces inside the braces allowed). It stands in for text/template on
// purpose, as package otp's does: text/template calls reflect.Value.MethodByName, which keeps
// every exported method of every type in the binary.
type template struct {
	parts      []string // literal text and field names, alternating: text, field, text, ...
	escapeHTML bool
}

var placeholder = regexp.MustCompile(`\{\{\s*\.([A-Za-z0-9_.]*)\s*\}\}`)

// parseTemplate parses src; htmlBody escapes the values it substitutes.
func parseTemplate(name, src string, htmlBody bool) (*template, error) {
	if len(src) > MaxTemplateBytes {
		return nil, fmt.Errorf("%s is longer than %d bytes", name, MaxTemplateBytes)
	}
	t := &template{escapeHTML: htmlBody}
	rest := src
	for {
		loc := placeholder.FindStringSubmatchIndex(rest)
		if loc == nil {
			break
		}
		field := rest[loc[2]:loc[3]]
		switch {
		case field == "AppName", field == "Time":
		case strings.HasPrefix(field, "Detail.") && detailFields[strings.TrimPrefix(field, "Detail.")]:
		default:
			return nil, fmt.Errorf("%s: unknown placeholder {{.%s}} (use %s)", name, shorten(field), strings.Join(TemplateFields, ", "))
		}
		t.parts = append(t.parts, rest[:loc[0]], field)
		rest = rest[loc[1]:]
	}
	t.parts = append(t.parts, rest)
	for i := 0; i < len(t.parts); i += 2 {
		if strings.Contains(t.parts[i], "{{") || strings.Contains(t.parts[i], "}}") {
			return nil, fmt.Errorf("%s: only %s may stand between {{ and }}", name, strings.Join(TemplateFields, ", "))
		}
	}
	return t, nil
}

// htmlFromText turns a plain-text template into an HTML body: the literal text escaped,
// paragraphs (blank lines) as <p>, single line breaks as <br>, the values escaped when rendered.
func htmlFromText(t *template) *template {
	h := &template{escapeHTML: true, parts: make([]string, len(t.parts))}
	copy(h.parts, t.parts)
	for i := 0; i < len(h.parts); i += 2 {
		s := html.EscapeString(strings.ReplaceAll(h.parts[i], "\r\n", "\n"))
		paras := strings.Split(s, "\n\n")
		for j, p := range paras {
			paras[j] = strings.ReplaceAll(p, "\n", "<br>\n")
		}
		h.parts[i] = strings.Join(paras, "</p>\n<p>")
	}
	h.parts[0] = htmlHead + "<p>" + h.parts[0]
	last := len(h.parts) - 1
	h.parts[last] = strings.TrimSuffix(strings.TrimSuffix(h.parts[last], "<br>\n"), "</p>\n<p>") + "</p>\n" + htmlTail
	return h
}

const (
	htmlHead = `<!DOCTYPE html>
<html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#222">
`
	htmlTail = "</body></html>\n"
)

// render returns the template filled with d.
func (t *template) render(d data) string {
	var b strings.Builder
	for i, p := range t.parts {
		if i%2 == 0 {
			b.WriteString(p)
			continue
		}
		var v string
		switch p {
		case "AppName":
			v = d.AppName
		case "Time":
			v = d.Time
		default:
			v = d.Detail[strings.TrimPrefix(p, "Detail.")]
		}
		if t.escapeHTML {
			v = html.EscapeString(v)
		}
		b.WriteString(v)
	}
	return b.String()
}
