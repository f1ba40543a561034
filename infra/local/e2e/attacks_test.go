//go:build unix

package e2e

// The attacks of issue 10 that Cognito's behaviour decides, each as the attacker would run it,
// through the SDK and the HTTP API against the harness. Each test is named after its attack.

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/infra/local/awsmock"
	"github.com/passwordless-go/cognito/infra/local/signin"
	"github.com/passwordless-go/cognito/infra/smoke"
)

func attrType(name, value string) types.AttributeType {
	return types.AttributeType{Name: aws.String(name), Value: aws.String(value)}
}

// userAttrs returns a user's attributes as an administrator sees them.
func userAttrs(t *testing.T, name string) map[string]string {
	t.Helper()
	out := adminGetUser(t, name)
	m := map[string]string{}
	for _, a := range out.UserAttributes {
		m[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	return m
}

// mediumCount is how many messages of a medium were captured, to anyone.
func mediumCount(medium string) int {
	n := 0
	for _, m := range H.AWS.Messages() {
		if m.Medium == medium {
			n++
		}
	}
	return n
}

func isUserNotFound(err error) bool {
	var nf *types.UserNotFoundException
	return errors.As(err, &nf)
}

// TestAttack1aSignUpWithVictimEmailAndAttackerPhone: a sign-up that carries the victim's email
// address beside the attacker's phone number (either as the Username) is refused, and leaves no
// user holding either.
func TestAttack1aSignUpWithVictimEmailAndAttackerPhone(t *testing.T) {
	need(t)
	ctx := ctxT(t, 30*time.Second)
	victim, attacker := uniqueEmail("victim-1a"), uniquePhone()
	for _, tc := range []struct {
		name     string
		username string
		attrs    []types.AttributeType
	}{
		{"victim email as username, attacker phone attribute", victim, []types.AttributeType{attrType("phone_number", attacker)}},
		{"attacker phone as username, victim email attribute", attacker, []types.AttributeType{attrType("email", victim)}},
		{"both as attributes", victim, []types.AttributeType{attrType("email", victim), attrType("phone_number", attacker)}},
	} {
		_, err := cog.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(H.ClientID), Username: aws.String(tc.username),
			Password: aws.String(smoke.RandomPassword()), UserAttributes: tc.attrs})
		var na *types.NotAuthorizedException        // the app client may not write email or phone_number
		var lv *types.UserLambdaValidationException // PreSignUp: one address per sign-up
		if err == nil || !(errors.As(err, &na) || errors.As(err, &lv)) {
			t.Fatalf("%s: SignUp answered %v, want it refused (NotAuthorizedException or UserLambdaValidationException)", tc.name, err)
		}
	}
	for _, name := range []string{victim, attacker} {
		if _, err := cog.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(H.PoolID), Username: aws.String(name)}); !isUserNotFound(err) {
			t.Fatalf("after the refused sign-ups, AdminGetUser(%s): %v, want UserNotFoundException", name, err)
		}
	}
}

// TestAttack1aAttackerSignedUpFirstGetsNothing: an attacker who signs up first with only the
// victim's email address gets nothing: SMS sign-in sends nothing anywhere; the victim's sign-up
// answers UsernameExistsException (the README tells the app to go on), the victim signs in by
// email code into an account that holds only the victim's address, now verified, and no key.
func TestAttack1aAttackerSignedUpFirstGetsNothing(t *testing.T) {
	need(t)
	ctx := ctxT(t, 2*time.Minute)
	victim := uniqueEmail("victim-first")
	held := signUp(t, victim, "") // the attacker

	sms := mediumCount(awsmock.MediumSMS)
	if r, err := mainStack(t).chooseCode(ctx, victim, "sms_otp"); err == nil {
		if n := mediumCount(awsmock.MediumSMS); n != sms {
			t.Fatalf("SMS sign-in for an account without a phone sent %d SMS (params %v)", n-sms, r.params)
		}
	}

	_, err := cog.SignUp(ctx, signUpInput(&user{email: victim}))
	var ue *types.UsernameExistsException
	if !errors.As(err, &ue) {
		t.Fatalf("the victim's sign-up: %v, want UsernameExistsException", err)
	}
	res := codeSignIn(t, &user{email: victim, sub: held.sub}, "email_otp")
	if err := ownToken(aws.ToString(res.AccessToken), held); err != nil {
		t.Fatal(err)
	}
	got := userAttrs(t, victim)
	delete(got, "sub")
	if want := map[string]string{"email": victim, "email_verified": "true"}; !mapsEqual(got, want) {
		t.Fatalf("the account the victim signed into holds %v, want only %v", got, want)
	}
	status, body := apiCall(t, http.MethodGet, "/device-keys", aws.ToString(res.AccessToken), nil)
	if keys, _ := body["keys"].([]any); status != http.StatusOK || len(keys) != 0 {
		t.Fatalf("GET /device-keys: %d %v, want no keys", status, body)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestAttack1bUpdateEmailToVictim: with a device key registered, the attacker's own access token
// cannot set the account's email address to the victim's (the app client may not write email);
// the victim then signs up into an account of their own.
func TestAttack1bUpdateEmailToVictim(t *testing.T) {
	need(t)
	ctx := ctxT(t, 2*time.Minute)
	attacker := newEmailUser(t, "attacker-1b")
	victim := uniqueEmail("victim-1b")
	res := codeSignIn(t, attacker, "email_otp")
	k := newP256(t)
	if status, body := register(t, aws.ToString(res.AccessToken), k, "attacker phone"); status != http.StatusCreated {
		t.Fatalf("POST /device-keys: %d %v", status, body)
	}
	for _, a := range []types.AttributeType{attrType("email", victim), attrType("phone_number", uniquePhone()), attrType("email_verified", "true")} {
		_, err := cog.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: res.AccessToken, UserAttributes: []types.AttributeType{a}})
		if !signin.IsNotAuthorized(err) {
			t.Fatalf("UpdateUserAttributes(%s) with the attacker's token: %v, want NotAuthorizedException", aws.ToString(a.Name), err)
		}
	}
	if got := userAttrs(t, attacker.sub); got["email"] != attacker.email || got["phone_number"] != "" {
		t.Fatalf("the attacker's account now holds %v", got)
	}
	v := signUp(t, victim, "")
	if v.sub == attacker.sub {
		t.Fatal("the victim's sign-up landed in the attacker's account")
	}
}

// TestAttack1bNoCodeToUnverifiedAddress: an account with a verified address and a device key
// that also holds an unverified address (set by an administrator, or left from before the app
// client lost write access) gets no code at that address.
func TestAttack1bNoCodeToUnverifiedAddress(t *testing.T) {
	need(t)
	for _, tc := range []struct {
		name, attr, method string
		newUser            func(*testing.T) *user
		other              func() string
	}{
		{"email user, unverified phone", "phone_number", "sms_otp", func(t *testing.T) *user { return newEmailUser(t, "unverified-1b") }, uniquePhone},
		{"phone user, unverified email", "email", "email_otp", func(t *testing.T) *user { return newPhoneUser(t) }, func() string { return uniqueEmail("unverified-1b") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t, 2*time.Minute)
			u := tc.newUser(t)
			m := "email_otp"
			if u.email == "" {
				m = "sms_otp"
			}
			res := codeSignIn(t, u, m) // the sign-in address, now verified
			if status, body := register(t, aws.ToString(res.AccessToken), newP256(t), "phone"); status != http.StatusCreated {
				t.Fatalf("POST /device-keys: %d %v", status, body)
			}
			other := tc.other()
			if _, err := cog.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: aws.String(H.PoolID), Username: aws.String(u.sub),
				UserAttributes: []types.AttributeType{attrType(tc.attr, other)}}); err != nil {
				t.Fatal(err)
			}
			if got := userAttrs(t, u.sub); got[tc.attr] != other || got[tc.attr+"_verified"] == "true" {
				t.Fatalf("set-up: %v", got)
			}
			r, err := mainStack(t).chooseCode(ctx, u.name(), tc.method)
			if err != nil {
				t.Fatalf("choose %s: %v (an unverified address must look like any other answer, not fail)", tc.method, err)
			}
			if n := messages(other); n != 0 {
				t.Fatalf("%d messages to the unverified %s of an account with a verified address and a key (params %v)", n, tc.attr, r.params)
			}
		})
	}
}

// cognitoRecorder forwards the functions' Cognito calls to the pool and keeps the
// AdminUpdateUserAttributes requests.
type cognitoRecorder struct {
	next http.Handler
	mu   sync.Mutex
	sets []map[string]string
}

func (c *cognitoRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".AdminUpdateUserAttributes") {
		b, _ := io.ReadAll(r.Body)
		var in struct {
			UserAttributes []struct{ Name, Value string }
		}
		if json.Unmarshal(b, &in) == nil {
			m := map[string]string{}
			for _, a := range in.UserAttributes {
				m[a.Name] = a.Value
			}
			c.mu.Lock()
			c.sets = append(c.sets, m)
			c.mu.Unlock()
		}
		r.Body = io.NopCloser(strings.NewReader(string(b)))
	}
	c.next.ServeHTTP(w, r)
}

// TestAttack2VerifiedFlagOnlyWithValue: the functions set email_verified or
// phone_number_verified only in the same AdminUpdateUserAttributes call as the value the code was
// sent to. After a code sign-in the account holds that address, verified; when the address was
// changed between the code and the answer, the account never ends with the other address marked
// verified.
func TestAttack2VerifiedFlagOnlyWithValue(t *testing.T) {
	need(t)
	rec := &cognitoRecorder{next: H.IdP}
	H.AWS.SetCognito(rec)
	defer H.AWS.SetCognito(H.IdP)
	ctx := ctxT(t, 2*time.Minute)

	u := newEmailUser(t, "verified-2")
	codeSignIn(t, u, "email_otp")
	if got := userAttrs(t, u.sub); got["email"] != u.email || got["email_verified"] != "true" {
		t.Fatalf("after a code sign-in: %v, want email %s verified", got, u.email)
	}

	// The race: the address changes after Create sent the code and before Verify runs (what the
	// user's own UpdateUserAttributes did before the app client lost write access; here an
	// administrator).
	v := newEmailUser(t, "verified-2-race")
	r := startCode(t, ctx, v.email, "email_otp")
	code := codeN(t, v.email, 1)
	other := uniqueEmail("never-got-a-code")
	if _, err := cog.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: aws.String(H.PoolID), Username: aws.String(v.sub),
		UserAttributes: []types.AttributeType{attrType("email", other)}}); err != nil {
		t.Fatal(err)
	}
	out, err := app.Respond(ctx, r.session, r.username, code, method("email_otp"))
	t.Logf("answer after the address changed: tokens=%v err=%v", signin.Tokens(out), err)
	if got := userAttrs(t, v.sub); got["email_verified"] == "true" && got["email"] != v.email {
		t.Fatalf("the account ends with %s marked verified; the code went to %s", got["email"], v.email)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.sets) == 0 {
		t.Fatal("no AdminUpdateUserAttributes seen: the first code sign-in marks the address verified")
	}
	for _, set := range rec.sets {
		for _, a := range []string{"email", "phone_number"} {
			if set[a+"_verified"] == "true" && set[a] == "" {
				t.Errorf("AdminUpdateUserAttributes %v sets %s_verified without %s", set, a, a)
			}
		}
	}
}

// TestAttack4LockoutBurst: 31 wrong answers sent at the same moment, each in its own sign-in, get
// at most the lockout limit checked (attempt slots, read from the table), every one fails
// cleanly, and the right code afterwards is refused.
func TestAttack4LockoutBurst(t *testing.T) {
	need(t)
	const burst = 31
	waitWindow(t, 15*time.Minute, time.Minute) // lockout windows: 15 min, epoch-aligned
	ctx := ctxT(t, 5*time.Minute)
	u, held, right := emailCodeRound(t, ctx, "lockout-burst") // the sign-in whose code is right
	rounds := make([]*round, burst)
	for i := range rounds {
		rounds[i] = startCode(t, ctx, u.email, "email_otp")
	}
	start := time.Now()
	type result struct {
		tokens bool
		err    error
	}
	results := make([]result, burst)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i, r := range rounds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			out, err := app.Respond(ctx, r.session, r.username, wrongCode(right), method("email_otp"))
			results[i] = result{signin.Tokens(out), err}
		}()
	}
	close(gate)
	wg.Wait()
	kinds := map[string]int{}
	for _, res := range results {
		if res.tokens {
			t.Fatal("tokens for a wrong code")
		}
		switch {
		case res.err == nil:
			kinds["retry round"]++
		case signin.IsNotAuthorized(res.err):
			kinds["NotAuthorizedException"]++
		case isLambdaFailure(res.err):
			kinds["trigger failure"]++
		default:
			t.Fatalf("a wrong answer failed uncleanly: %v", res.err)
		}
	}
	slots, err := attemptSlots(H.DeploymentSecret(), u.sub, start, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d concurrent wrong answers: %v; %d attempt slots held", burst, kinds, slots)
	if slots > lockoutLimit {
		t.Fatalf("%d wrong answers were checked, limit %d", slots, lockoutLimit)
	}
	// The account is locked exactly when the limit's worth of wrong answers were checked.
	out, err := app.Respond(ctx, held.session, held.username, right, method("email_otp"))
	switch {
	case slots == lockoutLimit && signin.Tokens(out):
		t.Fatalf("the right code was accepted after %d wrong answers filled the limit", slots)
	case slots == lockoutLimit && err != nil && !signin.IsNotAuthorized(err):
		t.Fatalf("right code on a locked account: want a refusal, got %v", err)
	case slots < lockoutLimit && !signin.Tokens(out) && !isLambdaFailure(err):
		// (A busy machine may fail answers before they are checked: then the lock is not full,
		// and the right code must still work, unless its own Verify fails too.)
		t.Fatalf("only %d wrong answers were checked (limit %d), yet the right code was refused: tokens=%v err=%v", slots, lockoutLimit, signin.Tokens(out), err)
	}
}

// TestAttack5AnonymousBurst (second harness, SEND_DELAYS 2s,3s,4s): strangers starting sign-in
// after sign-in for a user's address make the codes wait, never longer than the largest send
// delay; every answer says honestly whether a code went out; and the user, after the announced
// wait, gets a code and signs in.
func TestAttack5AnonymousBurst(t *testing.T) {
	s := shortStack(t)
	ctx := ctxT(t, 2*time.Minute)
	u := s.signUp(t, uniqueEmail("burst-5"))
	var last *round
	for i := 1; i <= 8; i++ {
		before := s.messages(u.email)
		r, err := s.chooseCode(ctx, u.email, "email_otp")
		if err != nil {
			t.Fatalf("stranger %d: %v", i, err)
		}
		st := codeStatus(t, r.params)
		resendAfter(t, r.params, shortMaxDelay)
		if got := s.messages(u.email) - before; (st == "sent") != (got == 1) || got > 1 {
			t.Fatalf("stranger %d: codeStatus %q, %d new messages", i, st, got)
		}
		last = r
	}
	time.Sleep(resendAfter(t, last.params, shortMaxDelay) + time.Second)
	before := s.messages(u.email)
	r := s.startCode(t, ctx, u.email, "email_otp")
	if st := codeStatus(t, r.params); st != "sent" {
		t.Fatalf("the user after the announced wait: codeStatus %q, want sent", st)
	}
	out, err := s.respond(ctx, r, s.code(t, u.email, before+1), method("email_otp"))
	if err != nil || !signin.Tokens(out) {
		t.Fatalf("the user's code: tokens=%v err=%v", signin.Tokens(out), err)
	}
}

// TestRevokedTokens: after GlobalSignOut (or RevokeToken of the refresh token) the access token
// still passes the API's JWT authorizer, but every route that changes something refuses it with
// 401 token_revoked (the function asks Cognito's GetUser); GET routes still answer until the
// token expires.
func TestRevokedTokens(t *testing.T) {
	need(t)
	ctx := ctxT(t, 2*time.Minute)
	u := newEmailUser(t, "revoked")
	res := codeSignIn(t, u, "email_otp")
	access := aws.ToString(res.AccessToken)
	k := newP256(t)
	status, body := register(t, access, k, "phone")
	if status != http.StatusCreated {
		t.Fatalf("POST /device-keys before sign-out: %d %v", status, body)
	}
	keyID, _ := body["keyId"].(string)

	if _, err := cog.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: res.AccessToken}); err != nil {
		t.Fatal(err)
	}
	if _, err := cog.GetUser(ctx, &cip.GetUserInput{AccessToken: res.AccessToken}); !signin.IsNotAuthorized(err) {
		t.Fatalf("GetUser after GlobalSignOut: %v, want NotAuthorizedException", err)
	}
	wantRevoked := func(what string, status int, body map[string]any) {
		t.Helper()
		if status != http.StatusUnauthorized || body["code"] != "token_revoked" {
			t.Fatalf("%s with a signed-out token: %d %v, want 401 token_revoked", what, status, body)
		}
	}
	status, body = register(t, access, newP256(t), "thief")
	wantRevoked("POST /device-keys", status, body)
	status, body = apiCall(t, http.MethodDelete, "/device-keys/"+keyID, access, nil)
	wantRevoked("DELETE /device-keys/{id}", status, body)
	status, body = apiCall(t, http.MethodGet, "/device-keys", access, nil)
	if keys, _ := body["keys"].([]any); status != http.StatusOK || len(keys) != 1 {
		t.Fatalf("GET /device-keys with a signed-out token: %d %v, want 200 and the key (GET routes are not checked)", status, body)
	}

	// RevokeToken: the access tokens issued with the refresh token are refused the same way. (A
	// device-key sign-in: no code, so no send delay to wait out.)
	r := keyRound(t, ctx, u.email)
	out, err := app.Respond(ctx, r.session, r.username, answerFor(t, k, keyID, r.username, r.params["nonce"]), method("device_key"))
	if err != nil || !signin.Tokens(out) {
		t.Fatalf("device-key sign-in: tokens=%v err=%v", signin.Tokens(out), err)
	}
	res2 := out.AuthenticationResult
	if _, err := cog.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: aws.String(H.ClientID), Token: res2.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	status, body = apiCall(t, http.MethodDelete, "/device-keys/"+keyID, aws.ToString(res2.AccessToken), nil)
	wantRevoked("DELETE /device-keys/{id} after RevokeToken", status, body)
}

// TestContactChange: adding or changing an address goes through the API: POST /me/contact sends
// a code to the new address, POST /me/contact/verify with that code sets the address and its
// verified flag together, and the old address is told. Three wrong codes end the change: the
// right one is then refused and nothing changes.
func TestContactChange(t *testing.T) {
	need(t)
	u := newEmailUser(t, "contact")
	access := aws.ToString(codeSignIn(t, u, "email_otp").AccessToken)
	oldBefore := messages(u.email)

	newEmail := uniqueEmail("contact-new")
	status, body := apiCall(t, http.MethodPost, "/me/contact", access, map[string]string{"email": newEmail})
	changeID, _ := body["changeId"].(string)
	if status != http.StatusAccepted || changeID == "" || body["deliveryMedium"] != "EMAIL" || body["destination"] == "" || body["expiresAt"] == nil {
		t.Fatalf("POST /me/contact: %d %v", status, body)
	}
	if d, _ := body["destination"].(string); strings.Contains(d, newEmail) {
		t.Fatalf("destination %q shows the address", d)
	}
	code := codeN(t, newEmail, 1)
	if got := userAttrs(t, u.sub); got["email"] != u.email {
		t.Fatalf("the address changed before the code was answered: %v", got)
	}
	status, body = apiCall(t, http.MethodPost, "/me/contact/verify", access, map[string]string{"changeId": changeID, "code": code})
	if status != http.StatusOK || body["email"] != newEmail || body["verified"] != true {
		t.Fatalf("POST /me/contact/verify: %d %v", status, body)
	}
	if got := userAttrs(t, u.sub); got["email"] != newEmail || got["email_verified"] != "true" {
		t.Fatalf("after the change: %v, want %s verified", got, newEmail)
	}
	if n := messages(u.email); n != oldBefore+1 {
		t.Fatalf("the old address got %d messages after the change, want 1 notice", n-oldBefore)
	} else if msg := H.AWS.MessagesTo(u.email)[n-1]; strings.Contains(msg.Text+msg.HTML, newEmail) {
		t.Fatal("the notice to the old address shows the new address in full")
	}
	// The same code cannot be used again.
	if status, body = apiCall(t, http.MethodPost, "/me/contact/verify", access, map[string]string{"changeId": changeID, "code": code}); status == http.StatusOK {
		t.Fatalf("a change verified twice: %v", body)
	}

	// Add a phone number; three wrong codes end that change.
	phone := uniquePhone()
	status, body = apiCall(t, http.MethodPost, "/me/contact", access, map[string]string{"phoneNumber": phone})
	changeID, _ = body["changeId"].(string)
	if status != http.StatusAccepted || changeID == "" || body["deliveryMedium"] != "SMS" {
		t.Fatalf("POST /me/contact (phone): %d %v", status, body)
	}
	code = codeN(t, phone, 1)
	for i := 1; i <= 3; i++ {
		status, body = apiCall(t, http.MethodPost, "/me/contact/verify", access, map[string]string{"changeId": changeID, "code": wrongCode(code)})
		if status == http.StatusOK {
			t.Fatalf("wrong code %d accepted: %v", i, body)
		}
	}
	status, body = apiCall(t, http.MethodPost, "/me/contact/verify", access, map[string]string{"changeId": changeID, "code": code})
	if status == http.StatusOK {
		t.Fatalf("the right code after 3 wrong ones: %d %v, want the change ended", status, body)
	}
	if got := userAttrs(t, u.sub); got["phone_number"] != "" {
		t.Fatalf("the phone number was set after the change ended: %v", got)
	}
}

// maskedPhone is the shape of a masked phone number: "+", the calling code, stars, the last
// digits.
var maskedPhone = regexp.MustCompile(`^\+[0-9]{1,3}\*+[0-9]{2,4}$`)

// TestUnknownUserMaskedDestination (attack 3): the masked destination an unknown user gets is
// keyed with the deployment secret: two deployments (different secrets) answer the same unknown
// name differently, each answers it the same way every time, and for sms_otp an unknown address
// and a real user without a phone number look alike (same parameters, destinations shaped like
// masked numbers), with nothing sent.
func TestUnknownUserMaskedDestination(t *testing.T) {
	a, b := mainStack(t), shortStack(t)
	if a.h.DeploymentSecret() == "" || a.h.DeploymentSecret() == b.h.DeploymentSecret() {
		t.Fatal("the two harnesses should have their own deployment secrets")
	}
	ctx := ctxT(t, 2*time.Minute)
	ghost := uniqueEmail("ghost")
	sms := mediumCount(awsmock.MediumSMS)
	dest := func(s *stack, name string) map[string]string {
		t.Helper()
		r := s.startCode(t, ctx, name, "sms_otp")
		if r.params["deliveryMedium"] != "SMS" || r.params["destination"] == "" {
			t.Fatalf("sms_otp for %s: %v", name, r.params)
		}
		return r.params
	}
	pa, pa2, pb := dest(a, ghost), dest(a, ghost), dest(b, ghost)
	if pa["destination"] != pa2["destination"] {
		t.Fatalf("one deployment gives one unknown name two destinations: %q, %q", pa["destination"], pa2["destination"])
	}
	if pa["destination"] == pb["destination"] {
		t.Fatalf("two deployments with different secrets give the unknown name the same destination %q: it is not keyed", pa["destination"])
	}

	known := newEmailUser(t, "no-phone")
	pr, pr2 := dest(a, known.email), dest(a, known.email)
	if pr["destination"] != pr2["destination"] {
		t.Fatalf("a real user without a phone gets two destinations: %q, %q", pr["destination"], pr2["destination"])
	}
	// Placeholders differ from name to name (country, length): what must match is everything a
	// prober can compare, and the destination must be shaped like a real masked number.
	if !slices.Equal(keysOf(pa), keysOf(pr)) || pa["codeStatus"] != pr["codeStatus"] || pa["resendAfter"] != pr["resendAfter"] ||
		!maskedPhone.MatchString(pa["destination"]) || !maskedPhone.MatchString(pr["destination"]) {
		t.Fatalf("unknown and real-without-phone differ:\nunknown %v\nreal    %v", pa, pr)
	}
	if n := mediumCount(awsmock.MediumSMS); n != sms {
		t.Fatalf("%d SMS sent for users without a phone number", n-sms)
	}
}
