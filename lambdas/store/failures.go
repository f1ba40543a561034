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

// Failure windows. One item per account and fixed window:
//
//	pk=FAILS#<account>  sk=W#<window start, unix s>
//	attempts   SS  attempt slots held in the window ([Store.ReserveAttempt])
//	expiresAt  N   window end + one window (time to live)
const (
	failsPrefix   = "FAILS#"
	attrAttempts  = "attempts"
	failsSKPrefix = "W#"
)

// Bounds of the attempt-slot operations. With MaxAttemptLimit slots of at most
// MaxAttemptIDBytes each a window item stays far below DynamoDB's 400 KB.
const (
	// MaxAttemptLimit is the largest limit [Store.ReserveAttempt] accepts.
	MaxAttemptLimit = 1000
	// MaxAttemptIDBytes is the longest attempt ID [Store.ReserveAttempt] accepts.
	MaxAttemptIDBytes = 128
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

func checkAttemptID(id string) error {
	if err := checkID("attempt ID", id); err != nil {
		return err
	}
	if len(id) > MaxAttemptIDBytes {
		return invalid("attempt ID is longer than %d bytes", MaxAttemptIDBytes)
	}
	return nil
}

// ReserveAttempt takes one of limit attempt slots of account in the current
// fixed window of length window (whole seconds, aligned to the Unix epoch)
// for attemptID, with one conditional update: the slot is added to the
// window's set only while the set holds fewer than limit slots. It returns
// true when the slot is granted, false when all limit slots are taken.
//
// It is idempotent: reserving an attemptID the window already holds is
// granted again and takes no second slot (a retried request counts once).
// Concurrent calls can never hold more than limit slots between them.
// account is stored as is: pass a keyed identifier, never an email address or
// phone number. Use the same window for an account in every call.
func (s *Store) ReserveAttempt(ctx context.Context, account, attemptID string, limit int, window time.Duration) (bool, error) {
	if err := s.ready(ctx); err != nil {
		return false, err
	}
	if err := checkAttemptID(attemptID); err != nil {
		return false, err
	}
	if limit < 1 || limit > MaxAttemptLimit {
		return false, invalid("attempt limit %d out of range 1-%d", limit, MaxAttemptLimit)
	}
	k, ttl, err := s.failureKey(account, window)
	if err != nil {
		return false, err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      k,
		UpdateExpression:         aws.String("ADD #a :ids SET #ttl = :ttl"),
		ConditionExpression:      aws.String("attribute_not_exists(#a) OR size(#a) < :limit OR contains(#a, :id)"),
		ExpressionAttributeNames: map[string]string{"#a": attrAttempts, "#ttl": TTLAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":ids":   &types.AttributeValueMemberSS{Value: []string{attemptID}},
			":id":    str(attemptID),
			":limit": num(int64(limit)),
			":ttl":   num(ttl),
		},
	})
	return applied("reserve attempt", err)
}

// ReleaseAttempt gives back account's slot for attemptID in the current
// window (one update; releasing a slot the window does not hold does
// nothing). A slot reserved in a window that has ended needs no release: that
// window no longer counts.
func (s *Store) ReleaseAttempt(ctx context.Context, account, attemptID string, window time.Duration) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if err := checkAttemptID(attemptID); err != nil {
		return err
	}
	k, _, err := s.failureKey(account, window)
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      k,
		UpdateExpression:         aws.String("DELETE #a :ids"),
		ConditionExpression:      aws.String("contains(#a, :id)"), // never create an empty item
		ExpressionAttributeNames: map[string]string{"#a": attrAttempts},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":ids": &types.AttributeValueMemberSS{Value: []string{attemptID}},
			":id":  str(attemptID),
		},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("store: release attempt: %w", err)
	}
	return nil
}

// Attempts returns the number of attempt slots account holds in the current
// window (see [Store.ReserveAttempt]), 0 if none, using a strongly
// consistent read.
func (s *Store) Attempts(ctx context.Context, account string, window time.Duration) (int, error) {
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
		return 0, fmt.Errorf("store: attempts: %w", err)
	}
	set, _ := out.Item[attrAttempts].(*types.AttributeValueMemberSS)
	if set == nil {
		return 0, nil
	}
	return len(set.Value), nil
}
