//go:build unix

package e2e

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/passwordless-go/cognito/infra/local/idp"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// TestLoad runs 200 sign-ins at once across the three methods, each with one wrong answer before
// the right one, and checks that every one ends with tokens, that no code signs in twice, that
// every device key is still there exactly once, and that each account's failure counter holds
// exactly its one wrong answer. It logs throughput and p50/p99 latency per method.
func TestLoad(t *testing.T) {
	h := need(t)
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	const (
		total    = 200
		nKey     = 66
		nEmail   = 67
		nSMS     = total - nKey - nEmail
		setupPar = 24
	)
	type job struct {
		method string
		u      *user
		key    *deviceKey
	}
	jobs := make([]*job, total)

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
		jobs[i] = &job{method: m}
		wg.Add(1)
		go func(j *job) {
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
					fail("enrol: %v", err)
				}
			}
		}(jobs[i])
	}
	wg.Wait()
	if len(setupErrs) > 0 {
		t.Fatalf("set-up: %d errors, first: %s", len(setupErrs), setupErrs[0])
	}
	t.Logf("set-up: %d sign-ups and %d key enrolments in %s", total, nKey, time.Since(setupStart).Round(time.Millisecond))

	// The load: everyone at once.
	idpBefore := h.IdP.Stats()
	hostBefore := map[string]int{}
	for c, host := range h.Hosts {
		s := host.Stats()
		hostBefore[c] = s.Errors + s.Timeouts + s.Crashes
	}
	window := func(at time.Time) int64 { return at.Truncate(lockout.DefaultWindow).Unix() }
	loadStart := time.Now()
	lat := map[string][]time.Duration{}
	var errs []string
	gate := make(chan struct{})
	for _, j := range jobs {
		wg.Add(1)
		go func(j *job) {
			defer wg.Done()
			<-gate
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
			defer cancel()
			start := time.Now()
			err := signInOnce(ctx, j.method, j.u, j.key)
			d := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s %s: %v", j.method, j.u.name(), err))
				return
			}
			lat[j.method] = append(lat[j.method], d)
		}(j)
	}
	close(gate)
	wg.Wait()
	elapsed := time.Since(loadStart)
	loadEnd := time.Now()
	if len(errs) > 0 {
		sort.Strings(errs)
		t.Errorf("%d of %d sign-ins failed; first: %s", len(errs), total, strings.Join(errs[:min(5, len(errs))], "; "))
	}
	var all []time.Duration
	for _, m := range []string{"email_otp", "sms_otp", "device_key"} {
		all = append(all, lat[m]...)
		t.Logf("%-10s n=%3d  p50 %6s  p99 %6s  max %6s", m, len(lat[m]), median(lat[m]).Round(time.Millisecond), pct(lat[m], 99).Round(time.Millisecond), pct(lat[m], 100).Round(time.Millisecond))
	}
	t.Logf("all        n=%3d  p50 %6s  p99 %6s; %d sign-ins in %s = %.1f sign-ins/s (%.1f Cognito calls/s)", len(all), median(all).Round(time.Millisecond),
		pct(all, 99).Round(time.Millisecond), total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), float64(nEmail*5+nSMS*5+nKey*3)/elapsed.Seconds())

	// Counters: exactly one Verify per answer, no trigger failure or retry, no function error.
	idpAfter := h.IdP.Stats()
	wantVerify := (nEmail+nSMS)*3 + nKey*2
	if d := idpAfter.Invocations[idp.TriggerVerify] - idpBefore.Invocations[idp.TriggerVerify]; d != wantVerify {
		t.Errorf("Verify ran %d times, want %d", d, wantVerify)
	}
	for _, trig := range []string{idp.TriggerDefine, idp.TriggerCreate, idp.TriggerVerify} {
		if d := idpAfter.Failures[trig] - idpBefore.Failures[trig]; d != 0 {
			t.Errorf("%s failed %d times", trig, d)
		}
		if d := idpAfter.Retries[trig] - idpBefore.Retries[trig]; d != 0 {
			t.Errorf("%s retried %d times", trig, d)
		}
	}
	for c, host := range h.Hosts {
		s := host.Stats()
		if d := s.Errors + s.Timeouts + s.Crashes - hostBefore[c]; d != 0 {
			t.Errorf("%s: %d function errors, timeouts or crashes", c, d)
		}
		t.Logf("%-9s invocations %4d, processes %d, cold starts p50 %s", c, s.Invocations, s.ColdStarts, median(s.ColdStartDurations).Round(time.Millisecond))
	}

	// Every account counted exactly its one wrong answer; every key is there once; every code user
	// got exactly one message.
	st := store.New(h.Dynamo.Client(), h.TableName)
	failures := func(sub string) (int, error) {
		n := 0
		for _, w := range []int64{window(loadStart), window(loadEnd)} {
			s := store.New(h.Dynamo.Client(), h.TableName, store.WithClock(func() time.Time { return time.Unix(w, 0) }))
			c, err := s.Failures(context.Background(), lockout.Key("sub:"+sub), lockout.DefaultWindow)
			if err != nil {
				return 0, err
			}
			n += c
			if window(loadStart) == window(loadEnd) {
				break
			}
		}
		return n, nil
	}
	for _, j := range jobs {
		if n, err := failures(j.u.sub); err != nil || n != 1 {
			t.Errorf("%s %s: failure counter %d (err %v), want 1", j.method, j.u.name(), n, err)
		}
		switch j.method {
		case "device_key":
			keys, err := st.ListDeviceKeys(context.Background(), j.u.sub)
			if err != nil || len(keys) != 1 || keys[0].ID != j.key.id || keys[0].LastUsedAt.IsZero() {
				t.Errorf("device keys of %s: %+v (err %v), want %s used", j.u.email, keys, err, j.key.id)
			}
		default:
			if n := messages(recipient(j.u, j.method)); n != 1 {
				t.Errorf("%s: %d messages, want 1", recipient(j.u, j.method), n)
			}
		}
	}
}

func trySignUp(m string) (*user, error) {
	email, phone := uniqueEmail("load"), ""
	if m == "sms_otp" {
		email, phone = "", uniquePhone()
	}
	u := &user{email: email, phone: phone}
	out, err := cog.SignUp(context.Background(), signUpInput(u))
	if err != nil {
		return nil, err
	}
	u.sub = aws.ToString(out.UserSub)
	return u, nil
}

// tryEnrol signs u in with an email code and registers a P-256 key, without a testing.T (it runs
// in many goroutines).
func tryEnrol(u *user) (*deviceKey, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := codeFlow(ctx, u, "email_otp", false)
	if err != nil {
		return nil, err
	}
	k, err := generateP256()
	if err != nil {
		return nil, err
	}
	status, raw, err := tryRegister(res, k, "load")
	if err != nil {
		return nil, err
	}
	var out struct{ KeyID string }
	if status != http.StatusCreated || json.Unmarshal(raw, &out) != nil || out.KeyID == "" {
		return nil, fmt.Errorf("POST /device-keys: %d %s", status, raw)
	}
	return &deviceKey{priv: k, id: out.KeyID, owner: u}, nil
}

// signInOnce is one load sign-in: a wrong answer, then the right one, then (codes) a replay of
// the winning answer on its spent session, which must be refused.
func signInOnce(ctx context.Context, m string, u *user, k *deviceKey) error {
	if m != "device_key" {
		_, err := codeFlow(ctx, u, m, true)
		return err
	}
	init, err := initiate(ctx, u.email)
	if err != nil {
		return err
	}
	name, nonce := init.ChallengeParameters["USERNAME"], init.ChallengeParameters["nonce"]
	bad, err := signAnswer(k.priv, k.id, name, nonce+"x")
	if err != nil {
		return err
	}
	out, err := respond(ctx, init.Session, name, bad, method(m))
	if err != nil || tokens(out) || out.ChallengeParameters["nonce"] == "" {
		return fmt.Errorf("wrong signature: want a retry round, got tokens=%v err=%v", tokens(out), err)
	}
	good, err := signAnswer(k.priv, k.id, name, out.ChallengeParameters["nonce"])
	if err != nil {
		return err
	}
	res, err := respond(ctx, out.Session, name, good, method(m))
	if err != nil || !tokens(res) {
		return fmt.Errorf("right signature: tokens=%v err=%v", tokens(res), err)
	}
	return nil
}

// codeFlow runs a code sign-in for u; with wrongFirst it answers a wrong code first and, after the
// tokens, replays the right code on the spent session. It returns the access token.
func codeFlow(ctx context.Context, u *user, m string, wrongFirst bool) (string, error) {
	to := recipient(u, m)
	init, err := initiate(ctx, u.name())
	if err != nil {
		return "", err
	}
	name := init.ChallengeParameters["USERNAME"]
	sel, err := respond(ctx, init.Session, name, m, method(m))
	if err != nil || sel.ChallengeParameters["kind"] != "CODE" {
		return "", fmt.Errorf("choose %s: %v", m, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	msg, err := H.AWS.WaitMessage(wctx, to, 1)
	cancel()
	if err != nil {
		return "", err
	}
	code := extract(msg.Text)
	session := sel.Session
	if wrongFirst {
		out, err := respond(ctx, session, name, wrongCode(code), method(m))
		if err != nil || tokens(out) {
			return "", fmt.Errorf("wrong code: want a retry round, got tokens=%v err=%v", tokens(out), err)
		}
		session = out.Session
	}
	res, err := respond(ctx, session, name, code, method(m))
	if err != nil || !tokens(res) {
		return "", fmt.Errorf("right code: tokens=%v err=%v", tokens(res), err)
	}
	if wrongFirst {
		again, err := respond(ctx, session, name, code, method(m))
		if tokens(again) || !isNotAuthorized(err) {
			return "", fmt.Errorf("code replayed on its spent session: tokens=%v err=%v", tokens(again), err)
		}
	}
	return aws.ToString(res.AuthenticationResult.AccessToken), nil
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

// doAPI is apiRaw without a testing.T.
func doAPI(ctx context.Context, method, path, token string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, H.APIURL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
