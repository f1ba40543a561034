package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/google/uuid"
	"github.com/passwordless-go/cognito/lambdas/audit"
	"github.com/passwordless-go/cognito/lambdas/metrics"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/passkey"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// Route keys of the passkey routes. All but RouteAuthenticationOptions need an access token of
// this client; RouteAuthenticationOptions is public (the construct must give it no authorizer and
// throttle it: every call writes one short-lived item).
const (
	RouteRegistrationOptions   = "POST /passkeys/registration/options"
	RouteRegisterPasskey       = "POST /passkeys/registration"
	RouteListPasskeys          = "GET /passkeys"
	RouteRenamePasskey         = "PATCH /passkeys/{id}"
	RouteDeletePasskey         = "DELETE /passkeys/{id}"
	RouteAuthenticationOptions = "POST /passkeys/authentication/options"
)

// Error codes of the passkey routes (see also api.go and devicekeys.go).
const (
	CodeBadCredential = "bad_credential" // the credential does not parse or does not verify
	CodeBadChallenge  = "bad_challenge"  // its challenge is unknown, used, expired or someone else's
	CodePasskeyLimit  = "passkey_limit"
	CodePasskeyExists = "passkey_exists"
)

// Limits of the passkey routes.
const (
	// MaxPasskeyBody caps passkey request bodies (after base64 decoding).
	MaxPasskeyBody = 20 << 10
	// DefaultPasskeyName names a passkey registered without a name.
	DefaultPasskeyName = "Passkey"
)

// PasskeyStore is the part of *store.Store the passkey routes use.
type PasskeyStore interface {
	PutPasskey(ctx context.Context, p store.Passkey, maxPerUser int) error
	ListPasskeys(ctx context.Context, owner string) ([]store.Passkey, error)
	RenamePasskey(ctx context.Context, owner string, credentialID []byte, name string) (store.Passkey, error)
	DeletePasskey(ctx context.Context, owner string, credentialID []byte) error
	PutPasskeyChallenge(ctx context.Context, c store.PasskeyChallenge) error
	ConsumePasskeyChallenge(ctx context.Context, c store.PasskeyChallenge) (store.PasskeyChallenge, error)
}

var _ PasskeyStore = (*store.Store)(nil)

// PasskeyConfig configures the passkey routes.
type PasskeyConfig struct {
	RP         *passkey.RP      // required: policy, origins, timeout, cap per user
	MaxAuthAge time.Duration    // how recent the caller's sign-in must be to register; default 5 minutes
	Now        func() time.Time // default time.Now
	Rand       io.Reader        // source of challenge IDs; default crypto/rand
}

// PasskeyConfigFromEnv builds the relying party from the PASSKEY_* variables (passkey.ConfigFromEnv)
// and takes MaxAuthAge from DEVICE_KEY_MAX_AUTH_AGE_SECONDS, the same sign-in freshness as device
// keys. Bad values are errors.
func PasskeyConfigFromEnv(getenv func(string) string) (PasskeyConfig, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg, err := passkey.ConfigFromEnv(getenv)
	if err != nil {
		return PasskeyConfig{}, err
	}
	rp, err := passkey.NewRP(cfg)
	if err != nil {
		return PasskeyConfig{}, err
	}
	dk, err := DeviceKeyConfigFromEnv(getenv)
	if err != nil {
		return PasskeyConfig{}, err
	}
	return PasskeyConfig{RP: rp, MaxAuthAge: dk.MaxAuthAge}, nil
}

// PublicRoute handles a route API Gateway serves without an authorizer.
type PublicRoute func(ctx context.Context, req events.APIGatewayV2HTTPRequest) Response

// PublicHandler is a Handler plus routes that need no token. Requests for a public route key are
// answered without authentication; every other request goes to the embedded Handler, which
// authenticates it as usual.
type PublicHandler struct {
	*Handler
	Public map[string]PublicRoute
}

// Handle answers one request.
func (p *PublicHandler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if route, ok := p.Public[req.RouteKey]; ok {
		out := route(ctx, req)
		if l := p.Log; l != nil {
			l.InfoContext(ctx, "api", "route", req.RouteKey, "status", out.Status, "public", true)
		}
		return respond(out), nil
	}
	return p.Handler.Handle(ctx, req)
}

// WithPasskeys adds the passkey routes, backed by s, to h and returns h wrapped in a
// PublicHandler carrying the public route; serve that one's Handle:
//
//	POST   /passkeys/registration/options    {} or {"userName"?, "displayName"?} -> 200 {"publicKey": {...}}
//	POST   /passkeys/registration            {"credential": <PublicKeyCredential JSON>, "name"?} -> 201
//	GET    /passkeys                         -> 200 {"passkeys": [...]}
//	PATCH  /passkeys/{id}                    {"name": "..."} -> 200
//	DELETE /passkeys/{id}                    -> 204
//	POST   /passkeys/authentication/options  (public) -> 200 {"publicKey": {...}, "challengeId": "..."}
//
// Authenticated routes act on the caller's own passkeys only (owner = the token's sub); the two
// registration routes need a sign-in at most MaxAuthAge old. {id} is the base64url credential ID.
func (h *Handler) WithPasskeys(s PasskeyStore, cfg PasskeyConfig) *PublicHandler {
	if cfg.RP == nil || s == nil {
		panic("api: WithPasskeys needs a store and a relying party")
	}
	h.prepareRoutes(&cfg.MaxAuthAge, &cfg.Now, &cfg.Rand)
	k := &passkeys{h: h, store: s, cfg: cfg}
	h.Routes[RouteRegistrationOptions] = k.registrationOptions
	h.Routes[RouteRegisterPasskey] = k.register
	h.Routes[RouteListPasskeys] = k.list
	h.Routes[RouteRenamePasskey] = k.rename
	h.Routes[RouteDeletePasskey] = k.remove
	return &PublicHandler{Handler: h, Public: map[string]PublicRoute{RouteAuthenticationOptions: k.authenticationOptions}}
}

type passkeys struct {
	h     *Handler
	store PasskeyStore
	cfg   PasskeyConfig
}

// PasskeyJSON is a passkey as the API shows it. The public key is not returned.
type PasskeyJSON struct {
	ID                string   `json:"id"` // base64url credential ID
	Name              string   `json:"name"`
	CreatedAt         string   `json:"createdAt"`
	LastUsedAt        *string  `json:"lastUsedAt"`     // null until first used
	AAGUID            string   `json:"aaguid"`         // authenticator model, UUID form (all zero when undisclosed)
	Transports        []string `json:"transports"`     // WebAuthn values only (store.KnownTransports)
	BackupEligible    bool     `json:"backupEligible"` // a synced (multi-device) passkey
	BackedUp          bool     `json:"backedUp"`
	UserVerified      bool     `json:"userVerified"`
	AttestationFormat string   `json:"attestationFormat"`
}

// PasskeyListJSON is the answer to GET /passkeys.
type PasskeyListJSON struct {
	Passkeys []PasskeyJSON `json:"passkeys"`
}

// AuthenticationOptionsJSON is the answer to the public POST /passkeys/authentication/options.
type AuthenticationOptionsJSON struct {
	PublicKey   protocol.PublicKeyCredentialRequestOptions `json:"publicKey"`
	ChallengeID string                                     `json:"challengeId"` // send back as ClientMetadata.challengeId
}

func passkeyJSON(p store.Passkey) PasskeyJSON {
	j := PasskeyJSON{
		ID:                store.EncodeCredentialID(p.CredentialID),
		Name:              p.Name,
		CreatedAt:         formatTime(p.CreatedAt),
		Transports:        store.Transports(p.Transports), // known values only, whatever is stored
		BackupEligible:    p.BackupEligible,
		BackedUp:          p.BackupState,
		UserVerified:      p.UserVerified,
		AttestationFormat: p.AttestationFormat,
	}
	if u, err := uuid.FromBytes(p.AAGUID); err == nil {
		j.AAGUID = u.String()
	} else {
		j.AAGUID = uuid.Nil.String()
	}
	j.LastUsedAt = formatOptionalTime(p.LastUsedAt)
	return j
}

func (k *passkeys) log() *slog.Logger {
	if k.h.Log != nil {
		return k.h.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (k *passkeys) internal(ctx context.Context, what string, err error) Response {
	return internalError(ctx, k.h.Log, "api: passkeys: "+what, err)
}

// registrationInput does what both registration routes do first: it requires a recent sign-in
// and a username usable as a user handle, and reads the body. A refusal is the answer to send.
func (k *passkeys) registrationInput(c Caller, req events.APIGatewayV2HTTPRequest) (handle, body []byte, refusal *Response) {
	if stale, ok := recentSignIn(c, k.cfg.Now(), k.cfg.MaxAuthAge, "registering a passkey"); !ok {
		return nil, nil, &stale
	}
	handle, err := passkey.UserHandle(c.Username)
	if err != nil {
		r := Error(http.StatusForbidden, CodeForbidden, "the token's username cannot be a passkey user handle (1-64 bytes)")
		return nil, nil, &r
	}
	body, rerr := readBody(req.Body, req.IsBase64Encoded, MaxPasskeyBody)
	if rerr != nil {
		r := rerr.response()
		return nil, nil, &r
	}
	return handle, body, nil
}

// stringMember reads fields[name], which must be a JSON string when present.
func stringMember(fields map[string]json.RawMessage, name string) (s string, present bool, rerr *requestError) {
	v, ok := fields[name]
	if !ok {
		return "", false, nil
	}
	if json.Unmarshal(v, &s) != nil {
		return "", true, badRequest(CodeBadJSON, "%s must be a string", name)
	}
	return s, true, nil
}

func (k *passkeys) registrationOptions(ctx context.Context, c Caller, req events.APIGatewayV2HTTPRequest) Response {
	handle, raw, refusal := k.registrationInput(c, req)
	if refusal != nil {
		return *refusal
	}
	var names struct{ userName, displayName string }
	if len(bytes.TrimSpace(raw)) > 0 {
		fields, err := decodeMembers(raw, map[string]bool{"userName": false, "displayName": false})
		if err != nil {
			return badBody(`empty or a JSON object {"userName"?: string, "displayName"?: string}`, err).response()
		}
		for name, dst := range map[string]*string{"userName": &names.userName, "displayName": &names.displayName} {
			s, ok, rerr := stringMember(fields, name)
			if rerr != nil {
				return rerr.response()
			}
			if !ok {
				continue
			}
			if *dst, err = checkDeviceName(s); err != nil {
				return badRequest(CodeBadName, "%s: %v", name, err).response()
			}
		}
	}
	existing, err := k.store.ListPasskeys(ctx, c.Sub)
	if err != nil {
		return k.internal(ctx, "store failed", err)
	}
	mine := existing[:0:0]
	for _, p := range existing {
		if p.Owner == c.Sub {
			mine = append(mine, p)
		}
	}
	rpCfg := k.cfg.RP.Config()
	if len(mine) >= rpCfg.MaxPerUser {
		return Error(http.StatusConflict, CodePasskeyLimit,
			fmt.Sprintf("you already have %d passkeys, the limit: delete one first", rpCfg.MaxPerUser))
	}
	creation, challenge, err := k.cfg.RP.BeginRegistration(passkey.Registration{
		UserHandle: handle, Name: names.userName, DisplayName: names.displayName, Existing: mine,
	})
	if err != nil {
		return k.internal(ctx, "begin registration failed", err)
	}
	err = k.store.PutPasskeyChallenge(ctx, store.PasskeyChallenge{
		Kind:       store.RegistrationChallenge,
		Owner:      c.Sub,
		Challenge:  challenge,
		UserHandle: handle,
		ExpiresAt:  k.cfg.Now().Add(rpCfg.Timeout),
	})
	if err != nil {
		return k.internal(ctx, "storing the challenge failed", err)
	}
	return Response{Status: http.StatusOK, Body: creation}
}

func (k *passkeys) register(ctx context.Context, c Caller, req events.APIGatewayV2HTTPRequest) Response {
	handle, raw, refusal := k.registrationInput(c, req)
	if refusal != nil {
		return *refusal
	}
	fields, err := decodeMembers(raw, map[string]bool{"credential": true, "name": false})
	if err != nil {
		return badBody(`a JSON object {"credential": object, "name"?: string}`, err).response()
	}
	name := DefaultPasskeyName
	s, ok, rerr := stringMember(fields, "name")
	if rerr != nil {
		return rerr.response()
	}
	if ok {
		if name, err = checkDeviceName(s); err != nil {
			return badRequest(CodeBadName, "%v", err).response()
		}
	}
	cred := fields["credential"]
	if len(cred) == 0 || cred[0] != '{' {
		return badRequest(CodeBadJSON, "credential must be the PublicKeyCredential JSON object").response()
	}
	parsed, err := passkey.DecodeAttestation(cred)
	if err != nil {
		return badRequest(CodeBadCredential, "credential: %s", trimPrefix(err.Error())).response()
	}
	challenge := parsed.Response.CollectedClientData.Challenge
	if _, ok := decodeID(challenge, 16, 64); !ok {
		return badRequest(CodeBadChallenge, "the credential's challenge was not issued by this server").response()
	}
	ch, err := k.store.ConsumePasskeyChallenge(ctx, store.PasskeyChallenge{Kind: store.RegistrationChallenge, Owner: c.Sub, Challenge: challenge})
	switch {
	case err == nil:
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalidArgument):
		return badRequest(CodeBadChallenge, "the credential's challenge is unknown, already used or expired: ask for new options").response()
	default:
		return k.internal(ctx, "store failed", err)
	}
	if !bytes.Equal(ch.UserHandle, handle) {
		return badRequest(CodeBadChallenge, "the challenge was issued for another user handle").response()
	}
	wc, err := k.cfg.RP.FinishRegistration(handle, ch.Challenge, parsed)
	if err != nil {
		k.log().InfoContext(ctx, "api: passkey registration refused", "reason", passkey.ErrorReason(err))
		return badRequest(CodeBadCredential, "the credential does not verify: %s", passkey.ErrorReason(err)).response()
	}
	// WebAuthn tells relying parties to ignore transports they do not know: they are dropped,
	// never stored or echoed.
	reported := make([]string, 0, len(wc.Transport))
	for _, t := range wc.Transport {
		reported = append(reported, string(t))
	}
	transports := store.Transports(reported)
	p := store.Passkey{
		Owner:             c.Sub,
		CredentialID:      wc.ID,
		UserHandle:        handle,
		PublicKey:         wc.PublicKey,
		SignCount:         wc.Authenticator.SignCount,
		UserVerified:      wc.Flags.UserVerified,
		BackupEligible:    wc.Flags.BackupEligible,
		BackupState:       wc.Flags.BackupState,
		AAGUID:            wc.Authenticator.AAGUID,
		Transports:        transports,
		AttestationType:   wc.AttestationType,
		AttestationFormat: wc.AttestationFormat,
		Name:              name,
		CreatedAt:         k.cfg.Now().UTC().Truncate(time.Millisecond),
	}
	if len(p.AAGUID) != 16 {
		p.AAGUID = nil
	}
	switch err := k.store.PutPasskey(ctx, p, k.cfg.RP.Config().MaxPerUser); {
	case err == nil:
	case errors.Is(err, store.ErrLimitReached):
		return Error(http.StatusConflict, CodePasskeyLimit,
			fmt.Sprintf("you already have %d passkeys, the limit: delete one first", k.cfg.RP.Config().MaxPerUser))
	case errors.Is(err, store.ErrExists):
		return Error(http.StatusConflict, CodePasskeyExists, "this passkey is already registered")
	case errors.Is(err, store.ErrInvalidArgument):
		return Error(http.StatusBadRequest, CodeBadCredential, "the passkey could not be stored as given")
	default:
		return k.internal(ctx, "store failed", err)
	}
	k.h.keyAdded(ctx, c, passkeyKind, p.Name)
	return Response{Status: http.StatusCreated, Body: passkeyJSON(p)}
}

func (k *passkeys) list(ctx context.Context, c Caller, _ events.APIGatewayV2HTTPRequest) Response {
	list, err := k.store.ListPasskeys(ctx, c.Sub)
	if err != nil {
		return k.internal(ctx, "store failed", err)
	}
	ownedPasskeyJSON := func(p store.Passkey) (string, PasskeyJSON) { return p.Owner, passkeyJSON(p) }
	return Response{Status: http.StatusOK, Body: PasskeyListJSON{Passkeys: ownedJSON(list, c.Sub, ownedPasskeyJSON)}}
}

var passkeyNotFound = Error(http.StatusNotFound, CodeNotFound, "no such passkey")

// passkeyKind is what adding or removing a passkey records.
var passkeyKind = keyKind{method: metrics.MethodPasskey, added: audit.PasskeyAdded, removed: audit.PasskeyRemoved,
	addedNotice: notify.PasskeyAdded, removedNotice: notify.PasskeyRemoved, notFound: passkeyNotFound}

func (k *passkeys) rename(ctx context.Context, c Caller, req events.APIGatewayV2HTTPRequest) Response {
	id, ok := credentialIDParam(req.PathParameters["id"])
	if !ok {
		return passkeyNotFound
	}
	raw, rerr := readBody(req.Body, req.IsBase64Encoded, MaxPasskeyBody)
	if rerr != nil {
		return rerr.response()
	}
	fields, err := decodeStringObject(raw, "name")
	if err != nil {
		return badBody(`a JSON object {"name": string}`, err).response()
	}
	name, err := checkDeviceName(fields["name"])
	if err != nil {
		return badRequest(CodeBadName, "%v", err).response()
	}
	p, err := k.store.RenamePasskey(ctx, c.Sub, id, name)
	switch {
	case err == nil:
		if p.Owner != c.Sub {
			return passkeyNotFound
		}
		return Response{Status: http.StatusOK, Body: passkeyJSON(p)}
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalidArgument):
		return passkeyNotFound
	default:
		return k.internal(ctx, "store failed", err)
	}
}

func (k *passkeys) remove(ctx context.Context, c Caller, req events.APIGatewayV2HTTPRequest) Response {
	id, ok := credentialIDParam(req.PathParameters["id"])
	if !ok {
		return passkeyNotFound
	}
	name := k.passkeyName(ctx, c.Sub, id)
	return k.h.keyRemoval(ctx, c, passkeyKind, name, k.store.DeletePasskey(ctx, c.Sub, id), k.internal)
}

// passkeyName is the name of owner's passkey id for the passkey_removed notification, read
// before the passkey goes when notifications of that kind are sent and the store can read one
// passkey (*store.Store can); "" otherwise or when it cannot be read.
func (k *passkeys) passkeyName(ctx context.Context, owner string, id []byte) string {
	g, ok := k.store.(interface {
		GetPasskey(ctx context.Context, owner string, credentialID []byte) (store.Passkey, error)
	})
	if !ok || !k.h.notifyEnabled(notify.PasskeyRemoved) {
		return ""
	}
	p, err := g.GetPasskey(ctx, owner, id)
	if err != nil || p.Owner != owner {
		return ""
	}
	return p.Name
}

// authenticationOptions is the public route of a usernameless sign-in: request options with a
// fresh challenge (stored for the timeout, usable once) and no allowCredentials.
func (k *passkeys) authenticationOptions(ctx context.Context, _ events.APIGatewayV2HTTPRequest) Response {
	b := make([]byte, passkey.ChallengeIDBytes)
	if _, err := io.ReadFull(k.cfg.Rand, b); err != nil {
		return k.internal(ctx, "random source failed", err)
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	opts, challenge, err := k.cfg.RP.DiscoverableOptions()
	if err != nil {
		return k.internal(ctx, "building options failed", err)
	}
	err = k.store.PutPasskeyChallenge(ctx, store.PasskeyChallenge{
		Kind:      store.AuthenticationChallenge,
		ID:        id,
		Challenge: challenge,
		ExpiresAt: k.cfg.Now().Add(k.cfg.RP.Config().Timeout),
	})
	if err != nil {
		return k.internal(ctx, "storing the challenge failed", err)
	}
	return Response{Status: http.StatusOK, Body: AuthenticationOptionsJSON{PublicKey: opts.Response, ChallengeID: id}}
}

// credentialIDParam decodes the {id} path parameter: unpadded base64url of 1 to
// store.MaxCredentialIDBytes bytes.
func credentialIDParam(s string) ([]byte, bool) { return decodeID(s, 1, store.MaxCredentialIDBytes) }

func trimPrefix(msg string) string {
	const p = "passkey: "
	if len(msg) >= len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}
