package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// CredentialCounts returns how many device keys and passkeys owner (the user's Cognito sub) has
// registered, from the counters on the owner's META item (pk=USER#<owner>, sk=META): one
// strongly consistent GetItem. An owner without the item has none (0, 0, nil); a negative
// counter reads as 0.
func (s *Store) CredentialCounts(ctx context.Context, owner string) (deviceKeys, passkeys int, err error) {
	if err := s.ready(ctx); err != nil {
		return 0, 0, err
	}
	if err := checkID("owner", owner); err != nil {
		return 0, 0, err
	}
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(userPK(owner), metaSK),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#d, #p"),
		ExpressionAttributeNames: map[string]string{"#d": attrDeviceKeyCount, "#p": attrPasskeyCount},
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: credential counts: %w", err)
	}
	d, _ := getN(res.Item, attrDeviceKeyCount)
	p, _ := getN(res.Item, attrPasskeyCount)
	return int(max(d, 0)), int(max(p, 0)), nil
}
