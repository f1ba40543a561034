package idp

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// ChallengeCustom is the only challenge this pool presents.
const ChallengeCustom = "CUSTOM_CHALLENGE"

// Trigger sources of the custom-auth and sign-up events.
const (
	SourceDefine             = "DefineAuthChallenge_Authentication"
	SourceCreate             = "CreateAuthChallenge_Authentication"
	SourceVerify             = "VerifyAuthChallengeResponse_Authentication"
	SourcePreSignUp          = "PreSignUp_SignUp"
	SourcePreSignUpAdminUser = "PreSignUp_AdminCreateUser"
)

// clientNotApplicable is callerContext.clientId of events caused by admin API calls.
const clientNotApplicable = "CLIENT_ID_NOT_APPLICABLE"

type initiateAuthIn struct {
	AuthFlow       string
	ClientId       string
	AuthParameters map[string]string
	ClientMetadata map[string]string
}

type respondIn struct {
	ClientId           string
	ChallengeName      string
	Session            string
	ChallengeResponses map[string]string
	ClientMetadata     map[string]string
}

type authOut struct {
	ChallengeName        string            `json:"ChallengeName,omitempty"`
	Session              string            `json:"Session,omitempty"`
	ChallengeParameters  map[string]string `json:"ChallengeParameters"`
	AuthenticationResult *authResult       `json:"AuthenticationResult,omitempty"`
}

// session is the sealed state of a sign-in between two API calls. The client only ever sees it
// encrypted.
type session struct {
	ID       string                                         `json:"i"`           // random; each session string is accepted once
	User     string                                         `json:"u"`           // userName of the trigger events
	Sub      string                                         `json:"s,omitempty"` // the user's sub (empty for an unknown user)
	NotFound bool                                           `json:"n,omitempty"`
	Shown    string                                         `json:"p"` // ChallengeParameters.USERNAME
	Typed    string                                         `json:"t"` // the USERNAME of InitiateAuth
	History  []*events.CognitoEventUserPoolsChallengeResult `json:"h"`
	Name     string                                         `json:"c"` // the current challenge
	Private  map[string]string                              `json:"pp,omitempty"`
	Metadata string                                         `json:"m,omitempty"`
	Expires  int64                                          `json:"x"` // Unix nanoseconds
}

func (p *Pool) checkClient(id string) error {
	if id == "" {
		return apiErr(errInvalidParameter, "Missing required parameter ClientId")
	}
	if id != p.cfg.ClientID {
		return apiErr(errResourceNotFound, "User pool client %s does not exist.", id)
	}
	return nil
}

func (p *Pool) initiateAuth(c call, in *initiateAuthIn) (any, error) {
	if err := p.checkClient(in.ClientId); err != nil {
		return nil, err
	}
	switch in.AuthFlow {
	case "CUSTOM_AUTH":
		return p.startCustomAuth(c, in)
	case "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN":
		return p.refresh(in)
	case "USER_SRP_AUTH", "USER_PASSWORD_AUTH", "USER_AUTH":
		return nil, apiErr(errInvalidParameter, "%s flow not enabled for this client", in.AuthFlow)
	case "ADMIN_NO_SRP_AUTH", "ADMIN_USER_PASSWORD_AUTH":
		return nil, apiErr(errInvalidParameter, "Initiate Auth method not supported.")
	case "":
		return nil, apiErr(errInvalidParameter, "Missing required parameter AuthFlow")
	default:
		return nil, apiErr(errInvalidParameter, "1 validation error detected: Value '%s' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set", in.AuthFlow)
	}
}

func (p *Pool) customAuthConfigured() bool {
	t := p.cfg.Triggers
	return t.DefineAuthChallenge != "" && t.CreateAuthChallenge != "" && t.VerifyAuthChallengeResponse != ""
}

func (p *Pool) startCustomAuth(c call, in *initiateAuthIn) (any, error) {
	if !p.customAuthConfigured() {
		return nil, apiErr(errInvalidParameter, errCustomAuthNotConfigured)
	}
	name := in.AuthParameters["USERNAME"]
	if name == "" {
		return nil, apiErr(errInvalidParameter, "Missing required parameter USERNAME")
	}
	s := &session{Typed: name, History: []*events.CognitoEventUserPoolsChallengeResult{}}
	u := p.lookup(name)
	switch {
	case u == nil && !*p.cfg.PreventUserExistenceErrors:
		return nil, apiErr(errUserNotFound, errUserDoesNotExist)
	case u == nil:
		// Cognito runs the triggers for the unknown name and fails at the end.
		s.User, s.NotFound, s.Shown = name, true, p.fakeUserName(name)
	case u.status == StatusUnconfirmed:
		return nil, apiErr(errUserNotConfirmed, "User is not confirmed.")
	case !u.enabled:
		return nil, apiErr(errNotAuthorized, errUserDisabled)
	default:
		s.User, s.Sub, s.Shown = u.name, u.attrs["sub"], u.name
	}
	// ClientMetadata of InitiateAuth is not passed to Define, Create or Verify.
	return p.advance(c, s, u, nil)
}

// fakeUserName is what ChallengeParameters.USERNAME shows for an unknown user: in an alias pool
// a version-3 (name-based) UUID derived from the name, stable per name, as in the one public
// report of Cognito's answer (aws/aws-sdk-go issue 3134; a real user's name there is its sub, a
// version-4 UUID, so the version digit tells them apart); else the name as given. The 122 free
// bits are an HMAC under a per-pool key (Cognito's namespace and input are unknown).
func (p *Pool) fakeUserName(name string) string {
	if len(p.cfg.Aliases) == 0 {
		return name
	}
	m := hmac.New(sha256.New, p.fakeKey)
	m.Write([]byte(strings.ToLower(name)))
	b := m.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x30 // version 3
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// triggerAttrs are the userAttributes of the custom-auth events.
func (p *Pool) triggerAttrs(u *user) map[string]string {
	if u == nil {
		return map[string]string{}
	}
	a := maps.Clone(u.attrs)
	a["cognito:user_status"] = u.status
	if p.cfg.hasAlias(AliasEmail) && a["email"] != "" && a["email_verified"] == "true" {
		a["cognito:email_alias"] = a["email"]
	}
	if p.cfg.hasAlias(AliasPhone) && a["phone_number"] != "" && a["phone_number_verified"] == "true" {
		a["cognito:phone_number_alias"] = a["phone_number"]
	}
	return a
}

// advance asks Define what comes next and carries it out: tokens, failure or a new challenge.
func (p *Pool) advance(c call, s *session, u *user, clientMeta map[string]string) (any, error) {
	attrs := p.triggerAttrs(u)
	def := events.CognitoEventUserPoolsDefineAuthChallenge{
		CognitoEventUserPoolsHeader: p.header(SourceDefine, s.User, p.cfg.ClientID, c.sdkVersion),
		Request: events.CognitoEventUserPoolsDefineAuthChallengeRequest{
			UserAttributes: attrs,
			Session:        s.History,
			ClientMetadata: clientMeta,
			UserNotFound:   s.NotFound,
		},
	}
	var defOut events.CognitoEventUserPoolsDefineAuthChallenge
	if err := p.invoke(c, TriggerDefine, p.cfg.Triggers.DefineAuthChallenge, def, &defOut); err != nil {
		return nil, err
	}
	r := defOut.Response
	switch {
	case r.FailAuthentication:
		return nil, p.signInFailed(s, "define failed the sign-in")
	case r.IssueTokens && r.ChallengeName == "":
		if s.NotFound || u == nil {
			return nil, p.signInFailed(s, "tokens for an unknown user")
		}
		res, err := p.issue(u, nil)
		if err != nil {
			return nil, err
		}
		return &authOut{ChallengeParameters: map[string]string{}, AuthenticationResult: res}, nil
	case !r.IssueTokens && r.ChallengeName == ChallengeCustom:
	default:
		p.cfg.Log.Warn("idp: inconsistent define response", "issueTokens", r.IssueTokens, "challengeName", r.ChallengeName)
		return nil, apiErr(errInvalidLambdaResponse, "Unrecognizable lambda output")
	}

	create := events.CognitoEventUserPoolsCreateAuthChallenge{
		CognitoEventUserPoolsHeader: p.header(SourceCreate, s.User, p.cfg.ClientID, c.sdkVersion),
		Request: events.CognitoEventUserPoolsCreateAuthChallengeRequest{
			UserAttributes: attrs,
			ChallengeName:  ChallengeCustom,
			Session:        s.History,
			ClientMetadata: clientMeta,
			UserNotFound:   s.NotFound,
		},
	}
	var createOut events.CognitoEventUserPoolsCreateAuthChallenge
	if err := p.invoke(c, TriggerCreate, p.cfg.Triggers.CreateAuthChallenge, create, &createOut); err != nil {
		return nil, err
	}
	s.ID = newUUID()
	s.Name = ChallengeCustom
	s.Private = createOut.Response.PrivateChallengeParameters
	s.Metadata = createOut.Response.ChallengeMetadata
	s.Expires = p.now().Add(p.cfg.AuthSessionValidity).UnixNano()
	sealed, err := p.seal(labelSession, s)
	if err != nil {
		return nil, err
	}
	params := maps.Clone(createOut.Response.PublicChallengeParameters)
	if params == nil {
		params = map[string]string{}
	}
	params["USERNAME"] = s.Shown
	return &authOut{ChallengeName: ChallengeCustom, Session: sealed, ChallengeParameters: params}, nil
}

func (p *Pool) signInFailed(s *session, why string) error {
	p.cfg.Log.Info("idp: sign-in failed", "why", why, "rounds", len(s.History), "userNotFound", s.NotFound)
	return apiErr(errNotAuthorized, errIncorrectCredentials)
}

func (p *Pool) respondToAuthChallenge(c call, in *respondIn) (any, error) {
	if err := p.checkClient(in.ClientId); err != nil {
		return nil, err
	}
	if in.ChallengeName == "" {
		return nil, apiErr(errInvalidParameter, "Missing required parameter ChallengeName")
	}
	if !p.customAuthConfigured() {
		return nil, apiErr(errInvalidParameter, errCustomAuthNotConfigured)
	}
	var s session
	if in.Session == "" || p.open(labelSession, in.Session, &s) != nil || s.ID == "" {
		return nil, apiErr(errNotAuthorized, errInvalidSession)
	}
	now := p.now()
	if now.UnixNano() >= s.Expires {
		return nil, apiErr(errNotAuthorized, errExpiredSession)
	}
	if in.ChallengeName != s.Name {
		return nil, apiErr(errInvalidParameter, "Invalid challenge name %s for this session.", in.ChallengeName)
	}
	given := in.ChallengeResponses["USERNAME"]
	if given == "" {
		return nil, apiErr(errInvalidParameter, "Missing required parameter USERNAME")
	}
	answer, ok := in.ChallengeResponses["ANSWER"]
	if !ok {
		return nil, apiErr(errInvalidParameter, "Missing required parameter ANSWER")
	}
	var u *user
	if !s.NotFound {
		u = p.lookup(s.User)
	}
	if !p.sameUser(&s, u, given) {
		return nil, apiErr(errNotAuthorized, errInvalidSession)
	}
	if !p.useSession(s.ID, time.Unix(0, s.Expires)) {
		return nil, apiErr(errNotAuthorized, errInvalidSession)
	}
	if !s.NotFound {
		switch {
		case u == nil || u.attrs["sub"] != s.Sub:
			return nil, p.signInFailed(&s, "user deleted during sign-in")
		case !u.enabled:
			return nil, apiErr(errNotAuthorized, errUserDisabled)
		}
	}
	private := s.Private
	if private == nil {
		private = map[string]string{}
	}
	ver := events.CognitoEventUserPoolsVerifyAuthChallenge{
		CognitoEventUserPoolsHeader: p.header(SourceVerify, s.User, p.cfg.ClientID, c.sdkVersion),
		Request: events.CognitoEventUserPoolsVerifyAuthChallengeRequest{
			UserAttributes:             p.triggerAttrs(u),
			PrivateChallengeParameters: private,
			ChallengeAnswer:            answer,
			ClientMetadata:             in.ClientMetadata,
			UserNotFound:               s.NotFound,
		},
	}
	var verOut events.CognitoEventUserPoolsVerifyAuthChallenge
	if err := p.invoke(c, TriggerVerify, p.cfg.Triggers.VerifyAuthChallengeResponse, ver, &verOut); err != nil {
		return nil, err
	}
	s.History = append(s.History, &events.CognitoEventUserPoolsChallengeResult{
		ChallengeName:     s.Name,
		ChallengeResult:   verOut.Response.AnswerCorrect,
		ChallengeMetadata: s.Metadata,
	})
	s.Private, s.Metadata, s.Name = nil, "", ""
	if u != nil {
		// Verify may have changed the user (e.g. marked the email address verified).
		if fresh := p.lookup(u.name); fresh != nil && fresh.attrs["sub"] == u.attrs["sub"] {
			u = fresh
		}
	}
	return p.advance(c, &s, u, in.ClientMetadata)
}

// sameUser reports whether the USERNAME of a RespondToAuthChallenge names the session's user:
// its user name, the name it signed in with, or (for a real user) any alias of it.
func (p *Pool) sameUser(s *session, u *user, given string) bool {
	if strings.EqualFold(given, s.Shown) || strings.EqualFold(given, s.Typed) {
		return true
	}
	if s.NotFound || u == nil {
		return false
	}
	other := p.lookup(given)
	return other != nil && other.attrs["sub"] == s.Sub
}

// useSession records a session ID as used; it reports false if it was used before.
func (p *Pool) useSession(id string, expires time.Time) bool {
	p.usedMu.Lock()
	defer p.usedMu.Unlock()
	now := p.now()
	if now.Sub(p.lastPurg) > time.Minute || now.Before(p.lastPurg) {
		for k, exp := range p.used {
			if now.After(exp) {
				delete(p.used, k)
			}
		}
		p.lastPurg = now
	}
	if _, seen := p.used[id]; seen {
		return false
	}
	p.used[id] = expires
	return true
}

// getTokensFromRefreshTokenIn is GetTokensFromRefreshToken's request. ClientSecret is refused
// (the app client has none); ClientMetadata would go to a pre-token-generation trigger, which this
// pool does not have.
type getTokensFromRefreshTokenIn struct {
	RefreshToken   string
	ClientId       string
	ClientSecret   string
	ClientMetadata map[string]string
}

type getTokensOut struct {
	AuthenticationResult *authResult
}

// getTokensFromRefreshToken is the newer refresh operation (Amplify JS v6 calls it): the same
// checks and tokens as InitiateAuth REFRESH_TOKEN_AUTH. Without refresh-token rotation (the
// construct's client does not enable it) Cognito returns no new refresh token, and neither does
// this; see https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_GetTokensFromRefreshToken.html.
func (p *Pool) getTokensFromRefreshToken(c call, in *getTokensFromRefreshTokenIn) (any, error) {
	if err := p.checkClient(in.ClientId); err != nil {
		return nil, err
	}
	if in.ClientSecret != "" {
		return nil, apiErr(errNotAuthorized, "Client %s has no client secret", in.ClientId)
	}
	if in.RefreshToken == "" {
		return nil, apiErr(errInvalidParameter, "Missing required parameter RefreshToken")
	}
	rt, u, err := p.openRefreshToken(in.RefreshToken)
	if err != nil {
		return nil, err
	}
	res, err := p.issue(u, rt)
	if err != nil {
		return nil, err
	}
	return &getTokensOut{AuthenticationResult: res}, nil
}

func (p *Pool) refresh(in *initiateAuthIn) (any, error) {
	tok := in.AuthParameters["REFRESH_TOKEN"]
	if tok == "" {
		return nil, apiErr(errInvalidParameter, "Missing required parameter REFRESH_TOKEN")
	}
	rt, u, err := p.openRefreshToken(tok)
	if err != nil {
		return nil, err
	}
	res, err := p.issue(u, rt)
	if err != nil {
		return nil, err
	}
	return &authOut{ChallengeParameters: map[string]string{}, AuthenticationResult: res}, nil
}
