package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/store"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestSettingsFromEnv(t *testing.T) {
	s, err := delivery.SettingsFromEnv(env(map[string]string{
		delivery.EnvAppName: " Acme ", delivery.EnvEmailFrom: " Acme <no-reply@example.com> ",
		delivery.EnvEmailConfigurationSet: "prod", delivery.EnvSMSSenderID: "Acme",
		delivery.EnvSMSOriginationNumber: "+447400000001", delivery.EnvSMSAllowedCountries: "GB, +1206",
	}))
	want := delivery.Settings{AppName: "Acme", EmailFrom: "Acme <no-reply@example.com>", EmailConfigurationSet: "prod",
		SMSSenderID: "Acme", SMSOriginationNumber: "+447400000001", SMSAllowedCountries: []string{"GB", "+1206"}}
	if err != nil || !reflect.DeepEqual(s, want) {
		t.Fatalf("%+v %v", s, err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if _, err := delivery.SettingsFromEnv(env(map[string]string{delivery.EnvSMSAllowedCountries: "GB,XX"})); err == nil || !strings.Contains(err.Error(), delivery.EnvSMSAllowedCountries) {
		t.Fatalf("bad countries: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	s, err := delivery.SettingsFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.Check() == nil {
		t.Fatal("Check accepted an empty app name and no countries")
	}
	s = s.WithDefaults()
	if s.AppName != "your app" || strings.Join(s.SMSAllowedCountries, ",") != "GB,DE,FR,AU,IE" {
		t.Fatalf("%+v", s)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestSettingsCheckRejects(t *testing.T) {
	ok := delivery.Settings{}.WithDefaults()
	for name, mod := range map[string]func(*delivery.Settings){
		"from not an address":  func(s *delivery.Settings) { s.EmailFrom = "not an address" },
		"from with line break": func(s *delivery.Settings) { s.EmailFrom = "a@example.com\r\nBcc: b@example.com" },
		"configuration set":    func(s *delivery.Settings) { s.EmailConfigurationSet = "bad name!" },
		"app name too long":    func(s *delivery.Settings) { s.AppName = strings.Repeat("a", 65) },
		"app name control":     func(s *delivery.Settings) { s.AppName = "a\u0007b" },
		"app name empty":       func(s *delivery.Settings) { s.AppName = "" },
		"sender ID digits":     func(s *delivery.Settings) { s.SMSSenderID = "12345" },
		"sender ID too long":   func(s *delivery.Settings) { s.SMSSenderID = "ABCDEFGHIJKL" },
		"sender ID space":      func(s *delivery.Settings) { s.SMSSenderID = "Ac me" },
		"origination":          func(s *delivery.Settings) { s.SMSOriginationNumber = "07911123456" },
		"countries empty":      func(s *delivery.Settings) { s.SMSAllowedCountries = []string{} },
		"countries twice":      func(s *delivery.Settings) { s.SMSAllowedCountries = []string{"GB", "GB"} },
	} {
		s := ok
		mod(&s)
		if err := s.Check(); err == nil {
			t.Errorf("%s: accepted %+v", name, s)
		}
	}
}

// The SES and SNS requests carry the sender settings, and no empty attribute.
func TestRequests(t *testing.T) {
	s := delivery.Settings{EmailFrom: "no-reply@example.com", EmailConfigurationSet: "prod", SMSSenderID: "Acme", SMSOriginationNumber: "+447400000001"}
	e := s.Email("a@example.com", "subject", "text", "<p>html</p>")
	if e.From != s.EmailFrom || !reflect.DeepEqual(e.To, []string{"a@example.com"}) || e.Subject != "subject" || e.Text != "text" || e.HTML != "<p>html</p>" || e.ConfigurationSet != "prod" {
		t.Fatalf("%+v", e)
	}
	p := s.SMS("+447400123456", "hello")
	if p.PhoneNumber != "+447400123456" || p.Message != "hello" || len(p.MessageAttributes) != 3 ||
		p.MessageAttributes[delivery.SNSSMSType].StringValue != "Transactional" ||
		p.MessageAttributes[delivery.SNSSenderID].StringValue != "Acme" ||
		p.MessageAttributes[delivery.SNSOriginationNumber].StringValue != "+447400000001" {
		t.Fatalf("%+v", p)
	}
	for _, a := range p.MessageAttributes {
		if a.DataType != "String" {
			t.Fatalf("%+v", p.MessageAttributes)
		}
	}
	p = delivery.Settings{}.SMS("+447400123456", "hello")
	if len(p.MessageAttributes) != 1 {
		t.Fatalf("unset settings sent as attributes: %+v", p.MessageAttributes)
	}
}

func TestLimits(t *testing.T) {
	l, err := delivery.ParseLimits(" 1h:20, 24h:100 ", 1000)
	if err != nil || !reflect.DeepEqual(l, []store.Limit{{Window: time.Hour, Max: 20}, {Window: 24 * time.Hour, Max: 100}}) {
		t.Fatalf("%v %v", l, err)
	}
	for _, bad := range []string{"60s=1", "1 minute:1", "1500ms:1", "60s:0", "60s:1,1m:2", "800h:1", "60s:1,", "1h:1001",
		"1s:1,2s:1,3s:1,4s:1,5s:1,6s:1", "1h:x"} {
		if _, err := delivery.ParseLimits(bad, 1000); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := delivery.ParseLimits("1h:5000", 100000); err != nil {
		t.Errorf("a larger bound: %v", err)
	}
	if err := delivery.CheckLimits(nil, 10); err == nil {
		t.Error("no limits accepted")
	}
}

func TestCountries(t *testing.T) {
	if l, err := delivery.ParseCountries(" GB ,+44, +1206,JM"); err != nil || !reflect.DeepEqual(l, []string{"GB", "+44", "+1206", "JM"}) {
		t.Fatalf("%v %v", l, err)
	}
	for _, bad := range []string{"GB,XX", "gb", "GB,GB", "44", "+044", "+1234567", "+44,,+1", "", strings.Repeat("+44,", 300) + "+1"} {
		if _, err := delivery.ParseCountries(bad); err == nil {
			t.Errorf("%q accepted", delivery.Shorten(bad))
		}
	}
}

func TestSMSNumber(t *testing.T) {
	def := delivery.Settings{}.WithDefaults().SMSAllowedCountries
	for number, want := range map[string]error{
		"+447400123456":  nil,
		"+4407400123456": nil, // trunk 0 after the country code
		"+12015550123":   delivery.ErrCountryNotAllowed,
		"+14165550123":   delivery.ErrCountryNotAllowed,
		"+18765550123":   delivery.ErrCountryNotAllowed,
		"+447911123456":  delivery.ErrCountryNotAllowed, // Guernsey under +44
		"+449098790000":  delivery.ErrNotMobile,
		"+44abc":         delivery.ErrNotPhoneNumber,
	} {
		n, err := delivery.SMSNumber(number, def)
		if !errors.Is(err, want) || (err == nil) != (want == nil) {
			t.Errorf("%s: %q %v, want %v", number, n, err, want)
		}
		if err != nil && strings.Contains(err.Error(), number[3:]) {
			t.Errorf("%s: the error quotes the number: %v", number, err)
		}
	}
	if n, err := delivery.SMSNumber("+4407400123456", def); n != "+447400123456" || err != nil {
		t.Errorf("E.164 form %q %v", n, err)
	}
	if _, err := delivery.SMSNumber("+12065550123", []string{"+1206"}); err != nil {
		t.Errorf("prefix: %v", err)
	}
	if !delivery.IsE164("+447400123456") || delivery.IsE164("07400123456") || delivery.IsE164("+0123456789") {
		t.Error("IsE164")
	}
}

func TestMasks(t *testing.T) {
	for in, want := range map[string]string{
		"john@example.com":            "j***@e***.com",
		"John.Doe@Mail.Example.co.uk": "j***@m***.uk",
		"x@localhost":                 "x***@l***",
		"no-at-sign":                  "***@***",
		"élodie@exemple.fr":           "é***@e***.fr",
		"\u202eevil@example.com":      "****@e***.com", // right-to-left override
		"\u200bzero@example.com":      "****@e***.com", // zero-width space
		"alice@\u2066example.com":     "a***@****.com", // left-to-right isolate
		"<x@example.com":              "****@e***.com",
		"\xffx@example.com":           "****@e***.com",
		" a@b.museumverylongtld":      "a***@b***.museumverylongtld",
	} {
		if got := delivery.MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"+447911123123": "+44*******123", "+15555550100": "+15******100", "12": "+**********"} {
		if got := delivery.MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
	for s, want := range map[string]bool{"a@b.co": true, "a b@c.co": false, "+447400123456": false, "a@b@c.co": false, "<a@b.co>": false, "a@b.": false} {
		if delivery.LooksLikeEmail(s) != want {
			t.Errorf("LooksLikeEmail(%q) != %v", s, want)
		}
	}
}

func TestErrorCode(t *testing.T) {
	for err, want := range map[error]string{
		&smithy.GenericAPIError{Code: "MessageRejected", Message: "to victim@example.com"}: "MessageRejected",
		&smithy.GenericAPIError{Code: "Bad code <script>\n"}:                               "Badcodescript",
		&smithy.GenericAPIError{Code: "<>"}:                                                "unknown",
		&smithy.GenericAPIError{Code: strings.Repeat("A", 100)}:                            strings.Repeat("A", 64),
		fmt.Errorf("wrapped: %w", context.DeadlineExceeded):                                "deadline exceeded",
		context.Canceled: "canceled",
		errors.New("dial tcp: victim@example.com"): "transport",
	} {
		if got := delivery.ErrorCode(err); got != want {
			t.Errorf("ErrorCode(%v) = %q, want %q", err, got, want)
		}
	}
}

func TestTemplate(t *testing.T) {
	fields := []string{"Code", "Detail.method"}
	value := func(f string) string { return map[string]string{"Code": "<1&2>", "Detail.method": "x"}[f] }
	tm, err := delivery.ParseTemplate("t", "a {{.Code}} b {{ .Detail.method }} c", false, fields...)
	if err != nil || tm.Render(value) != "a <1&2> b x c" || !tm.Uses("Code") || tm.Uses("AppName") {
		t.Fatalf("%v", err)
	}
	h, err := delivery.ParseTemplate("h", "<b>{{.Code}}</b>", true, fields...)
	if err != nil || h.Render(value) != "<b>&lt;1&amp;2&gt;</b>" {
		t.Fatalf("html: %v", err)
	}
	for _, bad := range []string{"{{.Nope}}", "{{.Code", "x }} y", "{{if .Code}}{{end}}", "{{.}}", "{{.Code.X}}", "{{ oops",
		"{{.Code}}" + strings.Repeat("x", delivery.MaxTemplateBytes)} {
		if _, err := delivery.ParseTemplate("t", bad, false, fields...); err == nil {
			t.Errorf("%q accepted", delivery.Shorten(bad))
		} else if len(bad) < 100 && !strings.Contains(err.Error(), "{{.Code}}, {{.Detail.method}}") {
			t.Errorf("%q: error does not list the placeholders: %v", bad, err)
		}
	}
	text, _ := delivery.ParseTemplate("t", "Hi & {{.Code}}\nline\n\npara\n", false, fields...)
	got := text.HTMLFromText().Render(value)
	want := delivery.HTMLHead + "<p>Hi &amp; &lt;1&amp;2&gt;<br>\nline</p>\n<p>para</p>\n" + delivery.HTMLTail
	if got != want {
		t.Fatalf("HTMLFromText:\n%q\nwant\n%q", got, want)
	}
	if text.Render(value) != "Hi & <1&2>\nline\n\npara\n" {
		t.Fatal("HTMLFromText changed the text template")
	}
}

func TestShortenAndPlainText(t *testing.T) {
	if got := delivery.Shorten(strings.Repeat("é", 20)); got != strings.Repeat("é", 16)+"..." {
		t.Fatalf("%q", got)
	}
	if delivery.Shorten("short") != "short" {
		t.Fatal("short")
	}
	for s, ok := range map[string]bool{"Acme": true, "": false, "a\tb": false, "\xff": false, strings.Repeat("a", 11): false} {
		if err := delivery.CheckPlainText("x", s, 10); (err == nil) != ok {
			t.Errorf("%q: %v", s, err)
		}
	}
}
