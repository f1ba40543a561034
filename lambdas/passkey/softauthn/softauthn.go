// Package softauthn is a software WebAuthn authenticator and client for tests: it creates ECDSA
// P-256 credentials and produces the PublicKeyCredential JSON a browser would send for
// navigator.credentials.create (attestation "none" or "packed" self attestation) and
// navigator.credentials.get. Every field a relying party checks can be bent through Tweak to
// build negative tests. It is test support only: nothing in production imports it.
package softauthn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/fxamacker/cbor/v2"
)

// Authenticator flags (WebAuthn §6.1).
const (
	FlagUP = 0x01 // user present
	FlagUV = 0x04 // user verified
	FlagBE = 0x08 // backup eligible
	FlagBS = 0x10 // backup state
	FlagAT = 0x40 // attested credential data
	FlagED = 0x80 // extension data
)

// Authenticator holds credentials for one relying party and acts as client and authenticator.
type Authenticator struct {
	RPID   string   // the relying party ID the credentials are scoped to
	Origin string   // the origin the "client" reports
	AAGUID [16]byte // reported at registration
	// UV, BackupEligible, BackupState set those flags (UP is always set unless a Tweak clears it).
	UV, BackupEligible, BackupState bool
	// Attestation is "none" (default) or "packed" (self attestation signed with the credential key).
	Attestation string
	// Counter: when true, the signature counter rises by one per assertion; when false it stays 0.
	Counter bool
	// IDLength is the credential ID length (default 32).
	IDLength int
	// Transports reported at registration (default ["hybrid", "internal"]).
	Transports []string
}

// Credential is a credential the authenticator created.
type Credential struct {
	ID         []byte
	Key        *ecdsa.PrivateKey
	UserHandle []byte
	SignCount  uint32
}

// Tweak bends one ceremony for negative tests. The zero value changes nothing.
type Tweak struct {
	Type          string // clientData type (default webauthn.create / webauthn.get)
	Challenge     string // clientData challenge (default: the one given)
	Origin        string // clientData origin (default: Authenticator.Origin)
	RPID          string // the RP ID hashed into authenticatorData (default: Authenticator.RPID)
	NoUP, NoUV    bool   // clear UP / UV
	SetBS, NoBE   bool   // set BS / clear BE
	SignCount     *uint32
	BadSignature  bool   // flip a bit of the (assertion or attestation) signature
	UserHandle    []byte // assertion userHandle (default: the credential's)
	NoUserHandle  bool   // omit userHandle from the assertion
	CrossOrigin   bool
	ExtraJSON     string // appended members for the credential object, e.g. `,"x":1`
	AttestationID []byte // registration: the credential ID put in the JSON id/rawId (default the real one)
}

// Register creates a credential for userHandle answering the creation challenge (the base64url
// string from the options) and returns it with the registration PublicKeyCredential JSON.
func (a *Authenticator) Register(challenge string, userHandle []byte, t Tweak) (*Credential, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	n := a.IDLength
	if n == 0 {
		n = 32
	}
	id := make([]byte, n)
	if _, err := rand.Read(id); err != nil {
		return nil, nil, err
	}
	cred := &Credential{ID: id, Key: key, UserHandle: slices.Clone(userHandle)}
	out, err := a.RegisterWith(cred, challenge, t)
	if err != nil {
		return nil, nil, err
	}
	return cred, out, nil
}

// RegisterWith produces the registration JSON for an existing credential (e.g. to register the
// same credential twice).
func (a *Authenticator) RegisterWith(cred *Credential, challenge string, t Tweak) ([]byte, error) {
	cdj, err := a.clientData("webauthn.create", challenge, t)
	if err != nil {
		return nil, err
	}
	cose, err := COSEKey(&cred.Key.PublicKey)
	if err != nil {
		return nil, err
	}
	flags := a.flags(t) | FlagAT
	count := cred.SignCount
	if t.SignCount != nil {
		count = *t.SignCount
	}
	authData := a.authDataHeader(t, flags, count)
	authData = append(authData, a.AAGUID[:]...)
	authData = binary.BigEndian.AppendUint16(authData, uint16(len(cred.ID)))
	authData = append(authData, cred.ID...)
	authData = append(authData, cose...)

	stmt := map[string]any{}
	format := a.Attestation
	if format == "" {
		format = "none"
	}
	if format == "packed" {
		sig, err := sign(cred.Key, authData, cdj, t.BadSignature)
		if err != nil {
			return nil, err
		}
		stmt = map[string]any{"alg": -7, "sig": sig}
	}
	em, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		return nil, err
	}
	attObj, err := em.Marshal(map[string]any{"fmt": format, "attStmt": stmt, "authData": authData})
	if err != nil {
		return nil, err
	}
	transports := a.Transports
	if transports == nil {
		transports = []string{"hybrid", "internal"}
	}
	shownID := cred.ID
	if t.AttestationID != nil {
		shownID = t.AttestationID
	}
	resp, err := json.Marshal(map[string]any{
		"clientDataJSON":    b64(cdj),
		"attestationObject": b64(attObj),
		"transports":        transports,
	})
	if err != nil {
		return nil, err
	}
	return credentialJSON(shownID, resp, t.ExtraJSON), nil
}

// Assert signs an assertion with cred over challenge (the base64url string from the options)
// and returns the PublicKeyCredential JSON. With Counter set the credential's count rises first.
func (a *Authenticator) Assert(cred *Credential, challenge string, t Tweak) ([]byte, error) {
	if cred == nil {
		return nil, errors.New("softauthn: no credential")
	}
	cdj, err := a.clientData("webauthn.get", challenge, t)
	if err != nil {
		return nil, err
	}
	if a.Counter {
		cred.SignCount++
	}
	count := cred.SignCount
	if t.SignCount != nil {
		count = *t.SignCount
	}
	authData := a.authDataHeader(t, a.flags(t), count)
	sig, err := sign(cred.Key, authData, cdj, t.BadSignature)
	if err != nil {
		return nil, err
	}
	r := map[string]any{
		"clientDataJSON":    b64(cdj),
		"authenticatorData": b64(authData),
		"signature":         b64(sig),
	}
	switch {
	case t.NoUserHandle:
	case t.UserHandle != nil:
		r["userHandle"] = b64(t.UserHandle)
	default:
		r["userHandle"] = b64(cred.UserHandle)
	}
	resp, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return credentialJSON(cred.ID, resp, t.ExtraJSON), nil
}

func credentialJSON(id []byte, resp []byte, extra string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"rawId":%q,"type":"public-key","response":%s,"authenticatorAttachment":"platform","clientExtensionResults":{}%s}`,
		b64(id), b64(id), resp, extra)
}

func (a *Authenticator) clientData(typ, challenge string, t Tweak) ([]byte, error) {
	if t.Type != "" {
		typ = t.Type
	}
	if t.Challenge != "" {
		challenge = t.Challenge
	}
	origin := a.Origin
	if t.Origin != "" {
		origin = t.Origin
	}
	// Field order as browsers write it.
	return fmt.Appendf(nil, `{"type":%q,"challenge":%q,"origin":%q,"crossOrigin":%t}`, typ, challenge, origin, t.CrossOrigin), nil
}

func (a *Authenticator) flags(t Tweak) byte {
	f := byte(FlagUP)
	if a.UV {
		f |= FlagUV
	}
	if a.BackupEligible {
		f |= FlagBE
	}
	if a.BackupState {
		f |= FlagBS
	}
	if t.NoUP {
		f &^= FlagUP
	}
	if t.NoUV {
		f &^= FlagUV
	}
	if t.SetBS {
		f |= FlagBS
	}
	if t.NoBE {
		f &^= FlagBE
	}
	return f
}

func (a *Authenticator) authDataHeader(t Tweak, flags byte, count uint32) []byte {
	rpID := a.RPID
	if t.RPID != "" {
		rpID = t.RPID
	}
	h := sha256.Sum256([]byte(rpID))
	out := append(h[:], flags)
	return binary.BigEndian.AppendUint32(out, count)
}

// sign makes an ECDSA P-256 / SHA-256 signature (DER) over authData || SHA-256(clientDataJSON).
func sign(k *ecdsa.PrivateKey, authData, clientDataJSON []byte, corrupt bool) ([]byte, error) {
	cdh := sha256.Sum256(clientDataJSON)
	digest := sha256.Sum256(slices.Concat(authData, cdh[:]))
	sig, err := ecdsa.SignASN1(rand.Reader, k, digest[:])
	if err != nil {
		return nil, err
	}
	if corrupt {
		sig[len(sig)-1] ^= 0x01
	}
	return sig, nil
}

// COSEKey encodes a P-256 public key as a COSE_Key (kty EC2, alg ES256, crv P-256).
func COSEKey(pub *ecdsa.PublicKey) ([]byte, error) {
	pt, err := pub.Bytes()
	if err != nil {
		return nil, err
	}
	em, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		return nil, err
	}
	return em.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: pt[1:33], -3: pt[33:65]})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// Options reads the challenge out of options JSON: either {"publicKey": {...}} or the bare
// options object.
func Options(js []byte) (challenge string, err error) {
	var v struct {
		PublicKey *struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(js, &v); err != nil {
		return "", err
	}
	if v.PublicKey != nil {
		return v.PublicKey.Challenge, nil
	}
	if v.Challenge == "" {
		return "", errors.New("softauthn: options have no challenge")
	}
	return v.Challenge, nil
}
