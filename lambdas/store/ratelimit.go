package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	ratePrefix = "RATE#"
	attrN      = "n"
	// maxLimits is DynamoDB's limit on actions per transaction.
	maxLimits = 100
)

// Limit allows at most Max sends per fixed window of length Window (whole
// seconds, at least 1s, aligned to the Unix epoch).
type Limit struct {
	// Window is the window length.
	Window time.Duration
	// Max is the number of sends allowed per window; at least 1.
	Max int
}

// AllowSend consumes one send for recipientKey from every limit, atomically:
// it returns true if all limits had room (and consumed one unit from each),
// false if any was exhausted (and consumed nothing). At least one limit is
// required and no two may share a window length.
//
// recipientKey is stored in the table as is, so it must not be a raw email
// address or phone number: pass a keyed hash (e.g. HMAC) of the normalised
// recipient.
func (s *Store) AllowSend(ctx context.Context, recipientKey string, limits ...Limit) (bool, error) {
	if err := s.ready(ctx); err != nil {
		return false, err
	}
	if err := checkID("recipient key", recipientKey); err != nil {
		return false, err
	}
	if len(limits) == 0 {
		return false, invalid("no limits given")
	}
	if len(limits) > maxLimits {
		return false, invalid("more than %d limits", maxLimits)
	}
	now := s.now()
	seen := make(map[int64]bool, len(limits))
	items := make([]types.TransactWriteItem, 0, len(limits))
	for _, l := range limits {
		secs, err := windowSeconds(l.Window)
		if err != nil {
			return false, err
		}
		if l.Max < 1 {
			return false, invalid("limit for window %s has Max %d, less than 1", l.Window, l.Max)
		}
		if seen[secs] {
			return false, invalid("two limits with window %s", l.Window)
		}
		seen[secs] = true
		start := windowStart(now, secs)
		sk := strconv.FormatInt(secs, 10) + "#" + strconv.FormatInt(start, 10)
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                aws.String(s.table),
			Key:                      key(ratePrefix+recipientKey, sk),
			UpdateExpression:         aws.String("ADD #n :one SET #ttl = :ttl"),
			ConditionExpression:      aws.String("attribute_not_exists(#n) OR #n < :max"),
			ExpressionAttributeNames: map[string]string{"#n": attrN, "#ttl": TTLAttribute},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":one": num(1),
				":max": num(int64(l.Max)),
				":ttl": num(start + 2*secs),
			},
		}})
	}
	failed, err := s.transact(ctx, items)
	if err != nil {
		return false, fmt.Errorf("store: allow send: %w", err)
	}
	return failed == nil, nil
}
