package otp

import (
	"errors"
	"fmt"
	"html"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// template is a message template with three placeholders, written as in Go templates:
// {{.Code}}, {{.AppName}} and {{.Minutes}} (spaces inside the braces allowed). Nothing else
// between {{ and }} is accepted. It stands in for text/template and html/template on purpose:
// those call reflect.Value.MethodByName, which keeps every exported method of every type in the
// binary and makes a function with SDK clients twice as large.
type template struct {
	parts      []string // literal text and placeholder names, alternating: text, name, text, ...
	escapeHTML bool     // escape the values (the HTML email body)
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// parseTemplate parses src; htmlBody escapes the substituted values for HTML.
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
		switch field {
		case "Code", "AppName", "Minutes":
		default:
			return nil, fmt.Errorf("%s: unknown placeholder {{.%s}} (use {{.Code}}, {{.AppName}}, {{.Minutes}})", name, field)
		}
		t.parts = append(t.parts, rest[:loc[0]], field)
		rest = rest[loc[1]:]
	}
	t.parts = append(t.parts, rest)
	for i := 0; i < len(t.parts); i += 2 {
		if strings.Contains(t.parts[i], "{{") || strings.Contains(t.parts[i], "}}") {
			return nil, fmt.Errorf("%s: only {{.Code}}, {{.AppName}} and {{.Minutes}} may stand between {{ and }}", name)
		}
	}
	return t, nil
}

// Execute writes the template with d's values.
func (t *template) Execute(w io.Writer, data any) error {
	d, ok := data.(TemplateData)
	if !ok {
		return errors.New("otp: template data is not TemplateData")
	}
	var b strings.Builder
	for i, p := range t.parts {
		if i%2 == 0 {
			b.WriteString(p)
			continue
		}
		v := d.Code
		switch p {
		case "AppName":
			v = d.AppName
		case "Minutes":
			v = strconv.Itoa(d.Minutes)
		}
		if t.escapeHTML {
			v = html.EscapeString(v)
		}
		b.WriteString(v)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
