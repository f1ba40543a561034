package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/passwordless-go/cognito/lambdas/usertext"
)

const (
	userPrefix      = "USER#"
	deviceKeyPrefix = "DEVICEKEY#"
	metaSK          = "META"

	attrKeyID          = "keyId"
	attrName           = "name"
	attrAlgorithm      = "algorithm"
	attrPublicKey      = "publicKey"
	attrFingerprint    = "fingerprint"
	fingerprintPrefix  = "DEVICEKEYFP#"
	attrCreatedAt      = "createdAt"
	attrLastUsedAt     = "lastUsedAt"
	attrDeviceKeyCount = "deviceKeyCount"
)

// DeviceKey is a registered device public key. Times are stored with
// millisecond precision and read back in UTC.
type DeviceKey struct {
	// Owner is the Cognito sub of the user owning the key. Required.
	Owner string
	// ID identifies the key; it must be unique across all users (it is also
	// the credential ID found through [CredentialIndex]). Required.
	ID string
	// Name is a user-chosen label. Optional.
	Name string
	// Algorithm names the signature algorithm. Required.
	Algorithm string
	// Fingerprint identifies PublicKey; one owner cannot register the same
	// fingerprint twice. Required.
	Fingerprint string
	// PublicKey is the SPKI DER encoding of the key. Required.
	PublicKey []byte
	// CreatedAt defaults to the store's clock when zero.
	CreatedAt time.Time
	// LastUsedAt is zero until the key is first used.
	LastUsedAt time.Time
}

func userPK(owner string) string    { return userPrefix + owner }
func deviceKeySK(id string) string  { return deviceKeyPrefix + id }
func credentialID(id string) string { return deviceKeyPrefix + id }
func millis(t time.Time) int64      { return t.UnixMilli() }
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
func checkOwnerKey(owner, id string) error {
	if err := checkID("owner", owner); err != nil {
		return err
	}
	return checkID("key ID", id)
}

// PutDeviceKey registers k for k.Owner, provided the owner has fewer than
// maxPerUser keys (ErrLimitReached otherwise), has no key with the same
// fingerprint and no key with the same ID (ErrExists). The counter increment,
// a per-owner fingerprint guard item and the insert happen in one transaction,
// so the cap and the uniqueness hold under concurrency.
func (s *Store) PutDeviceKey(ctx context.Context, k DeviceKey, maxPerUser int) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if err := checkOwnerKey(k.Owner, k.ID); err != nil {
		return err
	}
	if err := checkText("name", k.Name, true); err != nil {
		return err
	}
	if !usertext.Valid(k.Name) {
		return invalid("name holds characters other than printable text")
	}
	if err := checkText("algorithm", k.Algorithm, false); err != nil {
		return err
	}
	if err := checkText("fingerprint", k.Fingerprint, false); err != nil {
		return err
	}
	if err := checkBlob("public key", k.PublicKey); err != nil {
		return err
	}
	if maxPerUser < 1 {
		return invalid("maxPerUser %d is less than 1", maxPerUser)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now()
	}

	item := key(userPK(k.Owner), deviceKeySK(k.ID))
	item[attrKeyID] = str(k.ID)
	item[attrAlgorithm] = str(k.Algorithm)
	item[attrFingerprint] = str(k.Fingerprint)
	item[attrPublicKey] = blob(k.PublicKey)
	item[CredentialIDAttribute] = str(credentialID(k.ID))
	if k.Name != "" {
		item[attrName] = str(k.Name)
	}
	setTimes(item, k.CreatedAt, k.LastUsedAt)

	failed, err := s.putCounted(ctx, k.Owner, attrDeviceKeyCount, maxPerUser, item, fingerprintGuard(k.Owner, k.Fingerprint, k.ID))
	switch {
	case err != nil:
		return fmt.Errorf("store: put device key: %w", err)
	case failed == nil:
		return nil
	case failed[1]:
		return fmt.Errorf("store: put device key: key ID already registered: %w", ErrExists)
	case failed[2]:
		return fmt.Errorf("store: put device key: fingerprint already registered: %w", ErrExists)
	default:
		return fmt.Errorf("store: put device key: %d keys already registered: %w", maxPerUser, ErrLimitReached)
	}
}

// ListDeviceKeys returns owner's keys ordered by ID, using strongly
// consistent reads. An owner without keys gets an empty slice.
func (s *Store) ListDeviceKeys(ctx context.Context, owner string) ([]DeviceKey, error) {
	return listOwned(ctx, s, "list device keys", owner, deviceKeyPrefix, decodeDeviceKey)
}

// GetDeviceKey returns owner's key keyID (strongly consistent read), or
// ErrNotFound.
func (s *Store) GetDeviceKey(ctx context.Context, owner, keyID string) (DeviceKey, error) {
	if err := s.ready(ctx); err != nil {
		return DeviceKey{}, err
	}
	if err := checkOwnerKey(owner, keyID); err != nil {
		return DeviceKey{}, err
	}
	return getOwned(ctx, s, "get device key", owner, deviceKeySK(keyID), decodeDeviceKey)
}

// DeleteDeviceKey revokes owner's key keyID, removing its fingerprint guard
// and decrementing the owner's key count in the same transaction, or returns
// ErrNotFound.
func (s *Store) DeleteDeviceKey(ctx context.Context, owner, keyID string) error {
	k, err := s.GetDeviceKey(ctx, owner, keyID)
	if err != nil {
		return err
	}
	return s.deleteCounted(ctx, "delete device key", owner, attrDeviceKeyCount,
		&types.Delete{
			// The guard goes only if it still names this key.
			TableName:                 aws.String(s.table),
			Key:                       key(userPK(owner), fingerprintSK(k.Fingerprint)),
			ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #id = :id"),
			ExpressionAttributeNames:  map[string]string{"#pk": PartitionKey, "#id": attrKeyID},
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(keyID)},
		},
		s.deleteExisting(key(userPK(owner), deviceKeySK(keyID))),
	)
}

// fingerprintSK is the sort key of the guard item that keeps one owner's fingerprints unique.
func fingerprintSK(fp string) string { return fingerprintPrefix + fp }

func fingerprintGuard(owner, fp, keyID string) map[string]types.AttributeValue {
	item := key(userPK(owner), fingerprintSK(fp))
	item[attrKeyID] = str(keyID)
	return item
}

// TouchDeviceKey sets the last-used time of owner's key keyID to at, or
// returns ErrNotFound if the key does not exist (e.g. it was revoked).
func (s *Store) TouchDeviceKey(ctx context.Context, owner, keyID string, at time.Time) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if err := checkOwnerKey(owner, keyID); err != nil {
		return err
	}
	if at.IsZero() {
		return invalid("last-used time is zero")
	}
	_, err := s.updateExisting(ctx, "touch device key", &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(userPK(owner), deviceKeySK(keyID)),
		UpdateExpression:          aws.String("SET #u = :at"),
		ConditionExpression:       aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames:  map[string]string{"#u": attrLastUsedAt, "#pk": PartitionKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": num(millis(at))},
	})
	return err
}

func decodeDeviceKey(owner string, item map[string]types.AttributeValue) (DeviceKey, error) {
	k := DeviceKey{Owner: owner}
	var ok bool
	sk, _ := getS(item, SortKey)
	if k.ID, ok = getS(item, attrKeyID); !ok || sk != deviceKeySK(k.ID) {
		return DeviceKey{}, fmt.Errorf("malformed device key item %q", strings.TrimPrefix(sk, deviceKeyPrefix))
	}
	k.Name, _ = getS(item, attrName)
	k.Algorithm, _ = getS(item, attrAlgorithm)
	k.Fingerprint, _ = getS(item, attrFingerprint)
	k.PublicKey, _ = getB(item, attrPublicKey)
	k.CreatedAt = getTime(item, attrCreatedAt)
	k.LastUsedAt = getTime(item, attrLastUsedAt)
	if k.Algorithm == "" || k.Fingerprint == "" || len(k.PublicKey) == 0 {
		return DeviceKey{}, fmt.Errorf("malformed device key item %q", k.ID)
	}
	return k, nil
}
