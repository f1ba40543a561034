package apigw

import (
	"bytes"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// maxTokenBytes bounds the token accepted (API Gateway limits headers to about 10 KB).
const maxTokenBytes = 16 << 10

// minRSABits is the smallest RSA modulus accepted in the JWKS.
const minRSABits = 2048

// authError is why a token was refused. Its text never quotes the token.
type authError struct{ reason string }

func (e *authError) Error() string { return "apigw: unauthorized: " + e.reason }

func deny(format string, args ...any) error { return &authError{reason: fmt.Sprintf(format, args...)} }

// b64 decodes strict unpadded base64url: only [A-Za-z0-9_-], no padding, no line breaks, no
// non-zero trailing bits.
func b64(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return nil, errors.New("not base64url")
		}
	}
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

// keySet is a parsed JWKS, cached while the document does not change.
type keySet struct {
	mu   sync.Mutex
	raw  []byte
	keys map[string][]*rsa.PublicKey
	err  error
}

func (ks *keySet) get(doc []byte) (map[string][]*rsa.PublicKey, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.raw != nil && bytes.Equal(ks.raw, doc) {
		return ks.keys, ks.err
	}
	ks.raw = bytes.Clone(doc)
	ks.keys, ks.err = parseJWKS(doc)
	return ks.keys, ks.err
}

// parseJWKS reads the RSA signing keys of a JWKS document, by kid. Keys of other types, or
// marked for another algorithm or use, are left out.
func parseJWKS(doc []byte) (map[string][]*rsa.PublicKey, error) {
	var set struct {
		Keys []struct {
			Kty, Kid, Alg, Use, N, E string
		} `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		return nil, fmt.Errorf("apigw: JWKS: %w", err)
	}
	out := map[string][]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Alg != "" && k.Alg != "RS256") || (k.Use != "" && k.Use != "sig") {
			continue
		}
		nb, err := b64(strings.TrimRight(k.N, "="))
		if err != nil || len(nb) == 0 {
			continue
		}
		eb, err := b64(strings.TrimRight(k.E, "="))
		if err != nil || len(eb) == 0 || len(eb) > 4 {
			continue
		}
		e := new(big.Int).SetBytes(eb)
		if !e.IsInt64() || e.Int64() < 3 || e.Int64() > math.MaxInt32 || e.Bit(0) == 0 {
			continue
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(e.Int64())}
		if pub.N.BitLen() < minRSABits {
			continue
		}
		out[k.Kid] = append(out[k.Kid], pub)
	}
	return out, nil
}

// gatewayClaims are a token's claims as the authorizer reads them: numbers kept as written
// (json.Number), and the audience rule, which the parser's options cannot express, in Validate.
type gatewayClaims struct {
	jwt.MapClaims
	aud map[string]bool // Config.Audience, set before parsing
}

// UnmarshalJSON decodes one JSON object, numbers as json.Number. The parser calls it through
// json.Unmarshal, which has already refused trailing data after the object. (A null payload
// leaves no claims, and is refused for want of exp.)
func (c *gatewayClaims) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(&c.MapClaims)
}

// Validate checks what the parser's options do not: the time claims are finite numbers (the
// library reads 1e400 as a date, not as an error), and the audience: aud if present (a string
// or a list of strings, one of them in Config.Audience), else client_id.
func (c *gatewayClaims) Validate() error {
	for _, name := range []string{"exp", "nbf", "iat"} {
		if n, ok := c.MapClaims[name].(json.Number); ok {
			if f, err := n.Float64(); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("%s is not a finite number", name)
			}
		}
	}
	if _, present := c.MapClaims["aud"]; present {
		auds, err := c.GetAudience()
		if err != nil {
			return errors.New("aud is not a string or a list of strings")
		}
		for _, a := range auds {
			if c.aud[a] {
				return nil
			}
		}
		return errors.New("aud not in the audience")
	}
	if cid, _ := c.MapClaims["client_id"].(string); !c.aud[cid] {
		return errors.New("client_id not in the audience")
	}
	return nil
}

// tokenChars reports whether s has only the characters of three base64url segments and their
// dots. The library's decoder (strict or not) skips line breaks; the authorizer refuses them.
func tokenChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// verify checks a JWT as API Gateway's JWT authorizer does and returns its claims as strings.
// The parsing, signature and registered-claim checks are github.com/golang-jwt/jwt/v5's, with
// RS256 only, strict base64url, exp required, iat checked, iss exact and no leeway.
func (r *Router) verify(token string, now time.Time) (map[string]string, error) {
	switch {
	case token == "":
		return nil, deny("no token")
	case len(token) > maxTokenBytes:
		return nil, deny("token too large")
	case !tokenChars(token):
		return nil, deny("not base64url")
	}
	claims := &gatewayClaims{aud: r.aud}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithIssuer(r.cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(0),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithStrictDecoding(),
	)
	_, err := parser.ParseWithClaims(token, claims, r.keyFor)
	if err != nil {
		return nil, &authError{reason: err.Error()} // the library's errors never quote the token
	}
	out := make(map[string]string, len(claims.MapClaims))
	for k, v := range claims.MapClaims {
		if s, ok := claimString(v); ok {
			out[k] = s
		}
	}
	return out, nil
}

// keyFor is the parser's key function: the RS256 keys of the JWKS published under the token's
// kid (any one may verify). A crit header is refused: no extension is understood.
func (r *Router) keyFor(t *jwt.Token) (any, error) {
	if _, ok := t.Header["crit"]; ok {
		return nil, errors.New("crit header not supported")
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errors.New("no kid")
	}
	keys, err := r.keys.get(r.cfg.JWKS())
	if err != nil {
		return nil, err
	}
	cands := keys[kid]
	if len(cands) == 0 {
		return nil, errors.New("kid not in the JWKS")
	}
	set := jwt.VerificationKeySet{Keys: make([]jwt.VerificationKey, len(cands))}
	for i, k := range cands {
		set.Keys[i] = k
	}
	return set, nil
}

// claimString renders a claim the way API Gateway passes claims to the function: strings as
// they are, numbers as written, booleans "true"/"false", arrays "[a b c]", objects as JSON. Null
// claims are left out.
func claimString(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			s, _ := claimString(e)
			parts = append(parts, s)
		}
		return "[" + strings.Join(parts, " ") + "]", true
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return "", false
		}
		return string(b), true
	}
}
