//go:build unix

package amplify

import (
	"bytes"
	"context"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/infra/local/signin"
	"github.com/passwordless-go/cognito/infra/smoke"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/passkey/softauthn"
)

//go:embed testdata/driver.mjs
var driverJS []byte

// The relying party of the test's passkeys: a web app at https://app.example.com (the origin
// defaults to https://<RPID>); the software authenticator under Node claims that origin.
const (
	rpID     = "app.example.com"
	rpOrigin = "https://" + rpID
)

func amplifyProps() *passwordless.Props {
	return &passwordless.Props{
		Methods:  []passwordless.Method{passwordless.EmailOTP, passwordless.DeviceKey, passwordless.Passkey},
		Aliases:  passwordless.Aliases{Email: true},
		Email:    &passwordless.EmailProps{From: "no-reply@example.com"},
		Passkeys: passwordless.PasskeyProps{RPID: rpID},
	}
}

// bench is the Go side of the driver: what a person (the emailed code) or a browser (a
// registered passkey) provides. Handler errors are recorded and fail the test.
type bench struct {
	h   *harness.Harness
	mu  sync.Mutex
	err []string
	// passkeyID is the credential the bench registered (base64url), "" before.
	passkeyID string
}

func (b *bench) fail(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.mu.Lock()
	b.err = append(b.err, msg)
	b.mu.Unlock()
	http.Error(w, msg, http.StatusInternalServerError)
}

func (b *bench) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/code":
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil {
			b.fail(w, "/code: n: %v", err)
			return
		}
		to := r.URL.Query().Get("to")
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		msg, err := b.h.AWS.WaitMessage(ctx, to, n)
		if err != nil {
			b.fail(w, "/code: message %d to %s: %v", n, to, err)
			return
		}
		code, ok := smoke.ExtractCode(msg.Text)
		if !ok {
			b.fail(w, "/code: no code in the message to %s: %q", to, msg.Text)
			return
		}
		writeJSON(w, map[string]string{"code": code})
	case "/passkey":
		var in struct{ AccessToken string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.AccessToken == "" {
			b.fail(w, "/passkey: body: %v", err)
			return
		}
		out, err := b.registerPasskey(r.Context(), in.AccessToken)
		if err != nil {
			b.fail(w, "/passkey: %v", err)
			return
		}
		writeJSON(w, out)
	default:
		b.fail(w, "bench: no route %s", r.URL.Path)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// registerPasskey registers a software passkey through the HTTP API for the holder of access
// (POST /passkeys/registration/options, the authenticator, POST /passkeys/registration) and
// returns what the driver's authenticator needs to use it: the private key as PKCS#8, the
// credential ID, the user handle, the flags and the sign count.
func (b *bench) registerPasskey(ctx context.Context, access string) (map[string]any, error) {
	a := &softauthn.Authenticator{RPID: rpID, Origin: rpOrigin, UV: true, BackupEligible: true, BackupState: true}
	status, raw, err := signin.API(ctx, b.h.APIURL, http.MethodPost, "/passkeys/registration/options", access, []byte("{}"))
	if err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("registration options: %d %s %v", status, raw, err)
	}
	var opts struct {
		PublicKey struct {
			Challenge string
			User      struct{ ID string }
		}
	}
	if err := json.Unmarshal(raw, &opts); err != nil {
		return nil, fmt.Errorf("registration options %s: %w", raw, err)
	}
	handle, err := base64.RawURLEncoding.DecodeString(opts.PublicKey.User.ID)
	if err != nil || len(handle) == 0 {
		return nil, fmt.Errorf("registration options: user.id %q: %v", opts.PublicKey.User.ID, err)
	}
	cred, js, err := a.Register(opts.PublicKey.Challenge, handle, softauthn.Tweak{})
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(map[string]any{"credential": json.RawMessage(js), "name": "Node authenticator"})
	if err != nil {
		return nil, err
	}
	status, raw, err = signin.API(ctx, b.h.APIURL, http.MethodPost, "/passkeys/registration", access, body)
	if err != nil || status != http.StatusCreated {
		return nil, fmt.Errorf("registration: %d %s %v", status, raw, err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(cred.Key)
	if err != nil {
		return nil, err
	}
	id := base64.RawURLEncoding.EncodeToString(cred.ID)
	b.mu.Lock()
	b.passkeyID = id
	b.mu.Unlock()
	return map[string]any{
		"credentialId": id,
		"userHandle":   base64.RawURLEncoding.EncodeToString(cred.UserHandle),
		"pkcs8":        base64.StdEncoding.EncodeToString(pkcs8),
		"rpId":         rpID,
		"origin":       rpOrigin,
		"flags":        softauthn.FlagUP | softauthn.FlagUV | softauthn.FlagBE | softauthn.FlagBS,
		"signCount":    cred.SignCount,
	}, nil
}

// step is one JSON line of the driver.
type step struct {
	Step          string
	Name, Message string // step "error"
	Stack         string
	// code rounds
	SignedIn       bool
	DeliveryMedium string
	Destination    string
	CodeStatus     string
	ResendAfter    float64
	// signed-in steps
	AccessToken string
	Me          map[string]any
	// device keys
	KeyID, PublicKey string
	Error            string
	// passkey
	CredentialID string
	Requests     []struct {
		RPID             string `json:"rpId"`
		UserVerification string
		ChallengeLength  int
	}
}

// TestAmplifyClient runs the README's Amplify JS v6 client under Node against the local harness:
// sign-up, an email-code sign-in (a wrong code refused, the right one accepted), a device key
// registered through the API and used to sign in (an unregistered key refused), a passkey sign-in
// with a software authenticator as navigator.credentials, and sign-out. Every access token
// Amplify holds is checked with GET /me on the local HTTP API, here in Go as well as by the
// client's own callApi.
func TestAmplifyClient(t *testing.T) {
	node := needNode(t)
	dynalitetest.Require(t)
	code, from := signin.READMEBlock(t, clientBegin, clientEnd, clientFile)
	t.Logf("client code from %s; %s %s; aws-amplify %s from %s", from, node.node, node.version, AmplifyVersion, node.modules)
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// The client and the driver in a directory of their own whose node_modules is the installed
	// one (ES modules resolve bare imports from the importing file's directory up, not NODE_PATH).
	dir := t.TempDir()
	for name, b := range map[string][]byte{"amplify-client.mjs": code, "driver.mjs": driverJS} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(node.modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}

	h := signin.StartHarness(ctx, t, harness.Options{Props: amplifyProps()})
	started := time.Since(t0)

	b := &bench{h: h}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)

	email := uniqueEmail()
	t1 := time.Now()
	cmd := exec.CommandContext(ctx, node.node, "driver.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"AMPLIFY_TEST_EMAIL="+email,
		"AMPLIFY_TEST_BENCH="+srv.URL,
		"AMPLIFY_TEST_POOL_ID="+h.PoolID,
		"AMPLIFY_TEST_CLIENT_ID="+h.ClientID,
		"AMPLIFY_TEST_COGNITO_URL="+h.CognitoURL,
		"AMPLIFY_TEST_API_URL="+h.APIURL,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	ran := time.Since(t1)
	steps := map[string]step{}
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line == "" {
			continue
		}
		var s step
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Errorf("driver line %q: %v", line, err)
			continue
		}
		steps[s.Step] = s
		order = append(order, s.Step)
	}
	b.mu.Lock()
	benchErrs := b.err
	b.mu.Unlock()
	for _, e := range benchErrs {
		t.Errorf("bench: %s", e)
	}
	if e, ok := steps["error"]; ok {
		t.Fatalf("the client failed after steps %v: %s: %s\n%s\nstderr:\n%s", order, e.Name, e.Message, e.Stack, stderr.String())
	}
	if runErr != nil || steps["done"].Step == "" {
		t.Fatalf("node driver.mjs: %v after steps %v\nstdout:\n%s\nstderr:\n%s", runErr, order, stdout.String(), stderr.String())
	}
	t.Logf("steps %v", order)

	// Email code.
	sent := steps["code_sent"]
	if sent.DeliveryMedium != "EMAIL" || sent.CodeStatus != "sent" || sent.Destination == "" || strings.Contains(sent.Destination, email) {
		t.Errorf("startEmailCodeSignIn: %+v, want a code sent by EMAIL to a masked destination", sent)
	}
	wrong := steps["wrong_code"]
	if wrong.SignedIn || wrong.CodeStatus != "kept" || wrong.DeliveryMedium != "EMAIL" {
		t.Errorf("answerEmailCode(wrong code): %+v, want not signed in and another round with the code kept", wrong)
	}
	if n := len(h.AWS.MessagesTo(email)); n != 1 {
		t.Errorf("%d messages to %s, want 1 (the wrong answer must not send another code)", n, email)
	}
	sub := checkTokens(ctx, t, h, "email_otp", steps["email_otp"], "")
	// A forced refresh (GetTokensFromRefreshToken) gives a new access token the API accepts.
	checkTokens(ctx, t, h, "refreshed", steps["refreshed"], sub)
	if steps["refreshed"].AccessToken == steps["email_otp"].AccessToken {
		t.Error("fetchAuthSession({forceRefresh: true}) kept the same access token")
	}

	// Device key.
	reg := steps["key_registered"]
	if reg.KeyID == "" {
		t.Errorf("registerDeviceKey: no keyId")
	}
	if der, err := base64.StdEncoding.DecodeString(reg.PublicKey); err != nil {
		t.Errorf("webCryptoDeviceKey publicKey %q: %v", reg.PublicKey, err)
	} else if _, err := x509.ParsePKIXPublicKey(der); err != nil {
		t.Errorf("webCryptoDeviceKey publicKey is not a SubjectPublicKeyInfo: %v", err)
	}
	if wk := steps["wrong_key"]; wk.SignedIn || wk.Error != "DeviceKeyRefused" {
		t.Errorf("signInWithDeviceKey with a key that was not registered: %+v, want DeviceKeyRefused", wk)
	}
	checkTokens(ctx, t, h, "device_key", steps["device_key"], sub)
	status, raw, err := signin.API(ctx, h.APIURL, http.MethodGet, "/device-keys", steps["device_key"].AccessToken, nil)
	if err != nil || status != http.StatusOK || !strings.Contains(string(raw), `"`+reg.KeyID+`"`) || strings.Count(string(raw), `"keyId"`) != 1 {
		t.Errorf("GET /device-keys: %d %s %v, want the one registered key %s", status, raw, err, reg.KeyID)
	}

	// Passkey.
	pk := steps["passkey"]
	checkTokens(ctx, t, h, "passkey", pk, sub)
	if b.passkeyID == "" || pk.CredentialID != b.passkeyID {
		t.Errorf("passkey sign-in used credential %q, the bench registered %q", pk.CredentialID, b.passkeyID)
	}
	if len(pk.Requests) != 1 || pk.Requests[0].RPID != rpID || pk.Requests[0].UserVerification != "required" || pk.Requests[0].ChallengeLength != 32 {
		t.Errorf("navigator.credentials.get calls: %+v, want one for %s, user verification required, a 32-byte challenge", pk.Requests, rpID)
	}

	if so := steps["signed_out"]; so.Error != "NotSignedIn" {
		t.Errorf("accessToken after signOut: %+v, want NotSignedIn", so)
	}
	t.Logf("harness start %s; Node run (import, sign-up, 3 sign-ins, 2 refusals, 2 registrations, sign-outs) %s; total %s",
		started.Round(time.Millisecond), ran.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
}

// checkTokens checks a signed-in step: the client's own GET /me answered, the access token is one
// of this app client and GET /me accepts it here too, for the same user as wantSub ("" for the
// first sign-in). It returns the user's sub.
func checkTokens(ctx context.Context, t *testing.T, h *harness.Harness, name string, s step, wantSub string) string {
	t.Helper()
	if s.Step == "" || s.AccessToken == "" {
		t.Errorf("%s: no access token", name)
		return wantSub
	}
	claims := signin.JWTClaims(t, s.AccessToken)
	if claims["token_use"] != "access" || claims["client_id"] != h.ClientID {
		t.Errorf("%s: token_use %v client_id %v, want an access token of %s", name, claims["token_use"], claims["client_id"], h.ClientID)
	}
	status, raw, err := signin.API(ctx, h.APIURL, http.MethodGet, "/me", s.AccessToken, nil)
	var me map[string]any
	if err == nil {
		err = json.Unmarshal(raw, &me)
	}
	if err != nil || status != http.StatusOK {
		t.Errorf("%s: GET /me: %d %s %v", name, status, raw, err)
		return wantSub
	}
	sub, _ := me["sub"].(string)
	if sub == "" || sub != claims["sub"] || (wantSub != "" && sub != wantSub) {
		t.Errorf("%s: GET /me sub %q, token sub %v, want %q", name, sub, claims["sub"], wantSub)
	}
	if s.Me["sub"] != sub {
		t.Errorf("%s: the client's callApi(GET /me) answered %v, want sub %s", name, s.Me, sub)
	}
	return sub
}

func uniqueEmail() string {
	return fmt.Sprintf("amplify-%d-%d@example.com", os.Getpid(), time.Now().UnixNano())
}
