package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/passwordless-go/cognito/lambdas/store"
)

// TestStoredTextIsChecked (issue 10, attack 14, defence in depth): the store refuses names that
// are not printable text and transports that are not WebAuthn's, whatever the caller checked.
func TestStoredTextIsChecked(t *testing.T) {
	e := setup(t)
	for _, name := range []string{"a\r\nb", "\x1b[2J", "x\u202Ey", "<b>"} {
		k := key("u", "k1")
		k.Name = name
		if err := e.s.PutDeviceKey(ctx(), k, 5); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("device key name %q: %v", name, err)
		}
		p := passkey(t, "u")
		p.Name = name
		if err := e.s.PutPasskey(ctx(), p, 5); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("passkey name %q: %v", name, err)
		}
	}
	for _, tr := range []string{"bogus", "USB", "usb\r\n", "<b>"} {
		p := passkey(t, "u")
		p.Transports = []string{"internal", tr}
		if err := e.s.PutPasskey(ctx(), p, 5); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("transport %q: %v", tr, err)
		}
	}
	p := passkey(t, "u")
	e.putPasskey(t, p, 5)
	if _, err := e.s.RenamePasskey(ctx(), "u", p.CredentialID, "evil\u2028name"); !errors.Is(err, store.ErrInvalidArgument) {
		t.Errorf("rename: %v", err)
	}
	if got, err := e.s.GetPasskey(ctx(), "u", p.CredentialID); err != nil || got.Name != p.Name {
		t.Errorf("after refused rename: %+v %v", got, err)
	}
	// An item written before the check, with junk transports: read back with the known ones only.
	_, err := e.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(e.Name),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "USER#u"},
			"sk": &types.AttributeValueMemberS{Value: "PASSKEY#" + store.EncodeCredentialID(p.CredentialID)},
		},
		UpdateExpression: aws.String("SET transports = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "x\r\ny"}, &types.AttributeValueMemberS{Value: "usb"},
			&types.AttributeValueMemberS{Value: "<script>"}, &types.AttributeValueMemberS{Value: "usb"},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, read := range []func() (store.Passkey, error){
		func() (store.Passkey, error) { return e.s.GetPasskey(ctx(), "u", p.CredentialID) },
		func() (store.Passkey, error) { l, err := e.s.ListPasskeys(ctx(), "u"); return l[0], err },
	} {
		got, err := read()
		if err != nil || !slices.Equal(got.Transports, []string{"usb"}) {
			t.Errorf("read back %q, %v", got.Transports, err)
		}
	}
}

func TestTransports(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{nil, []string{}},
		{[]string{"hybrid", "internal"}, []string{"hybrid", "internal"}},
		{[]string{"usb", "nfc", "ble", "smart-card", "hybrid", "internal"}, []string{"usb", "nfc", "ble", "smart-card", "hybrid", "internal"}},
		{[]string{"cable", "usb", "USB", "usb ", "usb", "internal\x00"}, []string{"usb"}},
	} {
		if got := store.Transports(c.in); got == nil || !slices.Equal(got, c.want) {
			t.Errorf("Transports(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	k := store.KnownTransports()
	k[0] = "changed"
	if store.KnownTransports()[0] != "usb" {
		t.Error("KnownTransports shares its slice")
	}
}
