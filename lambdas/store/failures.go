package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	failsPrefix   = "FAILS#"
	attrFailures  = "failures"
	failsSKPrefix = "W#"
)

// failureKey returns the key of account's current window and the window's
// TTL (window end + one window).
func (s *Store) failureKey(account string, window time.Duration) (map[string]types.AttributeValue, int64, error) {
	if err := checkID("account", account); err != nil {
		return nil, 0, err
	}
	secs, err := windowSeconds(window)
	if err != nil {
		return nil, 0, err
	}
	start := windowStart(s.now(), secs)
	return key(failsPrefix+account, failsSKPrefix+strconv.FormatInt(start, 10)), start + 2*secs, nil
}

// RecordFailure counts one failed attempt for account in the current fixed
// window of length window (whole seconds, at least 1s, aligned to the Unix
// epoch) and returns the window's new count. It is a single atomic update,
// so concurrent calls each get a distinct count. Use the same window for an
// account in every call, here and in [Store.Failures].
func (s *Store) RecordFailure(ctx context.Context, account string, window time.Duration) (int, error) {
	if err := s.ready(ctx); err != nil {
		return 0, err
	}
	k, ttl, err := s.failureKey(account, window)
	if err != nil {
		return 0, err
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      k,
		UpdateExpression:         aws.String("ADD #f :one SET #ttl = :ttl"),
		ExpressionAttributeNames: map[string]string{"#f": attrFailures, "#ttl": TTLAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": num(1),
			":ttl": num(ttl),
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, fmt.Errorf("store: record failure: %w", err)
	}
	n, ok := getN(out.Attributes, attrFailures)
	if !ok {
		return 0, fmt.Errorf("store: record failure: no count returned")
	}
	return int(n), nil
}

// Failures returns account's failure count in the current window (see
// [Store.RecordFailure]), 0 if none, using a strongly consistent read.
func (s *Store) Failures(ctx context.Context, account string, window time.Duration) (int, error) {
	if err := s.ready(ctx); err != nil {
		return 0, err
	}
	k, _, err := s.failureKey(account, window)
	if err != nil {
		return 0, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            k,
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return 0, fmt.Errorf("store: failures: %w", err)
	}
	n, _ := getN(out.Item, attrFailures)
	return int(n), nil
}
