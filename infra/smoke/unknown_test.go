package smoke

import (
	"bytes"
	"strings"
	"testing"
)

// realProbe is what a real user's sign-in with wrong codes shows in an alias pool.
func realProbe() *probe {
	return &probe{
		typed: "smoke-1a2b@example.com",
		round1: map[string]string{"USERNAME": "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f", "kind": "NONCE",
			"methods": "email_otp,sms_otp,device_key", "nonce": strings.Repeat("n", 43)},
		round2: map[string]string{"USERNAME": "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f", "kind": "CODE",
			"methods": "email_otp,sms_otp,device_key", "deliveryMedium": "EMAIL", "destination": "s***@e***.com",
			"codeStatus": "sent", "resendAfter": "60"},
		later: []string{"codeStatus=kept keys=USERNAME,codeStatus,deliveryMedium,destination,kind,methods,resendAfter",
			"codeStatus=kept keys=USERNAME,codeStatus,deliveryMedium,destination,kind,methods,resendAfter"},
		final: "NotAuthorizedException: Incorrect username or password.",
		sent:  1,
	}
}

// ghostProbe is the same for an unknown address as the toolkit answers it, with the USERNAME
// Cognito showed in aws/aws-sdk-go issue 3134 (version 3).
func ghostProbe() *probe {
	g := realProbe()
	g.typed = "nobody-0011aabbccdd@example.com"
	g.round1 = clone(g.round1)
	g.round2 = clone(g.round2)
	g.round1["USERNAME"] = "03670b97-8dee-3875-8242-1f853290f0cc"
	g.round2["USERNAME"] = g.round1["USERNAME"]
	g.round2["destination"] = "n***@e***.com"
	g.sent = 0
	return g
}

func clone(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// The version digit of USERNAME is Cognito's: a warning, not a failure; identical answers give
// neither.
func TestCompareUsernameVersionWarns(t *testing.T) {
	warn, fails := compareProbes(realProbe(), ghostProbe())
	if len(fails) != 0 {
		t.Fatalf("fails %v", fails)
	}
	for _, want := range []string{"leaks which addresses have an account", "a version-4 UUID for a real user", "a version-3 UUID for an unknown address", "03670b97-8dee-3875-8242-1f853290f0cc", "the toolkit cannot change it"} {
		if !strings.Contains(warn, want) {
			t.Errorf("warning %q lacks %q", warn, want)
		}
	}
	g := ghostProbe()
	g.round1["USERNAME"] = "5d1c2d3e-4b5a-4c6d-9e7f-0a1b2c3d4e5f"
	if warn, fails := compareProbes(realProbe(), g); warn != "" || len(fails) != 0 {
		t.Fatalf("matching answers: warn %q fails %v", warn, fails)
	}
}

// Every difference the toolkit controls fails the check.
func TestCompareFailsForToolkitDifferences(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		edit       func(g *probe)
	}{
		{"extra key in round 1", "round 1 parameter keys differ", func(g *probe) { g.round1["userExists"] = "false" }},
		{"missing key in round 2", "round 2 (email_otp) parameter keys differ", func(g *probe) { delete(g.round2, "resendAfter") }},
		{"methods", "round 1 methods differs", func(g *probe) { g.round1["methods"] = "email_otp" }},
		{"nonce length", "nonce length differs", func(g *probe) { g.round1["nonce"] = "short" }},
		{"placeholder destination", "does not follow from the address typed", func(g *probe) { g.round2["destination"] = "k***@q***.com" }},
		{"destination shape", "masked destination shape differs", func(g *probe) { g.round2["destination"] = "n***@e***" }},
		{"phone-shaped destination", "masked destination shape differs", func(g *probe) { g.round2["destination"] = "+44*******123" }},
		{"codeStatus", "codeStatus differs", func(g *probe) { g.round2["codeStatus"] = "wait" }},
		{"resendAfter", "resendAfter differs", func(g *probe) { g.round2["resendAfter"] = "0" }},
		{"medium", "deliveryMedium differs", func(g *probe) { g.round2["deliveryMedium"] = "SMS" }},
		{"fewer rounds", "rounds after a wrong code differ", func(g *probe) { g.later = g.later[:1] }},
		{"final error", "the sign-ins end differently", func(g *probe) { g.final = "NotAuthorizedException: User does not exist." }},
		{"user not found", "PreventUserExistenceErrors is off", func(g *probe) {
			*g = probe{typed: g.typed, initErr: "UserNotFoundException: User does not exist.", final: "UserNotFoundException: User does not exist."}
		}},
		{"choose fails", "choosing email_otp for the unknown address failed", func(g *probe) {
			g.chooseErr, g.round2, g.later, g.final = "UserLambdaValidationException: x", nil, nil, "UserLambdaValidationException: x"
		}},
		{"tokens", "the unknown address received tokens", func(g *probe) { g.final = "tokens" }},
		{"code sent", "1 message(s) sent to the unknown address", func(g *probe) { g.sent = 1 }},
		{"passkey options structure", "passkeyOptions differs in structure", nil},
	} {
		r, g := realProbe(), ghostProbe()
		if tc.edit == nil { // a JSON parameter: same keys pass, other keys fail
			r.round1["passkeyOptions"] = `{"challenge":"a","allowCredentials":[{"id":"x"}],"rpId":"example.com"}`
			g.round1["passkeyOptions"] = `{"challenge":"b","allowCredentials":[],"rpId":"example.com"}`
			if _, fails := compareProbes(r, g); len(fails) != 0 {
				t.Fatalf("same JSON keys: %v", fails)
			}
			g.round1["passkeyOptions"] = `{"challenge":"b","rpId":"example.com"}`
		} else {
			tc.edit(g)
		}
		_, fails := compareProbes(r, g)
		if !strings.Contains(strings.Join(fails, "; "), tc.want) {
			t.Errorf("%s: fails %v, want one containing %q", tc.name, fails, tc.want)
		}
	}
	// The real user's own failure is reported as such, not blamed on the unknown address.
	r := realProbe()
	r.initErr = "NotAuthorizedException: Incorrect username or password."
	if _, fails := compareProbes(r, ghostProbe()); len(fails) != 1 || !strings.Contains(fails[0], "real user's InitiateAuth failed") {
		t.Errorf("real user refused: %v", fails)
	}
	r = realProbe()
	r.final = "tokens"
	if _, fails := compareProbes(r, ghostProbe()); len(fails) != 1 || !strings.Contains(fails[0], "run again") {
		t.Errorf("real user guessed in: %v", fails)
	}
}

func TestNameKind(t *testing.T) {
	for _, tc := range []struct{ name, typed, want string }{
		{"03670b97-8dee-3875-8242-1f853290f0cc", "+9172006", "version-3 UUID"},
		{"9F1C2D3E-4B5A-4C6D-8E7F-0A1B2C3D4E5F", "a@example.com", "version-4 UUID"},
		{"Alice@Example.com", "alice@example.com", "the name typed"},
		{"alice", "alice@example.com", "another string"},
		{"", "a@example.com", "empty"},
		{"03670b97-8dee-3875-c242-1f853290f0cc", "x", "another string"}, // not the RFC 4122 variant
	} {
		if got := nameKind(tc.name, tc.typed); got != tc.want {
			t.Errorf("nameKind(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestMaskFollows(t *testing.T) {
	for _, tc := range []struct {
		dest, typed string
		want        bool
	}{
		{"s***@e***.com", "smoke-1@example.com", true},
		{"s***@e***.com", "Smoke-1@Example.COM", true},
		{"s***@e***", "smoke-1@example.internal-tld-too-long-to-show", true},
		{"s***@m***.co.uk", "s@mail.co.uk", true},
		{"k***@q***.com", "smoke-1@example.com", false},
		{"s***@e***.org", "smoke-1@example.com", false},
		{"s***@e***com", "smoke-1@example.com", false},
		{"sm***@e***.com", "smoke-1@example.com", false},
		{"+44*******123", "smoke-1@example.com", false},
		{"s***@e***.com", "not-an-address", false},
	} {
		if got := maskFollows(tc.dest, tc.typed); got != tc.want {
			t.Errorf("maskFollows(%q, %q) = %v", tc.dest, tc.typed, got)
		}
	}
	if maskShape("s***@e***.com") != maskShape("n***@e***.com") || maskShape("s***@e***.com") == maskShape("s***@e***.co.uk") {
		t.Error("maskShape")
	}
}

func TestUnknownAddress(t *testing.T) {
	a, b := unknownAddress("you@corp.example"), unknownAddress("you@corp.example")
	if a == b || !strings.HasSuffix(a, "@corp.example") || !strings.HasPrefix(a, "nobody-") || len(a) != len("nobody-@corp.example")+24 {
		t.Fatalf("%q, %q", a, b)
	}
	if !strings.HasSuffix(unknownAddress("no-at-sign"), "@example.com") {
		t.Fatal("default domain")
	}
}

func TestPrintWarning(t *testing.T) {
	var b bytes.Buffer
	printWarning(&b, strings.Repeat("word ", 50))
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "WARN word") || !strings.HasPrefix(lines[1], "     word") {
		t.Fatalf("%q", b.String())
	}
	for _, l := range lines {
		if len(l) > 100 {
			t.Errorf("line of %d characters", len(l))
		}
	}
	b.Reset()
	printWarning(&b, "")
	if b.Len() != 0 {
		t.Error("empty warning printed")
	}
}
