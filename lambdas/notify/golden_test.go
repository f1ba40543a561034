package notify_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/lambdas/notify"
)

var update = flag.Bool("update", false, "rewrite testdata/defaults.golden")

// The default messages of every kind, as sent (email subject, text, HTML; SMS), are kept in
// testdata/defaults.golden for review; go test -run TestDefaultsGolden -update rewrites it.
func TestDefaultsGolden(t *testing.T) {
	r := newRig(t, nil)
	var b strings.Builder
	for i, k := range notify.Kinds {
		detail := map[string]string{notify.DetailMethod: "device_key", notify.DetailCount: "1"}
		phoneDetail := detail
		if k == notify.ContactChanged {
			detail = map[string]string{notify.DetailOldAddress: oldEmail, notify.DetailAttribute: "email"}
			phoneDetail = map[string]string{notify.DetailOldAddress: oldPhoneNo, notify.DetailAttribute: "phone_number"}
		}
		before, _ := r.aws.sent()
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: k, UserPoolID: pool, UserName: userName, Attributes: verifiedEmail(), Detail: detail, ID: fmt.Sprint("e", i)})
		r.s.Notify(context.Background(), testKey, notify.Event{Kind: k, UserPoolID: pool, UserName: "phone-user", Attributes: verifiedPhone(), Detail: phoneDetail, ID: fmt.Sprint("s", i)})
		emails, sms := r.aws.sent()
		m := emails[len(before)]
		fmt.Fprintf(&b, "==== %s\n-- email subject\n%s\n-- email text\n%s-- email html\n%s-- sms\n%s\n\n", k,
			m.Subject, m.Text, m.HTML, sms[len(sms)-1].Message)
	}
	path := filepath.Join("testdata", "defaults.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Fatalf("default messages changed; rerun with -update and review testdata/defaults.golden\n%s", b.String())
	}
}
