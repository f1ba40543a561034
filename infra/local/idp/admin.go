package idp

import (
	"cmp"
	"encoding/base64"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

type signUpIn struct {
	ClientId       string
	Username       string
	Password       *string
	UserAttributes []attribute
	ValidationData []attribute
	ClientMetadata map[string]string
}

type signUpOut struct {
	UserConfirmed bool   `json:"UserConfirmed"`
	UserSub       string `json:"UserSub"`
}

// userOut is Cognito's UserType.
type userOut struct {
	Username             string      `json:"Username"`
	Attributes           []attribute `json:"Attributes"`
	UserCreateDate       float64     `json:"UserCreateDate"`
	UserLastModifiedDate float64     `json:"UserLastModifiedDate"`
	Enabled              bool        `json:"Enabled"`
	UserStatus           string      `json:"UserStatus"`
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func toUserOut(u *user, only map[string]bool) userOut {
	return userOut{
		Username:             u.name,
		Attributes:           attrList(u.attrs, only),
		UserCreateDate:       epoch(u.created),
		UserLastModifiedDate: epoch(u.modified),
		Enabled:              u.enabled,
		UserStatus:           u.status,
	}
}

func attrMap(list []attribute) map[string]string {
	m := map[string]string{}
	for _, a := range list {
		if a.Value != nil {
			m[a.Name] = *a.Value
		} else {
			m[a.Name] = ""
		}
	}
	return m
}

// dropEmpty removes attributes set to "" (an empty value means "not set").
func dropEmpty(m map[string]string) {
	maps.DeleteFunc(m, func(_, v string) bool { return v == "" })
}

// newUser runs the common part of SignUp and AdminCreateUser: name, attributes, existence check
// and PreSignUp. It returns the user, not yet inserted.
func (p *Pool) newUser(c call, source, clientID, username string, list, validation []attribute, clientMeta map[string]string, who attrWriter) (*user, error) {
	attrs, err := p.readAttrs(list, who)
	if err != nil {
		return nil, err
	}
	dropEmpty(attrs)
	name, err := p.newUserName(username, attrs)
	if err != nil {
		return nil, err
	}
	p.mu.RLock()
	err = p.existsLocked(name, attrs)
	p.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	resp, err := p.preSignUp(c, source, name, clientID, maps.Clone(attrs), attrMap(validation), clientMeta)
	if err != nil {
		return nil, err
	}
	if resp.AutoVerifyEmail && attrs["email"] != "" {
		attrs["email_verified"] = "true"
	}
	if resp.AutoVerifyPhone && attrs["phone_number"] != "" {
		attrs["phone_number_verified"] = "true"
	}
	markUnverified(attrs)
	attrs["sub"] = newUUID()
	if len(p.cfg.Aliases) > 0 {
		// With email/phone as user name attributes, Cognito's generated user name is the sub.
		attrs["sub"] = name
	}
	now := p.now()
	u := &user{name: name, attrs: attrs, enabled: true, created: now, modified: now, status: StatusUnconfirmed}
	if resp.AutoConfirmUser && source == SourcePreSignUp {
		u.status = StatusConfirmed
	}
	return u, nil
}

func (p *Pool) signUp(c call, in *signUpIn) (any, error) {
	if err := p.checkClient(in.ClientId); err != nil {
		return nil, err
	}
	pw := ""
	if in.Password != nil {
		pw = *in.Password
	}
	if err := checkPassword(pw); err != nil {
		return nil, err
	}
	u, err := p.newUser(c, SourcePreSignUp, p.cfg.ClientID, in.Username, in.UserAttributes, in.ValidationData, in.ClientMetadata, byClient)
	if err != nil {
		return nil, err
	}
	if err := p.insert(u); err != nil {
		return nil, err
	}
	return &signUpOut{UserConfirmed: u.status == StatusConfirmed, UserSub: u.attrs["sub"]}, nil
}

func (p *Pool) checkPool(id string) error {
	if id == "" {
		return apiErr(errInvalidParameter, "Missing required parameter UserPoolId")
	}
	if id != p.cfg.PoolID {
		return apiErr(errResourceNotFound, "User pool %s does not exist.", id)
	}
	return nil
}

type adminUserIn struct {
	UserPoolId string
	Username   string
}

// adminUser checks the pool and finds the user (a copy).
func (p *Pool) adminUser(in adminUserIn) (*user, error) {
	if err := p.checkPool(in.UserPoolId); err != nil {
		return nil, err
	}
	if in.Username == "" {
		return nil, apiErr(errInvalidParameter, "Missing required parameter Username")
	}
	u := p.lookup(in.Username)
	if u == nil {
		return nil, apiErr(errUserNotFound, errUserDoesNotExist)
	}
	return u, nil
}

// update applies f to the stored user with u's sub, under the lock, keeping the alias index.
func (p *Pool) update(u *user, f func(stored *user) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	stored := p.users[strings.ToLower(u.name)]
	if stored == nil || stored.attrs["sub"] != u.attrs["sub"] {
		return apiErr(errUserNotFound, errUserDoesNotExist)
	}
	next := stored.clone()
	if err := f(next); err != nil {
		return err
	}
	next.modified = p.now()
	p.unindexLocked(stored)
	*stored = *next
	p.indexLocked(stored)
	return nil
}

type adminGetUserOut struct {
	Username             string      `json:"Username"`
	UserAttributes       []attribute `json:"UserAttributes"`
	UserCreateDate       float64     `json:"UserCreateDate"`
	UserLastModifiedDate float64     `json:"UserLastModifiedDate"`
	Enabled              bool        `json:"Enabled"`
	UserStatus           string      `json:"UserStatus"`
}

func (p *Pool) adminGetUser(_ call, in *adminUserIn) (any, error) {
	u, err := p.adminUser(*in)
	if err != nil {
		return nil, err
	}
	o := toUserOut(u, nil)
	return &adminGetUserOut{o.Username, o.Attributes, o.UserCreateDate, o.UserLastModifiedDate, o.Enabled, o.UserStatus}, nil
}

type adminCreateUserIn struct {
	UserPoolId             string
	Username               string
	UserAttributes         []attribute
	ValidationData         []attribute
	TemporaryPassword      *string
	MessageAction          string
	DesiredDeliveryMediums []string
	ForceAliasCreation     bool
	ClientMetadata         map[string]string
}

// adminCreateUser creates a user in FORCE_CHANGE_PASSWORD, as Cognito always does (autoConfirmUser
// of PreSignUp does not apply to it; autoVerifyEmail/Phone do). No invitation is sent, whatever
// MessageAction says; RESEND only checks that the user exists and still waits for a new password.
func (p *Pool) adminCreateUser(c call, in *adminCreateUserIn) (any, error) {
	if err := p.checkPool(in.UserPoolId); err != nil {
		return nil, err
	}
	switch in.MessageAction {
	case "", "SUPPRESS":
	case "RESEND":
		u := p.lookup(in.Username)
		if u == nil {
			return nil, apiErr(errUserNotFound, errUserDoesNotExist)
		}
		if u.status != StatusForceChangePassword {
			return nil, apiErr(errUnsupportedUserState, "Resend not possible. %s status is %s.", u.name, u.status)
		}
		return map[string]any{"User": toUserOut(u, nil)}, nil
	default:
		return nil, apiErr(errInvalidParameter, "Invalid MessageAction %q", in.MessageAction)
	}
	if in.TemporaryPassword != nil {
		if err := checkPassword(*in.TemporaryPassword); err != nil {
			return nil, err
		}
	}
	if len(p.cfg.Aliases) == 0 {
		p.mu.RLock()
		taken := p.users[strings.ToLower(in.Username)] != nil
		p.mu.RUnlock()
		if taken {
			return nil, apiErr(errUsernameExists, "User account already exists")
		}
	}
	u, err := p.newUser(c, SourcePreSignUpAdminUser, clientNotApplicable, in.Username, in.UserAttributes, in.ValidationData, in.ClientMetadata, byAdmin)
	if err != nil {
		return nil, err
	}
	u.status = StatusForceChangePassword
	if err := p.insert(u); err != nil {
		return nil, err
	}
	return map[string]any{"User": toUserOut(u, nil)}, nil
}

func (p *Pool) adminDeleteUser(_ call, in *adminUserIn) (any, error) {
	u, err := p.adminUser(*in)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	stored := p.users[strings.ToLower(u.name)]
	if stored == nil {
		return nil, apiErr(errUserNotFound, errUserDoesNotExist)
	}
	p.unindexLocked(stored)
	delete(p.users, strings.ToLower(u.name))
	p.revokeUserLocked(stored.attrs["sub"])
	return struct{}{}, nil
}

type adminUpdateIn struct {
	UserPoolId     string
	Username       string
	UserAttributes []attribute
	ClientMetadata map[string]string
}

// adminUpdateUserAttributes sets attributes; an empty value removes one. A changed email address
// or phone number becomes unverified unless the same call sets *_verified.
func (p *Pool) adminUpdateUserAttributes(_ call, in *adminUpdateIn) (any, error) {
	u, err := p.adminUser(adminUserIn{in.UserPoolId, in.Username})
	if err != nil {
		return nil, err
	}
	return struct{}{}, p.updateAttrs(u, in.UserAttributes, byAdmin)
}

// updateAttrs reads list (required) as w may write it and applies it to u.
func (p *Pool) updateAttrs(u *user, list []attribute, w attrWriter) error {
	if list == nil {
		return apiErr(errInvalidParameter, "Missing required parameter UserAttributes")
	}
	set, err := p.readAttrs(list, w)
	if err != nil {
		return err
	}
	return p.update(u, func(n *user) error { return p.applyAttributes(n, set) })
}

// applyAttributes applies an attribute update to n (under p.mu, from update): an empty value
// removes an attribute; a changed email address or phone number becomes unverified unless the
// same update sets its *_verified flag. In an alias pool the user keeps an address to sign in
// with, and an address another user holds, confirmed or not, is refused with
// AliasExistsException: with email or phone number as username attributes an address belongs to
// one user whatever its verified state (doc.go).
func (p *Pool) applyAttributes(n *user, set map[string]string) error {
	for _, a := range []string{"email", "phone_number"} {
		if v, ok := set[a]; ok && v != n.attrs[a] {
			if _, given := set[a+"_verified"]; !given {
				set[a+"_verified"] = "false"
			}
		}
	}
	for k, v := range set {
		if v == "" {
			delete(n.attrs, k)
		} else {
			n.attrs[k] = v
		}
	}
	for _, a := range []string{"email", "phone_number"} {
		if n.attrs[a] == "" {
			delete(n.attrs, a+"_verified")
		}
	}
	if len(p.cfg.Aliases) > 0 && len(p.aliasKeys(n.attrs)) == 0 {
		return apiErr(errInvalidParameter, "A user must keep an attribute they sign in with.")
	}
	return p.aliasConflictLocked(n.attrs, p.users[strings.ToLower(n.name)], errAliasExists, true)
}

type adminSetPasswordIn struct {
	UserPoolId string
	Username   string
	Password   string
	Permanent  bool
}

// adminSetUserPassword checks the password against the policy and sets the status: CONFIRMED when
// permanent, else FORCE_CHANGE_PASSWORD. The password itself is not kept (no password flow).
func (p *Pool) adminSetUserPassword(_ call, in *adminSetPasswordIn) (any, error) {
	u, err := p.adminUser(adminUserIn{in.UserPoolId, in.Username})
	if err != nil {
		return nil, err
	}
	if err := checkPassword(in.Password); err != nil {
		return nil, err
	}
	return struct{}{}, p.update(u, func(n *user) error {
		if in.Permanent {
			n.status = StatusConfirmed
			return p.aliasConflictLocked(n.attrs, p.users[strings.ToLower(n.name)], errAliasExists, false)
		}
		n.status = StatusForceChangePassword
		return nil
	})
}

func (p *Pool) adminConfirmSignUp(_ call, in *adminUserIn) (any, error) {
	return p.adminUpdate(*in, func(n *user) error {
		if n.status != StatusUnconfirmed {
			return apiErr(errNotAuthorized, "User cannot be confirmed. Current status is %s", n.status)
		}
		n.status = StatusConfirmed
		return p.aliasConflictLocked(n.attrs, p.users[strings.ToLower(n.name)], errAliasExists, false)
	})
}

// adminUpdate applies change to the user in (as update does) and returns the empty answer.
func (p *Pool) adminUpdate(in adminUserIn, change func(n *user) error) (any, error) {
	u, err := p.adminUser(in)
	if err != nil {
		return nil, err
	}
	return struct{}{}, p.update(u, change)
}

// adminDisableUser deactivates the user and revokes their tokens, as Cognito does.
func (p *Pool) adminDisableUser(_ call, in *adminUserIn) (any, error) {
	return p.adminUpdate(*in, func(n *user) error {
		n.enabled = false
		p.revokeUserLocked(n.attrs["sub"])
		return nil
	})
}

func (p *Pool) adminEnableUser(_ call, in *adminUserIn) (any, error) {
	return p.adminUpdate(*in, func(n *user) error {
		n.enabled = true
		return nil
	})
}

func (p *Pool) adminUserGlobalSignOut(_ call, in *adminUserIn) (any, error) {
	u, err := p.adminUser(*in)
	if err != nil {
		return nil, err
	}
	return p.signOut(u)
}

type accessTokenIn struct {
	AccessToken string
}

type getUserOut struct {
	Username       string      `json:"Username"`
	UserAttributes []attribute `json:"UserAttributes"`
}

func (p *Pool) getUser(_ call, in *accessTokenIn) (any, error) {
	_, u, err := p.verifyAccessToken(in.AccessToken)
	if err != nil {
		return nil, err
	}
	return &getUserOut{Username: u.name, UserAttributes: attrList(p.readable(u.attrs), nil)}, nil
}

type updateUserAttributesIn struct {
	AccessToken    string
	UserAttributes []attribute
	ClientMetadata map[string]string
}

// updateUserAttributes is the user's own attribute update, authorized by an access token: only
// the app client's WriteAttributes (never a *_verified flag). A changed email address or phone
// number is stored unverified; in an alias pool it must not be held by another user
// (AliasExistsException). Cognito would also send a verification code to a changed address;
// this pool sends nothing (see doc.go).
func (p *Pool) updateUserAttributes(_ call, in *updateUserAttributesIn) (any, error) {
	_, u, err := p.verifyAccessToken(in.AccessToken)
	if err != nil {
		return nil, err
	}
	if err := p.updateAttrs(u, in.UserAttributes, byClient); err != nil {
		return nil, err
	}
	return map[string]any{"CodeDeliveryDetailsList": []any{}}, nil
}

// globalSignOut revokes every refresh and access token of the caller.
func (p *Pool) globalSignOut(_ call, in *accessTokenIn) (any, error) {
	_, u, err := p.verifyAccessToken(in.AccessToken)
	if err != nil {
		return nil, err
	}
	return p.signOut(u)
}

// signOut revokes every sign-in of u and returns the empty answer of (Admin)GlobalSignOut.
func (p *Pool) signOut(u *user) (any, error) {
	p.mu.Lock()
	p.revokeUserLocked(u.attrs["sub"])
	p.mu.Unlock()
	return struct{}{}, nil
}

type revokeIn struct {
	Token    string
	ClientId string
}

// revokeToken revokes a refresh token and the access and ID tokens issued with it.
func (p *Pool) revokeToken(_ call, in *revokeIn) (any, error) {
	if err := p.checkClient(in.ClientId); err != nil {
		return nil, err
	}
	var rt refreshToken
	if in.Token == "" || p.open(labelRefresh, in.Token, &rt) != nil {
		return nil, apiErr(errUnsupportedTokenType, "The token provided is not a refresh token of this client.")
	}
	p.mu.Lock()
	p.revoked[rt.OriginJTI] = true
	p.mu.Unlock()
	return struct{}{}, nil
}

type listUsersIn struct {
	UserPoolId      string
	AttributesToGet []string
	Limit           *int
	PaginationToken string
	Filter          string
}

type listUsersOut struct {
	Users           []userOut `json:"Users"`
	PaginationToken string    `json:"PaginationToken,omitempty"`
}

var filterPattern = regexp.MustCompile(`^\s*([\w:]+)\s*(=|\^=)\s*"((?:[^"\\]|\\.)*)"\s*$`)

// Attributes ListUsers can filter on, and how to read them from a user.
var filterAttrs = map[string]func(*user) string{
	"username":            func(u *user) string { return u.name },
	"cognito:user_status": func(u *user) string { return u.status },
	"status": func(u *user) string {
		if u.enabled {
			return "Enabled"
		}
		return "Disabled"
	},
}

func init() {
	for _, a := range []string{"email", "phone_number", "name", "given_name", "family_name", "preferred_username", "sub"} {
		filterAttrs[a] = func(u *user) string { return u.attrs[a] }
	}
}

// listUsers lists users in creation order, with Cognito's Filter syntax (attr = "v", attr ^= "v")
// and pagination (Limit at most 60).
func (p *Pool) listUsers(_ call, in *listUsersIn) (any, error) {
	if err := p.checkPool(in.UserPoolId); err != nil {
		return nil, err
	}
	limit := 60
	if in.Limit != nil {
		if *in.Limit < 0 || *in.Limit > 60 {
			return nil, apiErr(errInvalidParameter, "Limit must be between 0 and 60")
		}
		if *in.Limit > 0 {
			limit = *in.Limit
		}
	}
	match := func(*user) bool { return true }
	if strings.TrimSpace(in.Filter) != "" {
		m := filterPattern.FindStringSubmatch(in.Filter)
		if m == nil || filterAttrs[m[1]] == nil {
			return nil, apiErr(errInvalidParameter, "Invalid search attribute or filter: %s", in.Filter)
		}
		get, prefix := filterAttrs[m[1]], m[2] == "^="
		want := strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(m[3])
		fold := m[1] == "email" || m[1] == "username"
		if fold {
			want = strings.ToLower(want)
		}
		match = func(u *user) bool {
			v := get(u)
			if fold {
				v = strings.ToLower(v)
			}
			if prefix {
				return strings.HasPrefix(v, want)
			}
			return v == want
		}
	}
	var only map[string]bool
	if in.AttributesToGet != nil {
		only = map[string]bool{}
		for _, a := range in.AttributesToGet {
			only[a] = true
		}
	}
	start := 0
	if in.PaginationToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.PaginationToken)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 {
			return nil, apiErr(errInvalidParameter, "Invalid PaginationToken")
		}
		start = n
	}
	p.mu.RLock()
	var all []*user
	for _, u := range p.users {
		if match(u) {
			all = append(all, u.clone())
		}
	}
	p.mu.RUnlock()
	slices.SortFunc(all, func(a, b *user) int { return cmp.Compare(a.seq, b.seq) })
	out := &listUsersOut{Users: []userOut{}}
	for i := start; i < len(all) && len(out.Users) < limit; i++ {
		out.Users = append(out.Users, toUserOut(all[i], only))
	}
	if next := start + len(out.Users); next < len(all) {
		out.PaginationToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(next)))
	}
	return out, nil
}
