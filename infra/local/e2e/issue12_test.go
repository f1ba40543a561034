//go:build unix

package e2e

// The issue-12 tests (magic links, security notifications, recovery from a lost device) run on a
// harness of their own, started by TestIssue12 and closed when it ends: the construct with
// magic_link (redirect URL magicRedirect), passkeys (relying party localhost) and every
// notification kind switched on, which the shared harness keeps off so that the other tests'
// message counts stay what they were. Send delays are short (shortSendDelays) so a test can wait
// a recipient's delay out, and the user pool runs on its own clock (i12Clock) so a test can make
// a sign-in old without moving the shared harness's.

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/infra/local/awsmock"
	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/infra/local/signin"
	"github.com/passwordless-go/cognito/lambdas/devicekey"
	"github.com/passwordless-go/cognito/lambdas/notify"
)

const (
	// magicRedirect is the issue-12 stack's one allowed magic-link redirect URL.
	magicRedirect = "http://localhost:3000/signin"
	// passkeyOrigin is the issue-12 stack's passkey origin (relying party "localhost").
	passkeyOrigin = "http://localhost:3000"
)

// issue12Props are the issue-12 stack's props: the harness's defaults (email_otp, sms_otp,
// device_key; aliases email and phone) plus passkeys (relying party localhost, origin
// passkeyOrigin), magic links to magicRedirect (default lifetime, not bound to the device) and
// every notification kind with the default templates, and SMS to the United States (where
// uniquePhone's numbers are) from a toll-free origination number, which the construct requires
// for +1 destinations.
func issue12Props() *passwordless.Props {
	p := harness.DefaultProps()
	p.SMS.AllowedCountries = []string{"US"}
	p.SMS.OriginationNumber = "+18885550123"
	p.Methods = append(p.Methods, passwordless.Passkey, passwordless.MagicLink)
	p.Passkeys = passwordless.PasskeyProps{RPID: "localhost", Origins: []string{passkeyOrigin}}
	p.MagicLink = &passwordless.MagicLinkProps{RedirectURLs: []string{magicRedirect}}
	p.Notifications = &passwordless.NotificationProps{Events: passwordless.NotificationKinds}
	return p
}

// i12Clock drives the issue-12 stack's user pool and authorizer.
var i12Clock harness.ShiftClock

// TestIssue12 starts the issue-12 stack (issue12Props, short send delays) and runs the magic-link,
// notification and recovery tests on it, each as a subtest (go test -run 'TestIssue12/MagicLink'
// runs one group).
func TestIssue12(t *testing.T) {
	s := startShortDelayStack(t, "issue-12 harness", issue12Props(), i12Clock.Now)
	for _, g := range []struct {
		name  string
		tests []subtest
	}{
		{"MagicLink", magicLinkTests},
		{"Notify", notifyTests},
		{"Recovery", recoveryTests},
	} {
		t.Run(g.name, func(t *testing.T) {
			for _, st := range g.tests {
				t.Run(st.name, func(t *testing.T) { st.run(t, s) })
			}
		})
	}
}

// subtest is one test on the issue-12 stack.
type subtest struct {
	name string
	run  func(t *testing.T, s *stack)
}

// api sends a request to s's HTTP API with a bearer token and returns the status and the JSON
// body (nil when empty).
func (s *stack) api(t testing.TB, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	return apiJSON(t, s.h.APIURL, method, path, token, body)
}

// verifiedEmailUser signs up a user with a fresh address and signs it in once with an email
// code, which marks the address verified (notifications and links go only to verified
// addresses). It returns the user and the sign-in's tokens.
func (s *stack) verifiedEmailUser(t testing.TB, tag string) (*user, *types.AuthenticationResultType) {
	t.Helper()
	u := s.signUp(t, uniqueEmail(tag))
	return u, s.codeSignIn(t, u, "email_otp")
}

// registerKey enrols k for the holder of access through POST /device-keys and returns the key ID;
// it fails the test unless the answer is 201.
func (s *stack) registerKey(t testing.TB, access string, k crypto.Signer, name string) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	status, body := s.api(t, http.MethodPost, "/device-keys", access,
		map[string]string{"publicKey": base64.StdEncoding.EncodeToString(der), "name": name})
	id, _ := body["keyId"].(string)
	if status != http.StatusCreated || id == "" {
		t.Fatalf("POST /device-keys: %d %v", status, body)
	}
	return id
}

// keySignIn signs in name with device key k (one round) and returns the outcome.
func (s *stack) keySignIn(ctx context.Context, name string, k crypto.Signer, keyID string) (*cip.RespondToAuthChallengeOutput, error) {
	init, err := s.Initiate(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("InitiateAuth %s: %w", name, err)
	}
	r := &round{session: init.Session, username: init.ChallengeParameters["USERNAME"], params: init.ChallengeParameters}
	msg, err := devicekey.Message(s.h.PoolID, s.h.ClientID, r.username, r.params["nonce"])
	if err != nil {
		return nil, err
	}
	sig, err := signRaw(k, msg)
	if err != nil {
		return nil, err
	}
	return s.respond(ctx, r, keyAnswer(keyID, sig), method("device_key"))
}

// refreshErr runs REFRESH_TOKEN_AUTH on s and returns its error.
func (s *stack) refreshErr(ctx context.Context, refreshToken string) error {
	_, err := s.Cognito.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
		ClientId:       aws.String(s.h.ClientID),
		AuthParameters: map[string]string{"REFRESH_TOKEN": refreshToken},
	})
	return err
}

// refusal classifies an answer that must not sign in: "retry" (another round, as a wrong code
// gets) or "NotAuthorized"; anything else (tokens, another error) fails the test.
func refusal(t testing.TB, what string, out *cip.RespondToAuthChallengeOutput, err error) string {
	t.Helper()
	switch {
	case signin.Tokens(out):
		t.Fatalf("%s: signed in", what)
	case err == nil && out.ChallengeName == types.ChallengeNameTypeCustomChallenge:
		return "retry"
	case signin.IsNotAuthorized(err):
		return "NotAuthorized"
	}
	t.Fatalf("%s: want a clean refusal (a retry round or NotAuthorizedException), got %v", what, err)
	return ""
}

// wantTokens fails the test unless a sign-in's answer holds tokens that GET /me accepts for sub.
func (s *stack) wantTokens(t testing.TB, what string, out *cip.RespondToAuthChallengeOutput, err error, sub string) *types.AuthenticationResultType {
	t.Helper()
	if err != nil || !signin.Tokens(out) {
		t.Fatalf("%s: tokens=%v err=%v", what, signin.Tokens(out), err)
	}
	if status, me := s.api(t, http.MethodGet, "/me", aws.ToString(out.AuthenticationResult.AccessToken), nil); status != http.StatusOK || me["sub"] != sub {
		t.Fatalf("%s: GET /me %d %v, want sub %s", what, status, me, sub)
	}
	return out.AuthenticationResult
}

// noticeSubjects match the default subject of each notification kind (the name-free defaults:
// the harness sets no app name): the template's literal
// text, any value where it has a placeholder.
var noticeSubjects = func() map[notify.Kind]*regexp.Regexp {
	ph := regexp.MustCompile(`\{\{[^}]*\}\}`)
	out := map[notify.Kind]*regexp.Regexp{}
	for _, k := range notify.Kinds {
		parts := ph.Split(notify.DefaultTemplatesNoName[k].Subject, -1)
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		out[k] = regexp.MustCompile("^" + strings.Join(parts, ".+") + "$")
	}
	return out
}()

// noticeKind names the notification kind a message is ("" when it is none: a code, a link).
func noticeKind(m awsmock.Message) notify.Kind {
	subject := m.Subject
	if m.Medium == awsmock.MediumSMS {
		subject = m.Text
	}
	for k, re := range noticeSubjects {
		if m.Medium == awsmock.MediumEmail && re.MatchString(subject) {
			return k
		}
	}
	if m.Medium == awsmock.MediumSMS {
		for _, k := range notify.Kinds {
			if smsNotice(k).MatchString(subject) {
				return k
			}
		}
	}
	return ""
}

// smsNotice matches the default SMS text of a kind.
func smsNotice(k notify.Kind) *regexp.Regexp {
	ph := regexp.MustCompile(`\{\{[^}]*\}\}`)
	parts := ph.Split(notify.DefaultTemplatesNoName[k].SMS, -1)
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".+") + "$")
}

// notices returns the notifications of kind k to `to` ("" kind: of every kind), in order.
func (s *stack) notices(to string, k notify.Kind) []awsmock.Message {
	var out []awsmock.Message
	for _, m := range s.h.AWS.MessagesTo(to) {
		if got := noticeKind(m); got != "" && (k == "" || got == k) {
			out = append(out, m)
		}
	}
	return out
}

// waitNotice returns the n-th notification of kind k to `to`, waiting up to 10 s for it.
func (s *stack) waitNotice(t testing.TB, to string, k notify.Kind, n int) awsmock.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if list := s.notices(to, k); len(list) >= n {
			return list[n-1]
		}
		// Wait for any further message to `to`.
		if _, err := s.h.AWS.WaitMessage(ctx, to, s.messages(to)+1); err != nil {
			t.Fatalf("notification %d of kind %s to %s: have %d (%v); messages to it: %s", n, k, to, len(s.notices(to, k)), err, subjects(s.h.AWS.MessagesTo(to)))
		}
	}
}

// subjects lists messages' subjects (SMS: texts) for failure messages.
func subjects(ms []awsmock.Message) string {
	var out []string
	for _, m := range ms {
		if m.Medium == awsmock.MediumEmail {
			out = append(out, fmt.Sprintf("%q", m.Subject))
		} else {
			out = append(out, fmt.Sprintf("SMS %q", m.Text))
		}
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// settle waits until the stack's AWS calls and captured messages have not changed for 500 ms
// (at most 10 s), so that a count taken afterwards sees whatever the calls before it caused
// (a notification still on its way when the answer went out). It never fails: a machine too
// busy to settle only makes the later count less strict, never wrong.
func (s *stack) settle() {
	deadline := time.Now().Add(10 * time.Second)
	lastCalls, lastMsgs := s.h.AWS.Calls(), len(s.h.AWS.Messages())
	for time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		calls, msgs := s.h.AWS.Calls(), len(s.h.AWS.Messages())
		if maps.Equal(calls, lastCalls) && msgs == lastMsgs {
			return
		}
		lastCalls, lastMsgs = calls, msgs
	}
}

// checkNotice fails the test when a notification carries anything that signs in or must stay
// secret: a URL (no link in a notice), a magic-link fragment, one of the given secrets (codes,
// key names chosen by whoever added the key), or comes from another sender than the codes'.
func (s *stack) checkNotice(t testing.TB, m awsmock.Message, secrets ...string) {
	t.Helper()
	body := m.Subject + "\n" + m.Text + "\n" + m.HTML
	if strings.Contains(body, "://") || strings.Contains(body, "#ml=") || strings.Contains(body, "www.") {
		t.Errorf("notice %q holds a link:\n%s", m.Subject, body)
	}
	for _, sec := range secrets {
		if sec != "" && strings.Contains(body, sec) {
			t.Errorf("notice %q holds %q:\n%s", m.Subject, sec, body)
		}
	}
	if from := s.h.Env("create")["EMAIL_FROM"]; m.Medium == awsmock.MediumEmail && from != "" && m.From != from {
		t.Errorf("notice from %q, want the codes' sender %q", m.From, from)
	}
}

// concurrently runs f(i) for i in [0, n) at the same moment and waits for all.
func concurrently(n int, f func(i int)) {
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			f(i)
		}()
	}
	close(gate)
	wg.Wait()
}
