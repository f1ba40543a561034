// Package storetest gives tests a [store.Store] over a fresh table on the
// dynalite server shared by the test binary ([dynalitetest.Shared]), and
// helpers to read that table back: every item as text, one item, one number.
//
// A package using it should stop the shared server from TestMain:
//
//	func TestMain(m *testing.M) { dynalitetest.Main(m) }
//
// When dynalite is not installed the tests are skipped, or failed when
// REQUIRE_DYNALITE=1 (see package dynalitetest).
package storetest

import (
	"context"
	"encoding/base64"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// Table is a table laid out by [store.TableDefinition] on the shared dynalite
// server, and a Store over it.
type Table struct {
	// Store is a *store.Store over DB and Name with the options given to [New].
	Store *store.Store
	// DB is the shared server's client ([dynalitetest.Server.Client]).
	DB *dynamodb.Client
	// Name is the table's unique name: the name given to [New] plus a random
	// suffix.
	Name string
}

// New creates a table from store.TableDefinition(name) under a unique name on
// the shared dynalite server ([dynalitetest.NewTable]: deleted when the test
// ends) and returns it with a Store over it built with opts (no options: the
// store's default clock, time.Now). Any failure fails the test; a missing
// dynalite skips it unless REQUIRE_DYNALITE=1.
func New(t testing.TB, name string, opts ...store.Option) *Table {
	t.Helper()
	db := dynalitetest.Shared(t).Client()
	table := dynalitetest.NewTable(t, db, store.TableDefinition(name))
	return &Table{Store: store.New(db, table, opts...), DB: db, Name: table}
}

// StoreOver returns another Store over the same table, reached through db
// (for example a wrapper of tb.DB that delays or fails calls), built with
// opts. It does not change tb.Store.
func (tb *Table) StoreOver(db store.DB, opts ...store.Option) *store.Store {
	return store.New(db, tb.Name, opts...)
}

// NoTable returns a Store on the shared dynalite server whose table does not
// exist, so that every call fails as it would against a missing table.
func NoTable(t testing.TB, opts ...store.Option) *store.Store {
	t.Helper()
	return store.New(dynalitetest.Shared(t).Client(), "no-such-table", opts...)
}

// Items returns every item of the table (a consistent scan, all pages), in
// scan order. Any error fails the test.
func (tb *Table) Items(t testing.TB) []map[string]types.AttributeValue {
	t.Helper()
	var items []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(tb.DB, &dynamodb.ScanInput{TableName: aws.String(tb.Name), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("storetest: scan %s: %v", tb.Name, err)
			return nil
		}
		items = append(items, out.Items...)
	}
	return items
}

// Item returns the item with the string key (pk, sk), read consistently, or
// nil when there is none. Any error fails the test.
func (tb *Table) Item(t testing.TB, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := tb.DB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(tb.Name),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("storetest: get %s/%s: %v", pk, sk, err)
		return nil
	}
	return out.Item
}

// Put writes item to the table as it is (a PutItem without condition,
// replacing any item with its key), bypassing the Store: for items an older
// version or another writer left. Any error fails the test.
func (tb *Table) Put(t testing.TB, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := tb.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(tb.Name), Item: item}); err != nil {
		t.Fatalf("storetest: put %v: %v", item, err)
	}
}

// Num returns the number attribute name of the item (pk, sk) (see [Num]).
func (tb *Table) Num(t testing.TB, pk, sk, name string) int64 {
	t.Helper()
	return Num(t, tb.Item(t, pk, sk), name)
}

// Num returns the number attribute name of item as an int64; the test fails
// when the attribute is missing, not a number or not an integer.
func Num(t testing.TB, item map[string]types.AttributeValue, name string) int64 {
	t.Helper()
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("attribute %s missing or not N in %v", name, item)
		return 0
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Text returns every item of the table ([Table.Items]) as text: one line
// "name=value" per attribute, attributes sorted by name, an empty line after
// each item. Values are written by [ValueText]; a binary value appears raw and
// in standard base64, so a test can look for secrets in either form.
func (tb *Table) Text(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, item := range tb.Items(t) {
		b.WriteString(ItemText(item))
		b.WriteString("\n")
	}
	return b.String()
}

// ItemText returns item as text in the form described at [Table.Text],
// without the trailing empty line.
func ItemText(item map[string]types.AttributeValue) string {
	names := make([]string, 0, len(item))
	for k := range item {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, k := range names {
		b.WriteString(k + "=" + ValueText(item[k]) + "\n")
	}
	return b.String()
}

// ValueText returns v as text: a string or number as it is; binary as the raw
// bytes, a space and their standard base64; a set or list as its members
// joined by "," (a list in [ ]); a map as {name:value,...} sorted by name; a
// boolean as true or false; NULL as null.
func ValueText(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	case *types.AttributeValueMemberB:
		return binText(v.Value)
	case *types.AttributeValueMemberSS:
		return strings.Join(v.Value, ",")
	case *types.AttributeValueMemberNS:
		return strings.Join(v.Value, ",")
	case *types.AttributeValueMemberBS:
		parts := make([]string, len(v.Value))
		for i, b := range v.Value {
			parts[i] = binText(b)
		}
		return strings.Join(parts, ",")
	case *types.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = ValueText(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case *types.AttributeValueMemberM:
		names := make([]string, 0, len(v.Value))
		for k := range v.Value {
			names = append(names, k)
		}
		slices.Sort(names)
		parts := make([]string, len(names))
		for i, k := range names {
			parts[i] = k + ":" + ValueText(v.Value[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	case *types.AttributeValueMemberBOOL:
		return strconv.FormatBool(v.Value)
	case *types.AttributeValueMemberNULL:
		return "null"
	}
	return "?"
}

func binText(b []byte) string { return string(b) + " " + base64.StdEncoding.EncodeToString(b) }

// SlowDB is a [store.DB] that waits before every call it passes on to DB:
// Delay plus a random duration in [0, Jitter) (Jitter 0: none), so that
// concurrent calls reach the server late and in shuffled order, as with a slow
// DynamoDB. A wait ends early when the call's context is done. Tests using it
// assert counts and outcomes, never durations.
type SlowDB struct {
	store.DB
	// Delay is the least wait before each call.
	Delay time.Duration
	// Jitter bounds the random part of each wait.
	Jitter time.Duration
}

// slow waits as described at [SlowDB], then makes the call.
func slow[I, O any](s SlowDB, ctx context.Context, call func(context.Context, I, ...func(*dynamodb.Options)) (O, error), in I, o []func(*dynamodb.Options)) (O, error) {
	d := s.Delay
	if s.Jitter > 0 {
		d += rand.N(s.Jitter)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return call(ctx, in, o...)
}

// GetItem waits, then calls DB.GetItem.
func (s SlowDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return slow(s, ctx, s.DB.GetItem, in, o)
}

// PutItem waits, then calls DB.PutItem.
func (s SlowDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return slow(s, ctx, s.DB.PutItem, in, o)
}

// UpdateItem waits, then calls DB.UpdateItem.
func (s SlowDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return slow(s, ctx, s.DB.UpdateItem, in, o)
}

// Query waits, then calls DB.Query.
func (s SlowDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return slow(s, ctx, s.DB.Query, in, o)
}

// TransactWriteItems waits, then calls DB.TransactWriteItems.
func (s SlowDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return slow(s, ctx, s.DB.TransactWriteItems, in, o)
}

// Clock is a settable clock safe for concurrent use; pass its Now to
// [store.WithClock]. The zero Clock reads the zero time.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
