package magiclink_test

import (
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/magiclink"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnvDefaults(t *testing.T) {
	c, err := magiclink.FromEnv(envOf(map[string]string{
		magiclink.EnvURLs: " https://App.Example.com/signin , http://localhost:3000 ",
		"EMAIL_FROM":      sender,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{appURL, "http://localhost:3000/"}; strings.Join(c.URLs, ",") != strings.Join(want, ",") {
		t.Errorf("URLs = %v, want %v", c.URLs, want)
	}
	if c.TTL != 15*time.Minute || c.SameDevice || c.EmailFrom != sender || c.AppName != "your app" || c.SendDailyCap != 100 || len(c.SendDelays) != 5 {
		t.Errorf("defaults: %+v", c)
	}
	// Without an app name of its own the defaults leave the name out.
	if c.EmailSubject != magiclink.DefaultEmailSubjectNoName || c.EmailText != magiclink.DefaultEmailTextNoName || c.EmailHTML != magiclink.DefaultEmailHTMLNoName {
		t.Error("default templates not filled in")
	}
	c, err = magiclink.FromEnv(envOf(map[string]string{
		magiclink.EnvURLs: appURL, magiclink.EnvTTL: "30m", magiclink.EnvSameDevice: "true", "SEND_DELAYS": "30s", "APP_NAME": "Shop",
		magiclink.EnvEmailSubject: "Sign in to {{.AppName}}", magiclink.EnvEmailText: "{{ .Link }}", magiclink.EnvEmailHTML: `<a href="{{.Link}}">go</a>`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.TTL != 30*time.Minute || !c.SameDevice || c.AppName != "Shop" || len(c.SendDelays) != 1 || c.EmailText != "{{ .Link }}" {
		t.Errorf("values: %+v", c)
	}
}

func TestFromEnvRejects(t *testing.T) {
	base := map[string]string{magiclink.EnvURLs: appURL}
	for name, kv := range map[string][2]string{
		"no URLs":              {magiclink.EnvURLs, ""},
		"http URL":             {magiclink.EnvURLs, "http://app.example.com/"},
		"javascript URL":       {magiclink.EnvURLs, "javascript:alert(1)"},
		"data URL":             {magiclink.EnvURLs, "data:text/html,hi"},
		"fragment":             {magiclink.EnvURLs, "https://app.example.com/#x"},
		"user info":            {magiclink.EnvURLs, "https://user:pw@app.example.com/"},
		"wildcard":             {magiclink.EnvURLs, "https://*.example.com/"},
		"IP address":           {magiclink.EnvURLs, "https://10.0.0.1/"},
		"single label":         {magiclink.EnvURLs, "https://intranet/"},
		"relative":             {magiclink.EnvURLs, "/signin"},
		"empty entry":          {magiclink.EnvURLs, appURL + ",,"},
		"duplicate":            {magiclink.EnvURLs, appURL + ",HTTPS://app.example.com:443/signin"},
		"bad port":             {magiclink.EnvURLs, "https://app.example.com:0/"},
		"space":                {magiclink.EnvURLs, "https://app.example.com/a b"},
		"TTL 0":                {magiclink.EnvTTL, "0s"},
		"TTL negative":         {magiclink.EnvTTL, "-15m"},
		"TTL 61m":              {magiclink.EnvTTL, "61m"},
		"TTL 30s":              {magiclink.EnvTTL, "30s"},
		"TTL fractional":       {magiclink.EnvTTL, "15m500ms"},
		"TTL number":           {magiclink.EnvTTL, "900"},
		"same device yes":      {magiclink.EnvSameDevice, "yes"},
		"same device TRUE":     {magiclink.EnvSameDevice, "TRUE"},
		"subject with link":    {magiclink.EnvEmailSubject, "Sign in: {{.Link}}"},
		"text without link":    {magiclink.EnvEmailText, "Sign in to {{.AppName}}"},
		"html without link":    {magiclink.EnvEmailHTML, "<p>hi</p>"},
		"unknown placeholder":  {magiclink.EnvEmailText, "{{.Link}} {{.Code}}"},
		"template action":      {magiclink.EnvEmailText, "{{.Link}} {{range .}}{{end}}"},
		"subject line break":   {magiclink.EnvEmailSubject, "a\nb"},
		"bad shared setting":   {"SEND_DELAYS", "0s"},
		"bad sender":           {"EMAIL_FROM", "not an address"},
		"subject too long":     {magiclink.EnvEmailSubject, strings.Repeat("x", 201)},
		"template over 32 KiB": {magiclink.EnvEmailText, "{{.Link}}" + strings.Repeat("x", 33<<10)},
	} {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		m[kv[0]] = kv[1]
		if c, err := magiclink.FromEnv(envOf(m)); err == nil {
			t.Errorf("%s: accepted as %+v", name, c)
		}
	}
	if _, err := magiclink.NewIssuer(magiclink.Config{URLs: []string{appURL}}, magiclink.IssuerDeps{Store: nil, Email: &mailbox{}}); err == nil {
		t.Error("an issuer without a store")
	}
	if _, err := magiclink.NewIssuer(magiclink.Config{URLs: []string{appURL}, EmailFrom: sender}, magiclink.IssuerDeps{}); err == nil {
		t.Error("an issuer without a store or sender")
	}
	if _, err := magiclink.NewIssuer(magiclink.Config{URLs: []string{"https://App.example.com"}, EmailFrom: sender}, magiclink.IssuerDeps{}); err == nil {
		t.Error("an issuer with a URL that is not normalised")
	}
	if _, err := magiclink.NewChecker(nil, false, nil); err == nil {
		t.Error("a checker without a store")
	}
}

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://app.example.com":              "https://app.example.com/",
		"HTTPS://APP.Example.com:443/a/B?x=1":  "https://app.example.com/a/B?x=1",
		"https://app.example.com:8443/a":       "https://app.example.com:8443/a",
		"http://localhost":                     "http://localhost/",
		"http://LOCALHOST:80/cb":               "http://localhost/cb",
		"http://localhost:5173/cb?":            "http://localhost:5173/cb?",
		"https://xn--bcher-kva.example/":       "https://xn--bcher-kva.example/",
		"https://app.example.com/a%20b":        "https://app.example.com/a%20b",
		"https://localhost/":                   "https://localhost/",
		"https://sub-1.app.example.co.uk/path": "https://sub-1.app.example.co.uk/path",
	} {
		got, err := magiclink.NormalizeURL(in)
		if err != nil || got != want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", in, got, err, want)
		}
		if again, err := magiclink.NormalizeURL(got); err != nil || again != got {
			t.Errorf("NormalizeURL is not idempotent on %q: %q, %v", got, again, err)
		}
	}
	for _, in := range []string{
		"", "ftp://app.example.com/", "http://127.0.0.1/", "http://[::1]/", "https://[::1]/", "https://app.example.com:/",
		"https://app.example.com:99999/", "https://-app.example.com/", "https://app..example.com/", "https://app.example.123/",
		"https://bücher.example/", "https:app.example.com", "https:///path", "https://app.example.com\\@evil.example/",
		"https://app.example.com/\x00", "https://app.example.com/#", "http://localhost.evil.example/", strings.Repeat("a", 1100),
	} {
		if got, err := magiclink.NormalizeURL(in); err == nil {
			t.Errorf("NormalizeURL(%q) accepted as %q", in, got)
		}
	}
}
