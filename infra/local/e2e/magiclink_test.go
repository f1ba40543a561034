//go:build unix

package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/infra/local/awsmock"
	"github.com/passwordless-go/cognito/infra/local/idp"
	"github.com/passwordless-go/cognito/infra/local/signin"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/magiclink"
	"github.com/passwordless-go/cognito/lambdas/notify"
)

// magicLinkTests run on the issue-12 stack (TestIssue12).
var magicLinkTests = []subtest{
	{"SecondDevice", testMagicLinkSecondDevice},
	{"Replaced", testMagicLinkReplaced},
	{"UnknownAndUnverified", testMagicLinkUnknownAndUnverified},
	{"Tampered", testMagicLinkTampered},
	{"RedirectNotAllowed", testMagicLinkRedirectNotAllowed},
	{"CreateRetrySendsOne", testMagicLinkCreateRetry},
}

// linkMeta is the ClientMetadata of a link request, plus extra key-value pairs.
func linkMeta(extra ...string) map[string]string {
	m := method(string(authflow.MagicLink))
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

// requestLink runs InitiateAuth for name and asks for a link in the nonce round (ANSWER "-",
// ClientMetadata meta); it returns the LINK round, or an error when none comes back.
func (s *stack) requestLink(ctx context.Context, name string, meta map[string]string) (*round, error) {
	init, err := s.Initiate(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("InitiateAuth %s: %w", name, err)
	}
	r := &round{session: init.Session, username: init.ChallengeParameters["USERNAME"], params: init.ChallengeParameters}
	out, err := s.respond(ctx, r, "-", meta)
	if err != nil {
		return nil, fmt.Errorf("ask for a link: %w", err)
	}
	if signin.Tokens(out) || out.ChallengeName != types.ChallengeNameTypeCustomChallenge || out.ChallengeParameters["kind"] != "LINK" {
		return nil, fmt.Errorf("ask for a link: want a LINK challenge, got %s %v (tokens %v)", out.ChallengeName, out.ChallengeParameters, signin.Tokens(out))
	}
	r.next(out)
	return r, nil
}

// linkPattern finds a magic link in a message body.
var linkPattern = regexp.MustCompile(`\S+#` + magiclink.FragmentParam + `=[A-Za-z0-9_-]+`)

// linkIn returns the link in an email's text body and what its fragment carries; it fails the
// test unless the email holds exactly one well-formed link to magicRedirect.
func linkIn(t testing.TB, m awsmock.Message) (string, magiclink.Link) {
	t.Helper()
	found := linkPattern.FindAllString(m.Text, -1)
	if len(found) != 1 {
		t.Fatalf("link email: want one link in the text, found %d: %q", len(found), m.Text)
	}
	url := found[0]
	if !strings.HasPrefix(url, magicRedirect+"#") {
		t.Fatalf("link %q does not go to the allowed redirect URL %s", url, magicRedirect)
	}
	l, err := magiclink.ParseFragment(url)
	if err != nil {
		t.Fatalf("link %q: %v", url, err)
	}
	return url, l
}

// sentLink is a link as the user received it.
type sentLink struct {
	msg  awsmock.Message // the email
	url  string          // the link in its text
	link magiclink.Link  // what the link's fragment carries
}

// linkRound asks for a link for u and returns the round and the link emailed. When the
// recipient's send delay has not passed (codeStatus "kept": nothing sent), it waits the announced
// resendAfter and asks for a new link in the same round, like codeRound.
func (s *stack) linkRound(t testing.TB, ctx context.Context, u *user) (*round, sentLink) {
	t.Helper()
	before := s.messages(u.email)
	r, err := s.requestLink(ctx, u.email, linkMeta())
	if err != nil {
		t.Fatal(err)
	}
	if noCode(r.params["codeStatus"]) {
		s.resendLink(t, ctx, r, linkMeta(authflow.MetaAction, authflow.ActionResend))
	}
	return r, s.linkEmail(t, ctx, u.email, before+1)
}

// resendLink waits round r's announced resendAfter and asks for a new link in the same round
// (ClientMetadata meta); it fails the test unless a LINK round with codeStatus "sent" comes back.
func (s *stack) resendLink(t testing.TB, ctx context.Context, r *round, meta map[string]string) {
	t.Helper()
	wait := resendAfter(t, r.params, shortMaxDelay)
	t.Logf("no link sent (send delay); waiting %s to ask for a new one", wait)
	time.Sleep(wait + time.Second)
	out, err := s.respond(ctx, r, "resend", meta)
	if err != nil || signin.Tokens(out) || out.ChallengeParameters["kind"] != "LINK" {
		t.Fatalf("new link after the wait: tokens=%v err=%v %v", signin.Tokens(out), err, out)
	}
	r.next(out)
	if st := codeStatus(t, r.params); st != "sent" {
		t.Fatalf("new link after waiting resendAfter: codeStatus %q, want sent", st)
	}
}

// linkEmail waits up to 10 s for the n-th message to `to` and returns it with its link.
func (s *stack) linkEmail(t testing.TB, ctx context.Context, to string, n int) sentLink {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msg, err := s.h.AWS.WaitMessage(wctx, to, n)
	if err != nil {
		t.Fatalf("no link email %d to %s: %v", n, to, err)
	}
	url, l := linkIn(t, msg)
	return sentLink{msg: msg, url: url, link: l}
}

// device is another device or browser: its own Cognito client (no state shared with the one that
// asked for the link).
func (s *stack) device() *stack { return newStack(s.h) }

// completeLink opens a link the way the link's page does: a fresh InitiateAuth for the link's
// user name, then the secret as the answer with action=complete.
func (s *stack) completeLink(ctx context.Context, l magiclink.Link) (*cip.RespondToAuthChallengeOutput, error) {
	init, err := s.Initiate(ctx, l.UserName)
	if err != nil {
		return nil, fmt.Errorf("InitiateAuth %s: %w", l.UserName, err)
	}
	r := &round{session: init.Session, username: init.ChallengeParameters["USERNAME"], params: init.ChallengeParameters}
	return s.respond(ctx, r, l.Secret, linkMeta(authflow.MetaAction, authflow.ActionComplete))
}

// refused opens link l on s and returns how it was refused (see refusal).
func (s *stack) refused(t testing.TB, ctx context.Context, what string, l magiclink.Link) string {
	t.Helper()
	out, err := s.completeLink(ctx, l)
	return refusal(t, what, out, err)
}

// signsIn opens link l on s and fails the test unless it signs in the user sub.
func (s *stack) signsIn(t testing.TB, ctx context.Context, what string, l magiclink.Link, sub string) *types.AuthenticationResultType {
	t.Helper()
	out, err := s.completeLink(ctx, l)
	return s.wantTokens(t, what, out, err, sub)
}

// testMagicLinkSecondDevice: a link asked for on one device arrives by email with the secret in
// the fragment only, signs in on another device (a fresh client) and cannot be used again; the
// sign-in with a method the account has not used before is notified.
func testMagicLinkSecondDevice(t *testing.T, s *stack) {
	ctx := ctxT(t, 2*time.Minute)
	u, _ := s.verifiedEmailUser(t, "ml-device")
	r, sent := s.linkRound(t, ctx, u)
	l, msg, url := sent.link, sent.msg, sent.url
	p := r.params
	if p["deliveryMedium"] != "EMAIL" || p["destination"] == "" || strings.Contains(p["destination"], u.email) {
		t.Fatalf("LINK round parameters %v: want deliveryMedium EMAIL and a masked destination", p)
	}
	if n, err := strconv.Atoi(p["expiresIn"]); err != nil || n < 60 || n > 3600 {
		t.Fatalf("LINK round expiresIn %q, want seconds in [60, 3600]", p["expiresIn"])
	}
	if l.UserName != r.username {
		t.Fatalf("link user name %q, want the sign-in's USERNAME %q", l.UserName, r.username)
	}
	if left := time.Until(l.Expires); left <= 0 || left > time.Hour+time.Minute {
		t.Fatalf("link expires in %s", left)
	}
	if strings.Contains(msg.Subject, l.Token()) || strings.Contains(msg.Subject, "#ml=") {
		t.Fatalf("the link is in the subject %q", msg.Subject)
	}
	if msg.HTML != "" && !strings.Contains(msg.HTML, url) {
		t.Errorf("the HTML body does not hold the link: %q", msg.HTML)
	}
	if from := s.h.Env("create")["EMAIL_FROM"]; msg.From != from {
		t.Errorf("link email from %q, want %q", msg.From, from)
	}
	if strings.Contains(strings.SplitN(url, "#", 2)[0], l.Token()) {
		t.Fatalf("the secret is outside the fragment: %s", url)
	}

	second := s.device()
	second.signsIn(t, ctx, "the link on a second device", l, u.sub)
	// The account had signed in only with email codes: a link is a new method, and is notified.
	notice := s.waitNotice(t, u.email, notify.NewMethodSignIn, 1)
	s.checkNotice(t, notice, l.Secret)

	third := s.device()
	third.refused(t, ctx, "the same link again", l)
	second.refused(t, ctx, "the same link again on the second device", l)
}

// testMagicLinkReplaced: a second request within the send delay sends nothing ("kept": the first
// link still works); a request after the announced wait sends a new link, and the first one stops
// working.
func testMagicLinkReplaced(t *testing.T, s *stack) {
	ctx := ctxT(t, 2*time.Minute)
	u, _ := s.verifiedEmailUser(t, "ml-replace")
	_, first := s.linkRound(t, ctx, u)
	before := s.messages(u.email)
	r, err := s.requestLink(ctx, u.email, linkMeta())
	if err != nil {
		t.Fatal(err)
	}
	if st := codeStatus(t, r.params); st != "kept" {
		t.Fatalf("a second link request within the send delay: codeStatus %q, want kept (%v)", st, r.params)
	}
	if n := s.messages(u.email); n != before {
		t.Fatalf("%d emails for a request within the send delay", n-before)
	}
	s.resendLink(t, ctx, r, linkMeta(authflow.MetaAction, authflow.ActionResend))
	second := s.linkEmail(t, ctx, u.email, before+1).link
	if second.Secret == first.link.Secret {
		t.Fatal("the new link has the old secret")
	}
	s.device().refused(t, ctx, "the replaced link", first.link)
	s.device().signsIn(t, ctx, "the new link", second, u.sub)
}

// testMagicLinkUnknownAndUnverified: asking for a link for an unknown address or for a user
// whose address is not verified yet gets the same public parameters as a user who gets one, and
// no email goes out.
func testMagicLinkUnknownAndUnverified(t *testing.T, s *stack) {
	ctx := ctxT(t, 2*time.Minute)
	ghost := uniqueEmail("ml-ghost")
	unverified := s.signUp(t, uniqueEmail("ml-unverified"))
	verified, _ := s.verifiedEmailUser(t, "ml-verified")
	before := s.messages(verified.email)

	params := map[string]map[string]string{}
	for name, to := range map[string]string{"unknown": ghost, "unverified": unverified.email, "verified": verified.email} {
		r, err := s.requestLink(ctx, to, linkMeta())
		if err != nil {
			t.Fatalf("%s: %v (an unknown or unverified address must look like any other)", name, err)
		}
		params[name] = r.params
	}
	if s.messages(verified.email) != before+1 {
		t.Fatalf("the verified user got %d emails, want 1 link", s.messages(verified.email)-before)
	}
	s.settle()
	for _, to := range []string{ghost, unverified.email} {
		if n := s.messages(to); n != 0 {
			t.Fatalf("%d messages to %s, which must get no link: %s", n, to, subjects(s.h.AWS.MessagesTo(to)))
		}
	}
	want := params["verified"]
	for _, name := range []string{"unknown", "unverified"} {
		got := params[name]
		if !slices.Equal(keysOf(got), keysOf(want)) {
			t.Errorf("%s: parameter names %v, a user who gets a link: %v", name, keysOf(got), keysOf(want))
		}
		for k, v := range want {
			if k == "destination" || k == "USERNAME" {
				continue
			}
			if got[k] != v {
				t.Errorf("%s: %s = %q, a user who gets a link: %q", name, k, got[k], v)
			}
		}
		if d := got["destination"]; d == "" || !strings.Contains(d, "*") {
			t.Errorf("%s: destination %q, want a masked address", name, d)
		}
	}
}

// testMagicLinkTampered: a link with a changed secret, a made-up secret, another user's name
// or an unknown name never signs in, and is refused the same way in each case; the real link
// still works afterwards.
func testMagicLinkTampered(t *testing.T, s *stack) {
	ctx := ctxT(t, 2*time.Minute)
	u, _ := s.verifiedEmailUser(t, "ml-tamper")
	other, _ := s.verifiedEmailUser(t, "ml-other")
	otherName := ""
	if init, err := s.Initiate(ctx, other.email); err != nil {
		t.Fatal(err)
	} else {
		otherName = init.ChallengeParameters["USERNAME"]
	}
	_, sent := s.linkRound(t, ctx, u)
	l := sent.link

	flipped := []byte(l.Secret)
	if flipped[0] == 'A' {
		flipped[0] = 'B'
	} else {
		flipped[0] = 'A'
	}
	madeUp, err := magiclink.NewSecret(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for name, tl := range map[string]magiclink.Link{
		"secret changed":   {UserName: l.UserName, Secret: string(flipped), Expires: l.Expires},
		"made-up secret":   {UserName: l.UserName, Secret: madeUp, Expires: l.Expires},
		"other user":       {UserName: otherName, Secret: l.Secret, Expires: l.Expires},
		"unknown username": {UserName: uniqueEmail("ml-nobody"), Secret: l.Secret, Expires: l.Expires},
	} {
		if !magiclink.ValidSecret(tl.Secret) {
			t.Fatalf("%s: test secret is malformed", name)
		}
		kinds[name] = s.device().refused(t, ctx, name, tl)
	}
	for _, k := range kinds {
		if k != kinds["secret changed"] {
			t.Errorf("refusals differ: %v", kinds)
			break
		}
	}
	s.device().signsIn(t, ctx, "the real link after the tampered ones", l, u.sub)
}

// testMagicLinkRedirectNotAllowed: a redirect URL that is not in the construct's list is refused
// before anything is sent.
func testMagicLinkRedirectNotAllowed(t *testing.T, s *stack) {
	ctx := ctxT(t, time.Minute)
	u, _ := s.verifiedEmailUser(t, "ml-redirect")
	before := s.messages(u.email)
	for _, url := range []string{"https://evil.example/signin", "http://localhost:3001/signin", magicRedirect + "/../evil"} {
		r, err := s.requestLink(ctx, u.email, linkMeta(magiclink.MetaRedirectURL, url))
		if err == nil {
			t.Errorf("redirectUrl %q: a LINK round %v", url, r.params)
		}
	}
	s.settle()
	if n := s.messages(u.email); n != before {
		t.Fatalf("%d emails for links to URLs that are not allowed: %s", n-before, subjects(s.h.AWS.MessagesTo(u.email)[before:]))
	}
	// The allowed URL, named explicitly, works.
	r, err := s.requestLink(ctx, u.email, linkMeta(magiclink.MetaRedirectURL, magicRedirect))
	if err != nil {
		t.Fatalf("redirectUrl %q (allowed): %v", magicRedirect, err)
	}
	if r.params["codeStatus"] != "sent" {
		t.Fatalf("allowed redirect URL: %v", r.params)
	}
}

// testMagicLinkCreateRetry: when Cognito retries the Create of a link round (its first answer
// was lost), one email goes out, and its link signs in.
func testMagicLinkCreateRetry(t *testing.T, s *stack) {
	ctx := ctxT(t, time.Minute)
	u, _ := s.verifiedEmailUser(t, "ml-retry")
	before := s.messages(u.email)
	retries := s.h.IdP.Stats().Retries[idp.TriggerCreate]
	init, err := s.Initiate(ctx, u.email)
	if err != nil {
		t.Fatal(err)
	}
	r := &round{session: init.Session, username: init.ChallengeParameters["USERNAME"]}
	s.h.DropResponses("create", 1) // the LINK round's Create
	out, err := s.respond(ctx, r, "-", linkMeta())
	if err != nil || signin.Tokens(out) || out.ChallengeParameters["kind"] != "LINK" {
		t.Fatalf("a link request whose Create answer was lost: %v %v", out, err)
	}
	if d := s.h.IdP.Stats().Retries[idp.TriggerCreate] - retries; d != 1 {
		t.Fatalf("CreateAuthChallenge retried %d times, want 1", d)
	}
	s.settle()
	if n := s.messages(u.email) - before; n != 1 {
		t.Fatalf("%d emails after a retried Create, want exactly 1: %s", n, subjects(s.h.AWS.MessagesTo(u.email)[before:]))
	}
	_, l := linkIn(t, s.h.AWS.MessagesTo(u.email)[before])
	s.device().signsIn(t, ctx, "the link of a retried Create", l, u.sub)
}
