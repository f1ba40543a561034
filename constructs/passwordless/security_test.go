package passwordless_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/constructs/cdktest"
)

// Security properties of the synthesized template that issue 10 asks for: the deployment secret
// (generated, never in the template, read by exactly the functions that derive identifiers), the
// app client's write attributes, the item prefixes each role reaches in the key table, and the
// contact-change routes. checkSecurity runs for every prop set from checkInvariants.

// commands are the construct's functions, by the command in their description.
var commands = []string{"define", "create", "verify", "presignup", "api"}

// deploymentSecretCommands derive keyed identifiers and read the secret.
var deploymentSecretCommands = []string{"create", "verify", "api"}

// checkSecurity asserts the issue-10 properties of one prop set's template.
func checkSecurity(t *testing.T, name string, tpl map[string]any) {
	t.Helper()
	fns := functionsByCommand(t, tpl)
	roles := roleStatements(tpl)

	// The deployment secret: created with a generated value (the value never in the template),
	// RETAIN when protected, read (GetSecretValue only) by create, verify and api.
	secretID, s := cdktest.One(t, tpl, "AWS::SecretsManager::Secret")
	gen, _ := s["GenerateSecretString"].(map[string]any)
	if l, _ := gen["PasswordLength"].(float64); l < 43 {
		t.Errorf("secret %s: generated length %v, want a generated value of at least 43 characters (256 bits)", secretID, gen["PasswordLength"])
	}
	if s["SecretString"] != nil {
		t.Errorf("secret %s has a value in the template", secretID)
	}
	if gen["SecretStringTemplate"] != nil {
		t.Errorf("secret %s: a SecretStringTemplate would put part of the value in the template", secretID)
	}
	want := "Delete"
	if name == "full" {
		want = "Retain"
	}
	if got := deletionPolicy(tpl, secretID); got != want {
		t.Errorf("secret %s: DeletionPolicy %q, want %q", secretID, got, want)
	}
	for _, cmd := range commands {
		fn := fns[cmd]
		env, _ := fn.props["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		ref, _ := json.Marshal(vars["DEPLOYMENT_SECRET_ARN"])
		reads := 0
		for _, s := range roles[fn.role] {
			if !allows(s, "secretsmanager:GetSecretValue") {
				if strings.Contains(fmt.Sprint(s["Action"]), "secretsmanager") {
					t.Errorf("%s: secretsmanager statement %v beyond GetSecretValue", cmd, s["Action"])
				}
				continue
			}
			reads++
			if got, _ := json.Marshal(s["Resource"]); string(got) != `{"Ref":"`+secretID+`"}` {
				t.Errorf("%s: GetSecretValue on %s, want exactly the deployment secret", cmd, got)
			}
			if fmt.Sprint(s["Action"]) != "secretsmanager:GetSecretValue" {
				t.Errorf("%s: secret statement allows %v, want GetSecretValue alone", cmd, s["Action"])
			}
		}
		if slices.Contains(deploymentSecretCommands, cmd) {
			if reads != 1 || string(ref) != `{"Ref":"`+secretID+`"}` {
				t.Errorf("%s: %d GetSecretValue statements, DEPLOYMENT_SECRET_ARN=%s; want one statement and the secret's ARN", cmd, reads, ref)
			}
		} else if reads != 0 || vars["DEPLOYMENT_SECRET_ARN"] != nil {
			t.Errorf("%s: reads the deployment secret (%d statements, env %s) but derives nothing", cmd, reads, ref)
		}
	}

	// The app client cannot write email, phone_number or their verified flags.
	for id, c := range cdktest.Resources(tpl, "AWS::Cognito::UserPoolClient") {
		write, ok := c["WriteAttributes"].([]any)
		if !ok || len(write) == 0 {
			t.Errorf("%s: no WriteAttributes: Cognito then lets the client write every standard attribute, email and phone_number included", id)
		}
		for _, a := range write {
			switch a {
			case "email", "phone_number", "email_verified", "phone_number_verified":
				t.Errorf("%s: the app client may write %v", id, a)
			}
		}
	}

	// IAM inside the table: every DynamoDB statement is on items of named prefixes only.
	for _, cmd := range commands {
		for _, s := range roles[fns[cmd].role] {
			if !strings.Contains(fmt.Sprint(s["Action"]), "dynamodb:") {
				continue
			}
			cond, _ := s["Condition"].(map[string]any)
			like, _ := cond["ForAllValues:StringLike"].(map[string]any)
			null, _ := cond["Null"].(map[string]any)
			if like["dynamodb:LeadingKeys"] == nil || null["dynamodb:LeadingKeys"] != "false" {
				t.Errorf("%s: DynamoDB statement %v not limited to item prefixes: %v", cmd, s["Action"], cond)
			}
			actions := actionList(s)
			reads := slices.ContainsFunc(actions, func(a string) bool { return a == "dynamodb:GetItem" || a == "dynamodb:Query" })
			writes := slices.ContainsFunc(actions, func(a string) bool { return !(a == "dynamodb:GetItem" || a == "dynamodb:Query") })
			if reads && writes {
				t.Errorf("%s: one statement both reads and writes (%v): reads and writes are granted separately", cmd, actions)
			}
		}
	}
	type reach struct {
		cmd, action, pk string
		want            bool
	}
	var checks []reach
	every := func(cmd string, want bool, pks ...string) {
		for _, pk := range pks {
			for _, a := range []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"} {
				checks = append(checks, reach{cmd, a, pk, want})
			}
		}
	}
	all := []string{"USER#u", "PASSKEYID#c", "PKAUTH#a", "FAILS#f", "RATE#r", "OTP#o", "SEND#s", "CONTACT#c", "MAGIC#m", "NOTIFY#n", "PASSKEY#DECOY", "OTHER#x"}
	switch name {
	case "minimal", "existing-pool":
		// No method: no function touches the table.
		for _, cmd := range commands {
			every(cmd, false, all...)
		}
	case "full":
		every("define", false, all...)
		every("presignup", false, all...)
		// The internet-facing API never reaches the lockout or code records.
		every("api", false, "FAILS#f", "OTP#o", "SEND#s", "MAGIC#m", "PASSKEY#DECOY", "OTHER#x")
		checks = append(checks,
			reach{"api", "dynamodb:PutItem", "USER#u", true},
			reach{"api", "dynamodb:DeleteItem", "PASSKEYID#c", true},
			reach{"api", "dynamodb:PutItem", "PKAUTH#a", true},
			reach{"api", "dynamodb:UpdateItem", "CONTACT#c", true},
			reach{"api", "dynamodb:UpdateItem", "RATE#r", true},
		)
		// Create reads the user's items but cannot write them (no planted credential).
		every("create", false, "FAILS#f", "PASSKEYID#c", "PKAUTH#a", "CONTACT#c", "NOTIFY#n", "PASSKEY#DECOY", "OTHER#x")
		checks = append(checks,
			reach{"create", "dynamodb:GetItem", "USER#u", true},
			reach{"create", "dynamodb:Query", "USER#u", true},
			reach{"create", "dynamodb:PutItem", "USER#u", false},
			reach{"create", "dynamodb:UpdateItem", "USER#u", false},
			reach{"create", "dynamodb:DeleteItem", "USER#u", false},
			reach{"create", "dynamodb:PutItem", "OTP#o", true},
			reach{"create", "dynamodb:GetItem", "OTP#o", true},
			reach{"create", "dynamodb:UpdateItem", "SEND#s", true},
			reach{"create", "dynamodb:UpdateItem", "RATE#r", true},
		)
		// Verify: lockout, the keys it checks and stamps, send delays reset; never code records.
		// With account_locked notifications it counts them under RATE# (UpdateItem alone).
		every("verify", false, "OTP#o", "CONTACT#c", "PASSKEY#DECOY", "OTHER#x")
		checks = append(checks,
			reach{"verify", "dynamodb:UpdateItem", "RATE#r", true},
			reach{"verify", "dynamodb:PutItem", "RATE#r", false},
			reach{"verify", "dynamodb:DeleteItem", "RATE#r", false},
			reach{"verify", "dynamodb:GetItem", "RATE#r", false},
			reach{"verify", "dynamodb:UpdateItem", "FAILS#f", true},
			reach{"verify", "dynamodb:UpdateItem", "USER#u", true},
			reach{"verify", "dynamodb:UpdateItem", "PKAUTH#a", true},
			reach{"verify", "dynamodb:UpdateItem", "SEND#s", true},
			reach{"verify", "dynamodb:GetItem", "SEND#s", false},
			reach{"verify", "dynamodb:PutItem", "PASSKEYID#c", false},
		)
	case "native":
		// Device keys through CUSTOM_AUTH: Verify and the API only.
		every("define", false, all...)
		every("create", false, all...)
		every("presignup", false, all...)
		every("api", false, "FAILS#f", "OTP#o", "SEND#s", "RATE#r", "CONTACT#c", "PKAUTH#a", "PASSKEYID#c", "MAGIC#m", "NOTIFY#n")
		every("verify", false, "OTP#o", "SEND#s", "RATE#r", "CONTACT#c", "PKAUTH#a", "PASSKEYID#c", "MAGIC#m", "NOTIFY#n")
		checks = append(checks,
			reach{"verify", "dynamodb:UpdateItem", "FAILS#f", true},
			reach{"verify", "dynamodb:GetItem", "USER#u", true},
			reach{"api", "dynamodb:PutItem", "USER#u", true},
		)
	}
	for _, c := range checks {
		if got := tableAllows(roles[fns[c.cmd].role], c.action, c.pk); got != c.want {
			t.Errorf("%s role: %s on an item with pk %q allowed=%v, want %v", c.cmd, c.action, c.pk, got, c.want)
		}
	}
	for _, cmd := range commands {
		for _, a := range []string{"dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "dynamodb:PartiQLUpdate"} {
			if tableAllows(roles[fns[cmd].role], a, "") {
				t.Errorf("%s role may %s", cmd, a)
			}
		}
	}

	// Code settings reach every function that sends codes; the old per-window limits are gone.
	for _, cmd := range commands {
		env, _ := fns[cmd].props["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if vars["SEND_LIMITS"] != nil {
			t.Errorf("%s: SEND_LIMITS is still set", cmd)
		}
		if name != "full" || cmd == "define" || cmd == "presignup" {
			continue
		}
		want := map[string]string{
			"SEND_DELAYS": "30s,90s,600s", "SEND_DAILY_CAP": "50", "SMS_UNVERIFIED_LIMITS": "3600s:10,86400s:50",
			"SMS_ALLOWED_COUNTRIES": "GB,IE,+49", "PASSKEY_ALLOW_CREDENTIALS": "none",
		}
		for k, v := range want {
			if vars[k] != v {
				t.Errorf("%s: %s=%v, want %q", cmd, k, vars[k], v)
			}
		}
	}

	// Contact changes: JWT-authorized routes when a code method is on, with exactly what they need.
	routes := map[string]bool{}
	for _, r := range cdktest.Resources(tpl, "AWS::ApiGatewayV2::Route") {
		routes[fmt.Sprint(r["RouteKey"])] = true
	}
	api := fns["api"]
	env, _ := api.props["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	updates := 0
	for _, s := range roles[api.role] {
		if allows(s, "cognito-idp:AdminUpdateUserAttributes") {
			updates++
			if ref, _ := json.Marshal(s["Resource"]); !strings.Contains(string(ref), `"PasswordlessUserPool`) || fmt.Sprint(s["Action"]) != "cognito-idp:AdminUpdateUserAttributes" {
				t.Errorf("api: %v on %s, want AdminUpdateUserAttributes on the user pool", s["Action"], ref)
			}
		}
	}
	contact := name == "full"
	for _, r := range []string{"POST /me/contact", "POST /me/contact/verify"} {
		if routes[r] != contact {
			t.Errorf("route %s present=%v, want %v", r, routes[r], contact)
		}
	}
	if contact {
		for _, k := range []string{"USER_POOL_ID", "KEY_TABLE_NAME", "DEPLOYMENT_SECRET_ARN", "EMAIL_FROM", "OTP_DIGITS"} {
			if vars[k] == nil {
				t.Errorf("api: env %s missing for the contact routes", k)
			}
		}
		if updates != 1 {
			t.Errorf("api: %d AdminUpdateUserAttributes statements, want 1", updates)
		}
		if !roleAllowsAction(roles[api.role], "ses:SendEmail") || !roleAllowsAction(roles[api.role], "sns:Publish") {
			t.Error("api: the contact routes cannot send codes (ses:SendEmail, sns:Publish)")
		}
	} else if updates != 0 || vars["USER_POOL_ID"] != nil {
		t.Errorf("api: contact permissions without a code method (%d statements, USER_POOL_ID %v)", updates, vars["USER_POOL_ID"])
	}
}

type function struct {
	id, role string
	props    map[string]any
}

// functionsByCommand maps each command to its function and the logical ID of its role.
func functionsByCommand(t *testing.T, tpl map[string]any) map[string]function {
	t.Helper()
	out := map[string]function{}
	for id, f := range cdktest.Resources(tpl, "AWS::Lambda::Function") {
		cmd := strings.TrimPrefix(fmt.Sprint(f["Description"]), "passwordless ")
		out[cmd] = function{id: id, role: getAttTarget(f["Role"]), props: f}
	}
	for _, cmd := range commands {
		if out[cmd].role == "" {
			t.Fatalf("no function (or role) for %s", cmd)
		}
	}
	return out
}

// roleStatements gathers every statement of every policy attached to each role (inline policies
// and AWS::IAM::Policy resources naming the role).
func roleStatements(tpl map[string]any) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for id, r := range cdktest.Resources(tpl, "AWS::IAM::Role") {
		ps, _ := r["Policies"].([]any)
		for _, p := range ps {
			m, _ := p.(map[string]any)
			out[id] = append(out[id], statements(map[string]any{"PolicyDocument": m["PolicyDocument"]})...)
		}
	}
	for _, p := range cdktest.Resources(tpl, "AWS::IAM::Policy") {
		roles, _ := p["Roles"].([]any)
		for _, r := range roles {
			m, _ := r.(map[string]any)
			id, _ := m["Ref"].(string)
			out[id] = append(out[id], statements(p)...)
		}
	}
	return out
}

func actionList(s map[string]any) []string {
	switch a := s["Action"].(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, 0, len(a))
		for _, x := range a {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// allows reports whether statement s is an Allow naming action (or a wildcard covering it).
func allows(s map[string]any, action string) bool {
	if s["Effect"] != "Allow" {
		return false
	}
	for _, a := range actionList(s) {
		if like(a, action) {
			return true
		}
	}
	return false
}

func roleAllowsAction(stmts []map[string]any, action string) bool {
	return slices.ContainsFunc(stmts, func(s map[string]any) bool { return allows(s, action) })
}

// tableAllows reports whether any statement lets action reach an item of the key table whose
// partition key is pk ("" for a request without one, such as a Scan). It errs towards "allowed":
// a statement is honoured only through the two conditions the construct writes; any other
// condition is ignored (assumed true).
func tableAllows(stmts []map[string]any, action, pk string) bool {
	for _, s := range stmts {
		if !allows(s, action) {
			continue
		}
		res, _ := json.Marshal(s["Resource"])
		if !strings.Contains(string(res), "KeyTable") && !strings.Contains(string(res), `"*"`) {
			continue
		}
		cond, _ := s["Condition"].(map[string]any)
		if null, _ := cond["Null"].(map[string]any); null["dynamodb:LeadingKeys"] == "false" && pk == "" {
			continue
		}
		lk, _ := cond["ForAllValues:StringLike"].(map[string]any)
		patterns, ok := lk["dynamodb:LeadingKeys"].([]any)
		if p, isString := lk["dynamodb:LeadingKeys"].(string); isString {
			patterns, ok = []any{p}, true
		}
		if !ok || pk == "" {
			return true // unconditioned, or ForAllValues over no key at all
		}
		for _, p := range patterns {
			if like(fmt.Sprint(p), pk) {
				return true
			}
		}
	}
	return false
}

// like is IAM's StringLike: * matches any run of characters, ? any one character.
func like(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if like(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && like(pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && like(pattern[1:], s[1:])
}

func deletionPolicy(tpl map[string]any, id string) string {
	res, _ := tpl["Resources"].(map[string]any)
	r, _ := res[id].(map[string]any)
	s, _ := r["DeletionPolicy"].(string)
	return s
}

func TestLike(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"USER#*", "USER#abc", true}, {"USER#*", "USER#", true}, {"USER#*", "FAILS#x", false},
		{"*", "", true}, {"dynamodb:*", "dynamodb:GetItem", true}, {"O?P#*", "OTP#1", true}, {"OTP#*", "OTP", false},
	} {
		if got := like(c.p, c.s); got != c.want {
			t.Errorf("like(%q, %q) = %v", c.p, c.s, got)
		}
	}
}
