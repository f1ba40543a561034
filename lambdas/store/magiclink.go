package store

// The outstanding sign-in link of a user (package magiclink):
//
//	magic link   pk=MAGIC#<userKey>   sk=LINK   h, ah, dh, sid, gen, expiresAt (TTL), usedAt, usedBy
//
// userKey is a keyed hash of the pool and user name, h a keyed hash of the link's secret (never
// the secret), ah a keyed hash of the address the link was sent to (never the address; using the
// link requires the account's current verified address to hash the same), dh the hash of the
// requesting device's secret (same-device links only), sid and gen the sign-in round that sent
// the link. One item per user: a new link replaces the old one, so
// the old link stops working. Using the link removes h (and dh) in one conditional write, so a
// link works once; usedBy names the answer that used it (a keyed tag of the sign-in round), so a
// Cognito retry of that same answer is told yes again. The item itself expires with its TTL.

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	magicPrefix = "MAGIC#"
	magicSK     = "LINK"

	attrMagicHash   = "h"
	attrMagicAddr   = "ah"
	attrMagicDevice = "dh"
	attrMagicSID    = "sid"
	attrMagicGen    = "gen"
	attrMagicUsedAt = "usedAt"
	attrMagicUsedBy = "usedBy"

	// MagicLinkHashBytes is the size of MagicLink.Hash (an HMAC-SHA256).
	MagicLinkHashBytes = 32
	// MaxMagicLinkTTL bounds how far in the future MagicLink.ExpiresAt may be.
	MaxMagicLinkTTL = time.Hour
	// noDevice stands in for a missing device hash in ConsumeMagicLink's condition: no stored
	// device hash can equal it (they are 43 base64url characters).
	noDevice = "-"
)

// MagicLink is the stored form of a user's outstanding sign-in link.
type MagicLink struct {
	// UserKey identifies the user: a keyed hash of the pool and user name, never the name.
	// Required.
	UserKey string
	// Hash is a keyed hash of the link's secret (MagicLinkHashBytes). Required.
	Hash []byte
	// AddressHash is a keyed hash of the address the link was sent to (MagicLinkHashBytes):
	// ConsumeMagicLink uses the link only for the same hash of the account's current address.
	// Required.
	AddressHash []byte
	// ExpiresAt is when the link stops working: after now, at most MaxMagicLinkTTL ahead.
	// Stored in whole seconds (rounded up) as the item's time to live.
	ExpiresAt time.Time
	// DeviceHash binds the link to the device that asked for it (optional; at most 128 bytes).
	DeviceHash string
	// SessionID and Generation name the sign-in round that sent the link. Required.
	SessionID  string
	Generation int
}

func magicKey(userKey string) map[string]types.AttributeValue {
	return key(magicPrefix+userKey, magicSK)
}

// PutMagicLink stores l as the user's one outstanding link, replacing any other (which stops
// working), with one conditional PutItem: unless the stored link was sent by the same round
// (session and generation), which means Cognito retried Create and the link is already out.
// It reports whether it stored l (false: that retry; send nothing).
//
// Permissions: dynamodb:PutItem on items with partition keys starting MAGIC#.
func (s *Store) PutMagicLink(ctx context.Context, l MagicLink) (bool, error) {
	if err := s.ready(ctx); err != nil {
		return false, err
	}
	if err := checkID("user key", l.UserKey); err != nil {
		return false, err
	}
	if len(l.Hash) != MagicLinkHashBytes {
		return false, invalid("link hash has %d bytes, want %d", len(l.Hash), MagicLinkHashBytes)
	}
	if len(l.AddressHash) != MagicLinkHashBytes {
		return false, invalid("address hash has %d bytes, want %d", len(l.AddressHash), MagicLinkHashBytes)
	}
	if err := checkID("session ID", l.SessionID); err != nil {
		return false, err
	}
	if l.Generation < 1 {
		return false, invalid("generation %d is not positive", l.Generation)
	}
	if len(l.DeviceHash) > 128 || l.DeviceHash == noDevice {
		return false, invalid("device hash is not usable")
	}
	now := s.now()
	if !l.ExpiresAt.After(now) || l.ExpiresAt.Sub(now) > MaxMagicLinkTTL {
		return false, invalid("link expiry is not within %s from now", MaxMagicLinkTTL)
	}
	item := magicKey(l.UserKey)
	item[attrMagicHash] = blob(l.Hash)
	item[attrMagicAddr] = blob(l.AddressHash)
	item[attrMagicSID] = str(l.SessionID)
	item[attrMagicGen] = num(int64(l.Generation))
	item[TTLAttribute] = num(ttlSeconds(l.ExpiresAt))
	if l.DeviceHash != "" {
		item[attrMagicDevice] = str(l.DeviceHash)
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(#pk) OR #sid <> :sid OR #gen <> :gen"),
		ExpressionAttributeNames: map[string]string{
			"#pk": PartitionKey, "#sid": attrMagicSID, "#gen": attrMagicGen,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":sid": str(l.SessionID), ":gen": num(int64(l.Generation)),
		},
	})
	return applied("put magic link", err)
}

// ConsumeMagicLink uses the user's outstanding link if its hash is hash, it was sent to the
// address addressHash names (the keyed hash of the account's current verified address; nil when
// the account has none, which matches no link), it has not expired and, when requireDevice is
// set, it was bound to deviceHash: one conditional UpdateItem that removes the hash (and the
// device hash) and records when and by which answer (attempt: a tag naming one answer to one
// sign-in round, 1-128 bytes) it was used, so of any number of concurrent calls
// with the right secret exactly one gets true. A repeat of the call that used the link (the same
// attempt and address, before the link's expiry: Cognito retrying Verify) gets true again.
// Everything else (no link, a used, replaced, expired or other user's link, a wrong secret,
// address or device, a link stored without an address hash) is (false, nil) after the same single
// call. A hash or address hash of the wrong size (nil included), or an empty deviceHash with
// requireDevice, can never match but makes the same call.
//
// Permissions: dynamodb:UpdateItem on items with partition keys starting MAGIC#.
func (s *Store) ConsumeMagicLink(ctx context.Context, userKey string, hash, addressHash []byte, deviceHash string, requireDevice bool, attempt string) (bool, error) {
	if err := s.ready(ctx); err != nil {
		return false, err
	}
	if err := checkID("user key", userKey); err != nil {
		return false, err
	}
	if err := checkID("attempt", attempt); err != nil {
		return false, err
	}
	if len(attempt) > 128 {
		return false, invalid("attempt is longer than 128 bytes")
	}
	if len(hash) != MagicLinkHashBytes {
		hash = make([]byte, MagicLinkHashBytes+1) // the same call, a value no link has
	}
	if len(addressHash) != MagicLinkHashBytes {
		addressHash = make([]byte, MagicLinkHashBytes+1)
	}
	now := s.now()
	match := "#h = :h"
	names := map[string]string{"#h": attrMagicHash, "#ah": attrMagicAddr, "#ttl": TTLAttribute, "#dh": attrMagicDevice, "#u": attrMagicUsedAt, "#ub": attrMagicUsedBy}
	values := map[string]types.AttributeValue{":h": blob(hash), ":ah": blob(addressHash), ":now": num(now.Unix()), ":used": num(now.Unix()), ":ub": str(attempt)}
	if requireDevice {
		if deviceHash == "" || len(deviceHash) > 128 {
			deviceHash = noDevice
		}
		match += " AND #dh = :dh"
		values[":dh"] = str(deviceHash)
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       magicKey(userKey),
		UpdateExpression:          aws.String("REMOVE #h, #dh SET #u = :used, #ub = :ub"),
		ConditionExpression:       aws.String("#ttl > :now AND #ah = :ah AND ((" + match + ") OR #ub = :ub)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	return applied("consume magic link", err)
}
