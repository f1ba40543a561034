package contact_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/passwordless-go/cognito/lambdas/contact"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/store"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

// slowDB adds a fixed delay before every DynamoDB call (injected store latency), which widens
// every window between a read and a write. The tests assert counts, never durations.
type slowDB struct {
	store.DB
	delay time.Duration
}

func (s slowDB) wait(ctx context.Context) {
	t := time.NewTimer(s.delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (s slowDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	s.wait(ctx)
	return s.DB.GetItem(ctx, in, o...)
}

func (s slowDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	s.wait(ctx)
	return s.DB.PutItem(ctx, in, o...)
}

func (s slowDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	s.wait(ctx)
	return s.DB.UpdateItem(ctx, in, o...)
}

func (s slowDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	s.wait(ctx)
	return s.DB.TransactWriteItems(ctx, in, o...)
}

// dynEnv is an env whose store is a real *store.Store over dynalite.
type dynEnv struct {
	*env
	db    *dynamodb.Client
	table string
}

func newDynEnv(t *testing.T, delay time.Duration) *dynEnv {
	t.Helper()
	srv := dynalitetest.Shared(t)
	db := srv.Client()
	table := dynalitetest.NewTable(t, db, store.TableDefinition("contact"))
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	var sdb store.DB = db
	if delay > 0 {
		sdb = slowDB{DB: db, delay: delay}
	}
	st := store.New(sdb, table, store.WithClock(clk.Now))
	return &dynEnv{env: newEnvWith(t, config(), st, clk), db: db, table: table}
}

// tableText is every item of the table as JSON.
func (d *dynEnv) tableText(t *testing.T) string {
	t.Helper()
	out, err := d.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(d.table), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(out.Items)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDynaliteConcurrentRightAnswers: the right code sent many times at once changes the
// address exactly once (one AdminUpdateUserAttributes call), with and without store latency.
func TestDynaliteConcurrentRightAnswers(t *testing.T) {
	for _, delay := range []time.Duration{0, 30 * time.Millisecond} {
		t.Run(fmt.Sprint("delay ", delay), func(t *testing.T) {
			d := newDynEnv(t, delay)
			c := d.caller(victimSub, map[string]string{"email": "old@example.com", "email_verified": "true"})
			id := d.startOK(t, c, `{"email": "new@example.com"}`).str("changeId")
			code := d.box.lastCode(t, "new@example.com")
			replies := dynalitetest.AtOnce(10, func(int) reply { return d.verify(t, c, id, code) })
			ok := 0
			for i, r := range replies {
				switch {
				case r.status == 200:
					ok++
				case r.status != 404:
					t.Errorf("answer %d: %d %v", i, r.status, r.body)
				}
			}
			if ok != 1 {
				t.Fatalf("%d of 10 concurrent right answers succeeded, want exactly 1", ok)
			}
			if n := len(d.idp.updates()); n != 1 {
				t.Fatalf("%d AdminUpdateUserAttributes calls, want exactly 1", n)
			}
			if n := len(d.box.emailsTo("old@example.com")); n != 1 {
				t.Fatalf("%d notices to the old address, want 1", n)
			}
			if txt := d.tableText(t); strings.Contains(txt, "CONTACT#") {
				t.Fatalf("change left in the table: %s", txt)
			}
		})
	}
}

// TestDynalitePhoneChange: a complete change of a phone number against the real store (the user,
// recipient and SMS budget limits are real TransactWriteItems).
func TestDynalitePhoneChange(t *testing.T) {
	d := newDynEnv(t, 0)
	c := d.caller(victimSub, map[string]string{"email": "me@example.com", "email_verified": "true"})
	id := d.startOK(t, c, `{"phoneNumber": "+4407400123456"}`).str("changeId")
	if r := d.verify(t, c, id, d.box.lastCode(t, "+447400123456")); r.status != 200 || r.str("phoneNumber") != "+447400123456" {
		t.Fatalf("verify: %d %v", r.status, r.body)
	}
	if len(d.idp.updates()) != 1 || len(d.box.emailsTo("me@example.com")) != 1 {
		t.Fatalf("%d Cognito calls, %d notices", len(d.idp.updates()), len(d.box.emailsTo("me@example.com")))
	}
	if txt := d.tableText(t); !strings.Contains(txt, `"RATE#sms-unverified"`) || strings.Contains(txt, "7400123456") {
		t.Fatalf("table: %s", txt)
	}
}

// TestDynaliteConcurrentWrongAnswers: answers sent at the same moment never get more than 3
// checked; after that the right code is refused.
func TestDynaliteConcurrentWrongAnswers(t *testing.T) {
	for _, delay := range []time.Duration{0, 30 * time.Millisecond} {
		t.Run(fmt.Sprint("delay ", delay), func(t *testing.T) {
			d := newDynEnv(t, delay)
			c := d.caller(attackerSub, nil)
			id := d.startOK(t, c, `{"email": "victim@example.com"}`).str("changeId")
			code := d.box.lastCode(t, "victim@example.com")
			replies := dynalitetest.AtOnce(12, func(i int) reply { return d.verify(t, c, id, wrongCode(code)) })
			wrong, gone := 0, 0
			for i, r := range replies {
				switch {
				case r.status == 400 && r.str("code") == contact.CodeWrongCode:
					wrong++
				case r.status == 404:
					gone++
				default:
					t.Errorf("answer %d: %d %v", i, r.status, r.body)
				}
			}
			if wrong != 3 || gone != 9 {
				t.Fatalf("%d answers checked and %d refused unchecked, want 3 and 9", wrong, gone)
			}
			if r := d.verify(t, c, id, code); r.status != 404 {
				t.Fatalf("the right code after the limit: %d %v", r.status, r.body)
			}
			if n := len(d.idp.updates()); n != 0 {
				t.Fatalf("%d Cognito calls", n)
			}
		})
	}
}

// TestDynaliteAttackAddVictimEmail is TestAttackAddVictimEmail against the real store, plus
// what the table holds: no code, no address in any key, the change gone once complete.
func TestDynaliteAttackAddVictimEmail(t *testing.T) {
	d := newDynEnv(t, 0)
	attacker := d.caller(attackerSub, map[string]string{"email": "attacker@example.net", "email_verified": "true"})
	victim := d.caller(victimSub, nil)
	id := d.startOK(t, attacker, `{"email": "victim@example.com"}`).str("changeId")
	code := d.box.lastCode(t, "victim@example.com")
	txt := d.tableText(t)
	if strings.Contains(txt, code) {
		t.Fatalf("the code is in the table: %s", txt)
	}
	if !strings.Contains(txt, `"CONTACT#`+id+`"`) {
		t.Fatalf("no CONTACT# item: %s", txt)
	}
	for _, pk := range pks(t, txt) {
		if !strings.HasPrefix(pk, "CONTACT#") && !strings.HasPrefix(pk, "RATE#") {
			t.Errorf("item outside CONTACT# and RATE#: %s", pk)
		}
		if strings.Contains(pk, "victim") || strings.Contains(pk, attackerSub) {
			t.Errorf("key %s holds an address or a sub", pk)
		}
	}
	// The victim (who holds the code but is not the change's owner) cannot use it either: the
	// change belongs to the attacker's account, and another user's change is not found.
	if r := d.verify(t, victim, id, code); r.status != 404 {
		t.Fatalf("another user's change: %d %v", r.status, r.body)
	}
	for range 3 {
		if r := d.verify(t, attacker, id, wrongCode(code)); r.status != 400 {
			t.Fatalf("wrong guess: %d %v", r.status, r.body)
		}
	}
	if r := d.verify(t, attacker, id, code); r.status != 404 {
		t.Fatalf("4th answer: %d %v", r.status, r.body)
	}
	if n := len(d.idp.updates()); n != 0 {
		t.Fatalf("%d Cognito calls", n)
	}
}

// pks returns the partition keys in a tableText.
func pks(t *testing.T, txt string) []string {
	t.Helper()
	var items []map[string]map[string]any
	if err := json.Unmarshal([]byte(txt), &items); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		if v, ok := it["pk"]["Value"].(string); ok {
			out = append(out, v)
		}
	}
	return out
}
