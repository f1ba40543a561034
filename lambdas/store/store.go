// Package store is the data access layer for the passwordless key table, a
// single DynamoDB table holding device keys, failure counters, send rate
// limits and one-time-code records.
//
// The table layout is fixed by [TableDefinition] (the CDK construct creates
// the same table) plus time to live on [TTLAttribute] ([TimeToLive]).
// Item layout, by kind:
//
//	device key      pk=USER#<owner>        sk=DEVICEKEY#<keyId>
//	key counter     pk=USER#<owner>        sk=META
//	failure window  pk=FAILS#<account>     sk=W#<window start, unix s>
//	send limit      pk=RATE#<recipientKey> sk=<window s>#<window start, unix s>
//	one-time code   pk=OTP#<sessionId>     sk=GEN#<generation>
//
// Windows are fixed and aligned to the Unix epoch. This package logs nothing.
package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Table schema names. The CDK construct must create the table with these.
const (
	// PartitionKey is the table's partition key attribute (type S).
	PartitionKey = "pk"
	// SortKey is the table's sort key attribute (type S).
	SortKey = "sk"
	// TTLAttribute is the time-to-live attribute (type N, Unix seconds).
	TTLAttribute = "expiresAt"
	// CredentialIndex is the global secondary index finding a credential by
	// its ID. It is sparse: only credential items carry [CredentialIDAttribute].
	CredentialIndex = "byCredentialId"
	// CredentialIDAttribute is [CredentialIndex]'s partition key (type S).
	// Device keys carry "DEVICEKEY#<keyId>".
	CredentialIDAttribute = "credentialId"
)

// TableDefinition returns the CreateTableInput for a key table named name:
// pk (S) partition key, sk (S) sort key, on-demand billing, and the global
// secondary index [CredentialIndex] on credentialId (S) projecting all
// attributes. Time to live cannot be part of CreateTable; enable it with
// [TimeToLive] once the table exists.
func TableDefinition(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(PartitionKey), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(SortKey), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(CredentialIDAttribute), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(PartitionKey), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(SortKey), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(CredentialIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(CredentialIDAttribute), KeyType: types.KeyTypeHash},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	}
}

// TimeToLive returns the UpdateTimeToLiveInput enabling expiry on
// [TTLAttribute] for the table named name.
func TimeToLive(name string) *dynamodb.UpdateTimeToLiveInput {
	return &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(TTLAttribute),
			Enabled:       aws.Bool(true),
		},
	}
}

// Sentinel errors; test with errors.Is.
var (
	// ErrNotFound reports that the item does not exist (or has expired).
	ErrNotFound = errors.New("store: not found")
	// ErrLimitReached reports that a per-user cap is reached.
	ErrLimitReached = errors.New("store: limit reached")
	// ErrExists reports that an equivalent item already exists.
	ErrExists = errors.New("store: already exists")
	// ErrInvalidArgument reports an unusable argument (empty ID, bad window,
	// ...); nothing was sent to DynamoDB.
	ErrInvalidArgument = errors.New("store: invalid argument")
)

// DB is the subset of *dynamodb.Client the store uses.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Store reads and writes the key table. It is safe for concurrent use.
type Store struct {
	db    DB
	table string
	now   func() time.Time
}

// Option configures a [Store].
type Option func(*Store)

// WithClock sets the clock used for timestamps, windows and expiry checks.
// The default is time.Now; a nil clock keeps the default.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// New returns a Store using db and the table named table. A nil db or an
// empty table name is reported as an error by every method.
func New(db DB, table string, opts ...Option) *Store {
	s := &Store{db: db, table: table, now: time.Now}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	return s
}

// ready reports a misconfigured store or a nil context.
func (s *Store) ready(ctx context.Context) error {
	switch {
	case s == nil || s.db == nil:
		return errors.New("store: no DynamoDB client configured")
	case s.table == "":
		return errors.New("store: no table name configured")
	case ctx == nil:
		return errors.New("store: nil context")
	}
	return nil
}

// Limits on identifiers embedded in keys (DynamoDB allows 2048 bytes for a
// partition key and 1024 for a sort key).
const (
	maxIDBytes   = 512
	maxTextBytes = 1024
	maxBlobBytes = 16 << 10
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, args...)...)
}

// checkID validates a value used inside a key.
func checkID(field, v string) error {
	switch {
	case v == "":
		return invalid("%s is empty", field)
	case !utf8.ValidString(v):
		return invalid("%s is not valid UTF-8", field)
	case len(v) > maxIDBytes:
		return invalid("%s is longer than %d bytes", field, maxIDBytes)
	}
	return nil
}

// checkText validates a stored string attribute; empty is allowed when
// optional.
func checkText(field, v string, optional bool) error {
	switch {
	case v == "" && !optional:
		return invalid("%s is empty", field)
	case !utf8.ValidString(v):
		return invalid("%s is not valid UTF-8", field)
	case len(v) > maxTextBytes:
		return invalid("%s is longer than %d bytes", field, maxTextBytes)
	}
	return nil
}

func checkBlob(field string, v []byte) error {
	switch {
	case len(v) == 0:
		return invalid("%s is empty", field)
	case len(v) > maxBlobBytes:
		return invalid("%s is longer than %d bytes", field, maxBlobBytes)
	}
	return nil
}

// windowStart returns the start (Unix seconds) of the fixed window of
// length secs containing t.
func windowStart(t time.Time, secs int64) int64 {
	u := t.Unix()
	m := u % secs
	if m < 0 {
		m += secs
	}
	return u - m
}

// windowSeconds validates a window length and returns it in seconds.
func windowSeconds(window time.Duration) (int64, error) {
	if window < time.Second || window%time.Second != 0 {
		return 0, invalid("window %s is not a whole number of seconds >= 1s", window)
	}
	return int64(window / time.Second), nil
}

// Attribute helpers.

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{PartitionKey: str(pk), SortKey: str(sk)}
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func blob(v []byte) types.AttributeValue { return &types.AttributeValueMemberB{Value: v} }

func getS(item map[string]types.AttributeValue, name string) (string, bool) {
	v, ok := item[name].(*types.AttributeValueMemberS)
	if !ok {
		return "", false
	}
	return v.Value, true
}

func getN(item map[string]types.AttributeValue, name string) (int64, bool) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

func getB(item map[string]types.AttributeValue, name string) ([]byte, bool) {
	v, ok := item[name].(*types.AttributeValueMemberB)
	if !ok {
		return nil, false
	}
	return v.Value, true
}

// putIfAbsent puts item provided no item with its key exists. Errors are wrapped with
// "store: " + op; an existing item is an error wrapping ErrExists.
func (s *Store) putIfAbsent(ctx context.Context, op string, item map[string]types.AttributeValue) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(s.table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": PartitionKey},
	})
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("store: %s: %w", op, ErrExists)
	case err != nil:
		return fmt.Errorf("store: %s: %w", op, err)
	}
	return nil
}

// updateExisting runs the conditional update in and returns the item's attributes as
// in.ReturnValues asks. A failed condition is an error wrapping ErrNotFound. Errors are
// wrapped with "store: " + op.
func (s *Store) updateExisting(ctx context.Context, op string, in *dynamodb.UpdateItemInput) (map[string]types.AttributeValue, error) {
	out, err := s.db.UpdateItem(ctx, in)
	switch {
	case isConditionFailed(err):
		return nil, fmt.Errorf("store: %s: %w", op, ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	return out.Attributes, nil
}

// applied reports whether a conditional write that returned err was applied: true for no
// error, false for a failed condition; any other error is wrapped with "store: " + op.
func applied(op string, err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case isConditionFailed(err):
		return false, nil
	}
	return false, fmt.Errorf("store: %s: %w", op, err)
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// conflictRetries is how often a transaction cancelled only by conflicts
// with concurrent writes is retried.
const conflictRetries = 3

// transact runs one TransactWriteItems. If it was cancelled because one or
// more conditions failed, failed reports which (by index) and err is nil.
// Cancellations caused only by transaction conflicts are retried a few
// times; anything else is returned as an error.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) (failed []bool, err error) {
	for attempt := 0; ; attempt++ {
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil, nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) || len(tce.CancellationReasons) == 0 {
			return nil, err
		}
		failed = make([]bool, len(items))
		anyFailed, onlyConflicts := false, true
		for i, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				if i < len(failed) {
					failed[i] = true
				}
				anyFailed = true
			case "TransactionConflict", "None", "":
			default:
				onlyConflicts = false
			}
		}
		if anyFailed {
			return failed, nil
		}
		if !onlyConflicts || attempt >= conflictRetries {
			return nil, err
		}
		backoff := time.Duration(10<<attempt)*time.Millisecond + rand.N(10*time.Millisecond)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
