package store

// De-duplication of security notifications (package notify):
//
//	notification    pk=NOTIFY#<id>   sk=NOTIFY   expiresAt (TTL)
//
// id is a keyed hash of the event (the caller's keyed.Key.ID), never an address or a user name.
// The item only says "this event was notified"; it expires after the TTL the caller gives.

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	notifyPrefix = "NOTIFY#"
	notifySK     = "NOTIFY"
	// maxNotifyTTL bounds ClaimNotification's ttl.
	maxNotifyTTL = 31 * 24 * time.Hour
)

// ClaimNotification records that the notification id is being sent, with one conditional
// PutItem (the item must not exist, or its time to live must have passed), and reports whether
// this call made the claim: false means an earlier call (a retry of the same event) already did
// and nothing should be sent. The claim expires after ttl (1 s to 31 days).
//
// id is stored as is: pass a keyed hash, never an address or a user name.
//
// Permissions: dynamodb:PutItem on items with partition keys starting NOTIFY#.
func (s *Store) ClaimNotification(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	if err := s.ready(ctx); err != nil {
		return false, err
	}
	if err := checkID("notification id", id); err != nil {
		return false, err
	}
	if ttl < time.Second || ttl > maxNotifyTTL {
		return false, invalid("notification ttl %s out of range 1s-%s", ttl, maxNotifyTTL)
	}
	now := s.now()
	item := key(notifyPrefix+id, notifySK)
	item[TTLAttribute] = num(now.Add(ttl).Unix())
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #ttl <= :now"),
		ExpressionAttributeNames:  map[string]string{"#pk": PartitionKey, "#ttl": TTLAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(now.Unix())},
	})
	return applied("claim notification", err)
}
