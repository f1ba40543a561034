package passwordless_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/passwordless-go/cognito/constructs/cdktest"
	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/magiclink"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// Issue 12 wiring: magic links, security notifications and the recovery routes, as the
// synthesized template must hold them. checkIssue12 runs for every prop set from
// checkInvariants; the tests below synthesize the configurations the prop sets do not cover.

// envOf returns cmd's environment variables.
func envOf(fns map[string]function, cmd string) map[string]any {
	env, _ := fns[cmd].props["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	return vars
}

// getenv reads vars as a function would: strings as they are, a token (a reference resolved at
// deploy time: table name, configuration set, secret ARN) as a plausible stand-in.
func getenv(vars map[string]any) func(string) string {
	return func(k string) string {
		switch v := vars[k].(type) {
		case nil:
			return ""
		case string:
			return v
		default:
			return "resolved-" + strings.ToLower(strings.ReplaceAll(k, "_", "-"))
		}
	}
}

// routeKeys returns the template's route keys.
func routeKeys(tpl map[string]any) map[string]bool {
	out := map[string]bool{}
	for _, r := range cdktest.Resources(tpl, "AWS::ApiGatewayV2::Route") {
		out[fmt.Sprint(r["RouteKey"])] = true
	}
	return out
}

// withPrefix lists the variables of vars starting with prefix.
func withPrefix(vars map[string]any, prefix string) []string {
	var out []string
	for k := range vars {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// tokenBytes stands for a reference's resolved length when sizing an environment (a table name
// or an ARN with a generated suffix).
const tokenBytes = 200

// envBytes is the size Lambda counts for an environment (names and values), tokens as tokenBytes.
func envBytes(vars map[string]any) int {
	n := 0
	for k, v := range vars {
		n += len(k)
		if s, ok := v.(string); ok {
			n += len(s)
		} else {
			n += tokenBytes
		}
	}
	return n
}

type reachCheck struct {
	cmd, action, pk string
	want            bool
}

func checkReach(t *testing.T, tpl map[string]any, checks []reachCheck) {
	t.Helper()
	fns := functionsByCommand(t, tpl)
	roles := roleStatements(tpl)
	for _, c := range checks {
		if got := tableAllows(roles[fns[c.cmd].role], c.action, c.pk); got != c.want {
			t.Errorf("%s role: %s on an item with pk %q allowed=%v, want %v", c.cmd, c.action, c.pk, got, c.want)
		}
	}
}

// only lists reach checks allowing exactly actions on pk for cmd, and refusing the others.
func only(cmd, pk string, actions ...string) []reachCheck {
	var out []reachCheck
	for _, a := range []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} {
		out = append(out, reachCheck{cmd, a, pk, slices.Contains(actions, a)})
	}
	return out
}

// checkIssue12 asserts the issue-12 properties of one prop set's template.
func checkIssue12(t *testing.T, name string, tpl map[string]any) {
	t.Helper()
	fns := functionsByCommand(t, tpl)
	routes := routeKeys(tpl)

	// Recovery: signing out everywhere is always there; revoking all device keys or passkeys
	// comes with the method. Every route is behind the JWT authorizer (checkInvariants).
	want := map[string]bool{
		"POST /me/signout-everywhere": true,
		"DELETE /device-keys":         name == "full" || name == "native",
		"DELETE /passkeys":            name == "full",
	}
	for r, w := range want {
		if routes[r] != w {
			t.Errorf("route %s present=%v, want %v", r, routes[r], w)
		}
	}

	// Every LeadingKeys pattern is one of the store's prefixes followed by "*".
	allowed := map[string]bool{}
	for _, p := range store.Prefixes {
		allowed[p+"*"] = true
	}
	for _, cmd := range commands {
		for _, s := range roleStatements(tpl)[fns[cmd].role] {
			cond, _ := s["Condition"].(map[string]any)
			like, _ := cond["ForAllValues:StringLike"].(map[string]any)
			var patterns []any
			switch v := like["dynamodb:LeadingKeys"].(type) {
			case string:
				patterns = []any{v}
			case []any:
				patterns = v
			}
			for _, p := range patterns {
				if !allowed[fmt.Sprint(p)] {
					t.Errorf("%s: LeadingKeys pattern %v is not a store prefix", cmd, p)
				}
			}
		}
	}

	if name != "full" {
		for _, cmd := range commands {
			if got := append(withPrefix(envOf(fns, cmd), "MAGIC_LINK_"), withPrefix(envOf(fns, cmd), "NOTIFY_")...); len(got) > 0 {
				t.Errorf("%s: %v set without magic links or notifications", cmd, got)
			}
		}
		return
	}

	// full: magic links and every notification kind.
	create, verify, api := envOf(fns, "create"), envOf(fns, "verify"), envOf(fns, "api")
	for k, v := range map[string]string{
		magiclink.EnvURLs: "https://app.example.com/signin,http://localhost:8081/signin", magiclink.EnvTTL: "1200s",
		magiclink.EnvSameDevice: "true", magiclink.EnvEmailSubject: "Your {{.AppName}} link",
	} {
		if create[k] != v {
			t.Errorf("create: %s=%v, want %q", k, create[k], v)
		}
	}
	if verify[magiclink.EnvSameDevice] != "true" || verify[magiclink.EnvURLs] != nil {
		t.Errorf("verify: %s=%v %s=%v, want the same-device setting only", magiclink.EnvSameDevice, verify[magiclink.EnvSameDevice], magiclink.EnvURLs, verify[magiclink.EnvURLs])
	}
	if _, err := magiclink.FromEnv(getenv(create)); err != nil {
		t.Errorf("create's magic-link environment does not parse: %v", err)
	}
	if got := withPrefix(create, "NOTIFY_"); len(got) > 0 {
		t.Errorf("create: %v set (Create does not notify)", got)
	}
	for cmd, kinds := range map[string]string{"verify": "account_locked,new_method_signin",
		"api": "key_added,key_removed,passkey_added,passkey_removed,contact_changed"} {
		vars := envOf(fns, cmd)
		if vars[notify.EnvEvents] != kinds || vars[notify.EnvTimeout] != "1.5s" {
			t.Errorf("%s: %s=%v %s=%v, want %q and 1.5s", cmd, notify.EnvEvents, vars[notify.EnvEvents], notify.EnvTimeout, vars[notify.EnvTimeout], kinds)
		}
		cfg, err := notify.ConfigFromEnv(getenv(vars))
		if err != nil {
			t.Errorf("%s: notification environment does not parse: %v", cmd, err)
			continue
		}
		if cfg.EmailFrom != "sign-in@example.com" || cfg.Timeout != 1500*time.Millisecond || strings.Join(cfg.SMSAllowedCountries, ",") != "GB,IE,+49" {
			t.Errorf("%s: notification config %+v", cmd, cfg)
		}
		// Room for the work of the request besides the notification: the deployment key read
		// (up to 1 s on an instance's first request) and the request itself (1 s), under
		// Cognito's 5 s.
		if to, _ := fns[cmd].props["Timeout"].(float64); time.Duration(to)*time.Second < cfg.Timeout+2*time.Second || to >= 5 {
			t.Errorf("%s: timeout %v s leaves no room for a %v notification", cmd, to, cfg.Timeout)
		}
		if n := envBytes(vars); n >= 4096 {
			t.Errorf("%s: environment of about %d bytes; Lambda allows 4 KB", cmd, n)
		}
	}
	if verify[notify.EnvLockedLimits] != "86400s:2" || verify[notify.EnvLockedSMSLimits] != "3600s:20,86400s:100" {
		t.Errorf("verify: locked limits %v / %v", verify[notify.EnvLockedLimits], verify[notify.EnvLockedSMSLimits])
	}
	if api[notify.EnvLockedLimits] != nil || api[notify.EnvLockedSMSLimits] != nil {
		t.Error("api: account_locked limits set, but the API never notifies a lock")
	}
	// Each function gets the template overrides of its own kinds only.
	if got := fmt.Sprint(verify[notify.EnvTemplatesJSON]); got != `{"account_locked":{"sms":"{{.AppName}}: sign-in paused."}}` {
		t.Errorf("verify: %s=%s", notify.EnvTemplatesJSON, got)
	}
	if got := fmt.Sprint(api[notify.EnvTemplatesJSON]); got != `{"key_added":{"subject":"New device key on {{.AppName}}"}}` {
		t.Errorf("api: %s=%s", notify.EnvTemplatesJSON, got)
	}
	for _, cmd := range []string{"create", "verify", "api"} {
		if n := envBytes(envOf(fns, cmd)); n >= 4096 {
			t.Errorf("%s: environment of about %d bytes; Lambda allows 4 KB", cmd, n)
		}
	}
	for _, cmd := range []string{"verify", "api"} {
		if res := sendEmailResources(t, tpl, cmd); len(res) != 1 {
			t.Errorf("%s: ses:SendEmail statements %v, want one (codes and notifications share it)", cmd, res)
		}
	}
	checkReach(t, tpl, slices.Concat(
		only("create", "MAGIC#m", "dynamodb:PutItem"),
		only("verify", "MAGIC#m", "dynamodb:UpdateItem"),
		only("api", "MAGIC#m"),
		only("create", "NOTIFY#n"),
		only("verify", "NOTIFY#n", "dynamodb:PutItem"),
		only("api", "NOTIFY#n", "dynamodb:PutItem"),
		only("verify", "RATE#r", "dynamodb:UpdateItem"),
	))
	// CORS lets a browser call the recovery routes.
	for _, a := range cdktest.Resources(tpl, "AWS::ApiGatewayV2::Api") {
		cors, _ := json.Marshal(a["CorsConfiguration"])
		for _, m := range []string{`"DELETE"`, `"POST"`} {
			if !strings.Contains(string(cors), m) {
				t.Errorf("CORS %s does not allow %s", cors, m)
			}
		}
	}
}

// TestMagicLinkAlone: magic_link without any code method: Create gets the link and shared send
// settings and exactly the table access the Issuer uses (SEND# read and put, MAGIC# put);
// Verify uses the link (MAGIC# update), counts attempts (FAILS#) and resets the send schedule
// (SEND# update); nothing reaches code records, users or rate counters; only Create sends
// email; no SMS anywhere.
func TestMagicLinkAlone(t *testing.T) {
	tpl, err := synthStack(t, nil, func(awscdk.Stack) *passwordless.Props {
		return &passwordless.Props{
			Methods: []passwordless.Method{passwordless.MagicLink},
			Email:   &passwordless.EmailProps{From: "no-reply@example.com"},
			MagicLink: &passwordless.MagicLinkProps{RedirectURLs: []string{"https://app.example.com/signin", "http://localhost:3000/signin"},
				TTL: 10 * time.Minute, Templates: passwordless.EmailTemplates{Subject: "Sign in to {{.AppName}}"}},
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	fns := functionsByCommand(t, tpl)
	create, verify := envOf(fns, "create"), envOf(fns, "verify")
	for k, v := range map[string]string{
		magiclink.EnvURLs: "https://app.example.com/signin,http://localhost:3000/signin", magiclink.EnvTTL: "600s",
		magiclink.EnvSameDevice: "false", magiclink.EnvEmailSubject: "Sign in to {{.AppName}}",
		"EMAIL_FROM": "no-reply@example.com", "SEND_DELAYS": "60s,120s,240s,480s,900s", "SEND_DAILY_CAP": "100",
		"APP_NAME": "your app", authflow.EnvMethods: "magic_link",
	} {
		if create[k] != v {
			t.Errorf("create: %s=%v, want %q", k, create[k], v)
		}
	}
	if create["EMAIL_CONFIGURATION_SET"] == nil {
		t.Error("create: no EMAIL_CONFIGURATION_SET")
	}
	for _, k := range []string{"OTP_DIGITS", magiclink.EnvEmailText, magiclink.EnvEmailHTML} {
		if create[k] != nil {
			t.Errorf("create: %s=%v set without a reason", k, create[k])
		}
	}
	if _, err := magiclink.FromEnv(getenv(create)); err != nil {
		t.Errorf("create's environment does not parse: %v", err)
	}
	if verify[magiclink.EnvSameDevice] != "false" || len(withPrefix(verify, "MAGIC_LINK_")) != 1 || verify[authflow.EnvMethods] != "magic_link" {
		t.Errorf("verify: %v, want MAGIC_LINK_SAME_DEVICE only", withPrefix(verify, "MAGIC_LINK_"))
	}
	for _, cmd := range []string{"define", "presignup", "api"} {
		if got := withPrefix(envOf(fns, cmd), "MAGIC_LINK_"); len(got) > 0 {
			t.Errorf("%s: %v set", cmd, got)
		}
	}
	checkReach(t, tpl, slices.Concat(
		only("create", "SEND#s", "dynamodb:GetItem", "dynamodb:PutItem"),
		only("create", "MAGIC#m", "dynamodb:PutItem"),
		only("create", "OTP#o"), only("create", "USER#u"), only("create", "RATE#r"), only("create", "FAILS#f"),
		only("verify", "MAGIC#m", "dynamodb:UpdateItem"),
		only("verify", "SEND#s", "dynamodb:UpdateItem"),
		only("verify", "USER#u"), only("verify", "RATE#r"), only("verify", "OTP#o"), only("verify", "NOTIFY#n"),
		only("api", "MAGIC#m"), only("api", "SEND#s"), only("api", "USER#u"),
	))
	checkReach(t, tpl, []reachCheck{{"verify", "dynamodb:UpdateItem", "FAILS#f", true}})
	if res := sendEmailResources(t, tpl, "create"); len(res) != 1 {
		t.Errorf("create: ses:SendEmail %v, want one statement", res)
	}
	roles := roleStatements(tpl)
	for _, cmd := range commands {
		if cmd != "create" && len(sendEmailResources(t, tpl, cmd)) > 0 {
			t.Errorf("%s may send email", cmd)
		}
		if roleAllowsAction(roles[fns[cmd].role], "sns:Publish") {
			t.Errorf("%s may publish SMS", cmd)
		}
	}
	routes := routeKeys(tpl)
	if len(routes) != 2 || !routes["GET /me"] || !routes["POST /me/signout-everywhere"] {
		t.Errorf("routes %v, want GET /me and POST /me/signout-everywhere", routes)
	}
}

// TestNotificationsSplit: each function gets the notification kinds it raises (Verify: locks and
// new sign-in methods; the API: keys, passkeys, contact changes) and the permissions for them;
// a function that raises none gets neither environment nor permissions. SMS notices (sms_otp
// on, phone-only accounts) use the SMS grant and suppression of the codes.
func TestNotificationsSplit(t *testing.T) {
	t.Run("verify only, SMS", func(t *testing.T) {
		set := propSet{"notify-sms", func(awscdk.Stack) *passwordless.Props {
			return &passwordless.Props{
				Aliases: passwordless.Aliases{Phone: true},
				Methods: []passwordless.Method{passwordless.SMSOTP},
				SMS:     passwordless.SMSProps{AllowedCountries: []string{"GB"}},
				Notifications: &passwordless.NotificationProps{Events: []passwordless.NotificationKind{passwordless.NewMethodSignIn, passwordless.AccountLocked},
					LockedSMSLimits: []passwordless.Limit{{Window: time.Hour, Max: 5}}},
			}
		}}
		tpl, asm := synthSet(t, set)
		for _, f := range asm.NagFindings(t, "Test", "Non-Compliant") {
			t.Errorf("unsuppressed cdk-nag finding %s (%s) on %s", f.Rule, f.Level, f.Resource)
		}
		fns := functionsByCommand(t, tpl)
		verify, api := envOf(fns, "verify"), envOf(fns, "api")
		if verify[notify.EnvEvents] != "account_locked,new_method_signin" || verify["SMS_ALLOWED_COUNTRIES"] != "GB" ||
			verify[notify.EnvTimeout] != "1s" || verify[notify.EnvLockedLimits] != "86400s:3" || verify[notify.EnvLockedSMSLimits] != "3600s:5" {
			t.Errorf("verify: %v", verify)
		}
		if verify["EMAIL_FROM"] != nil {
			t.Errorf("verify: EMAIL_FROM=%v without Email", verify["EMAIL_FROM"])
		}
		if _, err := notify.ConfigFromEnv(getenv(verify)); err != nil {
			t.Errorf("verify: %v", err)
		}
		if got := withPrefix(api, "NOTIFY_"); len(got) > 0 {
			t.Errorf("api: %v set, but none of its kinds is on", got)
		}
		checkReach(t, tpl, slices.Concat(
			only("verify", "USER#u", "dynamodb:UpdateItem"),
			only("verify", "NOTIFY#n", "dynamodb:PutItem"),
			only("verify", "RATE#r", "dynamodb:UpdateItem"),
			only("api", "NOTIFY#n"),
			only("create", "NOTIFY#n"),
		))
		roles := roleStatements(tpl)
		var publish, deny bool
		for _, s := range roles[fns["verify"].role] {
			publish = publish || allows(s, "sns:Publish") && s["Sid"] == "SendSmsToPhoneNumbers"
			deny = deny || s["Effect"] == "Deny" && s["Sid"] == "NoTopicPublish"
		}
		if !publish || !deny {
			t.Errorf("verify: SMS publish %v, topic deny %v; want both", publish, deny)
		}
		if len(sendEmailResources(t, tpl, "verify")) > 0 {
			t.Error("verify may send email without Email")
		}
	})
	t.Run("api only", func(t *testing.T) {
		tpl, err := synthStack(t, nil, func(awscdk.Stack) *passwordless.Props {
			return &passwordless.Props{
				Methods:       []passwordless.Method{passwordless.DeviceKey},
				Email:         &passwordless.EmailProps{From: "no-reply@example.com"},
				Notifications: &passwordless.NotificationProps{Events: []passwordless.NotificationKind{passwordless.KeyRemoved, passwordless.KeyAdded}},
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		fns := functionsByCommand(t, tpl)
		verify, api := envOf(fns, "verify"), envOf(fns, "api")
		if got := withPrefix(verify, "NOTIFY_"); len(got) > 0 {
			t.Errorf("verify: %v set, but none of its kinds is on", got)
		}
		if api[notify.EnvEvents] != "key_added,key_removed" || api["EMAIL_FROM"] != "no-reply@example.com" || api["EMAIL_CONFIGURATION_SET"] == nil ||
			api["APP_NAME"] != "your app" || api["KEY_TABLE_NAME"] == nil || api["DEPLOYMENT_SECRET_ARN"] == nil {
			t.Errorf("api: %v", api)
		}
		if api["USER_POOL_ID"] != nil {
			t.Error("api: USER_POOL_ID would start the contact routes, which need a code method")
		}
		if _, err := notify.ConfigFromEnv(getenv(api)); err != nil {
			t.Errorf("api: %v", err)
		}
		checkReach(t, tpl, slices.Concat(
			only("api", "NOTIFY#n", "dynamodb:PutItem"),
			only("verify", "NOTIFY#n"),
			only("api", "RATE#r"),
		))
		if res := sendEmailResources(t, tpl, "api"); len(res) != 1 {
			t.Errorf("api: ses:SendEmail %v, want one statement", res)
		}
		if len(sendEmailResources(t, tpl, "verify")) > 0 || len(sendEmailResources(t, tpl, "create")) > 0 {
			t.Error("create or verify may send email")
		}
		routes := routeKeys(tpl)
		if !routes["DELETE /device-keys"] || routes["DELETE /passkeys"] {
			t.Errorf("routes %v", routes)
		}
	})
}
