package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/passwordless-go/cognito/lambdas/store"
)

// noDB fails the test if the store reaches DynamoDB.
type noDB struct{ t *testing.T }

// refuse fails the test and returns an error: the answer of every noDB method.
func refuse[O any](d noDB) (O, error) {
	d.t.Helper()
	d.t.Error("DynamoDB called for invalid input")
	var zero O
	return zero, errors.New("no")
}

func (d noDB) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return refuse[*dynamodb.GetItemOutput](d)
}
func (d noDB) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return refuse[*dynamodb.PutItemOutput](d)
}
func (d noDB) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return refuse[*dynamodb.UpdateItemOutput](d)
}
func (d noDB) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return refuse[*dynamodb.QueryOutput](d)
}
func (d noDB) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return refuse[*dynamodb.TransactWriteItemsOutput](d)
}

func TestInvalidArguments(t *testing.T) {
	s := store.New(noDB{t}, "table")
	good := key("u", "k")
	c := context.Background()
	long := strings.Repeat("x", 600)
	mod := func(f func(*store.DeviceKey)) store.DeviceKey { k := good; f(&k); return k }
	puts := map[string]store.DeviceKey{
		"no owner":       mod(func(k *store.DeviceKey) { k.Owner = "" }),
		"no id":          mod(func(k *store.DeviceKey) { k.ID = "" }),
		"bad utf8 owner": mod(func(k *store.DeviceKey) { k.Owner = "\xff" }),
		"long id":        mod(func(k *store.DeviceKey) { k.ID = long }),
		"no algorithm":   mod(func(k *store.DeviceKey) { k.Algorithm = "" }),
		"no fingerprint": mod(func(k *store.DeviceKey) { k.Fingerprint = "" }),
		"no public key":  mod(func(k *store.DeviceKey) { k.PublicKey = nil }),
	}
	for name, k := range puts {
		if err := s.PutDeviceKey(c, k, 3); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
	checks := map[string]error{
		"cap 0":          s.PutDeviceKey(c, good, 0),
		"list no owner":  func() error { _, err := s.ListDeviceKeys(c, ""); return err }(),
		"get no key":     func() error { _, err := s.GetDeviceKey(c, "u", ""); return err }(),
		"delete no user": s.DeleteDeviceKey(c, "", "k"),
		"touch zero":     s.TouchDeviceKey(c, "u", "k", time.Time{}),
		"send no limits": func() error { _, err := s.AllowSend(c, "r"); return err }(),
		"send max 0":     func() error { _, err := s.AllowSend(c, "r", store.Limit{Window: time.Minute}); return err }(),
		"send dup window": func() error {
			_, err := s.AllowSend(c, "r", store.Limit{Window: time.Minute, Max: 1}, store.Limit{Window: 60 * time.Second, Max: 2})
			return err
		}(),
		"send no key": func() error { _, err := s.AllowSend(c, "", store.Limit{Window: time.Minute, Max: 1}); return err }(),
		"otp no salt": func() error {
			_, _, err := s.CreateOTP(c, store.OTPRecord{SessionID: "s", Hash: []byte("h"), Method: "m", ExpiresAt: time.Now()})
			return err
		}(),
		"otp no expiry": func() error {
			_, _, err := s.CreateOTP(c, store.OTPRecord{SessionID: "s", Salt: []byte("s"), Hash: []byte("h"), Method: "m"})
			return err
		}(),
		"otp neg gen": func() error { _, err := s.GetOTP(c, "s", -1); return err }(),
	}
	for name, err := range checks {
		if !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestMisconfiguredStoreDoesNotPanic(t *testing.T) {
	c := context.Background()
	var nilStore *store.Store
	if _, err := nilStore.ListDeviceKeys(c, "u"); err == nil {
		t.Error("nil store: no error")
	}
	if _, err := store.New(nil, "t").GetOTP(c, "s", 0); err == nil {
		t.Error("nil db: no error")
	}
	if _, err := store.New(noDB{t}, "").Attempts(c, "a", time.Minute); err == nil {
		t.Error("no table: no error")
	}
	var nilCtx context.Context
	if err := store.New(noDB{t}, "t", store.WithClock(nil), nil).DeleteDeviceKey(nilCtx, "u", "k"); err == nil {
		t.Error("nil ctx: no error")
	}
}
