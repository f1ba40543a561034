package otp_test

import (
	"context"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

// dynEnv is an env whose Issuer uses a real store over dynalite.
type dynEnv struct {
	*env
	st    *store.Store
	tb    *storetest.Table
	fails *lockout.Counter
}

func newDynEnv(t *testing.T) *dynEnv {
	t.Helper()
	e := newEnv(t, otp.Config{})
	tb := storetest.New(t, "otp", store.WithClock(e.clock.Now))
	st := tb.Store
	var err error
	e.iss, err = otp.NewIssuer(otp.Config{EmailFrom: sender}, otp.IssuerDeps{Store: st, Email: e.ses, SMS: e.sns, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	fails, err := lockout.New(st, lockout.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return &dynEnv{env: e, st: st, tb: tb, fails: fails}
}

func (d *dynEnv) flow(t *testing.T, attrs map[string]string) *flow {
	f := newFlow(t, d.iss, d.chk, d.fails, nil)
	f.userName, f.attrs = userName, attrs
	return f
}

func TestDynaliteEmailFlow(t *testing.T) {
	d := newDynEnv(t)
	f := d.flow(t, emailAttrs(false))
	f.start()
	if got := f.respond("", selectMethod(authflow.EmailOTP)); got != nextRound {
		t.Fatalf("select: %v", got)
	}
	first := maps.Clone(f.round.PrivateChallengeParameters)
	code := d.lastEmailCode(t)
	// Cognito retries Create for the same round: same parameters, no second email.
	again, err := f.doCreate()
	if err != nil || !maps.Equal(again.PrivateChallengeParameters, first) {
		t.Fatalf("retried Create: %v, parameters changed: %v", err, !maps.Equal(again.PrivateChallengeParameters, first))
	}
	if got := f.respond(otherCode(code), selectMethod(authflow.EmailOTP)); got != nextRound {
		t.Fatalf("wrong code: %v", got)
	}
	if f.round.PrivateChallengeParameters[otp.PrivDigest] != first[otp.PrivDigest] {
		t.Fatal("the retry round has a different code")
	}
	if got := f.respond(code, selectMethod(authflow.EmailOTP)); got != tokens {
		t.Fatalf("right code: %v", got)
	}
	if d.ses.count() != 1 || d.cog.count() != 1 {
		t.Fatalf("%d emails, %d attribute updates; want 1 and 1", d.ses.count(), d.cog.count())
	}

	rec, err := d.st.GetOTP(context.Background(), sid0(f), 1)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Method != "email_otp" || !rec.ExpiresAt.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("record %+v", rec)
	}
	dump := d.tb.Text(t)
	for _, s := range []string{code, emailNorm, "liddell", "Liddell"} {
		if strings.Contains(dump, s) {
			t.Fatalf("table holds %q:\n%s", s, dump)
		}
	}
	if !strings.Contains(dump, "SEND#"+otp.RecipientKey(testKey, authflow.EmailOTP, email)) {
		t.Fatalf("no send schedule item for the keyed recipient:\n%s", dump)
	}
}

// sid0 returns the session ID of the flow's current round.
func sid0(f *flow) string { return f.round.PrivateChallengeParameters[authflow.PrivSessionID] }

func TestDynaliteSMSResendAndExpiry(t *testing.T) {
	d := newDynEnv(t)
	f := d.flow(t, phoneAttrs(phone, false, false))
	f.start()
	f.respond("", selectMethod(authflow.SMSOTP))
	gen1 := maps.Clone(f.round.PrivateChallengeParameters)
	old := d.lastSMSCode(t)
	d.clock.Add(61 * time.Second)
	if got := f.respond("", resend(authflow.SMSOTP)); got != nextRound {
		t.Fatalf("resend: %v", got)
	}
	if d.sns.count() != 2 || f.round.PrivateChallengeParameters[authflow.PrivGeneration] != "2" {
		t.Fatalf("%d SMS, generation %s", d.sns.count(), f.round.PrivateChallengeParameters[authflow.PrivGeneration])
	}
	code := d.lastSMSCode(t)
	if _, err := d.st.GetOTP(context.Background(), sid0(f), 2); err != nil {
		t.Fatalf("generation-2 record: %v", err)
	}
	// The generation-1 code against the generation-2 round.
	gen2 := f.round.PrivateChallengeParameters
	req := triggers.CheckRequest{Challenge: challenge(sid0(f), authflow.SMSOTP, 2, authflow.ReasonResend), Method: authflow.SMSOTP, Private: gen2, Answer: old, Caller: triggers.Caller{UserPoolID: poolID, UserName: userName, UserAttributes: phoneAttrs(phone, true, true), Key: testKey}}
	if old != code && d.check(t, req) {
		t.Fatal("the generation-1 code works in generation 2")
	}
	req.Private = maps.Clone(gen2)
	for _, k := range []string{otp.PrivSalt, otp.PrivDigest, otp.PrivAddress} {
		req.Private[k] = gen1[k]
	}
	if d.check(t, req) {
		t.Fatal("generation-1 parameters verify as generation 2")
	}
	// Expired.
	d.clock.Add(5*time.Minute + time.Second)
	if got := f.respond(code, selectMethod(authflow.SMSOTP)); got == tokens {
		t.Fatal("expired code gave tokens")
	}
	dump := d.tb.Text(t)
	for _, s := range []string{code, old, phone, phone[1:]} {
		if strings.Contains(dump, s) {
			t.Fatalf("table holds %q", s)
		}
	}
}

func TestDynaliteSendLimitAndUnknownUser(t *testing.T) {
	d := newDynEnv(t)
	f := d.flow(t, emailAttrs(true))
	f.start()
	f.respond("", selectMethod(authflow.EmailOTP))
	sent := f.round

	d.clock.Add(20 * time.Second)
	g := d.flow(t, emailAttrs(true))
	g.start()
	if got := g.respond("", selectMethod(authflow.EmailOTP)); got != nextRound {
		t.Fatalf("second sign-in: %v", got)
	}
	if d.ses.count() != 1 {
		t.Fatal("second code within 60 s was sent")
	}
	gp, sp := g.round.PublicChallengeParameters, sent.PublicChallengeParameters
	if gp[otp.PubDestination] != sp[otp.PubDestination] || gp[otp.PubCodeStatus] != "wait" || gp[otp.PubResendAfter] != "40" ||
		sp[otp.PubCodeStatus] != "sent" || sp[otp.PubResendAfter] != "60" {
		t.Fatalf("public parameters: %v, then %v", sp, gp)
	}

	u := d.flow(t, nil)
	u.userName, u.notFound = email, true
	u.start()
	if got := u.respond("", selectMethod(authflow.EmailOTP)); got != nextRound {
		t.Fatalf("unknown user: %v", got)
	}
	// Typing the real user's address, the unknown user takes the same schedule's step: the same
	// answer as the real user's second sign-in at that moment.
	if !maps.Equal(u.round.PublicChallengeParameters, g.round.PublicChallengeParameters) {
		t.Fatalf("unknown user sees %v, a real user %v", u.round.PublicChallengeParameters, g.round.PublicChallengeParameters)
	}
	if got := u.respond(d.lastEmailCode(t), selectMethod(authflow.EmailOTP)); got == tokens {
		t.Fatal("tokens for an unknown user")
	}
	d.clock.Add(61 * time.Second)
	h := d.flow(t, emailAttrs(true))
	h.start()
	h.respond("", selectMethod(authflow.EmailOTP))
	if d.ses.count() != 2 {
		t.Fatalf("%d emails after the window, want 2", d.ses.count())
	}
	if d.sns.count() != 0 {
		t.Fatal("SMS sent")
	}
}

func TestDynaliteConcurrentCreateSendsOnce(t *testing.T) {
	d := newDynEnv(t)
	req := issueReq(authflow.SMSOTP, 1, phoneAttrs(phone, true, true))
	const n = 12
	outs := make([]triggers.Issued, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = d.iss.Issue(context.Background(), req)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Issue %d: %v", i, errs[i])
		}
		if !maps.Equal(outs[i].Private, outs[0].Private) || outs[i].Public[otp.PubDestination] != outs[0].Public[otp.PubDestination] {
			t.Fatalf("concurrent Creates disagree: %v vs %v", outs[i], outs[0])
		}
	}
	sent := 0
	for i := range n {
		if outs[i].Public[otp.PubCodeStatus] == "sent" {
			sent++
		}
	}
	if sent != 1 {
		t.Fatalf("%d of %d concurrent Creates say a code was sent", sent, n)
	}
	if d.sns.count() != 1 {
		t.Fatalf("%d SMS for one round", d.sns.count())
	}
	if !d.check(t, checkReq(req, outs[3], d.lastSMSCode(t))) {
		t.Fatal("the code was refused")
	}
}

func TestDynaliteDeliveryFailure(t *testing.T) {
	d := newDynEnv(t)
	d.ses.err = apiError("Throttling", "Maximum sending rate exceeded.")
	f := d.flow(t, emailAttrs(true))
	f.start()
	if got := f.respond("", selectMethod(authflow.EmailOTP)); got != createFailed {
		t.Fatalf("got %v, want Create to fail", got)
	}
	d.ses.err = nil
	if _, err := f.doCreate(); err != nil {
		t.Fatalf("retried Create: %v", err)
	}
	if d.ses.count() != 1 {
		t.Fatalf("%d send attempts, want 1", d.ses.count())
	}
}

// TestDynaliteLockout: wrong codes across sign-ins lock the account; then even the right code
// is refused.
func TestDynaliteLockout(t *testing.T) {
	d := newDynEnv(t)
	wrong := 0
	for wrong < lockout.DefaultLimit {
		d.clock.Add(61 * time.Second)
		f := d.flow(t, emailAttrs(true))
		f.start()
		f.respond("", selectMethod(authflow.EmailOTP))
		code := d.lastEmailCode(t)
		for wrong < lockout.DefaultLimit {
			wrong++
			if got := f.respond(otherCode(code), selectMethod(authflow.EmailOTP)); got != nextRound {
				break
			}
		}
	}
	d.clock.Add(61 * time.Second)
	f := d.flow(t, emailAttrs(true))
	f.start()
	f.respond("", selectMethod(authflow.EmailOTP))
	if got := f.respond(d.lastEmailCode(t), selectMethod(authflow.EmailOTP)); got == tokens {
		t.Fatal("a locked account signed in")
	}
	d.clock.Add(lockout.DefaultWindow)
	f = d.flow(t, emailAttrs(true))
	f.start()
	f.respond("", selectMethod(authflow.EmailOTP))
	if got := f.respond(d.lastEmailCode(t), selectMethod(authflow.EmailOTP)); got != tokens {
		t.Fatalf("after the window: %v", got)
	}
}

// TestDynaliteEstablishedAccountsAndBudget runs the issue 10 rules against the real store: no
// code to an unverified address of an account with a device key (read from the owner's META
// item), one unit of the deployment's SMS budget per SMS to an unverified number, and a sign-in
// resetting the delays (SEND# items under keyed recipients only).
func TestDynaliteEstablishedAccountsAndBudget(t *testing.T) {
	d := newDynEnv(t)
	ctx := context.Background()
	// A fresh sign-up gets its code; the same account with a device key does not.
	fresh := issueReq(authflow.EmailOTP, 1, emailAttrs(false))
	d.issue(t, fresh)
	if d.ses.count() != 1 {
		t.Fatal("no code for a fresh sign-up")
	}
	err := d.st.PutDeviceKey(ctx, store.DeviceKey{Owner: userName, ID: "k1", Algorithm: "ES256", Fingerprint: "fp", PublicKey: []byte("spki")}, 10)
	if err != nil {
		t.Fatal(err)
	}
	d.clock.Add(time.Hour)
	withKey := fresh
	withKey.Challenge.SessionID = sid2
	out := d.issue(t, withKey)
	if d.ses.count() != 1 || out.Public[otp.PubCodeStatus] != "sent" {
		t.Fatalf("a code went to the unverified address of an account with a device key (%d emails, %v)", d.ses.count(), out.Public)
	}

	// SMS to an unverified number takes a unit of the budget; to a verified one, none.
	sms := issueReq(authflow.SMSOTP, 1, map[string]string{"sub": "other-user", "phone_number": gbMobile(3), "phone_number_verified": "false"})
	sms.Challenge.SessionID = session(1)
	d.issue(t, sms)
	verified := issueReq(authflow.SMSOTP, 1, phoneAttrs(gbMobile(4), true, true))
	verified.Challenge.SessionID = session(2)
	d.issue(t, verified)
	if d.sns.count() != 2 {
		t.Fatalf("%d SMS", d.sns.count())
	}
	dump := d.tb.Text(t)
	if n := strings.Count(dump, "pk=RATE#sms-unverified"); n != 2 { // the hour and the day
		t.Fatalf("%d budget items:\n%s", n, dump)
	}
	for _, s := range []string{"7400123403", "7400123404", "alice", "Alice"} {
		if strings.Contains(dump, s) {
			t.Fatalf("table holds %q:\n%s", s, dump)
		}
	}

	// Signing in resets the verified number's delays: the next code goes at once.
	d.clock.Add(10 * time.Second)
	if err := otp.NewSendReset(d.st, nil).Succeeded(ctx, checkReq(verified, triggers.Issued{}, "")); err != nil {
		t.Fatal(err)
	}
	again := verified
	again.Challenge.SessionID = session(3)
	if out := d.issue(t, again); d.sns.count() != 3 || out.Public[otp.PubResendAfter] != "60" {
		t.Fatalf("after the reset: %d SMS, %v", d.sns.count(), out.Public)
	}
}
