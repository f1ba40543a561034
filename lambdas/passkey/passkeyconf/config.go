// Package passkeyconf holds the relying party's passkey policy (Config) and reads it from the
// environment (ConfigFromEnv). It does not depend on the WebAuthn library, so functions that only
// publish request options (the CreateAuthChallenge trigger, see package passkeynonce) stay small;
// package passkey builds the go-webauthn relying party from it.
package passkeyconf

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Environment variables read by ConfigFromEnv (the construct sets them on the Create, Verify and
// API functions when passkeys are enabled).
const (
	EnvRPID             = "PASSKEY_RP_ID"             // required, e.g. "example.com"
	EnvRPName           = "PASSKEY_RP_NAME"           // default: the RP ID
	EnvOrigins          = "PASSKEY_ORIGINS"           // comma-separated; default "https://<RP ID>"
	EnvUserVerification = "PASSKEY_USER_VERIFICATION" // required | preferred | discouraged; default required
	EnvResidentKey      = "PASSKEY_RESIDENT_KEY"      // required | preferred | discouraged; default required
	EnvAttestation      = "PASSKEY_ATTESTATION"       // none | indirect | direct; default none
	EnvAttachment       = "PASSKEY_ATTACHMENT"        // platform | cross-platform | ""; default "" (any)
	EnvTimeoutSeconds   = "PASSKEY_TIMEOUT_SECONDS"   // default 120, 30-600
	EnvMaxPerUser       = "PASSKEY_MAX_PER_USER"      // default 10, 1-100
	EnvAllowCredentials = "PASSKEY_ALLOW_CREDENTIALS" // none | list; default none
)

// Values of Config.AllowCredentials.
const (
	// AllowCredentialsNone: the nonce round publishes no allowCredentials, for every user, real
	// or unknown; sign-in uses discoverable credentials (the authenticator offers the passkeys it
	// holds for the RP ID). Nothing in the options depends on who signs in.
	AllowCredentialsNone = "none"
	// AllowCredentialsList: the nonce round lists the user's credential IDs (keyed decoys for
	// unknown users), which also lets non-discoverable credentials (security keys registered
	// without a resident key) sign in. Anyone can fetch these options for any email or phone
	// number, so anyone can tell that two identifiers (an email and a phone number) belong to one
	// account when they return the same non-empty list.
	AllowCredentialsList = "list"
)

// Defaults and limits.
const (
	DefaultTimeout    = 120 * time.Second
	MinTimeout        = 30 * time.Second
	MaxTimeout        = 600 * time.Second
	DefaultMaxPerUser = 10
	MaxMaxPerUser     = 100
	// AndroidOriginPrefix starts the origin an Android app conveys:
	// "android:apk-key-hash:" + unpadded base64url of the SHA-256 of the app's signing certificate.
	AndroidOriginPrefix = "android:apk-key-hash:"
)

// Config is the relying party's passkey policy.
type Config struct {
	// RPID is the WebAuthn relying party ID: a domain, e.g. "example.com". Required.
	RPID string
	// RPName is shown by authenticators when a passkey is created. Default: RPID.
	RPName string
	// Origins lists the accepted origins: web origins "https://host[:port]" whose host is RPID or
	// a subdomain of it ("http://localhost[:port]" when RPID is "localhost"), and Android app
	// origins "android:apk-key-hash:<base64url SHA-256 of the signing certificate>". At least one
	// web origin is required. Default: "https://<RPID>".
	Origins []string
	// UserVerification required (default), preferred or discouraged. With required, every
	// registration and sign-in must carry the UV flag.
	UserVerification string
	// ResidentKey required (default), preferred or discouraged. Sign-in with AllowCredentialsNone
	// (the default) and usernameless sign-in need discoverable credentials: with "preferred" or
	// "discouraged" an authenticator may create a credential that can sign in only when its ID is
	// listed (AllowCredentialsList).
	ResidentKey string
	// Attestation none (default), indirect or direct.
	Attestation string
	// Attachment platform, cross-platform or "" (default: any authenticator).
	Attachment string
	// Timeout is the ceremony timeout sent to the client, the lifetime of stored challenges and
	// the longest a nonce round may be answered after it was issued. Default 120 s, 30-600 s.
	Timeout time.Duration
	// MaxPerUser caps the passkeys one user may register. Default 10, 1-100.
	MaxPerUser int
	// AllowCredentials is what the nonce round's request options list: AllowCredentialsNone
	// (default, "none") or AllowCredentialsList ("list", which lets anyone link the aliases of
	// one account: see AllowCredentialsList).
	AllowCredentials string
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	c.RPID = strings.ToLower(strings.TrimSpace(c.RPID))
	if c.RPName == "" {
		c.RPName = c.RPID
	}
	if len(c.Origins) == 0 && c.RPID != "" {
		c.Origins = []string{"https://" + c.RPID}
	}
	if c.UserVerification == "" {
		c.UserVerification = "required"
	}
	if c.ResidentKey == "" {
		c.ResidentKey = "required"
	}
	if c.AllowCredentials == "" {
		c.AllowCredentials = AllowCredentialsNone
	}
	if c.Attestation == "" {
		c.Attestation = "none"
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxPerUser == 0 {
		c.MaxPerUser = DefaultMaxPerUser
	}
	return c
}

// Validate reports every problem with c (after WithDefaults) at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	// oneOf reports a value v of setting what that is none of allowed (at least two).
	oneOf := func(what, v string, allowed ...string) {
		if !slices.Contains(allowed, v) {
			bad("%s %q is not %s or %s", what, v, strings.Join(allowed[:len(allowed)-1], ", "), allowed[len(allowed)-1])
		}
	}
	if c.RPID == "" {
		bad("relying party ID is empty")
	} else if err := validRPID(c.RPID); err != nil {
		bad("relying party ID %q: %v", c.RPID, err)
	}
	if len(c.RPName) > 128 {
		bad("relying party name is longer than 128 bytes")
	}
	web := 0
	for _, o := range c.Origins {
		if strings.HasPrefix(o, "android:") {
			if err := validAndroidOrigin(o); err != nil {
				bad("origin %q: %v", o, err)
			}
			continue
		}
		if err := validWebOrigin(o, c.RPID); err != nil {
			bad("origin %q: %v", o, err)
			continue
		}
		web++
	}
	if web == 0 {
		bad("at least one web origin (https://...) is required")
	}
	oneOf("user verification", c.UserVerification, "required", "preferred", "discouraged")
	oneOf("resident key", c.ResidentKey, "required", "preferred", "discouraged")
	oneOf("attestation", c.Attestation, "none", "indirect", "direct")
	switch c.Attachment {
	case "", "platform", "cross-platform":
	default:
		bad("attachment %q is not platform, cross-platform or empty", c.Attachment)
	}
	if c.Timeout < MinTimeout || c.Timeout > MaxTimeout || c.Timeout%time.Second != 0 {
		bad("timeout %s is not a whole number of seconds from %d to %d", c.Timeout, int(MinTimeout/time.Second), int(MaxTimeout/time.Second))
	}
	if c.MaxPerUser < 1 || c.MaxPerUser > MaxMaxPerUser {
		bad("max passkeys per user %d is not from 1 to %d", c.MaxPerUser, MaxMaxPerUser)
	}
	oneOf("allow credentials", c.AllowCredentials, AllowCredentialsNone, AllowCredentialsList)
	if len(errs) > 0 {
		return fmt.Errorf("passkey: bad configuration: %w", errors.Join(errs...))
	}
	return nil
}

// ConfigFromEnv reads the Config through getenv (os.Getenv when nil): see the Env constants.
// Unset variables take their defaults; a missing RP ID or any bad value is an error, so a
// misconfigured function fails at start-up.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var c Config
	var errs []error
	c.RPID = strings.TrimSpace(getenv(EnvRPID))
	if c.RPID == "" {
		errs = append(errs, fmt.Errorf("%s is not set", EnvRPID))
	}
	c.RPName = strings.TrimSpace(getenv(EnvRPName))
	if s := strings.TrimSpace(getenv(EnvOrigins)); s != "" {
		for _, o := range strings.Split(s, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.Origins = append(c.Origins, o)
			}
		}
		if len(c.Origins) == 0 {
			errs = append(errs, fmt.Errorf("%s lists no origin", EnvOrigins))
		}
	}
	c.UserVerification = strings.TrimSpace(getenv(EnvUserVerification))
	c.ResidentKey = strings.TrimSpace(getenv(EnvResidentKey))
	c.Attestation = strings.TrimSpace(getenv(EnvAttestation))
	c.Attachment = strings.TrimSpace(getenv(EnvAttachment))
	c.AllowCredentials = strings.TrimSpace(getenv(EnvAllowCredentials))
	if s := strings.TrimSpace(getenv(EnvTimeoutSeconds)); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < int(MinTimeout/time.Second) || n > int(MaxTimeout/time.Second) {
			errs = append(errs, fmt.Errorf("%s: %q is not a number of seconds from %d to %d", EnvTimeoutSeconds, s, int(MinTimeout/time.Second), int(MaxTimeout/time.Second)))
		} else {
			c.Timeout = time.Duration(n) * time.Second
		}
	}
	if s := strings.TrimSpace(getenv(EnvMaxPerUser)); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxMaxPerUser {
			errs = append(errs, fmt.Errorf("%s: %q is not a number from 1 to %d", EnvMaxPerUser, s, MaxMaxPerUser))
		} else {
			c.MaxPerUser = n
		}
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("passkey: bad configuration: %w", errors.Join(errs...))
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func validRPID(id string) error {
	if err := validateRPID(id); err != nil {
		return err
	}
	if net.ParseIP(id) != nil || strings.ContainsAny(id, ":/?#@ ") || strings.HasPrefix(id, ".") || strings.HasSuffix(id, ".") {
		return errors.New("not a domain name")
	}
	for _, label := range strings.Split(id, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("not a domain name")
		}
		for i := 0; i < len(label); i++ {
			ch := label[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-') {
				return errors.New("not a lower-case domain name")
			}
		}
	}
	return nil
}

func validWebOrigin(o, rpID string) error {
	u, err := url.Parse(o)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return errors.New("an origin has only a scheme, a host and an optional port")
	}
	host := strings.ToLower(u.Hostname())
	if u.Scheme != "https" && !(u.Scheme == "http" && host == "localhost") {
		return errors.New("scheme must be https (http only for localhost)")
	}
	if o != strings.ToLower(o) || strings.HasSuffix(o, "/") {
		return errors.New("write the origin in lower case without a trailing slash")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return errors.New("bad port")
		}
	}
	if rpID != "" && host != rpID && !strings.HasSuffix(host, "."+rpID) {
		return fmt.Errorf("host %q is not the relying party ID or a subdomain of it", host)
	}
	return nil
}

func validAndroidOrigin(o string) error {
	v, ok := strings.CutPrefix(o, AndroidOriginPrefix)
	if !ok || v == "" {
		return fmt.Errorf("an app origin must start with %q", AndroidOriginPrefix)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(v)
	if err != nil || len(b) != 32 {
		return errors.New("the key hash must be the unpadded base64url SHA-256 of the signing certificate")
	}
	// Such an origin is one go-webauthn knows clients convey (protocol.IsKnownOpaqueOrigin).
	return nil
}
