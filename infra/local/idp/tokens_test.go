package idp_test

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

func seg(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// signRS256 signs header.claims with key, independently of the code under test.
func signRS256(key *rsa.PrivateKey, header, claims any) string {
	in := seg(header) + "." + seg(claims)
	d := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	if err != nil {
		panic(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// tokenClaims decodes the claims of a token the pool issued.
func tokenClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	return decodeClaims(t, b)
}

// TestIssuedTokenHeader pins Cognito's JOSE header: alg and kid only (the JWT library adds
// "typ":"JWT" unless told otherwise).
func TestIssuedTokenHeader(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp(t, "hana@example.com")
	ar := e.signIn(t, "hana@example.com")
	want := `{"alg":"RS256","kid":"` + e.pool.KeyID() + `"}`
	for name, tok := range map[string]string{"access": aws.ToString(ar.AccessToken), "id": aws.ToString(ar.IdToken)} {
		h, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		if err != nil || string(h) != want {
			t.Errorf("%s token header %s (%v), want %s", name, h, err, want)
		}
	}
}

// TestAccessTokenChecks sends GetUser tokens signed with the pool's own key (or not) whose
// header or claims break one rule each: only the token that breaks nothing but expiry gets
// "Access Token has expired"; every other one "Invalid Access Token".
func TestAccessTokenChecks(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp(t, "ines@example.com")
	ar := e.signIn(t, "ines@example.com")
	key := signingKey(t)
	kid := e.pool.KeyID()
	rs256 := map[string]any{"alg": "RS256", "kid": kid}
	access := tokenClaims(t, aws.ToString(ar.AccessToken))
	id := tokenClaims(t, aws.ToString(ar.IdToken))
	now := e.clock.Now()
	with := func(base map[string]any, mod func(c map[string]any)) map[string]any {
		c := map[string]any{}
		for k, v := range base {
			c[k] = v
		}
		mod(c)
		return c
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	hmacWith := func(secret []byte) string {
		in := seg(map[string]any{"alg": "HS256", "kid": kid}) + "." + seg(access)
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	der, err := x509.MarshalPKIXPublicKey(e.pool.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	rs384 := func() string {
		in := seg(map[string]any{"alg": "RS384", "kid": kid}) + "." + seg(access)
		d := sha512.Sum384([]byte(in))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA384, d[:])
		if err != nil {
			panic(err)
		}
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	good := signRS256(key, rs256, access)
	parts := strings.Split(good, ".")

	// The forged copy of the real token is accepted: the refusals below are not an artefact of
	// the forging.
	if _, err := e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: aws.String(good)}); err != nil {
		t.Fatalf("re-signed copy of the access token refused: %v", err)
	}

	const invalid, expired = "Invalid Access Token", "Access Token has expired"
	past := now.Add(-time.Second).Unix()
	cases := map[string]struct{ tok, msg string }{
		"no exp":                   {signRS256(key, rs256, with(access, func(c map[string]any) { delete(c, "exp") })), invalid},
		"exp a string":             {signRS256(key, rs256, with(access, func(c map[string]any) { c["exp"] = "9999999999" })), invalid},
		"exp fractional":           {signRS256(key, rs256, with(access, func(c map[string]any) { c["exp"] = float64(now.Unix()) + 3600.5 })), invalid},
		"unknown kid":              {signRS256(key, map[string]any{"alg": "RS256", "kid": "other"}, access), invalid},
		"no kid":                   {signRS256(key, map[string]any{"alg": "RS256"}, access), invalid},
		"signed by another key":    {signRS256(other, rs256, access), invalid},
		"alg none":                 {seg(map[string]any{"alg": "none", "kid": kid}) + "." + parts[1] + ".", invalid},
		"alg none with signature":  {seg(map[string]any{"alg": "none", "kid": kid}) + "." + parts[1] + "." + parts[2], invalid},
		"HS256 with DER key":       {hmacWith(der), invalid},
		"HS256 with PEM key":       {hmacWith(pemKey), invalid},
		"RS384 with the pool key":  {rs384(), invalid},
		"non-canonical base64":     {parts[0] + "." + parts[1] + "." + setLowBit(parts[2]), invalid},
		"padded signature":         {good + "=", invalid},
		"wrong iss":                {signRS256(key, rs256, with(access, func(c map[string]any) { c["iss"] = e.pool.Issuer() + "x" })), invalid},
		"no iss":                   {signRS256(key, rs256, with(access, func(c map[string]any) { delete(c, "iss") })), invalid},
		"wrong client_id":          {signRS256(key, rs256, with(access, func(c map[string]any) { c["client_id"] = "another-client" })), invalid},
		"ID token":                 {aws.ToString(ar.IdToken), invalid},
		"token_use id":             {signRS256(key, rs256, with(access, func(c map[string]any) { c["token_use"] = "id" })), invalid},
		"expired":                  {signRS256(key, rs256, with(access, func(c map[string]any) { c["exp"] = past })), expired},
		"exp now":                  {signRS256(key, rs256, with(access, func(c map[string]any) { c["exp"] = now.Unix() })), expired},
		"expired ID token":         {signRS256(key, rs256, with(id, func(c map[string]any) { c["exp"] = past })), invalid},
		"expired and wrong iss":    {signRS256(key, rs256, with(access, func(c map[string]any) { c["exp"] = past; c["iss"] = "https://evil.example" })), invalid},
		"expired and wrong client": {signRS256(key, rs256, with(access, func(c map[string]any) { c["exp"] = past; c["client_id"] = "x" })), invalid},
		"expired, another key":     {signRS256(other, rs256, with(access, func(c map[string]any) { c["exp"] = past })), invalid},
		"too large":                {signRS256(key, rs256, with(access, func(c map[string]any) { c["pad"] = strings.Repeat("a", 8192) })), invalid},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := e.client.GetUser(ctx, &cip.GetUserInput{AccessToken: aws.String(c.tok)})
			wantAPIError(t, err, "NotAuthorizedException", c.msg)
		})
	}
}

// setLowBit sets unused trailing bits of unpadded base64url: a lax decoder reads the same bytes,
// a strict one refuses.
func setLowBit(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(s)%4 == 0 {
		panic("no trailing bits")
	}
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[i|1])
}
