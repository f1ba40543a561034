package apigw

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

type segKind int

const (
	segGreedy segKind = iota // {name+}: one or more segments
	segParam                 // {name}
	segLiteral
)

type segment struct {
	kind segKind
	text string // literal text or parameter name
}

type route struct {
	key      string // as configured, e.g. "DELETE /device-keys/{id}"
	method   string // upper case, or "ANY"
	def      bool   // $default
	segments []segment
}

var methods = map[string]bool{
	"ANY": true, http.MethodGet: true, http.MethodPost: true, http.MethodPut: true, http.MethodDelete: true,
	http.MethodPatch: true, http.MethodHead: true, http.MethodOptions: true,
}

// parseRoute reads a route key: "$default" or "METHOD /path" with {name} and a final {name+}.
func parseRoute(key string) (route, error) {
	if key == "$default" {
		return route{key: key, def: true}, nil
	}
	m, p, ok := strings.Cut(key, " ")
	if !ok || !methods[m] || !strings.HasPrefix(p, "/") || strings.ContainsAny(p, " ?#") {
		return route{}, fmt.Errorf("apigw: bad route key %q (want \"METHOD /path\")", key)
	}
	rt := route{key: key, method: m}
	if p == "/" {
		return rt, nil
	}
	names := map[string]bool{}
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		switch {
		case s == "":
			return route{}, fmt.Errorf("apigw: route %q has an empty segment", key)
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "+}"):
			name := s[1 : len(s)-2]
			if name == "" || i != len(parts)-1 || names[name] {
				return route{}, fmt.Errorf("apigw: route %q: bad greedy parameter %q", key, s)
			}
			names[name] = true
			rt.segments = append(rt.segments, segment{segGreedy, name})
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
			name := s[1 : len(s)-1]
			if name == "" || strings.ContainsAny(name, "{}") || names[name] {
				return route{}, fmt.Errorf("apigw: route %q: bad parameter %q", key, s)
			}
			names[name] = true
			rt.segments = append(rt.segments, segment{segParam, name})
		case strings.ContainsAny(s, "{}"):
			return route{}, fmt.Errorf("apigw: route %q: bad segment %q", key, s)
		default:
			rt.segments = append(rt.segments, segment{segLiteral, s})
		}
	}
	return rt, nil
}

// matchPath matches the request's (escaped) path segments; parameters are unescaped.
func (rt route) matchPath(parts []string) (map[string]string, bool) {
	params := map[string]string{}
	for i, sg := range rt.segments {
		if i >= len(parts) {
			return nil, false
		}
		switch sg.kind {
		case segLiteral:
			u, err := url.PathUnescape(parts[i])
			if err != nil || u != sg.text {
				return nil, false
			}
		case segParam:
			u, err := url.PathUnescape(parts[i])
			if err != nil || u == "" {
				return nil, false
			}
			params[sg.text] = u
		case segGreedy:
			rest := strings.Join(parts[i:], "/")
			u, err := url.PathUnescape(rest)
			if err != nil || rest == "" {
				return nil, false
			}
			params[sg.text] = u
			return params, true
		}
	}
	if len(parts) != len(rt.segments) {
		return nil, false
	}
	if len(params) == 0 {
		params = nil
	}
	return params, true
}

// more reports whether a is a more specific match than b.
func more(a, b route) bool {
	if a.def != b.def {
		return !a.def
	}
	for i := 0; i < len(a.segments) && i < len(b.segments); i++ {
		if a.segments[i].kind != b.segments[i].kind {
			return a.segments[i].kind > b.segments[i].kind
		}
	}
	if len(a.segments) != len(b.segments) {
		return len(a.segments) > len(b.segments)
	}
	return a.method != "ANY" && b.method == "ANY"
}

// match finds the route for a request.
func (r *Router) match(method, escapedPath string) (route, map[string]string, bool) {
	var parts []string
	if p := strings.TrimPrefix(escapedPath, "/"); p != "" {
		parts = strings.Split(p, "/")
	}
	var best route
	var bestParams map[string]string
	found := false
	for _, rt := range r.routes {
		var params map[string]string
		if !rt.def {
			if rt.method != "ANY" && rt.method != method {
				continue
			}
			var ok bool
			if params, ok = rt.matchPath(parts); !ok {
				continue
			}
		}
		if !found || more(rt, best) {
			best, bestParams, found = rt, params, true
		}
	}
	return best, bestParams, found
}
