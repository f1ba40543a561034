package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/delivery"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/store"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func testClient(t *testing.T) *awsapi.Client {
	t.Helper()
	c, err := awsapi.New(aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseKinds(t *testing.T) {
	got, err := notify.ParseKinds(" key_added, account_locked ,new_method_signin")
	if err != nil || len(got) != 3 || got[0] != notify.KeyAdded || got[1] != notify.AccountLocked || got[2] != notify.NewMethodSignIn {
		t.Fatalf("%v %v", got, err)
	}
	if got, err := notify.ParseKinds("  "); err != nil || got != nil {
		t.Fatalf("empty: %v %v", got, err)
	}
	for _, bad := range []string{"key_added,", "bogus", "key_added,key_added", "KEY_ADDED", ","} {
		if _, err := notify.ParseKinds(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Notifications are off unless NOTIFY_EVENTS names kinds: FromEnv then needs no AWS client or
// table, and the Sender does nothing.
func TestFromEnvOffByDefault(t *testing.T) {
	s, err := notify.FromEnv(env(nil), nil, nil)
	if err != nil || s == nil {
		t.Fatalf("%v %v", s, err)
	}
	for _, k := range notify.Kinds {
		if s.Enabled(k) {
			t.Errorf("%s enabled by default", k)
		}
		s.Notify(context.Background(), testKey, notify.Event{Kind: k, Attributes: verifiedEmail(), ID: "1"})
	}
	if s.Sent() != 0 || s.Failures() != 0 {
		t.Fatal("an off Sender counted something")
	}
}

func TestFromEnvEnabled(t *testing.T) {
	s, err := notify.FromEnv(env(map[string]string{
		notify.EnvEvents: "key_added,contact_changed", notify.EnvEmailFrom: "no-reply@example.com", notify.EnvTimeout: "500ms",
		notify.EnvTemplatesJSON: `{"key_added": {"subject": "{{.AppName}}: new key"}, "contact_changed": {}}`,
	}), testClient(t), store.New(nil, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Enabled(notify.KeyAdded) || !s.Enabled(notify.ContactChanged) || s.Enabled(notify.AccountLocked) {
		t.Fatal("wrong kinds enabled")
	}
	if _, err := notify.FromEnv(env(map[string]string{notify.EnvEvents: "key_added"}), nil, store.New(nil, "keys")); err == nil {
		t.Fatal("events without an AWS client accepted")
	}
	if _, err := notify.FromEnv(env(map[string]string{notify.EnvEvents: "key_added"}), testClient(t), nil); err == nil {
		t.Fatal("events without a store accepted")
	}
}

func TestConfigFromEnvDefaults(t *testing.T) {
	c, err := notify.ConfigFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Timeout != time.Second || c.AppName != "your app" || len(c.Events) != 0 ||
		len(c.LockedLimits) != 1 || c.LockedLimits[0] != (store.Limit{Window: 24 * time.Hour, Max: 3}) ||
		len(c.LockedSMSLimits) != 2 || strings.Join(c.SMSAllowedCountries, ",") != notify.DefaultSMSAllowedCountries {
		t.Fatalf("%+v", c)
	}
}

// The default SMS fit one segment even with the longest app name.
func TestDefaultsFitLongestAppName(t *testing.T) {
	if err := (notify.Config{Settings: delivery.Settings{AppName: strings.Repeat("W", notify.MaxAppNameLength)}}).Validate(); err != nil {
		t.Fatal(err)
	}
}

// Every bad setting stops the function at start-up.
func TestFromEnvRejects(t *testing.T) {
	long := strings.Repeat("x", 161)
	for name, m := range map[string]map[string]string{
		"unknown kind":             {notify.EnvEvents: "key_added,bogus"},
		"kind twice":               {notify.EnvEvents: "key_added,key_added"},
		"templates not JSON":       {notify.EnvTemplatesJSON: `{"key_added":`},
		"templates not an object":  {notify.EnvTemplatesJSON: `[]`},
		"templates unknown kind":   {notify.EnvTemplatesJSON: `{"key_stolen": {"subject": "x"}}`},
		"templates unknown field":  {notify.EnvTemplatesJSON: `{"key_added": {"body": "x"}}`},
		"templates not a string":   {notify.EnvTemplatesJSON: `{"key_added": {"text": 5}}`},
		"templates kind twice":     {notify.EnvTemplatesJSON: `{"key_added": {}, "key_added": {}}`},
		"templates trailing data":  {notify.EnvTemplatesJSON: `{"key_added": {}} x`},
		"unknown placeholder":      {notify.EnvTemplatesJSON: `{"key_added": {"text": "code {{.Code}}"}}`},
		"unknown detail":           {notify.EnvTemplatesJSON: `{"key_added": {"text": "{{.Detail.password}}"}}`},
		"template action":          {notify.EnvTemplatesJSON: `{"key_added": {"html": "{{if .AppName}}x{{end}}"}}`},
		"lone braces":              {notify.EnvTemplatesJSON: `{"key_added": {"sms": "{{ oops"}}`},
		"empty subject":            {notify.EnvTemplatesJSON: `{"key_added": {"subject": "   "}}`},
		"subject line break":       {notify.EnvTemplatesJSON: `{"key_added": {"subject": "a\nb"}}`},
		"long subject":             {notify.EnvTemplatesJSON: `{"key_added": {"subject": "` + strings.Repeat("s", 201) + `"}}`},
		"long SMS":                 {notify.EnvTemplatesJSON: `{"account_locked": {"sms": "` + long + `"}}`},
		"SMS too long with values": {notify.EnvTemplatesJSON: `{"contact_changed": {"sms": "` + strings.Repeat("x", 146) + ` {{.Detail.newAddress}}"}}`},
		"timeout not a duration":   {notify.EnvTimeout: "soon"},
		"timeout too long":         {notify.EnvTimeout: "5s"},
		"timeout too short":        {notify.EnvTimeout: "1ms"},
		"locked limits":            {notify.EnvLockedLimits: "24h"},
		"locked limits zero":       {notify.EnvLockedLimits: "24h:0"},
		"locked SMS limits window": {notify.EnvLockedSMSLimits: "1500ms:3"},
		"locked SMS limits twice":  {notify.EnvLockedSMSLimits: "1h:3,60m:4"},
		"countries":                {notify.EnvSMSAllowedCountries: "GB,XX"},
		"countries prefix":         {notify.EnvSMSAllowedCountries: "+0"},
		"email from":               {notify.EnvEmailFrom: "not an address"},
		"email from header":        {notify.EnvEmailFrom: "a@example.com\r\nBcc: b@example.com"},
		"configuration set":        {notify.EnvEmailConfigurationSet: "bad name!"},
		"app name":                 {notify.EnvAppName: strings.Repeat("a", 65)},
		"app name control":         {notify.EnvAppName: "a\u0007b"},
		"sender ID":                {notify.EnvSMSSenderID: "12345"},
		"origination number":       {notify.EnvSMSOriginationNumber: "12345"},
		"long app name and SMS":    {notify.EnvAppName: strings.Repeat("a", 64), notify.EnvTemplatesJSON: `{"key_added": {"sms": "{{.AppName}}{{.AppName}}{{.AppName}}"}}`},
		"templates too big":        {notify.EnvTemplatesJSON: `{"key_added": {"text": "` + strings.Repeat("t", 33<<10) + `"}}`},
		"templates not UTF-8":      {notify.EnvTemplatesJSON: "{\"key_added\": {\"text\": \"\xff\"}}"},
	} {
		if _, err := notify.FromEnv(env(m), testClient(t), store.New(nil, "keys")); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestNewRequiresDependencies(t *testing.T) {
	for name, d := range map[string]notify.Deps{
		"no store": {Email: &fakeAWS{}, SMS: &fakeAWS{}},
		"no email": {Store: newFakeStore(), SMS: &fakeAWS{}},
		"no SMS":   {Store: newFakeStore(), Email: &fakeAWS{}},
	} {
		if _, err := notify.New(notify.Config{Events: []notify.Kind{notify.KeyAdded}}, d); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := notify.New(notify.Config{Events: []notify.Kind{"bogus"}}, notify.Deps{Store: newFakeStore(), Email: &fakeAWS{}, SMS: &fakeAWS{}}); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := notify.New(notify.Config{Templates: map[notify.Kind]notify.Templates{"bogus": {}}}, notify.Deps{}); err == nil {
		t.Error("templates of an unknown kind accepted")
	}
}

// TestSMSOnePart: a notification SMS must render, with the longest values, as one SMS part as
// carriers count it: 160 GSM-7 septets, or 70 UCS-2 characters as soon as one character is
// outside GSM-7. Each template refused below renders to at most 160 characters and was
// accepted when the check counted characters.
func TestSMSOnePart(t *testing.T) {
	for name, c := range map[string]notify.Config{
		"spanish":  {Templates: map[notify.Kind]notify.Templates{notify.KeyAdded: {SMS: "{{.AppName}}: se añadió una llave de dispositivo a tu cuenta. ¿No fuiste tú? Inicia sesión, quítala y avisa al soporte."}}},
		"chinese":  {Templates: map[notify.Kind]notify.Templates{notify.AccountLocked: {SMS: strings.Repeat("验", 71)}}},
		"euro":     {Templates: map[notify.Kind]notify.Templates{notify.AccountLocked: {SMS: strings.Repeat("€", 81)}}},
		"locale":   {Locales: map[string]map[notify.Kind]notify.Templates{"zh": {notify.KeyRemoved: {SMS: strings.Repeat("验", 75)}}}},
		"app name": {Settings: delivery.Settings{AppName: strings.Repeat("验", notify.MaxAppNameLength)}, Templates: map[notify.Kind]notify.Templates{notify.KeyAdded: {SMS: "{{.AppName}}: new key."}}},
	} {
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), "sms renders") || !strings.Contains(err.Error(), "SMS parts") {
			t.Errorf("%s: Validate = %v, want the SMS refused as more than one part", name, err)
		}
	}
	for name, c := range map[string]notify.Config{
		"gsm7 160":    {Templates: map[notify.Kind]notify.Templates{notify.AccountLocked: {SMS: strings.Repeat("x", 160)}}},
		"euro 80":     {Templates: map[notify.Kind]notify.Templates{notify.AccountLocked: {SMS: strings.Repeat("€", 80)}}},
		"ucs2 70":     {Templates: map[notify.Kind]notify.Templates{notify.AccountLocked: {SMS: strings.Repeat("验", 70)}}},
		"gsm7 accent": {Settings: delivery.Settings{AppName: "Müller & Söhne"}},
		"no name":     {},
		// The default SMS leave out an app name that would make them more than one part.
		"ucs2 app name": {Settings: delivery.Settings{AppName: "Ópera"}},
		"long ucs2":     {Settings: delivery.Settings{AppName: strings.Repeat("验", notify.MaxAppNameLength)}},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestDefaultSMSOnePartWithUCS2AppName: with an app name outside GSM-7 every kind's default SMS
// is sent as one part, without the name when it does not fit.
func TestDefaultSMSOnePartWithUCS2AppName(t *testing.T) {
	for _, app := range []string{"Ópera", strings.Repeat("验", notify.MaxAppNameLength), strings.Repeat("W", notify.MaxAppNameLength)} {
		r := newRig(t, func(c *notify.Config) { c.AppName = app })
		detail := map[string]string{notify.DetailOldAddress: oldEmail, notify.DetailMethod: "device_key", notify.DetailCount: "2", notify.DetailKeyName: "k"}
		for i, k := range notify.Kinds {
			r.s.Notify(context.Background(), testKey, notify.Event{Kind: k, UserPoolID: pool, UserName: userName, Attributes: verifiedPhone(), Detail: detail, ID: "s" + string(rune('a'+i))})
		}
		_, sms := r.aws.sent()
		if len(sms) != len(notify.Kinds) {
			t.Fatalf("%d SMS", len(sms))
		}
		for _, m := range sms {
			if n := delivery.SMSParts(m.Message); n != 1 {
				t.Errorf("app name %q: %d parts: %q", app, n, m.Message)
			}
		}
	}
}
