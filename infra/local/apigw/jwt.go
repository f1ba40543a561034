package apigw

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"
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

// jsonObject decodes b as one JSON object, numbers kept as json.Number.
func jsonObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON object")
	}
	return m, nil
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

// verify checks a JWT as API Gateway's JWT authorizer does and returns its claims as strings.
func (r *Router) verify(token string, now time.Time) (map[string]string, error) {
	if token == "" {
		return nil, deny("no token")
	}
	if len(token) > maxTokenBytes {
		return nil, deny("token too large")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, deny("not a JWS compact serialization")
	}
	hb, err := b64(parts[0])
	if err != nil {
		return nil, deny("header: %v", err)
	}
	header, err := jsonObject(hb)
	if err != nil {
		return nil, deny("header: %v", err)
	}
	if alg, _ := header["alg"].(string); alg != "RS256" {
		return nil, deny("alg %q is not RS256", header["alg"])
	}
	if _, ok := header["crit"]; ok {
		return nil, deny("crit header not supported")
	}
	kid, _ := header["kid"].(string)
	if kid == "" {
		return nil, deny("no kid")
	}
	doc := r.cfg.JWKS()
	keys, err := r.keys.get(doc)
	if err != nil {
		return nil, deny("%v", err)
	}
	cands := keys[kid]
	if len(cands) == 0 {
		return nil, deny("kid not in the JWKS")
	}
	sig, err := b64(parts[2])
	if err != nil || len(sig) == 0 {
		return nil, deny("signature is not base64url")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	verified := false
	for _, pub := range cands {
		if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, deny("bad signature")
	}
	pb, err := b64(parts[1])
	if err != nil {
		return nil, deny("payload: %v", err)
	}
	claims, err := jsonObject(pb)
	if err != nil {
		return nil, deny("payload: %v", err)
	}

	// Time claims, against the clock (no leeway).
	nowS := float64(now.UnixNano()) / 1e9
	exp, ok, err := numClaim(claims, "exp")
	switch {
	case err != nil:
		return nil, deny("%v", err)
	case !ok:
		return nil, deny("no exp")
	case nowS >= exp:
		return nil, deny("expired")
	}
	if nbf, ok, err := numClaim(claims, "nbf"); err != nil {
		return nil, deny("%v", err)
	} else if ok && nowS < nbf {
		return nil, deny("not valid yet (nbf)")
	}
	if iat, ok, err := numClaim(claims, "iat"); err != nil {
		return nil, deny("%v", err)
	} else if ok && iat > nowS {
		return nil, deny("issued in the future (iat)")
	}

	if iss, _ := claims["iss"].(string); iss != r.cfg.Issuer {
		return nil, deny("iss does not match")
	}
	// Audience: aud if present, else client_id.
	if aud, present := claims["aud"]; present {
		var auds []string
		switch v := aud.(type) {
		case string:
			auds = []string{v}
		case []any:
			for _, a := range v {
				s, ok := a.(string)
				if !ok {
					return nil, deny("aud is not a string or a list of strings")
				}
				auds = append(auds, s)
			}
		default:
			return nil, deny("aud is not a string or a list of strings")
		}
		match := false
		for _, a := range auds {
			if r.aud[a] {
				match = true
				break
			}
		}
		if !match {
			return nil, deny("aud not in the audience")
		}
	} else {
		cid, _ := claims["client_id"].(string)
		if !r.aud[cid] {
			return nil, deny("client_id not in the audience")
		}
	}

	out := make(map[string]string, len(claims))
	for k, v := range claims {
		if s, ok := claimString(v); ok {
			out[k] = s
		}
	}
	return out, nil
}

// numClaim reads a NumericDate claim; a claim present with another type is an error.
func numClaim(claims map[string]any, name string) (float64, bool, error) {
	v, ok := claims[name]
	if !ok {
		return 0, false, nil
	}
	n, isNum := v.(json.Number)
	if !isNum {
		return 0, true, fmt.Errorf("%s is not a number", name)
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, true, fmt.Errorf("%s is not a number", name)
	}
	return f, true, nil
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
