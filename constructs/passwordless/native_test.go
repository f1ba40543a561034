package passwordless_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/constructs/cdktest"
	"github.com/passwordless-go/cognito/lambdas/metrics"
)

// Issue 10, attack 16 (native mode and passwords). Cognito requires PASSWORD among native mode's
// first factors and the sign-up password is the client's: an attacker who signs up first with the
// victim's address and a password they know would keep a password way into the account once the
// victim confirms it with the code Cognito emailed them. Native mode therefore wires a
// PostConfirmation trigger (command postconfirm) that replaces the password with a random one
// nobody knows and signs the user out everywhere, with exactly those two Cognito actions on the
// pool and nothing else; custom mode (no password factor, no USER_AUTH) has no such function.

// postConfirmActions are the only actions the postconfirm role may have besides its log group.
var postConfirmActions = []string{"cognito-idp:AdminSetUserPassword", "cognito-idp:AdminUserGlobalSignOut"}

// checkNativePassword asserts the PostConfirmation trigger of one prop set's template.
func checkNativePassword(t *testing.T, name string, tpl map[string]any) {
	t.Helper()
	functions := cdktest.Resources(tpl, "AWS::Lambda::Function")
	var fnID string
	for id, f := range functions {
		if f["Description"] == "passwordless postconfirm" {
			if fnID != "" {
				t.Errorf("two postconfirm functions: %s and %s", fnID, id)
			}
			fnID = id
		}
	}
	var poolID string
	var lambdaConfig map[string]any
	for id, p := range cdktest.Resources(tpl, "AWS::Cognito::UserPool") {
		if strings.HasPrefix(id, "PasswordlessUserPool") || len(cdktest.Resources(tpl, "AWS::Cognito::UserPool")) == 1 {
			poolID = id
			lambdaConfig, _ = p["LambdaConfig"].(map[string]any)
		}
	}
	roles := roleStatements(tpl)
	for role, stmts := range roles {
		for _, a := range postConfirmActions {
			if roleAllowsAction(stmts, a) && (name != "native" || role != getAttTarget(functions[fnID]["Role"])) {
				t.Errorf("role %s may %s", role, a)
			}
		}
	}
	if name != "native" {
		if fnID != "" || lambdaConfig["PostConfirmation"] != nil {
			t.Errorf("%s (custom mode): postconfirm function %q, PostConfirmation trigger %v; want neither", name, fnID, lambdaConfig["PostConfirmation"])
		}
		return
	}
	if fnID == "" {
		t.Fatal("native mode has no postconfirm function: the sign-up password stays a way into the account")
	}
	if got := getAttTarget(lambdaConfig["PostConfirmation"]); got != fnID {
		t.Errorf("PostConfirmation trigger of %s is %v, want the postconfirm function %s", poolID, lambdaConfig["PostConfirmation"], fnID)
	}
	fn := functions[fnID]
	if to, _ := fn["Timeout"].(float64); to != 4 {
		t.Errorf("postconfirm timeout %v, want 4 s (under Cognito's 5 s)", fn["Timeout"])
	}
	env, _ := fn["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	for k := range vars {
		// METRICS_NAMESPACE (issue 13): every function writes metrics, nothing secret.
		if k != "LOG_LEVEL" && k != metrics.EnvNamespace {
			t.Errorf("postconfirm env %s: it needs nothing but the event (no table, no secret, no pool ID)", k)
		}
	}

	role := getAttTarget(fn["Role"])
	var cognito []map[string]any
	for _, s := range roles[role] {
		actions := actionList(s)
		if slices.ContainsFunc(actions, func(a string) bool { return strings.HasPrefix(a, "logs:") }) {
			continue // its own log group (checked for every function by the invariants)
		}
		if !slices.ContainsFunc(actions, func(a string) bool { return strings.HasPrefix(a, "cognito-idp:") }) {
			t.Errorf("postconfirm role: statement %v beyond Cognito and its logs", actions)
			continue
		}
		cognito = append(cognito, s)
	}
	if len(cognito) != 1 {
		t.Fatalf("postconfirm role: %d Cognito statements, want 1", len(cognito))
	}
	s := cognito[0]
	actions := actionList(s)
	slices.Sort(actions)
	if s["Effect"] != "Allow" || !slices.Equal(actions, postConfirmActions) || s["Condition"] != nil {
		t.Errorf("postconfirm statement %v %v %v, want Allow %v", s["Effect"], actions, s["Condition"], postConfirmActions)
	}
	if res, _ := json.Marshal(s["Resource"]); string(res) != `{"Fn::GetAtt":["`+poolID+`","Arn"]}` {
		t.Errorf("postconfirm statement on %s, want exactly the user pool %s", res, poolID)
	}

	// The statement is in a policy of its own that the function does not depend on: the pool
	// depends on the function (trigger), so a policy naming the pool that the function waited
	// for would be a circular dependency.
	for id, p := range cdktest.Resources(tpl, "AWS::IAM::Policy") {
		mentions := false
		for _, st := range statements(p) {
			mentions = mentions || slices.Contains(actionList(st), postConfirmActions[0])
		}
		if !mentions {
			continue
		}
		if strings.Contains(id, "DefaultPolicy") {
			t.Errorf("postconfirm's Cognito statement is in the role's default policy %s", id)
		}
		res, _ := tpl["Resources"].(map[string]any)
		r, _ := res[fnID].(map[string]any)
		if deps := fmt.Sprint(r["DependsOn"]); strings.Contains(deps, id) {
			t.Errorf("postconfirm function depends on %s, which names the pool (circular)", id)
		}
	}
}

// TestNativeModeOnly pins that the PostConfirmation trigger exists in native mode only (every
// prop set runs checkNativePassword through checkInvariants; this names the two cases).
func TestNativeModeOnly(t *testing.T) {
	for _, name := range []string{"minimal", "native"} {
		i := slices.IndexFunc(propSets, func(ps propSet) bool { return ps.name == name })
		t.Run(name, func(t *testing.T) {
			tpl, _ := synthSet(t, propSets[i])
			checkNativePassword(t, name, tpl)
		})
	}
}
