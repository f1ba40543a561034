package otp_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/internal/testkit"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// withMetrics replaces e's issuer with one counting into a Recorder writing to buf.
func withMetrics(tb testing.TB, e *env, cfg otp.Config, buf *bytes.Buffer) *metrics.Recorder {
	tb.Helper()
	if cfg.EmailFrom == "" {
		cfg.EmailFrom = sender
	}
	rec := metrics.New(buf, "test-ns")
	var err error
	e.iss, err = otp.NewIssuer(cfg, otp.IssuerDeps{Store: e.store, Email: e.ses, SMS: e.sns, Now: e.clock.Now, Metrics: rec})
	if err != nil {
		tb.Fatal(err)
	}
	return rec
}

// sendScenario is one or more rounds and what they must count.
type sendScenario struct {
	name string
	cfg  otp.Config
	run  func(t *testing.T, e *env)
	want map[string]float64
}

// issueEach issues one first round per attrs, each in its own sign-in, step apart.
func issueEach(m authflow.Method, step time.Duration, attrs ...map[string]string) func(*testing.T, *env) {
	return func(t *testing.T, e *env) {
		for i, a := range attrs {
			req := issueReq(m, 1, a)
			req.Challenge.SessionID = session(i)
			e.issueQuick(t, req)
			e.clock.Add(step)
		}
	}
}

func sendScenarios() []sendScenario {
	verifiedPhone := phoneAttrs(phone, true, true)
	return []sendScenario{
		{name: "email sent", run: issueEach(authflow.EmailOTP, 0, emailAttrs(true)),
			want: map[string]float64{"Sent{Channel=email,Kind=code}": 1}},
		{name: "SMS sent", run: issueEach(authflow.SMSOTP, 0, verifiedPhone),
			want: map[string]float64{"Sent{Channel=sms,Kind=code}": 1}},
		{name: "send delay: rate_limit", run: issueEach(authflow.EmailOTP, 30*time.Second, emailAttrs(true), emailAttrs(true)),
			want: map[string]float64{"Sent{Channel=email,Kind=code}": 1, "SendRefused{Channel=email,Reason=rate_limit}": 1}},
		{name: "resend within the delay: rate_limit", run: func(t *testing.T, e *env) {
			e.issueQuick(t, issueReq(authflow.SMSOTP, 1, verifiedPhone))
			e.clock.Add(10 * time.Second)
			req := issueReq(authflow.SMSOTP, 2, verifiedPhone)
			req.Challenge.Reason = authflow.ReasonResend
			e.issueQuick(t, req)
		}, want: map[string]float64{"Sent{Channel=sms,Kind=code}": 1, "SendRefused{Channel=sms,Reason=rate_limit}": 1}},
		{name: "daily cap: daily_cap", cfg: otp.Config{SendDelays: []time.Duration{time.Second}, SendDailyCap: 3},
			run:  issueEach(authflow.SMSOTP, time.Minute, verifiedPhone, verifiedPhone, verifiedPhone, verifiedPhone, verifiedPhone),
			want: map[string]float64{"Sent{Channel=sms,Kind=code}": 3, "SendRefused{Channel=sms,Reason=daily_cap}": 2}},
		{name: "country not allowed: country", run: issueEach(authflow.SMSOTP, 0, phoneAttrs("+79161234567", true, true)),
			want: map[string]float64{"SendRefused{Channel=sms,Reason=country}": 1}},
		{name: "premium-rate number: country", run: issueEach(authflow.SMSOTP, 0, phoneAttrs("+449098790000", true, true)),
			want: map[string]float64{"SendRefused{Channel=sms,Reason=country}": 1}},
		{name: "number does not parse: other", run: issueEach(authflow.SMSOTP, 0, phoneAttrs("07400123456", true, true)),
			want: map[string]float64{"SendRefused{Channel=sms,Reason=other}": 1}},
		{name: "malformed email address: other",
			run:  issueEach(authflow.EmailOTP, 0, map[string]string{"sub": userName, "email": "alice.at.example", "email_verified": "true"}),
			want: map[string]float64{"SendRefused{Channel=email,Reason=other}": 1}},
		{name: "unverified number, verified email: unverified", run: issueEach(authflow.SMSOTP, 0, phoneAttrs(phone, false, true)),
			want: map[string]float64{"SendRefused{Channel=sms,Reason=unverified}": 1}},
		{name: "unverified email, verified number: unverified", run: issueEach(authflow.EmailOTP, 0, phoneAttrs(phone, true, false)),
			want: map[string]float64{"SendRefused{Channel=email,Reason=unverified}": 1}},
		{name: "unverified number, no sub: unverified", run: issueEach(authflow.SMSOTP, 0, map[string]string{"phone_number": phone}),
			want: map[string]float64{"SendRefused{Channel=sms,Reason=unverified}": 1}},
		{name: "unverified email, a device key: unverified", run: func(t *testing.T, e *env) {
			e.store.creds[userName] = [2]int{1, 0}
			issueEach(authflow.EmailOTP, 0, emailAttrs(false))(t, e)
		}, want: map[string]float64{"SendRefused{Channel=email,Reason=unverified}": 1}},
		{name: "SMS budget for unverified numbers spent: budget",
			cfg: otp.Config{SMSUnverifiedLimits: []store.Limit{{Window: time.Hour, Max: 1}}},
			run: func(t *testing.T, e *env) {
				for i := range 2 {
					req := issueReq(authflow.SMSOTP, 1, phoneAttrs(gbMobile(i), false, false))
					req.UserAttributes["sub"] = fmt.Sprintf("fresh-%d", i)
					req.Challenge.SessionID = session(i)
					e.issueQuick(t, req)
				}
			}, want: map[string]float64{"Sent{Channel=sms,Kind=code}": 1, "SendRefused{Channel=sms,Reason=budget}": 1}},
		{name: "SES failed", run: func(t *testing.T, e *env) {
			e.ses.err = apiError("MessageRejected", "Email address is not verified: "+emailNorm)
			if _, err := e.iss.Issue(context.Background(), issueReq(authflow.EmailOTP, 1, emailAttrs(true))); err == nil {
				t.Fatal("no error")
			}
		}, want: map[string]float64{"SendFailed{Channel=email}": 1}},
		{name: "SNS failed", run: func(t *testing.T, e *env) {
			e.sns.err = apiError("InvalidParameter", "Invalid parameter: PhoneNumber "+phone)
			if _, err := e.iss.Issue(context.Background(), issueReq(authflow.SMSOTP, 1, verifiedPhone)); err == nil {
				t.Fatal("no error")
			}
		}, want: map[string]float64{"SendFailed{Channel=sms}": 1}},
		{name: "unknown user: nothing counted", run: func(t *testing.T, e *env) {
			for i, m := range []authflow.Method{authflow.EmailOTP, authflow.SMSOTP} {
				req := issueReq(m, 1, nil)
				req.UserNotFound, req.UserName = true, map[bool]string{true: email, false: phone}[m == authflow.EmailOTP]
				req.Challenge.SessionID = session(i)
				e.issueQuick(t, req)
			}
		}},
		{name: "user without a number: nothing counted", run: issueEach(authflow.SMSOTP, 0, emailAttrs(true))},
		{name: "retried Create: counted once", run: func(t *testing.T, e *env) {
			req := issueReq(authflow.EmailOTP, 1, emailAttrs(true))
			e.issueQuick(t, req)
			e.issueQuick(t, req)
		}, want: map[string]float64{"Sent{Channel=email,Kind=code}": 1}},
	}
}

// TestSendMetrics reads the EMF lines of every send and every refusal path.
func TestSendMetrics(t *testing.T) {
	for _, sc := range sendScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			var buf bytes.Buffer
			e := newEnv(t, sc.cfg)
			rec := withMetrics(t, e, sc.cfg, &buf)
			sc.run(t, e)
			rec.Flush()
			want := sc.want
			testkit.WantCounts(t, "", testkit.EMFCounts(t, buf.Bytes(), "test-ns"), want)
			if sent, n := e.ses.count()+e.sns.count(), want["Sent{Channel=email,Kind=code}"]+want["Sent{Channel=sms,Kind=code}"]+
				want["SendFailed{Channel=email}"]+want["SendFailed{Channel=sms}"]; float64(sent) != n {
				t.Errorf("%d messages handed to SES/SNS, metrics count %g", sent, n)
			}
		})
	}
}

// TestSendMetricsCarryNoSecrets: no EMF line of the send scenarios holds an address, a phone
// number (or its digits), a code, a user name or a session ID.
func TestSendMetricsCarryNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	var codes []string
	for _, sc := range sendScenarios() {
		e := newEnv(t, sc.cfg)
		rec := withMetrics(t, e, sc.cfg, &buf)
		sc.run(t, e)
		rec.Flush()
		for _, in := range e.ses.sent {
			codes = append(codes, codeRE.FindString(in.Text))
		}
		for _, in := range e.sns.sent {
			codes = append(codes, codeRE.FindString(in.Message))
		}
	}
	if len(codes) < 5 || buf.Len() == 0 {
		t.Fatalf("%d codes, %d bytes of metrics: the scenarios did not run", len(codes), buf.Len())
	}
	secrets := append([]string{email, emailNorm, "alice", "example", phone, "7400123456", "9161234567", "9098790000",
		userName, sid, session(0), session(1), "fresh-0"}, codes...)
	for line := range strings.Lines(buf.String()) {
		for _, s := range secrets {
			if s != "" && strings.Contains(strings.ToLower(line), strings.ToLower(s)) {
				t.Errorf("%q leaks into %s", s, line)
			}
		}
	}
}

// TestCheckerTellsExpiredRounds: the Checker tells Verify that a refused answer came after the
// round's expiry (triggers.ExpiryChecker), from the private parameters alone.
func TestCheckerTellsExpiredRounds(t *testing.T) {
	e := newEnv(t, otp.Config{})
	req, out, code := e.issueEmail(t, true)
	ec, ok := any(e.chk).(triggers.ExpiryChecker)
	if !ok {
		t.Fatal("otp.Checker does not implement triggers.ExpiryChecker")
	}
	creq := checkReq(req, out, otherCode(code))
	if ec.Expired(creq) {
		t.Fatal("a fresh round reported expired")
	}
	e.clock.Add(otp.DefaultTTL + time.Second)
	if e.check(t, creq) || !ec.Expired(creq) {
		t.Fatal("an answer after the expiry was not reported expired")
	}
	creq.Private[otp.PrivExpires] = "soon"
	if ec.Expired(creq) {
		t.Fatal("a malformed expiry reported expired")
	}
	if nilChecker, ok := any((*otp.Checker)(nil)).(triggers.ExpiryChecker); ok && nilChecker.Expired(creq) {
		t.Fatal("a nil Checker reported expired")
	}
}
