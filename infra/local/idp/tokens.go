package idp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// seal encrypts v for the pool only; label separates the kinds of sealed values (a session can
// never be passed off as a refresh token).
func (p *Pool) seal(label string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, p.aead.NonceSize(), p.aead.NonceSize()+len(plain)+p.aead.Overhead())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return "", err
	}
	out := p.aead.Seal(nonce, nonce, plain, p.aad(label))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

var errUnsealed = errors.New("idp: cannot open sealed value")

func (p *Pool) open(label, s string, v any) error {
	if len(s) > 16384 {
		return errUnsealed
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < p.aead.NonceSize()+p.aead.Overhead() {
		return errUnsealed
	}
	n := p.aead.NonceSize()
	plain, err := p.aead.Open(nil, b[:n], b[n:], p.aad(label))
	if err != nil {
		return errUnsealed
	}
	if json.Unmarshal(plain, v) != nil {
		return errUnsealed
	}
	return nil
}

func (p *Pool) aad(label string) []byte {
	return []byte(label + "\x00" + p.cfg.PoolID + "\x00" + p.cfg.ClientID)
}

// signJWT makes an RS256 JWT with the pool's key. The header is Cognito's, {"alg":"RS256","kid":...}
// (no "typ", which the library adds by default).
func (p *Pool) signJWT(claims map[string]any) (string, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
	delete(tok.Header, "typ")
	tok.Header["kid"] = p.kid
	s, err := tok.SignedString(p.key)
	if err != nil {
		return "", fmt.Errorf("idp: sign JWT: %w", err)
	}
	return s, nil
}

// accessClaims are the claims of an access token this pool issued. The time claims are typed
// int64, so a string or fractional exp is refused when decoding (jwt.RegisteredClaims would read
// "exp":"9999999999" as a date); the parser reads them through the jwt.Claims methods below.
type accessClaims struct {
	Sub       string `json:"sub"`
	Iss       string `json:"iss"`
	ClientID  string `json:"client_id"`
	OriginJTI string `json:"origin_jti"`
	EventID   string `json:"event_id"`
	TokenUse  string `json:"token_use"`
	Scope     string `json:"scope"`
	AuthTime  int64  `json:"auth_time"`
	Exp       *int64 `json:"exp"`
	Iat       *int64 `json:"iat"`
	JTI       string `json:"jti"`
	Username  string `json:"username"`

	wantClient string // the pool's client ID, set before parsing
}

func numericDate(s *int64) *jwt.NumericDate {
	if s == nil {
		return nil
	}
	return jwt.NewNumericDate(time.Unix(*s, 0))
}

// GetExpirationTime implements jwt.Claims.
func (c *accessClaims) GetExpirationTime() (*jwt.NumericDate, error) { return numericDate(c.Exp), nil }

// GetIssuedAt implements jwt.Claims.
func (c *accessClaims) GetIssuedAt() (*jwt.NumericDate, error) { return numericDate(c.Iat), nil }

// GetNotBefore implements jwt.Claims: Cognito's access tokens have no nbf.
func (c *accessClaims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }

// GetIssuer implements jwt.Claims.
func (c *accessClaims) GetIssuer() (string, error) { return c.Iss, nil }

// GetSubject implements jwt.Claims.
func (c *accessClaims) GetSubject() (string, error) { return c.Sub, nil }

// GetAudience implements jwt.Claims: an access token has client_id, not aud.
func (c *accessClaims) GetAudience() (jwt.ClaimStrings, error) { return nil, nil }

var errNotAccessToken = errors.New("idp: not an access token of this client")

// Validate checks what the parser options cannot: token_use and client_id. The parser calls it
// with the other claim checks.
func (c *accessClaims) Validate() error {
	if c.TokenUse != "access" || c.ClientID != c.wantClient {
		return errNotAccessToken
	}
	return nil
}

// maxAccessTokenBytes bounds the access token parsed.
const maxAccessTokenBytes = 8192

// verifyAccessToken checks signature (RS256 with the pool's key, named by its kid), issuer,
// token_use, client and expiry (no leeway), and that the sign-in it came from was not revoked
// and the user still exists. A token that is only expired gets "Access Token has expired"; any
// other fault "Invalid Access Token".
func (p *Pool) verifyAccessToken(tok string) (*accessClaims, *user, error) {
	invalid := apiErr(errNotAuthorized, errInvalidAccessToken)
	if len(tok) > maxAccessTokenBytes {
		return nil, nil, invalid
	}
	c := &accessClaims{wantClient: p.cfg.ClientID}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithIssuer(p.Issuer()),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(p.now),
		jwt.WithStrictDecoding(),
	)
	_, err := parser.ParseWithClaims(tok, c, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != p.kid {
			return nil, errors.New("idp: unknown kid")
		}
		return &p.key.PublicKey, nil
	})
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired) && c.Iss == p.Issuer() && c.Validate() == nil:
		// Signature verified (claims are checked only after it), issuer and client right:
		// expiry is the only fault.
		return nil, nil, apiErr(errNotAuthorized, errAccessTokenExpired)
	default:
		return nil, nil, invalid
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	u := p.users[strings.ToLower(c.Username)]
	if p.revoked[c.OriginJTI] || u == nil || u.attrs["sub"] != c.Sub || !u.enabled {
		return nil, nil, apiErr(errNotAuthorized, errAccessTokenRevoked)
	}
	return c, u.clone(), nil
}

// refreshToken is the sealed content of a refresh token.
type refreshToken struct {
	User      string `json:"u"`
	Sub       string `json:"s"`
	OriginJTI string `json:"o"`
	EventID   string `json:"e"`
	AuthTime  int64  `json:"a"`
	Expires   int64  `json:"x"`
}

const (
	labelSession = "session"
	labelRefresh = "refresh"
)

type authResult struct {
	AccessToken  string `json:"AccessToken"`
	IdToken      string `json:"IdToken"`
	RefreshToken string `json:"RefreshToken,omitempty"`
	ExpiresIn    int64  `json:"ExpiresIn"`
	TokenType    string `json:"TokenType"`
}

// issue makes the tokens of a sign-in. A new sign-in (rt == nil) gets a new origin_jti, event_id
// and refresh token; a refresh keeps them and the auth_time.
func (p *Pool) issue(u *user, rt *refreshToken) (*authResult, error) {
	now := p.now()
	newSignIn := rt == nil
	if newSignIn {
		rt = &refreshToken{
			User:      u.name,
			Sub:       u.attrs["sub"],
			OriginJTI: newUUID(),
			EventID:   newUUID(),
			AuthTime:  now.Unix(),
			Expires:   now.Add(p.cfg.RefreshTokenValidity).Unix(),
		}
		p.mu.Lock()
		p.signIns[rt.Sub] = append(p.signIns[rt.Sub], rt.OriginJTI)
		p.mu.Unlock()
	}
	common := func(validity time.Duration) map[string]any {
		return map[string]any{
			"sub":        u.attrs["sub"],
			"iss":        p.Issuer(),
			"origin_jti": rt.OriginJTI,
			"event_id":   rt.EventID,
			"auth_time":  rt.AuthTime,
			"iat":        now.Unix(),
			"exp":        now.Add(validity).Unix(),
			"jti":        newUUID(),
		}
	}
	id := common(p.cfg.IDTokenValidity)
	for k, v := range p.readable(u.attrs) {
		switch k {
		case "sub":
		case "email_verified", "phone_number_verified":
			id[k] = v == "true"
		default:
			id[k] = v
		}
	}
	id["aud"] = p.cfg.ClientID
	id["token_use"] = "id"
	id["cognito:username"] = u.name
	access := common(p.cfg.AccessTokenValidity)
	access["client_id"] = p.cfg.ClientID
	access["token_use"] = "access"
	access["scope"] = "aws.cognito.signin.user.admin"
	access["username"] = u.name
	access["version"] = 2
	idTok, err := p.signJWT(id)
	if err != nil {
		return nil, err
	}
	accessTok, err := p.signJWT(access)
	if err != nil {
		return nil, err
	}
	res := &authResult{AccessToken: accessTok, IdToken: idTok, ExpiresIn: int64(p.cfg.AccessTokenValidity / time.Second), TokenType: "Bearer"}
	if newSignIn {
		if res.RefreshToken, err = p.seal(labelRefresh, rt); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// openRefreshToken checks a refresh token and returns it with its user.
func (p *Pool) openRefreshToken(s string) (*refreshToken, *user, error) {
	var rt refreshToken
	if s == "" || p.open(labelRefresh, s, &rt) != nil {
		return nil, nil, apiErr(errNotAuthorized, errInvalidRefreshToken)
	}
	if p.now().Unix() >= rt.Expires {
		return nil, nil, apiErr(errNotAuthorized, errRefreshTokenExpired)
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	u := p.users[strings.ToLower(rt.User)]
	if p.revoked[rt.OriginJTI] || u == nil || u.attrs["sub"] != rt.Sub {
		return nil, nil, apiErr(errNotAuthorized, errRefreshTokenRevoked)
	}
	if !u.enabled {
		return nil, nil, apiErr(errNotAuthorized, errUserDisabled)
	}
	return &rt, u.clone(), nil
}

// revokeUserLocked revokes every sign-in of the user with this sub.
func (p *Pool) revokeUserLocked(sub string) {
	for _, o := range p.signIns[sub] {
		p.revoked[o] = true
	}
	delete(p.signIns, sub)
}
