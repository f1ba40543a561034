package storetest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

func TestValueText(t *testing.T) {
	for _, c := range []struct {
		v    types.AttributeValue
		want string
	}{
		{&types.AttributeValueMemberS{Value: "USER#a"}, "USER#a"},
		{&types.AttributeValueMemberN{Value: "-12"}, "-12"},
		{&types.AttributeValueMemberB{Value: []byte("hi")}, "hi aGk="},
		{&types.AttributeValueMemberSS{Value: []string{"a", "b"}}, "a,b"},
		{&types.AttributeValueMemberNS{Value: []string{"1", "2"}}, "1,2"},
		{&types.AttributeValueMemberBS{Value: [][]byte{[]byte("hi"), []byte("yo")}}, "hi aGk=,yo eW8="},
		{&types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "x"}, &types.AttributeValueMemberN{Value: "1"}}}, "[x,1]"},
		{&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"z": &types.AttributeValueMemberBOOL{Value: true}, "a": &types.AttributeValueMemberNULL{Value: true}}}, "{a:null,z:true}"},
		{nil, "?"},
	} {
		if got := storetest.ValueText(c.v); got != c.want {
			t.Errorf("ValueText(%#v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// TestTable: New's table and store, the raw readers and writer, and Text's form.
func TestTable(t *testing.T) {
	clk := storetest.NewClock(time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC))
	tb := storetest.New(t, "fixture", store.WithClock(clk.Now))
	if !strings.HasPrefix(tb.Name, "fixture-") || tb.Store == nil || tb.DB == nil {
		t.Fatalf("table %q, store %v, client %v", tb.Name, tb.Store, tb.DB)
	}
	if txt := tb.Text(t); txt != "" {
		t.Fatalf("a new table as text: %q", txt)
	}
	if it := tb.Item(t, "USER#a", "META"); it != nil {
		t.Fatalf("an item in a new table: %v", it)
	}
	tb.Put(t, map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "USER#a"}, "sk": &types.AttributeValueMemberS{Value: "META"},
		"n": &types.AttributeValueMemberN{Value: "7"}, "h": &types.AttributeValueMemberB{Value: []byte("hi")},
	})
	if got, want := tb.Text(t), "h=hi aGk=\nn=7\npk=USER#a\nsk=META\n\n"; got != want {
		t.Fatalf("Text = %q, want %q", got, want)
	}
	if n := tb.Num(t, "USER#a", "META", "n"); n != 7 {
		t.Fatalf("Num = %d, want 7", n)
	}
	if items := tb.Items(t); len(items) != 1 {
		t.Fatalf("%d items, want 1", len(items))
	}
	// The Store writes with the given clock, into the same table as StoreOver's.
	if err := tb.StoreOver(tb.DB, store.WithClock(clk.Now)).PutDeviceKey(context.Background(),
		store.DeviceKey{Owner: "b", ID: "k1", Algorithm: "ES256", Fingerprint: "fp", PublicKey: []byte("spki")}, 5); err != nil {
		t.Fatal(err)
	}
	keys, err := tb.Store.ListDeviceKeys(context.Background(), "b")
	if err != nil || len(keys) != 1 || !keys[0].CreatedAt.Equal(clk.Now()) {
		t.Fatalf("ListDeviceKeys = %+v, %v; want one key created at %v", keys, err, clk.Now())
	}
	if _, err := storetest.NoTable(t).ListDeviceKeys(context.Background(), "b"); err == nil {
		t.Fatal("NoTable's store found its table")
	}
}

func TestClock(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := storetest.NewClock(t0)
	c.Add(time.Minute)
	if got := c.Now(); !got.Equal(t0.Add(time.Minute)) || got.Location() != time.UTC {
		t.Fatalf("after Add: %v", got)
	}
	c.Set(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("after Set: %v", got)
	}
	var zero storetest.Clock
	if !zero.Now().IsZero() {
		t.Fatal("the zero Clock is not at the zero time")
	}
}

// TestSlowDB: every call goes through to the table; a call whose context is done is not
// delayed and fails.
func TestSlowDB(t *testing.T) {
	tb := storetest.New(t, "slow")
	st := tb.StoreOver(storetest.SlowDB{DB: tb.DB, Delay: time.Millisecond, Jitter: time.Millisecond})
	ctx := context.Background()
	k := store.DeviceKey{Owner: "b", ID: "k1", Algorithm: "ES256", Fingerprint: "fp", PublicKey: []byte("spki")}
	if err := st.PutDeviceKey(ctx, k, 5); err != nil { // TransactWriteItems
		t.Fatal(err)
	}
	if got, err := st.GetDeviceKey(ctx, "b", "k1"); err != nil || got.ID != "k1" { // GetItem
		t.Fatalf("GetDeviceKey = %+v, %v", got, err)
	}
	if l, err := st.ListDeviceKeys(ctx, "b"); err != nil || len(l) != 1 { // Query
		t.Fatalf("ListDeviceKeys = %+v, %v", l, err)
	}
	c := store.PasskeyChallenge{Kind: store.AuthenticationChallenge, ID: "aWRpZGlkaWRpZGlkaWRpZA", Challenge: "Y2hhbGxlbmdl", ExpiresAt: time.Now().Add(time.Minute)}
	if err := st.PutPasskeyChallenge(ctx, c); err != nil { // PutItem
		t.Fatal(err)
	}
	if ok, err := st.ReserveAttempt(ctx, "acct", "a/1", 5, time.Minute); err != nil || !ok { // UpdateItem
		t.Fatalf("ReserveAttempt = %v, %v", ok, err)
	}
	if tb.Num(t, "USER#b", "META", "deviceKeyCount") != 1 {
		t.Fatal("the key was not counted")
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	slow := tb.StoreOver(storetest.SlowDB{DB: tb.DB, Delay: time.Hour})
	if _, err := slow.ListDeviceKeys(done, "b"); err == nil {
		t.Fatal("a call with a cancelled context succeeded")
	}
}
