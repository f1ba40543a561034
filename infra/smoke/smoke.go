// Package smoke checks a deployed passwordless stack end to end, as an app would: it signs a new
// user up, signs in with an email code, registers a device key (P-256, generated in memory)
// through POST /device-keys, signs in with it in one round trip, lists and revokes it, checks
// that the revoked key no longer signs in, and finally compares the user's sign-in with one for
// a random address that has no account (the unknown-user check: what the toolkit answers must
// not tell them apart; what Cognito itself shows, ChallengeParameters.USERNAME, is reported as a
// warning when it differs). Run it with infra/cmd/smoke after
// `cdk deploy --outputs-file outputs.json`, or against the local harness.
//
// Only Cognito's public operations are called (SignUp, InitiateAuth, RespondToAuthChallenge), so
// no AWS credentials are needed; the user it creates stays in the pool (delete it with
// `aws cognito-idp admin-delete-user` if you mind).
package smoke

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/passwordless-go/cognito/lambdas/devicekey"
)

// CodeSource hands the smoke test the one-time code sent to a recipient.
type CodeSource interface {
	// Code returns the latest code sent to recipient (an email address or phone number) for the
	// sign-in under way.
	Code(ctx context.Context, recipient string) (string, error)
}

// CodeFunc adapts a function to a CodeSource.
type CodeFunc func(ctx context.Context, recipient string) (string, error)

// Code calls f.
func (f CodeFunc) Code(ctx context.Context, recipient string) (string, error) {
	return f(ctx, recipient)
}

// Prompt asks a person for the code: it writes "enter the code sent to X: " to Out and reads a
// line from In.
type Prompt struct {
	In  io.Reader
	Out io.Writer
}

// Code prompts and reads one line; the code is the digits in it.
func (p Prompt) Code(ctx context.Context, recipient string) (string, error) {
	fmt.Fprintf(p.Out, "enter the code sent to %s: ", recipient)
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		var line []byte
		b := make([]byte, 1)
		for {
			n, err := p.In.Read(b)
			if n == 1 {
				if b[0] == '\n' {
					break
				}
				line = append(line, b[0])
			}
			if err != nil {
				if len(line) == 0 {
					ch <- res{"", err}
					return
				}
				break
			}
		}
		ch <- res{string(line), nil}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return "", fmt.Errorf("smoke: read the code: %w", r.err)
		}
		code, ok := ExtractCode(r.s)
		if !ok {
			return "", fmt.Errorf("smoke: %q is not a code", strings.TrimSpace(r.s))
		}
		return code, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// ExtractCode returns the first run of 6 to 10 digits in text (a code as the functions send it).
func ExtractCode(text string) (string, bool) {
	run := 0
	for i := 0; i <= len(text); i++ {
		if i < len(text) && text[i] >= '0' && text[i] <= '9' {
			run++
			continue
		}
		if run >= 6 && run <= 10 {
			return text[i-run : i], true
		}
		run = 0
	}
	return "", false
}

// Config configures Run.
type Config struct {
	Outputs
	// Endpoint overrides the Cognito endpoint (the local harness's CognitoURL).
	Endpoint string
	// Email signs up; default a random address at example.com (fine locally; a real deployment
	// needs an address you can read, and in the SES sandbox a verified one).
	Email string
	// Codes supplies the email code. Required.
	Codes CodeSource
	// Out receives one line per step. Default os.Stdout.
	Out io.Writer
	// HTTPClient calls the API. Default: a client with a 15 s timeout.
	HTTPClient *http.Client
	// StepTimeout bounds each step (default 2 minutes: a person may be typing a code).
	StepTimeout time.Duration
	// Cognito calls the user pool. Default NewCognitoClient(Region, Endpoint).
	Cognito CognitoAPI
}

// CognitoAPI is the part of the Cognito Identity Provider client the smoke test calls
// (*cognitoidentityprovider.Client implements it).
type CognitoAPI interface {
	SignUp(ctx context.Context, in *cip.SignUpInput, opts ...func(*cip.Options)) (*cip.SignUpOutput, error)
	InitiateAuth(ctx context.Context, in *cip.InitiateAuthInput, opts ...func(*cip.Options)) (*cip.InitiateAuthOutput, error)
	RespondToAuthChallenge(ctx context.Context, in *cip.RespondToAuthChallengeInput, opts ...func(*cip.Options)) (*cip.RespondToAuthChallengeOutput, error)
}

// Step is one checked step.
type Step struct {
	Name     string
	Duration time.Duration
	Err      error
	// Warning is set when the step found something the deployment cannot change but its owner
	// must know (the unknown-user check: Cognito's USERNAME tells unknown users apart). It does
	// not fail the run.
	Warning string
}

// Report is what Run did.
type Report struct {
	Email string
	Steps []Step
}

// Failed reports whether any step failed.
func (r *Report) Failed() bool {
	for _, s := range r.Steps {
		if s.Err != nil {
			return true
		}
	}
	return false
}

// Warned reports whether any step has a Warning.
func (r *Report) Warned() bool {
	for _, s := range r.Steps {
		if s.Warning != "" {
			return true
		}
	}
	return false
}

// Run performs the smoke test. It stops at the first failed step and returns its error (the
// report lists every step done). A step's warning is printed ("WARN" instead of "ok", the
// explanation on the next lines) and does not fail the run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.StepTimeout == 0 {
		cfg.StepTimeout = 2 * time.Minute
	}
	if cfg.Codes == nil {
		return nil, errors.New("smoke: no code source")
	}
	if cfg.UserPoolID == "" || cfg.ClientID == "" || cfg.APIURL == "" || cfg.Region == "" {
		return nil, errors.New("smoke: user pool ID, client ID, API URL and region are all required")
	}
	if cfg.Email == "" {
		cfg.Email = "smoke-" + randomHex(8) + "@example.com"
	}
	if cfg.Cognito == nil {
		cfg.Cognito = NewCognitoClient(cfg.Region, cfg.Endpoint)
	}
	r := &runner{cfg: cfg, cip: cfg.Cognito, report: &Report{Email: cfg.Email}}
	fmt.Fprintf(cfg.Out, "smoke: pool %s, client %s, API %s, user %s\n", cfg.UserPoolID, cfg.ClientID, cfg.APIURL, cfg.Email)
	plain := func(f func(context.Context) (string, error)) func(context.Context) (string, string, error) {
		return func(ctx context.Context) (string, string, error) {
			d, err := f(ctx)
			return d, "", err
		}
	}
	steps := []struct {
		name string
		f    func(context.Context) (detail, warn string, err error)
	}{
		{"sign-up", plain(r.signUp)},
		{"email-code sign-in", plain(r.emailSignIn)},
		{"register device key", plain(r.register)},
		{"device-key sign-in", plain(r.deviceSignIn)},
		{"list device keys", plain(r.list)},
		{"revoke device key", plain(r.revoke)},
		{"revoked key refused", plain(r.revokedFails)},
		{"unknown user", r.unknownUser},
	}
	start := time.Now()
	for _, s := range steps {
		sctx, cancel := context.WithTimeout(ctx, cfg.StepTimeout)
		t := time.Now()
		detail, warn, err := s.f(sctx)
		cancel()
		st := Step{Name: s.name, Duration: time.Since(t), Err: err, Warning: warn}
		r.report.Steps = append(r.report.Steps, st)
		if err != nil {
			fmt.Fprintf(cfg.Out, "FAIL %-22s %8s  %v\n", s.name, round(st.Duration), err)
			printWarning(cfg.Out, warn)
			return r.report, fmt.Errorf("smoke: %s: %w", s.name, err)
		}
		if detail != "" {
			detail = "  " + detail
		}
		status := "ok  "
		if warn != "" {
			status = "WARN"
		}
		fmt.Fprintf(cfg.Out, "%s %-22s %8s%s\n", status, s.name, round(st.Duration), detail)
		printWarning(cfg.Out, warn)
	}
	if r.report.Warned() {
		fmt.Fprintf(cfg.Out, "smoke: all %d steps passed in %s, with a warning (above)\n", len(steps), round(time.Since(start)))
	} else {
		fmt.Fprintf(cfg.Out, "smoke: all %d steps passed in %s\n", len(steps), round(time.Since(start)))
	}
	return r.report, nil
}

// printWarning writes warn, if any, on lines of at most about 100 characters, the first starting
// "WARN ", the others indented alike.
func printWarning(w io.Writer, warn string) {
	if warn == "" {
		return
	}
	line := "WARN "
	for _, word := range strings.Fields(warn) {
		if len(line) > 5 && len(line)+1+len(word) > 100 {
			fmt.Fprintln(w, line)
			line = "     "
		}
		if len(line) > 5 {
			line += " "
		}
		line += word
	}
	fmt.Fprintln(w, line)
}

func round(d time.Duration) time.Duration {
	if d > 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// NewCognitoClient returns a cognitoidentityprovider client for region, with BaseEndpoint set
// when endpoint is not empty. Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN when set; the public operations the smoke test calls need none.
func NewCognitoClient(region, endpoint string) *cip.Client {
	cfg := aws.Config{Region: region}
	if id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		cfg.Credentials = credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN"))
	}
	return cip.NewFromConfig(cfg, func(o *cip.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}

type runner struct {
	cfg    Config
	cip    CognitoAPI
	report *Report

	codeLen int // digits of the code the email sign-in got

	access string
	key    *ecdsa.PrivateKey
	keyID  string
}

func (r *runner) signUp(ctx context.Context) (string, error) {
	_, err := r.cip.SignUp(ctx, &cip.SignUpInput{
		ClientId: aws.String(r.cfg.ClientID),
		Username: aws.String(r.cfg.Email),
		Password: aws.String(RandomPassword()),
		// No email attribute: the pool sets it from the Username, and the construct's app client
		// may not write email (a SignUp carrying it is refused with NotAuthorizedException).
	})
	return "", err
}

func (r *runner) initiate(ctx context.Context) (*cip.InitiateAuthOutput, error) {
	out, err := r.cip.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       ciptypes.AuthFlowTypeCustomAuth,
		ClientId:       aws.String(r.cfg.ClientID),
		AuthParameters: map[string]string{"USERNAME": r.cfg.Email},
	})
	if err != nil {
		return nil, err
	}
	if out.ChallengeName != ciptypes.ChallengeNameTypeCustomChallenge || out.ChallengeParameters["nonce"] == "" || out.ChallengeParameters["USERNAME"] == "" {
		return nil, fmt.Errorf("InitiateAuth: want a CUSTOM_CHALLENGE with a nonce and USERNAME, got %s %v", out.ChallengeName, keys(out.ChallengeParameters))
	}
	return out, nil
}

func (r *runner) respond(ctx context.Context, session *string, username, answer string, meta map[string]string) (*cip.RespondToAuthChallengeOutput, error) {
	return r.cip.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
		ClientId:           aws.String(r.cfg.ClientID),
		ChallengeName:      ciptypes.ChallengeNameTypeCustomChallenge,
		Session:            session,
		ChallengeResponses: map[string]string{"USERNAME": username, "ANSWER": answer},
		ClientMetadata:     meta,
	})
}

func (r *runner) emailSignIn(ctx context.Context) (string, error) {
	init, err := r.initiate(ctx)
	if err != nil {
		return "", err
	}
	user := init.ChallengeParameters["USERNAME"]
	meta := map[string]string{"signInMethod": "email_otp"}
	sel, err := r.respond(ctx, init.Session, user, "email_otp", meta)
	if err != nil {
		return "", fmt.Errorf("choose email_otp: %w", err)
	}
	if sel.AuthenticationResult != nil || sel.ChallengeName != ciptypes.ChallengeNameTypeCustomChallenge {
		return "", fmt.Errorf("choose email_otp: want a CODE challenge, got %s", sel.ChallengeName)
	}
	code, err := r.cfg.Codes.Code(ctx, r.cfg.Email)
	if err != nil {
		return "", err
	}
	r.codeLen = len(code)
	out, err := r.respond(ctx, sel.Session, user, code, meta)
	if err != nil {
		return "", fmt.Errorf("answer the code: %w", err)
	}
	if out.AuthenticationResult == nil || aws.ToString(out.AuthenticationResult.AccessToken) == "" {
		return "", fmt.Errorf("answer the code: no tokens (challenge %s)", out.ChallengeName)
	}
	r.access = aws.ToString(out.AuthenticationResult.AccessToken)
	return "tokens received", nil
}

func (r *runner) api(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(r.cfg.APIURL, "/")+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.access)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

func (r *runner) register(ctx context.Context) (string, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return "", err
	}
	status, body, err := r.api(ctx, http.MethodPost, "/device-keys", map[string]string{
		"publicKey": base64.StdEncoding.EncodeToString(der), "name": "smoke test",
	})
	if err != nil {
		return "", err
	}
	if status != http.StatusCreated {
		return "", fmt.Errorf("POST /device-keys: %d %s", status, body)
	}
	var out struct{ KeyID, Algorithm string }
	if err := json.Unmarshal(body, &out); err != nil || out.KeyID == "" {
		return "", fmt.Errorf("POST /device-keys: unreadable answer %s", body)
	}
	r.key, r.keyID = k, out.KeyID
	return "key " + out.KeyID + " (" + out.Algorithm + ")", nil
}

// keySignIn signs in with the device key and returns the tokens' output or the error.
func (r *runner) keySignIn(ctx context.Context) (*cip.RespondToAuthChallengeOutput, error) {
	init, err := r.initiate(ctx)
	if err != nil {
		return nil, err
	}
	user := init.ChallengeParameters["USERNAME"]
	answer, err := SignAnswer(r.key, r.keyID, r.cfg.UserPoolID, r.cfg.ClientID, user, init.ChallengeParameters["nonce"])
	if err != nil {
		return nil, err
	}
	return r.respond(ctx, init.Session, user, answer, map[string]string{"signInMethod": "device_key"})
}

func (r *runner) deviceSignIn(ctx context.Context) (string, error) {
	out, err := r.keySignIn(ctx)
	if err != nil {
		return "", err
	}
	if out.AuthenticationResult == nil || aws.ToString(out.AuthenticationResult.AccessToken) == "" {
		return "", fmt.Errorf("no tokens after one round trip (challenge %s)", out.ChallengeName)
	}
	r.access = aws.ToString(out.AuthenticationResult.AccessToken)
	return "tokens received", nil
}

func (r *runner) list(ctx context.Context) (string, error) {
	status, body, err := r.api(ctx, http.MethodGet, "/device-keys", nil)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("GET /device-keys: %d %s", status, body)
	}
	var out struct {
		Keys []struct {
			KeyID      string  `json:"keyId"`
			LastUsedAt *string `json:"lastUsedAt"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", fmt.Errorf("GET /device-keys: %w", err)
	}
	for _, k := range out.Keys {
		if k.KeyID == r.keyID {
			used := "never used"
			if k.LastUsedAt != nil {
				used = "last used " + *k.LastUsedAt
			}
			return fmt.Sprintf("%d key(s), ours %s", len(out.Keys), used), nil
		}
	}
	return "", fmt.Errorf("GET /device-keys: key %s not listed (%d keys)", r.keyID, len(out.Keys))
}

func (r *runner) revoke(ctx context.Context) (string, error) {
	status, body, err := r.api(ctx, http.MethodDelete, "/device-keys/"+r.keyID, nil)
	if err != nil {
		return "", err
	}
	if status != http.StatusNoContent {
		return "", fmt.Errorf("DELETE /device-keys/%s: %d %s", r.keyID, status, body)
	}
	return "", nil
}

// revokedFails answers with the revoked key until Cognito ends the sign-in: every answer must be
// refused (a retry round, then NotAuthorizedException), never tokens.
func (r *runner) revokedFails(ctx context.Context) (string, error) {
	init, err := r.initiate(ctx)
	if err != nil {
		return "", err
	}
	user, session, params := init.ChallengeParameters["USERNAME"], init.Session, init.ChallengeParameters
	for i := 1; i <= 10; i++ {
		answer, err := SignAnswer(r.key, r.keyID, r.cfg.UserPoolID, r.cfg.ClientID, user, params["nonce"])
		if err != nil {
			return "", err
		}
		out, err := r.respond(ctx, session, user, answer, map[string]string{"signInMethod": "device_key"})
		var na *ciptypes.NotAuthorizedException
		switch {
		case errors.As(err, &na):
			return fmt.Sprintf("%d answers refused, then NotAuthorizedException", i-1), nil
		case err != nil:
			return "", fmt.Errorf("want NotAuthorizedException, got %w", err)
		case out.AuthenticationResult != nil:
			return "", errors.New("the revoked key still signs in")
		case out.ChallengeName != ciptypes.ChallengeNameTypeCustomChallenge || out.ChallengeParameters["nonce"] == "":
			return "", fmt.Errorf("unexpected answer: challenge %s %v", out.ChallengeName, keys(out.ChallengeParameters))
		}
		session, params = out.Session, out.ChallengeParameters
	}
	return "", errors.New("the sign-in did not end after 10 refused answers")
}

// SignAnswer returns the device_key ANSWER: {"keyId", "signature"} with an ECDSA P-256 / SHA-256
// DER signature over devicekey.Message(pool, client, username, nonce).
func SignAnswer(k *ecdsa.PrivateKey, keyID, pool, client, username, nonce string) (string, error) {
	msg, err := devicekey.Message(pool, client, username, nonce)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(msg))
	sig, err := ecdsa.SignASN1(rand.Reader, k, sum[:])
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]string{"keyId": keyID, "signature": base64.StdEncoding.EncodeToString(sig)})
	return string(b), err
}

// RandomPassword returns 24 random characters with upper and lower case letters, digits and
// symbols, which meets the construct's password policy (nobody ever signs in with it).
func RandomPassword() string {
	sets := []string{"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "!@#%^&*-_=+"}
	all := strings.Join(sets, "")
	pick := func(s string) byte {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(s))))
		if err != nil {
			panic(err)
		}
		return s[n.Int64()]
	}
	b := make([]byte, 24)
	for i := range b {
		if i < len(sets) {
			b[i] = pick(sets[i])
		} else {
			b[i] = pick(all)
		}
	}
	// Shuffle so the classes are not at fixed places.
	for i := len(b) - 1; i > 0; i-- {
		j, _ := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		b[i], b[j.Int64()] = b[j.Int64()], b[i]
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
