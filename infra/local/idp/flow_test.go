package idp_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/infra/local/idp"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// uuidV3Pattern is a name-based (MD5) UUID of RFC 4122: version digit 3, variant 10xx.
var uuidV3Pattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestSignUpSignInTokens(t *testing.T) {
	e := newEnv(t, nil)
	up := e.signUp(t, "alice@example.com")
	if !up.UserConfirmed || !uuidPattern.MatchString(aws.ToString(up.UserSub)) {
		t.Fatalf("SignUp = confirmed %v sub %q", up.UserConfirmed, aws.ToString(up.UserSub))
	}
	got, err := e.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(e.pool.PoolID()), Username: aws.String("ALICE@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	userName := aws.ToString(got.Username)
	if !uuidPattern.MatchString(userName) || userName == "alice@example.com" || userName != aws.ToString(up.UserSub) {
		t.Errorf("user name %q: want a random UUID equal to the sub %q", userName, aws.ToString(up.UserSub))
	}
	if got.UserStatus != types.UserStatusTypeConfirmed || !got.Enabled {
		t.Errorf("status %q enabled %v", got.UserStatus, got.Enabled)
	}
	if v, _ := attrValue(got.UserAttributes, "email"); v != "alice@example.com" {
		t.Errorf("email = %q", v)
	}
	if v, _ := attrValue(got.UserAttributes, "email_verified"); v != "false" {
		t.Errorf("email_verified = %q", v)
	}

	start := e.rec.mark()
	out := e.mustInitiate(t, "alice@example.com")
	if out.ChallengeName != types.ChallengeNameTypeCustomChallenge || aws.ToString(out.Session) == "" {
		t.Fatalf("InitiateAuth = %+v", out)
	}
	if got, want := keys(out.ChallengeParameters), []string{"USERNAME", "kind", "methods", "nonce"}; !slices.Equal(got, want) {
		t.Errorf("challenge parameters %v, want %v", got, want)
	}
	if out.ChallengeParameters["USERNAME"] != userName {
		t.Errorf("USERNAME = %q, want %q", out.ChallengeParameters["USERNAME"], userName)
	}
	res, err := e.respond(userName, *out.Session, "right:"+out.ChallengeParameters["nonce"], deviceKeyMeta())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.rec.functions(start), []string{fnDefine, fnCreate, fnVerify, fnDefine}; !slices.Equal(got, want) {
		t.Errorf("trigger calls %v, want %v", got, want)
	}
	ar := res.AuthenticationResult
	if ar == nil || res.ChallengeName != "" || res.Session != nil {
		t.Fatalf("no tokens: %+v", res)
	}
	if ar.ExpiresIn != 3600 || aws.ToString(ar.TokenType) != "Bearer" || aws.ToString(ar.RefreshToken) == "" {
		t.Errorf("result expires %d type %q refresh %q", ar.ExpiresIn, aws.ToString(ar.TokenType), aws.ToString(ar.RefreshToken))
	}

	jwks := e.jwks(t)
	if len(jwks) != 1 || jwks[e.pool.KeyID()] == nil || !jwks[e.pool.KeyID()].Equal(e.pool.PublicKey()) {
		t.Errorf("JWKS does not hold the pool's key")
	}
	now := e.clock.Now().Unix()
	id := verifyJWT(t, jwks, aws.ToString(ar.IdToken))
	if got, want := keys(id), []string{"aud", "auth_time", "cognito:username", "email", "email_verified", "event_id", "exp", "iat", "iss", "jti", "origin_jti", "sub", "token_use"}; !slices.Equal(got, want) {
		t.Errorf("ID token claims %v, want %v", got, want)
	}
	access := verifyJWT(t, jwks, aws.ToString(ar.AccessToken))
	if got, want := keys(access), []string{"auth_time", "client_id", "event_id", "exp", "iat", "iss", "jti", "origin_jti", "scope", "sub", "token_use", "username", "version"}; !slices.Equal(got, want) {
		t.Errorf("access token claims %v, want %v", got, want)
	}
	iss := e.srv.URL + "/" + e.pool.PoolID()
	if e.pool.Issuer() != iss {
		t.Errorf("Issuer() = %q, want %q", e.pool.Issuer(), iss)
	}
	for name, c := range map[string]map[string]any{"id": id, "access": access} {
		if c["sub"] != aws.ToString(up.UserSub) || c["iss"] != iss || c["token_use"] != name {
			t.Errorf("%s token sub %v iss %v token_use %v", name, c["sub"], c["iss"], c["token_use"])
		}
		if claimInt(t, c, "iat") != now || claimInt(t, c, "auth_time") != now || claimInt(t, c, "exp") != now+3600 {
			t.Errorf("%s token iat %v auth_time %v exp %v, now %d", name, c["iat"], c["auth_time"], c["exp"], now)
		}
		for _, k := range []string{"jti", "origin_jti", "event_id"} {
			if s, _ := c[k].(string); !uuidPattern.MatchString(s) {
				t.Errorf("%s token %s = %v", name, k, c[k])
			}
		}
	}
	if id["jti"] == access["jti"] || id["origin_jti"] != access["origin_jti"] || id["event_id"] != access["event_id"] {
		t.Errorf("jti/origin_jti/event_id: id %v %v %v access %v %v %v", id["jti"], id["origin_jti"], id["event_id"], access["jti"], access["origin_jti"], access["event_id"])
	}
	if id["aud"] != e.pool.ClientID() || id["cognito:username"] != userName || id["email"] != "alice@example.com" || id["email_verified"] != false {
		t.Errorf("ID token claims %v", id)
	}
	if access["client_id"] != e.pool.ClientID() || access["username"] != userName || access["scope"] != "aws.cognito.signin.user.admin" {
		t.Errorf("access token claims %v", access)
	}

	me, err := e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: ar.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(me.Username) != userName {
		t.Errorf("GetUser user name %q", aws.ToString(me.Username))
	}
	if v, _ := attrValue(me.UserAttributes, "sub"); v != aws.ToString(up.UserSub) {
		t.Errorf("GetUser sub %q", v)
	}
	_, err = e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: ar.IdToken})
	var nae *types.NotAuthorizedException
	if !errors.As(err, &nae) {
		t.Errorf("GetUser with the ID token: %v, want NotAuthorizedException", err)
	}

	st := e.pool.Stats()
	if st.Invocations[idp.TriggerDefine] != 2 || st.Invocations[idp.TriggerCreate] != 1 || st.Invocations[idp.TriggerVerify] != 1 || st.Invocations[idp.TriggerPreSignUp] != 1 {
		t.Errorf("invocations %v", st.Invocations)
	}
	if st.Calls["SignUp"] != 1 || st.Calls["InitiateAuth"] != 1 || st.Calls["RespondToAuthChallenge"] != 1 || st.Calls["GetUser"] != 2 {
		t.Errorf("calls %v", st.Calls)
	}
}

func TestSignInByPhoneAndUserName(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp(t, "+447700900123")
	ar := e.signIn(t, "+447700900123")
	me, err := e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: ar.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	// The user name itself signs in too.
	e.signIn(t, aws.ToString(me.Username))
	if _, err := e.initiate("+447700900124", nil); err != nil {
		t.Fatalf("unknown phone number: %v (PreventUserExistenceErrors should hide it)", err)
	}
}

// eventHeader checks the common part of a recorded event and returns it decoded as a map.
func eventHeader(t *testing.T, e *env, inv invocation, source, userName string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(inv.payload, &m); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(m), []string{"callerContext", "region", "request", "response", "triggerSource", "userName", "userPoolId", "version"}; !slices.Equal(got, want) {
		t.Errorf("%s event keys %v, want %v", source, got, want)
	}
	cc, _ := m["callerContext"].(map[string]any)
	if m["version"] != "1" || m["triggerSource"] != source || m["region"] != "us-east-1" || m["userPoolId"] != e.pool.PoolID() || m["userName"] != userName {
		t.Errorf("event header %v", m)
	}
	if sdk, _ := cc["awsSdkVersion"].(string); cc["clientId"] != e.pool.ClientID() || !strings.HasPrefix(sdk, "aws-sdk-go-v2-") {
		t.Errorf("callerContext %v", cc)
	}
	return m
}

func TestClientMetadataRouting(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp(t, "bob@example.com")
	m := e.rec.mark()
	out, err := e.initiate("bob@example.com", map[string]string{"probe": "from-initiate", "signInMethod": "device_key"})
	if err != nil {
		t.Fatal(err)
	}
	userName := out.ChallengeParameters["USERNAME"]
	inits := e.rec.since(m)
	if len(inits) != 2 || inits[0].function != fnDefine || inits[1].function != fnCreate {
		t.Fatalf("InitiateAuth ran %v", e.rec.functions(m))
	}
	for _, inv := range inits {
		if strings.Contains(string(inv.payload), "from-initiate") {
			t.Errorf("InitiateAuth ClientMetadata reached %s: %s", inv.function, inv.payload)
		}
	}
	d := defineEvent(t, inits[0].payload)
	eventHeader(t, e, inits[0], idp.SourceDefine, userName)
	if len(d.Request.ClientMetadata) != 0 || d.Request.Session == nil || len(d.Request.Session) != 0 || d.Request.UserNotFound {
		t.Errorf("first define request %+v", d.Request)
	}
	if d.Request.UserAttributes["email"] != "bob@example.com" || d.Request.UserAttributes["cognito:user_status"] != "CONFIRMED" || d.Request.UserAttributes["sub"] == "" {
		t.Errorf("define userAttributes %v", d.Request.UserAttributes)
	}
	c := createEvent(t, inits[1].payload)
	eventHeader(t, e, inits[1], idp.SourceCreate, userName)
	if len(c.Request.ClientMetadata) != 0 || c.Request.ChallengeName != "CUSTOM_CHALLENGE" {
		t.Errorf("first create request %+v", c.Request)
	}

	// A wrong answer: Verify, Define and Create all see this call's ClientMetadata.
	m = e.rec.mark()
	next, err := e.respond(userName, *out.Session, "wrong", deviceKeyMeta("probe", "respond-1"))
	if err != nil {
		t.Fatal(err)
	}
	calls := e.rec.since(m)
	if got := e.rec.functions(m); !slices.Equal(got, []string{fnVerify, fnDefine, fnCreate}) {
		t.Fatalf("RespondToAuthChallenge ran %v", got)
	}
	v := verifyEvent(t, calls[0].payload)
	eventHeader(t, e, calls[0], idp.SourceVerify, userName)
	if v.Request.ClientMetadata["probe"] != "respond-1" || v.Request.ChallengeAnswer != "wrong" || v.Request.PrivateChallengeParameters["nonce"] != out.ChallengeParameters["nonce"] {
		t.Errorf("verify request %+v", v.Request)
	}
	d = defineEvent(t, calls[1].payload)
	if d.Request.ClientMetadata["probe"] != "respond-1" || len(d.Request.Session) != 1 || d.Request.Session[0].ChallengeResult || d.Request.Session[0].ChallengeName != "CUSTOM_CHALLENGE" || d.Request.Session[0].ChallengeMetadata == "" {
		t.Errorf("second define request %+v", d.Request)
	}
	c = createEvent(t, calls[2].payload)
	if c.Request.ClientMetadata["probe"] != "respond-1" || len(c.Request.Session) != 1 {
		t.Errorf("second create request %+v", c.Request)
	}

	m = e.rec.mark()
	res, err := e.respond(userName, *next.Session, "right:"+next.ChallengeParameters["nonce"], deviceKeyMeta("probe", "respond-2"))
	if err != nil || res.AuthenticationResult == nil {
		t.Fatalf("right answer: %v %+v", err, res)
	}
	calls = e.rec.since(m)
	if got := e.rec.functions(m); !slices.Equal(got, []string{fnVerify, fnDefine}) {
		t.Fatalf("RespondToAuthChallenge ran %v", got)
	}
	if v := verifyEvent(t, calls[0].payload); v.Request.ClientMetadata["probe"] != "respond-2" {
		t.Errorf("verify clientMetadata %v", v.Request.ClientMetadata)
	}
	d = defineEvent(t, calls[1].payload)
	if d.Request.ClientMetadata["probe"] != "respond-2" || len(d.Request.Session) != 2 || !d.Request.Session[1].ChallengeResult || d.Request.Session[0].ChallengeResult {
		t.Errorf("last define request %+v", d.Request)
	}
}

func TestWrongAnswersUntilCap(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp(t, "carol@example.com")
	out, err := e.initiate("carol@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	user, session, nonces := out.ChallengeParameters["USERNAME"], *out.Session, []string{out.ChallengeParameters["nonce"]}
	for i := 1; i < 3; i++ {
		next, err := e.respond(user, session, "right:not-the-nonce", deviceKeyMeta())
		if err != nil {
			t.Fatalf("wrong answer %d: %v", i, err)
		}
		n := next.ChallengeParameters["nonce"]
		if next.ChallengeName != types.ChallengeNameTypeCustomChallenge || len(n) != 43 || slices.Contains(nonces, n) {
			t.Fatalf("wrong answer %d: challenge %q nonce %q (seen %v)", i, next.ChallengeName, n, nonces)
		}
		if aws.ToString(next.Session) == session {
			t.Fatal("the session did not change")
		}
		if n := len(aws.ToString(next.Session)); n > 2048 {
			t.Errorf("session of %d characters, more than Cognito's 2048", n)
		}
		nonces, session = append(nonces, n), *next.Session
	}
	_, err = e.respond(user, session, "right:"+nonces[0], deviceKeyMeta()) // an old nonce is wrong too
	var nae *types.NotAuthorizedException
	if !errors.As(err, &nae) || nae.ErrorMessage() != "Incorrect username or password." {
		t.Fatalf("third wrong answer: %v, want NotAuthorizedException", err)
	}
	// The sign-in is over: the last session is spent.
	_, err = e.respond(user, session, "right:"+nonces[2], deviceKeyMeta())
	wantAPIError(t, err, "NotAuthorizedException", "Invalid session for the user.")
}

func TestSessionSingleUse(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp(t, "dave@example.com")
	out := e.mustInitiate(t, "dave@example.com")
	user, first := out.ChallengeParameters["USERNAME"], *out.Session
	next, err := e.respond(user, first, "wrong", deviceKeyMeta())
	if err != nil {
		t.Fatal(err)
	}
	m := e.rec.mark()
	_, err = e.respond(user, first, "right:"+out.ChallengeParameters["nonce"], deviceKeyMeta())
	wantAPIError(t, err, "NotAuthorizedException", "Invalid session for the user.")
	if calls := e.rec.since(m); len(calls) != 0 {
		t.Errorf("a replayed session ran triggers: %v", e.rec.functions(m))
	}
	second := *next.Session
	res, err := e.respond(user, second, "right:"+next.ChallengeParameters["nonce"], deviceKeyMeta())
	if err != nil || res.AuthenticationResult == nil {
		t.Fatalf("second session: %v", err)
	}
	_, err = e.respond(user, second, "right:"+next.ChallengeParameters["nonce"], deviceKeyMeta())
	wantAPIError(t, err, "NotAuthorizedException", "Invalid session for the user.")

	// Concurrent replays: exactly one wins.
	out, err = e.initiate("dave@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 10 {
		wg.Go(func() {
			res, err := e.respond(user, *out.Session, "right:"+out.ChallengeParameters["nonce"], deviceKeyMeta())
			if err == nil && res.AuthenticationResult != nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent uses of one session succeeded, want 1", wins)
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp(t, "erin@example.com")
	out := e.mustInitiate(t, "erin@example.com")
	e.clock.Advance(3*time.Minute - time.Second)
	next, err := e.respond(out.ChallengeParameters["USERNAME"], *out.Session, "wrong", deviceKeyMeta())
	if err != nil {
		t.Fatalf("just before expiry: %v", err)
	}
	// Each session string is valid for AuthSessionValidity from when it was issued.
	e.clock.Advance(3*time.Minute + time.Second)
	m := e.rec.mark()
	_, err = e.respond(out.ChallengeParameters["USERNAME"], *next.Session, "right:"+next.ChallengeParameters["nonce"], deviceKeyMeta())
	wantAPIError(t, err, "NotAuthorizedException", "Invalid session for the user, session is expired.")
	if len(e.rec.since(m)) != 0 {
		t.Error("an expired session ran triggers")
	}
}

func TestSessionTamperingAndUserName(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp(t, "frank@example.com")
	e.signUp(t, "grace@example.com")
	out, err := e.initiate("frank@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	sess, nonce, user := *out.Session, out.ChallengeParameters["nonce"], out.ChallengeParameters["USERNAME"]

	// The session reveals nothing: not the nonce, the session ID or the user.
	raw, _ := base64.RawURLEncoding.DecodeString(sess)
	for _, secret := range []string{nonce, user, "NONCE", "frank", "sid"} {
		if strings.Contains(sess, secret) || strings.Contains(string(raw), secret) {
			t.Errorf("session shows %q", secret)
		}
	}
	// A modified session is refused.
	b := []byte(sess)
	b[len(b)/2] ^= 1
	if b[len(b)/2] == '.' || b[len(b)/2] == '/' {
		b[len(b)/2] = 'A'
	}
	_, err = e.respond(user, string(b), "right:"+nonce, deviceKeyMeta())
	wantAPIError(t, err, "NotAuthorizedException", "Invalid session for the user.")

	// Another user's name: refused, and the session is not spent.
	_, err = e.respond("grace@example.com", sess, "right:"+nonce, deviceKeyMeta())
	wantAPIError(t, err, "NotAuthorizedException", "")
	// The e-mail address the user signed in with is as good as the user name.
	res, err := e.respond("Frank@Example.com", sess, "right:"+nonce, deviceKeyMeta())
	if err != nil || res.AuthenticationResult == nil {
		t.Fatalf("USERNAME as the sign-in alias: %v", err)
	}
}

func TestUnknownUserLooksLikeWrongAnswer(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp(t, "heidi@example.com")

	// run answers three times, the third answer ending the sign-in.
	run := func(name string, answer func(nonce string) string) (*cip.InitiateAuthOutput, []invocation, error) {
		m := e.rec.mark()
		out, err := e.initiate(name, nil)
		if err != nil {
			t.Fatalf("InitiateAuth(%s): %v", name, err)
		}
		params, sess := out.ChallengeParameters, *out.Session
		for i := 0; ; i++ {
			next, err := e.respond(params["USERNAME"], sess, answer(params["nonce"]), deviceKeyMeta())
			if err != nil {
				return out, e.rec.since(m), err
			}
			if i > 5 || next.AuthenticationResult != nil {
				t.Fatalf("%s: sign-in did not fail: %+v", name, next)
			}
			if got, want := keys(next.ChallengeParameters), keys(params); !slices.Equal(got, want) {
				t.Errorf("%s round %d parameters %v, want %v", name, i+2, got, want)
			}
			params, sess = next.ChallengeParameters, *next.Session
		}
	}
	realOut, _, realErr := run("heidi@example.com", func(string) string { return "wrong" })
	ghostOut, calls, ghostErr := run("nobody@example.com", func(n string) string { return "right:" + n })

	if got, want := keys(ghostOut.ChallengeParameters), keys(realOut.ChallengeParameters); !slices.Equal(got, want) {
		t.Errorf("unknown user parameters %v, want %v", got, want)
	}
	// As in the one public report of Cognito's answer (aws/aws-sdk-go issue 3134): a real user's
	// name in an alias pool is its sub, a version-4 UUID; an unknown user's is a version-3
	// (name-based) UUID. Same shape, different version digit: the emulator must not hide that.
	if u := realOut.ChallengeParameters["USERNAME"]; !uuidPattern.MatchString(u) {
		t.Errorf("real user USERNAME %q is not a version-4 UUID", u)
	}
	if u := ghostOut.ChallengeParameters["USERNAME"]; !uuidV3Pattern.MatchString(u) {
		t.Errorf("unknown user USERNAME %q is not a version-3 UUID (Cognito's dummy name)", u)
	}
	if other, err := e.initiate("somebody@example.com", nil); err != nil || other.ChallengeParameters["USERNAME"] == ghostOut.ChallengeParameters["USERNAME"] {
		t.Errorf("two unknown names show the same USERNAME (%v)", err)
	}
	rc, rm := apiError(realErr)
	gc, gm := apiError(ghostErr)
	if rc != "NotAuthorizedException" || rc != gc || rm != gm {
		t.Errorf("unknown user failed with %s %q, real user with %s %q", gc, gm, rc, rm)
	}
	if len(calls) != 10 { // Define+Create, twice Verify+Define+Create, Verify+Define
		t.Errorf("unknown user ran %v", len(calls))
	}
	for _, inv := range calls {
		var ev struct {
			UserName string `json:"userName"`
			Request  struct {
				UserNotFound   bool              `json:"userNotFound"`
				UserAttributes map[string]string `json:"userAttributes"`
			} `json:"request"`
		}
		if err := json.Unmarshal(inv.payload, &ev); err != nil {
			t.Fatal(err)
		}
		if !ev.Request.UserNotFound || len(ev.Request.UserAttributes) != 0 || ev.UserName != "nobody@example.com" {
			t.Errorf("%s event for an unknown user: %s", inv.function, inv.payload)
		}
	}
	// The same unknown name always shows the same USERNAME.
	again, err := e.initiate("NOBODY@example.com", nil)
	if err != nil || again.ChallengeParameters["USERNAME"] != ghostOut.ChallengeParameters["USERNAME"] {
		t.Errorf("USERNAME for the same unknown user changed: %v", err)
	}

	// Without PreventUserExistenceErrors Cognito says so, and runs no trigger.
	e2 := newEnv(t, func(c *idp.Config) { c.PreventUserExistenceErrors = idp.Bool(false) })
	m := e2.rec.mark()
	_, err = e2.initiate("nobody@example.com", nil)
	var unf *types.UserNotFoundException
	if !errors.As(err, &unf) {
		t.Errorf("without PreventUserExistenceErrors: %v, want UserNotFoundException", err)
	}
	if len(e2.rec.since(m)) != 0 {
		t.Error("triggers ran for an unknown user without PreventUserExistenceErrors")
	}
}

func TestDefineCanIssueTokensOrFail(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp(t, "ivan@example.com")
	respond := func(resp string) {
		e.rec.hookOn(fnDefine, func(_ ctxT, payload []byte) ([]byte, error) {
			var ev map[string]any
			json.Unmarshal(payload, &ev)
			json.Unmarshal([]byte(resp), &ev)
			b, _ := json.Marshal(ev)
			return b, nil
		})
	}
	defer e.rec.setHook(nil)

	// Define may issue tokens straight away (no challenge) for a real user...
	respond(`{"response":{"issueTokens":true}}`)
	out, err := e.initiate("ivan@example.com", nil)
	if err != nil || out.AuthenticationResult == nil || out.ChallengeName != "" {
		t.Fatalf("issueTokens at once: %v %+v", err, out)
	}
	// ...never for an unknown one.
	_, err = e.initiate("ghost@example.com", nil)
	wantAPIError(t, err, "NotAuthorizedException", "Incorrect username or password.")

	for _, tc := range []struct{ resp, code string }{
		{`{"response":{"failAuthentication":true}}`, "NotAuthorizedException"},
		{`{"response":{"failAuthentication":true,"issueTokens":true}}`, "NotAuthorizedException"},
		{`{"response":{"issueTokens":true,"challengeName":"CUSTOM_CHALLENGE"}}`, "InvalidLambdaResponseException"},
		{`{"response":{}}`, "InvalidLambdaResponseException"},
		{`{"response":{"challengeName":"PASSWORD_VERIFIER"}}`, "InvalidLambdaResponseException"},
	} {
		respond(tc.resp)
		out, err := e.initiate("ivan@example.com", nil)
		if c, _ := apiError(err); c != tc.code || out != nil {
			t.Errorf("define %s: %v, want %s", tc.resp, err, tc.code)
		}
	}
}

func TestTriggerTimeoutsAndErrors(t *testing.T) {
	e := newEnv(t, func(c *idp.Config) { c.TriggerTimeout = 200 * time.Millisecond })
	e.signUp(t, "judy@example.com")
	defer e.rec.setHook(nil)

	sleepOn := func(function string, times int) {
		var mu sync.Mutex
		n := 0
		e.rec.setHook(func(c ctxT, fn string, _ []byte) ([]byte, error, bool) {
			mu.Lock()
			n++
			slow := fn == function && n <= times
			if fn != function {
				n--
			}
			mu.Unlock()
			if !slow {
				return nil, nil, false
			}
			time.Sleep(300 * time.Millisecond) // ignores its context, like a stuck function
			return []byte(`{}`), nil, true
		})
	}

	t.Run("timeout retried then fails", func(t *testing.T) {
		sleepOn(fnCreate, 100)
		before := e.pool.Stats()
		start := time.Now()
		_, err := e.initiate("judy@example.com", nil)
		elapsed := time.Since(start)
		var ule *types.UnexpectedLambdaException
		if !errors.As(err, &ule) || ule.ErrorMessage() != "CreateAuthChallenge invocation failed due to error Socket timeout while invoking Lambda function." {
			t.Fatalf("err = %v, want UnexpectedLambdaException for the timeout", err)
		}
		after := e.pool.Stats()
		if n := after.Invocations[idp.TriggerCreate] - before.Invocations[idp.TriggerCreate]; n != 3 {
			t.Errorf("Create invoked %d times, want 1 + 2 retries", n)
		}
		if n := after.Retries[idp.TriggerCreate] - before.Retries[idp.TriggerCreate]; n != 2 {
			t.Errorf("Create retried %d times", n)
		}
		// Each of the 3 attempts waits out its 200 ms timeout. Only the lower bound is checked: a
		// busy machine makes it slower, never faster.
		if elapsed < 600*time.Millisecond {
			t.Errorf("took %v, want at least 3 x 200 ms", elapsed)
		}
	})

	t.Run("one timeout then success", func(t *testing.T) {
		sleepOn(fnCreate, 1)
		before := e.pool.Stats()
		out, err := e.initiate("judy@example.com", nil)
		if err != nil || out.ChallengeName != types.ChallengeNameTypeCustomChallenge {
			t.Fatalf("err = %v", err)
		}
		if n := e.pool.Stats().Invocations[idp.TriggerCreate] - before.Invocations[idp.TriggerCreate]; n != 2 {
			t.Errorf("Create invoked %d times, want 2", n)
		}
	})

	t.Run("function error not retried", func(t *testing.T) {
		failing := idp.Handle(func(_ ctxT, ev defineEv) (defineEv, error) { return ev, errors.New("boom") })
		e.rec.hookOn(fnDefine, failing)
		before := e.pool.Stats()
		_, err := e.initiate("judy@example.com", nil)
		var ulv *types.UserLambdaValidationException
		if !errors.As(err, &ulv) || ulv.ErrorMessage() != "DefineAuthChallenge failed with error boom." {
			t.Fatalf("err = %v, want UserLambdaValidationException", err)
		}
		if n := e.pool.Stats().Invocations[idp.TriggerDefine] - before.Invocations[idp.TriggerDefine]; n != 1 {
			t.Errorf("Define invoked %d times, want 1", n)
		}
	})

	t.Run("Lambda error payload", func(t *testing.T) {
		e.rec.hookOn(fnVerify, func(ctxT, []byte) ([]byte, error) {
			return []byte(`{"errorMessage":"sign-in temporarily unavailable","errorType":"errorString"}`), nil
		})
		out, err := e.initiate("judy@example.com", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.respond(out.ChallengeParameters["USERNAME"], *out.Session, "right:"+out.ChallengeParameters["nonce"], deviceKeyMeta())
		wantAPIError(t, err, "UserLambdaValidationException", "VerifyAuthChallengeResponse failed with error sign-in temporarily unavailable.")
	})

	t.Run("transport error retried", func(t *testing.T) {
		e.rec.hookOn(fnDefine, func(ctxT, []byte) ([]byte, error) {
			return nil, errors.New("TooManyRequestsException: Rate exceeded")
		})
		before := e.pool.Stats()
		_, err := e.initiate("judy@example.com", nil)
		wantAPIError(t, err, "UnexpectedLambdaException", "DefineAuthChallenge invocation failed due to error TooManyRequestsException: Rate exceeded.")
		if n := e.pool.Stats().Invocations[idp.TriggerDefine] - before.Invocations[idp.TriggerDefine]; n != 3 {
			t.Errorf("Define invoked %d times, want 3", n)
		}
	})

	t.Run("unreadable response", func(t *testing.T) {
		e.rec.hookOn(fnCreate, func(ctxT, []byte) ([]byte, error) {
			return []byte(`not json`), nil
		})
		_, err := e.initiate("judy@example.com", nil)
		wantAPIError(t, err, "InvalidLambdaResponseException", "")
	})
}

func TestRefreshAndTokenChecks(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp(t, "ken@example.com")
	ar := e.signIn(t, "ken@example.com")
	jwks := e.jwks(t)
	first := verifyJWT(t, jwks, aws.ToString(ar.AccessToken))

	e.clock.Advance(2 * time.Hour)
	_, err := e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: ar.AccessToken})
	wantAPIError(t, err, "NotAuthorizedException", "Access Token has expired")

	for _, flow := range []types.AuthFlowType{types.AuthFlowTypeRefreshTokenAuth, types.AuthFlowTypeRefreshToken} {
		out, err := e.client.InitiateAuth(ctx, &cip.InitiateAuthInput{
			AuthFlow:       flow,
			ClientId:       aws.String(e.pool.ClientID()),
			AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(ar.RefreshToken)},
		})
		if err != nil {
			t.Fatalf("%s: %v", flow, err)
		}
		nr := out.AuthenticationResult
		if nr == nil || nr.RefreshToken != nil || aws.ToString(nr.AccessToken) == "" || aws.ToString(nr.IdToken) == "" {
			t.Fatalf("%s result %+v", flow, nr)
		}
		acc := verifyJWT(t, jwks, aws.ToString(nr.AccessToken))
		id := verifyJWT(t, jwks, aws.ToString(nr.IdToken))
		if acc["auth_time"] != first["auth_time"] || id["auth_time"] != first["auth_time"] || acc["origin_jti"] != first["origin_jti"] || acc["jti"] == first["jti"] {
			t.Errorf("%s: refreshed claims %v, first %v", flow, acc, first)
		}
		if claimInt(t, acc, "iat") != e.clock.Now().Unix() {
			t.Errorf("%s: iat %v", flow, acc["iat"])
		}
		if _, err := e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: nr.AccessToken}); err != nil {
			t.Errorf("%s: GetUser with the refreshed token: %v", flow, err)
		}
	}

	fresh := e.signIn(t, "ken@example.com")
	tok := aws.ToString(fresh.AccessToken)
	parts := strings.Split(tok, ".")
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(claims), `"token_use":"access"`, `"token_use":"access" `, 1)
	for name, bad := range map[string]string{
		"payload changed": parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2],
		"signature cut":   parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-4],
		"alg none":        base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"`+e.pool.KeyID()+`"}`)) + "." + parts[1] + ".",
		"garbage":         "not-a-token",
	} {
		_, err := e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: aws.String(bad)})
		wantAPIError(t, err, "NotAuthorizedException", "Invalid Access Token")
		_ = name
	}
	rt := []byte(aws.ToString(fresh.RefreshToken))
	rt[10] ^= 2
	_, err = e.client.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow: types.AuthFlowTypeRefreshTokenAuth, ClientId: aws.String(e.pool.ClientID()),
		AuthParameters: map[string]string{"REFRESH_TOKEN": string(rt)},
	})
	wantAPIError(t, err, "NotAuthorizedException", "Invalid Refresh Token")
	// A session is not a refresh token.
	out := e.mustInitiate(t, "ken@example.com")
	_, err = e.client.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow: types.AuthFlowTypeRefreshTokenAuth, ClientId: aws.String(e.pool.ClientID()),
		AuthParameters: map[string]string{"REFRESH_TOKEN": *out.Session},
	})
	wantAPIError(t, err, "NotAuthorizedException", "Invalid Refresh Token")

	// The refresh token expires after 30 days.
	e.clock.Advance(30 * 24 * time.Hour)
	_, err = e.client.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow: types.AuthFlowTypeRefreshTokenAuth, ClientId: aws.String(e.pool.ClientID()),
		AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(fresh.RefreshToken)},
	})
	wantAPIError(t, err, "NotAuthorizedException", "Refresh Token has expired")
}

func TestRevocation(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp(t, "leo@example.com")
	a, b := e.signIn(t, "leo@example.com"), e.signIn(t, "leo@example.com")
	if _, err := e.client.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: aws.String(e.pool.ClientID()), Token: a.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: a.AccessToken})
	wantAPIError(t, err, "NotAuthorizedException", "Access Token has been revoked")
	if _, err := e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: b.AccessToken}); err != nil {
		t.Fatalf("the other sign-in was revoked too: %v", err)
	}
	if _, err := e.client.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: b.AccessToken}); err != nil {
		t.Fatal(err)
	}
	// GetUser refuses an access token revoked by GlobalSignOut ("Revoked tokens can't be used
	// with any Cognito API calls that require a token", doc.go), so do the token's other calls.
	_, err = e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: b.AccessToken})
	wantAPIError(t, err, "NotAuthorizedException", "Access Token has been revoked")
	_, err = e.client.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: b.AccessToken, UserAttributes: []types.AttributeType{attr("name", "x")}})
	wantAPIError(t, err, "NotAuthorizedException", "Access Token has been revoked")
	_, err = e.client.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow: types.AuthFlowTypeRefreshTokenAuth, ClientId: aws.String(e.pool.ClientID()),
		AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(b.RefreshToken)},
	})
	wantAPIError(t, err, "NotAuthorizedException", "Refresh Token has been revoked")
	c := e.signIn(t, "leo@example.com")
	if _, err := e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: c.AccessToken}); err != nil {
		t.Fatalf("a new sign-in after GlobalSignOut: %v", err)
	}
	if _, err := e.client.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(e.pool.PoolID()), Username: aws.String("leo@example.com")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: c.AccessToken})
	wantAPIError(t, err, "NotAuthorizedException", "Access Token has been revoked")
}

func TestOtherFlowsAndClients(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp(t, "mia@example.com")
	for _, flow := range []types.AuthFlowType{types.AuthFlowTypeUserPasswordAuth, types.AuthFlowTypeUserSrpAuth, types.AuthFlowTypeUserAuth} {
		_, err := e.client.InitiateAuth(ctx, &cip.InitiateAuthInput{
			AuthFlow: flow, ClientId: aws.String(e.pool.ClientID()),
			AuthParameters: map[string]string{"USERNAME": "mia@example.com", "PASSWORD": password},
		})
		wantAPIError(t, err, "InvalidParameterException", fmt.Sprintf("%s flow not enabled for this client", flow))
	}
	_, err := e.client.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow: types.AuthFlowTypeCustomAuth, ClientId: aws.String("someotherclient0000000000a"),
		AuthParameters: map[string]string{"USERNAME": "mia@example.com"},
	})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("wrong client: %v, want ResourceNotFoundException", err)
	}
	_, err = e.client.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeCustomAuth, ClientId: aws.String(e.pool.ClientID())})
	wantAPIError(t, err, "InvalidParameterException", "Missing required parameter USERNAME")

	// A pool without the custom-auth triggers refuses CUSTOM_AUTH.
	bare := newEnv(t, func(c *idp.Config) { c.Triggers = idp.Triggers{} })
	_, err = bare.initiate("mia@example.com", nil)
	wantAPIError(t, err, "InvalidParameterException", "Custom auth lambda trigger is not configured for the user pool.")
}

func TestConcurrentSignIns(t *testing.T) {
	e := newEnv(t, nil)
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("user%03d@example.com", i)
			if _, err := e.client.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(e.pool.ClientID()), Username: aws.String(name), Password: aws.String(password)}); err != nil {
				errs <- fmt.Errorf("%s sign-up: %w", name, err)
				return
			}
			out, err := e.initiate(name, nil)
			if err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
				return
			}
			if i%2 == 0 { // half of them get one wrong answer first
				if out, err = e.initiateAfterWrong(out); err != nil {
					errs <- fmt.Errorf("%s wrong answer: %w", name, err)
					return
				}
			}
			res, err := e.respond(out.ChallengeParameters["USERNAME"], *out.Session, "right:"+out.ChallengeParameters["nonce"], deviceKeyMeta())
			if err != nil || res.AuthenticationResult == nil {
				errs <- fmt.Errorf("%s: %v", name, err)
				return
			}
			me, err := e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: res.AuthenticationResult.AccessToken})
			if err != nil {
				errs <- fmt.Errorf("%s GetUser: %w", name, err)
				return
			}
			if v, _ := attrValue(me.UserAttributes, "email"); v != name {
				errs <- fmt.Errorf("%s signed in as %s", name, v)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := e.pool.Stats()
	if st.Calls["SignUp"] != n || st.Calls["InitiateAuth"] != n || st.Calls["RespondToAuthChallenge"] != n+n/2 || st.Calls["GetUser"] != n {
		t.Errorf("calls %v", st.Calls)
	}
	if st.Invocations[idp.TriggerVerify] != n+n/2 || st.Invocations[idp.TriggerCreate] != n+n/2 || st.Invocations[idp.TriggerDefine] != 2*n+n/2 {
		t.Errorf("invocations %v", st.Invocations)
	}
}

// initiateAfterWrong answers a challenge wrongly and returns the next one in InitiateAuth's shape.
func (e *env) initiateAfterWrong(out *cip.InitiateAuthOutput) (*cip.InitiateAuthOutput, error) {
	next, err := e.respond(out.ChallengeParameters["USERNAME"], *out.Session, "wrong", deviceKeyMeta())
	if err != nil {
		return nil, err
	}
	return &cip.InitiateAuthOutput{ChallengeName: next.ChallengeName, Session: next.Session, ChallengeParameters: next.ChallengeParameters}, nil
}
