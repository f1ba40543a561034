package idp

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Alias is an attribute users sign in with.
type Alias string

// The aliases (the same words as the construct's SIGN_IN_ALIASES).
const (
	AliasEmail Alias = "email"
	AliasPhone Alias = "phone"
)

// Trigger names, as Cognito uses them in trigger error messages and as Stats keys them.
const (
	TriggerDefine    = "DefineAuthChallenge"
	TriggerCreate    = "CreateAuthChallenge"
	TriggerVerify    = "VerifyAuthChallengeResponse"
	TriggerPreSignUp = "PreSignUp"
)

// Triggers names the Lambda function of each trigger, as passed to Invoker.Invoke. An empty name
// means the pool has no such trigger.
type Triggers struct {
	DefineAuthChallenge         string
	CreateAuthChallenge         string
	VerifyAuthChallengeResponse string
	PreSignUp                   string
}

// Defaults for Config.
const (
	DefaultPoolID               = "us-east-1_LOCAL0001"
	DefaultClientID             = "localclient000000000000001" // 26 characters, like Cognito's
	DefaultTriggerTimeout       = 5 * time.Second              // Cognito's limit for a trigger
	DefaultTriggerRetries       = 2
	DefaultAuthSessionValidity  = 3 * time.Minute
	DefaultAccessTokenValidity  = time.Hour
	DefaultIDTokenValidity      = time.Hour
	DefaultRefreshTokenValidity = 30 * 24 * time.Hour
)

// Config describes the pool and its app client. The zero value is usable: every field has a
// default.
type Config struct {
	// PoolID is the user pool ID, "<region>_<id>". Default DefaultPoolID.
	PoolID string
	// Region is the pool's region. Default: the PoolID prefix.
	Region string
	// ClientID is the app client ID. Default DefaultClientID.
	ClientID string
	// Aliases are the attributes users sign in with. With any set, user names are random UUIDs
	// and the email address or phone number is given as Username to SignUp and AdminCreateUser.
	// Empty: a plain user-name pool.
	Aliases []Alias
	// PreventUserExistenceErrors is the app client setting. nil means true (Bool(false) to turn
	// it off).
	PreventUserExistenceErrors *bool
	// ReadAttributes are the attributes the app client may read (the client's ReadAttributes):
	// GetUser returns, and the ID token carries, only these (sub always). nil: every attribute
	// (Cognito's default is the standard attributes and both verified flags).
	ReadAttributes []string
	// WriteAttributes are the attributes the app client may write (the client's WriteAttributes)
	// through SignUp's UserAttributes and UpdateUserAttributes; any other is refused with
	// NotAuthorizedException "A client attempted to write unauthorized attribute". The address
	// given as Username in an alias pool is set by the pool, not written by the client, so it
	// needs no write permission. nil: every standard attribute (Cognito's default) and any
	// custom:* attribute. email_verified and phone_number_verified are never writable by a client.
	WriteAttributes []string
	// Triggers names the trigger functions.
	Triggers Triggers
	// TriggerTimeout is how long one invocation may take. Default 5 s.
	TriggerTimeout time.Duration
	// TriggerRetries is how many times a timed-out invocation or a transport error is retried.
	// 0 means the default 2; a negative value means no retries.
	TriggerRetries int
	// Token and session lifetimes (app client settings).
	AuthSessionValidity  time.Duration // default 3 min
	AccessTokenValidity  time.Duration // default 1 h
	IDTokenValidity      time.Duration // default 1 h
	RefreshTokenValidity time.Duration // default 30 days
	// Clock is the time source. Default time.Now.
	Clock func() time.Time
	// IssuerBase is the base URL of the server the Pool is mounted at, so the iss claim is
	// IssuerBase + "/" + PoolID and the JWKS is at iss + "/.well-known/jwks.json".
	// Default "https://cognito-idp.<region>.amazonaws.com" (Cognito's own form).
	IssuerBase string
	// SigningKey signs the tokens. Default: a new 2048-bit key.
	SigningKey *rsa.PrivateKey
	// Log receives one line per trigger failure and per failed sign-in. nil: no logging.
	Log *slog.Logger
}

// Bool returns a pointer to v, for Config.PreventUserExistenceErrors.
func Bool(v bool) *bool { return &v }

var poolIDPattern = regexp.MustCompile(`^([a-z]{2}(?:-[a-z]+)+-[0-9]+)_[0-9A-Za-z]+$`)
var clientIDPattern = regexp.MustCompile(`^[\w+]{1,128}$`)

func (c Config) withDefaults() (Config, error) {
	if c.PoolID == "" {
		c.PoolID = DefaultPoolID
	}
	m := poolIDPattern.FindStringSubmatch(c.PoolID)
	if m == nil {
		return c, fmt.Errorf("idp: pool ID %q is not of the form <region>_<id>", c.PoolID)
	}
	if c.Region == "" {
		c.Region = m[1]
	}
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if !clientIDPattern.MatchString(c.ClientID) {
		return c, fmt.Errorf("idp: client ID %q is not valid", c.ClientID)
	}
	seen := map[Alias]bool{}
	for _, a := range c.Aliases {
		if a != AliasEmail && a != AliasPhone {
			return c, fmt.Errorf("idp: unknown alias %q", a)
		}
		if seen[a] {
			return c, fmt.Errorf("idp: alias %q listed twice", a)
		}
		seen[a] = true
	}
	c.Aliases = append([]Alias(nil), c.Aliases...)
	for _, list := range [][]string{c.ReadAttributes, c.WriteAttributes} {
		for _, a := range list {
			if !standardAttributes[a] && !customAttribute(a) {
				return c, fmt.Errorf("idp: app client attribute %q is neither a standard nor a custom: attribute", a)
			}
		}
	}
	if c.ReadAttributes != nil {
		c.ReadAttributes = append([]string{}, c.ReadAttributes...)
	}
	if c.WriteAttributes != nil {
		c.WriteAttributes = append([]string{}, c.WriteAttributes...)
	}
	if c.PreventUserExistenceErrors == nil {
		c.PreventUserExistenceErrors = Bool(true)
	} else {
		c.PreventUserExistenceErrors = Bool(*c.PreventUserExistenceErrors)
	}
	if c.TriggerTimeout <= 0 {
		c.TriggerTimeout = DefaultTriggerTimeout
	}
	switch {
	case c.TriggerRetries == 0:
		c.TriggerRetries = DefaultTriggerRetries
	case c.TriggerRetries < 0:
		c.TriggerRetries = 0
	}
	setDur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	setDur(&c.AuthSessionValidity, DefaultAuthSessionValidity)
	setDur(&c.AccessTokenValidity, DefaultAccessTokenValidity)
	setDur(&c.IDTokenValidity, DefaultIDTokenValidity)
	setDur(&c.RefreshTokenValidity, DefaultRefreshTokenValidity)
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.IssuerBase == "" {
		c.IssuerBase = "https://cognito-idp." + c.Region + ".amazonaws.com"
	}
	c.IssuerBase = strings.TrimSuffix(c.IssuerBase, "/")
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

func (c Config) hasAlias(a Alias) bool {
	for _, x := range c.Aliases {
		if x == a {
			return true
		}
	}
	return false
}

// Invoker calls a trigger's Lambda function with the event JSON and returns the response JSON.
// Any error is a failed invocation. A *FunctionError (the function ran and returned an error) is
// not retried; any other error (a timeout, a transport or 5xx-like error) is retried like a
// timeout. A response payload of the Lambda runtime's error form
// ({"errorMessage": ..., "errorType": ...}) also counts as a function error.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// Pool is one emulated user pool with one app client. It is an http.Handler and safe for
// concurrent use.
type Pool struct {
	cfg     Config
	inv     Invoker
	key     *rsa.PrivateKey
	kid     string
	jwks    []byte
	aead    cipher.AEAD     // sessions and refresh tokens
	fakeKey []byte          // derives stable fake user names for unknown users
	read    map[string]bool // nil: every attribute is readable
	write   map[string]bool // nil: Cognito's default (standard attributes, custom:*)

	mu      sync.RWMutex
	users   map[string]*user    // by lower-cased user name
	aliases map[string][]*user  // by alias key (see aliasKeys)
	revoked map[string]bool     // revoked origin_jti values
	signIns map[string][]string // origin_jti values by sub, for GlobalSignOut
	seq     uint64              // users created so far

	usedMu   sync.Mutex
	used     map[string]time.Time // session IDs accepted once, until their expiry
	lastPurg time.Time

	statsMu sync.Mutex
	stats   Stats
}

// New builds a pool. inv may be nil when no trigger is configured.
func New(cfg Config, inv Invoker) (*Pool, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	t := cfg.Triggers
	if inv == nil && (t.DefineAuthChallenge != "" || t.CreateAuthChallenge != "" || t.VerifyAuthChallengeResponse != "" || t.PreSignUp != "") {
		return nil, errors.New("idp: triggers configured but no Invoker")
	}
	key := cfg.SigningKey
	if key == nil {
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("idp: signing key: %w", err)
		}
	}
	secret := make([]byte, 64)
	if _, err := io.ReadFull(rand.Reader, secret); err != nil {
		return nil, fmt.Errorf("idp: random: %w", err)
	}
	block, err := aes.NewCipher(secret[:32])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(key.N.Bytes())
	p := &Pool{
		cfg:     cfg,
		inv:     inv,
		key:     key,
		kid:     base64.RawURLEncoding.EncodeToString(sum[:]),
		aead:    aead,
		fakeKey: secret[32:],
		users:   map[string]*user{},
		aliases: map[string][]*user{},
		revoked: map[string]bool{},
		signIns: map[string][]string{},
		used:    map[string]time.Time{},
		stats:   newStats(),
		read:    set(cfg.ReadAttributes),
		write:   set(cfg.WriteAttributes),
	}
	if p.read != nil {
		p.read["sub"] = true
	}
	p.jwks, err = json.Marshal(map[string]any{"keys": []any{map[string]string{
		"alg": "RS256",
		"e":   base64.RawURLEncoding.EncodeToString(bigEndian(key.E)),
		"kid": p.kid,
		"kty": "RSA",
		"n":   base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"use": "sig",
	}}})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// set is the set of names in l; nil for a nil list.
func set(l []string) map[string]bool {
	if l == nil {
		return nil
	}
	m := make(map[string]bool, len(l))
	for _, a := range l {
		m[a] = true
	}
	return m
}

func bigEndian(e int) []byte {
	var b []byte
	for ; e > 0; e >>= 8 {
		b = append([]byte{byte(e)}, b...)
	}
	return b
}

// Config returns the effective configuration (defaults filled in).
func (p *Pool) Config() Config {
	c := p.cfg
	c.Aliases = append([]Alias(nil), c.Aliases...)
	if c.ReadAttributes != nil {
		c.ReadAttributes = append([]string{}, c.ReadAttributes...)
	}
	if c.WriteAttributes != nil {
		c.WriteAttributes = append([]string{}, c.WriteAttributes...)
	}
	c.PreventUserExistenceErrors = Bool(*p.cfg.PreventUserExistenceErrors)
	return c
}

// PoolID returns the user pool ID.
func (p *Pool) PoolID() string { return p.cfg.PoolID }

// ClientID returns the app client ID.
func (p *Pool) ClientID() string { return p.cfg.ClientID }

// Issuer returns the iss claim of the pool's tokens.
func (p *Pool) Issuer() string { return p.cfg.IssuerBase + "/" + p.cfg.PoolID }

// JWKS returns the JSON Web Key Set that verifies the pool's tokens.
func (p *Pool) JWKS() []byte { return append([]byte(nil), p.jwks...) }

// PublicKey returns the key that verifies the pool's tokens.
func (p *Pool) PublicKey() *rsa.PublicKey { return &p.key.PublicKey }

// KeyID returns the kid of the signing key.
func (p *Pool) KeyID() string { return p.kid }

// Stats counts what the pool did since New.
type Stats struct {
	// Invocations counts trigger invocations per trigger (TriggerDefine, ...), retries included.
	Invocations map[string]int
	// Retries counts the retried invocations per trigger.
	Retries map[string]int
	// Failures counts failed invocations per trigger (function errors, timeouts, transport
	// errors, unreadable responses).
	Failures map[string]int
	// Calls counts API calls per operation ("InitiateAuth", ...), failed ones included.
	Calls map[string]int
}

func newStats() Stats {
	return Stats{Invocations: map[string]int{}, Retries: map[string]int{}, Failures: map[string]int{}, Calls: map[string]int{}}
}

// Stats returns a copy of the counters.
func (p *Pool) Stats() Stats {
	p.statsMu.Lock()
	defer p.statsMu.Unlock()
	return Stats{
		Invocations: maps.Clone(p.stats.Invocations),
		Retries:     maps.Clone(p.stats.Retries),
		Failures:    maps.Clone(p.stats.Failures),
		Calls:       maps.Clone(p.stats.Calls),
	}
}

func (p *Pool) count(m func(*Stats) map[string]int, k string) {
	p.statsMu.Lock()
	m(&p.stats)[k]++
	p.statsMu.Unlock()
}

func (p *Pool) now() time.Time { return p.cfg.Clock() }
