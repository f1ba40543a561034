package dynalitetest_test

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

func simpleTable() *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName: aws.String("simple"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
		},
		BillingMode: types.BillingModePayPerRequest,
	}
}

// simpleWith creates a simpleTable on the shared server holding item and returns the server's
// client and the table's name.
func simpleWith(t *testing.T, item map[string]types.AttributeValue) (*dynamodb.Client, string) {
	t.Helper()
	c := dynalitetest.Shared(t).Client()
	table := dynalitetest.NewTable(t, c, simpleTable())
	if _, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
	return c, table
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

func TestStartOwnServer(t *testing.T) {
	srv := dynalitetest.Start(t)
	if !strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:") || !strings.HasPrefix(srv.DynaliteEndpoint, "http://127.0.0.1:") {
		t.Fatalf("endpoints not on loopback: %q %q", srv.Endpoint, srv.DynaliteEndpoint)
	}
	if _, err := srv.Client().ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestNewTable(t *testing.T) {
	srv := dynalitetest.Shared(t)
	def := simpleTable()
	a := dynalitetest.NewTable(t, srv.Client(), def)
	b := dynalitetest.NewTable(t, srv.Client(), def)
	if a == b || !strings.HasPrefix(a, "simple-") {
		t.Fatalf("names %q, %q", a, b)
	}
	if aws.ToString(def.TableName) != "simple" {
		t.Fatal("input modified")
	}
	out, err := srv.Client().DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(a)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Table.TableStatus != types.TableStatusActive {
		t.Fatalf("status %s", out.Table.TableStatus)
	}
	ttl, err := srv.Client().UpdateTimeToLive(context.Background(), &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(a),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)},
	})
	if err != nil {
		t.Fatal("UpdateTimeToLive:", err)
	}
	if aws.ToString(ttl.TimeToLiveSpecification.AttributeName) != "exp" {
		t.Fatalf("ttl answer %+v", ttl.TimeToLiveSpecification)
	}
}

func get(t *testing.T, c *dynamodb.Client, table, pk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": s(pk)}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func TestTransactWriteItems(t *testing.T) {
	c, table := simpleWith(t, map[string]types.AttributeValue{"pk": s("a"), "v": n("1")})
	ctx := context.Background()
	tn := aws.String(table)

	// All conditions hold: everything applied.
	_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: tn, Key: map[string]types.AttributeValue{"pk": s("a")},
			UpdateExpression: aws.String("ADD v :one"), ConditionExpression: aws.String("v = :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": n("1")}}},
		{Put: &types.Put{TableName: tn, Item: map[string]types.AttributeValue{"pk": s("b")},
			ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{ConditionCheck: &types.ConditionCheck{TableName: tn, Key: map[string]types.AttributeValue{"pk": s("zz")},
			ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if v := get(t, c, table, "a")["v"].(*types.AttributeValueMemberN).Value; v != "2" {
		t.Fatalf("v = %s", v)
	}
	if get(t, c, table, "b") == nil || get(t, c, table, "zz") != nil {
		t.Fatal("put not applied or condition check wrote an item")
	}

	// Last condition fails: earlier actions (update, overwrite, new item,
	// delete) are all undone and reasons are reported per action.
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: tn, Key: map[string]types.AttributeValue{"pk": s("a")},
			UpdateExpression: aws.String("SET w = :x"), ExpressionAttributeValues: map[string]types.AttributeValue{":x": s("x")}}},
		{Put: &types.Put{TableName: tn, Item: map[string]types.AttributeValue{"pk": s("c")}}},
		{Delete: &types.Delete{TableName: tn, Key: map[string]types.AttributeValue{"pk": s("b")}}},
		{ConditionCheck: &types.ConditionCheck{TableName: tn, Key: map[string]types.AttributeValue{"pk": s("zz")},
			ConditionExpression: aws.String("attribute_exists(pk)")}},
	}})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("want TransactionCanceledException, got %v", err)
	}
	var codes []string
	for _, r := range tce.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	if strings.Join(codes, ",") != "None,None,None,ConditionalCheckFailed" {
		t.Fatalf("codes %v", codes)
	}
	if a := get(t, c, table, "a"); a["w"] != nil || a["v"].(*types.AttributeValueMemberN).Value != "2" {
		t.Fatalf("update not rolled back: %v", a)
	}
	if get(t, c, table, "c") != nil || get(t, c, table, "b") == nil {
		t.Fatal("put/delete not rolled back")
	}

	// Two actions on one item are rejected.
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: tn, Item: map[string]types.AttributeValue{"pk": s("d")}}},
		{Delete: &types.Delete{TableName: tn, Key: map[string]types.AttributeValue{"pk": s("d")}}},
	}})
	if err == nil || !strings.Contains(err.Error(), "ValidationException") {
		t.Fatalf("want ValidationException, got %v", err)
	}
}

func TestTransactionsAreAtomicUnderConcurrency(t *testing.T) {
	// Each transaction moves one unit from x to y if x > 0; x+y stays 10.
	c, table := simpleWith(t, map[string]types.AttributeValue{"pk": s("x"), "v": n("5")})
	ctx := context.Background()
	tn := aws.String(table)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 20 {
		wg.Go(func() {
			_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Update: &types.Update{TableName: tn, Key: map[string]types.AttributeValue{"pk": s("x")},
					UpdateExpression: aws.String("ADD v :m"), ConditionExpression: aws.String("v > :z"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":m": n("-1"), ":z": n("0")}}},
				{Update: &types.Update{TableName: tn, Key: map[string]types.AttributeValue{"pk": s("y")},
					UpdateExpression: aws.String("ADD v :one"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": n("1")}}},
			}})
			var tce *types.TransactionCanceledException
			switch {
			case err == nil:
				mu.Lock()
				ok++
				mu.Unlock()
			case !errors.As(err, &tce):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok != 5 {
		t.Fatalf("%d transactions succeeded, want 5", ok)
	}
	if v := get(t, c, table, "y")["v"].(*types.AttributeValueMemberN).Value; v != "5" {
		t.Fatalf("y = %s", v)
	}
}

// fakeTB records Skip and Fatal; both end the goroutine like testing.T does.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped, f.msg = true, format
	runtime.Goexit()
}
func (f *fakeTB) Fatal(args ...any) {
	f.failed = true
	runtime.Goexit()
}
func (f *fakeTB) Cleanup(func()) {}

func run(f func()) {
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	<-done
}

func TestMissingBinary(t *testing.T) {
	t.Setenv(dynalitetest.EnvBinary, filepath.Join(t.TempDir(), "no-such-dynalite"))

	if _, err := dynalitetest.BinaryPath(); !errors.Is(err, dynalitetest.ErrNotInstalled) {
		t.Fatalf("BinaryPath: %v", err)
	}
	if _, err := dynalitetest.Launch(); !errors.Is(err, dynalitetest.ErrNotInstalled) {
		t.Fatalf("Launch: %v", err)
	}

	t.Setenv(dynalitetest.EnvRequire, "")
	f := &fakeTB{}
	run(func() { dynalitetest.Start(f) })
	if !f.skipped || f.failed {
		t.Fatalf("without %s: skipped=%v failed=%v", dynalitetest.EnvRequire, f.skipped, f.failed)
	}

	t.Setenv(dynalitetest.EnvRequire, "1")
	f = &fakeTB{}
	run(func() { dynalitetest.Start(f) })
	if f.skipped || !f.failed {
		t.Fatalf("with %s=1: skipped=%v failed=%v", dynalitetest.EnvRequire, f.skipped, f.failed)
	}
}

// TestRequire: Require lets the test go on when dynalite is installed, and otherwise skips it, or
// fails it with REQUIRE_DYNALITE=1, as Start does.
func TestRequire(t *testing.T) {
	if _, err := dynalitetest.BinaryPath(); err == nil {
		f := &fakeTB{}
		run(func() { dynalitetest.Require(f) })
		if f.skipped || f.failed {
			t.Fatalf("installed: skipped=%v failed=%v", f.skipped, f.failed)
		}
	}
	t.Setenv(dynalitetest.EnvBinary, filepath.Join(t.TempDir(), "no-such-dynalite"))
	for _, require := range []string{"", "1"} {
		t.Setenv(dynalitetest.EnvRequire, require)
		f := &fakeTB{}
		run(func() { dynalitetest.Require(f) })
		if f.skipped != (require == "") || f.failed != (require == "1") {
			t.Fatalf("%s=%q: skipped=%v failed=%v", dynalitetest.EnvRequire, require, f.skipped, f.failed)
		}
	}
}
