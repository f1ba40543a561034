package magiclink

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"unicode"
)

// MaxURLLength caps a redirect URL (configured or sent by a client), in bytes.
const MaxURLLength = 1024

// NormalizeURL returns the canonical form of a redirect URL, or an error when it is not one a
// link may point to. Accepted: https://host[:port][/path][?query] with a DNS host name, and
// http://localhost[:port][/path][?query] for development. Refused: other schemes (javascript:,
// data:, http to any other host), user info, a fragment (the link's secret goes there), wildcards,
// IP addresses other than localhost's name, control characters and spaces, and anything longer
// than MaxURLLength. Normal form: scheme and host lower-cased, the default port (443, resp. 80)
// dropped, an empty path written "/", path and query otherwise kept as written.
func NormalizeURL(s string) (string, error) {
	switch {
	case s == "":
		return "", errors.New("empty URL")
	case len(s) > MaxURLLength:
		return "", errors.New("URL too long")
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r > unicode.MaxASCII }):
		return "", errors.New("URL contains spaces, control or non-ASCII characters")
	case strings.ContainsAny(s, "#\\"):
		return "", errors.New("URL contains a fragment or a backslash")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", errors.New("not a URL")
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	switch {
	case u.Opaque != "" || u.Host == "":
		return "", errors.New("not an absolute URL with a host")
	case u.User != nil:
		return "", errors.New("URL has user info")
	case strings.HasSuffix(u.Host, ":"):
		return "", errors.New("URL has an empty port")
	case scheme == "https":
		if port == "443" {
			port = ""
		}
		if !validHost(host) {
			return "", errors.New("host is not a domain name")
		}
	case scheme == "http" && host == "localhost":
		if port == "80" {
			port = ""
		}
	default:
		return "", errors.New("scheme must be https (or http for localhost)")
	}
	if port != "" && !validPort(port) {
		return "", errors.New("bad port")
	}
	if u.Path != "" && !strings.HasPrefix(u.EscapedPath(), "/") {
		return "", errors.New("bad path")
	}
	out := scheme + "://" + host
	if port != "" {
		out += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	out += path
	if u.ForceQuery || u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out, nil
}

// validHost accepts a DNS name with at least two labels (letters, digits, hyphens; no label
// starting or ending with a hyphen), or "localhost"; never an IP address or a wildcard.
func validHost(h string) bool {
	if h == "localhost" {
		return true
	}
	if len(h) > 253 || net.ParseIP(h) != nil {
		return false
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	// A top-level label of digits only would make an IPv4 address in some resolvers.
	last := labels[len(labels)-1]
	return strings.ContainsFunc(last, func(r rune) bool { return r < '0' || r > '9' })
}

func validPort(p string) bool {
	if len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n >= 1 && n <= 65535
}
