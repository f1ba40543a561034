package store

// Pending changes of a user's email address or phone number (the API's POST /me/contact).
//
//	contact change  pk=CONTACT#<changeId>  sk=CHANGE
//
// The item holds the owner's sub, the attribute and its new value, the salt and digest of the code
// sent to the new value (never the code), the expiry and the number of answers checked. The new
// value is kept only as long as the change is pending: the item is deleted when the change
// completes and expires (TTL) otherwise.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	contactPrefix        = "CONTACT#"
	contactSK            = "CHANGE"
	contactAttrOwner     = "owner"
	contactAttrAttribute = "attribute"
	contactAttrValue     = "value"
	contactAttrSalt      = "salt"
	contactAttrDigest    = "digest"
	contactAttrExpiresAt = "codeExpiresAt"
	contactAttrAttempts  = "attempts"
)

// ContactGrace is how long after its ExpiresAt a contact change item is kept before its TTL lets
// DynamoDB delete it. Past ExpiresAt the change is refused whether or not the item is still there.
const ContactGrace = 5 * time.Minute

// ContactChange is a pending change of one user attribute (an email address or phone number),
// waiting for the code sent to the new value.
type ContactChange struct {
	// ID is the change's random identifier (the API draws 128 bits, base64url). Required.
	ID string
	// Owner is the sub of the user who asked for the change. Required.
	Owner string
	// Attribute is the Cognito attribute to change ("email" or "phone_number"). Required.
	Attribute string
	// Value is the new address. Required.
	Value string
	// Salt and Digest are the salted HMAC of the code sent to Value (never the code). Required.
	Salt, Digest []byte
	// ExpiresAt is when the code stops being valid. Required; stored with millisecond precision
	// and read back in UTC.
	ExpiresAt time.Time
	// Attempts is the number of answers checked so far (0 when stored).
	Attempts int
}

func contactKey(id string) map[string]types.AttributeValue {
	return key(contactPrefix+id, contactSK)
}

// PutContactChange stores c with Attempts 0, provided no item with its ID exists (one conditional
// put); ErrExists otherwise.
func (s *Store) PutContactChange(ctx context.Context, c ContactChange) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if err := checkID("change ID", c.ID); err != nil {
		return err
	}
	if err := checkID("owner", c.Owner); err != nil {
		return err
	}
	if err := checkText("attribute", c.Attribute, false); err != nil {
		return err
	}
	if err := checkText("value", c.Value, false); err != nil {
		return err
	}
	if err := checkBlob("salt", c.Salt); err != nil {
		return err
	}
	if err := checkBlob("digest", c.Digest); err != nil {
		return err
	}
	if c.ExpiresAt.IsZero() {
		return invalid("expiry time is zero")
	}
	item := contactKey(c.ID)
	item[contactAttrOwner] = str(c.Owner)
	item[contactAttrAttribute] = str(c.Attribute)
	item[contactAttrValue] = str(c.Value)
	item[contactAttrSalt] = blob(c.Salt)
	item[contactAttrDigest] = blob(c.Digest)
	item[contactAttrExpiresAt] = num(millis(c.ExpiresAt))
	item[contactAttrAttempts] = num(0)
	item[TTLAttribute] = num(ttlSeconds(c.ExpiresAt.Add(ContactGrace)))
	return s.putIfAbsent(ctx, "put contact change", item)
}

// AttemptContactChange uses up one of the maxAttempts answers of owner's change id and returns the
// change with the attempts counted so far (this one included), before the answer is checked. It
// is one conditional update: of any number of concurrent calls at most maxAttempts in all succeed.
// An unknown, expired or used-up change and a change of another owner all give ErrNotFound, and
// then nothing was counted.
func (s *Store) AttemptContactChange(ctx context.Context, id, owner string, maxAttempts int) (ContactChange, error) {
	if err := s.ready(ctx); err != nil {
		return ContactChange{}, err
	}
	if err := checkID("change ID", id); err != nil {
		return ContactChange{}, err
	}
	if err := checkID("owner", owner); err != nil {
		return ContactChange{}, err
	}
	if maxAttempts < 1 {
		return ContactChange{}, invalid("max attempts %d is less than 1", maxAttempts)
	}
	attrs, err := s.updateExisting(ctx, "attempt contact change", &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 contactKey(id),
		UpdateExpression:    aws.String("ADD #a :one"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND #o = :owner AND #e > :now AND #a < :max"),
		ExpressionAttributeNames: map[string]string{
			"#pk": PartitionKey, "#a": contactAttrAttempts, "#o": contactAttrOwner, "#e": contactAttrExpiresAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one":   num(1),
			":owner": str(owner),
			":now":   num(millis(s.now())),
			":max":   num(int64(maxAttempts)),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return ContactChange{}, err
	}
	c, err := decodeContactChange(id, attrs)
	if err != nil {
		return ContactChange{}, fmt.Errorf("store: attempt contact change: %w", err)
	}
	if c.Owner != owner {
		return ContactChange{}, fmt.Errorf("store: attempt contact change: %w", ErrNotFound)
	}
	return c, nil
}

// ConsumeContactChange deletes owner's change id, provided it exists and belongs to owner (one
// conditional delete, in a TransactWriteItems of one action, so IAM authorises it as
// dynamodb:DeleteItem): of concurrent calls exactly one succeeds, the others get ErrNotFound. A
// change is single use: consume it before acting on it.
func (s *Store) ConsumeContactChange(ctx context.Context, id, owner string) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if err := checkID("change ID", id); err != nil {
		return err
	}
	if err := checkID("owner", owner); err != nil {
		return err
	}
	failed, err := s.transact(ctx, []types.TransactWriteItem{{Delete: &types.Delete{
		TableName:                 aws.String(s.table),
		Key:                       contactKey(id),
		ConditionExpression:       aws.String("attribute_exists(#pk) AND #o = :owner"),
		ExpressionAttributeNames:  map[string]string{"#pk": PartitionKey, "#o": contactAttrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": str(owner)},
	}}})
	switch {
	case err != nil:
		return fmt.Errorf("store: consume contact change: %w", err)
	case failed != nil:
		return fmt.Errorf("store: consume contact change: %w", ErrNotFound)
	}
	return nil
}

func decodeContactChange(id string, it map[string]types.AttributeValue) (ContactChange, error) {
	c := ContactChange{ID: id}
	c.Owner, _ = getS(it, contactAttrOwner)
	c.Attribute, _ = getS(it, contactAttrAttribute)
	c.Value, _ = getS(it, contactAttrValue)
	c.Salt, _ = getB(it, contactAttrSalt)
	c.Digest, _ = getB(it, contactAttrDigest)
	ms, ok := getN(it, contactAttrExpiresAt)
	n, ok2 := getN(it, contactAttrAttempts)
	if !ok || !ok2 || c.Owner == "" || c.Attribute == "" || c.Value == "" || len(c.Salt) == 0 || len(c.Digest) == 0 {
		return ContactChange{}, errors.New("malformed contact change")
	}
	c.ExpiresAt = fromMillis(ms)
	c.Attempts = int(n)
	return c, nil
}
