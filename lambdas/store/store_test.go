package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

// start of a UTC day, so minute, hour and day windows all begin here.
var day0 = time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)

// env is a table on dynalite and a Store over it (also Table.Store) whose clock is clk.
type env struct {
	*storetest.Table
	s   *store.Store
	clk *storetest.Clock
}

// setup returns a fresh table whose store's clock starts 10 s into day0.
func setup(t *testing.T) env {
	t.Helper()
	clk := storetest.NewClock(day0.Add(10 * time.Second))
	tb := storetest.New(t, "keys", store.WithClock(clk.Now))
	return env{Table: tb, s: tb.Store, clk: clk}
}

// putKey stores k under the cap maxPerUser; any error fails the test.
func (e env) putKey(t *testing.T, k store.DeviceKey, maxPerUser int) {
	t.Helper()
	if err := e.s.PutDeviceKey(ctx(), k, maxPerUser); err != nil {
		t.Fatalf("PutDeviceKey %s/%s: %v", k.Owner, k.ID, err)
	}
}

// putPasskey stores p under the cap maxPerUser; any error fails the test.
func (e env) putPasskey(t *testing.T, p store.Passkey, maxPerUser int) {
	t.Helper()
	if err := e.s.PutPasskey(ctx(), p, maxPerUser); err != nil {
		t.Fatalf("PutPasskey for %s: %v", p.Owner, err)
	}
}

// putChange stores c; any error fails the test.
func (e env) putChange(t *testing.T, c store.ContactChange) {
	t.Helper()
	if err := e.s.PutContactChange(ctx(), c); err != nil {
		t.Fatalf("PutContactChange %s: %v", c.ID, err)
	}
}

// wins runs n calls of f at once ([dynalitetest.AtOnce]) and returns how many returned true
// and no error. An error that wraps none of allowed fails the test, named by what and the
// call's index.
func wins(t *testing.T, what string, n int, f func(i int) (bool, error), allowed ...error) int {
	t.Helper()
	type result struct {
		ok  bool
		err error
	}
	results := dynalitetest.AtOnce(n, func(i int) result {
		ok, err := f(i)
		return result{ok, err}
	})
	won := 0
	for i, r := range results {
		switch {
		case r.err == nil:
			if r.ok {
				won++
			}
		case !slices.ContainsFunc(allowed, func(a error) bool { return errors.Is(r.err, a) }):
			t.Errorf("%s %d: %v", what, i, r.err)
		}
	}
	return won
}

// succeeds adapts a call returning only an error for [wins]: it wins when it returns nil.
func succeeds(f func(i int) error) func(i int) (bool, error) {
	return func(i int) (bool, error) {
		err := f(i)
		return err == nil, err
	}
}

func key(owner, id string) store.DeviceKey {
	return store.DeviceKey{
		Owner:       owner,
		ID:          id,
		Name:        "laptop " + id,
		Algorithm:   "ES256",
		Fingerprint: "fp-" + id,
		PublicKey:   []byte("spki-" + id),
	}
}

func ctx() context.Context { return context.Background() }

func TestTableDefinition(t *testing.T) {
	d := store.TableDefinition("x")
	if aws.ToString(d.TableName) != "x" || d.BillingMode != types.BillingModePayPerRequest ||
		len(d.KeySchema) != 2 || len(d.GlobalSecondaryIndexes) != 1 ||
		aws.ToString(d.GlobalSecondaryIndexes[0].IndexName) != store.CredentialIndex ||
		d.GlobalSecondaryIndexes[0].Projection.ProjectionType != types.ProjectionTypeAll {
		t.Fatalf("unexpected definition %+v", d)
	}
	ttl := store.TimeToLive("x")
	if aws.ToString(ttl.TimeToLiveSpecification.AttributeName) != store.TTLAttribute {
		t.Fatal("ttl attribute")
	}
}

func TestDeviceKeyLifecycle(t *testing.T) {
	e := setup(t)
	a, b := key("alice", "k1"), key("alice", "k2")
	b.Name = ""
	e.putKey(t, b, 5)
	e.clk.Add(time.Second)
	e.putKey(t, a, 5)
	if n := storetest.Num(t, e.Item(t, "USER#alice", "META"), "deviceKeyCount"); n != 2 {
		t.Fatalf("count %d", n)
	}

	list, err := e.s.ListDeviceKeys(ctx(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "k1" || list[1].ID != "k2" {
		t.Fatalf("list %+v", list)
	}
	want := a
	want.CreatedAt = day0.Add(11 * time.Second)
	if !reflect.DeepEqual(list[0], want) {
		t.Fatalf("got %+v\nwant %+v", list[0], want)
	}
	if list[1].Name != "" || !list[1].CreatedAt.Equal(day0.Add(10*time.Second)) {
		t.Fatalf("k2 %+v", list[1])
	}

	got, err := e.s.GetDeviceKey(ctx(), "alice", "k1")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("get: %+v %v", got, err)
	}
	if !got.LastUsedAt.IsZero() {
		t.Fatal("unused key has LastUsedAt")
	}

	used := day0.Add(time.Hour + 1234*time.Millisecond)
	if err := e.s.TouchDeviceKey(ctx(), "alice", "k1", used); err != nil {
		t.Fatal(err)
	}
	got, _ = e.s.GetDeviceKey(ctx(), "alice", "k1")
	if !got.LastUsedAt.Equal(used) {
		t.Fatalf("LastUsedAt %v, want %v", got.LastUsedAt, used)
	}

	if err := e.s.DeleteDeviceKey(ctx(), "alice", "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.GetDeviceKey(ctx(), "alice", "k1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	if err := e.s.DeleteDeviceKey(ctx(), "alice", "k1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if err := e.s.TouchDeviceKey(ctx(), "alice", "k1", used); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("touch deleted: %v", err)
	}
	if e.Item(t, "USER#alice", "DEVICEKEY#k1") != nil {
		t.Fatal("touch recreated the key")
	}
	if n := storetest.Num(t, e.Item(t, "USER#alice", "META"), "deviceKeyCount"); n != 1 {
		t.Fatalf("count after delete %d", n)
	}
	list, _ = e.s.ListDeviceKeys(ctx(), "alice")
	if len(list) != 1 || list[0].ID != "k2" {
		t.Fatalf("list after delete %+v", list)
	}
}

func TestDeviceKeyCap(t *testing.T) {
	e := setup(t)
	for i := range 3 {
		e.putKey(t, key("u", fmt.Sprint("k", i)), 3)
	}
	if err := e.s.PutDeviceKey(ctx(), key("u", "k3"), 3); !errors.Is(err, store.ErrLimitReached) {
		t.Fatalf("4th put: %v", err)
	}
	if _, err := e.s.GetDeviceKey(ctx(), "u", "k3"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused key stored: %v", err)
	}
	if n := storetest.Num(t, e.Item(t, "USER#u", "META"), "deviceKeyCount"); n != 3 {
		t.Fatalf("count %d", n)
	}
	if err := e.s.DeleteDeviceKey(ctx(), "u", "k1"); err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutDeviceKey(ctx(), key("u", "k3"), 3); err != nil {
		t.Fatalf("put after delete: %v", err)
	}
	if err := e.s.PutDeviceKey(ctx(), key("u", "k4"), 3); !errors.Is(err, store.ErrLimitReached) {
		t.Fatalf("put over cap again: %v", err)
	}
	list, _ := e.s.ListDeviceKeys(ctx(), "u")
	if len(list) != 3 {
		t.Fatalf("%d keys", len(list))
	}
}

func TestDeviceKeyCapConcurrent(t *testing.T) {
	e := setup(t)
	// Every call either succeeds or is refused with ErrLimitReached (wins fails the test on any
	// other error): 3 succeed, so 7 are refused.
	ok := wins(t, "register", 10, succeeds(func(i int) error { return e.s.PutDeviceKey(ctx(), key("u", fmt.Sprint("k", i)), 3) }), store.ErrLimitReached)
	if ok != 3 {
		t.Fatalf("ok=%d limited=%d", ok, 10-ok)
	}
}

func TestDeviceKeyDuplicates(t *testing.T) {
	e := setup(t)
	e.putKey(t, key("u", "k1"), 5)
	dupFP := key("u", "k2")
	dupFP.Fingerprint = "fp-k1"
	if err := e.s.PutDeviceKey(ctx(), dupFP, 5); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate fingerprint: %v", err)
	}
	dupID := key("u", "k1")
	dupID.Fingerprint = "other"
	if err := e.s.PutDeviceKey(ctx(), dupID, 5); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate ID: %v", err)
	}
	if n := storetest.Num(t, e.Item(t, "USER#u", "META"), "deviceKeyCount"); n != 1 {
		t.Fatalf("count %d after refused puts", n)
	}
	// Another user may register the same fingerprint.
	other := key("v", "k9")
	other.Fingerprint = "fp-k1"
	e.putKey(t, other, 5)
}

func TestDeviceKeyIsolation(t *testing.T) {
	e := setup(t)
	e.putKey(t, key("A", "ka"), 5)
	e.putKey(t, key("B", "kb"), 5)
	// An owner that is a prefix of another must not see its keys.
	e.putKey(t, key("AB", "kab"), 5)
	for owner, want := range map[string]string{"A": "ka", "B": "kb", "AB": "kab"} {
		list, err := e.s.ListDeviceKeys(ctx(), owner)
		if err != nil || len(list) != 1 || list[0].ID != want || list[0].Owner != owner {
			t.Fatalf("%s: %+v %v", owner, list, err)
		}
	}
	if list, err := e.s.ListDeviceKeys(ctx(), "nobody"); err != nil || list == nil || len(list) != 0 {
		t.Fatalf("empty owner list %v %v", list, err)
	}
	if _, err := e.s.GetDeviceKey(ctx(), "B", "ka"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("B get A's key: %v", err)
	}
	if err := e.s.TouchDeviceKey(ctx(), "B", "ka", day0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("B touch A's key: %v", err)
	}
	if err := e.s.DeleteDeviceKey(ctx(), "B", "ka"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("B delete A's key: %v", err)
	}
	got, err := e.s.GetDeviceKey(ctx(), "A", "ka")
	if err != nil || !got.LastUsedAt.IsZero() {
		t.Fatalf("A's key changed: %+v %v", got, err)
	}
	if n := storetest.Num(t, e.Item(t, "USER#B", "META"), "deviceKeyCount"); n != 1 {
		t.Fatalf("B's count %d", n)
	}
}

func TestDeviceKeyCredentialIndex(t *testing.T) {
	e := setup(t)
	k := key("owner-1", "cred-123")
	e.putKey(t, k, 5)
	out, err := e.DB.Query(ctx(), &dynamodb.QueryInput{
		TableName:              aws.String(e.Name),
		IndexName:              aws.String(store.CredentialIndex),
		KeyConditionExpression: aws.String("#c = :c"),
		ExpressionAttributeNames: map[string]string{
			"#c": store.CredentialIDAttribute,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":c": &types.AttributeValueMemberS{Value: "DEVICEKEY#cred-123"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 {
		t.Fatalf("%d items", len(out.Items))
	}
	it := out.Items[0]
	want := map[string]string{"pk": "USER#owner-1", "sk": "DEVICEKEY#cred-123", "keyId": "cred-123",
		"credentialId": "DEVICEKEY#cred-123", "fingerprint": "fp-cred-123", "algorithm": "ES256", "name": "laptop cred-123"}
	for name, v := range want {
		if s, ok := it[name].(*types.AttributeValueMemberS); !ok || s.Value != v {
			t.Errorf("%s = %v, want %q", name, it[name], v)
		}
	}
	if b, ok := it["publicKey"].(*types.AttributeValueMemberB); !ok || string(b.Value) != "spki-cred-123" {
		t.Errorf("publicKey = %v", it["publicKey"])
	}
	if storetest.Num(t, it, "createdAt") != day0.Add(10*time.Second).UnixMilli() {
		t.Errorf("createdAt = %v", it["createdAt"])
	}
	if _, ok := it["lastUsedAt"]; ok {
		t.Error("lastUsedAt set on a new key")
	}
	if _, ok := e.Item(t, "USER#owner-1", "META")["credentialId"]; ok {
		t.Error("META item is in the credential index")
	}
}

func TestAllowSendLimits(t *testing.T) {
	e := setup(t)
	limits := []store.Limit{{Window: time.Minute, Max: 1}, {Window: 24 * time.Hour, Max: 5}}
	allow := func() bool {
		t.Helper()
		ok, err := e.s.AllowSend(ctx(), "h(recipient)", limits...)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	daySK := "86400#" + strconv.FormatInt(day0.Unix(), 10)
	dayCount := func() int64 { return storetest.Num(t, e.Item(t, "RATE#h(recipient)", daySK), "n") }

	if !allow() {
		t.Fatal("first send refused")
	}
	if allow() {
		t.Fatal("second send within the minute allowed")
	}
	if n := dayCount(); n != 1 {
		t.Fatalf("refused send consumed from the day limit: %d", n)
	}
	for i := 2; i <= 5; i++ {
		e.clk.Add(time.Minute)
		if !allow() {
			t.Fatalf("send %d refused", i)
		}
		if allow() {
			t.Fatalf("send %d: second in minute allowed", i)
		}
	}
	e.clk.Add(time.Minute)
	if allow() {
		t.Fatal("6th send in a day allowed")
	}
	if n := dayCount(); n != 5 {
		t.Fatalf("day count %d", n)
	}
	minStart := windowStartUnix(e.clk.Now(), 60)
	if it := e.Item(t, "RATE#h(recipient)", "60#"+strconv.FormatInt(minStart, 10)); it != nil {
		t.Fatalf("refused send consumed from the minute limit: %v", it)
	}
	// TTLs: window end + window.
	if ttl := storetest.Num(t, e.Item(t, "RATE#h(recipient)", daySK), store.TTLAttribute); ttl != day0.Unix()+2*86400 {
		t.Fatalf("day TTL %d", ttl)
	}
	firstMin := e.Item(t, "RATE#h(recipient)", "60#"+strconv.FormatInt(day0.Unix(), 10))
	if ttl := storetest.Num(t, firstMin, store.TTLAttribute); ttl != day0.Unix()+120 {
		t.Fatalf("minute TTL %d", ttl)
	}
	e.clk.Add(24 * time.Hour)
	if !allow() {
		t.Fatal("send on the next day refused")
	}
	// Another recipient is independent.
	if ok, err := e.s.AllowSend(ctx(), "h(other)", limits...); err != nil || !ok {
		t.Fatalf("other recipient: %v %v", ok, err)
	}
}

func windowStartUnix(t time.Time, secs int64) int64 { return t.Unix() - t.Unix()%secs }

func TestAllowSendConcurrent(t *testing.T) {
	e := setup(t)
	limits := []store.Limit{{Window: time.Minute, Max: 1}, {Window: 24 * time.Hour, Max: 5}}
	allowed := wins(t, "send", 20, func(int) (bool, error) { return e.s.AllowSend(ctx(), "h(r)", limits...) })
	if allowed != 1 {
		t.Fatalf("%d of 20 concurrent sends allowed", allowed)
	}
	daySK := "86400#" + strconv.FormatInt(day0.Unix(), 10)
	if n := storetest.Num(t, e.Item(t, "RATE#h(r)", daySK), "n"); n != 1 {
		t.Fatalf("day count %d", n)
	}
}

func TestOTP(t *testing.T) {
	e := setup(t)
	first := store.OTPRecord{
		SessionID:  "sess-1",
		Generation: 0,
		Salt:       []byte("salt-1"),
		Hash:       []byte("hash-1"),
		Method:     "email",
		ExpiresAt:  day0.Add(5*time.Minute + 250*time.Millisecond),
	}
	got, created, err := e.s.CreateOTP(ctx(), first)
	if err != nil || !created || !reflect.DeepEqual(got, first) {
		t.Fatalf("create: %+v %v %v", got, created, err)
	}
	retry := first
	retry.Salt, retry.Hash, retry.Method = []byte("salt-2"), []byte("hash-2"), "sms"
	retry.ExpiresAt = first.ExpiresAt.Add(time.Minute)
	got, created, err = e.s.CreateOTP(ctx(), retry)
	if err != nil || created || !reflect.DeepEqual(got, first) {
		t.Fatalf("re-create: %+v %v %v", got, created, err)
	}
	if got, err := e.s.GetOTP(ctx(), "sess-1", 0); err != nil || !reflect.DeepEqual(got, first) {
		t.Fatalf("get: %+v %v", got, err)
	}
	next := retry
	next.Generation = 1
	if got, created, err := e.s.CreateOTP(ctx(), next); err != nil || !created || !reflect.DeepEqual(got, next) {
		t.Fatalf("generation 1: %+v %v %v", got, created, err)
	}
	if _, err := e.s.GetOTP(ctx(), "sess-1", 2); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing generation: %v", err)
	}
	if _, err := e.s.GetOTP(ctx(), "sess-2", 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing session: %v", err)
	}
	// TTL: ExpiresAt + grace, rounded up to whole seconds.
	item := e.Item(t, "OTP#sess-1", "GEN#0")
	wantTTL := first.ExpiresAt.Add(store.OTPGrace).Unix() + 1
	if ttl := storetest.Num(t, item, store.TTLAttribute); ttl != wantTTL {
		t.Fatalf("expiresAt %d, want %d", ttl, wantTTL)
	}
	// Past its TTL a record is absent and can be replaced.
	e.clk.Set(time.Unix(wantTTL+1, 0))
	if _, err := e.s.GetOTP(ctx(), "sess-1", 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired get: %v", err)
	}
	fresh := first
	fresh.Hash = []byte("hash-3")
	fresh.ExpiresAt = e.clk.Now().Add(5 * time.Minute).UTC()
	if got, created, err := e.s.CreateOTP(ctx(), fresh); err != nil || !created || !reflect.DeepEqual(got, fresh) {
		t.Fatalf("replace expired: %+v %v %v", got, created, err)
	}
}

// TestDeviceKeyDuplicatesConcurrent: the fingerprint guard is part of the transaction, so of many
// simultaneous registrations of one key by one owner exactly one wins; revoking frees it again.
func TestDeviceKeyDuplicatesConcurrent(t *testing.T) {
	e := setup(t)
	const n = 10
	errs := dynalitetest.AtOnce(n, func(i int) error {
		k := key("u", fmt.Sprintf("k%d", i))
		k.Fingerprint = "same"
		return e.s.PutDeviceKey(ctx(), k, 50)
	})
	won := ""
	for i, err := range errs {
		switch {
		case err == nil && won == "":
			won = fmt.Sprintf("k%d", i)
		case err == nil:
			t.Fatalf("two registrations of one fingerprint succeeded (%s and k%d)", won, i)
		case !errors.Is(err, store.ErrExists):
			t.Fatalf("k%d: %v", i, err)
		}
	}
	if won == "" {
		t.Fatal("no registration succeeded")
	}
	if c := storetest.Num(t, e.Item(t, "USER#u", "META"), "deviceKeyCount"); c != 1 {
		t.Fatalf("count %d", c)
	}
	if err := e.s.DeleteDeviceKey(ctx(), "u", won); err != nil {
		t.Fatal(err)
	}
	if item := e.Item(t, "USER#u", "DEVICEKEYFP#same"); item != nil {
		t.Fatalf("guard left behind after revoke: %v", item)
	}
	again := key("u", "k-new")
	again.Fingerprint = "same"
	if err := e.s.PutDeviceKey(ctx(), again, 50); err != nil {
		t.Fatalf("re-registering a revoked key: %v", err)
	}
	if keys, _ := e.s.ListDeviceKeys(ctx(), "u"); len(keys) != 1 || keys[0].ID != "k-new" {
		t.Fatalf("list after re-registration: %+v", keys)
	}
}

func TestOTPCodeGeneration(t *testing.T) {
	e := setup(t)
	r := store.OTPRecord{SessionID: "sess", Generation: 3, CodeGeneration: 1, Salt: []byte("s"), Hash: []byte("h"),
		Method: "email_otp", ExpiresAt: e.clk.Now().Add(time.Minute)}
	if _, created, err := e.s.CreateOTP(ctx(), r); err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	got, err := e.s.GetOTP(ctx(), "sess", 3)
	if err != nil || got.CodeGeneration != 1 {
		t.Fatalf("read back %+v %v", got, err)
	}
	plain := r
	plain.Generation, plain.CodeGeneration = 4, 0
	if _, _, err := e.s.CreateOTP(ctx(), plain); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.s.GetOTP(ctx(), "sess", 4); got.CodeGeneration != 0 {
		t.Fatalf("own-generation record reads back %d", got.CodeGeneration)
	}
	bad := r
	bad.Generation, bad.CodeGeneration = 5, 6
	if _, _, err := e.s.CreateOTP(ctx(), bad); !errors.Is(err, store.ErrInvalidArgument) {
		t.Fatalf("code generation after the record's: %v", err)
	}
}
