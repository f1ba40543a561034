package triggers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// checkNonceRound asserts the shape of a nonce round and returns its session ID and nonce.
func checkNonceRound(t *testing.T, r events.CognitoEventUserPoolsCreateAuthChallengeResponse, reason authflow.Reason) (string, string) {
	t.Helper()
	if got, want := sortedKeys(r.PublicChallengeParameters), []string{"kind", "methods", "nonce"}; !slices.Equal(got, want) {
		t.Errorf("public keys = %v, want %v", got, want)
	}
	if got, want := sortedKeys(r.PrivateChallengeParameters), []string{"kind", "nonce", "round", "sid"}; !slices.Equal(got, want) {
		t.Errorf("private keys = %v, want %v", got, want)
	}
	if n, err := authflow.Round(r.PrivateChallengeParameters); err != nil || (reason == authflow.ReasonStart) != (n == 1) {
		t.Errorf("round %q for a %s round: %v", r.PrivateChallengeParameters[authflow.PrivRound], reason, err)
	}
	pub, priv := r.PublicChallengeParameters, r.PrivateChallengeParameters
	if pub["kind"] != "NONCE" || priv["kind"] != "NONCE" {
		t.Errorf("kind public %q private %q, want NONCE", pub["kind"], priv["kind"])
	}
	nonce := pub[authflow.PubNonce]
	if len(nonce) != 43 {
		t.Errorf("nonce %q has %d characters, want 43", nonce, len(nonce))
	}
	if b, err := base64.RawURLEncoding.DecodeString(nonce); err != nil || len(b) != triggers.NonceBytes {
		t.Errorf("nonce %q is not %d bytes of base64url: %v", nonce, triggers.NonceBytes, err)
	}
	if priv[authflow.PrivNonce] != nonce {
		t.Errorf("private nonce %q differs from public %q", priv[authflow.PrivNonce], nonce)
	}
	s := priv[authflow.PrivSessionID]
	if len(s) != 22 {
		t.Errorf("session ID %q has %d characters, want 22", s, len(s))
	}
	if b, err := base64.RawURLEncoding.DecodeString(s); err != nil || len(b) != triggers.SessionIDBytes {
		t.Errorf("session ID %q is not %d bytes of base64url: %v", s, triggers.SessionIDBytes, err)
	}
	c, err := authflow.ParseChallenge(r.ChallengeMetadata)
	if err != nil {
		t.Fatalf("metadata %q: %v", r.ChallengeMetadata, err)
	}
	if want := (authflow.Challenge{Kind: authflow.KindNonce, SessionID: s, Reason: reason}); c != want {
		t.Errorf("metadata = %+v, want %+v", c, want)
	}
	if strings.Contains(r.ChallengeMetadata, nonce) {
		t.Error("the nonce is in challengeMetadata")
	}
	return s, nonce
}

func TestCreateNonceRound(t *testing.T) {
	h := &triggers.Create{Keys: testKeys, Config: allCfg}
	ev := fixture[events.CognitoEventUserPoolsCreateAuthChallenge](t, "create_first.json")
	out, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	checkNonceRound(t, out.Response, authflow.ReasonStart)
	if got := out.Response.PublicChallengeParameters["methods"]; got != "email_otp,sms_otp,device_key,passkey,magic_link" {
		t.Errorf("methods = %q", got)
	}
}

func TestCreateNonceRoundUsesRandSource(t *testing.T) {
	seed := make([]byte, triggers.SessionIDBytes+triggers.NonceBytes)
	for i := range seed {
		seed[i] = byte(i * 7)
	}
	h := &triggers.Create{Keys: testKeys, Config: allCfg, Rand: bytes.NewReader(seed)}
	out, err := h.Handle(context.Background(), createEvent(nil, nil, false))
	if err != nil {
		t.Fatal(err)
	}
	wantSID := base64.RawURLEncoding.EncodeToString(seed[:triggers.SessionIDBytes])
	wantNonce := base64.RawURLEncoding.EncodeToString(seed[triggers.SessionIDBytes:])
	if s, n := checkNonceRound(t, out.Response, authflow.ReasonStart); s != wantSID || n != wantNonce {
		t.Errorf("sid %q nonce %q, want %q %q (read from Rand)", s, n, wantSID, wantNonce)
	}
}

func TestCreateNoncesAreUnique(t *testing.T) {
	h := &triggers.Create{Keys: testKeys, Config: allCfg}
	nonces, sids := map[string]bool{}, map[string]bool{}
	for i := 0; i < 1000; i++ {
		out, err := h.Handle(context.Background(), createEvent(nil, nil, false))
		if err != nil {
			t.Fatal(err)
		}
		n := out.Response.PublicChallengeParameters["nonce"]
		s := out.Response.PrivateChallengeParameters["sid"]
		if len(n) != 43 || len(s) != 22 {
			t.Fatalf("call %d: nonce %q sid %q", i, n, s)
		}
		if nonces[n] || sids[s] {
			t.Fatalf("call %d repeated a nonce or session ID", i)
		}
		nonces[n], sids[s] = true, true
	}
	// A retried nonce round keeps the session ID but gets a new nonce.
	retry := sess(rnd(nonceMeta(authflow.ReasonStart), false))
	for i := 0; i < 100; i++ {
		out, err := h.Handle(context.Background(), createEvent(retry, cm(authflow.DeviceKey, ""), false))
		if err != nil {
			t.Fatal(err)
		}
		s, n := checkNonceRound(t, out.Response, authflow.ReasonRetry)
		if s != sid {
			t.Fatalf("retry round session ID %q, want the session's %q", s, sid)
		}
		if nonces[n] {
			t.Fatal("retry round repeated a nonce")
		}
		nonces[n] = true
	}
}

func TestCreateUnknownUserSameShape(t *testing.T) {
	h := &triggers.Create{Keys: testKeys, Config: allCfg}
	known, err := h.Handle(context.Background(), createEvent(nil, nil, false))
	if err != nil {
		t.Fatal(err)
	}
	ev := createEvent(nil, nil, true)
	ev.UserName = "nobody@example.com"
	ev.Request.UserAttributes = nil
	unknown, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	checkNonceRound(t, unknown.Response, authflow.ReasonStart)
	if !slices.Equal(sortedKeys(known.Response.PublicChallengeParameters), sortedKeys(unknown.Response.PublicChallengeParameters)) ||
		known.Response.PublicChallengeParameters["methods"] != unknown.Response.PublicChallengeParameters["methods"] ||
		len(known.Response.ChallengeMetadata) != len(unknown.Response.ChallengeMetadata) {
		t.Errorf("unknown user's round differs in shape:\n%+v\n%+v", known.Response, unknown.Response)
	}
	// A retry for an unknown user too.
	out, err := h.Handle(context.Background(), createEvent(sess(rnd(nonceMeta(authflow.ReasonStart), false)), cm(authflow.Passkey, ""), true))
	if err != nil {
		t.Fatal(err)
	}
	checkNonceRound(t, out.Response, authflow.ReasonRetry)
}

func TestCreateUnavailable(t *testing.T) {
	issuer := &fakeIssuer{}
	issuers := map[authflow.Method]triggers.CodeIssuer{authflow.EmailOTP: issuer, authflow.SMSOTP: issuer}
	start := nonceMeta(authflow.ReasonStart)
	for _, tc := range []struct {
		name string
		h    *triggers.Create
		ev   events.CognitoEventUserPoolsCreateAuthChallenge
	}{
		{"random source fails at once", &triggers.Create{Keys: testKeys, Config: allCfg, Rand: &failingReader{}}, createEvent(nil, nil, false)},
		{"random source fails after the session ID", &triggers.Create{Keys: testKeys, Config: allCfg, Rand: &failingReader{ok: triggers.SessionIDBytes}}, createEvent(nil, nil, false)},
		{"random source fails in a retry round", &triggers.Create{Keys: testKeys, Config: allCfg, Rand: &failingReader{}}, createEvent(sess(rnd(start, false)), cm(authflow.DeviceKey, ""), false)},
		{"random source fails for an unknown user", &triggers.Create{Keys: testKeys, Config: allCfg, Rand: &failingReader{ok: 5}}, createEvent(nil, nil, true)},
		{"Plan says Fail: SRP entry", &triggers.Create{Keys: testKeys, Config: allCfg, Issuers: issuers},
			createEvent(sess(&events.CognitoEventUserPoolsChallengeResult{ChallengeName: "SRP_A", ChallengeResult: true}), nil, false)},
		{"Plan says Fail: too many wrong proofs", &triggers.Create{Keys: testKeys, Config: allCfg, Issuers: issuers},
			createEvent(sess(rnd(start, false), rnd(nonceMeta(authflow.ReasonRetry), false), rnd(nonceMeta(authflow.ReasonRetry), false)), cm(authflow.DeviceKey, ""), false)},
		{"Plan says Fail: unknown method", &triggers.Create{Keys: testKeys, Config: allCfg, Issuers: issuers}, createEvent(sess(rnd(start, false)), cm("magic", ""), false)},
		{"Plan says IssueTokens", &triggers.Create{Keys: testKeys, Config: allCfg, Issuers: issuers}, createEvent(sess(rnd(start, true)), cm(authflow.DeviceKey, ""), false)},
		{"missing issuer", &triggers.Create{Keys: testKeys, Config: allCfg, Issuers: map[authflow.Method]triggers.CodeIssuer{authflow.SMSOTP: issuer}},
			createEvent(sess(rnd(start, false)), cm(authflow.EmailOTP, ""), false)},
		{"no issuers at all", &triggers.Create{Keys: testKeys, Config: allCfg}, createEvent(sess(rnd(start, false)), cm(authflow.SMSOTP, ""), false)},
		{"issuer fails", &triggers.Create{Keys: testKeys, Config: allCfg, Issuers: map[authflow.Method]triggers.CodeIssuer{authflow.EmailOTP: &fakeIssuer{err: errBoom}}},
			createEvent(sess(rnd(start, false)), cm(authflow.EmailOTP, ""), false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.h.Handle(context.Background(), tc.ev)
			if !errors.Is(err, triggers.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			if err.Error() != triggers.ErrUnavailable.Error() {
				t.Errorf("error text %q reveals more than the generic message", err)
			}
			r := out.Response
			if r.PublicChallengeParameters != nil || r.PrivateChallengeParameters != nil || r.ChallengeMetadata != "" {
				t.Errorf("failed round has a response: %+v", r)
			}
		})
	}
	if len(issuer.reqs) != 0 {
		t.Errorf("issuer called %d times for rounds that are not code rounds", len(issuer.reqs))
	}
}

func TestCreateWrongChallengeName(t *testing.T) {
	h := &triggers.Create{Keys: testKeys, Config: allCfg}
	for _, name := range []string{"", "PASSWORD_VERIFIER", "SMS_MFA", "custom_challenge"} {
		ev := createEvent(nil, nil, false)
		ev.Request.ChallengeName = name
		out, err := h.Handle(context.Background(), ev)
		if err == nil {
			t.Errorf("challenge %q accepted", name)
		}
		if out.Response.PublicChallengeParameters != nil || out.Response.PrivateChallengeParameters != nil || out.Response.ChallengeMetadata != "" {
			t.Errorf("challenge %q got a response: %+v", name, out.Response)
		}
	}
}

func TestCreateWrongChallengeNameIsUnavailable(t *testing.T) {
	ev := createEvent(nil, nil, false)
	ev.Request.ChallengeName = "PASSWORD_VERIFIER"
	_, err := (&triggers.Create{Keys: testKeys, Config: allCfg}).Handle(context.Background(), ev)
	if !errors.Is(err, triggers.ErrUnavailable) {
		t.Errorf("wrong challenge name: err = %v, want ErrUnavailable", err)
	}
	// The same for an issuer that breaks the protocol (create.go:88-93 return merge's error as is).
	h := &triggers.Create{Keys: testKeys, Config: allCfg, Issuers: map[authflow.Method]triggers.CodeIssuer{
		authflow.EmailOTP: &fakeIssuer{out: triggers.Issued{Private: map[string]string{"sid": "AAAAAAAAAAAAAAAAAAAAAA"}}}}}
	_, err = h.Handle(context.Background(), createEvent(sess(rnd(nonceMeta(authflow.ReasonStart), false)), cm(authflow.EmailOTP, ""), false))
	if !errors.Is(err, triggers.ErrUnavailable) {
		t.Errorf("issuer overwrite: err = %v, want ErrUnavailable", err)
	}
}

func TestCreateCodeRound(t *testing.T) {
	issuer := &fakeIssuer{out: triggers.Issued{
		Public:  map[string]string{"destination": "a***@e***.com"},
		Private: map[string]string{"codeRef": "otp#q3Vx#1"},
	}}
	sms := &fakeIssuer{}
	h := &triggers.Create{Keys: testKeys, Config: allCfg, Issuers: map[authflow.Method]triggers.CodeIssuer{authflow.EmailOTP: issuer, authflow.SMSOTP: sms}}
	ev := fixture[events.CognitoEventUserPoolsCreateAuthChallenge](t, "create_code.json")
	out, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(issuer.reqs) != 1 || len(sms.reqs) != 0 {
		t.Fatalf("email issuer called %d times, sms %d, want 1 and 0", len(issuer.reqs), len(sms.reqs))
	}
	req := issuer.reqs[0]
	if want := codeChallenge(authflow.ReasonSelect, authflow.EmailOTP, 1); req.Challenge != want {
		t.Errorf("issuer challenge = %+v, want %+v", req.Challenge, want)
	}
	if req.UserPoolID != poolID || req.ClientID != clientID || req.UserName != userName || req.UserNotFound {
		t.Errorf("issuer request header = %+v", req)
	}
	if req.UserAttributes["email"] != "alice@example.com" || req.UserAttributes["sub"] != userSub {
		t.Errorf("issuer attributes = %v", req.UserAttributes)
	}
	if req.ClientMetadata["signInMethod"] != "email_otp" {
		t.Errorf("issuer client metadata = %v", req.ClientMetadata)
	}
	r := out.Response
	wantPub := map[string]string{"kind": "CODE", "methods": allCfg.MethodList(), "destination": "a***@e***.com"}
	if !maps.Equal(r.PublicChallengeParameters, wantPub) {
		t.Errorf("public = %v, want %v", r.PublicChallengeParameters, wantPub)
	}
	wantPriv := map[string]string{"kind": "CODE", "sid": sid, "method": "email_otp", "gen": "1", "round": "2", "codeRef": "otp#q3Vx#1"}
	if !maps.Equal(r.PrivateChallengeParameters, wantPriv) {
		t.Errorf("private = %v, want %v", r.PrivateChallengeParameters, wantPriv)
	}
	if want := "CODE;sid=" + sid + ";r=select;m=email_otp;g=1"; r.ChallengeMetadata != want {
		t.Errorf("metadata = %q, want %q", r.ChallengeMetadata, want)
	}
	// What Verify will read back describes the same round.
	c, err := authflow.ChallengeFromPrivate(r.PrivateChallengeParameters)
	if err != nil || c.Method != authflow.EmailOTP || c.Generation != 1 || c.SessionID != sid {
		t.Errorf("ChallengeFromPrivate = %+v, %v", c, err)
	}
}

func TestCreateCodeRoundResendRetryAndUnknownUser(t *testing.T) {
	start := nonceMeta(authflow.ReasonStart)
	s1 := codeChallenge(authflow.ReasonSelect, authflow.SMSOTP, 1).String()
	for _, tc := range []struct {
		name         string
		session      []*events.CognitoEventUserPoolsChallengeResult
		meta         map[string]string
		userNotFound bool
		want         authflow.Challenge
	}{
		{"resend", sess(rnd(start, false), rnd(s1, false)), cm(authflow.SMSOTP, authflow.ActionResend), false, codeChallenge(authflow.ReasonResend, authflow.SMSOTP, 2)},
		{"retry", sess(rnd(start, false), rnd(s1, false)), cm(authflow.SMSOTP, ""), false, codeChallenge(authflow.ReasonRetry, authflow.SMSOTP, 1)},
		{"unknown user select", sess(rnd(start, false)), cm(authflow.SMSOTP, ""), true, codeChallenge(authflow.ReasonSelect, authflow.SMSOTP, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			issuer := &fakeIssuer{}
			h := &triggers.Create{Keys: testKeys, Config: allCfg, Issuers: map[authflow.Method]triggers.CodeIssuer{authflow.SMSOTP: issuer}}
			out, err := h.Handle(context.Background(), createEvent(tc.session, tc.meta, tc.userNotFound))
			if err != nil {
				t.Fatal(err)
			}
			if len(issuer.reqs) != 1 {
				t.Fatalf("issuer called %d times", len(issuer.reqs))
			}
			if issuer.reqs[0].Challenge != tc.want || issuer.reqs[0].UserNotFound != tc.userNotFound {
				t.Errorf("issuer got %+v (userNotFound %v), want %+v", issuer.reqs[0].Challenge, issuer.reqs[0].UserNotFound, tc.want)
			}
			if out.Response.ChallengeMetadata != tc.want.String() {
				t.Errorf("metadata %q, want %q", out.Response.ChallengeMetadata, tc.want.String())
			}
			// The round number is the session's length + 1: a retry after a wrong code repeats the
			// session ID and the generation, never the round.
			wantPriv := tc.want.Private()
			wantPriv[authflow.PrivRound] = fmt.Sprint(len(tc.session) + 1)
			if !maps.Equal(out.Response.PrivateChallengeParameters, wantPriv) {
				t.Errorf("private %v, want %v", out.Response.PrivateChallengeParameters, wantPriv)
			}
			if _, ok := out.Response.PublicChallengeParameters["nonce"]; ok {
				t.Error("a code round publishes a nonce")
			}
		})
	}
}

func TestCreateIssuerCannotOverwriteProtocolParameters(t *testing.T) {
	start := nonceMeta(authflow.ReasonStart)
	for _, tc := range []struct {
		name string
		out  triggers.Issued
	}{
		{"private kind", triggers.Issued{Private: map[string]string{"kind": "NONCE"}}},
		{"private sid", triggers.Issued{Private: map[string]string{"sid": "AAAAAAAAAAAAAAAAAAAAAA"}}},
		{"private method", triggers.Issued{Private: map[string]string{"method": "sms_otp"}}},
		{"private gen", triggers.Issued{Private: map[string]string{"gen": "1"}}},
		{"private round", triggers.Issued{Private: map[string]string{"round": "9"}}},
		{"public kind", triggers.Issued{Public: map[string]string{"kind": "NONCE"}}},
		{"public methods", triggers.Issued{Public: map[string]string{"methods": "device_key"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &triggers.Create{Keys: testKeys, Config: allCfg, Issuers: map[authflow.Method]triggers.CodeIssuer{authflow.EmailOTP: &fakeIssuer{out: tc.out}}}
			out, err := h.Handle(context.Background(), createEvent(sess(rnd(start, false)), cm(authflow.EmailOTP, ""), false))
			if err == nil {
				t.Fatalf("issuer overwrite accepted: %+v", out.Response)
			}
			if out.Response.PrivateChallengeParameters != nil || out.Response.ChallengeMetadata != "" {
				t.Errorf("response set despite the error: %+v", out.Response)
			}
		})
	}
}

func TestCreateIssuerCannotSetNonce(t *testing.T) {
	start := nonceMeta(authflow.ReasonStart)
	for _, out := range []triggers.Issued{
		{Private: map[string]string{"nonce": "attacker-chosen"}},
		{Public: map[string]string{"nonce": "attacker-chosen"}},
	} {
		h := &triggers.Create{Keys: testKeys, Config: allCfg, Issuers: map[authflow.Method]triggers.CodeIssuer{authflow.EmailOTP: &fakeIssuer{out: out}}}
		if _, err := h.Handle(context.Background(), createEvent(sess(rnd(start, false)), cm(authflow.EmailOTP, ""), false)); err == nil {
			t.Errorf("issuer set a protocol key: %+v", out)
		}
	}
}
