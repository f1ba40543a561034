//go:build unix

package e2e

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/passwordless-go/cognito/infra/local/idp"
	"github.com/passwordless-go/cognito/infra/local/signin"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// Load test sizes. make test checks correctness under concurrency; throughput and latency (and
// 200 and more sign-ins at once) are make bench's (infra/cmd/bench -load).
const (
	loadTotal   = 200 // sign-ins
	loadClients = 32  // at once
	// loadAttempts caps the attempts of one sign-in: a busy machine may fail a trigger (a
	// timeout), which fails the sign-in cleanly; the client then starts it again, as an app would.
	// Only the first attempt answers wrongly, so retries cannot lock the account.
	loadAttempts = 6
)

// errClean marks an attempt that failed the way Cognito fails a sign-in (an API error, no
// tokens): the client may start the sign-in again.
var errClean = errors.New("clean failure")

// clean wraps err as a clean failure when it is a Cognito API error (or the attempt's deadline);
// anything else (a wrong result) stays as it is.
func clean(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", errClean, err)
	}
	return err
}

// loadJob is one sign-in of the load test and what its attempts saw.
type loadJob struct {
	method string
	u      *user
	key    *deviceKey

	attempts, failed int   // attempts made, attempts that failed cleanly
	sent             int   // CODE rounds that said codeStatus "sent"
	lastErr          error // the last clean failure
	err              error // a wrong result: the test fails
}

// TestLoad runs 200 sign-ins across the three methods, 32 at a time, each with one wrong answer
// before the right one, and checks correctness only, never speed (issue 11): every sign-in ends
// with tokens of its own user (a sign-in a busy machine fails cleanly is started again, at most
// loadAttempts times, as an app would; none is lost), no code signs in twice, no code is sent
// twice (one message per "sent" answer, give or take a send of an attempt that failed after
// sending), every device key is there once and was used, no function crashed, and each account
// holds exactly the attempt slots of its checked wrong answers (one per code sign-in, none for
// device keys: key answers are never counted). Throughput and latency are logged only.
func TestLoad(t *testing.T) {
	h := need(t)
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	const (
		nKey     = 66
		nEmail   = 67
		nSMS     = loadTotal - nKey - nEmail
		setupPar = 16
	)
	jobs := make([]*loadJob, loadTotal)

	// Set-up: sign-ups, and for the device-key users a code sign-in and a registration.
	setupStart := time.Now()
	var mu sync.Mutex
	var setupErrs []string
	fail := func(format string, args ...any) {
		mu.Lock()
		setupErrs = append(setupErrs, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	sem := make(chan struct{}, setupPar)
	var wg sync.WaitGroup
	for i := range jobs {
		m := "device_key"
		switch {
		case i >= nKey+nEmail:
			m = "sms_otp"
		case i >= nKey:
			m = "email_otp"
		}
		jobs[i] = &loadJob{method: m}
		wg.Add(1)
		go func(j *loadJob) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			u, err := trySignUp(j.method)
			if err != nil {
				fail("sign-up: %v", err)
				return
			}
			j.u = u
			if j.method == "device_key" {
				if j.key, err = tryEnrol(u); err != nil {
					fail("enrol %s: %v", u.email, err)
				}
			}
		}(jobs[i])
	}
	wg.Wait()
	if len(setupErrs) > 0 {
		t.Fatalf("set-up: %d errors, first: %s", len(setupErrs), setupErrs[0])
	}
	t.Logf("set-up: %d sign-ups and %d key enrolments in %s", loadTotal, nKey, time.Since(setupStart).Round(time.Millisecond))

	// The load.
	idpBefore := h.IdP.Stats()
	crashesBefore := map[string]int{}
	for c, host := range h.Hosts {
		crashesBefore[c] = host.Stats().Crashes
	}
	loadStart := time.Now()
	lat := map[string][]time.Duration{}
	work := make(chan *loadJob)
	for range loadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				start := time.Now()
				runLoadJob(j)
				d := time.Since(start)
				mu.Lock()
				lat[j.method] = append(lat[j.method], d)
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(loadStart)
	loadEnd := time.Now()

	var wrong, lost []string
	retried, failedAttempts := 0, 0
	for _, j := range jobs {
		failedAttempts += j.failed
		if j.attempts > 1 {
			retried++
		}
		switch {
		case j.err != nil:
			wrong = append(wrong, fmt.Sprintf("%s %s: %v", j.method, j.u.name(), j.err))
		case j.failed == j.attempts:
			lost = append(lost, fmt.Sprintf("%s %s: %d attempts failed, last: %v", j.method, j.u.name(), j.attempts, j.lastErr))
		}
	}
	sort.Strings(wrong)
	sort.Strings(lost)
	if len(wrong) > 0 {
		t.Errorf("%d of %d sign-ins went wrong; first: %s", len(wrong), loadTotal, strings.Join(wrong[:min(5, len(wrong))], "; "))
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d sign-ins never succeeded; first: %s", len(lost), loadTotal, strings.Join(lost[:min(5, len(lost))], "; "))
	}
	var all []time.Duration
	for _, m := range []string{"email_otp", "sms_otp", "device_key"} {
		all = append(all, lat[m]...)
		t.Logf("%-10s n=%3d  p50 %6s  p99 %6s  max %6s", m, len(lat[m]), median(lat[m]).Round(time.Millisecond), pct(lat[m], 99).Round(time.Millisecond), pct(lat[m], 100).Round(time.Millisecond))
	}
	t.Logf("%d sign-ins, %d at a time, in %s (%.1f/s; timing is make bench's, not asserted); %d sign-ins retried after %d clean failures",
		loadTotal, loadClients, elapsed.Round(time.Millisecond), float64(loadTotal)/elapsed.Seconds(), retried, failedAttempts)

	// Counters. Without a failed attempt or a trigger retry, exactly one Verify per answer; a busy
	// machine may add retries and failures (logged), never a crash.
	idpAfter := h.IdP.Stats()
	retries, failures := 0, 0
	for _, trig := range []string{idp.TriggerDefine, idp.TriggerCreate, idp.TriggerVerify} {
		retries += idpAfter.Retries[trig] - idpBefore.Retries[trig]
		failures += idpAfter.Failures[trig] - idpBefore.Failures[trig]
	}
	wantVerify := (nEmail+nSMS)*3 + nKey*2
	gotVerify := idpAfter.Invocations[idp.TriggerVerify] - idpBefore.Invocations[idp.TriggerVerify]
	if failedAttempts == 0 && retries == 0 && gotVerify != wantVerify {
		t.Errorf("Verify ran %d times, want %d", gotVerify, wantVerify)
	}
	t.Logf("Verify invocations %d (%d without retries); trigger retries %d, trigger failures %d", gotVerify, wantVerify, retries, failures)
	for c, host := range h.Hosts {
		s := host.Stats()
		if d := s.Crashes - crashesBefore[c]; d != 0 {
			t.Errorf("%s: %d crashes", c, d)
		}
		t.Logf("%-9s invocations %4d, processes %d, errors %d, timeouts %d, cold starts p50 %s", c, s.Invocations, s.ColdStarts, s.Errors, s.Timeouts, median(s.ColdStartDurations).Round(time.Millisecond))
	}

	// Every account holds the slots of its checked wrong answers; every key is there once; every
	// code user got one message per "sent" answer.
	st := store.New(h.Dynamo.Client(), h.TableName)
	for _, j := range jobs {
		if j.err != nil || j.failed == j.attempts {
			continue
		}
		slots, err := attemptSlots(h.DeploymentSecret(), j.u.sub, loadStart, loadEnd)
		if err != nil {
			t.Errorf("%s %s: attempt slots: %v", j.method, j.u.name(), err)
			continue
		}
		switch {
		case j.method == "device_key" && slots != 0:
			t.Errorf("%s: %d attempt slots; key answers are never counted", j.u.email, slots)
		case j.method != "device_key" && j.failed == 0 && slots != 1:
			t.Errorf("%s %s: %d attempt slots, want 1 (the wrong code kept its slot, the right one gave it back)", j.method, j.u.name(), slots)
		case j.method != "device_key" && (slots > j.attempts || slots > lockoutLimit):
			t.Errorf("%s %s: %d attempt slots after %d attempts", j.method, j.u.name(), slots, j.attempts)
		}
		switch j.method {
		case "device_key":
			keys, err := st.ListDeviceKeys(context.Background(), j.u.sub)
			if err != nil || len(keys) != 1 || keys[0].ID != j.key.id || keys[0].LastUsedAt.IsZero() {
				t.Errorf("device keys of %s: %+v (err %v), want %s used", j.u.email, keys, err, j.key.id)
			}
		default:
			n := messages(recipient(j.u, j.method))
			if n < j.sent || n > j.sent+j.failed || (j.failed == 0 && n != 1) {
				t.Errorf("%s: %d messages for %d sent answers and %d failed attempts", recipient(j.u, j.method), n, j.sent, j.failed)
			}
		}
	}
}

// runLoadJob signs j's user in, starting again after a clean failure (at most loadAttempts
// attempts, while the overall deadline allows).
func runLoadJob(j *loadJob) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	for j.attempts < loadAttempts && ctx.Err() == nil {
		j.attempts++
		actx, acancel := context.WithTimeout(ctx, 90*time.Second)
		err := signInOnce(actx, j, j.attempts == 1)
		acancel()
		switch {
		case err == nil:
			return
		case errors.Is(err, errClean):
			j.failed++
			j.lastErr = err
			time.Sleep(time.Duration(j.attempts) * 200 * time.Millisecond)
		default:
			j.err = err
			return
		}
	}
}

// trySignUp signs up a new user with an address (or, for sms_otp, a number) of its own, without a
// testing.T (it runs in many goroutines).
func trySignUp(m string) (*user, error) {
	for attempt := 1; ; attempt++ {
		email, phone := uniqueEmail("load"), ""
		if m == "sms_otp" {
			email, phone = "", uniquePhone()
		}
		u := &user{email: email, phone: phone}
		out, err := cog.SignUp(context.Background(), signUpInput(u))
		if err == nil {
			u.sub = aws.ToString(out.UserSub)
			return u, nil
		}
		// A trigger that ran out of time on a busy machine (UnexpectedLambdaException) is tried
		// again with a fresh user, as an app would; any other refusal is an answer.
		var ule *types.UnexpectedLambdaException
		if !errors.As(err, &ule) || attempt == loadAttempts {
			return nil, err
		}
		time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
	}
}

// tryEnrol signs u in with an email code and registers a P-256 key, without a testing.T (it runs
// in many goroutines). A sign-in that fails cleanly, or a registration answered with a 5xx, is
// tried again.
func tryEnrol(u *user) (*deviceKey, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	j := &loadJob{method: "email_otp", u: u}
	var access string
	var err error
	for attempt := 1; ; attempt++ {
		actx, acancel := context.WithTimeout(ctx, 90*time.Second)
		access, err = codeFlow(actx, j, false)
		acancel()
		if err == nil || !errors.Is(err, errClean) || attempt == loadAttempts || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
	}
	if err != nil {
		return nil, err
	}
	k, err := generateP256()
	if err != nil {
		return nil, err
	}
	// A 5xx ("try again later": a dependency call ran out of time on a busy machine) is retried,
	// as a client would; anything else is an answer.
	var status int
	var raw []byte
	for attempt := 1; ; attempt++ {
		if status, raw, err = tryRegister(access, k, "load"); err != nil {
			return nil, err
		}
		if status < 500 || attempt == loadAttempts || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
	}
	var out struct{ KeyID string }
	if status != http.StatusCreated || json.Unmarshal(raw, &out) != nil || out.KeyID == "" {
		return nil, fmt.Errorf("POST /device-keys: %d %s", status, raw)
	}
	return &deviceKey{priv: k, id: out.KeyID, owner: u}, nil
}

// signInOnce is one attempt of a load sign-in: with wrongFirst a wrong answer, then the right
// one, then (codes) a replay of the winning answer on its spent session, which must be refused.
// The tokens must be the user's own.
func signInOnce(ctx context.Context, j *loadJob, wrongFirst bool) error {
	if j.method != "device_key" {
		access, err := codeFlow(ctx, j, wrongFirst)
		if err != nil {
			return err
		}
		return ownToken(access, j.u)
	}
	init, err := app.Initiate(ctx, j.u.email)
	if err != nil {
		return clean(err)
	}
	name, nonce := init.ChallengeParameters["USERNAME"], init.ChallengeParameters["nonce"]
	session := init.Session
	if wrongFirst {
		bad, err := signAnswer(j.key.priv, j.key.id, name, nonce+"x")
		if err != nil {
			return err
		}
		out, err := app.Respond(ctx, session, name, bad, method(j.method))
		if signin.Tokens(out) {
			return errors.New("tokens for a wrong signature")
		}
		if err != nil {
			return clean(err)
		}
		if out.ChallengeParameters["nonce"] == "" {
			return fmt.Errorf("wrong signature: want a retry round, got %v", out.ChallengeParameters)
		}
		session, nonce = out.Session, out.ChallengeParameters["nonce"]
	}
	good, err := signAnswer(j.key.priv, j.key.id, name, nonce)
	if err != nil {
		return err
	}
	res, err := app.Respond(ctx, session, name, good, method(j.method))
	if err != nil {
		return clean(err)
	}
	if !signin.Tokens(res) {
		return fmt.Errorf("right signature: no tokens (%v)", res.ChallengeParameters)
	}
	return ownToken(aws.ToString(res.AuthenticationResult.AccessToken), j.u)
}

// codeFlow runs a code sign-in for j's user; with wrongFirst it answers a wrong code first and,
// after the tokens, replays the right code on the spent session. When the recipient's send delay
// keeps the code (a previous attempt sent one), it waits the announced resendAfter and asks for
// a resend. It returns the access token.
func codeFlow(ctx context.Context, j *loadJob, wrongFirst bool) (string, error) {
	m, u := j.method, j.u
	to := recipient(u, m)
	before := messages(to)
	init, err := app.Initiate(ctx, u.name())
	if err != nil {
		return "", clean(err)
	}
	name := init.ChallengeParameters["USERNAME"]
	sel, err := app.Respond(ctx, init.Session, name, m, method(m))
	if err != nil {
		return "", clean(err)
	}
	if signin.Tokens(sel) || sel.ChallengeParameters["kind"] != "CODE" {
		return "", fmt.Errorf("choose %s: want a CODE round, got %v", m, sel.ChallengeParameters)
	}
	if st := sel.ChallengeParameters["codeStatus"]; st == "kept" || st == "wait" {
		n, err := strconv.Atoi(sel.ChallengeParameters["resendAfter"])
		if err != nil || n < 0 || time.Duration(n)*time.Second > maxSendDelay {
			return "", fmt.Errorf("kept code round with resendAfter %q", sel.ChallengeParameters["resendAfter"])
		}
		select {
		case <-time.After(time.Duration(n)*time.Second + time.Second):
		case <-ctx.Done():
			return "", clean(ctx.Err())
		}
		sel, err = app.Respond(ctx, sel.Session, name, "resend", resendMeta(m))
		if err != nil {
			return "", clean(err)
		}
		if signin.Tokens(sel) || sel.ChallengeParameters["codeStatus"] != "sent" {
			return "", fmt.Errorf("resend after the announced wait: %v", sel.ChallengeParameters)
		}
	}
	j.sent++ // the round now says "sent" (checked above for a resend)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	msg, err := H.AWS.WaitMessage(wctx, to, before+1)
	cancel()
	if err != nil {
		return "", fmt.Errorf("no code message: %w", err)
	}
	code := extract(msg.Text)
	session := sel.Session
	if wrongFirst {
		out, err := app.Respond(ctx, session, name, wrongCode(code), method(m))
		if signin.Tokens(out) {
			return "", errors.New("tokens for a wrong code")
		}
		if err != nil {
			return "", clean(err)
		}
		session = out.Session
	}
	res, err := app.Respond(ctx, session, name, code, method(m))
	if err != nil {
		return "", clean(err)
	}
	if !signin.Tokens(res) {
		return "", fmt.Errorf("right code: no tokens (%v)", res.ChallengeParameters)
	}
	if wrongFirst {
		again, err := app.Respond(ctx, session, name, code, method(m))
		if signin.Tokens(again) || !signin.IsNotAuthorized(err) {
			return "", fmt.Errorf("code replayed on its spent session: tokens=%v err=%v", signin.Tokens(again), err)
		}
	}
	return aws.ToString(res.AuthenticationResult.AccessToken), nil
}

// ownToken checks that an access token is u's (sub and user name), reading its claims (the
// authorizer checks the signature).
func ownToken(access string, u *user) error {
	parts := strings.Split(access, ".")
	if len(parts) != 3 {
		return errors.New("access token is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	var c struct{ Sub, Username string }
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	if c.Sub != u.sub || c.Username != u.sub {
		return fmt.Errorf("tokens of %s/%s for user %s", c.Sub, c.Username, u.sub)
	}
	return nil
}

// attemptSlots is the number of wrong answers to guessable challenges the account of sub has had
// checked in the lockout windows from `from` to `to`: the attempt slots it holds (lambdas/lockout:
// a checked wrong answer keeps its slot, a right one gives it back) plus any legacy failure
// count. It reads the table the way the functions key it, with the harness's deployment secret:
// pk=FAILS#<lockout.Key>, sk=W#<window start>, "attempts" (string set), "failures" (number).
func attemptSlots(secret, sub string, from, to time.Time) (int, error) {
	k, err := keyed.New([]byte(secret))
	if err != nil {
		return 0, err
	}
	plain := triggers.Account(H.PoolID, sub, map[string]string{"sub": sub})
	// The functions' key; and the unkeyed SHA-256 key of the code before issue 10 (functions
	// built from an older checkout, E2E_FUNCTIONS_ROOT), so that this reads what those counted.
	legacy := sha256.Sum256([]byte(plain))
	accounts := []string{lockout.Key(k, plain), "acct:" + hex.EncodeToString(legacy[:])}
	secs := int64(lockout.DefaultWindow / time.Second)
	n := 0
	seen := map[string]bool{}
	for _, at := range []time.Time{from, to} {
		w := at.Unix() - at.Unix()%secs
		for _, account := range accounts {
			if id := account + "/" + strconv.FormatInt(w, 10); !seen[id] {
				seen[id] = true
				c, err := windowAttempts(account, w)
				if err != nil {
					return 0, err
				}
				n += c
			}
		}
	}
	return n, nil
}

// windowAttempts reads one FAILS# window item: its attempt slots plus its legacy failure count.
func windowAttempts(account string, w int64) (int, error) {
	out, err := H.Dynamo.Client().GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(H.TableName),
		Key: map[string]ddbtypes.AttributeValue{
			store.PartitionKey: &ddbtypes.AttributeValueMemberS{Value: "FAILS#" + account},
			store.SortKey:      &ddbtypes.AttributeValueMemberS{Value: "W#" + strconv.FormatInt(w, 10)},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return 0, err
	}
	n := 0
	if set, ok := out.Item["attempts"].(*ddbtypes.AttributeValueMemberSS); ok {
		n += len(set.Value)
	}
	if num, ok := out.Item["failures"].(*ddbtypes.AttributeValueMemberN); ok {
		f, err := strconv.Atoi(num.Value)
		if err != nil {
			return 0, err
		}
		n += f
	}
	return n, nil
}

func signAnswer(k crypto.Signer, keyID, username, nonce string) (string, error) {
	msg, err := devicekeyMessage(username, nonce)
	if err != nil {
		return "", err
	}
	sig, err := signRaw(k, msg)
	if err != nil {
		return "", err
	}
	return keyAnswer(keyID, sig), nil
}
