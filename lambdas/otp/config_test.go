package otp_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/store"
)

func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestFromEnvDefaults(t *testing.T) {
	c, err := otp.FromEnv(getenv(nil))
	if err != nil {
		t.Fatal(err)
	}
	d := otp.DefaultConfig()
	if !reflect.DeepEqual(c, d) {
		t.Fatalf("FromEnv with nothing set = %+v, want the defaults %+v", c, d)
	}
	if d.Digits != 6 || d.TTL != 5*time.Minute || d.AppName != "your app" {
		t.Errorf("defaults: %+v", d)
	}
	wantLimits := []store.Limit{{Window: time.Minute, Max: 1}, {Window: 24 * time.Hour, Max: 10}}
	if !reflect.DeepEqual(d.SendLimits, wantLimits) {
		t.Errorf("default send limits %+v, want %+v", d.SendLimits, wantLimits)
	}
	if got := strings.Join(d.SMSAllowedCountries, ","); got != "+1,+44,+49,+33,+61,+353" {
		t.Errorf("default countries %s", got)
	}
}

func TestFromEnvValues(t *testing.T) {
	c, err := otp.FromEnv(getenv(map[string]string{
		otp.EnvDigits:                " 8 ",
		otp.EnvTTLSeconds:            "600",
		otp.EnvSendLimits:            "30s:1, 1h:3 ,24h:5",
		otp.EnvEmailFrom:             sender,
		otp.EnvEmailConfigurationSet: "passwordless-prod",
		otp.EnvAppName:               "Acme",
		otp.EnvEmailSubject:          "{{.AppName}} code",
		otp.EnvEmailTextTemplate:     "code {{.Code}}",
		otp.EnvEmailHTMLTemplate:     "<b>{{.Code}}</b>",
		otp.EnvSMSTemplate:           "{{.Code}}",
		otp.EnvSMSAllowedCountries:   "+44, +1206",
		otp.EnvSMSSenderID:           "Acme",
		otp.EnvSMSOriginationNumber:  "+15555550100",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := otp.Config{
		Digits: 8, TTL: 10 * time.Minute,
		SendLimits: []store.Limit{{Window: 30 * time.Second, Max: 1}, {Window: time.Hour, Max: 3}, {Window: 24 * time.Hour, Max: 5}},
		EmailFrom:  sender, EmailConfigurationSet: "passwordless-prod", AppName: "Acme",
		EmailSubject: "{{.AppName}} code", EmailTextTemplate: "code {{.Code}}", EmailHTMLTemplate: "<b>{{.Code}}</b>",
		SMSTemplate: "{{.Code}}", SMSAllowedCountries: []string{"+44", "+1206"},
		SMSSenderID: "Acme", SMSOriginationNumber: "+15555550100",
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("FromEnv =\n%+v\nwant\n%+v", c, want)
	}
}

func TestFromEnvRejects(t *testing.T) {
	tests := map[string]map[string]string{
		"digits not a number":      {otp.EnvDigits: "six"},
		"digits too few":           {otp.EnvDigits: "5"},
		"digits too many":          {otp.EnvDigits: "11"},
		"ttl not a number":         {otp.EnvTTLSeconds: "5m"},
		"ttl too long":             {otp.EnvTTLSeconds: "601"},
		"ttl too short":            {otp.EnvTTLSeconds: "59"},
		"ttl negative":             {otp.EnvTTLSeconds: "-300"},
		"limits syntax":            {otp.EnvSendLimits: "60s=1"},
		"limits bad window":        {otp.EnvSendLimits: "1 minute:1"},
		"limits sub-second window": {otp.EnvSendLimits: "1500ms:1"},
		"limits zero max":          {otp.EnvSendLimits: "60s:0"},
		"limits duplicate window":  {otp.EnvSendLimits: "60s:1,1m:2"},
		"limits too long window":   {otp.EnvSendLimits: "800h:1"},
		"limits empty entry":       {otp.EnvSendLimits: "60s:1,"},
		"from not an address":      {otp.EnvEmailFrom: "not-an-address"},
		"from with line break":     {otp.EnvEmailFrom: "a@example.com\r\nBcc: x@example.com"},
		"configuration set":        {otp.EnvEmailConfigurationSet: "bad name!"},
		"app name too long":        {otp.EnvAppName: strings.Repeat("x", 65)},
		"app name control":         {otp.EnvAppName: "Acme\x07"},
		"subject syntax":           {otp.EnvEmailSubject: "{{.AppName"},
		"subject unknown field":    {otp.EnvEmailSubject: "{{.Nope}}"},
		"subject line break":       {otp.EnvEmailSubject: "a\nBcc: x@example.com"},
		"text without code":        {otp.EnvEmailTextTemplate: "Your code is on its way"},
		"html without code":        {otp.EnvEmailHTMLTemplate: "<p>{{.AppName}}</p>"},
		"sms without code":         {otp.EnvSMSTemplate: "{{.AppName}} code, expires in {{.Minutes}} minutes"},
		"code only in a branch":    {otp.EnvSMSTemplate: `{{if eq .AppName "x"}}{{.Code}}{{end}}`},
		"code truncated":           {otp.EnvSMSTemplate: `{{printf "%.3s" .Code}}`},
		"literal code":             {otp.EnvSMSTemplate: "0123456789 is a fixed code"},
		"sms too long":             {otp.EnvSMSTemplate: "{{.Code}} " + strings.Repeat("x", 160)},
		"template too big":         {otp.EnvEmailTextTemplate: "{{.Code}}" + strings.Repeat("x", 40<<10)},
		"template unknown field":   {otp.EnvEmailHTMLTemplate: "{{.Code}} {{.Secret}}"},
		"country without plus":     {otp.EnvSMSAllowedCountries: "44"},
		"country leading zero":     {otp.EnvSMSAllowedCountries: "+044"},
		"country too long":         {otp.EnvSMSAllowedCountries: "+1234567"},
		"country duplicate":        {otp.EnvSMSAllowedCountries: "+44,+44"},
		"country empty entry":      {otp.EnvSMSAllowedCountries: "+44,,+1"},
		"sender id too long":       {otp.EnvSMSSenderID: "ABCDEFGHIJKL"},
		"sender id digits only":    {otp.EnvSMSSenderID: "12345"},
		"sender id space":          {otp.EnvSMSSenderID: "Ac me"},
		"origination not e164":     {otp.EnvSMSOriginationNumber: "07911123456"},
	}
	for name, vars := range tests {
		t.Run(name, func(t *testing.T) {
			if c, err := otp.FromEnv(getenv(vars)); err == nil {
				t.Fatalf("FromEnv(%v) = %+v, want an error", vars, c)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (otp.Config{}).Validate(); err != nil {
		t.Fatalf("zero Config: %v", err)
	}
	for name, c := range map[string]otp.Config{
		"ttl over 10 minutes": {TTL: 11 * time.Minute},
		"ttl fraction":        {TTL: 90*time.Second + time.Millisecond},
		"digits":              {Digits: 12},
		"limits empty":        {SendLimits: []store.Limit{}},
		"limits bad":          {SendLimits: []store.Limit{{Window: time.Minute, Max: -1}}},
		"countries empty":     {SMSAllowedCountries: []string{}},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, c)
		}
	}
	if _, err := otp.NewIssuer(otp.Config{TTL: time.Hour}, otp.IssuerDeps{Store: newMemStore(time.Now)}); err == nil {
		t.Error("NewIssuer accepted a one-hour code lifetime")
	}
	if _, err := otp.NewIssuer(otp.Config{}, otp.IssuerDeps{Store: newMemStore(time.Now), Email: &fakeSES{}}); err == nil {
		t.Error("NewIssuer accepted an email sender without EMAIL_FROM")
	}
	if _, err := otp.NewIssuer(otp.Config{}, otp.IssuerDeps{}); err == nil {
		t.Error("NewIssuer accepted no store")
	}
	if _, err := otp.NewChecker(otp.Config{}, otp.CheckerDeps{}); err == nil {
		t.Error("NewChecker accepted no verifier")
	}
	if _, err := otp.NewChecker(otp.Config{Digits: 3}, otp.CheckerDeps{Verifier: &fakeCognito{}}); err == nil {
		t.Error("NewChecker accepted 3 digits")
	}
}

// TestHTMLEscapesAppName: the HTML body escapes the application name; the text body does not
// need to.
func TestHTMLEscapesAppName(t *testing.T) {
	e := newEnv(t, otp.Config{AppName: `<script>alert("x")</script> & Co`})
	e.issue(t, issueReq("email_otp", 1, emailAttrs(true)))
	in := e.ses.sent[0]
	html := in.HTML
	if strings.Contains(html, "<script>") {
		t.Fatalf("HTML body contains the raw app name:\n%s", html)
	}
	if !strings.Contains(html, "&lt;script&gt;") || !strings.Contains(html, "&amp; Co") {
		t.Fatalf("HTML body does not contain the escaped app name:\n%s", html)
	}
	if text := in.Text; !strings.Contains(text, `<script>alert("x")</script> & Co`) {
		t.Fatalf("text body mangles the app name:\n%s", text)
	}
	if subj := in.Subject; subj != `Your <script>alert("x")</script> & Co sign-in code` {
		t.Fatalf("subject %q", subj)
	}
}

// TestDefaultMessages pins the default wording.
func TestDefaultMessages(t *testing.T) {
	e := newEnv(t, otp.Config{AppName: "Acme"})
	e.issue(t, issueReq("email_otp", 1, emailAttrs(true)))
	in := e.ses.sent[0]
	code := e.lastEmailCode(t)
	if got := in.Subject; got != "Your Acme sign-in code" {
		t.Errorf("subject %q", got)
	}
	if got := in.Text; !strings.HasPrefix(got, "Your Acme sign-in code is "+code+"\n") || !strings.Contains(got, "expires in 5 minutes") {
		t.Errorf("text body %q", got)
	}
	e.issue(t, issueReq("sms_otp", 2, phoneAttrs(phone, true, true)))
	if got, want := e.sns.sent[0].Message, e.lastSMSCode(t)+" is your Acme code. It expires in 5 minutes."; got != want {
		t.Errorf("SMS %q, want %q", got, want)
	}
}
