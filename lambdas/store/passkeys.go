package store

// Passkey (WebAuthn) items in the key table:
//
//	passkey             pk=USER#<owner>              sk=PASSKEY#<credential ID, base64url>   credentialId=PASSKEY#<credential ID>
//	credential guard    pk=PASSKEYID#<credential ID> sk=PASSKEYID                             owner=<owner>
//	passkey counter     pk=USER#<owner>              sk=META                                  passkeyCount
//	registration chal.  pk=USER#<owner>              sk=PKREG#<challenge>                     expiresAt (TTL)
//	sign-in challenge   pk=PKAUTH#<challenge ID>     sk=PKAUTH                                expiresAt (TTL)
//
// The guard item keeps credential IDs unique across all users (the GSI [CredentialIndex] is
// eventually consistent and cannot); the GSI finds a passkey by credential ID for tooling.
// Challenges are consumed exactly once with a conditional update; their TTL only cleans up.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/passwordless-go/cognito/lambdas/usertext"
)

const (
	passkeyPrefix      = "PASSKEY#"
	passkeyGuardPrefix = "PASSKEYID#"
	passkeyGuardSK     = "PASSKEYID"
	pkRegPrefix        = "PKREG#"
	pkAuthPrefix       = "PKAUTH#"
	pkAuthSK           = "PKAUTH"

	attrOwner              = "owner"
	attrCredID             = "credId"
	attrUserHandle         = "userHandle"
	attrSignCount          = "signCount"
	attrUserVerified       = "userVerified"
	attrBackupEligible     = "backupEligible"
	attrBackupState        = "backupState"
	attrAAGUID             = "aaguid"
	attrTransports         = "transports"
	attrAttestationType    = "attestationType"
	attrAttestationFormat  = "attestationFormat"
	attrLastChallenge      = "lastChallenge"
	attrPasskeyCount       = "passkeyCount"
	attrChallenge          = "challenge"
	attrChallengeExpiresAt = "challengeExpiresAt"
	attrUsedAt             = "usedAt"
)

// Limits on passkey values.
const (
	// MaxCredentialIDBytes caps credential IDs (WebAuthn allows 1023; real authenticators use 16-128).
	MaxCredentialIDBytes = 512
	// MaxUserHandleBytes is WebAuthn's limit on user handles.
	MaxUserHandleBytes = 64
	// MaxTransports caps the transports stored per passkey.
	MaxTransports = 8
	// PasskeyChallengeGrace is how long after its expiry a challenge item is kept (its TTL).
	PasskeyChallengeGrace = 5 * time.Minute
)

// ErrReplay reports that a passkey use was refused because the sign count did not rise or the
// challenge was already used with this passkey (a replay, a clone or a concurrent sign-in).
var ErrReplay = errors.New("store: passkey sign count not rising or challenge already used")

// Passkey is a registered WebAuthn credential. Times are stored with millisecond precision and
// read back in UTC.
type Passkey struct {
	// Owner is the Cognito sub of the user owning the passkey. Required.
	Owner string
	// CredentialID is the raw credential ID (1 to MaxCredentialIDBytes bytes), unique across all
	// users. Required.
	CredentialID []byte
	// UserHandle is the user.id the credential was created with (1 to 64 bytes). Required.
	UserHandle []byte
	// PublicKey is the COSE_Key of the credential. Required.
	PublicKey []byte
	// SignCount is the last signature counter seen.
	SignCount uint32
	// Flags from registration (UserVerified, BackupEligible) and the last use (BackupState).
	UserVerified, BackupEligible, BackupState bool
	// AAGUID identifies the authenticator model (16 bytes; all zero when not disclosed).
	AAGUID []byte
	// Transports the client reported (e.g. "internal", "hybrid", "usb").
	Transports []string
	// AttestationType (e.g. "none", "basic_surrogate" = self, "basic_full") and AttestationFormat (e.g. "none",
	// "packed") of the registration.
	AttestationType, AttestationFormat string
	// Name is a user-chosen label. Optional.
	Name string
	// CreatedAt defaults to the store's clock when zero; LastUsedAt is zero until first used.
	CreatedAt, LastUsedAt time.Time
}

// knownTransports are WebAuthn's AuthenticatorTransport values (WebAuthn Level 3, §5.8.4).
var knownTransports = []string{"usb", "nfc", "ble", "smart-card", "hybrid", "internal"}

// KnownTransports returns the transports a passkey may carry: usb, nfc, ble, smart-card, hybrid,
// internal.
func KnownTransports() []string { return slices.Clone(knownTransports) }

// Transports returns the known transports among ts, each once, in their order in ts (an empty,
// non-nil slice when there are none). WebAuthn tells relying parties to ignore values they do not
// know, so a registration drops them rather than failing; nothing else is ever stored or shown.
func Transports(ts []string) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		if slices.Contains(knownTransports, t) && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// EncodeCredentialID is the text form of a credential ID used in keys and URLs: unpadded base64url.
func EncodeCredentialID(id []byte) string { return base64.RawURLEncoding.EncodeToString(id) }

func passkeySK(id []byte) string           { return passkeyPrefix + EncodeCredentialID(id) }
func passkeyCredentialID(id []byte) string { return passkeyPrefix + EncodeCredentialID(id) }
func passkeyGuardKey(id []byte) map[string]types.AttributeValue {
	return key(passkeyGuardPrefix+EncodeCredentialID(id), passkeyGuardSK)
}

func checkCredentialID(id []byte) error {
	switch {
	case len(id) == 0:
		return invalid("credential ID is empty")
	case len(id) > MaxCredentialIDBytes:
		return invalid("credential ID is longer than %d bytes", MaxCredentialIDBytes)
	}
	return nil
}

func checkOwnerCredential(owner string, id []byte) error {
	if err := checkID("owner", owner); err != nil {
		return err
	}
	return checkCredentialID(id)
}

func boolean(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }

func getBool(item map[string]types.AttributeValue, name string) bool {
	v, ok := item[name].(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}

// PutPasskey registers p for p.Owner, provided the owner has fewer than maxPerUser passkeys
// (ErrLimitReached) and no user has a passkey with the same credential ID (ErrExists). The
// counter increment, the global credential guard and the insert are one transaction.
func (s *Store) PutPasskey(ctx context.Context, p Passkey, maxPerUser int) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if err := checkOwnerCredential(p.Owner, p.CredentialID); err != nil {
		return err
	}
	switch {
	case len(p.UserHandle) == 0 || len(p.UserHandle) > MaxUserHandleBytes:
		return invalid("user handle must be 1 to %d bytes", MaxUserHandleBytes)
	case len(p.AAGUID) != 0 && len(p.AAGUID) != 16:
		return invalid("AAGUID must be 16 bytes")
	case len(p.Transports) > MaxTransports:
		return invalid("more than %d transports", MaxTransports)
	case maxPerUser < 1:
		return invalid("maxPerUser %d is less than 1", maxPerUser)
	}
	if err := checkBlob("public key", p.PublicKey); err != nil {
		return err
	}
	for _, f := range []struct {
		name, v  string
		optional bool
	}{{"name", p.Name, true}, {"attestation type", p.AttestationType, true}, {"attestation format", p.AttestationFormat, true}} {
		if err := checkText(f.name, f.v, f.optional); err != nil {
			return err
		}
	}
	for _, t := range p.Transports {
		if !slices.Contains(knownTransports, t) {
			return invalid("transport %q is not a WebAuthn transport", t)
		}
	}
	if !usertext.Valid(p.Name) {
		return invalid("name holds characters other than printable text")
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = s.now()
	}

	item := key(userPK(p.Owner), passkeySK(p.CredentialID))
	item[CredentialIDAttribute] = str(passkeyCredentialID(p.CredentialID))
	item[attrCredID] = blob(p.CredentialID)
	item[attrUserHandle] = blob(p.UserHandle)
	item[attrPublicKey] = blob(p.PublicKey)
	item[attrSignCount] = num(int64(p.SignCount))
	item[attrUserVerified] = boolean(p.UserVerified)
	item[attrBackupEligible] = boolean(p.BackupEligible)
	item[attrBackupState] = boolean(p.BackupState)
	if len(p.AAGUID) != 0 {
		item[attrAAGUID] = blob(p.AAGUID)
	}
	ts := make([]types.AttributeValue, len(p.Transports))
	for i, t := range p.Transports {
		ts[i] = str(t)
	}
	item[attrTransports] = &types.AttributeValueMemberL{Value: ts}
	for name, v := range map[string]string{attrAttestationType: p.AttestationType, attrAttestationFormat: p.AttestationFormat, attrName: p.Name} {
		if v != "" {
			item[name] = str(v)
		}
	}
	setTimes(item, p.CreatedAt, p.LastUsedAt)
	guard := passkeyGuardKey(p.CredentialID)
	guard[attrOwner] = str(p.Owner)

	failed, err := s.putCounted(ctx, p.Owner, attrPasskeyCount, maxPerUser, item, guard)
	switch {
	case err != nil:
		return fmt.Errorf("store: put passkey: %w", err)
	case failed == nil:
		return nil
	case failed[1] || failed[2]:
		return fmt.Errorf("store: put passkey: credential ID already registered: %w", ErrExists)
	default:
		return fmt.Errorf("store: put passkey: %d passkeys already registered: %w", maxPerUser, ErrLimitReached)
	}
}

// ListPasskeys returns owner's passkeys ordered by encoded credential ID, using strongly
// consistent reads. An owner without passkeys gets an empty slice.
func (s *Store) ListPasskeys(ctx context.Context, owner string) ([]Passkey, error) {
	return listOwned(ctx, s, "list passkeys", owner, passkeyPrefix, decodePasskey)
}

// GetPasskey returns owner's passkey credentialID (strongly consistent read), or ErrNotFound.
func (s *Store) GetPasskey(ctx context.Context, owner string, credentialID []byte) (Passkey, error) {
	if err := s.ready(ctx); err != nil {
		return Passkey{}, err
	}
	if err := checkOwnerCredential(owner, credentialID); err != nil {
		return Passkey{}, err
	}
	return getOwned(ctx, s, "get passkey", owner, passkeySK(credentialID), decodePasskey)
}

// FindPasskey finds a passkey by credential ID alone through the GSI [CredentialIndex]. GSI reads
// are eventually consistent: a passkey registered or deleted a moment ago may be missed or still
// be found. Sign-in does not use it (it reads by owner and ID); it is for tooling.
func (s *Store) FindPasskey(ctx context.Context, credentialID []byte) (Passkey, error) {
	if err := s.ready(ctx); err != nil {
		return Passkey{}, err
	}
	if err := checkCredentialID(credentialID); err != nil {
		return Passkey{}, err
	}
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(CredentialIndex),
		KeyConditionExpression:    aws.String("#c = :c"),
		ExpressionAttributeNames:  map[string]string{"#c": CredentialIDAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": str(passkeyCredentialID(credentialID))},
		Limit:                     aws.Int32(2),
	})
	if err != nil {
		return Passkey{}, fmt.Errorf("store: find passkey: %w", err)
	}
	switch len(res.Items) {
	case 0:
		return Passkey{}, fmt.Errorf("store: find passkey: %w", ErrNotFound)
	case 1:
	default:
		return Passkey{}, errors.New("store: find passkey: credential ID found more than once")
	}
	pk, _ := getS(res.Items[0], PartitionKey)
	if len(pk) <= len(userPrefix) || pk[:len(userPrefix)] != userPrefix {
		return Passkey{}, errors.New("store: find passkey: malformed item")
	}
	p, err := decodePasskey(pk[len(userPrefix):], res.Items[0])
	if err != nil {
		return Passkey{}, fmt.Errorf("store: find passkey: %w", err)
	}
	return p, nil
}

// RenamePasskey sets the name of owner's passkey credentialID and returns the updated passkey,
// or ErrNotFound.
func (s *Store) RenamePasskey(ctx context.Context, owner string, credentialID []byte, name string) (Passkey, error) {
	if err := s.ready(ctx); err != nil {
		return Passkey{}, err
	}
	if err := checkOwnerCredential(owner, credentialID); err != nil {
		return Passkey{}, err
	}
	if err := checkText("name", name, false); err != nil {
		return Passkey{}, err
	}
	if !usertext.Valid(name) {
		return Passkey{}, invalid("name holds characters other than printable text")
	}
	attrs, err := s.updateExisting(ctx, "rename passkey", &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(userPK(owner), passkeySK(credentialID)),
		UpdateExpression:          aws.String("SET #n = :n"),
		ConditionExpression:       aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames:  map[string]string{"#n": attrName, "#pk": PartitionKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": str(name)},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err != nil {
		return Passkey{}, err
	}
	p, err := decodePasskey(owner, attrs)
	if err != nil {
		return Passkey{}, fmt.Errorf("store: rename passkey: %w", err)
	}
	return p, nil
}

// DeletePasskey removes owner's passkey credentialID with its guard and decrements the owner's
// passkey count in one transaction, or returns ErrNotFound.
func (s *Store) DeletePasskey(ctx context.Context, owner string, credentialID []byte) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if err := checkOwnerCredential(owner, credentialID); err != nil {
		return err
	}
	return s.deleteCounted(ctx, "delete passkey", owner, attrPasskeyCount,
		s.deleteExisting(key(userPK(owner), passkeySK(credentialID))),
		&types.Delete{
			// The guard goes only if it names this owner.
			TableName:                 aws.String(s.table),
			Key:                       passkeyGuardKey(credentialID),
			ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #o = :o"),
			ExpressionAttributeNames:  map[string]string{"#pk": PartitionKey, "#o": attrOwner},
			ExpressionAttributeValues: map[string]types.AttributeValue{":o": str(owner)},
		},
	)
}

// PasskeyUse is the outcome of a verified assertion, recorded by [Store.UsePasskey].
type PasskeyUse struct {
	// SignCount is the counter in the assertion. Non-zero: it must exceed the stored one. Zero (an
	// authenticator without a counter): the stored one must be zero too.
	SignCount uint32
	// BackupState is the assertion's BS flag.
	BackupState bool
	// Challenge is the challenge the assertion signed; one challenge can be used once per passkey.
	// Only a hash of it is stored. Required.
	Challenge string
	// At is the time of use. Required.
	At time.Time
}

// challengeDigest is what is stored of a used challenge.
func challengeDigest(c string) string {
	h := sha256.Sum256([]byte("passkey-challenge\x00" + c))
	return hex.EncodeToString(h[:16])
}

// UsePasskey records a verified use of owner's passkey credentialID in one conditional update:
// the sign count must rise (or stay zero for counterless authenticators) and the challenge must
// not be the last one used with this passkey, so two concurrent submissions of one assertion
// cannot both succeed. It returns ErrReplay when that condition fails and ErrNotFound when the
// passkey no longer exists.
func (s *Store) UsePasskey(ctx context.Context, owner string, credentialID []byte, u PasskeyUse) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if err := checkOwnerCredential(owner, credentialID); err != nil {
		return err
	}
	if u.At.IsZero() {
		return invalid("time of use is zero")
	}
	if u.Challenge == "" {
		return invalid("challenge is empty")
	}
	cond := "attribute_exists(#pk) AND #sc < :sc AND (attribute_not_exists(#lc) OR #lc <> :lc)"
	if u.SignCount == 0 {
		cond = "attribute_exists(#pk) AND #sc = :sc AND (attribute_not_exists(#lc) OR #lc <> :lc)"
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 key(userPK(owner), passkeySK(credentialID)),
		UpdateExpression:    aws.String("SET #sc = :sc, #u = :at, #bs = :bs, #lc = :lc"),
		ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: map[string]string{
			"#pk": PartitionKey, "#sc": attrSignCount, "#u": attrLastUsedAt, "#bs": attrBackupState, "#lc": attrLastChallenge,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":sc": num(int64(u.SignCount)),
			":at": num(millis(u.At)),
			":bs": boolean(u.BackupState),
			":lc": str(challengeDigest(u.Challenge)),
		},
	})
	switch {
	case err == nil:
		return nil
	case !isConditionFailed(err):
		return fmt.Errorf("store: use passkey: %w", err)
	}
	if _, gerr := s.GetPasskey(ctx, owner, credentialID); errors.Is(gerr, ErrNotFound) {
		return fmt.Errorf("store: use passkey: %w", ErrNotFound)
	}
	return fmt.Errorf("store: use passkey: %w", ErrReplay)
}

// PasskeyChallengeKind says what a stored challenge is for.
type PasskeyChallengeKind int

// The challenge kinds.
const (
	// RegistrationChallenge: issued to a signed-in user for navigator.credentials.create.
	RegistrationChallenge PasskeyChallengeKind = iota + 1
	// AuthenticationChallenge: issued by the public options route for a usernameless sign-in.
	AuthenticationChallenge
)

// PasskeyChallenge is a WebAuthn challenge waiting to be used once.
type PasskeyChallenge struct {
	Kind PasskeyChallengeKind
	// Owner is the sub the registration challenge was issued to (registration only).
	Owner string
	// ID is the challenge ID handed to the client (authentication only; registration challenges
	// are found by owner and challenge).
	ID string
	// Challenge is the challenge as it appears in clientDataJSON (unpadded base64url). Required.
	Challenge string
	// UserHandle is the user.id of the registration (registration only).
	UserHandle []byte
	// ExpiresAt is when the challenge stops being valid. Required.
	ExpiresAt time.Time
}

func (c PasskeyChallenge) key() (map[string]types.AttributeValue, error) {
	switch c.Kind {
	case RegistrationChallenge:
		if err := checkID("owner", c.Owner); err != nil {
			return nil, err
		}
		if err := checkID("challenge", c.Challenge); err != nil {
			return nil, err
		}
		return key(userPK(c.Owner), pkRegPrefix+c.Challenge), nil
	case AuthenticationChallenge:
		if err := checkID("challenge ID", c.ID); err != nil {
			return nil, err
		}
		return key(pkAuthPrefix+c.ID, pkAuthSK), nil
	}
	return nil, invalid("unknown challenge kind %d", c.Kind)
}

// PutPasskeyChallenge stores c until c.ExpiresAt (its TTL is ExpiresAt + PasskeyChallengeGrace).
// An item with the same key is an error wrapping ErrExists (challenges are random).
func (s *Store) PutPasskeyChallenge(ctx context.Context, c PasskeyChallenge) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	k, err := c.key()
	if err != nil {
		return err
	}
	if err := checkID("challenge", c.Challenge); err != nil {
		return err
	}
	if c.ExpiresAt.IsZero() {
		return invalid("expiry time is zero")
	}
	if c.Kind == RegistrationChallenge && (len(c.UserHandle) == 0 || len(c.UserHandle) > MaxUserHandleBytes) {
		return invalid("user handle must be 1 to %d bytes", MaxUserHandleBytes)
	}
	item := k
	item[attrChallenge] = str(c.Challenge)
	item[attrChallengeExpiresAt] = num(millis(c.ExpiresAt))
	item[TTLAttribute] = num(ttlSeconds(c.ExpiresAt.Add(PasskeyChallengeGrace)))
	if len(c.UserHandle) != 0 {
		item[attrUserHandle] = blob(c.UserHandle)
	}
	return s.putIfAbsent(ctx, "put passkey challenge", item)
}

// ConsumePasskeyChallenge uses up the challenge c names (Kind plus Owner and Challenge for a
// registration, ID for an authentication) and returns it, provided it has not expired. It is a
// single conditional update, so of concurrent calls at most one gets the challenge; the others,
// and any call for an unknown, used or expired challenge, get ErrNotFound.
func (s *Store) ConsumePasskeyChallenge(ctx context.Context, c PasskeyChallenge) (PasskeyChallenge, error) {
	if err := s.ready(ctx); err != nil {
		return PasskeyChallenge{}, err
	}
	k, err := c.key()
	if err != nil {
		return PasskeyChallenge{}, err
	}
	// The item stays (without its challenge) until its TTL removes it: consuming is an update,
	// so the functions need no DeleteItem permission.
	attrs, err := s.updateExisting(ctx, "consume passkey challenge", &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       k,
		UpdateExpression:          aws.String("REMOVE #c SET #u = :now"),
		ConditionExpression:       aws.String("attribute_exists(#c) AND #e > :now"),
		ExpressionAttributeNames:  map[string]string{"#c": attrChallenge, "#e": attrChallengeExpiresAt, "#u": attrUsedAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(millis(s.now()))},
		ReturnValues:              types.ReturnValueAllOld,
	})
	if err != nil {
		return PasskeyChallenge{}, err
	}
	out := PasskeyChallenge{Kind: c.Kind, Owner: c.Owner, ID: c.ID}
	var ok bool
	out.Challenge, ok = getS(attrs, attrChallenge)
	ms, ok2 := getN(attrs, attrChallengeExpiresAt)
	if !ok || !ok2 || out.Challenge == "" {
		return PasskeyChallenge{}, errors.New("store: consume passkey challenge: malformed item")
	}
	out.ExpiresAt = fromMillis(ms)
	out.UserHandle, _ = getB(attrs, attrUserHandle)
	if c.Kind == RegistrationChallenge && out.Challenge != c.Challenge {
		return PasskeyChallenge{}, errors.New("store: consume passkey challenge: malformed item")
	}
	return out, nil
}

func decodePasskey(owner string, item map[string]types.AttributeValue) (Passkey, error) {
	p := Passkey{Owner: owner}
	sk, _ := getS(item, SortKey)
	var ok bool
	if p.CredentialID, ok = getB(item, attrCredID); !ok || sk != passkeySK(p.CredentialID) {
		return Passkey{}, errors.New("malformed passkey item")
	}
	p.UserHandle, _ = getB(item, attrUserHandle)
	p.PublicKey, _ = getB(item, attrPublicKey)
	if n, ok := getN(item, attrSignCount); ok && n >= 0 && n <= 0xFFFFFFFF {
		p.SignCount = uint32(n)
	} else {
		return Passkey{}, errors.New("malformed passkey item: sign count")
	}
	p.UserVerified = getBool(item, attrUserVerified)
	p.BackupEligible = getBool(item, attrBackupEligible)
	p.BackupState = getBool(item, attrBackupState)
	p.AAGUID, _ = getB(item, attrAAGUID)
	if l, ok := item[attrTransports].(*types.AttributeValueMemberL); ok {
		var ts []string
		for _, v := range l.Value {
			if t, ok := v.(*types.AttributeValueMemberS); ok {
				ts = append(ts, t.Value)
			}
		}
		// Items written before transports were checked may hold anything: keep the known ones.
		if ts = Transports(ts); len(ts) > 0 {
			p.Transports = ts
		}
	}
	p.AttestationType, _ = getS(item, attrAttestationType)
	p.AttestationFormat, _ = getS(item, attrAttestationFormat)
	p.Name, _ = getS(item, attrName)
	p.CreatedAt = getTime(item, attrCreatedAt)
	p.LastUsedAt = getTime(item, attrLastUsedAt)
	if len(p.UserHandle) == 0 || len(p.PublicKey) == 0 {
		return Passkey{}, errors.New("malformed passkey item")
	}
	return p, nil
}
