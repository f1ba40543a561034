package idp

import (
	"crypto/rand"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// User statuses (Cognito's UserStatusType values that this pool produces).
const (
	StatusUnconfirmed         = "UNCONFIRMED"
	StatusConfirmed           = "CONFIRMED"
	StatusForceChangePassword = "FORCE_CHANGE_PASSWORD"
)

type user struct {
	name     string // the user name (a UUID in alias pools)
	attrs    map[string]string
	status   string
	enabled  bool
	created  time.Time
	modified time.Time
	seq      uint64 // creation order
}

func (u *user) clone() *user {
	c := *u
	c.attrs = make(map[string]string, len(u.attrs))
	for k, v := range u.attrs {
		c.attrs[k] = v
	}
	return &c
}

// confirmed reports whether the user may sign in: every status but UNCONFIRMED (an
// AdminCreateUser user in FORCE_CHANGE_PASSWORD may use CUSTOM_AUTH).
func (u *user) confirmed() bool { return u.status != StatusUnconfirmed }

// aliasKeys are the index keys of the sign-in attributes u holds.
func (p *Pool) aliasKeys(attrs map[string]string) []string {
	var keys []string
	if p.cfg.hasAlias(AliasEmail) && attrs["email"] != "" {
		keys = append(keys, "email:"+strings.ToLower(attrs["email"]))
	}
	if p.cfg.hasAlias(AliasPhone) && attrs["phone_number"] != "" {
		keys = append(keys, "phone_number:"+attrs["phone_number"])
	}
	return keys
}

func (p *Pool) indexLocked(u *user) {
	for _, k := range p.aliasKeys(u.attrs) {
		p.aliases[k] = append(p.aliases[k], u)
	}
}

func (p *Pool) unindexLocked(u *user) {
	for _, k := range p.aliasKeys(u.attrs) {
		l := slices.DeleteFunc(p.aliases[k], func(x *user) bool { return x == u })
		if len(l) == 0 {
			delete(p.aliases, k)
		} else {
			p.aliases[k] = l
		}
	}
}

// aliasKey returns the index key for a sign-in name that is an alias of this pool, or "".
func (p *Pool) aliasKey(name string) string {
	switch {
	case p.cfg.hasAlias(AliasEmail) && strings.Contains(name, "@"):
		return "email:" + strings.ToLower(name)
	case p.cfg.hasAlias(AliasPhone) && strings.HasPrefix(name, "+"):
		return "phone_number:" + name
	}
	return ""
}

// lookupLocked finds a user by user name or alias (case-insensitive). Among users sharing an
// alias the confirmed one wins.
func (p *Pool) lookupLocked(name string) *user {
	if name == "" {
		return nil
	}
	if u := p.users[strings.ToLower(name)]; u != nil {
		return u
	}
	k := p.aliasKey(name)
	if k == "" {
		return nil
	}
	var found *user
	for _, u := range p.aliases[k] {
		if u.confirmed() {
			return u
		}
		if found == nil {
			found = u
		}
	}
	return found
}

// lookup returns a copy of the user, or nil.
func (p *Pool) lookup(name string) *user {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if u := p.lookupLocked(name); u != nil {
		return u.clone()
	}
	return nil
}

// aliasConflictLocked returns an error if a user other than self holds one of the sign-in
// attributes in attrs: any user when anyStatus, else a confirmed one.
func (p *Pool) aliasConflictLocked(attrs map[string]string, self *user, typ string, anyStatus bool) error {
	for _, k := range p.aliasKeys(attrs) {
		for _, u := range p.aliases[k] {
			if u != self && (anyStatus || u.confirmed()) {
				what := "email"
				if strings.HasPrefix(k, "phone_number:") {
					what = "phone_number"
				}
				return apiErr(typ, "An account with the given %s already exists.", what)
			}
		}
	}
	return nil
}

// The standard attributes of a user pool (OpenID Connect claims plus sub).
var standardAttributes = map[string]bool{
	"address": true, "birthdate": true, "email": true, "email_verified": true, "family_name": true,
	"gender": true, "given_name": true, "locale": true, "middle_name": true, "name": true,
	"nickname": true, "phone_number": true, "phone_number_verified": true, "picture": true,
	"preferred_username": true, "profile": true, "sub": true, "updated_at": true, "website": true,
	"zoneinfo": true,
}

type attribute struct {
	Name  string  `json:"Name"`
	Value *string `json:"Value,omitempty"`
}

var phonePattern = regexp.MustCompile(`^\+[0-9]{4,15}$`)

// attrWriter says who writes attributes: an app client writes only its WriteAttributes (never the
// *_verified attributes); an administrator (IAM-authorized Admin* calls) writes any.
type attrWriter int

const (
	byClient attrWriter = iota
	byAdmin
)

// errUnauthorizedAttribute is Cognito's answer to a client writing an attribute it may not write
// (NotAuthorizedException, see doc.go).
const errUnauthorizedAttribute = "A client attempted to write unauthorized attribute"

func customAttribute(name string) bool {
	return strings.HasPrefix(name, "custom:") && len(name) > 7 && len(name) <= 27
}

// clientMayWrite reports whether the app client may write the attribute.
func (p *Pool) clientMayWrite(name string) bool {
	if strings.HasSuffix(name, "_verified") || name == "sub" {
		return false
	}
	if p.write == nil {
		return true // Cognito's default: the standard attributes (custom ones not modelled)
	}
	return p.write[name]
}

// clientMayRead reports whether the app client may read the attribute.
func (p *Pool) clientMayRead(name string) bool { return p.read == nil || p.read[name] }

// readable returns the attributes the app client may read.
func (p *Pool) readable(attrs map[string]string) map[string]string {
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		if p.clientMayRead(k) {
			out[k] = v
		}
	}
	return out
}

// readAttrs checks a list of attributes against the schema and, for a client, against the app
// client's write permissions, and returns them as a map. An empty value is kept (it deletes the
// attribute in an update).
func (p *Pool) readAttrs(list []attribute, who attrWriter) (map[string]string, error) {
	m := map[string]string{}
	for _, a := range list {
		if a.Name == "" {
			return nil, apiErr(errInvalidParameter, "Attribute name is required")
		}
		if !standardAttributes[a.Name] && !customAttribute(a.Name) {
			return nil, apiErr(errInvalidParameter, "Attributes did not conform to the schema: %s: Attribute does not exist in the schema.", a.Name)
		}
		if a.Name == "sub" {
			return nil, apiErr(errInvalidParameter, "Cannot modify an immutable attribute: sub")
		}
		if who == byClient && !p.clientMayWrite(a.Name) {
			return nil, apiErr(errNotAuthorized, errUnauthorizedAttribute)
		}
		v := ""
		if a.Value != nil {
			v = *a.Value
		}
		if len(v) > 2048 {
			return nil, apiErr(errInvalidParameter, "Attribute %s is too long", a.Name)
		}
		switch a.Name {
		case "email":
			if v != "" && !validEmail(v) {
				return nil, apiErr(errInvalidParameter, "Invalid email address format.")
			}
		case "phone_number":
			if v != "" && !phonePattern.MatchString(v) {
				return nil, apiErr(errInvalidParameter, "Invalid phone number format.")
			}
		case "email_verified", "phone_number_verified":
			if v != "true" && v != "false" && v != "" {
				return nil, apiErr(errInvalidParameter, "Invalid value for %s: must be true or false", a.Name)
			}
		}
		m[a.Name] = v
	}
	return m, nil
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && len(s) <= 254
}

// nameAttr maps a sign-up Username to the alias attribute it sets in an alias pool.
func (p *Pool) nameAttr(username string) (string, error) {
	email, phone := p.cfg.hasAlias(AliasEmail), p.cfg.hasAlias(AliasPhone)
	switch {
	case email && strings.Contains(username, "@"):
		if !validEmail(username) {
			return "", apiErr(errInvalidParameter, "Invalid email address format.")
		}
		return "email", nil
	case phone && strings.HasPrefix(username, "+"):
		if !phonePattern.MatchString(username) {
			return "", apiErr(errInvalidParameter, "Invalid phone number format.")
		}
		return "phone_number", nil
	case email && phone:
		return "", apiErr(errInvalidParameter, "Username should be either an email or a phone number.")
	case email:
		return "", apiErr(errInvalidParameter, "Username should be an email.")
	default:
		return "", apiErr(errInvalidParameter, "Username should be a phone number.")
	}
}

// newUserName decides the user name and completes attrs for a new user named username by the
// caller.
func (p *Pool) newUserName(username string, attrs map[string]string) (string, error) {
	if username == "" {
		return "", apiErr(errInvalidParameter, "Missing required parameter Username")
	}
	if len(username) > 128 || strings.IndexFunc(username, unicode.IsSpace) >= 0 {
		return "", apiErr(errInvalidParameter, "Username is not valid")
	}
	if len(p.cfg.Aliases) == 0 {
		return username, nil
	}
	attr, err := p.nameAttr(username)
	if err != nil {
		return "", err
	}
	if v, ok := attrs[attr]; ok && v != "" && !strings.EqualFold(v, username) {
		return "", apiErr(errInvalidParameter, "Username and the %s attribute must be the same.", attr)
	}
	attrs[attr] = username
	return newUUID(), nil
}

// existsLocked reports a user name, or in an alias pool an email address or phone number, that
// is taken. With email/phone as user name attributes an unconfirmed user holds its address too:
// signing up again gives UsernameExistsException, as in Cognito.
func (p *Pool) existsLocked(name string, attrs map[string]string) error {
	if len(p.cfg.Aliases) == 0 {
		if p.users[strings.ToLower(name)] != nil {
			return apiErr(errUsernameExists, "User already exists")
		}
		return nil
	}
	return p.aliasConflictLocked(attrs, nil, errUsernameExists, true)
}

// insert adds a new user after a last check that nothing was taken meanwhile.
func (p *Pool) insert(u *user) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.existsLocked(u.name, u.attrs); err != nil {
		return err
	}
	if p.users[strings.ToLower(u.name)] != nil {
		return apiErr(errUsernameExists, "User already exists")
	}
	p.seq++
	u.seq = p.seq
	p.users[strings.ToLower(u.name)] = u
	p.indexLocked(u)
	return nil
}

// markUnverified sets *_verified to "false" for each present alias attribute that has no value.
func markUnverified(attrs map[string]string) {
	for _, a := range []string{"email", "phone_number"} {
		if attrs[a] != "" && attrs[a+"_verified"] == "" {
			attrs[a+"_verified"] = "false"
		}
	}
}

// attrList renders attributes sorted by name, sub first, as Cognito lists them.
func attrList(attrs map[string]string, only map[string]bool) []attribute {
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		if only == nil || only[k] {
			names = append(names, k)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		if a == "sub" {
			return -1
		}
		if b == "sub" {
			return 1
		}
		return strings.Compare(a, b)
	})
	out := make([]attribute, len(names))
	for i, n := range names {
		v := attrs[n]
		out[i] = attribute{Name: n, Value: &v}
	}
	return out
}

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Password policy of the construct's pool: at least 16 characters with upper case, lower case,
// digits and symbols.
const minPasswordLength = 16

const passwordSymbols = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- "

func checkPassword(pw string) error {
	var upper, lower, digit, symbol bool
	for _, r := range pw {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune(passwordSymbols, r):
			symbol = true
		}
	}
	switch {
	case len(pw) < minPasswordLength:
		return apiErr(errInvalidPassword, "Password did not conform with policy: Password not long enough")
	case len(pw) > 256:
		return apiErr(errInvalidPassword, "Password did not conform with policy: Password too long")
	case !lower:
		return apiErr(errInvalidPassword, "Password did not conform with policy: Password must have lowercase characters")
	case !upper:
		return apiErr(errInvalidPassword, "Password did not conform with policy: Password must have uppercase characters")
	case !digit:
		return apiErr(errInvalidPassword, "Password did not conform with policy: Password must have numeric characters")
	case !symbol:
		return apiErr(errInvalidPassword, "Password did not conform with policy: Password must have symbol characters")
	}
	return nil
}
