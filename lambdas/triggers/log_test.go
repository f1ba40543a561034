package triggers_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/internal/testkit"
	"github.com/passwordless-go/cognito/lambdas/signup"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

func TestLogsHoldNoSecretsOrPII(t *testing.T) {
	var buf testkit.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	const (
		user   = "alice.liddell@example.com"
		email  = "alice.liddell@example.com"
		phone  = "+447700900123"
		answer = "S3cr3t-Answer-Zq9"
		code   = "482913"
		secret = "codehash-9f8e7d6c5b4a"
	)
	personal := map[string]string{"sub": userSub, "email": email, "phone_number": phone}

	define := &triggers.Define{Config: allCfg, Log: log}
	issuer := &fakeIssuer{out: triggers.Issued{Public: map[string]string{"destination": "a***@e***"}, Private: map[string]string{"codeHash": secret}}}
	create := &triggers.Create{Keys: testKeys, Config: allCfg, Log: log, Issuers: map[authflow.Method]triggers.CodeIssuer{authflow.EmailOTP: issuer}}

	var nonces []string
	for _, notFound := range []bool{false, true} {
		// Round 1: Define, then Create draws a nonce.
		dev := defineEvent(nil, nil, notFound)
		dev.UserName = user
		if _, err := define.Handle(ctx, dev); err != nil {
			t.Fatal(err)
		}
		cev := createEvent(nil, nil, notFound)
		cev.UserName, cev.Request.UserAttributes = user, personal
		out, err := create.Handle(ctx, cev)
		if err != nil {
			t.Fatal(err)
		}
		nonce := out.Response.PublicChallengeParameters["nonce"]
		nonces = append(nonces, nonce)
		// A retry round and a code round.
		meta := out.Response.ChallengeMetadata
		for _, m := range []map[string]string{cm(authflow.DeviceKey, ""), cm(authflow.EmailOTP, "")} {
			cev := createEvent(sess(rnd(meta, false)), m, notFound)
			cev.UserName, cev.Request.UserAttributes = user, personal
			o, err := create.Handle(ctx, cev)
			if err != nil {
				t.Fatal(err)
			}
			if n := o.Response.PublicChallengeParameters["nonce"]; n != "" {
				nonces = append(nonces, n)
			}
		}

		// Verify: right, wrong, locked, failing checker, non-attempts.
		for _, tc := range []struct {
			checker *fakeChecker
			counter *fakeCounter
			private map[string]string
			answer  any
			meta    map[string]string
		}{
			{&fakeChecker{ok: true}, nil, out.Response.PrivateChallengeParameters, answer, cm(authflow.DeviceKey, "")},
			{&fakeChecker{ok: false}, &fakeCounter{}, out.Response.PrivateChallengeParameters, answer, cm(authflow.DeviceKey, "")},
			{&fakeChecker{ok: true}, &fakeCounter{locked: true}, out.Response.PrivateChallengeParameters, answer, cm(authflow.DeviceKey, "")},
			{&fakeChecker{err: errBoom}, nil, out.Response.PrivateChallengeParameters, answer, cm(authflow.DeviceKey, "")},
			{&fakeChecker{ok: true}, nil, out.Response.PrivateChallengeParameters, answer, cm(authflow.EmailOTP, "")},
			{&fakeChecker{ok: false}, &fakeCounter{}, codePrivate(authflow.EmailOTP, "1"), code, cm(authflow.EmailOTP, "")},
			{&fakeChecker{ok: true}, nil, codePrivate(authflow.EmailOTP, "1"), code, cm(authflow.EmailOTP, authflow.ActionResend)},
			{&fakeChecker{ok: true}, nil, map[string]string{"kind": "NONCE", "sid": nonce, "nonce": nonce}, answer, cm(authflow.DeviceKey, "")},
			{nil, nil, out.Response.PrivateChallengeParameters, strings.Repeat(answer, 1000), cm(authflow.DeviceKey, "")},
		} {
			v := &triggers.Verify{Keys: testKeys, Config: allCfg, Log: log, Checkers: map[authflow.Method]triggers.Checker{}}
			if tc.checker != nil {
				v.Checkers[authflow.DeviceKey], v.Checkers[authflow.EmailOTP] = tc.checker, tc.checker
			}
			if tc.counter != nil {
				v.Failures = tc.counter
			}
			ev := verifyEvent(tc.private, tc.answer, tc.meta, notFound)
			ev.UserName, ev.Request.UserAttributes = user, personal
			_, _ = v.Handle(ctx, ev)
		}
		// Define after a success.
		dev = defineEvent(sess(rnd(meta, true)), cm(authflow.DeviceKey, ""), notFound)
		dev.UserName = user
		if _, err := define.Handle(ctx, dev); err != nil {
			t.Fatal(err)
		}
	}
	ps := &signup.PreSignUp{Email: true, Log: log}
	for _, a := range []map[string]string{{"email": email}, {"email": "Alice <" + email + ">"}, {"phone_number": phone}} {
		ev := preSignUpEvent("PreSignUp_SignUp", a)
		ev.UserName = user
		_, _ = ps.Handle(ctx, ev)
	}

	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 20 {
		t.Fatalf("only %d log lines; the test would prove nothing:\n%s", len(lines), out)
	}
	ref, keyedLines, defineSessions := triggers.UserRef(testKey, poolID, user), 0, 0
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		msg, _ := m["msg"].(string)
		u, hasUser := m["user"]
		switch {
		case strings.HasPrefix(msg, "define") || strings.HasPrefix(msg, "presignup"):
			// Define never holds the deployment key; PreSignUp needs no reference.
			if hasUser {
				t.Errorf("%s logs a user reference: %s", msg, l)
			}
			if s, _ := m["session"].(string); msg == "define" && len(s) == 22 {
				defineSessions++
			}
		case hasUser:
			if u != ref {
				t.Errorf("user reference %v, want the keyed %q: %s", u, ref, l)
			}
			keyedLines++
		}
	}
	if defineSessions == 0 {
		t.Error("no Define line names the sign-in by its session ID")
	}
	if keyedLines == 0 {
		t.Error("no Create or Verify line carries the keyed user reference")
	}
	forbidden := map[string]string{"answer": answer, "code": code, "username": user, "phone": phone, "issuer secret": secret, "sub": userSub}
	// An unkeyed hash of the user name is reversible (attack 9): anyone can compute it.
	unkeyed := sha256.Sum256([]byte(poolID + "\x00" + user))
	forbidden["unkeyed user reference"] = hex.EncodeToString(unkeyed[:6])
	for i, n := range nonces {
		if len(n) != 43 {
			t.Fatalf("nonce %d = %q", i, n)
		}
		forbidden["nonce "+string(rune('0'+i))] = n
	}
	for what, s := range forbidden {
		if strings.Contains(out, s) {
			t.Errorf("the %s %q appears in the logs", what, s)
		}
	}
	if strings.Contains(out, "liddell") {
		t.Error("part of the email address appears in the logs")
	}
}
