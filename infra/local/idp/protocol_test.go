package idp_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/infra/local/idp"
)

func post(t *testing.T, e *env, target, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("response %q: %v", b, err)
	}
	return resp.StatusCode, resp.Header, m
}

func TestWireProtocol(t *testing.T) {
	e := newEnv(t, nil)
	status, h, body := post(t, e, "AWSCognitoIdentityProviderService.InitiateAuth",
		`{"AuthFlow":"CUSTOM_AUTH","ClientId":"`+e.pool.ClientID()+`","AuthParameters":{"USERNAME":"x@example.com"},"ClientMetadata":{"a":"b"}}`)
	if status != 200 || h.Get("Content-Type") != "application/x-amz-json-1.1" || body["ChallengeName"] != "CUSTOM_CHALLENGE" {
		t.Errorf("InitiateAuth: %d %v %v", status, h, body)
	}
	for _, tc := range []struct{ target, body, typ string }{
		{"AWSCognitoIdentityProviderService.RespondToAuthChallenge", `{"ClientId":"` + e.pool.ClientID() + `","ChallengeName":"CUSTOM_CHALLENGE","Session":"bogus","ChallengeResponses":{"USERNAME":"x","ANSWER":"y"}}`, "NotAuthorizedException"},
		{"AWSCognitoIdentityProviderService.NoSuchOperation", `{}`, "UnknownOperationException"},
		{"", `{}`, "UnknownOperationException"},
		{"AWSCognitoIdentityProviderService.SignUp", `{not json`, "SerializationException"},
	} {
		status, h, body := post(t, e, tc.target, tc.body)
		if status != 400 || h.Get("X-Amzn-ErrorType") != tc.typ || body["__type"] != tc.typ || body["message"] == "" {
			t.Errorf("%s: %d %v %v", tc.target, status, h, body)
		}
	}

	for path, check := range map[string]func(b []byte) bool{
		"/" + e.pool.PoolID() + "/.well-known/jwks.json": func(b []byte) bool { return bytes.Equal(b, e.pool.JWKS()) && bytes.Contains(b, []byte(e.pool.KeyID())) },
		"/" + e.pool.PoolID() + "/.well-known/openid-configuration": func(b []byte) bool {
			var c struct {
				Issuer  string `json:"issuer"`
				JWKSURI string `json:"jwks_uri"`
			}
			return json.Unmarshal(b, &c) == nil && c.Issuer == e.pool.Issuer() && c.JWKSURI == e.pool.Issuer()+"/.well-known/jwks.json"
		},
	} {
		resp, err := e.srv.Client().Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !check(b) {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
		}
	}
	resp, err := e.srv.Client().Get(e.srv.URL + "/us-east-1_OTHER/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("other pool's JWKS: %d", resp.StatusCode)
	}
	if st := e.pool.Stats(); st.Calls["InitiateAuth"] != 1 || st.Calls["RespondToAuthChallenge"] != 1 || st.Calls["SignUp"] != 1 {
		t.Errorf("calls %v", st.Calls)
	}
}

func TestConfigDefaults(t *testing.T) {
	p, err := idp.New(idp.Config{SigningKey: signingKey(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Config()
	if c.PoolID != "us-east-1_LOCAL0001" || c.Region != "us-east-1" || len(c.ClientID) != 26 || !*c.PreventUserExistenceErrors ||
		c.TriggerTimeout.Seconds() != 5 || c.TriggerRetries != 2 || c.AuthSessionValidity.Minutes() != 3 ||
		c.AccessTokenValidity.Hours() != 1 || c.IDTokenValidity.Hours() != 1 || c.RefreshTokenValidity.Hours() != 720 {
		t.Errorf("defaults %+v", c)
	}
	if p.Issuer() != "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_LOCAL0001" {
		t.Errorf("Issuer %q", p.Issuer())
	}
	p, err = idp.New(idp.Config{PoolID: "eu-west-2_Abc123", TriggerRetries: -1, SigningKey: signingKey(t)}, nil)
	if err != nil || p.Config().Region != "eu-west-2" || p.Config().TriggerRetries != 0 {
		t.Errorf("eu-west-2 pool: %v %+v", err, p)
	}
	for name, cfg := range map[string]idp.Config{
		"bad pool ID":      {PoolID: "local"},
		"unknown alias":    {Aliases: []idp.Alias{"username"}},
		"duplicate alias":  {Aliases: []idp.Alias{idp.AliasEmail, idp.AliasEmail}},
		"bad client ID":    {ClientID: "has space"},
		"trigger, no inv.": {Triggers: idp.Triggers{PreSignUp: "x"}},
	} {
		cfg.SigningKey = signingKey(t)
		if _, err := idp.New(cfg, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// BenchmarkSignIn measures one device_key sign-in (InitiateAuth + RespondToAuthChallenge, four
// trigger invocations in-process) through the SDK and HTTP.
func BenchmarkSignIn(b *testing.B) {
	e := newEnv(b, nil)
	e.signUp(b, "bench@example.com")
	b.ReportAllocs()
	for b.Loop() {
		e.signIn(b, "bench@example.com")
	}
	b.ReportMetric(float64(e.pool.Stats().Invocations[idp.TriggerDefine])/float64(b.N), "define/op")
}
