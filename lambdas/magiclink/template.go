package magiclink

import (
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
)

// TemplateData is what the link email's templates see.
type TemplateData struct {
	Link    string // the sign-in link (a secret: never in the subject)
	AppName string // APP_NAME
	Minutes int    // the link's lifetime in whole minutes (at least 1)
}

// template is a message template with the placeholders {{.Link}}, {{.AppName}} and
// {{.Minutes}} (spaces inside the braces allowed) and nothing else between {{ and }}, like
// package otp's (and for the same reason: text/template would make the binary much larger).
type template struct {
	parts      []string // literal text and placeholder names, alternating: text, name, text, ...
	escapeHTML bool     // escape the values (the HTML body)
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// MaxTemplateBytes caps each template's source.
const MaxTemplateBytes = 32 << 10

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
		case "Link", "AppName", "Minutes":
		default:
			return nil, fmt.Errorf("%s: unknown placeholder {{.%s}} (use {{.Link}}, {{.AppName}}, {{.Minutes}})", name, field)
		}
		t.parts = append(t.parts, rest[:loc[0]], field)
		rest = rest[loc[1]:]
	}
	t.parts = append(t.parts, rest)
	for i := 0; i < len(t.parts); i += 2 {
		if strings.Contains(t.parts[i], "{{") || strings.Contains(t.parts[i], "}}") {
			return nil, fmt.Errorf("%s: only {{.Link}}, {{.AppName}} and {{.Minutes}} may stand between {{ and }}", name)
		}
	}
	return t, nil
}

// uses reports whether the template prints field.
func (t *template) uses(field string) bool {
	for i := 1; i < len(t.parts); i += 2 {
		if t.parts[i] == field {
			return true
		}
	}
	return false
}

// render writes the template with d's values.
func (t *template) render(d TemplateData) string {
	var b strings.Builder
	for i, p := range t.parts {
		if i%2 == 0 {
			b.WriteString(p)
			continue
		}
		v := d.Link
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
	return b.String()
}
