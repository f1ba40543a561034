//go:build unix

package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/passwordless-go/cognito/infra/local/idp"
	"github.com/passwordless-go/cognito/infra/local/signin"
)

// callCounts is what one sign-in cost, as deltas of the harness's counters.
type callCounts struct {
	// Triggers are trigger invocations by trigger (idp.Stats.Invocations), retries included.
	Triggers map[string]int
	// Cognito are the app's Cognito API calls by operation (idp.Stats.Calls minus the calls the
	// functions made through awsmock).
	Cognito map[string]int
	// Dynamo are DynamoDB calls by operation (awsmock "dynamodb.*").
	Dynamo map[string]int
	// Other are the functions' other AWS calls ("ses.SendEmail", "cognito.AdminUpdateUserAttributes", ...).
	Other map[string]int
	// Secrets are Secrets Manager calls (the deployment secret): once per function instance and
	// hour, not per sign-in, so they are reported apart and not compared (which instance serves a
	// sign-in is not fixed).
	Secrets int
	// Messages is how many emails and SMS were captured.
	Messages int
	// Retries and Failures of triggers (idp.Stats), summed over triggers.
	Retries, Failures int
}

func (c callCounts) triggerTotal() int { return callSum(c.Triggers) }
func (c callCounts) cognitoTotal() int { return callSum(c.Cognito) }

// dynamoReads and dynamoWrites split Dynamo by operation kind; anything else is counted apart.
func (c callCounts) dynamoReads() int {
	return c.Dynamo["GetItem"] + c.Dynamo["Query"] + c.Dynamo["Scan"] + c.Dynamo["BatchGetItem"] + c.Dynamo["TransactGetItems"]
}

func (c callCounts) dynamoWrites() int {
	return c.Dynamo["PutItem"] + c.Dynamo["UpdateItem"] + c.Dynamo["DeleteItem"] + c.Dynamo["BatchWriteItem"] + c.Dynamo["TransactWriteItems"]
}

func callSum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// callDiff returns after-before, without zero entries.
func callDiff(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	for k, v := range before {
		if _, ok := after[k]; !ok && v != 0 {
			out[k] = -v
		}
	}
	return out
}

// fmtCounts renders m as "a 1, b 2" in key order ("-" when empty).
func fmtCounts(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// counterSnapshot is the harness's counters at one moment.
type counterSnapshot struct {
	idp      idp.Stats
	aws      map[string]int
	messages int
}

func snapshotCounters() counterSnapshot {
	return counterSnapshot{idp: H.IdP.Stats(), aws: H.AWS.Calls(), messages: len(H.AWS.Messages())}
}

// quiesce waits until the counters stop moving for 250 ms (at most 5 s), so that nothing of the
// set-up is counted in the measured sign-in and nothing of the sign-in is missed.
func quiesce(t testing.TB) counterSnapshot {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	last := snapshotCounters()
	for {
		time.Sleep(250 * time.Millisecond)
		cur := snapshotCounters()
		if maps.Equal(cur.aws, last.aws) && maps.Equal(cur.idp.Invocations, last.idp.Invocations) &&
			maps.Equal(cur.idp.Calls, last.idp.Calls) && cur.messages == last.messages {
			return cur
		}
		if time.Now().After(deadline) {
			t.Fatalf("the harness's counters did not settle within 5 s")
		}
		last = cur
	}
}

// callStep is one client call of a sign-in (or a few that belong together), measured on its own.
type callStep struct {
	name string
	run  func(ctx context.Context)
}

// stepCounts are the counts of one step.
type stepCounts struct {
	name string
	callCounts
}

// measureCalls runs the steps of one sign-in (which must succeed), each between two settled
// snapshots, and returns the totals and each step's counts.
func measureCalls(t *testing.T, steps ...callStep) (callCounts, []stepCounts) {
	t.Helper()
	ctx := ctxT(t, 30*time.Second)
	first := quiesce(t)
	before := first
	var per []stepCounts
	for _, s := range steps {
		s.run(ctx)
		after := quiesce(t)
		per = append(per, stepCounts{s.name, countsBetween(before, after)})
		before = after
	}
	return countsBetween(first, before), per
}

func countsBetween(before, after counterSnapshot) callCounts {
	awsCalls := callDiff(before.aws, after.aws)
	c := callCounts{
		Triggers: callDiff(before.idp.Invocations, after.idp.Invocations),
		Cognito:  callDiff(before.idp.Calls, after.idp.Calls),
		Dynamo:   map[string]int{},
		Other:    map[string]int{},
		Messages: after.messages - before.messages,
		Retries:  callSum(after.idp.Retries) - callSum(before.idp.Retries),
		Failures: callSum(after.idp.Failures) - callSum(before.idp.Failures),
	}
	for k, v := range awsCalls {
		if op, ok := strings.CutPrefix(k, "dynamodb."); ok {
			c.Dynamo[op] = v
			continue
		}
		if strings.HasPrefix(k, "secretsmanager.") {
			c.Secrets += v
			continue
		}
		c.Other[k] = v
		// The functions' Cognito calls reach the pool through awsmock: not the app's.
		if op, ok := strings.CutPrefix(k, "cognito."); ok {
			if c.Cognito[op] -= v; c.Cognito[op] == 0 {
				delete(c.Cognito, op)
			}
		}
	}
	return c
}

// Measured calls per successful sign-in (fresh user, after sign-up; device key registered before).
// These are exact: a change in either direction fails TestCallsPerSignIn so that it is seen (and
// this table updated on purpose).
var wantCalls = map[string]callCounts{
	"device_key": {
		Triggers: map[string]int{idp.TriggerDefine: 2, idp.TriggerCreate: 1, idp.TriggerVerify: 1},
		Cognito:  map[string]int{"InitiateAuth": 1, "RespondToAuthChallenge": 1},
		// Verify: GetItem 1, UpdateItem 2 (the key, its last use, the success hook's send-delay
		// reset); key answers take no lockout slot.
		Dynamo: map[string]int{"GetItem": 1, "UpdateItem": 2},
		// events.PutEvents: Verify's audit event (sign_in.succeeded), after its answer.
		Other: map[string]int{"events.PutEvents": 1},
	},
	"email_otp": {
		Triggers: map[string]int{idp.TriggerDefine: 3, idp.TriggerCreate: 2, idp.TriggerVerify: 2},
		Cognito:  map[string]int{"InitiateAuth": 1, "RespondToAuthChallenge": 2},
		// Create (choosing the method): GetItem 2, PutItem 2 (send schedule, code record);
		// Verify (the code): UpdateItem 3 (attempt slot reserved and given back, send reset).
		Dynamo: map[string]int{"GetItem": 2, "PutItem": 2, "UpdateItem": 3},
		// AdminUpdateUserAttributes: the first code sign-in writes the address with its verified flag.
		// events.PutEvents: the audit event of the accepted code (Verify).
		Other:    map[string]int{"ses.SendEmail": 1, "cognito.AdminUpdateUserAttributes": 1, "events.PutEvents": 1},
		Messages: 1,
	},
	"sms_otp": {
		Triggers: map[string]int{idp.TriggerDefine: 3, idp.TriggerCreate: 2, idp.TriggerVerify: 2},
		Cognito:  map[string]int{"InitiateAuth": 1, "RespondToAuthChallenge": 2},
		// As email_otp, plus TransactWriteItems 1 in Create: the deployment-wide budget of SMS to
		// numbers not yet verified.
		Dynamo: map[string]int{"GetItem": 2, "PutItem": 2, "TransactWriteItems": 1, "UpdateItem": 3},
		// AdminUpdateUserAttributes: the first code sign-in writes the number with its verified flag.
		Other:    map[string]int{"sns.Publish": 1, "cognito.AdminUpdateUserAttributes": 1, "events.PutEvents": 1},
		Messages: 1,
	},
}

// callTarget is an issue's target for one method: reported as met or missed, never failed.
type callTarget struct {
	triggers, cognito       int // exact
	maxTriggers             int // upper bound when triggers is 0
	maxReads, maxWrites     int // -1: no target
	messages                int
	triggersText, dynamoTxt string
}

var callTargets = map[string]callTarget{
	"device_key": {triggers: 4, cognito: 2, maxReads: 1, maxWrites: 2, messages: 0, triggersText: "4", dynamoTxt: "<= 1 read, <= 2 writes"},
	"email_otp":  {maxTriggers: 7, cognito: 3, maxReads: -1, maxWrites: -1, messages: 1, triggersText: "<= 7", dynamoTxt: "-"},
	"sms_otp":    {maxTriggers: 7, cognito: 3, maxReads: -1, maxWrites: -1, messages: 1, triggersText: "<= 7", dynamoTxt: "-"},
}

func (tg callTarget) check(c callCounts) (met bool, why []string) {
	if tg.triggers > 0 && c.triggerTotal() != tg.triggers {
		why = append(why, fmt.Sprintf("%d trigger invocations, target %d", c.triggerTotal(), tg.triggers))
	}
	if tg.maxTriggers > 0 && c.triggerTotal() > tg.maxTriggers {
		why = append(why, fmt.Sprintf("%d trigger invocations, target <= %d", c.triggerTotal(), tg.maxTriggers))
	}
	if c.cognitoTotal() != tg.cognito {
		why = append(why, fmt.Sprintf("%d Cognito calls, target %d", c.cognitoTotal(), tg.cognito))
	}
	if tg.maxReads >= 0 && c.dynamoReads() > tg.maxReads {
		why = append(why, fmt.Sprintf("%d DynamoDB reads (%s), target <= %d", c.dynamoReads(), fmtCounts(c.Dynamo), tg.maxReads))
	}
	if tg.maxWrites >= 0 && c.dynamoWrites() > tg.maxWrites {
		why = append(why, fmt.Sprintf("%d DynamoDB writes (%s), target <= %d", c.dynamoWrites(), fmtCounts(c.Dynamo), tg.maxWrites))
	}
	if c.Messages != tg.messages {
		why = append(why, fmt.Sprintf("%d messages, target %d", c.Messages, tg.messages))
	}
	return len(why) == 0, why
}

// TestCallsPerSignIn measures what one complete, successful sign-in costs per method, for a fresh
// user each (the sign-up, and for the device key the enrolment, are not counted): trigger
// invocations per trigger, the app's Cognito calls, DynamoDB calls per operation, other AWS calls
// and messages sent. It fails when any count differs from wantCalls (a regression guard in both
// directions), when any KMS or unrecognised AWS call happens, when a trigger fails or is retried,
// or when a code sign-in does not send exactly one message (a key sign-in: none). The issue's
// targets are reported as met or missed without failing.
func TestCallsPerSignIn(t *testing.T) {
	need(t)
	got := map[string]callCounts{}

	per := map[string][]stepCounts{}

	// (a) Device key: P-256, registered through POST /device-keys after a code sign-in.
	ku := newEmailUser(t, "calls-key")
	k := enrol(t, ku, newP256)
	var r *round
	got["device_key"], per["device_key"] = measureCalls(t,
		callStep{"InitiateAuth", func(ctx context.Context) { r = keyRound(t, ctx, ku.email) }},
		callStep{"RespondToAuthChallenge (signature)", func(ctx context.Context) {
			out, err := app.Respond(ctx, r.session, r.username, answerFor(t, k.priv, k.id, r.username, r.params["nonce"]), method("device_key"))
			if err != nil || !signin.Tokens(out) {
				t.Fatalf("device-key sign-in: tokens=%v err=%v", signin.Tokens(out), err)
			}
		}})

	// (b) Email code and (c) SMS code: the first sign-in of a fresh user.
	for _, m := range []string{"email_otp", "sms_otp"} {
		var u *user
		if m == "email_otp" {
			u = newEmailUser(t, "calls-email")
		} else {
			u = newPhoneUser(t)
		}
		var init *cip.InitiateAuthOutput
		var r *round
		got[m], per[m] = measureCalls(t,
			callStep{"InitiateAuth", func(ctx context.Context) {
				var err error
				if init, err = app.Initiate(ctx, u.name()); err != nil || init.ChallengeParameters["kind"] != "NONCE" {
					t.Fatalf("InitiateAuth %s: %v", u.name(), err)
				}
			}},
			callStep{"RespondToAuthChallenge (choose " + m + ")", func(ctx context.Context) {
				r = &round{session: init.Session, username: init.ChallengeParameters["USERNAME"]}
				sel, err := app.Respond(ctx, r.session, r.username, m, method(m))
				if err != nil || signin.Tokens(sel) || sel.ChallengeParameters["kind"] != "CODE" {
					t.Fatalf("choose %s: want a CODE challenge, got tokens=%v err=%v", m, signin.Tokens(sel), err)
				}
				r.next(sel)
			}},
			callStep{"RespondToAuthChallenge (code)", func(ctx context.Context) {
				out, err := app.Respond(ctx, r.session, r.username, codeN(t, recipient(u, m), 1), method(m))
				if err != nil || !signin.Tokens(out) {
					t.Fatalf("%s sign-in: tokens=%v err=%v", m, signin.Tokens(out), err)
				}
			}})
	}

	methods := []string{"device_key", "email_otp", "sms_otp"}
	var b strings.Builder
	b.WriteString("\n| method | trigger invocations | Cognito calls (app) | DynamoDB calls | other AWS calls | messages |\n| --- | --- | --- | --- | --- | ---: |\n")
	for _, m := range methods {
		c := got[m]
		fmt.Fprintf(&b, "| %s | %d: %s | %d: %s | %d (%d reads, %d writes): %s | %s | %d |\n", m,
			c.triggerTotal(), fmtCounts(c.Triggers), c.cognitoTotal(), fmtCounts(c.Cognito),
			callSum(c.Dynamo), c.dynamoReads(), c.dynamoWrites(), fmtCounts(c.Dynamo), fmtCounts(c.Other), c.Messages)
	}
	b.WriteString("\nBy client call (Define makes no AWS call, so the DynamoDB calls of a step are its Create's or its Verify's):\n\n| method | client call | triggers | DynamoDB calls | other AWS calls |\n| --- | --- | --- | --- | --- |\n")
	for _, m := range methods {
		for _, s := range per[m] {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", m, s.name, fmtCounts(s.Triggers), fmtCounts(s.Dynamo), fmtCounts(s.Other))
		}
	}
	b.WriteString("\n| method | target | verdict |\n| --- | --- | --- |\n")
	for _, m := range methods {
		tg := callTargets[m]
		met, why := tg.check(got[m])
		verdict := "met"
		if !met {
			verdict = "**missed**: " + strings.Join(why, "; ")
		}
		fmt.Fprintf(&b, "| %s | %s invocations, %d Cognito calls, DynamoDB %s, %d message(s) | %s |\n", m, tg.triggersText, tg.cognito, tg.dynamoTxt, tg.messages, verdict)
	}
	for _, m := range methods {
		if n := got[m].Secrets; n > 0 {
			fmt.Fprintf(&b, "\n%s: %d Secrets Manager call(s) (a cold instance reading the deployment secret; not per sign-in)\n", m, n)
		}
	}
	t.Logf("calls per successful sign-in:\n%s", b.String())

	for _, m := range methods {
		c, want := got[m], wantCalls[m]
		for k := range c.Other {
			if strings.HasPrefix(k, "kms.") || k == "unknown" {
				t.Errorf("%s: unexpected AWS call %s (%d)", m, k, c.Other[k])
			}
		}
		if c.Retries != 0 || c.Failures != 0 {
			t.Errorf("%s: %d trigger retries, %d trigger failures, want none", m, c.Retries, c.Failures)
		}
		wantMsgs := 1
		if m == "device_key" {
			wantMsgs = 0
		}
		if c.Messages != wantMsgs {
			t.Errorf("%s: %d messages sent, want %d", m, c.Messages, wantMsgs)
		}
		for _, part := range []struct {
			what      string
			got, want map[string]int
		}{
			{"trigger invocations", c.Triggers, want.Triggers},
			{"Cognito calls", c.Cognito, want.Cognito},
			{"DynamoDB calls", c.Dynamo, want.Dynamo},
			{"other AWS calls", c.Other, want.Other},
		} {
			if !maps.Equal(part.got, part.want) {
				t.Errorf("%s: %s changed: got %s, measured before %s (update wantCalls if intended)", m, part.what, fmtCounts(part.got), fmtCounts(part.want))
			}
		}
		if c.Messages != want.Messages {
			t.Errorf("%s: messages changed: got %d, measured before %d", m, c.Messages, want.Messages)
		}
	}
}
