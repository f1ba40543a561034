package store

// Revoking all of a user's credentials of one kind at once (recovery from a lost device).
//
// The owner's items are read a page at a time (strongly consistent Query on pk=USER#<owner>,
// sk beginning with the kind's prefix, RevokeAllBatch items a page) and each page is deleted in
// one transaction: every credential item on the condition that it still exists, its guard item
// on the condition that it still names this credential (device keys) or this owner (passkeys),
// and the owner's counter lowered by the number of credentials in the transaction. When a
// condition fails (a credential was removed at the same moment by another request), the page
// falls back to one transaction per credential, as the single-credential delete does, and a
// credential someone else removed first is not counted. The counter therefore drops by exactly
// the number of credentials removed, whatever runs concurrently, and a repeated call (a client
// retry) finds nothing and removes nothing.
//
// The read is a snapshot per page: a credential registered while the revocation runs may
// survive it (registration needs a recent sign-in and a token Cognito still accepts, so sign
// out everywhere after revoking).

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// RevokeAllBatch is how many credentials one page of a revocation reads and one transaction
// deletes (2 items each plus the counter: 25 items, within DynamoDB's 100).
const RevokeAllBatch = 12

// RevokeAllDeviceKeys removes every device key of owner (the user's Cognito sub) with its
// fingerprint guard, lowering the owner's device-key count accordingly, and returns how many
// keys this call removed (0 when there were none, e.g. on a retry). On an error, removed counts
// the keys removed before it; calling again removes the rest.
func (s *Store) RevokeAllDeviceKeys(ctx context.Context, owner string) (removed int, err error) {
	return s.revokeAll(ctx, "revoke all device keys", owner, deviceKeyPrefix, attrDeviceKeyCount, s.deviceKeyDeletes)
}

// RevokeAllPasskeys removes every passkey of owner (the user's Cognito sub) with its global
// credential guard, lowering the owner's passkey count accordingly, and returns how many
// passkeys this call removed (0 when there were none). On an error, removed counts the passkeys
// removed before it; calling again removes the rest.
func (s *Store) RevokeAllPasskeys(ctx context.Context, owner string) (removed int, err error) {
	return s.revokeAll(ctx, "revoke all passkeys", owner, passkeyPrefix, attrPasskeyCount, s.passkeyDeletes)
}

// deviceKeyDeletes are the deletes that revoke the device key item it: the key itself (provided
// it exists) and its fingerprint guard (provided it still names this key). An item without a
// fingerprint has no guard to remove.
func (s *Store) deviceKeyDeletes(owner string, it map[string]types.AttributeValue) []*types.Delete {
	sk, _ := getS(it, SortKey)
	out := []*types.Delete{s.deleteExisting(key(userPK(owner), sk))}
	if fp, ok := getS(it, attrFingerprint); ok && fp != "" {
		out = append(out, &types.Delete{
			TableName:                 aws.String(s.table),
			Key:                       key(userPK(owner), fingerprintSK(fp)),
			ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #id = :id"),
			ExpressionAttributeNames:  map[string]string{"#pk": PartitionKey, "#id": attrKeyID},
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(strings.TrimPrefix(sk, deviceKeyPrefix))},
		})
	}
	return out
}

// passkeyDeletes are the deletes that revoke the passkey item it: the passkey (provided it
// exists) and its credential guard (provided it names this owner).
func (s *Store) passkeyDeletes(owner string, it map[string]types.AttributeValue) []*types.Delete {
	sk, _ := getS(it, SortKey)
	return []*types.Delete{
		s.deleteExisting(key(userPK(owner), sk)),
		{
			TableName:                 aws.String(s.table),
			Key:                       key(passkeyGuardPrefix+strings.TrimPrefix(sk, passkeyPrefix), passkeyGuardSK),
			ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #o = :o"),
			ExpressionAttributeNames:  map[string]string{"#pk": PartitionKey, "#o": attrOwner},
			ExpressionAttributeValues: map[string]types.AttributeValue{":o": str(owner)},
		},
	}
}

func (s *Store) revokeAll(ctx context.Context, op, owner, prefix, counterAttr string,
	deletes func(owner string, it map[string]types.AttributeValue) []*types.Delete) (int, error) {
	in, err := s.ownedQuery(ctx, owner, prefix)
	if err != nil {
		return 0, err
	}
	// Only the attributes the deletes need.
	in.ProjectionExpression = aws.String("#sk, #fp")
	in.Limit = aws.Int32(RevokeAllBatch)
	in.ExpressionAttributeNames["#fp"] = attrFingerprint
	removed := 0
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return removed, fmt.Errorf("store: %s: %w", op, err)
		}
		var page [][]*types.Delete
		for _, it := range res.Items {
			if sk, ok := getS(it, SortKey); ok && len(sk) > len(prefix) && strings.HasPrefix(sk, prefix) {
				page = append(page, deletes(owner, it))
			}
		}
		n, err := s.deletePage(ctx, op, owner, counterAttr, page)
		removed += n
		if err != nil {
			return removed, err
		}
		if len(res.LastEvaluatedKey) == 0 {
			return removed, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// deletePage removes the credentials of one page, each given by its deletes: in one
// transaction when every condition holds, else one transaction per credential. It returns how
// many credentials it removed.
func (s *Store) deletePage(ctx context.Context, op, owner, counterAttr string, page [][]*types.Delete) (int, error) {
	switch len(page) {
	case 0:
		return 0, nil
	case 1:
		// One credential: the single delete is the whole page.
	default:
		items := make([]types.TransactWriteItem, 0, 2*len(page)+1)
		for _, ds := range page {
			for _, d := range ds {
				items = append(items, types.TransactWriteItem{Delete: d})
			}
		}
		items = append(items, s.lowerCounter(owner, counterAttr, len(page)))
		failed, err := s.transact(ctx, items)
		switch {
		case err != nil:
			return 0, fmt.Errorf("store: %s: %w", op, err)
		case failed == nil:
			return len(page), nil
		}
		// Someone removed one of them first: nothing of this transaction was applied.
	}
	removed := 0
	for _, ds := range page {
		ok, err := s.revokeOne(ctx, op, owner, counterAttr, ds)
		if err != nil {
			return removed, err
		}
		if ok {
			removed++
		}
	}
	return removed, nil
}

// revokeOne removes one credential given by its deletes (the credential item first, then its
// guard) and lowers the counter by one, in one transaction. ok is false when the credential was
// already gone (removed by a concurrent request: not this call's to count). A guard that names
// another credential or owner (which registration never leaves behind) is left alone and the
// credential is removed all the same: revoking all must not stop at an odd guard.
func (s *Store) revokeOne(ctx context.Context, op, owner, counterAttr string, ds []*types.Delete) (ok bool, err error) {
	for {
		items := make([]types.TransactWriteItem, 0, len(ds)+1)
		for _, d := range ds {
			items = append(items, types.TransactWriteItem{Delete: d})
		}
		items = append(items, s.lowerCounter(owner, counterAttr, 1))
		failed, err := s.transact(ctx, items)
		switch {
		case err != nil:
			return false, fmt.Errorf("store: %s: %w", op, err)
		case failed == nil:
			return true, nil
		case failed[0]:
			return false, nil
		case len(ds) == 1:
			// Only the counter update could have failed, and it has no condition.
			return false, fmt.Errorf("store: %s: unexpected condition failure", op)
		}
		ds = ds[:1] // the guard is not this credential's: remove the credential alone
	}
}

// lowerCounter lowers the owner's counter counterAttr by n, without a condition (removal is never
// blocked by the counter).
func (s *Store) lowerCounter(owner, counterAttr string, n int) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       key(userPK(owner), metaSK),
		UpdateExpression:          aws.String("ADD #c :minus"),
		ExpressionAttributeNames:  map[string]string{"#c": counterAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":minus": num(-int64(n))},
	}}
}
