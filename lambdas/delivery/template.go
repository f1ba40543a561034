package delivery

import (
	"fmt"
	"html"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Template is a message with placeholders written as in Go templates, {{.Code}} or
// {{.Detail.method}} (spaces inside the braces allowed), and nothing else between {{ and }}. It
// stands in for text/template and html/template on purpose: those call
// reflect.Value.MethodByName, which keeps every exported method of every type in the binary and
// makes a function with SDK clients much larger.
type Template struct {
	parts      []string // literal text and placeholder names, alternating: text, name, text, ...
	escapeHTML bool     // escape the values (an HTML body)
}

var placeholder = regexp.MustCompile(`\{\{\s*\.([A-Za-z0-9_.]*)\s*\}\}`)

// ParseTemplate parses src (at most MaxTemplateBytes), which may use the placeholders fields
// (names without the dot: "Code", "Detail.method"). htmlBody escapes the values for HTML when the
// template is rendered. name names the template in errors, which list the allowed placeholders.
func ParseTemplate(name, src string, htmlBody bool, fields ...string) (*Template, error) {
	if len(src) > MaxTemplateBytes {
		return nil, fmt.Errorf("%s is longer than %d bytes", name, MaxTemplateBytes)
	}
	t := &Template{escapeHTML: htmlBody}
	rest := src
	for {
		loc := placeholder.FindStringSubmatchIndex(rest)
		if loc == nil {
			break
		}
		field := rest[loc[2]:loc[3]]
		if !slices.Contains(fields, field) {
			return nil, fmt.Errorf("%s: unknown placeholder {{.%s}} (use %s)", name, Shorten(field), placeholders(fields))
		}
		t.parts = append(t.parts, rest[:loc[0]], field)
		rest = rest[loc[1]:]
	}
	t.parts = append(t.parts, rest)
	for i := 0; i < len(t.parts); i += 2 {
		if strings.Contains(t.parts[i], "{{") || strings.Contains(t.parts[i], "}}") {
			return nil, fmt.Errorf("%s: only %s may stand between {{ and }}", name, placeholders(fields))
		}
	}
	return t, nil
}

// placeholders lists fields as written in a template: "{{.Code}}, {{.AppName}}".
func placeholders(fields []string) string {
	l := make([]string, len(fields))
	for i, f := range fields {
		l[i] = "{{." + f + "}}"
	}
	return strings.Join(l, ", ")
}

// Uses reports whether the template prints field.
func (t *Template) Uses(field string) bool {
	for i := 1; i < len(t.parts); i += 2 {
		if t.parts[i] == field {
			return true
		}
	}
	return false
}

// Render returns the template with each placeholder replaced by value(field), HTML-escaped in
// an HTML body.
func (t *Template) Render(value func(field string) string) string {
	var b strings.Builder
	for i, p := range t.parts {
		if i%2 == 0 {
			b.WriteString(p)
			continue
		}
		v := value(p)
		if t.escapeHTML {
			v = html.EscapeString(v)
		}
		b.WriteString(v)
	}
	return b.String()
}

// SecretMessage is what the templates of a message carrying a one-time secret (a sign-in code,
// a sign-in link) see: the secret under its own placeholder (SecretField, such as "Code" or
// "Link"), {{.AppName}} and {{.Minutes}}.
type SecretMessage struct {
	SecretField string // the secret's placeholder name, without the dot
	Secret      string
	AppName     string
	Minutes     int // the secret's lifetime in whole minutes
}

// Fields lists the placeholders m's templates may use: SecretField, "AppName" and "Minutes".
func (m SecretMessage) Fields() []string { return []string{m.SecretField, "AppName", "Minutes"} }

// Render returns t with m's values (t parsed with Fields).
func (m SecretMessage) Render(t *Template) string { return t.Render(m.value) }

// value is the value of a placeholder: the secret for every field but AppName and Minutes.
func (m SecretMessage) value(field string) string {
	switch field {
	case "AppName":
		return m.AppName
	case "Minutes":
		return strconv.Itoa(m.Minutes)
	}
	return m.Secret
}

// HTMLFromText turns a plain-text template into an HTML body: the literal text escaped,
// paragraphs (blank lines) as <p>, single line breaks as <br>, the values escaped when rendered.
func (t *Template) HTMLFromText() *Template {
	h := &Template{escapeHTML: true, parts: slices.Clone(t.parts)}
	for i := 0; i < len(h.parts); i += 2 {
		s := html.EscapeString(strings.ReplaceAll(h.parts[i], "\r\n", "\n"))
		paras := strings.Split(s, "\n\n")
		for j, p := range paras {
			paras[j] = strings.ReplaceAll(p, "\n", "<br>\n")
		}
		h.parts[i] = strings.Join(paras, "</p>\n<p>")
	}
	h.parts[0] = HTMLHead + "<p>" + h.parts[0]
	last := len(h.parts) - 1
	h.parts[last] = strings.TrimSuffix(strings.TrimSuffix(h.parts[last], "<br>\n"), "</p>\n<p>") + "</p>\n" + HTMLTail
	return h
}

// HTMLHead and HTMLTail frame the HTML bodies of the default messages.
const (
	HTMLHead = `<!DOCTYPE html>
<html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#222">
`
	HTMLTail = "</body></html>\n"
)
