package passkey

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// RP is the relying party: a validated Config and the go-webauthn instance built from it. It is
// safe for concurrent use. Create one with NewRP.
type RP struct {
	cfg Config
	wa  *webauthn.WebAuthn
}

// NewRP validates cfg (after WithDefaults) and builds the relying party.
func NewRP(cfg Config) (*RP, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	residentKeyRequired := cfg.ResidentKey == string(protocol.ResidentKeyRequirementRequired)
	timeouts := webauthn.TimeoutConfig{Timeout: cfg.Timeout, TimeoutUVD: cfg.Timeout}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  cfg.RPID,
		RPDisplayName:         cfg.RPName,
		RPOrigins:             webOrigins(cfg),
		RPOpaqueOrigins:       appOrigins(cfg),
		AttestationPreference: protocol.ConveyancePreference(cfg.Attestation),
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			AuthenticatorAttachment: protocol.AuthenticatorAttachment(cfg.Attachment),
			RequireResidentKey:      &residentKeyRequired,
			ResidentKey:             protocol.ResidentKeyRequirement(cfg.ResidentKey),
			UserVerification:        protocol.UserVerificationRequirement(cfg.UserVerification),
		},
		// Expiry is enforced by this package with the stored issue times (and its own clock),
		// so the library's Enforce stays off; the timeout is still what the client is told.
		Timeouts: webauthn.TimeoutsConfig{Login: timeouts, Registration: timeouts},
		// Client extension outputs are not signed by the authenticator and nothing here reads
		// them; some clients send them unasked, so they are ignored rather than refused.
		ExtensionsUnsolicitedOutputPolicy: protocol.UnsolicitedOutputPolicyIgnore,
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return &RP{cfg: cfg, wa: wa}, nil
}

// Config returns the relying party's configuration (with defaults filled in).
func (r *RP) Config() Config { return r.cfg }

func (r *RP) userVerification() protocol.UserVerificationRequirement {
	return protocol.UserVerificationRequirement(r.cfg.UserVerification)
}

// UserHandle returns the WebAuthn user handle (user.id) for a Cognito username: its UTF-8 bytes.
// The username, not the sub, is used because a usernameless sign-in passes the user handle back
// to Cognito as USERNAME, and Cognito accepts a user's username there in every kind of pool (in
// pools signing in by email or phone it is the UUID Cognito assigned). The API takes it from the
// access token's "username" claim. Handles are limited to 64 bytes by WebAuthn.
func UserHandle(username string) ([]byte, error) {
	switch {
	case username == "":
		return nil, errors.New("passkey: empty username")
	case len(username) > store.MaxUserHandleBytes:
		return nil, fmt.Errorf("passkey: username longer than %d bytes cannot be a user handle", store.MaxUserHandleBytes)
	case !utf8.ValidString(username):
		return nil, errors.New("passkey: username is not valid UTF-8")
	}
	return []byte(username), nil
}

// user is the webauthn.User of one ceremony.
type user struct {
	id          []byte
	name        string
	displayName string
	creds       []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return u.id }
func (u *user) WebAuthnName() string                       { return u.name }
func (u *user) WebAuthnDisplayName() string                { return u.displayName }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// Registration describes the user a passkey is being created for.
type Registration struct {
	UserHandle  []byte          // from UserHandle; required
	Name        string          // user.name shown by the authenticator; default: the handle
	DisplayName string          // user.displayName; default: Name
	Existing    []store.Passkey // the user's passkeys: excluded from creation
}

// BeginRegistration returns the PublicKeyCredentialCreationOptions for navigator.credentials.create
// (as {"publicKey": {...}}) and the challenge to store, in the form clientDataJSON carries it.
func (r *RP) BeginRegistration(reg Registration) (*protocol.CredentialCreation, string, error) {
	if len(reg.UserHandle) == 0 || len(reg.UserHandle) > store.MaxUserHandleBytes {
		return nil, "", errors.New("passkey: user handle must be 1 to 64 bytes")
	}
	if reg.Name == "" {
		reg.Name = string(reg.UserHandle)
	}
	if reg.DisplayName == "" {
		reg.DisplayName = reg.Name
	}
	exclude := make([]protocol.CredentialDescriptor, 0, len(reg.Existing))
	for _, p := range reg.Existing {
		exclude = append(exclude, descriptor(p.CredentialID, p.Transports))
	}
	creation, session, err := r.wa.BeginRegistration(&user{id: reg.UserHandle, name: reg.Name, displayName: reg.DisplayName},
		webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, "", fmt.Errorf("passkey: begin registration: %w", err)
	}
	return creation, session.Challenge, nil
}

// FinishRegistration verifies a parsed registration response against the challenge that was
// stored for it (already consumed by the caller) and the user handle it was issued for: type
// webauthn.create, challenge, origin, rpIdHash, UP, UV when required, BE/BS consistency, an
// accepted algorithm and the attestation statement (none, or a valid packed/TPM/... signature).
func (r *RP) FinishRegistration(userHandle []byte, challenge string, parsed *protocol.ParsedCredentialCreationData) (cred *webauthn.Credential, err error) {
	if parsed == nil {
		return nil, errors.New("passkey: no credential")
	}
	defer recoverAs(&err)
	session := webauthn.SessionData{
		Challenge:        challenge,
		RelyingPartyID:   r.cfg.RPID,
		UserID:           userHandle,
		UserVerification: r.userVerification(),
		CredParams:       webauthn.CredentialParametersDefault(),
	}
	cred, err = r.wa.CreateCredential(&user{id: userHandle}, session, parsed)
	if err != nil {
		return nil, err
	}
	if len(cred.ID) == 0 || len(cred.ID) > store.MaxCredentialIDBytes {
		return nil, fmt.Errorf("passkey: credential ID of %d bytes is not accepted", len(cred.ID))
	}
	return cred, nil
}

// RequestOptions returns PublicKeyCredentialRequestOptions with the given challenge (raw bytes,
// at least 16) and allowCredentials, the configured RP ID, user verification and timeout.
func (r *RP) RequestOptions(challenge []byte, allow []protocol.CredentialDescriptor) (*protocol.CredentialAssertion, error) {
	a, _, err := r.wa.BeginDiscoverableLogin(
		webauthn.WithChallenge(challenge),
		webauthn.WithAllowedCredentials(allow),
		webauthn.WithUserVerification(r.userVerification()))
	if err != nil {
		return nil, fmt.Errorf("passkey: request options: %w", err)
	}
	return a, nil
}

// DiscoverableOptions returns request options with a fresh random challenge and no
// allowCredentials (usernameless sign-in), and the challenge as clientDataJSON carries it.
func (r *RP) DiscoverableOptions() (*protocol.CredentialAssertion, string, error) {
	a, session, err := r.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(r.userVerification()))
	if err != nil {
		return nil, "", fmt.Errorf("passkey: request options: %w", err)
	}
	return a, session.Challenge, nil
}

// VerifyAssertion checks a parsed assertion made with passkey p over challenge (as
// clientDataJSON carries it): type webauthn.get, challenge, origin, rpIdHash, UP, UV when
// required, BE unchanged since registration and not BS without BE, the user handle (when
// present; required when discoverable) equal to p's, and the signature with p's public key.
// The returned credential carries the new sign count and flags; Authenticator.CloneWarning is
// set when the sign count did not rise. Sign count persistence is the caller's job.
func (r *RP) VerifyAssertion(p store.Passkey, challenge string, parsed *protocol.ParsedCredentialAssertionData, discoverable bool) (cred *webauthn.Credential, err error) {
	if parsed == nil {
		return nil, errors.New("passkey: no assertion")
	}
	defer recoverAs(&err)
	wc := toCredential(p)
	u := &user{id: p.UserHandle, name: string(p.UserHandle), displayName: string(p.UserHandle), creds: []webauthn.Credential{wc}}
	session := webauthn.SessionData{
		Challenge:        challenge,
		RelyingPartyID:   r.cfg.RPID,
		UserVerification: r.userVerification(),
	}
	if !discoverable {
		session.UserID = p.UserHandle
		session.AllowedCredentialIDs = [][]byte{p.CredentialID}
		return r.wa.ValidateLogin(u, session, parsed)
	}
	_, cred, err = r.wa.ValidatePasskeyLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
		if !bytes.Equal(rawID, p.CredentialID) || !bytes.Equal(userHandle, p.UserHandle) {
			return nil, errors.New("credential or user handle does not match")
		}
		return u, nil
	}, session, parsed)
	return cred, err
}

// toCredential turns a stored passkey into go-webauthn's credential record.
func toCredential(p store.Passkey) webauthn.Credential {
	flags := protocol.FlagUserPresent
	if p.UserVerified {
		flags |= protocol.FlagUserVerified
	}
	if p.BackupEligible {
		flags |= protocol.FlagBackupEligible
	}
	if p.BackupState {
		flags |= protocol.FlagBackupState
	}
	known := store.Transports(p.Transports)
	ts := make([]protocol.AuthenticatorTransport, len(known))
	for i, t := range known {
		ts[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID:                p.CredentialID,
		PublicKey:         p.PublicKey,
		AttestationType:   p.AttestationType,
		AttestationFormat: p.AttestationFormat,
		Transport:         ts,
		Flags:             webauthn.NewCredentialFlags(flags),
		Authenticator:     webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount},
	}
}

// descriptor is a credential descriptor with the known transports among transports.
func descriptor(id []byte, transports []string) protocol.CredentialDescriptor {
	d := protocol.CredentialDescriptor{Type: protocol.PublicKeyCredentialType, CredentialID: id}
	for _, t := range store.Transports(transports) {
		d.Transport = append(d.Transport, protocol.AuthenticatorTransport(t))
	}
	return d
}

// recoverAs turns a panic in the WebAuthn library (malformed input it did not expect) into an
// error, so a hostile answer can fail a sign-in but never crash the function.
func recoverAs(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("passkey: malformed WebAuthn data (%v)", r)
	}
}

// ErrorReason returns a short, loggable reason for a verification error: go-webauthn's
// "details" text, never its debug info (which may quote challenges).
func ErrorReason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		// Debug info is only used where it is known to quote no challenge or other input.
		for _, safe := range []string{"RP Hash mismatch", "User presence required", "User verification required"} {
			if strings.HasPrefix(pe.DevInfo, safe) {
				return pe.Details + ": " + safe
			}
		}
		if pe.Details != "" {
			return pe.Details
		}
		return pe.Type
	}
	if err == nil {
		return ""
	}
	return err.Error()
}
