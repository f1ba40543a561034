package contact_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/passwordless-go/cognito/lambdas/contact"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/store"
	"github.com/passwordless-go/cognito/lambdas/storetest"
)

func TestMain(m *testing.M) { dynalitetest.Main(m) }

// dynEnv is an env whose store is a real *store.Store over dynalite.
type dynEnv struct {
	*env
	tb *storetest.Table
}

// newDynEnv: with delay > 0, the store waits delay before every DynamoDB call (injected store
// latency), which widens every window between a read and a write. The tests assert counts,
// never durations.
func newDynEnv(t *testing.T, delay time.Duration) *dynEnv {
	t.Helper()
	clk := storetest.NewClock(time.Now().UTC().Truncate(time.Second))
	tb := storetest.New(t, "contact", store.WithClock(clk.Now))
	st := tb.Store
	if delay > 0 {
		st = tb.StoreOver(storetest.SlowDB{DB: tb.DB, Delay: delay}, store.WithClock(clk.Now))
	}
	return &dynEnv{env: newEnvWith(t, config(), st, clk), tb: tb}
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
			if n := len(d.box.EmailsTo("old@example.com")); n != 1 {
				t.Fatalf("%d notices to the old address, want 1", n)
			}
			if txt := d.tb.Text(t); strings.Contains(txt, "CONTACT#") {
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
	if len(d.idp.updates()) != 1 || len(d.box.EmailsTo("me@example.com")) != 1 {
		t.Fatalf("%d Cognito calls, %d notices", len(d.idp.updates()), len(d.box.EmailsTo("me@example.com")))
	}
	if txt := d.tb.Text(t); !strings.Contains(txt, "pk=RATE#sms-unverified\n") || strings.Contains(txt, "7400123456") {
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
	txt := d.tb.Text(t)
	if strings.Contains(txt, code) {
		t.Fatalf("the code is in the table: %s", txt)
	}
	if !strings.Contains(txt, "pk=CONTACT#"+id+"\n") {
		t.Fatalf("no CONTACT# item: %s", txt)
	}
	for _, pk := range d.pks(t) {
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

// pks returns the string partition keys of the table's items.
func (d *dynEnv) pks(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, it := range d.tb.Items(t) {
		if v, ok := it["pk"].(*types.AttributeValueMemberS); ok {
			out = append(out, v.Value)
		}
	}
	return out
}
