package store

// Bookkeeping shared by the credentials a user owns (device keys and passkeys): each kind has a
// counter on the owner's META item that caps how many the owner may register, a guard item that
// keeps something unique, and items listed and read by owner with strongly consistent reads.

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// putCounted registers item and its guard for owner in one transaction: the owner's counter
// counterAttr goes up by one provided it is below maxPerUser, and item and guard are put
// provided no item with their key exists. failed is as for [Store.transact], indexed counter (0),
// item (1), guard (2).
func (s *Store) putCounted(ctx context.Context, owner, counterAttr string, maxPerUser int, it, guard map[string]types.AttributeValue) (failed []bool, err error) {
	return s.transact(ctx, []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                aws.String(s.table),
			Key:                      key(userPK(owner), metaSK),
			UpdateExpression:         aws.String("ADD #c :one"),
			ConditionExpression:      aws.String("attribute_not_exists(#c) OR #c < :max"),
			ExpressionAttributeNames: map[string]string{"#c": counterAttr},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":one": num(1),
				":max": num(int64(maxPerUser)),
			},
		}},
		s.putNew(it),
		s.putNew(guard),
	})
}

// putNew is a transaction item putting it provided no item with its key exists.
func (s *Store) putNew(it map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                aws.String(s.table),
		Item:                     it,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": PartitionKey},
	}}
}

// deleteCounted runs deletes and then lowers the owner's counter counterAttr by one, in one
// transaction. The decrement has no condition: removal must never be blocked by the counter.
// It returns ErrNotFound (wrapped with op) when a delete's condition failed.
func (s *Store) deleteCounted(ctx context.Context, op, owner, counterAttr string, deletes ...*types.Delete) error {
	items := make([]types.TransactWriteItem, 0, len(deletes)+1)
	for _, d := range deletes {
		items = append(items, types.TransactWriteItem{Delete: d})
	}
	items = append(items, types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       key(userPK(owner), metaSK),
		UpdateExpression:          aws.String("ADD #c :minus"),
		ExpressionAttributeNames:  map[string]string{"#c": counterAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":minus": num(-1)},
	}})
	failed, err := s.transact(ctx, items)
	switch {
	case err != nil:
		return fmt.Errorf("store: %s: %w", op, err)
	case failed != nil:
		return fmt.Errorf("store: %s: %w", op, ErrNotFound)
	}
	return nil
}

// deleteExisting deletes the item at k, provided it exists.
func (s *Store) deleteExisting(k map[string]types.AttributeValue) *types.Delete {
	return &types.Delete{
		TableName:                aws.String(s.table),
		Key:                      k,
		ConditionExpression:      aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": PartitionKey},
	}
}

// listOwned returns owner's items whose sort key begins with prefix, decoded, in sort key order
// (an empty slice when there are none), reading all pages with strongly consistent reads. Errors
// from the table or from decode are wrapped with op.
func listOwned[T any](ctx context.Context, s *Store, op, owner, prefix string, decode func(owner string, it map[string]types.AttributeValue) (T, error)) ([]T, error) {
	in, err := s.ownedQuery(ctx, owner, prefix)
	if err != nil {
		return nil, err
	}
	out := []T{}
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", op, err)
		}
		for _, it := range res.Items {
			v, err := decode(owner, it)
			if err != nil {
				return nil, fmt.Errorf("store: %s: %w", op, err)
			}
			out = append(out, v)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// ownedQuery checks that the store is ready and owner is valid, and returns the strongly
// consistent query for owner's items whose sort key begins with prefix.
func (s *Store) ownedQuery(ctx context.Context, owner, prefix string) (*dynamodb.QueryInput, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	if err := checkID("owner", owner); err != nil {
		return nil, err
	}
	return &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames: map[string]string{"#pk": PartitionKey, "#sk": SortKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     str(userPK(owner)),
			":prefix": str(prefix),
		},
		ConsistentRead: aws.Bool(true),
	}, nil
}

// getOwned reads owner's item with sort key sk (strongly consistent) and decodes it, or returns
// ErrNotFound. Errors are wrapped with op. The caller validates its arguments first.
func getOwned[T any](ctx context.Context, s *Store, op, owner, sk string, decode func(owner string, it map[string]types.AttributeValue) (T, error)) (T, error) {
	var zero T
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(userPK(owner), sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return zero, fmt.Errorf("store: %s: %w", op, err)
	}
	if res.Item == nil {
		return zero, fmt.Errorf("store: %s: %w", op, ErrNotFound)
	}
	v, err := decode(owner, res.Item)
	if err != nil {
		return zero, fmt.Errorf("store: %s: %w", op, err)
	}
	return v, nil
}

// getTime reads a time stored in milliseconds; it is zero when the attribute is missing.
func getTime(it map[string]types.AttributeValue, name string) time.Time {
	if ms, ok := getN(it, name); ok {
		return fromMillis(ms)
	}
	return time.Time{}
}

// setTimes stores createdAt and, unless it is zero, lastUsedAt in milliseconds.
func setTimes(it map[string]types.AttributeValue, createdAt, lastUsedAt time.Time) {
	it[attrCreatedAt] = num(millis(createdAt))
	if !lastUsedAt.IsZero() {
		it[attrLastUsedAt] = num(millis(lastUsedAt))
	}
}
