package apigw

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// CallsPreflight is the key of Router.Calls counting CORS preflights the gateway answered itself.
const CallsPreflight = "preflight"

// MaxCORSMaxAge is the largest CORS.MaxAge API Gateway accepts (one day, in seconds).
const MaxCORSMaxAge = 86400

// CORS is an HTTP API's CORS configuration: the CorsConfiguration of AWS::ApiGatewayV2::Api
// (the construct's Props.AllowedOrigins). With it the gateway answers preflights itself and adds
// the CORS headers to every answer for an allowed origin, as API Gateway does (package doc).
type CORS struct {
	// AllowOrigins are the origins allowed to call: "https://app.example.com" (compared without
	// regard to case), "*" (any: answered "*"), or "https://*" / "http://*" (any origin of that
	// scheme). Required.
	AllowOrigins []string
	// AllowMethods is the preflight's Access-Control-Allow-Methods ("GET", ... or "*").
	AllowMethods []string
	// AllowHeaders is the preflight's Access-Control-Allow-Headers ("authorization", ... or "*").
	AllowHeaders []string
	// ExposeHeaders is Access-Control-Expose-Headers on every answer to an allowed origin.
	ExposeHeaders []string
	// AllowCredentials sends Access-Control-Allow-Credentials: true (not with the origin "*").
	AllowCredentials bool
	// MaxAge is the preflight's Access-Control-Max-Age in seconds; 0 sends none. 0-86400.
	MaxAge int
}

func (c *CORS) clone() *CORS {
	if c == nil {
		return nil
	}
	d := *c
	d.AllowOrigins = slices.Clone(c.AllowOrigins)
	d.AllowMethods = slices.Clone(c.AllowMethods)
	d.AllowHeaders = slices.Clone(c.AllowHeaders)
	d.ExposeHeaders = slices.Clone(c.ExposeHeaders)
	return &d
}

// validate refuses what API Gateway refuses, and what no browser could use.
func (c *CORS) validate() error {
	if len(c.AllowOrigins) == 0 {
		return errors.New("apigw: CORS.AllowOrigins is empty")
	}
	for _, o := range c.AllowOrigins {
		switch o {
		case "*":
			if c.AllowCredentials {
				// API Gateway: "allow-credentials is not supported if 'allow-origin' is *".
				return errors.New("apigw: CORS.AllowCredentials is not supported with the origin *")
			}
			continue
		case "https://*", "http://*":
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#") {
			return fmt.Errorf("apigw: CORS origin %q is not scheme://host[:port], *, https://* or http://*", o)
		}
	}
	for _, m := range c.AllowMethods {
		if m != "*" && !methods[strings.ToUpper(m)] {
			return fmt.Errorf("apigw: CORS method %q", m)
		}
	}
	for _, list := range [][]string{c.AllowHeaders, c.ExposeHeaders} {
		for _, h := range list {
			if h != "*" && !token(h) {
				return fmt.Errorf("apigw: CORS header %q", h)
			}
		}
	}
	if c.MaxAge < 0 || c.MaxAge > MaxCORSMaxAge {
		return fmt.Errorf("apigw: CORS.MaxAge %d is not within 0-%d", c.MaxAge, MaxCORSMaxAge)
	}
	return nil
}

// token reports whether s is an HTTP header name (RFC 9110 token).
func token(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// allowOrigin returns the Access-Control-Allow-Origin for origin, or "" when it is not allowed.
func (c *CORS) allowOrigin(origin string) string {
	if origin == "" {
		return ""
	}
	for _, o := range c.AllowOrigins {
		switch {
		case o == "*":
			return "*"
		case o == "https://*" || o == "http://*":
			if strings.HasPrefix(strings.ToLower(origin), strings.TrimSuffix(o, "*")) && len(origin) > len(o)-1 {
				return origin
			}
		case strings.EqualFold(o, origin):
			return origin
		}
	}
	return ""
}

// preflight answers a CORS preflight: 204 without a body; the configured lists when the origin
// is allowed, no CORS header otherwise.
func (c *CORS) preflight(w http.ResponseWriter, origin string) {
	h := w.Header()
	if allow := c.allowOrigin(origin); allow != "" {
		h.Set("Access-Control-Allow-Origin", allow)
		if c.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		if len(c.AllowMethods) > 0 {
			h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
		}
		if len(c.AllowHeaders) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
		}
		if c.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// allow adds the headers of an answer to an allowed origin (nothing for another origin).
func (c *CORS) allow(h http.Header, origin string) {
	allow := c.allowOrigin(origin)
	if allow == "" {
		return
	}
	h.Set("Access-Control-Allow-Origin", allow)
	if c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(c.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ","))
	}
}

// isPreflight reports whether req is a CORS preflight: OPTIONS with Origin and
// Access-Control-Request-Method, as API Gateway requires.
func isPreflight(req *http.Request) bool {
	return req.Method == http.MethodOptions && req.Header.Get("Origin") != "" &&
		req.Header.Get("Access-Control-Request-Method") != ""
}

// SetCORS replaces the router's CORS configuration (nil: none) while it runs, for a harness that
// reads the configuration after New. It refuses what New refuses.
func (r *Router) SetCORS(c *CORS) error {
	if c != nil {
		if err := c.validate(); err != nil {
			return err
		}
	}
	r.cors.Store(c.clone())
	return nil
}

// CORS returns a copy of the router's CORS configuration (nil: none).
func (r *Router) CORS() *CORS { return r.cors.Load().clone() }

// ParseCORS reads the CorsConfiguration property of an AWS::ApiGatewayV2::Api resource from a
// template decoded with encoding/json: string lists AllowOrigins, AllowMethods, AllowHeaders and
// ExposeHeaders, the boolean AllowCredentials and the number MaxAge. Any other property, or a
// value that is not a literal (an intrinsic function), is an error; so is a configuration SetCORS
// would refuse.
func ParseCORS(cfg map[string]any) (*CORS, error) {
	c := &CORS{}
	for k, v := range cfg {
		var err error
		switch k {
		case "AllowOrigins":
			c.AllowOrigins, err = stringList(k, v)
		case "AllowMethods":
			c.AllowMethods, err = stringList(k, v)
		case "AllowHeaders":
			c.AllowHeaders, err = stringList(k, v)
		case "ExposeHeaders":
			c.ExposeHeaders, err = stringList(k, v)
		case "AllowCredentials":
			b, ok := v.(bool)
			if !ok {
				err = fmt.Errorf("apigw: CorsConfiguration.AllowCredentials is %T, not a boolean", v)
			}
			c.AllowCredentials = b
		case "MaxAge":
			f, ok := v.(float64)
			if !ok || f != float64(int(f)) {
				err = fmt.Errorf("apigw: CorsConfiguration.MaxAge is %v, not a whole number", v)
			}
			c.MaxAge = int(f)
		default:
			err = fmt.Errorf("apigw: CorsConfiguration.%s is not supported", k)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// stringList reads a template's list of literal strings.
func stringList(name string, v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("apigw: CorsConfiguration.%s is %T, not a list", name, v)
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("apigw: CorsConfiguration.%s holds %v, not a string", name, e)
		}
		out = append(out, s)
	}
	return out, nil
}
