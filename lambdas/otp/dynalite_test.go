package otp_test

import (
	"context"
	"encoding/base64"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/otp"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

// dynEnv is an env whose Issuer uses a real store over dynalite.
type dynEnv struct {
	*env
	st    *store.Store
	db    *dynamodb.Client
	table string
	fails *lockout.Counter
}

func newDynEnv(t *testing.T) *dynEnv {
	t.Helper()
	srv := dynalitetest.Shared(t)
	db := srv.Client()
	table := dynalitetest.NewTable(t, db, store.TableDefinition("otp"))
	e := newEnv(t, otp.Config{})
	st := store.New(db, table, store.WithClock(e.clock.Now))
	var err error
	e.iss, err = otp.NewIssuer(otp.Config{EmailFrom: sender}, otp.IssuerDeps{Store: st, Email: e.ses, SMS: e.sns, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	fails, err := lockout.New(st, lockout.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return &dynEnv{env: e, st: st, db: db, table: table, fails: fails}
}

func (d *dynEnv) flow(t *testing.T, attrs map[string]string) *flow {
	f := newFlow(t, d.iss, d.chk, d.fails, nil)
	f.userName, f.attrs = userName, attrs
	return f
}

// tableText returns every key and value in the table as text (binary values raw and base64).
func (d *dynEnv) tableText(t *testing.T) string {
	t.Helper()
	out, err := d.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(d.table), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, item := range out.Items {
		for k, v := range item {
			b.WriteString(k + "=")
			switch v := v.(type) {
			case *types.AttributeValueMemberS:
				b.WriteString(v.Value)
			case *types.AttributeValueMemberN:
				b.WriteString(v.Value)
			case *types.AttributeValueMemberB:
				b.Write(v.Value)
				b.WriteString(" " + base64.StdEncoding.EncodeToString(v.Value))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
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
	dump := d.tableText(t)
	for _, s := range []string{code, emailNorm, "liddell", "Liddell"} {
		if strings.Contains(dump, s) {
			t.Fatalf("table holds %q:\n%s", s, dump)
		}
	}
	if !strings.Contains(dump, otp.RecipientKey(authflow.EmailOTP, email)) {
		t.Fatalf("no send-limit item for the hashed recipient:\n%s", dump)
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
	req := triggers.CheckRequest{Challenge: challenge(sid0(f), authflow.SMSOTP, 2, authflow.ReasonResend), Method: authflow.SMSOTP, Private: gen2, Answer: old, UserPoolID: poolID, UserName: userName, UserAttributes: phoneAttrs(phone, true, true)}
	if old != code && d.check(t, req) {
		t.Fatal("the generation-1 code works in generation 2")
	}
	req.Private = maps.Clone(gen2)
	for _, k := range []string{otp.PrivSalt, otp.PrivDigest, otp.PrivRecipient} {
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
	dump := d.tableText(t)
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
	if !maps.Equal(g.round.PublicChallengeParameters, sent.PublicChallengeParameters) {
		t.Fatalf("public parameters differ: %v vs %v", g.round.PublicChallengeParameters, sent.PublicChallengeParameters)
	}

	u := d.flow(t, nil)
	u.userName, u.notFound = email, true
	u.start()
	if got := u.respond("", selectMethod(authflow.EmailOTP)); got != nextRound {
		t.Fatalf("unknown user: %v", got)
	}
	if !maps.Equal(u.round.PublicChallengeParameters, sent.PublicChallengeParameters) {
		t.Fatalf("unknown user sees %v, a real user %v", u.round.PublicChallengeParameters, sent.PublicChallengeParameters)
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
		if !maps.Equal(outs[i].Private, outs[0].Private) || !maps.Equal(outs[i].Public, outs[0].Public) {
			t.Fatalf("concurrent Creates disagree: %v vs %v", outs[i].Private, outs[0].Private)
		}
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
