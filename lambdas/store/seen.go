package store

// The sign-in methods a user has used, for "sign-in with a new method" notifications:
//
//	key counter     pk=USER#<owner>   sk=META   ..., seen (string set)
//
// seen holds one entry per method the user signed in with ("email_otp", "magic_link", ...; a
// device key as "device_key:<keyId>"). It lives on the owner's META item, next to the credential
// counters, so it needs no prefix of its own.

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const attrSeen = "seen"

// MaxSignInEntries caps the entries of a user's seen set. A sign-in with an entry not yet seen
// while the set is full is not recorded (and so reported as not new): the cap only matters to an
// account that registered hundreds of device keys.
const MaxSignInEntries = 100

// MarkSignIn records that owner (the user's Cognito sub) signed in with entry, with one
// conditional UpdateItem on the owner's META item that adds entry to its seen set only if it is
// not there yet (and the set has fewer than MaxSignInEntries). added reports whether entry was
// new; returning whether the set held anything before, that is whether the user had signed in
// (since the set was introduced) with something else: a first sign-in is added but not returning.
// entry is stored as is: a method name or a random key ID, never an address.
//
// Permissions: dynamodb:UpdateItem on items with partition keys starting USER#.
func (s *Store) MarkSignIn(ctx context.Context, owner, entry string) (added, returning bool, err error) {
	if err := s.ready(ctx); err != nil {
		return false, false, err
	}
	if err := checkID("owner", owner); err != nil {
		return false, false, err
	}
	if err := checkID("sign-in entry", entry); err != nil {
		return false, false, err
	}
	if len(entry) > 128 {
		return false, false, invalid("sign-in entry is longer than 128 bytes")
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(userPK(owner), metaSK),
		UpdateExpression:         aws.String("ADD #s :set"),
		ConditionExpression:      aws.String("attribute_not_exists(#s) OR (NOT contains(#s, :e) AND size(#s) < :max)"),
		ExpressionAttributeNames: map[string]string{"#s": attrSeen},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":set": &types.AttributeValueMemberSS{Value: []string{entry}},
			":e":   str(entry),
			":max": &types.AttributeValueMemberN{Value: strconv.Itoa(MaxSignInEntries)},
		},
		ReturnValues: types.ReturnValueUpdatedOld,
	})
	switch {
	case isConditionFailed(err):
		return false, false, nil
	case err != nil:
		return false, false, fmt.Errorf("store: mark sign-in: %w", err)
	}
	old, _ := out.Attributes[attrSeen].(*types.AttributeValueMemberSS)
	return true, old != nil && len(old.Value) > 0, nil
}
