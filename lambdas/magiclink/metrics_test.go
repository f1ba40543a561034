package magiclink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/magiclink"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// emfCounts flushes rec and returns its counts from the EMF lines in out, keyed by
// "Metric{Dim=value,...}" (the dimension members present, sorted).
func emfCounts(t *testing.T, rec *metrics.Recorder, out *bytes.Buffer) map[string]int {
	t.Helper()
	rec.Flush()
	got := map[string]int{}
	for _, raw := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if raw == "" {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(raw), &doc); err != nil {
			t.Fatalf("EMF line is not JSON: %v: %s", err, raw)
		}
		aws, _ := doc["_aws"].(map[string]any)
		cwm, _ := aws["CloudWatchMetrics"].([]any)
		if len(cwm) != 1 {
			t.Fatalf("EMF line without one CloudWatchMetrics entry: %s", raw)
		}
		ms, _ := cwm[0].(map[string]any)["Metrics"].([]any)
		if len(ms) != 1 {
			t.Fatalf("EMF line without one metric: %s", raw)
		}
		name, _ := ms[0].(map[string]any)["Name"].(string)
		n, ok := doc[name].(float64)
		if !ok {
			t.Fatalf("EMF line without the value of %s: %s", name, raw)
		}
		var dims []string
		for _, d := range []string{"Method", "Reason", "Channel", "Kind", "Dependency"} {
			if v, ok := doc[d].(string); ok {
				dims = append(dims, d+"="+v)
			}
		}
		got[name+"{"+strings.Join(dims, ",")+"}"] += int(n)
	}
	out.Reset()
	return got
}

const (
	mSent        = "Sent{Channel=email,Kind=link}"
	mRateLimit   = "SendRefused{Reason=rate_limit,Channel=email}"
	mDailyCap    = "SendRefused{Reason=daily_cap,Channel=email}"
	mUnverified  = "SendRefused{Reason=unverified,Channel=email}"
	mSendFailed  = "SendFailed{Channel=email}"
	issueSession = "q3Vx-_9aZk0bT1c2D3e4Fg"
)

// metricsEnv is a magic-link deployment whose Issuer counts into an EMF recorder.
func metricsEnv(t *testing.T, mutate func(*magiclink.Config)) (*env, *metrics.Recorder, *bytes.Buffer) {
	t.Helper()
	e := newEnv(t, mutate)
	out := &bytes.Buffer{}
	rec := metrics.New(out, "PasswordlessTest")
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
		Challenge:  authflow.Challenge{Kind: authflow.KindLink, SessionID: sid, Reason: authflow.ReasonSelect, Method: authflow.MagicLink, Generation: 1},
		UserPoolID: poolID, ClientID: clientID, UserName: u.name, UserAttributes: u.attrs, UserNotFound: u.userNotFound,
		ClientMetadata: meta(), Key: testKey,
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
	want := func(step string, w map[string]int) {
		t.Helper()
		if got := emfCounts(t, rec, out); !maps.Equal(got, w) {
			t.Fatalf("%s: metrics %v, want %v", step, got, w)
		}
	}
	if _, err := issue(t, e, users[alice], "retry-round-000001"); err != nil || e.mail.n() != 1 {
		t.Fatalf("first link: %v, %d emails", err, e.mail.n())
	}
	want("a link sent", map[string]int{mSent: 1})
	// Within the delay the schedule refuses before the round's stored link is seen: Create cannot
	// tell a retry from a second request without another read, and counts it as refused.
	if _, err := issue(t, e, users[alice], "retry-round-000001"); err != nil || e.mail.n() != 1 {
		t.Fatalf("retried Create: %v, %d emails", err, e.mail.n())
	}
	issue(t, e, users[alice])
	want("a retried Create and a second request within the wait", map[string]int{mRateLimit: 2})
	// Past the delay, the round's stored link stops the retry: nothing sent, nothing counted.
	e.clk.Add(time.Minute)
	if _, err := issue(t, e, users[alice], "retry-round-000001"); err != nil || e.mail.n() != 1 {
		t.Fatalf("retried Create past the delay: %v, %d emails", err, e.mail.n())
	}
	want("a retried Create past the delay", map[string]int{})

	unverified := user{name: "u-unverified", attrs: map[string]string{"email": "victim@example.net", "email_verified": "false"}}
	noEmail := user{name: "u-phone", attrs: map[string]string{"phone_number": "+447400123456", "phone_number_verified": "true"}}
	malformed := user{name: "u-malformed", attrs: map[string]string{"email": "not-an-address", "email_verified": "true"}}
	for _, u := range []user{unverified, noEmail, malformed} {
		issue(t, e, u)
	}
	want("no verified address", map[string]int{mUnverified: 3})
	for i := range 3 {
		issue(t, e, user{name: fmt.Sprintf("ghost%d@example.net", i), userNotFound: true})
	}
	issue(t, e, user{name: "ghost0@example.net", userNotFound: true}) // within its wait
	if e.mail.n() != 1 {
		t.Fatalf("%d emails", e.mail.n())
	}
	want("unknown users", map[string]int{})

	e.clk.Add(time.Hour)
	e.mail.err = errSES
	if _, err := issue(t, e, users[bob]); err == nil {
		t.Fatal("SES down: no error")
	}
	want("SES down", map[string]int{mSendFailed: 1})
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
	if w := map[string]int{mSent: 2, mRateLimit: 1, mDailyCap: 2}; !maps.Equal(got, w) {
		t.Fatalf("metrics %v, want %v", got, w)
	}
	if e.mail.n() != 2 {
		t.Fatalf("%d emails, want 2", e.mail.n())
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
		if _, err := issue(t, e, users[alice]); err != nil || e.mail.n() != 1 {
			t.Fatalf("metrics %v: %v, %d emails", m, err, e.mail.n())
		}
	}
}
