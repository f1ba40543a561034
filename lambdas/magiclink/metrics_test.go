package magiclink_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/internal/testkit"
	"github.com/passwordless-go/cognito/lambdas/magiclink"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// emfCounts flushes rec and returns its counts from the EMF lines in out (testkit.EMFCounts),
// then empties out.
func emfCounts(t *testing.T, rec *metrics.Recorder, out *bytes.Buffer) map[string]float64 {
	t.Helper()
	rec.Flush()
	got := testkit.EMFCounts(t, out.Bytes(), metricsNamespace)
	out.Reset()
	return got
}

const (
	metricsNamespace = "PasswordlessTest"
	mSent            = "Sent{Channel=email,Kind=link}"
	mRateLimit       = "SendRefused{Channel=email,Reason=rate_limit}"
	mDailyCap        = "SendRefused{Channel=email,Reason=daily_cap}"
	mUnverified      = "SendRefused{Channel=email,Reason=unverified}"
	mSendFailed      = "SendFailed{Channel=email}"
	issueSession     = "q3Vx-_9aZk0bT1c2D3e4Fg"
)

// metricsEnv is a magic-link deployment whose Issuer counts into an EMF recorder.
func metricsEnv(t *testing.T, mutate func(*magiclink.Config)) (*env, *metrics.Recorder, *bytes.Buffer) {
	t.Helper()
	e := newEnv(t, mutate)
	out := &bytes.Buffer{}
	rec := metrics.New(out, metricsNamespace)
	var err error
	e.issuer, err = magiclink.NewIssuer(e.cfg, magiclink.IssuerDeps{Store: e.st, Email: e.mail, Now: e.clk.Now, Metrics: rec})
	if err != nil {
		t.Fatal(err)
	}
	return e, rec, out
}

var issueRound = 0

// issue runs the Issuer for u in a new round (or in round, when given: a Cognito retry).
func issue(t *testing.T, e *env, u user, round ...string) (triggers.Issued, error) {
	t.Helper()
	sid := issueSession
	if len(round) == 0 {
		issueRound++
		sid = fmt.Sprintf("%s%d", issueSession[:16], 100000+issueRound)
	} else {
		sid = round[0]
	}
	return e.issuer.Issue(context.Background(), triggers.IssueRequest{
		Challenge: authflow.Challenge{Kind: authflow.KindLink, SessionID: sid, Reason: authflow.ReasonSelect, Method: authflow.MagicLink, Generation: 1},
		Caller: triggers.Caller{
			UserPoolID:     poolID,
			ClientID:       clientID,
			UserName:       u.name,
			UserAttributes: u.attrs,
			UserNotFound:   u.userNotFound,
			ClientMetadata: meta(),
			Key:            testKey,
		},
	})
}

// TestIssuerMetrics: a link sent counts Sent{email, link}; each refusal rule counts SendRefused
// with its reason (the send schedule's wait rate_limit, the daily cap daily_cap, an address that
// is missing, unverified or malformed unverified); an SES error SendFailed and no Sent; unknown
// users, whose answer pretends a link went out, count nothing, and neither does a Cognito retry
// of a round whose link is out once the send delay has passed (within it, the schedule refuses
// the retry first and it counts as rate_limit).
func TestIssuerMetrics(t *testing.T) {
	e, rec, out := metricsEnv(t, nil)
	want := func(step string, w map[string]float64) {
		t.Helper()
		if got := emfCounts(t, rec, out); !maps.Equal(got, w) {
			t.Fatalf("%s: metrics %v, want %v", step, got, w)
		}
	}
	if _, err := issue(t, e, users[alice], "retry-round-000001"); err != nil || e.mail.Len() != 1 {
		t.Fatalf("first link: %v, %d emails", err, e.mail.Len())
	}
	want("a link sent", map[string]float64{mSent: 1})
	// Within the delay the schedule refuses before the round's stored link is seen: Create cannot
	// tell a retry from a second request without another read, and counts it as refused.
	if _, err := issue(t, e, users[alice], "retry-round-000001"); err != nil || e.mail.Len() != 1 {
		t.Fatalf("retried Create: %v, %d emails", err, e.mail.Len())
	}
	issue(t, e, users[alice])
	want("a retried Create and a second request within the wait", map[string]float64{mRateLimit: 2})
	// Past the delay, the round's stored link stops the retry: nothing sent, nothing counted.
	e.clk.Add(time.Minute)
	if _, err := issue(t, e, users[alice], "retry-round-000001"); err != nil || e.mail.Len() != 1 {
		t.Fatalf("retried Create past the delay: %v, %d emails", err, e.mail.Len())
	}
	want("a retried Create past the delay", map[string]float64{})

	unverified := user{name: "u-unverified", attrs: map[string]string{"email": "victim@example.net", "email_verified": "false"}}
	noEmail := user{name: "u-phone", attrs: map[string]string{"phone_number": "+447400123456", "phone_number_verified": "true"}}
	malformed := user{name: "u-malformed", attrs: map[string]string{"email": "not-an-address", "email_verified": "true"}}
	for _, u := range []user{unverified, noEmail, malformed} {
		issue(t, e, u)
	}
	want("no verified address", map[string]float64{mUnverified: 3})
	for i := range 3 {
		issue(t, e, user{name: fmt.Sprintf("ghost%d@example.net", i), userNotFound: true})
	}
	issue(t, e, user{name: "ghost0@example.net", userNotFound: true}) // within its wait
	if e.mail.Len() != 1 {
		t.Fatalf("%d emails", e.mail.Len())
	}
	want("unknown users", map[string]float64{})

	e.clk.Add(time.Hour)
	e.mail.SetErr(errSES)
	if _, err := issue(t, e, users[bob]); err == nil {
		t.Fatal("SES down: no error")
	}
	want("SES down", map[string]float64{mSendFailed: 1})
}

// TestIssuerMetricsDailyCap: a request refused because the address had its daily cap counts
// daily_cap, not rate_limit; one refused by the delay after a send counts rate_limit.
func TestIssuerMetricsDailyCap(t *testing.T) {
	e, rec, out := metricsEnv(t, func(c *magiclink.Config) {
		c.SendDelays = []time.Duration{10 * time.Second}
		c.SendDailyCap = 2
	})
	issue(t, e, users[alice])
	issue(t, e, users[alice])
	e.clk.Add(10 * time.Second)
	issue(t, e, users[alice])
	e.clk.Add(10 * time.Second)
	issue(t, e, users[alice])
	e.clk.Add(time.Hour)
	issue(t, e, users[alice])
	got := emfCounts(t, rec, out)
	if w := map[string]float64{mSent: 2, mRateLimit: 1, mDailyCap: 2}; !maps.Equal(got, w) {
		t.Fatalf("metrics %v, want %v", got, w)
	}
	if e.mail.Len() != 2 {
		t.Fatalf("%d emails, want 2", e.mail.Len())
	}
}

// TestIssuerMetricsNil: a nil Recorder (metrics off) and no Metrics at all both work.
func TestIssuerMetricsNil(t *testing.T) {
	for _, m := range []magiclink.Counter{nil, (*metrics.Recorder)(nil)} {
		e := newEnv(t, nil)
		is, err := magiclink.NewIssuer(e.cfg, magiclink.IssuerDeps{Store: e.st, Email: e.mail, Now: e.clk.Now, Metrics: m})
		if err != nil {
			t.Fatal(err)
		}
		e.issuer = is
		if _, err := issue(t, e, users[alice]); err != nil || e.mail.Len() != 1 {
			t.Fatalf("metrics %v: %v, %d emails", m, err, e.mail.Len())
		}
	}
}
