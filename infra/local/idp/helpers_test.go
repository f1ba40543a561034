package idp_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	"github.com/passwordless-go/cognito/infra/local/idp"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/keyed"
	"github.com/passwordless-go/cognito/lambdas/signup"
	"github.com/passwordless-go/cognito/lambdas/triggers"
)

// Function names the test pools use for their triggers.
const (
	fnDefine    = "define"
	fnCreate    = "create"
	fnVerify    = "verify"
	fnPreSignUp = "presignup"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

// signingKey is one RSA key shared by the tests (generating one per pool is slow under -race).
func signingKey(t testing.TB) *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

// testKeys is the deployment key source of the in-process triggers.
var testKeys = keyed.MustStatic("idp-test-deployment-secret-0123456789abcdef")

var flowCfg = authflow.Config{Methods: []authflow.Method{authflow.DeviceKey}, MaxAttempts: 3, MaxResends: 2}

// nonceChecker stands in for a real key method: the answer "right:<nonce>" proves the user.
type nonceChecker struct{}

func (nonceChecker) Check(_ context.Context, req triggers.CheckRequest) (bool, error) {
	return req.Answer == "right:"+req.Private[authflow.PrivNonce], nil
}

// realFunctions are the real trigger handlers, run in-process.
func realFunctions(pre *signup.PreSignUp) idp.Functions {
	return idp.Functions{
		fnDefine: idp.Handle((&triggers.Define{Config: flowCfg}).Handle),
		fnCreate: idp.Handle((&triggers.Create{Config: flowCfg, Keys: testKeys}).Handle),
		fnVerify: idp.Handle((&triggers.Verify{
			Config:   flowCfg,
			Keys:     testKeys,
			Checkers: map[authflow.Method]triggers.Checker{authflow.DeviceKey: nonceChecker{}},
		}).Handle),
		fnPreSignUp: idp.Handle(pre.Handle),
	}
}

type invocation struct {
	function string
	payload  []byte
}

// recorder is the tests' Invoker: it records every event, lets a test replace a function with
// hook, and otherwise runs the real handlers.
type recorder struct {
	fns  idp.Functions
	mu   sync.Mutex
	log  []invocation
	hook func(ctx context.Context, function string, payload []byte) ([]byte, error, bool)
}

func (r *recorder) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	r.mu.Lock()
	r.log = append(r.log, invocation{function, append([]byte(nil), payload...)})
	hook := r.hook
	r.mu.Unlock()
	if hook != nil {
		if b, err, handled := hook(ctx, function, payload); handled {
			return b, err
		}
	}
	return r.fns.Invoke(ctx, function, payload)
}

func (r *recorder) setHook(h func(ctx context.Context, function string, payload []byte) ([]byte, error, bool)) {
	r.mu.Lock()
	r.hook = h
	r.mu.Unlock()
}

// hookOn answers every call to function with answer (and passes calls to the other functions
// through), until the hook is set again.
func (r *recorder) hookOn(function string, answer func(ctx context.Context, payload []byte) ([]byte, error)) {
	r.setHook(func(ctx context.Context, fn string, payload []byte) ([]byte, error, bool) {
		if fn != function {
			return nil, nil, false
		}
		b, err := answer(ctx, payload)
		return b, err, true
	})
}

// mark returns the position in the log, for since.
func (r *recorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.log)
}

// since returns the invocations after mark m.
func (r *recorder) since(m int) []invocation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log[m:])
}

func (r *recorder) functions(m int) []string {
	var out []string
	for _, i := range r.since(m) {
		out = append(out, i.function)
	}
	return out
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	pool   *idp.Pool
	srv    *httptest.Server
	client *cip.Client
	rec    *recorder
	clock  *fakeClock
}

// newEnv starts a pool with the real triggers (PreSignUp accepting email and phone) behind an
// httptest server, and an SDK client for it. mod may change the config.
func newEnv(t testing.TB, mod func(*idp.Config)) *env {
	t.Helper()
	e := &env{
		rec:   &recorder{fns: realFunctions(&signup.PreSignUp{Email: true, Phone: true})},
		clock: &fakeClock{t: time.Now().Truncate(time.Second)},
	}
	e.srv = httptest.NewUnstartedServer(nil)
	cfg := idp.Config{
		Aliases: []idp.Alias{idp.AliasEmail, idp.AliasPhone},
		Triggers: idp.Triggers{
			DefineAuthChallenge:         fnDefine,
			CreateAuthChallenge:         fnCreate,
			VerifyAuthChallengeResponse: fnVerify,
			PreSignUp:                   fnPreSignUp,
		},
		Clock:      e.clock.Now,
		IssuerBase: "http://" + e.srv.Listener.Addr().String(),
		SigningKey: signingKey(t),
	}
	if mod != nil {
		mod(&cfg)
	}
	pool, err := idp.New(cfg, e.rec)
	if err != nil {
		t.Fatal(err)
	}
	e.pool = pool
	e.srv.Config.Handler = pool
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	e.client = cip.New(cip.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(e.srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCALTEST", "local-secret", ""),
		HTTPClient:   e.srv.Client(),
	})
	return e
}

var ctx = context.Background()

type (
	ctxT     = context.Context
	defineEv = events.CognitoEventUserPoolsDefineAuthChallenge
)

const password = "Local-Passw0rd-For-Tests!"

func (e *env) signUp(t testing.TB, username string, attrs ...types.AttributeType) *cip.SignUpOutput {
	t.Helper()
	out, err := e.client.SignUp(ctx, &cip.SignUpInput{
		ClientId:       aws.String(e.pool.ClientID()),
		Username:       aws.String(username),
		Password:       aws.String(password),
		UserAttributes: attrs,
	})
	if err != nil {
		t.Fatalf("SignUp(%s): %v", username, err)
	}
	return out
}

func (e *env) initiate(username string, meta map[string]string) (*cip.InitiateAuthOutput, error) {
	return e.client.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeCustomAuth,
		ClientId:       aws.String(e.pool.ClientID()),
		AuthParameters: map[string]string{"USERNAME": username},
		ClientMetadata: meta,
	})
}

func deviceKeyMeta(extra ...string) map[string]string {
	m := map[string]string{authflow.MetaSignInMethod: string(authflow.DeviceKey)}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

func (e *env) respond(username, session, answer string, meta map[string]string) (*cip.RespondToAuthChallengeOutput, error) {
	return e.client.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
		ClientId:           aws.String(e.pool.ClientID()),
		ChallengeName:      types.ChallengeNameTypeCustomChallenge,
		Session:            aws.String(session),
		ChallengeResponses: map[string]string{"USERNAME": username, "ANSWER": answer},
		ClientMetadata:     meta,
	})
}

// signIn runs the device_key sign-in: InitiateAuth, then the right answer over the nonce.
// mustInitiate starts a custom-auth sign-in of username without client metadata; an error
// fails the test.
func (e *env) mustInitiate(t testing.TB, username string) *cip.InitiateAuthOutput {
	t.Helper()
	out, err := e.initiate(username, nil)
	if err != nil {
		t.Fatalf("InitiateAuth(%s): %v", username, err)
	}
	return out
}

func (e *env) signIn(t testing.TB, username string) *types.AuthenticationResultType {
	t.Helper()
	out := e.mustInitiate(t, username)
	if out.ChallengeName != types.ChallengeNameTypeCustomChallenge || out.Session == nil {
		t.Fatalf("InitiateAuth(%s): challenge %q session %v", username, out.ChallengeName, out.Session)
	}
	res, err := e.respond(out.ChallengeParameters["USERNAME"], *out.Session, "right:"+out.ChallengeParameters["nonce"], deviceKeyMeta())
	if err != nil {
		t.Fatalf("RespondToAuthChallenge(%s): %v", username, err)
	}
	if res.AuthenticationResult == nil || res.ChallengeName != "" || res.Session != nil {
		t.Fatalf("RespondToAuthChallenge(%s): no tokens: %+v", username, res)
	}
	return res.AuthenticationResult
}

// apiError returns the error code and message of an SDK error ("" if err is not an API error).
func apiError(err error) (string, string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", ""
}

// wantAPIError fails unless err is the API error code with the message (msg "" : any message).
func wantAPIError(t testing.TB, err error, code, msg string) {
	t.Helper()
	c, m := apiError(err)
	if c != code || (msg != "" && m != msg) {
		t.Fatalf("error = %v (code %q, message %q), want %s %q", err, c, m, code, msg)
	}
}

// jwks fetches the pool's key set over HTTP.
func (e *env) jwks(t testing.TB) map[string]*rsa.PublicKey {
	t.Helper()
	resp, err := e.srv.Client().Get(e.pool.Issuer() + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("JWKS status %d", resp.StatusCode)
	}
	var set struct {
		Keys []struct{ Kty, Alg, Use, Kid, N, E string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		eb, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" || k.Kid == "" {
			t.Fatalf("bad JWK %+v", k)
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(eb).Int64())}
	}
	return keys
}

// verifyJWT checks an RS256 token against the JWKS and returns its claims.
func verifyJWT(t testing.TB, keys map[string]*rsa.PublicKey, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	var h struct{ Alg, Kid, Typ string }
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(hb, &h); err != nil || h.Alg != "RS256" {
		t.Fatalf("header %s: %v", hb, err)
	}
	key := keys[h.Kid]
	if key == nil {
		t.Fatalf("kid %q not in JWKS", h.Kid)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("signature: %v", err)
	}
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	return decodeClaims(t, cb)
}

// decodeClaims decodes a JWT payload (the decoded middle part), numbers as json.Number.
func decodeClaims(t testing.TB, payload []byte) map[string]any {
	t.Helper()
	claims := map[string]any{}
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func claimInt(t testing.TB, c map[string]any, k string) int64 {
	t.Helper()
	n, ok := c[k].(json.Number)
	if !ok {
		t.Fatalf("claim %s = %#v, not a number", k, c[k])
	}
	v, err := n.Int64()
	if err != nil {
		t.Fatalf("claim %s: %v", k, err)
	}
	return v
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Decoders for recorded events.
func defineEvent(t testing.TB, b []byte) events.CognitoEventUserPoolsDefineAuthChallenge {
	t.Helper()
	return decodeEvent[events.CognitoEventUserPoolsDefineAuthChallenge](t, b)
}

func createEvent(t testing.TB, b []byte) events.CognitoEventUserPoolsCreateAuthChallenge {
	t.Helper()
	return decodeEvent[events.CognitoEventUserPoolsCreateAuthChallenge](t, b)
}

func verifyEvent(t testing.TB, b []byte) events.CognitoEventUserPoolsVerifyAuthChallenge {
	t.Helper()
	return decodeEvent[events.CognitoEventUserPoolsVerifyAuthChallenge](t, b)
}

// decodeEvent decodes a recorded trigger payload as a T.
func decodeEvent[T any](t testing.TB, b []byte) T {
	t.Helper()
	var ev T
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func attrValue(attrs []types.AttributeType, name string) (string, bool) {
	for _, a := range attrs {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value), true
		}
	}
	return "", false
}

func attr(name, value string) types.AttributeType {
	return types.AttributeType{Name: aws.String(name), Value: aws.String(value)}
}
