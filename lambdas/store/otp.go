package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	otpPrefix          = "OTP#"
	otpGenPrefix       = "GEN#"
	attrSessionID      = "sessionId"
	attrGeneration     = "generation"
	attrSalt           = "salt"
	attrHash           = "hash"
	attrCodeGeneration = "codeGeneration"
	attrMethod         = "method"
	attrCodeExpiresAt  = "codeExpiresAt"
)

// OTPGrace is how long after its ExpiresAt a one-time-code record is kept:
// its TTL is ExpiresAt + OTPGrace. Past that it is treated as absent even
// before DynamoDB deletes it.
const OTPGrace = 5 * time.Minute

// OTPRecord is the stored form of a one-time code sent for a sign-in session.
type OTPRecord struct {
	// SessionID identifies the sign-in session. Required.
	SessionID string
	// Generation numbers the codes sent within a session, from 0.
	Generation int
	// Salt and Hash are the salted hash of the code (never the code). Required.
	Salt, Hash []byte
	// Method names how the code was sent (e.g. "email"). Required.
	Method string
	// ExpiresAt is when the code stops being valid. Required; stored with
	// millisecond precision and read back in UTC.
	ExpiresAt time.Time
	// CodeGeneration is the generation whose code Hash is for, when the record carries an
	// earlier generation's code on (a resend that sent nothing); 0 means Generation.
	CodeGeneration int
}

func otpKey(sessionID string, generation int) map[string]types.AttributeValue {
	return key(otpPrefix+sessionID, otpGenPrefix+strconv.Itoa(generation))
}

// CreateOTP stores r unless a record for the same session and generation
// exists. It returns (r, true, nil) when it stored r, and (existing, false,
// nil) when a record already existed, so a retried send can reuse the first
// code. The returned r has ExpiresAt normalised as stored. A record past its
// TTL counts as absent and is replaced.
func (s *Store) CreateOTP(ctx context.Context, r OTPRecord) (OTPRecord, bool, error) {
	if err := s.ready(ctx); err != nil {
		return OTPRecord{}, false, err
	}
	if err := checkID("session ID", r.SessionID); err != nil {
		return OTPRecord{}, false, err
	}
	if r.Generation < 0 {
		return OTPRecord{}, false, invalid("generation %d is negative", r.Generation)
	}
	if err := checkBlob("salt", r.Salt); err != nil {
		return OTPRecord{}, false, err
	}
	if err := checkBlob("hash", r.Hash); err != nil {
		return OTPRecord{}, false, err
	}
	if err := checkText("method", r.Method, false); err != nil {
		return OTPRecord{}, false, err
	}
	if r.ExpiresAt.IsZero() {
		return OTPRecord{}, false, invalid("expiry time is zero")
	}
	r.ExpiresAt = fromMillis(millis(r.ExpiresAt))

	item := otpKey(r.SessionID, r.Generation)
	item[attrSessionID] = str(r.SessionID)
	item[attrGeneration] = num(int64(r.Generation))
	item[attrSalt] = blob(r.Salt)
	item[attrHash] = blob(r.Hash)
	item[attrMethod] = str(r.Method)
	item[attrCodeExpiresAt] = num(millis(r.ExpiresAt))
	item[TTLAttribute] = num(ttlSeconds(r.ExpiresAt.Add(OTPGrace)))
	if r.CodeGeneration < 0 || r.CodeGeneration > r.Generation {
		return OTPRecord{}, false, invalid("code generation %d outside 0-%d", r.CodeGeneration, r.Generation)
	}
	if r.CodeGeneration != 0 && r.CodeGeneration != r.Generation {
		item[attrCodeGeneration] = num(int64(r.CodeGeneration))
	}

	// Two rounds: the existing record may expire between put and read.
	for range 2 {
		_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 aws.String(s.table),
			Item:                      item,
			ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #ttl < :now"),
			ExpressionAttributeNames:  map[string]string{"#pk": PartitionKey, "#ttl": TTLAttribute},
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(s.now().Unix())},
		})
		if err == nil {
			return r, true, nil
		}
		if !isConditionFailed(err) {
			return OTPRecord{}, false, fmt.Errorf("store: create OTP: %w", err)
		}
		existing, err := s.GetOTP(ctx, r.SessionID, r.Generation)
		if err == nil {
			return existing, false, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return OTPRecord{}, false, fmt.Errorf("store: create OTP: %w", err)
		}
	}
	return OTPRecord{}, false, errors.New("store: create OTP: record kept changing, giving up")
}

// GetOTP returns the record for sessionID and generation (strongly
// consistent read), or ErrNotFound if there is none or it is past its TTL.
func (s *Store) GetOTP(ctx context.Context, sessionID string, generation int) (OTPRecord, error) {
	if err := s.ready(ctx); err != nil {
		return OTPRecord{}, err
	}
	if err := checkID("session ID", sessionID); err != nil {
		return OTPRecord{}, err
	}
	if generation < 0 {
		return OTPRecord{}, invalid("generation %d is negative", generation)
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            otpKey(sessionID, generation),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return OTPRecord{}, fmt.Errorf("store: get OTP: %w", err)
	}
	if out.Item == nil {
		return OTPRecord{}, fmt.Errorf("store: get OTP: %w", ErrNotFound)
	}
	if ttl, ok := getN(out.Item, TTLAttribute); ok && ttl < s.now().Unix() {
		return OTPRecord{}, fmt.Errorf("store: get OTP: expired: %w", ErrNotFound)
	}
	r := OTPRecord{SessionID: sessionID, Generation: generation}
	r.Salt, _ = getB(out.Item, attrSalt)
	r.Hash, _ = getB(out.Item, attrHash)
	r.Method, _ = getS(out.Item, attrMethod)
	ms, ok := getN(out.Item, attrCodeExpiresAt)
	if !ok || len(r.Salt) == 0 || len(r.Hash) == 0 || r.Method == "" {
		return OTPRecord{}, errors.New("store: get OTP: malformed record")
	}
	r.ExpiresAt = fromMillis(ms)
	if g, ok := getN(out.Item, attrCodeGeneration); ok {
		r.CodeGeneration = int(g)
	}
	return r, nil
}

// ttlSeconds rounds t up to whole Unix seconds.
func ttlSeconds(t time.Time) int64 {
	u := t.Unix()
	if t.Nanosecond() > 0 {
		u++
	}
	return u
}
