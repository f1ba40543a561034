package magiclink_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/magiclink"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// TestLinkSignsInOnAnotherDevice: the link emailed to the verified address signs in through a
// fresh sign-in (another device), once.
func TestLinkSignsInOnAnotherDevice(t *testing.T) {
	e := newEnv(t, nil)
	s := e.request(t, users[alice])
	want := map[string]string{"kind": "LINK", "methods": flowCfg.MethodList(), "deliveryMedium": "EMAIL", "destination": "a***@e***.com",
		"resendAfter": "60", "codeStatus": "sent", "expiresIn": "900"}
	if !maps.Equal(s.public, want) {
		t.Errorf("public parameters %v, want %v", s.public, want)
	}
	if e.mail.Len() != 1 {
		t.Fatalf("%d emails, want 1", e.mail.Len())
	}
	m := e.mail.Emails()[0]
	if !slices.Equal(m.To, []string{"Alice@Example.com"}) || m.From != sender || m.Subject != "Your Example sign-in link" {
		t.Errorf("email to %v from %q subject %q", m.To, m.From, m.Subject)
	}
	u, l := e.mail.lastLink(t)
	if !strings.HasPrefix(u, appURL+"#ml=") || l.UserName != alice || !magiclink.ValidSecret(l.Secret) {
		t.Fatalf("link %q = %+v", u, l)
	}
	if !l.Expires.Equal(t0.Add(15 * time.Minute)) {
		t.Errorf("link expires %v, want %v", l.Expires, t0.Add(15*time.Minute))
	}
	if !strings.Contains(m.HTML, `href="`+u+`"`) {
		t.Errorf("the HTML body does not link to %q", u)
	}
	if strings.Contains(m.Subject, l.Secret) || strings.Contains(m.Subject, "#ml=") {
		t.Error("the subject holds the link")
	}
	e.completeOnce(t, l, "the link")
}

// TestLinkRoundAnsweredWithSecret: the sign-in that asked may answer its LINK round with the
// secret instead of a fresh sign-in.
func TestLinkRoundAnsweredWithSecret(t *testing.T) {
	e := newEnv(t, nil)
	s := e.request(t, users[alice])
	_, l := e.mail.lastLink(t)
	if err := s.respond(t, l.Secret, meta()); err != nil || !s.tokens {
		t.Fatalf("LINK round answered with the secret: err %v tokens %v", err, s.tokens)
	}
	if e.complete(t, l) {
		t.Fatal("the link works again after its own round used it")
	}
}

// TestBadLinksFailLikeWrongCodes: tampered, expired, reused, replaced and other users' links,
// and answers that are not secrets at all, are refused.
func TestBadLinksFailLikeWrongCodes(t *testing.T) {
	e := newEnv(t, func(c *magiclink.Config) { c.TTL = 30 * time.Minute })
	e.request(t, users[alice])
	_, l := e.mail.lastLink(t)

	tampered := l
	b := []byte(l.Secret)
	b[5] ^= 1
	tampered.Secret = string(b)
	if e.complete(t, tampered) {
		t.Fatal("a tampered secret signed in")
	}
	bobs := l
	bobs.UserName = bob
	if e.complete(t, bobs) {
		t.Fatal("alice's secret signed bob in")
	}
	for _, junk := range []string{"", "-", strings.Repeat("A", 43), l.Secret + "A", l.Token(), l.Fragment()} {
		j := l
		j.Secret = junk
		if e.complete(t, j) {
			t.Fatalf("answer %q signed in", junk)
		}
	}
	// Those were 1 + 6 wrong answers against alice's lock limit of 5 (bob's one counts for bob):
	// alice is locked, so even her right link is refused, unchecked and so unused.
	if e.complete(t, l) {
		t.Fatal("a locked account signed in with a link")
	}
	e.clk.Add(15 * time.Minute) // the next lock window; the link lives 30 minutes
	if !e.complete(t, l) {
		t.Fatal("the link refused during the lock no longer works after it")
	}

	e.clk.Add(time.Minute)
	e.request(t, users[alice])
	_, l2 := e.mail.lastLink(t)
	e.clk.Add(30 * time.Minute)
	if e.complete(t, l2) {
		t.Fatal("an expired link signed in")
	}
}

func TestReplacedAndReusedLinks(t *testing.T) {
	e := newEnv(t, nil)
	s := e.request(t, users[alice])
	_, first := e.mail.lastLink(t)
	e.clk.Add(time.Minute)
	if err := s.respond(t, "-", meta(authflow.MetaAction, authflow.ActionResend)); err != nil {
		t.Fatal(err)
	}
	if e.mail.Len() != 2 || s.public["codeStatus"] != "sent" {
		t.Fatalf("resend: %d emails, status %q", e.mail.Len(), s.public["codeStatus"])
	}
	_, second := e.mail.lastLink(t)
	if e.complete(t, first) {
		t.Fatal("the replaced link signed in")
	}
	e.completeOnce(t, second, "the new link")
}

// TestConcurrentCompletions: 30 completions of one link at once, in 30 sign-ins: exactly one
// signs in.
func TestConcurrentCompletions(t *testing.T) {
	e := newEnv(t, nil)
	e.request(t, users[alice])
	_, l := e.mail.lastLink(t)
	results := dynalitetest.AtOnce(30, func(i int) error {
		sid := fmt.Sprintf("session%015d", i)
		ok, err := e.checker.Check(context.Background(), triggers.CheckRequest{
			Challenge: authflow.Challenge{Kind: authflow.KindNonce, SessionID: sid},
			Method:    authflow.MagicLink,
			Answer:    l.Secret,
			Private:   map[string]string{authflow.PrivKind: "NONCE", authflow.PrivSessionID: sid, authflow.PrivRound: "1"},
			Caller: triggers.Caller{
				UserPoolID:     poolID,
				UserName:       alice,
				UserAttributes: users[alice].attrs,
				ClientMetadata: meta(authflow.MetaAction, authflow.ActionComplete),
				Key:            testKey,
			},
		})
		if err == nil && !ok {
			return errRefused
		}
		return err
	})
	n := 0
	for _, err := range results {
		switch {
		case err == nil:
			n++
		case !errors.Is(err, errRefused):
			t.Errorf("completion failed: %v", err)
		}
	}
	if n != 1 {
		t.Fatalf("30 concurrent completions: %d signed in, want exactly 1", n)
	}
}

var errRefused = errors.New("refused")

// TestNothingToUnverifiedOrUnknown: an unverified address, an account without an email address
// and an unknown user get the same public parameters as a real request and nothing is sent.
func TestNothingToUnverifiedOrUnknown(t *testing.T) {
	e := newEnv(t, nil)
	unverified := user{name: "u-unverified", attrs: map[string]string{"sub": "u-unverified", "email": "victim@example.net", "email_verified": "false"}}
	noEmail := user{name: "u-phone", attrs: map[string]string{"sub": "u-phone", "phone_number": "+447400123456", "phone_number_verified": "true"}}
	unknown := user{name: "nobody@example.net", userNotFound: true}
	unknownSub := user{name: "7d9a3c1e-0000-4e2a-9c55-3f1e2d4b6a80", userNotFound: true}
	real := e.request(t, users[alice]).public
	for name, u := range map[string]user{"unverified": unverified, "no email": noEmail, "unknown": unknown, "unknown sub": unknownSub} {
		pub := e.request(t, u).public
		if e.mail.Len() != 1 {
			t.Fatalf("%s: an email went out (%d in all)", name, e.mail.Len())
		}
		if !slices.Equal(slices.Sorted(maps.Keys(pub)), slices.Sorted(maps.Keys(real))) {
			t.Errorf("%s: parameters %v, a real user's %v", name, pub, real)
		}
		for _, k := range []string{"kind", "deliveryMedium", "codeStatus", "resendAfter", "expiresIn", "methods"} {
			if pub[k] != real[k] {
				t.Errorf("%s: %s = %q, a real user's %q", name, k, pub[k], real[k])
			}
		}
		if !strings.Contains(pub["destination"], "***@") {
			t.Errorf("%s: destination %q", name, pub["destination"])
		}
	}
	if got := e.request(t, unknown).public["destination"]; got != "n***@e***.net" {
		t.Errorf("unknown user's typed address masked as %q", got)
	}
	// A link to an unverified address would sign in whoever holds it: none is ever stored.
	if e.complete(t, magiclink.Link{UserName: "u-unverified", Secret: strings.Repeat("A", 43)}) {
		t.Fatal("signed in without a link")
	}
}

// TestCreateRetrySendsOneEmail: Cognito retries Create for the same round (sequentially and
// concurrently): one email, and the retry says the link already sent still works.
func TestCreateRetrySendsOneEmail(t *testing.T) {
	e := newEnv(t, nil)
	req := triggers.IssueRequest{
		Challenge: authflow.Challenge{Kind: authflow.KindLink, SessionID: "q3Vx-_9aZk0bT1c2D3e4Fg", Reason: authflow.ReasonSelect, Method: authflow.MagicLink, Generation: 1},
		Caller: triggers.Caller{
			UserPoolID:     poolID,
			ClientID:       clientID,
			UserName:       alice,
			UserAttributes: users[alice].attrs,
			ClientMetadata: meta(),
			Key:            testKey,
		},
	}
	first, err := e.issuer.Issue(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.issuer.Issue(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if e.mail.Len() != 1 || first.Public["codeStatus"] != "sent" || again.Public["codeStatus"] != "kept" {
		t.Fatalf("retry: %d emails, statuses %q then %q", e.mail.Len(), first.Public["codeStatus"], again.Public["codeStatus"])
	}
	// Even with a schedule that would allow the retry's send, the round's stored link stops it.
	e2 := newEnv(t, func(c *magiclink.Config) { c.SendDelays = []time.Duration{time.Second} })
	e2.issuer.Issue(context.Background(), req)
	e2.clk.Add(2 * time.Second)
	r, err := e2.issuer.Issue(context.Background(), req)
	if err != nil || e2.mail.Len() != 1 || r.Public["codeStatus"] != "kept" {
		t.Fatalf("retry past the delay: err %v, %d emails, status %q", err, e2.mail.Len(), r.Public["codeStatus"])
	}
	e3 := newEnv(t, nil)
	dynalitetest.AtOnce(8, func(int) error {
		_, err := e3.issuer.Issue(context.Background(), req)
		return err
	})
	if e3.mail.Len() != 1 {
		t.Fatalf("8 concurrent Creates of one round: %d emails", e3.mail.Len())
	}
}

// TestSendScheduleSharedWithCodes: links follow the email address's growing delays; a request
// within the wait sends nothing, says so, and the link already sent keeps working.
func TestSendSchedule(t *testing.T) {
	e := newEnv(t, nil)
	e.request(t, users[alice])
	_, l := e.mail.lastLink(t)
	e.clk.Add(30 * time.Second)
	s := e.request(t, users[alice])
	if e.mail.Len() != 1 || s.public["codeStatus"] != "kept" || s.public["resendAfter"] != "30" {
		t.Fatalf("request within the wait: %d emails, %v", e.mail.Len(), s.public)
	}
	if !e.complete(t, l) {
		t.Fatal("the link sent earlier no longer works after a refused request")
	}
}

// TestSameDevice: with SameDevice, a request without a device hash is refused (nothing sent),
// and a completion must present the device's secret.
func TestSameDevice(t *testing.T) {
	e := newEnv(t, func(c *magiclink.Config) { c.SameDevice = true })
	s := e.start(t, users[alice])
	if err := s.respond(t, "-", meta()); !errors.Is(err, triggers.ErrUnavailable) || e.mail.Len() != 0 {
		t.Fatalf("request without deviceHash: err %v, %d emails", err, e.mail.Len())
	}
	s = e.start(t, users[alice])
	if err := s.respond(t, "-", meta(magiclink.MetaDeviceHash, "not-a-hash")); !errors.Is(err, triggers.ErrUnavailable) || e.mail.Len() != 0 {
		t.Fatalf("request with a bad deviceHash: err %v, %d emails", err, e.mail.Len())
	}
	deviceSecret := base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	e.request(t, users[alice], magiclink.MetaDeviceHash, magiclink.DeviceHash(deviceSecret))
	_, l := e.mail.lastLink(t)
	if e.complete(t, l) {
		t.Fatal("completed without the device secret (a forwarded email)")
	}
	if e.complete(t, l, magiclink.MetaDeviceSecret, strings.Replace(deviceSecret, "M", "N", 1)) {
		t.Fatal("completed with another device's secret")
	}
	if !e.complete(t, l, magiclink.MetaDeviceSecret, deviceSecret) {
		t.Fatal("the requesting device could not complete")
	}
}

// TestRedirectURLs: a redirect URL not in the list is refused before anything is sent or counted;
// listed ones match after normalisation and the link is built from the configured form.
func TestRedirectURLs(t *testing.T) {
	e := newEnv(t, nil)
	for _, bad := range []string{"https://evil.example/signin", "https://app.example.com/signin/", "https://app.example.com.evil.example/signin",
		"http://app.example.com/signin", "javascript:alert(1)", "https://app.example.com/signin#x", "//app.example.com/signin", "https://app.example.com/other"} {
		s := e.start(t, users[alice])
		if err := s.respond(t, "-", meta(magiclink.MetaRedirectURL, bad)); !errors.Is(err, triggers.ErrUnavailable) {
			t.Errorf("redirect %q: err %v", bad, err)
		}
	}
	if e.mail.Len() != 0 {
		t.Fatalf("%d emails for refused redirects", e.mail.Len())
	}
	e.request(t, users[alice], magiclink.MetaRedirectURL, "HTTPS://App.Example.COM:443/signin")
	if u, _ := e.mail.lastLink(t); !strings.HasPrefix(u, appURL+"#ml=") {
		t.Errorf("link %q does not use the configured URL", u)
	}
	e.clk.Add(time.Minute)
	e.request(t, users[alice], magiclink.MetaRedirectURL, "http://localhost:5173")
	if u, _ := e.mail.lastLink(t); !strings.HasPrefix(u, "http://localhost:5173/#ml=") {
		t.Errorf("link %q does not use the localhost URL", u)
	}
}

// TestSESFailure: a failed send fails the round; its link is stored, so a retry sends nothing
// more (and the user asks again after the wait).
func TestSESFailure(t *testing.T) {
	e := newEnv(t, nil)
	e.mail.SetErr(errSES)
	s := e.start(t, users[alice])
	err := s.respond(t, "-", meta())
	if !errors.Is(err, triggers.ErrUnavailable) {
		t.Fatalf("SES down: err %v", err)
	}
	if strings.Contains(e.logs.String(), "Alice@Example.com") {
		t.Error("the address is in the logs")
	}
}

// TestLogsHoldNoSecrets: no secret, link, address or user name in the logs of a whole sign-in.
func TestLogsHoldNoSecrets(t *testing.T) {
	e := newEnv(t, nil)
	e.request(t, users[alice])
	u, l := e.mail.lastLink(t)
	e.complete(t, l)
	e.complete(t, l)
	logs := e.logs.String()
	for _, secret := range []string{l.Secret, l.Token(), u, "Alice@Example.com", "alice@example.com", alice} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs hold %q", secret)
		}
	}
	if !strings.Contains(logs, "magiclink: link sent") || !strings.Contains(logs, "magiclink: link used") {
		t.Errorf("decisions missing from the logs:\n%s", logs)
	}
}

// TestFragmentFormat pins the wire format of the link's fragment that clients parse.
func TestFragmentFormat(t *testing.T) {
	secret := strings.Repeat("A", 42) + "Q"
	l := magiclink.Link{UserName: alice, Secret: secret, Expires: time.Unix(1_800_000_900, 0)}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(l.Fragment(), "ml="))
	if err != nil {
		t.Fatal(err)
	}
	var w map[string]any
	if err := json.Unmarshal(raw, &w); err != nil || w["u"] != alice || w["s"] != secret || w["e"] != float64(1_800_000_900) || len(w) != 3 {
		t.Fatalf("token %s (%v)", raw, err)
	}
	for _, in := range []string{l.Fragment(), "#" + l.Fragment(), l.URL(appURL)} {
		got, err := magiclink.ParseFragment(in)
		if err != nil || got.UserName != alice || got.Secret != secret || !got.Expires.Equal(l.Expires) {
			t.Errorf("ParseFragment(%q) = %+v, %v", in, got, err)
		}
	}
	tok := func(s string) string { return "ml=" + base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, bad := range []string{
		"", "ml=", "ml=" + l.Token() + "=", "xml=" + l.Token(), "ml=" + l.Token() + "&x=1", "ml=" + base64.URLEncoding.EncodeToString(raw),
		tok(`{"u":"a","s":"` + secret + `"}`),
		tok(`{"u":"a","s":"` + secret + `","e":1,"x":1}`),
		tok(`{"u":"a","s":"` + secret + `","e":1,"e":2}`),
		tok(`{"u":"","s":"` + secret + `","e":1}`),
		tok(`{"u":"a\u0000","s":"` + secret + `","e":1}`),
		tok(`{"u":"a","s":"short","e":1}`),
		tok(`{"u":"a","s":"` + secret + `","e":0}`),
		tok(`{"u":"a","s":"` + secret + `","e":1.5}`),
		tok(`{"u":"a","s":"` + secret + `","e":"1"}`),
		tok(`{"u":1,"s":"` + secret + `","e":1}`),
		tok(`{"U":"a","s":"` + secret + `","e":1}`),
		tok(`{"u":"a","s":"` + secret + `","e":1} x`),
		tok(`[1]`),
		"ml=" + strings.Repeat("A", 2000),
	} {
		if got, err := magiclink.ParseFragment(bad); err == nil {
			t.Errorf("ParseFragment(%q) accepted: %+v", bad, got)
		}
	}
}

// TestVerifyRetryAfterUse: Cognito retries the Verify that used the link (its answer was lost):
// the retry is told yes again, the lockout slot is held once and given back; another sign-in with
// the same secret is refused.
func TestVerifyRetryAfterUse(t *testing.T) {
	e := newEnv(t, nil)
	e.request(t, users[alice])
	_, l := e.mail.lastLink(t)
	s := e.start(t, users[alice])
	complete := meta(authflow.MetaAction, authflow.ActionComplete)
	for i := range 3 {
		ok, err := s.in.DoVerify(context.Background(), l.Secret, complete)
		if err != nil || !ok {
			t.Fatalf("Verify call %d: correct %v err %v", i, ok, err)
		}
	}
	if e.complete(t, l) {
		t.Fatal("another sign-in used the link after it was used")
	}
}
