package otp_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/delivery"
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
	wantDelays := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute}
	if !reflect.DeepEqual(d.SendDelays, wantDelays) || d.SendDailyCap != 100 {
		t.Errorf("default send delays %v, cap %d", d.SendDelays, d.SendDailyCap)
	}
	wantLimits := []store.Limit{{Window: time.Hour, Max: 20}, {Window: 24 * time.Hour, Max: 100}}
	if !reflect.DeepEqual(d.SMSUnverifiedLimits, wantLimits) {
		t.Errorf("default SMS budget %+v, want %+v", d.SMSUnverifiedLimits, wantLimits)
	}
	if got := strings.Join(d.SMSAllowedCountries, ","); got != "GB,DE,FR,AU,IE" {
		t.Errorf("default countries %s", got)
	}
	if d.SendLimits != nil {
		t.Errorf("deprecated send limits set: %v", d.SendLimits)
	}
}

func TestFromEnvValues(t *testing.T) {
	c, err := otp.FromEnv(getenv(map[string]string{
		otp.EnvDigits:                " 8 ",
		otp.EnvTTLSeconds:            "600",
		otp.EnvSendLimits:            "ignored",
		otp.EnvSendDelays:            "30s, 1m,5m ",
		otp.EnvSendDailyCap:          " 20 ",
		otp.EnvSMSUnverifiedLimits:   "1h:5, 24h:10",
		otp.EnvEmailFrom:             sender,
		otp.EnvEmailConfigurationSet: "passwordless-prod",
		otp.EnvAppName:               "Acme",
		otp.EnvEmailSubject:          "{{.AppName}} code",
		otp.EnvEmailTextTemplate:     "code {{.Code}}",
		otp.EnvEmailHTMLTemplate:     "<b>{{.Code}}</b>",
		otp.EnvSMSTemplate:           "{{.Code}}",
		otp.EnvSMSAllowedCountries:   "+44, +1206, US, JM",
		otp.EnvSMSSenderID:           "Acme",
		otp.EnvSMSOriginationNumber:  "+15555550100",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := otp.Config{
		Digits: 8, TTL: 10 * time.Minute,
		SendDelays:          []time.Duration{30 * time.Second, time.Minute, 5 * time.Minute},
		SendDailyCap:        20,
		SMSUnverifiedLimits: []store.Limit{{Window: time.Hour, Max: 5}, {Window: 24 * time.Hour, Max: 10}},
		EmailFrom:           sender, EmailConfigurationSet: "passwordless-prod", AppName: "Acme",
		EmailSubject: "{{.AppName}} code", EmailTextTemplate: "code {{.Code}}", EmailHTMLTemplate: "<b>{{.Code}}</b>",
		SMSTemplate: "{{.Code}}", SMSAllowedCountries: []string{"+44", "+1206", "US", "JM"},
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
		"limits syntax":            {otp.EnvSMSUnverifiedLimits: "60s=1"},
		"limits bad window":        {otp.EnvSMSUnverifiedLimits: "1 minute:1"},
		"limits sub-second window": {otp.EnvSMSUnverifiedLimits: "1500ms:1"},
		"limits zero max":          {otp.EnvSMSUnverifiedLimits: "60s:0"},
		"limits duplicate window":  {otp.EnvSMSUnverifiedLimits: "60s:1,1m:2"},
		"limits too long window":   {otp.EnvSMSUnverifiedLimits: "800h:1"},
		"limits empty entry":       {otp.EnvSMSUnverifiedLimits: "60s:1,"},
		"delays syntax":            {otp.EnvSendDelays: "60"},
		"delays zero":              {otp.EnvSendDelays: "0s"},
		"delays sub-second":        {otp.EnvSendDelays: "60s,1500ms"},
		"delays over a day":        {otp.EnvSendDelays: "25h"},
		"delays empty entry":       {otp.EnvSendDelays: "60s,"},
		"delays too many":          {otp.EnvSendDelays: strings.Repeat("1s,", 20) + "1s"},
		"cap not a number":         {otp.EnvSendDailyCap: "lots"},
		"cap zero":                 {otp.EnvSendDailyCap: "0"},
		"cap too high":             {otp.EnvSendDailyCap: "10001"},
		"countries unknown region": {otp.EnvSMSAllowedCountries: "GB,XX"},
		"countries lower case":     {otp.EnvSMSAllowedCountries: "gb"},
		"countries duplicate":      {otp.EnvSMSAllowedCountries: "GB,GB"},
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
		"limits empty":        {SMSUnverifiedLimits: []store.Limit{}},
		"limits bad":          {SMSUnverifiedLimits: []store.Limit{{Window: time.Minute, Max: -1}}},
		"delays empty":        {SendDelays: []time.Duration{}},
		"delays bad":          {SendDelays: []time.Duration{-time.Second}},
		"cap negative":        {SendDailyCap: -1},
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

// TestSMSTemplateOnePart: the SMS template must render, with the longest code, as one SMS part
// as carriers count it: 160 GSM-7 septets, or 70 UCS-2 characters as soon as one character is
// outside GSM-7 (3GPP TS 23.038). Each template below is at most 160 characters rendered and
// was accepted when the check counted characters.
func TestSMSTemplateOnePart(t *testing.T) {
	for name, c := range map[string]otp.Config{
		// 132 characters with "ó" and "á": UCS-2, 2 parts.
		"spanish 132": {SMSTemplate: "{{.Code}} es tu código de acceso a {{.AppName}}. Caduca en {{.Minutes}} minutos. No lo compartas con nadie, ni siquiera con el soporte técnico.", AppName: "Acme"},
		// 75 characters of Chinese: UCS-2, 2 parts.
		"chinese 75": {SMSTemplate: "{{.Code}}" + strings.Repeat("验", 65)},
		// A 6-digit code and 78 euro signs are 162 septets: 2 parts.
		"gsm7 extension": {SMSTemplate: "{{.Code}}" + strings.Repeat("€", 78)},
		// An accented app name makes a template naming it UCS-2: 64 + 45 characters.
		"ucs2 app name": {AppName: strings.Repeat("ó", otp.MaxAppNameLength), SMSTemplate: otp.DefaultSMSTemplate},
		"locale":        {Locales: map[string]otp.LocaleTemplates{"es": {SMS: "{{.Code}} es tu código. Caduca en {{.Minutes}} minutos. No lo compartas con nadie, ni con el soporte."}}},
	} {
		t.Run(name, func(t *testing.T) {
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), "SMS parts") || !strings.Contains(err.Error(), "UCS-2") && name != "gsm7 extension" {
				t.Fatalf("Validate = %v, want the SMS template refused as more than one part", err)
			}
		})
	}
	// Still accepted: 160 GSM-7 characters, accents of the GSM-7 alphabet, 70 UCS-2 characters.
	for name, c := range map[string]otp.Config{
		"gsm7 160":            {Digits: 10, SMSTemplate: "{{.Code}}" + strings.Repeat("x", 150)},
		"gsm7 accents":        {SMSTemplate: "{{.Code}} ist dein Anmeldecode für {{.AppName}}. Er läuft in {{.Minutes}} Minuten ab. Gib ihn niemandem weiter, auch nicht dem Support.", AppName: "Müller & Söhne"},
		"ucs2 70":             {Digits: 10, SMSTemplate: "{{.Code}}" + strings.Repeat("验", 60)},
		"default named":       {AppName: strings.Repeat("W", otp.MaxAppNameLength), Digits: 10, TTL: 10 * time.Minute},
		"default no name":     {Digits: 10, TTL: 10 * time.Minute},
		"short ucs2 app name": {AppName: "Código", Digits: 10, TTL: 10 * time.Minute},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestDefaultSMSLeavesOutLongUCS2AppName: the default SMS names the app only when, with the
// longest code and lifetime, it stays one SMS part; an app name outside GSM-7 and too long for
// 70 characters takes the default without the name instead of a refusal.
func TestDefaultSMSLeavesOutLongUCS2AppName(t *testing.T) {
	for app, want := range map[string]string{
		"Acme":                      " is your Acme code. It expires in 5 minutes.",
		"Müller & Söhne Ærø Ñoño":   " is your Müller & Söhne Ærø Ñoño code. It expires in 5 minutes.", // GSM-7
		"Señal":                     " is your Señal code. It expires in 5 minutes.",                   // UCS-2, 61 with 10 digits
		"Señal Ópera y Café Olé SA": " is your sign-in code. It expires in 5 minutes.",                 // UCS-2, 76 with 10 digits
		strings.Repeat("验", 64):     " is your sign-in code. It expires in 5 minutes.",
	} {
		if err := (otp.Config{AppName: app, Digits: 10, TTL: 10 * time.Minute}).Validate(); err != nil {
			t.Errorf("%s: %v", app, err)
		}
		e := newEnv(t, otp.Config{AppName: app})
		e.issue(t, issueReq("sms_otp", 2, phoneAttrs(phone, true, true)))
		if got := e.sns.sent[0].Message; got != e.lastSMSCode(t)+want {
			t.Errorf("app name %q: SMS %q, want code + %q", app, got, want)
		}
		if n := delivery.SMSParts(e.sns.sent[0].Message); n != 1 {
			t.Errorf("app name %q: %d parts", app, n)
		}
	}
}
